//! Blocking C library calls by name in a report (`--c-level` runs): the
//! map the JSON holds, and its wording.

use std::collections::BTreeMap;

use allocgate::BlockingCounts;

/// Blocking calls by C function name, only the names called. A report
/// holds one only when the run counted them (`config.c_level`).
pub type BlockingCalls = BTreeMap<String, u64>;

/// The calls `b` counted, by name.
pub fn blocking_calls(b: &BlockingCounts) -> BlockingCalls {
    b.iter()
        .map(|(call, n)| (call.name().to_owned(), n))
        .collect()
}

/// `2 x pthread_mutex_lock, 1 x nanosleep` (in name order); `none`.
pub fn blocking_text(calls: &BlockingCalls) -> String {
    let parts: Vec<String> = calls
        .iter()
        .filter(|&(_, &n)| n > 0)
        .map(|(name, n)| format!("{n} x {name}"))
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_worded_by_name_and_none_when_empty() {
        let mut m = BlockingCalls::new();
        assert_eq!(blocking_text(&m), "none");
        m.insert("pthread_mutex_lock".into(), 2);
        m.insert("nanosleep".into(), 1);
        assert_eq!(blocking_text(&m), "1 x nanosleep, 2 x pthread_mutex_lock");
        assert!(blocking_calls(&BlockingCounts::new()).is_empty());
    }
}
