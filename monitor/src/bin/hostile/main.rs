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

use abi::attack::Attack;
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::{record, sys};

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
    // Every attack so far runs in a domain; one the program makes itself,
    // with the first cspace, is called here instead.
    domain::run(attack, &mut checks);
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
        Attack::ForgedRecord => forged_record::forged_record(),
        _ => c.holds("attack-has-a-domain-part", false),
    }
}
