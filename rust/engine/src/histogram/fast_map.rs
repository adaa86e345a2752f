//! GeoTrellis' `FastMapHistogram`: exact counts of integer values (NoData, `i32::MIN`, excluded when counting
//! cells), with the statistics of GeoTrellis' `IntHistogram` and the quantile breaks of
//! `MutableIntHistogram`.
//!
//! GeoTrellis keeps the counts in an open-addressing hash table; we keep them in a sorted map (values come out
//! sorted, which every statistic needs) and count dense value ranges in an array first. Differences from
//! GeoTrellis 3.x, where it has bugs:
//! * `cdf()` in GeoTrellis walks the raw hash-table slots (unsorted, empty slots included); ours is the cdf
//!   of the sorted distinct values, like the streaming histogram's.
//! * `mean()` is accumulated in value order rather than hash-table order (the last bits may differ) and
//!   skips values whose count is zero (GeoTrellis gives NaN if such a value comes first).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{json_pair, HistogramError};

/// GeoTrellis' NoData for integer cells.
const NODATA: i32 = i32::MIN;

/// GeoTrellis' `FastMapHistogram.maxBucketCount` (its hash table's capacity).
const MAX_BUCKET_COUNT: usize = 1 << 29;

/// An exact histogram of `i32` values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FastMapHistogram {
    counts: BTreeMap<i32, i64>,
    total: i64,
}

