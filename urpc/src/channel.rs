//! The two endpoints of a ring and the flow-control variants.

use core::marker::PhantomData;
use core::sync::atomic::Ordering;

use crate::backend::{AtomicWord, Backend, Native, PayloadCell};
use crate::error::{Corruption, CorruptionKind, RecvError, Role, SendError, SetupError};
use crate::layout::{
    HEADER_FULL, HEADER_RESERVED, Header, HeaderError, Line, PAYLOAD_BYTES, PAYLOAD_WORDS,
    RECEIVER_ACK, RECEIVER_CLAIM, RECEIVER_SAVED, SENDER_CLAIM, SENDER_SAVED, Slot,
};
use crate::message::{Message, RawMessage};
use crate::ring::{Ring, Variant};

mod sealed {
    pub trait Sealed {}
}

/// A flow-control variant, chosen at the type level so that each endpoint's
/// hot path is compiled for exactly one of them.
pub trait FlowControl: sealed::Sealed + Send + Sync + 'static {
    /// The variant a ring must have been formatted with.
    const VARIANT: Variant;
}

/// Ack-line flow control (the original Multikernel design, and the default):
/// the receiver never writes the sender's slots. It publishes how many
/// messages it has consumed in its own cache line; the sender reads that line
/// only when its cached view says the ring is full.
#[derive(Debug, Clone, Copy)]
pub enum AckLine {}

/// Used-bit flow control (later Barrelfish): the receiver clears the full flag
/// in each slot it consumes; the sender checks the flag of the slot it is
/// about to write.
#[derive(Debug, Clone, Copy)]
pub enum UsedBit {}

impl sealed::Sealed for AckLine {}
impl sealed::Sealed for UsedBit {}
impl FlowControl for AckLine {
    const VARIANT: Variant = Variant::AckLine;
}
impl FlowControl for UsedBit {
    const VARIANT: Variant = Variant::UsedBit;
}

const SEQ_MASK: u64 = 0xFFFF_FFFF;
const LEN_SHIFT: u32 = 32;
const TAG_SHIFT: u32 = 40;
/// The header bits a fast-path comparison looks at.
const CHECK_MASK: u64 = SEQ_MASK | HEADER_FULL | HEADER_RESERVED;
/// A comparison value no masked header can equal (it has a length bit set):
/// stored in place of an expected header once an endpoint has stopped on a
/// corruption, so that the fast path always falls through to the slow one.
const NEVER: u64 = 1 << LEN_SHIFT;

#[inline(always)]
fn meta(tag: u16, len: usize) -> u64 {
    ((len as u64) << LEN_SHIFT) | ((tag as u64) << TAG_SHIFT)
}

fn corruption(slot: usize, word: u64, expected_seq: u32, kind: CorruptionKind) -> Corruption {
    Corruption {
        slot,
        word,
        expected_seq,
        kind,
    }
}

fn header_error_kind(e: HeaderError) -> CorruptionKind {
    match e {
        HeaderError::ReservedBits => CorruptionKind::ReservedBits,
        HeaderError::Length => CorruptionKind::Length,
    }
}

fn claim<B: Backend>(line: &Line<B>, index: usize, role: Role) -> Result<(), SetupError> {
    line.words[index]
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .map(|_| ())
        .map_err(|_| SetupError::AlreadyAttached { role })
}

/// The sending end of a ring.
///
/// Made by [`Sender::new`]; at most one exists per ring at a time. Dropping it
/// records its position in the region and releases the claim, so a later
/// `Sender::new` continues where it stopped.
pub struct Sender<'a, F: FlowControl = AckLine, B: Backend = Native> {
    /// The slot of the next message (`slots[idx]`).
    cur: &'a Slot<B>,
    slots: &'a [Slot<B>],
    ack: &'a B::Word,
    line: &'a Line<B>,
    /// Index of the next slot to write (`tail % slots`).
    idx: usize,
    /// Sequence number of the next message.
    tail: u64,
    /// Ack-line variant: the sender may write while `tail != limit`;
    /// `limit` is the last ack read plus the slot count. Set to `tail` once
    /// stopped, so that the fast path goes to the slow one.
    limit: u64,
    /// Used-bit variant: the masked header of a free next slot (the previous
    /// lap's message, consumed), or [`NEVER`] once stopped.
    free: u64,
    n: u64,
    fault: Option<Corruption>,
    _variant: PhantomData<F>,
}

