//! Tests: unit tests of every refusal, a reference model and a property
//! test against it, and deliberately broken variants that the property
//! test must catch.
//!
//! `cargo test -p flotilla-caps` runs 256 random sequences; the deep run
//! (20 000 longer sequences) is `cargo test -p flotilla-caps --release --
//! --ignored`.

mod agreed;
mod broken;
mod limits;
mod model;
mod prop;
mod unit;

/// A deliberate bug, switched on in a test to show that the tests notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bug {
    /// Retype forgets to check for descendants.
    RetypeIgnoresDescendants,
    /// Revoke leaves one copy alive.
    RevokeSparesOneCopy,
    /// The gate lets a program's operation through that needs other cores.
    GateOpen,
}
