//! Experiment requests: parsing the `exp=...` part of a monitor argument
//! string, and printing it back.
//!
//! The string is a comma-separated list of items, each `key=value` or a
//! bare flag. Lists inside a value are separated by `;` (the comma already
//! separates items): `exp=update-cost,quick,k=1;8`.
//!
//! | key | experiments | value | default |
//! |---|---|---|---|
//! | `exp` | all | `urpc`, `update-cost`, `locks`, `barriers` or `consistency` | (required) |
//! | `quick` | all | bare flag: the short version | off |
//! | `rounds` | all | repeats of every measurement, 1..=1000 | 5, quick 2 |
//! | `pairs` | `urpc` | `all` (every ordered pair) or `adjacent` (`i→i+1` and `i+1→i`) | `all` up to 4 cores, else `from=0` |
//! | `from` | `urpc` | a core id: the pairs `from→j` for every other core `j` | see `pairs` |
//! | `samples` | `urpc` | round trips per round (rounded up to whole batches of `rtt-batch`), 1..=1000000 | 10000, quick 1000 |
//! | `rtt-batch` | `urpc` | round trips timed together per latency sample (raw ping-pong and URPC alike), 1..=4096 | 32 |
//! | `batch` | `urpc` | messages per throughput sample, 1..=100000 | 1000, quick 100 |
//! | `tp-samples` | `urpc` | throughput samples per round, 1..=100000 | 200, quick 40 |
//! | `slots` | `urpc` | slots per ring, 2..=4096 | 60 |
//! | `k` | `update-cost` | cache lines of the SHM series, each 1..=64 | `1;2;4;8` |
//! | `msg-k` | `update-cost` | cache lines of the MSG series | `1;8` |
//! | `sync-k` | `update-cost` | cache lines of the atomic and lock series | `8` |
//! | `series` | `update-cost` | which series: `shm;atomic;lock;msg` | all four |
//! | `updates` | `update-cost` | most updates per core per round, 1..=10000000 | 100000, quick 5000 |
//! | `ms` | `update-cost` | most milliseconds per round and point, 1..=60000 | 500, quick 40 |
//! | `locks` | `locks` | which locks, among [`LOCK_SERIES`], separated by `;` | all but `broken-tas` |
//! | `cs-lines` | `locks` | shared cache lines the critical section touches, 0..=64 | 1 |
//! | `acquisitions` | `locks` | most acquisitions per core per round, 1..=10000000 | 20000, quick 2000 |
//! | `barriers` | `barriers` | which barriers, among [`BARRIER_SERIES`], separated by `;` | all but `broken-sense` |
//! | `episodes` | `barriers` | timed episodes per round, 1..=10000000 | 20000, quick 2000 |
//! | `arity` | `barriers` | fan-in and fan-out of `msg-tree`, 2..=16 | 4 |
//! | `models` | `consistency` | which consistency models, among `lin;seq;eventual` ([`Model::name`]), separated by `;` | all three |
//! | `ops` | `consistency` | operations per core per model, 1..=100000 (and within the heap, see below) | 2000, quick 200 |
//! | `keys` | `consistency` | distinct keys the operations pick from, 1..=1000000 | 64, quick 8 |
//! | `writes` | `consistency` | percent of operations that are writes, 0..=100 | 50 |
//!
//! `pairs` and `from` exclude each other. A key that belongs to the other
//! experiment, an unknown key or flag, a bad value and a repeated key are
//! all [`ArgsError`]s.
//!
//! **Memory.** A core keeps E1's round-trip samples of one pair, every
//! round, in its heap, and sorts a copy: at most `5 · 8 · rounds · samples` bytes
//! (and `3 · 8 · rounds · tp-samples` for throughput). A request whose
//! samples do not fit [`SAMPLE_HEAP_BYTES`] is refused when it is parsed,
//! with [`ArgsError::TooLarge`] giving the largest value that fits. E2
//! keeps at most a fixed number of samples per point, whatever it is
//! asked. E7 keeps the history of one model's operations and their
//! latencies, [`HISTORY_BYTES_PER_OP`] bytes an operation, in half of
//! [`SAMPLE_HEAP_BYTES`] (the other half holds the replica's map and its
//! messages in flight): a larger `ops` is refused likewise.

use alloc::string::{String, ToString};
use core::fmt;

use crate::proto::replica::Model;

/// Largest number of cache lines an update series may touch.
pub const MAX_LINES: u32 = 64;

/// Heap a core may use for an experiment's samples: the ring-3 heap
/// (`abi::HEAP_SIZE`) less room for the monitor and the allocator's
/// fragmentation.
pub const SAMPLE_HEAP_BYTES: u64 = abi::HEAP_SIZE - (2 << 20);

/// Heap bytes per round and round trip of E1's latencies (four series and
/// the sorted copy of one, 8 bytes a sample, at most one sample per round
/// trip).
const RTT_BYTES_PER_SAMPLE: u64 = 5 * 8;
/// Heap bytes per round and sample of E1's throughput (two series and a
/// copy).
const TP_BYTES_PER_SAMPLE: u64 = 3 * 8;
/// Heap bytes per operation of E7: its history entry (four words: key and
/// kind, value, invocation and response times) and its latency in the
/// sorted copy.
pub const HISTORY_BYTES_PER_OP: u64 = 5 * 8;
/// Heap E7 may give one model's history.
pub const HISTORY_HEAP_BYTES: u64 = SAMPLE_HEAP_BYTES / 2;

