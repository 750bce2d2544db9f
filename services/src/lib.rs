//! Flotilla's services: everything above the kernel that is not a host
//! tool.
//!
//! - [`platform`]: the one narrow interface between the protocols and the
//!   place they run;
//! - [`proto`]: the sans-IO protocol machines, their [`wire`] and the one
//!   host that carries their messages (the `proto` crate, which forbids
//!   `unsafe` code), re-exported;
//! - [`monitor`]: the monitor: links, doorbells, and the router from tag
//!   ranges to protocol machines;
//! - [`platforms`]: `ring3` (system calls; bare metal only), `hosted`
//!   (pinned Linux threads; feature `std`) and `sim` (the deterministic
//!   simulator);
//! - [`shm`]: the typed views of shared frames, where `services` keeps its
//!   `unsafe` outside the platforms;
//! - [`exp`]: the experiments, including the shared-memory algorithms they
//!   compare against;
//! - [`rng`]: the one seeded generator (the `proto` crate's);
//! - [`image`]: the memory plan of a domain spawned from an ELF image.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(target_arch = "x86_64")]
pub mod exp;
pub mod image;
pub mod monitor;
pub mod platform;
pub mod platforms;
pub mod shm;

pub use ::proto;
pub use ::proto::{rng, wire};
