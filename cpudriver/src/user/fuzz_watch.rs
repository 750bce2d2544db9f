//! The kernel's side of a fuzzing run (`fuzz=SEED:CALLS` on the command
//! line).
//!
//! The `fuzz` program makes random capability invocations; here the CPU
//! driver numbers them (every call with a number from
//! `abi::number::CAP_IDENTIFY` up, so its count is the program's own call
//! index plus one), keeps the last [`RECENT`] of them, and after each one
//! takes the violation that fuzz mode of the capability database
//! (`caps::Mdb::set_fuzz_mode`, every [`EVERY`] operations) may have
//! found; with `:trace` it checks the whole database after every call
//! itself, so the call named is the first after which it is broken. A violation ends the run at once with a
//! `fail` exit: a `caps-violation` record names the core, the call after
//! which it was found and what is broken, and `fuzz-recent` records list
//! the calls before it. When a program that made invocations ends, the
//! whole database is checked once more (`caps-fuzz-check`).
//!
//! The deliberate scenarios `test=fuzz-corrupt` and `test=fuzz-untyped`
//! break core 0's kernel on purpose at its [`BREAK_AT`]th invocation, to
//! prove that a run finds what they do.

use core::fmt;

use boot::kernel_cmdline::SelfTest;
use boot::protocol::ExitCode;
use caps::InvariantViolation;
use spin::Mutex;

use crate::arch::trap::TrapFrame;
use crate::capdb;
use crate::console::{fatal_record, record};
use crate::exit::exit;
use crate::percpu;

/// Operations between two checks of the whole database.
pub const EVERY: u32 = 64;
/// Calls kept for a report.
const RECENT: usize = 128;
/// The invocation the deliberate scenarios break.
const BREAK_AT: u64 = 1000;
/// The code `test=fuzz-untyped` returns: no `abi::Error` has it.
const UNTYPED: u64 = 0x7777;

/// One invocation as the program made it.
#[derive(Clone, Copy, Default)]
struct Call {
    number: u64,
    args: [u64; 6],
    rax: u64,
}

struct State {
    /// Invocations since the program that makes them started.
    count: u64,
    recent: [Call; RECENT],
}

static STATE: Mutex<State> = Mutex::new(State {
    count: 0,
    recent: [Call {
        number: 0,
        args: [0; 6],
        rax: 0,
    }; RECENT],
});

/// Whether this run fuzzes.
pub fn enabled() -> bool {
    percpu::this().params.given.config.fuzz.is_some()
}

/// The fuzz-mode interval of the database for this run.
pub fn interval() -> u32 {
    match percpu::this().params.given.config.fuzz {
        Some(f) if f.trace => 1,
        _ => EVERY,
    }
}

/// Called before invocation `number` is served.
pub fn before(number: u64, args: [u64; 6]) {
    let mut s = STATE.lock();
    let i = (s.count % RECENT as u64) as usize;
    s.recent[i] = Call {
        number,
        args,
        rax: u64::MAX,
    };
    s.count += 1;
}

/// Called after the invocation is served, with its result in `frame`:
/// the deliberate scenarios break it here, and a violation fuzz mode
/// found ends the run.
pub fn after(frame: &mut TrapFrame) {
    let core = percpu::this();
    let test = core.params.given.config.test;
    let count = {
        let mut s = STATE.lock();
        let count = s.count;
        if core.id == 0 && count == BREAK_AT && test == Some(SelfTest::FuzzUntyped) {
            log::warn!(
                "test=fuzz-untyped: invocation {count} returns the untyped code {UNTYPED:#x}"
            );
            frame.rax = UNTYPED;
            frame.rdx = 0;
        }
        let i = ((count - 1) % RECENT as u64) as usize;
        s.recent[i].rax = frame.rax;
        count
    };
    let mut guard = capdb::lock();
    let Some(c) = guard.as_mut() else {
        return;
    };
    if core.id == 0 && count == BREAK_AT && test == Some(SelfTest::FuzzCorrupt) {
        let slot = c.mdb.corrupt_for_test();
        log::warn!("test=fuzz-corrupt: after invocation {count}, corrupted the record of {slot:?}");
    }
    let found = c.mdb.take_violation().map(|v| (v, "fuzz-mode"));
    // With `:trace`, after every invocation (those the library refuses
    // before it starts an operation included), so that the first call
    // after which the database is broken is the one named.
    let traced = core.params.given.config.fuzz.is_some_and(|f| f.trace);
    let found = found.or_else(|| {
        traced
            .then(|| c.mdb.check_invariants().err())
            .flatten()
            .map(|v| (v, "every-call"))
    });
    if let Some((v, when)) = found {
        drop(guard);
        violation(count - 1, v, when);
    }
}

