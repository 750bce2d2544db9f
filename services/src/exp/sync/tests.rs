//! Threaded tests on real atomics: mutual exclusion and no lost update
//! for every lock, nobody leaving early for every barrier, on 1 to 5
//! threads and on all 255 cores. Runs with more threads than this machine
//! has cores pause by yielding, as a spinning waiter would hold a core for a
//! whole time slice while the thread it waits for is not running.

use core::sync::atomic::Ordering::{self, Relaxed};
use std::sync::Barrier;
use std::sync::atomic::AtomicU64;
use std::thread;
use std::vec::Vec;

use super::word::atomic_word;
use super::*;

impl Mem for Vec<AtomicU64> {
    type W = AtomicU64;
    fn word(&self, index: usize) -> &AtomicU64 {
        &self[index]
    }
}

/// An `AtomicU64` whose pause yields the thread, for runs with more
/// threads than the machine has cores (a spinning waiter would otherwise
/// hold a core for a whole time slice).
#[derive(Default)]
struct Yielding(AtomicU64);

atomic_word!(Yielding, w => &w.0, thread::yield_now());

impl Mem for Vec<Yielding> {
    type W = Yielding;
    fn word(&self, index: usize) -> &Yielding {
        &self[index]
    }
}

fn memory<W: Default>(words: usize) -> Vec<W> {
    (0..words).map(|_| W::default()).collect()
}

/// Whether to spin on real `AtomicU64`s (as on hardware) or yield.
#[derive(Clone, Copy, Debug)]
enum Pause {
    Spin,
    Yield,
}

// Lock test words: a counter and an "inside" flag, then the lock.
const COUNTER: usize = 0;
const INSIDE: usize = BLOCK_WORDS;
const LOCK: usize = 2 * BLOCK_WORDS;

/// `threads` threads acquire `L` `iters` times each; the critical section
/// increments a counter with a load and a store (yielding between them
/// now and then if `yield_inside`) and checks that nobody else is inside.
/// Returns the count and the violations seen.
fn hammer<L: ShmLock, M: Mem + Sync>(
    mem: &M,
    threads: u32,
    iters: u64,
    yield_inside: bool,
) -> (u64, u64) {
    L::init(mem, LOCK, threads);
    let violations = AtomicU64::new(0);
    // Start together, or one thread may be done before the next starts.
    let start = Barrier::new(threads as usize);
    thread::scope(|s| {
        for me in 0..threads {
            let (violations, start) = (&violations, &start);
            s.spawn(move || {
                let mut lock = L::new(LOCK, me, threads);
                start.wait();
                for _ in 0..iters {
                    lock.acquire(mem);
                    if mem.word(INSIDE).swap(1, Relaxed) != 0 {
                        violations.fetch_add(1, Relaxed);
                    }
                    let c = mem.word(COUNTER).load(Relaxed);
                    if yield_inside && c.is_multiple_of(64) {
                        // Give another thread the processor mid-section,
                        // so that catching a second holder does not rely
                        // on the threads running in parallel. (Not with
                        // spinning waiters: they would keep the core the
                        // holder needs back.)
                        thread::yield_now();
                    }
                    mem.word(COUNTER).store(c + 1, Relaxed);
                    mem.word(INSIDE).store(0, Relaxed);
                    lock.release(mem);
                }
            });
        }
    });
    (mem.word(COUNTER).load(Relaxed), violations.into_inner())
}

struct Hammer {
    threads: u32,
    iters: u64,
    pause: Pause,
}

impl LockVisitor for Hammer {
    type Output = (u64, u64);
    fn visit<L: ShmLock>(self) -> (u64, u64) {
        let words = LOCK + L::words(self.threads);
        match self.pause {
            Pause::Spin => {
                hammer::<L, _>(&memory::<AtomicU64>(words), self.threads, self.iters, false)
            }
            Pause::Yield => {
                hammer::<L, _>(&memory::<Yielding>(words), self.threads, self.iters, true)
            }
        }
    }
}

fn check_lock(kind: LockKind, threads: u32, iters: u64, pause: Pause) {
    let (count, violations) = kind.visit(Hammer {
        threads,
        iters,
        pause,
    });
    let name = kind.name();
    assert_eq!(violations, 0, "{name}, {threads} threads: two holders");
    assert_eq!(
        count,
        u64::from(threads) * iters,
        "{name}, {threads} threads: lost updates"
    );
}

/// On `AtomicU64`s as they are: short, as with another program running,
/// each hand-over to a thread that is not running costs a time slice.
#[test]
fn every_lock_excludes_on_one_and_two_spinning_threads() {
    for kind in LockKind::ALL.into_iter().chain(LockKind::HOSTED) {
        check_lock(kind, 1, 1_000, Pause::Spin);
        check_lock(kind, 2, 500, Pause::Spin);
    }
}

#[test]
fn every_lock_excludes_on_two_to_four_yielding_threads() {
    for kind in LockKind::ALL.into_iter().chain(LockKind::HOSTED) {
        for threads in 2..=4 {
            check_lock(kind, threads, 2_000, Pause::Yield);
        }
    }
}

#[test]
fn every_lock_excludes_on_all_255_cores() {
    for kind in LockKind::ALL.into_iter().chain(LockKind::HOSTED) {
        check_lock(kind, MAX_CORES, 3, Pause::Yield);
    }
}

// Barrier test words: one episode slot per thread, then the barrier.
fn slot(c: u32) -> usize {
    block(0, c as usize)
}

