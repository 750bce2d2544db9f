//! The MSG series: each client's synchronous RPCs to the server core, and
//! the server that applies them.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use urpc::bench;
use urpc::duplex_region_size;
use urpc::{AckLine, Endpoint, RawMessage, Receiver, RecvError, SendError, Sender, Side};

use super::{BATCH, CHECK_EVERY, Check, Layout, MSG_SLOTS};
use crate::exp::ExpError;
use crate::exp::shared::Control;
use crate::proto::update::{ClientMsg, ServerReply, UpdateServer};
use crate::shm::Shared;

fn channel<'a>(
    mem: &Shared<'a>,
    lay: &Layout,
    client: u32,
    side: Side,
) -> Result<Endpoint<'a, AckLine>, ExpError> {
    let len = duplex_region_size(MSG_SLOTS);
    // Formatted by core 0 before the barrier.
    let duplex = mem.attach_duplex(lay.channel(client), len)?;
    Ok(duplex.endpoint::<AckLine>(side)?)
}

/// Retries `attempt` while it reports `busy` (a full or empty ring),
/// checking for an abort now and then; any other error breaks the channel
/// with `peer`.
fn retry<T, E>(
    ctl: &Control<'_>,
    peer: u32,
    mut attempt: impl FnMut() -> Result<T, E>,
    busy: impl Fn(&E) -> bool,
) -> Result<T, ExpError> {
    let mut spins = 0u32;
    loop {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(e) if busy(&e) => {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(CHECK_EVERY) {
                    ctl.check()?;
                }
            }
            Err(_) => {
                return Err(ExpError::Broken {
                    what: "update channel",
                    peer,
                });
            }
        }
    }
}

fn send(
    ctl: &Control<'_>,
    tx: &mut Sender<'_, AckLine>,
    msg: RawMessage,
    peer: u32,
) -> Result<(), ExpError> {
    retry(
        ctl,
        peer,
        || tx.try_send_raw(&msg),
        |e| *e == SendError::Full,
    )
}

fn recv(
    ctl: &Control<'_>,
    rx: &mut Receiver<'_, AckLine>,
    peer: u32,
) -> Result<RawMessage, ExpError> {
    retry(ctl, peer, || rx.try_recv_raw(), |e| *e == RecvError::Empty)
}

/// A client: synchronous update RPCs to core 0, timed in batches of
/// [`BATCH`] (a shorter last batch is not recorded). Returns the number
/// sent.
pub(super) fn client(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    updates: u64,
    deadline: u64,
    samples: &mut Vec<u64>,
) -> Result<u64, ExpError> {
    let me = ctl.me();
    let mut ep = channel(mem, lay, me, Side::B)?;
    let stop = ctl.stop();
    let mut seq = 0;
    let mut replies = [RawMessage::from_words(0, 0, &[0; urpc::PAYLOAD_WORDS]); BATCH as usize];
    while seq < updates {
        let n = (updates - seq).min(BATCH) as usize;
        let msgs: [RawMessage; BATCH as usize] = core::array::from_fn(|j| {
            ClientMsg::Update {
                client: me,
                seq: seq + j as u64,
                delta: 1,
            }
            .encode()
        });
        let t0 = bench::tsc_begin();
        for (msg, reply) in msgs.iter().zip(replies.iter_mut()).take(n) {
            send(ctl, &mut ep.tx, *msg, 0)?;
            *reply = recv(ctl, &mut ep.rx, 0)?;
        }
        let t1 = bench::tsc_end();
        if n as u64 == BATCH && samples.len() < samples.capacity() {
            samples.push(t1.wrapping_sub(t0));
        }
        for reply in &replies[..n] {
            match ServerReply::decode(reply) {
                Ok(ServerReply::Applied { seq: s, applied }) if s == seq && applied == seq + 1 => {}
                _ => return Err(ExpError::BadReply { client: me, seq }),
            }
            seq += 1;
        }
        if stop.load(Ordering::Relaxed) != 0 || t1 >= deadline {
            break;
        }
    }
    stop.store(1, Ordering::Relaxed);
    send(
        ctl,
        &mut ep.tx,
        ClientMsg::Done {
            client: me,
            sent: seq,
        }
        .encode(),
        0,
    )?;
    Ok(seq)
}

/// The server (core 0): polls every client's channel in turn and feeds
/// what arrives to an [`UpdateServer`] until every client is done; times
/// each update from the poll that found it to its reply, less `overhead`,
/// and records the sum over every [`BATCH`] updates. Returns the number of
/// updates applied.
pub(super) fn serve(
    ctl: &Control<'_>,
    mem: &Shared<'_>,
    lay: &Layout,
    k: u32,
    overhead: u64,
    samples: &mut Vec<u64>,
    check: &mut Check,
) -> Result<u64, ExpError> {
    let clients = lay.cores as u32 - 1;
    let mut eps = Vec::with_capacity(clients as usize);
    for c in 1..=clients {
        eps.push(channel(mem, lay, c, Side::A)?);
    }
    let mut server = UpdateServer::new(1, clients, k as usize);
    let mut idle = 0u32;
    let (mut busy, mut timed) = (0u64, 0u64);
    while !server.all_done() {
        for (i, ep) in eps.iter_mut().enumerate() {
            let client = i as u32 + 1;
            let t0 = bench::tsc_begin();
            match ep.rx.try_recv_raw() {
                Ok(msg) => {
                    let step = server.handle_raw(client, &msg)?;
                    if let Some(reply) = step.reply {
                        send(ctl, &mut ep.tx, reply.encode(), client)?;
                        let t1 = bench::tsc_end();
                        busy += t1.wrapping_sub(t0).saturating_sub(overhead);
                        timed += 1;
                        if timed == BATCH {
                            if samples.len() < samples.capacity() {
                                samples.push(busy);
                            }
                            (busy, timed) = (0, 0);
                        }
                    }
                }
                Err(RecvError::Empty) => {
                    idle = idle.wrapping_add(1);
                    if idle.is_multiple_of(CHECK_EVERY) {
                        ctl.check()?;
                    }
                }
                Err(_) => {
                    return Err(ExpError::Broken {
                        what: "update channel",
                        peer: client,
                    });
                }
            }
        }
    }
    let totals = server.conservation()?;
    check.applied_by_client = (1..=clients).map(|c| server.applied(c)).collect();
    check.copy_ok &= server
        .copy()
        .iter()
        .all(|l| l.0.iter().all(|&w| w == totals.applied));
    Ok(totals.applied)
}
