//! Sequential specifications: what one object does when its operations
//! run one at a time. The checkers search for an order of the recorded
//! operations that such a specification accepts.

use std::hash::Hash;

use super::history::{Kind, Op};

/// A sequential specification of one object.
pub trait Model {
    /// An operation with its recorded outcome (a read with the value it
    /// returned, say).
    type Op;
    /// The object's state.
    type State: Clone + Eq + Hash;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `op` runs in `state`, or `None` when `op` could not
    /// have returned what it did there.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;
}

/// An access to a `u64` register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Returned this value.
    Read(u64),
    /// Wrote this value.
    Write(u64),
}

impl Access {
    /// What `op` does to its key.
    pub fn of(op: &Op) -> Access {
        match op.kind {
            Kind::Read => Access::Read(op.value),
            Kind::Write => Access::Write(op.value),
        }
    }
}

/// A register holding a `u64`, initially 0: the per-key object of E7's map.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Model for Register {
    type Op = Access;
    type State = u64;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, state: &u64, op: &Access) -> Option<u64> {
        match *op {
            Access::Read(v) => (v == *state).then_some(v),
            Access::Write(v) => Some(v),
        }
    }
}
