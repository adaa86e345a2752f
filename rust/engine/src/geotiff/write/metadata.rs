//! Tag values derived from the raster's description: GDAL_NODATA text, GDAL_METADATA XML, the TIFF tags
//! GDAL maps `TIFFTAG_*` metadata items to, and the palette.

use crate::cell_type::{java_double_string, CellType, DataType, NoData};
use crate::error::{EngineError, Result};

/// GDAL_NODATA text as GeoTrellis writes it; None for raw types (and bool).
pub fn nodata_text(ct: &CellType) -> Option<String> {
    if ct.data_type == DataType::Bool || ct.no_data == NoData::Raw {
        return None;
    }
    let v = ct.no_data_value()?;
    Some(if v.is_nan() {
        "nan".to_string()
    } else if ct.data_type.is_float() {
        java_double_string(v)
    } else {
        format!("{}", v as i64)
    })
}

/// `TIFFTAG_*` metadata items that GDAL stores in baseline TIFF ASCII tags rather than in GDAL_METADATA.
pub fn baseline_ascii_tag(name: &str) -> Option<u16> {
    Some(match name {
        "TIFFTAG_DOCUMENTNAME" => 269,
        "TIFFTAG_IMAGEDESCRIPTION" => 270,
        "TIFFTAG_SOFTWARE" => 305,
        "TIFFTAG_DATETIME" => 306,
        "TIFFTAG_ARTIST" => 315,
        "TIFFTAG_HOSTCOMPUTER" => 316,
        "TIFFTAG_COPYRIGHT" => 33432,
        _ => return None,
    })
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// GDAL_METADATA (tag 42112) XML for dataset items and per-band items (`sample` is the 0-based band);
/// None when there is nothing to write.
pub fn gdal_metadata_xml(head: &[(String, String)], bands: &[Vec<(String, String)>]) -> Option<String> {
    if head.is_empty() && bands.iter().all(|b| b.is_empty()) {
        return None;
    }
    let mut xml = String::from("<GDALMetadata>\n");
    let mut item = |name: &str, value: &str, sample: Option<usize>| {
        xml.push_str("  <Item name=\"");
        escape(name, &mut xml);
        xml.push('"');
        if let Some(s) = sample {
            xml.push_str(&format!(" sample=\"{s}\""));
        }
        xml.push('>');
        // GDAL escapes item values once itself and once more when serialising the XML, and unescapes
        // twice on reading; a singly escaped '&' would cut the value short.
        let mut once = String::new();
        escape(value, &mut once);
        escape(&once, &mut xml);
        xml.push_str("</Item>\n");
    };
    for (k, v) in head {
        item(k, v, None);
    }
    for (b, tags) in bands.iter().enumerate() {
        for (k, v) in tags {
            item(k, v, Some(b));
        }
    }
    xml.push_str("</GDALMetadata>\n");
    Some(xml)
}

/// The TIFF ColorMap of `colors` (0xRRGGBBAA each, entry i for cell value i): three arrays of 2^bits
/// 16-bit values (red, then green, then blue); alpha cannot be stored in a TIFF palette.
pub fn tiff_palette(colors: &[u32], ct: &CellType) -> Result<Vec<u16>> {
    let bits = match ct.data_type {
        DataType::UInt8 => 8,
        DataType::UInt16 => 16,
        other => {
            return Err(EngineError::Value(format!(
                "color_map needs a uint8 or uint16 cell type, not {}",
                other.name()
            )))
        }
    };
    let n = 1usize << bits;
    if colors.len() > n {
        return Err(EngineError::Value(format!(
            "color_map has {} entries; a {} palette holds at most {n}",
            colors.len(),
            ct.data_type.name()
        )));
    }
    let mut out = vec![0u16; 3 * n];
    for (i, c) in colors.iter().enumerate() {
        // 8-bit channel to 16-bit: ×257 maps 255 to 65535, as GDAL does.
        out[i] = ((c >> 24) & 0xff) as u16 * 257;
        out[n + i] = ((c >> 16) & 0xff) as u16 * 257;
        out[2 * n + i] = ((c >> 8) & 0xff) as u16 * 257;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_nodata_text_follows_geotrellis() {
        let t = |n: &str| nodata_text(&CellType::parse(n).unwrap());
        assert_eq!(t("int32").as_deref(), Some("-2147483648"));
        assert_eq!(t("uint8").as_deref(), Some("0"));
        assert_eq!(t("float32").as_deref(), Some("nan"));
        assert_eq!(t("float64ud-9999.0").as_deref(), Some("-9999.0"));
        assert_eq!(t("int16ud-1").as_deref(), Some("-1"));
        assert_eq!(t("int16raw"), None);
        assert_eq!(t("bool"), None);
    }

    #[test]
    fn write_metadata_xml_escapes_and_numbers_bands() {
        let xml = gdal_metadata_xml(
            &[("a&b".into(), "<x>".into())],
            &[vec![], vec![("k".into(), "v\"".into())]],
        )
        .unwrap();
        assert!(xml.contains("<Item name=\"a&amp;b\">&amp;lt;x&amp;gt;</Item>"));
        assert!(xml.contains("<Item name=\"k\" sample=\"1\">v&amp;quot;</Item>"));
        assert_eq!(gdal_metadata_xml(&[], &[vec![]]), None);
    }

    #[test]
    fn write_palette_is_planar_16_bit() {
        let ct = CellType::parse("uint8").unwrap();
        let p = tiff_palette(&[0xff000080, 0x00ff00ff], &ct).unwrap();
        assert_eq!(p.len(), 768);
        assert_eq!((p[0], p[256], p[512]), (65535, 0, 0));
        assert_eq!((p[1], p[257], p[513]), (0, 65535, 0));
        assert!(tiff_palette(&[0], &CellType::parse("float32").unwrap()).is_err());
    }
}
