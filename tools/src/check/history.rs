//! The recorded history: `history.csv` as experiment E7 writes it, parsed
//! into [`Op`]s, with typed errors that name the line and the field.
//!
//! ```text
//! core,op,key,value,invoke,response
//! 0,write,7,1,100,180
//! 1,read,7,1,150,210
//! ```
//!
//! One row per completed operation: `core` is a `u32`, `op` is `read` or
//! `write`, `key` and `value` are `u64` (a read's `value` is what it
//! returned, a write's what it wrote), `invoke` and `response` are TSC
//! cycles with `invoke <= response`. Every key starts at value 0. Blank
//! lines are skipped, a trailing `\r` is dropped and spaces around a field
//! are ignored; anything else is an error. A core is one sequential client:
//! two of its operations may not overlap (an error naming both lines), but
//! may touch (one's response is the next one's invocation, as two reads of
//! a coarse TSC can be), and are then in program order: by invocation, then
//! by line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The header line, exactly.
pub const HEADER: &str = "core,op,key,value,invoke,response";

/// The columns, in order.
const COLUMNS: [&str; 6] = ["core", "op", "key", "value", "invoke", "response"];

/// What an operation does to its key, named in the file by the variant in
/// lower case.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// Returned the key's value.
    Read,
    /// Set the key's value.
    Write,
}

impl Kind {
    /// The name used in the file.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One completed operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The core (client) that issued it.
    pub core: u32,
    /// Read or write.
    pub kind: Kind,
    /// The key.
    pub key: u64,
    /// The value read or written.
    pub value: u64,
    /// TSC at invocation.
    pub invoke: u64,
    /// TSC at response.
    pub response: u64,
    /// The line of the file it came from (1-based; 0 if made in memory).
    pub line: usize,
}

impl Op {
    /// A read of `key` that returned `value` over `[invoke, response]`.
    pub fn read(core: u32, key: u64, value: u64, invoke: u64, response: u64) -> Op {
        Op {
            core,
            kind: Kind::Read,
            key,
            value,
            invoke,
            response,
            line: 0,
        }
    }

    /// A write of `value` to `key` over `[invoke, response]`.
    pub fn write(core: u32, key: u64, value: u64, invoke: u64, response: u64) -> Op {
        Op {
            kind: Kind::Write,
            ..Op::read(core, key, value, invoke, response)
        }
    }

    /// The row as it appears in `history.csv`.
    pub fn row(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.core,
            self.kind.name(),
            self.key,
            self.value,
            self.invoke,
            self.response
        )
    }
}

/// A whole history, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// The operations.
    pub ops: Vec<Op>,
}

/// Why a history or meta file could not be read.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// The file could not be read (the cause follows in the error's chain).
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not UTF-8.
    #[error("line {line}: not UTF-8 text")]
    NotUtf8 {
        /// The line (1-based).
        line: usize,
    },
    /// No header line.
    #[error("empty history: expected the header line `{HEADER}`")]
    Empty,
    /// The first line is not the header.
    #[error("line 1: expected the header `{HEADER}`, found `{found}`")]
    Header {
        /// What the first line holds.
        found: String,
    },
    /// A row has the wrong number of fields.
    #[error("line {line}: expected 6 fields ({HEADER}), found {found}")]
    Fields {
        /// The line (1-based).
        line: usize,
        /// How many it has.
        found: usize,
    },
    /// A field does not parse.
    #[error("line {line}, field `{field}`: expected {expected}, found `{found}`")]
    Field {
        /// The line (1-based).
        line: usize,
        /// The column's name.
        field: &'static str,
        /// What the field should hold.
        expected: &'static str,
        /// What it holds.
        found: String,
    },
    /// `invoke > response`.
    #[error("line {line}, field `response`: response {response} is before invoke {invoke}")]
    Interval {
        /// The line (1-based).
        line: usize,
        /// The invocation time.
        invoke: u64,
        /// The response time.
        response: u64,
    },
    /// Two operations of one core overlap: a core is one sequential client.
    #[error(
        "lines {first} and {second}: two operations of core {core} overlap ([{}, {}] and [{}, {}]); a core's operations follow one another",
        spans.0, spans.1, spans.2, spans.3
    )]
    Overlap {
        /// The core.
        core: u32,
        /// The line of the operation invoked first (1-based).
        first: usize,
        /// The line of the other.
        second: usize,
        /// Their invocations and responses.
        spans: (u64, u64, u64, u64),
    },
    /// `meta.json` is not JSON.
    #[error("{}: not JSON: {source}", path.display())]
    MetaJson {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// `meta.json` lacks a usable `tsc_skew_cycles`.
    #[error("{}: field `tsc_skew_cycles`: expected an unsigned integer, found {found}", path.display())]
    MetaSkew {
        /// The file.
        path: PathBuf,
        /// What is there (`nothing` when absent).
        found: String,
    },
}

