use proptest::prelude::*;

use super::*;
use crate::cell_type::CellType;

const NAN: f64 = f64::NAN;

fn ct(name: &str) -> CellType {
    CellType::parse(name).unwrap()
}

fn bytes(ct: &CellType, values: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    ct.store(values, &mut out);
    out
}

fn values(ct: &CellType, bytes: &[u8]) -> Vec<f64> {
    let mut out = vec![0.0; bytes.len() / ct.bytes_per_cell()];
    ct.load(bytes, 0, &mut out);
    out
}

/// Resample a float64 grid (extent 0..cols × 0..rows) onto `dc × dr` cells of `dst_extent`.
fn grid(cells: &[f64], cols: usize, rows: usize, dc: usize, dr: usize, dst_extent: [f64; 4], m: ResampleMethod) -> Vec<f64> {
    let t = ct("float64");
    let src_extent = [0.0, 0.0, cols as f64, rows as f64];
    let out = resample_grid(&bytes(&t, cells), &t, 1, cols, rows, src_extent, dc, dr, dst_extent, m).unwrap();
    values(&t, &out)
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

fn sampler<'a>(cells: &'a [f64], cols: usize, rows: usize, m: ResampleMethod) -> Sampler<'a> {
    let band = SourceBand::new(cells, cols, rows, [0.0, 0.0, cols as f64, rows as f64]).unwrap();
    Sampler::new(band, m, (1.0, 1.0))
}

#[test]
fn parse_names() {
    for m in ResampleMethod::ALL {
        assert_eq!(ResampleMethod::parse(m.name()).unwrap(), m);
    }
    let err = ResampleMethod::parse("bilinear").unwrap_err().to_string();
    assert!(err.contains("\"bilinear\"") && err.contains("CubicSpline") && err.contains("Min"), "{err}");
}

#[test]
fn nearest_edges_and_outside() {
    let cells = [1.0, 2.0, 3.0, 4.0];
    let mut s = sampler(&cells, 2, 2, ResampleMethod::NearestNeighbor);
    assert_eq!(s.sample(0.0, 2.0), 1.0);
    // The east and south edges belong to the last column and row.
    assert_eq!(s.sample(2.0, 0.0), 4.0);
    // Within 1e-7 of a cell boundary counts as on it (floorWithTolerance).
    assert_eq!(s.sample(1.0 - 1e-9, 1.5), 2.0);
    assert!(s.sample(2.0 + 1e-9, 1.0).is_nan());
    assert!(s.sample(1.0, -0.1).is_nan());
}

#[test]
fn bilinear_hand_computed() {
    let cells = [0.0, 10.0, 20.0, 30.0];
    let mut s = sampler(&cells, 2, 2, ResampleMethod::Bilinear);
    assert_eq!(s.sample(1.0, 1.0), 15.0);
    assert_eq!(s.sample(0.5, 1.5), 0.0);
    assert_eq!(s.sample(0.75, 1.5), 2.5);
    // Before the first centre / after the last, the edge cell takes the whole weight.
    assert_eq!(s.sample(0.1, 1.9), 0.0);
    assert_eq!(s.sample(1.9, 0.1), 30.0);
    assert_eq!(s.sample(0.1, 1.0), 10.0);
    // A hair before the first centre is on it (the 1e-7 cell tolerance), not past the edge.
    assert_eq!(s.sample(0.5 - 1e-12, 1.5 + 1e-12), 0.0);
    assert_eq!(s.sample(1.5 + 1e-12, 0.5 - 1e-12), 30.0);
    // NoData neighbours drop out and the others are renormalised.
    let cells = [NAN, 10.0, 20.0, 30.0];
    let mut s = sampler(&cells, 2, 2, ResampleMethod::Bilinear);
    assert_eq!(s.sample(1.0, 1.0), 20.0);
    assert!(s.sample(0.5, 1.5).is_nan());
    let cells = [NAN; 4];
    assert!(sampler(&cells, 2, 2, ResampleMethod::Bilinear).sample(1.0, 1.0).is_nan());
}

