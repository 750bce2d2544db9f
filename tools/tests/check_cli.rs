//! `flotilla check` run as a user runs it, on small histories written to a
//! scratch directory: verdict lines, counterexample rows, exit statuses.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const FLOTILLA: &str = env!("CARGO_BIN_EXE_flotilla");
const HEADER: &str = "core,op,key,value,invoke,response";

/// Writes `name` with `body` into this test's scratch directory.
fn file(test: &str, name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flotilla-check-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// A history file of these rows.
fn history(test: &str, rows: &[&str]) -> PathBuf {
    let mut body = format!("{HEADER}\n");
    for r in rows {
        body.push_str(r);
        body.push('\n');
    }
    file(test, "history.csv", &body)
}

fn check(path: &PathBuf, args: &[&str]) -> Output {
    Command::new(FLOTILLA)
        .arg("check")
        .arg(path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn lines(out: &Output) -> Vec<String> {
    stdout(out).lines().map(str::to_owned).collect()
}

fn status(out: &Output) -> i32 {
    out.status.code().expect("exited")
}

const STALE: [&str; 2] = ["0,write,7,1,0,10", "1,read,7,0,20,30"];

#[test]
fn a_linearizable_history_passes_both_models() {
    // Overlapping operations that are fine: the read may see either value.
    let h = history(
        "good",
        &[
            "0,write,1,5,0,100",
            "1,read,1,0,10,20",
            "2,read,1,5,30,40",
            "1,read,1,5,110,120",
            "3,write,2,9,0,5",
        ],
    );
    let out = check(&h, &[]);
    assert_eq!(status(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let l = lines(&out);
    assert_eq!(l[0], "check model=lin ops=5 keys=2 linearizable=yes");
    assert_eq!(l[1], "check model=seq ops=5 keys=2 sequential=yes");
    assert!(
        l[2].starts_with("staleness reads=3 stale=0 unexplained=0 versions median=0"),
        "{}",
        l[2]
    );
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable_but_is_sequential() {
    let h = history("stale", &STALE);
    let out = check(&h, &["--model", "lin"]);
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let l = lines(&out);
    assert_eq!(
        l[0],
        "check model=lin ops=2 keys=1 linearizable=no counterexample=2"
    );
    assert!(
        l[1].starts_with(
            "counterexample: 2 operations on key 7 that cannot be linearized (minimal)"
        ),
        "{}",
        l[1]
    );
    assert!(l[1].ends_with("lines 2,3"), "{}", l[1]);
    assert_eq!(&l[2..5], &[HEADER, STALE[0], STALE[1]]);
    assert!(
        l[5].starts_with("staleness reads=1 stale=1 unexplained=0 versions median=1 p99=1 max=1 lag_cycles median=10"),
        "{}",
        l[5]
    );

    let out = check(&h, &["--model", "seq"]);
    assert_eq!(status(&out), 0, "{}", stdout(&out));
    assert_eq!(
        lines(&out)[0],
        "check model=seq ops=2 keys=1 sequential=yes"
    );

    let out = check(&h, &["--model", "both"]);
    assert_eq!(status(&out), 1);
}

#[test]
fn two_reads_seeing_writes_in_opposite_orders_fail_both_models() {
    let h = history(
        "opposite",
        &[
            "0,write,1,1,0,10",
            "1,write,1,2,0,10",
            "2,read,1,1,20,21",
            "2,read,1,2,22,23",
            "3,read,1,2,20,21",
            "3,read,1,1,22,23",
        ],
    );
    let out = check(&h, &[]);
    assert_eq!(status(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("linearizable=no counterexample="), "{text}");
    assert!(text.contains("sequential=no counterexample="), "{text}");
    assert!(
        text.contains(
            "that have no sequentially consistent order (minimal; found by checking each key alone)"
        ),
        "{text}"
    );
}

#[test]
fn store_buffering_is_not_sequential_though_each_key_is() {
    let rows = [
        "0,write,1,1,0,10",
        "0,read,2,0,20,30",
        "1,write,2,1,0,10",
        "1,read,1,0,20,30",
    ];
    let out = check(&history("sb", &rows), &["--model", "seq"]);
    assert_eq!(status(&out), 1, "{}", stdout(&out));
    let l = lines(&out);
    assert_eq!(
        l[0],
        "check model=seq ops=4 keys=2 sequential=no counterexample=4"
    );
    assert!(
        l[1].contains("found by searching the whole history"),
        "{}",
        l[1]
    );
    assert_eq!(&l[3..7], &rows);
}

#[test]
fn herlihy_wing_style_register_histories() {
    // Inside a long write, a read that saw the new value is followed by
    // one that sees the old: not linearizable. The other way round is.
    let bad = check(
        &history(
            "hw-bad",
            &["0,write,0,1,0,100", "1,read,0,1,10,20", "1,read,0,0,30,40"],
        ),
        &["--model", "lin"],
    );
    assert_eq!(status(&bad), 1);
    let good = check(
        &history(
            "hw-good",
            &["0,write,0,1,0,100", "1,read,0,0,10,20", "1,read,0,1,30,40"],
        ),
        &["--model", "lin"],
    );
    assert_eq!(status(&good), 0);
}

#[test]
fn skew_widening_turns_a_no_into_a_yes() {
    let h = history("skew", &STALE);
    assert_eq!(status(&check(&h, &["--model", "lin", "--skew", "4"])), 1);
    let out = check(&h, &["--model", "lin", "--skew", "5"]);
    assert_eq!(status(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("stale=0"), "{}", stdout(&out));

    let meta = file("skew", "meta.json", r#"{"tsc_skew_cycles": 5, "other": 1}"#);
    let out = check(&h, &["--model", "lin", "--meta", meta.to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{}{}", stdout(&out), stderr(&out));

    // The bound of the run that wrote the history, not the largest of the
    // experiment: by its file name, else by its core count (2 here).
    let meta = file(
        "skew",
        "runs-meta.json",
        r#"{"tsc_skew_cycles": 5, "consistency": [
            {"cores": 8, "history": "history.csv", "tsc_skew_cycles": 4},
            {"cores": 2, "history": "other.csv", "tsc_skew_cycles": 5}]}"#,
    );
    let out = check(&h, &["--model", "lin", "--meta", meta.to_str().unwrap()]);
    assert_eq!(status(&out), 1, "{}{}", stdout(&out), stderr(&out));
    let meta = file(
        "skew",
        "cores-meta.json",
        r#"{"tsc_skew_cycles": 5, "consistency": [
            {"cores": 8, "history": "h8.csv", "tsc_skew_cycles": 5},
            {"cores": 2, "history": "h2.csv", "tsc_skew_cycles": 4}]}"#,
    );
    let out = check(&h, &["--model", "lin", "--meta", meta.to_str().unwrap()]);
    assert_eq!(status(&out), 1, "{}{}", stdout(&out), stderr(&out));

    let meta = file("skew", "bad-meta.json", r#"{"tsc_skew_cycles": -3}"#);
    let out = check(&h, &["--meta", meta.to_str().unwrap()]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("field `tsc_skew_cycles`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_input_is_a_typed_error_naming_line_and_field() {
    let cases: [(&str, &str); 8] = [
        ("", "empty history"),
        ("core,op,key,value\n", "line 1: expected the header"),
        (
            "core,op,key,value,invoke,response\n0,read,1,2,3,4\n0,read,1,2\n",
            "line 3: expected 6 fields",
        ),
        (
            "core,op,key,value,invoke,response\nzero,read,1,2,3,4\n",
            "line 2, field `core`: expected an unsigned 32-bit integer, found `zero`",
        ),
        (
            "core,op,key,value,invoke,response\n0,delete,1,2,3,4\n",
            "line 2, field `op`: expected `read` or `write`, found `delete`",
        ),
        (
            "core,op,key,value,invoke,response\n0,read,k,2,3,4\n",
            "line 2, field `key`",
        ),
        (
            "core,op,key,value,invoke,response\n0,read,1,2,3.5,4\n",
            "line 2, field `invoke`",
        ),
        (
            "core,op,key,value,invoke,response\n0,read,1,2,30,4\n",
            "line 2, field `response`: response 4 is before invoke 30",
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let path = file("malformed", &format!("h{i}.csv"), body);
        let out = check(&path, &[]);
        let err = stderr(&out);
        assert_eq!(status(&out), 2, "{body:?}: {err}");
        assert!(err.contains(want), "{body:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
    let missing = std::env::temp_dir().join("flotilla-check-no-such-file.csv");
    let out = check(&missing, &[]);
    assert_eq!(status(&out), 2);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    // The operating system's word, once.
    assert_eq!(
        stderr(&out).matches("os error").count(),
        1,
        "{}",
        stderr(&out)
    );
    let path = file("malformed", "bytes.csv", "");
    std::fs::write(
        &path,
        b"core,op,key,value,invoke,response\n0,read,1,\xff,3,4\n",
    )
    .unwrap();
    let out = check(&path, &[]);
    assert_eq!(status(&out), 2);
    assert!(
        stderr(&out).contains("line 2: not UTF-8"),
        "{}",
        stderr(&out)
    );
    let out = check(&history("malformed", &STALE), &["--timeout-s", "-1"]);
    assert_eq!(status(&out), 2);
}

#[test]
fn an_intractable_history_gives_up_at_the_time_limit() {
    // 1,500 concurrent writes and a read of a value none of them wrote,
    // overlapping them all: refuting it means trying every subset.
    let mut rows: Vec<String> = (0..1_500)
        .map(|i| format!("{i},write,0,{},0,1000", i + 1))
        .collect();
    rows.push("9999,read,0,99999,500,2000".to_owned());
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let h = history("timeout", &refs);
    let start = std::time::Instant::now();
    let out = check(&h, &["--model", "lin", "--timeout-s", "0.5"]);
    assert_eq!(status(&out), 3, "{}", stdout(&out));
    assert!(start.elapsed().as_secs() < 30);
    let l = lines(&out);
    assert_eq!(l[0], "check model=lin ops=1501 keys=1 linearizable=unknown");
    assert!(l[1].starts_with("lin: gave up after 0.5 s"), "{}", l[1]);
}
