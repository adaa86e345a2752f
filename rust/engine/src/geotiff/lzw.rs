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
/// Bytes written past the end of a string by the fast copy; strings closer than this to the end
/// of the output take the exact path.
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

/// Decodes the TIFF LZW stream `data` into `out`, stopping at EndOfInformation or when `out` is
/// full. Returns the number of bytes written, which is below `out.len()` only when the stream's
/// EndOfInformation came early. A stream that ends without EndOfInformation before `out` is full,
/// or that holds a code not yet defined, is an error.
pub fn decode(data: &[u8], out: &mut [u8]) -> Result<usize, LzwError> {
    if is_old_style(data) {
        return Err(LzwError::OldStyle);
    }
    if u32::try_from(out.len()).is_err() {
        return Err(LzwError::TooLarge(out.len()));
    }
    let end = out.len();
    // Where each code's string starts in `out` and how long it is (codes 258 and up).
    let mut offsets = [0u32; MAX_CODES];
    let mut lengths = [0u32; MAX_CODES];
    let mut bits = Bits::new(data);
    let mut width = 9u32;
    let mut next = FIRST_FREE;
    // The previous code's string in `out`; `prev_len == 0` right after a ClearCode.
    let mut prev_pos = 0usize;
    let mut prev_len = 0usize;
    let mut pos = 0usize;
    while pos < end {
        let Some(code) = bits.read(width) else {
            return Err(LzwError::Truncated { written: pos, expected: end });
        };
        let len;
        if code < CLEAR {
            out[pos] = code as u8;
            len = 1;
        } else if code >= FIRST_FREE && code < next {
            let i = code as usize & (MAX_CODES - 1);
            let src = offsets[i] as usize;
            len = lengths[i] as usize;
            // `src + len <= pos`: the string was complete before this code.
            if pos + len + SLACK <= end {
                copy_fast(out, src, pos, len);
            } else {
                let n = len.min(end - pos);
                out.copy_within(src..src + n, pos);
            }
        } else if code == next && prev_len > 0 {
            // KwKwK: the previous string plus its own first byte.
            len = prev_len + 1;
            let n = prev_len.min(end - pos);
            out.copy_within(prev_pos..prev_pos + n, pos);
            if pos + prev_len < end {
                out[pos + prev_len] = out[prev_pos];
            }
        } else if code == CLEAR {
            width = 9;
            next = FIRST_FREE;
            prev_len = 0;
            continue;
        } else if code == EOI {
            return Ok(pos);
        } else {
            return Err(LzwError::InvalidCode { code, next, written: pos });
        }
        if prev_len > 0 && (next as usize) < MAX_CODES {
            let i = next as usize;
            offsets[i] = prev_pos as u32;
            lengths[i] = prev_len as u32 + 1;
            next += 1;
            if next + 1 >= 1 << width && width < 12 {
                width += 1;
            }
        }
        prev_pos = pos;
        prev_len = len;
        pos += len;
    }
    Ok(end)
}

/// Copies `out[src..src + len]` to `out[dst..]` in 8-byte steps, writing up to `SLACK - 1` bytes past
/// `dst + len` (the caller checked the room). `src + len <= dst`, so every byte of the string is read
/// before anything overwrites it; the extra bytes are overwritten by later strings.
#[inline(always)]
fn copy_fast(out: &mut [u8], src: usize, dst: usize, len: usize) {
    let mut k = 0;
    while k < len {
        let v = u64::from_ne_bytes(out[src + k..src + k + 8].try_into().unwrap());
        out[dst + k..dst + k + 8].copy_from_slice(&v.to_ne_bytes());
        k += 8;
    }
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
