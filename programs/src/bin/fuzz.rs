//! `fuzz`: random capability invocations from ring 3 (`fuzz=SEED:CALLS` on
//! the kernel command line; the value is this program's argument string).
//!
//! Each core makes its share of `CALLS` invocations from a generator
//! seeded with `SEED` and the core id. About a quarter are garbage: a
//! random call number from the capability invocations up, with registers
//! drawn from random words, small numbers, capability addresses, window
//! addresses and edge values. The rest are built from the capabilities it
//! holds, so that the deep paths run: it splits its RAM into pieces,
//! retypes them into frames, CNodes, page tables and dispatchers, copies
//! and mints them, maps frames into its capability window (and reads and
//! writes every page it mapped), unmaps, deletes and revokes, and now and
//! then revokes all of its RAM and starts over. It never deletes the
//! first slots of its cspace (root, Kernel, RAM, pool RAM) and never
//! copies the root CNode, so the run never loses its authority.
//!
//! One call in eight enters the kernel oddly (`sys::Via`): with random
//! flags set by `popfq` (NT, TF, AC, DF), or by a jump to the kernel's
//! entry from ring 3 with a forged R11 (IOPL, NT, VM, RF, TF, interrupts
//! off) and RCX just after a `syscall` of its own. Every call must come
//! back with interrupts on and without TF, IOPL, NT, RF, VM, VIF or VIP
//! (`fuzz-flags`, `flags-leaked` otherwise). Calls with a non-canonical
//! RIP or RSP end the caller by design (the `hostile` program's tests
//! make them).
//!
//! Every call must return success or an error that `abi::Error` knows
//! (a call number past the last must return `unknown-syscall`). Anything
//! else ends the run with a `fail`: `fuzz-recent` records list the last
//! calls, and a `fuzz-fail` record names the seed, the call's index, its
//! number, its registers and what it returned. With `:trace` every call is
//! printed (`fuzz-call`) before it is made. The CPU driver numbers the
//! calls the same way (`call=` in its records), checks its capability
//! database as they run, and ends the run on the first broken invariant.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

use abi::cap::{CPtr, CapIdentity, rights, slot, ty};
use abi::{CAP_MAP_BASE, CAP_MAP_SIZE, Error, SysError, number};
use alloc::vec::Vec;
use services::platforms::ring3::{self, record, sys};
use services::rng::Rng;

/// Calls kept for a report.
const RECENT: usize = 16;
/// RAM pieces the fuzzer splits its RAM into, and where they go.
const PIECES: u32 = 32;
const PIECE_SIZE: u64 = 64 << 10;
const PIECE_AT: u32 = 256 - PIECES;
/// Slots of the CNodes it makes and tracks.
const CNODE_SLOTS: u32 = 16;
/// 2 MiB regions of the window it maps into.
const REGIONS: u64 = 4;
const REGION: u64 = 2 << 20;
/// A root slot that holds something of unknown type.
const UNKNOWN: u8 = 0xff;
/// A slot that holds a copy of the RAM in its first slot: a revoke of it
/// would take that RAM, so only the RAM's own slot is revoked.
const RAM_COPY: u8 = 0xfe;

/// One call, for reports.
#[derive(Clone, Copy, Default)]
struct Call {
    index: u64,
    number: u64,
    args: [u64; 6],
    rax: u64,
    rdx: u64,
}

/// Six registers as `0x..,0x..`.
struct Args<'a>(&'a [u64; 6]);

impl core::fmt::Display for Args<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{a:#x}")?;
        }
        Ok(())
    }
}

struct Fuzz {
    rng: Rng,
    seed: u64,
    share: u64,
    trace: bool,
    /// Calls made.
    index: u64,
    recent: [Call; RECENT],
    ok: u64,
    errors: u64,
    touched: u64,
    /// What the fuzzer believes each root slot holds (a type code, 0 for
    /// empty, [`UNKNOWN`]); only a guide, corrected by the errors it gets.
    root: [u8; 256],
    /// The same for the slots of a CNode of [`CNODE_SLOTS`] in a root slot.
    cnodes: Vec<[u8; CNODE_SLOTS as usize]>,
    /// Whether the RAM pieces are in place.
    pieces: bool,
    /// Addresses it mapped, for unmaps.
    mapped: [u64; 32],
    identity: CapIdentity,
    /// Base and size of the RAM in its first slot.
    ram: (u64, u64),
}

