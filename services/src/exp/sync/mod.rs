//! The shared-memory locks and barriers that E5 and E6 compare the message
//! protocols against, as Mellor-Crummey and Scott give them ("Algorithms for
//! Scalable Synchronization on Shared-Memory Multiprocessors", TOCS 9(1),
//! 1991), plus the CLH queue lock (Craig 1993; Magnusson, Landin and
//! Hagersten 1994), which the paper predates.
//!
//! | lock | [`LockKind`] | words |
//! |---|---|---|
//! | [`locks::Tas`] | `tas`: `swap` until it returns "free" | 1 block |
//! | [`locks::Ttas`] | `ttas`: test-and-test-and-set, exponential backoff | 1 block |
//! | [`locks::Ticket`] | `ticket`: ticket lock, proportional backoff | 2 blocks |
//! | [`locks::Anderson`] | `anderson`: array-based queueing lock | 1 + N blocks |
//! | [`locks::Mcs`] | `mcs`: list-based queue lock, one node per core | 1 + N blocks |
//! | [`locks::Clh`] | `clh`: list-based queue lock, nodes passed on | 2 + N blocks |
//! | [`locks::BrokenTas`] | `broken-tas`: load, then store (not atomic) | 1 block |
//! | `locks::StdMutex` | `std-mutex`: `std::sync::Mutex` (hosted only) | 1 block (its number) |
//! | `locks::ParkingLot` | `parking-lot`: `parking_lot::Mutex` (hosted only) | 1 block (its number) |
//!
//! | barrier | [`BarrierKind`] | words |
//! |---|---|---|
//! | [`barriers::Sense`] | `sense`: centralized, sense-reversing | 2 blocks |
//! | [`barriers::Combining`] | `combining`: software combining tree, fan-in 4 | 2 per tree node |
//! | [`barriers::McsTree`] | `mcs-tree`: 4-ary arrival, binary wake-up tree | 2N blocks |
//! | [`barriers::Tournament`] | `tournament`: statically decided matches | N·⌈log2 N⌉ blocks |
//! | [`barriers::Dissemination`] | `dissemination`: ⌈log2 N⌉ rounds | 2N·⌈log2 N⌉ blocks |
//! | [`barriers::BrokenSense`] | `broken-sense`: releases at N−1 arrivals | 2 blocks |
//!
//! # Memory
//!
//! An algorithm's state is words of a region that every core maps (an
//! experiment's arena), reached through [`Mem`]: word `base + i` for the
//! `words(cores)` words of one lock or barrier, in [`BLOCK_WORDS`]-word
//! blocks. Every word that different cores write has a block of its own, so
//! that no two of them share a cache line or its prefetch partner (the MCS
//! tree barrier's four child flags of a node share one block, as the paper
//! packs them into one word; an MCS node keeps its two words together, as
//! the paper's `qnode`). A "pointer" (an MCS or CLH node, an opponent's
//! flag) is a word index, never an address, so the same memory works at a
//! different address on every core; 0 is nil, as no node is ever at index 0
//! (every lock's first block is its tail or counter). Each core's private
//! state (its MCS or CLH node, its Anderson slot, its sense) is in its
//! handle.
//!
//! The words are generic in [`Word`], so the same code runs on the
//! `AtomicU64`s of an arena ([`Shared`](crate::shm::Shared) is a [`Mem`])
//! and on loom's atomics in the model checks (`services/tests/loom_sync.rs`),
//! which try every interleaving and every weak-memory outcome the orderings
//! allow. Every spin-wait and backoff iteration calls [`Word::pause`];
//! backoff delays count pauses and have documented caps; nothing here calls
//! the platform.
//!
//! They are written by hand: the crates that implement some of them (`spin`'s
//! ticket lock, `mcslock`) are Rust objects that own their memory, so they
//! can be placed neither at offsets of a shared arena nor instantiated with
//! loom's atomics.
//!
//! Every algorithm works for 1 to [`MAX_CORES`] cores. One core calls
//! `init` before any core makes its handle with `new`; each core makes one
//! handle and keeps it (a CLH handle owns a node that moves between cores).
//!
//! # Broken variants
//!
//! `broken-tas` and `broken-sense` are wrong on purpose, to show that the
//! tests find a lost mutual exclusion and a barrier that lets a core out
//! early. They are not in [`LockKind::ALL`] or [`BarrierKind::ALL`].

