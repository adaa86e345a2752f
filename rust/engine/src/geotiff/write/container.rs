//! The TIFF container: IFDs, out-of-line tag values and segment data laid out into one byte buffer.
//!
//! Written by hand rather than with the `tiff` crate's encoder because a COG needs control that encoder
//! does not give: every IFD before any image data, overview data ahead of full-resolution data, planar
//! multi-sample tiles, 1-bit samples, arbitrary GDAL tags and a choice of classic or BigTIFF decided after
//! the segments are compressed. The format itself is small.

use crate::error::{EngineError, Result};

pub const SHORT: u16 = 3;
pub const LONG: u16 = 4;
pub const ASCII: u16 = 2;
pub const DOUBLE: u16 = 12;
pub const LONG8: u16 = 16;

/// One IFD entry with its value already encoded little-endian.
#[derive(Clone, Debug)]
pub struct Entry {
    pub tag: u16,
    pub field_type: u16,
    pub count: u64,
    pub bytes: Vec<u8>,
}

impl Entry {
    pub fn shorts(tag: u16, v: &[u16]) -> Entry {
        Entry { tag, field_type: SHORT, count: v.len() as u64, bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() }
    }
    pub fn short(tag: u16, v: u16) -> Entry {
        Entry::shorts(tag, &[v])
    }
    pub fn long(tag: u16, v: u32) -> Entry {
        Entry { tag, field_type: LONG, count: 1, bytes: v.to_le_bytes().to_vec() }
    }
    pub fn doubles(tag: u16, v: &[f64]) -> Entry {
        Entry { tag, field_type: DOUBLE, count: v.len() as u64, bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() }
    }
    /// NUL-terminated ASCII; the count includes the NUL.
    pub fn ascii(tag: u16, s: &str) -> Entry {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        Entry { tag, field_type: ASCII, count: bytes.len() as u64, bytes }
    }
    fn offsets(tag: u16, v: &[u64], big: bool) -> Entry {
        if big {
            Entry { tag, field_type: LONG8, count: v.len() as u64, bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect() }
        } else {
            Entry { tag, field_type: LONG, count: v.len() as u64, bytes: v.iter().flat_map(|x| (*x as u32).to_le_bytes()).collect() }
        }
    }
}

/// One image (full resolution or an overview): its tags and its encoded segments, in TIFF segment order.
pub struct Image {
    pub entries: Vec<Entry>,
    pub tiled: bool,
    pub segments: Vec<Vec<u8>>,
}

const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const STRIP_OFFSETS: u16 = 273;
const STRIP_BYTE_COUNTS: u16 = 279;

impl Image {
    fn data_len(&self) -> u64 {
        self.segments.iter().map(|s| s.len() as u64).sum()
    }

    /// All entries, sorted by tag as TIFF requires, with segment offsets and byte counts.
    fn all_entries(&self, offsets: &[u64], big: bool) -> Vec<Entry> {
        let (off_tag, count_tag) =
            if self.tiled { (TILE_OFFSETS, TILE_BYTE_COUNTS) } else { (STRIP_OFFSETS, STRIP_BYTE_COUNTS) };
        let counts: Vec<u64> = self.segments.iter().map(|s| s.len() as u64).collect();
        let mut all = self.entries.clone();
        all.push(Entry::offsets(off_tag, offsets, big));
        all.push(Entry::offsets(count_tag, &counts, big));
        all.sort_by_key(|e| e.tag);
        all
    }

    /// Bytes taken by the IFD: entry table, next-IFD pointer and out-of-line values (each padded to an
    /// even length so that values start on word boundaries).
    fn ifd_len(&self, big: bool) -> u64 {
        let zeros = vec![0u64; self.segments.len()];
        let entries = self.all_entries(&zeros, big);
        let (head, entry, next, inline) = if big { (8, 20, 8, 8) } else { (2, 12, 4, 4) };
        let table = head + entry * entries.len() as u64 + next;
        let outside: u64 =
            entries.iter().filter(|e| e.bytes.len() > inline).map(|e| (e.bytes.len() as u64 + 1) & !1).sum();
        table + outside
    }

