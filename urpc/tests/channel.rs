//! Setup, layout, API behaviour and every error path, on one thread.

mod common;

use std::sync::atomic::Ordering;

use common::{Region, payload};
use urpc::{
    ACK_WORD_OFFSET, AckLine, CacheLine, Corruption, CorruptionKind, DecodeError, Duplex,
    DuplexMem, FlowControl, HEADER_FULL, Header, HeaderError, LAYOUT_VERSION, MAGIC, MAX_SLOTS,
    PAYLOAD_BYTES, PodMessage, PollError, RawMessage, Receiver, RecvError, Ring, RingMem, Role,
    RoundRobin, SENDER_LINE_OFFSET, SLOTS_OFFSET, SendError, Sender, SetupError, Side, UsedBit,
    Variant, duplex_region_size, region_size,
};

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
struct Ping {
    seq: u64,
    stamp: u32,
    urgent: bool,
    _pad: [u8; 3],
}
impl PodMessage for Ping {
    const TAG: u16 = 0x101;
}

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
struct Full56 {
    words: [u64; 7],
}
impl PodMessage for Full56 {
    const TAG: u16 = 0x102;
}

fn ping(seq: u64) -> Ping {
    Ping {
        seq,
        stamp: seq as u32 * 3,
        urgent: seq.is_multiple_of(2),
        _pad: [0; 3],
    }
}

// ------------------------------------------------------------------ setup

#[test]
fn region_size_formula() {
    assert_eq!(region_size(1), 256 + 64);
    assert_eq!(region_size(60), 4096);
    assert_eq!(duplex_region_size(60), 8192);
    assert_eq!(std::mem::size_of::<RingMem<60>>(), 4096);
    assert_eq!(std::mem::size_of::<DuplexMem<60>>(), 8192);
}

#[test]
fn format_rejects_misaligned_regions() {
    let mut lines = vec![CacheLine::ZERO; 10];
    let bytes = CacheLine::as_bytes_mut(&mut lines);
    let err = Ring::format(&mut bytes[8..], 2, Variant::AckLine).unwrap_err();
    assert!(matches!(err, SetupError::Misaligned { .. }), "{err:?}");
}

#[test]
fn format_rejects_small_regions_and_bad_slot_counts() {
    let mut lines = vec![CacheLine::ZERO; 10];
    let bytes = CacheLine::as_bytes_mut(&mut lines);
    assert_eq!(
        Ring::format(&mut bytes[..100], 1, Variant::AckLine).unwrap_err(),
        SetupError::TooSmall {
            needed: 256,
            actual: 100
        }
    );
    assert_eq!(
        Ring::format(bytes, 7, Variant::AckLine).unwrap_err(),
        SetupError::TooSmall {
            needed: region_size(7),
            actual: 640
        }
    );
    assert_eq!(
        Ring::format(bytes, 0, Variant::AckLine).unwrap_err(),
        SetupError::BadSlotCount { slots: 0 }
    );
    assert_eq!(
        Ring::format(bytes, MAX_SLOTS + 1, Variant::AckLine).unwrap_err(),
        SetupError::BadSlotCount {
            slots: MAX_SLOTS as u64 + 1
        }
    );
    // Six slots fit exactly.
    assert_eq!(Ring::format(bytes, 6, Variant::AckLine).unwrap().slots(), 6);
}

#[test]
fn attach_checks_the_setup_line() {
    let r = Region::new(region_size(4));
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::NotFormatted { found: 0 }
    );
    r.format(4, Variant::UsedBit).unwrap();
    let ring = r.attach().unwrap();
    assert_eq!((ring.slots(), ring.variant()), (4, Variant::UsedBit));

    r.word(8).store(LAYOUT_VERSION + 1, Ordering::Relaxed);
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::UnsupportedVersion {
            found: LAYOUT_VERSION + 1
        }
    );
    r.word(8).store(LAYOUT_VERSION, Ordering::Relaxed);

    r.word(16).store(5, Ordering::Relaxed);
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::TooSmall {
            needed: region_size(5),
            actual: region_size(4)
        }
    );
    r.word(16).store(0, Ordering::Relaxed);
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::BadSlotCount { slots: 0 }
    );
    r.word(16).store(u64::MAX, Ordering::Relaxed);
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::BadSlotCount { slots: u64::MAX }
    );
    r.word(16).store(4, Ordering::Relaxed);

    r.word(24).store(9, Ordering::Relaxed);
    assert_eq!(
        r.attach().unwrap_err(),
        SetupError::UnknownVariant { found: 9 }
    );
    r.word(24).store(1, Ordering::Relaxed);
    assert_eq!(r.attach().unwrap().variant(), Variant::AckLine);

    // A region too short for even the control block.
    // SAFETY: the first 64 bytes of a live region, accessed atomically.
    let short = unsafe { Ring::attach_raw(r.ptr(), 64) };
    assert!(matches!(short, Err(SetupError::TooSmall { .. })));
}