pub mod barriers;
pub mod locks;
mod word;

pub use word::{BLOCK_WORDS, Mem, Word};

#[cfg(all(test, feature = "std"))]
mod tests;

/// The most cores any lock or barrier here is made for.
pub const MAX_CORES: u32 = 255;

/// Panics unless `cores` is in `1..=MAX_CORES` (and `me < cores`): a
/// harness bug, never input.
fn check_cores(cores: u32) {
    assert!(
        (1..=MAX_CORES).contains(&cores),
        "{cores} cores: the algorithms are made for 1..={MAX_CORES}"
    );
}

fn check_core(me: u32, cores: u32) {
    check_cores(cores);
    assert!(me < cores, "core {me} of {cores}");
}

/// Word index of block `i` after `base`.
const fn block(base: usize, i: usize) -> usize {
    base + i * BLOCK_WORDS
}

/// Words of `blocks` blocks, for 1..=[`MAX_CORES`] cores.
fn zero_blocks_words(cores: u32, blocks: usize) -> usize {
    check_cores(cores);
    block(0, blocks)
}

/// Zeroes `blocks` blocks at `base`, for 1..=[`MAX_CORES`] cores.
fn zero_blocks_init<M: Mem>(mem: &M, base: usize, cores: u32, blocks: usize) {
    check_cores(cores);
    for i in 0..blocks {
        mem.word(block(base, i))
            .store(0, core::sync::atomic::Ordering::Relaxed);
    }
}

/// ⌈log2 n⌉ for `n ≥ 1`.
const fn ceil_log2(n: u32) -> u32 {
    u32::BITS - (n - 1).leading_zeros()
}

/// A mutual-exclusion lock in shared words.
pub trait ShmLock {
    /// CSV series name.
    const NAME: &'static str;
    /// Its blocks of shared words where the provided `words` serves (else
    /// unused). The provided `init` zeroes the first word of every block.
    const BLOCKS: usize = 0;
    /// Shared words the lock needs at `base` for `cores` cores (a multiple
    /// of [`BLOCK_WORDS`]).
    fn words(cores: u32) -> usize {
        zero_blocks_words(cores, Self::BLOCKS)
    }
    /// Puts the shared words in their initial state; one core calls it
    /// before any core uses the lock (memory starts zeroed).
    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        zero_blocks_init(mem, base, cores, Self::words(cores) / BLOCK_WORDS)
    }
    /// Core `me`'s handle (per-core private state such as an MCS/CLH node
    /// index or Anderson slot).
    fn new(base: usize, me: u32, cores: u32) -> Self;
    /// Waits until this core holds the lock. Everything the previous holder
    /// did before its release happens before the return.
    fn acquire<M: Mem>(&mut self, mem: &M);
    /// Releases the lock this core holds.
    fn release<M: Mem>(&mut self, mem: &M);
}

