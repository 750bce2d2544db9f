//! Finding the QEMU binary and asking its version.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The QEMU program run when nothing overrides it.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";

/// The environment variable that overrides the QEMU binary.
pub const QEMU_ENV: &str = "FLOTILLA_QEMU";

/// The command that installs QEMU on Debian and Ubuntu.
pub const INSTALL_COMMAND: &str = "sudo apt-get install -y qemu-system-x86";

/// The QEMU binary could not be found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "qemu-system-x86_64 was not found: {looked}. Install it with `{INSTALL_COMMAND}` (on \
     Debian/Ubuntu), or set {QEMU_ENV} to the path of a QEMU binary"
)]
pub struct QemuNotFound {
    /// Where it was looked for, as a phrase.
    pub looked: String,
}

/// Finds the QEMU binary on this host: `configured` if given, else
/// `$FLOTILLA_QEMU`, else [`DEFAULT_QEMU`] on `PATH`.
pub fn find_qemu(configured: Option<&Path>) -> Result<PathBuf, QemuNotFound> {
    resolve_qemu(
        configured,
        std::env::var_os(QEMU_ENV),
        std::env::var_os("PATH"),
    )
}

/// The lookup behind [`find_qemu`], with the environment passed in.
///
/// A name containing `/` must be an executable file; a bare name is searched
/// for in `path` (a `PATH`-style list). An empty `env` value counts as unset.
pub fn resolve_qemu(
    configured: Option<&Path>,
    env: Option<OsString>,
    path: Option<OsString>,
) -> Result<PathBuf, QemuNotFound> {
    let env = env.filter(|v| !v.is_empty());
    let (wanted, origin) = match (configured, &env) {
        (Some(c), _) => (c.to_path_buf(), "as configured"),
        (None, Some(e)) => (PathBuf::from(e), "from FLOTILLA_QEMU"),
        (None, None) => (PathBuf::from(DEFAULT_QEMU), "the default"),
    };
    if wanted.as_os_str().as_encoded_bytes().contains(&b'/') {
        return if is_executable(&wanted) {
            Ok(wanted)
        } else {
            Err(QemuNotFound {
                looked: format!(
                    "`{}` ({origin}) is not an executable file",
                    wanted.display()
                ),
            })
        };
    }
    let dirs = path.unwrap_or_default();
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(&wanted))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| QemuNotFound {
            looked: format!(
                "no `{}` ({origin}) in any directory on PATH",
                wanted.display()
            ),
        })
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Why the QEMU version could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The binary could not be run.
    #[error("could not run `{binary} --version`: {source}")]
    Run {
        /// The binary.
        binary: String,
        /// The error.
        source: std::io::Error,
    },
    /// The output has no version number.
    #[error("`{binary} --version` printed no version number: {output:?}")]
    Unparsable {
        /// The binary.
        binary: String,
        /// What it printed.
        output: String,
    },
}

/// The version of the QEMU at `binary`, such as `7.2.22`, from
/// `qemu-system-x86_64 --version`.
pub fn qemu_version(binary: &Path) -> Result<String, VersionError> {
    let name = binary.display().to_string();
    let output = Command::new(OsStr::new(binary))
        .arg("--version")
        .output()
        .map_err(|source| VersionError::Run {
            binary: name.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_qemu_version(&text).ok_or_else(|| VersionError::Unparsable {
        binary: name,
        output: text.into_owned(),
    })
}

/// Reads the version number out of `qemu-system-x86_64 --version` output:
/// the dotted number after the word `version`.
pub fn parse_qemu_version(output: &str) -> Option<String> {
    let mut words = output.split_whitespace();
    words.find(|w| *w == "version")?;
    let number = words.next()?;
    let looks_like_version = number.contains('.')
        && number.split('.').all(|p| !p.is_empty())
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    looks_like_version.then(|| number.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_executable(path: &Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_qemu_version(
                "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b2)\n\
                 Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n"
            )
            .as_deref(),
            Some("7.2.22")
        );
        assert_eq!(
            parse_qemu_version("QEMU emulator version 9.0.0\n").as_deref(),
            Some("9.0.0")
        );
        assert_eq!(parse_qemu_version("no version here"), None);
        assert_eq!(parse_qemu_version("version unknown"), None);
        assert_eq!(parse_qemu_version(""), None);
    }

    #[test]
    fn searches_path_and_honours_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let qemu = bin.join(DEFAULT_QEMU);
        let path = Some(OsString::from(format!("/nonexistent:{}", bin.display())));

        let err = resolve_qemu(None, None, path.clone()).unwrap_err();
        assert!(err.to_string().contains("on PATH"), "{err}");

        std::fs::write(&qemu, "").unwrap();
        assert!(
            resolve_qemu(None, None, path.clone()).is_err(),
            "a file without execute permission is not QEMU"
        );
        make_executable(&qemu);
        assert_eq!(resolve_qemu(None, None, path.clone()), Ok(qemu.clone()));
        assert_eq!(
            resolve_qemu(None, Some(OsString::new()), path.clone()),
            Ok(qemu.clone()),
            "an empty FLOTILLA_QEMU is ignored"
        );

        let other = dir.path().join("my-qemu");
        make_executable(&other);
        let env = Some(other.clone().into_os_string());
        assert_eq!(resolve_qemu(None, env.clone(), None), Ok(other.clone()));
        assert_eq!(
            resolve_qemu(Some(&qemu), env, None),
            Ok(qemu.clone()),
            "the configuration wins over the environment"
        );

        let missing = dir.path().join("missing");
        let err = resolve_qemu(None, Some(missing.into_os_string()), path).unwrap_err();
        assert!(err.to_string().contains("from FLOTILLA_QEMU"), "{err}");
    }

    #[test]
    fn not_found_message_says_how_to_install() {
        let err = resolve_qemu(None, None, Some(OsString::from("/nonexistent"))).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("qemu-system-x86_64 was not found"),
            "{text}"
        );
        assert!(
            text.contains("sudo apt-get install -y qemu-system-x86"),
            "{text}"
        );
        assert!(text.contains("Debian/Ubuntu"), "{text}");
    }

    #[test]
    fn version_of_a_fake_binary() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake-qemu");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'QEMU emulator version 7.2.22 (Debian)'\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(qemu_version(&fake).unwrap(), "7.2.22");
        assert!(matches!(
            qemu_version(&dir.path().join("missing")),
            Err(VersionError::Run { .. })
        ));
    }
}
