//! Choosing a device by what the user typed: its UID, its name, or a
//! unique part of its name, among the devices that can serve a side (an
//! input needs input channels, the output at least two output channels).
//! With nothing typed, the system's default device for that side.

use super::Side;
use super::plan::OUTPUT_CHANNELS;
use crate::drive::backend::{BackendError, DeviceInfo, ErrorKind};

/// True when `device` can serve `side`.
pub fn usable(device: &DeviceInfo, side: Side) -> bool {
    match side {
        Side::Input => device.input_channels >= 1,
        Side::Output => device.output_channels >= OUTPUT_CHANNELS,
    }
}

/// Why `device` cannot serve `side`, if it cannot.
fn unusable_because(device: &DeviceInfo, side: Side) -> Option<String> {
    if usable(device, side) {
        return None;
    }
    Some(match side {
        Side::Input => format!("{side} device '{}' has no input channels", device.name),
        Side::Output => format!(
            "{side} device '{}' has {}; expected at least {OUTPUT_CHANNELS}",
            device.name,
            allocgate_engine::text::count(device.output_channels, "output channel")
        ),
    })
}

/// The device for `side`: the one `wanted` names, tried as an exact UID,
/// then an exact name, then a name ignoring case, then a unique part of a
/// name ignoring case; or, with `wanted` `None`, the default device
/// `default_id` (a UID). Only devices that can serve `side` match.
///
/// # Errors
///
/// [`ErrorKind::DeviceNotFound`] when nothing matches, more than one
/// device does, or the device found cannot serve `side`; the message
/// names what was asked and lists the candidates.
pub fn choose<'a>(
    devices: &'a [DeviceInfo],
    wanted: Option<&str>,
    side: Side,
    default_id: Option<&str>,
) -> Result<&'a DeviceInfo, BackendError> {
    let Some(wanted) = wanted else {
        return choose_default(devices, side, default_id);
    };
    let candidates: Vec<&DeviceInfo> = devices.iter().filter(|d| usable(d, side)).collect();
    let lower = wanted.to_lowercase();
    let rules: [&dyn Fn(&DeviceInfo) -> bool; 4] = [
        &|d| d.id == wanted,
        &|d| d.name == wanted,
        &|d| d.name.to_lowercase() == lower,
        &|d| d.name.to_lowercase().contains(&lower),
    ];
    for rule in rules {
        let found: Vec<&DeviceInfo> = candidates.iter().copied().filter(|d| rule(d)).collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok(one),
            many => {
                return Err(not_found(format!(
                    "{side} device '{wanted}' is ambiguous: it matches {}; give a full name or a uid",
                    list(many)
                )));
            }
        }
    }
    // Say so when the device exists but cannot serve this side.
    if let Some(why) = devices
        .iter()
        .find(|d| d.id == wanted || d.name.to_lowercase() == lower)
        .and_then(|d| unusable_because(d, side))
    {
        return Err(not_found(why));
    }
    Err(not_found(format!(
        "no {side} device matches '{wanted}'; {}",
        candidates_phrase(&candidates)
    )))
}

fn choose_default<'a>(
    devices: &'a [DeviceInfo],
    side: Side,
    default_id: Option<&str>,
) -> Result<&'a DeviceInfo, BackendError> {
    let candidates: Vec<&DeviceInfo> = devices.iter().filter(|d| usable(d, side)).collect();
    let Some(device) = default_id.and_then(|id| devices.iter().find(|d| d.id == id)) else {
        return Err(not_found(format!(
            "no default {side} device; {}",
            candidates_phrase(&candidates)
        )));
    };
    match unusable_because(device, side) {
        None => Ok(device),
        Some(why) => Err(not_found(format!(
            "the default {why}; {}",
            candidates_phrase(&candidates)
        ))),
    }
}

fn not_found(message: String) -> BackendError {
    BackendError::new(ErrorKind::DeviceNotFound, message)
}

fn list(devices: &[&DeviceInfo]) -> String {
    let names: Vec<String> = devices
        .iter()
        .map(|d| format!("'{}' (uid '{}')", d.name, d.id))
        .collect();
    names.join(", ")
}

