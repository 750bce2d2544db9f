//! Model checking of the shared-memory locks and barriers of
//! `services::exp::sync` with `loom`.
//!
//! The algorithms are instantiated with `loom` atomics (whose pause yields
//! to the model's scheduler), so that every interleaving and every value
//! the memory orderings allow a load to return is tried. A lock guards a
//! `loom` `UnsafeCell`, which fails the model on any two accesses not
//! ordered by happens-before, and the critical section also checks an
//! "inside" word; a barrier's cores check after each episode that every
//! core's episode number (written, relaxed, before it arrived) has reached
//! theirs. The broken variants must be caught.
//!
//! Two cores are searched exhaustively (MCS with two acquisitions each:
//! three preemptions). With three cores, two waiters on one word can hand
//! the processor to each other for ever in the model (a yield is not a
//! preemption), so those models bound preemptions and, where needed,
//! spinning: once a thread pauses more than a few times without writing,
//! the rest of that execution runs on `loom`'s default schedule (see
//! [`spin_bounded`]). The whole file runs in about 20 seconds; deeper
//! searches are ignored. Run them with:
//!
//! ```text
//! cargo test -p services --release --test loom_sync -- --ignored
//! ```

use std::cell::Cell;
use std::sync::atomic::Ordering;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::AtomicU64;
use loom::thread;

use services::exp::sync::barriers::{
    BrokenSense, Combining, CombiningTree, Dissemination, McsTree, Sense, Tournament,
};
use services::exp::sync::locks::{Anderson, BrokenTas, Clh, Mcs, Tas, Ticket, Ttas};
use services::exp::sync::{BLOCK_WORDS, Mem, ShmBarrier, ShmLock, Word};

/// A `loom` atomic word. With `QUIET_SWAP`, for the test-and-set locks,
/// its `swap` does not write a value the word already holds: `loom` leaves
/// the modification order of two stores open until something orders them,
/// so a core that kept swapping "held" into a held test-and-set lock could,
/// in the model, read its own writes for ever instead of the holder's
/// release (no machine does that, but the model never ends). The swap that
/// finds "held" returns it as a load with the swap's ordering would; the
/// one that changes the word is a compare-exchange, which reads the latest
/// value as a swap does. The other algorithms never swap a word's own
/// value into it, and their words keep `loom`'s own swap.
struct LoomWord<const QUIET_SWAP: bool>(AtomicU64);

/// Words that swap quietly: the test-and-set locks'.
const QUIET: bool = true;
/// `loom`'s own swap: every other algorithm's words.
const EXACT: bool = false;
type Plain = LoomWord<EXACT>;

/// The ordering of the load part of an operation ordered `order`.
fn load_part(order: Ordering) -> Ordering {
    match order {
        Ordering::AcqRel | Ordering::Acquire => Ordering::Acquire,
        Ordering::SeqCst => Ordering::SeqCst,
        _ => Ordering::Relaxed,
    }
}

impl<const QUIET_SWAP: bool> Word for LoomWord<QUIET_SWAP> {
    fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
    fn store(&self, value: u64, order: Ordering) {
        wrote();
        self.0.store(value, order)
    }
    fn swap(&self, value: u64, order: Ordering) -> u64 {
        if !QUIET_SWAP {
            wrote();
            return self.0.swap(value, order);
        }
        let mut current = self.0.load(load_part(order));
        loop {
            if current == value {
                return current;
            }
            match self
                .0
                .compare_exchange(current, value, order, load_part(order))
            {
                Ok(previous) => {
                    wrote();
                    return previous;
                }
                Err(seen) => current = seen,
            }
        }
    }
    fn fetch_add(&self, value: u64, order: Ordering) -> u64 {
        wrote();
        self.0.fetch_add(value, order)
    }
    fn compare_exchange(&self, current: u64, new: u64, orders: [Ordering; 2]) -> Result<u64, u64> {
        let [success, failure] = orders;
        let result = self.0.compare_exchange(current, new, success, failure);
        if result.is_ok() {
            wrote();
        }
        result
    }
    fn pause() {
        thread::yield_now();
        let bound = SPIN_BOUND.get();
        let spins = SPINS.with(|s| {
            s.set(s.get() + 1);
            s.get()
        });
        if bound.is_some_and(|b| spins > b) {
            loom::skip_branch();
        }
    }
}

