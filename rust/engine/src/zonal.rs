//! Zonal work over a tiled layer: statistics of the cells that zones (polygons) cover, and masking.
//!
//! Each tile is visited once for all the zones whose bounding box meets it (a key → zones index built
//! from the layout). A tile yields one *partial* per zone, band and instant: the weighted count, sum, mean
//! and sum of squared deviations (Welford, so that combining partials loses no precision), the min and max
//! of the covered cells, the number of covered cells, and optionally the weight of each distinct value.
//! Partials of one zone combine in any order ([`Partial::merge`], Chan et al.), on the driver for a few
//! zones or on the reduce side of a keyed exchange ([`CombinePartials`]) for many.
//!
//! A cell counts when it holds data and its weight under the cell rule is positive; weights are 1, or the
//! covered fraction under `CellRule::Fraction` (exactextract's definitions: count = Σw, sum = Σw·v,
//! mean = sum / count, population variance weighted by w; min and max over the covered cells).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use crate::batch::{primitive_column, with_tiles, CellTypeCache, TileBuilder, TileColumns};
use crate::error::{EngineError, Result};
use crate::exchange::RunKernel;
use crate::layout::{Extent, Layout};
use crate::rasterize::{centre_spans, coverage, CellRule, Coverage, Grid, Shape, Span};

/// Zones to summarise: an id and a shape each, indexed by the layout keys their bounding box meets.
pub struct Zones {
    ids: Vec<i64>,
    shapes: Vec<Shape>,
    by_key: HashMap<(i64, i64), Vec<usize>>,
}

impl Zones {
    /// # Errors
    /// `Mismatch` when ids and shapes differ in number, `Value` for an invalid layout.
    pub fn new(ids: Vec<i64>, shapes: Vec<Shape>, layout: &Layout) -> Result<Zones> {
        if ids.len() != shapes.len() {
            return Err(EngineError::Mismatch(format!(
                "{} zone ids for {} geometries",
                ids.len(),
                shapes.len()
            )));
        }
        layout.validate()?;
        let mut by_key: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (z, shape) in shapes.iter().enumerate() {
            let Some(b) = shape.bbox() else { continue };
            // Closed bounds: a zone touching a tile's edge may still cover a cell of it (a point).
            let Some((c0, r0, c1, r1)) = layout.key_bounds_in_layout(&b) else { continue };
            for col in c0..=c1 {
                for row in r0..=r1 {
                    by_key.entry((col, row)).or_default().push(z);
                }
            }
        }
        Ok(Zones { ids, shapes, by_key })
    }

    fn at(&self, col: i64, row: i64) -> &[usize] {
        self.by_key.get(&(col, row)).map_or(&[], Vec::as_slice)
    }
}

/// The cell grid of a tile of `cols × rows` cells over `extent`.
pub fn tile_grid(extent: &Extent, cols: usize, rows: usize) -> Grid {
    Grid {
        xmin: extent.xmin,
        ymax: extent.ymax,
        cell_width: (extent.xmax - extent.xmin) / cols as f64,
        cell_height: (extent.ymax - extent.ymin) / rows as f64,
        cols,
        rows,
    }
}

/// The statistics of the covered cells of one zone, band and instant, from some tiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    pub weight: f64,
    pub cells: i64,
    pub sum: f64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
    /// Weight of each distinct value (keyed by the value's bits), when asked for.
    pub histogram: Option<BTreeMap<u64, f64>>,
}

impl Partial {
    fn new(histogram: bool) -> Partial {
        Partial {
            weight: 0.0,
            cells: 0,
            sum: 0.0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            histogram: histogram.then(BTreeMap::new),
        }
    }

