//! Allocation sites: the places where the reference engine can allocate,
//! lock or block on an audio thread (docs/engine.md, "Allocation sites"),
//! each switchable on its own; the variants that bundle them are in
//! [`variant`](crate::variant).
//!
//! - [`Site`], [`SiteSet`]: names and switches.
//! - [`expected`]: each site's allocations, deallocations and
//!   reallocations per callback, derived from the configuration.
//! - `temporaries`: the allocating idioms themselves (crate-private; the
//!   callbacks call them when a site is on).

pub mod expected;
pub mod hazards;
pub(crate) mod temporaries;

pub use temporaries::{
    ABL_HEADER_BYTES, CHANNEL_BUFFER_ALIGN, DEBUG_PRINT_STEPS, LOG_LINE_CAPACITY,
    SCALE_ARRAY_BYTES, abl_bytes,
};

use std::fmt;

/// Which callback a site lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// The capture side: device → ring.
    Input,
    /// The playback side: ring → renderer → device.
    Output,
}

impl CallbackKind {
    /// The kind's tag for site tracing ([`allocgate::trace::tagged`]):
    /// 1 input, 2 output (0 is left for calls outside any callback).
    pub const fn trace_tag(self) -> u8 {
        match self {
            CallbackKind::Input => 1,
            CallbackKind::Output => 2,
        }
    }

    /// The kind a trace tag stands for, if any.
    pub const fn from_trace_tag(tag: u8) -> Option<CallbackKind> {
        match tag {
            1 => Some(CallbackKind::Input),
            2 => Some(CallbackKind::Output),
            _ => None,
        }
    }

    /// `input` or `output`.
    pub const fn name(self) -> &'static str {
        match self {
            CallbackKind::Input => "input",
            CallbackKind::Output => "output",
        }
    }
}

/// One switchable allocation site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    /// A fresh buffer list (header plus C descriptors) per input callback.
    Abl,
    /// A growable array of C channel pointers, built by appending.
    PtrArray,
    /// C fresh 16-byte-aligned channel buffers of N × 4 bytes.
    ChannelBuffers,
    /// Each convolution engine's block step makes two one-element scale
    /// arrays (36-byte requests, which macOS serves from its 48-byte class:
    /// the binauralizer's transient 48-byte allocations).
    ScaleArray,
    /// The renderer set is read under a lock and copied by reference count
    /// (a blocking hazard with zero allocations).
    RendererSnapshot,
    /// Each convolution engine formats a debug line on its first two block
    /// steps (warm-up only).
    DebugPrint,
    /// A buffer allocated lazily on the first output callback.
    FirstCallback,
    /// A message formatted when an underrun happens.
    UnderrunLog,
    /// A buffer that grows when the frame count exceeds every earlier one.
    GrowOnFrames,
    /// The old renderer set is freed in the output callback after a preset
    /// switch (what the binauralizer's fix still does when the audio thread
    /// holds the last reference).
    DropOnAudioThread,
    /// Each output callback sleeps briefly (a voluntary context switch,
    /// no allocation): a hazard site.
    Sleep,
    /// Each output callback maps, touches and unmaps fresh pages (minor
    /// page faults, no allocator call): a hazard site.
    FreshPages,
    /// Each output callback takes a mutex another thread holds, and waits
    /// (a contended lock): a hazard site.
    ContendedLock,
}

impl Site {
    /// Every site, in a fixed order.
    pub const ALL: [Site; 13] = [
        Site::Abl,
        Site::PtrArray,
        Site::ChannelBuffers,
        Site::ScaleArray,
        Site::RendererSnapshot,
        Site::DebugPrint,
        Site::FirstCallback,
        Site::UnderrunLog,
        Site::GrowOnFrames,
        Site::DropOnAudioThread,
        Site::Sleep,
        Site::FreshPages,
        Site::ContendedLock,
    ];

    /// The hazard sites: no allocator call, a blocking hazard each.
    pub const HAZARDS: [Site; 3] = [Site::Sleep, Site::FreshPages, Site::ContendedLock];

