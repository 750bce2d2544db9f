//! Boot-time contracts of a Flotilla image.
//!
//! This crate holds what both the CPU driver and the host must agree on, and
//! what the boot path can compute without touching hardware, so that all of it
//! is tested on the host:
//!
//! - [`protocol`]: exit codes and the structured serial record format.
#![no_std]

pub mod protocol;
