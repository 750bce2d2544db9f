//! `pingpong`: the two ends of the LMP test and benchmark, spawned by
//! `lmptest` with endpoints in their cspaces. The one with an Endpoint in
//! slot 1 (to the other, badged) is **ping**; the other, with an Endpoint
//! to ping in slot 2, is **pong**.
//!
//! Ping checks the refusals and the buffer of its own endpoint (slot 3),
//! sends the Frame in slot 4 to pong, then times round trips: send, and
//! the reply, each a handoff to the blocked receiver. It times the null
//! invocation (identify) in the same run as the baseline, and the same
//! two sends and two receives to its own endpoint (no switch of address
//! space), in batches of [`BATCH`], and prints an `lmp-bench` record. Pong answers every message
//! and checks the badge and the capability it receives. Each check is an
//! `lmp-check` record; a domain exits with 1 if one failed.
#![no_std]
#![no_main]

use abi::cap::{CPtr, slot, ty};
use abi::{Error, SysError, lmp};
use services::platform::Platform;
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::{Ring3, record, sys};

/// Round trips (or null invocations) per timed batch.
const BATCH: u64 = 64;
/// Timed batches of each.
const BATCHES: usize = 31;
/// The badge `lmptest` mints on ping's endpoint to pong.
pub const BADGE: u64 = 0x77;

/// Message kinds (word 0).
const PING: u64 = 1;
const WITH_CAP: u64 = 2;
const STOP: u64 = 3;

const TO_PONG: u32 = 1;
const TO_PING: u32 = 2;
const TO_SELF: u32 = 3;
const FRAME: u32 = 4;
const RECEIVED: u32 = 5;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