/// Whether a capability-address register names one of the first slots of
/// the root (directly, or through the root's own capability in slot 0).
fn first_slot(raw: u64) -> bool {
    match CPtr::decode(raw) {
        Ok(c) if c.depth == 1 => c.bits < slot::FIRST_FREE,
        Ok(c) => c.bits >> 8 == slot::ROOT_CNODE && c.bits & 0xff < slot::FIRST_FREE,
        Err(_) => false,
    }
}

/// Whether a register names the channel pool's CNode or a Frame in it,
/// which the monitor after the fuzzer maps its channels with, or the CNode
/// of Notify capabilities or one of them, which it notifies with.
fn names_the_pool(raw: u64) -> bool {
    [slot::POOL, slot::NOTIFY]
        .into_iter()
        .any(|s| match CPtr::decode(raw) {
            Ok(c) if c.depth == 1 => c.bits == s,
            Ok(c) => c.bits >> 8 == s || c.bits == (slot::ROOT_CNODE << 8) | s,
            Err(_) => false,
        })
}

/// Whether it names the root CNode's own capability or the RAM, which the
/// fuzzer copies only where it keeps track of the copies, or the Kernel
/// capability, which it never copies: revoking a copy would delete the one
/// the monitor after it needs.
fn root_or_ram(raw: u64) -> bool {
    // At depth two, bits 0, 1 and 2 name the same slots through slot 0.
    matches!(CPtr::decode(raw), Ok(c) if c.bits == slot::ROOT_CNODE || c.bits == slot::RAM || c.bits == slot::KERNEL)
}

/// RFLAGS bits no return to ring 3 may carry: TF, IOPL, NT, RF, VM, VIF
/// and VIP.
const FLAGS_NEVER_BACK: u64 = 0x100 | 0x3000 | 0x4000 | 0x1_0000 | 0x2_0000 | 0x8_0000 | 0x10_0000;
/// The interrupt flag, which every return to ring 3 sets.
const IF: u64 = 0x200;

fn l1(i: u32) -> CPtr {
    CPtr::l1(i)
}

fn root() -> CPtr {
    l1(slot::ROOT_CNODE)
}

