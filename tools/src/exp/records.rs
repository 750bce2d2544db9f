//! Turning an experiment's structured records into rows.
//!
//! The records are the ones `services::exp` documents (format
//! `@flotilla/1`): `exp-start`, `urpc-pair`, `urpc-summary`, `update-cost`,
//! `update-check`, `update-skip`, `lock-point`, `barrier-point`,
//! `sync-check`, `sync-skip`, `exp-skew`, `replica-op`, `replica-point`
//! (each read into its rows in `rows`),
//! `exp-done`, and the hosted runtime's
//! `hosted`. A configuration's records are complete only with one
//! `exp-start` of the expected experiment and core count and one
//! `exp-done ok=1`; every conservation check must say `conserved=1`.

use qemu::OwnedRecord;
use serde::Serialize;
use services::exp::ExpKind;
use services::exp::record::{Fields, Record};
use services::exp::{ConsistencyStart, ExpDone, ExpStart};

/// One `urpc-pair` record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UrpcRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// Sending / initiating core.
    pub src: u32,
    /// Receiving / echoing core.
    pub dst: u32,
    /// `raw`, `ack` or `used`.
    pub variant: String,
    /// Median round trip, cycles.
    pub rtt_median: u64,
    /// 99th percentile round trip, cycles.
    pub rtt_p99: u64,
    /// Fastest round trip, cycles.
    pub rtt_min: u64,
    /// Median one-way latency (half the round trip), cycles.
    pub oneway_median: f64,
    /// The same before the round trip was rounded to whole cycles
    /// (`oneway_fine`, when the run printed it).
    pub oneway_fine: Option<f64>,
    /// Pipelined throughput, messages per 1000 cycles (`None` for `raw`).
    pub tput: Option<f64>,
    /// Round trips kept.
    pub samples: u64,
    /// Cost of the timing instructions, subtracted.
    pub tsc_overhead: u64,
}

/// One `update-cost` record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpdateRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// `shm`, `shm-atomic`, `shm-lock`, `msg-client` or `msg-server`.
    pub series: String,
    /// Cache lines.
    pub k: u32,
    /// Median cycles per update.
    pub cycles: f64,
    /// Largest per-core 99th percentile.
    pub p99: f64,
    /// Smallest per-core median.
    pub min_core: f64,
    /// Largest per-core median.
    pub max_core: f64,
    /// Samples.
    pub samples: u64,
    /// Updates done.
    pub updates: u64,
    /// Updates lost to races (`shm`).
    pub lost: u64,
    /// Cost of the timing instructions, subtracted.
    pub tsc_overhead: u64,
}

impl UpdateRow {
    /// The series' name in plots and tables, as in the paper: `SHM8`,
    /// `SHM8 atomic`, `SHM8 lock`, `MSG8 client`, `MSG8 server`.
    pub fn label(&self) -> String {
        series_label(&self.series, self.k)
    }
}

/// The display name of an E2 series.
pub fn series_label(series: &str, k: u32) -> String {
    match series {
        "shm" => format!("SHM{k}"),
        "shm-atomic" => format!("SHM{k} atomic"),
        "shm-lock" => format!("SHM{k} lock"),
        "msg-client" => format!("MSG{k} client"),
        "msg-server" => format!("MSG{k} server"),
        other => format!("{other} {k}"),
    }
}

/// One `update-check` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// The series checked.
    pub series: String,
    /// Cache lines.
    pub k: u32,
    /// Updates made.
    pub sent: u64,
    /// Updates applied.
    pub applied: u64,
    /// Whether they agree.
    pub conserved: bool,
}

/// One `update-skip` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkipRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// The series skipped.
    pub series: String,
    /// Cache lines.
    pub k: u32,
    /// Why.
    pub reason: String,
}

/// What one configuration (one boot, or one hosted run) produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConfigResult {
    /// Cores.
    pub cores: u32,
    /// The TSC rate the run reported.
    pub tsc_hz: u64,
    /// The request as the cores parsed it (`args=` of `exp-start`).
    pub args: String,
    /// The timer's step, cycles (`timer_resolution=` of `exp-start`).
    pub timer_resolution: Option<u64>,
    /// Operations per timed latency sample (`exp-start`: E1's `rtt_batch=`,
    /// E2's `batch=`).
    pub batch: Option<u64>,
    /// E1 rows.
    pub urpc: Vec<UrpcRow>,
    /// E2 rows.
    pub update: Vec<UpdateRow>,
    /// E2 conservation checks.
    pub checks: Vec<CheckRow>,
    /// E2 skipped series.
    pub skips: Vec<SkipRow>,
    /// E5 and E6 rows.
    pub sync: super::sync::SyncResult,
    /// E7 rows and histories.
    pub consistency: super::e7_consistency::ConsistencyResult,
    /// E4 rows.
    pub caps: super::e4_caps::CapsResult,
    /// The hosted runtime's note (`hosted` record fields), if hosted.
    pub hosted: Option<Vec<(String, String)>>,
}

