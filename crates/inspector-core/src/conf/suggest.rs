//! "Did you mean ...?" for misspelt section and option names.

use super::registry::Registry;

/// Edits (insertion, deletion, substitution, or swap of two neighbouring
/// characters) that turn `a` into `b`; a swap counts once because it is the
/// commonest typo (`lsiten_port`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_within(&a, &b, usize::MAX).unwrap_or(usize::MAX)
}

/// [`edit_distance`] when it is at most `limit`, else `None`, found without
/// finishing the table once two rows in a row exceed the limit (no later
/// row can come back under it). The length difference alone rules out most
/// names, and the suggestions run for every unknown key of a file.
fn distance_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // rows[i][j]: distance between a[..i] and b[..j]; three rows suffice.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    let mut previous_min = 0;
    for i in 1..=a.len() {
        current[0] = i;
        let mut current_min = i;
        for j in 1..width {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
            current_min = current_min.min(best);
        }
        // A cell reads only the two rows above it, each at least its minimum.
        if previous_min > limit && current_min > limit {
            return None;
        }
        previous_min = current_min;
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= limit).then_some(distance)
}

/// The candidate closest to `word`, when it is close enough to be a typo of
/// it: at most one edit per three characters of the longer name (so short
/// names need a near miss and unrelated names suggest nothing). Case
/// differences cost nothing (`[default]` is a typo of `[DEFAULT]`); `word`
/// itself is never suggested. The first candidate wins a tie.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowercase: Vec<char> = word.to_lowercase().chars().collect();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .filter_map(|candidate| {
            let limit = lowercase.len().max(candidate.chars().count()) / 3;
            let other: Vec<char> = candidate.to_lowercase().chars().collect();
            distance_within(&lowercase, &other, limit).map(|distance| (distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The message for an unknown option of a known group, with the closest
/// option of that group when there is one.
pub(super) fn unknown_option(registry: &Registry, group: &str, key: &str) -> String {
    let options = registry
        .entries
        .iter()
        .filter(|e| e.opt.group == group)
        .map(|e| e.opt.name);
    match closest(key, options) {
        Some(option) => format!("unknown option; did you mean {option}?"),
        None => "unknown option, ignored".into(),
    }
}

/// The message for an unknown section, with the closest group when there
/// is one.
pub(super) fn unknown_section(registry: &Registry, section: &str) -> String {
    match closest(section, registry.groups.iter().map(|g| g.name)) {
        Some(group) => format!("unknown section; did you mean [{group}]?"),
        None => "unknown section, ignored".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::registry::REGISTRY;

    #[test]
    fn edit_distance_counts_each_kind_of_edit_once() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("timeout", "timeout"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("endpont_override", "endpoint_override"), 1);
        assert_eq!(edit_distance("endpoint_override", "endpont_override"), 1);
        assert_eq!(edit_distance("timeout", "timeoot"), 1);
        assert_eq!(edit_distance("lsiten_port", "listen_port"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("débug", "debug"), 1);
    }

    #[test]
    fn the_bounded_distance_is_the_distance_up_to_its_limit() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "kitten",
            "sitting",
            "listen_port",
            "lsiten_port",
            "listen_address",
            "endpoint_override",
            "endpont_override",
            "débug",
            "debug",
            "aaaaaaaaaaaaaaaaaaaa",
            "ababababab",
            "bababababa",
        ];
        for a in words {
            for b in words {
                let distance = edit_distance(a, b);
                let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
                for limit in 0..=21 {
                    let expected = (distance <= limit).then_some(distance);
                    assert_eq!(
                        distance_within(&a, &b, limit),
                        expected,
                        "{a:?} {b:?} {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn closest_picks_the_nearest_candidate_and_rejects_far_ones() {
        let names = ["listen_port", "listen_address", "host", "debug"];
        assert_eq!(closest("lsiten_port", names), Some("listen_port"));
        assert_eq!(closest("listen_adress", names), Some("listen_address"));
        assert_eq!(closest("DEBGU", names), Some("debug"));
        assert_eq!(closest("made_up_option", names), None);
        assert_eq!(closest("hosts_file", names), None);
        // An exact name is not a suggestion.
        assert_eq!(closest("host", names), None);
        assert_eq!(closest("x", Vec::<&str>::new()), None);
    }

    #[test]
    fn unknown_option_names_the_closest_option_of_its_group() {
        assert_eq!(
            unknown_option(&REGISTRY, "ironic", "endpont_override"),
            "unknown option; did you mean endpoint_override?"
        );
        assert_eq!(
            unknown_option(&REGISTRY, "DEFAULT", "listen_prot"),
            "unknown option; did you mean listen_port?"
        );
        // Only options of the same group are suggested.
        assert_eq!(
            unknown_option(&REGISTRY, "pxe_filter", "endpont_override"),
            "unknown option, ignored"
        );
        assert_eq!(
            unknown_option(&REGISTRY, "DEFAULT", "made_up_option"),
            "unknown option, ignored"
        );
    }

    #[test]
    fn unknown_section_names_the_closest_group() {
        assert_eq!(
            unknown_section(&REGISTRY, "ironc"),
            "unknown section; did you mean [ironic]?"
        );
        assert_eq!(
            unknown_section(&REGISTRY, "procesing"),
            "unknown section; did you mean [processing]?"
        );
        assert_eq!(
            unknown_section(&REGISTRY, "default"),
            "unknown section; did you mean [DEFAULT]?"
        );
        assert_eq!(
            unknown_section(&REGISTRY, "made_up_section"),
            "unknown section, ignored"
        );
    }
}