    /// The IFD as it sits at file offset `at`, pointing to the next IFD at `next` (0: last).
    fn encode_ifd(&self, at: u64, next: u64, offsets: &[u64], big: bool) -> Vec<u8> {
        let entries = self.all_entries(offsets, big);
        let (head, entry_len, next_len, inline) = if big { (8u64, 20u64, 8u64, 8usize) } else { (2, 12, 4, 4) };
        let mut table = Vec::new();
        let mut outside = Vec::new();
        let mut value_at = at + head + entry_len * entries.len() as u64 + next_len;
        if big {
            table.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        } else {
            table.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        }
        for e in &entries {
            table.extend_from_slice(&e.tag.to_le_bytes());
            table.extend_from_slice(&e.field_type.to_le_bytes());
            if big {
                table.extend_from_slice(&e.count.to_le_bytes());
            } else {
                table.extend_from_slice(&(e.count as u32).to_le_bytes());
            }
            if e.bytes.len() <= inline {
                let mut v = e.bytes.clone();
                v.resize(inline, 0);
                table.extend_from_slice(&v);
            } else {
                if big {
                    table.extend_from_slice(&value_at.to_le_bytes());
                } else {
                    table.extend_from_slice(&(value_at as u32).to_le_bytes());
                }
                outside.extend_from_slice(&e.bytes);
                if e.bytes.len() % 2 == 1 {
                    outside.push(0);
                }
                value_at = at + head + entry_len * entries.len() as u64 + next_len + outside.len() as u64;
            }
        }
        if big {
            table.extend_from_slice(&next.to_le_bytes());
        } else {
            table.extend_from_slice(&(next as u32).to_le_bytes());
        }
        table.extend_from_slice(&outside);
        table
    }
}

/// Where IFDs and data go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Each image's IFD followed by its data, full resolution first (GeoTrellis' layout).
    Sequential,
    /// All IFDs first (full resolution, then overviews from largest to smallest), then the data of the
    /// smallest overview first and of the full resolution last, as the COG layout requires.
    CloudOptimized,
}

/// Lays out and writes `images` (full resolution first) as one TIFF; BigTIFF only when the classic
/// 32-bit offsets cannot address the file.
pub fn assemble(images: &[Image], order: Order) -> Result<Vec<u8>> {
    let (positions, total) = layout(images, order, false);
    if total <= u32::MAX as u64 {
        return write_out(images, &positions, total, false);
    }
    let (positions, total) = layout(images, order, true);
    write_out(images, &positions, total, true)
}

/// For each image, (IFD offset, first data offset); and the file length.
fn layout(images: &[Image], order: Order, big: bool) -> (Vec<(u64, u64)>, u64) {
    let mut pos: u64 = if big { 16 } else { 8 };
    let mut out = vec![(0u64, 0u64); images.len()];
    match order {
        Order::Sequential => {
            for (i, img) in images.iter().enumerate() {
                let ifd = pos;
                pos += img.ifd_len(big);
                out[i] = (ifd, pos);
                pos += img.data_len();
                pos += pos % 2; // next IFD on a word boundary
            }
        }
        Order::CloudOptimized => {
            for (i, img) in images.iter().enumerate() {
                out[i].0 = pos;
                pos += img.ifd_len(big);
            }
            for (i, img) in images.iter().enumerate().rev() {
                out[i].1 = pos;
                pos += img.data_len();
            }
        }
    }
    (out, pos)
}

