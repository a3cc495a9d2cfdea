//! Turning what the HAL reports about a device into a
//! [`DeviceInfo`](crate::drive::backend::DeviceInfo): channel counts from
//! a raw stream configuration (`kAudioDevicePropertyStreamConfiguration`,
//! an `AudioBufferList`), and rates from the nominal rate and the
//! available ranges (`kAudioDevicePropertyAvailableNominalSampleRates`).

use super::raw::{DESCRIPTOR_BYTES, DESCRIPTORS_AT};

/// Rates listed for a device whose available rates include a continuous
/// range: the usual ones inside it.
pub const COMMON_RATES: [u32; 15] = [
    8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000,
    352_800, 384_000, 705_600, 768_000,
];

/// The channels of a stream configuration in CoreAudio's layout (a `u32`
/// buffer count, then 16-byte `AudioBuffer`s whose first field is the
/// channel count), summed over its buffers. `None` when `raw` is too short
/// for the count it states.
pub fn stream_configuration_channels(raw: &[u8]) -> Option<u32> {
    let count = u32::from_ne_bytes(raw.get(..4)?.try_into().ok()?) as usize;
    let mut channels = 0u32;
    for i in 0..count {
        let at = DESCRIPTORS_AT + i * DESCRIPTOR_BYTES;
        let field = raw.get(at..at + 4)?;
        channels = channels.saturating_add(u32::from_ne_bytes(field.try_into().ok()?));
    }
    Some(channels)
}

/// A device's rates, nominal first: each discrete rate (`min == max`) of
/// `ranges`, and the [`COMMON_RATES`] inside a continuous one, without
/// repeats. Rates that are not whole hertz are left out.
pub fn sample_rates(nominal: f64, ranges: &[(f64, f64)]) -> Vec<u32> {
    let mut rates = Vec::new();
    let mut add = |rate: f64| {
        if let Some(hz) = super::format::whole_hz(rate)
            && !rates.contains(&hz)
        {
            rates.push(hz);
        }
    };
    add(nominal);
    for &(min, max) in ranges {
        if (max - min).abs() < 0.5 {
            add(min);
        } else {
            for &r in COMMON_RATES.iter() {
                let r = f64::from(r);
                if r >= min - 0.5 && r <= max + 0.5 {
                    add(r);
                }
            }
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configuration(channels: &[u32]) -> Vec<u8> {
        let mut raw = vec![0u8; DESCRIPTORS_AT + channels.len() * DESCRIPTOR_BYTES];
        raw[..4].copy_from_slice(&(channels.len() as u32).to_ne_bytes());
        for (i, c) in channels.iter().enumerate() {
            let at = DESCRIPTORS_AT + i * DESCRIPTOR_BYTES;
            raw[at..at + 4].copy_from_slice(&c.to_ne_bytes());
        }
        raw
    }

    #[test]
    fn a_stream_configuration_counts_the_channels_of_every_buffer() {
        assert_eq!(stream_configuration_channels(&configuration(&[2])), Some(2));
        assert_eq!(
            stream_configuration_channels(&configuration(&[2, 6, 8])),
            Some(16)
        );
        assert_eq!(stream_configuration_channels(&configuration(&[])), Some(0));
    }

    #[test]
    fn a_truncated_stream_configuration_is_refused() {
        let raw = configuration(&[2, 2]);
        assert_eq!(stream_configuration_channels(&raw[..raw.len() - 16]), None);
        assert_eq!(stream_configuration_channels(&raw[..2]), None);
    }

    #[test]
    fn rates_come_nominal_first_then_discrete_then_common_rates_in_ranges() {
        let ranges = [
            (44_100.0, 44_100.0),
            (48_000.0, 48_000.0),
            (88_200.0, 192_000.0),
        ];
        assert_eq!(
            sample_rates(48_000.0, &ranges),
            vec![48_000, 44_100, 88_200, 96_000, 176_400, 192_000]
        );
        assert_eq!(sample_rates(0.0, &[]), Vec::<u32>::new());
    }
}
