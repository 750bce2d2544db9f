//! Random operation sequences against the database and the model at once:
//! every result, every effect and the final state must agree, and the
//! invariants must hold after every operation.

use super::model::Model;
use crate::cspace::{CSpace, CapAddr, Depth};
use crate::effect::Effect;
use crate::mdb::{Mdb, RemoteRelations, SlotView};
use crate::ops::{Gate, RetypeArgs};
use crate::rights::Rights;
use crate::types::{Cap, CapType};
use crate::wire;
use abi::CapError;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Base of the root CNode (kernel memory, outside every RAM capability).
pub(crate) const ROOT: u64 = 0xf000_0000;
/// Slot bits of the root CNode.
pub(crate) const ROOT_BITS: u32 = 5;
/// The first RAM capability: 512 KiB.
pub(crate) const RAM_A: (u64, u64) = (0x0100_0000, 0x8_0000);
/// The second: 4 MiB, 2 MiB aligned, for large pages.
pub(crate) const RAM_B: (u64, u64) = (0x4000_0000, 0x40_0000);

/// What the boot places in the root, besides the root's own capability.
pub(crate) fn boot_caps() -> Vec<(u32, Cap)> {
    vec![
        (1, Cap::new(CapType::Ram, RAM_A.0, RAM_A.1)),
        (2, Cap::new(CapType::Ram, RAM_B.0, RAM_B.1)),
        (3, Cap::new(CapType::Kernel, 0, 0)),
    ]
}

/// Which kind of held capability a pick prefers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Class {
    Any,
    Ram,
    CNode,
    VNode,
    Frame,
    Dispatcher,
    Kernel,
    Pt,
    FrameOnly,
}

impl Class {
    fn admits(self, ty: CapType) -> bool {
        match self {
            Class::Any => true,
            Class::Ram => ty == CapType::Ram,
            Class::CNode => ty == CapType::CNode,
            Class::VNode => ty.is_vnode(),
            Class::Frame => ty == CapType::Frame || ty.is_vnode(),
            Class::Dispatcher => matches!(ty, CapType::Dispatcher | CapType::Endpoint),
            Class::Kernel => ty == CapType::Kernel,
            Class::Pt => ty == CapType::Pt,
            Class::FrameOnly => ty == CapType::Frame,
        }
    }
}

/// A capability address: one actually held (by kind and index), or any
/// bits at all.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pick {
    Held(Class, usize),
    Raw(u32, bool),
}

/// A destination slot: the n-th empty one of the CNode picked, or any
/// index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SlotPick {
    Free(usize),
    Raw(u32),
}

/// An entry of a VNode: the first entry of its n-th mapping, or any index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EntryPick {
    Mapped(usize),
    Raw(u32),
}

/// One operation with its arguments, named by the variant in lower case.
#[derive(Clone, Debug, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "kebab-case")]
pub(crate) enum Op {
    Retype {
        src: Pick,
        ty: CapType,
        offset: u64,
        size: u64,
        count: u32,
        dest: Pick,
        slot: SlotPick,
    },
    Copy {
        src: Pick,
        dest: Pick,
        slot: SlotPick,
    },
    Mint {
        src: Pick,
        dest: Pick,
        slot: SlotPick,
        rights: u8,
        badge: u64,
    },
    Delete {
        target: Pick,
    },
    Revoke {
        target: Pick,
    },
    Identify {
        target: Pick,
    },
    Map {
        vnode: Pick,
        index: u32,
        src: Pick,
        rights: u8,
        offset: u64,
        count: u32,
    },
    Unmap {
        vnode: Pick,
        index: EntryPick,
    },
    Protect {
        vnode: Pick,
        index: EntryPick,
        rights: u8,
    },
    Receive {
        bytes: Vec<u8>,
        owner: u32,
        remote: u8,
        kernel: Pick,
        dest: Pick,
        slot: SlotPick,
    },
    Notify {
        core: u32,
        kernel: Pick,
        dest: Pick,
        slot: SlotPick,
    },
    Lock {
        target: Pick,
        locked: bool,
        kernel: Pick,
    },
    Remote {
        target: Pick,
        bits: u8,
        kernel: Pick,
    },
    Mark {
        target: Pick,
        kernel: Pick,
    },
    Unmark {
        target: Pick,
        kernel: Pick,
    },
    Sweep {
        kernel: Pick,
    },
    DeleteAgreed {
        target: Pick,
        kernel: Pick,
    },
    RevokeAgreed {
        target: Pick,
        kernel: Pick,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        self.into()
    }
}

