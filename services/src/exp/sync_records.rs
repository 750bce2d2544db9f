//! The records E5 and E6 share, as types: `sync-check` and `sync-skip`.

use core::fmt;

use super::record::{FieldError, Fields, Record};

/// A `sync-check` record: the check of one lock or barrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncCheck<'a> {
    /// `locks` or `barriers`.
    pub exp: &'a str,
    /// The series checked.
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// E5: acquisitions; E6: checked episodes.
    pub expected: u64,
    /// E5: the critical section's counter, or the delegation server's.
    pub counted: u64,
    /// Violations found.
    pub violations: u64,
    /// Whether the check passed (printed as 1 or 0).
    pub ok: bool,
}

impl<'a> Record<'a> for SyncCheck<'a> {
    const KIND: &'static str = "sync-check";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exp={} series={} cores={} expected={} counted={} violations={} ok={}",
            self.exp,
            self.series,
            self.cores,
            self.expected,
            self.counted,
            self.violations,
            u8::from(self.ok)
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(SyncCheck {
            exp: r.text("exp")?,
            series: r.text("series")?,
            cores: r.small("cores")?,
            expected: r.int("expected")?,
            counted: r.int("counted")?,
            violations: r.int("violations")?,
            ok: r.flag("ok")?,
        })
    }
}

/// A `sync-skip` record: a series that could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncSkip<'a> {
    /// `locks` or `barriers`.
    pub exp: &'a str,
    /// The series skipped.
    pub series: &'a str,
    /// Cores in the run.
    pub cores: u32,
    /// Why.
    pub reason: &'a str,
}

impl<'a> Record<'a> for SyncSkip<'a> {
    const KIND: &'static str = "sync-skip";

    fn write_fields(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exp={} series={} cores={} reason={}",
            self.exp, self.series, self.cores, self.reason
        )
    }

    fn read(r: Fields<'a, '_>) -> Result<Self, FieldError> {
        Ok(SyncSkip {
            exp: r.text("exp")?,
            series: r.text("series")?,
            cores: r.small("cores")?,
            reason: r.text("reason")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::record::round_trip;
    use alloc::string::String;

    #[test]
    fn records_print_as_before_and_read_back() {
        let check = SyncCheck {
            exp: "locks",
            series: "mcs",
            cores: 4,
            expected: 80,
            counted: 80,
            violations: 0,
            ok: true,
        };
        round_trip(
            &check,
            "exp=locks series=mcs cores=4 expected=80 counted=80 violations=0 ok=1",
            &mut String::new(),
        );
        let skip = SyncSkip {
            exp: "locks",
            series: "msg-server",
            cores: 1,
            reason: "needs-a-server-and-a-client-core",
        };
        round_trip(
            &skip,
            "exp=locks series=msg-server cores=1 reason=needs-a-server-and-a-client-core",
            &mut String::new(),
        );
    }
}
