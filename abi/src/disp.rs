//! Dispatchers made from user level: what [`crate::Syscall::DispatcherRun`]
//! reads and what [`crate::Syscall::DispatcherStatus`] returns.
//!
//! A program that holds a Dispatcher, a CNode and a PML4 capability (each
//! retyped from its own RAM) builds a new domain: it fills the PML4 with
//! VNodes and frames ([`crate::Syscall::VnodeMap`]), writes the program's
//! segments into those frames, and then starts it on its own core with
//! `DispatcherRun`. The new domain invokes capabilities in that CNode, runs
//! in that address space, and is scheduled with the core's other programs.
//! Deleting the last Dispatcher or PML4 capability of a domain ends it.

/// Longest name a dispatcher's program may have (for records).
pub const MAX_NAME: usize = 32;

/// What [`crate::Syscall::DispatcherRun`] reads from the caller's memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct DispatcherParams {
    /// The register form ([`crate::CPtr::raw`]) of the new domain's root
    /// CNode, in the caller's cspace.
    pub cspace: u64,
    /// The register form of the new domain's PML4, in the caller's cspace.
    pub vspace: u64,
    /// The first instruction (user half).
    pub entry: u64,
    /// The initial stack pointer (user half, 16-byte aligned).
    pub stack: u64,
    /// Length of `name` in use, 1 to [`MAX_NAME`].
    pub name_len: u64,
    /// The program's name, UTF-8, without spaces.
    pub name: [u8; MAX_NAME],
}

/// The state of a dispatcher, as [`crate::Syscall::DispatcherStatus`]
/// returns it: the kind in bits 0..8, its detail (an exit code or a
/// vector) in bits 8..64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Made, but never started.
    NotStarted,
    /// Started and not ended: ready, running or blocked.
    Running,
    /// Ended with `Exit`, with this code.
    Exited(u64),
    /// Ended by an exception with this vector (a `user-fault` record says
    /// more).
    Killed(u64),
    /// Ended because the last capability of its Dispatcher or PML4 was
    /// deleted while it ran.
    Revoked,
    /// Ended by its own panic (a `program-panic` record says where).
    Panicked,
}

impl Status {
    /// The register form.
    pub fn encode(self) -> u64 {
        match self {
            Status::NotStarted => 0,
            Status::Running => 1,
            Status::Exited(code) => 2 | (code << 8),
            Status::Killed(vector) => 3 | (vector << 8),
            Status::Revoked => 4,
            Status::Panicked => 5,
        }
    }

    /// Decodes the register form; `None` for a kind no status has.
    pub fn decode(raw: u64) -> Option<Status> {
        let detail = raw >> 8;
        Some(match raw & 0xff {
            0 if detail == 0 => Status::NotStarted,
            1 if detail == 0 => Status::Running,
            2 => Status::Exited(detail),
            3 => Status::Killed(detail),
            4 if detail == 0 => Status::Revoked,
            5 if detail == 0 => Status::Panicked,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn status_round_trips() {
        for s in [
            Status::NotStarted,
            Status::Running,
            Status::Exited(0),
            Status::Exited(7),
            Status::Killed(14),
            Status::Revoked,
            Status::Panicked,
        ] {
            assert_eq!(Status::decode(s.encode()), Some(s));
        }
        assert_eq!(Status::decode(6), None);
        assert_eq!(Status::decode(5 | 1 << 8), None);
        assert_eq!(Status::decode(4 | 1 << 8), None);
        assert_eq!(Status::decode(1 | 1 << 8), None);
    }
}