/// Both implementations, booted alike.
pub(crate) struct Pair {
    pub(crate) imp: Mdb,
    pub(crate) cs: CSpace,
    pub(crate) model: Model,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Refused(CapError),
    Effects(Vec<Effect>),
    Cap(Cap),
    Count(usize),
    Swept(usize, Vec<Effect>),
    Done,
}

fn effects(r: Result<Vec<Effect>, CapError>) -> Outcome {
    match r {
        Ok(mut fx) => {
            fx.sort();
            Outcome::Effects(fx)
        }
        Err(e) => Outcome::Refused(e),
    }
}

fn unit(r: Result<(), CapError>) -> Outcome {
    r.map_or_else(Outcome::Refused, |()| Outcome::Done)
}

fn count(r: Result<usize, CapError>) -> Outcome {
    r.map_or_else(Outcome::Refused, Outcome::Count)
}

fn swept(r: Result<(usize, Vec<Effect>), CapError>) -> Outcome {
    match r {
        Ok((n, mut fx)) => {
            fx.sort();
            Outcome::Swept(n, fx)
        }
        Err(e) => Outcome::Refused(e),
    }
}

impl Pair {
    pub(crate) fn boot() -> Pair {
        let mut imp = Mdb::new(0);
        let cs = imp.boot_cspace(ROOT, ROOT_BITS).expect("boot cspace");
        for (i, cap) in boot_caps() {
            imp.boot_insert(cs, i, cap).expect("boot cap");
        }
        let model = Model::boot(0, ROOT, ROOT_BITS, &boot_caps());
        Pair { imp, cs, model }
    }

    fn addr(held: &[(CapAddr, CapType)], p: Pick) -> CapAddr {
        match p {
            Pick::Raw(bits, two) => CapAddr {
                bits,
                depth: if two { Depth::Two } else { Depth::One },
            },
            Pick::Held(class, n) => {
                let fit: Vec<CapAddr> = held
                    .iter()
                    .filter(|(_, t)| class.admits(*t))
                    .map(|(a, _)| *a)
                    .collect();
                let pool: Vec<CapAddr> = if fit.is_empty() {
                    held.iter().map(|(a, _)| *a).collect()
                } else {
                    fit
                };
                pool.get(n % pool.len().max(1))
                    .copied()
                    .unwrap_or(CapAddr::l1(0))
            }
        }
    }