/// Refuses a ring formatted for the other flow-control variant than `F`.
fn check_variant<F: FlowControl, B: Backend>(ring: &Ring<'_, B>) -> Result<(), SetupError> {
    if ring.variant == F::VARIANT {
        Ok(())
    } else {
        Err(SetupError::WrongVariant {
            expected: F::VARIANT,
            found: ring.variant,
        })
    }
}

impl<'a, F: FlowControl, B: Backend> Sender<'a, F, B> {
    /// Claims the sending end of `ring`.
    ///
    /// Fails with [`SetupError::WrongVariant`] if the ring was formatted for
    /// the other variant and [`SetupError::AlreadyAttached`] if a sender
    /// exists.
    pub fn new(ring: Ring<'a, B>) -> Result<Self, SetupError> {
        check_variant::<F, B>(&ring)?;
        let line = &ring.control.sender;
        claim(line, SENDER_CLAIM, Role::Sender)?;
        let tail = line.words[SENDER_SAVED].load(Ordering::Relaxed);
        let n = ring.slots.len() as u64;
        let idx = (tail % n) as usize;
        let mut sender = Sender {
            cur: &ring.slots[idx],
            slots: ring.slots,
            ack: &ring.control.receiver.words[RECEIVER_ACK],
            line,
            idx,
            tail,
            limit: tail,
            free: tail.wrapping_sub(n) & SEQ_MASK,
            n,
            fault: None,
            _variant: PhantomData,
        };
        if F::VARIANT == Variant::AckLine {
            let ack = sender.ack.load(Ordering::Acquire);
            if tail.wrapping_sub(ack) <= n {
                sender.limit = ack.wrapping_add(n);
            } else {
                sender.stop(corruption(
                    idx,
                    ack,
                    tail as u32,
                    CorruptionKind::AckOutOfRange,
                ));
            }
        }
        Ok(sender)
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.n as usize
    }

    /// Messages sent on this ring so far (by all senders it has had).
    pub fn sent(&self) -> u64 {
        self.tail
    }

    /// The corruption this sender stopped on, if any.
    pub fn fault(&self) -> Option<Corruption> {
        self.fault
    }

    /// Sends a typed message.
    #[inline]
    pub fn try_send<M: Message>(&mut self, msg: &M) -> Result<(), SendError> {
        let raw = RawMessage::encode(msg)?;
        self.try_send_raw(&raw)
    }

    /// Sends a raw message.
    #[inline]
    pub fn try_send_raw(&mut self, msg: &RawMessage) -> Result<(), SendError> {
        self.try_send_words(msg.tag(), msg.len(), &msg.to_words())
    }

    /// Sends `bytes` (at most 56) as a message of type `tag`.
    #[inline]
    pub fn try_send_bytes(&mut self, tag: u16, bytes: &[u8]) -> Result<(), SendError> {
        let raw = RawMessage::new(tag, bytes)?;
        self.try_send_raw(&raw)
    }

