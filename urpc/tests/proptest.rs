//! Property tests: random interleavings of send and receive batches on two
//! real threads, checked against a `VecDeque` model, and arbitrary garbage
//! in a shared region, which must only ever produce typed errors.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use common::{Region, payload};
use proptest::prelude::*;
use urpc::{
    ACK_WORD_OFFSET, AckLine, FlowControl, PAYLOAD_WORDS, RawMessage, Receiver, RecvError,
    SendError, Sender, UsedBit, Variant,
};

#[derive(Debug, Clone, Copy)]
enum Op {
    /// The sender tries to send this many messages (one batch).
    Send(usize),
    /// The receiver receives a batch of up to this many.
    RecvBatch(usize),
    /// The receiver receives one message at a time, this many times.
    RecvEach(usize),
    /// The receiver publishes its consumption.
    Publish,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..9).prop_map(Op::Send),
        (0usize..9).prop_map(Op::RecvBatch),
        (0usize..5).prop_map(Op::RecvEach),
        Just(Op::Publish),
    ]
}

fn message(k: u64) -> RawMessage {
    let w = payload(k);
    RawMessage::from_words(k as u16, (k % 57) as usize, &w)
}

/// The model: the queue, plus (ack-line variant) what the sender can know of
/// the receiver's consumption, following the documented publication rule.
struct Model {
    queue: VecDeque<u64>,
    slots: u64,
    interval: u64,
    sent: u64,
    received: u64,
    published: u64,
    limit: u64,
    ack_line: bool,
}

impl Model {
    fn can_send(&mut self) -> bool {
        if self.ack_line {
            if self.sent == self.limit {
                self.limit = self.published + self.slots;
            }
            self.sent != self.limit
        } else {
            (self.queue.len() as u64) < self.slots
        }
    }
    fn send(&mut self, n: usize) -> usize {
        let mut k = 0;
        while k < n && self.can_send() {
            self.queue.push_back(self.sent);
            self.sent += 1;
            k += 1;
        }
        k
    }
    fn recv(&mut self, each: bool) -> Option<u64> {
        let v = self.queue.pop_front();
        match v {
            Some(_) => {
                self.received += 1;
                if each && self.received - self.published >= self.interval {
                    self.published = self.received;
                }
            }
            None if each => self.published = self.received,
            None => {}
        }
        v
    }
}

const POISONED: usize = usize::MAX;

/// Tells the other thread, if this one panics, so that it stops waiting.
struct Poison<'a>(&'a AtomicUsize);

impl Drop for Poison<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(POISONED, Ordering::Release);
        }
    }
}

