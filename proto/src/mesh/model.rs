//! **Guarantee checked:** a [`MeshModel`] that is told every effect of
//! every core's mesh machine and every channel its monitor opened returns
//! a [`MeshViolation`] at the first step where one of these breaks:
//!
//! - a core opens its end of the channel with each other core once, on
//!   side A exactly when it is the lower of the two, at the first frame
//!   the other end opens it at;
//! - no two channels overlap in the pool: each pair has its own
//!   [`CHANNEL_FRAMES`] frames;
//! - a monitor opens only the channels its machine asked for, once;
//! - a core reports all its links once, with every other core, and only
//!   after its monitor opened every channel;
//! - at the end of a run ([`MeshModel::finish`]), every channel is open
//!   at both ends and every core's machine is done, linked with every
//!   other core.
//!
//! The mesh protocol's reference model, written once, for the host tests
//! and the simulator: pure, without I/O or randomness.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use urpc::Side;

use super::{Mesh, MeshEffect};
use crate::frames::CHANNEL_FRAMES;

/// An invariant that broke, and the core it broke on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshViolation {
    /// An end opened with a core that does not exist, with itself, on the
    /// wrong side, twice, or at another frame than the other end.
    BadOpen {
        /// The core.
        core: u32,
        /// Its peer.
        peer: u32,
        /// The first frame.
        first_frame: u64,
        /// The side.
        side: Side,
    },
    /// Two channels share frames.
    Shared {
        /// The lower core of the channel that came second.
        core: u32,
        /// Its peer.
        peer: u32,
        /// Its first frame.
        first_frame: u64,
        /// The cores of the channel it overlaps, lower first.
        other: (u32, u32),
    },
    /// A monitor opened a channel its machine did not ask for, or twice.
    Unasked {
        /// The core.
        core: u32,
        /// Its peer.
        peer: u32,
    },
    /// A core reported its links early, twice or with a wrong count.
    EarlyLinks {
        /// The core.
        core: u32,
        /// The links it reported.
        links: usize,
    },
    /// A channel not open at the end.
    Unopened {
        /// The core.
        core: u32,
        /// Its peer.
        peer: u32,
    },
    /// A machine not done, or not linked with every other core, at the end.
    Unlinked {
        /// The core.
        core: u32,
        /// Its links.
        linked: usize,
        /// Links it should have.
        of: usize,
    },
}

crate::display_as! {
    MeshViolation:
    BadOpen { core, peer, first_frame, side } =>
        "core {core} opens its end with core {peer} at frame {first_frame} as side {side:?}, which does not fit",
    Shared { core, peer, first_frame, other: (a, b) } =>
        "the channel of cores {core} and {peer} at frame {first_frame} shares frames with the channel of cores {a} and {b}",
    Unasked { core, peer } =>
        "core {core}'s monitor opened the channel with core {peer}, which its machine did not ask for (or twice)",
    EarlyLinks { core, links } =>
        "core {core} reports {links} links before every channel of its is open, twice or with a wrong count",
    Unopened { core, peer } =>
        "core {core}'s end of the channel with core {peer} is not open at the end",
    Unlinked { core, linked, of } => "core {core} linked {linked} of {of} peers",
}

/// The mesh protocol's reference model and invariants (see the module
/// doc).
#[derive(Clone, Debug)]
pub struct MeshModel {
    cores: u32,
    /// Each end a machine asked to open, by (core, peer): its first frame.
    asked: BTreeMap<(u32, u32), u64>,
    /// `opened[core][peer]`: the monitor opened that end.
    opened: Vec<Vec<bool>>,
    /// Which cores reported all their links.
    reported: Vec<bool>,
}

impl MeshModel {
    /// The model of a mesh of `cores` cores.
    pub fn new(cores: u32) -> MeshModel {
        let n = cores as usize;
        MeshModel {
            cores,
            asked: BTreeMap::new(),
            opened: vec![vec![false; n]; n],
            reported: vec![false; n],
        }
    }

    /// Core `core`'s machine gave `effects`.
    pub fn effects(&mut self, core: u32, effects: &[MeshEffect]) -> Result<(), MeshViolation> {
        effects.iter().try_for_each(|&e| self.effect(core, e))
    }

    fn effect(&mut self, core: u32, effect: MeshEffect) -> Result<(), MeshViolation> {
        match effect {
            MeshEffect::Open {
                peer,
                first_frame,
                side,
            } => {
                let bad = MeshViolation::BadOpen {
                    core,
                    peer,
                    first_frame,
                    side,
                };
                if peer >= self.cores
                    || peer == core
                    || (side == Side::A) != (core < peer)
                    || self.asked.contains_key(&(core, peer))
                {
                    return Err(bad);
                }
                match self.asked.get(&(peer, core)) {
                    Some(&f) if f != first_frame => return Err(bad),
                    Some(_) => {}
                    None => {
                        let pair = (core.min(peer), core.max(peer));
                        let overlap = self
                            .asked
                            .iter()
                            .find(|&(_, &f)| f.abs_diff(first_frame) < CHANNEL_FRAMES);
                        if let Some((&(a, b), _)) = overlap {
                            return Err(MeshViolation::Shared {
                                core: pair.0,
                                peer: pair.1,
                                first_frame,
                                other: (a.min(b), a.max(b)),
                            });
                        }
                    }
                }
                self.asked.insert((core, peer), first_frame);
            }
            MeshEffect::AllLinked { links } => {
                let c = core as usize;
                let all_open = (0..self.cores)
                    .filter(|&p| p != core)
                    .all(|p| self.opened[c][p as usize]);
                if self.reported[c] || !all_open || links + 1 != self.cores as usize {
                    return Err(MeshViolation::EarlyLinks { core, links });
                }
                self.reported[c] = true;
            }
        }
        Ok(())
    }

    /// Core `core`'s monitor opened its end of the channel with `peer`.
    pub fn opened(&mut self, core: u32, peer: u32) -> Result<(), MeshViolation> {
        let asked = self.asked.contains_key(&(core, peer));
        match self
            .opened
            .get_mut(core as usize)
            .and_then(|o| o.get_mut(peer as usize))
        {
            Some(o) if asked && !*o => {
                *o = true;
                Ok(())
            }
            _ => Err(MeshViolation::Unasked { core, peer }),
        }
    }

    /// Checks the end of a run in which no core failed; `machines` are
    /// every core's mesh machines.
    pub fn finish(&self, machines: &[Mesh]) -> Result<(), MeshViolation> {
        for (core, o) in (0u32..).zip(&self.opened) {
            if let Some(peer) = (0u32..).zip(o).find(|&(p, &o)| p != core && !o) {
                return Err(MeshViolation::Unopened { core, peer: peer.0 });
            }
        }
        let of = self.cores.saturating_sub(1) as usize;
        match (0u32..)
            .zip(machines)
            .find(|(_, m)| !m.is_done() || m.linked() != of)
        {
            Some((core, m)) => Err(MeshViolation::Unlinked {
                core,
                linked: m.linked(),
                of,
            }),
            None => Ok(()),
        }
    }
}
