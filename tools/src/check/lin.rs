//! Linearizability of a key-value map, one register per key.
//!
//! Linearizability is local (Herlihy & Wing 1990, Theorem 1): a history of
//! a map of independent registers is linearizable exactly when each key's
//! sub-history is. So the history is split by key (P-compositionality, as
//! in Porcupine) and each key is checked on its own with Wing & Gong's
//! search as improved by Lowe: operations are linearized just in time,
//! walking a doubly-linked list of call and return events; reaching a
//! return whose operation is not yet linearized backtracks; and a cache of
//! (set of linearized operations, register value) pairs cuts every branch
//! that reaches a configuration already explored.
//!
//! Operations are closed intervals `[invoke - skew, response + skew]`: one
//! precedes another only if it responded strictly before the other was
//! invoked. Widening by the cores' TSC skew can only remove precedences,
//! so it can turn a "no" into a "yes", never the other way. The skew lies
//! only between cores: a core's own operations share one clock, so they
//! keep their program order whatever the skew (each operation is
//! linearized only after the one its core made before it on the same key,
//! [`wgl_order_po`]). Across keys a core's order is not checked: with the
//! skew, precedence is no longer an interval order, and the per-key check
//! relies on locality.
//!
//! The linearized set is cached in a compact form: every operation is
//! numbered in invocation order, the cache key holds the lowest number not
//! yet linearized, the register value and only the bitset words from there
//! to the highest linearized number. That window is about as wide as the
//! history's concurrency, so long histories of one key do not cost
//! quadratic memory.
//!
//! Why not a crate: `stateright`'s `LinearizabilityTester` (and its
//! extraction `consistency_model`) is an online tester fed `on_invoke` and
//! `on_return` calls in one global order, searches without a cache and has
//! no time limit or counterexample; `lincheck` drives its own loom-run
//! scenarios rather than checking a recorded history; `todc-utils` has a
//! WGL checker but returns only a `bool`, with no time limit, no way to
//! widen intervals and no releases since 2023. The algorithm is short, so
//! it lives here.

use std::collections::BTreeMap;

use super::hash::FxHashSet;
use super::history::{History, Op};
use super::model::{Access, Model, Register};
use super::outcome::{Counterexample, Deadline, GaveUp, Verdict};
use super::shrink::{Explained, shrink};

/// One recorded operation on an object, over a closed interval of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<O> {
    /// Start of the (widened) interval.
    pub invoke: u64,
    /// End of the (widened) interval.
    pub response: u64,
    /// The operation and its outcome.
    pub op: O,
}

/// A register access over a widened interval.
pub type RegOp = Call<Access>;

impl RegOp {
    /// `op` with its interval widened by `skew` on each side.
    pub fn widened(op: &Op, skew: u64) -> RegOp {
        Call {
            invoke: op.invoke.saturating_sub(skew),
            response: op.response.saturating_add(skew),
            op: Access::of(op),
        }
    }
}

/// What the whole-history check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinReport {
    /// The verdict; a counterexample is on one key.
    pub verdict: Verdict,
    /// How many keys are not linearizable (when it was violated).
    pub failing_keys: usize,
}

/// The operations of `history` on each key, keys in increasing order.
pub fn by_key(history: &History) -> BTreeMap<u64, Vec<usize>> {
    let mut keys: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.ops.iter().enumerate() {
        keys.entry(op.key).or_default().push(i);
    }
    keys
}

fn register_ops(history: &History, subset: &[usize], skew: u64) -> Vec<RegOp> {
    subset
        .iter()
        .map(|&i| RegOp::widened(&history.ops[i], skew))
        .collect()
}

/// For each operation of `subset` (a key's operations), the one its core
/// made just before it within `subset` (an index into `subset`): program
/// order, by invocation, then response, then line.
pub fn program_order(history: &History, subset: &[usize]) -> Vec<Option<usize>> {
    let mut by_time: Vec<usize> = (0..subset.len()).collect();
    by_time.sort_by_key(|&k| {
        let op = &history.ops[subset[k]];
        (op.core, op.invoke, op.response, op.line)
    });
    let mut prev = vec![None; subset.len()];
    for pair in by_time.windows(2) {
        if history.ops[subset[pair[0]]].core == history.ops[subset[pair[1]]].core {
            prev[pair[1]] = Some(pair[0]);
        }
    }
    prev
}