/// A barrier in shared words, for any number of episodes.
pub trait ShmBarrier {
    /// CSV series name.
    const NAME: &'static str;
    /// Its blocks of shared words where the provided `words` serves (else
    /// unused). The provided `init` zeroes the first word of every block.
    const BLOCKS: usize = 0;
    /// Shared words the barrier needs at `base` for `cores` cores (a
    /// multiple of [`BLOCK_WORDS`]).
    fn words(cores: u32) -> usize {
        zero_blocks_words(cores, Self::BLOCKS)
    }
    /// Puts the shared words in their initial state; one core calls it
    /// before any core uses the barrier (memory starts zeroed).
    fn init<M: Mem>(mem: &M, base: usize, cores: u32) {
        zero_blocks_init(mem, base, cores, Self::words(cores) / BLOCK_WORDS)
    }
    /// Core `me`'s handle (its sense, parity, place in the tree).
    fn new(base: usize, me: u32, cores: u32) -> Self;
    /// Arrive and wait until every core arrived at this episode. Everything
    /// every core did before it arrived happens before the return.
    fn wait<M: Mem>(&mut self, mem: &M);
}

/// Puts a lock's or a barrier's words at `base` in their initial state.
struct InitAt<'m, M> {
    mem: &'m M,
    base: usize,
    cores: u32,
}

impl<M: Mem> LockVisitor for InitAt<'_, M> {
    type Output = ();
    fn visit<L: ShmLock>(self) {
        L::init(self.mem, self.base, self.cores);
    }
}

impl<M: Mem> BarrierVisitor for InitAt<'_, M> {
    type Output = ();
    fn visit<B: ShmBarrier>(self) {
        B::init(self.mem, self.base, self.cores);
    }
}

/// Which lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// [`locks::Tas`].
    Tas,
    /// [`locks::Ttas`].
    Ttas,
    /// [`locks::Ticket`].
    Ticket,
    /// [`locks::Anderson`].
    Anderson,
    /// [`locks::Mcs`].
    Mcs,
    /// [`locks::Clh`].
    Clh,
    /// [`locks::BrokenTas`]: not a lock; for tests.
    BrokenTas,
    /// `locks::StdMutex`: hosted runs only.
    #[cfg(feature = "std")]
    StdMutex,
    /// `locks::ParkingLot`: hosted runs only.
    #[cfg(feature = "std")]
    ParkingLot,
}

/// Code generic in the lock, run for a [`LockKind`] by [`LockKind::visit`].
pub trait LockVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with the lock type `L`.
    fn visit<L: ShmLock>(self) -> Self::Output;
}

impl LockKind {
    /// Every real lock (not [`LockKind::BrokenTas`]).
    pub const ALL: [LockKind; 6] = [
        LockKind::Tas,
        LockKind::Ttas,
        LockKind::Ticket,
        LockKind::Anderson,
        LockKind::Mcs,
        LockKind::Clh,
    ];

    /// The locks of the Rust ecosystem, which only hosted runs have (they
    /// are Rust objects that park threads in the host kernel, not words of
    /// an arena).
    #[cfg(feature = "std")]
    pub const HOSTED: [LockKind; 2] = [LockKind::StdMutex, LockKind::ParkingLot];
    /// The locks of the Rust ecosystem: none outside hosted runs.
    #[cfg(not(feature = "std"))]
    pub const HOSTED: [LockKind; 0] = [];
    /// Their names, which a ring-3 run refuses with a reason.
    pub const HOSTED_NAMES: [&'static str; 2] = ["std-mutex", "parking-lot"];

    /// The series name ([`ShmLock::NAME`]).
    pub fn name(self) -> &'static str {
        struct Name;
        impl LockVisitor for Name {
            type Output = &'static str;
            fn visit<L: ShmLock>(self) -> &'static str {
                L::NAME
            }
        }
        self.visit(Name)
    }

    /// The lock named `name`, broken ones included.
    pub fn from_name(name: &str) -> Option<LockKind> {
        Self::ALL
            .into_iter()
            .chain(Self::HOSTED)
            .chain([LockKind::BrokenTas])
            .find(|k| k.name() == name)
    }

    /// Words the lock takes on `cores` cores.
    pub fn words(self, cores: u32) -> usize {
        struct Words(u32);
        impl LockVisitor for Words {
            type Output = usize;
            fn visit<L: ShmLock>(self) -> usize {
                L::words(self.0)
            }
        }
        self.visit(Words(cores))
    }

    /// Puts the lock's words at `base` in their initial state.
    pub fn init<M: Mem>(self, mem: &M, base: usize, cores: u32) {
        self.visit(InitAt { mem, base, cores })
    }

    /// Runs `v` with this kind's lock type.
    pub fn visit<V: LockVisitor>(self, v: V) -> V::Output {
        match self {
            LockKind::Tas => v.visit::<locks::Tas>(),
            LockKind::Ttas => v.visit::<locks::Ttas>(),
            LockKind::Ticket => v.visit::<locks::Ticket>(),
            LockKind::Anderson => v.visit::<locks::Anderson>(),
            LockKind::Mcs => v.visit::<locks::Mcs>(),
            LockKind::Clh => v.visit::<locks::Clh>(),
            LockKind::BrokenTas => v.visit::<locks::BrokenTas>(),
            #[cfg(feature = "std")]
            LockKind::StdMutex => v.visit::<locks::StdMutex>(),
            #[cfg(feature = "std")]
            LockKind::ParkingLot => v.visit::<locks::ParkingLot>(),
        }
    }
}