/// Refuses two operations of one core whose intervals overlap. Intervals
/// that only touch (one's response is the other's invocation, as two reads
/// of a coarse TSC can be) are accepted: the core's program order, by
/// invocation and then by line, orders them.
fn check_cores(ops: &[Op]) -> Result<(), HistoryError> {
    let mut order: Vec<&Op> = ops.iter().collect();
    order.sort_by_key(|o| (o.core, o.invoke, o.response, o.line));
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.core == b.core && b.invoke < a.response {
            return Err(HistoryError::Overlap {
                core: a.core,
                first: a.line,
                second: b.line,
                spans: (a.invoke, a.response, b.invoke, b.response),
            });
        }
    }
    Ok(())
}

fn field<T: std::str::FromStr>(
    line: usize,
    column: usize,
    text: &str,
    expected: &'static str,
) -> Result<T, HistoryError> {
    text.parse().map_err(|_| HistoryError::Field {
        line,
        field: COLUMNS[column],
        expected,
        found: text.to_owned(),
    })
}

impl History {
    /// A history of these operations.
    pub fn new(ops: Vec<Op>) -> History {
        History { ops }
    }

    /// Parses the text of a `history.csv`.
    pub fn parse(text: &str) -> Result<History, HistoryError> {
        let mut lines = text.split('\n').enumerate().map(|(i, l)| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            (i + 1, l)
        });
        let header = loop {
            match lines.next() {
                None => return Err(HistoryError::Empty),
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((n, l)) => break (n, l),
            }
        };
        let normalised: Vec<&str> = header.1.split(',').map(str::trim).collect();
        if normalised != COLUMNS {
            return Err(HistoryError::Header {
                found: header.1.to_owned(),
            });
        }
        let mut ops = Vec::new();
        for (line, text) in lines {
            if text.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            if parts.len() != COLUMNS.len() {
                return Err(HistoryError::Fields {
                    line,
                    found: parts.len(),
                });
            }
            let core = field(line, 0, parts[0], "an unsigned 32-bit integer")?;
            let kind = parts[1].parse().map_err(|_| HistoryError::Field {
                line,
                field: "op",
                expected: "`read` or `write`",
                found: parts[1].to_owned(),
            })?;
            let u64_ = "an unsigned 64-bit integer";
            let key = field(line, 2, parts[2], u64_)?;
            let value = field(line, 3, parts[3], u64_)?;
            let invoke = field(line, 4, parts[4], u64_)?;
            let response = field(line, 5, parts[5], u64_)?;
            if invoke > response {
                return Err(HistoryError::Interval {
                    line,
                    invoke,
                    response,
                });
            }
            ops.push(Op {
                core,
                kind,
                key,
                value,
                invoke,
                response,
                line,
            });
        }
        check_cores(&ops)?;
        Ok(History { ops })
    }

    /// Reads and parses a `history.csv`.
    pub fn load(path: &Path) -> Result<History, HistoryError> {
        let bytes = std::fs::read(path).map_err(|source| HistoryError::Io {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            HistoryError::NotUtf8 {
                line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
            }
        })?;
        History::parse(&text)
    }

    /// The history as `history.csv` text.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(32 * (self.ops.len() + 1));
        out.push_str(HEADER);
        out.push('\n');
        for op in &self.ops {
            out.push_str(&op.row());
            out.push('\n');
        }
        out
    }

    /// How many distinct keys it touches.
    pub fn keys(&self) -> usize {
        self.ops.iter().map(|o| o.key).collect::<HashSet<_>>().len()
    }
}