    /// Sends seven payload words (all 56 bytes are transferred; `len` says
    /// how many of them count, and must be at most 56). This is the lowest
    /// level send; the other send methods end here.
    #[inline(always)]
    pub fn try_send_words(
        &mut self,
        tag: u16,
        len: usize,
        words: &[u64; PAYLOAD_WORDS],
    ) -> Result<(), SendError> {
        if len > PAYLOAD_BYTES {
            return Err(SendError::TooLong { len });
        }
        let slot = self.cur;
        match F::VARIANT {
            Variant::AckLine => {
                if self.tail == self.limit {
                    self.refresh_limit()?;
                    if self.tail == self.limit {
                        return Err(SendError::Full);
                    }
                }
            }
            Variant::UsedBit => {
                let h = slot.header.load(Ordering::Acquire);
                if h & CHECK_MASK != self.free {
                    return Err(self.used_slot_not_free(h));
                }
            }
        }
        slot.payload.write(words);
        slot.header.store(
            (self.tail & SEQ_MASK) | meta(tag, len) | HEADER_FULL,
            Ordering::Release,
        );
        self.advance();
        Ok(())
    }

    #[inline(always)]
    fn advance(&mut self) {
        self.tail = self.tail.wrapping_add(1);
        self.idx += 1;
        if self.idx as u64 == self.n {
            self.idx = 0;
        }
        self.cur = &self.slots[self.idx];
        if F::VARIANT == Variant::UsedBit {
            self.free = self.tail.wrapping_sub(self.n) & SEQ_MASK;
        }
    }

    /// Records the corruption and makes every later call report it.
    #[cold]
    fn stop(&mut self, c: Corruption) -> SendError {
        self.fault = Some(c);
        self.limit = self.tail;
        self.free = NEVER;
        SendError::Corrupt(c)
    }

    /// Sends a prefix of `msgs` and returns how many were sent: all of them,
    /// or as many as there was room for. An empty slice returns `Ok(0)`;
    /// otherwise at least one is sent or the first error is returned.
    pub fn try_send_batch<M: Message>(&mut self, msgs: &[M]) -> Result<usize, SendError> {
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = self.try_send(m) {
                return if i == 0 { Err(e) } else { Ok(i) };
            }
        }
        Ok(msgs.len())
    }

    /// [`Sender::try_send_batch`] for raw messages.
    pub fn try_send_raw_batch(&mut self, msgs: &[RawMessage]) -> Result<usize, SendError> {
        for (i, m) in msgs.iter().enumerate() {
            if let Err(e) = self.try_send_raw(m) {
                return if i == 0 { Err(e) } else { Ok(i) };
            }
        }
        Ok(msgs.len())
    }

    /// How many messages can be sent right now without [`SendError::Full`]
    /// (reads the receiver's line in the ack-line variant, the next slots'
    /// headers in the used-bit variant).
    pub fn free_slots(&mut self) -> Result<usize, SendError> {
        if let Some(c) = self.fault {
            return Err(SendError::Corrupt(c));
        }
        match F::VARIANT {
            Variant::AckLine => {
                self.refresh_limit()?;
                Ok(self.limit.wrapping_sub(self.tail) as usize)
            }
            Variant::UsedBit => {
                let mut free = 0;
                let mut idx = self.idx;
                while free < self.n {
                    let h = self.slots[idx].header.load(Ordering::Acquire);
                    let prev = self.tail.wrapping_add(free).wrapping_sub(self.n) & SEQ_MASK;
                    if h & (SEQ_MASK | HEADER_FULL) != prev {
                        break;
                    }
                    free += 1;
                    idx += 1;
                    if idx as u64 == self.n {
                        idx = 0;
                    }
                }
                Ok(free as usize)
            }
        }
    }

    /// Ack-line variant: re-reads the receiver's consumption count.
    #[cold]
    #[inline(never)]
    fn refresh_limit(&mut self) -> Result<(), SendError> {
        if let Some(c) = self.fault {
            return Err(SendError::Corrupt(c));
        }
        let ack = self.ack.load(Ordering::Acquire);
        let last = self.limit.wrapping_sub(self.n);
        // The count only grows, and never past what has been sent.
        if ack.wrapping_sub(last) > self.tail.wrapping_sub(last) {
            return Err(self.stop(corruption(
                self.idx,
                ack,
                self.tail as u32,
                CorruptionKind::AckOutOfRange,
            )));
        }
        self.limit = ack.wrapping_add(self.n);
        Ok(())
    }

    /// Used-bit variant: the next slot is not a consumed message of the
    /// previous lap. Either it is still full (the ring is full) or the header
    /// is corrupt.
    #[cold]
    #[inline(never)]
    fn used_slot_not_free(&mut self, h: u64) -> SendError {
        if let Some(c) = self.fault {
            return SendError::Corrupt(c);
        }
        let prev = self.tail.wrapping_sub(self.n) as u32;
        let kind = match Header::from_word(h) {
            Ok(hdr) if hdr.seq == prev && hdr.full => return SendError::Full,
            Ok(_) => CorruptionKind::Sequence,
            Err(e) => header_error_kind(e),
        };
        self.stop(corruption(self.idx, h, prev, kind))
    }
}

