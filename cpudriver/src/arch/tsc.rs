//! Measuring the TSC frequency once, on the boot core.
//!
//! The reference is channel 0 of the 8254 PIT (1.193182 MHz), read by latch
//! commands while it counts down in mode 0, so it needs no interrupt and no
//! speaker gate. Three windows of about 10 ms are measured and the median
//! kept. Where the PIT does not count, the CPUID leaves that report the
//! frequency (0x15, then the hypervisor leaf 0x40000010) are used instead.

use super::{inb, outb, rdtsc};

const PIT_HZ: u64 = 1_193_182;
/// PIT ticks per measuring window (10 ms).
const WINDOW: u16 = 11_932;

/// Where a TSC frequency came from, named in reports ([`Source::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Source {
    /// Measured against the PIT.
    #[strum(serialize = "pit")]
    Pit,
    /// CPUID leaf 0x15 (crystal clock ratio).
    #[strum(serialize = "cpuid-0x15")]
    CpuidCrystal,
    /// The hypervisor timing leaf 0x40000010.
    #[strum(serialize = "cpuid-0x40000010")]
    Hypervisor,
}

impl Source {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

fn pit_count() -> u16 {
    // SAFETY: latching channel 0 and reading its count (low then high byte)
    // only reads the counter; the channel is not used for interrupts.
    unsafe {
        outb(0x43, 0x00);
        let lo = inb(0x40);
        let hi = inb(0x40);
        u16::from_le_bytes([lo, hi])
    }
}

/// Waits for the PIT count to change; returns the new count and the TSC at
/// that edge, or `None` if it does not change within `limit` TSC cycles.
fn edge(limit: u64) -> Option<(u16, u64)> {
    let start = rdtsc();
    let first = pit_count();
    loop {
        let now = pit_count();
        let t = rdtsc();
        if now != first {
            return Some((now, t));
        }
        if t - start > limit {
            return None;
        }
    }
}

fn pit_window() -> Option<u64> {
    // SAFETY: channel 0, lobyte/hibyte access, mode 0, binary, count 0xffff:
    // the counter runs down for 55 ms; its output line is masked.
    unsafe {
        outb(0x43, 0x30);
        outb(0x40, 0xff);
        outb(0x40, 0xff);
    }
    // A generous limit in TSC cycles (the frequency is still unknown): even
    // a 10 GHz TSC ticks far fewer times than this in 55 ms.
    let limit = 2_000_000_000;
    let (c0, t0) = edge(limit)?;
    loop {
        let (c, t) = edge(limit)?;
        let elapsed = c0.wrapping_sub(c);
        if elapsed >= WINDOW {
            return Some((t - t0) * PIT_HZ / u64::from(elapsed));
        }
        if c > c0 {
            return None;
        }
    }
}

fn plausible(hz: u64) -> bool {
    (100_000_000..20_000_000_000).contains(&hz)
}

fn from_cpuid() -> Option<(u64, Source)> {
    let cpuid = raw_cpuid::CpuId::new();
    if let Some(info) = cpuid.get_tsc_info()
        && let Some(hz) = info.tsc_frequency()
        && plausible(hz)
    {
        return Some((hz, Source::CpuidCrystal));
    }
    let hv = cpuid.get_hypervisor_info()?;
    let khz = hv.tsc_frequency()?;
    let hz = u64::from(khz) * 1000;
    plausible(hz).then_some((hz, Source::Hypervisor))
}

/// Measures the TSC frequency in Hz.
pub fn measure() -> Option<(u64, Source)> {
    let mut runs = [0u64; 3];
    for run in runs.iter_mut() {
        match pit_window() {
            Some(hz) if plausible(hz) => *run = hz,
            _ => return from_cpuid(),
        }
    }
    runs.sort_unstable();
    Some((runs[1], Source::Pit))
}
