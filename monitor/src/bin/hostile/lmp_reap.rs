//! `lmp-reap`: makes a capability in flight the last copy of a running
//! domain's PML4, then drops the message: the domain must end at once,
//! not at the next invocation on the core. The victim and the receiver
//! are `forever` domains; the PML4 goes by LMP into the receiver's buffer,
//! the loader's own copy is deleted, and deleting the receiver's
//! Dispatcher ends it and drops its waiting messages. The very next call,
//! which is not an invocation, must see the victim revoked.

use abi::cap::{CPtr, slot, ty};
use abi::disp::Status;
use abi::user as sys;
use abi::{Error, SysError};
use services::platform::{Platform, SpawnError};
use services::platforms::ring3::Ring3;

use services::platforms::ring3::checks::Checks;

/// A root slot of the first cspace for the endpoint to the receiver.
const EP: u32 = 201;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

fn spawn_error(e: SpawnError) -> Error {
    match e {
        SpawnError::Invocation { error, .. } => error,
        _ => Error::Sys(SysError::BadCode),
    }
}

/// Runs the attack.
pub fn run(p: &mut Ring3, c: &mut Checks) {
    let victim = c.check(
        "spawn-the-victim",
        None,
        p.spawn("forever").map_err(spawn_error),
    );
    let receiver = c.check(
        "spawn-the-receiver",
        None,
        p.spawn("forever").map_err(spawn_error),
    );
    if let (Some(victim), Some(receiver)) = (victim, receiver) {
        attack(p, c, victim, receiver);
    }
    for child in [victim, receiver].into_iter().flatten() {
        c.check(
            "release-a-domain",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
}

fn attack(p: &mut Ring3, c: &mut Checks, victim: u32, receiver: u32) {
    let l = p.loader();
    let (Ok(pml4), Ok(vdisp), Ok(rdisp)) =
        (l.pml4(victim), l.dispatcher(victim), l.dispatcher(receiver))
    else {
        c.holds("the-loader-names-the-domains", false);
        return;
    };
    let root = l1(slot::ROOT_CNODE);
    if c.check(
        "an-endpoint-to-the-receiver",
        None,
        sys::cap_retype(rdisp, ty::ENDPOINT, 0, 0, 1, root, EP),
    )
    .is_none()
    {
        return;
    }
    c.check(
        "send-the-victims-pml4",
        None,
        sys::lmp_send(l1(EP), Some(pml4), [1, 2, 3, 4]),
    );
    c.check("delete-the-loaders-pml4", None, sys::cap_delete(pml4));
    c.holds(
        "the-victim-runs-on-the-pml4-in-flight",
        sys::dispatcher_status(vdisp) == Ok(Status::Running),
    );
    // The receiver ends with its Dispatcher; its waiting message, and the
    // last copy of the victim's PML4, go with it.
    c.check("end-the-receiver", None, sys::cap_delete(rdisp));
    c.holds(
        "the-victim-ended-at-once",
        sys::dispatcher_status(vdisp) == Ok(Status::Revoked),
    );
    c.holds(
        "the-receiver-ended",
        p.child(receiver).is_err()
            || matches!(p.child(receiver), Ok(Status::Revoked | Status::NotStarted)),
    );
    // The endpoint went with the receiver's Dispatcher.
    let _ = sys::cap_delete(l1(EP));
}
