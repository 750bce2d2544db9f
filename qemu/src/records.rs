//! Structured records read back from the serial log, as owned values that
//! outlive the log.

use boot::protocol::{self, Record, RecordError};

use crate::runner::SerialLine;

/// One structured record line (`[core N] @flotilla/1 kind key=value ...`),
/// owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRecord {
    /// The logical id of the core that printed it.
    pub core: u32,
    /// The record kind, such as `core-up`.
    pub kind: String,
    /// The fields in order, as `(key, value)` pairs.
    pub fields: Vec<(String, String)>,
}

impl OwnedRecord {
    /// Parses one line; see [`Record::parse`].
    pub fn parse(line: &str) -> Result<OwnedRecord, RecordError> {
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
}

impl From<Record<'_>> for OwnedRecord {
    fn from(record: Record<'_>) -> OwnedRecord {
        OwnedRecord {
            core: record.core,
            kind: record.kind.to_owned(),
            fields: record
                .fields()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

/// Every well-formed record in `lines`, in order. Log lines and malformed
/// records are skipped; see [`malformed_records`] for the latter.
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
            "[core 0] @flotilla/1 done",
        ]);
        let all = records(&log);
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[1],
            OwnedRecord {
                core: 1,
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
}
