//! Why a call failed: [`SysError`] for every call, [`Error`] (either a
//! [`SysError`] or a [`CapError`]) for the capability invocations, and
//! the helpers that turn a returning call's `(rax, rdx)` into a result.

#[cfg(doc)]
use crate::Syscall;
use crate::cap::CapError;

/// Why a system call failed.
///
/// Its name in records ([`SysError::name`]) is the variant's in kebab case.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter, strum::FromRepr,
)]
#[strum(serialize_all = "kebab-case")]
#[repr(u64)]
pub enum SysError {
    /// No such system call.
    UnknownSyscall = 1,
    /// A pointer does not lie in the program's own mapped, writable (where
    /// written) memory.
    BadPointer = 2,
    /// A length is zero, too large, or wrong for the call.
    BadLength = 3,
    /// No such core.
    BadCore = 4,
    /// The frame range is outside the shared pool.
    BadFrame = 5,
    /// The text is not UTF-8.
    BadUtf8 = 6,
    /// The code is not one the call accepts.
    BadCode = 7,
    /// The core's memory is exhausted.
    NoMemory = 8,
    /// The receiver's LMP buffer is full ([`Syscall::LmpSend`]).
    Full = 9,
    /// The endpoint's dispatcher is not running: never started, or ended.
    NoReceiver = 10,
    /// Nothing arrived before the timeout ([`Syscall::LmpRecv`]).
    TimedOut = 11,
    /// [`Syscall::FaultResume`] outside an exception handler.
    NoFault = 12,
    /// The sender already has its share of capabilities in flight in LMP
    /// messages not yet received (or the core has its most of them):
    /// [`Syscall::LmpSend`] with a capability sent nothing.
    CapsInFlight = 13,
}

impl SysError {
    /// Decodes a non-zero `rax`.
    pub fn from_code(code: u64) -> Option<SysError> {
        SysError::from_repr(code)
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Turns the `(rax, rdx)` pair of a returning call into a result.
pub fn result(rax: u64, rdx: u64) -> Result<u64, SysError> {
    match rax {
        0 => Ok(rdx),
        code => Err(SysError::from_code(code).unwrap_or(SysError::UnknownSyscall)),
    }
}

/// Why a call failed: a system-call error or, for a capability invocation,
/// a capability error. Their codes in `rax` are disjoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// A [`SysError`] (codes 1 to 13).
    Sys(SysError),
    /// A [`CapError`] (codes from `0x100`).
    Cap(CapError),
}

impl Error {
    /// The code in `rax`.
    pub fn code(self) -> u64 {
        match self {
            Error::Sys(e) => e as u64,
            Error::Cap(e) => e.code(),
        }
    }

    /// Decodes a non-zero `rax`.
    pub fn from_code(code: u64) -> Option<Error> {
        SysError::from_code(code)
            .map(Error::Sys)
            .or_else(|| CapError::from_code(code).map(Error::Cap))
    }

    /// A short name, for records.
    pub fn name(self) -> &'static str {
        match self {
            Error::Sys(e) => e.name(),
            Error::Cap(e) => e.name(),
        }
    }
}

impl From<SysError> for Error {
    fn from(e: SysError) -> Error {
        Error::Sys(e)
    }
}

impl From<CapError> for Error {
    fn from(e: CapError) -> Error {
        Error::Cap(e)
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Turns the `(rax, rdx)` pair of a capability invocation into a result;
/// an unknown code reads as [`SysError::UnknownSyscall`].
pub fn invoke_result(rax: u64, rdx: u64) -> Result<u64, Error> {
    match rax {
        0 => Ok(rdx),
        code => Err(Error::from_code(code).unwrap_or(Error::Sys(SysError::UnknownSyscall))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn both_kinds_of_error_travel_in_rax() {
        for e in SysError::iter() {
            assert_eq!(invoke_result(e as u64, 5), Err(Error::Sys(e)));
            assert_eq!(Error::from(e).code(), e as u64);
        }
        for e in CapError::iter() {
            assert_eq!(invoke_result(e.code(), 5), Err(Error::Cap(e)));
            assert_eq!(Error::from(e).code(), e.code());
            assert_eq!(Error::from(e).name(), e.name());
        }
        assert_eq!(invoke_result(0, 5), Ok(5));
        assert_eq!(
            invoke_result(0x7777, 0),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
    }

    #[test]
    fn every_error_is_listed_once_and_keeps_its_name() {
        assert!(SysError::iter().map(SysError::name).eq([
            "unknown-syscall",
            "bad-pointer",
            "bad-length",
            "bad-core",
            "bad-frame",
            "bad-utf8",
            "bad-code",
            "no-memory",
            "full",
            "no-receiver",
            "timed-out",
            "no-fault",
            "caps-in-flight",
        ]));
    }

    #[test]
    fn errors_round_trip_through_rax() {
        for e in SysError::iter() {
            assert_eq!(result(e as u64, 5), Err(e));
        }
        assert_eq!(result(0, 5), Ok(5));
        assert_eq!(result(1234, 0), Err(SysError::UnknownSyscall));
    }
}
