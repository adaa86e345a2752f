//! Layout math: extents, GeoTrellis `LayoutDefinition`s and the key ↔ map transforms of `MapKeyTransform`
//! (format reference §5.2), with GeoTrellis' edge rules. Every engine module and the Python layer
//! (through the `layout_*` bindings) take these rules from here.

use crate::error::{EngineError, Result};

/// An axis-aligned extent in map units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extent {
    pub xmin: f64,
    pub ymin: f64,
    pub xmax: f64,
    pub ymax: f64,
}

impl Extent {
    /// Whether the interiors intersect (touching edges do not count).
    pub fn overlaps(&self, o: &Extent) -> bool {
        self.xmin < o.xmax && o.xmin < self.xmax && self.ymin < o.ymax && o.ymin < self.ymax
    }
}

/// A GeoTrellis `LayoutDefinition`: the layout extent and its `TileLayout`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    pub xmin: f64,
    pub ymin: f64,
    pub xmax: f64,
    pub ymax: f64,
    pub layout_cols: usize,
    pub layout_rows: usize,
    pub tile_cols: usize,
    pub tile_rows: usize,
}

/// Inclusive key bounds `(col_min, row_min, col_max, row_max)`; empty when a min exceeds its max.
pub type KeyBounds = (i64, i64, i64, i64);

impl Layout {
    /// GeoTrellis' `FloatingLayoutScheme`: tiles of `tile_cols × tile_rows` cells of the given size,
    /// anchored at the extent's upper-left corner and padded right and down to whole tiles.
    ///
    /// # Errors
    /// `Value` when the cell size is not positive and finite or the extent is empty.
    pub fn floating(
        extent: &Extent,
        cell_width: f64,
        cell_height: f64,
        tile_cols: usize,
        tile_rows: usize,
    ) -> Result<Layout> {
        if !(cell_width > 0.0
            && cell_height > 0.0
            && cell_width.is_finite()
            && cell_height.is_finite())
        {
            return Err(EngineError::Value(format!(
                "cell size must be positive and finite, got {cell_width} × {cell_height}"
            )));
        }
        let tiles = |span: f64, cell: f64, tile: usize| ((span / cell) / tile as f64).ceil();
        let layout_cols = tiles(extent.xmax - extent.xmin, cell_width, tile_cols);
        let layout_rows = tiles(extent.ymax - extent.ymin, cell_height, tile_rows);
        if !(layout_cols >= 1.0
            && layout_rows >= 1.0
            && layout_cols <= i32::MAX as f64
            && layout_rows <= i32::MAX as f64)
        {
            return Err(EngineError::Value(format!(
                "extent ({}, {}, {}, {}) gives {layout_cols} × {layout_rows} tiles of {tile_cols} × {tile_rows} \
                 cells of {cell_width} × {cell_height}; expected 1..2^31 each way",
                extent.xmin, extent.ymin, extent.xmax, extent.ymax
            )));
        }
        let (layout_cols, layout_rows) = (layout_cols as usize, layout_rows as usize);
        let layout = Layout {
            xmin: extent.xmin,
            ymin: extent.ymax - (layout_rows * tile_rows) as f64 * cell_height,
            xmax: extent.xmin + (layout_cols * tile_cols) as f64 * cell_width,
            ymax: extent.ymax,
            layout_cols,
            layout_rows,
            tile_cols,
            tile_rows,
        };
        layout.validate()?;
        Ok(layout)
    }

    /// # Errors
    /// `Value` when a size is outside `1..2^31` or the extent is empty or not finite.
    pub fn validate(&self) -> Result<()> {
        let sizes = [
            self.layout_cols,
            self.layout_rows,
            self.tile_cols,
            self.tile_rows,
        ];
        if sizes.iter().any(|s| *s == 0 || *s > i32::MAX as usize) {
            return Err(EngineError::Value(format!(
                "layout sizes must be in 1..2^31, got {sizes:?}"
            )));
        }
        let finite = [self.xmin, self.ymin, self.xmax, self.ymax]
            .iter()
            .all(|v| v.is_finite());
        if !finite || self.xmax <= self.xmin || self.ymax <= self.ymin {
            return Err(EngineError::Value(format!(
                "layout extent ({}, {}, {}, {}) is empty or not finite",
                self.xmin, self.ymin, self.xmax, self.ymax
            )));
        }
        Ok(())
    }

