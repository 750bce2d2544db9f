//! Sequential consistency of a key-value map: is there one total order of
//! all operations that keeps each core's operations in program order (by
//! `invoke`) and in which every read returns the latest write to its key
//! before it (or 0)? Real time plays no part, so TSC skew does not either.
//!
//! Unlike linearizability, sequential consistency is not local: every key
//! can be sequentially consistent on its own while the whole map is not
//! (core 0 writes x then reads y = 0, core 1 writes y then reads x = 0).
//! So the decisive check searches the whole history. It proceeds in three
//! steps, each sound:
//!
//! 1. **Fast sufficient check.** If no core has two operations that
//!    overlap in time, and every key is linearizable with the recorded
//!    (unwidened) intervals, the whole history is linearizable (locality),
//!    and its linearization respects program order, so it is sequentially
//!    consistent. A "yes" here is a proof.
//! 2. **Fast necessary check.** Restricting a sequentially consistent
//!    order to one key gives one for that key, so a key whose own
//!    operations have no such order proves the history is not
//!    sequentially consistent, with a counterexample on that key.
//! 3. **Whole-history search.** A depth-first search over states (how far
//!    each core has got, the value of every key). Three reductions keep
//!    it small. A read whose core has reached it and whose key holds its
//!    value is taken at once: reads change nothing, so moving it earlier
//!    keeps any completion valid. So the search branches only on which
//!    core's next write goes next. A write that would overwrite a value
//!    some pending read still wants, when no pending write writes that
//!    value again, is never taken: no completion follows it. And every
//!    state reached is remembered by a 128-bit Zobrist fingerprint, so no
//!    state is explored twice. The order in which writes are tried
//!    matters, so there are several attempts, each with a budget of
//!    states: first each key's writes in the order a linearization (or,
//!    failing that, a sequentially consistent order) of that key alone
//!    puts them, which for distinct values needs almost no backtracking
//!    when it is right; then by invocation; then by when each write can
//!    last have taken effect (its response, or a read of its value's).
//!    The last attempt runs to the time limit. A key with no order of its
//!    own ends the search with "no" at once.
//!    "Yes" exhibits an order; "no" means a search was exhaustive (wrong
//!    only if two of the states it visited share a fingerprint, a chance
//!    below 2^-60 for a billion states).
//!
//! Checking sequential consistency is NP-complete even for registers
//! (Gibbons & Korach 1997), so step 3 can take exponential time; it stops
//! at the time limit with [`GaveUp`].

use super::hash::{FxHashMap, FxHashSet, fingerprint};
use super::history::{History, Kind, Op};
use super::lin::{self, RegOp};
use super::outcome::{Counterexample, Deadline, GaveUp, Verdict};
use super::shrink::{Explained, shrink};

/// Which step decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Step 1: linearizable with sequential cores.
    RealTime,
    /// Step 2: one key alone has no sequentially consistent order.
    OneKey,
    /// Step 3: the whole-history search.
    Search,
}

impl Method {
    /// A short description, to follow "found by".
    pub fn describe(self) -> &'static str {
        match self {
            Method::RealTime => "the real-time check (linearizable, cores sequential)",
            Method::OneKey => "checking each key alone",
            Method::Search => "searching the whole history",
        }
    }
}

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqReport {
    /// The verdict.
    pub verdict: Verdict,
    /// The step that decided (the last one tried when it gave up).
    pub method: Method,
    /// States the whole-history search visited (0 if it did not run).
    pub states: u64,
}

/// Options for [`check_with`].
#[derive(Clone, Copy, Debug)]
pub struct SeqOptions {
    /// Try steps 1 and 2 before the search.
    pub fast_checks: bool,
}

/// Checks that `history` is sequentially consistent, all three steps.
pub fn check(history: &History, deadline: &Deadline) -> SeqReport {
    check_with(history, deadline, SeqOptions { fast_checks: true })
}

