//! E4: capabilities and RAM replicated across cores, by the agreement
//! protocols of `crate::proto::caps` and `crate::proto::ram`, against the
//! ways they replace.
//!
//! Every core runs its own protocol machine over the mesh of
//! `super::net`, as its monitor does; the protocols are the same code the
//! monitors, the host tests and the simulator run.
//!
//! **Capability points.** For each variant (`targeted`: ask only the cores
//! that hold copies; `broadcast`: Barrelfish's way, every core) and each
//! operation, `reps` times, on a fresh capability each time:
//!
//! 1. *setup*: core 0 creates the root of a tree (it owns it) and copies
//!    it to cores `1..=R` (`R` = `holders`, at most cores − 1); for
//!    `delete`, core 0 then deletes its own copy, so that core 1 holds the
//!    last one;
//! 2. *the operation*, timed at the core that asks (core 1, or core 0 when
//!    no other core holds a copy): `revoke` of the root, `retype` of the
//!    root into a child of half its size, or `delete` of the last copy,
//!    timed from the delete at core 1 to the moment the owner frees the
//!    tree (two cores' clocks: the run's TSC skew applies);
//! 3. the run comes to rest (`super::rest`): every message the operation
//!    caused has arrived, including those after its answer (a broadcast
//!    revoke's sweep); the messages between cores in the phase are the
//!    operation's cost;
//! 4. checks: the operation ended `done`; after a revoke only the
//!    requester's copy is left; after a retype the requester holds the
//!    child; after a delete the owner freed the tree and keeps no record;
//!    then every core deletes what it holds and, at rest, no core holds
//!    anything and the owner keeps no record (`caps-check`).
//!
//! `caps-point` gives the median and largest message count per operation
//! beside the variant's promise (`bound`: `2R + 2` targeted; `4(N − 1) + 2`
//! revoke, `2(N − 1) + 2` retype, `2(N − 1) + 1` delete broadcast), and the
//! median and 99th percentile of the cycles per operation.
//!
//! **A silent monitor** (`silent=C`, `super::e4_caps::fault`): a revoke
//! that needs core `C` while its monitor does not answer is abandoned
//! with a typed error and changes nothing; operations that do not involve
//! `C` go on (`caps-fault`).
//!
//! **RAM points.** Every core owns a partition of `blocks` 4 KiB blocks of
//! the arena. Even cores need one and a half partitions, odd cores half of
//! one (the last core of an odd count its own), so the even cores must get
//! RAM from their neighbours. Every core allocates its demand one block at
//! a time, stamps each block with its number (a block found stamped by
//! another core was held twice), then frees them all; 10 rounds (quick:
//! 3), the first one not timed (it warms the caches and the heap).
//!
//! - `msg`: the RAM protocol. A core serves itself from its own partition
//!   (timed in batches of [`BATCH`], no message), then asks its peers
//!   (each borrowed block timed alone); a freed borrowed block goes back to
//!   its lender.
//! - `global`: the baseline a kernel without replication uses: one free
//!   list of every block in a shared region under a ticket lock, each
//!   allocation and free taking the lock.
//!
//! `mem-check` sums every core's free and allocated bytes before and
//! after, and checks that each block is back with its owner:
//! `conserved=1` when nothing was lost, invented or held twice.

use alloc::vec::Vec;

use super::ExpError;
use super::declare_exp::experiment;
pub(crate) use super::declare_exp::slots;
use super::experiment::Run;
use super::net;
use super::request::Request;
use super::rest::Rest;
use super::shared::{BLOCK, Bump, control_bytes};
use crate::platform::Platform;
use crate::proto::caps::Variant;

mod args;
mod caps_points;
mod fault;
mod ram_points;

pub use crate::exp::catalog::{CapsCheck, CapsFault, CapsPoint, CapsStart, MemCheck, RamPoint};
pub use args::{BROKEN, CapsArgs, MAX_HOLDERS, OPS, RAM_SERIES, VARIANTS};
pub use fault::FAULT_BOUND;

experiment! {
    /// E4 (`exp=caps`).
    CapsRam = "caps"(CapsArgs) run_all;
    plan(req, args, cores) Ok(Plan::new(req, args, cores));
    /// One pass; `reps=` says how many operations.
    fn rounds(_req: &Request) -> u32 {
        1
    }
}