/// Runs `ops` in the given order, each on its own side's thread, handing a
/// turn counter between the threads; checks every outcome against the model.
fn lockstep<F: FlowControl>(slots: usize, interval: usize, ops: &[Op]) {
    let r = Region::ring(slots, F::VARIANT);
    let ring = r.attach().unwrap();
    let turn = AtomicUsize::new(0);
    let mut model = Model {
        queue: VecDeque::new(),
        slots: slots as u64,
        interval: interval.clamp(1, slots) as u64,
        sent: 0,
        received: 0,
        published: 0,
        limit: slots as u64,
        ack_line: F::VARIANT == Variant::AckLine,
    };
    // The expected outcome of every operation, computed up front.
    let expected: Vec<Vec<Option<u64>>> = ops
        .iter()
        .map(|op| match *op {
            Op::Send(n) => vec![Some(model.send(n) as u64)],
            Op::RecvBatch(n) => {
                let got: Vec<Option<u64>> =
                    (0..n).map_while(|_| model.recv(false).map(Some)).collect();
                model.published = model.received;
                got
            }
            Op::RecvEach(n) => (0..n).map(|_| model.recv(true)).collect(),
            Op::Publish => {
                model.published = model.received;
                vec![]
            }
        })
        .collect();

    let wait = |i: usize| loop {
        match turn.load(Ordering::Acquire) {
            t if t == i => break,
            POISONED => panic!("the other side failed"),
            _ => thread::yield_now(),
        }
    };
    thread::scope(|s| {
        s.spawn(|| {
            let _poison = Poison(&turn);
            let mut tx = Sender::<F>::new(ring).unwrap();
            let mut next = 0u64;
            for (i, op) in ops.iter().enumerate() {
                if let Op::Send(n) = *op {
                    wait(i);
                    let msgs: Vec<RawMessage> = (next..next + n as u64).map(message).collect();
                    let sent = match tx.try_send_raw_batch(&msgs) {
                        Ok(k) => k,
                        Err(SendError::Full) => 0,
                        Err(e) => panic!("send: {e}"),
                    };
                    assert_eq!(Some(sent as u64), expected[i][0], "op {i}: {op:?}");
                    next += sent as u64;
                    turn.store(i + 1, Ordering::Release);
                }
            }
        });
        s.spawn(|| {
            let _poison = Poison(&turn);
            let mut rx = Receiver::<F>::new(ring).unwrap();
            rx.set_ack_interval(interval);
            let blank = RawMessage::new(0, &[]).unwrap();
            for (i, op) in ops.iter().enumerate() {
                let got: Vec<Option<RawMessage>> = match *op {
                    Op::Send(_) => continue,
                    Op::RecvBatch(n) => {
                        wait(i);
                        let mut out = vec![blank; n];
                        match rx.try_recv_batch_raw(&mut out) {
                            Ok(k) => out[..k].iter().copied().map(Some).collect(),
                            Err(RecvError::Empty) => vec![],
                            Err(e) => panic!("recv: {e}"),
                        }
                    }
                    Op::RecvEach(n) => {
                        wait(i);
                        (0..n)
                            .map(|_| match rx.try_recv_raw() {
                                Ok(m) => Some(m),
                                Err(RecvError::Empty) => None,
                                Err(e) => panic!("recv: {e}"),
                            })
                            .collect()
                    }
                    Op::Publish => {
                        wait(i);
                        rx.publish();
                        vec![]
                    }
                };
                let want: Vec<Option<RawMessage>> =
                    expected[i].iter().map(|k| k.map(message)).collect();
                assert_eq!(got, want, "op {i}: {op:?}");
                turn.store(i + 1, Ordering::Release);
            }
            // Dropping the receiver publishes its consumption: not before
            // the sender is done.
            wait(ops.len());
            drop(rx);
        });
    });
}

