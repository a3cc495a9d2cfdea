//! Counts in messages: `1 allocation`, `2 allocations`. The library's
//! nouns all take a plain `-s`.

use std::fmt;

/// `n` and `noun`, the noun with an `s` unless `n` is 1.
pub(crate) fn count(n: impl TryInto<u64>, noun: &str) -> Count<'_> {
    Count {
        n: n.try_into().unwrap_or(u64::MAX),
        noun,
    }
}

/// A count and its noun, written by [`fmt::Display`].
pub(crate) struct Count<'a> {
    n: u64,
    noun: &'a str,
}

impl fmt::Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.n == 1 { "" } else { "s" };
        write!(f, "{} {}{s}", self.n, self.noun)
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u64, "allocation").to_string(), "1 allocation");
        assert_eq!(count(0u64, "byte").to_string(), "0 bytes");
        assert_eq!(count(2usize, "invocation").to_string(), "2 invocations");
    }
}