/// Runs E4 on this core.
fn run_all<P: Platform>(p: &mut P, run: Run<'_, CapsRam>) -> Result<(), ExpError> {
    let own = CapsStart {
        reps: run.plan.reps,
        holders: run.plan.holders,
        points: (run.plan.variants.len() * run.plan.ops.len()) as u64,
        blocks: run.plan.blocks,
    };
    run.start(p, own);
    super::stats::warm_heap(WARM_HEAP);
    run.ctl.barrier(p)?;
    caps_points::run(p, &run)?;
    fault::run(p, &run)?;
    ram_points::run(p, &run)?;
    run.done(p);
    run.ctl.barrier(p)
}

/// Bytes of heap each core touches before it measures: what the protocol
/// machines' records grow into over a run.
const WARM_HEAP: usize = 4 << 20;
/// Allocations or frees per timed batch when no message is needed.
pub const BATCH: u64 = 8;
/// Bytes of a RAM block.
pub const BLOCK_BYTES: u64 = 4096;

/// A capability operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Revoke the root.
    Revoke,
    /// Retype the root into a child.
    Retype,
    /// Delete the last copy.
    Delete,
}

impl Op {
    /// Its name in records.
    pub fn name(self) -> &'static str {
        match self {
            Op::Revoke => "revoke",
            Op::Retype => "retype",
            Op::Delete => "delete",
        }
    }
}

/// E4's parameters, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub(crate) variants: Vec<Variant>,
    pub(crate) ops: Vec<Op>,
    /// Cores other than the owner that hold a copy (at most cores − 1).
    pub(crate) holders: u32,
    pub(crate) reps: u64,
    pub(crate) msg: bool,
    pub(crate) global: bool,
    pub(crate) blocks: u64,
    /// Rounds of allocating and freeing every block (the first not timed).
    pub(crate) ram_rounds: u32,
    /// The core whose monitor falls silent in the failure point.
    pub(crate) silent: Option<u32>,
    /// Run the broken capability owner (`broken=revoke-skips`).
    pub(crate) broken_caps: bool,
    /// Run the broken RAM lender (`broken=ram-keeps`).
    pub(crate) broken_ram: bool,
}

impl Plan {
    fn new(req: &Request, a: &CapsArgs, cores: u32) -> Plan {
        let all = super::series_set::SeriesSet::all;
        let variants = a.variants.unwrap_or(all(&VARIANTS));
        let ops = a.ops.unwrap_or(all(&OPS));
        let ram = a.ram.unwrap_or(all(&RAM_SERIES));
        Plan {
            variants: [Variant::Targeted, Variant::Broadcast]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| variants.contains(*i))
                .map(|(_, v)| v)
                .collect(),
            ops: [Op::Revoke, Op::Retype, Op::Delete]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| ops.contains(*i))
                .map(|(_, o)| o)
                .collect(),
            holders: a.holders.unwrap_or(2).min(cores.saturating_sub(1)),
            reps: u64::from(a.reps.unwrap_or(if req.quick { 20 } else { 200 })),
            msg: ram.contains(0),
            global: ram.contains(1),
            blocks: u64::from(a.blocks.unwrap_or(if req.quick { 32 } else { 256 })),
            ram_rounds: if req.quick { 3 } else { 10 },
            silent: a.silent,
            broken_caps: a.broken == Some(0),
            broken_ram: a.broken == Some(1),
        }
    }
}

/// Where E4's regions are in the arena.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub(crate) mesh: usize,
    pub(crate) rest: Rest,
    pub(crate) results: usize,
    /// The blocks: each core's partition, one after the other.
    pub(crate) ram: usize,
    /// The global free list: lock, count, then one word per block.
    pub(crate) list: usize,
    pub(crate) cores: u32,
    pub(crate) end: usize,
}

impl Layout {
    fn new(plan: &Plan, cores: u32) -> Layout {
        let mut b = Bump::at(control_bytes(cores));
        let mesh = b.take(net::mesh_bytes(cores));
        let rest = Rest::new(b.take(Rest::bytes(cores)), cores);
        let results = b.take(cores as usize * BLOCK);
        let blocks = plan.blocks as usize * cores as usize;
        let ram = b.take(blocks * BLOCK_BYTES as usize);
        let list = b.take(3 * BLOCK + 8 * blocks);
        Layout {
            mesh,
            rest,
            results,
            ram,
            list,
            cores,
            end: b.end(),
        }
    }

    /// Core `core`'s result word at byte offset `word` (each point names
    /// its words with `slots!`).
    pub(crate) fn result(&self, core: u32, word: usize) -> usize {
        self.results + core as usize * BLOCK + word
    }
}
