//! The locks. Each acquires with an Acquire read-modify-write or load and
//! releases with a Release store, so that everything a holder did before
//! its release happens before the next holder's acquire returns.

mod anderson;
mod clh;
mod mcs;
#[cfg(feature = "std")]
mod os;
mod tas;
mod ticket;

pub use anderson::Anderson;
pub use clh::Clh;
pub use mcs::Mcs;
#[cfg(feature = "std")]
pub use os::{ParkingLot, StdMutex};
pub use tas::{
    BACKOFF_MAX, BACKOFF_MIN, BrokenTas, LoadThenStore, OneWord, Swap, Take, Tas, TestThenSwap,
    Ttas,
};
pub use ticket::{TICKET_BACKOFF, Ticket};

/// The value of a free lock word.
const FREE: u64 = 0;
/// The value of a held lock word.
const HELD: u64 = 1;
