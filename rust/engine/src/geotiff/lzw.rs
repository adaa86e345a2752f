//! TIFF LZW decoding (compression 5): MSB-first codes of 9 to 12 bits, ClearCode 256, EndOfInformation
//! 257, and TIFF's early code-width switch (the width grows when the next free code reaches 511, 1023
//! and 2047, one code before a plain LZW decoder would switch).
//!
//! Every string a code stands for has already been written to the output, so the table keeps only
//! where (offset) and how long (length) each string is in the output: a code is decoded by copying
//! bytes that are already there. The entry made after a code is the previous string plus the first
//! byte of this one, which is the previous string's span extended by one byte, since this string
//! starts right after it. Decoding writes straight into the caller's buffer of the segment's size.
//!
//! Old-style ("compat") LZW, with LSB-first codes, is not supported.

const CLEAR: u32 = 256;
const EOI: u32 = 257;
const FIRST_FREE: u32 = 258;
const MAX_CODES: usize = 4096;
/// The one-byte strings at the start of the work buffer.
const LITERALS: usize = 256;
/// Spare bytes after the output in the work buffer: strings this short are copied as 8 bytes.
const SLACK: usize = 8;

/// Why an LZW stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LzwError {
    #[error("LZW stream ends without EndOfInformation after {written} of {expected} bytes")]
    Truncated { written: usize, expected: usize },
    #[error("invalid LZW code {code} (next free code {next}) after {written} bytes")]
    InvalidCode { code: u32, next: u32, written: usize },
    #[error("old-style (LSB-first) LZW is not supported")]
    OldStyle,
    #[error("LZW segment of {0} bytes is too large")]
    TooLarge(usize),
}

/// True for streams written by old-style ("compat") LZW encoders: LSB-first, so the leading
/// ClearCode reads as the bytes 0x00 0x01.
pub fn is_old_style(data: &[u8]) -> bool {
    data.len() >= 2 && data[0] == 0 && data[1] & 1 == 1
}

/// MSB-first bit reader over a 64-bit buffer whose valid bits are at the top.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0, buf: 0, count: 0 }
    }

    /// Tops the buffer up to at least 56 bits, or to all of the remaining input.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let v = u64::from_be_bytes(chunk.try_into().unwrap());
            self.buf |= v >> self.count;
            self.pos += ((63 - self.count) >> 3) as usize;
            self.count |= 56;
        } else {
            while self.count <= 56 {
                let Some(&b) = self.data.get(self.pos) else { break };
                self.buf |= (b as u64) << (56 - self.count);
                self.pos += 1;
                self.count += 8;
            }
        }
    }

    /// The next `width`-bit code, or None when the input is used up.
    #[inline(always)]
    fn read(&mut self, width: u32) -> Option<u32> {
        if self.count < width {
            self.refill();
            if self.count < width {
                return None;
            }
        }
        let code = (self.buf >> (64 - width)) as u32;
        self.buf <<= width;
        self.count -= width;
        Some(code)
    }
}

/// A TIFF LZW decoder; keeps its table and work buffer between segments.
///
/// Strings are decoded into a work buffer that starts with the 256 one-byte strings (the bytes 0 to
/// 255), so every code, literal or not, is an (offset, length) span of the buffer and the hot loop
/// has no branch on the kind of code. The buffer ends with `SLACK` spare bytes, so short strings
/// are copied eight bytes at a time.
pub struct Decoder {
    /// Offset and length of each code's string in `buf`; ClearCode and EndOfInformation have
    /// length 0, and the last slot takes the entry made when the table is full, which no code can
    /// name.
    table: Box<[(u32, u32); MAX_CODES + 1]>,
    buf: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        let mut table = Box::new([(0u32, 0u32); MAX_CODES + 1]);
        for c in 0..256u32 {
            table[c as usize] = (c, 1);
        }
        Decoder { table, buf: (0..=255u8).collect() }
    }
}

