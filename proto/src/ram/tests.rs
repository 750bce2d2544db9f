//! The RAM protocol against its model: random allocations and frees on
//! random schedules, the order peers are asked in, a peer that stops
//! answering, and bad input.

use alloc::format;
use alloc::vec::Vec;

use urpc::RawMessage;

use super::model::{RamModel, Violation};
use super::*;
use crate::testnet::{Net, Rng};
use crate::{Inbound, Via};

const BOUND: u64 = 1_000;
/// Bytes of each core's partition.
const PART: u64 = 1 << 20;

struct World {
    ram: Vec<Ram>,
    net: Net,
    model: RamModel,
    silent: Option<u32>,
    /// Regions each core got, to free later.
    got: Vec<Vec<Region>>,
}

fn part(core: u32) -> Region {
    Region {
        base: (u64::from(core) + 1) << 32,
        size: PART,
    }
}

impl World {
    fn new(cores: u32, node: &[u32], broken: bool) -> World {
        World {
            ram: (0..cores)
                .map(|c| {
                    let mine = [part(c)];
                    if broken {
                        Ram::broken(c, cores, node, &mine, BOUND)
                    } else {
                        Ram::new(c, cores, node, &mine, BOUND)
                    }
                })
                .collect(),
            net: Net::new(cores),
            model: RamModel::new(u64::from(cores) * PART),
            silent: None,
            got: (0..cores).map(|_| Vec::new()).collect(),
        }
    }

    fn apply(&mut self, core: u32, out: Out<RamEffect>) -> Result<(), Violation> {
        for e in &out.effects {
            self.model.effect(core, e)?;
            if let RamEffect::Allocated { region, .. } = e {
                self.got[core as usize].push(*region);
            }
        }
        self.net.send(core, out.sends);
        self.model.check(&self.ram)
    }

    fn step(&mut self, rng: &mut Rng) -> Result<bool, Violation> {
        let Some((to, m)) = self.net.deliver(rng) else {
            return Ok(false);
        };
        if self.silent == Some(to) {
            return Ok(true);
        }
        let mut out = Out::new();
        self.ram[to as usize]
            .on_message(0, &m, &mut out)
            .map_err(|e| Violation(format!("core {to} refused {:#x}: {e:?}", m.msg.tag())))?;
        self.apply(to, out)?;
        Ok(true)
    }

    fn drain(&mut self, rng: &mut Rng) -> Result<(), Violation> {
        while self.step(rng)? {}
        Ok(())
    }

    fn alloc(&mut self, core: u32, size: u64) -> Result<u64, Violation> {
        let mut out = Out::new();
        let req = self.ram[core as usize].alloc(0, size, &mut out).unwrap();
        self.model.requested(core, req);
        self.apply(core, out)?;
        Ok(req)
    }

    fn free(&mut self, core: u32, i: usize) -> Result<(), Violation> {
        let region = self.got[core as usize].swap_remove(i);
        let mut out = Out::new();
        self.ram[core as usize].free(region, &mut out).unwrap();
        self.apply(core, out)
    }
}

fn run(cores: u32, broken: bool, seed: u64) -> Result<(), Violation> {
    let mut rng = Rng::new(seed);
    let node: Vec<u32> = (0..cores).map(|c| c % 2).collect();
    let mut w = World::new(cores, &node, broken);
    for _ in 0..500 {
        if rng.chance(40) {
            let core = rng.below(u64::from(cores)) as u32;
            let held = w.got[core as usize].len();
            if held > 0 && rng.chance(45) {
                w.free(core, rng.index(held))?;
            } else {
                // Up to a third of a partition: a core soon runs short.
                w.alloc(core, (1 + rng.below(6)) << 16)?;
            }
        } else {
            w.step(&mut rng)?;
        }
    }
    w.drain(&mut rng)?;
    if let Some(c) = w.ram.iter().position(|r| !r.quiescent()) {
        return Err(Violation(format!("core {c} still waits at the end")));
    }
    w.model.check_rest(&w.ram).map(|_| ())
}