/// Whether a key's operations `subset` are linearizable with intervals
/// widened by `skew` between cores, each core's program order kept.
fn key_linearizable(
    history: &History,
    subset: &[usize],
    skew: u64,
    deadline: &Deadline,
) -> Result<bool, GaveUp> {
    let ops = register_ops(history, subset, skew);
    let prev = program_order(history, subset);
    wgl_order_po(&Register, &ops, &prev, deadline).map(|order| order.is_some())
}

/// Checks that `history` is linearizable with intervals widened by
/// `skew`; on failure shrinks the smallest failing key's operations to a
/// minimal set that still cannot be linearized.
pub fn check(history: &History, skew: u64, deadline: &Deadline) -> LinReport {
    let mut failing: Vec<Vec<usize>> = Vec::new();
    for ops in by_key(history).into_values() {
        match key_linearizable(history, &ops, skew, deadline) {
            Ok(true) => {}
            Ok(false) => failing.push(ops),
            Err(gave_up) => {
                return LinReport {
                    verdict: Verdict::GaveUp(gave_up),
                    failing_keys: failing.len(),
                };
            }
        }
    }
    let failing_keys = failing.len();
    let Some(smallest) = failing.into_iter().min_by_key(Vec::len) else {
        return LinReport {
            verdict: Verdict::Holds,
            failing_keys,
        };
    };
    let key = history.ops[smallest[0]].key;
    let explained = Explained::new(history);
    let (ops, minimal) = shrink(smallest, |subset| {
        if !explained.closed(history, subset) {
            return Ok(false);
        }
        key_linearizable(history, subset, skew, deadline).map(|ok| !ok)
    });
    LinReport {
        verdict: Verdict::Violated(Counterexample {
            key: Some(key),
            ops,
            minimal,
        }),
        failing_keys,
    }
}

/// The event list: node 0 is the head, nodes `1..=2n` are the call and
/// return events in time order, node `2n + 1` is the tail.
struct Events {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// For each node, the operation (by invocation rank).
    op: Vec<u32>,
    /// For each node, whether it is a call.
    call: Vec<bool>,
    /// For each operation, its call node and its return node.
    nodes: Vec<(u32, u32)>,
}

impl Events {
    /// `intervals` must be in invocation order.
    fn new(intervals: &[(u64, u64)]) -> Events {
        let n = intervals.len();
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
        for (rank, &(invoke, response)) in intervals.iter().enumerate() {
            events.push((invoke, false, rank as u32));
            events.push((response, true, rank as u32));
        }
        // Calls before returns at the same time: the intervals are closed.
        events.sort_unstable();
        let count = 2 * n + 2;
        let mut e = Events {
            next: (1..=count as u32).collect(),
            prev: (0..count as u32).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![0; count],
            call: vec![false; count],
            nodes: vec![(0, 0); n],
        };
        for (i, &(_, ret, rank)) in events.iter().enumerate() {
            let node = i + 1;
            e.op[node] = rank;
            e.call[node] = !ret;
            if ret {
                e.nodes[rank as usize].1 = node as u32;
            } else {
                e.nodes[rank as usize].0 = node as u32;
            }
        }
        e
    }

    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        self.prev[n as usize] = node;
    }

    fn lift(&mut self, rank: u32) {
        let (c, r) = self.nodes[rank as usize];
        self.unlink(c);
        self.unlink(r);
    }

    fn unlift(&mut self, rank: u32) {
        let (c, r) = self.nodes[rank as usize];
        self.relink(r);
        self.relink(c);
    }
}

/// Whether one register's operations are linearizable (initial value 0).
pub fn linearizable(ops: &[RegOp], deadline: &Deadline) -> Result<bool, GaveUp> {
    wgl(&Register, ops, deadline)
}

/// A linearization of one register's operations (indices into `ops`, in
/// order), or `None` when there is none.
pub fn linearization(ops: &[RegOp], deadline: &Deadline) -> Result<Option<Vec<usize>>, GaveUp> {
    wgl_order(&Register, ops, deadline)
}

/// Whether `calls` on one object of `model` are linearizable: the WGL
/// search with Lowe's cache.
pub fn wgl<M: Model>(
    model: &M,
    calls: &[Call<M::Op>],
    deadline: &Deadline,
) -> Result<bool, GaveUp> {
    wgl_order(model, calls, deadline).map(|order| order.is_some())
}

/// [`wgl`], with the linearization it found: indices into `calls`.
pub fn wgl_order<M: Model>(
    model: &M,
    calls: &[Call<M::Op>],
    deadline: &Deadline,
) -> Result<Option<Vec<usize>>, GaveUp> {
    wgl_order_po(model, calls, &vec![None; calls.len()], deadline)
}

