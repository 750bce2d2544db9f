//! The barriers. A core's arrival is published with a Release write (or
//! read-modify-write) that, directly or through the cores that combine it,
//! reaches every waiter's Acquire load of the word it spins on, so that
//! everything every core did before arriving happens before any core
//! leaves. Every barrier is reusable for any number of episodes without
//! re-initialisation: the spun-on values alternate with a private sense.

mod combining;
mod dissemination;
mod mcs_tree;
mod sense;
mod tournament;

pub use combining::{Combining, CombiningTree, FAN_IN};
pub use dissemination::Dissemination;
pub use mcs_tree::McsTree;
pub use sense::{BrokenSense, Sense};
pub use tournament::Tournament;
