//! Python `re` patterns of rule conditions: the CPython 3.11 parser, the
//! translation into a fancy-regex pattern, and `re.match` / `re.search`
//! (bounded by the backtracking limit), plus the pattern the `matches`
//! condition builds from its value.
//!
//! Input: the pattern, optionally followed by a NUL and the subject. Without
//! a subject, the `matches` pattern is compiled as well; with one, it is not:
//! each compile builds two regexes, and compiling both patterns of every input
//! halved the rate for little coverage (the two differ by a trailing `$`).
#![no_main]

use inspector_core::py::re;
use inspector_fuzz::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (pattern, subject) = split(input);
    let (Ok(pattern), Ok(subject)) = (std::str::from_utf8(pattern), std::str::from_utf8(subject))
    else {
        return;
    };
    if let Ok(regex) = re::compile(pattern) {
        let _ = regex.is_match_at_start(subject);
        let _ = regex.search(subject);
    }
    if let Ok(anchored) = re::matches_condition_pattern(pattern)
        && subject.is_empty()
    {
        let _ = re::compile(&anchored);
    }
});