fn candidates_phrase(candidates: &[&DeviceInfo]) -> String {
    if candidates.is_empty() {
        "there are no candidates".to_string()
    } else {
        format!("candidates: {}", list(candidates))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, name: &str, inputs: u32, outputs: u32) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: name.into(),
            input_channels: inputs,
            output_channels: outputs,
            sample_rates: vec![48_000],
        }
    }

    fn devices() -> Vec<DeviceInfo> {
        vec![
            device("BlackHole2ch_UID", "BlackHole 2ch", 2, 2),
            device("BlackHole16ch_UID", "BlackHole 16ch", 16, 16),
            device("BuiltInMicrophoneDevice", "MacBook Pro Microphone", 1, 0),
            device("BuiltInSpeakerDevice", "MacBook Pro Speakers", 0, 2),
            device("Mono_UID", "Mono Out", 0, 1),
        ]
    }

    fn name(r: Result<&DeviceInfo, BackendError>) -> String {
        r.map(|d| d.name.clone()).unwrap_or_else(|e| e.message)
    }

    #[test]
    fn an_exact_uid_wins_over_names() {
        let mut all = devices();
        all.push(device("BlackHole 2ch", "Impostor", 2, 2));
        assert_eq!(
            name(choose(&all, Some("BlackHole 2ch"), Side::Input, None)),
            "Impostor"
        );
        assert_eq!(
            name(choose(&all, Some("BlackHole16ch_UID"), Side::Input, None)),
            "BlackHole 16ch"
        );
    }

    #[test]
    fn an_exact_name_then_a_name_ignoring_case_then_a_unique_part() {
        let all = devices();
        assert_eq!(
            name(choose(&all, Some("BlackHole 2ch"), Side::Input, None)),
            "BlackHole 2ch"
        );
        assert_eq!(
            name(choose(&all, Some("blackhole 16CH"), Side::Input, None)),
            "BlackHole 16ch"
        );
        assert_eq!(
            name(choose(&all, Some("micro"), Side::Input, None)),
            "MacBook Pro Microphone"
        );
        assert_eq!(
            name(choose(&all, Some("speak"), Side::Output, None)),
            "MacBook Pro Speakers"
        );
    }

    #[test]
    fn a_part_matching_several_devices_is_ambiguous_and_lists_them() {
        let e = choose(&devices(), Some("blackhole"), Side::Input, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DeviceNotFound);
        assert_eq!(
            e.message,
            "input device 'blackhole' is ambiguous: it matches 'BlackHole 2ch' (uid \
             'BlackHole2ch_UID'), 'BlackHole 16ch' (uid 'BlackHole16ch_UID'); give a full name \
             or a uid"
        );
    }

    #[test]
    fn no_match_names_what_was_asked_and_lists_the_candidates_for_the_side() {
        let e = choose(&devices(), Some("focusrite"), Side::Output, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DeviceNotFound);
        assert!(
            e.message
                .starts_with("no output device matches 'focusrite'; candidates: ")
        );
        assert!(e.message.contains("'MacBook Pro Speakers'"));
        assert!(!e.message.contains("Microphone"), "{}", e.message);
        assert!(!e.message.contains("Mono Out"), "{}", e.message);
    }

    #[test]
    fn a_device_that_cannot_serve_the_side_says_why() {
        let all = devices();
        let e = choose(&all, Some("MacBook Pro Speakers"), Side::Input, None).unwrap_err();
        assert_eq!(
            e.message,
            "input device 'MacBook Pro Speakers' has no input channels"
        );
        let e = choose(&all, Some("Mono_UID"), Side::Output, None).unwrap_err();
        assert_eq!(
            e.message,
            "output device 'Mono Out' has 1 output channel; expected at least 2"
        );
    }

    #[test]
    fn with_nothing_asked_the_default_device_is_chosen() {
        let all = devices();
        let d = choose(&all, None, Side::Input, Some("BuiltInMicrophoneDevice")).unwrap();
        assert_eq!(d.name, "MacBook Pro Microphone");
        let e = choose(&all, None, Side::Input, None).unwrap_err();
        assert!(
            e.message
                .starts_with("no default input device; candidates: ")
        );
        let e = choose(&all, None, Side::Output, Some("Mono_UID")).unwrap_err();
        assert!(
            e.message
                .starts_with("the default output device 'Mono Out' has 1 output channel;"),
            "{}",
            e.message
        );
    }

    #[test]
    fn with_no_devices_at_all_the_message_says_so() {
        let e = choose(&[], Some("x"), Side::Input, None).unwrap_err();
        assert_eq!(
            e.message,
            "no input device matches 'x'; there are no candidates"
        );
    }
}
