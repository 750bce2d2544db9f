//! Flotilla's protocols, experiments and ring-3 runtime.
//!
//! Protocols are sans-IO state machines: messages in, messages and effects
//! out. The same code runs in a monitor on the CPU driver, in the hosted
//! runtime on Linux threads, and under test.
//!
//! - [`rt`] (bare metal only): the ring-3 runtime: program entry, heap,
//!   panic handler, printing.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(target_os = "none")]
pub mod rt;
