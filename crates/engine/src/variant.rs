//! The engine variants (docs/engine.md, "Variants"): each a set of
//! allocation sites switched on over the allocation-free engine, and how
//! its renderer sets convolve.

use crate::renderer::RenderMode;
use crate::sites::{Site, SiteSet};

/// The engine variants, as sets of sites on top of the allocation-free
/// engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The input-callback pattern first suspected in the binauralizer: a
    /// buffer list, a pointer array and channel buffers made on every input
    /// callback.
    Seed,
    /// The binauralizer's callbacks before their fix: scale arrays and
    /// warm-up debug lines in every convolution engine's block step, and
    /// the renderer set read under a lock.
    Prefix,
    /// Allocation-free: the binauralizer's callbacks after their fix, every
    /// buffer allocated before the start, and without the free on the
    /// audio thread the fix still makes ([`Site::DropOnAudioThread`]):
    /// replaced renderer sets go back to the control side.
    Fixed,
    /// Allocation-free and faster: `fixed` with the spectral renderer
    /// ([`RenderMode::Spectral`]: shared forward FFTs, frequency-domain
    /// mixing, every frame rendered one block late).
    Optimized,
}

impl Variant {
    /// Every variant.
    pub const ALL: [Variant; 4] = [
        Variant::Seed,
        Variant::Prefix,
        Variant::Fixed,
        Variant::Optimized,
    ];

    /// The variant's sites.
    pub const fn sites(self) -> SiteSet {
        match self {
            Variant::Seed => SiteSet::of(&[Site::Abl, Site::PtrArray, Site::ChannelBuffers]),
            Variant::Prefix => {
                SiteSet::of(&[Site::ScaleArray, Site::RendererSnapshot, Site::DebugPrint])
            }
            Variant::Fixed | Variant::Optimized => SiteSet::EMPTY,
        }
    }

    /// How the variant's renderer sets convolve.
    pub const fn renderer(self) -> RenderMode {
        match self {
            Variant::Optimized => RenderMode::Spectral,
            _ => RenderMode::PerSpeaker,
        }
    }

    /// Sites that live where this variant has no code: the spectral
    /// renderer has no per-convolver block step, so no scale arrays and
    /// no debug line.
    pub const fn unsupported(self) -> SiteSet {
        match self.renderer() {
            RenderMode::Spectral => SiteSet::of(&[Site::ScaleArray, Site::DebugPrint]),
            RenderMode::PerSpeaker => SiteSet::EMPTY,
        }
    }

    /// The variant's name on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Variant::Seed => "seed",
            Variant::Prefix => "prefix",
            Variant::Fixed => "fixed",
            Variant::Optimized => "optimized",
        }
    }

    /// The variant named `name`, if any.
    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_the_documented_site_sets() {
        assert_eq!(
            Variant::Seed.sites().to_string(),
            "abl,ptr-array,channel-buffers"
        );
        assert_eq!(
            Variant::Prefix.sites().to_string(),
            "scale-array,renderer-snapshot,debug-print"
        );
        assert!(Variant::Fixed.sites().is_empty());
        assert!(Variant::Optimized.sites().is_empty());
        assert_eq!(Variant::Optimized.renderer(), RenderMode::Spectral);
        assert_eq!(
            Variant::Optimized.unsupported().to_string(),
            "scale-array,debug-print"
        );
        for v in [Variant::Seed, Variant::Prefix, Variant::Fixed] {
            assert_eq!(v.renderer(), RenderMode::PerSpeaker);
            assert!(v.unsupported().is_empty());
        }
    }
}
