//! Input layouts and HeSuVi channel maps (docs/engine.md, "The audio
//! path"): which speaker each input channel carries, and which preset
//! channels hold each speaker's left-ear and right-ear impulse responses.

use std::fmt;

/// A loudspeaker position an input channel can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Speaker {
    /// Front left.
    FL,
    /// Front right.
    FR,
    /// Front centre.
    FC,
    /// Low-frequency effects.
    LFE,
    /// Back left.
    BL,
    /// Back right.
    BR,
    /// Side left.
    SL,
    /// Side right.
    SR,
    /// Top front left.
    TFL,
    /// Top front right.
    TFR,
    /// Top back left.
    TBL,
    /// Top back right.
    TBR,
    /// A channel of a device whose count names no known layout (1-based).
    Generic(u8),
}

impl fmt::Display for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Speaker::Generic(n) => write!(f, "channel {n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

use Speaker::*;

const STEREO: [Speaker; 2] = [FL, FR];
const SURROUND_5_1: [Speaker; 6] = [FL, FR, FC, LFE, BL, BR];
const SURROUND_7_1: [Speaker; 8] = [FL, FR, FC, LFE, BL, BR, SL, SR];
const SURROUND_7_1_4: [Speaker; 12] = [FL, FR, FC, LFE, BL, BR, SL, SR, TFL, TFR, TBL, TBR];

/// Most channels a device can have.
pub const MAX_CHANNELS: usize = 16;

/// The speakers of a device's channels, in channel order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    speakers: [Speaker; MAX_CHANNELS],
    len: usize,
}

impl Layout {
    /// The layout the binauralizer infers from a channel count: 2 stereo,
    /// 6 5.1, 8 7.1, 12 7.1.4, anything else generic speakers that no
    /// HeSuVi map covers. Counts above [`MAX_CHANNELS`] are clamped.
    pub fn for_channels(channels: usize) -> Layout {
        let channels = channels.min(MAX_CHANNELS);
        let mut speakers = [Generic(0); MAX_CHANNELS];
        let named: &[Speaker] = match channels {
            2 => &STEREO,
            6 => &SURROUND_5_1,
            8 => &SURROUND_7_1,
            12 => &SURROUND_7_1_4,
            _ => &[],
        };
        for (i, slot) in speakers.iter_mut().enumerate().take(channels) {
            *slot = named.get(i).copied().unwrap_or(Generic(i as u8 + 1));
        }
        Layout {
            speakers,
            len: channels,
        }
    }

    /// The layout's name ("7.1", "16 channel").
    pub fn name(&self) -> String {
        match self.len {
            2 => "stereo".into(),
            6 => "5.1".into(),
            8 => "7.1".into(),
            12 => "7.1.4".into(),
            n => format!("{n} channel"),
        }
    }

    /// The speakers, in channel order.
    pub fn speakers(&self) -> &[Speaker] {
        &self.speakers[..self.len]
    }

    /// True when a HeSuVi preset holds impulse responses for at least one
    /// of the speakers, so convolution has something to render (both maps
    /// cover the same speakers). Passthrough needs no speaker at all.
    pub fn has_mapped_speaker(&self) -> bool {
        self.speakers()
            .iter()
            .any(|&s| HesuviMap::Fourteen.indices(s).is_some())
    }
}

/// The channel counts whose layout convolution can render (those of
/// [`Layout::has_mapped_speaker`]), for messages.
pub const CONVOLVED_CHANNELS: &str = "2 (stereo), 6 (5.1), 8 (7.1) or 12 (7.1.4)";

/// Which HeSuVi file layout a preset has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HesuviMap {
    /// 14 channels: both ears of every speaker.
    Fourteen,
    /// 7 channels (FL FR FC BL BR SL SR, left ear only); the right ear
    /// is the mirror speaker's left ear.
    Seven,
}

impl HesuviMap {
    /// The map for a preset with `channels` channels, as the binauralizer picks
    /// it: 7 → the 7-channel map, anything else → the 14-channel map.
    pub fn for_preset_channels(channels: usize) -> HesuviMap {
        if channels == 7 {
            HesuviMap::Seven
        } else {
            HesuviMap::Fourteen
        }
    }