#[test]
fn cubic_convolution_hand_computed() {
    // Catmull-Rom reproduces quadratics: x² sampled halfway between 1 and 2 is 2.25.
    let cells: Vec<f64> = (0..8).map(|c| (c as f64 - 2.0).powi(2)).collect();
    let mut s = sampler(&cells, 8, 1, ResampleMethod::CubicConvolution);
    // Column 3 holds 1, column 4 holds 4; their centres are 3.5 and 4.5.
    assert_eq!(s.sample(4.0, 0.5), 2.25);
    assert_eq!(s.sample(3.5, 0.5), 1.0);
    // Edge taps are clamped: a constant row extends as a constant.
    let flat = [5.0; 3];
    assert_eq!(sampler(&flat, 3, 1, ResampleMethod::CubicConvolution).sample(0.2, 0.5), 5.0);
    // A NoData cell in the 4×4 window gives NoData.
    let mut c = cells.clone();
    c[5] = NAN;
    assert!(sampler(&c, 8, 1, ResampleMethod::CubicConvolution).sample(4.0, 0.5).is_nan());
    assert!(!sampler(&c, 8, 1, ResampleMethod::CubicConvolution).sample(2.0, 0.5).is_nan());
}

#[test]
fn cubic_spline_hand_computed() {
    // p = 0 0 0 1 1 1 around the point: both Akima slopes are 0, so the step is a smooth cubic: 0.5 at ½.
    let cells = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut s = sampler(&cells, 6, 1, ResampleMethod::CubicSpline);
    assert_eq!(s.sample(3.0, 0.5), 0.5);
    // At x = ¼: 3·¼² − 2·¼³.
    assert_eq!(s.sample(2.75, 0.5), 3.0 / 16.0 - 2.0 / 64.0);
    // Linear data is reproduced exactly.
    let ramp: Vec<f64> = (0..10).map(|c| 2.0 * c as f64).collect();
    assert_eq!(sampler(&ramp, 10, 1, ResampleMethod::CubicSpline).sample(5.25, 0.5), 9.5);
}

#[test]
fn lanczos_hand_computed() {
    let l = |v: f64| {
        let pi = std::f64::consts::PI;
        3.0 * (pi * v).sin() * (pi * v / 3.0).sin() / (pi * pi * v * v)
    };
    // GeoTrellis does not renormalise: a constant field sampled halfway between centres on both axes is
    // scaled by (Σ L(½ − i))², about 0.9886.
    let w: f64 = [2.5, 1.5, 0.5, -0.5, -1.5, -2.5].iter().map(|v| l(*v)).sum();
    assert!((w - 0.994298).abs() < 1e-6, "{w}");
    let ones = [1.0; 64];
    let got = sampler(&ones, 8, 8, ResampleMethod::Lanczos).sample(4.0, 4.0);
    assert!((got - w * w).abs() < 1e-12, "{got}");
    // At a centre the kernel is exactly 1, 0, 0, …
    let cells: Vec<f64> = (0..64).map(|i| (i * 7 % 13) as f64).collect();
    let mut s = sampler(&cells, 8, 8, ResampleMethod::Lanczos);
    assert_eq!(s.sample(3.5, 4.5), cells[3 * 8 + 3]);
}

#[test]
fn aggregates_hand_computed() {
    let cells: Vec<f64> = (1..=16).map(f64::from).collect();
    let e = [0.0, 0.0, 4.0, 4.0];
    let g = |m| grid(&cells, 4, 4, 2, 2, e, m);
    assert_eq!(g(ResampleMethod::Average), [3.5, 5.5, 11.5, 13.5]);
    assert_eq!(g(ResampleMethod::Max), [6.0, 8.0, 14.0, 16.0]);
    assert_eq!(g(ResampleMethod::Min), [1.0, 3.0, 9.0, 11.0]);
    assert_eq!(g(ResampleMethod::Median), [3.5, 5.5, 11.5, 13.5]);
    // All counts 1: the first cell in row-major order.
    assert_eq!(g(ResampleMethod::Mode), [1.0, 3.0, 9.0, 11.0]);
    // 3 × 3 → 1: the window is the whole grid.
    let nine = [1.0, 7.0, 7.0, 3.0, 3.0, 9.0, 2.0, 5.0, NAN];
    let g = |m| grid(&nine, 3, 3, 1, 1, [0.0, 0.0, 3.0, 3.0], m)[0];
    assert_eq!(g(ResampleMethod::Average), 37.0 / 8.0);
    assert_eq!(g(ResampleMethod::Median), 4.0);
    assert_eq!(g(ResampleMethod::Max), 9.0);
    assert_eq!(g(ResampleMethod::Min), 1.0);
    // 7 and 3 both appear twice; 7 reaches 2 first.
    assert_eq!(g(ResampleMethod::Mode), 7.0);
    let tie = [7.0, 3.0, 3.0, 7.0];
    assert_eq!(grid(&tie, 2, 2, 1, 1, [0.0, 0.0, 2.0, 2.0], ResampleMethod::Mode), [3.0]);
}

