//! Bad input ends the run in the documented way, with a message that says
//! what is wrong: a corrupt or empty initrd, a truncated program, a long
//! bad option value, a CPU the kernel cannot run on. Programs start only
//! after the boot core's `boot-done`.

use boot::protocol::ExitCode;
use flotilla_tests::{boot, boot_logged, image, scratch_file, tcg, with_monitors};
use qemu::{Outcome, SerialLine};
use tools::boot::BootReport;

fn expect_fail(report: &BootReport) {
    assert_eq!(
        report.outcome,
        Outcome::Exit(ExitCode::Fail),
        "{}",
        report.failure_report
    );
    assert!(!report.passed());
}

/// The single problem the run reported.
fn problem(report: &BootReport) -> &str {
    assert_eq!(
        report.analysis.problems.len(),
        1,
        "{:?}\n{}",
        report.analysis.problems,
        report.failure_report
    );
    &report.analysis.problems[0]
}

/// The index of the `boot-done` line.
fn boot_done_at(lines: &[SerialLine]) -> usize {
    lines
        .iter()
        .position(|l| l.text.contains("@flotilla/1 boot-done "))
        .unwrap_or_else(|| {
            let log: Vec<String> = lines.iter().map(ToString::to_string).collect();
            panic!("no boot-done line in:\n{}", log.join("\n"))
        })
}

/// Records the kernel prints before `boot-done`; anything else there
/// comes from programs or from starting them.
const BOOT_RECORDS: [&str; 3] = ["clocks", "core-up", "isolation"];

/// Checks that nothing but boot lines precede `boot-done`.
fn programs_start_after_boot_done(lines: &[SerialLine]) {
    let done = boot_done_at(lines);
    for line in &lines[..done] {
        let text = &line.text;
        if let Ok(r) = qemu::OwnedRecord::parse(text) {
            assert!(
                BOOT_RECORDS.contains(&r.kind.as_str()),
                "'{text}' comes before boot-done"
            );
        }
        assert!(
            !text.contains(" ERROR ") && !text.contains("PANIC"),
            "'{text}' comes before boot-done"
        );
    }
}

fn initrd_bytes() -> Vec<u8> {
    std::fs::read(&image().initrd).expect("the image's initrd")
}

fn program(name: &str) -> std::path::PathBuf {
    image().kernel.with_file_name(name)
}

/// A `newc` archive of `programs` (name, ELF bytes).
fn archive(file: &str, programs: &[(&str, &[u8])]) -> std::path::PathBuf {
    let mut inputs = Vec::new();
    for (name, bytes) in programs {
        inputs.push((*name, scratch_file(&format!("{file}.{name}"), bytes)));
    }
    let out = scratch_file(file, b"");
    tools::image::write_initrd(&inputs, &out).expect("writing the archive");
    out
}

#[test]
fn a_zero_byte_initrd_fails_and_says_so() {
    let empty = scratch_file("empty.cpio", b"");
    let report = boot(&tcg(2, "").initrd(&empty));
    expect_fail(&report);
    let p = problem(&report);
    assert!(
        p.contains("initrd=required, but the machine has no initrd") && p.contains("it is empty"),
        "{p}"
    );
}

#[test]
fn a_truncated_initrd_fails_and_names_the_byte() {
    let bytes = initrd_bytes();
    let cut = bytes.len() / 2;
    let path = scratch_file("truncated.cpio", &bytes[..cut]);
    let (report, lines) = boot_logged(&tcg(4, "").initrd(&path));
    expect_fail(&report);
    let p = problem(&report);
    assert!(
        p.starts_with(&format!(
            "core 0: cannot use the initrd ({cut} bytes): the initrd is truncated at byte {cut}: "
        )),
        "{p}"
    );
    // The boot core's report is whole, and no core started a program.
    programs_start_after_boot_done(&lines);
    assert!(report.records_of("programs").next().is_none());
}

