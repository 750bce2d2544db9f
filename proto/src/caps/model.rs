//! **Checks:** the guarantee of [`super`], from what the machines do:
//!
//! 1. no two live objects of one depth overlap unless they are copies of
//!    one object (so of two racing retypes at most one succeeds);
//! 2. when a revoke takes effect at its owner ([`CapsEffect::Revoked`]),
//!    no core holds a live copy of a descendant of the object, and no core
//!    but the requester a live copy of the object itself (one at most);
//! 3. a tree's memory is freed ([`CapsEffect::Freed`]) only when no core
//!    holds a live copy of anything in it, and at most once; nothing of a
//!    freed tree is installed again;
//! 4. every request is answered exactly once;
//! 5. marks only take live copies, and only marked copies come back or go;
//! 6. at rest, each owner's records name exactly the cores that hold live
//!    copies, and every tree of which nothing is held was freed
//!    ([`CapsModel::check_rest`]).
//!
//! The reference model of the capability protocol: the live and marked
//! copies of every object on every core, as the machines' effects and their
//! clients' calls change them. The host tests and the simulator feed it
//! the same events and share its verdict; a test that counts messages asks
//! it for `R`, the cores an operation concerns ([`CapsModel::concerned`]).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;

use super::{Caps, CapsEffect, Obj, Request};

/// A broken invariant, said in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

fn fail<T>(what: String) -> Result<T, Violation> {
    Err(Violation(what))
}

/// Every core's copies, as the machines' effects leave them.
#[derive(Debug, Default)]
pub struct CapsModel {
    /// Live copies by core and object.
    live: BTreeMap<(u32, Obj), u32>,
    /// Marked copies by core and object.
    marked: BTreeMap<(u32, Obj), u32>,
    /// Roots made, with their owner.
    roots: BTreeMap<Obj, u32>,
    freed: BTreeSet<Obj>,
    /// Requests not yet answered, by core and number.
    pending: BTreeMap<(u32, u64), (Obj, Request)>,
}

impl CapsModel {
    /// Nothing yet.
    pub fn new() -> CapsModel {
        CapsModel::default()
    }

    fn add(map: &mut BTreeMap<(u32, Obj), u32>, key: (u32, Obj), n: u32) {
        *map.entry(key).or_insert(0) += n;
    }

    fn take(
        map: &mut BTreeMap<(u32, Obj), u32>,
        key: (u32, Obj),
        n: u32,
        what: &str,
    ) -> Result<(), Violation> {
        let have = map.get(&key).copied().unwrap_or(0);
        if have < n {
            return fail(format!(
                "core {} took {n} {what} copies of {:?} but had {have}",
                key.0, key.1
            ));
        }
        if have == n {
            map.remove(&key);
        } else {
            map.insert(key, have - n);
        }
        Ok(())
    }

    /// The root of the tree that holds `obj`, if one was made.
    fn root_of(&self, obj: Obj) -> Option<Obj> {
        self.roots.keys().copied().find(|r| r.covers(obj))
    }

    /// Core `core` made the root `obj` (one live copy).
    pub fn created(&mut self, core: u32, obj: Obj) {
        self.roots.insert(obj, core);
        Self::add(&mut self.live, (core, obj), 1);
    }

    /// Core `core` made one more local copy of `obj`.
    pub fn copied_here(&mut self, core: u32, obj: Obj) {
        Self::add(&mut self.live, (core, obj), 1);
    }

    /// Core `core` deleted one live copy of `obj`.
    pub fn deleted(&mut self, core: u32, obj: Obj) -> Result<(), Violation> {
        Self::take(&mut self.live, (core, obj), 1, "deleted")
    }

    /// Core `core` made request `req`.
    pub fn requested(&mut self, core: u32, req: u64, obj: Obj, what: Request) {
        self.pending.insert((core, req), (obj, what));
    }

    /// Whether any request is unanswered.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// Whether the tree rooted at `root` was freed.
    pub fn is_freed(&self, root: Obj) -> bool {
        self.freed.contains(&root)
    }

    /// Live copies of `obj` on `core`.
    pub fn live(&self, core: u32, obj: Obj) -> u32 {
        self.live.get(&(core, obj)).copied().unwrap_or(0)
    }

