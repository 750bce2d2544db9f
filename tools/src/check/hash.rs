//! A fast, non-cryptographic hasher for the checkers' caches (the
//! multiply-rotate hash rustc uses), and a 64-bit mixer for fingerprints.

use std::hash::{BuildHasherDefault, Hasher};

/// A hasher that folds each word in with a rotate, xor and multiply.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.hash = (self.hash.rotate_left(5) ^ i).wrapping_mul(SEED);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Builds [`FxHasher`]s.
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<T> = std::collections::HashSet<T, FxBuild>;

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

/// SplitMix64's finaliser: a bijective mix of 64 bits.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 128-bit fingerprint of the pair `(a, b)`.
pub fn fingerprint(a: u64, b: u64) -> u128 {
    let lo = mix(a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(b));
    let hi = mix(a ^ mix(b.wrapping_add(0x632b_e59b_d9b4_e019)).rotate_left(17));
    (u128::from(hi) << 64) | u128::from(lo)
}