/// The bound on the TSC skew of `history` (read from `history_file`), from
/// its experiment's `meta.json`: the bound of the run that wrote that file
/// (`consistency[].history` and `tsc_skew_cycles`), else of a run with the
/// history's core count, else the largest of the experiment
/// (`tsc_skew_cycles` at the top).
pub fn skew_from_meta(
    path: &Path,
    history_file: &Path,
    history: &History,
) -> Result<u64, HistoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| HistoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| HistoryError::MetaJson {
            path: path.to_owned(),
            source,
        })?;
    let runs = json.get("consistency").and_then(|c| c.as_array());
    let name = history_file.file_name().and_then(|n| n.to_str());
    let cores = history.ops.iter().map(|o| u64::from(o.core) + 1).max();
    let own = runs.and_then(|runs| {
        let by_file = runs
            .iter()
            .find(|r| name.is_some() && r.get("history").and_then(|h| h.as_str()) == name);
        let by_cores = || {
            runs.iter()
                .find(|r| cores.is_some() && r.get("cores").and_then(|c| c.as_u64()) == cores)
        };
        by_file.or_else(by_cores)?.get("tsc_skew_cycles")
    });
    match own.or_else(|| json.get("tsc_skew_cycles")) {
        Some(v) => v.as_u64().ok_or_else(|| HistoryError::MetaSkew {
            path: path.to_owned(),
            found: v.to_string(),
        }),
        None => Err(HistoryError::MetaSkew {
            path: path.to_owned(),
            found: "nothing".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_names_and_parse_back() {
        use strum::IntoEnumIterator;
        let names: Vec<_> = Kind::iter().map(Kind::name).collect();
        assert_eq!(names, ["read", "write"]);
        for kind in Kind::iter() {
            assert_eq!(kind.name().parse(), Ok(kind));
        }
        assert!("Read".parse::<Kind>().is_err());
    }

    #[test]
    fn overlapping_operations_of_one_core_are_refused_and_touching_ones_kept() {
        let e =
            History::parse(&format!("{HEADER}\n0,write,1,1,0,10\n0,read,1,1,5,20\n")).unwrap_err();
        assert!(matches!(
            e,
            HistoryError::Overlap {
                core: 0,
                first: 2,
                second: 3,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "lines 2 and 3: two operations of core 0 overlap ([0, 10] and [5, 20]); a core's operations follow one another"
        );
        // Touching, or overlapping on two cores, is fine.
        assert!(History::parse(&format!("{HEADER}\n0,write,1,1,0,10\n0,read,1,1,10,20\n")).is_ok());
        assert!(History::parse(&format!("{HEADER}\n0,write,1,1,0,10\n1,read,1,1,5,20\n")).is_ok());
    }

    #[test]
    fn parses_rows_and_skips_blank_lines() {
        let h = History::parse(&format!(
            "{HEADER}\r\n0,write,7,1,10,20\r\n\n1, read ,7,1,15,30\n"
        ))
        .unwrap();
        assert_eq!(
            h.ops,
            vec![
                Op {
                    line: 2,
                    ..Op::write(0, 7, 1, 10, 20)
                },
                Op {
                    line: 4,
                    ..Op::read(1, 7, 1, 15, 30)
                }
            ]
        );
        assert_eq!(History::parse(&h.to_csv()).unwrap().ops.len(), 2);
        assert_eq!(h.keys(), 1);
    }

    #[test]
    fn header_only_is_an_empty_history() {
        assert!(History::parse(HEADER).unwrap().ops.is_empty());
    }

    #[test]
    fn each_error_names_its_line_and_field() {
        let cases = [
            ("", "empty history"),
            ("core,op,key\n", "line 1: expected the header"),
            (
                "core,op,key,value,invoke,response\n0,read,1,2,3\n",
                "line 2: expected 6 fields",
            ),
            (
                "core,op,key,value,invoke,response\n0,read,1,2,3,4\nx,read,1,2,3,4\n",
                "line 3, field `core`: expected an unsigned 32-bit integer, found `x`",
            ),
            (
                "core,op,key,value,invoke,response\n0,cas,1,2,3,4\n",
                "line 2, field `op`: expected `read` or `write`, found `cas`",
            ),
            (
                "core,op,key,value,invoke,response\n0,read,-1,2,3,4\n",
                "line 2, field `key`",
            ),
            (
                "core,op,key,value,invoke,response\n0,read,1,99999999999999999999,3,4\n",
                "line 2, field `value`",
            ),
            (
                "core,op,key,value,invoke,response\n0,read,1,2,,4\n",
                "line 2, field `invoke`",
            ),
            (
                "core,op,key,value,invoke,response\n0,read,1,2,9,4\n",
                "line 2, field `response`: response 4 is before invoke 9",
            ),
        ];
        for (text, want) in cases {
            let err = History::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
