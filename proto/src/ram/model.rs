//! **Checks:** the guarantee of [`super`]: after every step no byte is
//! free or in use on two cores at once (nor twice on one); every request is
//! answered exactly once; at rest the free and used bytes of all cores add
//! up to the RAM the run began with ([`RamModel::check_rest`], the
//! `mem-check total=... conserved=1` of a run).
//!
//! The reference model of the RAM protocol, fed the machines' effects and
//! their clients' calls by the host tests and by the simulator alike.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Ram, RamEffect, Region};

/// A broken invariant, said in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

/// The RAM a run began with and the requests not yet answered.
#[derive(Debug)]
pub struct RamModel {
    total: u64,
    pending: BTreeSet<(u32, u64)>,
}

impl RamModel {
    /// A run that began with `total` bytes over all partitions.
    pub fn new(total: u64) -> RamModel {
        RamModel {
            total,
            pending: BTreeSet::new(),
        }
    }

    /// The bytes the run began with.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Core `core` made request `req`.
    pub fn requested(&mut self, core: u32, req: u64) {
        self.pending.insert((core, req));
    }

    /// Applies one effect of core `core`'s machine.
    pub fn effect(&mut self, core: u32, e: &RamEffect) -> Result<(), Violation> {
        let req = match *e {
            RamEffect::Allocated { req, .. } | RamEffect::Exhausted { req } => req,
        };
        if self.pending.remove(&(core, req)) {
            Ok(())
        } else {
            Err(Violation(format!(
                "core {core}'s request {req} answered twice or never made"
            )))
        }
    }

    /// No byte is held twice: free or in use, on any core.
    pub fn check(&self, machines: &[Ram]) -> Result<(), Violation> {
        let mut all: Vec<(Region, u32, &str)> = Vec::new();
        for (c, m) in machines.iter().enumerate() {
            all.extend(m.free_regions().map(|r| (r, c as u32, "free")));
            all.extend(m.used_regions().map(|r| (r, c as u32, "in use")));
        }
        all.sort_by_key(|(r, ..)| r.base);
        for w in all.windows(2) {
            let ((a, ca, ka), (b, cb, kb)) = (w[0], w[1]);
            if a.overlaps(b) {
                return Err(Violation(format!(
                    "{a:?} is {ka} on core {ca} while {b:?} is {kb} on core {cb}"
                )));
            }
        }
        Ok(())
    }

    /// At rest: every request answered, and the free and used bytes of all
    /// cores add up to the total. Returns the bytes counted.
    pub fn check_rest(&self, machines: &[Ram]) -> Result<u64, Violation> {
        self.check(machines)?;
        if let Some((c, r)) = self.pending.iter().next() {
            return Err(Violation(format!(
                "core {c}'s request {r} was never answered"
            )));
        }
        let held: u64 = machines
            .iter()
            .map(|m| m.free_bytes() + m.used_bytes())
            .sum();
        if held != self.total {
            return Err(Violation(format!(
                "the cores hold {held} bytes of the {} the run began with",
                self.total
            )));
        }
        Ok(held)
    }
}
