//! E4 (`exp=caps`) on the host: its records, CSVs, plots and summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use services::exp::record::Record;
use services::exp::{CapsCheck, CapsFault, CapsPoint, MemCheck, RamPoint};

use super::anchors;
use super::output::Meta;
use super::plot::log_lines_svg;
use super::records::{ConfigResult, RecordsError, typed};
use qemu::OwnedRecord;

/// One `caps-point`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapsRow {
    /// `targeted` or `broadcast`.
    pub variant: String,
    /// `revoke`, `retype` or `delete`.
    pub op: String,
    /// Cores other than the owner holding a copy.
    pub r: u32,
    /// Operations measured.
    pub reps: u64,
    /// Median messages per operation.
    pub messages: u64,
    /// Most messages of one operation.
    pub messages_max: u64,
    /// What the variant promises.
    pub bound: u64,
    /// Median cycles per operation.
    pub cycles: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// One `ram-point`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RamRow {
    /// `msg` or `global`.
    pub series: String,
    /// Blocks allocated.
    pub allocs: u64,
    /// Of those, from another core.
    pub borrowed: u64,
    /// Cycles per allocation without a message.
    pub alloc: f64,
    /// Its 99th percentile.
    pub alloc_p99: f64,
    /// Cycles per allocation from another core (0: none).
    pub borrow: f64,
    /// Its 99th percentile.
    pub borrow_p99: f64,
    /// Cycles per free.
    pub free: f64,
    /// Messages between monitors.
    pub messages: u64,
    /// `mem-check`: bytes at the start, all cores.
    pub total: u64,
    /// `mem-check`: bytes at the end.
    pub end: u64,
}

/// One `caps-fault`: a revoke while a holder's monitor was silent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRow {
    /// `targeted` or `broadcast`.
    pub variant: String,
    /// The silent core.
    pub silent: u32,
    /// Rounds, each abandoned with a timeout naming the silent core, its
    /// replicas restored and the other tree's retype done.
    pub reps: u64,
    /// Retypes of another tree done while the core was silent.
    pub others_done: u64,
    /// Median cycles to the abandonment.
    pub cycles: f64,
    /// The owner's bound.
    pub bound: u64,
}

/// E4's results of one configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CapsResult {
    /// Capability points.
    pub points: Vec<CapsRow>,
    /// Points whose `caps-check` passed.
    pub checked: usize,
    /// RAM series.
    pub ram: Vec<RamRow>,
    /// Failure points.
    pub faults: Vec<FaultRow>,
}

