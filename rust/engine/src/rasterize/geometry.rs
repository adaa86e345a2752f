//! Geometries as the rasterizer needs them, read from WKB (shapely's `to_wkb`, GeoPySpark's wire form):
//! polygons as rings, lines as vertex lists, points. ISO and EWKB type codes with Z/M are accepted (the
//! extra ordinates are skipped); every length is checked against the bytes left, so bad input is an
//! error, never a panic or a huge allocation.

use crate::error::{EngineError, Result};
use crate::layout::Extent;

pub type Coord = [f64; 2];

/// A polygon: the exterior ring first, then its holes. Rings may be open or closed.
pub type Polygon = Vec<Vec<Coord>>;

/// Any mix of polygons, lines and points (a geometry collection flattens into one).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    pub polygons: Vec<Polygon>,
    pub lines: Vec<Vec<Coord>>,
    pub points: Vec<Coord>,
}

impl Shape {
    /// Parse one WKB geometry.
    ///
    /// # Errors
    /// `Value` naming what is wrong: truncated bytes, an unknown geometry type, a NaN coordinate.
    pub fn from_wkb(bytes: &[u8]) -> Result<Shape> {
        let mut reader = Reader { bytes, pos: 0 };
        let mut shape = Shape::default();
        reader.geometry(&mut shape, 0)?;
        if reader.pos != bytes.len() {
            return Err(bad(format!(
                "{} bytes left after the geometry",
                bytes.len() - reader.pos
            )));
        }
        Ok(shape)
    }

    /// One shape holding every part of `shapes` (a mask or a set of start cells made of several geometries).
    pub fn merged(shapes: impl IntoIterator<Item = Shape>) -> Shape {
        let mut out = Shape::default();
        for s in shapes {
            out.polygons.extend(s.polygons);
            out.lines.extend(s.lines);
            out.points.extend(s.points);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty() && self.lines.is_empty() && self.points.is_empty()
    }

    /// Whether the shape has only polygons (what areal cell rules need).
    pub fn is_areal(&self) -> bool {
        !self.polygons.is_empty() && self.lines.is_empty() && self.points.is_empty()
    }

    /// The bounding box of every vertex, `None` for an empty shape.
    pub fn bbox(&self) -> Option<Extent> {
        let mut e = Extent {
            xmin: f64::INFINITY,
            ymin: f64::INFINITY,
            xmax: f64::NEG_INFINITY,
            ymax: f64::NEG_INFINITY,
        };
        for [x, y] in self.vertices() {
            e.xmin = e.xmin.min(x);
            e.ymin = e.ymin.min(y);
            e.xmax = e.xmax.max(x);
            e.ymax = e.ymax.max(y);
        }
        (e.xmin <= e.xmax).then_some(e)
    }

    /// Every vertex: polygon rings, then lines, then points.
    pub fn vertices(&self) -> impl Iterator<Item = Coord> + '_ {
        self.polygons
            .iter()
            .flatten()
            .flatten()
            .chain(self.lines.iter().flatten())
            .chain(self.points.iter())
            .copied()
    }
}

fn bad(message: String) -> EngineError {
    EngineError::Value(format!("invalid WKB geometry: {message}"))
}