    pub fn extent(&self) -> Extent {
        Extent {
            xmin: self.xmin,
            ymin: self.ymin,
            xmax: self.xmax,
            ymax: self.ymax,
        }
    }

    /// Width of one layout tile in map units (`MapKeyTransform.tileWidth`).
    pub fn tile_width(&self) -> f64 {
        (self.xmax - self.xmin) / self.layout_cols as f64
    }

    /// Height of one layout tile in map units (`MapKeyTransform.tileHeight`).
    pub fn tile_height(&self) -> f64 {
        (self.ymax - self.ymin) / self.layout_rows as f64
    }

    /// `(cell width, cell height)` of the layout's pixel grid (`LayoutDefinition.cellSize`).
    pub fn cell_size(&self) -> (f64, f64) {
        (
            (self.xmax - self.xmin) / (self.layout_cols * self.tile_cols) as f64,
            (self.ymax - self.ymin) / (self.layout_rows * self.tile_rows) as f64,
        )
    }

    /// `MapKeyTransform.keyToExtent`: row 0 is the northernmost row.
    pub fn key_extent(&self, col: i64, row: i64) -> Extent {
        let (tw, th) = (self.tile_width(), self.tile_height());
        Extent {
            xmin: self.xmin + col as f64 * tw,
            ymin: self.ymax - (row + 1) as f64 * th,
            xmax: self.xmin + (col + 1) as f64 * tw,
            ymax: self.ymax - row as f64 * th,
        }
    }

    /// `MapKeyTransform.pointToKey`. Points on the east/south edge of the layout map one past the end.
    pub fn point_to_key(&self, x: f64, y: f64) -> (i64, i64) {
        let (col, row) = self.point_to_key_f64(x, y);
        (col as i64, row as i64)
    }

    /// `point_to_key` for the tile contract's int32 key columns: None for a point that is not finite or
    /// whose key lies 2^31 or more away from key (0, 0).
    pub fn point_to_key_i32(&self, x: f64, y: f64) -> Option<(i32, i32)> {
        let (col, row) = self.point_to_key_f64(x, y);
        let fits = |k: f64| k.is_finite() && k.abs() < 2f64.powi(31);
        (fits(col) && fits(row)).then_some((col as i32, row as i32))
    }

    /// The key holding a point, before the conversion to integers (in GeoTrellis' order of operations).
    fn point_to_key_f64(&self, x: f64, y: f64) -> (f64, f64) {
        let tcol = ((x - self.xmin) / (self.xmax - self.xmin)) * self.layout_cols as f64;
        let trow = ((self.ymax - y) / (self.ymax - self.ymin)) * self.layout_rows as f64;
        (tcol.floor(), trow.floor())
    }

    /// `MapKeyTransform.apply(extent)`: the keys an extent touches, north/west edges inclusive and east/south
    /// edges exclusive (zero-width extents stay inclusive). Not clamped to the layout.
    pub fn key_bounds(&self, e: &Extent) -> KeyBounds {
        let (col_min, row_min) = self.point_to_key(e.xmin, e.ymax);
        let last = |d: f64, min: i64| -> i64 {
            // Scala's `d.toInt` truncates toward zero.
            if d == d.floor() && d != min as f64 {
                d as i64 - 1
            } else {
                d as i64
            }
        };
        let col_max = last((e.xmax - self.xmin) / self.tile_width(), col_min);
        let row_max = last((self.ymax - e.ymin) / self.tile_height(), row_min);
        (col_min, row_min, col_max, row_max)
    }