#[test]
fn aggregates_skip_nodata() {
    let cells = [NAN, 2.0, NAN, NAN, NAN, NAN, NAN, 4.0];
    let e = [0.0, 0.0, 4.0, 2.0];
    for m in [ResampleMethod::Average, ResampleMethod::Mode, ResampleMethod::Median, ResampleMethod::Max, ResampleMethod::Min] {
        let out = grid(&cells, 4, 2, 2, 1, e, m);
        assert_eq!(out[0], 2.0, "{m:?}");
        assert_eq!(out[1], 4.0, "{m:?}");
        let none = grid(&[NAN; 8], 4, 2, 2, 1, e, m);
        assert!(none.iter().all(|v| v.is_nan()), "{m:?}");
    }
}

#[test]
fn aggregate_upsampling_leaves_holes_like_geotrellis() {
    // Upsampling by 4, a destination cell a quarter of a source cell wide contains a source centre only
    // when it touches one.
    let cells = [1.0, 2.0];
    let out = grid(&cells, 2, 1, 8, 1, [0.0, 0.0, 2.0, 1.0], ResampleMethod::Average);
    assert!(out[0].is_nan() && out[3].is_nan() && out[4].is_nan() && out[7].is_nan());
    assert_eq!(&out[1..3], &[1.0, 1.0]);
    assert_eq!(&out[5..7], &[2.0, 2.0]);
    // By 2 every destination cell has one.
    let out = grid(&cells, 2, 1, 4, 1, [0.0, 0.0, 2.0, 1.0], ResampleMethod::Max);
    assert_eq!(out, [1.0, 1.0, 2.0, 2.0]);
}

#[test]
fn area_sampler_matches_cell_form() {
    let cells: Vec<f64> = (0..36).map(|i| ((i * 5) % 11) as f64).collect();
    let band = SourceBand::new(&cells, 6, 6, [0.0, 0.0, 6.0, 6.0]).unwrap();
    let mut a = AreaSampler::new(band, AreaMethod::Average, 3.0, 2.0);
    let by_area = a.sample_area(0.0, 4.0, 3.0, 6.0);
    assert_eq!(by_area, a.sample_centre(1.5, 5.0));
    let cells = &cells;
    let want = (0..2).flat_map(|r| (0..3).map(move |c| cells[r * 6 + c])).sum::<f64>() / 6.0;
    assert_eq!(by_area, want);
    assert!(a.sample_area(6.5, 0.0, 7.5, 1.0).is_nan());
}