std::thread_local! {
    /// The spin bound of the model this test thread runs, if any.
    static SPIN_BOUND: Cell<Option<u32>> = const { Cell::new(None) };
}

loom::thread_local! {
    /// Pauses of this modelled thread since its last write.
    static SPINS: Cell<u32> = Cell::new(0);
}

fn wrote() {
    SPINS.with(|s| s.set(0));
}

/// Zeroed `loom` words.
struct LoomMem<W = Plain>(Vec<W>);

impl<const Q: bool> LoomMem<LoomWord<Q>> {
    fn new(words: usize) -> Self {
        LoomMem((0..words).map(|_| LoomWord(AtomicU64::new(0))).collect())
    }
}

impl<const Q: bool> Mem for LoomMem<LoomWord<Q>> {
    type W = LoomWord<Q>;
    fn word(&self, index: usize) -> &LoomWord<Q> {
        &self.0[index]
    }
}

/// The data a lock guards: `loom` checks every access for a race.
struct Guarded(UnsafeCell<u64>);

// SAFETY: `loom` runs one modelled thread at a time, and its `UnsafeCell`
// fails the model before any access that is not ordered by happens-before
// with the previous conflicting one, so no two accesses ever overlap.
unsafe impl Sync for Guarded {}

// Lock model words: the "inside" word, then the lock.
const INSIDE: usize = 0;
const LOCK: usize = BLOCK_WORDS;

struct LockWorld<W> {
    mem: LoomMem<W>,
    data: Guarded,
}

/// Core `me` takes the lock `iters` times; returns how often it found
/// another core inside.
fn holder<L: ShmLock, const Q: bool>(
    world: &LockWorld<LoomWord<Q>>,
    me: u32,
    cores: u32,
    iters: u64,
) -> u64 {
    let mut lock = L::new(LOCK, me, cores);
    let mut violations = 0;
    for _ in 0..iters {
        lock.acquire(&world.mem);
        let inside = world.mem.word(INSIDE);
        violations += inside.swap(1, Ordering::Relaxed);
        // SAFETY: `with_mut` has checked that no other access races with
        // this one (see `Guarded`); the pointer is valid.
        world.data.0.with_mut(|p| unsafe { *p += 1 });
        inside.store(0, Ordering::Relaxed);
        lock.release(&world.mem);
    }
    violations
}

/// `cores` cores (the model's main thread is core 0) take `L` `iters`
/// times each, on words that swap quietly if `Q`. The threads only record
/// what they see, and the main thread checks it once they are joined (a
/// panic while other modelled threads live aborts the test).
fn lock_model<L: ShmLock, const Q: bool>(cores: u32, iters: u64) {
    let world = Arc::new(LockWorld::<LoomWord<Q>> {
        mem: LoomMem::new(LOCK + L::words(cores)),
        data: Guarded(UnsafeCell::new(0)),
    });
    L::init(&world.mem, LOCK, cores);
    let others: Vec<_> = (1..cores)
        .map(|me| {
            let world = world.clone();
            thread::spawn(move || holder::<L, Q>(&world, me, cores, iters))
        })
        .collect();
    let mut violations = holder::<L, Q>(&world, 0, cores, iters);
    for t in others {
        violations += t.join().unwrap();
    }
    assert_eq!(violations, 0, "two holders");
    // SAFETY: as in `holder`; every other thread has been joined.
    let total = world.data.0.with(|p| unsafe { *p });
    assert_eq!(total, u64::from(cores) * iters, "lost updates");
}

/// Word of core `c`'s episode number; the barrier follows the cores'.
fn slot(c: u32) -> usize {
    c as usize * BLOCK_WORDS
}

