//! The reference model: the same operations over a plain `Vec` of records,
//! with naive O(n) scans and ancestry written out as a predicate instead of
//! following from an order. It shares only the value types with the real
//! database.

use crate::cspace::{CapAddr, Depth, L2_BITS, Slot, WIDE_L2_BITS};
use crate::effect::Effect;
use crate::mdb::{RemoteRelations, SlotView};
use crate::ops::retype::{MAX_RETYPE_COUNT, object_layout};
use crate::ops::{Gate, RetypeArgs};
use crate::rights::Rights;
use crate::types::{Cap, CapType, Tree};
use crate::vnode::{ENTRIES, KERNEL_HALF_FIRST, Level, Mapping};
use crate::wire;
use abi::CapError;
use alloc::vec;
use alloc::vec::Vec;

/// A record: exactly what the real database reports of a slot.
type Rec = SlotView;

/// The model of one core's capabilities, with one cspace.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    core: u32,
    root: u64,
    recs: Vec<Rec>,
    /// (base, slots) of every live CNode.
    cnodes: Vec<(u64, u32)>,
    /// (base, level) of every live VNode.
    vnodes: Vec<(u64, Level)>,
}

fn end(c: &Cap) -> u64 {
    c.base.saturating_add(c.size)
}

/// Whether `d` descends from `a`: same memory tree, inside it, not a copy,
/// and either smaller or the same range with a type `a` retypes into.
fn descends(a: &Cap, d: &Cap) -> bool {
    a.ty.tree() == Tree::Memory
        && d.ty.tree() == Tree::Memory
        && !a.same_object(d)
        && a.base <= d.base
        && end(d) <= end(a)
        && (d.size < a.size || d.ty.rank() > a.ty.rank())
}

impl Model {
    /// Boots the same way the tests boot the real database.
    pub(crate) fn boot(core: u32, root: u64, root_bits: u32, caps: &[(u32, Cap)]) -> Model {
        let slots = 1u32 << root_bits;
        let root_cap = Cap::new(CapType::CNode, root, crate::types::SLOT_SIZE << root_bits);
        let mut m = Model {
            core,
            root,
            recs: vec![],
            cnodes: vec![(root, slots)],
            vnodes: vec![],
        };
        m.push(
            root_cap,
            Slot {
                cnode: root,
                index: 0,
            },
            core,
            RemoteRelations::empty(),
        );
        for (i, cap) in caps {
            m.push(
                *cap,
                Slot {
                    cnode: root,
                    index: *i,
                },
                core,
                RemoteRelations::empty(),
            );
        }
        m
    }

    fn push(&mut self, cap: Cap, slot: Slot, owner: u32, remote: RemoteRelations) {
        self.recs.push(SlotView::fresh(cap, slot, owner, remote));
    }

    /// The state, in the form the real database reports, sorted by slot.
    pub(crate) fn state(&self) -> Vec<SlotView> {
        let mut v = self.recs.clone();
        v.sort();
        v
    }

    /// Every occupied address reachable from the root, with its type.
    pub(crate) fn held(&self) -> Vec<(CapAddr, CapType)> {
        let mut out = vec![];
        let Some(&(_, root_slots)) = self.cnodes.iter().find(|c| c.0 == self.root) else {
            return out;
        };
        for l1 in 0..root_slots {
            let Some(r) = self.at(Slot {
                cnode: self.root,
                index: l1,
            }) else {
                continue;
            };
            let cap = self.recs[r].cap;
            out.push((CapAddr::l1(l1), cap.ty));
            if cap.ty == CapType::CNode {
                for l2 in 0..cap.slots().min(1 << L2_BITS) {
                    if let Some(q) = self.at(Slot {
                        cnode: cap.base,
                        index: l2,
                    }) && let Some(a) = CapAddr::l2(l1, l2 as u8)
                    {
                        out.push((a, self.recs[q].cap.ty));
                    }
                }
            }
        }
        out
    }

