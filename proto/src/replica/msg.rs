//! **Guarantee:** a replica message decodes only from its own tag, with its
//! own length and valid fields; anything else is a typed [`Malformed`](crate::wire::Malformed).
//!
//! The replicated map's messages and their wire forms. Each model has its
//! own tags, so a message of one model never reaches a replica of another
//! as something it is not.

use crate::wire::registry::REPLICA;

crate::tag_module! {
    /// The replica protocols' tags (range [`REPLICA`]).
    REPLICA:
    ReplicaMsg::LinWrite => LIN_WRITE, ReplicaMsg::Prepare => PREPARE, ReplicaMsg::Vote => VOTE,
    ReplicaMsg::Commit => COMMIT, ReplicaMsg::WriteDone => WRITE_DONE,
    ReplicaMsg::SeqWrite => SEQ_WRITE, ReplicaMsg::Apply => APPLY, ReplicaMsg::Gossip => GOSSIP,
}

/// A message of one of the replica protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaMsg {
    /// Linearizable, client core to primary: write `value` to `key`.
    LinWrite {
        /// The client core's request number.
        seq: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Linearizable, primary to every other replica: hold write `version`
    /// (not yet visible) and vote.
    Prepare {
        /// The write's version: 1, 2, 3, ... in the primary's order.
        version: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Linearizable, replica to primary: write `version` is held here.
    Vote {
        /// The version voted for.
        version: u64,
    },
    /// Linearizable, primary to every other replica: every replica holds
    /// write `version`; make it visible.
    Commit {
        /// The version.
        version: u64,
    },
    /// Linearizable, primary to the client core: its write `seq` is
    /// committed as `version`.
    WriteDone {
        /// The client core's request number.
        seq: u64,
        /// The version the write got.
        version: u64,
    },
    /// Sequential, client core to sequencer: write `value` to `key`.
    SeqWrite {
        /// The client core's request number.
        seq: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Sequential, sequencer to every replica (itself included): apply
    /// write number `version` of the total order.
    Apply {
        /// The write's place in the total order: 1, 2, 3, ...
        version: u64,
        /// The core whose client wrote it.
        origin: u32,
        /// That core's request number.
        seq: u64,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
    /// Eventual, writer to every other replica: a write stamped with the
    /// writer's Lamport clock.
    Gossip {
        /// The Lamport time of the write.
        clock: u64,
        /// The writer's core (breaks ties between equal clocks).
        origin: u32,
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
}

crate::wire_structs! {
    LinWrite { seq: u64, key: u64, value: u64 } Prepare { version: u64, key: u64, value: u64 }
    Vote { version: u64 } Commit { version: u64 } WriteDone { seq: u64, version: u64 }
    SeqWrite { seq: u64, key: u64, value: u64 }
    Apply { version: u64, origin: u32, _pad: u32, seq: u64, key: u64, value: u64 }
    Gossip { clock: u64, origin: u32, _pad: u32, key: u64, value: u64 }
}

crate::wire_codec! {
    ReplicaMsg:
    LinWrite { seq, key, value } => LIN_WRITE, Prepare { version, key, value } => PREPARE,
    Vote { version } => VOTE, Commit { version } => COMMIT,
    WriteDone { seq, version } => WRITE_DONE, SeqWrite { seq, key, value } => SEQ_WRITE,
    Apply { version, origin, seq, key, value } => APPLY,
    Gossip { clock, origin, key, value } => GOSSIP,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Malformed;
    use urpc::RawMessage;

    #[test]
    fn every_message_round_trips() {
        let all = [
            ReplicaMsg::LinWrite {
                seq: 1,
                key: 2,
                value: 3,
            },
            ReplicaMsg::Prepare {
                version: 4,
                key: 5,
                value: 6,
            },
            ReplicaMsg::Vote { version: 7 },
            ReplicaMsg::Commit { version: 8 },
            ReplicaMsg::WriteDone {
                seq: 9,
                version: 10,
            },
            ReplicaMsg::SeqWrite {
                seq: 11,
                key: 12,
                value: 13,
            },
            ReplicaMsg::Apply {
                version: 14,
                origin: 15,
                seq: 16,
                key: 17,
                value: 18,
            },
            ReplicaMsg::Gossip {
                clock: 19,
                origin: 20,
                key: 21,
                value: 22,
            },
        ];
        for m in all {
            assert_eq!(ReplicaMsg::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn a_short_or_foreign_message_is_malformed() {
        let short = RawMessage::from_words(tag::APPLY, 8, &[1, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            ReplicaMsg::decode(&short),
            Err(Malformed::BadLength { .. })
        ));
        let foreign = RawMessage::from_words(0x0130, 8, &[1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            ReplicaMsg::decode(&foreign),
            Err(Malformed::UnknownTag(0x0130))
        );
    }
}