    #[cfg(test)]
    fn add(&mut self, v: f64, w: f64) {
        self.cells += 1;
        self.weight += w;
        self.sum += w * v;
        if self.cells == 1 {
            (self.mean, self.m2) = (v, 0.0); // exactly, where the update below would round
        } else {
            let delta = v - self.mean;
            self.mean += delta * w / self.weight;
            self.m2 = (self.m2 + w * delta * (v - self.mean)).max(0.0);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if let Some(h) = &mut self.histogram {
            *h.entry((v + 0.0).to_bits()).or_insert(0.0) += w;
        }
    }

    /// The statistics of the covered cells of one band of a tile (`band`: its working values, `cols` wide),
    /// row by row over the coverage window: sums first, then the squared deviations from their mean (two
    /// passes, no division per cell). NaN cells are skipped.
    fn of_window(band: &[f64], cols: usize, cover: &Coverage, histogram: bool) -> Partial {
        let rows = || {
            (0..cover.rows).map(move |r| {
                let start = (cover.row0 + r) * cols + cover.col0;
                (&band[start..start + cover.cols], &cover.weights[r * cover.cols..(r + 1) * cover.cols])
            })
        };
        let mut p = Partial::new(histogram);
        for (values, weights) in rows() {
            for (&v, &w) in values.iter().zip(weights) {
                if w > 0.0 && !v.is_nan() {
                    p.sum_cell(v, w);
                }
            }
        }
        if p.cells > 0 {
            p.mean = p.sum / p.weight;
            for (values, weights) in rows() {
                for (&v, &w) in values.iter().zip(weights) {
                    if w > 0.0 && !v.is_nan() {
                        p.deviation_cell(v, w);
                    }
                }
            }
        }
        p
    }

    /// The statistics of the cells of row spans (the centre rule: each cell weighs 1), as `of_window`.
    fn of_spans(band: &[f64], cols: usize, spans: &[Span], histogram: bool) -> Partial {
        let runs = || spans.iter().map(move |s| &band[s.row * cols + s.col0..s.row * cols + s.col1]);
        let mut p = Partial::new(histogram);
        for v in runs().flatten().filter(|v| !v.is_nan()) {
            p.sum_cell(*v, 1.0);
        }
        if p.cells > 0 {
            p.mean = p.sum / p.weight;
            for v in runs().flatten().filter(|v| !v.is_nan()) {
                p.deviation_cell(*v, 1.0);
            }
        }
        p
    }

    /// One covered cell of weight `w` into the first pass.
    #[inline(always)]
    fn sum_cell(&mut self, v: f64, w: f64) {
        self.cells += 1;
        self.weight += w;
        self.sum += w * v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// One covered cell into the second pass (`mean` set).
    #[inline(always)]
    fn deviation_cell(&mut self, v: f64, w: f64) {
        let d = v - self.mean;
        self.m2 += w * d * d;
        if let Some(h) = &mut self.histogram {
            *h.entry((v + 0.0).to_bits()).or_insert(0.0) += w;
        }
    }

    /// Fold another partial of the same zone, band and instant into this one.
    pub fn merge(&mut self, o: &Partial) {
        if o.cells == 0 {
            return;
        }
        if self.cells == 0 {
            let histogram = self.histogram.take().map(|_| o.histogram.clone().unwrap_or_default());
            *self = Partial { histogram, ..o.clone() };
            return;
        }
        let weight = self.weight + o.weight;
        let delta = o.mean - self.mean;
        self.m2 += o.m2 + delta * delta * self.weight * o.weight / weight;
        self.mean += delta * o.weight / weight;
        self.weight = weight;
        self.cells += o.cells;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        if let (Some(h), Some(oh)) = (&mut self.histogram, &o.histogram) {
            for (v, w) in oh {
                *h.entry(*v).or_insert(0.0) += w;
            }
        }
    }
}

/// The cells of a tile one zone covers: row spans for the centre rule over polygons (whole runs summed),
/// else the weight of every cell of the zone's window.
enum Cover {
    Spans(Vec<Span>),
    Weights(Coverage),
}

impl Cover {
    fn of(shape: &Shape, grid: &Grid, rule: CellRule) -> Result<Cover> {
        if rule == CellRule::Centre && shape.lines.is_empty() && shape.points.is_empty() {
            return Ok(Cover::Spans(centre_spans(shape, grid)));
        }
        Ok(Cover::Weights(coverage(shape, grid, rule)?))
    }

    fn is_empty(&self) -> bool {
        match self {
            Cover::Spans(spans) => spans.is_empty(),
            Cover::Weights(cover) => !cover.weights.iter().any(|w| *w > 0.0),
        }
    }

    fn partial(&self, band: &[f64], cols: usize, histogram: bool) -> Partial {
        match self {
            Cover::Spans(spans) => Partial::of_spans(band, cols, spans, histogram),
            Cover::Weights(cover) => Partial::of_window(band, cols, cover, histogram),
        }
    }
}

/// Partial statistics of every zone over every tile of `batch` (`col`, `row`, optional `instant`, tile
/// columns): one row per zone, band (and instant) that covers at least one cell (`cells` 0 when all the
/// covered cells are NoData, so that callers still learn the band count). Output columns: `zone`
/// (int64), `band` (int32), `instant` (int64, if the batch has it), `weight`, `cells`, `sum`, `mean`, `m2`,
/// `min`, `max`, and with `histogram` `hist_values`, `hist_weights` (lists of float64).
///
/// # Errors
/// `Contract` for a batch outside the tile contract, `Value` for `Fraction` over lines or points.
pub fn zonal_partials(
    batch: &RecordBatch,
    layout: &Layout,
    zones: &Zones,
    rule: CellRule,
    histogram: bool,
) -> Result<RecordBatch> {
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let mut acc: BTreeMap<(usize, i32, i64), Partial> = BTreeMap::new();
    let mut values = Vec::new();
    for i in 0..batch.num_rows() {
        let (c, r) = (col.value(i) as i64, row.value(i) as i64);
        let here = zones.at(c, r);
        if here.is_empty() {
            continue;
        }
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let n = tile.rows * tile.cols;
        if n == 0 {
            continue;
        }
        values.resize(n * tile.bands, 0.0);
        ct.load(tile.cells, 0, &mut values);
        let grid = tile_grid(&layout.key_extent(c, r), tile.cols, tile.rows);
        let t = instant.map_or(0, |a| a.value(i));
        for &z in here {
            let cover = Cover::of(&zones.shapes[z], &grid, rule)?;
            if cover.is_empty() {
                continue;
            }
            for b in 0..tile.bands {
                let band = &values[b * n..(b + 1) * n];
                let window = cover.partial(band, tile.cols, histogram);
                match acc.entry((z, b as i32, t)) {
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(window);
                    }
                    std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&window),
                }
            }
        }
    }
    let keys: Vec<(i64, i32, i64)> = acc.keys().map(|&(z, b, t)| (zones.ids[z], b, t)).collect();
    partials_batch(&keys, acc.values(), instant.is_some(), histogram)
}

