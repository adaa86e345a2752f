//! The plan JSON the Python layer sends (`parse_plan`), then what an executor does with a plan that
//! parses: compile it for a few input cell types and run it over a small batch of tiles.
#![no_main]

use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use gps_engine::batch::input_column;
use gps_engine::plan::{input_count, parse_plan, run_plan, Compiled};
use gps_engine::CellType;
use libfuzzer_sys::fuzz_target;

const CELL_TYPES: [&str; 6] = ["int16", "float32", "uint8raw", "float64ud-9999.0", "bool", "int32ud7"];

/// A batch of three 2-band 3×2 tiles for each of `inputs` inputs (key columns, then each input's tile
/// columns), cells counting up from a NoData-ish value.
fn batch(inputs: usize) -> RecordBatch {
    let mut fields = vec![Field::new("col", DataType::Int32, false), Field::new("row", DataType::Int32, false)];
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(Int32Array::from(vec![0, 1, 2])), Arc::new(Int32Array::from(vec![0, 0, 1]))];
    for i in 0..inputs {
        let names: Vec<&str> = (0..3).map(|t| CELL_TYPES[(t + i) % CELL_TYPES.len()]).collect();
        let cells: Vec<Vec<u8>> = names
            .iter()
            .map(|n| {
                let ct = CellType::parse(n).unwrap();
                let values: Vec<f64> = (0..12).map(|v| v as f64 * 1.5 - 3.0).collect();
                let mut out = Vec::new();
                ct.store(&values, &mut out);
                out
            })
            .collect();
        let tile: [(&str, ArrayRef); 5] = [
            ("cell_type", Arc::new(StringArray::from(names))),
            ("bands", Arc::new(Int32Array::from(vec![2; 3]))),
            ("rows", Arc::new(Int32Array::from(vec![2; 3]))),
            ("cols", Arc::new(Int32Array::from(vec![3; 3]))),
            ("cells", Arc::new(BinaryArray::from_iter_values(cells.iter()))),
        ];
        for (name, col) in tile {
            fields.push(Field::new(input_column(name, i), col.data_type().clone(), false));
            columns.push(col);
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(steps) = parse_plan(text) else { return };
    let n = input_count(&steps);
    if n == 0 || n > 4 {
        return;
    }
    for ct in CELL_TYPES {
        let inputs = vec![CellType::parse(ct).unwrap(); n];
        let _ = Compiled::new(&steps, &inputs);
    }
    let _ = run_plan(&batch(n), &steps, None);
});
