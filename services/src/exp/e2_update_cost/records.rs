//! Core 0's checks of a point's rounds and the point's records
//! (`update-cost`, `update-check`; their types are in `super::typed`).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::{
    LINE_WORDS, Layout, Point, Series, UpdateCheck, UpdatePoint, series_name, shared_words, slot,
};
use crate::exp::ExpError;
use crate::exp::record::{Centi, emit};
use crate::exp::stats::median;
use crate::platform::Platform;
use crate::shm::Shared;

/// What core 0 checks across a point's rounds.
#[derive(Clone, Debug)]
pub(super) struct Check {
    /// Updates the cores say they did (MSG: the clients).
    sent: u64,
    /// Updates found applied (MSG: by the server; SHM: in the counter).
    applied: u64,
    /// MSG: the server's per-client counts of the current round.
    pub(super) applied_by_client: Vec<u64>,
    /// MSG: the server's private copy matches its count.
    pub(super) copy_ok: bool,
}

impl Default for Check {
    fn default() -> Check {
        Check {
            sent: 0,
            applied: 0,
            applied_by_client: Vec::new(),
            copy_ok: true,
        }
    }
}

impl Check {
    /// After a round: compares what the cores did with what the shared
    /// lines or the server hold. An atomic, locked or message-passing
    /// update that went missing is an error.
    pub(super) fn round(
        &mut self,
        mem: &Shared<'_>,
        lay: &Layout,
        i: usize,
        point: Point,
        cores: u32,
    ) -> Result<(), ExpError> {
        let did = |c: u32| {
            mem.word(lay.result(i, c) + slot::ROUND_UPDATES)
                .load(Ordering::Relaxed)
        };
        let not_conserved = |expected, counted| ExpError::NotConserved {
            series: series_name(point.series, 1),
            k: point.k,
            expected,
            counted,
        };
        match point.series {
            Series::Msg => {
                for c in 1..cores {
                    let applied = self
                        .applied_by_client
                        .get(c as usize - 1)
                        .copied()
                        .unwrap_or(0);
                    if did(c) != applied {
                        return Err(not_conserved(did(c), applied));
                    }
                    self.sent += did(c);
                    self.applied += applied;
                }
                if !self.copy_ok {
                    return Err(not_conserved(self.sent, u64::MAX));
                }
            }
            series => {
                let expected: u64 = (0..cores).map(did).sum();
                let words = shared_words(mem, lay, point.k);
                let counted = words[0].load(Ordering::Relaxed);
                let exact = match series {
                    Series::Atomic => words
                        .iter()
                        .step_by(LINE_WORDS)
                        .all(|w| w.load(Ordering::Relaxed) == expected),
                    Series::Lock => words.iter().all(|w| w.load(Ordering::Relaxed) == expected),
                    _ => true,
                };
                if !exact {
                    return Err(not_conserved(expected, counted));
                }
                self.sent += expected;
                self.applied += counted;
            }
        }
        Ok(())
    }
}

pub(super) fn print_point<P: Platform>(
    p: &mut P,
    mem: &Shared<'_>,
    lay: &Layout,
    i: usize,
    point: Point,
    cores: u32,
    check: &Check,
) {
    let k = point.k;
    let groups: &[(u32, u32)] = if point.series == Series::Msg {
        &[(1, cores), (0, 1)]
    } else {
        &[(0, cores)]
    };
    for &(from, to) in groups {
        let get = |c: u32, off: usize| mem.word(lay.result(i, c) + off).load(Ordering::Relaxed);
        let mut medians: Vec<u64> = (from..to).map(|c| get(c, slot::MEDIAN_X100)).collect();
        let p99 = (from..to)
            .map(|c| get(c, slot::P99_X100))
            .max()
            .unwrap_or(0);
        let samples: u64 = (from..to).map(|c| get(c, slot::SAMPLES)).sum();
        let updates: u64 = (from..to).map(|c| get(c, slot::UPDATES)).sum();
        let min = medians.iter().copied().min().unwrap_or(0);
        let max = medians.iter().copied().max().unwrap_or(0);
        let cycles = median(&mut medians);
        let overhead = get(from, slot::OVERHEAD);
        let name = series_name(point.series, from);
        let lost = if point.series == Series::Shm {
            check.sent.saturating_sub(check.applied)
        } else {
            0
        };
        let rec = UpdatePoint {
            series: name,
            k,
            cores,
            cycles: Centi(cycles),
            p99: Centi(p99),
            min_core: Centi(min),
            max_core: Centi(max),
            samples,
            updates,
            lost,
            tsc_overhead: overhead,
        };
        emit(p, &rec);
    }
    if point.series != Series::Shm {
        let rec = UpdateCheck {
            series: series_name(point.series, 1),
            k,
            cores,
            sent: check.sent,
            applied: check.applied,
            conserved: check.sent == check.applied,
        };
        emit(p, &rec);
    }
}
