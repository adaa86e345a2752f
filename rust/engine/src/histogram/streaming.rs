//! GeoTrellis' `StreamingHistogram`: the streaming histogram of Ben-Haim and Tom-Tov ("A streaming parallel
//! decision tree algorithm", JMLR 11, 2010) with GeoTrellis' rules.
//!
//! Rules kept from GeoTrellis:
//! * a value equal to a bucket label adds to that bucket; any other value opens a new bucket;
//! * when there are more than `max_bucket_count` buckets, the two adjacent buckets whose labels are closest
//!   merge (ties: the pair with the smallest left label), into a bucket labelled by the count-weighted mean of
//!   the two labels;
//! * the minimum and maximum seen are tracked exactly, apart from the buckets;
//! * statistics (mean, mode, median, cdf, quantile breaks) are computed from the buckets as GeoTrellis does.
//!
//! Deliberate differences from GeoTrellis 3.x (which has bugs there):
//! * GeoTrellis merges the two closest buckets using the counts they had when the distance between them was
//!   recorded, so counts added to an existing bucket afterwards are lost on merging (its `totalCount` drifts
//!   below the number of values counted). We merge with the buckets' current counts, so no count is lost.
//! * GeoTrellis' `merge` takes only the bucket labels of the other histogram, so the merged minimum and
//!   maximum depend on the merge order; we keep the exact minimum and maximum of both.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Unbounded};

use serde_json::Value;

use super::{json_pair, HistogramError};

/// GeoTrellis' `StreamingHistogram.DEFAULT_NUM_BUCKETS`.
pub const DEFAULT_NUM_BUCKETS: usize = 80;

/// An `f64` ordered like Java's `Double.compareTo` (total order, `-0.0 < 0.0`), the order of the labels in
/// GeoTrellis' `TreeMap[Double, Long]`.
#[derive(Debug, Clone, Copy)]
struct Key(f64);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Up to this many buckets, the buckets are a sorted vector and the closest pair is found by a scan (about
/// ten times faster than the trees for the default 80 buckets); above it, trees as in GeoTrellis.
const SMALL_MAX_BUCKETS: usize = 256;

/// The buckets. Both forms give the same histogram (checked by a property test).
#[derive(Debug, Clone)]
enum Store {
    /// `(label, count)` sorted by label.
    Small(Vec<(f64, i64)>),
    Large {
        /// label → count
        buckets: BTreeMap<Key, i64>,
        /// (distance, left label) of every pair of adjacent buckets; the first is the next pair to merge.
        deltas: BTreeSet<(Key, Key)>,
    },
}

/// A bucket: `(label, count)`.
type Bucket = (f64, i64);

/// Iterator over `(label, count)` of either store.
enum BucketIter<'a> {
    Small(std::slice::Iter<'a, (f64, i64)>),
    Large(std::collections::btree_map::Iter<'a, Key, i64>),
}

impl Iterator for BucketIter<'_> {
    type Item = (f64, i64);
    fn next(&mut self) -> Option<(f64, i64)> {
        match self {
            BucketIter::Small(it) => it.next().copied(),
            BucketIter::Large(it) => it.next().map(|(k, c)| (k.0, *c)),
        }
    }
}

/// A streaming (approximate) histogram of doubles with at most `max_bucket_count` buckets.
#[derive(Debug, Clone)]
pub struct StreamingHistogram {
    max_buckets: usize,
    min: f64,
    max: f64,
    store: Store,
}

impl PartialEq for StreamingHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.max_buckets == other.max_buckets
            && self.min.to_bits() == other.min.to_bits()
            && self.max.to_bits() == other.max.to_bits()
            && self
                .iter()
                .map(|(l, c)| (l.to_bits(), c))
                .eq(other.iter().map(|(l, c)| (l.to_bits(), c)))
    }
}

impl Default for StreamingHistogram {
    fn default() -> Self {
        Self::empty(DEFAULT_NUM_BUCKETS)
    }
}

impl StreamingHistogram {
    fn empty(max_buckets: usize) -> Self {
        Self::empty_in(max_buckets, max_buckets <= SMALL_MAX_BUCKETS)
    }

    fn empty_in(max_buckets: usize, small: bool) -> Self {
        StreamingHistogram {
            max_buckets,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            store: if small {
                Store::Small(Vec::with_capacity(max_buckets + 1))
            } else {
                Store::Large {
                    buckets: BTreeMap::new(),
                    deltas: BTreeSet::new(),
                }
            },
        }
    }

