//! Decoding a call from its number and argument registers.

use super::Syscall;
use crate::cap::{self, CPtr, CapError};
use crate::error::{Error, SysError};
use crate::number;

impl Syscall {
    /// Decodes a call from its number and argument registers. An unknown
    /// number is [`SysError::UnknownSyscall`]; a capability invocation's
    /// registers that cannot be what they should is a [`CapError`]: a bad
    /// capability address as [`CPtr::decode`] says, a slot index, count or
    /// right bits that do not fit, set bits that must be clear
    /// (`BadArgument`).
    pub fn decode(number: u64, args: [u64; 6]) -> Result<Syscall, Error> {
        let [a0, a1, a2, a3, a4, a5] = args;
        Ok(match number {
            number::PRINT => Syscall::Print { ptr: a0, len: a1 },
            number::INFO => Syscall::Info { ptr: a0, len: a1 },
            number::YIELD => Syscall::Yield,
            number::WAIT => Syscall::Wait { timeout: a0 },
            number::NOTIFY => Syscall::Notify {
                cap: CPtr::decode(a0)?,
            },
            number::ARGS => Syscall::Args { ptr: a0, len: a1 },
            number::EXIT => Syscall::Exit { code: a0 },
            number::SHUTDOWN => Syscall::Shutdown {
                cap: CPtr::decode(a0)?,
                code: a1,
            },
            number::PANIC => Syscall::Panic {
                file: a0,
                file_len: a1,
                line: a2,
            },
            number::CAP_IDENTIFY => Syscall::CapIdentify {
                cap: CPtr::decode(a0)?,
                ptr: a1,
            },
            number::CAP_RETYPE => {
                if a1 & 0xffff_ff00 != 0 {
                    return Err(CapError::BadArgument.into());
                }
                Syscall::CapRetype {
                    src: CPtr::decode(a0)?,
                    ty: a1 as u8,
                    count: (a1 >> 32) as u32,
                    offset: a2,
                    size: a3,
                    dest: CPtr::decode(a4)?,
                    dest_slot: slot_index(a5)?,
                }
            }
            number::CAP_COPY => Syscall::CapCopy {
                src: CPtr::decode(a0)?,
                dest: CPtr::decode(a1)?,
                dest_slot: slot_index(a2)?,
            },
            number::CAP_MINT => Syscall::CapMint {
                src: CPtr::decode(a0)?,
                dest: CPtr::decode(a1)?,
                dest_slot: slot_index(a2)?,
                rights: rights_bits(a3)?,
                badge: a4,
            },
            number::CAP_DELETE => Syscall::CapDelete {
                cap: CPtr::decode(a0)?,
            },
            number::CAP_REVOKE => Syscall::CapRevoke {
                cap: CPtr::decode(a0)?,
            },
            number::CAP_MAP => Syscall::CapMap {
                frame: CPtr::decode(a0)?,
                va: a1,
                rights: rights_bits(a2)?,
                offset: a3,
                count: u32::try_from(a4).map_err(|_| CapError::OutOfRange)?,
            },
            number::CAP_UNMAP => Syscall::CapUnmap { va: a0 },
            number::CAP_EXPORT => {
                zero(&[a3, a4, a5])?;
                Syscall::CapExport {
                    kernel: CPtr::decode(a0)?,
                    cap: CPtr::decode(a1)?,
                    ptr: a2,
                }
            }
            number::CAP_IMPORT => {
                zero(&[a5])?;
                Syscall::CapImport {
                    kernel: CPtr::decode(a0)?,
                    ptr: a1,
                    dest: CPtr::decode(a2)?,
                    dest_slot: slot_index(a3)?,
                    owner: u32::try_from(a4).map_err(|_| CapError::BadArgument)?,
                }
            }
            number::CAP_MARK
            | number::CAP_UNMARK
            | number::CAP_DELETE_AGREED
            | number::CAP_REVOKE_AGREED => {
                zero(&[a2, a3, a4, a5])?;
                let (kernel, cap) = (CPtr::decode(a0)?, CPtr::decode(a1)?);
                match number {
                    number::CAP_MARK => Syscall::CapMark { kernel, cap },
                    number::CAP_UNMARK => Syscall::CapUnmark { kernel, cap },
                    number::CAP_DELETE_AGREED => Syscall::CapDeleteAgreed { kernel, cap },
                    _ => Syscall::CapRevokeAgreed { kernel, cap },
                }
            }
            number::CAP_SWEEP => {
                zero(&[a1, a2, a3, a4, a5])?;
                Syscall::CapSweep {
                    kernel: CPtr::decode(a0)?,
                }
            }
            number::CAP_RETYPE_AGREED => Syscall::CapRetypeAgreed {
                kernel: CPtr::decode(a5)?,
                src: CPtr::decode(a0)?,
                ty: a1 as u8,
                count: (a1 >> 32) as u32,
                offset: a2,
                size: a3,
                dest: CPtr::decode(a4)?,
                dest_slot: ((a1 >> 8) & 0xff_ffff) as u32,
            },
            number::VNODE_MAP => Syscall::VnodeMap {
                table: CPtr::decode(a0)?,
                index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                src: CPtr::decode(a2)?,
                rights: rights_bits(a3)?,
                offset: a4,
                count: u32::try_from(a5).map_err(|_| CapError::OutOfRange)?,
            },
            number::VNODE_UNMAP => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::VnodeUnmap {
                    table: CPtr::decode(a0)?,
                    index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                }
            }
            number::DISPATCHER_RUN => {
                zero(&[a3, a4, a5])?;
                Syscall::DispatcherRun {
                    disp: CPtr::decode(a0)?,
                    ptr: a1,
                    len: a2,
                }
            }
            number::DISPATCHER_STATUS => {
                zero(&[a1, a2, a3, a4, a5])?;
                Syscall::DispatcherStatus {
                    disp: CPtr::decode(a0)?,
                }
            }
            number::LMP_SEND => Syscall::LmpSend {
                ep: CPtr::decode(a0)?,
                cap: optional_cptr(a1)?,
                words: [a2, a3, a4, a5],
            },
            number::DISPATCHER_UPCALL => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::DispatcherUpcall {
                    entry: a0,
                    stack: a1,
                }
            }
            number::DISPATCHER_RESUME => {
                zero(&[a0, a1, a2, a3, a4, a5])?;
                Syscall::DispatcherResume
            }
            number::VNODE_PROTECT => {
                zero(&[a3, a4, a5])?;
                Syscall::VnodeProtect {
                    table: CPtr::decode(a0)?,
                    index: u32::try_from(a1).map_err(|_| CapError::OutOfRange)?,
                    rights: rights_bits(a2)?,
                }
            }
            number::FAULT_HANDLER => {
                zero(&[a2, a3, a4, a5])?;
                Syscall::FaultHandler {
                    entry: a0,
                    stack: a1,
                }
            }
            number::FAULT_RESUME => {
                zero(&[a1, a2, a3, a4, a5])?;
                Syscall::FaultResume {
                    give_up: match a0 {
                        0 => false,
                        1 => true,
                        _ => return Err(SysError::BadCode.into()),
                    },
                }
            }
            number::LMP_RECV => {
                zero(&[a3, a4, a5])?;
                let dest = optional_cptr(a0)?;
                if dest.is_none() && a1 != 0 {
                    return Err(CapError::BadArgument.into());
                }
                Syscall::LmpRecv {
                    dest,
                    slot: slot_index(a1)?,
                    timeout: a2,
                }
            }
            _ => return Err(SysError::UnknownSyscall.into()),
        })
    }
}

