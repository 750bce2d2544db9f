//! The core's private kernel heap, mapped at `layout::HEAP_VMA`.

use linked_list_allocator::LockedHeap;

use crate::layout::HEAP_VMA;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Hands the heap window (already mapped by the core's early code) to the
/// allocator.
pub fn init(size: u64) {
    // SAFETY: `[HEAP_VMA, HEAP_VMA + size)` is mapped writable to frames of
    // this core's partition that nothing else uses, and `init` runs once.
    unsafe { ALLOCATOR.lock().init(HEAP_VMA as *mut u8, size as usize) }
}

/// Bytes in use and free.
pub fn usage() -> (usize, usize) {
    let heap = ALLOCATOR.lock();
    (heap.used(), heap.free())
}