#[test]
fn endpoints_check_variant_and_claims() {
    let r = Region::ring(4, Variant::AckLine);
    let ring = r.attach().unwrap();
    assert_eq!(
        Sender::<UsedBit>::new(ring).unwrap_err(),
        SetupError::WrongVariant {
            expected: Variant::UsedBit,
            found: Variant::AckLine
        }
    );
    assert!(Receiver::<UsedBit>::new(ring).is_err());

    let tx = Sender::<AckLine>::new(ring).unwrap();
    assert_eq!(
        Sender::<AckLine>::new(ring).unwrap_err(),
        SetupError::AlreadyAttached { role: Role::Sender }
    );
    let rx = Receiver::<AckLine>::new(ring).unwrap();
    assert_eq!(
        Receiver::<AckLine>::new(ring).unwrap_err(),
        SetupError::AlreadyAttached {
            role: Role::Receiver
        }
    );
    drop((tx, rx));
    Sender::<AckLine>::new(ring).unwrap();
}

fn reattach_resumes<F: FlowControl>() {
    let r = Region::ring(3, F::VARIANT);
    let ring = r.attach().unwrap();
    let mut rx = Receiver::<F>::new(ring).unwrap();
    for round in 0..4u64 {
        // A fresh sender each round continues the sequence.
        let mut tx = Sender::<F>::new(ring).unwrap();
        assert_eq!(tx.sent(), round * 2);
        for k in 0..2 {
            tx.try_send(&ping(round * 2 + k)).unwrap();
        }
        drop(tx);
        // So does a fresh receiver.
        if round == 2 {
            drop(rx);
            rx = Receiver::<F>::new(ring).unwrap();
        }
        for k in 0..2 {
            assert_eq!(rx.try_recv::<Ping>().unwrap(), ping(round * 2 + k));
        }
        assert_eq!(rx.try_recv::<Ping>().unwrap_err(), RecvError::Empty);
    }
}

#[test]
fn reattach_resumes_ack_line() {
    reattach_resumes::<AckLine>();
}

#[test]
fn reattach_resumes_used_bit() {
    reattach_resumes::<UsedBit>();
}

// ------------------------------------------------------------------ layout

#[test]
fn layout_matches_the_documentation() {
    let r = Region::ring(4, Variant::AckLine);
    assert_eq!(r.word(0).load(Ordering::Relaxed), MAGIC);
    assert_eq!(&MAGIC.to_le_bytes(), b"FLOTURPC");
    assert_eq!(r.word(8).load(Ordering::Relaxed), LAYOUT_VERSION);
    assert_eq!(r.word(16).load(Ordering::Relaxed), 4);
    assert_eq!(r.word(24).load(Ordering::Relaxed), Variant::AckLine as u64);
    for i in 0..4 {
        let h = Header::from_word(r.header(i).load(Ordering::Relaxed)).unwrap();
        assert_eq!(h.seq, (i as u32).wrapping_sub(4));
        assert!(!h.full);
    }

    let ring = r.attach().unwrap();
    let mut tx = Sender::<AckLine>::new(ring).unwrap();
    let mut rx = Receiver::<AckLine>::new(ring).unwrap();
    assert_eq!(
        r.word(SENDER_LINE_OFFSET).load(Ordering::Relaxed),
        1,
        "claim"
    );
    tx.try_send_bytes(0xABCD, b"hello, core").unwrap();
    let h = r.header(0).load(Ordering::Relaxed);
    assert_eq!(
        Header::from_word(h).unwrap(),
        Header {
            seq: 0,
            len: 11,
            tag: 0xABCD,
            full: true
        }
    );
    assert_eq!(h, 0x80AB_CD0B_0000_0000);
    let first = r.word(SLOTS_OFFSET).load(Ordering::Relaxed);
    assert_eq!(&first.to_le_bytes(), b"hello, c");
    let second = r.word(SLOTS_OFFSET + 8).load(Ordering::Relaxed);
    assert_eq!(&second.to_le_bytes(), b"ore\0\0\0\0\0");

    assert_eq!(rx.try_recv_raw().unwrap().bytes(), b"hello, core");
    // Published at once: the default interval is a quarter of the ring.
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 1);
    tx.try_send_bytes(0, &[]).unwrap();
    assert_eq!(
        r.header(1).load(Ordering::Relaxed),
        HEADER_FULL | 1,
        "second message, empty"
    );
}

