//! Row-major order as GeoTrellis' `RowMajorSpatialKeyIndex` (geotrellis_format.md §3.3): 32-bit signed
//! arithmetic that wraps on overflow, and one index range per row of a query box.

/// `layoutCols * (row - minRow) + (col - minCol)` in wrapping `i32` arithmetic, with
/// `layoutCols = maxCol - minCol + 1`.
pub fn row_major_index(min_col: i32, min_row: i32, max_col: i32, col: i32, row: i32) -> i32 {
    let layout_cols = max_col.wrapping_sub(min_col).wrapping_add(1);
    layout_cols
        .wrapping_mul(row.wrapping_sub(min_row))
        .wrapping_add(col.wrapping_sub(min_col))
}

/// One range per row `r` of the box, `[index(col_lo, r), index(col_lo, r) + (col_hi - col_lo)]`, sorted and
/// merged where rows touch. An empty box gives no ranges. The caller bounds the rows.
pub fn row_major_ranges(
    min_col: i32,
    min_row: i32,
    max_col: i32,
    (col_lo, row_lo): (i32, i32),
    (col_hi, row_hi): (i32, i32),
) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    if col_hi < col_lo || row_hi < row_lo {
        return out;
    }
    let width = col_hi as i64 - col_lo as i64;
    let mut sorted = true;
    for row in row_lo..=row_hi {
        let start = row_major_index(min_col, min_row, max_col, col_lo, row) as i64;
        let end = start + width;
        // Rows usually arrive in order, so merging here keeps full-width boxes to one range.
        match out.last_mut() {
            Some(last) if start >= last.0 && start <= last.1.saturating_add(1) => {
                last.1 = last.1.max(end)
            }
            Some(last) => {
                sorted &= start > last.1;
                out.push((start, end));
            }
            None => out.push((start, end)),
        }
    }
    if sorted {
        out
    } else {
        super::merge_ranges_i64(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_values() {
        // bounds (0,0)-(99,49): layoutCols = 100
        assert_eq!(row_major_index(0, 0, 99, 0, 0), 0);
        assert_eq!(row_major_index(0, 0, 99, 5, 3), 305);
        assert_eq!(row_major_index(0, 0, 99, 99, 49), 4999);
        // offset bounds (10,20)-(12,30): layoutCols = 3
        assert_eq!(row_major_index(10, 20, 12, 11, 22), 7);
        // wraps in 32 bits
        assert_eq!(
            row_major_index(0, 0, i32::MAX - 1, 0, 2),
            i32::MAX.wrapping_mul(2)
        );
    }

    #[test]
    fn ranges_per_row() {
        assert_eq!(
            row_major_ranges(0, 0, 99, (2, 1), (4, 3)),
            vec![(102, 104), (202, 204), (302, 304)]
        );
        // full-width rows touch and merge
        assert_eq!(row_major_ranges(0, 0, 9, (0, 1), (9, 3)), vec![(10, 39)]);
        assert_eq!(row_major_ranges(0, 0, 9, (5, 1), (4, 3)), vec![]);
    }
}
