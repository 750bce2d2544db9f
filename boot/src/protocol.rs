//! The contract between a Flotilla image and the host that runs it.
//!
//! A run is judged by two things only: the structured lines the image prints
//! on its serial line, and the exit status QEMU returns.
//!
//! # Exit status
//!
//! The image ends a run by writing an [`ExitCode`] to the `isa-debug-exit`
//! device at [`ISA_DEBUG_EXIT_PORT`]. QEMU turns a guest write of `v` into the
//! process exit status `(v << 1) | 1`, so every code the image can produce is
//! odd and at least 3. QEMU itself exits 0 on a normal shutdown *and* on a
//! triple fault when started with `-no-reboot`, and 1 on its own errors, so
//! only [`ExitCode::Pass`]'s status means that the run passed.
//!
//! # Serial lines
//!
//! Every line the kernel prints starts with `[core N] `, where `N` is the
//! printing core's logical id. Human-oriented log lines follow with a level.
//! Machine-readable **records** follow with [`RECORD_TAG`], a record kind and
//! `key=value` fields separated by single spaces:
//!
//! ```text
//! [core 2] @flotilla/1 core-up apic=2 node=0 features=x2apic,invtsc
//! ```
//!
//! Keys are `[a-z0-9_-]+`; values contain no spaces. The `/1` in the tag is the
//! format version: a change that alters the meaning of an existing record
//! kind or field bumps it. [`Record::parse`] reads such a line back.
//!
//! A line printed by a ring-3 program carries the kernel's stamp after the
//! core prefix ([`crate::stamp`]), and its record says who printed it:
//!
//! ```text
//! [core 2] [boot monitor] @flotilla/1 monitor-up cores=4 pool_frames=1044
//! ```

use strum::IntoEnumIterator;

use crate::stamp::{Stamp, split_stamp};

/// I/O port of QEMU's `isa-debug-exit` device as the host configures it
/// (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const ISA_DEBUG_EXIT_PORT: u16 = 0xf4;

/// The tag that marks a structured record line, including its format version.
pub const RECORD_TAG: &str = "@flotilla/1";

/// How a run ended, as written by the image to `isa-debug-exit`.
///
/// The host decodes QEMU's exit status with [`ExitCode::from_qemu_status`].
/// Its name in reports ([`ExitCode::name`]) is the variant's in lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
#[repr(u8)]
pub enum ExitCode {
    /// Every check the run was asked to make passed.
    Pass = 0x10,
    /// A check failed, or the configuration was refused; the serial log says
    /// which and why.
    Fail = 0x11,
    /// A core panicked; the serial log holds the panic message and the core.
    Panic = 0x12,
    /// A core took an unexpected CPU exception; the serial log holds the core,
    /// vector, error code, RIP and CR2.
    Fault = 0x13,
}

impl ExitCode {
    /// The value the guest writes to the exit port.
    pub const fn guest_value(self) -> u8 {
        self as u8
    }

    /// The process exit status QEMU reports for this code.
    pub const fn qemu_status(self) -> i32 {
        ((self as i32) << 1) | 1
    }

    /// Decodes a QEMU process exit status; `None` when the status was not
    /// produced by the image (for example 0 after a triple fault, or 1 after a
    /// QEMU error).
    pub fn from_qemu_status(status: i32) -> Option<ExitCode> {
        ExitCode::iter().find(|code| code.qemu_status() == status)
    }

    /// A lower-case name for reports.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// A structured record read back from one serial line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The logical id of the core that printed the line.
    pub core: u32,
    /// The program that printed it, from the kernel's stamp; `None` for a
    /// record the kernel printed itself.
    pub by: Option<Stamp<'a>>,
    /// The record kind, such as `core-up`.
    pub kind: &'a str,
    fields: &'a str,
}

/// Why a line is not a well-formed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The line does not start with `[core N] ` (and a well-formed stamp,
    /// if it has one).
    NoCorePrefix,
    /// The line has a core prefix but no [`RECORD_TAG`]; it is a log line.
    NotARecord,
    /// The tag names another version of the format.
    Version,
    /// The record has no kind.
    NoKind,
    /// A field is not `key=value` with a non-empty, well-formed key.
    BadField,
}

impl<'a> Record<'a> {
    /// Parses one serial line (without its line terminator).
    pub fn parse(line: &'a str) -> Result<Record<'a>, RecordError> {
        let (core, by, rest) = split_line(line).ok_or(RecordError::NoCorePrefix)?;
        let rest = match rest.strip_prefix(RECORD_TAG) {
            Some(after) if after.is_empty() || after.starts_with(' ') => after.trim_start(),
            Some(_) => return Err(RecordError::Version),
            None if rest.starts_with("@flotilla/") => return Err(RecordError::Version),
            None => return Err(RecordError::NotARecord),
        };
        let (kind, fields) = rest.split_once(' ').unwrap_or((rest, ""));
        if kind.is_empty() {
            return Err(RecordError::NoKind);
        }
        let record = Record {
            core,
            by,
            kind,
            fields,
        };
        for field in record.raw_fields() {
            let (key, _) = field.split_once('=').ok_or(RecordError::BadField)?;
            if !valid_key(key) {
                return Err(RecordError::BadField);
            }
        }
        Ok(record)
    }

    fn raw_fields(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.split(' ').filter(|f| !f.is_empty())
    }

    /// The record's fields in order, as `(key, value)` pairs.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.raw_fields().filter_map(|f| f.split_once('='))
    }