#[test]
fn an_initrd_with_bad_magic_fails() {
    let path = scratch_file(
        "elf-as-initrd.cpio",
        &std::fs::read(program("probe")).unwrap(),
    );
    let report = boot(&tcg(2, "").initrd(&path));
    expect_fail(&report);
    let p = problem(&report);
    assert!(
        p.contains("the initrd has bad magic at byte 0: '\\x7fELF")
            && p.ends_with("is not a newc cpio header (070701 or 070702)"),
        "{p}"
    );
}

#[test]
fn an_initrd_without_the_monitor_fails_before_any_program_starts() {
    let probe = std::fs::read(program("probe")).unwrap();
    let path = archive("no-monitor.cpio", &[("probe", &probe)]);
    let (report, lines) = boot_logged(&tcg(4, "").initrd(&path));
    expect_fail(&report);
    assert_eq!(
        problem(&report),
        "core 0: the initrd holds no program 'monitor' (it holds: probe)"
    );
    programs_start_after_boot_done(&lines);
    assert!(report.records_of("programs").next().is_none());
}

#[test]
fn a_truncated_program_says_truncated() {
    let monitor = std::fs::read(program("monitor")).unwrap();
    let cut = monitor.len() / 2;
    let path = archive("short-monitor.cpio", &[("monitor", &monitor[..cut])]);
    let report = boot(&tcg(2, "").initrd(&path));
    expect_fail(&report);
    let p = problem(&report);
    assert!(
        p.starts_with(&format!(
            "core 0: cannot start 'monitor': truncated: the image is {cut} bytes, but "
        )),
        "{p}"
    );
}

#[test]
fn programs_start_only_after_boot_done() {
    let (report, lines) = boot_logged(&with_monitors(4, ""));
    assert!(report.passed(), "{}", report.failure_report);
    programs_start_after_boot_done(&lines);
    assert_eq!(report.records_of("programs").count(), 4);
}

#[test]
fn a_long_bad_value_is_shown_shortened_and_the_message_ends() {
    // The longest user= boots; one byte more is refused by the kernel.
    let longest = "u".repeat(boot::kernel_cmdline::UserArgs::CAPACITY);
    let report = boot(&tcg(1, &format!("log=info user={longest}")));
    assert!(report.passed(), "{}", report.failure_report);
    let value = format!("{longest}u");
    let report = boot(&tcg(1, &format!("log=info user={value}")));
    expect_fail(&report);
    let p = problem(&report);
    let shown = "u".repeat(boot::text::SHOWN);
    assert_eq!(
        p,
        format!(
            "core 0: boot failed: bad kernel command line 'log=info user={}…' (1039 bytes): \
             option 'user' cannot take '{shown}…' (1025 bytes) (at most 1024 bytes)",
            &shown[..boot::text::SHOWN - "log=info user=".len()]
        )
    ); // A command line longer than the kernel reads is refused by type.
    let long = "x".repeat(boot::pvh::MAX_CMDLINE + 1);
    let report = boot(&tcg(1, &long));
    expect_fail(&report);
    assert_eq!(
        problem(&report),
        "core 0: boot failed: cannot read the PVH start info: command line is longer than \
         2048 bytes"
    );
}

#[test]
fn a_cpu_without_no_execute_pages_is_refused_by_name() {
    let report = boot(&tcg(1, "").cpu("qemu64,-nx"));
    expect_fail(&report);
    assert_eq!(
        problem(&report),
        "core 0: boot failed: the CPU has no no-execute pages (NX, CPUID 0x80000001 EDX bit 20); \
         Flotilla needs an x86_64 CPU with long mode and no-execute pages"
    );
}

#[test]
fn a_cpu_without_long_mode_is_refused_by_name() {
    let report = boot(&tcg(1, "").cpu("qemu64,-lm"));
    expect_fail(&report);
    assert!(
        problem(&report).starts_with(
            "core 0: boot failed: the CPU has no long mode (CPUID 0x80000001 EDX bit 29)"
        ),
        "{:?}",
        report.analysis.problems
    );
}