impl<F: FlowControl, B: Backend> Drop for Sender<'_, F, B> {
    fn drop(&mut self) {
        self.line.words[SENDER_SAVED].store(self.tail, Ordering::Relaxed);
        self.line.words[SENDER_CLAIM].store(0, Ordering::Release);
    }
}

impl<F: FlowControl, B: Backend> core::fmt::Debug for Sender<'_, F, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("variant", &F::VARIANT)
            .field("slots", &self.n)
            .field("sent", &self.tail)
            .field("fault", &self.fault)
            .finish()
    }
}

/// The receiving end of a ring.
///
/// Made by [`Receiver::new`]; at most one exists per ring at a time. Dropping
/// it publishes its consumption, records its position and releases the claim.
pub struct Receiver<'a, F: FlowControl = AckLine, B: Backend = Native> {
    /// The slot of the next message (`slots[idx]`), unless `behind`.
    cur: &'a Slot<B>,
    /// Masked header of the next message (`head`, full), or [`NEVER`] once
    /// stopped; unless `behind`.
    expect: u64,
    /// Masked header of the previous lap's message at `cur` (`head - n`;
    /// consumed in the used-bit variant), or [`NEVER`] once stopped; unless
    /// `behind`.
    stale: u64,
    /// A message was consumed and `cur`, `expect`, `stale` and `idx` still
    /// describe it: the next receive moves them on before it looks. So a
    /// receive that finds a message does only what it must before the
    /// caller gets the payload, and the rest waits for the next receive,
    /// which usually polls an empty ring.
    behind: bool,
    slots: &'a [Slot<B>],
    ack: &'a B::Word,
    line: &'a Line<B>,
    /// Index of the next slot to read (`head % slots`).
    idx: usize,
    /// Sequence number of the next message.
    head: u64,
    /// Ack-line variant: the count last published.
    published: u64,
    /// Ack-line variant: publish after this many unpublished messages.
    ack_interval: u64,
    n: u64,
    fault: Option<Corruption>,
    _variant: PhantomData<F>,
}

impl<'a, F: FlowControl, B: Backend> Receiver<'a, F, B> {
    /// Claims the receiving end of `ring`.
    ///
    /// Fails with [`SetupError::WrongVariant`] if the ring was formatted for
    /// the other variant and [`SetupError::AlreadyAttached`] if a receiver
    /// exists.
    pub fn new(ring: Ring<'a, B>) -> Result<Self, SetupError> {
        check_variant::<F, B>(&ring)?;
        let line = &ring.control.receiver;
        claim(line, RECEIVER_CLAIM, Role::Receiver)?;
        let head = line.words[RECEIVER_SAVED].load(Ordering::Relaxed);
        let n = ring.slots.len() as u64;
        let ack = &line.words[RECEIVER_ACK];
        if F::VARIANT == Variant::AckLine {
            ack.store(head, Ordering::Release);
        }
        let idx = (head % n) as usize;
        Ok(Receiver {
            cur: &ring.slots[idx],
            expect: (head & SEQ_MASK) | HEADER_FULL,
            stale: head.wrapping_sub(n) & SEQ_MASK,
            behind: false,
            slots: ring.slots,
            ack,
            line,
            idx,
            head,
            published: head,
            ack_interval: (n / 4).max(1),
            n,
            fault: None,
            _variant: PhantomData,
        })
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.n as usize
    }

