//! The one registry of message tags.
//!
//! Every protocol owns one contiguous range of the 16-bit URPC header tag,
//! listed in [`REGISTRY`]. A monitor's router hands a received message to
//! the protocol machine that owns its tag, so two protocols never share a
//! tag, and a tag outside every range is refused as `unknown-tag`.
//!
//! A new protocol takes the next free range here, defines its tags with
//! [`TagRange::tag`] (which refuses, at compile time, a tag outside the
//! range) and adds one line to the router. The tests below prove the ranges
//! disjoint and every tag that a protocol defines unique and inside its own
//! range.

/// Who owns a range of tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// The `urpc` crate's own benchmark messages (`urpc::bench::BENCH_TAG`).
    UrpcBench,
    /// Building the mesh of channels (`proto::mesh`).
    Mesh,
    /// The job phase: arena hand-out and completion (`proto::job`).
    Job,
    /// The update server of experiment E2 (`proto::update`).
    Update,
    /// Locks over messages (`proto::lock`).
    Lock,
    /// Barriers over messages (`proto::barrier`).
    Barrier,
    /// The replicated key-value map (`proto::replica`).
    Replica,
    /// Spawning programs on other cores (`proto::spawn`).
    Spawn,
}

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

/// Tags of the `urpc` crate's benchmark loops (E1).
pub const URPC_BENCH: TagRange = TagRange {
    owner: Owner::UrpcBench,
    name: "urpc-bench",
    first: 0x00B0,
    last: 0x00BF,
};

/// Tags of the mesh protocol.
pub const MESH: TagRange = TagRange {
    owner: Owner::Mesh,
    name: "mesh",
    first: 0x0100,
    last: 0x010F,
};

/// Tags of the job phase.
pub const JOB: TagRange = TagRange {
    owner: Owner::Job,
    name: "job",
    first: 0x0110,
    last: 0x011F,
};

/// Tags of the E2 update server.
pub const UPDATE: TagRange = TagRange {
    owner: Owner::Update,
    name: "update",
    first: 0x0120,
    last: 0x012F,
};

/// Tags of the locks over messages.
pub const LOCK: TagRange = TagRange {
    owner: Owner::Lock,
    name: "lock",
    first: 0x0130,
    last: 0x013F,
};

/// Tags of the barriers over messages.
pub const BARRIER: TagRange = TagRange {
    owner: Owner::Barrier,
    name: "barrier",
    first: 0x0140,
    last: 0x014F,
};

/// Tags of the replicated key-value map.
pub const REPLICA: TagRange = TagRange {
    owner: Owner::Replica,
    name: "replica",
    first: 0x0150,
    last: 0x015F,
};

/// Tags of spawning a program on another core.
pub const SPAWN: TagRange = TagRange {
    owner: Owner::Spawn,
    name: "spawn",
    first: 0x0160,
    last: 0x016F,
};

/// Every range, in tag order.
pub const REGISTRY: [TagRange; 8] = [URPC_BENCH, MESH, JOB, UPDATE, LOCK, BARRIER, REPLICA, SPAWN];

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

    /// Every tag a protocol defines, with the range it must lie in.
    fn defined() -> Vec<(TagRange, u16)> {
        let mut all = Vec::new();
        all.push((URPC_BENCH, urpc::bench::BENCH_TAG));
        all.extend(crate::proto::mesh::tag::ALL.map(|t| (MESH, t)));
        all.extend(crate::proto::job::tag::ALL.map(|t| (JOB, t)));
        all.extend(crate::proto::update::tag::ALL.map(|t| (UPDATE, t)));
        all.extend(crate::proto::lock::tag::ALL.map(|t| (LOCK, t)));
        all.extend(crate::proto::barrier::tag::ALL.map(|t| (BARRIER, t)));
        all.extend(crate::proto::replica::tag::ALL.map(|t| (REPLICA, t)));
        all.extend(crate::proto::spawn::tag::ALL.map(|t| (SPAWN, t)));
        all
    }

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
