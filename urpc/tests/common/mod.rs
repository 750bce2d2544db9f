//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use urpc::{CacheLine, Ring, SetupError, Variant, region_size};

/// A 64-byte-aligned byte region that tests can also poke word by word, the
/// way a misbehaving peer on another core would.
pub struct Region {
    ptr: NonNull<u8>,
    len: usize,
    _lines: Vec<CacheLine>,
}

// SAFETY: the region is plain heap memory accessed only atomically.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    /// A zeroed region of `len` bytes (rounded up to whole lines).
    pub fn new(len: usize) -> Region {
        let mut lines = vec![CacheLine::ZERO; len.div_ceil(64).max(1)];
        let ptr = NonNull::new(lines.as_mut_ptr().cast::<u8>()).unwrap();
        Region {
            ptr,
            len,
            _lines: lines,
        }
    }

    /// A region sized for a ring of `slots`, formatted.
    pub fn ring(slots: usize, variant: Variant) -> Region {
        let r = Region::new(region_size(slots));
        r.format(slots, variant).unwrap();
        r
    }

    pub fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn format(&self, slots: usize, variant: Variant) -> Result<Ring<'_>, SetupError> {
        // SAFETY: the memory lives as long as `self` and is only accessed
        // atomically (through the ring or `word`).
        unsafe { Ring::format_raw(self.ptr, self.len, slots, variant) }
    }

    pub fn attach(&self) -> Result<Ring<'_>, SetupError> {
        // SAFETY: as in `format`.
        unsafe { Ring::attach_raw(self.ptr, self.len) }
    }

    /// The 8-byte word at byte offset `off`.
    pub fn word(&self, off: usize) -> &AtomicU64 {
        assert!(off.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: in bounds, 8-byte aligned, valid while `self` lives, and
        // every access to the region is atomic.
        unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(off).cast::<u64>()) }
    }

    /// The header word of slot `i`.
    pub fn header(&self, i: usize) -> &AtomicU64 {
        self.word(urpc::SLOTS_OFFSET + i * urpc::SLOT_BYTES + urpc::SLOT_HEADER_OFFSET)
    }
}

/// A payload whose every word depends on `k`.
pub fn payload(k: u64) -> [u64; urpc::PAYLOAD_WORDS] {
    let mut x = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
    std::array::from_fn(|_| {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// Pins the current thread to the `i`-th core, if there is one.
pub fn pin(i: usize) {
    static CORES: std::sync::OnceLock<Vec<core_affinity::CoreId>> = std::sync::OnceLock::new();
    let cores = CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default());
    if let Some(&c) = cores.get(i) {
        core_affinity::set_for_current(c);
    }
}