impl Fuzz {
    /// Makes one call, unless the share is spent; checks that its result
    /// is typed and ends the run if not.
    fn call(&mut self, number: u64, args: [u64; 6]) -> Option<Result<u64, Error>> {
        if self.index >= self.share {
            return None;
        }
        let index = self.index;
        if self.trace {
            record(
                "fuzz-call",
                format_args!("call={index} number={number} args={}", Args(&args)),
            );
        }
        let via = self.via();
        let (rax, rdx, flags) = sys::invoke_regs_via(number, args, &mut self.identity, via)?;
        self.index += 1;
        self.recent[(index % RECENT as u64) as usize] = Call {
            index,
            number,
            args,
            rax,
            rdx,
        };
        if self.trace {
            record(
                "fuzz-result",
                format_args!("call={index} rax={rax:#x} rdx={rdx:#x}"),
            );
        }
        if flags & FLAGS_NEVER_BACK != 0 || flags & IF == 0 {
            record(
                "fuzz-flags",
                format_args!("call={index} via={via:?} flags={flags:#x}"),
            );
            self.fail(index, "flags-leaked");
        }
        let decoded = if rax == 0 {
            Some(Ok(rdx))
        } else {
            Error::from_code(rax).map(Err)
        };
        let Some(result) = decoded else {
            self.fail(index, "untyped-result");
        };
        if number > number::LAST && result != Err(Error::Sys(SysError::UnknownSyscall)) {
            self.fail(index, "unknown-number-not-refused");
        }
        if result.is_ok() {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
        if self.index.is_multiple_of(self.share.div_ceil(10).max(1)) {
            record(
                "fuzz-progress",
                format_args!("calls={} of={} ok={}", self.index, self.share, self.ok),
            );
        }
        Some(result)
    }

    /// How the next call enters the kernel: mostly a plain `syscall`; one
    /// in 16 with random flags (NT, TF, AC, DF and IOPL, of which ring 3
    /// can set all but IOPL), one in 16 as a forged entry with a random
    /// R11 (any of IOPL, NT, VM, RF, TF, AC, DF, IF clear).
    fn via(&mut self) -> sys::Via {
        const SETTABLE: u64 = 0x4000 | 0x100 | 0x4_0000 | 0x400 | 0x3000;
        match self.rng.below(16) {
            0 => sys::Via::Flags(0x202 | (self.rng.next_u64() & SETTABLE)),
            1 => sys::Via::Forged(self.rng.next_u64() & 0x3f_7fd7 | 2),
            _ => sys::Via::Syscall,
        }
    }

    /// Reports the last calls and the one at `index`, and ends the run.
    fn fail(&self, index: u64, reason: &str) -> ! {
        let first = self.index.saturating_sub(RECENT as u64);
        for i in first..self.index {
            let c = &self.recent[(i % RECENT as u64) as usize];
            record(
                "fuzz-recent",
                format_args!(
                    "by=fuzz call={} number={} args={} rax={:#x} rdx={:#x}",
                    c.index,
                    c.number,
                    Args(&c.args),
                    c.rax,
                    c.rdx
                ),
            );
        }
        let c = &self.recent[(index % RECENT as u64) as usize];
        record(
            "fuzz-fail",
            format_args!(
                "seed={} call={index} number={} args={} rax={:#x} rdx={:#x} reason={reason}",
                self.seed,
                c.number,
                Args(&c.args),
                c.rax,
                c.rdx
            ),
        );
        ring3::end_run(false)
    }

    // The model of what it holds.

    fn held(&self, c: CPtr) -> u8 {
        let (a, b) = (c.bits >> 8, c.bits & 0xff);
        match c.depth {
            1 if c.bits < 256 => self.root[c.bits as usize],
            2 if a < 256 && self.root[a as usize] == ty::CNODE && b < CNODE_SLOTS => {
                self.cnodes[a as usize][b as usize]
            }
            _ => 0,
        }
    }

    fn set(&mut self, c: CPtr, t: u8) {
        let (a, b) = (c.bits >> 8, c.bits & 0xff);
        match c.depth {
            1 if c.bits < 256 => {
                self.root[c.bits as usize] = t;
                if t == ty::CNODE {
                    self.cnodes[c.bits as usize] = [0; CNODE_SLOTS as usize];
                }
            }
            2 if a < 256 && self.root[a as usize] == ty::CNODE && b < CNODE_SLOTS => {
                self.cnodes[a as usize][b as usize] = t;
            }
            _ => {}
        }
    }

    /// Corrects the model from an error about `c`.
    fn learn(&mut self, c: CPtr, e: Error) {
        match e {
            Error::Cap(abi::CapError::EmptySlot) => self.set(c, 0),
            Error::Cap(abi::CapError::SlotOccupied) if self.held(c) == 0 => self.set(c, UNKNOWN),
            _ => {}
        }
    }

    /// A capability it believes it holds (not the root's own).
    fn pick_held(&mut self) -> Option<(CPtr, u8)> {
        self.pick_where(8, |_| true)
    }

    /// A capability it believes it holds, of a type `want` accepts, after
    /// at most `tries` draws.
    fn pick_where(&mut self, tries: u32, want: impl Fn(u8) -> bool) -> Option<(CPtr, u8)> {
        for _ in 0..tries {
            let c = if self.rng.chance(75) {
                l1(1 + self.rng.below(255) as u32)
            } else {
                let s = 1 + self.rng.below(255) as u32;
                if self.root[s as usize] != ty::CNODE {
                    continue;
                }
                CPtr::l2(s, self.rng.below(u64::from(CNODE_SLOTS)) as u8)?
            };
            let t = self.held(c);
            if t != 0 && want(t) {
                return Some((c, t));
            }
        }
        None
    }

    /// A run of `count` slots it believes empty: (CNode, first slot).
    fn pick_empty(&mut self, count: u32) -> (CPtr, u32) {
        if self.rng.chance(25) {
            let s = 1 + self.rng.below(255) as u32;
            if self.root[s as usize] == ty::CNODE && count <= CNODE_SLOTS {
                let first = self.rng.below(u64::from(CNODE_SLOTS - count + 1)) as u32;
                return (l1(s), first);
            }
        }
        let span = u64::from(PIECE_AT - slot::FIRST_FREE - count.min(64));
        let mut first = slot::FIRST_FREE + self.rng.below(span) as u32;
        for _ in 0..4 {
            if (first..first + count).all(|i| self.root.get(i as usize) == Some(&0)) {
                break;
            }
            first = slot::FIRST_FREE + self.rng.below(span) as u32;
        }
        (root(), first)
    }

    /// The address of a destination slot.
    fn dest_addr(cnode: CPtr, index: u32) -> CPtr {
        if cnode == root() {
            l1(index)
        } else {
            CPtr::l2(cnode.bits, index as u8).unwrap_or(l1(u32::MAX))
        }
    }

    // Register values.

    fn word(&mut self) -> u64 {
        let r = &mut self.rng;
        match r.below(10) {
            0 => r.next_u64(),
            1 => r.below(300),
            2 => (r.choose(&[1u64, 2, 1, 2, 0, 3]) << 32) | r.below(1 << 16),
            3 => CAP_MAP_BASE + r.below(REGIONS * 512) * 4096 + r.choose(&[0, 0, 0, 8]),
            4 => r.choose(&[
                0,
                1,
                u64::MAX,
                1 << 32,
                u64::from(u32::MAX),
                1 << 63,
                0xffff_8000_0000_0000,
                0x0000_8000_0000_0000 - 4096,
                CAP_MAP_BASE - 4096,
                CAP_MAP_BASE + CAP_MAP_SIZE - 4096,
                CAP_MAP_BASE + CAP_MAP_SIZE,
                4095,
                4096,
                REGION,
                REGION - 4096,
            ]),
            5 => r.below(16) | (r.below(20) << 32),
            6 => r.below(32),
            7 => r.below(1 << 12) * 4096,
            8 => l1(r.below(256) as u32).raw(),
            _ => CPtr::l2(r.below(256) as u32, r.below(256) as u8)
                .unwrap_or(l1(0))
                .raw(),
        }
    }

    fn garbage(&mut self) {
        let number = match self.rng.below(20) {
            0 | 1 => number::LAST + 1 + self.rng.below(30),
            2 => self.rng.next_u64() | (1 << 40),
            _ => number::CAP_IDENTIFY + self.rng.below(number::LAST - number::CAP_IDENTIFY + 1),
        };
        let mut a = [0u64; 6];
        for w in &mut a {
            *w = self.word();
        }
        // The channel pool and the Notify capabilities are the monitors':
        // no call names them.
        for w in &mut a {
            if names_the_pool(*w) {
                *w = l1(slot::FIRST_FREE).raw();
            }
        }
        if number == number::CAP_DELETE && first_slot(a[0]) {
            a[0] = l1(slot::FIRST_FREE + self.rng.below(256 - u64::from(slot::FIRST_FREE)) as u32)
                .raw();
        }
        if (number == number::CAP_COPY || number == number::CAP_MINT) && root_or_ram(a[0]) {
            a[0] += 4;
        }
        if number == number::CAP_REVOKE
            && let Ok(c) = CPtr::decode(a[0])
            && self.held(c) == RAM_COPY
        {
            a[0] = l1(slot::RAM).raw();
        }
        if number == number::CAP_IDENTIFY && self.rng.chance(50) {
            // A pointer the kernel must refuse, or (replaced by the stub)
            // the fuzzer's own buffer.
            a[1] = self.rng.choose(&[
                0,
                8,
                4095,
                0xffff_8000_0000_0000,
                0xffff_ffff_8000_0000,
                0x0000_8000_0000_0000,
                1 << 63,
                u64::MAX - 7,
                0x40_0000,
            ]);
        }
        let _ = self.call(number, a);
    }

    // Calls built from what it holds.

    fn retype(
        &mut self,
        src: CPtr,
        t: u8,
        (offset, size, count): (u64, u64, u32),
        (dest, at): (CPtr, u32),
    ) {
        let packed = u64::from(t) | (u64::from(count) << 32);
        let a = [src.raw(), packed, offset, size, dest.raw(), u64::from(at)];
        match self.call(number::CAP_RETYPE, a) {
            Some(Ok(_)) => {
                for i in 0..count {
                    self.set(Self::dest_addr(dest, at + i), t);
                }
            }
            Some(Err(e)) => {
                self.learn(src, e);
                if e == Error::Cap(abi::CapError::SlotOccupied) {
                    self.learn(Self::dest_addr(dest, at), e);
                }
            }
            None => {}
        }
    }

    fn split_ram(&mut self) {
        let a = [
            l1(slot::RAM).raw(),
            u64::from(ty::RAM) | (u64::from(PIECES) << 32),
            0,
            PIECE_SIZE,
            root().raw(),
            u64::from(PIECE_AT),
        ];
        match self.call(number::CAP_RETYPE, a) {
            Some(Ok(_)) => {
                for i in PIECE_AT..256 {
                    self.root[i as usize] = ty::RAM;
                }
                self.pieces = true;
            }
            Some(Err(_)) => self.reset(),
            None => {}
        }
    }

    /// Revokes the RAM (every piece and object goes, and their mappings)
    /// and empties the pieces' slots of anything else.
    fn reset(&mut self) {
        let revoke = [l1(slot::RAM).raw(), 0, 0, 0, 0, 0];
        let mut revoked = self.call(number::CAP_REVOKE, revoke);
        if revoked == Some(Err(Error::Cap(abi::CapError::EmptySlot))) && self.restore_ram() {
            revoked = self.call(number::CAP_REVOKE, revoke);
        }
        if let Some(Ok(_)) = revoked {
            for t in &mut self.root[slot::FIRST_FREE as usize..] {
                if matches!(
                    *t,
                    ty::RAM | ty::FRAME | ty::CNODE | ty::PML4..=ty::ENDPOINT | RAM_COPY
                ) {
                    *t = 0;
                }
            }
            self.mapped = [0; 32];
        }
        for i in PIECE_AT..256 {
            if self.root[i as usize] != 0 {
                let _ = self.call(number::CAP_DELETE, [l1(i).raw(), 0, 0, 0, 0, 0]);
                self.root[i as usize] = 0;
            }
        }
        self.pieces = false;
    }

    /// The RAM's slot is empty: a revoke of one of its copies took it.
    /// Finds a copy that is left (in a root slot, or a CNode it tracks)
    /// and copies it back.
    fn restore_ram(&mut self) -> bool {
        let mut places: Vec<CPtr> = (slot::FIRST_FREE..256).map(l1).collect();
        for s in slot::FIRST_FREE..256 {
            if self.root[s as usize] == ty::CNODE {
                places.extend((0..CNODE_SLOTS).filter_map(|k| CPtr::l2(s, k as u8)));
            }
        }
        let out = &raw const self.identity as u64;
        for c in places {
            if self.held(c) == 0 {
                continue;
            }
            let Some(found) = self.call(number::CAP_IDENTIFY, [c.raw(), out, 0, 0, 0, 0]) else {
                return false;
            };
            let id = self.identity;
            if found.is_err() {
                self.set(c, 0);
                continue;
            }
            if id.ty == ty::RAM && id.rights == rights::ALL && (id.base, id.size) == self.ram {
                let a = [c.raw(), root().raw(), u64::from(slot::RAM), 0, 0, 0];
                return self.call(number::CAP_COPY, a) == Some(Ok(0));
            }
        }
        false
    }

    fn retype_piece(&mut self) {
        let piece = l1(PIECE_AT + self.rng.below(u64::from(PIECES)) as u32);
        let r = &mut self.rng;
        let (t, size) = match r.below(20) {
            0..=9 => (ty::FRAME, 4096 * (1 + r.below(4))),
            10..=12 => (
                ty::CNODE,
                if r.chance(80) {
                    u64::from(CNODE_SLOTS)
                } else {
                    1 << r.below(14)
                },
            ),
            13..=15 => (r.choose(&[ty::PT, ty::PD, ty::PDPT, ty::PML4]), 0),
            16 => (ty::DISPATCHER, 0),
            17 | 18 => (ty::RAM, 4096 * (1 + r.below(4))),
            _ => (r.below(16) as u8, r.below(3) * 4096),
        };
        let count = if r.chance(70) {
            1
        } else {
            1 + r.below(8) as u32
        };
        let offset = if r.chance(70) { 0 } else { r.below(16) * 4096 };
        let dest = self.pick_empty(count);
        self.retype(piece, t, (offset, size, count), dest);
    }

    fn retype_held(&mut self) {
        let Some((src, _)) = self.pick_held() else {
            return;
        };
        let t = self.rng.choose(&[ty::ENDPOINT, ty::FRAME, ty::RAM]);
        let size = if t == ty::ENDPOINT { 0 } else { 4096 };
        let dest = self.pick_empty(1);
        self.retype(src, t, (0, size, 1), dest);
    }

    fn copy_or_mint(&mut self, mint: bool) {
        let Some((src, t)) = self.pick_held() else {
            return;
        };
        if t == ty::KERNEL {
            return;
        }
        let (dest, at) = self.pick_empty(1);
        let result = if mint {
            let r = rights::ALL & self.rng.next_u64() as u8;
            let badge = if self.rng.chance(80) {
                0
            } else {
                self.rng.next_u64()
            };
            let a = [src.raw(), dest.raw(), u64::from(at), u64::from(r), badge, 0];
            self.call(number::CAP_MINT, a)
        } else {
            let a = [src.raw(), dest.raw(), u64::from(at), 0, 0, 0];
            self.call(number::CAP_COPY, a)
        };
        let to = Self::dest_addr(dest, at);
        let copied = match t {
            // A copy of a CNode is not one it tracks the slots of.
            ty::CNODE => UNKNOWN,
            _ if src == l1(slot::RAM) => RAM_COPY,
            t => t,
        };
        match result {
            Some(Ok(_)) => self.set(to, copied),
            Some(Err(e)) => {
                self.learn(src, e);
                if e == Error::Cap(abi::CapError::SlotOccupied) {
                    self.learn(to, e);
                }
            }
            None => {}
        }
    }

    fn map(&mut self) {
        let held = if self.rng.chance(90) {
            self.pick_where(16, |t| t == ty::FRAME)
        } else {
            self.pick_held()
        };
        let frame = match held {
            Some((c, _)) => c,
            None => l1(self.rng.below(256) as u32),
        };
        let r = &mut self.rng;
        let va = CAP_MAP_BASE + r.below(REGIONS) * REGION + r.below(512) * 4096;
        let mut want = rights::READ;
        if r.chance(60) {
            want |= rights::WRITE;
        }
        if r.chance(10) {
            want |= rights::EXECUTE;
        }
        if r.chance(5) {
            want = r.below(16) as u8;
        }
        let offset = if r.chance(80) { 0 } else { r.below(4) * 4096 };
        let count = if r.chance(70) { 1 } else { 1 + r.below(4) };
        let a = [frame.raw(), va, u64::from(want), offset, count, 0];
        match self.call(number::CAP_MAP, a) {
            Some(Ok(got)) => {
                if got != va {
                    self.fail(self.index - 1, "map-returned-another-address");
                }
                let i = self.rng.below(32) as usize;
                self.mapped[i] = va;
                self.touch(va, count, want & rights::WRITE != 0);
            }
            Some(Err(e)) => self.learn(frame, e),
            None => {}
        }
    }

    /// Reads every page just mapped, and writes and reads back the
    /// writable ones: a mapping the kernel reported must be there.
    fn touch(&mut self, va: u64, count: u64, writable: bool) {
        for p in 0..count {
            let at = va + p * 4096 + 8 * self.rng.below(512);
            if sys::window_read(at).is_none() {
                self.fail(self.index - 1, "window-read-refused");
            }
            if writable {
                let value = self.rng.next_u64();
                if !sys::window_write(at, value) || sys::window_read(at) != Some(value) {
                    self.fail(self.index - 1, "write-not-read-back");
                }
            }
            self.touched += 1;
        }
    }

    fn unmap(&mut self) {
        let i = self.rng.below(32) as usize;
        let va = if self.mapped[i] != 0 && self.rng.chance(80) {
            core::mem::take(&mut self.mapped[i])
        } else {
            self.word()
        };
        let _ = self.call(number::CAP_UNMAP, [va, 0, 0, 0, 0, 0]);
    }

    fn delete(&mut self) {
        let Some((c, _)) = self.pick_held() else {
            return;
        };
        if first_slot(c.raw()) {
            return;
        }
        match self.call(number::CAP_DELETE, [c.raw(), 0, 0, 0, 0, 0]) {
            Some(Ok(_)) => self.set(c, 0),
            Some(Err(e)) => self.learn(c, e),
            None => {}
        }
    }

    fn revoke(&mut self) {
        let held = if self.rng.chance(50) {
            let piece = l1(PIECE_AT + self.rng.below(u64::from(PIECES)) as u32);
            Some((piece, self.held(piece)))
        } else {
            self.pick_held()
        };
        let Some((c, t)) = held else {
            return;
        };
        if c == l1(slot::RAM) || t == RAM_COPY {
            self.reset();
            return;
        }
        if let Some(Err(e)) = self.call(number::CAP_REVOKE, [c.raw(), 0, 0, 0, 0, 0]) {
            self.learn(c, e);
        }
    }

    fn identify(&mut self) {
        let c = match self.pick_held() {
            Some((c, _)) if self.rng.chance(80) => c,
            _ => l1(self.rng.below(300) as u32),
        };
        let out = &raw const self.identity as u64;
        match self.call(number::CAP_IDENTIFY, [c.raw(), out, 0, 0, 0, 0]) {
            Some(Ok(_)) => {
                let t = self.identity.ty;
                let was = self.held(c);
                let known = was == t || (was == RAM_COPY && t == ty::RAM);
                if !(known || (was == UNKNOWN && t != 0)) {
                    // Track what it is now (a CNode's slots start unknown).
                    let t = if t == ty::CNODE && self.held(c) != ty::CNODE {
                        UNKNOWN
                    } else {
                        t
                    };
                    self.set(c, t);
                }
            }
            Some(Err(e)) => self.learn(c, e),
            None => {}
        }
    }

    /// A map, unmap or protect in a VNode it holds, of a Frame or VNode it
    /// holds: the page-table paths with real objects.
    fn vnode_op(&mut self) {
        let is_vnode = |t: u8| (ty::PML4..=ty::PT).contains(&t);
        let Some((table, _)) = self.pick_where(16, is_vnode) else {
            return;
        };
        let r = &mut self.rng;
        let index = if r.chance(90) {
            r.below(512)
        } else {
            r.below(1 << 12)
        };
        let rw = if r.chance(80) {
            u64::from(rights::READ | rights::WRITE)
        } else {
            r.below(16)
        };
        let (number, a) = match r.below(10) {
            0..=5 => {
                let src = self
                    .pick_where(16, |t| t == ty::FRAME || is_vnode(t))
                    .map_or(l1(0), |(c, _)| c);
                let r = &mut self.rng;
                let count = if r.chance(80) { 1 } else { 1 + r.below(8) };
                let offset = if r.chance(80) { 0 } else { r.below(4) * 4096 };
                let a = [table.raw(), index, src.raw(), rw, offset, count];
                (number::VNODE_MAP, a)
            }
            6..=7 => (number::VNODE_UNMAP, [table.raw(), index, 0, 0, 0, 0]),
            _ => (number::VNODE_PROTECT, [table.raw(), index, rw, 0, 0, 0]),
        };
        if let Some(Err(e)) = self.call(number, a) {
            self.learn(table, e);
        }
    }

    /// A message through an Endpoint it holds, or the state of a Dispatcher
    /// it holds: none of them runs, so the answers are known.
    fn dispatcher_op(&mut self) {
        let Some((c, t)) = self.pick_where(16, |t| t == ty::ENDPOINT || t == ty::DISPATCHER) else {
            return;
        };
        if t == ty::ENDPOINT {
            let a = [c.raw(), 0, self.rng.next_u64(), 0, 0, 0];
            if let Some(result) = self.call(number::LMP_SEND, a)
                && result != Err(Error::Sys(abi::SysError::NoReceiver))
            {
                if let Err(e) = result {
                    self.learn(c, e);
                }
                if result.is_ok() {
                    self.fail(self.index - 1, "a-send-to-no-running-dispatcher-succeeded");
                }
            }
        } else {
            let a = [c.raw(), 0, 0, 0, 0, 0];
            if let Some(result) = self.call(number::DISPATCHER_STATUS, a) {
                match result {
                    // Not started: encoded as 0.
                    Ok(0) => {}
                    Ok(_) => self.fail(self.index - 1, "an-unstarted-dispatcher-has-a-state"),
                    Err(e) => self.learn(c, e),
                }
            }
        }
    }

    fn step(&mut self) {
        if !self.pieces {
            self.split_ram();
            return;
        }
        match self.rng.below(1000) {
            0..=169 => self.garbage(),
            170..=229 => self.vnode_op(),
            230..=249 => self.dispatcher_op(),
            250..=449 => self.retype_piece(),
            450..=469 => self.retype_held(),
            470..=539 => self.copy_or_mint(false),
            540..=609 => self.copy_or_mint(true),
            610..=759 => self.map(),
            760..=859 => self.unmap(),
            860..=929 => self.delete(),
            930..=969 => self.revoke(),
            970..=997 => self.identify(),
            _ => self.reset(),
        }
    }
}

/// Parses `SEED:CALLS` or `SEED:CALLS:trace`.
fn parse(args: &str) -> Option<(u64, u64, bool)> {
    let number = |t: &str| match t.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    };
    let mut parts = args.split(':');
    let seed = number(parts.next()?)?;
    let calls = number(parts.next()?)?;
    let trace = match parts.next() {
        None => false,
        Some("trace") => true,
        Some(_) => return None,
    };
    parts.next().is_none().then_some((seed, calls, trace))
}

