//! The one registry of message tags.
//!
//! Every protocol owns one contiguous range of the 16-bit URPC header tag,
//! listed in [`REGISTRY`]. A monitor's router hands a received message to
//! the protocol machine that owns its tag, so two protocols never share a
//! tag, and a tag outside every range is refused as `unknown-tag`.
//!
//! The table is one [`registry!`] declaration: each protocol is one line,
//! its owner, its constant, its name, its range and the list of the tags it
//! defines; the macro makes the [`Owner`] enum, the constants, [`REGISTRY`]
//! and the list the tests check. A new protocol takes the next free range
//! with one line here, defines its tags with [`TagRange::tag`] (which
//! refuses, at compile time, a tag outside the range) and adds one line to
//! the router. The tests below prove the ranges disjoint and in order, and
//! every tag that a protocol defines unique and inside its own range.

/// A contiguous, inclusive range of tags and its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TagRange {
    /// The protocol that owns the range.
    pub owner: Owner,
    /// The protocol's name, as records print it.
    pub name: &'static str,
    /// First tag of the range.
    pub first: u16,
    /// Last tag of the range (inclusive).
    pub last: u16,
}

impl TagRange {
    /// The tag `offset` places into the range. Used in `const` items, where
    /// an offset past the range fails to compile.
    pub const fn tag(&self, offset: u16) -> u16 {
        assert!(
            offset <= self.last - self.first,
            "tag outside its protocol's range"
        );
        self.first + offset
    }

    /// Whether `tag` is in the range.
    pub const fn contains(&self, tag: u16) -> bool {
        tag >= self.first && tag <= self.last
    }
}

/// Declares the registry: for each protocol, its owner (a variant of
/// [`Owner`], with its doc), its constant, its name as records print it, its
/// first and last tag, and an expression for every tag it defines (an array
/// of `u16`, for the tests).
macro_rules! registry {
    ($(
        $(#[doc = $doc:literal])*
        $owner:ident, $konst:ident, $name:literal, $first:literal ..= $last:literal, $tags:expr;
    )*) => {
        /// Who owns a range of tags.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Owner {
            $(
                $(#[doc = $doc])*
                $owner,
            )*
        }

        $(
            #[doc = concat!("Tags of the `", $name, "` protocol.")]
            pub const $konst: TagRange = TagRange {
                owner: Owner::$owner,
                name: $name,
                first: $first,
                last: $last,
            };
        )*

        /// Every range, in tag order.
        pub const REGISTRY: [TagRange; [$($name),*].len()] = [$($konst),*];

        /// Every tag a protocol defines, with the range it must lie in.
        #[cfg(test)]
        fn defined() -> alloc::vec::Vec<(TagRange, u16)> {
            let mut all = alloc::vec::Vec::new();
            $(all.extend($tags.map(|t: u16| ($konst, t)));)*
            all
        }
    };
}

registry! {
    /// The `urpc` crate's own benchmark messages (`urpc::bench::BENCH_TAG`).
    UrpcBench, URPC_BENCH, "urpc-bench", 0x00B0..=0x00BF, [urpc::bench::BENCH_TAG];
    /// Building the mesh of channels (`proto::mesh`).
    Mesh, MESH, "mesh", 0x0100..=0x010F, crate::mesh::tag::ALL;
    /// The job phase: arena hand-out and completion (`proto::job`).
    Job, JOB, "job", 0x0110..=0x011F, crate::job::tag::ALL;
    /// The update server of experiment E2 (`proto::update`).
    Update, UPDATE, "update", 0x0120..=0x012F, crate::update::tag::ALL;
    /// Locks over messages (`proto::lock`).
    Lock, LOCK, "lock", 0x0130..=0x013F, crate::lock::tag::ALL;
    /// Barriers over messages (`proto::barrier`).
    Barrier, BARRIER, "barrier", 0x0140..=0x014F, crate::barrier::tag::ALL;
    /// The replicated key-value map (`proto::replica`).
    Replica, REPLICA, "replica", 0x0150..=0x015F, crate::replica::tag::ALL;
    /// Spawning programs on other cores (`proto::spawn`).
    Spawn, SPAWN, "spawn", 0x0160..=0x016F, crate::spawn::tag::ALL;
    /// Capabilities across cores (`proto::caps`).
    Caps, CAPS, "caps", 0x0170..=0x017F, crate::caps::tag::ALL;
}

const _: () = assert!(URPC_BENCH.contains(urpc::bench::BENCH_TAG));

/// The range that holds `tag`, if any.
pub fn range_of(tag: u16) -> Option<&'static TagRange> {
    REGISTRY.iter().find(|r| r.contains(tag))
}

/// The owner of `tag`, if any.
pub fn owner(tag: u16) -> Option<Owner> {
    range_of(tag).map(|r| r.owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn ranges_are_disjoint_and_in_order() {
        for r in REGISTRY {
            assert!(r.first <= r.last, "{r:?}");
        }
        for pair in REGISTRY.windows(2) {
            assert!(pair[0].last < pair[1].first, "{pair:?} overlap");
        }
        let mut owners: Vec<Owner> = REGISTRY.iter().map(|r| r.owner).collect();
        owners.dedup();
        assert_eq!(owners.len(), REGISTRY.len(), "an owner with two ranges");
    }

    #[test]
    fn every_tag_is_unique_and_inside_its_owners_range() {
        let all = defined();
        for (range, tag) in &all {
            assert!(range.contains(*tag), "{tag:#x} outside {range:?}");
            assert_eq!(owner(*tag), Some(range.owner));
        }
        let mut tags: Vec<u16> = all.iter().map(|(_, t)| *t).collect();
        tags.sort_unstable();
        let before = tags.len();
        tags.dedup();
        assert_eq!(tags.len(), before, "a tag is defined twice");
    }

    #[test]
    fn tags_outside_every_range_have_no_owner() {
        assert_eq!(owner(0), None);
        assert_eq!(owner(0x7777), None);
        assert_eq!(owner(u16::MAX), None);
        assert_eq!(range_of(MESH.first).map(|r| r.name), Some("mesh"));
    }

    #[test]
    fn locks_and_barriers_own_their_ranges() {
        assert_eq!(owner(0x0130), Some(Owner::Lock));
        assert_eq!(owner(0x013F), Some(Owner::Lock));
        assert_eq!(owner(0x0140), Some(Owner::Barrier));
        assert_eq!(owner(0x014F), Some(Owner::Barrier));
        assert_eq!(range_of(LOCK.first).map(|r| r.name), Some("lock"));
        assert_eq!(range_of(BARRIER.last).map(|r| r.name), Some("barrier"));
    }
}