    fn iter(&self) -> BucketIter<'_> {
        match &self.store {
            Store::Small(v) => BucketIter::Small(v.iter()),
            Store::Large { buckets, .. } => BucketIter::Large(buckets.iter()),
        }
    }

    /// `(count of a bucket labelled item, nearest bucket below, nearest bucket above)`.
    fn locate(&self, item: f64) -> (Option<i64>, Option<Bucket>, Option<Bucket>) {
        match &self.store {
            Store::Small(v) => {
                let pos = v.partition_point(|(l, _)| l.total_cmp(&item) == Ordering::Less);
                let exact = v
                    .get(pos)
                    .filter(|(l, _)| l.total_cmp(&item) == Ordering::Equal);
                let above = pos + usize::from(exact.is_some());
                let lo = pos.checked_sub(1).map(|i| v[i]);
                (exact.map(|b| b.1), lo, v.get(above).copied())
            }
            Store::Large { buckets, .. } => {
                let key = Key(item);
                let lo = buckets.range(..key).next_back().map(|(k, c)| (k.0, *c));
                let hi = buckets
                    .range((Excluded(key), Unbounded))
                    .next()
                    .map(|(k, c)| (k.0, *c));
                (buckets.get(&key).copied(), lo, hi)
            }
        }
    }

    /// An empty histogram with at most `max_bucket_count` (≥ 1) buckets.
    pub fn new(max_bucket_count: usize) -> Result<Self, HistogramError> {
        if max_bucket_count == 0 {
            return Err(HistogramError::InvalidArgument(
                "max_bucket_count must be at least 1".into(),
            ));
        }
        Ok(Self::empty(max_bucket_count))
    }

    /// An empty histogram that has already seen `minimum` and `maximum` (GeoTrellis'
    /// `StreamingHistogram(size, minimumSeen, maximumSeen)`, used when decoding JSON).
    pub fn with_min_max(
        max_bucket_count: usize,
        minimum: f64,
        maximum: f64,
    ) -> Result<Self, HistogramError> {
        let mut h = Self::new(max_bucket_count)?;
        h.min = minimum;
        h.max = maximum;
        Ok(h)
    }

    /// The histogram of `values` in order, NaN being NoData (GeoTrellis' `StreamingHistogram.fromTile`).
    pub fn from_values(values: &[f64], max_bucket_count: usize) -> Result<Self, HistogramError> {
        let mut h = Self::new(max_bucket_count)?;
        h.add_values(values);
        Ok(h)
    }

    /// Count every value of `values` once, in order, skipping NaN (NoData).
    pub fn add_values(&mut self, values: &[f64]) {
        for &v in values {
            if !v.is_nan() {
                self.count_bucket(v, 1);
            }
        }
    }

    /// Count `item` once.
    pub fn count_item(&mut self, item: f64) -> Result<(), HistogramError> {
        self.count_item_n(item, 1)
    }

    /// Count `item` `count` times; a negative count removes occurrences (the minimum and maximum seen are
    /// not changed by that, as in GeoTrellis). NaN is refused.
    pub fn count_item_n(&mut self, item: f64, count: i64) -> Result<(), HistogramError> {
        if item.is_nan() {
            return Err(HistogramError::InvalidArgument(
                "cannot count NaN (NoData) in a histogram".into(),
            ));
        }
        self.count_bucket(item, count);
        Ok(())
    }

    /// Count each of `items` once, in order (NaN is skipped as NoData).
    pub fn count_items(&mut self, items: &[f64]) {
        self.add_values(items)
    }

    /// Remove one occurrence of `item`.
    pub fn uncount_item(&mut self, item: f64) -> Result<(), HistogramError> {
        self.count_item_n(item, -1)
    }

    /// Add all buckets of `other` to this histogram and widen the minimum and maximum to `other`'s.
    pub fn update(&mut self, other: &StreamingHistogram) {
        for (label, count) in other.iter() {
            self.count_bucket(label, count);
        }
        if other.min < self.min {
            self.min = other.min;
        }
        if other.max > self.max {
            self.max = other.max;
        }
    }

    /// A new histogram of the values seen by `self` and `other` (GeoTrellis' `merge`: this histogram's
    /// buckets, then the other's counted in label order; maximum bucket count of `self`).
    pub fn merge(&self, other: &StreamingHistogram) -> StreamingHistogram {
        let mut h = self.clone();
        h.update(other);
        h
    }

    /// GeoTrellis' `countItem(Bucket)`.
    fn count_bucket(&mut self, label: f64, count: i64) {
        if count != 0 {
            if label < self.min {
                self.min = label;
            }
            if label > self.max {
                self.max = label;
            }
        }
        let max_buckets = self.max_buckets;
        let composite = match &mut self.store {
            Store::Small(v) => Self::insert_small(v, max_buckets, label, count),
            Store::Large { buckets, deltas } => {
                Self::insert_large(buckets, deltas, max_buckets, label, count)
            }
        };
        // The two merged buckets' composite is counted like any bucket (GeoTrellis' `combine`).
        if let Some((label, count)) = composite {
            self.count_bucket(label, count);
        }
    }

    /// Add a bucket to the vector store; if that makes one bucket too many, remove the closest adjacent
    /// pair (the first, i.e. smallest left label, among equal distances) and return its composite.
    fn insert_small(
        v: &mut Vec<(f64, i64)>,
        max_buckets: usize,
        label: f64,
        count: i64,
    ) -> Option<(f64, i64)> {
        let pos = v.partition_point(|(l, _)| l.total_cmp(&label) == Ordering::Less);
        if let Some(b) = v.get_mut(pos) {
            if b.0.total_cmp(&label) == Ordering::Equal {
                b.1 = b.1.saturating_add(count);
                return None;
            }
        }
        v.insert(pos, (label, count));
        if v.len() <= max_buckets || v.len() < 2 {
            return None;
        }
        let mut best = 0;
        let mut best_distance = v[1].0 - v[0].0;
        for i in 1..v.len() - 1 {
            let d = v[i + 1].0 - v[i].0;
            // Distances between distinct sorted labels are > 0 or +inf, never NaN or -0.0, so `<` orders
            // them as the tree store's total order does.
            if d < best_distance {
                best = i;
                best_distance = d;
            }
        }
        let (a, b) = (v[best], v[best + 1]);
        v.drain(best..best + 2);
        Some(compose(a, b))
    }

    /// Add a bucket to the tree store (GeoTrellis' `countItem` and `combine` on its `TreeMap`s); returns
    /// the composite of the merged pair when one bucket too many had to go.
    fn insert_large(
        buckets: &mut BTreeMap<Key, i64>,
        deltas: &mut BTreeSet<(Key, Key)>,
        max_buckets: usize,
        label: f64,
        count: i64,
    ) -> Option<(f64, i64)> {
        let key = Key(label);
        if let Some(c) = buckets.get_mut(&key) {
            *c = c.saturating_add(count);
            return None;
        }
        if !buckets.is_empty() {
            let smaller = buckets.range(..key).next_back().map(|(k, _)| k.0);
            let larger = buckets
                .range((Excluded(key), Unbounded))
                .next()
                .map(|(k, _)| k.0);
            if let (Some(s), Some(l)) = (smaller, larger) {
                deltas.remove(&(Key(l - s), Key(s)));
            }
            if let Some(l) = larger {
                deltas.insert((Key(l - label), key));
            }
            if let Some(s) = smaller {
                deltas.insert((Key(label - s), Key(s)));
            }
        }
        buckets.insert(key, count);
        if buckets.len() <= max_buckets {
            return None;
        }
        // Merge the two closest adjacent buckets, with their current counts.
        let (_, m1) = deltas.pop_first()?;
        let (&m2, &c2) = buckets.range((Excluded(m1), Unbounded)).next()?;
        let c1 = buckets.get(&m1).copied().unwrap_or(0);
        let left = buckets.range(..m1).next_back().map(|(k, _)| k.0);
        let right = buckets
            .range((Excluded(m2), Unbounded))
            .next()
            .map(|(k, _)| k.0);
        buckets.remove(&m1);
        buckets.remove(&m2);
        if let Some(l) = left {
            deltas.remove(&(Key(m1.0 - l), Key(l)));
        }
        if let Some(r) = right {
            deltas.remove(&(Key(r - m2.0), m2));
        }
        if let (Some(l), Some(r)) = (left, right) {
            deltas.insert((Key(r - l), Key(l)));
        }
        Some(compose((m1.0, c1), (m2.0, c2)))
    }

    /// Approximate number of occurrences of `item` (GeoTrellis' `itemCount`): the count of a bucket labelled
    /// `item`, else interpolated between the neighbouring buckets.
    pub fn item_count(&self, item: f64) -> i64 {
        if item.is_nan() {
            return 0;
        }
        match self.bucket_count() {
            0 => 0,
            1 => {
                let (label, count) = self.iter().next().unwrap_or((0.0, 0));
                // GeoTrellis: count / exp(|7 (label - item)|).toInt, an integer division.
                let divisor = (7.0 * (label - item)).abs().exp() as i32;
                if divisor == 0 {
                    0
                } else {
                    count / divisor as i64
                }
            }
            _ => {
                let (exact, lo, hi) = self.locate(item);
                if let Some(c) = exact {
                    return c;
                }
                match (lo, hi) {
                    (None, Some((_, c))) | (Some((_, c)), None) => c,
                    (Some((lk, lc)), Some((hk, hc))) => {
                        let x = (item - lk) / (hk - lk);
                        ((1.0 - x) * lc as f64 + x * hc as f64) as i64
                    }
                    (None, None) => 0,
                }
            }
        }
    }

    /// Bucket labels in increasing order.
    pub fn values(&self) -> Vec<f64> {
        self.iter().map(|(l, _)| l).collect()
    }

    /// `(label, count)` of every bucket in label order.
    pub fn buckets(&self) -> Vec<(f64, i64)> {
        self.iter().collect()
    }

    /// `(label, item_count(label))` per bucket, i.e. the buckets (GeoTrellis' `binCounts`).
    pub fn bin_counts(&self) -> Vec<(f64, i64)> {
        self.buckets()
    }

    /// Number of buckets in use.
    pub fn bucket_count(&self) -> usize {
        match &self.store {
            Store::Small(v) => v.len(),
            Store::Large { buckets, .. } => buckets.len(),
        }
    }

    /// The maximum number of buckets.
    pub fn max_bucket_count(&self) -> usize {
        self.max_buckets
    }

    /// Number of values counted (the sum of the bucket counts).
    pub fn total_count(&self) -> i64 {
        self.iter().fold(0i64, |a, (_, c)| a.saturating_add(c))
    }

    /// Smallest value seen, `None` if none.
    pub fn min_value(&self) -> Option<f64> {
        (self.min != f64::INFINITY).then_some(self.min)
    }

    /// Largest value seen, `None` if none.
    pub fn max_value(&self) -> Option<f64> {
        (self.max != f64::NEG_INFINITY).then_some(self.max)
    }

    /// `(min, max)` seen, `None` if none.
    pub fn min_max_values(&self) -> Option<(f64, f64)> {
        Some((self.min_value()?, self.max_value()?))
    }

    /// Label of the most populous bucket; among equal counts the last (largest label), as GeoTrellis.
    pub fn mode(&self) -> Option<f64> {
        if self.total_count() <= 0 {
            return None;
        }
        let mut best: Option<(f64, i64)> = None;
        for (label, c) in self.iter() {
            best = match best {
                Some((bl, bc)) if bc > c => Some((bl, bc)),
                _ => Some((label, c)),
            };
        }
        best.map(|(l, _)| l)
    }

    /// Count-weighted mean of the bucket labels.
    pub fn mean(&self) -> Option<f64> {
        let total = self.total_count();
        if total <= 0 {
            return None;
        }
        let sum = self.iter().fold(0.0, |acc, (l, c)| acc + l * c as f64);
        Some(sum / total as f64)
    }

    /// GeoTrellis' `median()`: the 0.5 percentile interpolated on the cdf of the buckets.
    pub fn median(&self) -> Option<f64> {
        if self.total_count() <= 0 {
            return None;
        }
        self.percentile(0.5)
    }

    /// The (approximate) value at quantile `q` in [0, 1].
    pub fn percentile(&self, q: f64) -> Option<f64> {
        self.percentile_breaks(&[q]).first().copied()
    }

    /// `(label, cumulative fraction)` per bucket.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let total = self.total_count() as f64;
        let mut acc = 0.0;
        self.iter()
            .map(|(l, c)| {
                acc += c as f64 / total;
                (l, acc)
            })
            .collect()
    }

    /// `((label_i, cdf_i), (label_i+1, cdf_i+1))` with the minimum prepended at cdf 0 (GeoTrellis'
    /// `cdfIntervals`); empty with fewer than two buckets.
    fn cdf_intervals(&self) -> Vec<((f64, f64), (f64, f64))> {
        if self.bucket_count() < 2 {
            return Vec::new();
        }
        let n = self.total_count() as f64;
        let mut points = Vec::with_capacity(self.bucket_count() + 1);
        points.push((self.min_value().unwrap_or(f64::NEG_INFINITY), 0.0));
        let mut acc = 0.0;
        for (l, c) in self.iter() {
            acc += c as f64 / n;
            points.push((l, acc));
        }
        points.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// The value at each quantile of `qs` (ascending, in [0, 1]), interpolated on the cdf from the minimum
    /// to the maximum seen, exactly as GeoTrellis' `percentileBreaks`.
    pub fn percentile_breaks(&self, qs: &[f64]) -> Vec<f64> {
        if self.bucket_count() == 1 {
            let label = self.iter().next().map(|(l, _)| l).unwrap_or(f64::NAN);
            return qs.iter().map(|_| label).collect();
        }
        let data = self.cdf_intervals();
        if data.is_empty() || qs.is_empty() {
            return Vec::new();
        }
        let mut result = Vec::with_capacity(qs.len());
        let mut next = 1usize;
        let mut curr = data[0];
        let rest = if qs[0] < (curr.1).1 {
            // The first quantile falls in the first bucket: it is the minimum.
            result.push((curr.0).0);
            if (curr.0).0 == (curr.1).0 {
                // The minimum is the first bucket's label: interpolate from the next interval's end.
                let following = data.get(next).copied().unwrap_or(curr);
                next += 1;
                curr = (curr.0, following.1);
            } else {
                curr = (((curr.0).0, 0.0), curr.1);
            }
            &qs[1..]
        } else {
            qs
        };
        let value = |curr: ((f64, f64), (f64, f64)), q: f64| {
            let ((d1, p1), (d2, p2)) = curr;
            let t = (q - p1) / (p2 - p1);
            (1.0 - t) * d1 + t * d2
        };
        for &q in rest {
            if q == 0.0 {
                result.push(self.min_value().unwrap_or(f64::NEG_INFINITY));
            } else if q == 1.0 {
                result.push(self.max_value().unwrap_or(f64::INFINITY));
            } else if q < (curr.1).1 {
                result.push(value(curr, q));
            } else {
                while next < data.len() && (curr.1).1 <= q {
                    curr = data[next];
                    next += 1;
                }
                result.push(value(curr, q));
            }
        }
        result
    }

    /// `num` breaks at quantiles 1/num, 2/num, ..., 1 (GeoTrellis' `quantileBreaks`).
    pub fn quantile_breaks(&self, num: usize) -> Result<Vec<f64>, HistogramError> {
        if num == 0 {
            return Err(HistogramError::InvalidArgument(
                "num_breaks must be at least 1".into(),
            ));
        }
        let qs: Vec<f64> = (1..=num).map(|i| i as f64 / num as f64).collect();
        Ok(self.percentile_breaks(&qs))
    }

    /// GeoTrellis JSON: `{"buckets": [[label, count], ...], "maxBucketCount": n, "minimum": x, "maximum": y}`,
    /// or `{"maxBucketCount": n}` when nothing was seen. Non-finite numbers are written as `null`, as circe
    /// does.
    pub fn to_json(&self) -> String {
        let num = |x: f64| serde_json::to_string(&x).unwrap_or_else(|_| "null".into());
        match self.min_max_values() {
            Some((min, max)) => {
                let mut s = String::with_capacity(32 + 24 * self.bucket_count());
                s.push_str("{\"buckets\":[");
                for (i, (label, c)) in self.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push('[');
                    s.push_str(&num(label));
                    s.push(',');
                    s.push_str(&num(c as f64));
                    s.push(']');
                }
                s.push_str("],\"maxBucketCount\":");
                s.push_str(&self.max_buckets.to_string());
                s.push_str(",\"minimum\":");
                s.push_str(&num(min));
                s.push_str(",\"maximum\":");
                s.push_str(&num(max));
                s.push('}');
                s
            }
            None => format!("{{\"maxBucketCount\":{}}}", self.max_buckets),
        }
    }

    /// Decode GeoTrellis JSON (see [`to_json`](Self::to_json)). As GeoTrellis does, the buckets are counted
    /// again into a histogram that has seen `minimum` and `maximum`; without both, the histogram is empty.
    pub fn from_json(text: &str) -> Result<Self, HistogramError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| HistogramError::InvalidJson(e.to_string()))?;
        Self::from_json_value(&value)
    }

    /// Decode an already parsed GeoTrellis double histogram.
    pub fn from_json_value(value: &Value) -> Result<Self, HistogramError> {
        let obj = value.as_object().ok_or_else(|| {
            HistogramError::InvalidJson("a double histogram is a JSON object".into())
        })?;
        let max_buckets = obj
            .get("maxBucketCount")
            .and_then(Value::as_u64)
            .filter(|&n| n >= 1 && n <= u32::MAX as u64)
            .ok_or_else(|| {
                HistogramError::InvalidJson("\"maxBucketCount\" must be a positive integer".into())
            })? as usize;
        let (min, max) = match (obj.get("minimum"), obj.get("maximum")) {
            (Some(min), Some(max)) => match (min.as_f64(), max.as_f64()) {
                (Some(min), Some(max)) => (min, max),
                _ => {
                    return Err(HistogramError::InvalidJson(
                        "\"minimum\" and \"maximum\" must be numbers".into(),
                    ))
                }
            },
            _ => return Self::new(max_buckets),
        };
        let mut h = Self::with_min_max(max_buckets, min, max)?;
        match obj.get("buckets") {
            None | Some(Value::Null) => {}
            Some(Value::Array(pairs)) => {
                for pair in pairs {
                    let (label, count) = json_pair(pair)?;
                    let (Some(label), Some(count)) = (label.as_f64(), count.as_f64()) else {
                        return Err(HistogramError::InvalidJson(format!(
                            "bucket {pair} is not a pair of numbers"
                        )));
                    };
                    // Counts are written as doubles; GeoTrellis reads them back with `toLong`.
                    h.count_bucket(label, count as i64);
                }
            }
            Some(other) => {
                return Err(HistogramError::InvalidJson(format!(
                    "\"buckets\" must be an array of [label, count] pairs, found {other}"
                )))
            }
        }
        Ok(h)
    }
}