/// Collections nested deeper than this are refused (a tiny input must not recurse without end).
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad(format!("truncated at byte {}", self.pos)))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self, little: bool) -> Result<u32> {
        let b: [u8; 4] = self.take(4)?.try_into().expect("4 bytes");
        Ok(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn f64(&mut self, little: bool) -> Result<f64> {
        let b: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
        Ok(if little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }

    /// A count of items of at least `item_bytes` each, refused when the bytes left cannot hold them.
    fn count(&mut self, little: bool, item_bytes: usize) -> Result<usize> {
        let n = self.u32(little)? as usize;
        if n.saturating_mul(item_bytes) > self.bytes.len() - self.pos {
            return Err(bad(format!("a count of {n} items at byte {} exceeds the input", self.pos - 4)));
        }
        Ok(n)
    }

    fn coords(&mut self, little: bool, dims: usize) -> Result<Vec<Coord>> {
        let n = self.count(little, 8 * dims)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let x = self.f64(little)?;
            let y = self.f64(little)?;
            for _ in 2..dims {
                self.f64(little)?;
            }
            if !(x.is_finite() && y.is_finite()) {
                return Err(bad(format!("coordinate ({x}, {y}) is not finite")));
            }
            out.push([x, y]);
        }
        Ok(out)
    }

    fn polygon(&mut self, little: bool, dims: usize) -> Result<Polygon> {
        let n = self.count(little, 4)?;
        (0..n).map(|_| self.coords(little, dims)).collect()
    }

    fn geometry(&mut self, shape: &mut Shape, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("collections nested deeper than {MAX_DEPTH}")));
        }
        let little = match self.take(1)?[0] {
            0 => false,
            1 => true,
            b => return Err(bad(format!("byte order {b} (expected 0 or 1)"))),
        };
        let code = self.u32(little)?;
        // EWKB flags (Z 0x80000000, M 0x40000000, SRID 0x20000000) or ISO thousands (Z 1000, M 2000, ZM 3000).
        let (mut dims, mut kind) = (2, code & 0x0fff_ffff);
        if code & 0x8000_0000 != 0 {
            dims += 1;
        }
        if code & 0x4000_0000 != 0 {
            dims += 1;
        }
        if code & 0x2000_0000 != 0 {
            self.u32(little)?; // SRID
        }
        if (1000..4000).contains(&kind) {
            dims += match kind / 1000 {
                3 => 2,
                _ => 1,
            };
            kind %= 1000;
        }
        match kind {
            1 => {
                let x = self.f64(little)?;
                let y = self.f64(little)?;
                for _ in 2..dims {
                    self.f64(little)?;
                }
                // shapely writes an empty point as NaN coordinates.
                if x.is_finite() && y.is_finite() {
                    shape.points.push([x, y]);
                } else if !(x.is_nan() && y.is_nan()) {
                    return Err(bad(format!("point ({x}, {y}) is not finite")));
                }
            }
            2 => {
                let line = self.coords(little, dims)?;
                if !line.is_empty() {
                    shape.lines.push(line);
                }
            }
            3 => {
                let p = self.polygon(little, dims)?;
                if !p.is_empty() {
                    shape.polygons.push(p);
                }
            }
            4..=7 => {
                let n = self.count(little, 5)?;
                for _ in 0..n {
                    self.geometry(shape, depth + 1)?;
                }
            }
            other => return Err(bad(format!("geometry type {other} is not supported"))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_polygon(rings: &[&[Coord]]) -> Vec<u8> {
        let mut b = vec![1u8];
        b.extend(3u32.to_le_bytes());
        b.extend((rings.len() as u32).to_le_bytes());
        for r in rings {
            b.extend((r.len() as u32).to_le_bytes());
            for [x, y] in r.iter() {
                b.extend(x.to_le_bytes());
                b.extend(y.to_le_bytes());
            }
        }
        b
    }

    #[test]
    fn reads_polygons_points_and_collections() {
        let ring: &[Coord] = &[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let shape = Shape::from_wkb(&wkb_polygon(&[ring])).unwrap();
        assert_eq!(shape.polygons, vec![vec![ring.to_vec()]]);
        // Big-endian MultiPoint Z (ISO code 1004) of one point.
        let mut b = vec![0u8];
        b.extend(1004u32.to_be_bytes());
        b.extend(1u32.to_be_bytes());
        b.push(0);
        b.extend(1001u32.to_be_bytes());
        for v in [2.0f64, 3.0, 4.0] {
            b.extend(v.to_be_bytes());
        }
        let shape = Shape::from_wkb(&b).unwrap();
        assert_eq!(shape.points, vec![[2.0, 3.0]]);
        assert_eq!(shape.bbox().unwrap().xmax, 2.0);
    }

    #[test]
    fn refuses_bad_bytes_without_panicking() {
        let ring: &[Coord] = &[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let good = wkb_polygon(&[ring]);
        for cut in 0..good.len() {
            assert!(Shape::from_wkb(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = good.clone();
        huge[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Shape::from_wkb(&huge).is_err());
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.push(1u8);
            deep.extend(7u32.to_le_bytes());
            deep.extend(1u32.to_le_bytes());
        }
        assert!(Shape::from_wkb(&deep).is_err());
        assert!(Shape::from_wkb(&[1, 99, 0, 0, 0]).is_err());
    }
}
