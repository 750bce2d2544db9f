//! `run-rights`: starts a dispatcher with read-only copies of the root
//! CNode and the PML4 it is given. Starting hands the domain both, so each
//! needs WRITE, like the Dispatcher: `MissingRight`, and nothing starts.
//! Then the domain starts with the loader's own copies and exits.

use abi::cap::{CPtr, rights, slot};
use abi::disp::{DispatcherParams, Status};
use abi::user as sys;
use abi::{CapError, Error};
use services::platform::Platform;
use services::platforms::ring3::Ring3;

use services::platforms::ring3::checks::Checks;

use crate::{l1, spawn_error};

/// Root slots of the first cspace for the read-only copies.
const RO_CNODE: u32 = 202;
const RO_PML4: u32 = 203;

/// Start parameters naming `cspace` and `vspace` of this cspace, with an
/// entry and a stack the kernel accepts.
fn params(cspace: CPtr, vspace: CPtr) -> DispatcherParams {
    let mut p = DispatcherParams {
        cspace: cspace.raw(),
        vspace: vspace.raw(),
        entry: 0x40_0000,
        stack: abi::STACK_TOP,
        ..DispatcherParams::default()
    };
    p.name[..6].copy_from_slice(b"attack");
    p.name_len = 6;
    p
}

/// Runs the attack.
pub fn run(p: &mut Ring3, c: &mut Checks) {
    let info = *p.info();
    let Some(child) = c.check(
        "build-a-domain",
        None,
        p.loader().prepare(&info, "hello").map_err(spawn_error),
    ) else {
        return;
    };
    let l = p.loader();
    let (Ok(cnode), Ok(pml4), Ok(disp)) = (l.root_cnode(child), l.pml4(child), l.dispatcher(child))
    else {
        c.holds("the-loader-names-the-domain", false);
        return;
    };
    let root = l1(slot::ROOT_CNODE);
    let read = rights::READ;
    c.check(
        "a-read-only-cnode",
        None,
        sys::cap_mint(cnode, root, RO_CNODE, read, 0),
    );
    c.check(
        "a-read-only-pml4",
        None,
        sys::cap_mint(pml4, root, RO_PML4, read, 0),
    );
    let missing = Some(Error::Cap(CapError::MissingRight));
    c.check(
        "run-with-a-read-only-cnode",
        missing,
        sys::dispatcher_run(disp, &params(l1(RO_CNODE), pml4)),
    );
    c.check(
        "run-with-a-read-only-pml4",
        missing,
        sys::dispatcher_run(disp, &params(cnode, l1(RO_PML4))),
    );
    c.holds(
        "nothing-started",
        sys::dispatcher_status(disp) == Ok(Status::NotStarted),
    );
    for s in [RO_CNODE, RO_PML4] {
        c.check("drop-a-read-only-copy", None, sys::cap_delete(l1(s)));
    }
    // The loader's own copies have every right: the domain starts.
    c.check(
        "run-with-writable-copies",
        None,
        p.loader().start(child).map_err(spawn_error),
    );
    let hz = p.tsc_hz();
    let deadline = p.now() + 30 * hz;
    while matches!(p.child(child), Ok(Status::Running)) && p.now() < deadline {
        p.wait(hz / 100);
    }
    c.holds(
        "it-exits-with-0",
        matches!(p.child(child), Ok(Status::Exited(0))),
    );
    c.check("release-it", None, p.release(child).map_err(spawn_error));
}
