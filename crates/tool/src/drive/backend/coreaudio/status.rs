//! `OSStatus` codes, turned into one-line descriptions and
//! [`BackendError`]s.
//!
//! The table holds the codes this backend can meet, with the values of
//! Apple's headers (`CoreAudio/AudioHardwareBase.h`,
//! `AudioToolbox/AUComponent.h`, `CoreAudioTypes/CoreAudioBaseTypes.h`).
//! Any other code is still printed: as `'abcd'` when it is a printable
//! four-character code, otherwise as a decimal number.

use super::fourcc::{fourcc, printable};
use crate::drive::backend::{BackendError, ErrorKind};

/// `noErr`: success.
pub const NO_ERROR: i32 = 0;

/// A status code, what the headers call it, and what it means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The value.
    pub code: i32,
    /// The header's name.
    pub name: &'static str,
    /// What it means, in a few words.
    pub meaning: &'static str,
    /// How this backend classifies it.
    pub kind: ErrorKind,
}

const fn four(bytes: &[u8; 4]) -> i32 {
    fourcc(bytes) as i32
}

const fn known(code: i32, name: &'static str, meaning: &'static str, kind: ErrorKind) -> Known {
    Known {
        code,
        name,
        meaning,
        kind,
    }
}

use ErrorKind::{Backend, Format, Gone, Unavailable};

/// The codes this backend can meet.
pub const KNOWN: &[Known] = &[
    // The HAL (AudioHardwareBase.h).
    known(
        four(b"stop"),
        "kAudioHardwareNotRunningError",
        "the audio hardware is not running",
        Unavailable,
    ),
    known(
        four(b"what"),
        "kAudioHardwareUnspecifiedError",
        "unspecified hardware error",
        Backend,
    ),
    known(
        four(b"who?"),
        "kAudioHardwareUnknownPropertyError",
        "the object does not have this property",
        Backend,
    ),
    known(
        four(b"!siz"),
        "kAudioHardwareBadPropertySizeError",
        "wrong size for the property's data",
        Backend,
    ),
    known(
        four(b"nope"),
        "kAudioHardwareIllegalOperationError",
        "the operation is not allowed",
        Backend,
    ),
    known(
        four(b"!obj"),
        "kAudioHardwareBadObjectError",
        "no such audio object (it may have gone away)",
        Gone,
    ),
    known(
        four(b"!dev"),
        "kAudioHardwareBadDeviceError",
        "no such audio device (it may have gone away)",
        Gone,
    ),
    known(
        four(b"!str"),
        "kAudioHardwareBadStreamError",
        "no such audio stream",
        Gone,
    ),
    known(
        four(b"unop"),
        "kAudioHardwareUnsupportedOperationError",
        "the object does not support the operation",
        Backend,
    ),
    known(
        four(b"nrdy"),
        "kAudioHardwareNotReadyError",
        "the object is not ready",
        Unavailable,
    ),
    known(
        four(b"!dat"),
        "kAudioDeviceUnsupportedFormatError",
        "the device does not support the format",
        Format,
    ),
    known(
        four(b"!hog"),
        "kAudioDevicePermissionsError",
        "no permission (another process hogs the device, or access was denied)",
        Unavailable,
    ),
    // Audio units (AUComponent.h).
    known(
        -10879,
        "kAudioUnitErr_InvalidProperty",
        "the unit does not have this property",
        Backend,
    ),
    known(
        -10878,
        "kAudioUnitErr_InvalidParameter",
        "invalid parameter",
        Backend,
    ),
    known(
        -10877,
        "kAudioUnitErr_InvalidElement",
        "no such element (bus) on the unit",
        Backend,
    ),
    known(
        -10876,
        "kAudioUnitErr_NoConnection",
        "nothing connected to pull from",
        Backend,
    ),
    known(
        -10875,
        "kAudioUnitErr_FailedInitialization",
        "the unit failed to initialise",
        Backend,
    ),
    known(
        -10874,
        "kAudioUnitErr_TooManyFramesToProcess",
        "more frames than the unit's maximum per slice",
        Format,
    ),
    known(
        -10868,
        "kAudioUnitErr_FormatNotSupported",
        "the unit does not support the format",
        Format,
    ),
    known(
        -10867,
        "kAudioUnitErr_Uninitialized",
        "the unit is not initialised",
        Backend,
    ),
    known(
        -10866,
        "kAudioUnitErr_InvalidScope",
        "invalid scope",
        Backend,
    ),
    known(
        -10865,
        "kAudioUnitErr_PropertyNotWritable",
        "the property cannot be written",
        Backend,
    ),
    known(
        -10863,
        "kAudioUnitErr_CannotDoInCurrentContext",
        "not possible in the current context",
        Backend,
    ),
    known(
        -10851,
        "kAudioUnitErr_InvalidPropertyValue",
        "invalid property value",
        Backend,
    ),
    known(
        -10849,
        "kAudioUnitErr_Initialized",
        "the unit is already initialised",
        Backend,
    ),
    known(
        -10847,
        "kAudioUnitErr_Unauthorized",
        "not authorised",
        Unavailable,
    ),
    known(
        -66749,
        "kAudioComponentErr_InstanceInvalidated",
        "the unit's instance was invalidated",
        Gone,
    ),
    known(
        -66745,
        "kAudioUnitErr_RenderTimeout",
        "the render timed out",
        Backend,
    ),
    // General (CoreAudioBaseTypes.h).
    known(-4, "kAudio_UnimplementedError", "not implemented", Backend),
    known(-50, "kAudio_ParamError", "invalid parameter", Backend),
    known(-108, "kAudio_MemFullError", "out of memory", Backend),
];