/// Which experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Experiment {
    /// E1: URPC latency and throughput per core pair.
    Urpc,
    /// E2: shared-memory vs message-passing update cost.
    UpdateCost,
    /// E5: locks on shared memory and by messages.
    Locks,
    /// E6: barriers on shared memory and by messages.
    Barriers,
    /// E7: a replicated map under each consistency model.
    Consistency,
}

impl Experiment {
    /// Every experiment.
    pub const ALL: [Experiment; 5] = [
        Experiment::Urpc,
        Experiment::UpdateCost,
        Experiment::Locks,
        Experiment::Barriers,
        Experiment::Consistency,
    ];

    /// The name in `exp=NAME` (and in result paths).
    pub const fn name(self) -> &'static str {
        match self {
            Experiment::Urpc => "urpc",
            Experiment::UpdateCost => "update-cost",
            Experiment::Locks => "locks",
            Experiment::Barriers => "barriers",
            Experiment::Consistency => "consistency",
        }
    }

    /// The experiment called `name`.
    pub fn from_name(name: &str) -> Option<Experiment> {
        Experiment::ALL.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which ordered core pairs E1 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pairs {
    /// Every ordered pair `(a, b)`, `a ≠ b`.
    All,
    /// `(i, i+1)` and `(i+1, i)` for every `i`.
    Adjacent,
    /// `(from, j)` for every core `j ≠ from`.
    From(u32),
}

/// A set of cache-line counts (1..=[`MAX_LINES`]) as a bit mask: bit
/// `k - 1` stands for `k` lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Lines(u64);

impl Lines {
    /// The empty set.
    pub const EMPTY: Lines = Lines(0);

    /// The set of the given counts (each 1..=[`MAX_LINES`]).
    pub const fn of(counts: &[u32]) -> Lines {
        let mut mask = 0u64;
        let mut i = 0;
        while i < counts.len() {
            assert!(counts[i] >= 1 && counts[i] <= MAX_LINES);
            mask |= 1u64 << (counts[i] - 1);
            i += 1;
        }
        Lines(mask)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The counts in increasing order.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=MAX_LINES).filter(move |k| self.0 & (1 << (k - 1)) != 0)
    }

    /// The largest count (0 for the empty set).
    pub fn max(self) -> u32 {
        64 - self.0.leading_zeros()
    }

    fn insert(&mut self, k: u32) -> bool {
        let bit = 1 << (k - 1);
        let new = self.0 & bit == 0;
        self.0 |= bit;
        new
    }
}

impl fmt::Display for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// The series of E2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Series {
    /// Plain loads and stores to `k` shared lines, no lock.
    Shm,
    /// One `fetch_add` per shared line.
    Atomic,
    /// Plain updates of the shared lines under a ticket lock.
    Lock,
    /// A synchronous RPC per update to a server core.
    Msg,
}

impl Series {
    /// Every series, in the order they run.
    pub const ALL: [Series; 4] = [Series::Shm, Series::Atomic, Series::Lock, Series::Msg];

    /// The name in `series=`.
    pub const fn name(self) -> &'static str {
        match self {
            Series::Shm => "shm",
            Series::Atomic => "atomic",
            Series::Lock => "lock",
            Series::Msg => "msg",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Parameters of E1 (`exp=urpc`); `None` means the default for the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UrpcArgs {
    /// `pairs=` or `from=`.
    pub pairs: Option<Pairs>,
    /// `samples=`.
    pub samples: Option<u32>,
    /// `rtt-batch=`.
    pub rtt_batch: Option<u32>,
    /// `batch=`.
    pub batch: Option<u32>,
    /// `tp-samples=`.
    pub tp_samples: Option<u32>,
    /// `slots=`.
    pub slots: Option<u32>,
}

impl UrpcArgs {
    /// Round trips per round in effect.
    pub fn samples_in_effect(&self, quick: bool) -> u32 {
        self.samples.unwrap_or(if quick { 1000 } else { 10_000 })
    }

    /// Round trips per latency sample in effect.
    pub fn rtt_batch_in_effect(&self) -> u64 {
        self.rtt_batch.map_or(urpc::bench::DEFAULT_BATCH, u64::from)
    }

    /// Throughput samples per round in effect.
    pub fn tp_samples_in_effect(&self, quick: bool) -> u32 {
        self.tp_samples.unwrap_or(if quick { 40 } else { 200 })
    }
}

/// Parameters of E2 (`exp=update-cost`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UpdateArgs {
    /// `k=`.
    pub k: Option<Lines>,
    /// `msg-k=`.
    pub msg_k: Option<Lines>,
    /// `sync-k=`.
    pub sync_k: Option<Lines>,
    /// `series=`, as a bit mask of [`Series`].
    pub series: Option<u8>,
    /// `updates=`.
    pub updates: Option<u32>,
    /// `ms=`.
    pub ms: Option<u32>,
}

/// The lock series of E5, in the order they run: the shared-memory
/// algorithms, the message protocols, and the deliberately broken lock
/// (never run unless named).
pub const LOCK_SERIES: [&str; 11] = [
    "tas",
    "ttas",
    "ticket",
    "anderson",
    "mcs",
    "clh",
    "msg-server",
    "msg-token",
    "msg-delegation",
    "msg-queue",
    "broken-tas",
];

/// The barrier series of E6, likewise.
pub const BARRIER_SERIES: [&str; 9] = [
    "sense",
    "combining",
    "mcs-tree",
    "tournament",
    "dissemination",
    "msg-central",
    "msg-tree",
    "msg-dissemination",
    "broken-sense",
];

/// A set of series out of a table of names, as a bit mask (bit `i`:
/// `table[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesSet(u16);

impl SeriesSet {
    /// Every series of `table` but the last (the broken one).
    pub const fn defaults(table: &[&str]) -> SeriesSet {
        SeriesSet((1 << (table.len() - 1)) - 1)
    }

