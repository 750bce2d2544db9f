//! The run upcall of a domain spawned from user level: a function of the
//! program's that gets the processor first after each turn the domain lost
//! to the time slice, before the interrupted code goes on.
//!
//! [`on_run`] registers it with the CPU driver (`DispatcherUpcall`). The
//! upcall runs on its own stack, disabled: it is not itself interrupted by
//! another upcall, and it must take no lock that the interrupted code may
//! hold. When it returns, the entry below ends the upcall
//! (`DispatcherResume`) and the interrupted code resumes with every
//! register it had.

use core::sync::atomic::{AtomicUsize, Ordering};

use abi::Error;
use abi::user as sys;

/// Bytes of the upcall's stack.
const STACK_BYTES: usize = 16 * 1024;

#[repr(C, align(16))]
struct Stack([u8; STACK_BYTES]);

static mut STACK: Stack = Stack([0; STACK_BYTES]);

/// The registered function, as an address (0: none).
static HANDLER: AtomicUsize = AtomicUsize::new(0);

// The entry calls `flotilla_run_upcall` and resumes (its assembly is
// with the runtime's other entry points, in `super`).
unsafe extern "C" {
    fn flotilla_run_entry();
}

#[unsafe(no_mangle)]
extern "C" fn flotilla_run_upcall(turns: u64) {
    let f = HANDLER.load(Ordering::Acquire);
    if f != 0 {
        // SAFETY: only `on_run` stores here, and it stores a `fn(u64)`.
        let f: fn(u64) = unsafe { core::mem::transmute::<usize, fn(u64)>(f) };
        f(turns);
    }
}

/// Makes `f` this domain's run upcall; it gets the number of turns the
/// domain has lost so far.
pub fn on_run(f: fn(u64)) -> Result<(), Error> {
    HANDLER.store(f as usize, Ordering::Release);
    let stack = (&raw const STACK) as u64 + STACK_BYTES as u64;
    sys::dispatcher_upcall(flotilla_run_entry as *const () as u64, stack)
}
