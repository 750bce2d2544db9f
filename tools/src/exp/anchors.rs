//! The papers' figures our results are read against: Baumann et al., "The
//! Multikernel: a new OS architecture for scalable multicore systems",
//! SOSP 2009 (E1, E2); Mellor-Crummey and Scott, "Algorithms for scalable
//! synchronization on shared-memory multiprocessors", TOCS 1991 (E5, E6);
//! Roghanchi et al., "ffwd: delegation is (much) faster than you think",
//! SOSP 2017 (E5); Calciu et al., "Black-box Concurrent Data Structures
//! for NUMA Architectures", ASPLOS 2017 (node replication, E7); Lowe's and
//! Athalye's Porcupine linearizability checker (E7); Barrelfish's
//! capability operations (its `capops` and "Capability Management in
//! Barrelfish", technical note 013) and Hille et al., "SemperOS: A
//! Distributed Capability System", USENIX ATC 2019 (E4).

/// Table 2: the range of URPC single-message (one-way) latencies over the
/// machines measured, cycles (180 with a shared L2, up to 618 two
/// HyperTransport hops away).
pub const TABLE2_LATENCY: (u64, u64) = (180, 618);

/// Table 2's latency range as round trips (twice the one-way latency), to
/// set beside measured round trips.
pub const TABLE2_ROUND_TRIP: (u64, u64) = (2 * TABLE2_LATENCY.0, 2 * TABLE2_LATENCY.1);
/// Table 2: the range of pipelined URPC throughput, messages per kcycle.
pub const TABLE2_TPUT: (f64, f64) = (2.75, 11.97);
/// Figure 3: the core count of the anchor points.
pub const FIG3_CORES: u32 = 16;
/// Figure 3: SHM8 at 16 cores, cycles per update.
pub const FIG3_SHM8: f64 = 11_700.0;
/// Figure 3: MSG8 at 16 cores, cycles per update.
pub const FIG3_MSG8: f64 = 5_800.0;

/// The E1 anchor line.
pub fn table2_line() -> String {
    format!(
        "paper (Multikernel Table 2): URPC one-way latency {}–{} cycles (round trip {}–{}), throughput {:.2}–{:.2} msgs/kcycle",
        TABLE2_LATENCY.0,
        TABLE2_LATENCY.1,
        TABLE2_ROUND_TRIP.0,
        TABLE2_ROUND_TRIP.1,
        TABLE2_TPUT.0,
        TABLE2_TPUT.1
    )
}

/// The E2 anchor line.
pub fn fig3_line() -> String {
    format!(
        "paper (Multikernel Figure 3): at {FIG3_CORES} cores SHM8 ≈ {:.1}k cycles, MSG8 ≈ {:.1}k cycles; crossover at about 4 cores / 4 lines",
        FIG3_SHM8 / 1000.0,
        FIG3_MSG8 / 1000.0
    )
}

/// The E5 anchor of the MCS paper.
pub fn mcs_lock_line() -> String {
    "paper (Mellor-Crummey & Scott, TOCS 1991): the MCS lock makes O(1) remote references per acquisition whatever the core count; test-and-set traffic grows with the waiters".to_owned()
}

/// The E5 anchor of ffwd.
pub fn ffwd_line() -> String {
    "paper (ffwd, SOSP 2017): delegation to a dedicated server gives 5–10× the throughput of the best lock in micro-benchmarks".to_owned()
}

/// The E7 anchor of node replication.
pub fn nr_line() -> String {
    "paper (NR, Calciu et al., ASPLOS 2017): node replication scales a replicated structure by a shared log per NUMA node and flat combining within the node".to_owned()
}

/// The E7 anchor of Porcupine.
pub fn porcupine_line() -> String {
    "checker (Porcupine): 1,000–10,000× faster linearizability checking than Knossos, by partitioning histories per key".to_owned()
}

/// The E6 anchor of the MCS paper.
pub fn mcs_barrier_line() -> String {
    "paper (Mellor-Crummey & Scott, TOCS 1991): the MCS tree barrier (4-ary arrival, binary wake-up) makes O(1) remote references per processor per episode; dissemination takes ⌈log2 N⌉ rounds".to_owned()
}

/// The E4 anchor of Barrelfish.
pub fn barrelfish_caps_line() -> String {
    "Barrelfish (capops, TN-013): every check is broadcast to all N cores: revoke 4(N−1) messages even with no remote copy, retype 2(N−1), delete of the last copy 2(N−1); our `broadcast` variant is this baseline".to_owned()
}

/// The E4 anchor of SemperOS.
pub fn semperos_line() -> String {
    "paper (SemperOS, ATC 2019): revoke messages only the R kernels holding children, 2R + 1 messages; our targeted variant promises at most 2R + 2 (the +1 is the request from a non-owner)".to_owned()
}
