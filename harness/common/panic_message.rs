//! The text of a caught panic, for tests that check what a failure says.

/// The message a panic carried (`String` or `&str`), or "" for another payload.
pub fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    match p.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}