    /// Whether series `i` is in the set.
    pub const fn contains(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// The names of the set's series, in table order.
    pub fn names<'t>(self, table: &'t [&'t str]) -> impl Iterator<Item = &'t str> + 't {
        table
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.contains(*i))
            .map(|(_, n)| *n)
    }

    /// Number of series.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Parameters of E5 (`exp=locks`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LockArgs {
    /// `locks=`.
    pub series: Option<SeriesSet>,
    /// `cs-lines=`.
    pub cs_lines: Option<u32>,
    /// `acquisitions=`.
    pub acquisitions: Option<u32>,
}

/// Parameters of E6 (`exp=barriers`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BarrierArgs {
    /// `barriers=`.
    pub series: Option<SeriesSet>,
    /// `episodes=`.
    pub episodes: Option<u32>,
    /// `arity=`.
    pub arity: Option<u32>,
}

/// A set of consistency models as a bit mask (bit `i`: `Model::ALL[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelSet(u8);

impl ModelSet {
    /// Every model.
    pub const ALL: ModelSet = ModelSet((1 << Model::ALL.len()) - 1);

    /// Whether `model` is in the set.
    pub fn contains(self, model: Model) -> bool {
        Model::ALL
            .iter()
            .position(|m| *m == model)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The set's models, in the order of [`Model::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Model> {
        Model::ALL.into_iter().filter(move |m| self.contains(*m))
    }

    /// Number of models.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for ModelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(m.name())?;
        }
        Ok(())
    }
}

/// Parameters of E7 (`exp=consistency`); `None` means the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ConsistencyArgs {
    /// `models=`.
    pub models: Option<ModelSet>,
    /// `ops=`.
    pub ops: Option<u32>,
    /// `keys=`.
    pub keys: Option<u32>,
    /// `writes=`.
    pub writes: Option<u32>,
}

impl ConsistencyArgs {
    /// Models in effect.
    pub fn models_in_effect(&self) -> ModelSet {
        self.models.unwrap_or(ModelSet::ALL)
    }

    /// Operations per core per model in effect.
    pub fn ops_in_effect(&self, quick: bool) -> u32 {
        self.ops.unwrap_or(if quick { 200 } else { 2000 })
    }

    /// Keys in effect.
    pub fn keys_in_effect(&self, quick: bool) -> u32 {
        self.keys.unwrap_or(if quick { 8 } else { 64 })
    }

    /// Percent of writes in effect.
    pub fn writes_in_effect(&self) -> u32 {
        self.writes.unwrap_or(50)
    }
}

/// The experiment and its own parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Params {
    /// E1.
    Urpc(UrpcArgs),
    /// E2.
    UpdateCost(UpdateArgs),
    /// E5.
    Locks(LockArgs),
    /// E6.
    Barriers(BarrierArgs),
    /// E7.
    Consistency(ConsistencyArgs),
}

/// A parsed experiment request: the same on every core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The experiment and its parameters.
    pub params: Params,
    /// The short version (`quick`).
    pub quick: bool,
    /// `rounds=`.
    pub rounds: Option<u32>,
}

/// Why an argument string is not a valid experiment request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// `exp=` names no experiment.
    UnknownExperiment(String),
    /// A key no experiment knows.
    UnknownKey(String),
    /// A bare word that is not a known flag.
    UnknownFlag(String),
    /// A key given twice.
    Repeated(String),
    /// A key of another experiment.
    NotFor {
        /// The key.
        key: String,
        /// The requested experiment.
        experiment: Experiment,
    },
    /// A value out of range or malformed.
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Two keys that exclude each other.
    Conflict(&'static str, &'static str),
    /// The samples the value asks for do not fit a core's heap.
    TooLarge {
        /// The key.
        key: &'static str,
        /// The value in effect.
        value: u64,
        /// The largest value that fits, with the other values as they are.
        max: u64,
    },
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgsError::UnknownExperiment(name) => {
                write!(
                    f,
                    "unknown experiment `{name}` (known: urpc, update-cost, locks, barriers, consistency)"
                )
            }
            ArgsError::UnknownKey(key) => write!(
                f,
                "unknown experiment option `{key}` (known: exp, quick, rounds, pairs, from, \
                 samples, rtt-batch, batch, tp-samples, slots, k, msg-k, sync-k, series, updates, ms, \
                 locks, cs-lines, acquisitions, barriers, episodes, arity, models, ops, keys, writes)"
            ),
            ArgsError::UnknownFlag(flag) => write!(f, "unknown flag `{flag}` (known: quick)"),
            ArgsError::Repeated(key) => write!(f, "`{key}` is given more than once"),
            ArgsError::NotFor { key, experiment } => {
                write!(f, "`{key}` does not apply to experiment {experiment}")
            }
            ArgsError::BadValue {
                key,
                value,
                expected,
            } => write!(f, "bad value `{value}` for `{key}` (expected {expected})"),
            ArgsError::Conflict(a, b) => write!(f, "`{a}` and `{b}` exclude each other"),
            ArgsError::TooLarge { key, value, max } => write!(
                f,
                "`{key}={value}` needs more than the {} MiB a core has for samples; \
                 the largest {key} that fits is {max}",
                SAMPLE_HEAP_BYTES >> 20
            ),
        }
    }
}