    /// Runs `op` on both, and compares results, invariants and state.
    /// Returns the refusal both gave, if they refused.
    pub(crate) fn apply(&mut self, op: &Op) -> Result<Option<CapError>, String> {
        let held = self.model.held();
        let a = |p: Pick| Pair::addr(&held, p);
        let model_view = self.model.clone();
        let sl = |d: CapAddr, p: SlotPick| match p {
            SlotPick::Raw(n) => n,
            SlotPick::Free(n) => {
                let free = model_view.free_slots(d);
                free.get(n % free.len().max(1)).copied().unwrap_or(0)
            }
        };
        let to = |d: Pick, p: SlotPick| {
            let d = a(d);
            (d, sl(d, p))
        };
        let en = |v: CapAddr, p: EntryPick| match p {
            EntryPick::Raw(n) => n,
            EntryPick::Mapped(n) => {
                let m = model_view.mapped_indices(v);
                m.get(n % m.len().max(1)).copied().unwrap_or(0)
            }
        };
        let (cs, imp, model) = (self.cs, &mut self.imp, &mut self.model);
        let (got, want) = match *op {
            Op::Retype {
                src,
                ty,
                offset,
                size,
                count,
                dest,
                slot,
            } => {
                let args = RetypeArgs {
                    ty,
                    offset,
                    size,
                    count,
                };
                let (s, (d, slot)) = (a(src), to(dest, slot));
                (
                    effects(imp.retype(cs, s, args, d, slot)),
                    effects(model.retype(Gate::User, s, args, d, slot)),
                )
            }
            Op::Copy { src, dest, slot } => {
                let (s, (d, slot)) = (a(src), to(dest, slot));
                (
                    unit(imp.copy(cs, s, d, slot)),
                    unit(model.mint(s, d, slot, None, 0)),
                )
            }
            Op::Mint {
                src,
                dest,
                slot,
                rights,
                badge,
            } => {
                let (s, (d, slot)) = (a(src), to(dest, slot));
                let r = Rights::from_bits_truncate(rights);
                (
                    unit(imp.mint(cs, s, d, slot, r, badge)),
                    unit(model.mint(s, d, slot, Some(r), badge)),
                )
            }
            Op::Delete { target } => {
                let t = a(target);
                (
                    effects(imp.delete(cs, t)),
                    effects(model.delete(Gate::User, t)),
                )
            }
            Op::Revoke { target } => {
                let t = a(target);
                (
                    effects(imp.revoke(cs, t)),
                    effects(model.revoke(Gate::User, t)),
                )
            }
            Op::Identify { target } => {
                let t = a(target);
                let f = |r: Result<Cap, CapError>| r.map_or_else(Outcome::Refused, Outcome::Cap);
                (f(imp.identify(cs, t)), f(model.identify(t)))
            }
            Op::Map {
                vnode,
                index,
                src,
                rights,
                offset,
                count,
            } => {
                let (v, s) = (a(vnode), a(src));
                let r = Rights::from_bits_truncate(rights);
                (
                    effects(imp.map(cs, v, index, s, r, offset, count)),
                    effects(model.map(v, index, s, r, offset, count)),
                )
            }
            Op::Unmap { vnode, index } => {
                let v = a(vnode);
                let index = en(v, index);
                (
                    effects(imp.unmap(cs, v, index)),
                    effects(model.unmap(v, index)),
                )
            }
            Op::Protect {
                vnode,
                index,
                rights,
            } => {
                let v = a(vnode);
                let index = en(v, index);
                let r = Rights::from_bits_truncate(rights);
                (
                    effects(imp.protect(cs, v, index, r)),
                    effects(model.protect(v, index, r)),
                )
            }
            Op::Receive {
                ref bytes,
                owner,
                remote,
                kernel,
                dest,
                slot,
            } => {
                let (k, (d, slot)) = (a(kernel), to(dest, slot));
                let rr = RemoteRelations::from_bits_truncate(remote);
                (
                    unit(imp.create_received(cs, k, bytes, owner, rr, d, slot)),
                    unit(model.create_received(k, bytes, owner, rr, d, slot)),
                )
            }
            Op::Notify {
                core,
                kernel,
                dest,
                slot,
            } => {
                let (k, (d, slot)) = (a(kernel), to(dest, slot));
                (
                    unit(imp.create_notify(cs, k, core, d, slot)),
                    unit(model.create_notify(k, core, d, slot)),
                )
            }
            Op::Lock {
                target,
                locked,
                kernel,
            } => {
                let (k, t) = (a(kernel), a(target));
                (
                    unit(imp.set_locked(cs, k, t, locked)),
                    unit(model.set_locked(k, t, locked)),
                )
            }
            Op::Remote {
                target,
                bits,
                kernel,
            } => {
                let (k, t) = (a(kernel), a(target));
                let rr = RemoteRelations::from_bits_truncate(bits);
                (
                    effects(imp.set_remote(cs, k, t, rr)),
                    effects(model.set_remote(k, t, rr)),
                )
            }
            Op::Mark { target, kernel } => {
                let (k, t) = (a(kernel), a(target));
                (count(imp.mark(cs, k, t)), count(model.mark(k, t)))
            }
            Op::Unmark { target, kernel } => {
                let (k, t) = (a(kernel), a(target));
                (count(imp.unmark(cs, k, t)), count(model.unmark(k, t)))
            }
            Op::Sweep { kernel } => {
                let k = a(kernel);
                (swept(imp.sweep(cs, k)), swept(model.sweep(k)))
            }
            Op::DeleteAgreed { target, kernel } => {
                let (k, t) = (a(kernel), a(target));
                (
                    effects(imp.delete_agreed(cs, k, t)),
                    effects(model.kernel(k).and_then(|()| model.delete(Gate::Agreed, t))),
                )
            }
            Op::RevokeAgreed { target, kernel } => {
                let (k, t) = (a(kernel), a(target));
                (
                    effects(imp.revoke_agreed(cs, k, t)),
                    effects(model.kernel(k).and_then(|()| model.revoke(Gate::Agreed, t))),
                )
            }
        };
        if got != want {
            return Err(format!("{op:?}: database {got:?}, model {want:?}"));
        }
        self.imp
            .check_invariants()
            .map_err(|v| format!("{op:?}: invariant broken: {v:?}"))?;
        let mut state: Vec<SlotView> = self.imp.slots().collect();
        state.sort();
        if state != self.model.state() {
            return Err(format!(
                "{op:?}: states differ\ndatabase {state:#?}\nmodel {:#?}",
                self.model.state()
            ));
        }
        Ok(match got {
            Outcome::Refused(e) => Some(e),
            _ => None,
        })
    }
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        Just(Class::Any),
        Just(Class::Ram),
        Just(Class::CNode),
        Just(Class::VNode),
        Just(Class::Frame),
        Just(Class::Dispatcher),
        Just(Class::Kernel),
    ]
}