    /// Preset channels of `speaker`'s (left-ear, right-ear) impulse
    /// responses, or `None` for a speaker the map does not cover (heights,
    /// generic channels).
    pub fn indices(self, speaker: Speaker) -> Option<(usize, usize)> {
        Some(match self {
            HesuviMap::Fourteen => match speaker {
                FL => (0, 1),
                FR => (8, 7),
                FC | LFE => (6, 13),
                BL => (4, 5),
                BR => (12, 11),
                SL => (2, 3),
                SR => (10, 9),
                _ => return None,
            },
            HesuviMap::Seven => match speaker {
                FL => (0, 1),
                FR => (1, 0),
                FC | LFE => (2, 2),
                BL => (3, 4),
                BR => (4, 3),
                SL => (5, 6),
                SR => (6, 5),
                _ => return None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_channel_count() {
        assert_eq!(Layout::for_channels(2).speakers(), &[FL, FR]);
        assert_eq!(
            Layout::for_channels(6).speakers(),
            &[FL, FR, FC, LFE, BL, BR]
        );
        assert_eq!(
            Layout::for_channels(8).speakers(),
            &[FL, FR, FC, LFE, BL, BR, SL, SR]
        );
        assert_eq!(
            Layout::for_channels(12).speakers()[8..],
            [TFL, TFR, TBL, TBR]
        );
        assert_eq!(Layout::for_channels(1).speakers(), &[Generic(1)]);
        let sixteen = Layout::for_channels(16);
        assert_eq!(sixteen.speakers().len(), 16);
        assert!(sixteen.speakers().iter().all(|s| matches!(s, Generic(_))));
        assert_eq!(Layout::for_channels(40).speakers().len(), MAX_CHANNELS);
        assert_eq!(sixteen.name(), "16 channel");
    }

    #[test]
    fn only_stereo_5_1_7_1_and_7_1_4_have_a_speaker_a_preset_maps() {
        let mapped: Vec<usize> = (1..=MAX_CHANNELS)
            .filter(|&c| Layout::for_channels(c).has_mapped_speaker())
            .collect();
        assert_eq!(mapped, [2, 6, 8, 12], "as CONVOLVED_CHANNELS says");
        for speaker in [
            FL,
            FR,
            FC,
            LFE,
            BL,
            BR,
            SL,
            SR,
            TFL,
            TFR,
            TBL,
            TBR,
            Generic(1),
        ] {
            assert_eq!(
                HesuviMap::Fourteen.indices(speaker).is_some(),
                HesuviMap::Seven.indices(speaker).is_some(),
                "{speaker}: both maps cover the same speakers"
            );
        }
    }

    #[test]
    fn the_fourteen_channel_map_gives_each_speaker_its_documented_pair() {
        let m = HesuviMap::Fourteen;
        let expect = [
            (FL, (0, 1)),
            (FR, (8, 7)),
            (FC, (6, 13)),
            (LFE, (6, 13)),
            (BL, (4, 5)),
            (BR, (12, 11)),
            (SL, (2, 3)),
            (SR, (10, 9)),
        ];
        for (s, pair) in expect {
            assert_eq!(m.indices(s), Some(pair), "{s}");
        }
        for s in [TFL, TFR, TBL, TBR, Generic(3)] {
            assert_eq!(m.indices(s), None, "{s}");
        }
    }

    #[test]
    fn the_seven_channel_map_mirrors_the_right_ear() {
        let m = HesuviMap::Seven;
        let expect = [
            (FL, (0, 1)),
            (FR, (1, 0)),
            (FC, (2, 2)),
            (LFE, (2, 2)),
            (BL, (3, 4)),
            (BR, (4, 3)),
            (SL, (5, 6)),
            (SR, (6, 5)),
        ];
        for (s, pair) in expect {
            assert_eq!(m.indices(s), Some(pair), "{s}");
        }
        assert_eq!(m.indices(TFL), None);
    }

    #[test]
    fn the_map_is_picked_by_the_preset_channel_count() {
        assert_eq!(HesuviMap::for_preset_channels(7), HesuviMap::Seven);
        assert_eq!(HesuviMap::for_preset_channels(14), HesuviMap::Fourteen);
    }
}