/// [`wgl_order`] with a program order: `prev[i]`, when set, is the call
/// that must be linearized before call `i` whatever the intervals say (the
/// call its core made just before it, whose clock it shares).
pub fn wgl_order_po<M: Model>(
    model: &M,
    calls: &[Call<M::Op>],
    prev: &[Option<usize>],
    deadline: &Deadline,
) -> Result<Option<Vec<usize>>, GaveUp> {
    let n = calls.len();
    if n == 0 {
        return Ok(Some(Vec::new()));
    }
    // Number the operations in invocation order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (calls[i].invoke, calls[i].response));
    let intervals: Vec<(u64, u64)> = order
        .iter()
        .map(|&i| (calls[i].invoke, calls[i].response))
        .collect();
    let mut events = Events::new(&intervals);
    let tail = (2 * n + 1) as u32;
    let mut rank_of = vec![0usize; n];
    for (rank, &i) in order.iter().enumerate() {
        rank_of[i] = rank;
    }
    // The rank that must be linearized before each rank, if any.
    let before: Vec<Option<usize>> = order
        .iter()
        .map(|&i| prev.get(i).copied().flatten().map(|p| rank_of[p]))
        .collect();

    let mut bits = vec![0u64; n.div_ceil(64)];
    let bit = |bits: &[u64], i: usize| bits[i / 64] >> (i % 64) & 1 == 1;
    // Lowest rank not linearized; one past the highest rank linearized.
    let mut lo = 0usize;
    let mut hi = 0usize;
    let mut state = model.init();
    // (rank, state before it, `hi` before it)
    let mut stack: Vec<(u32, M::State, usize)> = Vec::with_capacity(n);
    let mut cache: FxHashSet<(Box<[u64]>, M::State)> = FxHashSet::default();

    let mut entry = events.next[0];
    let mut steps = 0u32;
    loop {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(4096) {
            deadline.check()?;
        }
        if events.next[0] == tail {
            return Ok(Some(
                stack
                    .iter()
                    .map(|&(rank, ..)| order[rank as usize])
                    .collect(),
            ));
        }
        let node = entry as usize;
        let rank = events.op[node];
        let r = rank as usize;
        let waits = before[r].is_some_and(|p| !bit(&bits, p));
        if events.call[node] {
            if waits {
                // Its core's previous call is not linearized yet.
                entry = events.next[node];
                continue;
            }
            if let Some(after) = model.step(&state, &calls[order[r]].op) {
                bits[r / 64] |= 1 << (r % 64);
                let mut new_lo = lo;
                while new_lo < n && bit(&bits, new_lo) {
                    new_lo += 1;
                }
                let new_hi = hi.max(r + 1);
                let mut key = Vec::with_capacity(2 + new_hi.saturating_sub(new_lo) / 64);
                key.push(new_lo as u64);
                if new_hi > new_lo {
                    key.extend_from_slice(&bits[new_lo / 64..new_hi.div_ceil(64)]);
                }
                if cache.insert((key.into_boxed_slice(), after.clone())) {
                    stack.push((rank, std::mem::replace(&mut state, after), hi));
                    lo = new_lo;
                    hi = new_hi;
                    events.lift(rank);
                    entry = events.next[0];
                    continue;
                }
                bits[r / 64] &= !(1 << (r % 64));
            }
            entry = events.next[node];
        } else {
            let Some((top, before, old_hi)) = stack.pop() else {
                return Ok(None);
            };
            let t = top as usize;
            state = before;
            hi = old_hi;
            bits[t / 64] &= !(1 << (t % 64));
            lo = lo.min(t);
            events.unlift(top);
            entry = events.next[events.nodes[t].0 as usize];
        }
    }
}

