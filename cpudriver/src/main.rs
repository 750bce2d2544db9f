//! The Flotilla CPU driver.
//!
//! One instance runs on every core, in ring 0: single threaded, event
//! driven, with interrupts off except while it waits. The instances share no
//! kernel state: every core builds its own page tables in its own memory
//! partition and maps its own copy of the kernel's writable data at the
//! same virtual address, so every `static` in this crate is per core (see
//! `layout` and `paging`). The only memory two cores write is the boot
//! handshake and the serial-line lock (see `boot::handoff`).
//!
//! Boot: `early` runs on the boot page tables and builds the core's world;
//! [`core_main`] runs in it. The boot core measures the clocks, starts the
//! other cores (`smp`) and reports; the others report and wait for its
//! go-ahead to start their programs (`programs`).
#![no_std]
#![no_main]

extern crate alloc;

mod acpi;
mod arch;
mod capdb;
mod console;
mod early;
mod exit;
mod fault;
mod frames;
mod heap;
mod initrd;
mod irq;
mod layout;
mod paging;
mod percpu;
mod programs;
mod selftest;
mod smp;
mod timing;
mod user;

use core::sync::atomic::{AtomicU64, Ordering};

use boot::handoff::Stage;
use boot::kernel_cmdline::SelfTest;
use boot::protocol::ExitCode;

use crate::arch::cpu::Identity;
use crate::arch::rdtsc;
use crate::console::record;
use crate::exit::exit;
use crate::percpu::Core;
use crate::timing::Clocks;

/// The TSC when this core entered [`core_main`].
static MAIN_TSC: AtomicU64 = AtomicU64::new(0);

/// The first function on the core's own page tables and kernel stack.
extern "C" fn core_main(params_phys: u64, first_free: u64) -> ! {
    MAIN_TSC.store(rdtsc(), Ordering::Relaxed);
    let core = percpu::init(params_phys, first_free);
    percpu::report_stage(Stage::OwnPaging);
    console::init(core.header, core.id);
    console::init_log(core.params.given.config.log);
    arch::gdt::init();
    arch::trap::init();
    heap::init(layout::heap_size(&core.params.given.partition));
    let identity = arch::cpu::identify();
    if core.id == 0 {
        arch::pic::disable();
    }
    arch::apic::init(identity.features.x2apic);
    if identity.features.smep {
        use x86_64::registers::control::{Cr4, Cr4Flags};
        // SAFETY: with SMEP the kernel can no longer execute user pages,
        // which it never does on purpose.
        unsafe { Cr4::update(|f| f.insert(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION)) };
    }
    user::init(identity.features.hypervisor);
    if arch::apic::id() != core.apic_id {
        log::warn!(
            "APIC reports id {} but ACPI listed this core as {}",
            arch::apic::id(),
            core.apic_id
        );
    }
    if core.id == 0 {
        boot_core(core, &identity)
    } else {
        other_core(core, &identity)
    }
}

/// Prints the structured `core-up` record for this core.
fn report_up(core: &Core, identity: &Identity, timer_cycles: u64) {
    let mut features: heapless::String<256> = heapless::String::new();
    let _ = identity.features.write_names(&mut features);
    let up = rdtsc().saturating_sub(core.params.given.boot_tsc);
    let p = core.params.given.partition;
    log::debug!(
        "up: APIC id {}, node {}, {} family {:#x} model {:#x} \"{}\", partition {:#x}-{:#x} ({} MiB, {} MiB not yet used)",
        core.apic_id,
        core.node,
        identity.vendor,
        identity.family,
        identity.model,
        identity.brand,
        p.start,
        p.end,
        p.len() >> 20,
        p.end.saturating_sub(core.first_free) >> 20
    );
    record(
        "core-up",
        format_args!(
            "apic={} node={} x2apic={} main_cycles={} up_cycles={up} timer_cycles={timer_cycles} features={features}",
            core.apic_id,
            core.node,
            u8::from(arch::apic::x2apic()),
            MAIN_TSC
                .load(Ordering::Relaxed)
                .saturating_sub(core.params.given.boot_tsc),
        ),
    );
}

