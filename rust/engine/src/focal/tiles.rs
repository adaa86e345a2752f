//! Focal and terrain operations over a tiled layer, as the reduce side of the neighbour-buffer exchange
//! (DESIGN §4): [`crate::buffer::buffer_pieces`] sends each tile and the border strips its neighbours
//! read; after the shuffle, [`focal_runs`] loads each key's pieces into one working window per band
//! (NaN where a cell is NoData or no tile provides it, so the layer's outer edge and missing neighbours
//! give partial neighbourhoods, as GeoTrellis' buffered tiles do) and writes the operation's result for
//! the key's own cells. The buffered tile itself is never built. [`focal_with_strips`] does the same for
//! tiles that stay where they are, given their neighbours' strips apart.

use arrow_array::types::Int32Type;
use arrow_array::{Int32Array, RecordBatch};
use serde::Deserialize;

use super::neighborhood::Neighborhood;
use super::stats::{focal_stat, stat_cell_type, FocalStat, Target, Window};
use super::terrain;
use crate::batch::primitive_column;
use crate::buffer::{each_with_strips, PerTile, PlacedRun, Runs, PIECE_COLUMNS};
use crate::cell_type::CellType;
use crate::error::{EngineError, Result};
use crate::exchange::{reduce_runs, KeyedTiles};

/// What to compute for every cell.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum FocalOperation {
    /// A statistic of the neighbourhood's data cells.
    Stat {
        stat: FocalStat,
        neighborhood: Neighborhood,
    },
    /// Horn's slope in degrees.
    Slope,
    /// Horn's aspect in degrees clockwise from north, −1 where flat.
    Aspect,
    /// Hillshade 0..127 for a sun at `azimuth` and `altitude` degrees.
    Hillshade { azimuth: f64, altitude: f64 },
    /// Tobler's walking speed (km/h) from elevation.
    Tobler,
}

/// An operation and what it needs to know about the layout.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FocalSpec {
    pub operation: FocalOperation,
    /// The layout's cell size (terrain operations).
    #[serde(default = "one")]
    pub cell_width: f64,
    #[serde(default = "one")]
    pub cell_height: f64,
    /// Z-factors of the layout rows `z_row0, z_row0 + 1, …` (terrain operations; a tile of any other row,
    /// or an empty list, uses 1). GeoTrellis derives a tile's z-factor from its extent's centre latitude,
    /// which is the same for every tile of a layout row; the Python layer evaluates the calculator per row.
    #[serde(default)]
    pub z_factors: Vec<f64>,
    #[serde(default)]
    pub z_row0: i64,
    /// Compute only this band (hillshade's `band`), giving single-band tiles; all bands by default.
    #[serde(default)]
    pub band: Option<usize>,
}

fn one() -> f64 {
    1.0
}

impl FocalSpec {
    /// Parse and check the JSON spec sent by the Python layer.
    ///
    /// # Errors
    ///
    /// `InvalidPlan` for JSON that is not a spec, `Value` for invalid parameters.
    pub fn from_json(json: &str) -> Result<FocalSpec> {
        let spec: FocalSpec =
            serde_json::from_str(json).map_err(|e| EngineError::InvalidPlan(e.to_string()))?;
        if let FocalOperation::Stat { neighborhood, .. } = &spec.operation {
            neighborhood.validate()?;
        }
        for (name, v) in [
            ("cell_width", spec.cell_width),
            ("cell_height", spec.cell_height),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(EngineError::Value(format!(
                    "{name} must be a positive number, got {v}"
                )));
            }
        }
        Ok(spec)
    }

    /// How many cells of its neighbours each tile needs on every side.
    pub fn buffer_width(&self) -> usize {
        match &self.operation {
            FocalOperation::Stat { neighborhood, .. } => neighborhood.extent(),
            _ => 1,
        }
    }

    /// The cell type of the result for tiles of `input`.
    pub fn output_cell_type(&self, input: &CellType) -> CellType {
        let named = |name: &str| CellType::parse(name).expect("a built-in cell type name");
        match &self.operation {
            FocalOperation::Stat { stat, .. } => stat_cell_type(*stat, input),
            FocalOperation::Slope | FocalOperation::Aspect | FocalOperation::Tobler => {
                named("float32")
            }
            FocalOperation::Hillshade { .. } => named("int16"),
        }
    }

    fn z_factor(&self, row: i32) -> f64 {
        usize::try_from(row as i64 - self.z_row0)
            .ok()
            .and_then(|i| self.z_factors.get(i).copied())
            .unwrap_or(1.0)
    }

    /// Run the operation over one band's window, writing the `rows × cols` cells at (`w`, `w`).
    fn apply(&self, window: &Window, row: i32, target: Target, out: &mut [f64]) -> Result<()> {
        let (cw, ch) = (self.cell_width, self.cell_height);
        match &self.operation {
            FocalOperation::Stat { stat, neighborhood } => {
                focal_stat(window, *stat, neighborhood, target, out)
            }
            FocalOperation::Slope => {
                terrain::slope(window, cw, ch, self.z_factor(row), target, out)
            }
            FocalOperation::Aspect => terrain::aspect(window, cw, ch, target, out),
            FocalOperation::Hillshade { azimuth, altitude } => {
                let z = self.z_factor(row);
                terrain::hillshade(window, cw, ch, z, *azimuth, *altitude, target, out)
            }
            FocalOperation::Tobler => {
                terrain::tobler(window, cw, ch, self.z_factor(row), target, out)
            }
        }
    }
}