fn pick_of(c: Class) -> impl Strategy<Value = Pick> {
    prop_oneof![
        8 => (0usize..64).prop_map(move |n| Pick::Held(c, n)),
        2 => (class(), 0usize..64).prop_map(|(c, n)| Pick::Held(c, n)),
        1 => (0u32..20, 0u32..20, any::<bool>()).prop_map(|(l1, l2, two)| {
            if two { Pick::Raw((l1 << 8) | l2, true) } else { Pick::Raw(l1, false) }
        }),
        1 => (any::<u32>(), any::<bool>()).prop_map(|(b, two)| Pick::Raw(b, two)),
    ]
}

fn pick() -> impl Strategy<Value = Pick> {
    class().prop_flat_map(pick_of)
}

fn slot() -> impl Strategy<Value = SlotPick> {
    prop_oneof![
        8 => (0usize..32).prop_map(SlotPick::Free),
        1 => (0u32..34).prop_map(SlotPick::Raw),
        1 => any::<u32>().prop_map(SlotPick::Raw),
    ]
}

fn cap_type() -> impl Strategy<Value = CapType> {
    prop_oneof![
        4 => Just(CapType::Frame),
        3 => Just(CapType::Ram),
        3 => Just(CapType::CNode),
        2 => Just(CapType::Pml4),
        2 => Just(CapType::Pdpt),
        2 => Just(CapType::Pd),
        3 => Just(CapType::Pt),
        2 => Just(CapType::Dispatcher),
        2 => Just(CapType::Endpoint),
        1 => proptest::sample::select(CapType::ALL.to_vec()),
    ]
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(0u64),
        4 => (0u64..4).prop_map(|p| p * 4096),
        1 => Just(1024u64),
        1 => Just(1u64 << 21),
        1 => any::<u64>(),
    ]
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        3 => (1u64..5).prop_map(|p| p * 4096),
        2 => (1u32..5).prop_map(|b| 1u64 << b),
        1 => Just(1u64 << 21),
        1 => Just(100u64),
        1 => any::<u64>(),
    ]
}

fn size_for(ty: CapType) -> BoxedStrategy<u64> {
    match ty {
        CapType::Ram | CapType::Frame => prop_oneof![
            8 => (1u64..5).prop_map(|p| p * 4096),
            1 => Just(1u64 << 21),
            1 => size(),
        ]
        .boxed(),
        CapType::CNode => {
            prop_oneof![8 => proptest::sample::select(vec![2u64, 4, 8, 16]), 1 => size()].boxed()
        }
        _ => prop_oneof![9 => Just(0u64), 1 => size()].boxed(),
    }
}

fn rights() -> impl Strategy<Value = u8> {
    prop_oneof![3 => Just(Rights::ALL.bits()), 2 => 0u8..16]
}

