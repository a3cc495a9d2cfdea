//! Four-character codes: how CoreAudio spells its selectors, format ids
//! and many of its error statuses (`'lpcm'`, `'who?'`, `'!dev'`), a
//! big-endian `u32` made of four ASCII bytes.

/// The code spelled by `bytes` (`fourcc(b"lpcm")` is `kAudioFormatLinearPCM`).
pub const fn fourcc(bytes: &[u8; 4]) -> u32 {
    u32::from_be_bytes(*bytes)
}

/// `code` printed as `'abcd'` when its four bytes are printable ASCII,
/// otherwise `None`.
pub fn printable(code: u32) -> Option<String> {
    let bytes = code.to_be_bytes();
    if bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        Some(format!("'{}'", String::from_utf8_lossy(&bytes)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_its_four_bytes_big_endian() {
        assert_eq!(fourcc(b"lpcm"), 0x6c70_636d);
        assert_eq!(fourcc(b"ahal"), 1_634_230_636);
    }

    #[test]
    fn only_printable_codes_are_quoted() {
        assert_eq!(printable(fourcc(b"who?")).as_deref(), Some("'who?'"));
        assert_eq!(printable(fourcc(b"uid ")).as_deref(), Some("'uid '"));
        assert_eq!(printable(-10879i32 as u32), None);
        assert_eq!(printable(0), None);
    }
}
