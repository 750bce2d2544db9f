//! The core's local APIC: identification, end of interrupt, IPIs and the
//! timer.
//!
//! Where the CPU has x2APIC, the APIC is switched to x2APIC mode and used
//! through MSRs, with 32-bit APIC ids (so more than 255 cores can be
//! addressed). Otherwise it is used in xAPIC mode through its MMIO page,
//! which each core maps uncached in its direct map.

use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::model_specific::Msr;

use crate::layout::phys_to_virt;

/// Physical address of the xAPIC register page.
pub const XAPIC_PHYS: u64 = 0xfee0_0000;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;

/// Register offsets in the xAPIC page; the x2APIC MSR is `0x800 + off / 16`.
mod reg {
    pub const ID: u32 = 0x20;
    pub const TPR: u32 = 0x80;
    pub const EOI: u32 = 0xb0;
    pub const SVR: u32 = 0xf0;
    pub const ICR_LOW: u32 = 0x300;
    pub const ICR_HIGH: u32 = 0x310;
    pub const LVT_TIMER: u32 = 0x320;
    pub const TIMER_INITIAL: u32 = 0x380;
    pub const TIMER_CURRENT: u32 = 0x390;
    pub const TIMER_DIVIDE: u32 = 0x3e0;
}

const ICR_DELIVERY_PENDING: u32 = 1 << 12;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_INIT: u32 = 5 << 8;
const ICR_STARTUP: u32 = 6 << 8;
const LVT_MASKED: u32 = 1 << 16;
/// Divide configuration value for divide-by-16.
const DIVIDE_BY_16: u32 = 0b0011;

static X2APIC: AtomicBool = AtomicBool::new(false);

/// Whether this core drives its APIC in x2APIC mode.
pub fn x2apic() -> bool {
    X2APIC.load(Ordering::Relaxed)
}

fn read(offset: u32) -> u32 {
    if x2apic() {
        // SAFETY: reading an x2APIC register MSR in x2APIC mode has no side
        // effects for the registers this module reads.
        unsafe { Msr::new(0x800 + offset / 16).read() as u32 }
    } else {
        let addr = phys_to_virt(XAPIC_PHYS) + u64::from(offset);
        // SAFETY: the xAPIC page is mapped uncached at this address in every
        // core's direct map, and `offset` is a register offset.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }
}

fn write(offset: u32, value: u32) {
    if x2apic() {
        // SAFETY: writing an x2APIC register MSR; callers pass values valid
        // for that register.
        unsafe { Msr::new(0x800 + offset / 16).write(u64::from(value)) }
    } else {
        let addr = phys_to_virt(XAPIC_PHYS) + u64::from(offset);
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
    }
}

/// Enables this core's local APIC, in x2APIC mode when `use_x2apic`.
pub fn init(use_x2apic: bool) {
    let mut base = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; setting the enable
    // bit (and the x2APIC bit where CPUID reports x2APIC) is the documented
    // way to turn the local APIC on, without moving its base address.
    unsafe {
        let mut value = base.read() | APIC_BASE_ENABLE;
        if use_x2apic {
            value |= APIC_BASE_X2APIC;
        }
        base.write(value);
    }
    X2APIC.store(use_x2apic, Ordering::Relaxed);
    write(reg::TPR, 0);
    write(reg::SVR, 0x100 | u32::from(super::trap::SPURIOUS_VECTOR));
    write(
        reg::LVT_TIMER,
        LVT_MASKED | u32::from(super::trap::TIMER_VECTOR),
    );
}

/// This core's APIC id.
pub fn id() -> u32 {
    let raw = read(reg::ID);
    if x2apic() { raw } else { raw >> 24 }
}

/// Signals the end of the interrupt being handled.
pub fn eoi() {
    write(reg::EOI, 0);
}

fn send(dest: u32, command: u32) {
    if x2apic() {
        // SAFETY: in x2APIC mode the ICR is one 64-bit MSR, destination in
        // the high half; `command` is a valid ICR command.
        unsafe { Msr::new(0x830).write((u64::from(dest) << 32) | u64::from(command)) }
    } else {
        write(reg::ICR_HIGH, dest << 24);
        write(reg::ICR_LOW, command);
        while read(reg::ICR_LOW) & ICR_DELIVERY_PENDING != 0 {
            core::hint::spin_loop();
        }
    }
}

/// Sends a fixed interrupt with `vector` to the core with APIC id `dest`.
pub fn send_ipi(dest: u32, vector: u8) {
    send(dest, u32::from(vector));
}

/// Sends an INIT IPI (level assert) to `dest`.
pub fn send_init(dest: u32) {
    send(dest, ICR_INIT | ICR_LEVEL_ASSERT);
}

/// Sends a start-up IPI to `dest`, starting it at physical page `page`.
pub fn send_startup(dest: u32, page: u8) {
    send(dest, ICR_STARTUP | ICR_LEVEL_ASSERT | u32::from(page));
}

/// Arms the timer to fire once on the timer vector after `ticks`
/// divide-by-16 timer ticks.
pub fn timer_oneshot(ticks: u32) {
    write(reg::TIMER_DIVIDE, DIVIDE_BY_16);
    write(reg::LVT_TIMER, u32::from(super::trap::TIMER_VECTOR));
    write(reg::TIMER_INITIAL, ticks.max(1));
}

/// Stops the timer.
pub fn timer_stop() {
    write(reg::TIMER_INITIAL, 0);
    write(
        reg::LVT_TIMER,
        LVT_MASKED | u32::from(super::trap::TIMER_VECTOR),
    );
}

/// Measures the timer's divide-by-16 rate against the TSC, with the timer
/// masked, over about `window_cycles` TSC cycles.
pub fn measure_timer_hz(tsc_hz: u64, window_cycles: u64) -> u64 {
    write(reg::TIMER_DIVIDE, DIVIDE_BY_16);
    write(
        reg::LVT_TIMER,
        LVT_MASKED | u32::from(super::trap::TIMER_VECTOR),
    );
    write(reg::TIMER_INITIAL, u32::MAX);
    let t0 = super::rdtsc();
    let c0 = read(reg::TIMER_CURRENT);
    while super::rdtsc() - t0 < window_cycles {
        core::hint::spin_loop();
    }
    let c1 = read(reg::TIMER_CURRENT);
    let t1 = super::rdtsc();
    timer_stop();
    let ticks = u64::from(c0.saturating_sub(c1));
    (u128::from(ticks) * u128::from(tsc_hz) / u128::from((t1 - t0).max(1))) as u64
}
