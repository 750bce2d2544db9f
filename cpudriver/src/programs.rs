//! Which ring-3 programs a core runs, from the boot modules, and when.
//!
//! Every core runs the `monitor` program with the `user=` argument string,
//! and gives it the core's first cspace (`crate::capdb`). With
//! `test=user-probe`, the last core first runs `probe` (with no cspace).
//! With `test=caps`, every core first runs `captest` with the argument
//! `check`, and with `test=caps-bench` the boot core runs it with `bench`;
//! `captest` holds the same first cspace as the monitor that follows it.
//! With `test=caps-isolation` every core runs it with `isolation`, and with
//! `test=caps-xfer` with `xfer`. With `test=caps-dispatch` every core
//! first runs `disptest` with `dispatch` and the first cspace, and with
//! `test=lmp` `lmptest`. With `test=hostile-NAME` the last core first
//! runs `hostile` with the argument `NAME` and the first cspace. With
//! `fuzz=SEED:CALLS[:trace]` every core first runs `fuzz`, with that value
//! as its argument string and the first cspace (`user::fuzz_watch`).
//!
//! A core's programs run in the order listed: each after the first is
//! held until the one before it ends, so that a test program and the
//! monitor that follows it never share their cspace at the same time.
//!
//! The boot core goes first ([`start_first`]), after it has printed
//! `boot-done`: it checks the initrd whole, and that it holds every program
//! some core needs, each with every byte its ELF headers refer to. An
//! unusable initrd ends the run with a `fail` and a message that says what
//! is wrong: empty, truncated at byte N, bad magic, a program missing or
//! truncated. Only then does it set its go-ahead
//! (`boot::handoff::Report::programs_go`) and notify the other cores,
//! which wait for it ([`start_when_released`]) before they start theirs. So
//! no program runs, and no program's failure can cut the boot core's
//! report, before `boot-done`.
//!
//! Without boot modules the kernel has nothing to run: the boot core ends
//! the run with a pass once every core is up, or with a fail under
//! `initrd=required`, and the other cores idle.

use core::sync::atomic::Ordering;

use abi::StartTest;
use boot::initrd::Archive;
use boot::kernel_cmdline::{Initrd, SelfTest};
use boot::protocol::ExitCode;

use crate::arch::apic;
use crate::arch::trap::NOTIFY_VECTOR;
use crate::console::record;
use crate::exit::exit;
use crate::percpu::{self, Core};
use crate::{capdb, frames, initrd, user};

/// The monitor's module name.
pub const MONITOR: &str = "monitor";
/// The probe's module name.
pub const PROBE: &str = "probe";
/// The capability test program's module name.
pub const CAPTEST: &str = "captest";
/// The dispatcher test program's module name.
pub const DISPTEST: &str = "disptest";
/// The LMP test program's module name.
pub const LMPTEST: &str = "lmptest";
/// The capability fuzzer's module name.
pub const FUZZ: &str = "fuzz";
/// The attack program's module name.
pub const HOSTILE: &str = "hostile";

