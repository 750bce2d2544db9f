//! The physical memory plan: one private partition per core.
//!
//! Before any other core starts, the boot core splits usable RAM into
//!
//! - the **handshake area** below 4 GiB: the only memory that is written by
//!   more than one core during boot (see [`crate::handoff`]);
//! - the **shared pool**: frames that later become URPC channel frames, the
//!   only memory two cores map after boot;
//! - one **partition per core**, 2 MiB aligned, taken from memory of the
//!   core's own NUMA node. A core's page tables, stacks, heap and copy of the
//!   kernel's writable data are all allocated inside its partition, and its
//!   page tables map no other core's partition.
//!
//! [`plan`] is a pure function so that it is tested on the host.

use heapless::Vec;

/// Most cores a plan can hold.
pub const MAX_CORES: usize = 512;
/// Most free ranges tracked while planning.
pub const MAX_RANGES: usize = 128;
/// Alignment and granule of partitions.
pub const PARTITION_ALIGN: u64 = 2 << 20;
/// Smallest partition the CPU driver can run in.
pub const MIN_PARTITION: u64 = 4 << 20;
const PAGE: u64 = 4096;
const FOUR_GIB: u64 = 4 << 30;

/// Upper bound of [`shared_pool_bytes`].
pub const MAX_SHARED_POOL: u64 = 512 << 20;

/// Bytes the boot core sets aside as the shared pool: a bootstrap channel
/// per core and a mesh channel per pair of cores (two 4 KiB rings each),
/// plus 4 MiB for doorbells and experiment arenas; at most
/// [`MAX_SHARED_POOL`]. The full mesh grows with the square of the cores:
/// 64 cores need about 20 MiB, 256 cores about 260 MiB.
pub const fn shared_pool_bytes(cores: u64) -> u64 {
    let pairs = cores * cores.saturating_sub(1) / 2;
    let bytes = (4 << 20) + (cores + pairs) * 8192;
    if bytes < MAX_SHARED_POOL {
        bytes
    } else {
        MAX_SHARED_POOL
    }
}

/// A half-open physical range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PhysRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl PhysRange {
    /// Makes a range.
    pub const fn new(start: u64, end: u64) -> PhysRange {
        PhysRange { start, end }
    }

    /// Length in bytes (0 for an empty or inverted range).
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `other` lies entirely inside this range.
    pub const fn contains_range(&self, other: &PhysRange) -> bool {
        other.start >= self.start && other.end <= self.end
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    fn intersect(&self, other: &PhysRange) -> PhysRange {
        PhysRange::new(self.start.max(other.start), self.end.min(other.end))
    }
}

/// A core as the plan sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreDesc {
    /// Local APIC id.
    pub apic_id: u32,
    /// NUMA node (0 without NUMA information).
    pub node: u32,
}

/// Memory of one NUMA node, from the SRAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeMemory {
    /// The node.
    pub node: u32,
    /// Its physical range.
    pub range: PhysRange,
}

/// What to plan for.
#[derive(Clone, Copy, Debug)]
pub struct PlanRequest<'a> {
    /// Usable RAM from the memory map.
    pub usable: &'a [PhysRange],
    /// Ranges that must not be handed out (kernel image, modules, ...).
    pub reserved: &'a [PhysRange],
    /// The cores, indexed by logical core id (0 is the boot core).
    pub cores: &'a [CoreDesc],
    /// NUMA memory ranges; empty when the machine has no SRAT.
    pub numa: &'a [NodeMemory],
    /// Bytes for the handshake area.
    pub handshake_bytes: u64,
    /// Bytes for the shared channel-frame pool.
    pub shared_pool_bytes: u64,
}

/// A core's private partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The physical range.
    pub range: PhysRange,
    /// The NUMA node it was taken from.
    pub node: u32,
}

/// The result of [`plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The handshake area (below 4 GiB).
    pub handshake: PhysRange,
    /// The shared channel-frame pool.
    pub shared_pool: PhysRange,
    /// One partition per core, indexed by logical core id.
    pub partitions: Vec<Partition, MAX_CORES>,
    /// Usable bytes that no partition took (alignment and rounding losses).
    pub unassigned: u64,
}