/// Two buckets' composite (GeoTrellis' `compose`).
fn compose(left: (f64, i64), right: (f64, i64)) -> (f64, i64) {
    let (v1, c1) = left;
    let (v2, c2) = right;
    let n = c1.saturating_add(c2);
    if n != 0 {
        ((v1 * c1 as f64 + v2 * c2 as f64) / n as f64, n)
    } else if c1 == 0 {
        left
    } else if c2 == 0 {
        right
    } else {
        (0.0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn hist(values: &[f64]) -> StreamingHistogram {
        StreamingHistogram::from_values(values, DEFAULT_NUM_BUCKETS).unwrap()
    }

    // Vectors of GeoTrellis' StreamingHistogramSpec.
    const LIST1: [f64; 28] = [
        1., 2., 3., 3., 4., 5., 6., 6., 6., 7., 8., 9., 9., 9., 9., 10., 11., 12., 12., 13., 14.,
        14., 15., 16., 17., 17., 18., 19.,
    ];
    const LIST2: [f64; 14] = [
        1., 32., 243., 243., 1024., 3125., 7776., 7776., 7776., 16807., 32768., 59049., 59049.,
        59049.,
    ];

    #[test]
    fn one_to_four() {
        let v: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().flat_map(|&x| [x; 4]).collect();
        let h = hist(&v);
        assert_eq!(h.values(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.min_max_values(), Some((1.0, 4.0)));
        assert_eq!(h.mean(), Some(2.5));
        // GeoTrellis' median interpolates on the cdf: 0.5 is reached exactly at label 2.
        assert_eq!(h.median(), Some(2.0));
        assert_eq!(
            h.cdf(),
            vec![(1.0, 0.25), (2.0, 0.5), (3.0, 0.75), (4.0, 1.0)]
        );
        assert_eq!(h.quantile_breaks(4).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.item_count(3.0), 4);
        assert_eq!(h.bucket_count(), 4);
        assert_eq!(h.total_count(), 16);
    }

    #[test]
    fn geotrellis_spec_median_and_mean() {
        assert_eq!(hist(&LIST1).median(), Some(8.75));
        let repeated: Vec<f64> = LIST1
            .iter()
            .copied()
            .cycle()
            .take(LIST1.len() * 10000)
            .collect();
        assert_eq!(hist(&repeated).median(), Some(8.75));
        assert!((hist(&LIST2).mean().unwrap() - 18194.14285714286).abs() < 1e-7);
    }

    #[test]
    fn geotrellis_spec_mode() {
        let list3 = [
            1.,
            32.,
            243.,
            243.,
            1024.,
            1024.,
            7776.,
            7776.,
            7776.,
            16807.,
            32768.,
            59049.,
            59049.,
            59049.,
            59049.,
            100000.,
            161051.,
            248832.,
            248832.,
            371293.,
            537824.,
            537824.,
            759375.,
            1048576.,
            1419857.,
            1419857.,
            1889568.,
            2476099.,
            2147483647.,
        ];
        assert_eq!(hist(&list3).mode(), Some(59049.0));
        assert_eq!(StreamingHistogram::default().mode(), None);
        // ties go to the last bucket
        assert_eq!(hist(&[1.0, 2.0, 3.0]).mode(), Some(3.0));
    }

    #[test]
    fn geotrellis_spec_quantile_breaks() {
        let h = hist(&[1.0; 20000]);
        assert_eq!(h.quantile_breaks(5).unwrap(), vec![1.0; 5]);
        let h = h.merge(&StreamingHistogram::default());
        assert_eq!(h.quantile_breaks(5).unwrap(), vec![1.0; 5]);

        let h = hist(&[1.0, 2.0]);
        let b = h.quantile_breaks(100).unwrap();
        assert_eq!(b.len(), 100);
        assert_eq!(b[0], 1.0);
        assert_eq!(b[99], 2.0);
        assert!(b[1..99].iter().all(|&x| x > 1.0 && x < 2.0), "{b:?}");

        let v: Vec<f64> = [1.0, 2.0, 3.0]
            .iter()
            .copied()
            .cycle()
            .take(10000)
            .collect();
        let b = hist(&v).quantile_breaks(50).unwrap();
        assert_eq!(b.len(), 50);
        assert!(b.iter().cloned().fold(f64::MIN, f64::max) > 2.9);
        assert!(b.iter().cloned().fold(f64::MAX, f64::min) < 1.1);
        assert!(StreamingHistogram::default().quantile_breaks(0).is_err());
        assert!(StreamingHistogram::default()
            .quantile_breaks(3)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn geotrellis_spec_counting() {
        let h = StreamingHistogram::from_values(&[52., 54., 61., 32., 52., 50., 11., 21., 18.], 3)
            .unwrap();
        assert_eq!(h.bucket_count(), 3);
        assert!(h.bin_counts().iter().all(|&(_, c)| c > 0));
        assert!(h.item_count(16.7) > 0);
        assert_eq!(h.total_count(), 9);
        assert_eq!(h.min_max_values(), Some((11.0, 61.0)));
    }

    #[test]
    fn closest_pair_merges_with_weighted_label() {
        let mut h = StreamingHistogram::new(3).unwrap();
        for v in [0.0, 10.0, 11.0] {
            h.count_item(v).unwrap();
        }
        h.count_item_n(11.0, 2).unwrap();
        h.count_item(30.0).unwrap(); // 4 buckets: (10, 11) is the closest pair: (10*1 + 11*3) / 4
        assert_eq!(h.buckets(), vec![(0.0, 1), (10.75, 4), (30.0, 1)]);
        // ties in distance: the pair with the smallest left label merges
        let mut h = StreamingHistogram::new(2).unwrap();
        for v in [0.0, 1.0, 2.0] {
            h.count_item(v).unwrap();
        }
        assert_eq!(h.buckets(), vec![(0.5, 2), (2.0, 1)]);
        assert_eq!(h.min_max_values(), Some((0.0, 2.0)));
    }

    #[test]
    fn nan_is_nodata() {
        let h = hist(&[f64::NAN, 1.0, f64::NAN]);
        assert_eq!(h.total_count(), 1);
        let mut h = h;
        assert!(h.count_item(f64::NAN).is_err());
        assert_eq!(h.item_count(f64::NAN), 0);
        assert!(StreamingHistogram::new(0).is_err());
    }

    #[test]
    fn item_count_single_bucket_and_interpolation() {
        let h = hist(&[5.0; 100]);
        assert_eq!(h.item_count(5.0), 100);
        // 100 / (int) e^0.7 = 100 / 2
        assert_eq!(h.item_count(5.1), 50);
        assert_eq!(h.item_count(100.0), 0);
        let h = hist(&[0.0, 0.0, 10.0, 10.0, 10.0, 10.0]);
        assert_eq!(h.item_count(5.0), 3);
        assert_eq!(h.item_count(-1.0), 2);
        assert_eq!(h.item_count(11.0), 4);
    }

    #[test]
    fn json_round_trip_and_literal() {
        let h = hist(&LIST1);
        let text = h.to_json();
        assert!(
            text.starts_with("{\"buckets\":[[1.0,1.0],[2.0,1.0],[3.0,2.0]"),
            "{text}"
        );
        assert!(
            text.ends_with("\"maxBucketCount\":80,\"minimum\":1.0,\"maximum\":19.0}"),
            "{text}"
        );
        let back = StreamingHistogram::from_json(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(
            StreamingHistogram::default().to_json(),
            "{\"maxBucketCount\":80}"
        );
        let empty = StreamingHistogram::from_json("{\"maxBucketCount\":12}").unwrap();
        assert_eq!(empty.max_bucket_count(), 12);
        assert_eq!(empty.total_count(), 0);
        let lit = StreamingHistogram::from_json(
            r#"{"buckets":[[1.0,4.0],[2.5,2.0]],"maxBucketCount":80,"minimum":0.5,"maximum":3.0}"#,
        )
        .unwrap();
        assert_eq!(lit.buckets(), vec![(1.0, 4), (2.5, 2)]);
        assert_eq!(lit.min_max_values(), Some((0.5, 3.0)));
        for bad in [
            "[]",
            "{}",
            r#"{"maxBucketCount":0}"#,
            r#"{"maxBucketCount":"80"}"#,
            r#"{"maxBucketCount":80,"minimum":1,"maximum":2,"buckets":[[1]]}"#,
            r#"{"maxBucketCount":80,"minimum":1,"maximum":2,"buckets":{}}"#,
            r#"{"maxBucketCount":80,"minimum":"a","maximum":2}"#,
        ] {
            assert!(StreamingHistogram::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_keeps_exact_min_max() {
        let a: Vec<f64> = (0..500).map(|i| i as f64 * 0.37).collect();
        let b: Vec<f64> = (0..500).map(|i| -3.0 - i as f64 * 0.11).collect();
        let m = hist(&a).merge(&hist(&b));
        assert_eq!(
            m.min_max_values(),
            Some((-3.0 - 499.0 * 0.11, 499.0 * 0.37))
        );
        assert_eq!(m.total_count(), 1000);
        assert!(m.bucket_count() <= 80);
    }

    fn naive(values: &[f64]) -> BTreeMap<Key, i64> {
        let mut m = BTreeMap::new();
        for &v in values.iter().filter(|v| !v.is_nan()) {
            *m.entry(Key(v)).or_insert(0) += 1;
        }
        m
    }

    proptest! {
        #[test]
        fn exact_when_few_distinct(
            palette in proptest::collection::vec(-1000i32..1000, 1..80),
            picks in proptest::collection::vec((0usize..1000, proptest::bool::weighted(0.1)), 0..400),
        ) {
            let values: Vec<f64> = picks.iter()
                .map(|&(i, nodata)| if nodata { f64::NAN } else { palette[i % palette.len()] as f64 / 4.0 })
                .collect();
            let h = hist(&values);
            let n = naive(&values);
            prop_assert_eq!(h.buckets(), n.iter().map(|(k, c)| (k.0, *c)).collect::<Vec<_>>());
            let data: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            prop_assert_eq!(h.total_count(), data.len() as i64);
            if !data.is_empty() {
                let min = data.iter().copied().fold(f64::INFINITY, f64::min);
                let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                prop_assert_eq!(h.min_max_values(), Some((min, max)));
                let mean = data.iter().sum::<f64>() / data.len() as f64;
                prop_assert!((h.mean().unwrap() - mean).abs() <= 1e-9 * (1.0 + mean.abs()));
            }
            // split anywhere and merge: same histogram as the whole
            let cut = values.len() / 3;
            let merged = hist(&values[..cut]).merge(&hist(&values[cut..]));
            prop_assert_eq!(merged.buckets(), h.buckets());
            prop_assert_eq!(merged.min_max_values(), h.min_max_values());
        }

        #[test]
        fn bounded_and_count_preserving(
            values in proptest::collection::vec(-1e6f64..1e6, 0..2000),
            size in 1usize..100,
        ) {
            let h = StreamingHistogram::from_values(&values, size).unwrap();
            prop_assert!(h.bucket_count() <= size);
            prop_assert_eq!(h.total_count(), values.len() as i64);
            let labels = h.values();
            prop_assert!(labels.windows(2).all(|w| w[0] < w[1]));
            if let Some((min, max)) = h.min_max_values() {
                prop_assert!(labels.iter().all(|&l| l >= min && l <= max));
                let breaks = h.quantile_breaks(7).unwrap();
                prop_assert!(breaks.iter().all(|&b| b >= min && b <= max), "{:?}", breaks);
            }
            let back = StreamingHistogram::from_json(&h.to_json()).unwrap();
            prop_assert_eq!(back, h.clone());
        }

        #[test]
        fn vector_and_tree_stores_agree(
            values in proptest::collection::vec(
                prop_oneof![-50i32..50, -100_000i32..100_000].prop_map(|i| i as f64 / 8.0),
                0..1500,
            ),
            size in 1usize..90,
            cut in 0usize..1500,
        ) {
            let mut small = StreamingHistogram::empty_in(size, true);
            let mut large = StreamingHistogram::empty_in(size, false);
            small.add_values(&values);
            large.add_values(&values);
            prop_assert!(matches!(small.store, Store::Small(_)));
            let is_large = matches!(large.store, Store::Large { .. });
            prop_assert!(is_large);
            prop_assert_eq!(&small, &large);
            // the tree store's delta set describes exactly the adjacent pairs
            if let Store::Large { buckets, deltas } = &large.store {
                prop_assert_eq!(deltas.len(), buckets.len().saturating_sub(1));
            }
            let cut = cut.min(values.len());
            let (mut a, mut b) = (StreamingHistogram::empty_in(size, true), StreamingHistogram::empty_in(size, false));
            a.add_values(&values[..cut]);
            b.add_values(&values[..cut]);
            let other = StreamingHistogram::from_values(&values[cut..], size).unwrap();
            prop_assert_eq!(a.merge(&other), b.merge(&other));
            for item in [-3.0, 0.0, 0.125, 7.5, 1e4] {
                prop_assert_eq!(small.item_count(item), large.item_count(item));
            }
        }
    }
}