/// Both sides run freely with random batch sizes; everything sent arrives,
/// once, in order, intact.
fn free_running<F: FlowControl>(slots: usize, sends: &[usize], recvs: &[usize], total: u64) {
    let r = Region::ring(slots, F::VARIANT);
    let ring = r.attach().unwrap();
    let turn = AtomicUsize::new(0);
    let check = || {
        assert_ne!(
            turn.load(Ordering::Relaxed),
            POISONED,
            "the other side failed"
        )
    };
    thread::scope(|s| {
        s.spawn(|| {
            let _poison = Poison(&turn);
            common::pin(0);
            let mut tx = Sender::<F>::new(ring).unwrap();
            let mut next = 0u64;
            let mut i = 0;
            while next < total {
                let n = (sends[i % sends.len()] as u64).min(total - next);
                i += 1;
                let msgs: Vec<RawMessage> = (next..next + n).map(message).collect();
                match tx.try_send_raw_batch(&msgs) {
                    Ok(k) => next += k as u64,
                    Err(SendError::Full) => {
                        check();
                        thread::yield_now()
                    }
                    Err(e) => panic!("send: {e}"),
                }
            }
        });
        s.spawn(|| {
            let _poison = Poison(&turn);
            common::pin(1);
            let mut rx = Receiver::<F>::new(ring).unwrap();
            let mut model: VecDeque<u64> = (0..total).collect();
            let blank = RawMessage::new(0, &[]).unwrap();
            let mut i = 0;
            while let Some(&want) = model.front() {
                let mut out = vec![blank; recvs[i % recvs.len()].max(1)];
                i += 1;
                match rx.try_recv_batch_raw(&mut out) {
                    Ok(k) => {
                        for (j, m) in out[..k].iter().enumerate() {
                            assert_eq!(*m, message(want + j as u64));
                            model.pop_front();
                        }
                    }
                    Err(RecvError::Empty) => {
                        check();
                        thread::yield_now()
                    }
                    Err(e) => panic!("recv: {e}"),
                }
            }
            assert_eq!(rx.try_recv_raw().unwrap_err(), RecvError::Empty);
        });
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn lockstep_ack_line(slots in 1usize..6, interval in 1usize..6,
                         ops in prop::collection::vec(op(), 1..40)) {
        lockstep::<AckLine>(slots, interval, &ops);
    }

    #[test]
    fn lockstep_used_bit(slots in 1usize..6, ops in prop::collection::vec(op(), 1..40)) {
        lockstep::<UsedBit>(slots, 1, &ops);
    }

    #[test]
    fn free_running_ack_line(slots in 1usize..9,
                             sends in prop::collection::vec(1usize..12, 1..8),
                             recvs in prop::collection::vec(1usize..12, 1..8)) {
        free_running::<AckLine>(slots, &sends, &recvs, 2_000);
    }

    #[test]
    fn free_running_used_bit(slots in 1usize..9,
                             sends in prop::collection::vec(1usize..12, 1..8),
                             recvs in prop::collection::vec(1usize..12, 1..8)) {
        free_running::<UsedBit>(slots, &sends, &recvs, 2_000);
    }

    /// Garbage written into the slot headers, payloads and flow-control words
    /// of a live ring never makes an endpoint panic: every call returns a
    /// message or a typed error.
    #[test]
    fn garbage_never_panics(words in prop::collection::vec((0usize..4, 0usize..8, any::<u64>()), 1..24),
                            used_bit in any::<bool>(),
                            steps in prop::collection::vec(any::<bool>(), 1..24)) {
        let variant = if used_bit { Variant::UsedBit } else { Variant::AckLine };
        let r = Region::ring(4, variant);
        for &(slot, word, value) in &words {
            let off = urpc::SLOTS_OFFSET + slot * 64 + word * 8;
            r.word(off).store(value, Ordering::Relaxed);
        }
        if let Some(&(_, _, v)) = words.first() {
            r.word(ACK_WORD_OFFSET).store(v, Ordering::Relaxed);
        }
        let ring = r.attach().unwrap();
        if used_bit {
            poke::<UsedBit>(ring, &steps);
        } else {
            poke::<AckLine>(ring, &steps);
        }
    }

    /// Arbitrary bytes as a region: attaching fails with a typed error or
    /// succeeds, and never panics.
    #[test]
    fn arbitrary_setup_lines(setup in prop::array::uniform4(any::<u64>()),
                             magic in any::<bool>(), len in 0usize..2048) {
        let r = Region::new(2048);
        for (i, w) in setup.iter().enumerate() {
            r.word(i * 8).store(*w, Ordering::Relaxed);
        }
        if magic {
            r.word(0).store(urpc::MAGIC, Ordering::Relaxed);
            r.word(8).store(urpc::LAYOUT_VERSION, Ordering::Relaxed);
        }
        // SAFETY: a prefix of a live region, accessed only atomically.
        if let Ok(ring) = unsafe { urpc::Ring::attach_raw(r.ptr(), len) } {
            prop_assert!(urpc::region_size(ring.slots()) <= len);
        }
    }
}

fn poke<F: FlowControl>(ring: urpc::Ring<'_>, steps: &[bool]) {
    let mut tx = Sender::<F>::new(ring).unwrap();
    let mut rx = Receiver::<F>::new(ring).unwrap();
    for &send in steps {
        if send {
            let _ = tx.try_send_words(1, 8, &[7; PAYLOAD_WORDS]);
            let _ = tx.free_slots();
        } else {
            let _ = rx.try_recv_raw();
            let _ = rx.try_recv_batch_raw(&mut [RawMessage::new(0, &[]).unwrap(); 3]);
        }
    }
}