    /// Every live copy: core, object, count.
    pub fn every_live(&self) -> impl Iterator<Item = (u32, Obj, u32)> + '_ {
        self.live.iter().map(|(&(c, o), &n)| (c, o, n))
    }

    /// `R` of an operation on `obj` owned by `owner`: the cores other than
    /// the owner that hold a live copy of `obj`, of a descendant or of an
    /// ancestor.
    pub fn concerned(&self, owner: u32, obj: Obj) -> u32 {
        let related = |o: &Obj| obj.covers(*o) || o.is_ancestor_of(obj);
        let cores: BTreeSet<u32> = self
            .live
            .keys()
            .filter(|(c, o)| *c != owner && related(o))
            .map(|(c, _)| *c)
            .collect();
        cores.len() as u32
    }

    /// Applies and checks one effect of core `core`'s machine.
    pub fn effect(&mut self, core: u32, e: &CapsEffect) -> Result<(), Violation> {
        match *e {
            CapsEffect::Install { obj, .. } => {
                if let Some(root) = self.root_of(obj).filter(|r| self.freed.contains(r)) {
                    return fail(format!(
                        "core {core} installed {obj:?} of the freed tree {root:?}"
                    ));
                }
                let clash = self
                    .live
                    .keys()
                    .chain(self.marked.keys())
                    .find(|(_, o)| o.depth == obj.depth && *o != obj && o.overlaps(obj));
                if let Some((c, o)) = clash {
                    return fail(format!(
                        "core {core} installed {obj:?}, which overlaps {o:?} on core {c}"
                    ));
                }
                Self::add(&mut self.live, (core, obj), 1);
            }
            CapsEffect::Mark { obj, copies } => {
                Self::take(&mut self.live, (core, obj), copies, "marked")?;
                Self::add(&mut self.marked, (core, obj), copies);
            }
            CapsEffect::Unmark { obj, copies } => {
                Self::take(&mut self.marked, (core, obj), copies, "unmarked")?;
                Self::add(&mut self.live, (core, obj), copies);
            }
            CapsEffect::Remove { obj, copies } => {
                Self::take(&mut self.marked, (core, obj), copies, "removed")?;
            }
            CapsEffect::Revoked { obj, keep } => self.check_revoked(obj, keep)?,
            CapsEffect::Freed { obj } => {
                if self.roots.get(&obj) != Some(&core) {
                    return fail(format!("core {core} freed {obj:?}, no root it owns"));
                }
                if !self.freed.insert(obj) {
                    return fail(format!("core {core} freed {obj:?} twice"));
                }
                if let Some((c, o)) = self.live.keys().find(|(_, o)| obj.covers(*o)) {
                    return fail(format!(
                        "core {core} freed {obj:?} while core {c} holds {o:?}"
                    ));
                }
            }
            CapsEffect::Answered { req, .. } => {
                if self.pending.remove(&(core, req)).is_none() {
                    return fail(format!(
                        "core {core}'s request {req} answered twice or never made"
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_revoked(&self, obj: Obj, keep: u32) -> Result<(), Violation> {
        for (&(c, o), &n) in &self.live {
            if obj.is_ancestor_of(o) {
                return fail(format!(
                    "revoke of {obj:?} took effect while core {c} holds its descendant {o:?}"
                ));
            }
            if o == obj && (c != keep || n > 1) {
                return fail(format!(
                    "revoke of {obj:?} for core {keep} took effect while core {c} holds {n} copies"
                ));
            }
        }
        Ok(())
    }

    /// At rest (nothing in flight, nothing running): every owner's records
    /// name exactly the cores with live copies of each object it knows, so
    /// no copy is lost to its owner and no memory is kept for a copy that
    /// is gone.
    pub fn check_rest(&self, machines: &[Caps]) -> Result<(), Violation> {
        for &(c, o) in self.live.keys() {
            let Some(root) = self.root_of(o) else {
                return fail(format!("core {c} holds {o:?} of no tree"));
            };
            let owner = self.roots[&root];
            match machines.get(owner as usize).and_then(|m| m.record(&o)) {
                Some(set) if set.contains(c) => {}
                _ => {
                    return fail(format!(
                        "core {c} holds {o:?}, but its owner {owner} does not know"
                    ));
                }
            }
        }
        for (owner, m) in machines.iter().enumerate() {
            for (o, set) in m.records() {
                if let Some(c) = set.iter().find(|&c| self.live(c, o) == 0) {
                    return fail(format!(
                        "owner {owner} records core {c} as holding {o:?}, which it does not"
                    ));
                }
            }
        }
        for (root, owner) in &self.roots {
            let held = self.live.keys().any(|(_, o)| root.covers(*o));
            if !held && !self.freed.contains(root) {
                return fail(format!(
                    "nothing of {root:?} is held anywhere, but its owner {owner} never freed it"
                ));
            }
        }
        if let Some(((c, r), _)) = self.pending.iter().next() {
            return fail(format!("core {c}'s request {r} was never answered"));
        }
        Ok(())
    }
}