impl Decoder {
    /// Decodes the TIFF LZW stream `data` into `out`, stopping at EndOfInformation or when `out` is
    /// full. Returns the number of bytes written, which is below `out.len()` only when the stream's
    /// EndOfInformation came early. A stream that ends without EndOfInformation before `out` is
    /// full, or that holds a code not yet defined, is an error.
    pub fn decode(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, LzwError> {
        if is_old_style(data) {
            return Err(LzwError::OldStyle);
        }
        let limit = LITERALS + out.len();
        if u32::try_from(limit + SLACK).is_err() {
            return Err(LzwError::TooLarge(out.len()));
        }
        if self.buf.len() < limit + SLACK {
            self.buf.resize(limit + SLACK, 0);
        }
        let got = decode_into(&mut self.table, &mut self.buf[..limit + SLACK], data, limit)?;
        out[..got].copy_from_slice(&self.buf[LITERALS..LITERALS + got]);
        Ok(got)
    }
}

/// Decodes `data` into `buf[LITERALS..limit]`; `buf` starts with the literals and has `SLACK` bytes
/// after `limit`. Returns the number of bytes decoded.
fn decode_into(
    table: &mut [(u32, u32); MAX_CODES + 1],
    buf: &mut [u8],
    data: &[u8],
    limit: usize,
) -> Result<usize, LzwError> {
    let mut bits = Bits::new(data);
    let mut width = 9u32;
    let mut next = FIRST_FREE;
    // The previous code's string, `prev_len == 0` right after a ClearCode (or at the start).
    let mut prev_pos = 0usize;
    let mut prev_len = 0usize;
    let mut pos = LITERALS;
    let written = |pos: usize| pos.min(limit) - LITERALS;
    while pos < limit {
        let Some(code) = bits.read(width) else {
            return Err(LzwError::Truncated { written: written(pos), expected: limit - LITERALS });
        };
        let len;
        if code < next && prev_len > 0 {
            let (src, n) = table[code as usize & (MAX_CODES - 1)];
            if n == 0 {
                // ClearCode or EndOfInformation, the two codes without a string.
                if code == EOI {
                    return Ok(written(pos));
                }
                width = 9;
                next = FIRST_FREE;
                prev_len = 0;
                continue;
            }
            let src = src as usize;
            len = n as usize;
            // `src + len <= pos`: the string was complete before this code.
            if len <= SLACK {
                let v = u64::from_ne_bytes(buf[src..src + 8].try_into().unwrap());
                buf[pos..pos + 8].copy_from_slice(&v.to_ne_bytes());
            } else {
                let n = len.min(limit - pos);
                buf.copy_within(src..src + n, pos);
            }
        } else if code == next && prev_len > 0 {
            // KwKwK: the previous string plus its own first byte.
            len = prev_len + 1;
            let n = prev_len.min(limit - pos);
            buf.copy_within(prev_pos..prev_pos + n, pos);
            if pos + prev_len < limit {
                buf[pos + prev_len] = buf[prev_pos];
            }
        } else if code < CLEAR {
            // First code after a ClearCode: a literal, and no entry to make.
            buf[pos] = code as u8;
            prev_pos = pos;
            prev_len = 1;
            pos += 1;
            continue;
        } else if code == CLEAR {
            width = 9;
            next = FIRST_FREE;
            prev_len = 0;
            continue;
        } else if code == EOI {
            return Ok(written(pos));
        } else {
            return Err(LzwError::InvalidCode { code, next, written: written(pos) });
        }
        table[(next as usize).min(MAX_CODES)] = (prev_pos as u32, prev_len as u32 + 1);
        next += (next < MAX_CODES as u32) as u32;
        width = 9 + (next >= 511) as u32 + (next >= 1023) as u32 + (next >= 2047) as u32;
        prev_pos = pos;
        prev_len = len;
        pos += len;
    }
    Ok(limit - LITERALS)
}

/// Decodes with a fresh [`Decoder`]; see [`Decoder::decode`].
pub fn decode(data: &[u8], out: &mut [u8]) -> Result<usize, LzwError> {
    Decoder::default().decode(data, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(raw: &[u8]) -> Vec<u8> {
        weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(raw)
            .unwrap()
    }

    fn weezl_decode(z: &[u8]) -> Result<Vec<u8>, weezl::LzwError> {
        weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8).decode(z)
    }

    fn round_trip(raw: &[u8]) {
        let z = encode(raw);
        let mut out = vec![0u8; raw.len()];
        assert_eq!(decode(&z, &mut out), Ok(raw.len()));
        assert!(out == raw, "round trip differs");
    }

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn lzw_round_trips_random_data() {
        round_trip(&random(100_000, 1));
        // Few symbols: long strings, many table resets.
        let few: Vec<u8> = random(300_000, 2).iter().map(|b| b & 3).collect();
        round_trip(&few);
    }

    #[test]
    fn lzw_round_trips_runs() {
        // Long runs are coded almost entirely with KwKwK codes.
        round_trip(&[7u8; 1_000_000]);
        let mut runs = Vec::new();
        for i in 0..2000u32 {
            runs.extend(std::iter::repeat((i % 251) as u8).take((i % 97) as usize + 1));
        }
        round_trip(&runs);
    }

    #[test]
    fn lzw_round_trips_many_clear_codes() {
        // Far more than 4096 codes: the encoder clears the table many times.
        let raw = random(1 << 20, 3);
        let z = encode(&raw);
        assert!(z.len() * 8 / 12 > 20 * MAX_CODES);
        round_trip(&raw);
    }

    #[test]
    fn lzw_round_trips_empty_and_tiny() {
        round_trip(&[]);
        round_trip(&[0]);
        round_trip(&[1, 1]);
        round_trip(&[5, 5, 5]);
        let z = encode(&[]);
        let mut out = [0u8; 4];
        // EOI before the output is full: the count tells the caller it is short.
        assert_eq!(decode(&z, &mut out), Ok(0));
        assert_eq!(decode(&[], &mut out), Err(LzwError::Truncated { written: 0, expected: 4 }));
        assert_eq!(decode(&[], &mut []), Ok(0));
    }

    #[test]
    fn lzw_stops_when_output_is_full() {
        let raw = random(10_000, 4);
        let z = encode(&raw);
        for n in [0, 1, 100, 9_999] {
            let mut out = vec![0u8; n];
            assert_eq!(decode(&z, &mut out), Ok(n));
            assert_eq!(out, raw[..n]);
        }
        let runs = vec![9u8; 10_000];
        let z = encode(&runs);
        for n in [1, 2, 3, 57, 9_999] {
            let mut out = vec![0u8; n];
            assert_eq!(decode(&z, &mut out), Ok(n));
            assert_eq!(out, runs[..n]);
        }
    }

    #[test]
    fn lzw_decoder_is_reusable() {
        // Stale bytes in the work buffer from a longer stream must not leak into a shorter one.
        let mut dec = Decoder::default();
        for (n, seed) in [(70_000, 6), (10, 7), (5_000, 8), (0, 9), (70_000, 10)] {
            let raw: Vec<u8> = random(n, seed).iter().map(|b| b % 5).collect();
            let mut out = vec![0u8; n];
            assert_eq!(dec.decode(&encode(&raw), &mut out), Ok(n));
            assert!(out == raw);
            assert!(dec.decode(&[0x80, 0x4b, 0x00, 0x00], &mut out).is_err() || n == 0);
        }
    }

    #[test]
    fn lzw_truncated_stream_is_an_error() {
        let raw = random(50_000, 5);
        let z = encode(&raw);
        for cut in [1, 2, 100, z.len() / 2, z.len() - 3] {
            let mut out = vec![0u8; raw.len()];
            assert!(matches!(decode(&z[..cut], &mut out), Err(LzwError::Truncated { .. })));
        }
    }

    #[test]
    fn lzw_invalid_code_is_an_error() {
        // ClearCode, then code 300 before any entry exists: 256 and 300 as 9-bit MSB-first codes.
        let z = [0x80, 0x4b, 0x00, 0x00];
        let mut out = [0u8; 16];
        assert!(matches!(decode(&z, &mut out), Err(LzwError::InvalidCode { code: 300, .. })));
    }

    #[test]
    fn lzw_old_style_is_reported() {
        let mut out = [0u8; 4];
        assert_eq!(decode(&[0x00, 0x01, 0x02], &mut out), Err(LzwError::OldStyle));
    }

    proptest! {
        #[test]
        fn lzw_matches_weezl(raw in proptest::collection::vec(0u8..8, 0..20_000), wide in any::<bool>()) {
            let raw: Vec<u8> = if wide { raw.iter().map(|b| b.wrapping_mul(37)).collect() } else { raw };
            let z = encode(&raw);
            let reference = weezl_decode(&z).unwrap();
            let mut out = vec![0u8; raw.len()];
            prop_assert_eq!(decode(&z, &mut out), Ok(raw.len()));
            prop_assert_eq!(&out, &reference);
        }

        #[test]
        fn lzw_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2_000), n in 0usize..10_000) {
            let mut out = vec![0u8; n];
            if let Ok(got) = decode(&data, &mut out) {
                prop_assert!(got <= n);
                // Whatever decodes must agree with weezl on the same bytes.
                if let Ok(reference) = weezl_decode(&data) {
                    let m = got.min(reference.len());
                    prop_assert_eq!(&out[..m], &reference[..m]);
                }
            }
        }
    }
}