    /// The empty slots of the CNode at `addr` (none if it names no CNode).
    pub(crate) fn free_slots(&self, addr: CapAddr) -> Vec<u32> {
        let Ok(i) = self.get_any(addr) else {
            return vec![];
        };
        let c = self.recs[i].cap;
        (0..c.slots())
            .filter(|n| {
                self.at(Slot {
                    cnode: c.base,
                    index: *n,
                })
                .is_none()
            })
            .collect()
    }

    /// The first entries of the mappings in the VNode at `addr`.
    pub(crate) fn mapped_indices(&self, addr: CapAddr) -> Vec<u32> {
        let Ok(i) = self.get_any(addr) else {
            return vec![];
        };
        let base = self.recs[i].cap.base;
        let mut v: Vec<u32> = self
            .recs
            .iter()
            .filter_map(|r| {
                r.mapping
                    .filter(|m| m.vnode == base)
                    .map(|m| u32::from(m.index))
            })
            .collect();
        v.sort();
        v
    }

    fn at(&self, slot: Slot) -> Option<usize> {
        self.recs.iter().position(|r| r.slot == slot)
    }

    fn slots_of(&self, cnode: u64) -> Option<u32> {
        self.cnodes.iter().find(|c| c.0 == cnode).map(|c| c.1)
    }

    fn slot(&self, addr: CapAddr) -> Result<Slot, CapError> {
        let root_slots = self.slots_of(self.root).ok_or(CapError::NoSuchSlot)?;
        let bits = match addr.depth {
            Depth::One if addr.bits < root_slots => {
                return Ok(Slot {
                    cnode: self.root,
                    index: addr.bits,
                });
            }
            Depth::One => return Err(CapError::NoSuchSlot),
            Depth::Two => L2_BITS,
            Depth::TwoWide => WIDE_L2_BITS,
        };
        let (l1, l2) = (addr.bits >> bits, addr.bits % (1 << bits));
        if l1 >= root_slots {
            return Err(CapError::NoSuchSlot);
        }
        let r = self
            .at(Slot {
                cnode: self.root,
                index: l1,
            })
            .ok_or(CapError::EmptySlot)?;
        let cap = self.recs[r].cap;
        if cap.ty != CapType::CNode {
            return Err(CapError::WrongType);
        }
        if u64::from(l2) >= cap.size / crate::types::SLOT_SIZE {
            return Err(CapError::NoSuchSlot);
        }
        Ok(Slot {
            cnode: cap.base,
            index: l2,
        })
    }

    /// Whether a depth-two address goes through a marked CNode.
    fn through_marked(&self, addr: CapAddr) -> bool {
        let bits = match addr.depth {
            Depth::One => return false,
            Depth::Two => L2_BITS,
            Depth::TwoWide => WIDE_L2_BITS,
        };
        self.at(Slot {
            cnode: self.root,
            index: addr.bits >> bits,
        })
        .is_some_and(|i| self.recs[i].marked)
    }

    fn get_any(&self, addr: CapAddr) -> Result<usize, CapError> {
        let s = self.slot(addr)?;
        self.at(s).ok_or(CapError::EmptySlot)
    }

    fn get(&self, addr: CapAddr) -> Result<usize, CapError> {
        let i = self.get_any(addr)?;
        if self.recs[i].marked || self.through_marked(addr) {
            return Err(CapError::Marked);
        }
        if self.recs[i].locked {
            return Err(CapError::Locked);
        }
        Ok(i)
    }

