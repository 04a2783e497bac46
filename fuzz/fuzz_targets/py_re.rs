//! Python `re` patterns of rule conditions: the CPython 3.11 parser, the
//! translation into a fancy-regex pattern, and `re.match` / `re.search`
//! (bounded by the backtracking limit), plus the pattern the `matches`
//! condition builds from its value.
//!
//! Input: the pattern, optionally followed by a NUL and the subject. With a
//! subject, the pattern is compiled for both uses and matched both ways;
//! without one, it is compiled as rule validation does, and the `matches`
//! condition's pattern as that condition does. Either way an input builds
//! two regexes, the bulk of its cost.
#![no_main]

use inspector_core::py::re::{self, Anchor};
use inspector_fuzz::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (pattern, subject) = split(input);
    let (Ok(pattern), Ok(subject)) = (std::str::from_utf8(pattern), std::str::from_utf8(subject))
    else {
        return;
    };
    if !subject.is_empty() {
        if let Ok(regex) = re::compile(pattern) {
            let _ = regex.is_match_at_start(subject);
            let _ = regex.search(subject);
        }
        return;
    }
    if let Ok(regex) = re::compile_for(pattern, Anchor::Anywhere) {
        let _ = regex.is_match("");
    }
    if let Ok(anchored) = re::matches_condition_pattern(pattern)
        && let Ok(regex) = re::compile_for(&anchored, Anchor::Start)
    {
        let _ = regex.is_match("");
    }
});
