//! Map, unmap and protect: entries of VNodes.

use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::{Mdb, MdbKey};
use crate::rights::Rights;
use crate::types::{Cap, CapType};
use crate::vnode::{ENTRIES, KERNEL_HALF_FIRST, Level, Mapping};
use abi::CapError;
use alloc::vec;
use alloc::vec::Vec;

impl Mdb {
    /// The level of a live VNode object.
    pub(crate) fn level_of_vnode(&self, base: u64) -> Option<Level> {
        self.vnodes.get(&base).map(|s| s.level)
    }

    /// Whether a VNode object of this database lives at `base` (for a
    /// kernel that must know whether an address space is one a program
    /// built itself).
    pub fn is_vnode(&self, base: u64) -> bool {
        self.vnodes.contains_key(&base)
    }

    /// Forgets the run starting at `index` of the VNode at `vnode`.
    pub(crate) fn remove_run(&mut self, vnode: u64, index: u16) {
        if let Some(store) = self.vnodes.get_mut(&vnode) {
            store.runs.remove(&index);
        }
    }

    /// The VNode capability at `addr`, which needs WRITE.
    fn table(&self, cs: CSpace, addr: CapAddr) -> Result<(Cap, Level), CapError> {
        let (_, cap) = self.cap_at(cs, addr)?;
        let level = Level::of(cap.ty).ok_or(CapError::WrongType)?;
        Mdb::need(cap.rights, Rights::WRITE)?;
        Ok((cap, level))
    }

    /// Maps the Frame or VNode at `src` into `count` entries from `index`
    /// of the VNode at `vnode`, with `rights`; a frame is mapped from
    /// `offset` bytes into it.
    ///
    /// Checks, in this order: the VNode resolves, is a VNode (`WrongType`)
    /// with WRITE (`MissingRight`); the source resolves and is a Frame or
    /// VNode (`WrongType`) not mapped yet (`AlreadyMapped`); a VNode source
    /// is the next level down (`WrongType`) with count 1 and offset 0
    /// (`BadArgument`), a frame goes into a PDPT, PD or PT (`WrongType`);
    /// the count is not zero (`BadArgument`) and the entries exist
    /// (`OutOfRange`); no PML4 entry of the kernel half is touched
    /// (`KernelHalf`); a frame's offset and physical address are aligned to
    /// the page size of the level (`Misaligned`) and the pages lie inside it
    /// (`OutOfRange`); `rights` include READ (`BadArgument`) and are a
    /// subset of the source's (`MissingRight`: a writable mapping needs
    /// WRITE); no entry is in use (`WouldOverlap`).
    #[allow(clippy::too_many_arguments)]
    pub fn map(
        &mut self,
        cs: CSpace,
        vnode: CapAddr,
        index: u32,
        src: CapAddr,
        rights: Rights,
        offset: u64,
        count: u32,
    ) -> Result<Vec<Effect>, CapError> {
        self.map_across(cs, vnode, index, cs, src, rights, offset, count)
    }

    /// [`Mdb::map`] with the VNode named in one cspace (`table_cs`) and the
    /// source in another (`src_cs`): for a kernel that keeps the page tables
    /// of a program's address space in a cspace of its own and maps, at the
    /// program's request, a frame the program holds. Same checks, in the
    /// same order, and the same effects.
    #[allow(clippy::too_many_arguments)]
    pub fn map_across(
        &mut self,
        table_cs: CSpace,
        vnode: CapAddr,
        index: u32,
        src_cs: CSpace,
        src: CapAddr,
        rights: Rights,
        offset: u64,
        count: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self.map_checked(
            (table_cs, vnode, index),
            (src_cs, src),
            rights,
            offset,
            count,
        );
        self.finish(r)
    }

