//! The compact Hilbert index of uzaygezen's `CompactHilbertCurve`, which GeoTrellis' Hilbert key indexes use
//! (geotrellis_format.md §3.4): dimensions may have different bit widths `m[d]`, and the index has exactly
//! `Σ m[d]` bits. Index ranges of a box come from a descent over the curve's sub-boxes in index order.

/// At most this many dimensions (GeoTrellis uses 2 and 3).
const MAX_DIMS: usize = 3;

/// Rotates the `n`-bit value `x` right by `c mod n`.
fn rotr(x: u64, c: u32, n: u32) -> u64 {
    let c = c % n;
    let full = (1u64 << n) - 1;
    if c == 0 {
        x & full
    } else {
        ((x >> c) | (x << (n - c))) & full
    }
}

/// Rotates the `n`-bit value `x` left by `c mod n`.
fn rotl(x: u64, c: u32, n: u32) -> u64 {
    rotr(x, n - c % n, n)
}

/// Inverse Gray code: the prefix xor of `x` from its top bit down.
fn gray_inverse(mut x: u64) -> u64 {
    let mut y = 0;
    while x != 0 {
        y ^= x;
        x >>= 1;
    }
    y
}

/// The curve's shape: bit widths per dimension.
#[derive(Clone, Debug)]
pub struct CompactHilbert {
    m: Vec<u32>,
    /// Number of levels, `max(m)`.
    levels: u32,
}

/// The result of descending one level: index bits, and the entry point and direction for the next level.
struct Step {
    r: u64,
    card: u32,
    e: u64,
    d: u32,
}

impl CompactHilbert {
    /// A curve with widths `m` (1 to 3 dimensions, `Σ m ≤ 63`); `None` otherwise.
    pub fn new(m: &[u32]) -> Option<CompactHilbert> {
        let total: u64 = m.iter().map(|&b| b as u64).sum();
        if m.is_empty() || m.len() > MAX_DIMS || total > 63 {
            return None;
        }
        Some(CompactHilbert {
            m: m.to_vec(),
            levels: m.iter().copied().max().unwrap_or(0),
        })
    }

    /// Total bits of an index.
    pub fn total_bits(&self) -> u32 {
        self.m.iter().sum()
    }

    fn n(&self) -> u32 {
        self.m.len() as u32
    }

    /// Bits of the dimensions that have a bit at `level`; dimension d lives at bit n-1-d.
    fn level_mask(&self, level: u32) -> u64 {
        let n = self.m.len();
        (0..n)
            .filter(|&d| self.m[d] > level)
            .map(|d| 1u64 << (n - 1 - d))
            .sum()
    }

    /// One level of the curve: `l` holds this level's coordinate bits (dimension d at bit n-1-d).
    fn step(&self, level: u32, l: u64, e: u64, d: u32) -> Step {
        let n = self.n();
        let mask = self.level_mask(level);
        let mu = rotr(mask, d, n);
        let w = gray_inverse(rotr(l ^ e, d, n));
        let mut r = 0u64;
        let mut pos = 0;
        for j in 0..n {
            if (mu >> j) & 1 == 1 {
                r |= ((w >> j) & 1) << pos;
                pos += 1;
            }
        }
        let all = (1u64 << n) - 1;
        let ldb = if w & 1 == 0 {
            if w == 0 {
                0
            } else {
                w.trailing_zeros()
            }
        } else if w == all {
            0
        } else {
            (!w).trailing_zeros()
        };
        let ent = if w & 1 == 1 {
            w ^ (w >> 1) ^ 1
        } else if w != 0 {
            let g = w - 2;
            g ^ (g >> 1)
        } else {
            0
        };
        Step {
            r,
            card: mask.count_ones(),
            e: e ^ rotl(ent, d, n),
            d: (d + ldb + 1) % n,
        }
    }

    /// The compact Hilbert index of `p`; `None` unless `p.len()` matches and `p[d] < 2^m[d]` for every d.
    pub fn index(&self, p: &[u64]) -> Option<u64> {
        let n = self.m.len();
        if p.len() != n || p.iter().zip(&self.m).any(|(&v, &b)| b < 64 && v >> b != 0) {
            return None;
        }
        let (mut h, mut e, mut d) = (0u64, 0u64, 0u32);
        for level in (0..self.levels).rev() {
            let mut l = 0u64;
            for dim in 0..n {
                if level < self.m[dim] && (p[dim] >> level) & 1 == 1 {
                    l |= 1 << (n - 1 - dim);
                }
            }
            let s = self.step(level, l, e, d);
            h = (h << s.card) | s.r;
            e = s.e;
            d = s.d;
        }
        Some(h)
    }

