//! Capability invocations from ring 3: each names capabilities in the
//! calling program's cspace, runs one operation of the core's capability
//! database, and applies its effects before it returns.
//!
//! Frames are mapped into the caller's capability window
//! ([`abi::CAP_MAP_BASE`]), one 2 MiB region per page table. The kernel
//! keeps those tables as VNode objects of its own cspace (`crate::capdb`),
//! so that the library checks every map and unmap and every delete or
//! revoke of a mapped frame takes its mapping along.
//!
//! Checks on a virtual address, in this order: in the kernel half
//! (`KernelHalf`), not page aligned (`Misaligned`), outside the window
//! (`OutOfRange`). The library then checks the rest; a run of pages that
//! leaves its 2 MiB region is `OutOfRange`.

use abi::cap::{CPtr, CapIdentity};
use abi::{CapError, Error, SysError, Syscall};
use caps::{CSpace, CapAddr, CapType, Gate, RemoteRelations, RetypeArgs, Rights};

use super::SCHED;
use super::space::{AddressSpace, USER_END};
use super::uslice::{UAccess, USlice};
use crate::capdb::{self, Caps};

/// The library's address for a decoded register.
pub(super) fn addr(c: CPtr) -> Result<CapAddr, CapError> {
    CapAddr::decode(u64::from(c.bits), u64::from(c.depth))
}

/// Rights from bits `abi::Syscall::decode` has checked.
fn rights(bits: u8) -> Rights {
    Rights::from_bits_truncate(bits)
}

