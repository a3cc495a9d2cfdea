//! Counts in messages: `1 allocation`, `2 allocations`. The library's
//! nouns all take a plain `-s`.

use std::fmt;

/// `n` and `noun`, the noun with an `s` unless `n` is 1.
pub(crate) fn count(n: impl TryInto<u64>, noun: &str) -> Count<'_> {
    Count {
        n: n.try_into().unwrap_or(u64::MAX),
        noun,
        plural: None,
    }
}

/// `n` and `singular`, or `plural` unless `n` is 1 (`switch`, `switches`).
pub(crate) fn count_plural<'a>(n: u64, singular: &'a str, plural: &'a str) -> Count<'a> {
    Count {
        n,
        noun: singular,
        plural: Some(plural),
    }
}

/// A count and its noun, written by [`fmt::Display`].
pub(crate) struct Count<'a> {
    n: u64,
    noun: &'a str,
    plural: Option<&'a str>,
}

impl fmt::Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.n, self.plural) {
            (1, _) => write!(f, "1 {}", self.noun),
            (n, Some(plural)) => write!(f, "{n} {plural}"),
            (n, None) => write!(f, "{n} {}s", self.noun),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{count, count_plural};

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u64, "allocation").to_string(), "1 allocation");
        assert_eq!(count(0u64, "byte").to_string(), "0 bytes");
        assert_eq!(count(2usize, "invocation").to_string(), "2 invocations");
        assert_eq!(
            count_plural(3, "switch", "switches").to_string(),
            "3 switches"
        );
        assert_eq!(
            count_plural(1, "switch", "switches").to_string(),
            "1 switch"
        );
    }
}
