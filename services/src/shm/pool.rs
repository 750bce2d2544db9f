//! The layout of the shared pool, the only memory two cores share.
//!
//! The boot core sets the pool aside and zeroes it. Its frames are used as
//! follows, for `n` cores:
//!
//! | frames | contents | written by |
//! |---|---|---|
//! | [`Layout::doorbells`] | one [`super::Doorbell`] line per core | its core (sleeping flag), read by senders |
//! | [`Layout::bootstrap`]`(i)`, 2 frames, for each core `i ≥ 1` | the duplex bootstrap channel between monitor 0 (side A) and monitor `i` (side B); monitor `i` formats it | both ends, as URPC says |
//! | from [`Layout::first_free`] | allocated by monitor 0: mesh channels, then experiment arenas | as the allocation says |
//!
//! Every channel is a duplex of two rings of [`SLOTS`] slots, one 4 KiB frame
//! per ring.

use super::FRAME;

/// Slots per ring: `urpc::region_size(60)` is exactly one frame.
pub const SLOTS: usize = 60;
pub use proto::frames::{CHANNEL_FRAMES, FrameAllocator};

const _: () = assert!(urpc::region_size(SLOTS) == FRAME);

/// Where things are in the pool for a given number of cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    cores: u32,
}

impl Layout {
    /// The layout for `cores` cores.
    pub const fn new(cores: u32) -> Layout {
        Layout { cores }
    }

    /// First frame and number of frames of the doorbell lines.
    pub const fn doorbells(&self) -> (u64, u64) {
        let bytes = self.cores as u64 * 64;
        (0, bytes.div_ceil(FRAME as u64))
    }

    /// First frame of the bootstrap channel of core `core` (1 ..= n − 1).
    pub const fn bootstrap(&self, core: u32) -> u64 {
        self.doorbells().1 + (core as u64 - 1) * CHANNEL_FRAMES
    }

    /// The first frame monitor 0 allocates from.
    pub const fn first_free(&self) -> u64 {
        self.doorbells().1 + (self.cores as u64).saturating_sub(1) * CHANNEL_FRAMES
    }

    /// Frames the mesh channels need: one channel per pair of cores.
    pub const fn mesh_frames(&self) -> u64 {
        let n = self.cores as u64;
        n * n.saturating_sub(1) / 2 * CHANNEL_FRAMES
    }

    /// The frames the mesh and bootstrap need in all.
    pub const fn frames_needed(&self) -> u64 {
        self.first_free() + self.mesh_frames()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_each_other() {
        for cores in [1u32, 2, 3, 64, 65, 512] {
            let l = Layout::new(cores);
            let (first, frames) = l.doorbells();
            assert_eq!(first, 0);
            assert!(frames * FRAME as u64 >= u64::from(cores) * 64);
            if cores > 1 {
                assert_eq!(l.bootstrap(1), frames);
                assert_eq!(l.bootstrap(cores - 1) + CHANNEL_FRAMES, l.first_free());
            } else {
                assert_eq!(l.first_free(), frames);
            }
            let pairs = u64::from(cores) * u64::from(cores.saturating_sub(1)) / 2;
            assert_eq!(l.mesh_frames(), pairs * 2);
        }
    }

    #[test]
    fn the_boot_pool_holds_the_mesh_and_room_for_experiments() {
        // The pool the CPU driver sets aside must hold the bootstrap
        // channels and the mesh, and 4 MiB for the doorbells and
        // experiment arenas.
        for cores in [1u64, 2, 4, 8, 64, 128, 250] {
            let frames = boot::plan::shared_pool_bytes(cores) / FRAME as u64;
            let layout = Layout::new(cores as u32);
            let spare = frames - layout.frames_needed() + layout.doorbells().1;
            assert!(
                spare * FRAME as u64 >= 4 << 20,
                "{cores} cores: {spare} frames spare"
            );
        }
    }
}
