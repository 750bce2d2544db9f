//! LMP: messages between dispatchers of one core, through Endpoint
//! capabilities.
//!
//! An Endpoint names the dispatcher it was retyped from (its base is the
//! Dispatcher's). A send carries four words, the endpoint's badge and
//! optionally a capability. When the receiver is blocked in `LmpRecv`, the
//! message goes straight into its saved registers, and for a message
//! without a capability the CPU driver switches to the receiver at once,
//! without a pass of the scheduler and without touching the timer (the
//! receiver runs out the sender's slice): the **handoff** that makes a
//! same-core call cost one kernel entry each way. (A message with a
//! capability returns to its sender first, so that whatever a dropped
//! capability destroyed is dealt with before anything runs.) Otherwise the
//! message waits in the receiver's buffer (`abi::LMP_BUFFER` of them; a
//! full buffer is `Full`, never a lost message).
//!
//! A capability in flight is a copy held in a slot of the kernel's own
//! cspace (`capdb::Caps::hold`), so that the sender may delete its copy at
//! once; delivery moves it into the slot the receiver named. A receiver
//! that named none, or a slot that cannot take it, gets the `CAP_DROPPED`
//! flag and the copy is deleted. When a receiver ends, the capabilities of
//! its waiting messages are deleted with them. Either deletion may destroy
//! a Dispatcher or PML4: the domains they took end at once, before the
//! call returns or the next program runs (`dispatch::end_gone`). Each sender has a fixed
//! share of those kernel slots (`capdb::HELD_SHARE`, 16; all senders
//! together `capdb::HELD_MAX`, 512, so that the capability-window tables
//! always find theirs): a send past it is `CapsInFlight`, and sends
//! nothing.

use abi::cap::CPtr;
use abi::{CapError, Error, LMP_BUFFER, SysError, lmp};
use alloc::collections::VecDeque;
use caps::{CSpace, CapType, Rights};

use super::invoke::addr;
use super::syscall::Done;
use super::{SCHED, State, clone_frame, save_current, schedule};
use crate::arch::rdtsc;
use crate::arch::trap::TrapFrame;
use crate::capdb::{self, Caps, Sender};

/// A message waiting for its receiver.
#[derive(Clone, Copy, Debug)]
pub(super) struct Message {
    words: [u64; 4],
    badge: u64,
    /// The kernel slot of a capability that comes with it.
    held: Option<u32>,
}

/// `LmpSend` through the Endpoint at `ep`.
pub(super) fn send(frame: &mut TrapFrame, ep: CPtr, cap: Option<CPtr>, words: [u64; 4]) -> Done {
    match send_inner(frame, ep, cap, words) {
        Ok(true) => Done::Switched,
        Ok(false) => Done::Return(Ok(0)),
        Err(e) => Done::Return(Err(e)),
    }
}

/// Returns whether the frame now holds the receiver (a handoff).
fn send_inner(
    frame: &mut TrapFrame,
    ep: CPtr,
    cap: Option<CPtr>,
    words: [u64; 4],
) -> Result<bool, Error> {
    let mut s = SCHED.lock();
    let me = s.current.ok_or(CapError::NoSuchSlot)?;
    let cs = s.programs[me].cspace.ok_or(CapError::NoSuchSlot)?;
    let mut guard = capdb::lock();
    let c = guard.as_mut().ok_or(CapError::NoSuchSlot)?;
    let e = c.mdb.identify(cs, addr(ep)?)?;
    if e.ty != CapType::Endpoint {
        return Err(CapError::WrongType.into());
    }
    let to = s
        .programs
        .iter()
        .position(|p| p.disp == Some(e.base))
        .ok_or(SysError::NoReceiver)?;
    let receiving = matches!(s.programs[to].state, State::Receiving { .. });
    if !receiving && s.programs[to].inbox.len() >= LMP_BUFFER {
        return Err(SysError::Full.into());
    }
    let held = match cap {
        Some(src) => {
            let src = addr(src)?;
            let sent = c.mdb.identify(cs, src)?;
            if !sent.rights.contains(Rights::GRANT) {
                return Err(CapError::MissingRight.into());
            }
            let sender = match s.programs[me].disp {
                Some(base) => Sender::Dispatcher(base),
                None => Sender::CSpace(cs.root()),
            };
            Some(c.hold(cs, src, sender)?)
        }
        None => None,
    };
    let msg = Message {
        words,
        badge: e.badge,
        held,
    };
    if !receiving {
        s.programs[to].inbox.push_back(msg);
        return Ok(false);
    }
    let State::Receiving { dest, .. } = s.programs[to].state else {
        return Ok(false);
    };
    let r = &mut s.programs[to];
    deliver(c, r.cspace, dest, msg, &mut r.context);
    r.state = State::Ready;
    drop(guard);
    if held.is_some() {
        // A message with a capability returns to the sender, so that what
        // a dropped capability destroyed is dealt with at once (the
        // caller's `reap`); the receiver runs on its next turn.
        return Ok(false);
    }
    // The handoff: the sender's call returns success when it next runs;
    // the receiver runs now.
    frame.rax = 0;
    frame.rdx = 0;
    save_current(&mut s, frame);
    // The receiver runs out the sender's time slice (the timer stays as
    // it is): a call and its reply cost no timer reprogramming.
    s.current = Some(to);
    s.programs[to].space.activate();
    clone_frame(frame, &s.programs[to].context);
    Ok(true)
}