/// The argument string of a program.
#[derive(Clone, Copy)]
enum ArgString {
    /// The `user=` one.
    User,
    /// The value of `fuzz=`.
    Fuzz,
    /// A fixed one.
    Fixed(&'static str),
}

/// One program a core starts.
#[derive(Clone, Copy)]
struct Launch {
    name: &'static str,
    /// The deliberate failure its runtime is asked for.
    test: StartTest,
    /// Its argument string.
    args: ArgString,
    /// Whether it holds the core's first cspace.
    caps: bool,
}

/// The programs core `id` runs, in order.
fn programs_of(core: &Core, id: u32) -> heapless::Vec<Launch, 2> {
    let test = core.params.given.config.test;
    let last = id == core.count - 1;
    let mut list = heapless::Vec::new();
    let first = match test {
        _ if core.params.given.config.fuzz.is_some() => Some((FUZZ, ArgString::Fuzz, true)),
        Some(SelfTest::UserProbe) if last => Some((PROBE, ArgString::User, false)),
        Some(SelfTest::Caps) => Some((CAPTEST, ArgString::Fixed("check"), true)),
        Some(SelfTest::CapsBench) if id == 0 => Some((CAPTEST, ArgString::Fixed("bench"), true)),
        Some(SelfTest::CapsIsolation) => Some((CAPTEST, ArgString::Fixed("isolation"), true)),
        Some(SelfTest::CapsXfer) => Some((CAPTEST, ArgString::Fixed("xfer"), true)),
        Some(SelfTest::CapsDispatch) => Some((DISPTEST, ArgString::Fixed("dispatch"), true)),
        Some(SelfTest::Lmp) => Some((LMPTEST, ArgString::Fixed(""), true)),
        Some(SelfTest::Hostile(attack)) if last => {
            Some((HOSTILE, ArgString::Fixed(attack.name()), true))
        }
        _ => None,
    };
    if let Some((name, args, caps)) = first {
        let _ = list.push(Launch {
            name,
            test: StartTest::None,
            args,
            caps,
        });
    }
    let monitor = match test {
        Some(SelfTest::UserPanic) if last => StartTest::Panic,
        Some(SelfTest::UserOom) if id == 0 => StartTest::ExhaustHeap,
        _ => StartTest::None,
    };
    let _ = list.push(Launch {
        name: MONITOR,
        test: monitor,
        args: ArgString::User,
        caps: true,
    });
    list
}

/// Checks that `archive` holds every program of every core, loadable as
/// far as its ELF extent goes; on the first that is not, says so and fails
/// the run.
fn check_programs(core: &Core, archive: &Archive<'_>) {
    for id in 0..core.count {
        for Launch { name, .. } in programs_of(core, id) {
            let image = match archive.find(name) {
                Ok(image) => image,
                Err(e) => {
                    log::error!("{e} (it holds: {})", archive.names());
                    exit(ExitCode::Fail);
                }
            };
            if let Err(e) = boot::initrd::check_elf_extent(image) {
                log::error!("cannot start '{name}': {e}");
                exit(ExitCode::Fail);
            }
        }
    }
}

/// The boot core, after `boot-done`: checks the initrd, releases the other
/// cores and starts its own programs.
pub fn start_first() -> ! {
    let core = percpu::this();
    let given = &core.params.given;
    let archive = match initrd::archive() {
        Ok(Some(archive)) => archive,
        Ok(None) if given.config.initrd == Initrd::Required => {
            log::error!(
                "initrd=required, but the machine has no initrd: none was given, or it is empty (QEMU passes no boot module for a 0-byte file)"
            );
            exit(ExitCode::Fail);
        }
        Ok(None) => exit(ExitCode::Pass),
        Err(e) => {
            log::error!("cannot use the initrd ({} bytes): {e}", given.initrd.len());
            exit(ExitCode::Fail);
        }
    };
    check_programs(core, &archive);
    core.params.report.programs_go.store(1, Ordering::Release);
    for other in 1..core.count {
        apic::send_ipi(percpu::params_of(other).given.apic_id, NOTIFY_VECTOR);
    }
    run(core, &archive)
}

/// Another core: waits for the boot core's go-ahead, then starts its
/// programs. Without it (a run without programs) the core idles here.
pub fn start_when_released() -> ! {
    let boot = &percpu::params_of(0).report;
    while boot.programs_go.load(Ordering::Acquire) == 0 {
        crate::arch::wait_for_interrupt();
    }
    let core = percpu::this();
    match initrd::archive() {
        Ok(Some(archive)) => run(core, &archive),
        // The boot core checked the same bytes before its go-ahead.
        Ok(None) | Err(_) => {
            log::error!("the initrd the boot core checked cannot be read here");
            exit(ExitCode::Fail);
        }
    }
}

/// Loads this core's programs from `archive` and runs them.
fn run(core: &Core, archive: &Archive<'_>) -> ! {
    let given = &core.params.given;
    let user_ram = crate::layout::user_ram(core.first_free, given.partition.end);
    // Said before any program runs here, so before anything this core
    // owns can be exported: other cores accept imports of this core's
    // memory only inside this range (`capdb::importable`).
    let report = &core.params.report;
    report
        .user_ram_start
        .store(user_ram.start, core::sync::atomic::Ordering::Relaxed);
    report
        .user_ram_end
        .store(user_ram.end, core::sync::atomic::Ordering::Release);
    frames::init(core.first_free, user_ram.start);
    if !capdb::init(user_ram) {
        exit(ExitCode::Fail);
    }
    let first = capdb::lock().as_ref().map(|c| c.first);
    let user_args = given.config.user.as_str();
    let mut fuzz_args: heapless::String<64> = heapless::String::new();
    if let Some(f) = given.config.fuzz {
        let trace = if f.trace { ":trace" } else { "" };
        let _ = core::fmt::write(
            &mut fuzz_args,
            format_args!("{}:{}{trace}", f.seed, f.calls),
        );
    }
    let programs = programs_of(core, core.id);
    for (k, l) in programs.iter().enumerate() {
        let name = l.name;
        let args = match l.args {
            ArgString::User => user_args,
            ArgString::Fuzz => fuzz_args.as_str(),
            ArgString::Fixed(a) => a,
        };
        let cspace = if l.caps { first } else { None };
        let loaded = archive
            .find(name)
            .map_err(|e| log::error!("{e} (it holds: {})", archive.names()))
            .and_then(|image| {
                user::spawn(name, image, args, l.test, cspace, k > 0)
                    .map_err(|e| log::error!("cannot start '{name}': {e}"))
            });
        if loaded.is_err() {
            exit(ExitCode::Fail);
        }
    }
    record(
        "programs",
        format_args!(
            "count={} free_kib={}",
            programs.len(),
            frames::available() / 1024
        ),
    );
    user::set_sched(given.config.sched);
    user::run()
}
