//! Sampling a tiled layer at points (GeoPySpark `TiledRasterLayer.get_point_values`): each point is looked
//! up in the tile whose key holds it (`MapKeyTransform.pointToKey`, so a point on a cell's south/east edge
//! belongs to the next cell and, on a tile's edge, to the next tile) and interpolated within that tile
//! only, as geopyspark-backend does: nearest neighbour by default, or Bilinear / CubicConvolution /
//! CubicSpline with the engine's `PointSampler` over the tile's key extent. NoData gives NaN.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema};

use crate::batch::{primitive_column, CellTypeCache, TileColumns};
use crate::error::{EngineError, Result};
use crate::layout::Layout;
use crate::resample::{PointMethod, PointSampler, SourceBand};

/// Points to sample: their keys (computed on the driver with the same layout math) and coordinates.
pub struct Points<'a> {
    pub cols: &'a [i32],
    pub rows: &'a [i32],
    pub xs: &'a [f64],
    pub ys: &'a [f64],
}

/// For every tile of `batch` (`col`, `row`, optional `instant`, tile columns) and every point whose key
/// is the tile's, the point's index, the tile's instant and one value per band. Output columns: `point`
/// (int32), `instant` (int64, if the batch has instants), `values` (list of float64).
pub fn sample_points(
    batch: &RecordBatch,
    layout: &Layout,
    points: &Points,
    method: PointMethod,
) -> Result<RecordBatch> {
    layout.validate()?;
    let n = points.cols.len();
    if points.rows.len() != n || points.xs.len() != n || points.ys.len() != n {
        return Err(EngineError::Mismatch(
            "point keys and coordinates differ in length".into(),
        ));
    }
    let mut by_key: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
    for p in 0..n {
        by_key
            .entry((points.cols[p], points.rows[p]))
            .or_default()
            .push(p);
    }
    let col = primitive_column::<Int32Type>(batch, "col")?;
    let row = primitive_column::<Int32Type>(batch, "row")?;
    let instant = match batch.column_by_name("instant") {
        None => None,
        Some(_) => Some(primitive_column::<Int64Type>(batch, "instant")?),
    };
    let tiles = TileColumns::new(batch, 0)?;
    let mut types = CellTypeCache::default();
    let (mut out_points, mut out_instants) = (Vec::new(), Vec::new());
    let mut values = ListBuilder::new(Float64Builder::new());
    let mut band = Vec::new();
    for i in 0..batch.num_rows() {
        let Some(hits) = by_key.get(&(col.value(i), row.value(i))) else {
            continue;
        };
        let ct = types.get(tiles.cell_type_name(i))?;
        let tile = tiles.tile(i, &ct)?;
        if tile.rows == 0 || tile.cols == 0 {
            continue;
        }
        let ke = layout.key_extent(col.value(i) as i64, row.value(i) as i64);
        let n_cells = tile.rows * tile.cols;
        // values[p][b]: filled band by band so that each band is loaded once.
        let mut per_point = vec![Vec::with_capacity(tile.bands); hits.len()];
        for b in 0..tile.bands {
            band.resize(n_cells, 0.0);
            ct.load(tile.cells, b * n_cells, &mut band);
            let sb = SourceBand::new(
                &band,
                tile.cols,
                tile.rows,
                [ke.xmin, ke.ymin, ke.xmax, ke.ymax],
            )?;
            let sampler = PointSampler::new(sb, method);
            for (k, &p) in hits.iter().enumerate() {
                per_point[k].push(sampler.sample(points.xs[p], points.ys[p]));
            }
        }
        for (k, &p) in hits.iter().enumerate() {
            out_points.push(p as i32);
            if let Some(t) = instant {
                out_instants.push(t.value(i));
            }
            values.values().append_slice(&per_point[k]);
            values.append(true);
        }
    }
    let values = values.finish();
    let mut fields = vec![Field::new("point", ArrowType::Int32, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(out_points))];
    if instant.is_some() {
        fields.push(Field::new("instant", ArrowType::Int64, false));
        columns.push(Arc::new(Int64Array::from(out_instants)));
    }
    fields.push(Field::new("values", values.data_type().clone(), false));
    columns.push(Arc::new(values));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retile::tests::{f32s, tile_batch};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;

    #[test]
    fn nearest_and_bilinear_in_the_point_tile() {
        let layout = Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 8.0,
            ymax: 4.0,
            layout_cols: 2,
            layout_rows: 1,
            tile_cols: 4,
            tile_rows: 4,
        };
        let cells: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let b = tile_batch(
            vec![
                ("col", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
                ("row", Arc::new(Int32Array::from(vec![0])) as ArrayRef),
            ],
            &[("float32", 1, 4, 4, f32s(&cells))],
        );
        let pts = Points {
            cols: &[1, 0],
            rows: &[0, 0],
            xs: &[5.5, 1.0],
            ys: &[2.5, 1.0],
        };
        let out = sample_points(&b, &layout, &pts, PointMethod::NearestNeighbor).unwrap();
        assert_eq!(out.num_rows(), 1);
        let v = out.column(1).as_list::<i32>().value(0);
        // x 5.5 → column 1, y 2.5 → row 1.
        assert_eq!(v.as_primitive::<Float64Type>().value(0), 5.0);
        let out = sample_points(&b, &layout, &pts, PointMethod::Bilinear).unwrap();
        let v = out.column(1).as_list::<i32>().value(0);
        // Exactly on the centre of cell (1, 1): its value.
        assert!((v.as_primitive::<Float64Type>().value(0) - 5.0).abs() < 1e-12);
    }
}
