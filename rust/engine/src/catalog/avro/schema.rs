//! Avro schemas: parsing the writer schema a layer stores, and the exact GeoTrellis 3.x schema text.
//!
//! Written by hand rather than with apache-avro: the schema subset is tiny (records, arrays, unions and
//! primitives), reading must resolve union branches by record name across GeoTrellis versions, and the
//! writer must reproduce Java Avro's `Schema.toString` byte for byte, which no Rust crate prints.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::{EngineError, Result};

#[derive(Debug)]
pub struct Record {
    /// The short name (`UShortArrayTile`): GeoTrellis' record names are unique without namespaces,
    /// and namespaces changed between versions (`geotrellis.spark` → `geotrellis.tiling`).
    pub name: String,
    pub fields: Vec<(String, Schema)>,
}

impl Record {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| n == name)
    }
}

#[derive(Clone, Debug)]
pub enum Schema {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(Box<Schema>),
    Union(Vec<Schema>),
    Record(Arc<Record>),
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Value(format!("invalid Avro schema: {}", msg.into()))
}

impl Schema {
    /// Parse a schema from its JSON text.
    pub fn parse(text: &str) -> Result<Schema> {
        let json: Json = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        Schema::from_json(&json)
    }

    /// Parse a schema from its JSON value.
    pub fn from_json(json: &Json) -> Result<Schema> {
        Parser::default().parse(json, "")
    }
}

#[derive(Default)]
struct Parser {
    /// Named records by full and by short name (references may use either).
    named: HashMap<String, Arc<Record>>,
}

impl Parser {
    fn parse(&mut self, json: &Json, namespace: &str) -> Result<Schema> {
        match json {
            Json::String(name) => self.named_or_primitive(name, namespace),
            Json::Array(branches) => Ok(Schema::Union(
                branches.iter().map(|b| self.parse(b, namespace)).collect::<Result<_>>()?,
            )),
            Json::Object(obj) => {
                let kind = obj.get("type").ok_or_else(|| invalid("an object without \"type\""))?;
                match kind.as_str() {
                    Some("record") | Some("error") => self.record(obj, namespace),
                    Some("array") => {
                        let items = obj.get("items").ok_or_else(|| invalid("an array without \"items\""))?;
                        Ok(Schema::Array(Box::new(self.parse(items, namespace)?)))
                    }
                    Some(other @ ("map" | "enum" | "fixed")) => {
                        Err(invalid(format!("{other} types do not occur in GeoTrellis tile schemas")))
                    }
                    _ => self.parse(kind, namespace),
                }
            }
            other => Err(invalid(format!("unexpected {other}"))),
        }
    }

    fn named_or_primitive(&self, name: &str, namespace: &str) -> Result<Schema> {
        Ok(match name {
            "null" => Schema::Null,
            "boolean" => Schema::Boolean,
            "int" => Schema::Int,
            "long" => Schema::Long,
            "float" => Schema::Float,
            "double" => Schema::Double,
            "bytes" => Schema::Bytes,
            "string" => Schema::String,
            _ => {
                let full = if name.contains('.') || namespace.is_empty() {
                    name.to_string()
                } else {
                    format!("{namespace}.{name}")
                };
                let record = self
                    .named
                    .get(&full)
                    .or_else(|| self.named.get(name))
                    .ok_or_else(|| invalid(format!("unknown type {name:?}")))?;
                Schema::Record(record.clone())
            }
        })
    }

    fn record(&mut self, obj: &serde_json::Map<String, Json>, namespace: &str) -> Result<Schema> {
        let name = obj
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid("a record without a name"))?;
        let (namespace, short) = match name.rsplit_once('.') {
            Some((ns, short)) => (ns.to_string(), short.to_string()),
            None => (
                obj.get("namespace").and_then(Json::as_str).unwrap_or(namespace).to_string(),
                name.to_string(),
            ),
        };
        let fields_json = obj
            .get("fields")
            .and_then(Json::as_array)
            .ok_or_else(|| invalid(format!("record {short} has no fields")))?;
        let mut fields = Vec::with_capacity(fields_json.len());
        for f in fields_json {
            let fname = f
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| invalid(format!("a field of {short} has no name")))?;
            let ftype = f.get("type").ok_or_else(|| invalid(format!("field {short}.{fname} has no type")))?;
            fields.push((fname.to_string(), self.parse(ftype, &namespace)?));
        }
        let record = Arc::new(Record { name: short.clone(), fields });
        let full = if namespace.is_empty() { short.clone() } else { format!("{namespace}.{short}") };
        self.named.insert(full, record.clone());
        self.named.entry(short).or_insert_with(|| record.clone());
        Ok(Schema::Record(record))
    }
}

/// The key record of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Spatial,
    SpaceTime,
}

