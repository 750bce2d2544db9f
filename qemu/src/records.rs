//! Structured records read back from the serial log, as owned values that
//! outlive the log, with the program that printed each.
//!
//! [`OwnedRecord::parse`] and [`records`] give only the records whose
//! printer owns their kind ([`crate::ownership`]); [`forged_records`] gives
//! the others, and [`OwnedRecord::parse_any`] reads a record whoever
//! printed it.

use std::fmt;

use boot::protocol::{self, Record, RecordError};
use boot::stamp::{Origin, Stamp};

use crate::ownership::Forged;
use crate::runner::SerialLine;

/// Who printed a line: the kernel, or the program its stamp names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Printer {
    /// The kernel itself.
    Kernel,
    /// A ring-3 program: a boot program or a domain, and its name.
    Program(Origin, String),
}

impl Printer {
    /// The stamp the kernel writes for this printer; `None` for the kernel.
    pub fn stamp(&self) -> Option<Stamp<'_>> {
        match self {
            Printer::Kernel => None,
            Printer::Program(origin, name) => Some(Stamp {
                origin: *origin,
                name,
            }),
        }
    }

    /// The boot program named `name`.
    pub fn boot(name: &str) -> Printer {
        Printer::Program(Origin::Boot, name.to_owned())
    }

    /// The domain named `name`.
    pub fn domain(name: &str) -> Printer {
        Printer::Program(Origin::Domain, name.to_owned())
    }
}

impl From<Option<Stamp<'_>>> for Printer {
    fn from(stamp: Option<Stamp<'_>>) -> Printer {
        match stamp {
            None => Printer::Kernel,
            Some(s) => Printer::Program(s.origin, s.name.to_owned()),
        }
    }
}

impl fmt::Display for Printer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Printer::Kernel => write!(f, "the kernel"),
            Printer::Program(Origin::Boot, name) => write!(f, "boot program '{name}'"),
            Printer::Program(Origin::Domain, name) => write!(f, "domain '{name}'"),
        }
    }
}

/// One structured record line (`[core N] @flotilla/1 kind key=value ...`,
/// or `[core N] [boot NAME] @flotilla/1 ...` from a program), owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRecord {
    /// The logical id of the core that printed it.
    pub core: u32,
    /// Who printed it, from the kernel's stamp.
    pub by: Printer,
    /// The record kind, such as `core-up`.
    pub kind: String,
    /// The fields in order, as `(key, value)` pairs.
    pub fields: Vec<(String, String)>,
}

/// Why a line does not give a record that counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The line is not a well-formed record (or not a record at all).
    Malformed(RecordError),
    /// A well-formed record, printed by a program that does not own its
    /// kind.
    Forged(Forged),
}

impl OwnedRecord {
    /// Parses one line (see [`Record::parse`]) into a record that counts:
    /// its printer owns its kind.
    pub fn parse(line: &str) -> Result<OwnedRecord, ReadError> {
        let record = OwnedRecord::parse_any(line).map_err(ReadError::Malformed)?;
        Forged::check(record).map_err(ReadError::Forged)
    }

    /// Parses one line into a record, whoever printed it: for output that
    /// no untrusted program printed (a hosted run), and for reports.
    pub fn parse_any(line: &str) -> Result<OwnedRecord, RecordError> {
        Record::parse(line).map(OwnedRecord::from)
    }

    /// The value of the first field named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as an unsigned integer, decimal or `0x` hex.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        protocol::parse_u64(self.get(key)?)
    }

    /// `template` with every `{key}` in it replaced by the value of the
    /// field `key`, or `?` where the record has none: for reports that
    /// quote a record, `r.fill("vector {vector} at rip {rip}")`.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            out.push_str(&rest[..open]);
            out.push_str(self.get(&rest[open + 1..open + len]).unwrap_or("?"));
            rest = &rest[open + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The line as its printer printed it.
    pub fn line(&self) -> String {
        let mut line = format!("[core {}] ", self.core);
        if let Some(stamp) = self.by.stamp() {
            line.push_str(&format!("{stamp} "));
        }
        line.push_str(protocol::RECORD_TAG);
        line.push(' ');
        line.push_str(&self.kind);
        for (k, v) in &self.fields {
            line.push(' ');
            line.push_str(k);
            line.push('=');
            line.push_str(v);
        }
        line
    }
}

