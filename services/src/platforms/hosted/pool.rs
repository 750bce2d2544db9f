//! The hosted shared pool: one zeroed, page-aligned allocation that every
//! thread maps (returns pointers into).

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

use crate::shm::{Arena, FRAME};

/// A zeroed, page-aligned block of `frames` frames.
#[derive(Debug)]
pub struct Pool {
    base: NonNull<u8>,
    frames: u64,
    layout: Layout,
}

// SAFETY: the pool is plain memory that the threads access only through
// raw pointers handed out by `map`, atomically (the experiments' contract);
// the `Pool` value itself holds no thread-bound state.
unsafe impl Send for Pool {}
// SAFETY: as above; `&Pool` only gives out addresses.
unsafe impl Sync for Pool {}

impl Pool {
    /// Allocates `frames` zeroed frames (at least one); `None` when the
    /// allocation fails.
    pub fn new(frames: u64) -> Option<Pool> {
        let frames = frames.max(1);
        let bytes = usize::try_from(frames).ok()?.checked_mul(FRAME)?;
        let layout = Layout::from_size_align(bytes, FRAME).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let base = NonNull::new(unsafe { alloc_zeroed(layout) })?;
        Some(Pool {
            base,
            frames,
            layout,
        })
    }

    /// Number of frames.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames `first .. first + count` as an arena, if they are inside.
    ///
    /// The arena is valid while the pool lives: the hosted runtime drops
    /// the pool only after every thread of the run has ended.
    pub fn map(&self, first: u64, count: u64) -> Option<Arena> {
        let end = first.checked_add(count)?;
        if count == 0 || end > self.frames {
            return None;
        }
        // SAFETY: `first < frames`, so the offset is inside the allocation.
        let base = unsafe { self.base.add(first as usize * FRAME) };
        // SAFETY: the frames are inside the zeroed, page-aligned allocation,
        // which outlives every thread that uses the arena (the runtime's
        // scoped threads end before the pool is dropped); every user
        // accesses it atomically.
        Some(unsafe { Arena::new(first, count, base) })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { dealloc(self.base.as_ptr(), self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_page_aligned_and_checked() {
        let pool = Pool::new(3).unwrap();
        let a = pool.map(0, 3).unwrap().base();
        assert_eq!(a.as_ptr() as usize % FRAME, 0);
        assert_eq!(
            pool.map(2, 1).unwrap().base().as_ptr() as usize - a.as_ptr() as usize,
            2 * FRAME
        );
        assert!(pool.map(2, 2).is_none());
        assert!(pool.map(0, 0).is_none());
        assert!(pool.map(u64::MAX, 2).is_none());
    }
}