    /// Sorted, maximal inclusive index ranges of all points with `lo[d] ≤ p[d] ≤ hi[d]`. The box must lie in
    /// the curve's space (`hi[d] < 2^m[d]`); an empty box gives no ranges. `None` if that takes more than
    /// `limit` ranges or visits more curve cells than `budget` has left (each visit takes one; cells inside
    /// the box that merge into one range still cost a visit each). Curve cells of level `floor` that
    /// overlap the box are taken whole: `floor` 0 gives the exact ranges, a higher one fewer ranges that
    /// cover the box.
    pub fn ranges(
        &self,
        lo: &[u64],
        hi: &[u64],
        floor: u32,
        limit: usize,
        budget: &mut usize,
    ) -> Option<Vec<(u64, u64)>> {
        let n = self.m.len();
        let mut out: Vec<(u64, u64)> = Vec::new();
        if lo.len() != n || hi.len() != n || (0..n).any(|d| lo[d] > hi[d]) {
            return Some(out);
        }
        struct Node {
            prefix: u64,
            level: u32,
            e: u64,
            d: u32,
            corner: [u64; MAX_DIMS],
        }
        let mut stack = vec![Node {
            prefix: 0,
            level: self.levels,
            e: 0,
            d: 0,
            corner: [0; MAX_DIMS],
        }];
        while let Some(node) = stack.pop() {
            *budget = budget.checked_sub(1)?;
            // The node holds every point whose bits at levels >= node.level are fixed by `corner`.
            let mut inside = true;
            let mut disjoint = false;
            let mut rest_bits = 0u32;
            for dim in 0..n {
                let free = self.m[dim].min(node.level);
                rest_bits += free;
                let (a, b) = (node.corner[dim], node.corner[dim] + ((1u64 << free) - 1));
                if b < lo[dim] || a > hi[dim] {
                    disjoint = true;
                    break;
                }
                if a < lo[dim] || b > hi[dim] {
                    inside = false;
                }
            }
            if disjoint {
                continue;
            }
            if inside || node.level <= floor {
                let start = node.prefix << rest_bits;
                let end = start + ((1u64 << rest_bits) - 1);
                match out.last_mut() {
                    Some(last) if last.1 + 1 == start => last.1 = end,
                    _ => out.push((start, end)),
                }
                if out.len() > limit {
                    return None;
                }
                continue;
            }
            // Not inside, so some dimension still has free bits: node.level > 0.
            let level = node.level - 1;
            let active: Vec<usize> = (0..n).filter(|&dim| self.m[dim] > level).collect();
            let mut children = Vec::with_capacity(1 << active.len());
            for bits in 0..(1u64 << active.len()) {
                let mut l = 0u64;
                let mut corner = node.corner;
                for (i, &dim) in active.iter().enumerate() {
                    if (bits >> i) & 1 == 1 {
                        l |= 1 << (n - 1 - dim);
                        corner[dim] |= 1 << level;
                    }
                }
                let s = self.step(level, l, node.e, node.d);
                children.push(Node {
                    prefix: (node.prefix << s.card) | s.r,
                    level,
                    e: s.e,
                    d: s.d,
                    corner,
                });
            }
            // Push in descending index order so the smallest index is visited first.
            children.sort_by_key(|c| std::cmp::Reverse(c.prefix));
            stack.extend(children);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(m: &[u32], p: &[u64]) -> u64 {
        CompactHilbert::new(m)
            .and_then(|c| c.index(p))
            .unwrap_or(u64::MAX)
    }

    #[test]
    fn vectors_1_1() {
        assert_eq!(idx(&[1, 1], &[0, 0]), 0);
        assert_eq!(idx(&[1, 1], &[0, 1]), 1);
        assert_eq!(idx(&[1, 1], &[1, 1]), 2);
        assert_eq!(idx(&[1, 1], &[1, 0]), 3);
    }

    #[test]
    fn vectors_2_2_order() {
        let order = [
            (0, 0),
            (1, 0),
            (1, 1),
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 3),
            (1, 2),
            (2, 2),
            (2, 3),
            (3, 3),
            (3, 2),
            (3, 1),
            (2, 1),
            (2, 0),
            (3, 0),
        ];
        for (h, (x, y)) in order.iter().enumerate() {
            assert_eq!(idx(&[2, 2], &[*x, *y]), h as u64, "({x},{y})");
        }
    }

    #[test]
    fn vectors_2_2_1_order() {
        let order = [
            (0, 0, 0),
            (0, 1, 0),
            (1, 1, 0),
            (1, 0, 0),
            (1, 0, 1),
            (1, 1, 1),
            (0, 1, 1),
            (0, 0, 1),
        ];
        for (h, (x, y, t)) in order.iter().enumerate() {
            // m = [2,2,1] but these points only use the low bit of x and y.
            assert_eq!(idx(&[2, 2, 1], &[*x, *y, *t]), h as u64, "({x},{y},{t})");
        }
    }

    #[test]
    fn vectors_3_1_rows() {
        let row0 = [0, 3, 4, 5, 10, 11, 12, 15];
        let row1 = [1, 2, 7, 6, 9, 8, 13, 14];
        for col in 0..8u64 {
            assert_eq!(idx(&[3, 1], &[col, 0]), row0[col as usize]);
            assert_eq!(idx(&[3, 1], &[col, 1]), row1[col as usize]);
        }
    }

    #[test]
    fn vectors_single_points() {
        assert_eq!(idx(&[5, 4], &[17, 9]), 360);
        assert_eq!(idx(&[10, 10], &[512, 300]), 894554);
        assert_eq!(idx(&[4, 4, 3], &[5, 9, 6]), 782);
    }

    #[test]
    fn out_of_range_points() {
        let c = CompactHilbert::new(&[2, 1]).unwrap_or_else(|| unreachable!());
        assert_eq!(c.index(&[4, 0]), None);
        assert_eq!(c.index(&[0, 2]), None);
        assert_eq!(c.index(&[0]), None);
        assert!(CompactHilbert::new(&[32, 32]).is_none());
        assert!(CompactHilbert::new(&[]).is_none());
    }

    #[test]
    fn ranges_examples() {
        let c = CompactHilbert::new(&[2, 2]).unwrap_or_else(|| unreachable!());
        assert_eq!(
            c.ranges(&[1, 0], &[3, 2], 0, 1000, &mut 1000),
            Some(vec![(1, 2), (7, 8), (11, 15)])
        );
        assert_eq!(c.ranges(&[3, 3], &[3, 3], 0, 1000, &mut 1000), Some(vec![(10, 10)]));
        assert_eq!(c.ranges(&[0, 0], &[3, 3], 0, 1000, &mut 1000), Some(vec![(0, 15)]));
    }
}
