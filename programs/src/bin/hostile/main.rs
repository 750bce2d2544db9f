//! `hostile`: one attack on the CPU driver from ring 3, chosen by the
//! kernel's `test=hostile-NAME` option (`abi::attack::Attack`; the last
//! core runs this program before its monitor, with `NAME` as its argument
//! and the core's first cspace).
//!
//! Most attacks run in a **domain**: this program builds a domain of its
//! own image with the monitor's loader, gives it a copy of its PML4 and
//! spare RAM (so that it can map what it likes into its own address
//! space), and starts it at the attack's entry ([`domain`]). It then waits
//! for the domain to end and reports how it ended in a `hostile-domain`
//! record (`status=exited|killed|revoked|panicked`, with the code or
//! vector). Every check either side makes is a `hostile-check` record
//! (`name`, `expected`, `got`, `pass`), and the program ends with a
//! `hostile-done` record. The integration tests (`tests/tests/hostile.rs`)
//! read these records and the kernel's own (`user-killed`, `user-fault`,
//! `program-panic`), and check that the monitors still finish the run.
#![no_std]
#![no_main]

mod authority;
mod domain;
mod entry_paths;
mod forged_record;
mod import_kernel;
mod kernel_cspace;
mod lmp_reap;
mod run_rights;

use abi::attack::Attack;
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::{Ring3, record, sys};

/// Root slot `i` of this program's cspace.
fn l1(i: u32) -> abi::cap::CPtr {
    abi::cap::CPtr::l1(i)
}

/// The error of a failed spawn, for a check record (the invocation's error,
/// or `bad-code` for a failure that has none).
fn spawn_error(e: services::platform::SpawnError) -> abi::Error {
    match e {
        services::platform::SpawnError::Invocation { error, .. } => error,
        _ => abi::Error::Sys(abi::SysError::BadCode),
    }
}

/// The kind of every check record.
const CHECK: &str = "hostile-check";

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let mut checks = Checks::new(CHECK);
    if let Some(attack) = domain::this_domain() {
        in_domain(attack, &mut checks);
        return u64::from(checks.failed);
    }
    let mut buf = [0u8; 64];
    let attack = sys::args(&mut buf)
        .ok()
        .and_then(|n| buf.get(..n))
        .and_then(|b| core::str::from_utf8(b).ok())
        .and_then(Attack::from_name);
    let Some(attack) = attack else {
        record("hostile-done", format_args!("attack=? error=bad-argument"));
        return 2;
    };
    // Most attacks run in a domain; those the program makes itself, with
    // the first cspace, are called here instead.
    if !with_first_cspace(attack, &mut checks) {
        domain::run(attack, &mut checks);
    }
    record(
        "hostile-done",
        format_args!(
            "attack={} checks={} failed={}",
            attack.name(),
            checks.done,
            checks.failed
        ),
    );
    u64::from(checks.failed)
}

/// The attack's part inside the domain. Returns only for attacks the kernel
/// let run on (their checks say how it refused them).
fn in_domain(attack: Attack, c: &mut Checks) {
    match attack {
        Attack::Sysret => entry_paths::sysret(c),
        Attack::ForgedEntry => entry_paths::forged_entry(c),
        Attack::NtFlag => entry_paths::nt_flag(c),
        Attack::BadRsp => entry_paths::bad_rsp(c),
        Attack::HandlerStack => entry_paths::handler_stack(c),
        Attack::Shutdown => authority::shutdown(c),
        Attack::Notify => authority::notify(c),
        Attack::DomainPanic => authority::domain_panic(),
        Attack::LmpReap => lmp_reap::receive(c),
        Attack::ForgedRecord => forged_record::forged_record(),
        _ => c.holds("attack-has-a-domain-part", false),
    }
}

/// Makes `attack` here, with the core's first cspace and the monitor's
/// loader, if it is one of those, and takes back everything it made for
/// the monitor after it. Returns whether it was.
fn with_first_cspace(attack: Attack, c: &mut Checks) -> bool {
    let run: fn(&mut Ring3, &mut Checks) = match attack {
        Attack::ImportKernel => import_kernel::run,
        Attack::KernelCspace => kernel_cspace::run,
        Attack::LmpReap => lmp_reap::run,
        Attack::RunRights => run_rights::run,
        _ => return false,
    };
    let mut p = match Ring3::new() {
        Ok(p) => p,
        Err(e) => {
            c.check::<()>("info", None, Err(e.into()));
            return true;
        }
    };
    run(&mut p, c);
    if let Err(e) = p.loader().reset() {
        c.holds("hand-back", false);
        record("hostile-error", format_args!("step=reset error={e:?}"));
    }
    true
}