fn partials_batch<'a>(
    keys: &[(i64, i32, i64)],
    partials: impl Iterator<Item = &'a Partial>,
    with_instant: bool,
    histogram: bool,
) -> Result<RecordBatch> {
    let mut fields = vec![
        Field::new("zone", ArrowType::Int64, false),
        Field::new("band", ArrowType::Int32, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(keys.iter().map(|k| k.0))),
        Arc::new(Int32Array::from_iter_values(keys.iter().map(|k| k.1))),
    ];
    if with_instant {
        fields.push(Field::new("instant", ArrowType::Int64, false));
        columns.push(Arc::new(Int64Array::from_iter_values(keys.iter().map(|k| k.2))));
    }
    let ps: Vec<&Partial> = partials.collect();
    let f = |get: fn(&Partial) -> f64| -> ArrayRef { Arc::new(Float64Array::from_iter_values(ps.iter().map(|p| get(p)))) };
    for (name, array) in [
        ("weight", f(|p| p.weight)),
        ("cells", Arc::new(Int64Array::from_iter_values(ps.iter().map(|p| p.cells))) as ArrayRef),
        ("sum", f(|p| p.sum)),
        ("mean", f(|p| p.mean)),
        ("m2", f(|p| p.m2)),
        ("min", f(|p| p.min)),
        ("max", f(|p| p.max)),
    ] {
        fields.push(Field::new(name, array.data_type().clone(), false));
        columns.push(array);
    }
    if histogram {
        let mut hv = ListBuilder::new(Float64Builder::new());
        let mut hw = ListBuilder::new(Float64Builder::new());
        for p in &ps {
            for (v, w) in p.histogram.iter().flatten() {
                hv.values().append_value(f64::from_bits(*v));
                hw.values().append_value(*w);
            }
            hv.append(true);
            hw.append(true);
        }
        for (name, mut b) in [("hist_values", hv), ("hist_weights", hw)] {
            let a: ArrayRef = Arc::new(b.finish());
            fields.push(Field::new(name, a.data_type().clone(), true));
            columns.push(a);
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// Read the partials of rows `rows` of a batch of [`zonal_partials`] output.
fn read_partial(batch: &RecordBatch, i: usize) -> Result<Partial> {
    let f = |name: &str| -> Result<f64> { Ok(primitive_column::<Float64Type>(batch, name)?.value(i)) };
    let histogram = match batch.column_by_name("hist_values") {
        None => None,
        Some(values) => {
            let weights = batch
                .column_by_name("hist_weights")
                .ok_or_else(|| EngineError::Contract("hist_values without hist_weights".into()))?;
            let as_list = |a: &ArrayRef| -> Result<Float64Array> {
                let l: &ListArray = a
                    .as_list_opt()
                    .ok_or_else(|| EngineError::Contract("histogram columns must be lists".into()))?;
                Ok(l.value(i).as_primitive_opt::<Float64Type>().cloned().ok_or_else(|| {
                    EngineError::Contract("histogram lists must hold float64".into())
                })?)
            };
            let (v, w) = (as_list(values)?, as_list(weights)?);
            Some(v.values().iter().zip(w.values().iter()).map(|(v, w)| ((v + 0.0).to_bits(), *w)).collect())
        }
    };
    Ok(Partial {
        weight: f("weight")?,
        cells: primitive_column::<Int64Type>(batch, "cells")?.value(i),
        sum: f("sum")?,
        mean: f("mean")?,
        m2: f("m2")?,
        min: f("min")?,
        max: f("max")?,
        histogram,
    })
}

/// The reduce kernel of many-zone statistics: each run of equal (`zone`, `band`[, `instant`]) partials
/// becomes one combined partial.
pub struct CombinePartials<'a> {
    batch: &'a RecordBatch,
    keys: Vec<(i64, i32, i64)>,
    out: Vec<Partial>,
}

impl<'a> CombinePartials<'a> {
    pub fn new(batch: &'a RecordBatch) -> CombinePartials<'a> {
        CombinePartials { batch, keys: Vec::new(), out: Vec::new() }
    }
}

impl RunKernel for CombinePartials<'_> {
    fn run(&mut self, rows: Range<usize>) -> Result<()> {
        let zone = primitive_column::<Int64Type>(self.batch, "zone")?;
        let band = primitive_column::<Int32Type>(self.batch, "band")?;
        let instant = match self.batch.column_by_name("instant") {
            None => None,
            Some(_) => Some(primitive_column::<Int64Type>(self.batch, "instant")?),
        };
        let first = rows.start;
        let mut p = read_partial(self.batch, first)?;
        for i in rows.skip(1) {
            p.merge(&read_partial(self.batch, i)?);
        }
        self.keys.push((zone.value(first), band.value(first), instant.map_or(0, |a| a.value(first))));
        self.out.push(p);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        let with_instant = self.batch.column_by_name("instant").is_some();
        let histogram = self.batch.column_by_name("hist_values").is_some();
        partials_batch(&self.keys, self.out.iter(), with_instant, histogram)
    }
}

/// Keep only the cells of each tile that `shape` covers under `rule` (every band; the others become
/// NoData) and drop the tiles it does not reach, as GeoTrellis' `Mask` does (`filterEmptyTiles`): a tile
/// whose extent shares area with a polygon stays, all NoData if no cell is covered.
///
/// # Errors
/// `Contract` for a batch outside the tile contract, `Value` for `Fraction`.
pub fn mask_tiles(batch: &RecordBatch, layout: &Layout, shape: &Shape, rule: CellRule) -> Result<RecordBatch> {
    if rule == CellRule::Fraction {
        return Err(EngineError::Value("masking takes the centre, all_touched or contained rule".into()));
    }
    layout.validate()?;
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let bytes = batch.column_by_name("cells").map_or(0, |c| c.get_buffer_memory_size());
    let mut out = TileBuilder::with_capacity(batch.num_rows(), bytes);
    let mut keep = Vec::new();
    let mut values = Vec::new();
    let mut inside = Vec::new();
    let areal = Shape { polygons: shape.polygons.clone(), ..Shape::default() };
    for i in 0..batch.num_rows() {
        let (c, r) = (col.value(i) as i64, row.value(i) as i64);
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        let n = tile.rows * tile.cols;
        let grid = tile_grid(&layout.key_extent(c, r), tile.cols, tile.rows);
        let cover = coverage(shape, &grid, rule)?;
        inside.clear();
        inside.resize(n, false);
        for (cc, rr, _) in cover.cells() {
            inside[rr * tile.cols + cc] = true;
        }
        let reached = inside.iter().any(|x| *x)
            || (rule != CellRule::AllTouched
                && coverage(&areal, &grid, CellRule::AllTouched)?.cells().next().is_some());
        if !reached {
            continue;
        }
        values.resize(n * tile.bands, 0.0);
        ct.load(tile.cells, 0, &mut values);
        for b in 0..tile.bands {
            for (v, keep_cell) in values[b * n..(b + 1) * n].iter_mut().zip(&inside) {
                if !keep_cell {
                    *v = f64::NAN;
                }
            }
        }
        ct.store(&values, out.values_mut());
        out.finish_tile(&ct, tile.bands, tile.rows, tile.cols);
        keep.push(i as u32);
    }
    with_tiles(batch, out, Some(&keep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rasterize::geometry::Coord;

    #[test]
    fn partials_merge_like_one_pass() {
        let values: Vec<(f64, f64)> = (0..50).map(|i| ((i * 37 % 11) as f64 * 1.5 + 1000.0, 0.1 + (i % 7) as f64 / 7.0)).collect();
        let mut whole = Partial::new(true);
        values.iter().for_each(|&(v, w)| whole.add(v, w));
        let (mut a, mut b) = (Partial::new(true), Partial::new(true));
        values[..17].iter().for_each(|&(v, w)| a.add(v, w));
        values[17..].iter().for_each(|&(v, w)| b.add(v, w));
        a.merge(&b);
        assert!((a.m2 - whole.m2).abs() < 1e-9 * whole.m2);
        assert!((a.mean - whole.mean).abs() < 1e-12 * whole.mean);
        assert_eq!((a.cells, a.min, a.max), (whole.cells, whole.min, whole.max));
        assert_eq!(a.histogram.as_ref().unwrap().len(), whole.histogram.as_ref().unwrap().len());
    }

    #[test]
    fn zones_index_keys_their_bbox_meets() {
        let layout = Layout {
            xmin: 0.0, ymin: 0.0, xmax: 4.0, ymax: 4.0, layout_cols: 2, layout_rows: 2, tile_cols: 2, tile_rows: 2,
        };
        let ring: Vec<Coord> = vec![[0.5, 0.5], [3.5, 0.5], [3.5, 1.5], [0.5, 1.5]];
        let shape = Shape { polygons: vec![vec![ring]], ..Shape::default() };
        let zones = Zones::new(vec![7], vec![shape], &layout).unwrap();
        assert_eq!(zones.at(0, 1), &[0]);
        assert_eq!(zones.at(1, 1), &[0]);
        assert!(zones.at(0, 0).is_empty());
    }
}