const URPC_KEYS: [&str; 7] = [
    "pairs",
    "from",
    "samples",
    "rtt-batch",
    "batch",
    "tp-samples",
    "slots",
];
const UPDATE_KEYS: [&str; 6] = ["k", "msg-k", "sync-k", "series", "updates", "ms"];
const LOCK_KEYS: [&str; 3] = ["locks", "cs-lines", "acquisitions"];
const BARRIER_KEYS: [&str; 3] = ["barriers", "episodes", "arity"];
const CONSISTENCY_KEYS: [&str; 4] = ["models", "ops", "keys", "writes"];

/// Every key an experiment request may hold; a monitor that mixes its own
/// items into the same string removes the others before parsing.
pub const KEYS: [&str; 26] = [
    "exp",
    "quick",
    "rounds",
    "pairs",
    "from",
    "samples",
    "rtt-batch",
    "batch",
    "tp-samples",
    "slots",
    "k",
    "msg-k",
    "sync-k",
    "series",
    "updates",
    "ms",
    "locks",
    "cs-lines",
    "acquisitions",
    "barriers",
    "episodes",
    "arity",
    "models",
    "ops",
    "keys",
    "writes",
];

fn bad(key: &str, value: &str, expected: &'static str) -> ArgsError {
    ArgsError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

fn number(
    key: &str,
    value: &str,
    min: u32,
    max: u32,
    expected: &'static str,
) -> Result<u32, ArgsError> {
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) && !value.starts_with('+') => Ok(n),
        _ => Err(bad(key, value, expected)),
    }
}

fn lines(key: &str, value: &str) -> Result<Lines, ArgsError> {
    const EXPECTED: &str = "cache-line counts 1..=64 separated by `;`";
    let mut set = Lines::EMPTY;
    for part in value.split(';') {
        let k = number(key, part, 1, MAX_LINES, EXPECTED)?;
        if !set.insert(k) {
            return Err(bad(key, value, EXPECTED));
        }
    }
    Ok(set)
}

fn series(value: &str) -> Result<u8, ArgsError> {
    const EXPECTED: &str = "series among shm, atomic, lock, msg separated by `;`";
    let mut mask = 0u8;
    for part in value.split(';') {
        let s = Series::ALL
            .into_iter()
            .find(|s| s.name() == part)
            .ok_or_else(|| bad("series", value, EXPECTED))?;
        if mask & s.bit() != 0 {
            return Err(bad("series", value, EXPECTED));
        }
        mask |= s.bit();
    }
    Ok(mask)
}

fn series_set(key: &str, value: &str, table: &[&str]) -> Result<SeriesSet, ArgsError> {
    const EXPECTED: &str = "series names separated by `;` (see the README)";
    let mut mask = 0u16;
    for part in value.split(';') {
        let i = table
            .iter()
            .position(|n| *n == part)
            .ok_or_else(|| bad(key, value, EXPECTED))?;
        if mask & (1 << i) != 0 {
            return Err(bad(key, value, EXPECTED));
        }
        mask |= 1 << i;
    }
    Ok(SeriesSet(mask))
}

fn models(value: &str) -> Result<ModelSet, ArgsError> {
    const EXPECTED: &str = "models among lin, seq, eventual separated by `;`";
    let mut mask = 0u8;
    for part in value.split(';') {
        let i = Model::ALL
            .iter()
            .position(|m| m.name() == part)
            .ok_or_else(|| bad("models", value, EXPECTED))?;
        if mask & (1 << i) != 0 {
            return Err(bad("models", value, EXPECTED));
        }
        mask |= 1 << i;
    }
    Ok(ModelSet(mask))
}

fn set<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), ArgsError> {
    if slot.is_some() {
        return Err(ArgsError::Repeated(key.to_string()));
    }
    *slot = Some(value);
    Ok(())
}