/// The reduce side of a focal operation: each run of rows with equal `key_columns` of
/// [`crate::buffer::buffer_pieces`] output (with the spec's [`FocalSpec::buffer_width`]) becomes the key's
/// tile holding `spec`'s result for every band, in [`FocalSpec::output_cell_type`]. A key without its own
/// tile gives no row. Runs as in [`crate::exchange::reduce_runs`].
///
/// # Errors
///
/// A batch outside the piece schema, pieces that do not fit together, and the operation's errors.
pub fn focal_runs(
    batch: &RecordBatch,
    key_columns: &[&str],
    spec: &FocalSpec,
    last_run_complete: bool,
) -> Result<(RecordBatch, usize)> {
    let width = spec.buffer_width();
    let focal = Focal::new(batch, spec, &PIECE_COLUMNS)?;
    reduce_runs(
        batch,
        key_columns,
        last_run_complete,
        Runs::new(batch, width, focal)?,
    )
}

/// [`focal_runs`] for tiles whose neighbours' strips arrive apart (the input of
/// [`crate::buffer::buffer_with_strips`]): one result tile per tile.
///
/// # Errors
///
/// As [`crate::buffer::buffer_with_strips`], and the operation's errors.
pub fn focal_with_strips(
    tiles: &RecordBatch,
    strips: &RecordBatch,
    spec: &FocalSpec,
) -> Result<RecordBatch> {
    let focal = Focal::new(tiles, spec, &[])?;
    each_with_strips(tiles, strips, spec.buffer_width(), focal)
}

struct Focal<'a> {
    spec: &'a FocalSpec,
    width: usize,
    row: &'a Int32Array,
    /// Working values of one band of the buffered tile, and of its result (reused across tiles).
    window: Vec<f64>,
    result: Vec<f64>,
    out: KeyedTiles<'a>,
}

impl<'a> Focal<'a> {
    fn new(
        batch: &'a RecordBatch,
        spec: &'a FocalSpec,
        drop: &'static [&'static str],
    ) -> Result<Self> {
        let bytes = batch
            .column_by_name("cells")
            .map_or(0, |c| c.get_buffer_memory_size());
        Ok(Focal {
            spec,
            width: spec.buffer_width(),
            row: primitive_column::<Int32Type>(batch, "row")?,
            window: Vec::new(),
            result: Vec::new(),
            out: KeyedTiles::new(batch, bytes.min(1 << 30), drop),
        })
    }
}

impl PerTile for Focal<'_> {
    fn tile(&mut self, run: &PlacedRun) -> Result<()> {
        let w = self.width;
        let ct = &run.cell_type;
        let out_ct = self.spec.output_cell_type(ct);
        let (wr, wc) = (run.rows + 2 * w, run.cols + 2 * w);
        let key_row = self.row.value(run.centre);
        self.result.resize(run.rows * run.cols, 0.0);
        let bands = match self.spec.band {
            Some(b) if b >= run.bands => {
                return Err(EngineError::Value(format!(
                    "band {b} does not exist in a tile of {} bands",
                    run.bands
                )))
            }
            Some(b) => b..b + 1,
            None => 0..run.bands,
        };
        let out_bands = bands.len();
        for b in bands {
            self.window.clear();
            self.window.resize(wr * wc, f64::NAN);
            for (p, x0, y0) in &run.pieces {
                let band_start = b * p.rows * p.cols;
                for r in 0..p.rows {
                    let at = (y0 + r) * wc + x0;
                    ct.load(
                        p.cells,
                        band_start + r * p.cols,
                        &mut self.window[at..at + p.cols],
                    );
                }
            }
            let window = Window {
                cells: &self.window,
                rows: wr,
                cols: wc,
            };
            let target = Target {
                row0: w,
                col0: w,
                rows: run.rows,
                cols: run.cols,
            };
            self.spec
                .apply(&window, key_row, target, &mut self.result)?;
            out_ct.store(&self.result, self.out.values_mut());
        }
        self.out
            .finish_tile(run.centre, &out_ct, out_bands, run.rows, run.cols);
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        self.out.finish()
    }
}
