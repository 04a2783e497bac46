//! Python `str.format(data=...)` of rule action values: field names,
//! attribute and index lookups, conversions and format specs, and the
//! recursive formatting of lists and dicts (API 1.14+).
//!
//! Input: the template, optionally followed by a NUL and the data document
//! (an IPA inventory when absent or not JSON).
#![no_main]

use inspector_core::py::format;
use inspector_fuzz::{default_data, json_or, split, too_deep};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|input: &[u8]| {
    let (template, data_part) = split(input);
    if too_deep(data_part) {
        return;
    }
    let Ok(template) = std::str::from_utf8(template) else {
        return;
    };
    let data = json_or(data_part, default_data);
    let _ = format::format(template, &data);
    let nested = Value::Array(vec![Value::String(template.into())]);
    let _ = format::format_value(&nested, &data);
});