impl Request {
    /// Parses the experiment part of a monitor argument string:
    /// comma-separated items, `key=value` or bare flags, e.g.
    /// `exp=urpc,quick` or `exp=update-cost,quick,k=1;8`. Returns
    /// `Ok(None)` when no `exp=` item is present (the string is then not
    /// looked at further). Unknown keys and values are typed errors; see
    /// the module documentation for the keys.
    pub fn parse(args: &str) -> Result<Option<Request>, ArgsError> {
        let items = || args.split(',').map(str::trim).filter(|i| !i.is_empty());
        let mut experiment = None;
        for item in items() {
            if let Some(name) = item.strip_prefix("exp=") {
                let e = Experiment::from_name(name)
                    .ok_or_else(|| ArgsError::UnknownExperiment(name.to_string()))?;
                set(&mut experiment, "exp", e)?;
            }
        }
        let Some(experiment) = experiment else {
            return Ok(None);
        };
        let mut req = Request::new(experiment);
        let mut pairs_key: Option<&'static str> = None;
        for item in items() {
            let Some((key, value)) = item.split_once('=') else {
                match item {
                    "quick" if req.quick => return Err(ArgsError::Repeated(item.to_string())),
                    "quick" => req.quick = true,
                    _ if KEYS.contains(&item) => return Err(bad(item, "", "a value")),
                    _ => return Err(ArgsError::UnknownFlag(item.to_string())),
                }
                continue;
            };
            let wrong = |list: &[&str]| list.contains(&key);
            match (&mut req.params, key) {
                (_, "exp") => {}
                (_, "rounds") => {
                    let n = number(key, value, 1, 1000, "a number of rounds 1..=1000")?;
                    set(&mut req.rounds, key, n)?;
                }
                (Params::Urpc(u), "pairs" | "from") => {
                    let p = if key == "from" {
                        Pairs::From(number(key, value, 0, u32::MAX - 1, "a core id")?)
                    } else {
                        match value {
                            "all" => Pairs::All,
                            "adjacent" => Pairs::Adjacent,
                            _ => return Err(bad(key, value, "all or adjacent")),
                        }
                    };
                    let key: &'static str = if key == "from" { "from" } else { "pairs" };
                    match pairs_key {
                        Some(first) if first != key => return Err(ArgsError::Conflict(first, key)),
                        _ => pairs_key = Some(key),
                    }
                    set(&mut u.pairs, key, p)?;
                }
                (Params::Urpc(u), "samples") => {
                    let n = number(key, value, 1, 1_000_000, "1..=1000000")?;
                    set(&mut u.samples, key, n)?;
                }
                (Params::Urpc(u), "rtt-batch") => {
                    let n = number(key, value, 1, 4096, "1..=4096")?;
                    set(&mut u.rtt_batch, key, n)?;
                }
                (Params::Urpc(u), "batch") => {
                    set(
                        &mut u.batch,
                        key,
                        number(key, value, 1, 100_000, "1..=100000")?,
                    )?;
                }
                (Params::Urpc(u), "tp-samples") => {
                    let n = number(key, value, 1, 100_000, "1..=100000")?;
                    set(&mut u.tp_samples, key, n)?;
                }
                (Params::Urpc(u), "slots") => {
                    set(&mut u.slots, key, number(key, value, 2, 4096, "2..=4096")?)?;
                }
                (Params::UpdateCost(u), "k") => set(&mut u.k, key, lines(key, value)?)?,
                (Params::UpdateCost(u), "msg-k") => set(&mut u.msg_k, key, lines(key, value)?)?,
                (Params::UpdateCost(u), "sync-k") => set(&mut u.sync_k, key, lines(key, value)?)?,
                (Params::UpdateCost(u), "series") => set(&mut u.series, key, series(value)?)?,
                (Params::UpdateCost(u), "updates") => {
                    let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                    set(&mut u.updates, key, n)?;
                }
                (Params::UpdateCost(u), "ms") => {
                    set(&mut u.ms, key, number(key, value, 1, 60_000, "1..=60000")?)?;
                }
                (Params::Locks(l), "locks") => {
                    set(&mut l.series, key, series_set(key, value, &LOCK_SERIES)?)?;
                }
                (Params::Locks(l), "cs-lines") => {
                    let n = number(key, value, 0, MAX_LINES, "0..=64")?;
                    set(&mut l.cs_lines, key, n)?;
                }
                (Params::Locks(l), "acquisitions") => {
                    let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                    set(&mut l.acquisitions, key, n)?;
                }
                (Params::Barriers(b), "barriers") => {
                    set(&mut b.series, key, series_set(key, value, &BARRIER_SERIES)?)?;
                }
                (Params::Barriers(b), "episodes") => {
                    let n = number(key, value, 1, 10_000_000, "1..=10000000")?;
                    set(&mut b.episodes, key, n)?;
                }
                (Params::Barriers(b), "arity") => {
                    set(&mut b.arity, key, number(key, value, 2, 16, "2..=16")?)?;
                }
                (Params::Consistency(c), "models") => set(&mut c.models, key, models(value)?)?,
                (Params::Consistency(c), "ops") => {
                    let n = number(key, value, 1, 100_000, "1..=100000")?;
                    set(&mut c.ops, key, n)?;
                }
                (Params::Consistency(c), "keys") => {
                    let n = number(key, value, 1, 1_000_000, "1..=1000000")?;
                    set(&mut c.keys, key, n)?;
                }
                (Params::Consistency(c), "writes") => {
                    set(&mut c.writes, key, number(key, value, 0, 100, "0..=100")?)?;
                }
                _ if wrong(&URPC_KEYS)
                    || wrong(&UPDATE_KEYS)
                    || wrong(&LOCK_KEYS)
                    || wrong(&BARRIER_KEYS)
                    || wrong(&CONSISTENCY_KEYS)
                    || key == "quick" =>
                {
                    return Err(ArgsError::NotFor {
                        key: key.to_string(),
                        experiment,
                    });
                }
                _ => return Err(ArgsError::UnknownKey(key.to_string())),
            }
        }
        req.check_fits()?;
        Ok(Some(req))
    }

