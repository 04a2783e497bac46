//! `inspector.conf`: the oslo.config INI parser, then the whole loader
//! (option lookup with deprecated names, type conversion, `$var`
//! interpolation, consistency checks) and the processing hooks' settings
//! taken from the result, as the service does at start.
//!
//! Input: the file text; a NUL splits it into two files given in order
//! (later files win, as with several `--config-file`).
#![no_main]

use inspector_core::conf::{self, Source};
use inspector_core::hooks::Pipeline;
use inspector_core::oslo::ini;
use inspector_fuzz::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (first, second) = split(input);
    let (Ok(first), Ok(second)) = (std::str::from_utf8(first), std::str::from_utf8(second)) else {
        return;
    };
    let _ = ini::parse(first);
    let mut sources = vec![Source {
        path: "inspector.conf".into(),
        text: first.into(),
    }];
    if !second.is_empty() {
        sources.push(Source {
            path: "override.conf".into(),
            text: second.into(),
        });
    }
    if let Ok(loaded) = conf::load(&sources) {
        let _ = Pipeline::load(&loaded.config, None);
    }
});
