//! The exception handler of a domain spawned from user level: it pages
//! the heap from the domain's own RAM.
//!
//! The loader gives a spawned domain RAM for its heap, the page table of
//! the heap's first 2 MiB and an empty CNode (`abi::cap::domain`). The
//! runtime registers [`fault_entry`] as the domain's exception handler
//! before it touches the heap. On the first heap fault the handler retypes
//! the RAM into one frame per heap page, in that CNode; on each not-present
//! fault in the heap it maps the frame of that page into the page table
//! and retries the instruction. Any other exception, or a heap page
//! without a frame, gives up: the CPU driver ends the domain with a report
//! of the original fault.
//!
//! The handler runs on its own stack, takes no lock and allocates nothing:
//! it may interrupt the allocator itself.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abi::cap::{CPtr, domain, rights, ty};
use abi::user as sys;

/// Bytes of the handler's stack.
const STACK_BYTES: usize = 16 * 1024;

/// The handler's stack (in the image's zeroed data, so the loader maps
/// it).
#[repr(C, align(16))]
struct Stack([u8; STACK_BYTES]);

static mut STACK: Stack = Stack([0; STACK_BYTES]);

/// Whether the heap's RAM has been retyped into frames.
static FRAMES_MADE: AtomicBool = AtomicBool::new(false);
/// Heap pages this domain may map.
static PAGES: AtomicU64 = AtomicU64::new(0);
/// Faults the handler resolved.
static FAULTS: AtomicU64 = AtomicU64::new(0);

// The entry calls `flotilla_fault` and resumes with its answer (its
// assembly is with the runtime's other entry points, in `super`).
unsafe extern "C" {
    fn flotilla_fault_entry();
}

/// The handler: 0 when the fault is resolved, 1 to give up.
#[unsafe(no_mangle)]
extern "C" fn flotilla_fault(vector: u64, addr: u64, error: u64, _rip: u64) -> u64 {
    let heap = abi::HEAP_BASE..abi::HEAP_BASE + PAGES.load(Ordering::Relaxed) * abi::FRAME;
    if vector != 14 || error & 1 != 0 || !heap.contains(&addr) {
        return 1;
    }
    if !FRAMES_MADE.load(Ordering::Relaxed) {
        let pages = PAGES.load(Ordering::Relaxed) as u32;
        let made = sys::cap_retype(
            CPtr::l1(domain::HEAP_RAM),
            ty::FRAME,
            0,
            abi::FRAME,
            pages,
            CPtr::l1(domain::HEAP_FRAMES),
            0,
        );
        if made.is_err() {
            return 1;
        }
        FRAMES_MADE.store(true, Ordering::Relaxed);
    }
    let page = ((addr - abi::HEAP_BASE) / abi::FRAME) as u32;
    let Some(frame) = u8::try_from(page)
        .ok()
        .and_then(|p| CPtr::l2(domain::HEAP_FRAMES, p))
    else {
        return 1;
    };
    let rw = rights::READ | rights::WRITE;
    if sys::vnode_map(CPtr::l1(domain::HEAP_PT), page, frame, rw, 0, 1).is_err() {
        return 1;
    }
    FAULTS.fetch_add(1, Ordering::Relaxed);
    0
}

/// Sets the pager up when this program is a spawned domain with heap RAM;
/// returns the heap's size in bytes (0: not one, the CPU driver pages the
/// heap).
pub(super) fn init() -> u64 {
    // Only a spawned domain has a pager's capabilities; a program loaded
    // at boot makes no invocation here (a fuzzer numbers every one).
    if !sys::info().is_ok_and(|i| i.domain == 1) {
        return 0;
    }
    let Ok(ram) = sys::cap_identify(CPtr::l1(domain::HEAP_RAM)) else {
        return 0;
    };
    let pt = sys::cap_identify(CPtr::l1(domain::HEAP_PT));
    if ram.ty != ty::RAM || !pt.is_ok_and(|p| p.ty == ty::PT) {
        return 0;
    }
    // One frame per page, at most one CNode (and one page table) of them.
    let pages = (ram.size / abi::FRAME).min(256);
    PAGES.store(pages, Ordering::Relaxed);
    let stack = (&raw const STACK) as u64 + STACK_BYTES as u64;
    if sys::fault_handler(flotilla_fault_entry as *const () as u64, stack).is_err() {
        return 0;
    }
    pages * abi::FRAME
}

/// Heap faults the handler has resolved.
pub fn faults() -> u64 {
    FAULTS.load(Ordering::Relaxed)
}