/// Checks that `history` is sequentially consistent.
pub fn check_with(history: &History, deadline: &Deadline, options: SeqOptions) -> SeqReport {
    let gave_up = |g, method, states| SeqReport {
        verdict: Verdict::GaveUp(g),
        method,
        states,
    };
    let explained = Explained::new(history);
    if options.fast_checks {
        match real_time_suffices(history, deadline) {
            Ok(true) => {
                return SeqReport {
                    verdict: Verdict::Holds,
                    method: Method::RealTime,
                    states: 0,
                };
            }
            Ok(false) => {}
            Err(g) => return gave_up(g, Method::RealTime, 0),
        }
        for ops in lin::by_key(history).into_values() {
            match search(history, &ops, deadline) {
                Ok((true, _)) => {}
                Ok((false, _)) => {
                    let key = history.ops[ops[0]].key;
                    let (ops, minimal) = shrink(ops, |s| {
                        if !explained.closed(history, s) {
                            return Ok(false);
                        }
                        search(history, s, deadline).map(|(ok, _)| !ok)
                    });
                    return SeqReport {
                        verdict: Verdict::Violated(Counterexample {
                            key: Some(key),
                            ops,
                            minimal,
                        }),
                        method: Method::OneKey,
                        states: 0,
                    };
                }
                Err(g) => return gave_up(g, Method::OneKey, 0),
            }
        }
    }
    let all: Vec<usize> = (0..history.ops.len()).collect();
    let states = match search(history, &all, deadline) {
        Ok((true, states)) => {
            return SeqReport {
                verdict: Verdict::Holds,
                method: Method::Search,
                states,
            };
        }
        Ok((false, states)) => states,
        Err(g) => return gave_up(g, Method::Search, 0),
    };
    let (ops, minimal) = shrink(all, |s| {
        if !explained.closed(history, s) {
            return Ok(false);
        }
        search(history, s, deadline).map(|(ok, _)| !ok)
    });
    let first = history.ops[ops[0]].key;
    let one_key = ops.iter().all(|&i| history.ops[i].key == first);
    SeqReport {
        verdict: Verdict::Violated(Counterexample {
            key: one_key.then_some(first),
            ops,
            minimal,
        }),
        method: Method::Search,
        states,
    }
}

/// Step 1: whether each core's operations are strictly sequential in time
/// and every key is linearizable with the recorded intervals.
pub fn real_time_suffices(history: &History, deadline: &Deadline) -> Result<bool, GaveUp> {
    for ops in program_order(history, &(0..history.ops.len()).collect::<Vec<_>>()) {
        for pair in ops.windows(2) {
            if history.ops[pair[0]].response >= history.ops[pair[1]].invoke {
                return Ok(false);
            }
        }
    }
    for ops in lin::by_key(history).into_values() {
        let reg: Vec<RegOp> = ops
            .iter()
            .map(|&i| RegOp::widened(&history.ops[i], 0))
            .collect();
        if !lin::linearizable(&reg, deadline)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `subset`'s operations per core, each in program order: by invoke, then
/// response, then position in the history.
fn program_order(history: &History, subset: &[usize]) -> Vec<Vec<usize>> {
    let mut cores: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for &i in subset {
        cores.entry(history.ops[i].core).or_default().push(i);
    }
    let mut cores: Vec<(u32, Vec<usize>)> = cores.into_iter().collect();
    cores.sort_unstable_by_key(|(c, _)| *c);
    cores
        .into_iter()
        .map(|(_, mut ops)| {
            ops.sort_by_key(|&i| (history.ops[i].invoke, history.ops[i].response, i));
            ops
        })
        .collect()
}

/// An operation as the search sees it.
#[derive(Clone, Copy, Debug)]
struct Step {
    write: bool,
    /// Dense key number.
    key: u32,
    value: u64,
    /// Writes go in increasing order of this, where there is a choice.
    priority: u64,
    /// Index in the history.
    op: u32,
    /// With [`Order::Coherent`], the write's place among its key's writes.
    co: u32,
}

/// How the search orders its choice of the next write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// By the latest instant the write can have taken effect if the
    /// history were linearizable: its response, or earlier if a read of
    /// its value responded earlier.
    Settled,
    /// By invocation.
    Invoked,
    /// Each key's writes in one given order (found for each key alone),
    /// otherwise as [`Order::Settled`]. Reads are taken as soon as they
    /// can, and with distinct values per key a write whose predecessors
    /// are all done never needs undoing, so this attempt hardly
    /// backtracks; but a "no" under it proves nothing.
    Coherent,
}

/// What to undo when backtracking.
#[derive(Clone, Copy, Debug)]
enum Undo {
    /// A core moved past a read.
    Read(u32),
    /// A core moved past a write; the key held `old` before.
    Write(u32, u64),
}

/// Pending (not yet ordered) reads and writes of one value of one key.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    reads: u32,
    writes: u32,
}

