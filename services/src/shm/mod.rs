//! Shared frames as typed views: the only place in `services` outside the
//! platforms that holds `unsafe` code.
//!
//! A platform maps pool frames and hands out an [`Arena`] (its `unsafe`
//! constructor is where the platform vouches for the mapping). Everything
//! else reaches shared memory through the safe views made here from an
//! arena: atomic words ([`Shared`]), doorbell lines ([`Doorbells`]), the
//! ping-pong lines of the raw baseline, and URPC rings and duplex channels
//! formatted or attached inside an arena. Protocols never see any of it.
//!
//! - [`pool`]: where things are in the pool (doorbells, bootstrap
//!   channels, what monitor 0 allocates) and the frame allocator;
//! - [`arena`]: arenas and their views.

pub mod arena;
pub mod pool;

use core::sync::atomic::AtomicU64;

pub use arena::{Arena, Shared};
pub use pool::{CHANNEL_FRAMES, FrameAllocator, Layout, SLOTS};

/// Size of a pool frame.
pub const FRAME: usize = 4096;

/// A core's doorbell line: whether its monitor is (about to be) blocked,
/// so that a sender knows to notify it.
#[repr(C, align(64))]
#[derive(Debug, Default)]
pub struct Doorbell {
    /// 1 while the core's monitor is blocked or about to block.
    pub sleeping: AtomicU64,
    _pad: [u64; 7],
}

const _: () = assert!(size_of::<Doorbell>() == 64);

/// The doorbell lines of every core, in an arena.
#[derive(Clone, Copy, Debug)]
pub struct Doorbells {
    arena: Arena,
    cores: u32,
}

impl Doorbells {
    /// The doorbells of `cores` cores at the start of `arena`, if it holds
    /// them.
    pub fn new(arena: Arena, cores: u32) -> Option<Doorbells> {
        (arena.len() >= cores as usize * size_of::<Doorbell>())
            .then_some(Doorbells { arena, cores })
    }

    /// Core `core`'s doorbell; panics for a core that does not exist (a
    /// monitor bug: every caller checked the core).
    pub fn get(&self, core: u32) -> &Doorbell {
        assert!(
            core < self.cores,
            "doorbell of core {core} of {}",
            self.cores
        );
        // SAFETY: the arena holds `cores` lines (checked in `new`), page
        // aligned; a `Doorbell` is an `AtomicU64` and padding, valid for any
        // bit pattern and only accessed atomically (the arena's contract).
        unsafe {
            &*self
                .arena
                .base()
                .as_ptr()
                .cast::<Doorbell>()
                .add(core as usize)
        }
    }
}
