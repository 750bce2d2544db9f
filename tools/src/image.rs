//! Building the boot image.
//!
//! The CPU driver is an ordinary workspace member built for the bare-metal
//! target by a nested `cargo build`; its path is read from Cargo's JSON
//! messages, so it is right whatever the target directory is.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The target the kernel is built for.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// The kernel's package.
pub const KERNEL_PACKAGE: &str = "cpudriver";

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ lives inside the workspace")
        .to_path_buf()
}

/// The Cargo binary: the one running us when run through Cargo.
fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The image build, for messages.
pub fn build_command_line() -> String {
    format!(
        "cargo build --release -p {KERNEL_PACKAGE} -p {MONITOR_PACKAGE} -p {PROGRAMS_PACKAGE} --target {KERNEL_TARGET}"
    )
}

/// Whether the active toolchain (the one `rust-toolchain.toml` pins) has
/// the standard library for the kernel's target.
fn target_installed() -> Result<bool> {
    let out = Command::new("rustc")
        .current_dir(workspace_root())
        .args(["--print", "sysroot"])
        .output()
        .context("cannot run `rustc --print sysroot`")?;
    if !out.status.success() {
        bail!(
            "`rustc --print sysroot` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(sysroot.join("lib/rustlib").join(KERNEL_TARGET).is_dir())
}

/// Installs the kernel's target with rustup when the toolchain lacks it.
///
/// rustup installs a toolchain's listed targets only when it installs the
/// toolchain itself, so a machine that already had the pinned toolchain may
/// lack the bare-metal target.
pub fn ensure_target() -> Result<()> {
    if target_installed()? {
        return Ok(());
    }
    eprintln!("installing the {KERNEL_TARGET} target: rustup target add {KERNEL_TARGET}");
    let status = Command::new("rustup")
        .current_dir(workspace_root())
        .args(["target", "add", KERNEL_TARGET])
        .status()
        .with_context(|| {
            format!("the {KERNEL_TARGET} target is missing and rustup cannot be run; install it with `rustup target add {KERNEL_TARGET}`")
        })?;
    if !status.success() || !target_installed()? {
        bail!("`rustup target add {KERNEL_TARGET}` failed ({status})");
    }
    Ok(())
}

/// The boot image: the kernel and the initrd archive of ring-3 programs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The kernel ELF.
    pub kernel: PathBuf,
    /// The `newc` cpio archive of the ring-3 programs.
    pub initrd: PathBuf,
}

/// The ring-3 programs packed into the initrd: the monitor (the only binary
/// of [`MONITOR_PACKAGE`]) and every binary of [`PROGRAMS_PACKAGE`].
pub const PROGRAMS: [&str; 16] = [
    "monitor", "probe", "captest", "fuzz", "hello", "disptest", "spin", "forever", "lmptest",
    "pingpong", "grow", "readonly", "uthreads", "badpager", "upcalls", "hostile",
];
/// The package of the monitor.
pub const MONITOR_PACKAGE: &str = "monitor";
/// The package of the test programs.
pub const PROGRAMS_PACKAGE: &str = "programs";

/// Builds the kernel and the ring-3 programs (release profile) for the
/// bare-metal target and packs the programs into the initrd.
pub fn build() -> Result<Image> {
    let artifacts = cargo_build(&[KERNEL_PACKAGE, MONITOR_PACKAGE, PROGRAMS_PACKAGE])?;
    let find = |name: &str| {
        artifacts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .with_context(|| format!("`{}` reported no `{name}` executable", build_command_line()))
    };
    let kernel = find(KERNEL_PACKAGE)?;
    let mut programs = Vec::new();
    for name in PROGRAMS {
        programs.push((name, find(name)?));
    }
    let initrd = kernel.with_file_name("initrd.cpio");
    write_initrd(&programs, &initrd)?;
    check_initrd_size(&initrd)?;
    Ok(Image { kernel, initrd })
}

/// Builds the kernel only and returns the path of its ELF.
pub fn build_kernel() -> Result<PathBuf> {
    let artifacts = cargo_build(&[KERNEL_PACKAGE])?;
    artifacts
        .into_iter()
        .find(|(n, _)| n == KERNEL_PACKAGE)
        .map(|(_, p)| p)
        .with_context(|| format!("`{}` reported no kernel executable", build_command_line()))
}

/// Refuses an archive larger than a monitor's loader maps
/// (`abi::layout::MAX_INITRD`): its programs could not be spawned.
fn check_initrd_size(initrd: &Path) -> Result<()> {
    let len = std::fs::metadata(initrd)
        .with_context(|| format!("reading {}", initrd.display()))?
        .len();
    if len > abi::layout::MAX_INITRD {
        anyhow::bail!(
            "the boot-module archive {} is {} MiB, more than the {} MiB a monitor maps \
             (are the programs built with their debug information?)",
            initrd.display(),
            len >> 20,
            abi::layout::MAX_INITRD >> 20
        );
    }
    Ok(())
}

/// Packs `programs` (name, ELF path) into a `newc` cpio archive at `out`,
/// replacing it atomically.
pub fn write_initrd(programs: &[(&str, PathBuf)], out: &Path) -> Result<()> {
    let mut inputs = Vec::new();
    for (name, path) in programs {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let header = cpio::newc::Builder::new(name).mode(0o100_755).nlink(1);
        inputs.push((header, std::io::Cursor::new(bytes)));
    }
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    cpio::write_cpio(inputs.into_iter(), std::io::BufWriter::new(file))
        .and_then(|mut w| std::io::Write::flush(&mut w))
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("renaming to {}", out.display()))?;
    Ok(())
}

