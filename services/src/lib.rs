//! Flotilla's protocols, experiments and ring-3 runtime.
//!
//! Protocols are sans-IO state machines: messages in, messages and effects
//! out. The same code runs in a monitor on the CPU driver, in the hosted
//! runtime on Linux threads, and under test.
//!
//! - [`platform`]: the one interface to the place a driver runs;
//! - [`pool`]: the layout of the shared pool of frames;
//! - [`mesh`]: building the full mesh of URPC channels (sans IO);
//! - [`monitor`]: the monitor's event loop, generic over the platform;
//! - [`exp`]: the experiments (URPC table, update cost) and their records;
//! - [`update`]: the update server of the update-cost experiment (sans IO);
//! - `hosted` (feature `std`): experiments on pinned Linux threads;
//! - `rt` (bare metal only): the ring-3 runtime: program entry, heap,
//!   panic handler, printing, and the ring-3 platform.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(target_arch = "x86_64")]
pub mod exp;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub mod hosted;
pub mod mesh;
pub mod monitor;
pub mod platform;
pub mod pool;
#[cfg(target_os = "none")]
pub mod rt;
pub mod update;
