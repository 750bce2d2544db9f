//! Every record kind prints as before and reads back.

use alloc::string::String;

use super::*;
use crate::exp::record::{Centi, Fields, Record, round_trip, shown};

#[test]
fn urpc_records_print_as_before_and_read_back() {
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

#[test]
fn update_cost_records_print_as_before_and_read_back() {
    let point = UpdatePoint {
        series: "shm",
        k: 8,
        cores: 2,
        cycles: Centi(16000),
        p99: Centi(32005),
        min_core: Centi(1),
        max_core: Centi(16000),
        samples: 100,
        updates: 1000,
        lost: 3,
        tsc_overhead: 40,
    };
    round_trip(
        &point,
        "series=shm k=8 cores=2 cycles=160.00 p99=320.05 min_core=0.01 max_core=160.00 samples=100 updates=1000 lost=3 tsc_overhead=40",
        &mut String::new(),
    );
    let check = UpdateCheck {
        series: "msg-client",
        k: 8,
        cores: 2,
        sent: 1000,
        applied: 1000,
        conserved: true,
    };
    round_trip(
        &check,
        "series=msg-client k=8 cores=2 sent=1000 applied=1000 conserved=1",
        &mut String::new(),
    );
    let skip = UpdateSkip {
        series: "msg",
        k: 1,
        cores: 1,
        reason: "needs-a-server-and-a-client-core",
    };
    round_trip(
        &skip,
        "series=msg k=1 cores=1 reason=needs-a-server-and-a-client-core",
        &mut String::new(),
    );
}

#[test]
fn lock_records_print_as_before_and_read_back() {
    let mut point = LockPoint {
        series: "mcs",
        cores: 2,
        cs_lines: 1,
        participants: 2,
        acquisitions: 4000,
        cycles: 1_000_000,
        tput: Centi(400_000),
        latency: Centi(25_050),
        p99: Centi(90_000),
        min_core: 1990,
        max_core: 2010,
        max_run: Some(7),
        samples: 120,
        tsc_overhead: 40,
        slowest: None,
    };
    round_trip(
        &point,
        "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=7 samples=120 tsc_overhead=40",
        &mut String::new(),
    );
    point.max_run = None;
    round_trip(
        &point,
        "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=na samples=120 tsc_overhead=40",
        &mut String::new(),
    );
    point.slowest = Some(Centi(1_234_567));
    round_trip(
        &point,
        "series=mcs cores=2 cs_lines=1 participants=2 acquisitions=4000 cycles=1000000 tput=4000.00 latency=250.50 p99=900.00 min_core=1990 max_core=2010 max_run=na samples=120 tsc_overhead=40 slowest=12345.67",
        &mut String::new(),
    );
}

#[test]
fn barrier_records_print_as_before_and_read_back() {
    let point = BarrierPoint {
        series: "msg-tree",
        cores: 4,
        arity: 4,
        episodes: 2250,
        cycles: Centi(123_456),
        p99: Centi(200_000),
        min_core: Centi(100_000),
        max_core: Centi(130_001),
        samples: 280,
        tsc_overhead: 40,
    };
    round_trip(
        &point,
        "series=msg-tree cores=4 arity=4 episodes=2250 cycles=1234.56 p99=2000.00 min_core=1000.00 max_core=1300.01 samples=280 tsc_overhead=40",
        &mut String::new(),
    );
}

#[test]
fn consistency_records_print_as_before_and_read_back() {
    let skew = ExpSkew {
        core: 1,
        offset: -20,
        rtt: 80,
    };
    round_trip(
        &skew,
        "core=1 offset=-20 rtt=80 bound=60",
        &mut String::new(),
    );
    let op = ReplicaOp {
        model: "lin",
        core: 1,
        write: false,
        key: 3,
        value: 0,
        invoke: 1100,
        response: 1200,
    };
    round_trip(
        &op,
        "model=lin core=1 op=r key=3 value=0 invoke=1100 response=1200",
        &mut String::new(),
    );
    let point = ReplicaPoint {
        model: "lin",
        cores: 2,
        ops: 4,
        per_core: 2,
        min_core: 2,
        reads: 3,
        writes: 1,
        read_median: Centi(10_000),
        read_p99: Centi(10_000),
        write_median: Centi(100_000),
        write_p99: Centi(100_000),
        cycles: 2100,
        tput: Centi(190_476),
        digest: 0xab,
        converged: true,
    };
    round_trip(
        &point,
        "model=lin cores=2 ops=4 per_core=2 min_core=2 reads=3 writes=1 read_median=100.00 read_p99=100.00 write_median=1000.00 write_p99=1000.00 cycles=2100 tput=1904.76 digest=00000000000000ab converged=1",
        &mut String::new(),
    );
}

#[test]
fn sync_records_print_as_before_and_read_back() {
    let check = SyncCheck {
        exp: "locks",
        series: "mcs",
        cores: 4,
        expected: 80,
        counted: 80,
        violations: 0,
        ok: true,
    };
    round_trip(
        &check,
        "exp=locks series=mcs cores=4 expected=80 counted=80 violations=0 ok=1",
        &mut String::new(),
    );
    let skip = SyncSkip {
        exp: "locks",
        series: "msg-server",
        cores: 1,
        reason: "needs-a-server-and-a-client-core",
    };
    round_trip(
        &skip,
        "exp=locks series=msg-server cores=1 reason=needs-a-server-and-a-client-core",
        &mut String::new(),
    );
}

#[test]
fn done_records_print_as_before_and_read_back() {
    let done = ExpDone {
        exp: "update-cost",
        cores: 4,
        ok: true,
    };
    round_trip(&done, "exp=update-cost cores=4 ok=1", &mut String::new());
}

/// An `exp-start` line of E2.
const LINE: &str = "exp=update-cost cores=2 quick=1 rounds=2 updates=5000 ms=40 points=8 server=0 batch=16 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=update-cost,quick";

#[test]
fn start_record_prints_as_before_and_reads_back() {
    let start = ExpStart {
        exp: "update-cost",
        cores: 2,
        quick: true,
        rounds: 2,
        own: UpdateStart {
            updates: 5000,
            ms: 40,
            points: 8,
            server: 0,
            batch: 16,
        },
        timer_resolution: Some(24),
        tsc_overhead: Some(49),
        tsc_hz: 2_800_000_000,
        args: "exp=update-cost,quick",
    };
    round_trip(&start, LINE, &mut String::new());
    // A reader of the common fields only skips the experiment's.
    let common = ExpStart {
        exp: start.exp,
        cores: start.cores,
        quick: start.quick,
        rounds: start.rounds,
        own: (),
        timer_resolution: start.timer_resolution,
        tsc_overhead: start.tsc_overhead,
        tsc_hz: start.tsc_hz,
        args: start.args,
    };
    let line = alloc::format!("{}", shown(&common));
    assert_eq!(
        line,
        "exp=update-cost cores=2 quick=1 rounds=2 timer_resolution=24 tsc_overhead=49 tsc_hz=2800000000 args=exp=update-cost,quick"
    );
    let pairs: alloc::vec::Vec<(&str, &str)> = LINE
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    assert_eq!(ExpStart::<()>::read(Fields::new(&get)), Ok(common));
}