    /// The site's name on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Site::Abl => "abl",
            Site::PtrArray => "ptr-array",
            Site::ChannelBuffers => "channel-buffers",
            Site::ScaleArray => "scale-array",
            Site::RendererSnapshot => "renderer-snapshot",
            Site::DebugPrint => "debug-print",
            Site::FirstCallback => "first-callback",
            Site::UnderrunLog => "underrun-log",
            Site::GrowOnFrames => "grow-on-frames",
            Site::DropOnAudioThread => "drop-on-audio-thread",
            Site::Sleep => "sleep",
            Site::FreshPages => "fresh-pages",
            Site::ContendedLock => "contended-lock",
        }
    }

    /// The site named `name`, if any.
    pub fn from_name(name: &str) -> Option<Site> {
        Site::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The function a site trace names for this site's calls: the first
    /// frame in user code (`allocgate run --trace-sites`). Each site has a
    /// function of its own, never inlined. [`Site::RendererSnapshot`]
    /// and the [`HAZARDS`](Self::HAZARDS) make no allocator call;
    /// [`Site::DropOnAudioThread`] only frees.
    pub const fn function(self) -> &'static str {
        match self {
            Site::Abl => "allocgate_engine::input::fresh_buffer_list",
            Site::PtrArray => "allocgate_engine::input::fresh_pointer_array",
            Site::ChannelBuffers => "allocgate_engine::input::fresh_channel_buffers",
            Site::ScaleArray => "allocgate_engine::convolver::Convolver::process_block",
            Site::RendererSnapshot => "allocgate_engine::publish::Subscriber::snapshot",
            Site::DebugPrint => "allocgate_engine::convolver::Convolver::print_debug_line",
            Site::FirstCallback => "allocgate_engine::output::OutputCallback::allocate_lazily",
            Site::UnderrunLog => "allocgate_engine::output::log_underrun",
            Site::GrowOnFrames => "allocgate_engine::output::OutputCallback::grow_to",
            Site::DropOnAudioThread => "allocgate_engine::publish::free_on_audio_thread",
            Site::Sleep => "allocgate_engine::sites::hazards::sleep_briefly",
            Site::FreshPages => "allocgate_engine::sites::hazards::touch_fresh_pages",
            Site::ContendedLock => "allocgate_engine::sites::hazards::LockHog::contend",
        }
    }

    /// The site whose [`function`](Self::function) is `function`, if any.
    pub fn from_function(function: &str) -> Option<Site> {
        Site::ALL.into_iter().find(|s| s.function() == function)
    }

    /// False for the sites that never call the allocator: the snapshot
    /// (a lock and a reference count) and the [`HAZARDS`](Self::HAZARDS).
    pub fn calls_allocator(self) -> bool {
        self != Site::RendererSnapshot && !Site::HAZARDS.contains(&self)
    }

    /// The callback the site runs in.
    pub const fn callback(self) -> CallbackKind {
        match self {
            Site::Abl | Site::PtrArray | Site::ChannelBuffers => CallbackKind::Input,
            _ => CallbackKind::Output,
        }
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of switched-on sites.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SiteSet(u16);

impl SiteSet {
    /// No site: the allocation-free engine.
    pub const EMPTY: SiteSet = SiteSet(0);

    /// Just `site`.
    pub const fn only(site: Site) -> SiteSet {
        SiteSet(site.bit())
    }

    /// These sites.
    pub const fn of(sites: &[Site]) -> SiteSet {
        let mut bits = 0;
        let mut i = 0;
        while i < sites.len() {
            bits |= sites[i].bit();
            i += 1;
        }
        SiteSet(bits)
    }

    /// The sites of both sets.
    pub const fn union(self, other: SiteSet) -> SiteSet {
        SiteSet(self.0 | other.0)
    }

    /// This set with `site` added.
    pub const fn with(self, site: Site) -> SiteSet {
        SiteSet(self.0 | site.bit())
    }

    /// Whether `site` is on.
    #[inline]
    pub const fn contains(self, site: Site) -> bool {
        self.0 & site.bit() != 0
    }

    /// True when no site is on.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The sites that are on, in [`Site::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Site> {
        Site::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for SiteSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(s.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_round_trips_through_its_name_and_has_its_own_bit() {
        let mut all = SiteSet::EMPTY;
        for s in Site::ALL {
            assert_eq!(Site::from_name(s.name()), Some(s));
            assert!(!all.contains(s), "{s} shares a bit");
            all = all.with(s);
        }
        assert_eq!(all.iter().count(), Site::ALL.len());
        assert_eq!(Site::from_name("nope"), None);
    }
}
