//! The values the capability protocol speaks of: objects, sets of cores,
//! requests and their outcomes.

use core::fmt;

/// A capability's object as the protocol sees it: a region of memory, its
/// type (the kernel's type number) and its depth in its derivation tree
/// (0 for a root). Copies of a capability are copies of the same `Obj`.
///
/// Two objects of one depth in a tree never overlap (a retype refuses
/// that), and the roots of different trees are disjoint memory, so `x` is
/// a descendant of `o` exactly when `o`'s region holds `x`'s and `x` is
/// deeper ([`Obj::is_ancestor_of`]): a core finds the descendants it holds
/// without knowing the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Obj {
    /// First byte.
    pub base: u64,
    /// Bytes (at least 1).
    pub size: u64,
    /// The kernel's type number.
    pub ty: u16,
    /// Retypes between the tree's root and the object.
    pub depth: u16,
}

impl Obj {
    /// Whether the region is not empty and does not wrap.
    pub fn is_valid(self) -> bool {
        self.size > 0 && self.base.checked_add(self.size).is_some()
    }

    /// One past the last byte.
    pub fn end(self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether `o`'s region lies inside this one's.
    pub fn holds_region(self, o: Obj) -> bool {
        o.base >= self.base && o.end() <= self.end()
    }

    /// Whether the two regions share a byte.
    pub fn overlaps(self, o: Obj) -> bool {
        self.base < o.end() && o.base < self.end()
    }

    /// Whether `o` descends from this object (see the type's doc).
    pub fn is_ancestor_of(self, o: Obj) -> bool {
        o.depth > self.depth && self.holds_region(o)
    }

    /// Whether `o` is this object or descends from it.
    pub fn covers(self, o: Obj) -> bool {
        o == self || self.is_ancestor_of(o)
    }
}

/// A set of cores (up to 512, the most the machine boots), one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CoreSet([u64; 8]);

impl CoreSet {
    /// The most cores a set holds.
    pub const MAX: u32 = 512;

    /// No core.
    pub const fn new() -> CoreSet {
        CoreSet([0; 8])
    }

    /// Every core below `n`.
    pub fn below(n: u32) -> CoreSet {
        let mut s = CoreSet::new();
        (0..n.min(Self::MAX)).for_each(|c| s.insert(c));
        s
    }

    /// Adds `core` (ignored at or past [`CoreSet::MAX`]).
    pub fn insert(&mut self, core: u32) {
        if core < Self::MAX {
            self.0[(core / 64) as usize] |= 1 << (core % 64);
        }
    }

    /// Removes `core`.
    pub fn remove(&mut self, core: u32) {
        if core < Self::MAX {
            self.0[(core / 64) as usize] &= !(1 << (core % 64));
        }
    }

    /// Whether `core` is in the set.
    pub fn contains(&self, core: u32) -> bool {
        core < Self::MAX && self.0[(core / 64) as usize] & (1 << (core % 64)) != 0
    }

    /// Adds every core of `other`.
    pub fn union(&mut self, other: &CoreSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    /// Cores in the set.
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 8]
    }

    /// The cores, in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..Self::MAX).filter(|&c| self.contains(c))
    }
}

/// What a core asks a capability's owner to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Give core `to` a copy.
    Copy {
        /// The receiving core.
        to: u32,
    },
    /// Make `child` (one level deeper, inside the capability's region),
    /// held by the requester.
    Retype {
        /// The new object.
        child: Obj,
    },
    /// Delete every copy and descendant anywhere but the requester's copy.
    Revoke,
}

impl Request {
    /// The wire form: a kind and the operands.
    pub(crate) fn words(self) -> (u32, u64, u64, u32) {
        match self {
            Request::Copy { to } => (0, 0, 0, to),
            Request::Retype { child } => (
                1,
                child.base,
                child.size,
                u32::from(child.ty) | u32::from(child.depth) << 16,
            ),
            Request::Revoke => (2, 0, 0, 0),
        }
    }

    /// The request of a wire form, if it is one.
    pub(crate) fn from_words(kind: u32, x: u64, y: u64, z: u32) -> Option<Request> {
        match kind {
            0 => Some(Request::Copy { to: z }),
            1 => {
                let child = Obj {
                    base: x,
                    size: y,
                    ty: z as u16,
                    depth: (z >> 16) as u16,
                };
                child.is_valid().then_some(Request::Retype { child })
            }
            2 => Some(Request::Revoke),
            _ => None,
        }
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Outcome {
    /// Done.
    Done,
    /// The owner has no such capability.
    Unknown,
    /// The requester holds no copy (any more).
    NotHolder,
    /// A retype's child overlaps an existing descendant.
    Overlaps,
    /// A retype's child is not one level below, inside the region.
    OutOfRange,
    /// A copy to a core the machine lacks.
    BadCore,
    /// The core asked does not own the capability.
    NotOwner,
    /// Core `core` did not answer within the bound; nothing changed.
    Timeout {
        /// The first core that did not answer.
        core: u32,
    },
}

impl Outcome {
    /// The wire form: a code and a core.
    pub(crate) fn words(self) -> (u32, u32) {
        match self {
            Outcome::Done => (0, 0),
            Outcome::Unknown => (1, 0),
            Outcome::NotHolder => (2, 0),
            Outcome::Overlaps => (3, 0),
            Outcome::OutOfRange => (4, 0),
            Outcome::BadCore => (5, 0),
            Outcome::NotOwner => (6, 0),
            Outcome::Timeout { core } => (7, core),
        }
    }

    /// The outcome of a wire form, if it is one.
    pub(crate) fn from_words(code: u32, core: u32) -> Option<Outcome> {
        Some(match (code, core) {
            (0, 0) => Outcome::Done,
            (1, 0) => Outcome::Unknown,
            (2, 0) => Outcome::NotHolder,
            (3, 0) => Outcome::Overlaps,
            (4, 0) => Outcome::OutOfRange,
            (5, 0) => Outcome::BadCore,
            (6, 0) => Outcome::NotOwner,
            (7, core) => Outcome::Timeout { core },
            _ => return None,
        })
    }

    /// The name records print.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Timeout { core } => write!(f, "timeout (core {core})"),
            o => f.write_str(o.name()),
        }
    }
}