    /// Messages received on this ring so far (by all receivers it has had).
    pub fn received(&self) -> u64 {
        self.head
    }

    /// The corruption this receiver stopped on, if any.
    pub fn fault(&self) -> Option<Corruption> {
        self.fault
    }

    /// Ack-line variant: how many messages may be consumed before the count
    /// is published (default: a quarter of the ring, at least 1; clamped to
    /// `1..=capacity`). The count is also published whenever a receive finds
    /// the ring empty, at the end of every batch receive, by
    /// [`Receiver::publish`] and on drop, so a sender never waits on a
    /// receiver that is polling. No effect in the used-bit variant.
    pub fn set_ack_interval(&mut self, interval: usize) {
        self.ack_interval = (interval as u64).clamp(1, self.n);
    }

    /// Ack-line variant: publishes the consumption count now (a no-op if it
    /// is current, and in the used-bit variant).
    #[inline]
    pub fn publish(&mut self) {
        if F::VARIANT == Variant::AckLine && self.published != self.head {
            self.publish_now();
        }
    }

    #[inline(always)]
    fn publish_now(&mut self) {
        self.ack.store(self.head, Ordering::Release);
        self.published = self.head;
    }

    /// Receives a typed message. A message of another type or with an
    /// invalid payload is consumed and returned in [`RecvError::Decode`].
    #[inline]
    pub fn try_recv<M: Message>(&mut self) -> Result<M, RecvError> {
        let message = self.try_recv_raw()?;
        message
            .decode()
            .map_err(|error| RecvError::Decode { error, message })
    }

    /// Receives a raw message.
    #[inline]
    pub fn try_recv_raw(&mut self) -> Result<RawMessage, RecvError> {
        let (tag, len, words) = self.try_recv_words()?;
        Ok(RawMessage::from_words(tag, len, &words))
    }

    /// Receives the next message as `(tag, len, payload words)`. All seven
    /// words are returned as the sender wrote them; `len` (at most 56) says
    /// how many bytes count. This is the lowest-level receive; the other
    /// receive methods end here.
    #[inline(always)]
    pub fn try_recv_words(&mut self) -> Result<(u16, usize, [u64; PAYLOAD_WORDS]), RecvError> {
        self.recv_one::<true>()
    }

    /// Whether a message is waiting (one Acquire load of the next header; does
    /// not consume and does not publish).
    #[inline]
    pub fn is_ready(&self) -> bool {
        let (slot, expect) = if self.behind {
            let idx = if self.idx as u64 + 1 == self.n {
                0
            } else {
                self.idx + 1
            };
            (&self.slots[idx], (self.head & SEQ_MASK) | HEADER_FULL)
        } else {
            (self.cur, self.expect)
        };
        slot.header.load(Ordering::Acquire) & CHECK_MASK == expect
    }

    /// Moves `cur`, `expect`, `stale` and `idx` on to message `head`.
    #[inline(always)]
    fn catch_up(&mut self) {
        self.behind = false;
        self.idx += 1;
        if self.idx as u64 == self.n {
            self.idx = 0;
        }
        self.cur = &self.slots[self.idx];
        self.expect = (self.head & SEQ_MASK) | HEADER_FULL;
        self.stale = self.head.wrapping_sub(self.n) & SEQ_MASK;
    }

    /// The mask under which a stale header is compared with `stale`.
    const STALE_MASK: u64 = match F::VARIANT {
        Variant::AckLine => SEQ_MASK | HEADER_RESERVED,
        Variant::UsedBit => CHECK_MASK,
    };