impl FastMapHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// The histogram of the cells `values` (GeoTrellis' `FastMapHistogram.fromTile` on a tile read with
    /// `tile.get`): NaN is NoData, other values are truncated toward zero (saturating), and `i32::MIN`
    /// (integer NoData) is skipped.
    pub fn from_values(values: &[f64]) -> Self {
        let mut h = Self::new();
        h.add_values(values);
        h
    }

    /// Count the cells `values` (see [`from_values`](Self::from_values)).
    pub fn add_values(&mut self, values: &[f64]) {
        // `f64 as i32` truncates toward zero and saturates like the JVM's `d.toInt`; NaN would give 0, so
        // it is skipped first.
        self.add_cells(values.iter().filter(|v| !v.is_nan()).map(|&v| v as i32));
    }

    /// Count integer cells, skipping NoData (`i32::MIN`).
    pub fn add_ints(&mut self, values: &[i32]) {
        self.add_cells(values.iter().copied());
    }

    fn add_cells<I: Iterator<Item = i32> + Clone>(&mut self, cells: I) {
        let (mut lo, mut hi, mut n) = (i32::MAX, i32::MIN, 0usize);
        for z in cells.clone().filter(|&z| z != NODATA) {
            lo = lo.min(z);
            hi = hi.max(z);
            n += 1;
        }
        if n == 0 {
            return;
        }
        let span = (hi as i64 - lo as i64) as usize + 1;
        if span <= (1 << 16).max(2 * n) {
            // Dense range (8/16-bit data, classes): count in an array, then fold into the map.
            let mut dense = vec![0i64; span];
            for z in cells.filter(|&z| z != NODATA) {
                dense[(z as i64 - lo as i64) as usize] += 1;
            }
            for (i, &c) in dense.iter().enumerate() {
                if c != 0 {
                    self.count_item_n((lo as i64 + i as i64) as i32, c);
                }
            }
        } else {
            for z in cells.filter(|&z| z != NODATA) {
                self.count_item_n(z, 1);
            }
        }
    }

    /// Count `item` once.
    pub fn count_item(&mut self, item: i32) {
        self.count_item_n(item, 1)
    }

    /// Count `item` `count` times (a negative count removes occurrences; zero does nothing).
    pub fn count_item_n(&mut self, item: i32, count: i64) {
        if count != 0 {
            let c = self.counts.entry(item).or_insert(0);
            *c = c.saturating_add(count);
            self.total = self.total.saturating_add(count);
        }
    }

    /// Set the count of `item`.
    pub fn set_item(&mut self, item: i32, count: i64) {
        let old = self.counts.insert(item, count).unwrap_or(0);
        self.total = self.total.saturating_sub(old).saturating_add(count);
    }

    /// Forget all occurrences of `item`.
    pub fn uncount_item(&mut self, item: i32) {
        if let Some(c) = self.counts.remove(&item) {
            self.total = self.total.saturating_sub(c);
        }
    }

    /// Add the counts of `other`.
    pub fn update(&mut self, other: &FastMapHistogram) {
        for (&z, &c) in &other.counts {
            self.count_item_n(z, c);
        }
    }

    /// A new histogram of the values seen by both.
    pub fn merge(&self, other: &FastMapHistogram) -> FastMapHistogram {
        let mut h = FastMapHistogram::new();
        h.update(self);
        h.update(other);
        h
    }

    /// Number of occurrences of `item`.
    pub fn item_count(&self, item: i32) -> i64 {
        self.counts.get(&item).copied().unwrap_or(0)
    }

    /// Number of values counted.
    pub fn total_count(&self) -> i64 {
        self.total
    }

    /// Number of distinct values.
    pub fn bucket_count(&self) -> usize {
        self.counts.len()
    }

    /// GeoTrellis' capacity, `1 << 29` distinct values.
    pub fn max_bucket_count(&self) -> usize {
        MAX_BUCKET_COUNT
    }

    /// Distinct values, sorted.
    pub fn values(&self) -> Vec<i32> {
        self.counts.keys().copied().collect()
    }

    /// `(value, count)` per distinct value, sorted by value.
    pub fn bin_counts(&self) -> Vec<(i32, i64)> {
        self.counts.iter().map(|(&z, &c)| (z, c)).collect()
    }

    /// Smallest value, `None` if empty.
    pub fn min_value(&self) -> Option<i32> {
        self.counts.keys().next().copied()
    }

    /// Largest value, `None` if empty.
    pub fn max_value(&self) -> Option<i32> {
        self.counts.keys().next_back().copied()
    }

    /// `(min, max)`, `None` if empty.
    pub fn min_max_values(&self) -> Option<(i32, i32)> {
        Some((self.min_value()?, self.max_value()?))
    }

    /// The most frequent value; among equal counts the smallest (GeoTrellis' `IntHistogram.mode`).
    pub fn mode(&self) -> Option<i32> {
        if self.total == 0 {
            return None;
        }
        let mut iter = self.counts.iter();
        let (&first, &first_count) = iter.next()?;
        let (mut mode, mut best) = (first, first_count);
        for (&z, &c) in iter {
            if c > best {
                best = c;
                mode = z;
            }
        }
        Some(mode)
    }

    /// The first value whose cumulative count exceeds half the total (GeoTrellis' `IntHistogram.median`;
    /// for 1, 2, 3, 4 that is 3).
    pub fn median(&self) -> Option<i32> {
        if self.total == 0 {
            return None;
        }
        let middle = self.total / 2;
        let mut running = 0i64;
        let mut last = None;
        for (&z, &c) in &self.counts {
            if running > middle {
                break;
            }
            running = running.saturating_add(c);
            last = Some(z);
        }
        last
    }

    /// Mean of the values (incremental, as GeoTrellis' `IntHistogram.mean`).
    pub fn mean(&self) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let (mut mean, mut total) = (0.0f64, 0.0f64);
        for (&z, &c) in &self.counts {
            if c == 0 {
                continue;
            }
            let delta = z as f64 - mean;
            total += c as f64;
            mean += (c as f64 * delta) / total;
        }
        Some(mean)
    }

    /// `(value, cumulative fraction)` per distinct value, sorted.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let total = self.total as f64;
        let mut acc = 0.0;
        self.counts
            .iter()
            .map(|(&z, &c)| {
                acc += c as f64 / total;
                (z as f64, acc)
            })
            .collect()
    }

    /// Quantile breaks by GeoTrellis' `MutableIntHistogram.quantileBreaks`: values that would overflow a
    /// bucket alone get a bucket each, the last break is the maximum, and at most `num` breaks are returned.
    pub fn quantile_breaks(&self, num: usize) -> Result<Vec<i32>, HistogramError> {
        if num == 0 {
            return Err(HistogramError::InvalidArgument(
                "num_breaks must be at least 1".into(),
            ));
        }
        let quantiles: Vec<f64> = (1..=num).map(|i| i as f64 / num as f64).collect();
        // The JVM's `(double).toInt` saturates, as Rust's `as` does.
        let size = (quantiles[0] * self.total as f64) as i32 as i64;
        let normalized = self.normalize_extreme_values(num, size);
        let h = normalized.as_ref().unwrap_or(self);

        let total = h.total as f64;
        let limits: Vec<f64> = quantiles.iter().map(|q| q * total).collect();
        let max_value = h.max_value();
        let values = self.values();
        let mut breaks: Vec<i32> = Vec::with_capacity(num);
        let mut curr_total = 0i64;
        for (j, &z) in values.iter().enumerate() {
            if breaks.len() >= num {
                break;
            }
            let count = h.item_count(z);
            let new_total = curr_total + count;
            if count != 0 && new_total as f64 > limits[breaks.len()] {
                let limit = limits[breaks.len()];
                let brk = if (limit - curr_total as f64).abs() > (limit - new_total as f64).abs()
                    || j == 0
                {
                    // this value is closer to the limit than the previous one (or there is none before)
                    z
                } else if breaks.last() == Some(&values[j - 1]) {
                    // the previous value is closer but already a break
                    z
                } else {
                    values[j - 1]
                };
                breaks.push(brk);
            }
            curr_total = new_total;
        }
        if let Some(max) = max_value {
            if breaks.len() < num && breaks.last().is_none_or(|&b| b < max) {
                breaks.push(max);
            }
        }
        Ok(breaks)
    }

    /// GeoTrellis' `normalizeExtremeValues`: `None` if no value has more than `cutoff` occurrences, else a
    /// copy where each such value counts as one ideal bucket.
    fn normalize_extreme_values(&self, num: usize, cutoff: i64) -> Option<FastMapHistogram> {
        let extreme: Vec<i32> = self
            .counts
            .iter()
            .filter(|(_, &c)| c > cutoff)
            .map(|(&z, _)| z)
            .collect();
        if extreme.is_empty() {
            return None;
        }
        let mut h = self.clone();
        if extreme.len() == self.counts.len() {
            for &z in &extreme {
                h.set_item(z, 1);
            }
            return Some(h);
        }
        let extreme_total: i64 = extreme.iter().map(|&z| h.item_count(z)).sum();
        let others = h.total - extreme_total;
        // num > extreme.len() always holds (each extreme value has more than total / num occurrences).
        let per = others
            .checked_div(num as i64 - extreme.len() as i64)
            .unwrap_or(0);
        for &z in &extreme {
            h.set_item(z, per);
        }
        Some(h)
    }

    /// GeoTrellis JSON: `[[value, count], ...]` in value order.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(2 + 16 * self.counts.len());
        s.push('[');
        for (i, (z, c)) in self.counts.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('[');
            s.push_str(&z.to_string());
            s.push(',');
            s.push_str(&c.to_string());
            s.push(']');
        }
        s.push(']');
        s
    }

    /// Decode GeoTrellis JSON (see [`to_json`](Self::to_json)).
    pub fn from_json(text: &str) -> Result<Self, HistogramError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| HistogramError::InvalidJson(e.to_string()))?;
        Self::from_json_value(&value)
    }

    /// Decode an already parsed GeoTrellis integer histogram.
    pub fn from_json_value(value: &Value) -> Result<Self, HistogramError> {
        let pairs = value.as_array().ok_or_else(|| {
            HistogramError::InvalidJson(
                "an integer histogram is an array of [value, count] pairs".into(),
            )
        })?;
        let mut h = FastMapHistogram::new();
        for pair in pairs {
            let (z, c) = json_pair(pair)?;
            let z = whole(z)
                .and_then(|z| i32::try_from(z).ok())
                .ok_or_else(|| {
                    HistogramError::InvalidJson(format!("value in {pair} is not a 32-bit integer"))
                })?;
            let c = whole(c).ok_or_else(|| {
                HistogramError::InvalidJson(format!("count in {pair} is not an integer"))
            })?;
            h.count_item_n(z, c);
        }
        Ok(h)
    }
}