fn is_endpoint(s: u32) -> bool {
    sys::cap_identify(l1(s)).is_ok_and(|c| c.ty == ty::ENDPOINT)
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ping(p: &Ring3, c: &mut Checks) {
    let sys_err = |e| Some(Error::Sys(e));
    let cap_err = |e| Some(Error::Cap(e));
    c.check(
        "send-to-a-cnode",
        cap_err(abi::CapError::WrongType),
        sys::lmp_send(l1(slot::ROOT_CNODE), None, [0; 4]),
    );
    c.check(
        "send-to-an-empty-slot",
        cap_err(abi::CapError::EmptySlot),
        sys::lmp_send(l1(9), None, [0; 4]),
    );
    c.check(
        "send-an-empty-slot",
        cap_err(abi::CapError::EmptySlot),
        sys::lmp_send(l1(TO_SELF), Some(l1(9)), [0; 4]),
    );
    // The own buffer: it holds LMP_BUFFER messages, in order.
    for k in 0..abi::LMP_BUFFER as u64 {
        c.check(
            "fill-the-buffer",
            None,
            sys::lmp_send(l1(TO_SELF), None, [k, 0, 0, k]),
        );
    }
    c.check(
        "send-to-a-full-buffer",
        sys_err(SysError::Full),
        sys::lmp_send(l1(TO_SELF), None, [9; 4]),
    );
    let mut in_order = true;
    for k in 0..abi::LMP_BUFFER as u64 {
        let m = sys::lmp_recv(None, 1_000_000);
        in_order &= m.is_ok_and(|m| m.words == [k, 0, 0, k] && m.badge == 0);
    }
    c.holds("the-buffer-is-fifo", in_order);
    c.check(
        "receive-from-an-empty-buffer",
        sys_err(SysError::TimedOut),
        sys::lmp_recv(None, 100_000),
    );
    // A capability to pong.
    c.check(
        "send-a-frame",
        None,
        sys::lmp_send(l1(TO_PONG), Some(l1(FRAME)), [WITH_CAP, 0, 0, 0]),
    );
    let reply = sys::lmp_recv(None, 0);
    c.holds(
        "pong-got-the-frame",
        reply.is_ok_and(|m| m.words[0] == WITH_CAP && m.words[1] == 1),
    );
    // Round trips, each way a handoff, against the null invocation.
    let mut trips = [0u64; BATCHES];
    let mut ok = true;
    for t in &mut trips {
        let t0 = p.now();
        for k in 0..BATCH {
            ok &= sys::lmp_send(l1(TO_PONG), None, [PING, k, 0, 0]).is_ok();
            ok &= sys::lmp_recv(None, 0).is_ok_and(|m| m.words[1] == k + 1);
        }
        *t = (p.now() - t0) / BATCH;
    }
    c.holds("every-round-trip-answered", ok);
    let mut null = [0u64; BATCHES];
    for t in &mut null {
        let t0 = p.now();
        for _ in 0..BATCH {
            ok &= sys::cap_identify(l1(slot::ROOT_CNODE)).is_ok();
        }
        *t = (p.now() - t0) / BATCH;
    }
    c.holds("every-null-invocation-succeeded", ok);
    // The same two sends and two receives, to ping's own endpoint: the
    // kernel's part of a round trip without switching address spaces.
    let mut own = [0u64; BATCHES];
    for t in &mut own {
        let t0 = p.now();
        for k in 0..BATCH {
            for _ in 0..2 {
                ok &= sys::lmp_send(l1(TO_SELF), None, [PING, k, 0, 0]).is_ok();
                ok &= sys::lmp_recv(None, 0).is_ok_and(|m| m.words[1] == k);
            }
        }
        *t = (p.now() - t0) / BATCH;
    }
    c.holds("every-message-to-itself-came-back", ok);
    let (trip, null, own) = (median(&mut trips), median(&mut null), median(&mut own));
    record(
        "lmp-bench",
        format_args!(
            "round_trip_cycles={trip} null_invocation_cycles={null} ratio={:.2} own_endpoint_cycles={own} switch_share={:.2} batch={BATCH} batches={BATCHES} hypervisor={}",
            trip as f64 / null.max(1) as f64,
            1.0 - own as f64 / trip.max(1) as f64,
            p.info().hypervisor
        ),
    );
    // Stop pong: once it has exited (it may lose its turn on the way, to
    // the time slice), its endpoint names no running dispatcher; messages
    // sent meanwhile wait in its buffer and go with it.
    c.check(
        "send-stop",
        None,
        sys::lmp_send(l1(TO_PONG), None, [STOP, 0, 0, 0]),
    );
    let mut last = sys::lmp_send(l1(TO_PONG), None, [PING, 0, 0, 0]);
    for _ in 0..10_000 {
        if !matches!(last, Ok(()) | Err(Error::Sys(SysError::Full))) {
            break;
        }
        sys::yield_now();
        last = sys::lmp_send(l1(TO_PONG), None, [PING, 0, 0, 0]);
    }
    c.check(
        "send-to-an-ended-dispatcher",
        sys_err(SysError::NoReceiver),
        last,
    );
}

fn pong(c: &mut Checks) {
    let mut badges = true;
    loop {
        let m = match sys::lmp_recv(Some((l1(slot::ROOT_CNODE), RECEIVED)), 0) {
            Ok(m) => m,
            Err(e) => {
                c.check("receive", None, Err::<(), _>(e));
                return;
            }
        };
        badges &= m.badge == BADGE;
        match m.words[0] {
            WITH_CAP => {
                let frame = sys::cap_identify(l1(RECEIVED)).is_ok_and(|f| f.ty == ty::FRAME);
                c.holds("the-capability-arrived", m.flags == lmp::CAP && frame);
                let _ = sys::lmp_send(l1(TO_PING), None, [WITH_CAP, u64::from(frame), 0, 0]);
            }
            PING => {
                let _ = sys::lmp_send(l1(TO_PING), None, [PING, m.words[1] + 1, 0, 0]);
            }
            _ => break,
        }
    }
    c.holds("every-message-carried-the-badge", badges);
}

#[unsafe(no_mangle)]
extern "C" fn program_main(_core: u32, _cores: u32) -> u64 {
    let Ok(p) = Ring3::new() else {
        return 1;
    };
    let mut c = Checks::new("lmp-check");
    if is_endpoint(TO_PONG) {
        ping(&p, &mut c);
        record("pingpong", format_args!("role=ping failed={}", c.failed));
    } else if is_endpoint(TO_PING) {
        pong(&mut c);
        record("pingpong", format_args!("role=pong failed={}", c.failed));
    } else {
        c.holds("an-endpoint-in-slot-1-or-2", false);
    }
    u64::from(c.failed > 0)
}