/// Runs `cargo build --release` of `packages` for the bare-metal target and
/// returns (target name, executable) for every binary built.
fn cargo_build(packages: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    ensure_target()?;
    let mut command = Command::new(cargo());
    command
        .current_dir(workspace_root())
        .args(["build", "--release", "--target", KERNEL_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for p in packages {
        command.args(["-p", p]);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{}`", build_command_line()))?;
    let stdout = child.stdout.take().context("cargo's stdout is not piped")?;
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(artifact) = executable(&line) {
            artifacts.push(artifact);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("`{}` failed ({status})", build_command_line());
    }
    Ok(artifacts)
}

/// The (target name, executable) of a Cargo artifact message.
fn executable(line: &str) -> Option<(String, PathBuf)> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let name = message.pointer("/target/name")?.as_str()?.to_owned();
    Some((name, PathBuf::from(message.get("executable")?.as_str()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_executables_from_artifact_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"cpudriver","kind":["bin"]},"executable":"/t/cpudriver"}"#;
        assert_eq!(
            executable(line),
            Some(("cpudriver".to_owned(), PathBuf::from("/t/cpudriver")))
        );
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"log"},"executable":null}"#;
        assert_eq!(executable(lib), None);
        assert_eq!(
            executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(executable("not json"), None);
    }

    #[test]
    fn initrd_is_a_newc_archive_of_the_programs() {
        let dir = std::env::temp_dir().join(format!("flotilla-initrd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a");
        std::fs::write(&a, b"hello").unwrap();
        let b = dir.join("b");
        std::fs::write(&b, vec![7u8; 5000]).unwrap();
        let out = dir.join("initrd.cpio");
        write_initrd(&[("monitor", a), ("probe", b)], &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let files: Vec<(String, Vec<u8>)> = cpio_reader::iter_files(&bytes)
            .map(|e| (e.name().to_owned(), e.file().to_vec()))
            .collect();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0], ("monitor".to_owned(), b"hello".to_vec()));
        assert_eq!(files[1].0, "probe");
        assert_eq!(files[1].1.len(), 5000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn workspace_root_holds_the_kernel_crate() {
        assert!(workspace_root().join("cpudriver/Cargo.toml").is_file());
    }

    /// The names of the `[[bin]]` targets of `package`'s manifest.
    fn bin_names(package: &str) -> Vec<String> {
        let path = workspace_root().join(package).join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        text.split("[[bin]]")
            .skip(1)
            .filter_map(|bin| {
                let line = bin.lines().find(|l| l.starts_with("name = "))?;
                Some(line["name = ".len()..].trim_matches('"').to_owned())
            })
            .collect()
    }

    #[test]
    fn the_initrd_holds_every_binary_of_the_two_program_packages() {
        assert_eq!(bin_names(MONITOR_PACKAGE), ["monitor"]);
        let mut built = bin_names(MONITOR_PACKAGE);
        built.extend(bin_names(PROGRAMS_PACKAGE));
        built.sort();
        let mut packed = PROGRAMS.map(str::to_owned).to_vec();
        packed.sort();
        assert_eq!(built, packed);
    }
}
