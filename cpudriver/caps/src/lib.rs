//! The capability core of a Flotilla CPU driver.
//!
//! Each core's CPU driver owns one [`Mdb`]: the records of every capability
//! copy on that core, the slots of its CNodes and the entries of its VNodes.
//! There is no global state; two cores' databases share nothing and meet
//! only through the monitor's operations ([`Mdb::create_received`],
//! [`Mdb::set_remote`], [`Mdb::set_locked`], and [`Mdb::mark`],
//! [`Mdb::unmark`], [`Mdb::sweep`] and the agreed forms of delete, revoke
//! and retype: see [`ops::agreed`]) and the byte encoding in [`wire`]. A
//! program's operation that needs other cores is refused with
//! `RetryThroughMonitor` and changes nothing.
//!
//! # What it guarantees
//!
//! * **Authority is checked.** Every operation names its capabilities by
//!   [`CapAddr`] in a [`CSpace`] and checks type, rights, ownership, ranges
//!   and alignment. A refusal is a typed [`CapError`] and changes nothing.
//!   No input makes it panic: address arithmetic is checked.
//! * **Memory is never handed out twice.** Retype carves objects only from
//!   inside its source, and only while the source has no descendants (here
//!   or, by the remote-relation bits, on another core). Objects form a
//!   laminar family: two objects overlap only if one descends from the
//!   other.
//! * **Deletion gives memory back.** Deleting the last copy of an object
//!   destroys it (a CNode's capabilities, a VNode's entries and a
//!   Dispatcher's endpoints go with it); once a RAM capability has no
//!   descendants left it can be retyped again. Revoke deletes every
//!   descendant and every other copy.
//! * **Mappings follow capabilities.** A Frame or VNode copy maps into at
//!   most one run of VNode entries, of the right level, in the user half,
//!   without overlap and with rights the copy has. Deleting or revoking a
//!   mapped capability, or destroying a VNode, unmaps.
//! * [`Mdb::check_invariants`] checks all of this on the whole database;
//!   fuzz mode ([`Mdb::set_fuzz_mode`]) runs it every N operations.
//!
//! # What the kernel does with the effects
//!
//! The library decides and records; it never touches memory or page
//! tables. A successful operation returns [`Effect`]s, and the kernel
//! applies them all, in order, before it returns to the caller:
//! [`Effect::Created`]: zero (initialise) the new object's memory;
//! [`Effect::Destroyed`]: the object is gone (stop a dispatcher; the memory
//! is free inside its parent); [`Effect::Map`], [`Effect::Unmap`],
//! [`Effect::Protect`]: write or clear the page-table entries named, and
//! invalidate the TLB (on every core that runs the address space, through
//! the monitors, for unmap and protect).
//!
//! # Why `BTreeMap`
//!
//! The database must find the copies of an object, its ancestors and its
//! descendants in O(log n). Keyed by (tree, base ascending, size
//! descending, type rank, copy id), a B-tree gives exactly that: the copies
//! of an object are one key range, and the descendants are the records
//! right after it that start inside it (as in Barrelfish's mapping
//! database). `alloc::collections::BTreeMap` is well tested, balanced
//! without unsafe code of ours, and cache-friendlier than a binary tree;
//! a hand-written AA tree (what Barrelfish uses, to avoid allocation) would
//! add code to verify and no speed that matters here. The CPU driver has a
//! heap, so allocation is not an obstacle.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cspace;
pub mod effect;
pub mod invariants;
pub mod mdb;
pub mod ops;
pub mod rights;
pub mod types;
pub mod vnode;
pub mod wire;

#[cfg(test)]
mod tests;

pub use abi::CapError;
pub use cspace::{CSpace, CapAddr, Depth, L2_BITS, Slot, WIDE_L2_BITS};
pub use effect::Effect;
pub use invariants::InvariantViolation;
pub use mdb::{Mdb, RemoteRelations, SlotView};
pub use ops::monitor::Importable;
pub use ops::{Gate, RetypeArgs};
pub use rights::Rights;
pub use types::{Cap, CapType};
pub use vnode::{Level, Mapping};
