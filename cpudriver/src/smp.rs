//! Bringing up the other cores, and the boot handshake with them.
//!
//! The boot core gives every other core its clock rates (in the `given`
//! half of the core's parameter page), sends INIT and two start-up IPIs, and
//! halts until every core reports [`Stage::Up`] or the timeout passes. A
//! core that does not come up is named with the stage it reached. Then the
//! boot core sends each core a notification IPI and waits for all of them
//! to answer with one, which proves IPIs work in both directions.

use core::sync::atomic::{Ordering, fence};

use alloc::vec::Vec;
use boot::handoff::{BootParams, EarlyError, Stage};
use boot::protocol::ExitCode;
use boot::x86::TRAMPOLINE_PHYS;

use crate::arch::{apic, rdtsc, trap::NOTIFY_VECTOR};
use crate::exit::exit;
use crate::percpu::{self, params_of};
use crate::timing::{self, Clocks, halt_until, ms_to_cycles};

/// Spins for `cycles` TSC cycles.
fn delay(cycles: u64) {
    let start = rdtsc();
    while rdtsc() - start < cycles {
        core::hint::spin_loop();
    }
}

fn stage_of(params: &BootParams) -> Stage {
    Stage::from_u32(params.report.stage.load(Ordering::Acquire)).unwrap_or(Stage::Failed)
}

/// Writes the measured clock rates into every other core's parameters.
fn hand_out_clocks(clocks: Clocks) {
    let me = percpu::this();
    for core in 1..me.count {
        let params = params_of(core) as *const BootParams as *mut BootParams;
        // SAFETY: the boot core is the only writer of `given`, and the core
        // has not been started yet, so nothing reads it concurrently.
        unsafe {
            (&raw mut (*params).given.tsc_hz).write_volatile(clocks.tsc_hz);
            (&raw mut (*params).given.lapic_timer_hz).write_volatile(clocks.lapic_hz);
        }
    }
    fence(Ordering::SeqCst);
}

/// Starts every other core and waits until all are up. Returns the TSC at
/// which the last one came up.
pub fn start_all(clocks: Clocks) -> u64 {
    let me = percpu::this();
    let config = me.params.given.config;
    hand_out_clocks(clocks);
    let others: Vec<u32> = (1..me.count).collect();
    if others.is_empty() {
        return rdtsc();
    }
    let page = (TRAMPOLINE_PHYS >> 12) as u8;
    for &core in &others {
        apic::send_init(params_of(core).given.apic_id);
    }
    delay(ms_to_cycles(10));
    for &core in &others {
        apic::send_startup(params_of(core).given.apic_id, page);
    }
    delay(timing::get().tsc_hz / 5000);
    for &core in &others {
        let p = params_of(core);
        if stage_of(p) == Stage::Silent {
            apic::send_startup(p.given.apic_id, page);
        }
    }
    let timeout = ms_to_cycles(u64::from(config.ap_timeout_ms));
    let deadline = rdtsc() + timeout;
    let all_up = || others.iter().all(|&c| stage_of(params_of(c)) == Stage::Up);
    if !halt_until(deadline, ms_to_cycles(5), all_up) {
        report_stragglers(&others, config.ap_timeout_ms);
    }
    others
        .iter()
        .map(|&c| params_of(c).report.up_tsc.load(Ordering::Relaxed))
        .max()
        .unwrap_or_else(rdtsc)
}

fn report_stragglers(others: &[u32], timeout_ms: u32) -> ! {
    for &core in others {
        let p = params_of(core);
        let stage = stage_of(p);
        if stage == Stage::Up {
            continue;
        }
        let error = EarlyError::from_u32(p.report.error.load(Ordering::Relaxed));
        log::error!(
            "core {core} (APIC id {}) did not come up within {timeout_ms} ms: it {}{}",
            p.given.apic_id,
            stage.describe(),
            if error == EarlyError::None { "" } else { " " },
        );
        if error != EarlyError::None {
            log::error!("core {core} reported {error:?}");
        }
        crate::console::record(
            "core-timeout",
            format_args!(
                "core={core} apic={} stage={stage:?} error={error:?}",
                p.given.apic_id
            ),
        );
    }
    exit(ExitCode::Fail)
}

/// Sends every other core a notification and waits for each to answer.
/// Returns the round's duration in TSC cycles.
pub fn ipi_round() -> u64 {
    let me = percpu::this();
    let config = me.params.given.config;
    let start = rdtsc();
    let before: Vec<u32> = (1..me.count)
        .map(|c| params_of(c).report.ipis.load(Ordering::Acquire))
        .collect();
    for core in 1..me.count {
        apic::send_ipi(params_of(core).given.apic_id, NOTIFY_VECTOR);
    }
    let deadline = rdtsc() + ms_to_cycles(u64::from(config.ap_timeout_ms));
    let answered =
        |c: u32| params_of(c).report.ipis.load(Ordering::Acquire) > before[c as usize - 1];
    if !halt_until(deadline, ms_to_cycles(5), || (1..me.count).all(answered)) {
        for core in (1..me.count).filter(|&c| !answered(c)) {
            log::error!("core {core} did not answer a notification IPI");
        }
        exit(ExitCode::Fail);
    }
    rdtsc() - start
}

/// A notification IPI arrived. Other cores count it and answer the boot
/// core; the boot core's waits simply wake up.
pub fn on_notify() {
    crate::user::on_notify();
    let me = percpu::this();
    if me.id != 0 {
        me.params.report.ipis.fetch_add(1, Ordering::AcqRel);
        apic::send_ipi(me.params.given.boot_apic_id, NOTIFY_VECTOR);
    }
}

/// Marks this (non-boot) core as up and tells the boot core.
pub fn announce_up() {
    let me = percpu::this();
    me.params.report.up_tsc.store(rdtsc(), Ordering::Relaxed);
    percpu::report_stage(Stage::Up);
    apic::send_ipi(me.params.given.boot_apic_id, NOTIFY_VECTOR);
}

/// The clock rates the boot core handed to this core, if it did.
pub fn clocks_given() -> Option<Clocks> {
    let g = &percpu::this().params.given;
    (g.tsc_hz > 0 && g.lapic_timer_hz > 0).then_some(Clocks {
        tsc_hz: g.tsc_hz,
        lapic_hz: g.lapic_timer_hz,
    })
}