fn received() -> impl Strategy<Value = Vec<u8>> {
    let page = |k: u64| RAM_A.0 + k * 4096;
    prop_oneof![
        (0u64..8)
            .prop_map(move |k| wire::to_bytes(&Cap::new(CapType::Ram, page(k), 4096)).to_vec()),
        (0u64..8)
            .prop_map(move |k| wire::to_bytes(&Cap::new(CapType::Frame, page(k), 8192)).to_vec()),
        Just(wire::to_bytes(&Cap::new(CapType::Ram, RAM_A.0 - 4096, 8192)).to_vec()),
        Just(wire::to_bytes(&Cap::new(CapType::Ram, RAM_A.0, RAM_A.1)).to_vec()),
        Just(wire::to_bytes(&Cap::new(CapType::Frame, 0x8000_0000, 8192)).to_vec()),
        (0u32..4)
            .prop_map(|c| wire::to_bytes(&Cap::new(CapType::Notify, u64::from(c), 0)).to_vec()),
        Just(wire::to_bytes(&Cap::new(CapType::Dispatcher, 0x9000_0000, 1024)).to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        (any::<u8>(), 0usize..32).prop_map(|(b, i)| {
            let mut v = wire::to_bytes(&Cap::new(CapType::Frame, 0x8000_0000, 4096)).to_vec();
            v[i] ^= b;
            v
        }),
    ]
}

fn index() -> impl Strategy<Value = u32> {
    prop_oneof![6 => 0u32..6, 1 => 250u32..260, 1 => 508u32..515, 1 => any::<u32>()]
}

fn entry() -> impl Strategy<Value = EntryPick> {
    prop_oneof![3 => (0usize..8).prop_map(EntryPick::Mapped), 1 => index().prop_map(EntryPick::Raw)]
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (pick_of(Class::Ram), cap_type().prop_flat_map(|ty| (Just(ty), size_for(ty))), offset(), prop_oneof![4 => 1u32..4, 1 => any::<u32>()], pick_of(Class::CNode), slot())
            .prop_map(|(src, (ty, size), offset, count, dest, slot)| Op::Retype { src, ty, offset, size, count, dest, slot }),
        2 => (pick_of(Class::Dispatcher), pick_of(Class::CNode), slot())
            .prop_map(|(src, dest, slot)| Op::Retype { src, ty: CapType::Endpoint, offset: 0, size: 0, count: 1, dest, slot }),
        3 => (pick(), pick_of(Class::CNode), slot()).prop_map(|(src, dest, slot)| Op::Copy { src, dest, slot }),
        2 => (pick(), pick_of(Class::CNode), slot(), rights(), prop_oneof![Just(0u64), 1u64..4])
            .prop_map(|(src, dest, slot, rights, badge)| Op::Mint { src, dest, slot, rights, badge }),
        1 => pick().prop_map(|target| Op::Delete { target }),
        1 => pick().prop_map(|target| Op::Revoke { target }),
        1 => pick().prop_map(|target| Op::Identify { target }),
        5 => (
            prop_oneof![3 => pick_of(Class::Pt), 2 => pick_of(Class::VNode)],
            index(),
            prop_oneof![3 => pick_of(Class::FrameOnly), 1 => pick_of(Class::Frame)],
            rights(),
            prop_oneof![3 => Just(0u64), 1 => offset()],
            prop_oneof![6 => Just(1u32), 2 => 1u32..4, 1 => any::<u32>()],
        )
            .prop_map(|(vnode, index, src, rights, offset, count)| Op::Map { vnode, index, src, rights, offset, count }),
        2 => (prop_oneof![pick_of(Class::Pt), pick_of(Class::VNode)], entry()).prop_map(|(vnode, index)| Op::Unmap { vnode, index }),
        2 => (prop_oneof![pick_of(Class::Pt), pick_of(Class::VNode)], entry(), rights()).prop_map(|(vnode, index, rights)| Op::Protect { vnode, index, rights }),
        2 => (received(), 0u32..2, 0u8..8, pick_of(Class::Kernel), pick_of(Class::CNode), slot())
            .prop_map(|(bytes, owner, remote, kernel, dest, slot)| Op::Receive { bytes, owner, remote, kernel, dest, slot }),
        1 => (0u32..4, pick_of(Class::Kernel), pick_of(Class::CNode), slot())
            .prop_map(|(core, kernel, dest, slot)| Op::Notify { core, kernel, dest, slot }),
        1 => (pick(), prop::bool::weighted(0.3), pick_of(Class::Kernel)).prop_map(|(target, locked, kernel)| Op::Lock { target, locked, kernel }),
        1 => (pick(), 0u8..8, pick_of(Class::Kernel)).prop_map(|(target, bits, kernel)| Op::Remote { target, bits, kernel }),
        1 => (pick(), pick_of(Class::Kernel)).prop_map(|(target, kernel)| Op::Mark { target, kernel }),
        1 => (pick(), pick_of(Class::Kernel)).prop_map(|(target, kernel)| Op::Unmark { target, kernel }),
        1 => pick_of(Class::Kernel).prop_map(|kernel| Op::Sweep { kernel }),
        1 => (pick(), pick_of(Class::Kernel)).prop_map(|(target, kernel)| Op::DeleteAgreed { target, kernel }),
        1 => (pick(), pick_of(Class::Kernel)).prop_map(|(target, kernel)| Op::RevokeAgreed { target, kernel }),
    ]
}