/// `LmpRecv`: the next message, now or when one comes.
pub(super) fn recv(frame: &mut TrapFrame, dest: Option<CPtr>, slot: u32, timeout: u64) -> Done {
    let mut s = SCHED.lock();
    let Some(me) = s.current else {
        return Done::Return(Err(CapError::NoSuchSlot.into()));
    };
    if s.programs[me].disp.is_none() {
        return Done::Return(Err(CapError::NotPermitted.into()));
    }
    let dest = dest.map(|d| (d, slot));
    if let Some(msg) = s.programs[me].inbox.pop_front() {
        let cs = s.programs[me].cspace;
        let mut guard = capdb::lock();
        let Some(c) = guard.as_mut() else {
            return Done::Return(Err(CapError::NoSuchSlot.into()));
        };
        deliver(c, cs, dest, msg, frame);
        drop(guard);
        // A capability the receiver could not take is deleted, and it may
        // have been the last of a Dispatcher or PML4 (the receiver's own,
        // even): that domain ends now, not at the next invocation.
        let Some(i) = super::dispatch::end_gone(&mut s) else {
            return Done::Switched;
        };
        let after = i.checked_sub(1).or(s.programs.len().checked_sub(1));
        drop(s);
        super::fuzz_watch::program_ended();
        schedule(frame, after);
        return Done::Switched;
    }
    let deadline = (timeout > 0).then(|| rdtsc().saturating_add(timeout));
    let after = save_current(&mut s, frame);
    s.programs[me].state = State::Receiving { deadline, dest };
    drop(s);
    schedule(frame, after);
    Done::Switched
}

/// Writes `msg` into the registers `to` returns with from `LmpRecv`, and
/// moves its capability into `dest` of `cs`.
fn deliver(
    c: &mut Caps,
    cs: Option<CSpace>,
    dest: Option<(CPtr, u32)>,
    msg: Message,
    to: &mut TrapFrame,
) {
    let mut flags = 0;
    if let Some(held) = msg.held {
        let placed = match (cs, dest) {
            (Some(cs), Some((cnode, slot))) => addr(cnode)
                .ok()
                .and_then(|cnode| c.deliver(held, cs, cnode, slot).ok()),
            _ => None,
        };
        if placed.is_some() {
            flags |= lmp::CAP;
        } else {
            c.drop_held(held);
            flags |= lmp::CAP_DROPPED;
        }
    }
    to.rax = 0;
    to.rdx = msg.badge;
    to.rdi = flags;
    to.rsi = msg.words[0];
    to.r10 = msg.words[1];
    to.r8 = msg.words[2];
    to.r9 = msg.words[3];
}

/// Deletes the capabilities of the messages a receiver that ended never
/// took.
pub(super) fn drop_inbox(inbox: VecDeque<Message>) {
    if inbox.iter().all(|m| m.held.is_none()) {
        return;
    }
    let mut guard = capdb::lock();
    if let Some(c) = guard.as_mut() {
        for held in inbox.iter().filter_map(|m| m.held) {
            c.drop_held(held);
        }
    }
}
