//! The host side of Flotilla: building the image, booting it and judging
//! the run. The `flotilla` command line and the integration tests both use
//! this library, so there is one implementation of each.
//!
//! - [`image`]: builds the CPU driver for `x86_64-unknown-none`;
//! - [`boot`]: boots an image and turns its serial records and exit status
//!   into a [`boot::BootReport`] that says which core failed and why;
//! - [`check`]: whether a recorded E7 history is linearizable or
//!   sequentially consistent, why not, and how stale its reads are;
//! - [`cmdline_merge`]: the kernel command line, the command's own options
//!   merged with the user's `--append`;
//! - [`bench`](mod@bench): repeated boots, timed, written as CSV and JSON;
//! - [`exp`]: the experiments (`flotilla exp`), in QEMU or on host threads,
//!   written as CSV, JSON and SVG;
//! - [`fuzz_command`]: a fuzzing run of the capability invocations, judged;
//! - [`sim`]: many seeds of a protocol in the deterministic simulator;
//! - [`show`]: what a run shows on the terminal: log lines and short
//!   sentences for the records, or every line with `--records`;
//! - [`results`]: where results go and what they record about the host;
//! - [`spawn_items`]: the `--spawn NAME@CORE` items, checked and turned into
//!   the monitors' argument string.

pub mod bench;
pub mod boot;
pub mod check;
pub mod cmdline_merge;
pub mod exp;
pub mod fuzz_command;
pub mod image;
pub mod results;
pub mod show;
pub mod sim;
pub mod spawn_items;
