//! How long `flotilla check` takes on a large history: 100,000 operations
//! over 1,000 keys from 32 simulated cores against a linearizable map,
//! written to `history.csv` and checked as the command checks it.
//!
//! ```text
//! cargo run --release -p tools --example check_bench [-- OPS KEYS CORES]
//! CHECK_BENCH_KEEP=1 ...   # keep history.csv, to time `flotilla check` on it
//! CHECK_BENCH_LIMIT_S=20 ... # time limit per check (default 120 s)
//! ```

use std::time::{Duration, Instant};

use tools::check::generate::{self, Shape};
use tools::check::history::History;
use tools::check::outcome::Deadline;
use tools::check::{lin, seq, stale};

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    println!("{what:<44} {:>8.3} s", took.as_secs_f64());
    (out, took)
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("OPS KEYS CORES as numbers"))
        .collect();
    let shape = Shape {
        ops: args.first().copied().unwrap_or(100_000) as usize,
        keys: args.get(1).copied().unwrap_or(1_000),
        cores: args.get(2).copied().unwrap_or(32) as u32,
        seed: 42,
        ..Shape::default()
    };
    let limit = Duration::from_secs(
        std::env::var("CHECK_BENCH_LIMIT_S")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120),
    );
    let history = generate::linearizable(&shape);
    let dir = std::env::temp_dir().join(format!("flotilla-check-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let path = dir.join("history.csv");
    std::fs::write(&path, history.to_csv()).expect("write history.csv");
    println!(
        "history: {} operations, {} keys, {} cores, {} bytes",
        history.ops.len(),
        history.keys(),
        shape.cores,
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    );

    let (loaded, t_parse) = timed("parse history.csv", || History::load(&path).expect("parse"));
    let (l, t_lin) = timed("linearizability (per key, WGL)", || {
        lin::check(&loaded, 0, &Deadline::new(limit))
    });
    let (s, t_seq) = timed("sequential consistency (fast check)", || {
        seq::check(&loaded, &Deadline::new(limit))
    });
    let (st, t_stale) = timed("staleness", || stale::measure(&loaded, 0));
    let total = t_parse + t_lin + t_seq + t_stale;
    println!(
        "lin holds={} seq holds={} ({:?}) stale reads={}",
        l.verdict.holds(),
        s.verdict.holds(),
        s.method,
        st.stale()
    );
    println!(
        "check total: {:.3} s for {} operations over {} keys",
        total.as_secs_f64(),
        loaded.ops.len(),
        loaded.keys()
    );
    let (full, _) = timed("sequential consistency (whole-history search)", || {
        seq::check_with(
            &loaded,
            &Deadline::new(limit),
            seq::SeqOptions { fast_checks: false },
        )
    });
    println!(
        "search holds={} states={}",
        full.verdict.holds(),
        full.states
    );
    let sequential = generate::sequential(&shape, 16);
    std::fs::write(dir.join("sequential.csv"), sequential.to_csv()).expect("write sequential.csv");
    let (sc, _) = timed("sequential store history: seq check", || {
        seq::check(&sequential, &Deadline::new(limit))
    });
    let lin_sequential = lin::check(&sequential, 0, &Deadline::new(limit));
    println!(
        "sequential store: seq holds={} ({:?}, {} states), lin holds={}",
        sc.verdict.holds(),
        sc.method,
        sc.states,
        lin_sequential.verdict.holds()
    );
    if std::env::var_os("CHECK_BENCH_KEEP").is_some() {
        println!("kept {} and sequential.csv beside it", path.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
