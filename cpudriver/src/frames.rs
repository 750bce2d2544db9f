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

/// Returns a frame obtained from [`alloc`].
pub fn free(frame: u64) {
    FRAMES.lock().free.push(frame);
}

/// Bytes not yet handed out.
pub fn available() -> u64 {
    let f = FRAMES.lock();
    f.end - f.next + f.free.len() as u64 * FRAME
}
