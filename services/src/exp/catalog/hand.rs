//! The record kinds whose lines are not one field per member, written
//! and read by hand; and `exp-start`, its common fields around the
//! experiment's own ([`StartFields`]).

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, Record};

/// A `urpc-summary` record: the medians over the pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrpcSummary<'a> {
    /// Pairs measured.
    pub pairs: u64,
    /// Median round trip of each variant (`raw`, `ack`, `used`), whole
    /// cycles.
    pub rtt: [u64; 3],
    /// Half of each unrounded median round trip.
    pub oneway: [Centi; 3],
    /// Median throughput of `ack` and `used`.
    pub tput: [Centi; 2],
    /// The URPC variant with the lower median round trip.
    pub faster: &'a str,
    /// Its one-way latency over the raw one-way latency.
    pub ratio: Centi,
    /// Half of the median round trip on one fixed pair of lines.
    pub one_pair_oneway: Centi,
}

impl<'a> Record<'a> for UrpcSummary<'a> {
    const KIND: &'static str = "urpc-summary";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [raw_rtt, ack_rtt, used_rtt] = self.rtt;
        let [raw, ack, used] = self.oneway;
        let [ack_tput, used_tput] = self.tput;
        write!(
            f,
            "pairs={} raw_rtt={raw_rtt} ack_rtt={ack_rtt} used_rtt={used_rtt} raw_oneway={raw} ack_oneway={ack} used_oneway={used} ack_tput={ack_tput} used_tput={used_tput} faster={} ratio={} one_pair_oneway={}",
            self.pairs, self.faster, self.ratio, self.one_pair_oneway
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(UrpcSummary {
            pairs: r.int("pairs")?,
            rtt: [r.int("raw_rtt")?, r.int("ack_rtt")?, r.int("used_rtt")?],
            oneway: [
                r.centi("raw_oneway")?,
                r.centi("ack_oneway")?,
                r.centi("used_oneway")?,
            ],
            tput: [r.centi("ack_tput")?, r.centi("used_tput")?],
            faster: r.text("faster")?,
            ratio: r.centi("ratio")?,
            one_pair_oneway: r.centi("one_pair_oneway")?,
        })
    }
}

/// An `exp-skew` record: core `core`'s TSC against core 0's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpSkew {
    /// The core measured.
    pub core: u32,
    /// Its TSC less core 0's, cycles.
    pub offset: i64,
    /// The round trip of the measurement, cycles.
    pub rtt: u64,
}

impl ExpSkew {
    /// The bound on the skew: `|offset| + rtt/2`.
    pub fn bound(self) -> u64 {
        self.offset.unsigned_abs() + self.rtt / 2
    }
}

impl Record<'_> for ExpSkew {
    const KIND: &'static str = "exp-skew";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "core={} offset={} rtt={} bound={}",
            self.core,
            self.offset,
            self.rtt,
            self.bound()
        )
    }

    fn read(r: Fields<'_, '_>) -> Result<Self, FieldError> {
        Ok(ExpSkew {
            core: r.small("core")?,
            offset: r.signed("offset")?,
            rtt: r.int("rtt")?,
        })
    }
}

/// A `replica-op` record: one completed operation of a core's client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaOp<'a> {
    /// `lin`, `seq` or `eventual`.
    pub model: &'a str,
    /// The core.
    pub core: u32,
    /// A write (`op=w`), or a read (`op=r`).
    pub write: bool,
    /// The key.
    pub key: u64,
    /// What a read returned, or what a write wrote.
    pub value: u64,
    /// The core's raw TSC before the invocation.
    pub invoke: u64,
    /// The core's raw TSC at the completion.
    pub response: u64,
}

impl<'a> Record<'a> for ReplicaOp<'a> {
    const KIND: &'static str = "replica-op";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "model={} core={} op={} key={} value={} invoke={} response={}",
            self.model,
            self.core,
            if self.write { "w" } else { "r" },
            self.key,
            self.value,
            self.invoke,
            self.response
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ReplicaOp {
            model: r.text("model")?,
            core: r.small("core")?,
            write: match r.text("op")? {
                "w" => true,
                "r" => false,
                _ => return Err(FieldError { key: "op" }),
            },
            key: r.int("key")?,
            value: r.int("value")?,
            invoke: r.int("invoke")?,
            response: r.int("response")?,
        })
    }
}

/// An experiment's own fields of `exp-start`.
pub trait StartFields<'a>: Sized {
    /// Writes them, each as ` key=value` (with its leading space).
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Reads them.
    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError>;
}

/// No fields: for a reader that wants only the common ones.
impl StartFields<'_> for () {
    fn write(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }

    fn read(_: Fields<'_, '_>) -> Result<(), FieldError> {
        Ok(())
    }
}

/// An `exp-start` record: core 0's first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpStart<'a, F> {
    /// The experiment's name.
    pub exp: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// The short version.
    pub quick: bool,
    /// Repeats of every measurement.
    pub rounds: u32,
    /// The experiment's own fields.
    pub own: F,
    /// The smallest non-zero step of core 0's TSC, cycles (absent from
    /// older runs).
    pub timer_resolution: Option<u64>,
    /// Core 0's `tsc_begin`/`tsc_end` overhead (absent from older runs).
    pub tsc_overhead: Option<u64>,
    /// TSC ticks per second (0: unknown).
    pub tsc_hz: u64,
    /// The request, as `exp=...` items.
    pub args: &'a str,
}

impl<'a, F: StartFields<'a>> Record<'a> for ExpStart<'a, F> {
    const KIND: &'static str = "exp-start";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exp={} cores={} quick={} rounds={}",
            self.exp,
            self.cores,
            u8::from(self.quick),
            self.rounds
        )?;
        self.own.write(f)?;
        for (key, v) in [
            ("timer_resolution", self.timer_resolution),
            ("tsc_overhead", self.tsc_overhead),
        ] {
            if let Some(v) = v {
                write!(f, " {key}={v}")?;
            }
        }
        write!(f, " tsc_hz={} args={}", self.tsc_hz, self.args)
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(ExpStart {
            exp: r.text("exp")?,
            cores: r.small("cores")?,
            quick: r.flag("quick")?,
            rounds: r.small("rounds")?,
            own: F::read(r)?,
            timer_resolution: r.optional("timer_resolution", Fields::int)?,
            tsc_overhead: r.optional("tsc_overhead", Fields::int)?,
            tsc_hz: r.int("tsc_hz")?,
            args: r.text("args")?,
        })
    }
}
