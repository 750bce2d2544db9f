//! Model checking of the ring protocol with `loom`, for both flow-control
//! variants, on rings small enough that every run wraps around many times.
//!
//! The ring code is instantiated with a [`Backend`] made of `loom` types:
//! `loom` atomics for headers and control words, and a `loom` `UnsafeCell`
//! for each payload, which fails the model if any payload read and write are
//! not ordered by happens-before (a torn read, or a sender overwriting a slot
//! the receiver has not finished with). On top of that every received message
//! is checked: sequence (nothing lost, duplicated or reordered) and all seven
//! payload words (nothing torn).
//!
//! The default tests bound preemptions so that the whole file runs in a few
//! seconds in the debug profile. The exhaustive versions are ignored; run them
//! with:
//!
//! ```text
//! cargo test -p urpc --release --test loom -- --ignored
//! ```

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::AtomicU64;
use loom::thread;
use std::sync::atomic::Ordering;

use urpc::{
    AckLine, AtomicWord, Backend, Duplex, DuplexMem, FlowControl, PAYLOAD_WORDS, PayloadCell,
    Receiver, RecvError, Ring, RingMem, SendError, Sender, Side, UsedBit, Variant,
};

/// A `loom` atomic word.
struct LoomWord(AtomicU64);

impl AtomicWord for LoomWord {
    fn new(value: u64) -> Self {
        LoomWord(AtomicU64::new(value))
    }
    fn load(&self, order: Ordering) -> u64 {
        self.0.load(order)
    }
    fn store(&self, value: u64, order: Ordering) {
        self.0.store(value, order)
    }
    fn compare_exchange(
        &self,
        old: u64,
        new: u64,
        ok: Ordering,
        err: Ordering,
    ) -> Result<u64, u64> {
        self.0.compare_exchange(old, new, ok, err)
    }
}

/// A payload whose accesses `loom` checks for data races.
struct LoomPayload(UnsafeCell<[u64; PAYLOAD_WORDS]>);

// SAFETY: `loom` runs one modelled thread at a time, and its `UnsafeCell`
// fails the model before any access that is not ordered by happens-before
// with the previous conflicting one, so no two accesses ever overlap.
unsafe impl Sync for LoomPayload {}

impl PayloadCell for LoomPayload {
    fn new() -> Self {
        LoomPayload(UnsafeCell::new([0; PAYLOAD_WORDS]))
    }
    fn read(&self) -> [u64; PAYLOAD_WORDS] {
        // SAFETY: `with` has checked that this read is ordered after the last
        // write (see the `Sync` impl); the pointer is valid.
        self.0.with(|p| unsafe { *p })
    }
    fn write(&self, words: &[u64; PAYLOAD_WORDS]) {
        // SAFETY: `with_mut` has checked that this write is ordered after all
        // earlier reads and writes; the pointer is valid.
        self.0.with_mut(|p| unsafe { *p = *words })
    }
}

/// The model-checked backend.
enum Loom {}

// SAFETY: atomics are `loom` atomics; payload accesses are checked by `loom`
// before they happen (see `LoomPayload`).
unsafe impl Backend for Loom {
    type Word = LoomWord;
    type Payload = LoomPayload;
}

/// Payload of message `k`: every word depends on `k`, so a mix of two
/// messages is detected.
fn payload(k: u64) -> [u64; PAYLOAD_WORDS] {
    core::array::from_fn(|i| k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64) << 56 ^ k)
}

fn send_all<F: FlowControl>(tx: &mut Sender<'_, F, Loom>, count: u64) {
    for k in 0..count {
        loop {
            match tx.try_send_words(k as u16, 56, &payload(k)) {
                Ok(()) => break,
                Err(SendError::Full) => thread::yield_now(),
                Err(e) => panic!("send {k}: {e}"),
            }
        }
    }
}

fn check(k: u64, tag: u16, len: usize, words: &[u64; PAYLOAD_WORDS]) {
    assert_eq!(tag, k as u16, "message {k} out of order");
    assert_eq!(len, 56);
    assert_eq!(*words, payload(k), "message {k} torn");
}

