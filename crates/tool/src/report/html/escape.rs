//! Text from reports and devices, made safe to place in HTML.

/// `text` with the five characters HTML gives meaning to replaced by
/// entities, so it reads as text in element content and in quoted
/// attribute values alike.
///
/// ```
/// use allocgate_tool::report::html::escape;
///
/// assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as by [`escape`].
pub fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_becomes_an_entity_and_the_rest_stays() {
        assert_eq!(escape("a & b"), "a &amp; b");
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape(r#""'"#), "&quot;&#39;");
        assert_eq!(escape("µs → 7.1.4"), "µs → 7.1.4");
    }

    #[test]
    fn escaping_twice_escapes_the_ampersands_again() {
        // So text is escaped exactly once, where it enters the page.
        assert_eq!(escape(&escape("&")), "&amp;amp;");
    }
}
