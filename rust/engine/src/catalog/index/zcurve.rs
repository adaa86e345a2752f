//! Z-order (Morton) curves as GeoTrellis' `Z2` and `Z3` (geotrellis_format.md §3.1, §3.2, §3.5): bit
//! interleaving of the low 31 (2-D) or 21 (3-D) bits of each coordinate, and the decomposition of a query box
//! into index ranges by quad-/oct-tree descent.

/// Bits kept per dimension by `Z2` (62-bit indexes).
pub const Z2_BITS: u32 = 31;
/// Bits kept per dimension by `Z3` (63-bit indexes).
pub const Z3_BITS: u32 = 21;

/// Moves bit b of the low 31 bits of `v` to bit 2b.
fn spread2(v: u64) -> u64 {
    let mut x = v & 0x7fff_ffff;
    x = (x ^ (x << 32)) & 0x0000_0000_ffff_ffff;
    x = (x ^ (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x ^ (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x ^ (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x ^ (x << 2)) & 0x3333_3333_3333_3333;
    (x ^ (x << 1)) & 0x5555_5555_5555_5555
}

/// Moves bit b of the low 21 bits of `v` to bit 3b.
fn spread3(v: u64) -> u64 {
    let mut x = v & 0x1f_ffff;
    x = (x | (x << 32)) & 0x001f_0000_0000_ffff;
    x = (x | (x << 16)) & 0x001f_0000_ff00_00ff;
    x = (x | (x << 8)) & 0x100f_00f0_0f00_f00f;
    x = (x | (x << 4)) & 0x10c3_0c30_c30c_30c3;
    (x | (x << 2)) & 0x1249_2492_4924_9249
}

/// `Z2(col, row)`: col in the even bits, row in the odd bits; negative values wrap (low 31 bits).
pub fn z2_index(col: i32, row: i32) -> u64 {
    spread2(col as u32 as u64) | (spread2(row as u32 as u64) << 1)
}

/// `Z3(col, row, t)` with `t` a time bin; each value keeps its low 21 bits.
pub fn z3_index(col: i32, row: i32, t: i64) -> u64 {
    spread3(col as u32 as u64) | (spread3(row as u32 as u64) << 1) | (spread3(t as u64) << 2)
}

/// The masked values (low `bits` bits) taken by the integers `lo..=hi`, as at most two intervals.
fn masked_intervals(lo: i64, hi: i64, bits: u32) -> Vec<(u64, u64)> {
    let mask = (1u64 << bits) - 1;
    if hi < lo {
        return Vec::new();
    }
    if (hi as i128 - lo as i128) >= mask as i128 {
        return vec![(0, mask)];
    }
    let (a, b) = (lo as u64 & mask, hi as u64 & mask);
    if a <= b {
        vec![(a, b)]
    } else {
        vec![(0, b), (a, mask)]
    }
}

/// Sorted, merged inclusive index ranges of all keys in the box `lo[d]..=hi[d]` (real coordinates, which
/// alias modulo 2^bits as the curve does) on an `n`-dimensional Z curve with `bits` bits per dimension;
/// `None` if that takes more than `limit` ranges or visits more curve cells than `budget` has left (each
/// visit takes one). Curve cells of side `2^floor` that overlap the box are taken whole: `floor` 0 gives
/// the exact ranges, a higher one fewer ranges that cover the box.
pub fn z_ranges(
    lo: &[i64],
    hi: &[i64],
    bits: u32,
    floor: u32,
    limit: usize,
    budget: &mut usize,
) -> Option<Vec<(u64, u64)>> {
    let n = lo.len().min(hi.len());
    let per_dim: Vec<Vec<(u64, u64)>> = (0..n)
        .map(|d| masked_intervals(lo[d], hi[d], bits))
        .collect();
    let mut out = Vec::new();
    if per_dim.iter().any(|v| v.is_empty()) {
        return Some(out);
    }
    // Cartesian product of the (at most two) intervals per dimension.
    let combos: usize = per_dim.iter().map(|v| v.len()).product();
    for c in 0..combos {
        let mut rest = c;
        let mut qlo = [0u64; 3];
        let mut qhi = [0u64; 3];
        for d in 0..n {
            let (a, b) = per_dim[d][rest % per_dim[d].len()];
            rest /= per_dim[d].len();
            qlo[d] = a;
            qhi[d] = b;
        }
        if !descend(n, bits, &qlo[..n], &qhi[..n], floor, limit, budget, &mut out) {
            return None;
        }
    }
    Some(super::merge_ranges(out))
}

/// Depth-first descent in index order, emitting nodes inside the box, or overlapping it at level `floor`,
/// (merged when they touch) and splitting the others that overlap it; false once `out` holds more than
/// `limit` ranges or `budget` visits are spent.
#[allow(clippy::too_many_arguments)]
fn descend(
    n: usize,
    bits: u32,
    qlo: &[u64],
    qhi: &[u64],
    floor: u32,
    limit: usize,
    budget: &mut usize,
    out: &mut Vec<(u64, u64)>,
) -> bool {
    // (index prefix, remaining bits per dimension, lower corner)
    let mut stack: Vec<(u64, u32, [u64; 3])> = vec![(0, bits, [0; 3])];
    let children = 1u64 << n;
    while let Some((prefix, level, corner)) = stack.pop() {
        match budget.checked_sub(1) {
            Some(left) => *budget = left,
            None => return false,
        }
        let side = (1u64 << level) - 1;
        let mut inside = true;
        let mut disjoint = false;
        for d in 0..n {
            let (a, b) = (corner[d], corner[d] + side);
            if b < qlo[d] || a > qhi[d] {
                disjoint = true;
                break;
            }
            if a < qlo[d] || b > qhi[d] {
                inside = false;
            }
        }
        if disjoint {
            continue;
        }
        let shift = n as u32 * level;
        if inside || level <= floor {
            let start = prefix << shift;
            let end = start + ((1u64 << shift) - 1);
            match out.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(start) => last.1 = end,
                _ => out.push((start, end)),
            }
            if out.len() > limit {
                return false;
            }
            continue;
        }
        // level > 0 here: a single point overlapping the box is inside it.
        let child_level = level - 1;
        for c in (0..children).rev() {
            let mut child = corner;
            for (d, v) in child.iter_mut().enumerate().take(n) {
                *v |= ((c >> d) & 1) << child_level;
            }
            stack.push(((prefix << n) | c, child_level, child));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z2_vectors() {
        let expected = [
            ((0, 0), 0),
            ((1, 0), 1),
            ((0, 1), 2),
            ((1, 1), 3),
            ((2, 0), 4),
            ((3, 0), 5),
            ((2, 1), 6),
            ((3, 1), 7),
            ((0, 2), 8),
            ((1, 2), 9),
            ((0, 3), 10),
            ((1, 3), 11),
            ((2, 2), 12),
            ((3, 2), 13),
            ((2, 3), 14),
            ((3, 3), 15),
            ((10, 4), 100),
            ((33, 27), 1675),
            ((3, 5), 39),
            ((i32::MAX, i32::MAX), 4611686018427387903),
        ];
        for ((c, r), z) in expected {
            assert_eq!(z2_index(c, r), z, "({c},{r})");
        }
    }

    #[test]
    fn z3_vectors() {
        assert_eq!(z3_index(1, 2, 3), 53);
        assert_eq!(z3_index(10, 4, 1448496000000 / 86400000), 17592254352268);
    }

    #[test]
    fn z2_ranges_geotrellis() {
        assert_eq!(
            z_ranges(&[0, 0], &[2, 1], Z2_BITS, 0, 1000, &mut 4000),
            Some(vec![(0, 4), (6, 6)])
        );
        assert_eq!(
            z_ranges(&[1, 1], &[3, 2], Z2_BITS, 0, 1000, &mut 4000),
            Some(vec![(3, 3), (6, 7), (9, 9), (12, 13)])
        );
    }

    #[test]
    fn full_space_is_one_range() {
        assert_eq!(
            z_ranges(&[0, 0], &[i32::MAX as i64, i32::MAX as i64], Z2_BITS, 0, 1000, &mut 4000),
            Some(vec![(0, (1 << 62) - 1)])
        );
        assert_eq!(
            z_ranges(&[i32::MIN as i64, 0], &[-1, i32::MAX as i64], Z2_BITS, 0, 1000, &mut 4000),
            Some(vec![(0, (1 << 62) - 1)])
        );
        assert_eq!(
            z_ranges(
                &[0, 0, i64::MIN],
                &[(1 << 21) - 1, (1 << 21) - 1, i64::MAX],
                Z3_BITS,
                0,
                1000,
                &mut 4000
            ),
            Some(vec![(0, (1 << 63) - 1)])
        );
    }
}
