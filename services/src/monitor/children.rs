//! The monitor's part in spawning: starting domains for requests of the
//! spawn protocol (`proto::spawn`) through the platform, watching them
//! until they end, and, on monitor 0, asking for every `spawn=` item and
//! reporting the answers.

use alloc::format;

use abi::disp::Status;

use super::router::{Effect, collect};
use super::{Monitor, MonitorError};
use crate::platform::{Platform, SpawnError};
use crate::proto::Out;
use crate::proto::spawn::{Name, SpawnEffect};

impl<P: Platform> Monitor<'_, P> {
    /// Carries out an effect of the spawn protocol: starts a domain for a
    /// request, or (on the requester) reports an answer.
    pub(super) fn on_spawn(&mut self, e: SpawnEffect) -> Result<(), MonitorError> {
        match e {
            SpawnEffect::Start { from, id, name } => self.start_child(from, id, name),
            SpawnEffect::Spawned {
                core, name, cycles, ..
            } => {
                self.p.record(
                    "spawned",
                    format_args!("program={name} core={core} cycles={cycles}"),
                );
                Ok(())
            }
            SpawnEffect::Failed {
                core,
                name,
                failure,
                ..
            } => {
                self.p.record(
                    "spawn-failed",
                    format_args!(
                        "program={name} core={core} reason={} code={failure:#x}",
                        SpawnError::code_name(failure)
                    ),
                );
                Ok(())
            }
            SpawnEffect::Ended {
                core, name, status, ..
            } => {
                let how = match status {
                    Status::Exited(code) => format!("status=exited code={code}"),
                    Status::Killed(vector) => format!("status=killed vector={vector}"),
                    Status::Panicked => "status=panicked".into(),
                    _ => "status=revoked".into(),
                };
                self.p.record(
                    "spawn-ended",
                    format_args!("program={name} core={core} {how}"),
                );
                Ok(())
            }
        }
    }

    /// Starts `name` for request `id` of core `from` and answers it. While
    /// the platform holds as many domains as it can, the request waits for
    /// one to end.
    fn start_child(&mut self, from: u32, id: u32, name: Name) -> Result<(), MonitorError> {
        let t0 = self.p.now();
        let started = self.p.spawn(name.as_str());
        let cycles = self.p.now().wrapping_sub(t0);
        let result = match started {
            Ok(child) => {
                self.children.push((from, id, child));
                Ok(cycles)
            }
            Err(SpawnError::Busy) if !self.children.is_empty() => {
                self.waiting.push_back((from, id, name));
                return Ok(());
            }
            Err(e) => {
                self.spawn_error(format_args!("program={name}"), &e);
                Err(e.code())
            }
        };
        let mut out = Out::new();
        self.router
            .spawn
            .started(from, id, result, &mut out)
            .map_err(|_| MonitorError::Protocol {
                what: "the spawn protocol refused its own start",
            })?;
        self.apply(collect(out, Effect::Spawn))
    }

    /// Reports a spawn failure: a line that says why, and a `spawn-error`
    /// record with `what`, the reason and, for a refused invocation, the
    /// kernel's error.
    fn spawn_error(&mut self, what: core::fmt::Arguments<'_>, e: &SpawnError) {
        self.p.print(format_args!("monitor: spawn: {what}: {e}"));
        let reason = SpawnError::code_name(e.code());
        match e {
            SpawnError::Invocation { error, .. } => self.p.record(
                "spawn-error",
                format_args!("{what} reason={reason} error={}", error.name()),
            ),
            _ => self
                .p
                .record("spawn-error", format_args!("{what} reason={reason}")),
        }
    }

    /// Looks at the domains this monitor started; reports each that ended
    /// to its requester and takes back its objects. Returns whether one
    /// ended.
    pub(super) fn poll_children(&mut self) -> Result<bool, MonitorError> {
        let mut progress = false;
        let mut k = 0;
        while k < self.children.len() {
            let (from, id, child) = self.children[k];
            let status = match self.p.child(child) {
                Ok(Status::Running | Status::NotStarted) => {
                    k += 1;
                    continue;
                }
                Ok(ended) => ended,
                Err(e) => {
                    self.spawn_error(format_args!("child={child} step=status"), &e);
                    Status::Revoked
                }
            };
            self.children.remove(k);
            progress = true;
            if let Err(e) = self.p.release(child) {
                self.spawn_error(format_args!("child={child} step=release"), &e);
            }
            let mut out = Out::new();
            self.router
                .spawn
                .ended(from, id, status, &mut out)
                .map_err(|_| MonitorError::Protocol {
                    what: "the spawn protocol refused its own end",
                })?;
            self.apply(collect(out, Effect::Spawn))?;
            if let Some((from, id, name)) = self.waiting.pop_front() {
                self.start_child(from, id, name)?;
            }
        }
        Ok(progress)
    }

    /// Monitor 0: asks for every `spawn=` item and waits until each is
    /// answered and, if it started, has ended. A core that does not exist
    /// is a failed item, reported as such.
    pub(super) fn spawn_all(&mut self) -> Result<(), MonitorError> {
        let mut out = Out::new();
        for (name, core) in self.spawns.into_iter().flatten() {
            if self
                .router
                .spawn
                .request(name.as_str(), core, &mut out)
                .is_err()
            {
                self.p.record(
                    "spawn-failed",
                    format_args!("program={name} core={core} reason=no-such-core"),
                );
                self.bad_spawn = true;
            }
        }
        self.apply(collect(out, Effect::Spawn))?;
        self.run_until(|m| m.router.spawn.pending() == 0)
    }
}
