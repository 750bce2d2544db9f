//! **Guarantee:** a store holds exactly the writes applied to it; two
//! stores that applied the same writes in the same order have the same
//! [`Store::digest`].
//!
//! One replica's copy of the map: u64 keys and values, every key 0 until
//! written, each value with the stamp of the write that put it there, and
//! a running digest of the order of applied writes, so that a checker can
//! compare the order in which replicas applied them without keeping logs.

use alloc::collections::BTreeMap;

/// Who wrote a value and when, in the order the model compares writes:
/// the version (or Lamport time), then the writer's core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// The version (linearizable, sequential) or Lamport time (eventual).
    pub version: u64,
    /// The core whose client wrote it.
    pub origin: u32,
}

/// One replica's copy of the map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    map: BTreeMap<u64, (u64, Stamp)>,
    applied: u64,
    digest: u64,
}

impl Store {
    /// An empty map: every key reads 0.
    pub fn new() -> Store {
        Store::default()
    }

    /// The value of `key` (0 if never written) and its stamp.
    pub fn get(&self, key: u64) -> (u64, Stamp) {
        self.map.get(&key).copied().unwrap_or_default()
    }

    /// Applies a write unconditionally (the model decided its place).
    pub fn put(&mut self, key: u64, value: u64, stamp: Stamp) {
        self.map.insert(key, (value, stamp));
        self.note(key, value, stamp);
    }

    /// Applies a write only if its stamp is newer than the key's (last
    /// writer wins); returns whether it did.
    pub fn put_if_newer(&mut self, key: u64, value: u64, stamp: Stamp) -> bool {
        if self.map.get(&key).is_some_and(|&(_, old)| old >= stamp) {
            return false;
        }
        self.put(key, value, stamp);
        true
    }

    /// Writes applied so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// A digest of the applied writes in their order of application.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Every written key with its value and stamp, in key order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, u64, Stamp)> + '_ {
        self.map.iter().map(|(&k, &(v, s))| (k, v, s))
    }

    fn note(&mut self, key: u64, value: u64, stamp: Stamp) {
        self.applied += 1;
        let mut h = self.digest ^ 0x9E37_79B9_7F4A_7C15;
        for word in [key, value, stamp.version, u64::from(stamp.origin)] {
            h = (h ^ word).wrapping_mul(0x100_0000_01B3).rotate_left(29);
        }
        self.digest = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritten_keys_read_zero_and_order_changes_the_digest() {
        let mut a = Store::new();
        let mut b = Store::new();
        assert_eq!(a.get(7), (0, Stamp::default()));
        let s1 = Stamp {
            version: 1,
            origin: 0,
        };
        let s2 = Stamp {
            version: 2,
            origin: 1,
        };
        a.put(1, 10, s1);
        a.put(2, 20, s2);
        b.put(2, 20, s2);
        b.put(1, 10, s1);
        assert_eq!(a.entries().count(), 2);
        assert_eq!(a.get(1).0, b.get(1).0);
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn last_writer_wins_by_stamp_then_core() {
        let mut s = Store::new();
        let old = Stamp {
            version: 3,
            origin: 1,
        };
        let tie = Stamp {
            version: 3,
            origin: 2,
        };
        assert!(s.put_if_newer(5, 1, old));
        assert!(s.put_if_newer(5, 2, tie));
        assert!(!s.put_if_newer(5, 3, old));
        assert_eq!(s.get(5).0, 2);
    }
}