    /// Refuses a request whose samples do not fit a core's heap.
    fn check_fits(&self) -> Result<(), ArgsError> {
        if let Params::Consistency(c) = &self.params {
            let ops = u64::from(c.ops_in_effect(self.quick));
            let max = HISTORY_HEAP_BYTES / HISTORY_BYTES_PER_OP;
            if ops > max {
                return Err(ArgsError::TooLarge {
                    key: "ops",
                    value: ops,
                    max,
                });
            }
            return Ok(());
        }
        let Params::Urpc(u) = &self.params else {
            return Ok(());
        };
        let rounds = u64::from(self.rounds());
        let series = [
            (
                "samples",
                u.samples.is_some(),
                u64::from(u.samples_in_effect(self.quick)),
                RTT_BYTES_PER_SAMPLE,
            ),
            (
                "tp-samples",
                u.tp_samples.is_some(),
                u64::from(u.tp_samples_in_effect(self.quick)),
                TP_BYTES_PER_SAMPLE,
            ),
        ];
        for (key, given, samples, bytes) in series {
            if rounds * samples * bytes <= SAMPLE_HEAP_BYTES {
                continue;
            }
            // Name the value the user gave: the samples, or else the rounds.
            return Err(if given || self.rounds.is_none() {
                ArgsError::TooLarge {
                    key,
                    value: samples,
                    max: SAMPLE_HEAP_BYTES / (rounds * bytes),
                }
            } else {
                ArgsError::TooLarge {
                    key: "rounds",
                    value: rounds,
                    max: SAMPLE_HEAP_BYTES / (samples * bytes),
                }
            });
        }
        Ok(())
    }

    /// A request for `experiment` with every parameter at its default.
    pub fn new(experiment: Experiment) -> Request {
        Request {
            params: match experiment {
                Experiment::Urpc => Params::Urpc(UrpcArgs::default()),
                Experiment::UpdateCost => Params::UpdateCost(UpdateArgs::default()),
                Experiment::Locks => Params::Locks(LockArgs::default()),
                Experiment::Barriers => Params::Barriers(BarrierArgs::default()),
                Experiment::Consistency => Params::Consistency(ConsistencyArgs::default()),
            },
            quick: false,
            rounds: None,
        }
    }

    /// The experiment.
    pub fn experiment(&self) -> Experiment {
        match self.params {
            Params::Urpc(_) => Experiment::Urpc,
            Params::UpdateCost(_) => Experiment::UpdateCost,
            Params::Locks(_) => Experiment::Locks,
            Params::Barriers(_) => Experiment::Barriers,
            Params::Consistency(_) => Experiment::Consistency,
        }
    }

    /// Rounds in effect.
    pub fn rounds(&self) -> u32 {
        self.rounds.unwrap_or(if self.quick { 2 } else { 5 })
    }
}

impl Series {
    /// Whether `mask` (a `series=` value) holds this series.
    pub const fn is_in(self, mask: u8) -> bool {
        mask & self.bit() != 0
    }

    /// The mask of every series.
    pub const fn all_mask() -> u8 {
        Series::Shm.bit() | Series::Atomic.bit() | Series::Lock.bit() | Series::Msg.bit()
    }
}