    /// The value of the first field named `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.fields().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of `key` parsed as an unsigned integer, decimal or `0x` hex.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        parse_u64(self.get(key)?)
    }
}

/// Splits `[core N] rest` into `(N, rest)`.
pub fn split_core_prefix(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix("[core ")?;
    let (num, rest) = rest.split_once("] ")?;
    let core = num.parse().ok()?;
    Some((core, rest))
}

/// Splits a serial line into its core, the program that printed it (`None`
/// for the kernel) and its text: `[core N] [boot NAME] text` into
/// `(N, Some(stamp), text)`, `[core N] text` into `(N, None, text)`.
pub fn split_line(line: &str) -> Option<(u32, Option<Stamp<'_>>, &str)> {
    let (core, rest) = split_core_prefix(line)?;
    if rest.starts_with('[') {
        // Only the kernel writes a `[` here, and only as a stamp.
        let (stamp, text) = split_stamp(rest)?;
        return Some((core, Some(stamp), text));
    }
    Some((core, None, rest))
}

/// Parses a decimal or `0x`-prefixed hexadecimal unsigned integer.
pub fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_is_listed_once_and_keeps_its_name() {
        assert!(
            ExitCode::iter()
                .map(ExitCode::name)
                .eq(["pass", "fail", "panic", "fault"])
        );
    }

    #[test]
    fn exit_codes_round_trip_and_never_collide_with_qemu_statuses() {
        for code in ExitCode::iter() {
            let status = code.qemu_status();
            assert_eq!(ExitCode::from_qemu_status(status), Some(code));
            assert!(status > 1 && status % 2 == 1, "{code:?} -> {status}");
        }
        assert_eq!(ExitCode::Pass.qemu_status(), 33);
        assert_eq!(
            ExitCode::from_qemu_status(0),
            None,
            "triple fault is not a pass"
        );
        assert_eq!(ExitCode::from_qemu_status(1), None);
    }

    #[test]
    fn parses_a_record() {
        let r =
            Record::parse("[core 12] @flotilla/1 core-up apic=0x0c node=1 features=a,b").unwrap();
        assert_eq!(r.core, 12);
        assert_eq!(r.kind, "core-up");
        assert_eq!(r.get("node"), Some("1"));
        assert_eq!(r.get_u64("apic"), Some(12));
        assert_eq!(r.get("missing"), None);
        assert_eq!(r.fields().count(), 3);
    }

    #[test]
    fn records_say_who_printed_them() {
        use crate::stamp::Origin;
        let r = Record::parse("[core 1] @flotilla/1 program-exit program=hello code=0").unwrap();
        assert_eq!(r.by, None);
        let r = Record::parse("[core 2] [boot monitor] @flotilla/1 monitor-up cores=2").unwrap();
        assert_eq!(r.core, 2);
        assert_eq!(
            r.by,
            Some(Stamp {
                origin: Origin::Boot,
                name: "monitor"
            })
        );
        assert_eq!((r.kind, r.get("cores")), ("monitor-up", Some("2")));
        let r = Record::parse("[core 3] [domain hello] @flotilla/1 hello x=1").unwrap();
        assert_eq!(
            r.by.map(|s| (s.origin, s.name)),
            Some((Origin::Domain, "hello"))
        );
        assert_eq!(
            Record::parse("[core 3] [domain hello] hi"),
            Err(RecordError::NotARecord)
        );
        // A program's text after a stamp is never a second stamp or prefix.
        let r = Record::parse("[core 3] [domain x] [boot monitor] @flotilla/1 a");
        assert_eq!(r, Err(RecordError::NotARecord));
        let r = Record::parse("[core 3] [domain x] [core 0] @flotilla/1 boot-done");
        assert_eq!(r, Err(RecordError::NotARecord));
        assert_eq!(
            Record::parse("[core 3] [nobody x] @flotilla/1 a"),
            Err(RecordError::NoCorePrefix)
        );
        assert_eq!(
            split_line("[core 4] [boot fuzz] text"),
            Some((
                4,
                Some(Stamp {
                    origin: Origin::Boot,
                    name: "fuzz"
                }),
                "text"
            ))
        );
        assert_eq!(split_line("[core 4] INFO x"), Some((4, None, "INFO x")));
    }

    #[test]
    fn record_without_fields() {
        let r = Record::parse("[core 0] @flotilla/1 done").unwrap();
        assert_eq!(r.kind, "done");
        assert_eq!(r.fields().count(), 0);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(Record::parse("hello"), Err(RecordError::NoCorePrefix));
        assert_eq!(
            Record::parse("[core x] @flotilla/1 a"),
            Err(RecordError::NoCorePrefix)
        );
        assert_eq!(
            Record::parse("[core 1] INFO up"),
            Err(RecordError::NotARecord)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/2 up"),
            Err(RecordError::Version)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/10 up"),
            Err(RecordError::Version)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/1 "),
            Err(RecordError::NoKind)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/1 up novalue"),
            Err(RecordError::BadField)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/1 up =1"),
            Err(RecordError::BadField)
        );
        assert_eq!(
            Record::parse("[core 1] @flotilla/1 up Key=1"),
            Err(RecordError::BadField)
        );
    }
}
