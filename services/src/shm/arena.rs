//! Arenas (mapped ranges of shared frames) and the atomic-word view of
//! them.

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use urpc::bench::PingPong;
use urpc::{Duplex, Ring, SetupError, Variant};

use super::FRAME;

/// A range of shared-pool frames mapped by this core. Every core that maps
/// the same frames sees the same memory (at possibly different addresses).
///
/// Code that holds an `Arena` may read and write its memory (atomically,
/// through [`Shared`] and the channels made here), so one can only be made
/// with the `unsafe` [`Arena::new`], whose caller (a platform's
/// `map_pool`) vouches for the mapping.
#[derive(Clone, Copy, Debug)]
pub struct Arena {
    first_frame: u64,
    frames: u64,
    base: NonNull<u8>,
}

// SAFETY: an `Arena` is an address range in memory every core of the run
// may access, atomically (the contract of `Arena::new`); moving the handle
// to another thread moves no thread-bound state.
unsafe impl Send for Arena {}

impl Arena {
    /// The arena of pool frames `first_frame .. first_frame + frames`, which
    /// this core mapped at `base`.
    ///
    /// # Safety
    ///
    /// `base .. base + frames * FRAME` must be mapped, readable and
    /// writable, and 4096-byte aligned, for the rest of the program (or, on
    /// a hosted run, until every thread that uses the arena, a copy of it or
    /// anything made from it has ended); for that time every access to it,
    /// from any core, must be an atomic access of an aligned word, as
    /// [`Shared`] and the `urpc` crate make (other cores share it).
    pub const unsafe fn new(first_frame: u64, frames: u64, base: NonNull<u8>) -> Arena {
        Arena {
            first_frame,
            frames,
            base,
        }
    }

    /// An arena of no frames.
    pub const fn empty() -> Arena {
        Arena {
            first_frame: 0,
            frames: 0,
            base: NonNull::dangling(),
        }
    }

    /// The first pool frame.
    pub fn first_frame(&self) -> u64 {
        self.first_frame
    }

    /// Number of frames.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Where this core mapped the first frame (an address to compare, not
    /// to dereference).
    pub fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.frames as usize * FRAME
    }

    /// Whether the arena has no frame.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// The frames `offset .. offset + count` of this arena as an arena of
    /// their own, if they lie inside.
    pub fn sub(&self, offset: u64, count: u64) -> Option<Arena> {
        let end = offset.checked_add(count)?;
        if end > self.frames {
            return None;
        }
        Some(Arena {
            first_frame: self.first_frame + offset,
            frames: count,
            // SAFETY: `offset <= frames`, so the address is inside the
            // mapping or one past its end.
            base: unsafe { self.base.add(offset as usize * FRAME) },
        })
    }

    /// The view of the arena as atomic words.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            base: self.base,
            len: self.len(),
            _words: PhantomData,
        }
    }

    /// Formats a duplex channel over the whole arena (two rings of
    /// `slots` slots, one per half) and returns it.
    pub fn format_duplex(
        &self,
        slots: usize,
        variant: Variant,
    ) -> Result<Duplex<'static>, SetupError> {
        let half = self.len() / 2;
        // SAFETY: both halves lie inside the mapping, which lasts for the
        // rest of the program (contract of `Arena::new`) and is accessed
        // only atomically, through `urpc`.
        unsafe {
            let a_to_b = Ring::format_raw(self.base, half, slots, variant)?;
            let b_to_a = Ring::format_raw(self.base.add(half), half, slots, variant)?;
            Ok(Duplex { a_to_b, b_to_a })
        }
    }

    /// Attaches to a duplex channel that the other end formatted over the
    /// whole arena.
    pub fn attach_duplex(&self) -> Result<Duplex<'static>, SetupError> {
        // SAFETY: as in `format_duplex`.
        unsafe { Duplex::attach_raw(self.base, self.len()) }
    }
}

/// A view of an arena's memory as atomic words, at byte offsets.
#[derive(Clone, Copy, Debug)]
pub struct Shared<'a> {
    base: NonNull<u8>,
    len: usize,
    _words: PhantomData<&'a [AtomicU64]>,
}

impl<'a> Shared<'a> {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the view is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The word at byte `offset` (a multiple of 8 inside the arena); panics
    /// outside it (a layout bug, never input).
    #[inline(always)]
    pub fn word(&self, offset: usize) -> &'a AtomicU64 {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "word at {offset} outside a {}-byte arena",
            self.len
        );
        // SAFETY: in bounds and aligned (checked above, the base is page
        // aligned); the memory is valid for `'a` and only accessed
        // atomically (contract of `Arena::new`), and any bit pattern is a
        // valid `AtomicU64`.
        unsafe { self.base.add(offset).cast::<AtomicU64>().as_ref() }
    }

    fn region(&self, offset: usize, len: usize) -> NonNull<u8> {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "region {offset}+{len} outside a {}-byte arena",
            self.len
        );
        // SAFETY: `offset + len <= self.len`, inside the mapping.
        unsafe { self.base.add(offset) }
    }

    /// Stores zero in every word of `len` bytes at `offset`.
    pub fn zero(&self, offset: usize, len: usize) {
        for o in (offset..offset + len).step_by(8) {
            self.word(o).store(0, Ordering::Relaxed);
        }
    }

    /// The [`PingPong`] lines at `offset` (256 bytes, 128-byte aligned).
    pub fn ping_pong(&self, offset: usize) -> &'a PingPong {
        const { assert!(size_of::<PingPong>() == 256) };
        assert!(
            offset.is_multiple_of(128),
            "ping-pong at {offset} unaligned"
        );
        let at = self.region(offset, size_of::<PingPong>());
        // SAFETY: inside the arena and aligned (checked); `PingPong` is two
        // `AtomicU64`s in padded blocks, valid for any bit pattern and only
        // accessed atomically.
        unsafe { at.cast::<PingPong>().as_ref() }
    }

    /// Formats a ring of `slots` slots in `len` bytes at `offset`. No
    /// endpoint of an earlier ring there may be in use.
    pub fn format_ring(
        &self,
        offset: usize,
        len: usize,
        slots: usize,
        variant: Variant,
    ) -> Result<Ring<'a>, SetupError> {
        let at = self.region(offset, len);
        // SAFETY: inside the arena (checked), valid for `'a` and accessed
        // only atomically, through `urpc`.
        unsafe { Ring::format_raw(at, len, slots, variant) }
    }

    /// Attaches to the ring formatted in `len` bytes at `offset`.
    pub fn attach_ring(&self, offset: usize, len: usize) -> Result<Ring<'a>, SetupError> {
        let at = self.region(offset, len);
        // SAFETY: as in `format_ring`.
        unsafe { Ring::attach_raw(at, len) }
    }

    /// Attaches to the duplex channel formatted in `len` bytes at `offset`.
    pub fn attach_duplex(&self, offset: usize, len: usize) -> Result<Duplex<'a>, SetupError> {
        let at = self.region(offset, len);
        // SAFETY: as in `format_ring`.
        unsafe { Duplex::attach_raw(at, len) }
    }
}