#[test]
fn ram_is_conserved_and_never_held_twice_on_random_schedules() {
    for cores in [1, 2, 3, 5, 8] {
        for seed in 0..100 {
            if let Err(v) = run(cores, false, seed) {
                panic!("{cores} cores, seed {seed}: {}", v.0);
            }
        }
    }
}

#[test]
fn the_model_catches_a_peer_that_keeps_what_it_gives() {
    let caught = (0..50).find(|&seed| run(3, true, seed).is_err());
    assert_eq!(caught, Some(0));
}

#[test]
fn a_short_core_asks_its_own_node_first_then_the_nearest() {
    let node = [0, 1, 0, 1, 0, 1];
    let r = Ram::new(2, 6, &node, &[part(2)], BOUND);
    assert_eq!(r.order(), [0, 4, 1, 3, 5]);
    let mut w = World::new(6, &node, false);
    let mut rng = Rng::new(1);
    // Core 2 takes its whole partition, then asks: core 0 gives.
    w.alloc(2, PART).unwrap();
    w.alloc(2, 4096).unwrap();
    w.drain(&mut rng).unwrap();
    assert_eq!(w.got[2].len(), 2);
    assert!(part(0).overlaps(w.got[2][1]), "{:?}", w.got[2]);
    // Freed, the region goes home.
    w.free(2, 1).unwrap();
    w.drain(&mut rng).unwrap();
    assert_eq!(w.ram[0].free_bytes(), PART);
    assert_eq!(w.ram[2].used_bytes(), PART);
    w.free(2, 0).unwrap();
    assert_eq!(w.ram[2].free_bytes(), PART);
    assert_eq!(w.model.check_rest(&w.ram), Ok(6 * PART));
}

#[test]
fn a_silent_peer_is_passed_over_and_its_late_gift_goes_back() {
    let node = [0, 0, 0];
    let mut ram: Vec<Ram> = (0..3)
        .map(|c| Ram::new(c, 3, &node, &[part(c)], BOUND))
        .collect();
    let mut model = RamModel::new(3 * PART);
    let mut out = Out::new();
    let first = ram[0].alloc(0, PART, &mut out).unwrap();
    let req = ram[0].alloc(0, 4096, &mut out).unwrap();
    model.requested(0, first);
    model.requested(0, req);
    // The ask to core 1 (asked first) is held back; the bound passes.
    let (to, held_ask) = out.sends.pop().unwrap();
    assert_eq!(to, 1);
    ram[0].on_deadline(BOUND, &mut out);
    let (to, ask) = out.sends.pop().unwrap();
    assert_eq!(to, 2);
    // Core 2 gives.
    let mut o2 = Out::new();
    ram[2].on_message(0, &inbound(0, ask), &mut o2).unwrap();
    ram[0]
        .on_message(0, &inbound(2, o2.sends[0].1), &mut out)
        .unwrap();
    for e in &out.effects {
        model.effect(0, e).unwrap();
    }
    // Core 1 wakes and gives too: core 0 sends it straight back.
    let mut o1 = Out::new();
    ram[1]
        .on_message(0, &inbound(0, held_ask), &mut o1)
        .unwrap();
    let mut back = Out::new();
    ram[0]
        .on_message(0, &inbound(1, o1.sends[0].1), &mut back)
        .unwrap();
    assert!(back.effects.is_empty(), "a late gift is not an allocation");
    assert_eq!(ram[1].free_bytes(), PART - 4096);
    let mut o1 = Out::new();
    ram[1]
        .on_message(0, &inbound(0, back.sends[0].1), &mut o1)
        .unwrap();
    assert_eq!(ram[1].free_bytes(), PART);
    assert_eq!(model.check_rest(&ram), Ok(3 * PART));
}

fn inbound(from: u32, msg: RawMessage) -> Inbound {
    Inbound {
        from,
        via: Via::Mesh,
        msg,
    }
}