struct Search {
    cores: Vec<Vec<Step>>,
    pos: Vec<u32>,
    values: Vec<u64>,
    pending: FxHashMap<(u32, u64), Pending>,
    left: usize,
    hash_pos: u128,
    hash_values: u128,
    trail: Vec<Undo>,
    /// With [`Order::Coherent`], each key's next write.
    co_next: Option<Vec<u32>>,
}

fn pos_hash(core: usize, pos: u32) -> u128 {
    fingerprint(core as u64, u64::from(pos))
}

fn value_hash(key: u32, value: u64) -> u128 {
    if value == 0 {
        0
    } else {
        fingerprint(u64::from(key) | 1 << 40, value)
    }
}

impl Search {
    fn new(
        history: &History,
        subset: &[usize],
        order: Order,
        co: Option<&FxHashMap<usize, u32>>,
    ) -> Search {
        let mut keys: FxHashMap<u64, u32> = FxHashMap::default();
        let mut settled: FxHashMap<(u64, u64), u64> = FxHashMap::default();
        for &i in subset {
            let op = &history.ops[i];
            let t = settled.entry((op.key, op.value)).or_insert(u64::MAX);
            *t = (*t).min(op.response);
        }
        let mut pending: FxHashMap<(u32, u64), Pending> = FxHashMap::default();
        let cores: Vec<Vec<Step>> = program_order(history, subset)
            .into_iter()
            .map(|ops| {
                ops.into_iter()
                    .map(|i| {
                        let op: &Op = &history.ops[i];
                        let next = keys.len() as u32;
                        let key = *keys.entry(op.key).or_insert(next);
                        let write = op.kind == Kind::Write;
                        let p = pending.entry((key, op.value)).or_default();
                        if write {
                            p.writes += 1;
                        } else {
                            p.reads += 1;
                        }
                        let priority = match order {
                            Order::Settled | Order::Coherent => {
                                settled[&(op.key, op.value)].min(op.response)
                            }
                            Order::Invoked => op.invoke,
                        };
                        Step {
                            write,
                            key,
                            value: op.value,
                            priority,
                            op: i as u32,
                            co: co.and_then(|c| c.get(&i).copied()).unwrap_or(u32::MAX),
                        }
                    })
                    .collect()
            })
            .collect();
        let hash_pos = (0..cores.len()).fold(0, |h, c| h ^ pos_hash(c, 0));
        Search {
            pos: vec![0; cores.len()],
            values: vec![0; keys.len()],
            pending,
            left: subset.len(),
            cores,
            hash_pos,
            hash_values: 0,
            trail: Vec::new(),
            co_next: (order == Order::Coherent && co.is_some()).then(|| vec![0; keys.len()]),
        }
    }

    fn next(&self, core: usize) -> Option<Step> {
        self.cores[core].get(self.pos[core] as usize).copied()
    }

    fn count(&mut self, s: Step, delta: i32) {
        let p = self.pending.entry((s.key, s.value)).or_default();
        let n = if s.write { &mut p.writes } else { &mut p.reads };
        *n = n.wrapping_add_signed(delta);
    }

    fn advance(&mut self, core: usize) {
        let p = self.pos[core];
        let s = self.cores[core][p as usize];
        self.count(s, -1);
        self.hash_pos ^= pos_hash(core, p) ^ pos_hash(core, p + 1);
        self.pos[core] = p + 1;
        self.left -= 1;
    }

    fn retreat(&mut self, core: usize) {
        let p = self.pos[core];
        self.hash_pos ^= pos_hash(core, p) ^ pos_hash(core, p - 1);
        self.pos[core] = p - 1;
        self.left += 1;
        let s = self.cores[core][p as usize - 1];
        self.count(s, 1);
    }

    fn set(&mut self, key: u32, value: u64) {
        let old = self.values[key as usize];
        self.hash_values ^= value_hash(key, old) ^ value_hash(key, value);
        self.values[key as usize] = value;
    }

    /// The operations ordered so far (history indices), in order.
    fn witness(&self) -> Vec<usize> {
        let mut at = vec![0usize; self.cores.len()];
        self.trail
            .iter()
            .map(|u| {
                let c = match *u {
                    Undo::Read(c) | Undo::Write(c, _) => c as usize,
                };
                at[c] += 1;
                self.cores[c][at[c] - 1].op as usize
            })
            .collect()
    }

