//! The core's clocks: the TSC frequency and the local APIC timer rate,
//! measured once by the boot core and handed to the others.

use spin::Once;

use crate::arch::{apic, rdtsc, wait_for_interrupt};

/// The rates this core works with.
#[derive(Clone, Copy, Debug)]
pub struct Clocks {
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// Local APIC timer ticks per second at divide-by-16.
    pub lapic_hz: u64,
}

static CLOCKS: Once<Clocks> = Once::new();

/// Records this core's clock rates.
pub fn set(clocks: Clocks) {
    CLOCKS.call_once(|| clocks);
}

/// This core's clock rates.
pub fn get() -> Clocks {
    *CLOCKS.get().expect("clocks used before they were measured")
}

/// TSC cycles in `ms` milliseconds.
pub fn ms_to_cycles(ms: u64) -> u64 {
    get().tsc_hz / 1000 * ms
}

/// Microseconds in `cycles` TSC cycles.
pub fn cycles_to_us(cycles: u64) -> u64 {
    (u128::from(cycles) * 1_000_000 / u128::from(get().tsc_hz.max(1))) as u64
}

/// Arms the local APIC timer to fire after about `cycles` TSC cycles.
pub fn arm_after(cycles: u64) {
    let c = get();
    let ticks = u128::from(cycles) * u128::from(c.lapic_hz) / u128::from(c.tsc_hz.max(1));
    apic::timer_oneshot(ticks.clamp(1, u128::from(u32::MAX)) as u32);
}

/// Halts for about `us` microseconds, or until an interrupt arrives if
/// sooner. Before the clocks are known it only spins briefly.
pub fn nap_us(us: u64) {
    match CLOCKS.get() {
        Some(c) => {
            arm_after(c.tsc_hz / 1_000_000 * us);
            wait_for_interrupt();
            apic::timer_stop();
        }
        None => {
            for _ in 0..1000 {
                core::hint::spin_loop();
            }
        }
    }
}

/// Halts until `done()` holds or `deadline` (a TSC value) passes, waking on
/// every interrupt and at least every `tick` cycles. Returns whether `done()`
/// held.
pub fn halt_until(deadline: u64, tick: u64, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            apic::timer_stop();
            return true;
        }
        let now = rdtsc();
        if now >= deadline {
            apic::timer_stop();
            return false;
        }
        arm_after((deadline - now).min(tick));
        wait_for_interrupt();
    }
}

/// How long [`check_timer`] waits for the interrupt, in seconds. A healthy
/// timer answers in about 100 µs; the bound is wide because under a loaded
/// host, or a hypervisor that emulates ring 0, a vCPU can lose the
/// processor for a good part of a second.
pub const CHECK_TIMER_S: u64 = 5;

/// Checks that the local APIC timer interrupts this core: arms it for about
/// 100 µs and waits up to [`CHECK_TIMER_S`] seconds for the interrupt,
/// halting in between when `halt` (otherwise polling). Returns the cycles
/// it took.
pub fn check_timer(halt: bool) -> Option<u64> {
    let before = crate::irq::timer_ticks();
    let start = rdtsc();
    let deadline = start + get().tsc_hz * CHECK_TIMER_S;
    arm_after(get().tsc_hz / 10_000);
    while crate::irq::timer_ticks() == before {
        if rdtsc() > deadline {
            apic::timer_stop();
            return None;
        }
        if halt {
            wait_for_interrupt();
        } else {
            crate::arch::poll_interrupts();
        }
    }
    Some(rdtsc() - start)
}
