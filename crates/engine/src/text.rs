//! How user-facing text writes counts and numbers: `1 allocation`,
//! `2 allocations`, `3 preset switches`; `1e308` rather than 309 digits.
//! Every message that puts a count before a noun goes through [`count`],
//! and every message that echoes a number the user typed through
//! [`number`].

use std::fmt;

/// `n` and `noun`, the noun in the plural unless `n` is 1: `count(1,
/// "callback")` is `1 callback`, `count(2, "preset switch")` is `2 preset
/// switches`. The noun is given in the singular; its last word takes the
/// plural (English's regular rules: `-es` after s, x, z, ch and sh, `-ies`
/// after a consonant and y, else `-s`).
pub fn count(n: impl TryInto<u64>, noun: &str) -> Count<'_> {
    Count {
        // Every count we write fits (usize is at most 64 bits here).
        n: n.try_into().unwrap_or(u64::MAX),
        noun,
    }
}

/// A count and its noun, written by [`fmt::Display`]; see [`count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count<'a> {
    n: u64,
    noun: &'a str,
}

impl fmt::Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.n)?;
        if self.n == 1 {
            return f.write_str(self.noun);
        }
        write_plural(f, self.noun)
    }
}

/// Writes the plural of `noun` (its last word).
fn write_plural(f: &mut fmt::Formatter<'_>, noun: &str) -> fmt::Result {
    let sibilant = ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e));
    let consonant_y = noun.ends_with('y')
        && noun
            .chars()
            .rev()
            .nth(1)
            .is_some_and(|c| c.is_ascii_alphabetic() && !"aeiou".contains(c));
    if sibilant {
        write!(f, "{noun}es")
    } else if consonant_y {
        write!(f, "{}ies", &noun[..noun.len() - 1])
    } else {
        write!(f, "{noun}s")
    }
}

/// `1 allocation, 0 deallocations, 2 reallocations`: a callback's or a
/// run's allocator calls, in the order every summary gives them.
pub fn allocator_calls(allocations: u64, deallocations: u64, reallocations: u64) -> String {
    format!(
        "{}, {}, {}",
        count(allocations, "allocation"),
        count(deallocations, "deallocation"),
        count(reallocations, "reallocation")
    )
}

/// A number as a user would write it: Rust's shortest exact form
/// (`0.5`, `86400`), switching to an exponent (`1e308`, `1e-10`) when
/// that would run past a dozen digits. NaN and the infinities as `NaN`,
/// `inf` and `-inf`.
pub fn number(x: f64) -> Number {
    Number(x)
}

/// A number written by [`fmt::Display`]; see [`number`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        let magnitude = x.abs();
        if x.is_finite() && x != 0.0 && !(1e-6..1e12).contains(&magnitude) {
            write!(f, "{x:e}")
        } else {
            write!(f, "{x}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        let cases = [
            (0, "allocation", "0 allocations"),
            (1, "allocation", "1 allocation"),
            (2, "callback", "2 callbacks"),
            (1, "preset switch", "1 preset switch"),
            (59, "preset switch", "59 preset switches"),
            (2, "deadline miss", "2 deadline misses"),
            (3, "discontinuity", "3 discontinuities"),
            (2, "delay", "2 delays"),
            (4, "box", "4 boxes"),
            (1, "invocation", "1 invocation"),
            (u64::MAX, "byte", "18446744073709551615 bytes"),
        ];
        for (n, noun, want) in cases {
            assert_eq!(count(n, noun).to_string(), want);
        }
        assert_eq!(count(1u32, "byte").to_string(), "1 byte");
        assert_eq!(count(2usize, "byte").to_string(), "2 bytes");
        assert_eq!(
            allocator_calls(1, 0, 2),
            "1 allocation, 0 deallocations, 2 reallocations"
        );
    }

    #[test]
    fn numbers_stay_short_whatever_their_size() {
        let cases = [
            (1e308, "1e308"),
            (-1e308, "-1e308"),
            (1e-10, "1e-10"),
            (1.5e-300, "1.5e-300"),
            (86_400.0, "86400"),
            (0.5, "0.5"),
            (-500.0, "-500"),
            (0.0, "0"),
            (123_456_789_012.0, "123456789012"),
            (1e12, "1e12"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (x, want) in cases {
            assert_eq!(number(x).to_string(), want, "{x:?}");
        }
        for x in [f64::MAX, f64::MIN_POSITIVE, 5e-324, 1.2345678901234567e200] {
            assert!(number(x).to_string().len() <= 24, "{x:?}: {}", number(x));
        }
    }
}