    /// Takes every read that can go now.
    fn saturate(&mut self) {
        for core in 0..self.cores.len() {
            while let Some(s) = self.next(core) {
                if s.write || self.values[s.key as usize] != s.value {
                    break;
                }
                self.advance(core);
                self.trail.push(Undo::Read(core as u32));
            }
        }
    }

    fn write(&mut self, core: usize) {
        let s = self.next(core).expect("a core with a next write");
        let old = self.values[s.key as usize];
        self.set(s.key, s.value);
        self.advance(core);
        self.trail.push(Undo::Write(core as u32, old));
        if let Some(next) = &mut self.co_next {
            next[s.key as usize] += 1;
        }
    }

    fn undo_to(&mut self, mark: usize) {
        while self.trail.len() > mark {
            match self.trail.pop().expect("trail longer than mark") {
                Undo::Read(c) => self.retreat(c as usize),
                Undo::Write(c, old) => {
                    self.retreat(c as usize);
                    let key = self.cores[c as usize][self.pos[c as usize] as usize].key;
                    self.set(key, old);
                    if let Some(next) = &mut self.co_next {
                        next[key as usize] -= 1;
                    }
                }
            }
        }
    }

    /// The cores whose next operation is a write that can go now, best
    /// first. A write that would overwrite a value some pending read still
    /// wants, when no pending write could bring that value back, leads
    /// nowhere and is left out.
    fn candidates(&self) -> Vec<u32> {
        let mut cands: Vec<(u64, u32)> = (0..self.cores.len())
            .filter_map(|c| {
                let s = self.next(c)?;
                if !s.write {
                    return None;
                }
                if let Some(next) = &self.co_next
                    && next[s.key as usize] != s.co
                {
                    return None;
                }
                let current = self.values[s.key as usize];
                if current != s.value {
                    let p = self
                        .pending
                        .get(&(s.key, current))
                        .copied()
                        .unwrap_or_default();
                    if p.reads > 0 && p.writes == 0 {
                        return None;
                    }
                }
                Some((s.priority, c as u32))
            })
            .collect();
        cands.sort_unstable();
        cands.into_iter().map(|(_, c)| c).collect()
    }
}

/// Why a bounded search stopped.
enum Stop {
    /// Out of time.
    GaveUp(GaveUp),
    /// Visited as many states as it was allowed.
    Budget,
}

/// Whether `subset` of `history` (indices) is sequentially consistent, and
/// how many states the search visited.
fn search(history: &History, subset: &[usize], deadline: &Deadline) -> Result<(bool, u64), GaveUp> {
    solve(history, subset, deadline).map(|(order, states)| (order.is_some(), states))
}

/// A sequentially consistent order of `subset` if there is one, and how
/// many states the search visited. With several keys, each key is solved
/// alone first (a linearization if it has one, else a sequentially
/// consistent order): a key without an order settles it, and the keys'
/// orders of their writes guide a first attempt. Quick attempts with each write
/// order and a budget of states come next (a good order finds an answer
/// with little backtracking); then the search runs to the time limit.
fn solve(
    history: &History,
    subset: &[usize],
    deadline: &Deadline,
) -> Result<(Option<Vec<usize>>, u64), GaveUp> {
    let budget = 4 * subset.len() as u64 + 1_000;
    let mut visited = 0;
    let mut keys: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
    for &i in subset {
        keys.entry(history.ops[i].key).or_default().push(i);
    }
    let mut co: Option<FxHashMap<usize, u32>> = None;
    if keys.len() > 1 {
        let mut ranks = FxHashMap::default();
        for ops in keys.into_values() {
            // A linearization of the key, if it has one, respects real
            // time and so the other keys' program order too.
            let reg: Vec<RegOp> = ops
                .iter()
                .map(|&i| RegOp::widened(&history.ops[i], 0))
                .collect();
            let order = match lin::linearization(&reg, deadline)? {
                Some(order) => order.into_iter().map(|j| ops[j]).collect(),
                None => {
                    let (order, states) = solve(history, &ops, deadline)?;
                    visited += states;
                    let Some(order) = order else {
                        return Ok((None, visited));
                    };
                    order
                }
            };
            let writes = order
                .into_iter()
                .filter(|&i| history.ops[i].kind == Kind::Write);
            ranks.extend(writes.zip(0u32..));
        }
        co = Some(ranks);
    }
    let attempts: &[Order] = if co.is_some() {
        &[Order::Coherent, Order::Invoked, Order::Settled]
    } else {
        &[Order::Invoked, Order::Settled]
    };
    for &order in attempts {
        match bounded(history, subset, order, co.as_ref(), Some(budget), deadline) {
            Ok((None, states)) if order == Order::Coherent => visited += states,
            Ok((answer, states)) => return Ok((answer, visited + states)),
            Err(Stop::GaveUp(g)) => return Err(g),
            Err(Stop::Budget) => visited += budget,
        }
    }
    match bounded(history, subset, Order::Settled, None, None, deadline) {
        Ok((answer, states)) => Ok((answer, visited + states)),
        Err(Stop::GaveUp(g)) => Err(g),
        Err(Stop::Budget) => unreachable!("no budget"),
    }
}