/// Which barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BarrierKind {
    /// [`barriers::Sense`].
    Sense,
    /// [`barriers::Combining`].
    Combining,
    /// [`barriers::McsTree`].
    McsTree,
    /// [`barriers::Tournament`].
    Tournament,
    /// [`barriers::Dissemination`].
    Dissemination,
    /// [`barriers::BrokenSense`]: not a barrier; for tests.
    BrokenSense,
}

/// Code generic in the barrier, run for a [`BarrierKind`] by
/// [`BarrierKind::visit`].
pub trait BarrierVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with the barrier type `B`.
    fn visit<B: ShmBarrier>(self) -> Self::Output;
}

impl BarrierKind {
    /// Every real barrier (not [`BarrierKind::BrokenSense`]).
    pub const ALL: [BarrierKind; 5] = [
        BarrierKind::Sense,
        BarrierKind::Combining,
        BarrierKind::McsTree,
        BarrierKind::Tournament,
        BarrierKind::Dissemination,
    ];

    /// The series name ([`ShmBarrier::NAME`]).
    pub fn name(self) -> &'static str {
        struct Name;
        impl BarrierVisitor for Name {
            type Output = &'static str;
            fn visit<B: ShmBarrier>(self) -> &'static str {
                B::NAME
            }
        }
        self.visit(Name)
    }

    /// The barrier named `name`, broken ones included.
    pub fn from_name(name: &str) -> Option<BarrierKind> {
        Self::ALL
            .into_iter()
            .chain([BarrierKind::BrokenSense])
            .find(|k| k.name() == name)
    }

    /// Words the barrier takes on `cores` cores.
    pub fn words(self, cores: u32) -> usize {
        struct Words(u32);
        impl BarrierVisitor for Words {
            type Output = usize;
            fn visit<B: ShmBarrier>(self) -> usize {
                B::words(self.0)
            }
        }
        self.visit(Words(cores))
    }

    /// Puts the barrier's words at `base` in their initial state.
    pub fn init<M: Mem>(self, mem: &M, base: usize, cores: u32) {
        self.visit(InitAt { mem, base, cores })
    }

    /// Runs `v` with this kind's barrier type.
    pub fn visit<V: BarrierVisitor>(self, v: V) -> V::Output {
        match self {
            BarrierKind::Sense => v.visit::<barriers::Sense>(),
            BarrierKind::Combining => v.visit::<barriers::Combining>(),
            BarrierKind::McsTree => v.visit::<barriers::McsTree>(),
            BarrierKind::Tournament => v.visit::<barriers::Tournament>(),
            BarrierKind::Dissemination => v.visit::<barriers::Dissemination>(),
            BarrierKind::BrokenSense => v.visit::<barriers::BrokenSense>(),
        }
    }
}
