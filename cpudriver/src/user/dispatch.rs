//! Domains built from user level: starting a Dispatcher capability,
//! reporting its state, and ending a domain whose Dispatcher or PML4 goes.
//!
//! The parent retypes its own RAM into the domain's objects and maps its
//! VNodes and frames with capability invocations; the kernel checks every
//! step there. [`run`] then only has to check the three capabilities and
//! the entry state, and put the domain on the core's run queue. Starting a
//! domain hands it the authority of all three, so each needs WRITE (the
//! right to change the object): the Dispatcher, the root CNode of its
//! cspace and the PML4 of its address space; a copy without it gets
//! `MissingRight`. (A parent that retyped the objects holds them with every
//! right; a read-only copy it passed on cannot start a domain.) The
//! domain's saved registers live in the kernel's program list, not in the
//! Dispatcher object's memory, which stays zero: no user-writable memory
//! is ever trusted as kernel state.

use abi::cap::CPtr;
use abi::disp::{DispatcherParams, MAX_NAME, Status};
use abi::{CapError, Error, SysError};
use alloc::string::String;
use caps::{CapType, Rights};

use super::space::{AddressSpace, USER_END};
use super::syscall::Done;
use super::uslice::{UAccess, USlice};
use super::{Program, SCHED, Scheduler, State, blank_frame, leave_space, remove, schedule};
use crate::arch::trap::TrapFrame;
use crate::console::record;
use crate::{capdb, percpu};

/// Starts the dispatcher at `disp` with the parameters at `ptr` in the
/// caller's memory.
pub(super) fn run(disp: CPtr, ptr: u64, len: u64) -> Result<u64, Error> {
    if len != core::mem::size_of::<DispatcherParams>() as u64 {
        return Err(SysError::BadLength.into());
    }
    let mut s = SCHED.lock();
    let i = s.current.ok_or(CapError::NoSuchSlot)?;
    let caller = &s.programs[i];
    let params: DispatcherParams = USlice::new(&caller.space, ptr, len, UAccess::Read)?.read();
    let cs = caller.cspace.ok_or(CapError::NoSuchSlot)?;
    let guard = capdb::lock();
    let c = guard.as_ref().ok_or(CapError::NoSuchSlot)?;
    let d = c.mdb.identify(cs, super::invoke::addr(disp)?)?;
    if d.ty != CapType::Dispatcher {
        return Err(CapError::WrongType.into());
    }
    if !d.rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRight.into());
    }
    if s.statuses.contains_key(&d.base) {
        return Err(CapError::NotPermitted.into());
    }
    let root = super::invoke::addr(CPtr::decode(params.cspace)?)?;
    let child_cs = c.mdb.cspace_of(cs, root)?;
    if !c.mdb.identify(cs, root)?.rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRight.into());
    }
    let v = c
        .mdb
        .identify(cs, super::invoke::addr(CPtr::decode(params.vspace)?)?)?;
    if v.ty != CapType::Pml4 {
        return Err(CapError::WrongType.into());
    }
    if !v.rights.contains(Rights::WRITE) {
        return Err(CapError::MissingRight.into());
    }
    // A stack top at the end of the user half would be a non-canonical
    // stack pointer.
    if params.entry >= USER_END || params.stack >= USER_END {
        return Err(CapError::KernelHalf.into());
    }
    if !params.stack.is_multiple_of(16) {
        return Err(CapError::Misaligned.into());
    }
    let n = params.name_len;
    if n == 0 || n > MAX_NAME as u64 {
        return Err(SysError::BadLength.into());
    }
    let name = core::str::from_utf8(&params.name[..n as usize]).map_err(|_| SysError::BadUtf8)?;
    drop(guard);
    let core = percpu::this();
    let mut context = blank_frame();
    context.rip = params.entry;
    context.rsp = params.stack;
    context.rdi = u64::from(core.id);
    context.rsi = u64::from(core.count);
    context.rdx = 0;
    s.programs.push(Program::new(
        // The builder's word: kept to the characters a stamp shows, so that
        // it cannot add fields to the kernel's records that name it.
        name.chars().map(boot::stamp::stamp_char).collect(),
        String::new(),
        AddressSpace::of_vnode(v.base),
        Some(child_cs),
        context,
        State::Ready,
        Some(d.base),
    ));
    s.statuses.insert(d.base, Status::Running);
    Ok(0)
}

/// The state of the dispatcher at `disp`, in its register form.
pub(super) fn status(disp: CPtr) -> Result<u64, Error> {
    let s = SCHED.lock();
    let i = s.current.ok_or(CapError::NoSuchSlot)?;
    let cs = s.programs[i].cspace.ok_or(CapError::NoSuchSlot)?;
    let guard = capdb::lock();
    let c = guard.as_ref().ok_or(CapError::NoSuchSlot)?;
    let d = c.mdb.identify(cs, super::invoke::addr(disp)?)?;
    if d.ty != CapType::Dispatcher {
        return Err(CapError::WrongType.into());
    }
    let status = s
        .statuses
        .get(&d.base)
        .copied()
        .unwrap_or(Status::NotStarted);
    Ok(status.encode())
}

/// After a call that may have destroyed objects (an invocation, an LMP
/// send or receive, the end of a program whose inbox held capabilities):
/// ends every domain whose Dispatcher or PML4 went (with a
/// `domain-revoked` record) and forgets the state of destroyed
/// dispatchers. When the caller itself was among them, the next program is
/// scheduled into `frame`; otherwise the caller gets `result`.
pub(super) fn reap(frame: &mut TrapFrame, result: Result<u64, Error>) -> Done {
    if !capdb::gone_pending() {
        return Done::Return(result);
    }
    let mut s = SCHED.lock();
    let Some(i) = end_gone(&mut s) else {
        return Done::Return(result);
    };
    let after = i.checked_sub(1).or(s.programs.len().checked_sub(1));
    drop(s);
    super::fuzz_watch::program_ended();
    schedule(frame, after);
    Done::Switched
}

/// Ends every domain whose Dispatcher or PML4 was destroyed since the last
/// look, until none is left: ending one drops the capabilities of its
/// waiting messages, which may destroy more. Returns the index the running
/// program had when it was among them (the core is then in its kernel
/// address space and nothing runs).
pub(super) fn end_gone(s: &mut Scheduler) -> Option<usize> {
    let mut caller_ended = None;
    loop {
        let gone = capdb::take_gone();
        if gone.is_empty() {
            return caller_ended;
        }
        for (ty, base) in gone {
            while let Some(i) = s.programs.iter().position(|p| match ty {
                CapType::Dispatcher => p.disp == Some(base),
                _ => p.space.is_vnode() && p.space.root() == base,
            }) {
                if s.current == Some(i) {
                    leave_space();
                    s.current = None;
                    caller_ended = Some(i);
                }
                record(
                    "domain-revoked",
                    format_args!("program={} object={ty:?}", s.programs[i].name),
                );
                remove(s, i, Status::Revoked);
            }
            if ty == CapType::Dispatcher {
                s.statuses.remove(&base);
            }
        }
    }
}