/// Why no plan could be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// No core was given, or more than [`MAX_CORES`].
    CoreCount(usize),
    /// The memory map is too fragmented to track.
    TooManyRanges,
    /// No free range below 4 GiB can hold the handshake area.
    NoHandshakeMemory(u64),
    /// No free range can hold the shared pool.
    NoSharedPool(u64),
    /// A node's memory cannot give each of its cores [`MIN_PARTITION`] bytes.
    NotEnoughMemory {
        /// The node.
        node: u32,
        /// How many of its cores need a partition.
        cores: usize,
        /// Free bytes found in the node.
        available: u64,
    },
}

impl core::fmt::Display for PlanError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            PlanError::CoreCount(n) => write!(f, "{n} cores (need 1 to {MAX_CORES})"),
            PlanError::TooManyRanges => {
                write!(f, "memory map has more than {MAX_RANGES} free ranges")
            }
            PlanError::NoHandshakeMemory(b) => {
                write!(
                    f,
                    "no free memory below 4 GiB for the {b}-byte handshake area"
                )
            }
            PlanError::NoSharedPool(b) => write!(f, "no free memory for the {b}-byte shared pool"),
            PlanError::NotEnoughMemory {
                node,
                cores,
                available,
            } => write!(
                f,
                "NUMA node {node} has {} MiB free for {cores} cores; each core needs at least {} MiB (give QEMU more memory)",
                available >> 20,
                MIN_PARTITION >> 20
            ),
        }
    }
}

type Ranges = Vec<PhysRange, MAX_RANGES>;

const fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

const fn align_down(v: u64, a: u64) -> u64 {
    v / a * a
}

/// Removes `hole` from every range in `free`.
fn subtract(free: &mut Ranges, hole: PhysRange) -> Result<(), PlanError> {
    let mut out = Ranges::new();
    for r in free.iter() {
        if !r.overlaps(&hole) {
            out.push(*r).map_err(|_| PlanError::TooManyRanges)?;
            continue;
        }
        let below = PhysRange::new(r.start, hole.start);
        let above = PhysRange::new(hole.end, r.end);
        for piece in [below, above] {
            if !piece.is_empty() {
                out.push(piece).map_err(|_| PlanError::TooManyRanges)?;
            }
        }
    }
    *free = out;
    Ok(())
}

/// Takes `bytes` aligned to `align` from the lowest free range that fits and
/// lies below `limit`.
fn carve(
    free: &mut Ranges,
    bytes: u64,
    align: u64,
    limit: u64,
) -> Result<Option<PhysRange>, PlanError> {
    let found = free.iter().find_map(|r| {
        let start = align_up(r.start, align);
        let end = start.checked_add(bytes)?;
        (end <= r.end && end <= limit).then_some(PhysRange::new(start, end))
    });
    if let Some(range) = found {
        subtract(free, range)?;
    }
    Ok(found)
}

/// How many `size`-byte, aligned chunks fit in `ranges`.
fn chunks_that_fit(ranges: &[PhysRange], size: u64) -> u64 {
    ranges
        .iter()
        .map(|r| {
            let start = align_up(r.start, PARTITION_ALIGN);
            if start >= r.end {
                0
            } else {
                (r.end - start) / size
            }
        })
        .sum()
}