/// Core `me` passes the barrier `episodes` times; returns the first
/// (episode, core) it left before that core arrived.
fn passer<B: ShmBarrier>(mem: &LoomMem, me: u32, cores: u32, episodes: u64) -> Option<(u64, u32)> {
    let mut barrier = B::new(slot(cores), me, cores);
    let mut early = None;
    for e in 1..=episodes {
        mem.word(slot(me)).store(e, Ordering::Relaxed);
        barrier.wait(mem);
        for c in 0..cores {
            if mem.word(slot(c)).load(Ordering::Relaxed) < e {
                early = early.or(Some((e, c)));
            }
        }
    }
    early
}

/// `cores` cores pass `B` `episodes` times (checked as in `lock_model`).
fn barrier_model<B: ShmBarrier>(cores: u32, episodes: u64) {
    let mem = Arc::new(LoomMem::<Plain>::new(slot(cores) + B::words(cores)));
    B::init(&*mem, slot(cores), cores);
    let others: Vec<_> = (1..cores)
        .map(|me| {
            let mem = mem.clone();
            thread::spawn(move || passer::<B>(&mem, me, cores, episodes))
        })
        .collect();
    let mut early = vec![passer::<B>(&mem, 0, cores, episodes)];
    early.extend(others.into_iter().map(|t| t.join().unwrap()));
    for (me, early) in early.into_iter().enumerate() {
        if let Some((e, c)) = early {
            panic!("core {me} left episode {e} before core {c} arrived");
        }
    }
}

fn bounded(preemptions: usize) -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(preemptions);
    b
}

fn exhaustive() -> loom::model::Builder {
    loom::model::Builder::new()
}

/// Runs `model` with at most `preemptions` preemptions, and stops
/// exploring an execution once a thread has paused more than `spins`
/// times without a write in between (the rest of it runs on `loom`'s
/// default schedule, which lets the least-yielded thread run).
fn spin_bounded(preemptions: usize, spins: u32, model: impl Fn() + Sync + Send + 'static) {
    SPIN_BOUND.set(Some(spins));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        bounded(preemptions).check(model)
    }));
    SPIN_BOUND.set(None);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// Declares a test `name` per `name { body }` that runs `body`.
macro_rules! model_tests {
    ($($name:ident $body:block)*) => {
        $(
            #[test]
            fn $name() $body
        )*
    };
}

// Locks: two cores, two acquisitions each (a core's second acquire reuses
// its node, slot or ticket after a hand-over), then three cores.

model_tests! {
    tas_two_cores { exhaustive().check(|| lock_model::<Tas, QUIET>(2, 2)); }
    ttas_two_cores { exhaustive().check(|| lock_model::<Ttas, QUIET>(2, 2)); }
    ticket_two_cores { exhaustive().check(|| lock_model::<Ticket, EXACT>(2, 2)); }
    anderson_two_cores { exhaustive().check(|| lock_model::<Anderson, EXACT>(2, 2)); }
    mcs_two_cores {
        exhaustive().check(|| lock_model::<Mcs, EXACT>(2, 1));
        bounded(3).check(|| lock_model::<Mcs, EXACT>(2, 2));
    }
    clh_two_cores { exhaustive().check(|| lock_model::<Clh, EXACT>(2, 2)); }
}

/// The queue-lock waiters spin on words of their own, which keeps the
/// model small.
#[test]
fn queue_locks_three_cores() {
    bounded(2).check(|| lock_model::<Ticket, EXACT>(3, 1));
    bounded(2).check(|| lock_model::<Anderson, EXACT>(3, 1));
    bounded(2).check(|| lock_model::<Mcs, EXACT>(3, 1));
    bounded(2).check(|| lock_model::<Clh, EXACT>(3, 1));
}

/// Two waiters on one word can, in the model, hand the processor to each
/// other for ever past a preemption: one preemption.
#[test]
fn spin_locks_three_cores() {
    bounded(1).check(|| lock_model::<Tas, QUIET>(3, 1));
    bounded(1).check(|| lock_model::<Ttas, QUIET>(3, 1));
}