#[test]
fn integer_rounding() {
    let i16t = ct("int16");
    let run = |vals: &[f64], dc, m| {
        let cells = bytes(&i16t, vals);
        let n = vals.len();
        let out = resample_grid(&cells, &i16t, 1, n, 1, [0.0, 0.0, n as f64, 1.0], dc, 1, [0.0, 0.0, n as f64, 1.0], m).unwrap();
        values(&i16t, &out)
    };
    // Average truncates toward zero (`toInt`).
    assert_eq!(run(&[1.0, 2.0, 2.0, 2.0], 1, ResampleMethod::Average), [1.0]);
    assert_eq!(run(&[-1.0, -2.0, -2.0, -2.0], 1, ResampleMethod::Average), [-1.0]);
    // Median of an even count is Int division of the middle pair.
    assert_eq!(run(&[1.0, 2.0, 3.0, 4.0], 1, ResampleMethod::Median), [2.0]);
    assert_eq!(run(&[-1.0, -2.0, -3.0, -4.0], 1, ResampleMethod::Median), [-2.0]);
    // Bilinear rounds half up (`math.round`): 0.5 → 1, −0.5 → 0, −1.5 → −1.
    let up = |a: f64, b: f64| run(&[a, b], 4, ResampleMethod::Bilinear)[2];
    let mid = |a: f64, b: f64| run(&[a, b], 1, ResampleMethod::Bilinear)[0];
    assert_eq!(mid(0.0, 1.0), 1.0);
    assert_eq!(mid(-1.0, 0.0), 0.0);
    assert_eq!(mid(-2.0, -1.0), -1.0);
    // Destination centre 1.25 is three quarters of the way from the first centre (0.5) to the second.
    assert_eq!(up(0.0, 4.0), 3.0);
    // NoData stays NoData through the integer path.
    let out = run(&[-32768.0, -32768.0], 1, ResampleMethod::Bilinear);
    assert!(out[0].is_nan());
}

#[test]
fn outside_source_is_nodata() {
    for name in ["float32", "int16", "uint8", "int16ud-9999", "float32ud-1.0", "int8raw", "int32raw", "float64raw"] {
        let t = ct(name);
        let cells = bytes(&t, &[5.0; 4]);
        for m in ResampleMethod::ALL {
            let out = resample_grid(&cells, &t, 1, 2, 2, [0.0, 0.0, 2.0, 2.0], 4, 1, [-2.0, 1.0, 2.0, 2.0], m).unwrap();
            let mut nd = Vec::new();
            t.store(&[NAN], &mut nd);
            let n = t.bytes_per_cell();
            // Centres -1.5, -0.5 outside; 0.5, 1.5 inside.
            assert_eq!(&out[..n], &nd[..], "{name} {m:?}");
            assert_eq!(&out[n..2 * n], &nd[..], "{name} {m:?}");
            assert_eq!(values(&t, &out[2 * n..]), [5.0, 5.0], "{name} {m:?}");
        }
    }
    // Raw int types store GeoTrellis' NODATA narrowed: 0 for int8raw, i32::MIN for int32raw.
    let t = ct("int32raw");
    let out = resample_grid(&bytes(&t, &[5.0]), &t, 1, 1, 1, [0.0, 0.0, 1.0, 1.0], 1, 1, [5.0, 5.0, 6.0, 6.0], ResampleMethod::Bilinear).unwrap();
    assert_eq!(out, i32::MIN.to_le_bytes());
}

#[test]
fn multiband_and_cell_types() {
    let t = ct("uint16ud7");
    let b0 = [1.0, 2.0, 3.0, 4.0];
    let b1 = [10.0, 7.0, 30.0, 40.0];
    let cells = [bytes(&t, &b0), bytes(&t, &b1)].concat();
    let e = [0.0, 0.0, 2.0, 2.0];
    let out = resample_grid(&cells, &t, 2, 2, 2, e, 1, 1, e, ResampleMethod::Average).unwrap();
    assert_eq!(values(&t, &out), [2.0, 26.0]); // (10 + 30 + 40) / 3 = 26.67 truncated
    let out = resample_grid(&cells, &t, 2, 2, 2, e, 1, 1, e, ResampleMethod::Max).unwrap();
    assert_eq!(values(&t, &out), [4.0, 40.0]);
    let f = ct("float32");
    let err = resample_grid(&cells, &f, 2, 2, 2, e, 1, 1, e, ResampleMethod::Max).unwrap_err();
    assert!(err.to_string().contains("bytes"), "{err}");
    assert!(resample_grid(&cells, &t, 2, 2, 2, e, 0, 1, e, ResampleMethod::Max).is_err());
    assert!(resample_grid(&cells, &t, 2, 2, 2, [0.0, 0.0, 0.0, 1.0], 1, 1, e, ResampleMethod::Max).is_err());
}