fn boot_core(core: &'static Core, identity: &Identity) -> ! {
    let given = &core.params.given;
    let config = given.config;
    log::info!(
        "Flotilla CPU driver: {} core(s), {} NUMA node(s), {} MiB usable RAM",
        core.count,
        given.numa_nodes,
        given.usable_bytes >> 20
    );
    for c in 0..core.count {
        let g = &percpu::params_of(c).given;
        log::debug!(
            "core {c}: APIC id {}, node {}, partition {:#x}-{:#x}",
            g.apic_id,
            g.node,
            g.partition.start,
            g.partition.end
        );
    }
    log::debug!(
        "handshake area {:#x}-{:#x}, shared pool {:#x}-{:#x}, initrd {:#x}-{:#x}",
        given.handshake.start,
        given.handshake.end,
        given.shared_pool.start,
        given.shared_pool.end,
        given.initrd.start,
        given.initrd.end
    );
    if matches!(config.test, Some(SelfTest::ApPanic | SelfTest::ApStall)) && core.count < 2 {
        log::error!(
            "test={} needs at least 2 cores",
            config.test.map_or("", |t| t.name())
        );
        exit(ExitCode::Fail);
    }

    if matches!(
        config.test,
        Some(SelfTest::FuzzCorrupt | SelfTest::FuzzUntyped)
    ) && config.fuzz.is_none()
    {
        log::error!(
            "test={} needs a fuzzing run (fuzz=SEED:CALLS)",
            config.test.map_or("", |t| t.name())
        );
        exit(ExitCode::Fail);
    }

    let Some((tsc_hz, source)) = arch::tsc::measure() else {
        log::error!(
            "cannot measure the TSC frequency: the PIT does not count and CPUID does not say"
        );
        exit(ExitCode::Fail);
    };
    let lapic_hz = arch::apic::measure_timer_hz(tsc_hz, tsc_hz / 100);
    let clocks = Clocks { tsc_hz, lapic_hz };
    timing::set(clocks);
    record(
        "clocks",
        format_args!(
            "tsc_hz={tsc_hz} source={} lapic_timer_hz={lapic_hz}",
            source.name()
        ),
    );
    let Some(timer_cycles) = timing::check_timer(false) else {
        log::error!(
            "the local APIC timer did not interrupt within {} seconds",
            timing::CHECK_TIMER_S
        );
        exit(ExitCode::Fail);
    };
    percpu::report_stage(Stage::Initialised);
    report_up(core, identity, timer_cycles);
    if config.test == Some(SelfTest::Isolation) {
        selftest::isolation();
    }
    percpu::report_stage(Stage::Up);

    let all_up = smp::start_all(clocks);
    let ipi_cycles = smp::ipi_round();
    let up_cycles = all_up.saturating_sub(given.boot_tsc);
    let (heap_used, heap_free) = heap::usage();
    log::info!(
        "all {} cores up {} us after entry; notification round trip to every core took {} us",
        core.count,
        timing::cycles_to_us(up_cycles),
        timing::cycles_to_us(ipi_cycles)
    );
    log::debug!("boot core heap: {heap_used} bytes used, {heap_free} free");
    record(
        "boot-done",
        format_args!(
            "cores={} up_cycles={up_cycles} up_us={} ipi_round_cycles={ipi_cycles} tsc_hz={tsc_hz}",
            core.count,
            timing::cycles_to_us(up_cycles)
        ),
    );
    match config.test {
        Some(SelfTest::PageFault) => selftest::page_fault(),
        Some(SelfTest::DivideError) => selftest::divide_error(),
        Some(SelfTest::StackOverflow) => selftest::stack_overflow(),
        Some(
            SelfTest::Isolation
            | SelfTest::ApPanic
            | SelfTest::ApStall
            | SelfTest::UserProbe
            | SelfTest::UserPanic
            | SelfTest::UserOom
            | SelfTest::Caps
            | SelfTest::CapsBench
            | SelfTest::CapsIsolation
            | SelfTest::CapsXfer
            | SelfTest::CapsDispatch
            | SelfTest::Lmp
            | SelfTest::FuzzCorrupt
            | SelfTest::FuzzUntyped
            | SelfTest::Hostile(_),
        )
        | None => {}
    }
    programs::start_first()
}

fn other_core(core: &'static Core, identity: &Identity) -> ! {
    let Some(clocks) = smp::clocks_given() else {
        log::error!("the boot core handed over no clock rates");
        arch::halt_forever();
    };
    timing::set(clocks);
    percpu::report_stage(Stage::Initialised);
    let Some(timer_cycles) = timing::check_timer(true) else {
        log::error!(
            "the local APIC timer did not interrupt within {} seconds",
            timing::CHECK_TIMER_S
        );
        arch::halt_forever();
    };
    let config = core.params.given.config;
    let last = core.id == core.count - 1;
    if config.test == Some(SelfTest::ApPanic) && last {
        panic!("deliberate panic on core {} (test=ap-panic)", core.id);
    }
    if config.test == Some(SelfTest::ApStall) && last {
        log::warn!("test=ap-stall: stopping before reporting up");
        arch::halt_forever();
    }
    report_up(core, identity, timer_cycles);
    if config.test == Some(SelfTest::Isolation) {
        selftest::isolation();
    }
    smp::announce_up();
    // The boot core finishes booting (its notification round, `boot-done`
    // and the check of the initrd) before any core starts its programs.
    programs::start_when_released()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    fault::panic(info)
}
