//! Retype: carve new objects out of RAM (or an Endpoint out of a
//! Dispatcher).

use crate::cspace::{CSpace, CapAddr};
use crate::effect::Effect;
use crate::mdb::Mdb;
use crate::ops::agreed::Gate;
use crate::rights::Rights;
use crate::types::{
    Cap, CapType, DISPATCHER_SIZE, MAX_CNODE_BITS, MIN_CNODE_BITS, PAGE, SLOT_SIZE, VNODE_SIZE,
};
use abi::CapError;
use alloc::vec::Vec;

/// Most objects one retype creates: as many as the largest CNode has
/// slots, since they all go into one CNode.
pub const MAX_RETYPE_COUNT: u32 = 1 << MAX_CNODE_BITS;

/// What to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetypeArgs {
    /// The type of the new objects.
    pub ty: CapType,
    /// Offset of the first object from the source's base.
    pub offset: u64,
    /// Size of each object: bytes (a multiple of 4 KiB) for RAM and Frame,
    /// the number of slots (a power of two) for a CNode, 0 for the types of
    /// fixed size (VNodes, Dispatcher, Endpoint).
    pub size: u64,
    /// How many objects, back to back.
    pub count: u32,
}

/// The size and alignment of one object, or why the arguments are wrong.
pub(crate) fn object_layout(src: &Cap, args: &RetypeArgs) -> Result<(u64, u64), CapError> {
    match args.ty {
        CapType::Ram | CapType::Frame => {
            if args.size == 0 {
                return Err(CapError::BadArgument);
            }
            if !args.size.is_multiple_of(PAGE) {
                return Err(CapError::Misaligned);
            }
            if args.ty == CapType::Ram && args.size >= src.size {
                // Retyping RAM into RAM must make smaller pieces, or the new
                // capability could not be told apart from a copy.
                return Err(CapError::BadArgument);
            }
            Ok((args.size, PAGE))
        }
        CapType::CNode => {
            let slots = args.size;
            let bits = slots.trailing_zeros();
            if !slots.is_power_of_two() || !(MIN_CNODE_BITS..=MAX_CNODE_BITS).contains(&bits) {
                return Err(CapError::BadArgument);
            }
            let size = slots * SLOT_SIZE;
            Ok((size, size))
        }
        CapType::Pml4 | CapType::Pdpt | CapType::Pd | CapType::Pt if args.size == 0 => {
            Ok((VNODE_SIZE, VNODE_SIZE))
        }
        CapType::Dispatcher if args.size == 0 => Ok((DISPATCHER_SIZE, DISPATCHER_SIZE)),
        CapType::Endpoint if args.size == 0 && args.offset == 0 && args.count == 1 => {
            Ok((src.size, src.size))
        }
        _ => Err(CapError::BadArgument),
    }
}

impl Mdb {
    /// Retypes the capability at `src` into `args.count` new objects of
    /// `args.ty`, placed in the slots `dest_slot ..` of the CNode at
    /// `dest_cnode`. The new capabilities carry every right and are
    /// descendants of the source. The cost is linear in the count.
    ///
    /// Checks, in this order: the source resolves and is not marked or
    /// locked; its type may be retyped into `args.ty` (`WrongType`); it has
    /// WRITE (`MissingRight`); it is owned here and has no remote relation
    /// (else `RetryThroughMonitor`: see [`crate::ops::agreed`]); the count
    /// is 1 to [`MAX_RETYPE_COUNT`] and the size fits the type
    /// (`BadArgument`, `Misaligned`); the first object is aligned for its
    /// type (`Misaligned`); every object lies inside the source
    /// (`OutOfRange`); the source has no descendants here
    /// (`HasDescendants`); the destination slots exist, are empty and the
    /// CNode has WRITE.
    pub fn retype(
        &mut self,
        cs: CSpace,
        src: CapAddr,
        args: RetypeArgs,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<Vec<Effect>, CapError> {
        self.retype_as(Gate::User, cs, src, args, dest_cnode, dest_slot)
    }

    /// [`Mdb::retype`] with the gate `gate`. With [`Gate::Agreed`] a
    /// source owned by another core is `NotPermitted` and one with
    /// descendants on another core (`DESCENDANTS`) is `HasDescendants`, in
    /// the place of the gate's refusal.
    pub fn retype_as(
        &mut self,
        gate: Gate,
        cs: CSpace,
        src: CapAddr,
        args: RetypeArgs,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let r = self
            .retype_checked(gate, cs, src, args)
            .and_then(|(start, size)| self.carve(cs, args, start, size, dest_cnode, dest_slot));
        self.finish(r)
    }

    /// The checks of a retype up to its destination: where the first
    /// object starts and how large each is.
    fn retype_checked(
        &self,
        gate: Gate,
        cs: CSpace,
        src: CapAddr,
        args: RetypeArgs,
    ) -> Result<(u64, u64), CapError> {
        let (key, src_cap) = self.cap_at(cs, src)?;
        if !src_cap.ty.can_retype_into(args.ty) {
            return Err(CapError::WrongType);
        }
        Mdb::need(src_cap.rights, Rights::WRITE)?;
        let rec = *self.record(&key)?;
        self.gate(gate, self.concerns_others(&rec))?;
        if rec.owner != self.core {
            return Err(CapError::NotPermitted);
        }
        if args.count == 0 || args.count > MAX_RETYPE_COUNT {
            return Err(CapError::BadArgument);
        }
        let (obj_size, align) = object_layout(&src_cap, &args)?;
        let start = src_cap
            .base
            .checked_add(args.offset)
            .ok_or(CapError::OutOfRange)?;
        if start % align != 0 {
            return Err(CapError::Misaligned);
        }
        let end = obj_size
            .checked_mul(u64::from(args.count))
            .and_then(|total| start.checked_add(total))
            .ok_or(CapError::OutOfRange)?;
        if end > src_cap.end().ok_or(CapError::OutOfRange)? {
            return Err(CapError::OutOfRange);
        }
        if !self.skip_descendant_check()
            && (self.has_descendants(&key)
                || rec.remote.contains(crate::RemoteRelations::DESCENDANTS))
        {
            return Err(CapError::HasDescendants);
        }
        Ok((start, obj_size))
    }

    /// Creates the objects of a checked retype in their slots.
    fn carve(
        &mut self,
        cs: CSpace,
        args: RetypeArgs,
        start: u64,
        obj_size: u64,
        dest_cnode: CapAddr,
        dest_slot: u32,
    ) -> Result<Vec<Effect>, CapError> {
        let slots = self.resolve_dest(cs, dest_cnode, dest_slot, args.count)?;

        let mut effects = Vec::with_capacity(slots.len());
        for (i, slot) in slots.into_iter().enumerate() {
            let cap = Cap::new(args.ty, start + obj_size * i as u64, obj_size);
            self.create_object(&cap);
            self.insert(cap, slot, self.core, crate::RemoteRelations::empty());
            effects.push(Effect::Created {
                ty: cap.ty,
                base: cap.base,
                size: cap.size,
            });
        }
        Ok(effects)
    }

    #[cfg(test)]
    fn skip_descendant_check(&self) -> bool {
        self.bug == Some(crate::tests::Bug::RetypeIgnoresDescendants)
    }

    #[cfg(not(test))]
    fn skip_descendant_check(&self) -> bool {
        false
    }
}