fn write_out(images: &[Image], positions: &[(u64, u64)], total: u64, big: bool) -> Result<Vec<u8>> {
    let total = usize::try_from(total)
        .map_err(|_| EngineError::unsupported("<encoder>", "the GeoTIFF is too large for this platform"))?;
    let mut buf = vec![0u8; total];
    if big {
        buf[..16].copy_from_slice(&[b'I', b'I', 43, 0, 8, 0, 0, 0]);
        buf[8..16].copy_from_slice(&positions[0].0.to_le_bytes());
    } else {
        buf[..4].copy_from_slice(&[b'I', b'I', 42, 0]);
        buf[4..8].copy_from_slice(&(positions[0].0 as u32).to_le_bytes());
    }
    for (i, img) in images.iter().enumerate() {
        let (ifd_at, mut data_at) = positions[i];
        let next = positions.get(i + 1).map_or(0, |p| p.0);
        let mut offsets = Vec::with_capacity(img.segments.len());
        for s in &img.segments {
            offsets.push(data_at);
            let at = data_at as usize;
            buf[at..at + s.len()].copy_from_slice(s);
            data_at += s.len() as u64;
        }
        let ifd = img.encode_ifd(ifd_at, next, &offsets, big);
        debug_assert_eq!(ifd.len() as u64, img.ifd_len(big));
        let at = ifd_at as usize;
        buf[at..at + ifd.len()].copy_from_slice(&ifd);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(n: usize, seg_len: usize, fill: u8) -> Image {
        Image {
            entries: vec![Entry::long(256, 16), Entry::long(257, 16), Entry::ascii(42112, "some long text")],
            tiled: true,
            segments: (0..n).map(|i| vec![fill + i as u8; seg_len + i]).collect(),
        }
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// (IFD offset, tag → (type, count, value field)) of each IFD in chain order.
    fn parse(b: &[u8]) -> Vec<(u32, Vec<(u16, u16, u32, u32)>)> {
        let mut out = Vec::new();
        let mut at = u32_at(b, 4);
        while at != 0 {
            let n = u16_at(b, at as usize) as usize;
            let entries = (0..n)
                .map(|k| {
                    let e = at as usize + 2 + 12 * k;
                    (u16_at(b, e), u16_at(b, e + 2), u32_at(b, e + 4), u32_at(b, e + 8))
                })
                .collect();
            out.push((at, entries));
            at = u32_at(b, at as usize + 2 + 12 * n);
        }
        out
    }

    fn offsets_of(b: &[u8], entries: &[(u16, u16, u32, u32)]) -> Vec<u32> {
        let (_, _, count, value) = *entries.iter().find(|e| e.0 == TILE_OFFSETS).unwrap();
        if count == 1 {
            vec![value]
        } else {
            (0..count as usize).map(|k| u32_at(b, value as usize + 4 * k)).collect()
        }
    }

    #[test]
    fn write_container_cog_puts_ifds_first_and_smallest_data_first() {
        let images = vec![image(4, 100, 10), image(2, 50, 50), image(1, 20, 90)];
        let b = assemble(&images, Order::CloudOptimized).unwrap();
        assert_eq!(&b[..4], &[b'I', b'I', 42, 0]);
        let ifds = parse(&b);
        assert_eq!(ifds.len(), 3);
        assert_eq!(ifds[0].0, 8);
        assert!(ifds[0].0 < ifds[1].0 && ifds[1].0 < ifds[2].0);
        let firsts: Vec<u32> = ifds.iter().map(|(_, e)| offsets_of(&b, e)[0]).collect();
        // Data of the smallest overview first, after every IFD; full resolution last.
        assert!(firsts[2] > ifds[2].0 && firsts[2] < firsts[1] && firsts[1] < firsts[0]);
        for (img, (_, entries)) in images.iter().zip(&ifds) {
            let offs = offsets_of(&b, entries);
            // Tags sorted, segments contiguous and in order, bytes where the offsets say.
            assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
            for (k, seg) in img.segments.iter().enumerate() {
                let at = offs[k] as usize;
                assert_eq!(&b[at..at + seg.len()], &seg[..]);
                if k > 0 {
                    assert_eq!(offs[k], offs[k - 1] + img.segments[k - 1].len() as u32);
                }
            }
        }
        assert_eq!(b.len() as u32, firsts[0] + images[0].segments.iter().map(|s| s.len() as u32).sum::<u32>());
    }

    #[test]
    fn write_container_sequential_puts_data_after_each_ifd() {
        let images = vec![image(3, 30, 10), image(1, 10, 50)];
        let b = assemble(&images, Order::Sequential).unwrap();
        let ifds = parse(&b);
        let off0 = offsets_of(&b, &ifds[0].1);
        let off1 = offsets_of(&b, &ifds[1].1);
        assert!(ifds[0].0 < off0[0] && off0[2] < ifds[1].0 && ifds[1].0 < off1[0]);
        assert_eq!(ifds[1].0 % 2, 0);
        // The ASCII value sits out of line, NUL-terminated.
        let (_, _, count, at) = *ifds[0].1.iter().find(|e| e.0 == 42112).unwrap();
        assert_eq!(&b[at as usize..(at + count) as usize], b"some long text\0");
    }
}