/// Prints the request as an argument string that [`Request::parse`] reads
/// back as the same request (only the items that were set).
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exp={}", self.experiment())?;
        if self.quick {
            f.write_str(",quick")?;
        }
        if let Some(r) = self.rounds {
            write!(f, ",rounds={r}")?;
        }
        match &self.params {
            Params::Urpc(u) => {
                match u.pairs {
                    Some(Pairs::All) => f.write_str(",pairs=all")?,
                    Some(Pairs::Adjacent) => f.write_str(",pairs=adjacent")?,
                    Some(Pairs::From(c)) => write!(f, ",from={c}")?,
                    None => {}
                }
                for (key, v) in [
                    ("samples", u.samples),
                    ("rtt-batch", u.rtt_batch),
                    ("batch", u.batch),
                    ("tp-samples", u.tp_samples),
                    ("slots", u.slots),
                ] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
            }
            Params::UpdateCost(u) => {
                for (key, v) in [("k", u.k), ("msg-k", u.msg_k), ("sync-k", u.sync_k)] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
                if let Some(mask) = u.series {
                    f.write_str(",series=")?;
                    let names = Series::ALL.into_iter().filter(|s| s.is_in(mask));
                    for (i, s) in names.enumerate() {
                        if i > 0 {
                            f.write_str(";")?;
                        }
                        f.write_str(s.name())?;
                    }
                }
                for (key, v) in [("updates", u.updates), ("ms", u.ms)] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
            }
            Params::Locks(l) => {
                write_series(f, "locks", l.series, &LOCK_SERIES)?;
                for (key, v) in [("cs-lines", l.cs_lines), ("acquisitions", l.acquisitions)] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
            }
            Params::Barriers(b) => {
                write_series(f, "barriers", b.series, &BARRIER_SERIES)?;
                for (key, v) in [("episodes", b.episodes), ("arity", b.arity)] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
            }
            Params::Consistency(c) => {
                if let Some(m) = c.models {
                    write!(f, ",models={m}")?;
                }
                for (key, v) in [("ops", c.ops), ("keys", c.keys), ("writes", c.writes)] {
                    if let Some(v) = v {
                        write!(f, ",{key}={v}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn write_series(
    f: &mut fmt::Formatter<'_>,
    key: &str,
    set: Option<SeriesSet>,
    table: &[&str],
) -> fmt::Result {
    let Some(set) = set else {
        return Ok(());
    };
    write!(f, ",{key}=")?;
    for (i, name) in set.names(table).enumerate() {
        if i > 0 {
            f.write_str(";")?;
        }
        f.write_str(name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn parse(s: &str) -> Request {
        Request::parse(s).unwrap().unwrap()
    }

    #[test]
    fn no_exp_item_is_no_request() {
        assert_eq!(Request::parse(""), Ok(None));
        assert_eq!(Request::parse("quick,whatever=1"), Ok(None));
    }

    #[test]
    fn parses_both_experiments() {
        let r = parse("exp=urpc,quick");
        assert_eq!(r.experiment(), Experiment::Urpc);
        assert!(r.quick);
        assert_eq!(r.rounds(), 2);
        let r = parse("exp=update-cost,quick,k=1;8");
        let Params::UpdateCost(u) = r.params else {
            panic!("{r:?}")
        };
        assert_eq!(u.k.unwrap().iter().collect::<alloc::vec::Vec<_>>(), [1, 8]);
        let r = parse(" exp=urpc , from=2,samples=5,rounds=1, ");
        assert_eq!(r.rounds(), 1);
        let Params::Urpc(u) = r.params else { panic!() };
        assert_eq!(u.pairs, Some(Pairs::From(2)));
        assert_eq!(u.samples, Some(5));
        assert_eq!(u.rtt_batch_in_effect(), urpc::bench::DEFAULT_BATCH);
        let Params::Urpc(u) = parse("exp=urpc,rtt-batch=1").params else {
            panic!()
        };
        assert_eq!(u.rtt_batch_in_effect(), 1);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "exp=urpc",
            "exp=urpc,quick,rounds=3,pairs=adjacent,samples=7,rtt-batch=2,batch=9,tp-samples=4,slots=8",
            "exp=urpc,from=1",
            "exp=update-cost,quick,k=1;2;64,msg-k=8,sync-k=4,series=shm;msg,updates=10,ms=5",
            "exp=locks,quick,locks=tas;mcs;msg-queue,cs-lines=4,acquisitions=50",
            "exp=barriers,barriers=sense;msg-tree;broken-sense,episodes=9,arity=2",
            "exp=consistency",
            "exp=consistency,quick,models=lin;eventual,ops=50,keys=1000000,writes=0",
            "exp=consistency,models=seq,writes=100",
        ] {
            let r = parse(s);
            assert_eq!(format!("{r}"), s);
            assert_eq!(parse(&format!("{r}")), r);
        }
    }

    #[test]
    fn refuses_bad_arguments() {
        let err = |s: &str| Request::parse(s).unwrap_err();
        assert_eq!(err("exp=nope"), ArgsError::UnknownExperiment("nope".into()));
        assert_eq!(
            err("exp=urpc,colour=red"),
            ArgsError::UnknownKey("colour".into())
        );
        assert_eq!(err("exp=urpc,fast"), ArgsError::UnknownFlag("fast".into()));
        assert_eq!(err("exp=urpc,exp=urpc"), ArgsError::Repeated("exp".into()));
        assert_eq!(
            err("exp=urpc,quick,quick"),
            ArgsError::Repeated("quick".into())
        );
        assert_eq!(
            err("exp=urpc,rounds=1,rounds=2"),
            ArgsError::Repeated("rounds".into())
        );
        assert_eq!(
            err("exp=urpc,k=1"),
            ArgsError::NotFor {
                key: "k".into(),
                experiment: Experiment::Urpc
            }
        );
        assert_eq!(
            err("exp=update-cost,pairs=all"),
            ArgsError::NotFor {
                key: "pairs".into(),
                experiment: Experiment::UpdateCost
            }
        );
        assert_eq!(
            err("exp=urpc,pairs=all,from=0"),
            ArgsError::Conflict("pairs", "from")
        );
        for bad in [
            "exp=urpc,rounds=0",
            "exp=urpc,rounds=x",
            "exp=urpc,rounds=+3",
            "exp=urpc,pairs=some",
            "exp=urpc,slots=1",
            "exp=urpc,rtt-batch=0",
            "exp=urpc,rtt-batch=4097",
            "exp=update-cost,k=0",
            "exp=update-cost,k=65",
            "exp=update-cost,k=1;1",
            "exp=update-cost,k=",
            "exp=update-cost,series=shm;bogus",
            "exp=update-cost,series=shm;shm",
            "exp=update-cost,ms=0",
            "exp=urpc,samples",
            "exp=locks,locks=tas;tas",
            "exp=locks,locks=spin",
            "exp=locks,cs-lines=65",
            "exp=barriers,arity=1",
            "exp=barriers,episodes=0",
            "exp=consistency,models=lin;lin",
            "exp=consistency,models=strong",
            "exp=consistency,models=",
            "exp=consistency,ops=0",
            "exp=consistency,ops=100001",
            "exp=consistency,keys=0",
            "exp=consistency,keys=1000001",
            "exp=consistency,writes=101",
            "exp=consistency,writes=-1",
        ] {
            assert!(
                matches!(err(bad), ArgsError::BadValue { .. }),
                "{bad}: {:?}",
                err(bad)
            );
        }
        // Every error explains itself.
        assert!(format!("{}", err("exp=urpc,colour=red")).contains("known:"));
        assert_eq!(
            err("exp=consistency,ops=5,ops=6"),
            ArgsError::Repeated("ops".into())
        );
        assert_eq!(
            err("exp=locks,models=lin"),
            ArgsError::NotFor {
                key: "models".into(),
                experiment: Experiment::Locks
            }
        );
        assert_eq!(
            err("exp=consistency,cs-lines=1"),
            ArgsError::NotFor {
                key: "cs-lines".into(),
                experiment: Experiment::Consistency
            }
        );
    }

    #[test]
    fn consistency_defaults_and_parsed_values() {
        let Params::Consistency(c) = parse("exp=consistency").params else {
            panic!()
        };
        assert_eq!(c.models_in_effect(), ModelSet::ALL);
        assert_eq!(
            c.models_in_effect().iter().collect::<alloc::vec::Vec<_>>(),
            Model::ALL
        );
        assert_eq!((c.ops_in_effect(false), c.ops_in_effect(true)), (2000, 200));
        assert_eq!((c.keys_in_effect(false), c.keys_in_effect(true)), (64, 8));
        assert_eq!(c.writes_in_effect(), 50);
        let r = parse("exp=consistency,quick,models=eventual;lin,ops=7,keys=3,writes=0");
        let Params::Consistency(c) = r.params else {
            panic!()
        };
        // Printed in the order of the models, whatever order was given.
        assert_eq!(format!("{}", c.models.unwrap()), "lin;eventual");
        assert!(!c.models.unwrap().contains(Model::Seq));
        assert_eq!(c.models.unwrap().len(), 2);
        assert_eq!((c.ops_in_effect(true), c.keys_in_effect(true)), (7, 3));
        assert_eq!(c.writes_in_effect(), 0);
        assert_eq!(r.experiment(), Experiment::Consistency);
        assert_eq!(
            Experiment::from_name("consistency"),
            Some(Experiment::Consistency)
        );
    }

    #[test]
    fn a_history_that_cannot_fit_a_heap_is_refused() {
        let max = HISTORY_HEAP_BYTES / HISTORY_BYTES_PER_OP;
        assert!(max < 100_000, "the range goes past what fits");
        assert!(Request::parse(&format!("exp=consistency,ops={max}")).is_ok());
        let err = Request::parse(&format!("exp=consistency,ops={}", max + 1)).unwrap_err();
        assert_eq!(
            err,
            ArgsError::TooLarge {
                key: "ops",
                value: max + 1,
                max
            }
        );
    }

    #[test]
    fn samples_that_cannot_fit_a_heap_are_refused_with_the_largest_that_fits() {
        let err = Request::parse("exp=urpc,quick,samples=1000000").unwrap_err();
        let ArgsError::TooLarge { key, value, max } = err else {
            panic!("{err:?}")
        };
        assert_eq!((key, value), ("samples", 1_000_000));
        // Quick runs two rounds: the largest value fits, one more does not.
        assert_eq!(max, SAMPLE_HEAP_BYTES / (2 * RTT_BYTES_PER_SAMPLE));
        assert!(Request::parse(&format!("exp=urpc,quick,samples={max}")).is_ok());
        assert!(Request::parse(&format!("exp=urpc,quick,samples={}", max + 1)).is_err());
        assert!(format!("{err}").contains(&format!("largest samples that fits is {max}")));
        // Rounds alone can break the budget too, and are named then.
        let err = Request::parse("exp=urpc,samples=10000,rounds=1000").unwrap_err();
        assert!(
            matches!(err, ArgsError::TooLarge { key: "samples", .. }),
            "{err:?}"
        );
        let err = Request::parse("exp=urpc,rounds=1000").unwrap_err();
        assert!(
            matches!(err, ArgsError::TooLarge { key: "rounds", .. }),
            "{err:?}"
        );
        let err = Request::parse("exp=urpc,samples=1,rounds=100,tp-samples=100000").unwrap_err();
        assert!(
            matches!(
                err,
                ArgsError::TooLarge {
                    key: "tp-samples",
                    ..
                }
            ),
            "{err:?}"
        );
        // The defaults fit, and E2 is bounded whatever it is asked.
        assert!(Request::parse("exp=urpc").is_ok());
        assert!(Request::parse("exp=update-cost,rounds=1000,updates=10000000").is_ok());
    }

    #[test]
    fn line_sets() {
        let l = Lines::of(&[8, 1, 4]);
        assert_eq!(l.iter().collect::<alloc::vec::Vec<_>>(), [1, 4, 8]);
        assert_eq!(l.max(), 8);
        assert_eq!(Lines::EMPTY.max(), 0);
        assert_eq!(format!("{l}"), "1;4;8");
        assert_eq!(Lines::of(&[64]).max(), 64);
    }
}
