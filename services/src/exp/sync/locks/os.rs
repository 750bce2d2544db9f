//! The locks a Rust programmer reaches for first, for hosted runs only:
//! `std::sync::Mutex` and `parking_lot::Mutex`.
//!
//! Neither can live in an arena: each is a Rust object that owns its state
//! and parks waiting threads in the host kernel (a futex). So one lock
//! here is a Rust object made when the arena's lock is initialised, and
//! the arena holds only its number in a registry ([`Registry`]): every
//! core's handle finds the object by that number on its first
//! acquisition. The object lives for the rest of the process (a few bytes
//! per round), so a guard can be kept from `acquire` to `release` without
//! borrowing from the handle.
//!
//! Both barge: a releasing thread does not hand the lock to the longest
//! waiter, and a thread that arrives while the lock is free takes it even
//! if others sleep. That is why they beat every FIFO lock on throughput
//! with two threads (the releaser, still running, takes the lock again
//! before the woken waiter is scheduled) and why their fairness columns
//! spread wider than a queue lock's.

use core::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use crate::exp::sync::{BLOCK_WORDS, Mem, ShmLock, Word, check_core, check_cores};

/// The lock objects of a process, by the number an arena holds (`n` is
/// at index `n - 1`, so 0 means "not made yet").
pub struct Registry<T: 'static> {
    made: Mutex<Vec<&'static T>>,
}

impl<T: Default + Sync + 'static> Registry<T> {
    const fn new() -> Registry<T> {
        Registry {
            made: Mutex::new(Vec::new()),
        }
    }

    /// Makes a new object and returns its number.
    fn make(&self) -> u64 {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.push(Box::leak(Box::default()));
        made.len() as u64
    }

    /// The object numbered `n`.
    fn get(&self, n: u64) -> &'static T {
        let made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made[(n - 1) as usize]
    }
}

/// Makes a lock object in `registry` and stores its number at `base`.
fn init_in<T: Default + Sync, M: Mem>(registry: &Registry<T>, mem: &M, base: usize, cores: u32) {
    check_cores(cores);
    mem.word(base).store(registry.make(), Release);
}

/// The object whose number is stored at `base` (memoised in `cached`).
fn find<T: Default + Sync, M: Mem>(
    registry: &Registry<T>,
    cached: &mut Option<&'static T>,
    mem: &M,
    base: usize,
) -> &'static T {
    cached.get_or_insert_with(|| registry.get(mem.word(base).load(Acquire)))
}

static STD: Registry<Mutex<()>> = Registry::new();
static PARKING: Registry<parking_lot::Mutex<()>> = Registry::new();

/// A lock object of the host's, as [`HostedLock`] uses it.
pub trait HostLock: Default + Sync + Sized + 'static {
    /// What holding the lock is.
    type Guard: core::fmt::Debug + 'static;
    /// The series name.
    const NAME: &'static str;
    /// The process's objects of this kind.
    fn registry() -> &'static Registry<Self>;
    /// Waits for the lock.
    fn take(&'static self) -> Self::Guard;
}

impl HostLock for Mutex<()> {
    type Guard = MutexGuard<'static, ()>;
    const NAME: &'static str = "std-mutex";

    fn registry() -> &'static Registry<Self> {
        &STD
    }

    fn take(&'static self) -> Self::Guard {
        // A holder that panicked poisons the lock; the critical section's
        // own checks report what it left, so the lock is taken anyway.
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HostLock for parking_lot::Mutex<()> {
    type Guard = parking_lot::MutexGuard<'static, ()>;
    const NAME: &'static str = "parking-lot";

    fn registry() -> &'static Registry<Self> {
        &PARKING
    }

    fn take(&'static self) -> Self::Guard {
        self.lock()
    }
}

/// A host lock object behind the arena word that holds its number.
#[derive(Debug)]
pub struct HostedLock<L: HostLock> {
    base: usize,
    lock: Option<&'static L>,
    guard: Option<L::Guard>,
}

/// `std::sync::Mutex<()>` (a futex on Linux).
pub type StdMutex = HostedLock<Mutex<()>>;
/// `parking_lot::Mutex<()>`: one byte, a short spin, then parking.
pub type ParkingLot = HostedLock<parking_lot::Mutex<()>>;

impl<L: HostLock + core::fmt::Debug> ShmLock for HostedLock<L> {
    const NAME: &'static str = L::NAME;

    fn words(cores: u32) -> usize {
        check_cores(cores);
        BLOCK_WORDS
    }

    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        init_in(L::registry(), mem, base, cores);
    }

    fn new(base: usize, me: u32, cores: u32) -> Self {
        check_core(me, cores);
        HostedLock {
            base,
            lock: None,
            guard: None,
        }
    }

    fn acquire<M: Mem>(&mut self, mem: &M) {
        let lock = find(L::registry(), &mut self.lock, mem, self.base);
        self.guard = Some(lock.take());
    }

    fn release<M: Mem>(&mut self, _mem: &M) {
        self.guard = None;
    }
}