/// A capability address register that may be 0 (none).
fn optional_cptr(v: u64) -> Result<Option<CPtr>, CapError> {
    if v == 0 {
        return Ok(None);
    }
    CPtr::decode(v).map(Some)
}

/// A slot index register: it must fit in 32 bits.
fn slot_index(v: u64) -> Result<u32, CapError> {
    u32::try_from(v).map_err(|_| CapError::NoSuchSlot)
}

/// Registers a call does not use: they must be zero.
fn zero(regs: &[u64]) -> Result<(), CapError> {
    if regs.iter().any(|r| *r != 0) {
        return Err(CapError::BadArgument);
    }
    Ok(())
}

/// A rights register: only the bits of [`cap::rights::ALL`].
fn rights_bits(v: u64) -> Result<u8, CapError> {
    if v & !u64::from(cap::rights::ALL) != 0 {
        return Err(CapError::BadArgument);
    }
    Ok(v as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{disp, layout::CAP_MAP_BASE};

    #[test]
    fn decodes_every_call_and_refuses_unknown_numbers() {
        let a = [7, 9, 0, 0, 0, 0];
        assert_eq!(
            Syscall::decode(number::PRINT, a),
            Ok(Syscall::Print { ptr: 7, len: 9 })
        );
        assert_eq!(
            Syscall::decode(number::RETIRED_5, a),
            Err(Error::Sys(SysError::UnknownSyscall)),
            "mapping the pool without a capability is gone"
        );
        assert_eq!(
            Syscall::decode(number::SHUTDOWN, [CPtr::l1(6).raw(), 7, 0, 0, 0, 0]),
            Ok(Syscall::Shutdown {
                cap: CPtr::l1(6),
                code: 7
            })
        );
        assert_eq!(
            Syscall::decode(number::PANIC, [1, 2, 3, 0, 0, 0]),
            Ok(Syscall::Panic {
                file: 1,
                file_len: 2,
                line: 3
            })
        );
        assert_eq!(
            Syscall::decode(99, a),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
        let cptr = CPtr::l1(7).raw();
        let good = [cptr, cptr, 0, 0, cptr, 0];
        for n in (0..=number::LAST).filter(|&n| n != number::RETIRED_5) {
            let args = match n {
                number::CAP_MAP => [cptr, CAP_MAP_BASE, 1, 0, 1, 0],
                number::CAP_EXPORT => [cptr, cptr, 0, 0, 0, 0],
                number::CAP_IMPORT => [cptr, 0, cptr, 0, 1, 0],
                number::VNODE_MAP => [cptr, 0, cptr, 1, 0, 1],
                number::VNODE_UNMAP | number::DISPATCHER_STATUS => [cptr, 0, 0, 0, 0, 0],
                number::DISPATCHER_RUN => [cptr, 0x1000, 72, 0, 0, 0],
                number::LMP_RECV => [cptr, 0, 0, 0, 0, 0],
                number::FAULT_HANDLER | number::FAULT_RESUME => [0; 6],
                number::VNODE_PROTECT => [cptr, 0, 1, 0, 0, 0],
                number::DISPATCHER_UPCALL | number::DISPATCHER_RESUME => [0; 6],
                number::CAP_MARK
                | number::CAP_UNMARK
                | number::CAP_DELETE_AGREED
                | number::CAP_REVOKE_AGREED => [cptr, cptr, 0, 0, 0, 0],
                number::CAP_SWEEP => [cptr, 0, 0, 0, 0, 0],
                number::CAP_RETYPE_AGREED => [cptr, 1, 0, 0, cptr, cptr],
                _ => good,
            };
            assert!(Syscall::decode(n, args).is_ok(), "{n}");
        }
        assert_eq!(
            Syscall::decode(number::LAST + 1, good),
            Err(Error::Sys(SysError::UnknownSyscall))
        );
    }

    #[test]
    fn decodes_the_monitors_agreed_operations() {
        let (k, c) = (CPtr::l1(1), CPtr::l2_wide(3, 4000).unwrap());
        let two = [k.raw(), c.raw(), 0, 0, 0, 0];
        assert_eq!(
            Syscall::decode(number::CAP_MARK, two),
            Ok(Syscall::CapMark { kernel: k, cap: c })
        );
        assert_eq!(
            Syscall::decode(number::CAP_UNMARK, two),
            Ok(Syscall::CapUnmark { kernel: k, cap: c })
        );
        assert_eq!(
            Syscall::decode(number::CAP_DELETE_AGREED, two),
            Ok(Syscall::CapDeleteAgreed { kernel: k, cap: c })
        );
        assert_eq!(
            Syscall::decode(number::CAP_REVOKE_AGREED, two),
            Ok(Syscall::CapRevokeAgreed { kernel: k, cap: c })
        );
        assert_eq!(
            Syscall::decode(number::CAP_SWEEP, [k.raw(), 0, 0, 0, 0, 0]),
            Ok(Syscall::CapSweep { kernel: k })
        );
        let packed = u64::from(cap::ty::FRAME) | (4095 << 8) | (4096u64 << 32);
        assert_eq!(
            Syscall::decode(
                number::CAP_RETYPE_AGREED,
                [c.raw(), packed, 8192, 4096, k.raw(), k.raw()]
            ),
            Ok(Syscall::CapRetypeAgreed {
                kernel: k,
                src: c,
                ty: cap::ty::FRAME,
                count: 4096,
                offset: 8192,
                size: 4096,
                dest: k,
                dest_slot: 4095
            })
        );
        let plain = Syscall::CapDelete { cap: c };
        assert_eq!(
            Syscall::CapDeleteAgreed { kernel: k, cap: c }.agreed(),
            Some((k, plain))
        );
        assert_eq!(plain.agreed(), None);
        assert_eq!(Syscall::CapMark { kernel: k, cap: c }.agreed(), None);
        let bad = Some(Error::Cap(CapError::BadArgument));
        for n in [
            number::CAP_MARK,
            number::CAP_SWEEP,
            number::CAP_REVOKE_AGREED,
        ] {
            assert_eq!(
                Syscall::decode(n, [k.raw(), c.raw(), 0, 0, 0, 9]).err(),
                bad
            );
        }
        assert_eq!(Syscall::decode(number::CAP_SWEEP, [0; 6]).err(), bad);
        assert_eq!(
            Syscall::decode(number::CAP_RETYPE_AGREED, [c.raw(), 1, 0, 0, k.raw(), 0]).err(),
            bad,
            "no Kernel capability register"
        );
    }

    #[test]
    fn decodes_capability_invocations_and_checks_their_registers() {
        let src = CPtr::l1(4);
        let dest = CPtr::l2(3, 9).unwrap();
        let packed = u64::from(cap::ty::FRAME) | (5u64 << 32);
        assert_eq!(
            Syscall::decode(
                number::CAP_RETYPE,
                [src.raw(), packed, 8192, 4096, dest.raw(), 17]
            ),
            Ok(Syscall::CapRetype {
                src,
                ty: cap::ty::FRAME,
                count: 5,
                offset: 8192,
                size: 4096,
                dest,
                dest_slot: 17
            })
        );
        let bad = |n, a| Syscall::decode(n, a).err();
        // Bits between the type and the count.
        assert_eq!(
            bad(number::CAP_RETYPE, [src.raw(), 1 << 8, 0, 0, 0, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        // A depth of three, a depth of zero, bits above the depth.
        for raw in [3u64 << 32, 0, 1 << 40 | 1 << 32] {
            assert_eq!(
                bad(number::CAP_DELETE, [raw, 0, 0, 0, 0, 0]),
                Some(Error::Cap(CapError::BadArgument)),
                "{raw:#x}"
            );
        }
        // A slot index that does not fit.
        assert_eq!(
            bad(number::CAP_COPY, [src.raw(), dest.raw(), 1 << 32, 0, 0, 0]),
            Some(Error::Cap(CapError::NoSuchSlot))
        );
        // Unknown right bits.
        assert_eq!(
            bad(number::CAP_MINT, [src.raw(), dest.raw(), 1, 0x10, 0, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        assert_eq!(
            bad(number::CAP_MAP, [src.raw(), CAP_MAP_BASE, 0x81, 0, 1, 0]),
            Some(Error::Cap(CapError::BadArgument))
        );
        // A page count that does not fit.
        assert_eq!(
            bad(number::CAP_MAP, [src.raw(), CAP_MAP_BASE, 1, 0, 1 << 32, 0]),
            Some(Error::Cap(CapError::OutOfRange))
        );
        assert_eq!(
            Syscall::decode(number::CAP_UNMAP, [CAP_MAP_BASE, 0, 0, 0, 0, 0]),
            Ok(Syscall::CapUnmap { va: CAP_MAP_BASE })
        );
    }

    #[test]
    fn decodes_export_and_import_and_checks_every_register() {
        let k = CPtr::l1(cap::slot::KERNEL);
        let f = CPtr::l2(3, 9).unwrap();
        let root = CPtr::l1(0);
        assert_eq!(
            Syscall::decode(number::CAP_EXPORT, [k.raw(), f.raw(), 0x5000, 0, 0, 0]),
            Ok(Syscall::CapExport {
                kernel: k,
                cap: f,
                ptr: 0x5000
            })
        );
        let import = [k.raw(), 0x5000, root.raw(), 12, 1, 0];
        assert_eq!(
            Syscall::decode(number::CAP_IMPORT, import),
            Ok(Syscall::CapImport {
                kernel: k,
                ptr: 0x5000,
                dest: root,
                dest_slot: 12,
                owner: 1
            })
        );
        let bad = |n, a| Syscall::decode(n, a).err().map(|e: Error| e.name());
        for i in 3..6 {
            let mut a = [k.raw(), f.raw(), 0x5000, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::CAP_EXPORT, a), Some("bad-argument"), "{i}");
        }
        for (i, v, want) in [
            (0, 7, "bad-argument"),
            (2, 1 << 40, "bad-argument"),
            (3, 1 << 32, "no-such-slot"),
            (4, 1 << 32, "bad-argument"),
            (5, 1, "bad-argument"),
        ] {
            let mut a = import;
            a[i] = v;
            assert_eq!(bad(number::CAP_IMPORT, a), Some(want), "{i}");
        }
        assert_eq!(
            bad(number::CAP_EXPORT, [k.raw(), 3 << 32, 0x5000, 0, 0, 0]),
            Some("bad-argument")
        );
    }

    #[test]
    fn decodes_the_vnode_and_dispatcher_calls_and_checks_every_register() {
        let t = CPtr::l1(9);
        let f = CPtr::l2(3, 4).unwrap();
        assert_eq!(
            Syscall::decode(number::VNODE_MAP, [t.raw(), 5, f.raw(), 3, 0x2000, 7]),
            Ok(Syscall::VnodeMap {
                table: t,
                index: 5,
                src: f,
                rights: 3,
                offset: 0x2000,
                count: 7
            })
        );
        assert_eq!(
            Syscall::decode(number::VNODE_UNMAP, [t.raw(), 511, 0, 0, 0, 0]),
            Ok(Syscall::VnodeUnmap {
                table: t,
                index: 511
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_RUN, [t.raw(), 0x4000, 72, 0, 0, 0]),
            Ok(Syscall::DispatcherRun {
                disp: t,
                ptr: 0x4000,
                len: 72
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_STATUS, [t.raw(), 0, 0, 0, 0, 0]),
            Ok(Syscall::DispatcherStatus { disp: t })
        );
        let bad = |n, a| Syscall::decode(n, a).err().map(Error::name);
        let map = [t.raw(), 5, f.raw(), 3, 0, 1];
        for (i, v, want) in [
            (0, 3 << 32, "bad-argument"),
            (1, 1 << 32, "out-of-range"),
            (2, 0, "bad-argument"),
            (3, 0x10, "bad-argument"),
            (5, 1 << 32, "out-of-range"),
        ] {
            let mut a = map;
            a[i] = v;
            assert_eq!(bad(number::VNODE_MAP, a), Some(want), "{i}");
        }
        for i in 2..6 {
            let mut a = [t.raw(), 0, 0, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::VNODE_UNMAP, a), Some("bad-argument"), "{i}");
            assert_eq!(
                bad(number::DISPATCHER_STATUS, a),
                Some("bad-argument"),
                "{i}"
            );
            if i >= 3 {
                assert_eq!(bad(number::DISPATCHER_RUN, a), Some("bad-argument"), "{i}");
            }
        }
        assert_eq!(
            bad(number::DISPATCHER_STATUS, [0, 0, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            core::mem::size_of::<disp::DispatcherParams>(),
            72,
            "the parameters' size is part of the ABI"
        );
        assert_eq!(
            Syscall::decode(number::LMP_SEND, [t.raw(), 0, 1, 2, 3, 4]),
            Ok(Syscall::LmpSend {
                ep: t,
                cap: None,
                words: [1, 2, 3, 4]
            })
        );
        assert_eq!(
            Syscall::decode(number::LMP_SEND, [t.raw(), f.raw(), 0, 0, 0, 0]),
            Ok(Syscall::LmpSend {
                ep: t,
                cap: Some(f),
                words: [0; 4]
            })
        );
        assert_eq!(
            bad(number::LMP_SEND, [t.raw(), 5 << 32, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(number::LMP_RECV, [t.raw(), 7, 100, 0, 0, 0]),
            Ok(Syscall::LmpRecv {
                dest: Some(t),
                slot: 7,
                timeout: 100
            })
        );
        assert_eq!(
            Syscall::decode(number::LMP_RECV, [0, 0, 0, 0, 0, 0]),
            Ok(Syscall::LmpRecv {
                dest: None,
                slot: 0,
                timeout: 0
            })
        );
        assert_eq!(
            bad(number::LMP_RECV, [0, 3, 0, 0, 0, 0]),
            Some("bad-argument"),
            "a slot without a CNode"
        );
        assert_eq!(
            bad(number::LMP_RECV, [t.raw(), 1 << 32, 0, 0, 0, 0]),
            Some("no-such-slot")
        );
        for i in 3..6 {
            let mut a = [t.raw(), 0, 0, 0, 0, 0];
            a[i] = 1;
            assert_eq!(bad(number::LMP_RECV, a), Some("bad-argument"), "{i}");
        }
        assert_eq!(
            Syscall::decode(number::FAULT_HANDLER, [0x40_1000, 0x50_0000, 0, 0, 0, 0]),
            Ok(Syscall::FaultHandler {
                entry: 0x40_1000,
                stack: 0x50_0000
            })
        );
        assert_eq!(
            Syscall::decode(number::FAULT_RESUME, [1, 0, 0, 0, 0, 0]),
            Ok(Syscall::FaultResume { give_up: true })
        );
        assert_eq!(
            bad(number::FAULT_RESUME, [2, 0, 0, 0, 0, 0]),
            Some("bad-code")
        );
        assert_eq!(
            bad(number::FAULT_HANDLER, [1, 2, 3, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(number::VNODE_PROTECT, [t.raw(), 3, 1, 0, 0, 0]),
            Ok(Syscall::VnodeProtect {
                table: t,
                index: 3,
                rights: 1
            })
        );
        assert_eq!(
            bad(number::VNODE_PROTECT, [t.raw(), 3, 0x20, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(
            Syscall::decode(
                number::DISPATCHER_UPCALL,
                [0x40_2000, 0x60_0000, 0, 0, 0, 0]
            ),
            Ok(Syscall::DispatcherUpcall {
                entry: 0x40_2000,
                stack: 0x60_0000
            })
        );
        assert_eq!(
            Syscall::decode(number::DISPATCHER_RESUME, [0; 6]),
            Ok(Syscall::DispatcherResume)
        );
        assert_eq!(
            bad(number::DISPATCHER_RESUME, [1, 0, 0, 0, 0, 0]),
            Some("bad-argument")
        );
        assert_eq!(number::LAST, number::CAP_RETYPE_AGREED);
    }
}
