//! Pool frames as numbers: the size of a duplex channel and the allocator
//! monitor 0 hands channel frames out with. The protocols (the mesh
//! broker) count frames; only the platforms map them.

/// Frames of one duplex channel.
pub const CHANNEL_FRAMES: u64 = 2;

/// Hands out pool frames (monitor 0 only, from the first free frame of
/// the pool layout, `services::shm::Layout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameAllocator {
    next: u64,
    end: u64,
}

impl FrameAllocator {
    /// An allocator over `[first, end)`.
    pub const fn new(first: u64, end: u64) -> FrameAllocator {
        FrameAllocator { next: first, end }
    }

    /// Takes `count` consecutive frames; `None` when the pool is exhausted.
    pub fn take(&mut self, count: u64) -> Option<u64> {
        let first = self.next;
        let end = first.checked_add(count)?;
        if end > self.end {
            return None;
        }
        self.next = end;
        Some(first)
    }

    /// The first frame not yet handed out.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Frames left.
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_refuses_what_it_does_not_have() {
        let mut a = FrameAllocator::new(10, 20);
        assert_eq!(a.take(4), Some(10));
        assert_eq!(a.take(6), Some(14));
        assert_eq!(a.take(1), None);
        assert_eq!(a.remaining(), 0);
        assert_eq!(FrameAllocator::new(0, 5).take(u64::MAX), None);
    }
}