/// `threads` threads pass `B` `episodes` times; before each wait a thread
/// writes the episode to its slot, after it checks that every slot has
/// reached the episode. Returns the violations seen.
fn episodes<B: ShmBarrier, M: Mem + Sync>(mem: &M, threads: u32, episodes: u64) -> u64 {
    let base = slot(threads);
    B::init(mem, base, threads);
    let violations = AtomicU64::new(0);
    thread::scope(|s| {
        for me in 0..threads {
            let violations = &violations;
            s.spawn(move || {
                let mut barrier = B::new(base, me, threads);
                for e in 1..=episodes {
                    mem.word(slot(me)).store(e, Relaxed);
                    barrier.wait(mem);
                    for c in 0..threads {
                        if mem.word(slot(c)).load(Relaxed) < e {
                            violations.fetch_add(1, Relaxed);
                        }
                    }
                }
            });
        }
    });
    violations.into_inner()
}

struct Episodes {
    threads: u32,
    episodes: u64,
    pause: Pause,
}

impl BarrierVisitor for Episodes {
    type Output = u64;
    fn visit<B: ShmBarrier>(self) -> u64 {
        let words = slot(self.threads) + B::words(self.threads);
        let (t, e) = (self.threads, self.episodes);
        match self.pause {
            Pause::Spin => episodes::<B, _>(&memory::<AtomicU64>(words), t, e),
            Pause::Yield => episodes::<B, _>(&memory::<Yielding>(words), t, e),
        }
    }
}

fn barrier_violations(kind: BarrierKind, threads: u32, episodes: u64, pause: Pause) -> u64 {
    kind.visit(Episodes {
        threads,
        episodes,
        pause,
    })
}

fn check_barrier(kind: BarrierKind, threads: u32, episodes: u64, pause: Pause) {
    let violations = barrier_violations(kind, threads, episodes, pause);
    assert_eq!(
        violations,
        0,
        "{}, {threads} threads: left before everyone arrived",
        kind.name()
    );
}

/// On `AtomicU64`s as they are (short, as for the locks).
#[test]
fn every_barrier_holds_on_one_and_two_spinning_threads() {
    for kind in BarrierKind::ALL {
        check_barrier(kind, 1, 1_000, Pause::Spin);
        check_barrier(kind, 2, 300, Pause::Spin);
    }
}

#[test]
fn every_barrier_holds_on_two_to_five_yielding_threads() {
    for kind in BarrierKind::ALL {
        for threads in 2..=5 {
            check_barrier(kind, threads, 1_000, Pause::Yield);
        }
    }
}

#[test]
fn every_barrier_holds_on_all_255_cores() {
    for kind in BarrierKind::ALL {
        check_barrier(kind, MAX_CORES, 4, Pause::Yield);
    }
}

#[test]
fn the_broken_barrier_is_caught() {
    for threads in [2, 3] {
        let violations = barrier_violations(BarrierKind::BrokenSense, threads, 1_000, Pause::Yield);
        assert!(violations > 0, "broken-sense on {threads} threads passed");
    }
}

#[test]
fn layouts_are_whole_blocks() {
    for cores in 1..=MAX_CORES {
        let locks = LockKind::ALL
            .into_iter()
            .chain(LockKind::HOSTED)
            .chain([LockKind::BrokenTas])
            .map(|k| (k.name(), k.words(cores)));
        let barriers = BarrierKind::ALL
            .into_iter()
            .chain([BarrierKind::BrokenSense])
            .map(|k| (k.name(), k.words(cores)));
        for (name, w) in locks.chain(barriers) {
            assert!(w > 0 && w % BLOCK_WORDS == 0, "{name} on {cores}: {w}");
        }
    }
}

/// Every core of every size in turn takes and releases each lock alone:
/// each handle's words lie inside the lock's (a `Vec` index panics).
#[test]
fn every_lock_serves_every_core_of_every_size() {
    struct Turns(u32);
    impl LockVisitor for Turns {
        type Output = ();
        fn visit<L: ShmLock>(self) {
            let cores = self.0;
            let mem = memory::<AtomicU64>(BLOCK_WORDS + L::words(cores));
            L::init(&mem, BLOCK_WORDS, cores);
            let mut handles: Vec<L> = (0..cores).map(|c| L::new(BLOCK_WORDS, c, cores)).collect();
            for _ in 0..2 {
                for h in &mut handles {
                    h.acquire(&mem);
                    h.release(&mem);
                }
            }
        }
    }
    for cores in 1..=MAX_CORES {
        for kind in LockKind::ALL.into_iter().chain(LockKind::HOSTED) {
            kind.visit(Turns(cores));
        }
    }
}

#[test]
fn kinds_are_named() {
    for kind in LockKind::ALL
        .into_iter()
        .chain(LockKind::HOSTED)
        .chain([LockKind::BrokenTas])
    {
        assert_eq!(LockKind::from_name(kind.name()), Some(kind));
    }
    let hosted: Vec<_> = LockKind::HOSTED.iter().map(|k| k.name()).collect();
    assert_eq!(hosted, LockKind::HOSTED_NAMES);
    for kind in BarrierKind::ALL
        .into_iter()
        .chain([BarrierKind::BrokenSense])
    {
        assert_eq!(BarrierKind::from_name(kind.name()), Some(kind));
    }
    let names: Vec<_> = LockKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names, ["tas", "ttas", "ticket", "anderson", "mcs", "clh"]);
    let names: Vec<_> = BarrierKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "sense",
            "combining",
            "mcs-tree",
            "tournament",
            "dissemination"
        ]
    );
    assert_eq!(LockKind::from_name("broken-tas"), Some(LockKind::BrokenTas));
    assert_eq!(
        BarrierKind::from_name("broken-sense"),
        Some(BarrierKind::BrokenSense)
    );
    assert_eq!(LockKind::from_name("spin"), None);
    assert_eq!(BarrierKind::from_name("tree"), None);
}
