//! The hosted clock: the time-stamp counter and its rate.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the TSC is measured against the monotonic clock.
pub const CALIBRATION: Duration = Duration::from_millis(50);

/// The time-stamp counter (unfenced).
pub use urpc::bench::rdtsc;

/// TSC ticks per second, measured once per process: the TSC against
/// `Instant` over 50 ms.
pub fn tsc_hz() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    *HZ.get_or_init(|| {
        let (t0, c0) = (Instant::now(), rdtsc());
        std::thread::sleep(CALIBRATION);
        let (c1, t1) = (rdtsc(), Instant::now());
        let nanos = t1.duration_since(t0).as_nanos().max(1);
        (u128::from(c1.wrapping_sub(c0)) * 1_000_000_000 / nanos) as u64
    })
}