/// Why a configuration's records cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// A record kind that must be there is missing.
    #[error("no `{0}` record")]
    Missing(&'static str),
    /// `exp-start` names another experiment or core count.
    #[error("the run is {found}, not {expected}")]
    Mismatch {
        /// What was asked for.
        expected: String,
        /// What the run says.
        found: String,
    },
    /// A field is missing or not a number.
    #[error("`{kind}` record: field `{key}` is missing or malformed")]
    BadField {
        /// The record kind.
        kind: String,
        /// The field.
        key: &'static str,
    },
    /// The run did not end with `exp-done ok=1`.
    #[error("the experiment did not finish (no `exp-done ok=1`)")]
    NotDone,
    /// A lock or barrier check found a violation.
    #[error("{series} on {cores} cores: {violations} violations, counted {counted} of {expected}")]
    SyncViolation {
        /// Cores.
        cores: u32,
        /// Series.
        series: String,
        /// Violations.
        violations: u64,
        /// What the check expected.
        expected: u64,
        /// What it counted.
        counted: u64,
    },
    /// The replicas of the map did not converge.
    #[error("{model} on {cores} cores: the replicas did not converge")]
    Diverged {
        /// Cores.
        cores: u32,
        /// The consistency model.
        model: String,
    },
    /// A history lacks some of a core's operations.
    #[error("{model} on {cores} cores: core {core}'s history has {found} of {expected} operations")]
    HistoryIncomplete {
        /// Cores.
        cores: u32,
        /// The consistency model.
        model: String,
        /// The core.
        core: u32,
        /// Operations found.
        found: u64,
        /// Operations asked.
        expected: u64,
    },
    /// An E4 check failed: a capability operation left the wrong state
    /// or passed its message bound, or RAM was not conserved.
    #[error(
        "{what} on {cores} cores: {violations} violations, {over_bound} operations over the message bound"
    )]
    CapsViolation {
        /// Cores.
        cores: u32,
        /// What failed.
        what: String,
        /// Violations.
        violations: u64,
        /// Operations over the bound.
        over_bound: u64,
    },
    /// A conservation check failed.
    #[error("{series} k={k} on {cores} cores: {sent} updates sent but {applied} applied")]
    NotConserved {
        /// Cores.
        cores: u32,
        /// Series.
        series: String,
        /// Lines.
        k: u32,
        /// Sent.
        sent: u64,
        /// Applied.
        applied: u64,
    },
}

/// Reads `r` as the typed record `R` (one defined in `services::exp`).
pub(crate) fn typed<'a, R: Record<'a>>(r: &'a OwnedRecord) -> Result<R, RecordsError> {
    let get = |key: &str| r.get(key);
    R::read(Fields::new(&get)).map_err(|e| RecordsError::BadField {
        kind: r.kind.clone(),
        key: e.key,
    })
}

/// Parses the records of one configuration of `experiment` on `cores`
/// cores (other record kinds are ignored).
pub fn parse(
    experiment: ExpKind,
    cores: u32,
    records: &[OwnedRecord],
) -> Result<ConfigResult, RecordsError> {
    let start_record = records
        .iter()
        .find(|r| r.kind == "exp-start")
        .ok_or(RecordsError::Missing("exp-start"))?;
    let start: ExpStart<()> = typed(start_record)?;
    let found = (start.exp, start.cores);
    if found != (experiment.name(), cores) {
        return Err(RecordsError::Mismatch {
            expected: format!("{experiment} on {cores} cores"),
            found: format!("{} on {} cores", found.0, found.1),
        });
    }
    let mut out = ConfigResult {
        cores,
        tsc_hz: start.tsc_hz,
        args: start.args.to_owned(),
        timer_resolution: start.timer_resolution,
        batch: start_record.get_u64(match experiment {
            ExpKind::Urpc => "rtt_batch",
            _ => "batch",
        }),
        ..ConfigResult::default()
    };
    let mut done = false;
    for r in records {
        match r.kind.as_str() {
            "hosted" => out.hosted = Some(r.fields.clone()),
            ExpDone::KIND => done = typed::<ExpDone>(r)?.ok,
            _ => {
                if !super::rows::read(r, cores, &mut out)? {
                    super::e4_caps::parse_record(r, cores, &mut out.caps)?;
                }
            }
        }
    }
    if !done {
        return Err(RecordsError::NotDone);
    }
    if experiment == ExpKind::Consistency {
        let start: ExpStart<ConsistencyStart> = typed(start_record)?;
        out.consistency.tsc_skew_cycles = start.own.tsc_skew_cycles;
        super::e7_consistency::check_complete(cores, &out.consistency)?;
    }
    Ok(out)
}