    /// `key_bounds` clamped to the keys of the layout (`0..layout_cols`, `0..layout_rows`); None unless the
    /// extent overlaps the interior of the layout extent (GeoTrellis' truncation would otherwise give key 0
    /// to extents entirely west or north of the layout).
    pub fn key_bounds_in_layout(&self, e: &Extent) -> Option<KeyBounds> {
        if !self.extent().overlaps(e) {
            return None;
        }
        let (c0, r0, c1, r1) = self.key_bounds(e);
        let (c0, r0) = (c0.max(0), r0.max(0));
        let (c1, r1) = (
            c1.min(self.layout_cols as i64 - 1),
            r1.min(self.layout_rows as i64 - 1),
        );
        (c0 <= c1 && r0 <= r1).then_some((c0, r0, c1, r1))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::resample::floor_with_tolerance;

    /// A layout of `lc × lr` tiles of `tc × tr` cells over (0, 0)–(10·lc, 10·lr).
    pub(crate) fn layout(lc: usize, lr: usize, tc: usize, tr: usize) -> Layout {
        Layout {
            xmin: 0.0,
            ymin: 0.0,
            xmax: lc as f64 * 10.0,
            ymax: lr as f64 * 10.0,
            layout_cols: lc,
            layout_rows: lr,
            tile_cols: tc,
            tile_rows: tr,
        }
    }

    pub(crate) fn ext(xmin: f64, ymin: f64, xmax: f64, ymax: f64) -> Extent {
        Extent {
            xmin,
            ymin,
            xmax,
            ymax,
        }
    }

    #[test]
    fn key_math() {
        let l = layout(4, 3, 2, 2);
        assert_eq!(l.key_extent(0, 0), ext(0.0, 20.0, 10.0, 30.0));
        assert_eq!(l.key_extent(3, 2), ext(30.0, 0.0, 40.0, 10.0));
        // Edges: north/west inclusive, east/south exclusive.
        assert_eq!(l.key_bounds(&ext(10.0, 10.0, 20.0, 20.0)), (1, 1, 1, 1));
        assert_eq!(l.key_bounds(&ext(5.0, 5.0, 25.0, 25.0)), (0, 0, 2, 2));
        assert_eq!(l.key_bounds(&ext(0.0, 0.0, 40.0, 30.0)), (0, 0, 3, 2));
        // Degenerate extents stay inclusive.
        assert_eq!(l.key_bounds(&ext(10.0, 10.0, 10.0, 10.0)), (1, 2, 1, 2));
        // Outside the layout: GeoTrellis truncates toward zero (`d.toInt`), so col_max is 0 here; the
        // layout-clamped bounds drop such extents.
        assert_eq!(l.key_bounds(&ext(-15.0, 0.0, -5.0, 10.0)), (-2, 2, 0, 2));
        assert_eq!(l.key_bounds_in_layout(&ext(-15.0, 0.0, -5.0, 10.0)), None);
        assert_eq!(
            l.key_bounds_in_layout(&ext(-15.0, -5.0, 15.0, 10.0)),
            Some((0, 2, 1, 2))
        );
        assert_eq!(l.point_to_key(40.0, 0.0), (4, 3));
        assert_eq!(l.point_to_key_i32(-0.5, 29.5), Some((-1, 0)));
        assert_eq!(l.point_to_key_i32(f64::NAN, 0.0), None);
        assert_eq!(l.point_to_key_i32(1e12, 0.0), None);
        assert_eq!(l.cell_size(), (5.0, 5.0));
        assert_eq!(floor_with_tolerance(2.99999999), 3.0);
        assert_eq!(floor_with_tolerance(2.9999), 2.0);
    }

    #[test]
    fn floating_layout_pads_right_and_down() {
        // 25 × 12 map units of 1 × 1 cells in 10 × 10 tiles: 3 × 2 tiles anchored at (0, 12).
        let l = Layout::floating(&ext(0.0, 0.0, 25.0, 12.0), 1.0, 1.0, 10, 10).unwrap();
        assert_eq!(
            l,
            Layout {
                xmin: 0.0,
                ymin: -8.0,
                xmax: 30.0,
                ymax: 12.0,
                ..layout(3, 2, 10, 10)
            }
        );
        assert_eq!(l.cell_size(), (1.0, 1.0));
        assert!(Layout::floating(&ext(0.0, 0.0, 25.0, 12.0), 0.0, 1.0, 10, 10).is_err());
        assert!(Layout::floating(&ext(0.0, 0.0, 0.0, 12.0), 1.0, 1.0, 10, 10).is_err());
        assert!(Layout::floating(&ext(0.0, 0.0, 25.0, 12.0), 1.0, 1.0, 0, 10).is_err());
    }

    #[test]
    fn validate_rejects_empty_layouts() {
        assert!(layout(4, 3, 2, 2).validate().is_ok());
        assert!(Layout {
            layout_cols: 0,
            ..layout(4, 3, 2, 2)
        }
        .validate()
        .is_err());
        assert!(Layout {
            xmax: f64::NAN,
            ..layout(4, 3, 2, 2)
        }
        .validate()
        .is_err());
        assert!(Layout {
            xmax: -1.0,
            ..layout(4, 3, 2, 2)
        }
        .validate()
        .is_err());
    }
}
