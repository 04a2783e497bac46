//! Sets of code points as sorted ranges, with the case-folding preimages needed to
//! reproduce `re`'s IGNORECASE matching exactly.

const MAX_CHAR: u32 = 0x10FFFF;

/// A set of code points: sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct CharSet(Vec<(u32, u32)>);

impl CharSet {
    pub(super) fn from_ranges(ranges: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut v: Vec<(u32, u32)> = ranges.into_iter().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        CharSet(out)
    }

    pub(super) fn single(c: u32) -> Self {
        CharSet(vec![(c, c)])
    }

    pub(super) fn all() -> Self {
        CharSet(vec![(0, MAX_CHAR)])
    }

    pub(super) fn ranges(&self) -> &[(u32, u32)] {
        &self.0
    }

    pub(super) fn contains(&self, c: u32) -> bool {
        let i = self.0.partition_point(|&(a, _)| a <= c);
        i > 0 && c <= self.0[i - 1].1
    }

    pub(super) fn union(&self, other: &CharSet) -> CharSet {
        CharSet::from_ranges(self.0.iter().chain(other.0.iter()).copied())
    }

    pub(super) fn complement(&self) -> CharSet {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut next = 0u32;
        for &(a, b) in &self.0 {
            if a > next {
                out.push((next, a - 1));
            }
            next = b.saturating_add(1);
        }
        if next <= MAX_CHAR && self.0.last().is_none_or(|&(_, b)| b < MAX_CHAR) {
            out.push((next, MAX_CHAR));
        }
        CharSet(out)
    }

    pub(super) fn minus(&self, other: &CharSet) -> CharSet {
        self.complement().union(other).complement()
    }

    /// `{x : f(x) ∈ self}` for a mapping `f` that is the identity outside `changed`.
    pub(super) fn preimage(&self, changed: &CharSet, f: impl Fn(u32) -> u32) -> CharSet {
        let mut extra = Vec::new();
        for &(a, b) in changed.ranges() {
            for x in a..=b {
                if self.contains(f(x)) {
                    extra.push((x, x));
                }
            }
        }
        self.minus(changed).union(&CharSet::from_ranges(extra))
    }
}

/// The code points a delta-run case table (first, last, step, delta) maps elsewhere.
pub(super) fn changed_by(table: &[(u32, u32, u32, i32)]) -> CharSet {
    let mut v = Vec::new();
    for &(first, last, step, _) in table {
        if step == 1 {
            v.push((first, last));
        } else {
            v.extend((first..=last).step_by(step as usize).map(|c| (c, c)));
        }
    }
    CharSet::from_ranges(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let s = CharSet::from_ranges([(5, 9), (1, 3), (4, 4), (20, 20)]);
        assert_eq!(s.ranges(), &[(1, 9), (20, 20)]);
        assert_eq!(s.complement().complement(), s);
        assert!(CharSet::all().complement().ranges().is_empty());
        assert_eq!(CharSet::default().complement(), CharSet::all());
        assert_eq!(
            s.minus(&CharSet::single(5)).ranges(),
            &[(1, 4), (6, 9), (20, 20)]
        );
        let upper = CharSet::from_ranges([(65, 90)]);
        let folded = CharSet::single('a' as u32).preimage(&upper, |x| x + 32);
        assert_eq!(folded.ranges(), &[(65, 65), (97, 97)]);
    }
}
