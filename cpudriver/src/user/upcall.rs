//! Upcalls: a domain built from user level is entered at its own entry
//! points when it asked for that, and otherwise resumed where it was.
//!
//! **Run upcall.** A domain may register a run entry and a stack for it
//! (`DispatcherUpcall`). When it loses a turn to the time slice while
//! *enabled*, the CPU driver keeps its registers (the enabled save area,
//! in the CPU driver's memory) and, on its next turn, enters the run entry
//! instead, *disabled*: a user-level scheduler gets the processor first.
//! While disabled it is resumed where it was, as any program; it ends the
//! upcall with `DispatcherResume`, which restores the saved turn and
//! enables it again.
//!
//! **Exceptions** of a domain go to the domain's own handler, as an
//! upcall, so that its runtime can page its own memory.
//!
//! A domain registers a handler and a stack for it (`FaultHandler`). On an
//! exception in ring 3 the CPU driver saves the domain's registers and the
//! faulting address in its own memory (never in the domain's, which the
//! domain could change), and enters the handler on its stack with `rdi` =
//! vector, `rsi` = faulting address, `rdx` = error code and `rcx` = the
//! faulting instruction; interrupts stay enabled. The handler ends with
//! `FaultResume`: to retry the faulting instruction, or to give up, which
//! ends the domain with the usual `user-fault` report of the original
//! exception. An exception while the handler is serving one, or in a
//! domain without a handler, ends the domain at once (with `handler=1` in
//! the report for the first). Programs the CPU driver loaded at boot keep
//! its own demand paging and have no handler.

use abi::{Error, SysError};

use super::space::USER_END;
use super::syscall::Done;
use super::{Program, SCHED, clone_frame, kill};
use crate::arch::trap::TrapFrame;
use crate::console::record;

/// `FaultHandler`: registers (or, with `entry` 0, removes) the running
/// domain's exception handler.
pub(super) fn register(entry: u64, stack: u64) -> Result<u64, Error> {
    set_entry(entry, stack, |p| &mut p.handler)
}

/// Sets one of the running domain's upcall entries (`entry` 0: removes
/// it): only a domain has them, in the user half, on a 16-byte aligned
/// stack.
fn set_entry(
    entry: u64,
    stack: u64,
    which: fn(&mut Program) -> &mut Option<(u64, u64)>,
) -> Result<u64, Error> {
    let mut s = SCHED.lock();
    let i = s.current.ok_or(SysError::NoFault)?;
    let p = &mut s.programs[i];
    if p.disp.is_none() {
        return Err(abi::CapError::NotPermitted.into());
    }
    if entry == 0 {
        *which(p) = None;
        return Ok(0);
    }
    // A stack top at the end of the user half would be a non-canonical
    // stack pointer.
    if entry >= USER_END || stack == 0 || stack >= USER_END {
        return Err(SysError::BadPointer.into());
    }
    if !stack.is_multiple_of(16) {
        return Err(abi::CapError::Misaligned.into());
    }
    *which(p) = Some((entry, stack));
    Ok(0)
}

/// An exception in ring 3: enters the running domain's handler if it has
/// one and is not serving an exception already. Returns whether it did;
/// the caller ends the domain otherwise.
pub(super) fn enter(frame: &mut TrapFrame, cr2: u64) -> bool {
    let mut s = SCHED.lock();
    let Some(i) = s.current else {
        return false;
    };
    let p = &mut s.programs[i];
    let Some((entry, stack)) = p.handler else {
        return false;
    };
    if p.serving.is_some() {
        let name = p.name.clone();
        drop(s);
        record(
            "user-fault",
            format_args!(
                "program={name} domain=1 vector={} rip={:#x} error={:#x} cr2={cr2:#x} handler=1",
                frame.vector, frame.rip, frame.error
            ),
        );
        super::end_current(frame, abi::disp::Status::Killed(frame.vector));
        return true;
    }
    let mut saved = super::blank_frame();
    clone_frame(&mut saved, frame);
    p.serving = Some((saved, cr2));
    let (vector, error, rip) = (frame.vector, frame.error, frame.rip);
    frame.rdi = vector;
    frame.rsi = cr2;
    frame.rdx = error;
    frame.rcx = rip;
    frame.rip = entry;
    frame.rsp = stack;
    true
}

/// `FaultResume`: back to the faulting instruction, or (`give_up`) the end
/// of the domain for the exception it could not handle.
pub(super) fn resume(frame: &mut TrapFrame, give_up: bool) -> Done {
    let mut s = SCHED.lock();
    let Some(i) = s.current else {
        return Done::Return(Err(SysError::NoFault.into()));
    };
    let Some((saved, cr2)) = s.programs[i].serving.take() else {
        return Done::Return(Err(SysError::NoFault.into()));
    };
    clone_frame(frame, &saved);
    drop(s);
    if give_up {
        kill(frame, saved.vector, cr2);
    }
    Done::Switched
}

/// `DispatcherUpcall`: registers (or, with `entry` 0, removes) the running
/// domain's run upcall.
pub(super) fn register_run(entry: u64, stack: u64) -> Result<u64, Error> {
    set_entry(entry, stack, |p| &mut p.run_upcall)
}

/// The time slice took `p`'s turn (its registers are saved in its
/// context): if it is enabled and has a run upcall, keep them in the
/// enabled save area and make its next turn start at the upcall, disabled.
/// An exception handler that is running is not interrupted by one.
pub(super) fn on_preempt(p: &mut Program) {
    let Some((entry, stack)) = p.run_upcall else {
        return;
    };
    if p.enabled.is_some() || p.serving.is_some() {
        return;
    }
    let mut saved = super::blank_frame();
    clone_frame(&mut saved, &p.context);
    let mut upcall = super::blank_frame();
    upcall.rip = entry;
    upcall.rsp = stack;
    upcall.rdi = p.preempted;
    // An interrupt frame: the return path restores every register.
    upcall.vector = u64::from(crate::arch::trap::TIMER_VECTOR);
    p.enabled = Some(saved);
    p.context = upcall;
}

/// `DispatcherResume`: back to the turn the run upcall followed, enabled
/// again.
pub(super) fn resume_enabled(frame: &mut TrapFrame) -> Done {
    let mut s = SCHED.lock();
    let Some(i) = s.current else {
        return Done::Return(Err(SysError::NoFault.into()));
    };
    let Some(saved) = s.programs[i].enabled.take() else {
        return Done::Return(Err(SysError::NoFault.into()));
    };
    clone_frame(frame, &saved);
    Done::Switched
}
