//! The capability fuzzer: a short run on two cores passes with the exact
//! closing line, and the deliberately broken kernel paths make a run fail
//! with the seed and the call that caused it.

use boot::kernel_cmdline::{FuzzRun, SelfTest};
use flotilla_tests::{BOOT_TIMEOUT, image, qemu_slot};
use qemu::Accel;
use tools::fuzz_command::{FuzzRequest, FuzzSummary};

fn fuzz(calls: u64, trace: bool, test: Option<SelfTest>) -> (FuzzSummary, String) {
    let req = FuzzRequest {
        cores: 2,
        run: FuzzRun {
            seed: 7,
            calls,
            trace,
        },
        test,
    };
    let img = image();
    let config = req.config(&img.kernel, &img.initrd, Accel::Tcg, BOOT_TIMEOUT);
    let _slot = qemu_slot();
    match tools::fuzz_command::run(&req, &config, None) {
        Ok((summary, report)) => (summary, report.failure_report),
        Err(err) => panic!("cannot start QEMU: {err:#}"),
    }
}

#[test]
fn twenty_thousand_calls_on_two_cores_pass() {
    let (s, log) = fuzz(20_000, false, None);
    assert!(s.passed(), "{}\n{log}", s.last_line());
    assert_eq!(
        s.last_line(),
        "fuzz: 20000 calls, 0 kernel faults, 0 invariant violations"
    );
    assert_eq!(s.cores.len(), 2, "{log}");
    for (core, c) in &s.cores {
        assert_eq!(c.calls, 10_000, "core {core}");
        assert!(c.checked, "core {core}: no final check\n{log}");
        // The valid calls reach the deep paths: many succeed, and mapped
        // pages were read and written.
        assert!(c.ok > 1000, "core {core}: only {} calls succeeded", c.ok);
        assert!(c.touched > 50, "core {core}: {} pages touched", c.touched);
    }
}

#[test]
fn a_corrupted_database_record_fails_the_run_at_the_call_that_broke_it() {
    // With tracing, fuzz mode checks after every operation: the violation
    // is found right after the 1000th invocation of core 0 (call 999).
    let (s, log) = fuzz(4000, true, Some(SelfTest::FuzzCorrupt));
    assert!(!s.passed(), "{log}");
    assert_eq!(s.violations, 1, "{log}");
    assert_eq!(s.kernel_faults, 0, "{log}");
    let last = s.last_line();
    assert!(last.starts_with("fuzz failed (seed 7; "), "{last}");
    assert!(
        last.contains("core 0: invariant violation slot-mismatch@"),
        "{last}"
    );
    assert!(last.contains("found after call 999 "), "{last}");
    assert!(log.contains("fuzz-recent by=kernel call=999 "), "{log}");
}

#[test]
fn an_untyped_result_fails_the_run_naming_the_call() {
    let (s, log) = fuzz(20_000, false, Some(SelfTest::FuzzUntyped));
    assert!(!s.passed(), "{log}");
    assert_eq!(s.untyped, 1, "{log}");
    let last = s.last_line();
    assert!(last.starts_with("fuzz failed (seed 7; "), "{last}");
    assert!(last.contains("core 0: call 999 (number "), "{last}");
    assert!(
        last.ends_with("returned rax 0x7777: untyped-result"),
        "{last}"
    );
    // The calls before it are listed.
    assert!(log.contains("fuzz-recent by=fuzz call=998 "), "{log}");
}
