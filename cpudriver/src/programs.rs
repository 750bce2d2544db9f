//! Which ring-3 programs a core runs, from the boot modules.
//!
//! Every core runs the `monitor` program with the `user=` argument string.
//! With `test=user-probe`, the last core first runs `probe`. With
//! `test=user-panic` the last core's monitor, and with `test=user-oom` the
//! boot core's, is asked to fail on purpose (`abi::StartTest`).
//!
//! The boot core goes first ([`start_first`]), after it has printed
//! `boot-done`: it sets its go-ahead (`boot::handoff::Report::programs_go`)
//! and notifies the other cores, which wait for it
//! ([`start_when_released`]) before they start their programs. So no
//! program runs, and no program's failure can cut the boot core's report,
//! before `boot-done`.
//!
//! Without boot modules the kernel has nothing to run: the boot core ends
//! the run with a pass once every core is up, and the others idle.

use core::sync::atomic::Ordering;

use abi::StartTest;
use boot::cmdline::SelfTest;
use boot::protocol::ExitCode;

use crate::arch::apic;
use crate::arch::trap::NOTIFY_VECTOR;
use crate::console::record;
use crate::exit::exit;
use crate::{frames, initrd, percpu, user};

/// The monitor's module name.
pub const MONITOR: &str = "monitor";
/// The probe's module name.
pub const PROBE: &str = "probe";

fn spawn(name: &str, args: &str, test: StartTest) {
    let Some(image) = initrd::find(name) else {
        let mut names: heapless::String<256> = heapless::String::new();
        let _ = initrd::names(&mut names);
        log::error!("no module '{name}' in the boot modules (they hold: {names})");
        exit(ExitCode::Fail);
    };
    if let Err(e) = user::spawn(name, image, args, test) {
        log::error!("cannot start '{name}': {e}");
        exit(ExitCode::Fail);
    }
}

/// The boot core, after `boot-done`: releases the other cores and starts
/// its own programs.
pub fn start_first() -> ! {
    let core = percpu::this();
    if initrd::archive().is_some() {
        core.params.report.programs_go.store(1, Ordering::Release);
        for other in 1..core.count {
            apic::send_ipi(percpu::params_of(other).given.apic_id, NOTIFY_VECTOR);
        }
    }
    start()
}

/// Another core: waits for the boot core's go-ahead, then starts its
/// programs. Without it (a run without programs) the core idles here.
pub fn start_when_released() -> ! {
    let boot = &percpu::params_of(0).report;
    while boot.programs_go.load(Ordering::Acquire) == 0 {
        crate::arch::wait_for_interrupt();
    }
    start()
}

/// Starts this core's programs; the boot core ends a module-less run.
fn start() -> ! {
    let core = percpu::this();
    let given = &core.params.given;
    if initrd::archive().is_none() {
        if core.id == 0 {
            exit(ExitCode::Pass);
        }
        loop {
            crate::arch::wait_for_interrupt();
        }
    }
    frames::init(core.first_free, given.partition.end);
    let args = given.config.user.as_str();
    let mut count = 1;
    let last = core.id == core.count - 1;
    if given.config.test == Some(SelfTest::UserProbe) && last {
        spawn(PROBE, args, StartTest::None);
        count += 1;
    }
    let monitor = match given.config.test {
        Some(SelfTest::UserPanic) if last => StartTest::Panic,
        Some(SelfTest::UserOom) if core.id == 0 => StartTest::ExhaustHeap,
        _ => StartTest::None,
    };
    spawn(MONITOR, args, monitor);
    record(
        "programs",
        format_args!("count={count} free_kib={}", frames::available() / 1024),
    );
    user::run()
}
