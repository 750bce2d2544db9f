//! Interrupt handlers of the CPU driver. They run with interrupts disabled,
//! only inside `arch::wait_for_interrupt` / `arch::poll_interrupts`.

use core::sync::atomic::{AtomicU64, Ordering};

static TIMER_TICKS: AtomicU64 = AtomicU64::new(0);
static NOTIFICATIONS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// The local APIC timer fired.
pub fn timer() {
    TIMER_TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Another core sent a notification IPI.
pub fn notify() {
    NOTIFICATIONS.fetch_add(1, Ordering::Relaxed);
    crate::smp::on_notify();
}

/// An interrupt arrived on a vector nobody uses.
pub fn unexpected(vector: u64) {
    if UNEXPECTED.fetch_add(1, Ordering::Relaxed) == 0 {
        log::warn!("unexpected interrupt on vector {vector:#x} (further ones are counted)");
    }
}

/// Timer interrupts taken so far.
pub fn timer_ticks() -> u64 {
    TIMER_TICKS.load(Ordering::Relaxed)
}