    fn map_checked(
        &mut self,
        (table_cs, vnode, index): (CSpace, CapAddr, u32),
        (src_cs, src): (CSpace, CapAddr),
        rights: Rights,
        offset: u64,
        count: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let (table, level) = self.table(table_cs, vnode)?;
        let (src_key, src_cap): (MdbKey, Cap) = self.cap_at(src_cs, src)?;
        if src_cap.ty != CapType::Frame && !src_cap.ty.is_vnode() {
            return Err(CapError::WrongType);
        }
        if self.record(&src_key)?.mapping.is_some() {
            return Err(CapError::AlreadyMapped);
        }
        let page = if src_cap.ty.is_vnode() {
            if level.child_table() != Some(src_cap.ty) {
                return Err(CapError::WrongType);
            }
            if count != 1 || offset != 0 {
                return Err(CapError::BadArgument);
            }
            crate::types::PAGE
        } else {
            level.page_size().ok_or(CapError::WrongType)?
        };
        if count == 0 {
            return Err(CapError::BadArgument);
        }
        let end = index.checked_add(count).ok_or(CapError::OutOfRange)?;
        if end > ENTRIES {
            return Err(CapError::OutOfRange);
        }
        if level == Level::Pml4 && end > KERNEL_HALF_FIRST {
            return Err(CapError::KernelHalf);
        }
        let target = src_cap
            .base
            .checked_add(offset)
            .ok_or(CapError::OutOfRange)?;
        if src_cap.ty == CapType::Frame {
            if !offset.is_multiple_of(page) || target % page != 0 {
                return Err(CapError::Misaligned);
            }
            let bytes = page
                .checked_mul(u64::from(count))
                .and_then(|b| b.checked_add(offset))
                .ok_or(CapError::OutOfRange)?;
            if bytes > src_cap.size {
                return Err(CapError::OutOfRange);
            }
        }
        if !rights.contains(Rights::READ) {
            return Err(CapError::BadArgument);
        }
        Mdb::need(src_cap.rights, rights)?;
        // Both fit in u16: end <= 512.
        let (index, count) = (index as u16, count as u16);
        let store = self
            .vnodes
            .get_mut(&table.base)
            .ok_or(CapError::WrongType)?;
        if store.overlaps(index, count) {
            return Err(CapError::WouldOverlap);
        }
        store.runs.insert(index, (count, src_key));
        if let Some(r) = self.records.get_mut(&src_key) {
            r.mapping = Some(Mapping {
                vnode: table.base,
                index,
                count,
                rights,
            });
        }
        Ok(vec![Effect::Map {
            table: table.base,
            level,
            index,
            count,
            target,
            page,
            rights,
        }])
    }

    /// The run starting at entry `index` of the VNode at `vnode`.
    fn run(
        &self,
        cs: CSpace,
        vnode: CapAddr,
        index: u32,
    ) -> Result<(Cap, Level, u16, u16, MdbKey), CapError> {
        let (table, level) = self.table(cs, vnode)?;
        if index >= ENTRIES {
            return Err(CapError::OutOfRange);
        }
        let index = index as u16;
        let (count, key) = *self
            .vnodes
            .get(&table.base)
            .and_then(|s| s.runs.get(&index))
            .ok_or(CapError::NotMapped)?;
        Ok((table, level, index, count, key))
    }

    /// Removes the mapping that starts at entry `index` of the VNode at
    /// `vnode` (which needs WRITE). The mapped capability stays.
    pub fn unmap(
        &mut self,
        cs: CSpace,
        vnode: CapAddr,
        index: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self
            .run(cs, vnode, index)
            .map(|(table, level, index, count, key)| {
                self.remove_run(table.base, index);
                if let Some(r) = self.records.get_mut(&key) {
                    r.mapping = None;
                }
                vec![Effect::Unmap {
                    table: table.base,
                    level,
                    index,
                    count,
                }]
            });
        self.finish(r)
    }

    /// Lowers the rights of the mapping that starts at entry `index` of the
    /// VNode at `vnode` to `rights`, which must include READ
    /// (`BadArgument`) and be a subset of the mapping's (`MissingRight`).
    pub fn protect(
        &mut self,
        cs: CSpace,
        vnode: CapAddr,
        index: u32,
        rights: Rights,
    ) -> Result<Vec<Effect>, CapError> {
        let r = (|| {
            let (table, level, index, count, key) = self.run(cs, vnode, index)?;
            if !rights.contains(Rights::READ) {
                return Err(CapError::BadArgument);
            }
            let rec = self.records.get_mut(&key).ok_or(CapError::NotMapped)?;
            let mapping = rec.mapping.as_mut().ok_or(CapError::NotMapped)?;
            Mdb::need(mapping.rights, rights)?;
            mapping.rights = rights;
            Ok(vec![Effect::Protect {
                table: table.base,
                level,
                index,
                count,
                rights,
            }])
        })();
        self.finish(r)
    }
}
