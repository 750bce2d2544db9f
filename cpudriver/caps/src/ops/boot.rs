//! Boot: the first cspace and the capabilities the kernel starts with.

use crate::cspace::{CSpace, CapAddr, Slot};
use crate::mdb::{Mdb, RemoteRelations};
use crate::types::{Cap, CapType, MAX_CNODE_BITS, MIN_CNODE_BITS, SLOT_SIZE};
use abi::CapError;

impl Mdb {
    /// Creates a root CNode of `2^slot_bits` slots in kernel memory at
    /// `base` and returns its cspace. Slot 0 of the root holds the root's
    /// own capability, so that the root can be named as a destination
    /// (`CapAddr::l1(0)`).
    pub fn boot_cspace(&mut self, base: u64, slot_bits: u32) -> Result<CSpace, CapError> {
        if !(MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&slot_bits) {
            return Err(CapError::BadArgument);
        }
        let cap = Cap::new(CapType::CNode, base, SLOT_SIZE << slot_bits);
        cap.check_shape()?;
        if self.overlaps_any(&cap) {
            return Err(CapError::WouldOverlap);
        }
        self.create_object(&cap);
        self.insert(
            cap,
            Slot {
                cnode: base,
                index: 0,
            },
            self.core,
            RemoteRelations::empty(),
        );
        let generation = self.cnodes.get(&base).map_or(0, |c| c.generation);
        Ok(CSpace {
            root: base,
            generation,
        })
    }

    /// Places a capability the kernel starts with (RAM of this core's
    /// partition, the Kernel, Shutdown and Notify capabilities) in root slot
    /// `index`. Memory must not overlap any capability already present.
    pub fn boot_insert(&mut self, cs: CSpace, index: u32, cap: Cap) -> Result<(), CapError> {
        cap.check_shape()?;
        if !matches!(
            cap.ty,
            CapType::Ram | CapType::Frame | CapType::Kernel | CapType::Notify | CapType::Shutdown
        ) {
            return Err(CapError::WrongType);
        }
        let slot = self.resolve_slot(cs, CapAddr::l1(index))?;
        if self.slot_key(slot).is_some() {
            return Err(CapError::SlotOccupied);
        }
        if self.overlaps_any(&cap) {
            return Err(CapError::WouldOverlap);
        }
        self.insert(cap, slot, self.core, RemoteRelations::empty());
        Ok(())
    }

    /// The cspace rooted at the CNode named by `cnode` (for the kernel, when
    /// it gives a new dispatcher its cspace).
    pub fn cspace_of(&self, cs: CSpace, cnode: CapAddr) -> Result<CSpace, CapError> {
        let (_, cap) = self.cap_at(cs, cnode)?;
        if cap.ty != CapType::CNode {
            return Err(CapError::WrongType);
        }
        let generation = self
            .cnodes
            .get(&cap.base)
            .ok_or(CapError::NoSuchSlot)?
            .generation;
        Ok(CSpace {
            root: cap.base,
            generation,
        })
    }
}
