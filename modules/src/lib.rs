//! Formats that both the kernel and ring-3 programs read: the boot-module
//! archive ([`initrd`]) and the shortened, quoted text that messages about
//! outside values use ([`text`]).
//!
//! They live apart from `flotilla-boot`, whose boot-time assembly only the
//! kernel may link, so that a monitor can parse the archive it loads
//! programs from with the very code the kernel checks it with.
#![no_std]

pub mod initrd;
pub mod text;
