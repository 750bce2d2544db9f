//! Each record kind that holds results, read into the rows of a
//! configuration ([`ConfigResult`]).

use qemu::OwnedRecord;
use services::exp::record::{Centi, Record};
use services::exp::{
    BarrierPoint, ExpSkew, LockPoint, ReplicaOp, ReplicaPoint as PointRecord,
    SyncCheck as CheckRecord, SyncSkip as SkipRecord, UpdateCheck, UpdatePoint, UpdateSkip,
    UrpcPair,
};

use super::e7_consistency::{HistoryOp, ReplicaPoint, SkewRow};
use super::records::{CheckRow, ConfigResult, RecordsError, SkipRow, UpdateRow, UrpcRow, typed};
use super::sync::{BarrierRow, LockRow, SyncCheck, SyncSkip};

/// Reads `r`, of a configuration on `cores` cores, into `out` if it is a
/// kind that holds results; returns whether it was. A failed check is the
/// error.
pub(crate) fn read(
    r: &OwnedRecord,
    cores: u32,
    out: &mut ConfigResult,
) -> Result<bool, RecordsError> {
    match r.kind.as_str() {
        UrpcPair::KIND => {
            let u: UrpcPair = typed(r)?;
            out.urpc.push(UrpcRow {
                cores,
                src: u.src,
                dst: u.dst,
                variant: u.variant.to_owned(),
                rtt_median: u.rtt_median,
                rtt_p99: u.rtt_p99,
                rtt_min: u.rtt_min,
                oneway_median: u.oneway_median.as_f64(),
                oneway_fine: u.oneway_fine.map(Centi::as_f64),
                tput: u.tput.map(Centi::as_f64),
                samples: u.samples,
                tsc_overhead: u.tsc_overhead,
            });
        }
        UpdatePoint::KIND => {
            let u: UpdatePoint = typed(r)?;
            out.update.push(UpdateRow {
                cores,
                series: u.series.to_owned(),
                k: u.k,
                cycles: u.cycles.as_f64(),
                p99: u.p99.as_f64(),
                min_core: u.min_core.as_f64(),
                max_core: u.max_core.as_f64(),
                samples: u.samples,
                updates: u.updates,
                lost: u.lost,
                tsc_overhead: u.tsc_overhead,
            });
        }
        UpdateCheck::KIND => {
            let c: UpdateCheck = typed(r)?;
            let row = CheckRow {
                cores,
                series: c.series.to_owned(),
                k: c.k,
                sent: c.sent,
                applied: c.applied,
                conserved: c.conserved,
            };
            if !row.conserved || row.sent != row.applied {
                return Err(RecordsError::NotConserved {
                    cores,
                    series: row.series,
                    k: row.k,
                    sent: row.sent,
                    applied: row.applied,
                });
            }
            out.checks.push(row);
        }
        UpdateSkip::KIND => {
            let s: UpdateSkip = typed(r)?;
            out.skips.push(SkipRow {
                cores,
                series: s.series.to_owned(),
                k: s.k,
                reason: s.reason.to_owned(),
            });
        }
        LockPoint::KIND => {
            let l: LockPoint = typed(r)?;
            out.sync.locks.push(LockRow {
                cores,
                series: l.series.to_owned(),
                cs_lines: l.cs_lines,
                participants: l.participants,
                acquisitions: l.acquisitions,
                tput: l.tput.as_f64(),
                latency: l.latency.as_f64(),
                p99: l.p99.as_f64(),
                min_core: l.min_core,
                max_core: l.max_core,
                max_run: l.max_run,
                mean: l.cycles as f64 * f64::from(l.participants) / l.acquisitions.max(1) as f64,
                slowest: l.slowest.map(|c| c.as_f64()),
            });
        }
        BarrierPoint::KIND => {
            let b: BarrierPoint = typed(r)?;
            out.sync.barriers.push(BarrierRow {
                cores,
                series: b.series.to_owned(),
                cycles: b.cycles.as_f64(),
                p99: b.p99.as_f64(),
                min_core: b.min_core.as_f64(),
                max_core: b.max_core.as_f64(),
                episodes: b.episodes,
            });
        }
        CheckRecord::KIND => {
            let c: CheckRecord = typed(r)?;
            let check = SyncCheck {
                cores,
                exp: c.exp.to_owned(),
                series: c.series.to_owned(),
                expected: c.expected,
                counted: c.counted,
                violations: c.violations,
            };
            if !c.ok || check.violations > 0 || check.expected != check.counted {
                return Err(RecordsError::SyncViolation {
                    cores,
                    series: check.series,
                    violations: check.violations,
                    expected: check.expected,
                    counted: check.counted,
                });
            }
            out.sync.checks.push(check);
        }
        SkipRecord::KIND => {
            let s: SkipRecord = typed(r)?;
            out.sync.skips.push(SyncSkip {
                cores,
                series: s.series.to_owned(),
                reason: s.reason.to_owned(),
            });
        }
        ExpSkew::KIND => {
            let s: ExpSkew = typed(r)?;
            out.consistency.skews.push(SkewRow {
                cores,
                core: s.core,
                offset: s.offset,
                rtt: s.rtt,
            });
        }
        ReplicaOp::KIND => {
            let o: ReplicaOp = typed(r)?;
            let op = HistoryOp {
                core: o.core,
                write: o.write,
                key: o.key,
                value: o.value,
                invoke: o.invoke,
                response: o.response,
            };
            out.consistency
                .histories
                .entry(o.model.to_owned())
                .or_default()
                .push(op);
        }
        PointRecord::KIND => {
            let p: PointRecord = typed(r)?;
            let model = p.model.to_owned();
            if !p.converged {
                return Err(RecordsError::Diverged { cores, model });
            }
            out.consistency.points.push(ReplicaPoint {
                cores,
                model,
                ops: p.ops,
                per_core: p.per_core,
                reads: p.reads,
                writes: p.writes,
                read_median: p.read_median.as_f64(),
                read_p99: p.read_p99.as_f64(),
                write_median: p.write_median.as_f64(),
                write_p99: p.write_p99.as_f64(),
                tput: p.tput.as_f64(),
            });
        }
        _ => return Ok(false),
    }
    Ok(true)
}