/// Receives `count` messages one at a time, then checks the ring is empty.
fn recv_all<F: FlowControl>(rx: &mut Receiver<'_, F, Loom>, count: u64) {
    for k in 0..count {
        loop {
            match rx.try_recv_words() {
                Ok((tag, len, words)) => {
                    check(k, tag, len, &words);
                    break;
                }
                Err(RecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("recv {k}: {e}"),
            }
        }
    }
    assert_eq!(rx.try_recv_words().unwrap_err(), RecvError::Empty);
}

/// Receives `count` messages in batches of up to `batch`.
fn recv_all_batched<F: FlowControl>(rx: &mut Receiver<'_, F, Loom>, count: u64, batch: usize) {
    let mut k = 0;
    while k < count {
        let want = batch.min((count - k) as usize);
        match rx.try_recv_batch_with(want, |tag, len, words| {
            check(k, tag, len, words);
            k += 1;
        }) {
            Ok(_) => {}
            Err(RecvError::Empty) => thread::yield_now(),
            Err(e) => panic!("recv {k}: {e}"),
        }
    }
    assert_eq!(rx.try_recv_words().unwrap_err(), RecvError::Empty);
}

/// One sender thread, the receiver on the model's main thread.
fn spsc<F: FlowControl, const N: usize>(count: u64, ack_interval: usize, batch: usize) {
    let mem = Arc::new(RingMem::<N, Loom>::new(F::VARIANT));
    let sender_mem = mem.clone();
    let sender = thread::spawn(move || {
        let ring = Ring::attach(&*sender_mem).unwrap();
        let mut tx = Sender::<F, Loom>::new(ring).unwrap();
        send_all(&mut tx, count);
    });
    let ring = Ring::attach(&*mem).unwrap();
    let mut rx = Receiver::<F, Loom>::new(ring).unwrap();
    rx.set_ack_interval(ack_interval);
    if batch > 1 {
        recv_all_batched(&mut rx, count, batch);
    } else {
        recv_all(&mut rx, count);
    }
    sender.join().unwrap();
}

fn bounded(preemptions: usize) -> loom::model::Builder {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(preemptions);
    b
}

// Two slots, five messages: the ring wraps twice, the sender finds it full.

#[test]
fn ack_line_two_slots() {
    bounded(2).check(|| spsc::<AckLine, 2>(5, 1, 1));
}

#[test]
fn used_bit_two_slots() {
    bounded(2).check(|| spsc::<UsedBit, 2>(5, 1, 1));
}

/// Lazy publication: with three slots and an ack interval of two, the
/// receiver only publishes every second message or when it finds the ring
/// empty; the sender must still never overwrite and never stall for good.
#[test]
fn ack_line_lazy_publication() {
    bounded(2).check(|| spsc::<AckLine, 3>(6, 2, 1));
}

/// Batch receive publishes once per batch.
#[test]
fn ack_line_batch_receive() {
    bounded(2).check(|| spsc::<AckLine, 2>(5, 2, 2));
}

#[test]
fn used_bit_batch_receive() {
    bounded(2).check(|| spsc::<UsedBit, 2>(5, 1, 2));
}

/// One slot: every message is a wrap-around.
#[test]
fn single_slot_both_variants() {
    bounded(2).check(|| spsc::<AckLine, 1>(3, 1, 1));
    bounded(2).check(|| spsc::<UsedBit, 1>(3, 1, 1));
}

/// A duplex round trip: side B echoes what side A sends.
fn echo<F: FlowControl>(count: u64) {
    let mem = Arc::new(DuplexMem::<1, Loom>::new(F::VARIANT));
    let b_mem = mem.clone();
    let b = thread::spawn(move || {
        let mut b = Duplex::attach(&*b_mem)
            .unwrap()
            .endpoint::<F>(Side::B)
            .unwrap();
        for k in 0..count {
            let (tag, len, words) = loop {
                match b.rx.try_recv_words() {
                    Ok(m) => break m,
                    Err(RecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            };
            check(k, tag, len, &words);
            loop {
                match b.tx.try_send_words(tag, len, &words) {
                    Ok(()) => break,
                    Err(SendError::Full) => thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
        }
    });
    let mut a = Duplex::attach(&*mem)
        .unwrap()
        .endpoint::<F>(Side::A)
        .unwrap();
    for k in 0..count {
        send_all_from(&mut a.tx, k);
        loop {
            match a.rx.try_recv_words() {
                Ok((tag, len, words)) => {
                    check(k, tag, len, &words);
                    break;
                }
                Err(RecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    }
    b.join().unwrap();
}

fn send_all_from<F: FlowControl>(tx: &mut Sender<'_, F, Loom>, k: u64) {
    loop {
        match tx.try_send_words(k as u16, 56, &payload(k)) {
            Ok(()) => break,
            Err(SendError::Full) => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn duplex_echo_both_variants() {
    bounded(2).check(|| echo::<AckLine>(3));
    bounded(2).check(|| echo::<UsedBit>(3));
}

// Exhaustive versions: no preemption bound.

fn exhaustive() -> loom::model::Builder {
    loom::model::Builder::new()
}

#[test]
#[ignore = "exhaustive; run with --release -- --ignored"]
fn exhaustive_ack_line_two_slots() {
    exhaustive().check(|| spsc::<AckLine, 2>(4, 1, 1));
}

#[test]
#[ignore = "exhaustive; run with --release -- --ignored"]
fn exhaustive_used_bit_two_slots() {
    exhaustive().check(|| spsc::<UsedBit, 2>(6, 1, 1));
    exhaustive().check(|| spsc::<UsedBit, 3>(7, 1, 1));
}

#[test]
#[ignore = "exhaustive; run with --release -- --ignored"]
fn exhaustive_ack_line_lazy_publication() {
    exhaustive().check(|| spsc::<AckLine, 2>(4, 2, 1));
}

#[test]
#[ignore = "exhaustive; run with --release -- --ignored"]
fn exhaustive_batch_receive() {
    exhaustive().check(|| spsc::<AckLine, 2>(4, 2, 2));
    exhaustive().check(|| spsc::<UsedBit, 2>(5, 1, 2));
}

#[test]
#[ignore = "exhaustive; run with --release -- --ignored"]
fn exhaustive_duplex_echo() {
    exhaustive().check(|| echo::<AckLine>(3));
    exhaustive().check(|| echo::<UsedBit>(3));
}

/// A variant with the Release on the header weakened to Relaxed must be
/// caught: this checks that the model actually sees payload races.
#[test]
fn model_catches_a_missing_release() {
    let result = std::panic::catch_unwind(|| {
        bounded(2).check(|| {
            let slot = Arc::new((LoomPayload::new(), LoomWord::new(0)));
            let s2 = slot.clone();
            let t = thread::spawn(move || {
                s2.0.write(&payload(1));
                s2.1.store(1, Ordering::Relaxed);
            });
            if slot.1.load(Ordering::Acquire) == 1 {
                let _ = slot.0.read();
            }
            t.join().unwrap();
        })
    });
    assert!(result.is_err(), "loom did not detect the race");
}

#[test]
fn variant_is_recorded() {
    loom::model(|| {
        let mem = RingMem::<2, Loom>::new(Variant::UsedBit);
        let ring = Ring::attach(&mem).unwrap();
        assert_eq!(ring.variant(), Variant::UsedBit);
        assert!(Sender::<AckLine, Loom>::new(ring).is_err());
    });
}
