//! `kernel-cspace`: sends capabilities by LMP to domains that never
//! receive, so that each waits in a slot of the kernel's own cspace, from
//! one sender, until the sender's share is used. The send past it must be
//! `CapsInFlight` and send nothing (the receiver's buffer still has room
//! for a message without a capability); mapping a frame in a new 2 MiB
//! region, which takes two slots of the same cspace for its page table,
//! must still work; and once the receivers have ended, their messages'
//! slots are the sender's again.

use abi::cap::{rights, slot, ty};
use abi::user as sys;
use abi::{Error, LMP_BUFFER, SysError};
use services::platform::Platform;
use services::platforms::ring3::Ring3;

use services::platforms::ring3::checks::Checks;

use crate::{l1, spawn_error};

/// Capabilities in flight one sender may have (`capdb::HELD_SHARE`).
const SHARE: usize = 16;
/// Receivers: enough buffers for one more than the share.
const RECEIVERS: usize = SHARE / LMP_BUFFER + 1;
/// Root slots of the first cspace for the endpoints to the receivers.
const EPS: u32 = 204;
/// Where a frame is mapped to take a fresh capability-window table.
const MAP_VA: u64 = abi::CAP_MAP_BASE + (200 << 30);

/// Runs the attack.
pub fn run(p: &mut Ring3, c: &mut Checks) {
    let mut children = [None; RECEIVERS];
    for (k, child) in children.iter_mut().enumerate() {
        *child = c.check(
            "spawn-a-receiver",
            None,
            p.spawn("forever").map_err(spawn_error),
        );
        let disp = child.and_then(|d| p.loader().dispatcher(d).ok());
        if let Some(disp) = disp {
            c.check(
                "an-endpoint-to-it",
                None,
                sys::cap_retype(
                    disp,
                    ty::ENDPOINT,
                    0,
                    0,
                    1,
                    l1(slot::ROOT_CNODE),
                    EPS + k as u32,
                ),
            );
        }
    }
    if children.iter().all(Option::is_some) {
        attack(c);
    }
    for child in children.into_iter().flatten() {
        c.check(
            "release-a-receiver",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
    for k in 0..RECEIVERS as u32 {
        let _ = sys::cap_delete(l1(EPS + k));
    }
    // Their messages went with them: the share is whole again.
    if let Some(disp) = c
        .check(
            "spawn-one-more",
            None,
            p.spawn("forever").map_err(spawn_error),
        )
        .and_then(|d| p.loader().dispatcher(d).ok().map(|disp| (d, disp)))
    {
        let (d, disp) = disp;
        c.check(
            "an-endpoint-to-it",
            None,
            sys::cap_retype(disp, ty::ENDPOINT, 0, 0, 1, l1(slot::ROOT_CNODE), EPS),
        );
        c.check(
            "send-a-capability-after-the-receivers-ended",
            None,
            sys::lmp_send(l1(EPS), Some(l1(slot::INITRD)), [0; 4]),
        );
        c.check("release-it", None, p.release(d).map_err(spawn_error));
        let _ = sys::cap_delete(l1(EPS));
    }
}

fn attack(c: &mut Checks) {
    let frame = l1(slot::INITRD);
    // One buffer after the other, four messages each, each with a copy
    // of the read-only archive frame.
    let mut sent = 0;
    let mut refused = None;
    'out: for k in 0..RECEIVERS as u32 {
        for _ in 0..LMP_BUFFER {
            match sys::lmp_send(l1(EPS + k), Some(frame), [sent as u64, 0, 0, 0]) {
                Ok(()) => sent += 1,
                Err(e) => {
                    refused = Some((k, e));
                    break 'out;
                }
            }
        }
    }
    c.holds("the-share-is-sent", sent == SHARE);
    c.check(
        "send-one-past-the-share",
        Some(Error::Sys(SysError::CapsInFlight)),
        refused.map_or(Ok(()), |(_, e)| Err(e)),
    );
    // Nothing of the refused message went: its receiver still has room
    // for all its buffer, and takes a message without a capability.
    if let Some((k, _)) = refused {
        for m in 0..LMP_BUFFER {
            let got = sys::lmp_send(l1(EPS + k), None, [m as u64, 0, 0, 0]);
            c.check("a-message-without-a-capability-still-goes", None, got);
        }
    }
    // The capability-window tables keep their slots: a frame mapped in a
    // fresh 2 MiB region gets its table.
    let page = c.check("a-frame-of-the-archive", None, sys::cap_identify(frame));
    if page.is_some() {
        c.check(
            "copy-it",
            None,
            sys::cap_copy(frame, l1(slot::ROOT_CNODE), EPS + RECEIVERS as u32),
        );
        let copy = l1(EPS + RECEIVERS as u32);
        c.check(
            "map-it-in-a-fresh-region",
            None,
            sys::cap_map(copy, MAP_VA, rights::READ, 0, 1).map(|_| ()),
        );
        c.check("unmap-it", None, sys::cap_unmap(MAP_VA).map(|_| ()));
        c.check("drop-the-copy", None, sys::cap_delete(copy));
    }
}
