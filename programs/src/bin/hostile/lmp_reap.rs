//! `lmp-reap`: makes a capability in flight the last copy of a running
//! domain's PML4, then drops the message: the domain must end at once,
//! not at the next invocation on the core. The victim and the receiver
//! are `forever` domains; the PML4 goes by LMP into the receiver's buffer,
//! the loader's own copy is deleted, and deleting the receiver's
//! Dispatcher ends it and drops its waiting messages. The very next call,
//! which is not an invocation, must see the victim revoked.
//!
//! Then the same through a receive: the receiver is a domain of this
//! program's own image ([`receive`]), which takes the message without
//! naming a slot for its capability, so the kernel deletes it there; its
//! very next call must see a second victim revoked.

use abi::Error;
use abi::cap::{slot, ty};
use abi::disp::Status;
use abi::user as sys;
use services::platform::Platform;
use services::platforms::ring3::Ring3;
use services::platforms::ring3::checks::Checks;

use crate::{l1, spawn_error};

/// A root slot of the first cspace for the endpoint to the receiver.
const EP: u32 = 201;
/// The root slot of the receiving domain's cspace with a copy of the
/// second victim's Dispatcher (the slots before it are `domain`'s).
const VICTIM: u32 = 13;

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
    through_a_receive(p, c);
}

/// The second part: the last copy of a victim's PML4 waits for a domain
/// that takes it without a slot for it.
fn through_a_receive(p: &mut Ring3, c: &mut Checks) {
    let info = *p.info();
    let victim = c.check(
        "spawn-a-second-victim",
        None,
        p.spawn("forever").map_err(spawn_error),
    );
    let receiver = c.check(
        "build-a-receiving-domain",
        None,
        p.loader().prepare(&info, "hostile").map_err(spawn_error),
    );
    if let (Some(victim), Some(receiver)) = (victim, receiver) {
        let got = receive_attack(p, victim, receiver);
        c.check("the-receiving-domain-runs", None, got);
        let hz = p.tsc_hz();
        let deadline = p.now() + 30 * hz;
        while matches!(p.child(receiver), Ok(Status::Running)) && p.now() < deadline {
            p.wait(hz / 100);
        }
        // Its own checks passed: it exited with 0 failed.
        c.holds(
            "the-receiver-saw-the-victim-revoked",
            matches!(p.child(receiver), Ok(Status::Exited(0))),
        );
        c.holds(
            "the-second-victim-is-revoked",
            matches!(p.child(victim), Ok(Status::Revoked)),
        );
    }
    for child in [victim, receiver].into_iter().flatten() {
        c.check(
            "release-a-domain",
            None,
            p.release(child).map_err(spawn_error),
        );
    }
    let _ = sys::cap_delete(l1(EP));
}

/// Starts the receiving domain and puts the victim's PML4 in its buffer,
/// the last copy of it.
fn receive_attack(p: &mut Ring3, victim: u32, receiver: u32) -> Result<(), Error> {
    let l = p.loader();
    let pml4 = l.pml4(victim).map_err(spawn_error)?;
    let vdisp = l.dispatcher(victim).map_err(spawn_error)?;
    let cnode = l.root_cnode(receiver).map_err(spawn_error)?;
    let rdisp = l.dispatcher(receiver).map_err(spawn_error)?;
    sys::cap_copy(vdisp, cnode, VICTIM)?;
    sys::cap_retype(rdisp, ty::ENDPOINT, 0, 0, 1, l1(slot::ROOT_CNODE), EP)?;
    let entry = super::domain::entry_of(abi::attack::Attack::LmpReap);
    l.start_with(receiver, |params| params.entry = entry)
        .map_err(spawn_error)?;
    // The domain has not run yet: this program's turn goes on. The message
    // waits in its buffer, and then holds the only copy of the PML4.
    sys::lmp_send(l1(EP), Some(pml4), [5, 6, 7, 8])?;
    sys::cap_delete(pml4)
}

/// The receiving domain's part: gives its parent time to make the message
/// the last copy of the victim's PML4, takes the message without a slot
/// for its capability, and at once asks for the victim's state.
pub fn receive(c: &mut Checks) {
    let hz = sys::info().map_or(1_000_000_000, |i| i.tsc_hz);
    sys::wait(hz / 10);
    let got = sys::lmp_recv(None, 5 * hz);
    let dropped = got.is_ok_and(|m| m.flags & abi::lmp::CAP_DROPPED != 0);
    c.check("receive-the-pml4", None, got.map(|_| ()));
    c.holds("its-capability-was-dropped", dropped);
    c.holds(
        "the-victim-ended-at-the-receive",
        sys::dispatcher_status(l1(VICTIM)) == Ok(Status::Revoked),
    );
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