/// A JSON number that is a whole number (`3` or `3.0`).
fn whole(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_and_statistics() {
        let h = FastMapHistogram::from_values(&[
            1., 1., 1., 1., 3., 1., 1., 1., 4., 3., 1., 1., 5., 4., 3., 1.,
        ]);
        assert_eq!(h.bin_counts(), vec![(1, 10), (3, 3), (4, 2), (5, 1)]);
        assert_eq!(h.values(), vec![1, 3, 4, 5]);
        assert_eq!(h.total_count(), 16);
        assert_eq!(h.mode(), Some(1));
        assert_eq!(h.median(), Some(1));
        assert_eq!(h.min_max_values(), Some((1, 5)));
        assert_eq!(h.bucket_count(), 4);
        assert_eq!(h.item_count(2), 0);

        let h = FastMapHistogram::from_values(&[1., 2., 3., 4.]);
        assert_eq!(h.median(), Some(3));
        assert_eq!(h.mean(), Some(2.5));
        assert_eq!(h.mode(), Some(1));
        assert_eq!(
            h.cdf(),
            vec![(1.0, 0.25), (2.0, 0.5), (3.0, 0.75), (4.0, 1.0)]
        );
        assert_eq!(FastMapHistogram::new().median(), None);
        assert_eq!(FastMapHistogram::new().mean(), None);
    }

    #[test]
    fn truncation_and_nodata() {
        let h = FastMapHistogram::from_values(&[
            f64::NAN,
            -2.7,
            2.7,
            -0.5,
            1e20,
            -1e20,
            i32::MIN as f64,
            f64::INFINITY,
        ]);
        // -2.7 → -2, 2.7 → 2, -0.5 → 0, 1e20 and +inf → i32::MAX; -1e20 and i32::MIN are NoData
        assert_eq!(h.bin_counts(), vec![(-2, 1), (0, 1), (2, 1), (i32::MAX, 2)]);
        let mut g = FastMapHistogram::new();
        g.add_ints(&[i32::MIN, 5, 5, i32::MIN + 1]);
        assert_eq!(g.bin_counts(), vec![(i32::MIN + 1, 1), (5, 2)]);
    }

    #[test]
    fn quantile_breaks_geotrellis() {
        let h = FastMapHistogram::from_values(&(1..=100).map(f64::from).collect::<Vec<_>>());
        assert_eq!(h.quantile_breaks(4).unwrap(), vec![25, 50, 75, 100]);
        // 1..4 four times each
        let v: Vec<f64> = [1., 2., 3., 4.].iter().flat_map(|&x| [x; 4]).collect();
        assert_eq!(
            FastMapHistogram::from_values(&v)
                .quantile_breaks(4)
                .unwrap(),
            vec![1, 2, 3, 4]
        );
        // an extreme value (9 of 12 cells with 3 breaks) counts as one ideal bucket (1 cell) instead
        let v = [1., 2., 3., 5., 5., 5., 5., 5., 5., 5., 5., 5.];
        assert_eq!(
            FastMapHistogram::from_values(&v)
                .quantile_breaks(3)
                .unwrap(),
            vec![1, 3, 5]
        );
        // only extreme values
        let v = [1., 1., 1., 7., 7., 7.];
        assert_eq!(
            FastMapHistogram::from_values(&v)
                .quantile_breaks(4)
                .unwrap(),
            vec![1, 7]
        );
        assert_eq!(
            FastMapHistogram::new().quantile_breaks(4).unwrap(),
            Vec::<i32>::new()
        );
        assert!(FastMapHistogram::new().quantile_breaks(0).is_err());
    }

    #[test]
    fn json() {
        let h = FastMapHistogram::from_values(&[3., 1., 1., -4.]);
        assert_eq!(h.to_json(), "[[-4,1],[1,2],[3,1]]");
        assert_eq!(FastMapHistogram::from_json(&h.to_json()).unwrap(), h);
        assert_eq!(
            FastMapHistogram::from_json("[]").unwrap(),
            FastMapHistogram::new()
        );
        assert_eq!(
            FastMapHistogram::from_json("[[2.0, 3.0]]")
                .unwrap()
                .item_count(2),
            3
        );
        for bad in [
            "{}",
            "[[1]]",
            "[[1.5, 1]]",
            "[[1, 1.5]]",
            "[[3000000000, 1]]",
            "[1, 2]",
            "[[",
        ] {
            assert!(FastMapHistogram::from_json(bad).is_err(), "{bad}");
        }
    }

    fn naive(values: &[f64]) -> BTreeMap<i32, i64> {
        let mut m = BTreeMap::new();
        for &v in values {
            if v.is_nan() {
                continue;
            }
            let z = v as i32;
            if z != i32::MIN {
                *m.entry(z).or_insert(0) += 1;
            }
        }
        m
    }

    proptest! {
        #[test]
        fn matches_btreemap(
            values in proptest::collection::vec(
                prop_oneof![
                    -300.0f64..300.0,
                    -3e9f64..3e9,
                    Just(f64::NAN),
                    Just(i32::MIN as f64),
                ],
                0..600,
            ),
            cut in 0usize..600,
        ) {
            let h = FastMapHistogram::from_values(&values);
            let n = naive(&values);
            prop_assert_eq!(h.bin_counts(), n.iter().map(|(&z, &c)| (z, c)).collect::<Vec<_>>());
            prop_assert_eq!(h.total_count(), n.values().sum::<i64>());
            prop_assert_eq!(h.min_max_values(), n.keys().next().copied().zip(n.keys().next_back().copied()));
            let cut = cut.min(values.len());
            let merged = FastMapHistogram::from_values(&values[..cut])
                .merge(&FastMapHistogram::from_values(&values[cut..]));
            prop_assert_eq!(&merged, &h);
            prop_assert_eq!(FastMapHistogram::from_json(&h.to_json()).unwrap(), h.clone());
            if let Some(median) = h.median() {
                // at least half the values are <= median and fewer than half are below it... GeoTrellis' rule:
                let below: i64 = n.range(..median).map(|(_, c)| c).sum();
                let upto: i64 = n.range(..=median).map(|(_, c)| c).sum();
                prop_assert!(below <= h.total_count() / 2 && upto > h.total_count() / 2);
                let breaks = h.quantile_breaks(5).unwrap();
                prop_assert!(breaks.len() <= 5 && !breaks.is_empty());
                prop_assert!(breaks.windows(2).all(|w| w[0] < w[1]), "{:?}", breaks);
                prop_assert_eq!(breaks.last().copied(), h.max_value());
            }
        }
    }
}
