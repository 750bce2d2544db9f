//! The test-and-set family: locks in one word, free or held, that share
//! its layout ([`OneWord`]) and differ in how they take it: the
//! test-and-set lock, the baseline every other lock improves on;
//! test-and-test-and-set with exponential backoff; and a test-and-set
//! without the atomic test-and-set, wrong on purpose.

use core::marker::PhantomData;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::{FREE, HELD};
use crate::exp::sync::word::delay;
use crate::exp::sync::{Mem, ShmLock, Word, check_core};

/// How a one-word lock is taken: the rest of the lock is [`OneWord`].
pub trait Take {
    /// CSV series name.
    const NAME: &'static str;
    /// Waits until this core has set `lock` from free to held.
    fn take<W: Word>(lock: &W);
}

/// A lock in one word, free or held, taken as `T` says and released by a
/// Release store of "free".
#[derive(Debug)]
pub struct OneWord<T> {
    lock: usize,
    take: PhantomData<T>,
}

impl<T: Take> ShmLock for OneWord<T> {
    const NAME: &'static str = T::NAME;
    const BLOCKS: usize = 1;

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        OneWord {
            lock: base,
            take: PhantomData,
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        T::take(mem.word(self.lock));
    }

    fn release<M: Mem>(&mut self, mem: &M) {
        mem.word(self.lock).store(FREE, Release);
    }
}

/// The test-and-set lock: one word, `swap(held)` until the swap returns
/// "free", with no backoff (the paper's `test_and_set` lock without its
/// backoff). Every attempt is a write, so the waiters keep the lock's line
/// moving between their caches, and the holder's release waits its turn.
pub type Tas = OneWord<Swap>;

/// The taking of [`Tas`]: `swap(held)` until it returns "free".
#[derive(Debug)]
pub struct Swap;

impl Take for Swap {
    const NAME: &'static str = "tas";

    fn take<W: Word>(lock: &W) {
        while lock.swap(HELD, Acquire) != FREE {
            W::pause();
        }
    }
}

/// Pauses after the first failed `swap`.
pub const BACKOFF_MIN: u32 = 1;
/// The cap of the backoff delay, in pauses: the delay doubles after each
/// failed `swap` up to this.
pub const BACKOFF_MAX: u32 = 256;

/// Test-and-test-and-set with exponential backoff (the paper's
/// `test_and_set` lock with backoff, spinning on a load as Anderson and
/// Rudolph–Segall do): waiters read the word in their own cache until it
/// is free, then try `swap(held)`; a core that loses the race waits
/// [`BACKOFF_MIN`] pauses, twice that after the next loss, and so on up to
/// [`BACKOFF_MAX`], so that the losers do not all retry at once.
pub type Ttas = OneWord<TestThenSwap>;

/// The taking of [`Ttas`]: loads until "free", then `swap(held)`, with
/// backoff after a lost `swap`.
#[derive(Debug)]
pub struct TestThenSwap;

impl Take for TestThenSwap {
    const NAME: &'static str = "ttas";

    fn take<W: Word>(lock: &W) {
        let mut backoff = BACKOFF_MIN;
        loop {
            // Test: spin on a read, which hits in this core's cache until
            // the holder's release invalidates it.
            while lock.load(Relaxed) != FREE {
                W::pause();
            }
            // Test and set.
            if lock.swap(HELD, Acquire) == FREE {
                return;
            }
            delay::<W>(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
}

/// Not a lock: [`Tas`](super::Tas) with its `swap` split into a load and a
/// store, so that two cores can both read "free" before either writes
/// "held" and both enter. Kept to show that the tests find the lost mutual
/// exclusion.
pub type BrokenTas = OneWord<LoadThenStore>;

/// The taking of [`BrokenTas`]: a load until "free", then a store.
#[derive(Debug)]
pub struct LoadThenStore;

impl Take for LoadThenStore {
    const NAME: &'static str = "broken-tas";

    fn take<W: Word>(lock: &W) {
        while lock.load(Acquire) != FREE {
            W::pause();
        }
        // The bug: another core may have read "free" too.
        lock.store(HELD, Relaxed);
    }
}
