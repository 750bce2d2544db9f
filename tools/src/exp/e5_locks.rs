//! E5 (`exp=locks`) on the host: its CSV, its plot and its summary.

use std::fmt::Write as _;

use anyhow::Result;

use super::anchors;
use super::output::Meta;
use super::records::ConfigResult;
use super::sync::{kind, series_svg};

/// The CSV of E5: one row per configuration and lock.
pub fn locks_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,series,kind,cs_lines,participants,acquisitions,tput_per_mcycle,latency_cycles,p99,min_core,max_core,max_run,tsc_hz\n",
    );
    for c in configs {
        for r in &c.sync.locks {
            let run = r.max_run.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(
                out,
                "locks,{},{},{},{},{},{},{},{},{:.2},{:.2},{:.2},{},{},{run},{}",
                meta.ring_text(),
                meta.accelerator,
                c.cores,
                r.series,
                kind(&r.series),
                r.cs_lines,
                r.participants,
                r.acquisitions,
                r.tput,
                r.latency,
                r.p99,
                r.min_core,
                r.max_core,
                c.tsc_hz
            );
        }
    }
    out
}

/// The E5 plot: throughput against cores, a line per lock (log scale;
/// message locks drawn thick).
pub fn locks_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let y = "acquisitions per million cycles (log)";
    series_svg(title, y, configs, |c| {
        c.sync.locks.iter().map(|r| (r.series.as_str(), r.tput))
    })
}

/// The E5 terminal report: a table per core count, the best of each kind,
/// and the anchors.
pub fn locks_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(out, "{} cores:", c.cores);
        let _ = writeln!(
            out,
            "  {:<15} {:>12} {:>12} {:>10} {:>10} {:>12} {:>14}",
            "lock", "acq/Mcycle", "cycles/acq", "p99", "mean", "slowest", "per core"
        );
        for r in &c.sync.locks {
            let slowest = r.slowest.map_or("-".to_owned(), |s| format!("{s:.0}"));
            let _ = writeln!(
                out,
                "  {:<15} {:>12.2} {:>12.2} {:>10.2} {:>10.0} {:>12} {:>14}",
                r.series,
                r.tput,
                r.latency,
                r.p99,
                r.mean,
                slowest,
                format!("{}–{}", r.min_core, r.max_core)
            );
        }
        let _ = writeln!(
            out,
            "  (cycles/acq and p99 are of timed batches; mean is the wall time per acquisition; slowest is the slowest batch, per acquisition)"
        );
        let best = |msg: bool| {
            c.sync
                .locks
                .iter()
                .filter(|r| r.series.starts_with("msg-") == msg)
                .max_by(|a, b| a.tput.total_cmp(&b.tput))
        };
        if let (Some(shm), Some(msg)) = (best(false), best(true)) {
            let _ = writeln!(
                out,
                "  best: {} ({:.2}) on shared memory, {} ({:.2}) by messages: messages {:.2}×",
                shm.series,
                shm.tput,
                msg.series,
                msg.tput,
                msg.tput / shm.tput.max(f64::MIN_POSITIVE)
            );
        }
        for s in &c.sync.skips {
            let _ = writeln!(out, "  skipped {}: {}", s.series, s.reason);
        }
    }
    let checks = configs.iter().map(|c| c.sync.checks.len()).sum::<usize>();
    let _ = writeln!(out, "checks: {checks} sync-check records, 0 violations");
    let _ = writeln!(out, "{}", anchors::mcs_lock_line());
    let _ = writeln!(out, "{}", anchors::ffwd_line());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::RecordsError;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    const LOCKS2: &[&str] = &[
        "[core 0] @flotilla/1 exp-start exp=locks cores=2 quick=1 rounds=2 acquisitions=2000 cs_lines=1 batch=32 points=3 tsc_hz=2800000000 args=exp=locks,quick",
        "[core 0] @flotilla/1 lock-point series=ticket cores=2 cs_lines=1 participants=2 acquisitions=4096 cycles=900000 tput=4551.11 latency=210.50 p99=400.00 min_core=2016 max_core=2080 max_run=3 samples=128 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=ticket cores=2 expected=4096 counted=4096 violations=0 ok=1",
        "[core 0] @flotilla/1 lock-point series=msg-delegation cores=2 cs_lines=1 participants=1 acquisitions=2016 cycles=800000 tput=2520.00 latency=390.00 p99=700.00 min_core=2016 max_core=2016 max_run=na samples=63 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=msg-delegation cores=2 expected=2016 counted=2016 violations=0 ok=1",
        "[core 0] @flotilla/1 lock-point series=msg-queue cores=2 cs_lines=1 participants=2 acquisitions=4096 cycles=2000000 tput=2048.00 latency=900.00 p99=1500.00 min_core=2048 max_core=2048 max_run=1 samples=128 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=msg-queue cores=2 expected=4096 counted=4096 violations=0 ok=1",
        "[core 0] @flotilla/1 exp-done exp=locks cores=2 ok=1",
    ];

    #[test]
    fn lock_records_become_rows_csv_plot_and_report() {
        let c = parse(ExpKind::Locks, 2, &from_lines(LOCKS2)).unwrap();
        assert_eq!(c.sync.locks.len(), 3);
        assert_eq!(c.sync.checks.len(), 3);
        assert_eq!(c.sync.locks[1].max_run, None);
        let csv = locks_csv(&meta("locks"), std::slice::from_ref(&c));
        assert_eq!(csv.lines().count(), 4, "{csv}");
        assert!(
            csv.contains(",ticket,shared-memory,1,2,4096,4551.11,"),
            "{csv}"
        );
        assert!(csv.contains(",msg-queue,messages,"), "{csv}");
        let svg = locks_svg("locks", std::slice::from_ref(&c)).unwrap();
        for name in ["ticket", "msg-delegation", "msg-queue", "cores"] {
            assert!(svg.contains(name), "{name} missing");
        }
        let report = locks_report(&[c]);
        assert!(report.contains("best: ticket (4551.11) on shared memory, msg-delegation"));
        assert!(
            report.contains("Mellor-Crummey") && report.contains("ffwd"),
            "{report}"
        );
    }

    #[test]
    fn a_violation_makes_the_configuration_unusable() {
        let mut lines = LOCKS2.to_vec();
        lines[2] = "[core 0] @flotilla/1 sync-check exp=locks series=ticket cores=2 expected=4096 counted=4090 violations=3 ok=0";
        let err = parse(ExpKind::Locks, 2, &from_lines(&lines)).unwrap_err();
        assert!(
            matches!(err, RecordsError::SyncViolation { violations: 3, .. }),
            "{err:?}"
        );
        let mut lines = LOCKS2.to_vec();
        lines[1] = "[core 0] @flotilla/1 lock-point series=ticket cores=2";
        assert!(matches!(
            parse(ExpKind::Locks, 2, &from_lines(&lines)),
            Err(RecordsError::BadField { .. })
        ));
    }
}
