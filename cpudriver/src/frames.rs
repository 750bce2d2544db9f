//! The core's physical frame allocator: the part of its own partition that
//! the early address space did not use. No other core allocates from it.

use alloc::vec::Vec;
use spin::Mutex;

use crate::layout::phys_to_virt;

const FRAME: u64 = 4096;

struct Frames {
    next: u64,
    end: u64,
    free: Vec<u64>,
}

static FRAMES: Mutex<Frames> = Mutex::new(Frames {
    next: 0,
    end: 0,
    free: Vec::new(),
});

/// Hands `[first_free, end)` of this core's partition to the allocator.
pub fn init(first_free: u64, end: u64) {
    let mut f = FRAMES.lock();
    f.next = first_free.div_ceil(FRAME) * FRAME;
    f.end = end;
}

/// A zeroed frame of this core's partition.
pub fn alloc() -> Option<u64> {
    let frame = {
        let mut f = FRAMES.lock();
        match f.free.pop() {
            Some(frame) => frame,
            None if f.next + FRAME <= f.end => {
                f.next += FRAME;
                f.next - FRAME
            }
            None => return None,
        }
    };
    // SAFETY: the frame belongs to this core's partition, which the direct
    // map covers, and was just taken from the allocator, so nothing else
    // refers to it.
    unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, FRAME as usize) };
    Some(frame)
}

/// `bytes` (a multiple of 4 KiB) of zeroed, contiguous frames aligned to
/// `align` (a power of two, at least 4 KiB), for kernel objects that need
/// natural alignment (the CNodes of the kernel's cspaces). Taken from the
/// never-allocated top; the frames skipped for alignment go to the free
/// list.
pub fn alloc_aligned(bytes: u64, align: u64) -> Option<u64> {
    let base = {
        let mut f = FRAMES.lock();
        let base = f.next.div_ceil(align) * align;
        if base.checked_add(bytes).is_none_or(|e| e > f.end) {
            return None;
        }
        let mut skipped = f.next;
        while skipped < base {
            f.free.push(skipped);
            skipped += FRAME;
        }
        f.next = base + bytes;
        base
    };
    // SAFETY: as in `alloc`: the range belongs to this core's partition,
    // which the direct map covers, and was just taken from the allocator.
    unsafe { core::ptr::write_bytes(phys_to_virt(base) as *mut u8, 0, bytes as usize) };
    Some(base)
}

/// Returns a frame obtained from [`alloc`].
pub fn free(frame: u64) {
    FRAMES.lock().free.push(frame);
}

/// Bytes not yet handed out.
pub fn available() -> u64 {
    let f = FRAMES.lock();
    f.end - f.next + f.free.len() as u64 * FRAME
}
