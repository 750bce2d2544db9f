//! Delete: remove one copy; the last copy takes its object with it.

use crate::RemoteRelations;
use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, MdbKey};
use crate::ops::agreed::Gate;
use crate::types::{Cap, CapType, Tree};
use crate::vnode::Level;
use abi::CapError;
use alloc::vec;
use alloc::vec::Vec;

impl Mdb {
    /// Deletes the capability at `addr`.
    ///
    /// A mapped copy is unmapped. When it was the last copy of its object
    /// (here, and no remote copies are recorded), the object is destroyed:
    /// a CNode's capabilities are deleted in turn, a VNode's entries are
    /// unmapped, a Dispatcher's endpoints are deleted, and the memory is
    /// free again inside the parent (a RAM capability with no descendants
    /// left can be retyped again).
    ///
    /// A program's delete that needs other cores (the copy is owned by
    /// another core, or it is the last copy here of an object with a copy
    /// elsewhere) is refused with `RetryThroughMonitor` and changes
    /// nothing: see [`crate::ops::agreed`].
    pub fn delete(&mut self, cs: CSpace, addr: CapAddr) -> Result<Vec<Effect>, CapError> {
        self.delete_as(Gate::User, cs, addr)
    }

    /// [`Mdb::delete`] with the gate `gate`: [`Gate::Agreed`] for the
    /// kernel's deletes of the copies it holds and the monitor's agreed
    /// ones. The last copy of an object with a copy elsewhere then goes
    /// without destroying the object.
    pub fn delete_as(
        &mut self,
        gate: Gate,
        cs: CSpace,
        addr: CapAddr,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self.resolve(cs, addr).and_then(|key| {
            self.gate(gate, self.delete_needs_agreement(&key)?)?;
            let mut effects = Vec::new();
            self.delete_all(vec![key], &mut effects);
            Ok(effects)
        });
        self.finish(r)
    }

    /// Deletes every record in `work`, and whatever the destruction of
    /// their objects takes with it. Records already gone are skipped, so
    /// the result does not depend on the order.
    pub(crate) fn delete_all(&mut self, mut work: Vec<MdbKey>, effects: &mut Vec<Effect>) {
        while let Some(key) = work.pop() {
            let Some(rec) = self.records.remove(&key) else {
                continue;
            };
            if let Some(slot) = self
                .cnodes
                .get_mut(&rec.slot.cnode)
                .and_then(|c| c.slots.get_mut(rec.slot.index as usize))
                .filter(|s| **s == Some(key))
            {
                *slot = None;
            }
            if let Some(m) = rec.mapping {
                self.remove_run(m.vnode, m.index);
                if let Some(level) = self.level_of_vnode(m.vnode) {
                    effects.push(Effect::Unmap {
                        table: m.vnode,
                        level,
                        index: m.index,
                        count: m.count,
                    });
                }
            }
            let last =
                !self.copies(&key).any(|_| true) && !rec.remote.contains(RemoteRelations::COPIES);
            if last {
                self.destroy(&rec.cap, &key, &mut work, effects);
            }
        }
    }

    /// Removes the object of `cap`, whose last copy `key` just went.
    fn destroy(
        &mut self,
        cap: &Cap,
        key: &MdbKey,
        work: &mut Vec<MdbKey>,
        effects: &mut Vec<Effect>,
    ) {
        match cap.ty {
            CapType::CNode => {
                if let Some(store) = self.cnodes.remove(&cap.base) {
                    work.extend(store.slots.into_iter().flatten());
                }
            }
            CapType::Pml4 | CapType::Pdpt | CapType::Pd | CapType::Pt => {
                let level = Level::of(cap.ty);
                if let (Some(store), Some(level)) = (self.vnodes.remove(&cap.base), level) {
                    for (index, (count, mapped)) in store.runs {
                        if let Some(r) = self.records.get_mut(&mapped) {
                            r.mapping = None;
                        }
                        effects.push(Effect::Unmap {
                            table: cap.base,
                            level,
                            index,
                            count,
                        });
                    }
                }
            }
            CapType::Dispatcher => {
                // The endpoints name this dispatcher and nothing else: they
                // go with it. They sit right after it in the order.
                let eps: Vec<MdbKey> = self
                    .records
                    .range(key..)
                    .take_while(|(_, r)| r.cap.ty.tree() == Tree::Memory && r.cap.base == cap.base)
                    .filter(|(_, r)| r.cap.ty == CapType::Endpoint && r.cap.size == cap.size)
                    .map(|(k, _)| *k)
                    .collect();
                work.extend(eps);
            }
            _ => {}
        }
        effects.push(Effect::Destroyed {
            ty: cap.ty,
            base: cap.base,
            size: cap.size,
        });
    }
}