/// A program ends: when it made invocations, checks the whole database
/// and reports it.
pub fn program_ended() {
    let count = core::mem::replace(&mut STATE.lock().count, 0);
    if count == 0 {
        return;
    }
    let checked = capdb::lock()
        .as_ref()
        .map(|c| (c.mdb.check_invariants(), c.mdb.len()));
    match checked {
        Some((Ok(()), records)) => record(
            "caps-fuzz-check",
            format_args!("ok=1 invocations={count} records={records}"),
        ),
        Some((Err(v), _)) => {
            STATE.lock().count = count;
            violation(count - 1, v, "final");
        }
        None => {}
    }
}

/// Reports the calls before a fatal event (a kernel fault, a ring-3 fault
/// of the fuzzer): without waiting for a lock the event may hold.
pub fn report_recent() {
    if !enabled() {
        return;
    }
    if let Some(s) = STATE.try_lock() {
        dump(&s);
    }
}

fn dump(s: &State) {
    let first = s.count.saturating_sub(RECENT as u64);
    for n in first..s.count {
        let c = &s.recent[(n % RECENT as u64) as usize];
        fatal_record(
            "fuzz-recent",
            format_args!(
                "by=kernel call={n} number={} args={} rax={:#x}",
                c.number,
                Args(&c.args),
                c.rax
            ),
        );
    }
}

/// Ends the run for a broken database found after call `call`.
fn violation(call: u64, v: InvariantViolation, when: &str) -> ! {
    let seed = percpu::this()
        .params
        .given
        .config
        .fuzz
        .map_or(0, |f| f.seed);
    if let Some(s) = STATE.try_lock() {
        dump(&s);
    }
    fatal_record(
        "caps-violation",
        format_args!(
            "seed={seed} call={call} check={when} every={} violation={}",
            interval(),
            Violation(v)
        ),
    );
    exit(ExitCode::Fail)
}

/// Six registers as `0x..,0x..`.
struct Args<'a>(&'a [u64; 6]);

impl fmt::Display for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{a:#x}")?;
        }
        Ok(())
    }
}

/// A violation as one record value: its kind and where, without spaces.
struct Violation(InvariantViolation);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use InvariantViolation as V;
        let slot = |f: &mut fmt::Formatter<'_>, name: &str, s: caps::Slot| {
            write!(f, "{name}@{:#x}:{}", s.cnode, s.index)
        };
        match self.0 {
            V::KeyMismatch(s) => slot(f, "key-mismatch", s),
            V::BadShape(s) => slot(f, "bad-shape", s),
            V::SlotMismatch(s) => slot(f, "slot-mismatch", s),
            V::Overlap(a, b) => {
                slot(f, "overlap", a)?;
                write!(f, "/{:#x}:{}", b.cnode, b.index)
            }
            V::BadContainer(s) => slot(f, "bad-container", s),
            V::OrphanEndpoint(s) => slot(f, "orphan-endpoint", s),
            V::CopiesDisagree(s) => slot(f, "copies-disagree", s),
            V::DanglingObject(base) => write!(f, "dangling-object@{base:#x}"),
            V::BadMapping(base) => write!(f, "bad-mapping@{base:#x}"),
        }
    }
}