// The runtime calls the program's entry by this name.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn program_main(core: u32, cores: u32) -> u64 {
    let mut buf = [0u8; 64];
    let n = sys::args(&mut buf).unwrap_or(0).min(buf.len());
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    let Some((seed, calls, trace)) = parse(text) else {
        ring3::print(format_args!(
            "fuzz: the argument is SEED:CALLS or SEED:CALLS:trace, not '{text}'"
        ));
        return 2;
    };
    let cores = u64::from(cores.max(1));
    let share = calls / cores + u64::from(u64::from(core) < calls % cores);
    let mut f = Fuzz {
        rng: Rng::stream(seed, u64::from(core)),
        seed,
        share,
        trace,
        index: 0,
        recent: [Call::default(); RECENT],
        ok: 0,
        errors: 0,
        touched: 0,
        root: [0; 256],
        cnodes: alloc::vec![[0; CNODE_SLOTS as usize]; 256],
        pieces: false,
        mapped: [0; 32],
        identity: CapIdentity::default(),
        ram: (0, 0),
    };
    // The first call: what the RAM is, to find a copy of it later.
    let out = &raw const f.identity as u64;
    if let Some(Ok(_)) = f.call(number::CAP_IDENTIFY, [l1(slot::RAM).raw(), out, 0, 0, 0, 0]) {
        f.ram = (f.identity.base, f.identity.size);
    }
    f.root[slot::ROOT_CNODE as usize] = UNKNOWN;
    f.root[slot::KERNEL as usize] = ty::KERNEL;
    f.root[slot::RAM as usize] = ty::RAM;
    record(
        "fuzz-start",
        format_args!(
            "seed={seed} calls={share} total={calls} cores={cores} trace={}",
            u8::from(trace)
        ),
    );
    while f.index < f.share {
        f.step();
    }
    record(
        "fuzz-done",
        format_args!(
            "seed={seed} calls={} ok={} errors={} touched={}",
            f.index, f.ok, f.errors, f.touched
        ),
    );
    0
}