    #[inline(always)]
    fn recv_one<const PUBLISH: bool>(
        &mut self,
    ) -> Result<(u16, usize, [u64; PAYLOAD_WORDS]), RecvError> {
        if self.behind {
            self.catch_up();
        }
        let slot = self.cur;
        let h = slot.header.load(Ordering::Acquire);
        if h & CHECK_MASK != self.expect {
            if h & Self::STALE_MASK == self.stale {
                if PUBLISH {
                    self.publish();
                }
                return Err(RecvError::Empty);
            }
            return Err(RecvError::Corrupt(self.corrupt(h)));
        }
        let len = (h >> LEN_SHIFT) as u8 as usize;
        if len > PAYLOAD_BYTES {
            return Err(RecvError::Corrupt(self.corrupt(h)));
        }
        let words = slot.payload.read();
        if F::VARIANT == Variant::UsedBit {
            slot.header.store(h & !HEADER_FULL, Ordering::Release);
        }
        self.head = self.head.wrapping_add(1);
        self.behind = true;
        if PUBLISH
            && F::VARIANT == Variant::AckLine
            && self.head.wrapping_sub(self.published) >= self.ack_interval
        {
            self.publish_now();
        }
        Ok(((h >> TAG_SHIFT) as u16, len, words))
    }

    /// The next header is neither the next message nor the previous lap's
    /// (or this receiver has already stopped): records and returns the
    /// corruption.
    #[cold]
    #[inline(never)]
    fn corrupt(&mut self, h: u64) -> Corruption {
        if let Some(c) = self.fault {
            return c;
        }
        let kind = match Header::from_word(h) {
            Ok(_) => CorruptionKind::Sequence,
            Err(e) => header_error_kind(e),
        };
        let c = corruption(self.idx, h, self.head as u32, kind);
        self.fault = Some(c);
        self.expect = NEVER;
        self.stale = NEVER;
        c
    }

    /// Receives up to `out.len()` messages into `out` and returns how many.
    /// In the ack-line variant the consumption count is published once, at
    /// the end. An empty `out` returns `Ok(0)`; otherwise at least one
    /// message is received or the error is returned (an error after the
    /// first message ends the batch and is returned by the next call).
    pub fn try_recv_batch_raw(&mut self, out: &mut [RawMessage]) -> Result<usize, RecvError> {
        let mut got = 0;
        let mut err = None;
        for m in out.iter_mut() {
            match self.recv_one::<false>() {
                Ok((tag, len, words)) => {
                    *m = RawMessage::from_words(tag, len, &words);
                    got += 1;
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        self.publish();
        match err {
            Some(e) if got == 0 => Err(e),
            _ => Ok(got),
        }
    }

    /// Receives up to `max` messages, handing each to `f` as
    /// `(tag, len, payload words)`, and returns how many. Publication and
    /// errors are as in [`Receiver::try_recv_batch_raw`].
    pub fn try_recv_batch_with(
        &mut self,
        max: usize,
        mut f: impl FnMut(u16, usize, &[u64; PAYLOAD_WORDS]),
    ) -> Result<usize, RecvError> {
        let mut got = 0;
        let mut err = None;
        while got < max {
            match self.recv_one::<false>() {
                Ok((tag, len, words)) => {
                    f(tag, len, &words);
                    got += 1;
                }
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        self.publish();
        match err {
            Some(e) if got == 0 => Err(e),
            _ => Ok(got),
        }
    }
}

impl<F: FlowControl, B: Backend> Drop for Receiver<'_, F, B> {
    fn drop(&mut self) {
        self.publish();
        self.line.words[RECEIVER_SAVED].store(self.head, Ordering::Relaxed);
        self.line.words[RECEIVER_CLAIM].store(0, Ordering::Release);
    }
}

impl<F: FlowControl, B: Backend> core::fmt::Debug for Receiver<'_, F, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("variant", &F::VARIANT)
            .field("slots", &self.n)
            .field("received", &self.head)
            .field("fault", &self.fault)
            .finish()
    }
}
