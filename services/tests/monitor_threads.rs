//! The monitor's event loop, the mesh protocol and the job phase on Linux
//! threads: the same code that runs in ring 3, over the hosted platform.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use services::hosted::{HostedPlatform, Pool, World};
use services::monitor::{Job, Monitor, Options, Stats};
use services::pool::{Arena, Layout};

/// One run at a time: the monitors poll before they block.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every core adds its id + 1 to word 0 of the arena and sets its bit in
/// word 1; core 0 checks, after the `Done` round, that all did.
struct Tally;

impl Job<HostedPlatform> for Tally {
    fn arena_frames(&self, _cores: u32) -> u64 {
        1
    }

    fn run(&mut self, p: &mut HostedPlatform, arena: Arena) -> bool {
        use services::platform::Platform;
        let words = arena.at(0).cast::<AtomicU64>();
        // SAFETY: the arena is one mapped, zeroed frame shared by the cores;
        // it is only accessed atomically.
        let (sum, bits) = unsafe { (&*words.as_ptr(), &*words.as_ptr().add(1)) };
        sum.fetch_add(u64::from(p.core()) + 1, Ordering::SeqCst);
        bits.fetch_or(1 << p.core(), Ordering::SeqCst);
        true
    }
}

/// Runs one monitor per core on its own thread; returns each core's stats
/// and every printed line.
fn run(cores: u32, options: Options, job: bool) -> (Vec<Stats>, Vec<String>, Arc<World>) {
    let frames = Layout::new(cores).frames_needed() + 8;
    let world = World::new(cores, Pool::new(frames).expect("pool"), None);
    let threads: Vec<_> = (0..cores)
        .map(|core| {
            let world = Arc::clone(&world);
            std::thread::spawn(move || {
                let mut platform = world.platform(core);
                let monitor = Monitor::new(&mut platform, options).expect("monitor setup");
                let mut tally = Tally;
                let job: Option<&mut dyn Job<HostedPlatform>> =
                    if job { Some(&mut tally) } else { None };
                monitor.run(job).expect("monitor run")
            })
        })
        .collect();
    let stats = threads
        .into_iter()
        .map(|t| t.join().expect("monitor thread"))
        .collect();
    let lines = world.lines();
    (stats, lines, world)
}

fn records<'a>(lines: &'a [String], kind: &str) -> Vec<&'a str> {
    let tag = format!("@flotilla/1 {kind} ");
    lines
        .iter()
        .filter(|l| l.contains(&tag))
        .map(String::as_str)
        .collect()
}

#[test]
fn the_mesh_completes_on_threads() {
    let _one = one_at_a_time();
    for cores in [1u32, 2, 3, 4, 8] {
        let (stats, lines, _) = run(cores, Options::default(), false);
        assert!(stats[0].all_ok, "{cores} cores");
        let n = cores as usize;
        let complete = records(&lines, "mesh-complete");
        assert_eq!(complete.len(), 1, "{lines:#?}");
        assert!(complete[0].starts_with("[core 0] "));
        assert!(complete[0].contains(&format!(" channels={} ", n * (n - 1) / 2)));
        assert_eq!(records(&lines, "monitor-up").len(), n);
        assert_eq!(records(&lines, "monitor-done").len(), n);
        if n > 1 {
            for m in records(&lines, "mesh-member") {
                assert!(m.contains(&format!(" links={} ", n - 1)), "{m}");
            }
        }
        assert_eq!(stats.iter().map(|s| s.dropped).sum::<u64>(), 0);
    }
}

#[test]
fn malformed_messages_are_dropped_and_counted_on_threads() {
    let _one = one_at_a_time();
    let options = Options {
        inject_malformed: true,
    };
    let (stats, lines, _) = run(3, options, false);
    assert!(stats[0].all_ok);
    assert_eq!(stats[0].dropped, 2);
    let dropped = records(&lines, "dropped");
    assert_eq!(dropped.len(), 2, "{lines:#?}");
    assert!(
        dropped[0].contains("peer=1 tag=0x7777 reason=unknown-tag"),
        "{}",
        dropped[0]
    );
    assert!(
        dropped[1].contains("peer=1 tag=0x1 reason=bad-length"),
        "{}",
        dropped[1]
    );
}

#[test]
fn every_core_runs_the_job_in_one_shared_arena() {
    let _one = one_at_a_time();
    let cores = 4u32;
    let (stats, _, world) = run(cores, Options::default(), true);
    assert!(stats.iter().all(|s| s.all_ok));
    // The arena is the first frame after the mesh.
    let layout = Layout::new(cores);
    let mut p = world.platform(0);
    use services::platform::Platform;
    let base = p.map_pool(layout.frames_needed(), 1).expect("arena frame");
    // SAFETY: the frame is mapped and every thread has finished.
    let words = unsafe { std::slice::from_raw_parts(base.cast::<u64>().as_ptr(), 2) };
    assert_eq!(words[0], (1..=u64::from(cores)).sum::<u64>());
    assert_eq!(words[1], (1 << cores) - 1);
}