/// Serves one capability invocation for the running program.
pub fn invoke(call: Syscall) -> Result<u64, Error> {
    let mut s = SCHED.lock();
    let i = s.current.ok_or(CapError::NoSuchSlot)?;
    let p = &mut s.programs[i];
    let mut guard = capdb::lock();
    let c = guard.as_mut().ok_or(CapError::NoSuchSlot)?;
    let cs = p.cspace.ok_or(CapError::NoSuchSlot)?;
    // The monitor (and the other programs started at boot in its place)
    // runs the cross-core protocols itself: its invocations carry out what
    // was agreed. A domain's retype, revoke or delete that needs other
    // cores is refused with `RetryThroughMonitor`.
    let mut gate = if cs == c.first {
        Gate::Agreed
    } else {
        Gate::User
    };
    // The monitor's agreed delete, revoke and retype are the plain ones
    // without the gate, once it shows the Kernel capability.
    let call = match call.agreed() {
        Some((kernel, plain)) => {
            c.mdb.kernel_cap(cs, addr(kernel)?)?;
            gate = Gate::Agreed;
            plain
        }
        None => call,
    };
    match call {
        Syscall::CapIdentify { cap, ptr } => {
            let cap = c.mdb.identify(cs, addr(cap)?)?;
            let id = CapIdentity {
                ty: cap.ty as u8,
                rights: cap.rights.bits(),
                _reserved: [0; 6],
                base: cap.base,
                size: cap.size,
                badge: cap.badge,
            };
            let len = core::mem::size_of::<CapIdentity>() as u64;
            USlice::new(&p.space, ptr, len, UAccess::Write)?.write_value(&id);
            Ok(0)
        }
        Syscall::CapRetype {
            src,
            ty,
            count,
            offset,
            size,
            dest,
            dest_slot,
        } => {
            let args = RetypeArgs {
                ty: CapType::from_code(ty).ok_or(CapError::BadArgument)?,
                offset,
                size,
                count,
            };
            let fx = c
                .mdb
                .retype_as(gate, cs, addr(src)?, args, addr(dest)?, dest_slot)?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::CapMark { kernel, cap } => {
            let n = c.mdb.mark(cs, addr(kernel)?, addr(cap)?)?;
            Ok(n as u64)
        }
        Syscall::CapUnmark { kernel, cap } => {
            let n = c.mdb.unmark(cs, addr(kernel)?, addr(cap)?)?;
            Ok(n as u64)
        }
        Syscall::CapSweep { kernel } => {
            let (n, fx) = c.mdb.sweep(cs, addr(kernel)?)?;
            c.apply(&fx);
            Ok(n as u64)
        }
        Syscall::CapCopy {
            src,
            dest,
            dest_slot,
        } => {
            c.mdb.copy(cs, addr(src)?, addr(dest)?, dest_slot)?;
            Ok(0)
        }
        Syscall::CapMint {
            src,
            dest,
            dest_slot,
            rights: r,
            badge,
        } => {
            c.mdb
                .mint(cs, addr(src)?, addr(dest)?, dest_slot, rights(r), badge)?;
            Ok(0)
        }
        Syscall::CapDelete { cap } => {
            let fx = c.mdb.delete_as(gate, cs, addr(cap)?)?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::CapRevoke { cap } => {
            let fx = c.mdb.revoke_as(gate, cs, addr(cap)?)?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::CapMap {
            frame,
            va,
            rights: r,
            offset,
            count,
        } => map(
            c,
            cs,
            &mut p.space,
            addr(frame)?,
            va,
            rights(r),
            offset,
            count,
        ),
        Syscall::CapUnmap { va } => {
            check_va(va)?;
            let t = p.space.cap_table(va).ok_or(CapError::NotMapped)?;
            let fx = c.mdb.unmap(c.kernel, CapAddr::l1(t.pt), entry_of(va))?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::CapExport { kernel, cap, ptr } => {
            let bytes = c.mdb.export_with(cs, addr(kernel)?, addr(cap)?)?;
            USlice::new(&p.space, ptr, bytes.len() as u64, UAccess::Write)?.write(&bytes);
            Ok(0)
        }
        Syscall::CapImport {
            kernel,
            ptr,
            dest,
            dest_slot,
            owner,
        } => {
            let kernel = addr(kernel)?;
            c.mdb.kernel_cap(cs, kernel)?;
            let me = crate::percpu::this();
            if owner >= me.count {
                return Err(CapError::BadArgument.into());
            }
            // A copy comes home only through the cross-core protocols:
            // bytes naming this core as owner would make memory out of
            // nothing.
            if owner == me.id {
                return Err(CapError::NotPermitted.into());
            }
            let len = abi::cap::WIRE_LEN as u64;
            let bytes: [u8; abi::cap::WIRE_LEN] =
                USlice::new(&p.space, ptr, len, UAccess::Read)?.read();
            // Only memory some core hands out, never a kernel's own.
            let within = capdb::importable();
            c.mdb.create_received_within(
                &within,
                cs,
                kernel,
                &bytes,
                owner,
                RemoteRelations::COPIES,
                addr(dest)?,
                dest_slot,
            )?;
            Ok(0)
        }
        Syscall::VnodeMap {
            table,
            index,
            src,
            rights: r,
            offset,
            count,
        } => {
            let fx = c.mdb.map(
                cs,
                addr(table)?,
                index,
                addr(src)?,
                rights(r),
                offset,
                count,
            )?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::VnodeProtect {
            table,
            index,
            rights: r,
        } => {
            let fx = c.mdb.protect(cs, addr(table)?, index, rights(r))?;
            c.apply(&fx);
            Ok(0)
        }
        Syscall::VnodeUnmap { table, index } => {
            let fx = c.mdb.unmap(cs, addr(table)?, index)?;
            c.apply(&fx);
            Ok(0)
        }
        _ => Err(SysError::UnknownSyscall.into()),
    }
}

/// Checks a virtual address of the capability window.
fn check_va(va: u64) -> Result<(), CapError> {
    if va >= USER_END {
        return Err(CapError::KernelHalf);
    }
    if !va.is_multiple_of(abi::FRAME) {
        return Err(CapError::Misaligned);
    }
    if !(abi::CAP_MAP_BASE..abi::CAP_MAP_BASE + abi::CAP_MAP_SIZE).contains(&va) {
        return Err(CapError::OutOfRange);
    }
    Ok(())
}

/// The entry of `va` in its region's page table.
fn entry_of(va: u64) -> u32 {
    ((va >> 12) & 511) as u32
}

#[allow(clippy::too_many_arguments)]
fn map(
    c: &mut Caps,
    cs: CSpace,
    space: &mut AddressSpace,
    frame: CapAddr,
    va: u64,
    rights: Rights,
    offset: u64,
    count: u32,
) -> Result<u64, Error> {
    check_va(va)?;
    if space.is_vnode() {
        // A domain built from user level maps into its own VNodes
        // (`VnodeMap`); the kernel keeps no tables in its address space.
        return Err(CapError::NotPermitted.into());
    }
    let (t, fresh) = match space.cap_table(va) {
        Some(t) => (t, false),
        None => {
            let t = c.new_table(space.root(), va & !((2 << 20) - 1))?;
            if let Err(e) = space.link_cap_table(va, t) {
                c.drop_table(t);
                return Err(e.into());
            }
            (t, true)
        }
    };
    let table = CapAddr::l1(t.pt);
    match c.mdb.map_across(
        c.kernel,
        table,
        entry_of(va),
        cs,
        frame,
        rights,
        offset,
        count,
    ) {
        Ok(fx) => {
            c.apply(&fx);
            Ok(va)
        }
        Err(e) => {
            // A refused map leaves nothing behind, not even its table.
            if fresh {
                space.unlink_cap_table(va);
                c.drop_table(t);
            }
            Err(e.into())
        }
    }
}

/// Drops the capability-window page tables of an address space that is
/// about to end: the frames mapped there are unmapped (their capabilities
/// stay with their holders) and the tables' frames return to the core.
pub fn release(space: &mut AddressSpace) {
    let tables = space.take_cap_tables();
    if tables.is_empty() {
        return;
    }
    let mut guard = capdb::lock();
    let Some(c) = guard.as_mut() else {
        log::error!("capability tables without a capability database");
        return;
    };
    for t in tables {
        c.drop_table(t);
    }
}