fn retype(src: u32, ty: CapType, size: u64, count: u32, dest: Pick, slot: u32) -> Op {
    Op::Retype {
        src: Pick::Raw(src, false),
        ty,
        offset: 0,
        size,
        count,
        dest,
        slot: SlotPick::Raw(slot),
    }
}

/// A fixed start shared by every random sequence, run through both like any
/// other operation: RAM_A split in sixteen (root slots 16..32), a level-2
/// CNode in root slot 4, one VNode of each level (5..8), a second page
/// table (9) and four frames in the level-2 CNode.
pub(crate) fn setup() -> Vec<Op> {
    let root = Pick::Raw(0, false);
    vec![
        retype(1, CapType::Ram, 0x8000, 16, root, 16),
        retype(16, CapType::CNode, 16, 1, root, 4),
        retype(17, CapType::Pml4, 0, 1, root, 5),
        retype(18, CapType::Pdpt, 0, 1, root, 6),
        retype(19, CapType::Pd, 0, 1, root, 7),
        retype(20, CapType::Pt, 0, 2, root, 8),
        retype(21, CapType::Frame, 4096, 4, Pick::Raw(4, false), 0),
    ]
}

/// Runs a sequence on a fresh pair, after [`setup`], optionally with a
/// deliberate bug in the database.
pub(crate) fn run(ops: &[Op], bug: Option<super::Bug>) -> Result<(), String> {
    let mut pair = Pair::boot();
    pair.imp.bug = bug;
    for op in setup().iter().chain(ops) {
        pair.apply(op)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn database_agrees_with_model(ops in proptest::collection::vec(op(), 1..60)) {
        if let Err(e) = run(&ops, None) {
            prop_assert!(false, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    #[ignore = "deep run: cargo test -p flotilla-caps -- --ignored"]
    fn database_agrees_with_model_deep(ops in proptest::collection::vec(op(), 1..200)) {
        if let Err(e) = run(&ops, None) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The generator must reach the success path of every operation, and
/// refusals too: otherwise the comparison above proves little.
#[test]
fn generator_reaches_every_success_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut ok: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut refused = 0usize;
    for _ in 0..128 {
        let Ok(tree) = proptest::collection::vec(op(), 1..60).new_tree(&mut runner) else {
            panic!("strategy failed");
        };
        let mut pair = Pair::boot();
        for o in setup().iter().chain(&tree.current()) {
            match pair.apply(o) {
                Ok(None) => *ok.entry(o.name()).or_default() += 1,
                Ok(Some(_)) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    use strum::VariantNames;
    assert_eq!(
        Op::VARIANTS,
        [
            "retype",
            "copy",
            "mint",
            "delete",
            "revoke",
            "identify",
            "map",
            "unmap",
            "protect",
            "receive",
            "notify",
            "lock",
            "remote",
            "mark",
            "unmark",
            "sweep",
            "delete-agreed",
            "revoke-agreed",
        ]
    );
    for name in Op::VARIANTS {
        assert!(
            ok.get(name).copied().unwrap_or(0) > 0,
            "{name} never succeeded: {ok:?}"
        );
    }
    assert!(refused > 1000, "only {refused} refusals");
}