    fn dest(&self, cnode: CapAddr, first: u32, count: u32) -> Result<Vec<Slot>, CapError> {
        let c = self.recs[self.get(cnode)?].cap;
        if c.ty != CapType::CNode {
            return Err(CapError::WrongType);
        }
        if !c.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRight);
        }
        let slots = c.size / crate::types::SLOT_SIZE;
        if u64::from(first) + u64::from(count) > slots {
            return Err(CapError::NoSuchSlot);
        }
        let out: Vec<Slot> = (first..first + count)
            .map(|index| Slot {
                cnode: c.base,
                index,
            })
            .collect();
        if out.iter().any(|s| self.at(*s).is_some()) {
            return Err(CapError::SlotOccupied);
        }
        Ok(out)
    }

    pub(crate) fn identify(&self, addr: CapAddr) -> Result<Cap, CapError> {
        Ok(self.recs[self.get(addr)?].cap)
    }

    /// Whether a record concerns another core (the gate's question).
    fn others(&self, r: &Rec) -> bool {
        r.owner != self.core || !r.remote.is_empty()
    }

    pub(crate) fn retype(
        &mut self,
        gate: Gate,
        src: CapAddr,
        args: RetypeArgs,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self.recs[self.get(src)?];
        let s = r.cap;
        if !s.ty.can_retype_into(args.ty) {
            return Err(CapError::WrongType);
        }
        if !s.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRight);
        }
        if gate == Gate::User && self.others(&r) {
            return Err(CapError::RetryThroughMonitor);
        }
        if r.owner != self.core {
            return Err(CapError::NotPermitted);
        }
        if args.count == 0 || args.count > MAX_RETYPE_COUNT {
            return Err(CapError::BadArgument);
        }
        let (size, align) = object_layout(&s, &args)?;
        let start = u128::from(s.base) + u128::from(args.offset);
        if start > u128::from(u64::MAX) {
            return Err(CapError::OutOfRange);
        }
        if start % u128::from(align) != 0 {
            return Err(CapError::Misaligned);
        }
        if start + u128::from(size) * u128::from(args.count) > u128::from(end(&s)) {
            return Err(CapError::OutOfRange);
        }
        let has_desc = self.recs.iter().any(|d| descends(&s, &d.cap));
        if has_desc || r.remote.contains(RemoteRelations::DESCENDANTS) {
            return Err(CapError::HasDescendants);
        }
        let slots = self.dest(dest_cnode, dest_slot, args.count)?;
        let mut fx = vec![];
        for (i, slot) in slots.into_iter().enumerate() {
            let cap = Cap::new(args.ty, start as u64 + size * i as u64, size);
            if cap.ty == CapType::CNode {
                self.cnodes.push((cap.base, cap.slots()));
            }
            if let Some(l) = Level::of(cap.ty) {
                self.vnodes.push((cap.base, l));
            }
            self.push(cap, slot, self.core, RemoteRelations::empty());
            fx.push(Effect::Created {
                ty: cap.ty,
                base: cap.base,
                size: cap.size,
            });
        }
        Ok(fx)
    }

    pub(crate) fn mint(
        &mut self,
        src: CapAddr,
        dest_cnode: CapAddr,
        dest_slot: u32,
        rights: Option<Rights>,
        badge: u64,
    ) -> Result<(), CapError> {
        let r = self.recs[self.get(src)?];
        let mut cap = r.cap;
        if !cap.rights.contains(Rights::GRANT) {
            return Err(CapError::MissingRight);
        }
        if let Some(rights) = rights {
            if !cap.rights.contains(rights) {
                return Err(CapError::MissingRight);
            }
            cap.rights = rights;
        }
        if badge != 0 {
            if cap.ty != CapType::Endpoint {
                return Err(CapError::WrongType);
            }
            if cap.badge != 0 {
                return Err(CapError::NotPermitted);
            }
            cap.badge = badge;
        }
        let slot = self.dest(dest_cnode, dest_slot, 1)?[0];
        self.push(cap, slot, r.owner, r.remote);
        Ok(())
    }

    fn level_of(&self, base: u64) -> Option<Level> {
        self.vnodes.iter().find(|v| v.0 == base).map(|v| v.1)
    }

    /// Deletes the records at `doomed` and everything that goes with them,
    /// one at a time, rescanning everything each step.
    fn delete_all(&mut self, doomed: Vec<Slot>, fx: &mut Vec<Effect>) {
        let mut work = doomed;
        while let Some(slot) = work.pop() {
            let Some(i) = self.at(slot) else { continue };
            let r = self.recs.remove(i);
            if let Some(m) = r.mapping
                && let Some(level) = self.level_of(m.vnode)
            {
                fx.push(Effect::Unmap {
                    table: m.vnode,
                    level,
                    index: m.index,
                    count: m.count,
                });
            }
            let others = self.recs.iter().any(|o| o.cap.same_object(&r.cap));
            if others || r.remote.contains(RemoteRelations::COPIES) {
                continue;
            }
            let c = r.cap;
            if c.ty == CapType::CNode {
                self.cnodes.retain(|x| x.0 != c.base);
                work.extend(
                    self.recs
                        .iter()
                        .filter(|o| o.slot.cnode == c.base)
                        .map(|o| o.slot),
                );
            }
            if let Some(level) = Level::of(c.ty) {
                self.vnodes.retain(|x| x.0 != c.base);
                for o in self.recs.iter_mut() {
                    if let Some(m) = o.mapping.filter(|m| m.vnode == c.base) {
                        fx.push(Effect::Unmap {
                            table: c.base,
                            level,
                            index: m.index,
                            count: m.count,
                        });
                        o.mapping = None;
                    }
                }
            }
            if c.ty == CapType::Dispatcher {
                work.extend(
                    self.recs
                        .iter()
                        .filter(|o| {
                            o.cap.ty == CapType::Endpoint
                                && o.cap.base == c.base
                                && o.cap.size == c.size
                        })
                        .map(|o| o.slot),
                );
            }
            fx.push(Effect::Destroyed {
                ty: c.ty,
                base: c.base,
                size: c.size,
            });
        }
    }

    pub(crate) fn delete(&mut self, gate: Gate, addr: CapAddr) -> Result<Vec<Effect>, CapError> {
        let i = self.get(addr)?;
        let r = self.recs[i];
        let copies = self
            .recs
            .iter()
            .filter(|o| o.cap.same_object(&r.cap))
            .count();
        let last_with_remote = copies == 1 && r.remote.contains(RemoteRelations::COPIES);
        if gate == Gate::User && (r.owner != self.core || last_with_remote) {
            return Err(CapError::RetryThroughMonitor);
        }
        let mut fx = vec![];
        let slot = self.recs[i].slot;
        self.delete_all(vec![slot], &mut fx);
        Ok(fx)
    }

    pub(crate) fn revoke(&mut self, gate: Gate, addr: CapAddr) -> Result<Vec<Effect>, CapError> {
        let i = self.get(addr)?;
        let me = self.recs[i];
        let doomed: Vec<&Rec> = self
            .recs
            .iter()
            .filter(|o| {
                (o.cap.same_object(&me.cap) && o.slot != me.slot) || descends(&me.cap, &o.cap)
            })
            .collect();
        if doomed.iter().any(|o| o.locked) {
            return Err(CapError::Locked);
        }
        if gate == Gate::User && (self.others(&me) || doomed.iter().any(|o| self.others(o))) {
            return Err(CapError::RetryThroughMonitor);
        }
        let slots = doomed.iter().map(|o| o.slot).collect();
        let mut fx = vec![];
        self.delete_all(slots, &mut fx);
        Ok(fx)
    }

    fn table(&self, addr: CapAddr) -> Result<(Cap, Level), CapError> {
        let cap = self.recs[self.get(addr)?].cap;
        let level = Level::of(cap.ty).ok_or(CapError::WrongType)?;
        if !cap.rights.contains(Rights::WRITE) {
            return Err(CapError::MissingRight);
        }
        Ok((cap, level))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn map(
        &mut self,
        vnode: CapAddr,
        index: u32,
        src: CapAddr,
        rights: Rights,
        offset: u64,
        count: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let (t, level) = self.table(vnode)?;
        let si = self.get(src)?;
        let s = self.recs[si];
        let is_vnode = Level::of(s.cap.ty).is_some();
        if s.cap.ty != CapType::Frame && !is_vnode {
            return Err(CapError::WrongType);
        }
        if s.mapping.is_some() {
            return Err(CapError::AlreadyMapped);
        }
        let page: u64 = if is_vnode {
            let want = match level {
                Level::Pml4 => Some(CapType::Pdpt),
                Level::Pdpt => Some(CapType::Pd),
                Level::Pd => Some(CapType::Pt),
                Level::Pt => None,
            };
            if want != Some(s.cap.ty) {
                return Err(CapError::WrongType);
            }
            if count != 1 || offset != 0 {
                return Err(CapError::BadArgument);
            }
            4096
        } else {
            match level {
                Level::Pml4 => return Err(CapError::WrongType),
                Level::Pdpt => 1 << 30,
                Level::Pd => 1 << 21,
                Level::Pt => 1 << 12,
            }
        };
        if count == 0 {
            return Err(CapError::BadArgument);
        }
        let last = u64::from(index) + u64::from(count);
        if last > u64::from(ENTRIES) {
            return Err(CapError::OutOfRange);
        }
        if level == Level::Pml4 && last > u64::from(KERNEL_HALF_FIRST) {
            return Err(CapError::KernelHalf);
        }
        let target = u128::from(s.cap.base) + u128::from(offset);
        if target > u128::from(u64::MAX) {
            return Err(CapError::OutOfRange);
        }
        if !is_vnode {
            if !offset.is_multiple_of(page) || target % u128::from(page) != 0 {
                return Err(CapError::Misaligned);
            }
            if u128::from(offset) + u128::from(page) * u128::from(count) > u128::from(s.cap.size) {
                return Err(CapError::OutOfRange);
            }
        }
        if !rights.contains(Rights::READ) {
            return Err(CapError::BadArgument);
        }
        if !s.cap.rights.contains(rights) {
            return Err(CapError::MissingRight);
        }
        let (lo, hi) = (index as u16, (index + count) as u16);
        let busy = self.recs.iter().any(|o| {
            o.mapping
                .is_some_and(|m| m.vnode == t.base && m.index < hi && lo < m.index + m.count)
        });
        if busy {
            return Err(CapError::WouldOverlap);
        }
        let m = Mapping {
            vnode: t.base,
            index: lo,
            count: count as u16,
            rights,
        };
        self.recs[si].mapping = Some(m);
        Ok(vec![Effect::Map {
            table: t.base,
            level,
            index: lo,
            count: count as u16,
            target: target as u64,
            page,
            rights,
        }])
    }

    fn mapped_at(&self, vnode: CapAddr, index: u32) -> Result<(Cap, Level, usize), CapError> {
        let (t, level) = self.table(vnode)?;
        if index >= ENTRIES {
            return Err(CapError::OutOfRange);
        }
        let i = self
            .recs
            .iter()
            .position(|o| {
                o.mapping
                    .is_some_and(|m| m.vnode == t.base && u32::from(m.index) == index)
            })
            .ok_or(CapError::NotMapped)?;
        Ok((t, level, i))
    }

    pub(crate) fn unmap(&mut self, vnode: CapAddr, index: u32) -> Result<Vec<Effect>, CapError> {
        let (t, level, i) = self.mapped_at(vnode, index)?;
        let m = self.recs[i].mapping.take().ok_or(CapError::NotMapped)?;
        Ok(vec![Effect::Unmap {
            table: t.base,
            level,
            index: m.index,
            count: m.count,
        }])
    }

    pub(crate) fn protect(
        &mut self,
        vnode: CapAddr,
        index: u32,
        rights: Rights,
    ) -> Result<Vec<Effect>, CapError> {
        let (t, level, i) = self.mapped_at(vnode, index)?;
        if !rights.contains(Rights::READ) {
            return Err(CapError::BadArgument);
        }
        let m = self.recs[i].mapping.as_mut().ok_or(CapError::NotMapped)?;
        if !m.rights.contains(rights) {
            return Err(CapError::MissingRight);
        }
        m.rights = rights;
        Ok(vec![Effect::Protect {
            table: t.base,
            level,
            index: m.index,
            count: m.count,
            rights,
        }])
    }

    pub(crate) fn kernel(&self, addr: CapAddr) -> Result<(), CapError> {
        let i = self.get_any(addr)?;
        if self.recs[i].cap.ty != CapType::Kernel {
            return Err(CapError::NoKernelCap);
        }
        Ok(())
    }

    fn fits(&self, cap: &Cap) -> bool {
        self.recs.iter().all(|r| {
            let o = r.cap;
            if o.ty.tree() != Tree::Memory || cap.ty.tree() != Tree::Memory || o.same_object(cap) {
                return true;
            }
            let overlap = o.base < end(cap) && cap.base < end(&o);
            if !overlap {
                return true;
            }
            if descends(cap, &o) {
                cap.ty == CapType::Ram
            } else if descends(&o, cap) {
                o.ty == CapType::Ram
            } else {
                false
            }
        })
    }

    fn place(
        &mut self,
        cap: Cap,
        slot: Slot,
        owner: u32,
        remote: RemoteRelations,
    ) -> Result<(), CapError> {
        if !self.fits(&cap) {
            return Err(CapError::WouldOverlap);
        }
        let mut remote = remote;
        if let Some(o) = self.recs.iter().find(|o| o.cap.same_object(&cap)) {
            if o.owner != owner {
                return Err(CapError::NotPermitted);
            }
            remote |= o.remote;
        }
        for o in self.recs.iter_mut().filter(|o| o.cap.same_object(&cap)) {
            o.remote = remote;
        }
        self.push(cap, slot, owner, remote);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_received(
        &mut self,
        kernel: CapAddr,
        bytes: &[u8],
        owner: u32,
        remote: RemoteRelations,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        self.kernel(kernel)?;
        let cap = wire::from_bytes(bytes).map_err(|_| CapError::Malformed)?;
        if !matches!(cap.ty, CapType::Ram | CapType::Frame | CapType::Notify) {
            return Err(CapError::NotPermitted);
        }
        let slot = self.dest(dest_cnode, dest_slot, 1)?[0];
        self.place(cap, slot, owner, remote)
    }

    pub(crate) fn create_notify(
        &mut self,
        kernel: CapAddr,
        core: u32,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<(), CapError> {
        self.kernel(kernel)?;
        let slot = self.dest(dest_cnode, dest_slot, 1)?[0];
        self.place(
            Cap::new(CapType::Notify, u64::from(core), 0),
            slot,
            self.core,
            RemoteRelations::empty(),
        )
    }

    pub(crate) fn set_locked(
        &mut self,
        kernel: CapAddr,
        target: CapAddr,
        locked: bool,
    ) -> Result<(), CapError> {
        self.kernel(kernel)?;
        let i = self.get_any(target)?;
        self.recs[i].locked = locked;
        Ok(())
    }

    pub(crate) fn set_remote(
        &mut self,
        kernel: CapAddr,
        target: CapAddr,
        remote: RemoteRelations,
    ) -> Result<Vec<Effect>, CapError> {
        self.kernel(kernel)?;
        let cap = self.recs[self.get_any(target)?].cap;
        if !remote.is_empty() && !matches!(cap.ty, CapType::Ram | CapType::Frame | CapType::Notify)
        {
            return Err(CapError::NotPermitted);
        }
        for o in self.recs.iter_mut().filter(|o| o.cap.same_object(&cap)) {
            o.remote = remote;
        }
        Ok(vec![])
    }

    /// Sets the mark of every copy and descendant of the object at
    /// `target`; how many changed.
    fn set_marks(
        &mut self,
        kernel: CapAddr,
        target: CapAddr,
        marked: bool,
    ) -> Result<usize, CapError> {
        self.kernel(kernel)?;
        let t = self.recs[self.get_any(target)?].cap;
        let mut n = 0;
        for o in self.recs.iter_mut() {
            if (o.cap.same_object(&t) || descends(&t, &o.cap)) && o.marked != marked {
                o.marked = marked;
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn mark(&mut self, kernel: CapAddr, target: CapAddr) -> Result<usize, CapError> {
        self.set_marks(kernel, target, true)
    }

    pub(crate) fn unmark(&mut self, kernel: CapAddr, target: CapAddr) -> Result<usize, CapError> {
        self.set_marks(kernel, target, false)
    }

    pub(crate) fn sweep(&mut self, kernel: CapAddr) -> Result<(usize, Vec<Effect>), CapError> {
        self.kernel(kernel)?;
        let before = self.recs.len();
        let slots = self
            .recs
            .iter()
            .filter(|o| o.marked)
            .map(|o| o.slot)
            .collect();
        let mut fx = vec![];
        self.delete_all(slots, &mut fx);
        Ok((before - self.recs.len(), fx))
    }
}