// Barriers: two episodes (the second reuses every word with the other
// sense or parity); two cores exhaustively, three with bounds.

model_tests! {
    sense_two_cores { exhaustive().check(|| barrier_model::<Sense>(2, 2)); }
    combining_two_cores { exhaustive().check(|| barrier_model::<Combining>(2, 2)); }
    mcs_tree_two_cores { exhaustive().check(|| barrier_model::<McsTree>(2, 2)); }
    tournament_two_cores { exhaustive().check(|| barrier_model::<Tournament>(2, 2)); }
    dissemination_two_cores { exhaustive().check(|| barrier_model::<Dissemination>(2, 2)); }
}

/// Three cores: a waiter more than the single word of a centralized
/// barrier, a partial group at a tree node (and, with fan-in 2, a real
/// tree of two leaves), a bye in the tournament, a round count that is not
/// a power of two in the dissemination.
#[test]
fn barriers_three_cores() {
    spin_bounded(1, 1, || barrier_model::<Sense>(3, 2));
    spin_bounded(1, 1, || barrier_model::<Combining>(3, 2));
    spin_bounded(1, 1, || barrier_model::<CombiningTree<2>>(3, 2));
    spin_bounded(1, 1, || barrier_model::<McsTree>(3, 2));
    spin_bounded(1, 1, || barrier_model::<Tournament>(3, 2));
    // The dissemination barrier has six flags per core: no preemption,
    // or one and no spinning.
    spin_bounded(0, 8, || barrier_model::<Dissemination>(3, 2));
    spin_bounded(1, 0, || barrier_model::<Dissemination>(3, 2));
}

// The broken variants must be caught.

/// Runs `model` under `builder` and returns its panic message; fails if
/// it does not panic.
fn caught(run: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .expect_err("loom did not find the bug");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn broken_tas_is_caught() {
    let why = caught(|| bounded(2).check(|| lock_model::<BrokenTas, EXACT>(2, 1)));
    assert!(
        why.contains("two holders") || why.contains("Causality violation"),
        "{why}"
    );
}

#[test]
fn broken_sense_is_caught() {
    let why = caught(|| bounded(2).check(|| barrier_model::<BrokenSense>(2, 1)));
    assert!(why.contains("left episode 1 before core"), "{why}");
    let why = caught(|| spin_bounded(1, 1, || barrier_model::<BrokenSense>(3, 2)));
    assert!(why.contains("before core"), "{why}");
}

// Deeper searches.

#[test]
#[ignore = "slow; run with --release -- --ignored"]
fn deeper_locks() {
    exhaustive().check(|| lock_model::<Mcs, EXACT>(2, 2));
    // Two acquisitions each on three cores: bounded spinning too.
    spin_bounded(3, 2, || lock_model::<Ticket, EXACT>(3, 2));
    spin_bounded(3, 2, || lock_model::<Anderson, EXACT>(3, 2));
    spin_bounded(3, 2, || lock_model::<Mcs, EXACT>(3, 2));
    spin_bounded(3, 2, || lock_model::<Clh, EXACT>(3, 2));
    spin_bounded(2, 2, || lock_model::<Tas, QUIET>(3, 1));
    spin_bounded(2, 2, || lock_model::<Ttas, QUIET>(3, 1));
}

#[test]
#[ignore = "slow; run with --release -- --ignored"]
fn deeper_barriers() {
    exhaustive().check(|| barrier_model::<Sense>(2, 3));
    exhaustive().check(|| barrier_model::<Dissemination>(2, 3));
    spin_bounded(1, 2, || barrier_model::<Sense>(3, 2));
    spin_bounded(1, 2, || barrier_model::<Combining>(3, 2));
    spin_bounded(1, 2, || barrier_model::<CombiningTree<2>>(3, 2));
    spin_bounded(1, 2, || barrier_model::<McsTree>(3, 2));
    spin_bounded(1, 2, || barrier_model::<Tournament>(3, 2));
    spin_bounded(1, 1, || barrier_model::<Dissemination>(3, 2));
}