/// Reads one record into `out` if it is one of E4's; returns whether it
/// was. A failed check is an error: its figures cannot be trusted.
pub fn parse_record(
    r: &OwnedRecord,
    cores: u32,
    out: &mut CapsResult,
) -> Result<bool, RecordsError> {
    match r.kind.as_str() {
        CapsPoint::KIND => {
            let p: CapsPoint = typed(r)?;
            out.points.push(CapsRow {
                variant: p.variant.to_owned(),
                op: p.op.to_owned(),
                r: p.r,
                reps: p.reps,
                messages: p.messages,
                messages_max: p.messages_max,
                bound: p.bound,
                cycles: p.cycles.as_f64(),
                p99: p.p99.as_f64(),
            });
        }
        CapsCheck::KIND => {
            let c: CapsCheck = typed(r)?;
            if !c.ok {
                return Err(RecordsError::CapsViolation {
                    cores,
                    what: format!("{} {}", c.variant, c.op),
                    violations: c.violations,
                    over_bound: c.over_bound,
                });
            }
            out.checked += 1;
        }
        CapsFault::KIND => {
            let f: CapsFault = typed(r)?;
            if !f.ok {
                return Err(RecordsError::CapsViolation {
                    cores,
                    what: format!(
                        "{} revoke with core {} silent: {} of {} timed out, {} restored, {} other retypes done, {} left",
                        f.variant, f.silent, f.timeouts, f.reps, f.restored, f.others_done, f.left
                    ),
                    violations: f.reps * 3 - f.timeouts - f.restored - f.others_done + f.left,
                    over_bound: 0,
                });
            }
            out.faults.push(FaultRow {
                variant: f.variant.to_owned(),
                silent: f.silent,
                reps: f.reps,
                others_done: f.others_done,
                cycles: f.cycles.as_f64(),
                bound: f.bound,
            });
        }
        RamPoint::KIND => {
            let p: RamPoint = typed(r)?;
            out.ram.push(RamRow {
                series: p.series.to_owned(),
                allocs: p.allocs,
                borrowed: p.borrowed,
                alloc: p.alloc.as_f64(),
                alloc_p99: p.alloc_p99.as_f64(),
                borrow: p.borrow.as_f64(),
                borrow_p99: p.borrow_p99.as_f64(),
                free: p.free.as_f64(),
                messages: p.messages,
                total: 0,
                end: 0,
            });
        }
        MemCheck::KIND => {
            let m: MemCheck = typed(r)?;
            if !m.conserved {
                return Err(RecordsError::CapsViolation {
                    cores,
                    what: format!(
                        "RAM ({}): {} bytes at the start, {} at the end",
                        m.series, m.total, m.end
                    ),
                    violations: m.held_twice + m.not_home,
                    over_bound: 0,
                });
            }
            if let Some(row) = out.ram.iter_mut().rev().find(|row| row.series == m.series) {
                row.total = m.total;
                row.end = m.end;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A CSV of E4: the run's own columns, then each row's.
fn table<T>(
    meta: &Meta,
    configs: &[ConfigResult],
    header: &str,
    rows: fn(&CapsResult) -> &[T],
    row: fn(&T) -> String,
) -> String {
    let mut out = format!("experiment,ring,accel,cores,{header},tsc_hz\n");
    for c in configs {
        for r in rows(&c.caps) {
            let (ring, accel) = (meta.ring_text(), &meta.accelerator);
            let _ = writeln!(
                out,
                "caps,{ring},{accel},{},{},{}",
                c.cores,
                row(r),
                c.tsc_hz
            );
        }
    }
    out
}

/// The CSV of the capability points.
pub fn caps_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    table(
        meta,
        configs,
        "variant,op,r,reps,messages,messages_max,bound,cycles,p99",
        |c| &c.points,
        |p| {
            format!(
                "{},{},{},{},{},{},{},{:.2},{:.2}",
                p.variant, p.op, p.r, p.reps, p.messages, p.messages_max, p.bound, p.cycles, p.p99
            )
        },
    )
}

/// The CSV of the RAM series.
pub fn ram_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    table(
        meta,
        configs,
        "series,allocs,borrowed,alloc,alloc_p99,borrow,borrow_p99,free,messages,total,end,conserved",
        |c| &c.ram,
        |r| {
            format!(
                "{},{},{},{:.2},{:.2},{:.2},{:.2},{:.2},{},{},{},{}",
                r.series,
                r.allocs,
                r.borrowed,
                r.alloc,
                r.alloc_p99,
                r.borrow,
                r.borrow_p99,
                r.free,
                r.messages,
                r.total,
                r.end,
                u8::from(r.total == r.end)
            )
        },
    )
}

/// A plot against cores: a line per variant and operation.
fn caps_svg(
    title: &str,
    y: &str,
    configs: &[ConfigResult],
    value: fn(&CapsRow) -> f64,
) -> Result<String> {
    let mut lines: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    for c in configs {
        for p in &c.caps.points {
            // Thick lines for the targeted protocol, thin for the baseline.
            let label = match p.variant.as_str() {
                "targeted" => format!("msg-{} (targeted)", p.op),
                _ => format!("{} (broadcast)", p.op),
            };
            let rank = usize::from(p.variant != "targeted");
            lines
                .entry((rank, label))
                .or_default()
                .push((f64::from(c.cores), value(p)));
        }
    }
    let max = configs.iter().map(|c| c.cores).max().unwrap_or(1);
    log_lines_svg(title, y, lines, max)
}

/// The main E4 plot: messages per operation against cores.
pub fn messages_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    caps_svg(title, "messages per operation (log)", configs, |p| {
        p.messages as f64
    })
}

/// Writes E4's second CSV and plot into `dir` and lists them in `meta`.
pub fn write_extra(
    dir: &Path,
    meta: &mut Meta,
    where_: &str,
    configs: &[ConfigResult],
) -> Result<()> {
    let cycles = caps_svg(
        &format!("Capability operations: cycles per operation ({where_})"),
        "cycles per operation (log)",
        configs,
        |p| p.cycles,
    )?;
    for (file, text) in [
        ("caps-cycles.svg", cycles),
        ("ram.csv", ram_csv(meta, configs)),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        meta.files.push(file.to_owned());
    }
    Ok(())
}

/// The E4 terminal report.
pub fn caps_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(out, "{} cores:", c.cores);
        let _ = writeln!(
            out,
            "  {:<10} {:<7} {:>3} {:>9} {:>6} {:>12} {:>12}",
            "variant", "op", "R", "messages", "bound", "cycles", "p99"
        );
        for p in &c.caps.points {
            let _ = writeln!(
                out,
                "  {:<10} {:<7} {:>3} {:>9} {:>6} {:>12.0} {:>12.0}",
                p.variant,
                p.op,
                p.r,
                if p.messages == p.messages_max {
                    p.messages.to_string()
                } else {
                    format!("{}–{}", p.messages, p.messages_max)
                },
                p.bound,
                p.cycles,
                p.p99
            );
        }
        for op in ["revoke", "retype", "delete"] {
            let find = |v: &str| c.caps.points.iter().find(|p| p.variant == v && p.op == op);
            if let (Some(t), Some(b)) = (find("targeted"), find("broadcast"))
                && t.cycles > 0.0
            {
                let _ = writeln!(
                    out,
                    "  {op}: broadcast sends {} messages to targeted's {}, and takes {:.2}× its cycles",
                    b.messages,
                    t.messages,
                    b.cycles / t.cycles
                );
            }
        }
        let silent = c.args.split(',').find_map(|kv| kv.strip_prefix("silent="));
        if let Some(core) = silent
            && c.caps.faults.is_empty()
        {
            let _ = writeln!(
                out,
                "  no failure point: core {core} holds no copy on {} cores (silent= needs a holder, at most min(holders, cores − 1))",
                c.cores
            );
        }
        for f in &c.caps.faults {
            let _ = writeln!(
                out,
                "  core {} silent ({}): {} of {} revokes abandoned after {:.0} cycles (bound {}), replicas restored; a retype of a tree it does not hold done meanwhile in {} of {}{}",
                f.silent,
                f.variant,
                f.reps,
                f.reps,
                f.cycles,
                f.bound,
                f.others_done,
                f.reps,
                if f.variant == "broadcast" && f.others_done < f.reps {
                    " (broadcast asks every core, the silent one too)"
                } else {
                    ""
                }
            );
        }
        if !c.caps.ram.is_empty() {
            let _ = writeln!(
                out,
                "  {:<7} {:>7} {:>9} {:>10} {:>10} {:>10} {:>9}  mem-check",
                "RAM", "allocs", "borrowed", "alloc", "borrow", "free", "messages"
            );
        }
        for r in &c.caps.ram {
            let _ = writeln!(
                out,
                "  {:<7} {:>7} {:>9} {:>10.1} {:>10.1} {:>10.1} {:>9}  total={} conserved={}",
                r.series,
                r.allocs,
                r.borrowed,
                r.alloc,
                r.borrow,
                r.free,
                r.messages,
                r.total,
                u8::from(r.total == r.end)
            );
        }
        let find = |s: &str| c.caps.ram.iter().find(|r| r.series == s);
        if let (Some(m), Some(g)) = (find("msg"), find("global"))
            && m.alloc > 0.0
        {
            let _ = writeln!(
                out,
                "  RAM: the global list under a lock takes {:.2}× the cycles of a monitor's own partition per allocation",
                g.alloc / m.alloc
            );
        }
    }
    let checked: usize = configs.iter().map(|c| c.caps.checked).sum();
    let _ = writeln!(out, "checks: {checked} caps-check records, 0 violations");
    let _ = writeln!(out, "{}", anchors::barrelfish_caps_line());
    let _ = writeln!(out, "{}", anchors::semperos_line());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    fn lines(cores: u32, conserved: u8) -> Vec<String> {
        let n = u64::from(cores - 1);
        vec![
            format!(
                "[core 0] @flotilla/1 exp-start exp=caps cores={cores} quick=1 rounds=1 reps=20 holders=2 points=2 blocks=32 tsc_hz=2800000000 args=exp=caps,quick"
            ),
            format!(
                "[core 0] @flotilla/1 caps-point variant=targeted op=revoke cores={cores} r=2 reps=20 messages=6 messages_max=6 bound=6 cycles=5000.00 p99=9000.00 tsc_overhead=40"
            ),
            format!(
                "[core 0] @flotilla/1 caps-check variant=targeted op=revoke cores={cores} reps=20 violations=0 over_bound=0 ok=1"
            ),
            format!(
                "[core 0] @flotilla/1 caps-point variant=broadcast op=revoke cores={cores} r=2 reps=20 messages={m} messages_max={m} bound={m} cycles=15000.00 p99=19000.00 tsc_overhead=40",
                m = 2 + 4 * n
            ),
            format!(
                "[core 0] @flotilla/1 caps-check variant=broadcast op=revoke cores={cores} reps=20 violations=0 over_bound=0 ok=1"
            ),
            format!(
                "[core 0] @flotilla/1 ram-point series=msg cores={cores} allocs=64 borrowed=16 alloc=300.00 alloc_p99=400.00 borrow=5000.00 borrow_p99=9000.00 free=200.00 messages=48 tsc_overhead=40"
            ),
            format!(
                "[core 0] @flotilla/1 mem-check series=msg cores={cores} total=262144 end=262144 held_twice=0 not_home=0 conserved={conserved}"
            ),
            format!("[core 0] @flotilla/1 exp-done exp=caps cores={cores} ok=1"),
        ]
    }

    #[test]
    fn records_become_rows_csvs_plots_and_a_report() {
        let configs: Vec<ConfigResult> = [2, 4]
            .iter()
            .map(|&n| parse(ExpKind::Caps, n, &from_lines(&lines(n, 1))).unwrap())
            .collect();
        assert_eq!(configs[1].caps.points.len(), 2);
        assert_eq!(configs[1].caps.ram[0].total, 262_144);
        let csv = caps_csv(&meta("caps"), &configs);
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(ram_csv(&meta("caps"), &configs).contains(",msg,64,16,"));
        let svg = messages_svg("caps", &configs).unwrap();
        assert!(svg.contains("revoke (broadcast)"));
        let report = caps_report(&configs);
        assert!(
            report.contains(
                "revoke: broadcast sends 14 messages to targeted's 6, and takes 3.00× its cycles"
            ),
            "{report}"
        );
        assert!(report.contains("4(N−1)"), "{report}");
        let mut skipped = configs[0].clone();
        skipped.args = "exp=caps,quick,silent=2".to_owned();
        let report = caps_report(&[skipped]);
        assert!(
            report.contains("no failure point: core 2 holds no copy on 2 cores"),
            "{report}"
        );
    }

    #[test]
    fn a_run_that_lost_ram_is_refused() {
        let err = parse(ExpKind::Caps, 2, &from_lines(&lines(2, 0))).unwrap_err();
        assert!(matches!(err, RecordsError::CapsViolation { .. }), "{err}");
        let mut bad = lines(2, 1);
        bad[2] = bad[2].replace(
            "violations=0 over_bound=0 ok=1",
            "violations=0 over_bound=3 ok=0",
        );
        let err = parse(ExpKind::Caps, 2, &from_lines(&bad)).unwrap_err();
        assert!(err.to_string().contains("targeted revoke"), "{err}");
    }
}