/// Records of the GeoTrellis 3.x tile union, in branch order, with the fields after `cols`/`rows`
/// (format reference §1.3).
const TILE_RECORDS: [(&str, &str); 16] = [
    ("ByteArrayTile", r#"{"name":"cells","type":"bytes"},{"name":"noDataValue","type":["int","null"],"default":-128}"#),
    ("FloatArrayTile", r#"{"name":"cells","type":{"type":"array","items":"float"}},{"name":"noDataValue","type":["boolean","float"],"default":true}"#),
    ("DoubleArrayTile", r#"{"name":"cells","type":{"type":"array","items":"double"}},{"name":"noDataValue","type":["boolean","double"],"default":true}"#),
    ("ShortArrayTile", r#"{"name":"cells","type":{"type":"array","items":"int"}},{"name":"noDataValue","type":["int","null"],"default":-32768}"#),
    ("IntArrayTile", r#"{"name":"cells","type":{"type":"array","items":"int"}},{"name":"noDataValue","type":["int","null"],"default":-2147483648}"#),
    ("BitArrayTile", r#"{"name":"cells","type":"bytes"}"#),
    ("UByteArrayTile", r#"{"name":"cells","type":"bytes"},{"name":"noDataValue","type":["int","null"],"default":0}"#),
    ("UShortArrayTile", r#"{"name":"cells","type":{"type":"array","items":"int"}},{"name":"noDataValue","type":["int","null"],"default":0}"#),
    ("ByteConstantTile", r#"{"name":"cell","type":"int"},{"name":"noDataValue","type":["int","null"],"default":-128}"#),
    ("FloatConstantTile", r#"{"name":"cell","type":"float"},{"name":"noDataValue","type":["boolean","float"],"default":true}"#),
    ("DoubleConstantTile", r#"{"name":"cell","type":"double"},{"name":"noDataValue","type":["boolean","double"],"default":true}"#),
    ("ShortConstantTile", r#"{"name":"cell","type":"int"},{"name":"noDataValue","type":["int","null"],"default":0}"#),
    ("IntConstantTile", r#"{"name":"cell","type":"int"},{"name":"noDataValue","type":["int","null"],"default":-2147483648}"#),
    ("BitConstantTile", r#"{"name":"cell","type":"boolean"}"#),
    ("UByteConstantTile", r#"{"name":"cell","type":"int"},{"name":"noDataValue","type":["int","null"],"default":0}"#),
    ("UShortConstantTile", r#"{"name":"cell","type":"int"},{"name":"noDataValue","type":["int","null"],"default":0}"#),
];

/// The 17-branch tile union as Java Avro prints it; `namespace` is written on each record when the
/// enclosing namespace differs from `geotrellis.raster`.
fn tile_union(with_namespace: bool) -> String {
    let ns = if with_namespace { r#","namespace":"geotrellis.raster""# } else { "" };
    let mut out = String::from("[");
    for (name, fields) in TILE_RECORDS {
        out += &format!(
            r#"{{"type":"record","name":"{name}"{ns},"fields":[{{"name":"cols","type":"int"}},{{"name":"rows","type":"int"}},{fields}]}},"#
        );
    }
    let chunk = TILE_RECORDS.iter().map(|(n, _)| format!("\"{n}\"")).collect::<Vec<_>>().join(",");
    out += &format!(
        r#"{{"type":"record","name":"PaddedTile"{ns},"fields":[{{"name":"chunk","type":[{chunk}]}},{{"name":"colOffset","type":"int"}},{{"name":"rowOffset","type":"int"}},{{"name":"cols","type":"int"}},{{"name":"rows","type":"int"}}]}}]"#
    );
    out
}

/// The `KeyValueRecord` schema GeoTrellis 3.x stores for a layer, byte for byte (Appendix A).
pub fn geotrellis_schema(key: KeyKind, multiband: bool) -> String {
    let key = match key {
        KeyKind::Spatial => r#"{"type":"record","name":"SpatialKey","namespace":"geotrellis.tiling","fields":[{"name":"col","type":"int"},{"name":"row","type":"int"}]}"#,
        KeyKind::SpaceTime => r#"{"type":"record","name":"SpaceTimeKey","namespace":"geotrellis.tiling","fields":[{"name":"col","type":"int"},{"name":"row","type":"int"},{"name":"instant","type":"long","aliases":["millis"]}]}"#,
    };
    let value = if multiband {
        format!(
            r#"{{"type":"record","name":"ArrayMultibandTile","namespace":"geotrellis.raster","fields":[{{"name":"bands","type":{{"type":"array","items":{}}}}}]}}"#,
            tile_union(false)
        )
    } else {
        tile_union(true)
    };
    format!(
        r#"{{"type":"record","name":"KeyValueRecord","namespace":"geotrellis.spark.io","fields":[{{"name":"pairs","type":{{"type":"array","items":{{"type":"record","name":"Tuple2","namespace":"scala","fields":[{{"name":"_1","type":{key}}},{{"name":"_2","type":{value}}}]}}}}}}]}}"#
    )
}