#[test]
fn used_bit_receiver_clears_the_flag() {
    let r = Region::ring(2, Variant::UsedBit);
    let ring = r.attach().unwrap();
    let mut tx = Sender::<UsedBit>::new(ring).unwrap();
    let mut rx = Receiver::<UsedBit>::new(ring).unwrap();
    tx.try_send_bytes(5, b"x").unwrap();
    assert_ne!(r.header(0).load(Ordering::Relaxed) & HEADER_FULL, 0);
    rx.try_recv_raw().unwrap();
    let h = r.header(0).load(Ordering::Relaxed);
    assert_eq!(h & HEADER_FULL, 0);
    assert_eq!(h & 0xFFFF_FFFF, 0, "sequence kept");
    // The ack word is untouched in this variant.
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 0);
}

#[test]
fn header_round_trip_and_rejects() {
    for h in [
        Header {
            seq: 0,
            len: 0,
            tag: 0,
            full: false,
        },
        Header {
            seq: u32::MAX,
            len: 56,
            tag: u16::MAX,
            full: true,
        },
    ] {
        assert_eq!(Header::from_word(h.to_word()), Ok(h));
    }
    assert_eq!(Header::from_word(1 << 60), Err(HeaderError::ReservedBits));
    assert_eq!(Header::from_word(57 << 32), Err(HeaderError::Length));
}

// ------------------------------------------------------------------ full / empty

fn full_and_empty<F: FlowControl>() {
    let r = Region::ring(4, F::VARIANT);
    let ring = r.attach().unwrap();
    let mut tx = Sender::<F>::new(ring).unwrap();
    let mut rx = Receiver::<F>::new(ring).unwrap();
    rx.set_ack_interval(1);
    assert_eq!(rx.try_recv_raw().unwrap_err(), RecvError::Empty);
    for lap in 0..5u64 {
        for k in 0..4 {
            tx.try_send(&ping(lap * 4 + k)).unwrap();
        }
        assert_eq!(tx.free_slots().unwrap(), 0);
        assert_eq!(tx.try_send(&ping(99)).unwrap_err(), SendError::Full);
        assert_eq!(rx.try_recv::<Ping>().unwrap(), ping(lap * 4));
        assert_eq!(tx.free_slots().unwrap(), 1);
        for k in 1..4 {
            assert_eq!(rx.try_recv::<Ping>().unwrap(), ping(lap * 4 + k));
        }
        assert_eq!(rx.try_recv::<Ping>().unwrap_err(), RecvError::Empty);
        assert_eq!(tx.free_slots().unwrap(), 4);
    }
    assert_eq!((tx.sent(), rx.received()), (20, 20));
}

#[test]
fn full_and_empty_ack_line() {
    full_and_empty::<AckLine>();
}

#[test]
fn full_and_empty_used_bit() {
    full_and_empty::<UsedBit>();
}

#[test]
fn lazy_ack_is_published_on_empty_and_on_publish() {
    let r = Region::ring(8, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = Sender::<AckLine>::new(ring).unwrap();
    let mut rx = Receiver::<AckLine>::new(ring).unwrap();
    rx.set_ack_interval(8);
    for k in 0..8 {
        tx.try_send(&ping(k)).unwrap();
    }
    for _ in 0..3 {
        rx.try_recv::<Ping>().unwrap();
    }
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 0);
    assert_eq!(tx.try_send(&ping(8)).unwrap_err(), SendError::Full);
    rx.publish();
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 3);
    tx.try_send(&ping(8)).unwrap();
    for _ in 3..9 {
        rx.try_recv::<Ping>().unwrap();
    }
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 3, "lazy");
    assert_eq!(rx.try_recv::<Ping>().unwrap_err(), RecvError::Empty);
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 9, "empty");
    rx.set_ack_interval(2);
    for k in 9..12 {
        tx.try_send(&ping(k)).unwrap();
    }
    rx.try_recv::<Ping>().unwrap();
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 9);
    rx.try_recv::<Ping>().unwrap();
    assert_eq!(
        r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed),
        11,
        "interval"
    );
    drop(rx);
    assert_eq!(r.word(ACK_WORD_OFFSET).load(Ordering::Relaxed), 11);
}

