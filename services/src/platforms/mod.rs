//! Where the protocols run: each platform implements
//! [`crate::platform::Platform`] and owns the `unsafe` its place needs
//! (system calls, pinned threads, the shared pool's memory).
//!
//! - `ring3` (bare metal only): the ring-3 runtime (program entry, heap,
//!   panic handler, printing) and the platform of system calls;
//! - `hosted` (feature `std`): whole monitors and experiments on Linux
//!   threads pinned to host cores;
//! - [`sim`]: the deterministic simulator, every core's machines on one
//!   thread under a seeded schedule with injected faults;
//! - [`threads`]: user-level threads inside one program, switched without
//!   the kernel (ring 3 and the host alike).

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub mod hosted;
#[cfg(target_os = "none")]
pub mod ring3;
pub mod sim;
#[cfg(target_arch = "x86_64")]
pub mod threads;
