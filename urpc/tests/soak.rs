//! Soak: many messages with checksums across two threads pinned to different
//! cores, for both flow-control variants. Nothing may be lost, duplicated,
//! reordered or corrupted.
//!
//! The default run sends 10^6 messages per variant. The long run sends 10^8
//! (a few minutes in release mode):
//!
//! ```text
//! cargo test -p urpc --release --test soak -- --ignored
//! ```

mod common;

use std::thread;

use common::{Region, payload};
use urpc::{AckLine, FlowControl, PAYLOAD_BYTES, RecvError, SendError, UsedBit};

/// Folds a message into a running checksum (order-sensitive).
fn fold(sum: u64, tag: u16, len: usize, words: &[u64; 7]) -> u64 {
    let mut s = sum.rotate_left(5) ^ ((tag as u64) << 8 | len as u64);
    for w in words {
        s = s.rotate_left(7) ^ w;
    }
    s.wrapping_mul(0x100_0000_01B3)
}

/// What message `k` carries: a tag, a length (all of 0..=56 in turn) and
/// seven words, the bytes past the length zeroed as a receiver sees them.
fn message(k: u64) -> (u16, usize, [u64; 7]) {
    let len = (k % (PAYLOAD_BYTES as u64 + 1)) as usize;
    let mut words = payload(k);
    for (i, w) in words.iter_mut().enumerate() {
        let keep = len.saturating_sub(8 * i).min(8);
        if keep < 8 {
            *w &= (1u64 << (8 * keep)) - 1;
        }
    }
    (k as u16, len, words)
}

/// Spins, but yields now and then, so that the test also finishes quickly
/// when the machine's cores are shared with other work.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if spins.is_multiple_of(256) {
        thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn soak<F: FlowControl>(count: u64, slots: usize) {
    let r = Region::ring(slots, F::VARIANT);
    let ring = r.attach().unwrap();
    let (sent_sum, (received, recv_sum)) = thread::scope(|s| {
        let sender = s.spawn(|| {
            common::pin(0);
            let mut tx = ring.sender::<F>().unwrap();
            let mut sum = 0;
            for k in 0..count {
                let (tag, len, words) = message(k);
                let mut spins = 0u32;
                loop {
                    match tx.try_send_words(tag, len, &words) {
                        Ok(()) => break,
                        Err(SendError::Full) => backoff(&mut spins),
                        Err(e) => panic!("send {k}: {e}"),
                    }
                }
                sum = fold(sum, tag, len, &words);
            }
            sum
        });
        let receiver = s.spawn(|| {
            common::pin(1);
            let mut rx = ring.receiver::<F>().unwrap();
            let mut sum = 0;
            let mut k = 0u64;
            let mut batch = 0usize;
            let mut spins = 0u32;
            while k < count {
                // Alternate single receives and batches.
                batch = (batch + 1) % 8;
                let before = k;
                let res = if batch == 0 {
                    rx.try_recv_batch_with(16, |tag, len, words| {
                        let (t, l, w) = message(k);
                        assert_eq!((tag, len, words), (t, l, &w), "message {k}");
                        sum = fold(sum, tag, len, words);
                        k += 1;
                    })
                } else {
                    rx.try_recv_words().map(|(tag, len, words)| {
                        assert_eq!((tag, len, words), message(k), "message {k}");
                        sum = fold(sum, tag, len, &words);
                        k += 1;
                        1
                    })
                };
                match res {
                    Ok(n) => assert_eq!(k - before, n as u64),
                    Err(RecvError::Empty) => backoff(&mut spins),
                    Err(e) => panic!("recv {k}: {e}"),
                }
            }
            assert_eq!(rx.try_recv_words().unwrap_err(), RecvError::Empty);
            (k, sum)
        });
        (sender.join().unwrap(), receiver.join().unwrap())
    });
    assert_eq!(received, count, "lost messages");
    assert_eq!(recv_sum, sent_sum, "checksum");
}

#[test]
fn soak_short_ack_line() {
    soak::<AckLine>(1_000_000, 60);
}

#[test]
fn soak_short_used_bit() {
    soak::<UsedBit>(1_000_000, 60);
}

#[test]
fn soak_short_tiny_rings() {
    soak::<AckLine>(100_000, 1);
    soak::<UsedBit>(100_000, 2);
}

#[test]
#[ignore = "long; run with --release -- --ignored"]
fn soak_long_ack_line() {
    soak::<AckLine>(100_000_000, 60);
}

#[test]
#[ignore = "long; run with --release -- --ignored"]
fn soak_long_used_bit() {
    soak::<UsedBit>(100_000_000, 60);
}