fn bounded(
    history: &History,
    subset: &[usize],
    order: Order,
    co: Option<&FxHashMap<usize, u32>>,
    budget: Option<u64>,
    deadline: &Deadline,
) -> Result<(Option<Vec<usize>>, u64), Stop> {
    struct Frame {
        mark: usize,
        cands: Vec<u32>,
        tried: usize,
    }
    let mut s = Search::new(history, subset, order, co);
    let mut seen: FxHashSet<u128> = FxHashSet::default();
    s.saturate();
    if s.left == 0 {
        return Ok((Some(s.witness()), 1));
    }
    seen.insert(s.hash_pos ^ s.hash_values);
    let mut stack = vec![Frame {
        mark: s.trail.len(),
        cands: s.candidates(),
        tried: 0,
    }];
    let mut steps = 0u32;
    while let Some(top) = stack.last_mut() {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(1024) {
            deadline.check().map_err(Stop::GaveUp)?;
        }
        s.undo_to(top.mark);
        let Some(&core) = top.cands.get(top.tried) else {
            stack.pop();
            continue;
        };
        top.tried += 1;
        s.write(core as usize);
        s.saturate();
        if s.left == 0 {
            return Ok((Some(s.witness()), seen.len() as u64 + 1));
        }
        if seen.insert(s.hash_pos ^ s.hash_values) {
            if budget.is_some_and(|b| seen.len() as u64 > b) {
                return Err(Stop::Budget);
            }
            let cands = s.candidates();
            stack.push(Frame {
                mark: s.trail.len(),
                cands,
                tried: 0,
            });
        }
    }
    Ok((None, seen.len() as u64))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn d() -> Deadline {
        Deadline::new(Duration::from_secs(10))
    }

    fn sc(ops: Vec<Op>) -> SeqReport {
        check(&History::new(ops), &d())
    }

    fn searched(ops: Vec<Op>) -> bool {
        let h = History::new(ops);
        let all: Vec<usize> = (0..h.ops.len()).collect();
        search(&h, &all, &d()).unwrap().0
    }

    #[test]
    fn sequentially_consistent_but_not_linearizable() {
        // Core 1 reads the old value after the write completed: not
        // linearizable, but the read can be ordered before the write.
        let ops = vec![Op::write(0, 1, 1, 0, 10), Op::read(1, 1, 0, 20, 30)];
        let h = History::new(ops.clone());
        assert!(!lin::check(&h, 0, &d()).verdict.holds());
        let r = sc(ops);
        assert_eq!(r.verdict, Verdict::Holds);
        assert_eq!(r.method, Method::Search);
    }

    #[test]
    fn a_core_must_see_its_own_write() {
        let ops = vec![Op::write(0, 1, 1, 0, 10), Op::read(0, 1, 0, 20, 30)];
        let r = sc(ops);
        assert!(matches!(r.verdict, Verdict::Violated(_)), "{r:?}");
        assert_eq!(r.method, Method::OneKey);
    }

    #[test]
    fn store_buffering_is_not_sequentially_consistent_though_each_key_is() {
        // x = key 1, y = key 2.
        let ops = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::read(0, 2, 0, 20, 30),
            Op::write(1, 2, 1, 0, 10),
            Op::read(1, 1, 0, 20, 30),
        ];
        let r = sc(ops);
        assert_eq!(r.method, Method::Search);
        let Verdict::Violated(c) = r.verdict else {
            panic!("{r:?}")
        };
        assert_eq!(c.ops, vec![0, 1, 2, 3]);
        assert_eq!(c.key, None);
        assert!(c.minimal);
    }

    #[test]
    fn two_cores_seeing_writes_in_opposite_orders_is_not() {
        let ops = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::write(1, 1, 2, 0, 10),
            Op::read(2, 1, 1, 20, 21),
            Op::read(2, 1, 2, 22, 23),
            Op::read(3, 1, 2, 20, 21),
            Op::read(3, 1, 1, 22, 23),
        ];
        assert!(!searched(ops.clone()));
        assert!(!sc(ops).verdict.holds());
    }

    #[test]
    fn reads_wait_for_the_right_write() {
        // Core 2 must see 1 before 2; core 0 writes 1 then 2 later.
        let ops = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::write(0, 1, 2, 20, 30),
            Op::read(1, 1, 2, 0, 1),
            Op::read(2, 1, 0, 100, 101),
            Op::read(2, 1, 1, 102, 103),
            Op::read(2, 1, 2, 104, 105),
        ];
        assert!(searched(ops));
    }

    #[test]
    fn the_fast_check_decides_linearizable_histories() {
        let ops = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::read(1, 1, 1, 20, 30),
            Op::write(1, 2, 5, 40, 50),
            Op::read(0, 2, 5, 60, 70),
        ];
        let r = sc(ops.clone());
        assert_eq!(r.verdict, Verdict::Holds);
        assert_eq!(r.method, Method::RealTime);
        assert!(searched(ops));
    }

    /// A deliberately wrong checker that forgets program order: each
    /// operation is taken as issued by a core of its own.
    fn sequential_ignoring_program_order(ops: Vec<Op>) -> bool {
        let alone = ops
            .into_iter()
            .enumerate()
            .map(|(i, o)| Op {
                core: i as u32,
                ..o
            })
            .collect();
        searched(alone)
    }

    #[test]
    fn the_broken_checker_is_caught() {
        let store_buffering = vec![
            Op::write(0, 1, 1, 0, 10),
            Op::read(0, 2, 0, 20, 30),
            Op::write(1, 2, 1, 0, 10),
            Op::read(1, 1, 0, 20, 30),
        ];
        assert!(!searched(store_buffering.clone()));
        assert!(
            sequential_ignoring_program_order(store_buffering),
            "ignoring program order accepts store buffering"
        );
    }

    #[test]
    fn the_search_alone_orders_a_large_linearizable_history() {
        let h = crate::check::generate::linearizable(&crate::check::generate::Shape {
            ops: 3_000,
            keys: 20,
            cores: 16,
            seed: 3,
            ..Default::default()
        });
        let r = check_with(&h, &d(), SeqOptions { fast_checks: false });
        assert_eq!(r.verdict, Verdict::Holds);
        assert_eq!(r.method, Method::Search);
    }

    #[test]
    fn overlapping_operations_of_one_core_keep_program_order() {
        // Core 0's read is invoked after its write but overlaps it: the
        // fast check does not apply, and program order still forbids
        // the read from seeing the old value.
        let ops = vec![Op::write(0, 1, 1, 0, 10), Op::read(0, 1, 0, 5, 15)];
        let h = History::new(ops.clone());
        assert!(!real_time_suffices(&h, &d()).unwrap());
        assert!(!sc(ops).verdict.holds());
    }

    #[test]
    fn gives_up_at_the_time_limit() {
        // Many cores writing distinct values to one key, and a read of a
        // value nobody wrote at the end of one core: the search must try
        // every order of the writes to refute it.
        let mut ops = Vec::new();
        for c in 0..12u32 {
            for i in 0..4u64 {
                ops.push(Op::write(
                    c,
                    u64::from(c) % 3,
                    u64::from(c) * 10 + i + 1,
                    i,
                    i,
                ));
            }
        }
        ops.push(Op::read(0, 0, 999, 10, 10));
        let h = History::new(ops);
        let all: Vec<usize> = (0..h.ops.len()).collect();
        // A limit that has passed before the search starts: it must stop at
        // its first look at the clock (every 1024 steps) and say so, however
        // fast this machine refutes the history.
        let r = search(&h, &all, &Deadline::new(Duration::ZERO));
        assert!(r.is_err(), "{r:?}");
    }
}
