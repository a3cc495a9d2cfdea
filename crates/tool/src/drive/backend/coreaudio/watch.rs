//! What the device listeners saw, kept in atomics: the HAL calls its
//! property listeners on a thread of its own (and the overload listener
//! on the device's IO thread), so they only store; the stream turns the
//! state into [`Stream::failure`](crate::drive::backend::Stream::failure)'s
//! message.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::Side;
use super::format::whole_hz;

/// One device's listener state.
#[derive(Debug)]
pub struct DeviceWatch {
    side: Side,
    name: String,
    rate: u32,
    gone: AtomicBool,
    /// The rate it changed to, in Hz; 0 while it has not changed.
    changed_to: AtomicU32,
    overloads: AtomicU64,
}

impl DeviceWatch {
    /// A watch on `side`'s device `name`, expected to run at `rate` Hz.
    pub fn new(side: Side, name: impl Into<String>, rate: u32) -> DeviceWatch {
        DeviceWatch {
            side,
            name: name.into(),
            rate,
            gone: AtomicBool::new(false),
            changed_to: AtomicU32::new(0),
            overloads: AtomicU64::new(0),
        }
    }

    /// The device went away (`kAudioDevicePropertyDeviceIsAlive` false, or
    /// its properties no longer readable). Never allocates or blocks.
    pub fn set_gone(&self) {
        self.gone.store(true, Ordering::Release);
    }

    /// The device now runs at `rate` Hz (`kAudioDevicePropertyNominalSampleRate`).
    /// A rate other than the expected one is kept even if the device
    /// changes back: the stream's format was set for the old one. Never
    /// allocates or blocks.
    pub fn set_rate(&self, rate: f64) {
        let hz = whole_hz(rate).unwrap_or(u32::MAX);
        if hz != self.rate {
            self.changed_to.store(hz, Ordering::Release);
        }
    }

    /// The device reported an overload (`kAudioDeviceProcessorOverload`):
    /// an IO cycle missed its deadline. Called on the IO thread: wait-free.
    pub fn add_overload(&self) {
        self.overloads.fetch_add(1, Ordering::Relaxed);
    }

    /// Overloads reported so far.
    pub fn overloads(&self) -> u64 {
        self.overloads.load(Ordering::Relaxed)
    }

    /// Why the stream cannot go on because of this device, if it cannot.
    pub fn failure(&self) -> Option<String> {
        let (side, name) = (self.side, &self.name);
        if self.gone.load(Ordering::Acquire) {
            return Some(format!("{side} device '{name}' disappeared"));
        }
        match self.changed_to.load(Ordering::Acquire) {
            0 => None,
            u32::MAX => Some(format!(
                "{side} device '{name}' changed its sample rate from {} Hz to a fractional rate",
                self.rate
            )),
            hz => Some(format!(
                "{side} device '{name}' changed its sample rate from {} Hz to {hz} Hz; the engine \
                 runs at {} Hz",
                self.rate, self.rate
            )),
        }
    }
}

/// The first failure among `watches`, in order (input first).
pub fn failure(watches: &[&DeviceWatch]) -> Option<String> {
    watches.iter().find_map(|w| w.failure())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_device_is_no_failure() {
        let w = DeviceWatch::new(Side::Input, "BlackHole 2ch", 48_000);
        w.set_rate(48_000.0);
        assert_eq!(w.failure(), None);
    }

    #[test]
    fn a_device_that_disappears_is_named() {
        let w = DeviceWatch::new(Side::Output, "AirPods", 48_000);
        w.set_gone();
        assert_eq!(w.failure().unwrap(), "output device 'AirPods' disappeared");
    }

    #[test]
    fn a_rate_change_names_the_device_and_both_rates_and_sticks() {
        let w = DeviceWatch::new(Side::Input, "BlackHole 16ch", 48_000);
        w.set_rate(44_100.0);
        w.set_rate(48_000.0);
        assert_eq!(
            w.failure().unwrap(),
            "input device 'BlackHole 16ch' changed its sample rate from 48000 Hz to 44100 Hz; \
             the engine runs at 48000 Hz"
        );
    }

    #[test]
    fn disappearing_outranks_a_rate_change_and_input_comes_first() {
        let input = DeviceWatch::new(Side::Input, "a", 48_000);
        let output = DeviceWatch::new(Side::Output, "b", 48_000);
        output.set_gone();
        assert_eq!(
            failure(&[&input, &output]).unwrap(),
            "output device 'b' disappeared"
        );
        input.set_rate(96_000.0);
        input.set_gone();
        assert_eq!(
            failure(&[&input, &output]).unwrap(),
            "input device 'a' disappeared"
        );
    }

    #[test]
    fn overloads_are_counted_from_any_thread() {
        let w = std::sync::Arc::new(DeviceWatch::new(Side::Output, "x", 48_000));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let w = w.clone();
                std::thread::spawn(move || (0..100).for_each(|_| w.add_overload()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(w.overloads(), 400);
        assert_eq!(w.failure(), None, "an overload is an xrun, not a failure");
    }
}
