//! Authority a domain must not have: ending the run, notifying cores, and
//! taking the run down with its own panic.

use abi::Error;
use abi::cap::{CPtr, CapError, slot};
use services::platforms::ring3::checks::Checks;
use services::platforms::ring3::sys;

fn cap(e: CapError) -> Option<Error> {
    Some(Error::Cap(e))
}

/// Asks to end the run with a pass: with the Shutdown slot (empty in a
/// domain), and with its root CNode (the wrong type). Both are refused and
/// the domain goes on.
pub fn shutdown(c: &mut Checks) {
    c.check::<()>(
        "shutdown-without-the-capability",
        cap(CapError::EmptySlot),
        Err(sys::shutdown(CPtr::l1(slot::SHUTDOWN), true)),
    );
    c.check::<()>(
        "shutdown-with-a-cnode",
        cap(CapError::WrongType),
        Err(sys::shutdown(CPtr::l1(slot::ROOT_CNODE), true)),
    );
}

/// Notifies every core without a Notify capability: with the slots a
/// monitor's Notify capabilities have (empty here), and with its root
/// CNode. Every call is refused and the domain goes on.
pub fn notify(c: &mut Checks) {
    let cores = sys::info().map_or(1, |i| i.cores);
    let mut refused = true;
    for core in 0..cores.min(256) {
        let Some(at) = CPtr::l2(slot::NOTIFY, core as u8) else {
            continue;
        };
        refused &= matches!(
            sys::notify(at),
            Err(Error::Cap(CapError::NoSuchSlot | CapError::EmptySlot))
        );
    }
    c.holds("notify-every-core-without-a-capability", refused);
    c.check(
        "notify-with-a-cnode",
        cap(CapError::WrongType),
        sys::notify(CPtr::l1(slot::ROOT_CNODE)),
    );
}

/// Panics: the kernel must end this domain alone, with the `panicked`
/// status, and the run must go on.
pub fn domain_panic() {
    panic!("deliberate panic in a hostile domain");
}
