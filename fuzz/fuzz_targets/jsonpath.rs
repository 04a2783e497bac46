//! jsonpath-rw expressions of rule conditions (`data://...` fields):
//! lexing, parsing and evaluation against a document.
//!
//! Input: the path, optionally followed by a NUL and the document (an IPA
//! inventory when absent or not JSON).
#![no_main]

use inspector_core::jsonpath;
use inspector_fuzz::{default_data, json_or, split, too_deep};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (path, doc) = split(input);
    if too_deep(doc) {
        return;
    }
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let Ok(parsed) = jsonpath::parse(path) else {
        return;
    };
    let doc = json_or(doc, default_data);
    let _ = parsed.try_find(&doc);
});
