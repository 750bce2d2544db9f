//! What the hosted experiment tests share: one run at a time, and the
//! records of a run.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use services::exp::Request;
use services::platforms::hosted::{HostedRun, PinPolicy, run_experiment};

/// One hosted run at a time: the runs spin on every host core they have.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// One parsed record line: core, kind, fields.
#[derive(Debug)]
pub struct Rec {
    pub core: u32,
    pub kind: String,
    pub fields: Vec<(String, String)>,
}

impl Rec {
    pub fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{} record without {key}: {self:?}", self.kind))
    }

    pub fn num(&self, key: &str) -> f64 {
        let v = self.get(key);
        v.parse()
            .unwrap_or_else(|_| panic!("{key}={v} is not a number in {self:?}"))
    }
}

/// Parses every line as `[core N] @flotilla/1 kind k=v ...`, failing on
/// anything else.
pub fn records(run: &HostedRun) -> Vec<Rec> {
    run.lines
        .iter()
        .map(|line| {
            let rest = line.strip_prefix("[core ").expect(line);
            let (core, rest) = rest.split_once("] ").expect(line);
            let rest = rest.strip_prefix("@flotilla/1 ").expect(line);
            let mut words = rest.split(' ');
            let kind = words.next().expect(line).to_owned();
            let fields = words
                .map(|w| {
                    let (k, v) = w.split_once('=').expect(line);
                    assert!(
                        !k.is_empty()
                            && k.bytes().all(|b| b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || b == b'_'
                                || b == b'-'),
                        "bad key in {line}"
                    );
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            Rec {
                core: core.parse().expect(line),
                kind,
                fields,
            }
        })
        .collect()
}

pub fn run(args: &str, cores: u32) -> Vec<Rec> {
    let req = Request::parse(args).unwrap().unwrap();
    let _one = one_at_a_time();
    // On a host with fewer cores than threads, round-robin pinning would put
    // some pairs on one host core, where every round trip waits for the
    // scheduler; leave the placement to the scheduler then.
    let host = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = if cores as usize <= host {
        PinPolicy::RoundRobin
    } else {
        PinPolicy::None
    };
    let out = run_experiment(&req, cores, pin).unwrap_or_else(|e| panic!("{e}: {:#?}", e.lines()));
    assert_eq!(out.pinned.len(), cores as usize);
    records(&out)
}

pub fn of<'a>(recs: &'a [Rec], kind: &str) -> Vec<&'a Rec> {
    recs.iter().filter(|r| r.kind == kind).collect()
}