/// A deliberately wrong checker that forgets real time: every operation is
/// taken as concurrent with every other. The tests show it accepts what
/// the real one rightly refuses.
#[cfg(test)]
pub fn linearizable_ignoring_real_time(ops: &[RegOp], deadline: &Deadline) -> Result<bool, GaveUp> {
    let everything: Vec<RegOp> = ops
        .iter()
        .map(|o| Call {
            invoke: 0,
            response: u64::MAX,
            op: o.op,
        })
        .collect();
    linearizable(&everything, deadline)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn w(core: u32, value: u64, invoke: u64, response: u64) -> Op {
        Op::write(core, 0, value, invoke, response)
    }

    fn r(core: u32, value: u64, invoke: u64, response: u64) -> Op {
        Op::read(core, 0, value, invoke, response)
    }

    fn lin(ops: &[Op], skew: u64) -> bool {
        let reg: Vec<RegOp> = ops.iter().map(|o| RegOp::widened(o, skew)).collect();
        linearizable(&reg, &Deadline::new(Duration::from_secs(10))).unwrap()
    }

    /// The whole check of a history, as `check` runs it.
    fn holds(ops: &[Op], skew: u64) -> bool {
        let h = History::new(ops.to_vec());
        check(&h, skew, &Deadline::new(Duration::from_secs(10))).verdict == Verdict::Holds
    }

    #[test]
    fn the_skew_widens_only_between_cores() {
        // A core reads the old value after its own write: not even
        // sequentially consistent, whatever the skew between cores.
        let own = [w(0, 1, 100, 110), r(0, 0, 120, 130)];
        for skew in [0, 5, 100] {
            assert!(!holds(&own, skew), "skew {skew}");
        }
        // The same on two cores: the skew may reorder them.
        let two = [w(0, 1, 100, 110), r(1, 0, 120, 130)];
        assert!(!holds(&two, 0));
        assert!(holds(&two, 5));
        // The interval search alone, without program order, is fooled.
        assert!(lin(&own, 5));
    }

    #[test]
    fn touching_operations_of_one_core_keep_program_order() {
        // The read's invocation is the write's response: the read came
        // second, so it must see the write.
        assert!(!holds(&[w(0, 1, 0, 10), r(0, 0, 10, 20)], 0));
        assert!(holds(&[w(0, 1, 0, 10), r(0, 1, 10, 20)], 0));
    }

    #[test]
    fn empty_and_initial_reads_are_linearizable() {
        assert!(lin(&[], 0));
        assert!(lin(&[r(0, 0, 1, 2), r(1, 0, 3, 4)], 0));
        assert!(!lin(&[r(0, 5, 1, 2)], 0), "a value nobody wrote");
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not() {
        let h = [w(0, 1, 0, 10), r(1, 0, 20, 30)];
        assert!(!lin(&h, 0));
        // Unless the skew makes them overlap.
        assert!(!lin(&h, 4));
        assert!(lin(&h, 5));
    }

    #[test]
    fn overlapping_operations_may_take_either_order() {
        // The read overlaps the write: it may see the old or the new value.
        assert!(lin(&[w(0, 1, 0, 10), r(1, 0, 5, 15)], 0));
        assert!(lin(&[w(0, 1, 0, 10), r(1, 1, 5, 15)], 0));
        // Two overlapping writes and reads that agree on one order.
        let h = [
            w(0, 1, 0, 10),
            w(1, 2, 0, 10),
            r(2, 1, 11, 12),
            r(3, 1, 13, 14),
        ];
        assert!(lin(&h, 0));
    }

    #[test]
    fn two_reads_seeing_two_writes_in_opposite_orders_are_not() {
        let h = [
            w(0, 1, 0, 10),
            w(1, 2, 0, 10),
            r(2, 1, 11, 12),
            r(2, 2, 13, 14),
            r(3, 2, 11, 12),
            r(3, 1, 13, 14),
        ];
        assert!(!lin(&h, 0));
    }

    #[test]
    fn touching_intervals_count_as_concurrent() {
        assert!(lin(&[w(0, 1, 0, 10), r(1, 0, 10, 20)], 0));
        assert!(!lin(&[w(0, 1, 0, 10), r(1, 0, 11, 20)], 0));
    }

    /// A FIFO queue, for the histories of Herlihy & Wing's paper.
    struct Queue;

    #[derive(Clone, Copy, Debug)]
    enum Q {
        Enq(char),
        Deq(char),
    }

    impl Model for Queue {
        type Op = Q;
        type State = std::collections::VecDeque<char>;

        fn init(&self) -> Self::State {
            Default::default()
        }

        fn step(&self, state: &Self::State, op: &Q) -> Option<Self::State> {
            let mut s = state.clone();
            match *op {
                Q::Enq(x) => s.push_back(x),
                Q::Deq(x) => (s.pop_front()? == x).then_some(())?,
            }
            Some(s)
        }
    }

    fn queue(calls: &[(u64, u64, Q)]) -> bool {
        let calls: Vec<Call<Q>> = calls
            .iter()
            .map(|&(invoke, response, op)| Call {
                invoke,
                response,
                op,
            })
            .collect();
        wgl(&Queue, &calls, &Deadline::new(Duration::from_secs(10))).unwrap()
    }

    /// Herlihy & Wing 1990, Figure 1: four FIFO queue histories, (a) and
    /// (c) linearizable, (b) and (d) not.
    #[test]
    fn herlihy_wing_figure_1() {
        use Q::{Deq, Enq};
        // (a) A: E(x) overlaps B: E(y); then A: D(y) overlaps B: D(x).
        // Taking E(y) first and D(y) first is a legal order.
        assert!(queue(&[
            (0, 30, Enq('x')),
            (10, 40, Enq('y')),
            (50, 80, Deq('y')),
            (60, 90, Deq('x')),
        ]));
        // (b) E(x) completes before E(y) starts, yet D(y) comes first
        // and completes before D(x) starts.
        assert!(!queue(&[
            (0, 10, Enq('x')),
            (20, 30, Enq('y')),
            (40, 50, Deq('y')),
            (60, 70, Deq('x')),
        ]));
        // (c) B dequeues x while A is still enqueueing it.
        assert!(queue(&[(0, 100, Enq('x')), (20, 30, Deq('x'))]));
        // (d) A enqueues x then y; B's long dequeue returns y although x
        // was in the queue throughout.
        assert!(!queue(&[
            (0, 10, Enq('x')),
            (20, 30, Enq('y')),
            (5, 100, Deq('y')),
        ]));
    }

    /// Herlihy & Wing's register example shape: once a read inside a long
    /// write has seen the new value, a later read may not see the old one.
    #[test]
    fn herlihy_wing_register_examples() {
        assert!(!lin(
            &[w(0, 1, 0, 100), r(1, 1, 10, 20), r(1, 0, 30, 40)],
            0
        ));
        assert!(lin(&[w(0, 1, 0, 100), r(1, 0, 10, 20), r(1, 1, 30, 40)], 0));
        assert!(lin(&[w(0, 1, 0, 100), r(1, 0, 10, 20), r(2, 1, 15, 25)], 0));
    }

    #[test]
    fn the_cache_keeps_long_single_key_histories_fast() {
        // 20,000 writes by 4 cores, every one overlapping its neighbours,
        // each read seeing the latest write.
        let mut ops = Vec::new();
        for i in 0..20_000u64 {
            ops.push(w((i % 4) as u32, i + 1, 10 * i, 10 * i + 35));
            ops.push(r(4, i + 1, 10 * i + 36, 10 * i + 37));
        }
        assert!(lin(&ops, 0));
    }

    #[test]
    fn gives_up_at_the_time_limit() {
        let mut ops = Vec::new();
        for i in 0..2_000u64 {
            ops.push(w(i as u32, i + 1, 0, 1_000));
        }
        ops.push(r(9999, 12345, 2_000, 2_001));
        let reg: Vec<RegOp> = ops.iter().map(|o| RegOp::widened(o, 0)).collect();
        let d = Deadline::new(Duration::from_millis(50));
        assert!(linearizable(&reg, &d).is_err());
    }

    #[test]
    fn the_broken_checker_is_caught() {
        let h = [w(0, 1, 0, 10), r(1, 0, 20, 30)];
        let reg: Vec<RegOp> = h.iter().map(|o| RegOp::widened(o, 0)).collect();
        let d = Deadline::new(Duration::from_secs(10));
        assert!(!linearizable(&reg, &d).unwrap());
        assert!(
            linearizable_ignoring_real_time(&reg, &d).unwrap(),
            "ignoring real time accepts the stale read"
        );
    }

    #[test]
    fn check_reports_a_minimal_counterexample_on_the_failing_key() {
        let mut ops = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::read(1, 1, 1, 20, 30),
            Op::write(0, 2, 5, 0, 10),
            Op::write(2, 2, 6, 11, 12),
            Op::read(1, 2, 6, 13, 14),
            Op::read(3, 2, 5, 40, 50),
            Op::read(3, 2, 6, 60, 70),
        ];
        ops.extend((0..20).map(|i| Op::read(4, 3, 0, i, i + 1)));
        let h = History::new(ops);
        let report = check(&h, 0, &Deadline::new(Duration::from_secs(10)));
        assert_eq!(report.failing_keys, 1);
        let Verdict::Violated(c) = report.verdict else {
            panic!("{:?}", report.verdict)
        };
        assert_eq!(c.key, Some(2));
        assert!(c.minimal);
        // w5 completes, then w6, then a read returns 5.
        assert_eq!(c.ops, vec![2, 3, 5]);
    }
}
