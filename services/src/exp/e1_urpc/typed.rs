//! E1's record as a type: what a pair's `src` core writes and the host
//! reads.

use core::fmt;

use crate::exp::record::{Centi, FieldError, Fields, OrNa, Record};
use crate::exp::start::start_fields;

start_fields! {
    /// E1's own fields of `exp-start`.
    UrpcStart<'a> {
        /// Round trips per round (a whole number of batches).
        samples: u64 = int,
        /// Round trips per latency sample.
        rtt_batch: u64 = int,
        /// Messages per throughput sample.
        batch: u64 = int,
        /// Throughput samples per round.
        tp_samples: u64 = int,
        /// Slots per ring.
        slots: u64 = int,
        /// `all`, `adjacent` or `from`.
        pairs: &'a str = text,
        /// Pairs measured.
        npairs: u64 = int,
    }
}

/// A `urpc-pair` record: one variant on one ordered pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrpcPair<'a> {
    /// The sending, initiating core.
    pub src: u32,
    /// The receiving, echoing core.
    pub dst: u32,
    /// `raw`, `ack` or `used`.
    pub variant: &'a str,
    /// Median round trip, whole cycles.
    pub rtt_median: u64,
    /// 99th-percentile round trip, whole cycles.
    pub rtt_p99: u64,
    /// Fastest round trip, whole cycles.
    pub rtt_min: u64,
    /// `rtt_median / 2`.
    pub oneway_median: Centi,
    /// The median round trip before rounding (absent from older runs).
    pub rtt_fine: Option<Centi>,
    /// Its half (absent from older runs).
    pub oneway_fine: Option<Centi>,
    /// `raw` only: the ping-pong on one fixed pair of lines.
    pub one_pair_rtt: Option<Centi>,
    /// Pipelined throughput, messages per 1000 cycles (`na` for `raw`).
    pub tput: Option<Centi>,
    /// Cycles per batch of throughput messages (`na` for `raw`).
    pub tp_batch_median: Option<u64>,
    /// Latency samples kept.
    pub samples: u64,
    /// Throughput samples kept.
    pub tp_samples: u64,
    /// The `tsc_begin`/`tsc_end` overhead subtracted.
    pub tsc_overhead: u64,
}

impl<'a> Record<'a> for UrpcPair<'a> {
    const KIND: &'static str = "urpc-pair";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "src={} dst={} variant={} rtt_median={} rtt_p99={} rtt_min={} oneway_median={}",
            self.src,
            self.dst,
            self.variant,
            self.rtt_median,
            self.rtt_p99,
            self.rtt_min,
            self.oneway_median
        )?;
        for (key, v) in [
            ("rtt_fine", self.rtt_fine),
            ("oneway_fine", self.oneway_fine),
            ("one_pair_rtt", self.one_pair_rtt),
        ] {
            if let Some(v) = v {
                write!(f, " {key}={v}")?;
            }
        }
        write!(
            f,
            " tput={} tp_batch_median={} samples={} tp_samples={} tsc_overhead={}",
            OrNa(self.tput),
            OrNa(self.tp_batch_median),
            self.samples,
            self.tp_samples,
            self.tsc_overhead
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(UrpcPair {
            src: r.small("src")?,
            dst: r.small("dst")?,
            variant: r.text("variant")?,
            rtt_median: r.int("rtt_median")?,
            rtt_p99: r.int("rtt_p99")?,
            rtt_min: r.int("rtt_min")?,
            oneway_median: r.centi("oneway_median")?,
            rtt_fine: r.optional("rtt_fine", Fields::centi)?,
            oneway_fine: r.optional("oneway_fine", Fields::centi)?,
            one_pair_rtt: r.optional("one_pair_rtt", Fields::centi)?,
            tput: r.or_na("tput", Fields::centi)?,
            tp_batch_median: r.or_na("tp_batch_median", Fields::int)?,
            samples: r.int("samples")?,
            tp_samples: r.int("tp_samples")?,
            tsc_overhead: r.int("tsc_overhead")?,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn the_record_prints_as_before_and_reads_back() {
        let raw = UrpcPair {
            src: 0,
            dst: 1,
            variant: "raw",
            rtt_median: 300,
            rtt_p99: 400,
            rtt_min: 250,
            oneway_median: Centi(15_000),
            rtt_fine: Some(Centi(30_012)),
            oneway_fine: Some(Centi(15_006)),
            one_pair_rtt: Some(Centi(28_000)),
            tput: None,
            tp_batch_median: None,
            samples: 1800,
            tp_samples: 0,
            tsc_overhead: 40,
        };
        round_trip(
            &raw,
            "src=0 dst=1 variant=raw rtt_median=300 rtt_p99=400 rtt_min=250 oneway_median=150.00 rtt_fine=300.12 oneway_fine=150.06 one_pair_rtt=280.00 tput=na tp_batch_median=na samples=1800 tp_samples=0 tsc_overhead=40",
            &mut String::new(),
        );
        let ack = UrpcPair {
            variant: "ack",
            one_pair_rtt: None,
            tput: Some(Centi(1250)),
            tp_batch_median: Some(8000),
            tp_samples: 72,
            ..raw
        };
        round_trip(
            &ack,
            "src=0 dst=1 variant=ack rtt_median=300 rtt_p99=400 rtt_min=250 oneway_median=150.00 rtt_fine=300.12 oneway_fine=150.06 tput=12.50 tp_batch_median=8000 samples=1800 tp_samples=72 tsc_overhead=40",
            &mut String::new(),
        );
        let summary = UrpcSummary {
            pairs: 2,
            rtt: [300, 500, 600],
            oneway: [Centi(15_000), Centi(25_000), Centi(30_000)],
            tput: [Centi(1200), Centi(950)],
            faster: "ack",
            ratio: Centi(167),
            one_pair_oneway: Centi(14_000),
        };
        round_trip(
            &summary,
            "pairs=2 raw_rtt=300 ack_rtt=500 used_rtt=600 raw_oneway=150.00 ack_oneway=250.00 used_oneway=300.00 ack_tput=12.00 used_tput=9.50 faster=ack ratio=1.67 one_pair_oneway=140.00",
            &mut String::new(),
        );
    }
}