// ------------------------------------------------------------------ messages

#[test]
fn typed_messages_and_decode_errors() {
    let r = Region::ring(8, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<AckLine>().unwrap();
    let mut rx = ring.receiver::<AckLine>().unwrap();

    let big = Full56 { words: payload(7) };
    tx.try_send(&big).unwrap();
    assert_eq!(rx.try_recv::<Full56>().unwrap(), big);

    // Wrong tag: consumed and handed back.
    tx.try_send(&ping(1)).unwrap();
    match rx.try_recv::<Full56>().unwrap_err() {
        RecvError::Decode { error, message } => {
            assert_eq!(
                error,
                DecodeError::WrongTag {
                    expected: Full56::TAG,
                    found: Ping::TAG
                }
            );
            assert_eq!(message.decode::<Ping>().unwrap(), ping(1));
        }
        e => panic!("{e:?}"),
    }

    // Right tag, wrong length.
    tx.try_send_bytes(Ping::TAG, &[0; 8]).unwrap();
    assert!(matches!(
        rx.try_recv::<Ping>().unwrap_err(),
        RecvError::Decode {
            error: DecodeError::WrongLength {
                expected: 16,
                found: 8
            },
            ..
        }
    ));

    // Right length, invalid bool.
    let mut bytes = bytemuck::bytes_of(&ping(2)).to_vec();
    bytes[12] = 2;
    tx.try_send_bytes(Ping::TAG, &bytes).unwrap();
    assert!(matches!(
        rx.try_recv::<Ping>().unwrap_err(),
        RecvError::Decode {
            error: DecodeError::InvalidValue,
            ..
        }
    ));
    assert_eq!(rx.try_recv_raw().unwrap_err(), RecvError::Empty);
}

#[test]
fn too_long_is_refused() {
    let r = Region::ring(2, Variant::UsedBit);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<UsedBit>().unwrap();
    assert_eq!(
        tx.try_send_bytes(1, &[0; 57]).unwrap_err(),
        SendError::TooLong { len: 57 }
    );
    assert_eq!(
        RawMessage::new(1, &[0; 100]).unwrap_err(),
        SendError::TooLong { len: 100 }
    );
    assert_eq!(
        tx.try_send_words(1, 57, &[0; 7]).unwrap_err(),
        SendError::TooLong { len: 57 }
    );
    tx.try_send_bytes(1, &[0xAA; PAYLOAD_BYTES]).unwrap();
    assert_eq!(tx.sent(), 1);
}

#[test]
fn receiver_clears_bytes_past_the_length() {
    let r = Region::ring(2, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<AckLine>().unwrap();
    let mut rx = ring.receiver::<AckLine>().unwrap();
    tx.try_send_words(3, 2, &[u64::MAX; 7]).unwrap();
    let m = rx.try_recv_raw().unwrap();
    assert_eq!(m.bytes(), &[0xFF, 0xFF]);
    assert_eq!(m.to_words()[0], 0xFFFF);
    assert_eq!(m.to_words()[1..], [0; 6]);
}

fn batches<F: FlowControl>() {
    let r = Region::ring(4, F::VARIANT);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<F>().unwrap();
    let mut rx = ring.receiver::<F>().unwrap();
    let msgs: Vec<Ping> = (0..10).map(ping).collect();
    assert_eq!(tx.try_send_batch(&msgs[..0]), Ok(0));
    assert_eq!(tx.try_send_batch(&msgs), Ok(4));
    assert_eq!(tx.try_send_batch(&msgs[4..]), Err(SendError::Full));
    let mut out = [RawMessage::new(0, &[]).unwrap(); 3];
    assert_eq!(rx.try_recv_batch_raw(&mut out), Ok(3));
    for (k, m) in out.iter().enumerate() {
        assert_eq!(m.decode::<Ping>().unwrap(), ping(k as u64));
    }
    let raws: Vec<RawMessage> = msgs[4..]
        .iter()
        .map(|m| RawMessage::encode(m).unwrap())
        .collect();
    assert_eq!(tx.try_send_raw_batch(&raws), Ok(3));
    let mut seen = Vec::new();
    assert_eq!(
        rx.try_recv_batch_with(10, |tag, len, words| {
            let m = RawMessage::from_words(tag, len, words);
            seen.push(m.decode::<Ping>().unwrap().seq);
        }),
        Ok(4)
    );
    assert_eq!(seen, vec![3, 4, 5, 6]);
    assert_eq!(rx.try_recv_batch_raw(&mut out), Err(RecvError::Empty));
    assert_eq!(rx.try_recv_batch_raw(&mut []), Ok(0));
}

#[test]
fn batches_ack_line() {
    batches::<AckLine>();
}

#[test]
fn batches_used_bit() {
    batches::<UsedBit>();
}

// ------------------------------------------------------------------ corruption

fn expect_corrupt(err: RecvError, kind: CorruptionKind) -> Corruption {
    match err {
        RecvError::Corrupt(c) => {
            assert_eq!(c.kind, kind, "{c}");
            c
        }
        e => panic!("expected corruption, got {e:?}"),
    }
}

fn receiver_reports_corrupt_headers<F: FlowControl>() {
    let cases: [(u64, CorruptionKind); 4] = [
        // A sequence from the future.
        (HEADER_FULL | 7, CorruptionKind::Sequence),
        // A reserved bit.
        (HEADER_FULL | (1 << 60), CorruptionKind::ReservedBits),
        // The right sequence with a length over 56.
        (HEADER_FULL | (57 << 32), CorruptionKind::Length),
        // The right sequence without the full flag.
        (0, CorruptionKind::Sequence),
    ];
    for (word, kind) in cases {
        let r = Region::ring(4, F::VARIANT);
        let ring = r.attach().unwrap();
        let mut rx = ring.receiver::<F>().unwrap();
        r.header(0).store(word, Ordering::Release);
        let c = expect_corrupt(rx.try_recv_raw().unwrap_err(), kind);
        assert_eq!((c.slot, c.word, c.expected_seq), (0, word, 0));
        // Sticky, even if the header is repaired.
        r.header(0).store(
            urpc::Header {
                seq: 0,
                len: 0,
                tag: 0,
                full: true,
            }
            .to_word(),
            Ordering::Release,
        );
        assert_eq!(rx.try_recv_raw().unwrap_err(), RecvError::Corrupt(c));
        assert_eq!(
            rx.try_recv_batch_raw(&mut [RawMessage::new(0, &[]).unwrap()]),
            Err(RecvError::Corrupt(c))
        );
        assert_eq!(rx.fault(), Some(c));
        assert!(!rx.is_ready());
    }
}

#[test]
fn receiver_reports_corrupt_headers_ack_line() {
    receiver_reports_corrupt_headers::<AckLine>();
}

#[test]
fn receiver_reports_corrupt_headers_used_bit() {
    receiver_reports_corrupt_headers::<UsedBit>();
}

#[test]
fn used_bit_old_message_still_full_is_corrupt() {
    let r = Region::ring(2, Variant::UsedBit);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<UsedBit>().unwrap();
    let mut rx = ring.receiver::<UsedBit>().unwrap();
    tx.try_send_bytes(0, b"a").unwrap();
    rx.try_recv_raw().unwrap();
    tx.try_send_bytes(0, b"b").unwrap();
    rx.try_recv_raw().unwrap();
    // Slot 0 holds message 0, consumed. Mark it full again behind the
    // receiver's back: the receiver, expecting message 2, must not take it
    // for "empty".
    r.header(0).fetch_or(HEADER_FULL, Ordering::Release);
    expect_corrupt(rx.try_recv_raw().unwrap_err(), CorruptionKind::Sequence);
}

#[test]
fn corruption_after_good_messages_loses_nothing_before_it() {
    let r = Region::ring(4, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<AckLine>().unwrap();
    let mut rx = ring.receiver::<AckLine>().unwrap();
    for k in 0..3 {
        tx.try_send(&ping(k)).unwrap();
    }
    r.header(2).store(HEADER_FULL | 12345, Ordering::Release);
    let mut out = [RawMessage::new(0, &[]).unwrap(); 4];
    assert_eq!(rx.try_recv_batch_raw(&mut out), Ok(2));
    assert_eq!(out[1].decode::<Ping>().unwrap(), ping(1));
    let c = expect_corrupt(rx.try_recv_raw().unwrap_err(), CorruptionKind::Sequence);
    assert_eq!((c.slot, c.expected_seq), (2, 2));
}

#[test]
fn ack_line_sender_rejects_impossible_acks() {
    // Beyond what was sent, seen when the ring looks full.
    let r = Region::ring(2, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<AckLine>().unwrap();
    tx.try_send_bytes(0, b"a").unwrap();
    tx.try_send_bytes(0, b"b").unwrap();
    r.word(ACK_WORD_OFFSET).store(3, Ordering::Release);
    let err = tx.try_send_bytes(0, b"c").unwrap_err();
    let SendError::Corrupt(c) = err else {
        panic!("{err:?}")
    };
    assert_eq!((c.kind, c.word), (CorruptionKind::AckOutOfRange, 3));
    // Sticky.
    r.word(ACK_WORD_OFFSET).store(2, Ordering::Release);
    assert_eq!(tx.try_send_bytes(0, b"c").unwrap_err(), err);
    assert_eq!(tx.free_slots().unwrap_err(), err);
    assert_eq!(tx.fault(), Some(c));

    // Going backwards.
    let r = Region::ring(2, Variant::AckLine);
    let ring = r.attach().unwrap();
    let mut tx = ring.sender::<AckLine>().unwrap();
    for _ in 0..2 {
        tx.try_send_bytes(0, b"a").unwrap();
    }
    r.word(ACK_WORD_OFFSET).store(2, Ordering::Release);
    for _ in 0..2 {
        tx.try_send_bytes(0, b"a").unwrap();
    }
    r.word(ACK_WORD_OFFSET).store(1, Ordering::Release);
    assert!(matches!(
        tx.try_send_bytes(0, b"a").unwrap_err(),
        SendError::Corrupt(Corruption {
            kind: CorruptionKind::AckOutOfRange,
            word: 1,
            ..
        })
    ));

    // Already impossible when the sender attaches.
    let r = Region::ring(2, Variant::AckLine);
    r.word(ACK_WORD_OFFSET).store(40, Ordering::Release);
    let mut tx = r.attach().unwrap().sender::<AckLine>().unwrap();
    assert!(matches!(
        tx.try_send_bytes(0, b"a").unwrap_err(),
        SendError::Corrupt(Corruption {
            kind: CorruptionKind::AckOutOfRange,
            ..
        })
    ));
}

#[test]
fn used_bit_sender_rejects_impossible_slots() {
    for (word, kind) in [
        (5u64, CorruptionKind::Sequence),
        (1 << 58, CorruptionKind::ReservedBits),
        (60 << 32, CorruptionKind::Length),
    ] {
        let r = Region::ring(2, Variant::UsedBit);
        let ring = r.attach().unwrap();
        let mut tx = ring.sender::<UsedBit>().unwrap();
        r.header(0).store(word, Ordering::Release);
        let err = tx.try_send_bytes(0, b"a").unwrap_err();
        assert!(
            matches!(err, SendError::Corrupt(c) if c.kind == kind && c.word == word),
            "{err:?}"
        );
        assert_eq!(tx.try_send_bytes(0, b"a").unwrap_err(), err, "sticky");
        assert_eq!(tx.sent(), 0);
    }
}

// ------------------------------------------------------------------ duplex, polling

#[test]
fn duplex_over_bytes_and_typed_memory() {
    let mut lines = vec![CacheLine::ZERO; duplex_region_size(3) / 64];
    let bytes = CacheLine::as_bytes_mut(&mut lines);
    let d = Duplex::format(bytes, 3, Variant::UsedBit).unwrap();
    let mut a = d.endpoint::<UsedBit>(Side::A).unwrap();
    let mut b = d.endpoint::<UsedBit>(Side::B).unwrap();
    assert!(d.endpoint::<UsedBit>(Side::A).is_err());
    a.tx.try_send(&ping(1)).unwrap();
    let got: Ping = b.rx.try_recv().unwrap();
    b.tx.try_send(&ping(got.seq + 1)).unwrap();
    assert_eq!(a.rx.try_recv::<Ping>().unwrap(), ping(2));

    let r = Region::new(duplex_region_size(5));
    {
        let mut lines = vec![CacheLine::ZERO; 1];
        assert!(Duplex::format(CacheLine::as_bytes_mut(&mut lines), 5, Variant::AckLine).is_err());
    }
    // SAFETY: a live region accessed only atomically.
    unsafe {
        urpc::Ring::format_raw(r.ptr(), region_size(5), 5, Variant::AckLine).unwrap();
        let second = r.ptr().add(region_size(5));
        urpc::Ring::format_raw(second, region_size(5), 5, Variant::AckLine).unwrap();
        let d = Duplex::attach_raw(r.ptr(), r.len()).unwrap();
        assert_eq!(d.b_to_a.slots(), 5);
    }

    let mem = DuplexMem::<2>::new(Variant::AckLine);
    let d = Duplex::attach(&mem).unwrap();
    let mut a = d.endpoint::<AckLine>(Side::A).unwrap();
    let mut b = d.endpoint::<AckLine>(Side::B).unwrap();
    b.tx.try_send(&ping(5)).unwrap();
    assert_eq!(a.rx.try_recv::<Ping>().unwrap(), ping(5));
    a.tx.try_send(&ping(6)).unwrap();
    assert_eq!(b.rx.try_recv::<Ping>().unwrap(), ping(6));
}

#[test]
fn round_robin_is_fair_and_survives_a_broken_channel() {
    let regions: Vec<Region> = (0..3).map(|_| Region::ring(8, Variant::AckLine)).collect();
    let rings: Vec<Ring<'_>> = regions.iter().map(|r| r.attach().unwrap()).collect();
    let mut txs: Vec<Sender<'_>> = rings.iter().map(|r| r.sender().unwrap()).collect();
    let mut rxs: Vec<Receiver<'_>> = rings.iter().map(|r| r.receiver().unwrap()).collect();
    let mut rr = RoundRobin::new();
    assert_eq!(rr.poll(&mut rxs), Err(PollError::Empty));
    assert_eq!(
        rr.poll::<AckLine, urpc::Native>(&mut []),
        Err(PollError::Empty)
    );

    // Channel 0 is flooded, 1 and 2 have two messages each.
    for k in 0..8 {
        txs[0].try_send(&ping(k)).unwrap();
    }
    for (i, tx) in txs.iter_mut().enumerate().skip(1) {
        for k in 0..2 {
            tx.try_send(&ping(100 * i as u64 + k)).unwrap();
        }
    }
    let order: Vec<usize> = (0..9).map(|_| rr.poll(&mut rxs).unwrap().0).collect();
    assert_eq!(order, vec![0, 1, 2, 0, 1, 2, 0, 0, 0]);

    // Channel 1 breaks; the others are still served.
    txs[2].try_send(&ping(7)).unwrap();
    regions[1]
        .header(2)
        .store(HEADER_FULL | 999, Ordering::Release);
    let mut failed = 0;
    let mut from2 = 0;
    for _ in 0..6 {
        match rr.poll(&mut rxs) {
            Ok((i, _)) => {
                assert_ne!(i, 1);
                from2 += (i == 2) as usize;
            }
            Err(PollError::Failed { index, error }) => {
                assert_eq!(index, 1);
                assert!(matches!(error, RecvError::Corrupt(_)));
                failed += 1;
            }
            Err(PollError::Empty) => {}
        }
    }
    assert_eq!(from2, 1);
    assert!(failed >= 2);
}

#[test]
fn errors_display() {
    let c = Corruption {
        slot: 3,
        word: 0x1234,
        expected_seq: 9,
        kind: CorruptionKind::Sequence,
    };
    for s in [
        SendError::Full.to_string(),
        SendError::TooLong { len: 60 }.to_string(),
        SendError::Corrupt(c).to_string(),
        RecvError::Empty.to_string(),
        SetupError::Misaligned { addr: 8 }.to_string(),
        SetupError::AlreadyAttached {
            role: Role::Receiver,
        }
        .to_string(),
        DecodeError::InvalidValue.to_string(),
    ] {
        assert!(!s.is_empty());
    }
    assert!(SendError::Corrupt(c).to_string().contains("slot 3"));
}
