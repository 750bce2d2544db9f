//! The memory the algorithms run on: words of a shared region, by index.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::shm::Shared;

/// Words per 128-byte block: every word that different cores write goes in
/// its own block (a cache line and its adjacent-line prefetch partner).
pub const BLOCK_WORDS: usize = 16;

/// A 64-bit word shared by cores. The contracts are those of
/// `core::sync::atomic::AtomicU64`.
pub trait Word: Send + Sync {
    /// Atomically loads the word.
    fn load(&self, order: Ordering) -> u64;
    /// Atomically stores `value`.
    fn store(&self, value: u64, order: Ordering);
    /// Atomically stores `value` and returns the previous value.
    fn swap(&self, value: u64, order: Ordering) -> u64;
    /// Atomically adds `value` (wrapping) and returns the previous value.
    fn fetch_add(&self, value: u64, order: Ordering) -> u64;
    /// Atomically replaces `current` with `new`; returns the previous value,
    /// `Ok` if it was `current`. `orders` are the orderings on success and
    /// on failure.
    fn compare_exchange(&self, current: u64, new: u64, orders: [Ordering; 2]) -> Result<u64, u64>;
    /// Called once per iteration of every spin-wait (and of every backoff
    /// delay): `core::hint::spin_loop` on hardware; `loom::thread::yield_now`
    /// in models, or loom never finishes.
    fn pause();
}

/// Implements [`Word`] for `$ty`, whose `AtomicU64` is `$atomic` of the
/// word `$w`, and whose pause is `$pause`: every operation is the atomic's.
macro_rules! atomic_word {
    ($ty:ty, $w:ident => $atomic:expr, $pause:expr) => {
        impl $crate::exp::sync::Word for $ty {
            #[inline(always)]
            fn load(&self, order: Ordering) -> u64 {
                let $w = self;
                $atomic.load(order)
            }
            #[inline(always)]
            fn store(&self, value: u64, order: Ordering) {
                let $w = self;
                $atomic.store(value, order)
            }
            #[inline(always)]
            fn swap(&self, value: u64, order: Ordering) -> u64 {
                let $w = self;
                $atomic.swap(value, order)
            }
            #[inline(always)]
            fn fetch_add(&self, value: u64, order: Ordering) -> u64 {
                let $w = self;
                $atomic.fetch_add(value, order)
            }
            #[inline(always)]
            fn compare_exchange(&self, old: u64, new: u64, ord: [Ordering; 2]) -> Result<u64, u64> {
                let ($w, [success, failure]) = (self, ord);
                $atomic.compare_exchange(old, new, success, failure)
            }
            #[inline(always)]
            fn pause() {
                $pause
            }
        }
    };
}

#[cfg(all(test, feature = "std"))]
pub(crate) use atomic_word;

atomic_word!(AtomicU64, w => w, core::hint::spin_loop());

/// Where an algorithm's words live: word `index`, in 8-byte units.
pub trait Mem {
    /// The word type.
    type W: Word;
    /// Word `index`; panics outside the memory (a layout bug).
    fn word(&self, index: usize) -> &Self::W;
}

impl Mem for Shared<'_> {
    type W = AtomicU64;
    #[inline(always)]
    fn word(&self, i: usize) -> &AtomicU64 {
        Shared::word(self, i * 8)
    }
}

/// Waits `iterations` pauses: the backoff delay of the locks.
#[inline(always)]
pub(super) fn delay<W: Word>(iterations: u32) {
    for _ in 0..iterations {
        W::pause();
    }
}

/// Spins (one pause per poll) until `word`, loaded with Acquire, satisfies
/// `done`; returns the value that did.
#[inline(always)]
pub(super) fn spin_until<W: Word>(word: &W, done: impl Fn(u64) -> bool) -> u64 {
    loop {
        let v = word.load(Ordering::Acquire);
        if done(v) {
            return v;
        }
        W::pause();
    }
}