#[test]
fn bad_input_is_refused_without_change() {
    let mut r = Ram::new(0, 2, &[0, 0], &[part(0)], BOUND);
    let mut out = Out::new();
    let words = |tag, w: [u64; 7]| RawMessage::from_words(tag, 24, &w);
    for (from, msg, reason) in [
        (1, words(tag::ASK, [0, 0, 0, 0, 0, 0, 0]), "bad-value"),
        (
            1,
            words(tag::GIVE, [0, u64::MAX, 2, 0, 0, 0, 0]),
            "bad-value",
        ),
        (
            1,
            RawMessage::new(tag::NO_ROOM, &[1]).unwrap(),
            "bad-length",
        ),
        (5, RamMsg::NoRoom { req: 0 }.encode(), "unknown-core"),
        (0, RamMsg::NoRoom { req: 0 }.encode(), "unknown-core"),
        (1, RamMsg::NoRoom { req: 0 }.encode(), "out-of-order"),
        (1, RamMsg::Return { region: part(0) }.encode(), "bad-value"),
    ] {
        let e = r.on_message(0, &inbound(from, msg), &mut out).unwrap_err();
        assert_eq!(e.reason(), reason, "{e:?}");
    }
    assert!(out.is_empty());
    assert_eq!(r.free_bytes(), PART);
    assert_eq!(r.alloc(0, 0, &mut out), Err(RamError::Empty));
    assert_eq!(r.free(part(1), &mut out), Err(RamError::NotOurs));
    for m in [
        RamMsg::Ask { req: 3, size: 9 },
        RamMsg::Give {
            req: 4,
            region: part(1),
        },
        RamMsg::NoRoom { req: 5 },
        RamMsg::Return { region: part(0) },
    ] {
        assert_eq!(RamMsg::decode(&m.encode()), Ok(m));
    }
}

#[test]
fn freed_neighbours_merge_into_one_region() {
    let mut r = Ram::new(0, 1, &[0], &[part(0)], BOUND);
    let mut out = Out::new();
    for _ in 0..4 {
        r.alloc(0, PART / 4, &mut out).unwrap();
    }
    let regions: Vec<Region> = r.used_regions().collect();
    for region in [regions[1], regions[3], regions[0], regions[2]] {
        r.free(region, &mut out).unwrap();
    }
    assert_eq!(r.free_regions().collect::<Vec<_>>(), [part(0)]);
}

#[test]
fn a_gift_given_twice_or_of_the_askers_own_ram_is_refused() {
    let mut rng = Rng::new(21);
    let mut w = World::new(2, &[0, 0], false);
    w.alloc(0, PART / 2).unwrap();
    let req = w.alloc(0, PART / 2 + 1).unwrap();
    w.drain(&mut rng).unwrap();
    let region = *w.got[0].iter().find(|r| r.size == PART / 2 + 1).unwrap();
    let mut out = Out::new();
    let again = RamMsg::Give { req, region };
    let e = w.ram[0].on_message(0, &inbound(1, again.encode()), &mut out);
    assert_eq!(e, Err(RamError::NotOurs));
    // Core 0 asks again (more than it has free); a gift of its own
    // partition is refused.
    let req = w.alloc(0, PART / 2 + 2).unwrap();
    let own = RamMsg::Give {
        req,
        region: Region {
            base: part(0).base + PART / 4,
            size: PART / 2 + 2,
        },
    };
    let e = w.ram[0].on_message(0, &inbound(1, own.encode()), &mut out);
    assert_eq!(e, Err(RamError::NotOurs));
    // A gift of another size than asked.
    let odd = RamMsg::Give {
        req,
        region: Region {
            base: part(1).base + PART / 2 + 4096,
            size: 4096,
        },
    };
    let e = w.ram[0].on_message(0, &inbound(1, odd.encode()), &mut out);
    assert_eq!(e, Err(RamError::NotOurs));
    assert!(out.is_empty());
    w.drain(&mut rng).unwrap();
    w.model.check(&w.ram).unwrap();
}