#[test]
fn identity_for_interpolating_methods() {
    let t = ct("float32");
    let vals: Vec<f64> = (0..15 * 11).map(|i| ((i * 37) % 101) as f64 * 0.37 - 9.0).collect();
    let cells = bytes(&t, &vals);
    // An extent whose cell sizes are not exact binary fractions.
    let e = [-8381389.716714849, 4885000.3, -8380000.1, 4887235.159048369];
    for m in [ResampleMethod::NearestNeighbor, ResampleMethod::Bilinear, ResampleMethod::CubicConvolution, ResampleMethod::CubicSpline, ResampleMethod::Lanczos] {
        let out = resample_grid(&cells, &t, 1, 15, 11, e, 15, 11, e, m).unwrap();
        assert_eq!(out, cells, "{m:?}");
    }
}

/// Source values in 0..100 with about a fifth NoData.
fn field() -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (1usize..12, 1usize..12).prop_flat_map(|(c, r)| {
        let cell = prop_oneof![1 => Just(NAN), 4 => (0i32..100).prop_map(f64::from)];
        (Just(c), Just(r), proptest::collection::vec(cell, c * r))
    })
}

proptest! {
    #[test]
    fn aggregates_are_ordered((c, r, cells) in field(), dc in 1usize..8, dr in 1usize..8) {
        let e = [0.0, 0.0, c as f64, r as f64];
        let g = |m| grid(&cells, c, r, dc, dr, e, m);
        let (avg, max, min) = (g(ResampleMethod::Average), g(ResampleMethod::Max), g(ResampleMethod::Min));
        let (med, mode) = (g(ResampleMethod::Median), g(ResampleMethod::Mode));
        for i in 0..dc * dr {
            // All five agree on which cells have data.
            let nan = avg[i].is_nan();
            prop_assert!([max[i], min[i], med[i], mode[i]].iter().all(|v| v.is_nan() == nan));
            if !nan {
                prop_assert!(min[i] <= avg[i] + 1e-9 && avg[i] <= max[i] + 1e-9);
                prop_assert!(min[i] <= med[i] && med[i] <= max[i]);
                prop_assert!(min[i] <= mode[i] && mode[i] <= max[i]);
                prop_assert!(cells.contains(&mode[i]));
            }
        }
    }

    #[test]
    fn nearest_upsample_replicates((c, r, cells) in field(), k in 1usize..5) {
        let e = [0.0, 0.0, c as f64, r as f64];
        let out = grid(&cells, c, r, c * k, r * k, e, ResampleMethod::NearestNeighbor);
        for row in 0..r * k {
            for col in 0..c * k {
                let (got, want) = (out[row * c * k + col], cells[(row / k) * c + col / k]);
                prop_assert!(got == want || (got.is_nan() && want.is_nan()));
            }
        }
    }

    #[test]
    fn bilinear_stays_within_data_range((c, r, cells) in field(), dc in 1usize..20, dr in 1usize..20) {
        let e = [0.0, 0.0, c as f64, r as f64];
        let data: Vec<f64> = cells.iter().copied().filter(|v| !v.is_nan()).collect();
        let lo = data.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for v in grid(&cells, c, r, dc, dr, e, ResampleMethod::Bilinear) {
            prop_assert!(v.is_nan() || (lo - 1e-9 <= v && v <= hi + 1e-9));
        }
    }

    #[test]
    fn grid_agrees_with_samplers(
        (c, r, cells) in field(), dc in 1usize..10, dr in 1usize..10,
        shift in -2.0f64..2.0, scale in 0.3f64..2.0, m in 0usize..10,
    ) {
        let m = ResampleMethod::ALL[m];
        let e = [shift, shift * 0.5, shift + c as f64 * scale, shift * 0.5 + r as f64 * scale];
        let out = grid(&cells, c, r, dc, dr, e, m);
        let band = SourceBand::new(&cells, c, r, [0.0, 0.0, c as f64, r as f64]).unwrap();
        let (xs, ys, cw, ch) = dst_centres(dc, dr, e);
        let mut s = Sampler::new(band, m, (cw, ch));
        let want: Vec<f64> = ys.iter().flat_map(|&y| xs.iter().map(move |&x| (x, y))).map(|(x, y)| s.sample(x, y)).collect();
        prop_assert!(same(&out, &want), "{:?}\n{:?}\n{:?}", m, out, want);
    }
}