/// The table entry for `status`, if it has one.
pub fn lookup(status: i32) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.code == status)
}

/// `status` as CoreAudio tools print it: `'abcd'` for a printable
/// four-character code, the decimal value otherwise.
pub fn code(status: i32) -> String {
    printable(status as u32).unwrap_or_else(|| status.to_string())
}

/// A one-line description: `kAudioHardwareBadDeviceError ('!dev'): no
/// such audio device (it may have gone away)`, or `status 'xyz!'` /
/// `status -12345` for a code outside the table.
pub fn describe(status: i32) -> String {
    match lookup(status) {
        Some(k) => format!("{} ({}): {}", k.name, code(status), k.meaning),
        None => format!("status {}", code(status)),
    }
}

/// How this backend classifies `status` ([`ErrorKind::Backend`] outside
/// the table).
pub fn kind(status: i32) -> ErrorKind {
    lookup(status).map_or(Backend, |k| k.kind)
}

/// The error for a call that returned `status`: `"{doing}: {description}"`.
pub fn error(doing: &str, status: i32) -> BackendError {
    BackendError::new(kind(status), format!("{doing}: {}", describe(status)))
}

/// `Ok` for [`NO_ERROR`], else [`error`] with what was being done.
pub fn check(status: i32, doing: impl FnOnce() -> String) -> Result<(), BackendError> {
    if status == NO_ERROR {
        Ok(())
    } else {
        Err(error(&doing(), status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hal_codes_are_the_headers_four_character_codes() {
        let value = |name: &str| KNOWN.iter().find(|k| k.name == name).unwrap().code;
        assert_eq!(value("kAudioHardwareNotRunningError"), 0x7374_6f70);
        assert_eq!(value("kAudioHardwareUnknownPropertyError"), 2_003_332_927);
        assert_eq!(value("kAudioHardwareBadObjectError"), 560_947_818);
        assert_eq!(value("kAudioHardwareBadDeviceError"), 560_227_702);
        assert_eq!(value("kAudioDeviceUnsupportedFormatError"), 560_226_676);
        assert_eq!(value("kAudioUnitErr_InvalidProperty"), -10879);
        assert_eq!(value("kAudioUnitErr_FormatNotSupported"), -10868);
        assert_eq!(value("kAudioUnitErr_TooManyFramesToProcess"), -10874);
        assert_eq!(value("kAudioUnitErr_CannotDoInCurrentContext"), -10863);
        assert_eq!(value("kAudio_ParamError"), -50);
    }

    #[test]
    fn the_table_has_no_duplicate_codes_or_names() {
        for (i, a) in KNOWN.iter().enumerate() {
            for b in &KNOWN[i + 1..] {
                assert_ne!(a.code, b.code, "{} and {}", a.name, b.name);
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn a_known_code_is_described_by_name_code_and_meaning() {
        assert_eq!(
            describe(four(b"!dev")),
            "kAudioHardwareBadDeviceError ('!dev'): no such audio device (it may have gone away)"
        );
        assert_eq!(
            describe(-10868),
            "kAudioUnitErr_FormatNotSupported (-10868): the unit does not support the format"
        );
    }

    #[test]
    fn an_unknown_code_prints_as_four_characters_when_printable_else_decimal() {
        assert_eq!(describe(four(b"abcd")), "status 'abcd'");
        assert_eq!(describe(-12345), "status -12345");
        assert_eq!(code(1), "1");
    }

    #[test]
    fn errors_are_classified_and_say_what_was_being_done() {
        let e = error("starting the input unit", four(b"!dev"));
        assert_eq!(e.kind, ErrorKind::Gone);
        assert!(
            e.message
                .starts_with("starting the input unit: kAudioHardwareBadDeviceError")
        );
        assert_eq!(kind(four(b"stop")), ErrorKind::Unavailable);
        assert_eq!(kind(-10874), ErrorKind::Format);
        assert_eq!(kind(-99), ErrorKind::Backend);
        assert!(check(NO_ERROR, || unreachable!()).is_ok());
        assert_eq!(
            check(-50, || "x".into()).unwrap_err().kind,
            ErrorKind::Backend
        );
    }
}
