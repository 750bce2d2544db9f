//! Shared support for the QEMU integration tests.
//!
//! The image (kernel and initrd) is built once per test binary and shared by
//! every test in it. QEMU runs one at a time: a machine of this kind has two
//! host cores, and a boot with many virtual cores needs both.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use qemu::{Accel, Machine, QemuConfig, SerialLine};
use tools::boot::{BootReport, run};
use tools::image::Image;

/// How long any one boot may take before it is killed.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

/// The boot image, built on first use.
pub fn image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| match tools::image::build() {
        Ok(image) => image,
        Err(err) => panic!("cannot build the image: {err:#}"),
    })
}

/// Serialises QEMU runs within a test binary.
pub fn qemu_slot() -> MutexGuard<'static, ()> {
    static SLOT: Mutex<()> = Mutex::new(());
    SLOT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A kernel-only (no ring-3 programs) microvm, TCG configuration of
/// `cores` cores with `append` on the kernel command line.
pub fn tcg(cores: u32, append: &str) -> QemuConfig {
    QemuConfig::new(&image().kernel)
        .machine(Machine::Microvm)
        .accel(Accel::Tcg)
        .cores(cores)
        .append(append)
        .timeout(BOOT_TIMEOUT)
}

/// The kernel alone under KVM on 2 cores, or `None` (said on stderr, so
/// the test is skipped) where KVM does not work on this host.
pub fn kvm_2_cores() -> Option<QemuConfig> {
    if !qemu::kvm_usable() {
        eprintln!(
            "skipped: /dev/kvm cannot be opened or does not answer KVM_GET_API_VERSION on this host"
        );
        return None;
    }
    Some(
        QemuConfig::new(&image().kernel)
            .accel(Accel::Kvm)
            .cores(2)
            .timeout(BOOT_TIMEOUT),
    )
}

/// Like [`tcg`], with the ring-3 programs: every core runs its monitor.
pub fn with_monitors(cores: u32, append: &str) -> QemuConfig {
    tcg(cores, append).initrd(&image().initrd)
}

/// Boots `config` and returns the report.
pub fn boot(config: &QemuConfig) -> BootReport {
    let _slot = qemu_slot();
    match run(config, None) {
        Ok(report) => report,
        Err(err) => panic!("cannot start QEMU: {err}"),
    }
}

/// Boots `config` and returns the report with the whole serial log, in
/// order, with host timestamps.
pub fn boot_logged(config: &QemuConfig) -> (BootReport, Vec<SerialLine>) {
    let _slot = qemu_slot();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let observer = Box::new(move |line: &SerialLine| {
        sink.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(line.clone());
    });
    let report = match run(config, Some(observer)) {
        Ok(report) => report,
        Err(err) => panic!("cannot start QEMU: {err}"),
    };
    let lines = std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    (report, lines)
}

/// Writes `bytes` to a file named `name` in this test binary's scratch
/// directory and returns its path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flotilla-tests-{}", std::process::id()));
    if let Err(err) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {err}", dir.display());
    }
    let path = dir.join(name);
    if let Err(err) = std::fs::write(&path, bytes) {
        panic!("cannot write {}: {err}", path.display());
    }
    path
}

/// Boots `config` and checks that the boot passed with every core up.
pub fn boot_ok(config: &QemuConfig) -> BootReport {
    let report = boot(config);
    assert!(
        report.passed(),
        "{}\n{}",
        report.verdict(),
        report.failure_report
    );
    assert_eq!(
        report.analysis.cores.len() as u32,
        config.cores,
        "{}",
        report.failure_report
    );
    report
}

/// The `cap-check` records of a run, by core: asserts that every one
/// passed (naming the first that did not, with what it expected and got)
/// and returns each core's check names in order.
pub fn passed_cap_checks(report: &BootReport) -> std::collections::BTreeMap<u32, Vec<String>> {
    passed_checks(report, "cap-check")
}

/// The check records of kind `kind` (`cap-check`, `lmp-check`, ...) of a
/// run, by core, as [`passed_cap_checks`] takes them.
pub fn passed_checks(
    report: &BootReport,
    kind: &str,
) -> std::collections::BTreeMap<u32, Vec<String>> {
    let log = &report.failure_report;
    let mut names: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for c in report.records_of(kind) {
        assert_eq!(
            c.get("pass"),
            Some("1"),
            "core {}: {} expected {} and got {}\n{log}",
            c.core,
            c.get("name").unwrap_or("?"),
            c.get("expected").unwrap_or("?"),
            c.get("got").unwrap_or("?")
        );
        names
            .entry(c.core)
            .or_default()
            .push(c.get("name").unwrap_or("?").to_owned());
    }
    names
}

/// Asserts that `core` passed each check of `want`, given the checks each
/// core passed (`names`, from [`passed_checks`]); `log` goes with a
/// failure.
pub fn assert_checked(
    names: &std::collections::BTreeMap<u32, Vec<String>>,
    core: u32,
    want: &[&str],
    log: &str,
) {
    let got = names.get(&core).map(Vec::as_slice).unwrap_or_default();
    for w in want {
        assert!(
            got.iter().any(|n| n == w),
            "core {core} did not check {w}\n{log}"
        );
    }
}

/// Tests that each boot a configuration and check its report with
/// `check(&report, cores)`: `boot_tests! { check; name: config => cores }`
/// defines `#[test] fn name()`.
#[macro_export]
macro_rules! boot_tests {
    ($check:ident; $($name:ident: $config:expr => $cores:expr),+ $(,)?) => {
        $(#[test]
        fn $name() {
            $check(&$crate::boot_ok(&$config), $cores);
        })+
    };
}
