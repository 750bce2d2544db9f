//! Boot-time contracts of a Flotilla image.
//!
//! This crate holds what the CPU driver and the host must agree on, and what
//! the boot path can compute without touching hardware, so that all of it is
//! tested on the host:
//!
//! - [`x86`]: the PVH entry, the switch to long mode and the AP trampoline
//!   (assembly, built only for the bare-metal target);
//! - [`pvh`]: parsing of the PVH `hvm_start_info`;
//! - [`kernel_cmdline`]: the kernel command line as a typed [`kernel_cmdline::Config`];
//! - [`initrd`]: the checked `newc` archive of ring-3 programs, and the
//!   truncation check of their ELF images;
//! - [`text`]: untrusted values in messages, shortened with their length;
//! - [`srat`]: NUMA affinity from the ACPI SRAT;
//! - [`plan`]: the split of physical memory into per-core partitions;
//! - [`handoff`]: the boot handshake between the boot core and the others;
//! - [`protocol`]: exit codes and the structured serial record format;
//! - [`stamp`]: the kernel's stamp on every line a ring-3 program prints.
#![no_std]

pub mod handoff;
pub mod kernel_cmdline;
pub mod plan;
pub mod protocol;
pub mod pvh;
pub mod srat;
pub mod stamp;
pub mod x86;

pub use modules::{initrd, text};
