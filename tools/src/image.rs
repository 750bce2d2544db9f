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

/// The arguments of the kernel build, for messages.
pub fn build_command_line() -> String {
    format!("cargo build --release -p {KERNEL_PACKAGE} --target {KERNEL_TARGET}")
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

/// Builds the kernel (release profile) and returns the path of the ELF.
///
/// Cargo's progress and diagnostics go to this process's stderr. Flags that
/// the environment sets for host builds (`RUSTFLAGS`) are not passed on: the
/// kernel's code generation flags come from `.cargo/config.toml`.
pub fn build_kernel() -> Result<PathBuf> {
    ensure_target()?;
    let mut child = Command::new(cargo())
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "-p",
            KERNEL_PACKAGE,
            "--target",
            KERNEL_TARGET,
        ])
        .arg("--message-format=json-render-diagnostics")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run `{}`", build_command_line()))?;
    let stdout = child.stdout.take().context("cargo's stdout is not piped")?;
    let mut executable = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(path) = kernel_executable(&line) {
            executable = Some(path);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("`{}` failed ({status})", build_command_line());
    }
    executable.with_context(|| format!("`{}` reported no kernel executable", build_command_line()))
}

/// The kernel's path, if `line` is Cargo's artifact message for it.
fn kernel_executable(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    if message.pointer("/target/name")?.as_str()? != KERNEL_PACKAGE {
        return None;
    }
    Some(PathBuf::from(message.get("executable")?.as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_kernel_artifact_message() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"cpudriver","kind":["bin"]},"executable":"/t/cpudriver"}"#;
        assert_eq!(kernel_executable(line), Some(PathBuf::from("/t/cpudriver")));
        let other = r#"{"reason":"compiler-artifact","target":{"name":"log"},"executable":null}"#;
        assert_eq!(kernel_executable(other), None);
        assert_eq!(
            kernel_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(kernel_executable("not json"), None);
    }

    #[test]
    fn workspace_root_holds_the_kernel_crate() {
        assert!(workspace_root().join("cpudriver/Cargo.toml").is_file());
    }
}