/// Splits memory into the handshake area, the shared pool and one partition
/// per core.
pub fn plan(req: &PlanRequest<'_>) -> Result<Plan, PlanError> {
    if req.cores.is_empty() || req.cores.len() > MAX_CORES {
        return Err(PlanError::CoreCount(req.cores.len()));
    }
    // Free memory: usable RAM above 1 MiB, page aligned, minus reservations.
    let mut free = Ranges::new();
    for r in req.usable {
        let clipped = PhysRange::new(
            align_up(r.start.max(1 << 20), PAGE),
            align_down(r.end, PAGE),
        );
        if !clipped.is_empty() {
            free.push(clipped).map_err(|_| PlanError::TooManyRanges)?;
        }
    }
    free.sort_unstable_by_key(|r| r.start);
    for hole in req.reserved {
        let hole = PhysRange::new(align_down(hole.start, PAGE), align_up(hole.end, PAGE));
        subtract(&mut free, hole)?;
    }

    let handshake_bytes = align_up(req.handshake_bytes, PAGE);
    let handshake = carve(&mut free, handshake_bytes, PAGE, FOUR_GIB)?
        .ok_or(PlanError::NoHandshakeMemory(handshake_bytes))?;
    let pool_bytes = align_up(req.shared_pool_bytes, PAGE);
    let shared_pool = if pool_bytes == 0 {
        PhysRange::new(handshake.end, handshake.end)
    } else {
        carve(&mut free, pool_bytes, PAGE, u64::MAX)?.ok_or(PlanError::NoSharedPool(pool_bytes))?
    };
    let free_total: u64 = free.iter().map(PhysRange::len).sum();

    let mut partitions: Vec<Option<Partition>, MAX_CORES> = Vec::new();
    for _ in req.cores {
        // Cannot fail: the core count was checked against the capacity.
        let _ = partitions.push(None);
    }

    // Nodes in the order their first core appears.
    let mut nodes: Vec<u32, MAX_CORES> = Vec::new();
    for c in req.cores {
        if !nodes.contains(&c.node) {
            let _ = nodes.push(c.node);
        }
    }
    let mut assigned = 0u64;
    for &node in &nodes {
        let mut mine = Ranges::new();
        for r in &free {
            if req.numa.is_empty() {
                mine.push(*r).map_err(|_| PlanError::TooManyRanges)?;
                continue;
            }
            for n in req.numa.iter().filter(|n| n.node == node) {
                let piece = r.intersect(&n.range);
                if !piece.is_empty() {
                    mine.push(piece).map_err(|_| PlanError::TooManyRanges)?;
                }
            }
        }
        mine.sort_unstable_by_key(|r| r.start);
        let cores = req.cores.iter().filter(|c| c.node == node).count();
        let available: u64 = mine.iter().map(PhysRange::len).sum();
        let not_enough = PlanError::NotEnoughMemory {
            node,
            cores,
            available,
        };
        let mut size = align_down(available / cores as u64, PARTITION_ALIGN);
        while size >= MIN_PARTITION && chunks_that_fit(&mine, size) < cores as u64 {
            size -= PARTITION_ALIGN;
        }
        if size < MIN_PARTITION {
            return Err(not_enough);
        }
        let mut targets = req
            .cores
            .iter()
            .enumerate()
            .filter(|(_, c)| c.node == node)
            .map(|(i, _)| i);
        'ranges: for r in &mine {
            let mut start = align_up(r.start, PARTITION_ALIGN);
            while start.checked_add(size).is_some_and(|end| end <= r.end) {
                let Some(core) = targets.next() else {
                    break 'ranges;
                };
                partitions[core] = Some(Partition {
                    range: PhysRange::new(start, start + size),
                    node,
                });
                assigned += size;
                start += size;
            }
        }
    }

    let mut out: Vec<Partition, MAX_CORES> = Vec::new();
    for p in partitions {
        // Every core got a chunk: `size` was chosen so that enough fit.
        let p = p.ok_or(PlanError::CoreCount(req.cores.len()))?;
        let _ = out.push(p);
    }
    Ok(Plan {
        handshake,
        shared_pool,
        partitions: out,
        unassigned: free_total - assigned,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec as StdVec;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn cores(n: usize, nodes: u32) -> StdVec<CoreDesc> {
        (0..n)
            .map(|i| CoreDesc {
                apic_id: i as u32,
                node: if nodes == 0 {
                    0
                } else {
                    (i * nodes as usize / n) as u32
                },
            })
            .collect()
    }

    fn request<'a>(
        usable: &'a [PhysRange],
        reserved: &'a [PhysRange],
        cores: &'a [CoreDesc],
        numa: &'a [NodeMemory],
    ) -> PlanRequest<'a> {
        PlanRequest {
            usable,
            reserved,
            cores,
            numa,
            handshake_bytes: 64 * 1024,
            shared_pool_bytes: 4 * MIB,
        }
    }

    /// Checks the invariants every plan must hold.
    fn check(req: &PlanRequest<'_>, plan: &Plan) {
        let mut all: StdVec<PhysRange> = plan.partitions.iter().map(|p| p.range).collect();
        all.push(plan.handshake);
        all.push(plan.shared_pool);
        for (i, a) in all.iter().enumerate() {
            assert!(
                req.usable.iter().any(|u| u.contains_range(a)),
                "{a:?} not in usable RAM"
            );
            assert!(a.start >= MIB);
            for r in req.reserved {
                assert!(!a.overlaps(r), "{a:?} overlaps reserved {r:?}");
            }
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        assert!(plan.handshake.end <= FOUR_GIB);
        assert_eq!(plan.partitions.len(), req.cores.len());
        for (p, c) in plan.partitions.iter().zip(req.cores) {
            assert_eq!(p.node, c.node);
            assert!(p.range.len() >= MIN_PARTITION);
            assert_eq!(p.range.start % PARTITION_ALIGN, 0);
            if !req.numa.is_empty() {
                assert!(
                    req.numa
                        .iter()
                        .any(|n| n.node == c.node && n.range.contains_range(&p.range)),
                    "{p:?} outside its node"
                );
            }
        }
    }

    #[test]
    fn splits_one_range_evenly() {
        let usable = [
            PhysRange::new(0, 640 * 1024),
            PhysRange::new(MIB, 512 * MIB),
        ];
        let reserved = [PhysRange::new(MIB, 3 * MIB)];
        let c = cores(4, 0);
        let req = request(&usable, &reserved, &c, &[]);
        let plan = plan(&req).unwrap();
        check(&req, &plan);
        let sizes: StdVec<u64> = plan.partitions.iter().map(|p| p.range.len()).collect();
        assert!(sizes.iter().all(|&s| s == sizes[0]));
        assert!(sizes[0] >= 120 * MIB, "{sizes:?}");
        assert!(
            plan.unassigned < 4 * 2 * MIB + 4 * MIB,
            "{}",
            plan.unassigned
        );
    }

    #[test]
    fn sixty_four_cores_in_a_gigabyte() {
        let usable = [PhysRange::new(MIB, GIB + 256 * MIB)];
        let c = cores(64, 0);
        let req = request(&usable, &[], &c, &[]);
        let plan = plan(&req).unwrap();
        check(&req, &plan);
    }

    #[test]
    fn fragmented_memory_still_fits_every_core() {
        let usable = [
            PhysRange::new(MIB, 10 * MIB),
            PhysRange::new(17 * MIB, 29 * MIB),
            PhysRange::new(64 * MIB, 77 * MIB),
        ];
        let c = cores(4, 0);
        let req = request(&usable, &[], &c, &[]);
        let plan = plan(&req).unwrap();
        check(&req, &plan);
    }

    #[test]
    fn numa_partitions_come_from_the_cores_node() {
        let usable = [
            PhysRange::new(0, 640 * 1024),
            PhysRange::new(MIB, 2 * GIB),
            PhysRange::new(4 * GIB, 6 * GIB),
        ];
        let numa = [
            NodeMemory {
                node: 0,
                range: PhysRange::new(0, 2 * GIB),
            },
            NodeMemory {
                node: 1,
                range: PhysRange::new(4 * GIB, 6 * GIB),
            },
        ];
        let c = cores(4, 2);
        let req = request(&usable, &[], &c, &numa);
        let plan = plan(&req).unwrap();
        check(&req, &plan);
        assert!(plan.partitions[2].range.start >= 4 * GIB);
    }

    #[test]
    fn too_little_memory_is_a_typed_error() {
        let usable = [PhysRange::new(MIB, 40 * MIB)];
        let c = cores(16, 0);
        let err = plan(&request(&usable, &[], &c, &[])).unwrap_err();
        assert!(
            matches!(
                err,
                PlanError::NotEnoughMemory {
                    node: 0,
                    cores: 16,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_node_without_memory_is_refused() {
        let usable = [PhysRange::new(MIB, GIB)];
        let numa = [NodeMemory {
            node: 0,
            range: PhysRange::new(0, GIB),
        }];
        let c = cores(2, 2);
        let err = plan(&request(&usable, &[], &c, &numa)).unwrap_err();
        assert_eq!(
            err,
            PlanError::NotEnoughMemory {
                node: 1,
                cores: 1,
                available: 0
            }
        );
    }

    #[test]
    fn handshake_needs_low_memory() {
        let usable = [PhysRange::new(4 * GIB, 5 * GIB)];
        let c = cores(1, 0);
        assert_eq!(
            plan(&request(&usable, &[], &c, &[])),
            Err(PlanError::NoHandshakeMemory(64 * 1024))
        );
    }

    #[test]
    fn core_count_is_checked() {
        let usable = [PhysRange::new(MIB, GIB)];
        assert_eq!(
            plan(&request(&usable, &[], &[], &[])),
            Err(PlanError::CoreCount(0))
        );
    }
}
