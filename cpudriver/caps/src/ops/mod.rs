//! The operations on capabilities. Each resolves its addresses in a given
//! cspace, checks everything, and either refuses with a [`CapError`]
//! without changing anything or applies the change and returns the
//! [`Effect`](crate::Effect)s the kernel must carry out.
//!
//! [`CapError`]: abi::CapError

pub mod agreed;
pub mod boot;
pub mod copy;
pub mod delete;
pub mod identify;
pub mod map;
pub mod monitor;
pub mod retype;
pub mod revoke;

pub use agreed::Gate;
pub use retype::RetypeArgs;