/// The records among `[core N] ...` lines of a hosted run (others are
/// skipped). A hosted run has no kernel and no program but its monitors,
/// and its lines carry no stamp: every record is read, whoever printed it.
pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Vec<OwnedRecord> {
    lines
        .iter()
        .filter_map(|l| OwnedRecord::parse_any(l.as_ref()).ok())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A complete two-core E1 run, as a core would print it.
    pub(crate) const URPC2: &[&str] = &[
        "[core 0] @flotilla/1 exp-start exp=urpc cores=2 quick=1 rounds=2 samples=1024 rtt_batch=32 batch=100 tp_samples=40 slots=60 pairs=all npairs=2 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=urpc,quick",
        "[core 0] @flotilla/1 urpc-pair src=0 dst=1 variant=raw rtt_median=300 rtt_p99=400 rtt_min=250 oneway_median=150.00 tput=na tp_batch_median=na samples=1800 tp_samples=0 tsc_overhead=40",
        "[core 0] @flotilla/1 urpc-pair src=0 dst=1 variant=ack rtt_median=500 rtt_p99=700 rtt_min=450 oneway_median=250.00 tput=12.50 tp_batch_median=8000 samples=1800 tp_samples=72 tsc_overhead=40",
        "[core 0] @flotilla/1 urpc-pair src=0 dst=1 variant=used rtt_median=600 rtt_p99=800 rtt_min=550 oneway_median=300.00 tput=10.00 tp_batch_median=10000 samples=1800 tp_samples=72 tsc_overhead=40",
        "[core 1] @flotilla/1 urpc-pair src=1 dst=0 variant=raw rtt_median=320 rtt_p99=420 rtt_min=260 oneway_median=160.00 tput=na tp_batch_median=na samples=1800 tp_samples=0 tsc_overhead=42",
        "[core 1] @flotilla/1 urpc-pair src=1 dst=0 variant=ack rtt_median=520 rtt_p99=720 rtt_min=460 oneway_median=260.00 tput=12.00 tp_batch_median=8300 samples=1800 tp_samples=72 tsc_overhead=42",
        "[core 1] @flotilla/1 urpc-pair src=1 dst=0 variant=used rtt_median=640 rtt_p99=840 rtt_min=560 oneway_median=320.00 tput=9.50 tp_batch_median=10500 samples=1800 tp_samples=72 tsc_overhead=42",
        "[core 0] @flotilla/1 urpc-summary pairs=2 raw_rtt=300 ack_rtt=500 used_rtt=600 raw_oneway=150.00 ack_oneway=250.00 used_oneway=300.00 ack_tput=12.00 used_tput=9.50 faster=ack ratio=1.67",
        "[core 0] @flotilla/1 exp-done exp=urpc cores=2 ok=1",
    ];

    /// Parsed E2 results of one configuration per core count.
    pub(crate) fn update_configs(cores: &[u32]) -> Vec<ConfigResult> {
        cores
            .iter()
            .map(|&n| parse(ExpKind::UpdateCost, n, &from_lines(&update_lines(n, 1.0))).unwrap())
            .collect()
    }

    /// E2 records of one configuration with `cores` cores.
    pub(crate) fn update_lines(cores: u32, scale: f64) -> Vec<String> {
        let mut l = vec![format!(
            "[core 0] @flotilla/1 exp-start exp=update-cost cores={cores} quick=1 rounds=2 updates=5000 ms=40 points=8 server=0 batch=16 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=update-cost,quick"
        )];
        for (series, k, base) in [
            ("shm", 1, 20.0),
            ("shm", 2, 40.0),
            ("shm", 4, 80.0),
            ("shm", 8, 160.0),
            ("shm-atomic", 8, 200.0),
            ("shm-lock", 8, 400.0),
            ("msg-client", 1, 900.0),
            ("msg-server", 1, 150.0),
            ("msg-client", 8, 1000.0),
            ("msg-server", 8, 250.0),
        ] {
            if series.starts_with("msg") && cores < 2 {
                continue;
            }
            let c = base * scale * f64::from(cores);
            l.push(format!(
                "[core 0] @flotilla/1 update-cost series={series} k={k} cores={cores} cycles={c:.2} p99={:.2} min_core={c:.2} max_core={c:.2} samples=100 updates=1000 lost=0 tsc_overhead=40",
                c * 2.0
            ));
        }
        if cores < 2 {
            for k in [1, 8] {
                l.push(format!("[core 0] @flotilla/1 update-skip series=msg k={k} cores=1 reason=needs-a-server-and-a-client-core"));
            }
        } else {
            l.push(format!("[core 0] @flotilla/1 update-check series=msg-client k=8 cores={cores} sent=1000 applied=1000 conserved=1"));
        }
        l.push(format!(
            "[core 0] @flotilla/1 exp-done exp=update-cost cores={cores} ok=1"
        ));
        l
    }

    #[test]
    fn urpc_records_become_rows() {
        let c = parse(ExpKind::Urpc, 2, &from_lines(URPC2)).unwrap();
        assert_eq!(c.tsc_hz, 2_800_000_000);
        assert_eq!(c.args, "exp=urpc,quick");
        assert_eq!(c.urpc.len(), 6);
        assert_eq!(c.urpc[0].tput, None);
        assert_eq!(c.urpc[1].tput, Some(12.5));
        assert_eq!(c.urpc[4].src, 1);
        assert_eq!(c.urpc[5].oneway_median, 320.0);
        assert_eq!((c.timer_resolution, c.batch), (Some(24), Some(32)));
        assert_eq!(c.urpc[0].oneway_fine, None);
        let mut lines = URPC2.to_vec();
        let fine = URPC2[1].replace(
            "oneway_median=150.00",
            "oneway_median=150.00 oneway_fine=149.75",
        );
        lines[1] = &fine;
        let c = parse(ExpKind::Urpc, 2, &from_lines(&lines)).unwrap();
        assert_eq!(c.urpc[0].oneway_fine, Some(149.75));
    }

    #[test]
    fn update_records_become_rows() {
        let c = parse(ExpKind::UpdateCost, 2, &from_lines(&update_lines(2, 1.0))).unwrap();
        assert_eq!(c.update.len(), 10);
        assert_eq!(c.update[3].label(), "SHM8");
        assert_eq!(c.update[9].label(), "MSG8 server");
        assert_eq!(c.checks.len(), 1);
        let c = parse(ExpKind::UpdateCost, 1, &from_lines(&update_lines(1, 1.0))).unwrap();
        assert_eq!(c.skips.len(), 2);
    }

    #[test]
    fn incomplete_or_inconsistent_records_are_refused() {
        let all = from_lines(URPC2);
        assert_eq!(
            parse(ExpKind::Urpc, 2, &all[..all.len() - 1]),
            Err(RecordsError::NotDone)
        );
        assert_eq!(
            parse(ExpKind::Urpc, 2, &all[1..]),
            Err(RecordsError::Missing("exp-start"))
        );
        assert!(matches!(
            parse(ExpKind::Urpc, 4, &all),
            Err(RecordsError::Mismatch { .. })
        ));
        assert!(matches!(
            parse(ExpKind::UpdateCost, 2, &all),
            Err(RecordsError::Mismatch { .. })
        ));
        let mut bad = URPC2.to_vec();
        bad[2] = "[core 0] @flotilla/1 urpc-pair src=0 dst=1 variant=ack rtt_median=x";
        assert_eq!(
            parse(ExpKind::Urpc, 2, &from_lines(&bad)),
            Err(RecordsError::BadField {
                kind: "urpc-pair".into(),
                key: "rtt_median"
            })
        );
        let mut lines = update_lines(2, 1.0);
        let n = lines.len();
        lines[n - 2] = "[core 0] @flotilla/1 update-check series=msg-client k=8 cores=2 sent=1000 applied=999 conserved=0".into();
        assert!(matches!(
            parse(ExpKind::UpdateCost, 2, &from_lines(&lines)),
            Err(RecordsError::NotConserved { applied: 999, .. })
        ));
    }
}