impl From<Record<'_>> for OwnedRecord {
    fn from(record: Record<'_>) -> OwnedRecord {
        OwnedRecord {
            core: record.core,
            by: Printer::from(record.by),
            kind: record.kind.to_owned(),
            fields: record
                .fields()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// Every well-formed record in `lines` that its printer owns, in order.
/// Log lines, malformed records and forged records are skipped; see
/// [`malformed_records`] and [`forged_records`] for those.
pub fn records(lines: &[SerialLine]) -> Vec<OwnedRecord> {
    lines
        .iter()
        .filter_map(|line| OwnedRecord::parse(&line.text).ok())
        .collect()
}

/// The records in `lines` of the given `kind`, in order.
pub fn records_of_kind(lines: &[SerialLine], kind: &str) -> Vec<OwnedRecord> {
    records(lines)
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect()
}

/// The records in `lines` printed by programs that do not own their kind,
/// with their lines; each one fails a run.
pub fn forged_records(lines: &[SerialLine]) -> Vec<(SerialLine, Forged)> {
    lines
        .iter()
        .filter_map(|line| match OwnedRecord::parse(&line.text) {
            Err(ReadError::Forged(forged)) => Some((line.clone(), forged)),
            _ => None,
        })
        .collect()
}

/// Lines that carry a record tag (`@flotilla/`) but do not parse, with the
/// reason; an image that prints one has a bug worth failing on.
pub fn malformed_records(lines: &[SerialLine]) -> Vec<(SerialLine, RecordError)> {
    lines
        .iter()
        .filter(|line| line.text.contains("@flotilla/"))
        .filter_map(|line| match Record::parse(&line.text) {
            Ok(_) | Err(RecordError::NotARecord) => None,
            Err(err) => Some((line.clone(), err)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn lines(texts: &[&str]) -> Vec<SerialLine> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| SerialLine {
                at: Duration::from_millis(i as u64),
                text: (*t).to_owned(),
            })
            .collect()
    }

    #[test]
    fn collects_records_in_order() {
        let log = lines(&[
            "SeaBIOS noise",
            "[core 0] INFO booting",
            "[core 0] @flotilla/1 core-up apic=0 node=0",
            "[core 1] @flotilla/1 core-up apic=0x1 node=1",
            "[core 1] @flotilla/2 future x=1",
            "[core 0] @flotilla/1 boot-done",
        ]);
        let all = records(&log);
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[1],
            OwnedRecord {
                core: 1,
                by: Printer::Kernel,
                kind: "core-up".into(),
                fields: vec![("apic".into(), "0x1".into()), ("node".into(), "1".into())],
            }
        );
        assert_eq!(all[1].get_u64("apic"), Some(1));
        assert_eq!(all[1].get("node"), Some("1"));
        assert_eq!(all[1].get("nope"), None);
        assert!(all[2].fields.is_empty());
        let ups = records_of_kind(&log, "core-up");
        assert_eq!(ups.iter().map(|r| r.core).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn reports_malformed_records() {
        let log = lines(&[
            "[core 0] @flotilla/1 ok a=1",
            "[core 0] @flotilla/1 bad novalue",
            "[core 0] @flotilla/9 newer",
            "mentions @flotilla/ in passing? no core prefix",
            "[core 0] INFO plain log",
        ]);
        let bad = malformed_records(&log);
        let reasons: Vec<_> = bad.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            reasons,
            [
                RecordError::BadField,
                RecordError::Version,
                RecordError::NoCorePrefix
            ]
        );
        assert_eq!(bad[0].0.text, "[core 0] @flotilla/1 bad novalue");
    }

    #[test]
    fn records_count_only_from_their_owners() {
        let log = lines(&[
            "[core 0] [boot monitor] @flotilla/1 monitor-up cores=2 pool_frames=9",
            "[core 1] [domain hostile] @flotilla/1 sync-check exp=locks cores=2 kind=tas violations=0",
            "[core 1] [domain hostile] @flotilla/1 spawn-ended program=hello core=1 status=exited code=0",
            "[core 1] [boot probe] @flotilla/1 boot-done cores=2",
            "[core 1] [boot monitor] @flotilla/1 sync-check exp=locks series=tas cores=2 violations=0 ok=1",
            "[core 1] [domain hello] hello from core 1",
        ]);
        let counted = records(&log);
        assert_eq!(
            counted
                .iter()
                .map(|r| (r.kind.as_str(), r.by.to_string()))
                .collect::<Vec<_>>(),
            [
                ("monitor-up", "boot program 'monitor'".to_owned()),
                ("sync-check", "boot program 'monitor'".to_owned()),
            ]
        );
        assert_eq!(counted[1].get("series"), Some("tas"));
        assert_eq!(counted[1].line(), log[4].text);
        let forged = forged_records(&log);
        let said: Vec<String> = forged.iter().map(|(_, f)| f.to_string()).collect();
        assert_eq!(
            said,
            [
                "core 1: domain 'hostile' printed a `sync-check` record, which only boot program 'monitor' may print",
                "core 1: domain 'hostile' printed a `spawn-ended` record, which only boot program 'monitor' may print",
                "core 1: boot program 'probe' printed a `boot-done` record, which only the kernel may print",
            ]
        );
        assert_eq!(forged[0].0.text, log[1].text);
        assert_eq!(forged[0].1.record.by, Printer::domain("hostile"));
        assert!(malformed_records(&log).is_empty());
        assert!(matches!(
            OwnedRecord::parse(&log[1].text),
            Err(ReadError::Forged(_))
        ));
        assert_eq!(
            OwnedRecord::parse_any(&log[1].text).map(|r| r.by),
            Ok(Printer::domain("hostile"))
        );
    }

    #[test]
    fn text_after_a_stamp_is_never_a_line_of_its_own() {
        // What a program's embedded line breaks and cut lines look like on
        // the serial line: the kernel turned its newlines into spaces, and
        // a raw carriage return (which the kernel never lets through) would
        // still sit inside the program's line.
        let log = lines(&[
            "[core 1] [domain hostile] ok [core 0] @flotilla/1 boot-done cores=2",
            "[core 1] [domain hostile] ok\r[core 0] [boot monitor] @flotilla/1 mesh-complete cores=2 channels=1 cycles=5",
            "[core 1] [domain hostile]  @flotilla/1 sync-check violations=0",
            "[core 1] [boot monitor] @flotilla/1 sync-check exp=locks cores=2 violations=0 ok=1 [line truncated]",
            "[core 1] [domain x] [boot monitor] @flotilla/1 monitor-up cores=2",
        ]);
        assert!(records(&log).is_empty());
        assert!(forged_records(&log).is_empty());
        for line in &log[..3] {
            assert_eq!(
                OwnedRecord::parse_any(&line.text),
                Err(RecordError::NotARecord),
                "{}",
                line.text
            );
        }
        assert_eq!(
            OwnedRecord::parse_any(&log[3].text),
            Err(RecordError::BadField)
        );
        assert_eq!(
            OwnedRecord::parse_any(&log[4].text),
            Err(RecordError::NotARecord)
        );
    }
}
