//! Sampling the watched process from /proc: RSS, CPU, threads, open file descriptors.
//!
//! [`ProcessWatch::attach`] starts a thread that samples a pid every [`SAMPLE_INTERVAL`],
//! notices when it ends (gone, a zombie, or its pid reused by another process), and when it
//! ends looks for a process with the same executable and command line that took its place
//! (a supervisor's restart), which it then goes on sampling. Linux only: elsewhere attaching
//! fails as if the pid did not exist.

use crate::lock;
use crate::spawn::ExitProbe;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use unruly_core::{ProcessExit, ProcessSample};

/// Time between two samples of the watched process.
pub const SAMPLE_INTERVAL: Duration = Duration::from_millis(250);
/// Samples kept at most (one hour at [`SAMPLE_INTERVAL`]); past that, every other sample
/// is dropped and only every second one is kept from then on, and so on.
pub const MAX_SAMPLES: usize = 14_400;

/// What can go wrong while watching or spawning the target.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The pid to watch does not exist (or is not readable in /proc).
    #[error("no process with pid {pid}")]
    NoSuchProcess {
        /// The pid asked for.
        pid: u32,
    },
    /// `--spawn` was given an empty command.
    #[error("the command to spawn is empty")]
    EmptyCommand,
    /// The command could not be started at all.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A thread to sample the process or read its output could not be started.
    #[error("could not start a thread to watch the target: {source}")]
    Thread {
        /// Why.
        source: std::io::Error,
    },
    /// Ctrl-C came while waiting for the spawned target to answer.
    #[error("interrupted while waiting for the target to answer on {addr}")]
    Interrupted {
        /// The address waited on.
        addr: SocketAddr,
    },
    /// The spawned target ended before it accepted a connection.
    #[error("the target exited ({how}) before answering on {addr}")]
    ExitedBeforeAnswering {
        /// How it ended: `exit status 1`.
        how: String,
        /// The address waited on.
        addr: SocketAddr,
    },
    /// The spawned target did not accept a connection in time.
    #[error(
        "the target did not answer on {addr} within {timeout:?}; check that it listens on that \
         address and port (not another one, nor only on another interface), and read its output \
         for errors, or allow it longer to start"
    )]
    NotAnswering {
        /// The address waited on.
        addr: SocketAddr,
        /// How long it was waited for.
        timeout: Duration,
    },
}

/// What was seen of the process over a watch.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessOutcome {
    /// The pid watched last (the restarted one, if it restarted).
    pub pid: u32,
    /// Its samples, in time order (thinned evenly past [`MAX_SAMPLES`]).
    pub samples: Vec<ProcessSample>,
    /// How it ended or restarted, if it did.
    pub exit: Option<ProcessExit>,
}

/// A process being sampled by a thread of its own until [`finish`](ProcessWatch::finish)
/// (or drop).
#[derive(Debug)]
pub struct ProcessWatch {
    shared: Arc<Mutex<Shared>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the sampling thread shares with the watch.
#[derive(Debug)]
struct Shared {
    pid: u32,
    samples: Thinned,
    latest: Option<ProcessSample>,
    exit: Option<ProcessExit>,
}

impl ProcessWatch {
    /// Starts sampling `pid` every [`SAMPLE_INTERVAL`], timing samples in seconds since
    /// `start`. When it ends it is recorded as `gone` (unruly did not start it, so it
    /// cannot know its exit status).
    pub fn attach(pid: u32, start: Instant) -> Result<ProcessWatch, WatchError> {
        Self::attach_with(pid, start, None)
    }

    /// Like [`attach`](Self::attach), for a target unruly spawned: its end is recorded as
    /// `probe` tells it (`exit status 3`, `killed by signal 9 (SIGKILL)`); the watch reaps
    /// the child when it sees it a zombie. `probe` comes from
    /// [`SpawnedTarget::exit_probe`](crate::spawn::SpawnedTarget::exit_probe). Finish the
    /// watch before stopping the target at the end of a run, or the stop is recorded as its
    /// end (`killed by signal 15 (SIGTERM)`).
    pub fn attach_child(
        pid: u32,
        start: Instant,
        probe: ExitProbe,
    ) -> Result<ProcessWatch, WatchError> {
        Self::attach_with(pid, start, Some(probe))
    }

    fn attach_with(
        pid: u32,
        start: Instant,
        probe: Option<ExitProbe>,
    ) -> Result<ProcessWatch, WatchError> {
        let target = Target::find(pid).ok_or(WatchError::NoSuchProcess { pid })?;
        let shared = Arc::new(Mutex::new(Shared {
            pid,
            samples: Thinned::new(MAX_SAMPLES),
            latest: None,
            exit: None,
        }));
        let (stop, stopped) = mpsc::channel::<()>();
        let sampler = Sampler {
            target: Some(target),
            gone: None,
            probe,
            start,
            ticks_per_s: clock_ticks_per_second(),
            shared: Arc::clone(&shared),
        };
        let thread = std::thread::Builder::new()
            .name(format!("unruly-watch-{pid}"))
            .spawn(move || sampler.run(stopped))
            .map_err(|source| WatchError::Thread { source })?;
        Ok(ProcessWatch {
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The pid watched now (another one after a restart).
    pub fn pid(&self) -> u32 {
        lock(&self.shared).pid
    }

    /// The latest sample, for live progress and metrics.
    pub fn latest(&self) -> Option<ProcessSample> {
        lock(&self.shared).latest
    }

    /// How the process ended or restarted, if it has so far.
    pub fn exited(&self) -> Option<ProcessExit> {
        lock(&self.shared).exit.clone()
    }

    /// Stops sampling and returns what was seen.
    pub fn finish(mut self) -> ProcessOutcome {
        self.stop_thread();
        let mut shared = lock(&self.shared);
        ProcessOutcome {
            pid: shared.pid,
            samples: shared.samples.take(),
            exit: shared.exit.take(),
        }
    }

    fn stop_thread(&mut self) {
        // Dropping the sender wakes the thread at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ProcessWatch {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The kernel's clock tick (the unit of utime and stime in /proc/PID/stat).
fn clock_ticks_per_second() -> f64 {
    match rustix::param::clock_ticks_per_second() {
        0 => 100.0,
        n => n as f64,
    }
}

/// One process as identified by its pid and start time, with what a restart of it would
/// share: its executable and command line.
#[derive(Debug, Clone)]
struct Target {
    pid: u32,
    /// Field 22 of /proc/PID/stat, in clock ticks since boot.
    start_ticks: u64,
    exe: Option<PathBuf>,
    cmdline: Vec<u8>,
    /// utime + stime at the previous sample, and when that was read.
    last_cpu: Option<(u64, Instant)>,
}

impl Target {
    /// The process `pid`, if it exists and is not a zombie.
    fn find(pid: u32) -> Option<Target> {
        let stat = Stat::read(pid)?;
        if stat.is_dead() {
            return None;
        }
        Some(Target {
            pid,
            start_ticks: stat.start_ticks,
            exe: std::fs::read_link(format!("/proc/{pid}/exe")).ok(),
            cmdline: std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default(),
            last_cpu: Some((stat.cpu_ticks, Instant::now())),
        })
    }
}

/// The fields of /proc/PID/stat that the watch reads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    state: char,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    threads: u64,
    start_ticks: u64,
}

impl Stat {
    fn read(pid: u32) -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Parses /proc/PID/stat: the command name (field 2) is in parentheses and may hold
    /// spaces and parentheses itself, so fields are counted from the last `)`.
    fn parse(text: &str) -> Option<Stat> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
        // fields[0] is field 3 of the man page (state).
        let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
        Some(Stat {
            state: fields.first()?.chars().next()?,
            cpu_ticks: field(14)?.saturating_add(field(15)?),
            threads: field(20)?,
            start_ticks: field(22)?,
        })
    }

    fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Resident memory from /proc/PID/status (`VmRSS: 1234 kB`).
fn read_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024))
}

/// Open file descriptors (0 when /proc/PID/fd cannot be read, e.g. another user's process).
fn count_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.filter(|e| e.is_ok()).count() as u64)
        .unwrap_or(0)
}

/// The sampling thread's state.
struct Sampler {
    /// The process being sampled; `None` once it ended and none took its place (yet).
    target: Option<Target>,
    /// The process that ended, kept to recognise a restart of it.
    gone: Option<Target>,
    probe: Option<ExitProbe>,
    start: Instant,
    ticks_per_s: f64,
    shared: Arc<Mutex<Shared>>,
}

impl Sampler {
    fn run(mut self, stopped: mpsc::Receiver<()>) {
        loop {
            self.tick();
            match stopped.recv_timeout(SAMPLE_INTERVAL) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    fn t_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn tick(&mut self) {
        if let Some(mut target) = self.target.take() {
            match self.sample(&mut target) {
                Some(sample) => {
                    let mut shared = lock(&self.shared);
                    shared.samples.push(sample);
                    shared.latest = Some(sample);
                    self.target = Some(target);
                    return;
                }
                None => {
                    let how = self
                        .probe
                        .as_ref()
                        .and_then(ExitProbe::check)
                        .unwrap_or_else(|| "gone".to_owned());
                    lock(&self.shared).exit = Some(ProcessExit {
                        t_s: self.t_s(),
                        how,
                        restarted: false,
                    });
                    self.gone = Some(target);
                }
            }
        }
        if let Some(gone) = &self.gone {
            if let Some(next) = find_restart(gone) {
                let mut shared = lock(&self.shared);
                let t_s = shared.exit.as_ref().map_or_else(|| self.t_s(), |e| e.t_s);
                shared.exit = Some(ProcessExit {
                    t_s,
                    how: format!("restarted as pid {}", next.pid),
                    restarted: true,
                });
                shared.pid = next.pid;
                drop(shared);
                // The restarted process is not our child: its end can only be `gone`.
                self.probe = None;
                self.gone = None;
                self.target = Some(next);
            }
        }
    }

    /// One sample of `target`, or `None` if it ended (gone, zombie, or pid reused).
    fn sample(&self, target: &mut Target) -> Option<ProcessSample> {
        let stat = Stat::read(target.pid)?;
        if stat.is_dead() || stat.start_ticks != target.start_ticks {
            return None;
        }
        let rss_bytes = read_rss(target.pid)?;
        let fds = count_fds(target.pid);
        let now = Instant::now();
        let cpu_percent = match target.last_cpu {
            Some((ticks, at)) => {
                let wall = now.duration_since(at).as_secs_f64();
                let used = stat.cpu_ticks.saturating_sub(ticks) as f64 / self.ticks_per_s;
                if wall > 0.0 {
                    used / wall * 100.0
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        target.last_cpu = Some((stat.cpu_ticks, now));
        // Kept fresh, so that a restart is recognised even after the process `exec`ed.
        if let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", target.pid)) {
            if !cmdline.is_empty() {
                target.cmdline = cmdline;
                target.exe = std::fs::read_link(format!("/proc/{}/exe", target.pid)).ok();
            }
        }
        Some(ProcessSample {
            t_s: now.duration_since(self.start).as_secs_f64(),
            rss_bytes,
            cpu_percent,
            threads: stat.threads,
            fds,
        })
    }
}

/// A live process with the same executable and command line as `gone`, started after it
/// (the earliest such, if several).
fn find_restart(gone: &Target) -> Option<Target> {
    if gone.cmdline.is_empty() {
        return None;
    }
    let mut best: Option<Target> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline != gone.cmdline {
            continue;
        }
        let Some(candidate) = Target::find(pid) else {
            continue;
        };
        if candidate.start_ticks < gone.start_ticks
            || (candidate.pid == gone.pid && candidate.start_ticks == gone.start_ticks)
        {
            continue;
        }
        if gone.exe.is_some() && candidate.exe != gone.exe {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| candidate.start_ticks < b.start_ticks)
        {
            best = Some(candidate);
        }
    }
    best
}

/// Samples kept evenly over the whole watch, within a cap: when full, every other sample
/// is dropped and the stride between kept samples doubles.
#[derive(Debug, Clone)]
struct Thinned {
    cap: usize,
    stride: u64,
    seen: u64,
    kept: Vec<ProcessSample>,
}

impl Thinned {
    fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(2),
            stride: 1,
            seen: 0,
            kept: Vec::new(),
        }
    }

    fn push(&mut self, sample: ProcessSample) {
        let index = self.seen;
        self.seen += 1;
        if !index.is_multiple_of(self.stride) {
            return;
        }
        if self.kept.len() >= self.cap {
            let mut i = 0;
            self.kept.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
            if !index.is_multiple_of(self.stride) {
                return;
            }
        }
        self.kept.push(sample);
    }

    fn take(&mut self) -> Vec<ProcessSample> {
        std::mem::take(&mut self.kept)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};

    /// The real python3 binary (not a version manager's shim script, which would `exec` it
    /// after a while and change the process's command line under the test).
    pub(crate) fn python3() -> String {
        static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        PATH.get_or_init(|| {
            Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "python3".to_owned())
        })
        .clone()
    }

    fn python(script: &str) -> Child {
        Command::new(python3())
            .args(["-c", script])
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 starts")
    }

    /// Waits until `done` holds, for at most `limit`.
    pub(crate) fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        done()
    }

    #[test]
    fn samples_a_live_process_and_sees_it_killed() {
        let mut child = python("import time; time.sleep(30)  # samples_a_live_process");
        let watch = ProcessWatch::attach(child.id(), Instant::now()).expect("attach");
        // The first samples may catch python3 still loading.
        assert!(eventually(Duration::from_secs(3), || watch
            .latest()
            .is_some_and(|s| s.rss_bytes > 1024 * 1024)));
        let sample = watch.latest().expect("a sample");
        assert!(sample.rss_bytes > 1024 * 1024, "{sample:?}");
        assert!(sample.threads >= 1, "{sample:?}");
        assert!(sample.fds >= 3, "{sample:?}");
        assert!(sample.cpu_percent >= 0.0, "{sample:?}");
        assert_eq!(watch.exited(), None);
        child.kill().expect("kill");
        // Not reaped yet: a zombie counts as ended.
        assert!(eventually(Duration::from_secs(3), || watch
            .exited()
            .is_some()));
        let _ = child.wait();
        let outcome = watch.finish();
        assert_eq!(outcome.pid, child.id());
        assert!(!outcome.samples.is_empty());
        let exit = outcome.exit.expect("an exit");
        assert_eq!(exit.how, "gone");
        assert!(!exit.restarted);
        assert!(outcome.samples.windows(2).all(|p| p[0].t_s < p[1].t_s));
    }

    #[test]
    fn attaching_to_no_process_fails_clearly() {
        let err = ProcessWatch::attach(u32::MAX, Instant::now()).expect_err("no such pid");
        assert_eq!(err.to_string(), format!("no process with pid {}", u32::MAX));
    }

    #[test]
    fn rising_memory_shows_in_the_samples() {
        let mut child = python(
            "import time\nkept = []\nwhile True:\n    kept.append(b'x' * (1 << 20))\n    time.sleep(0.02)",
        );
        let watch = ProcessWatch::attach(child.id(), Instant::now()).expect("attach");
        std::thread::sleep(Duration::from_millis(1600));
        let outcome = watch.finish();
        let _ = child.kill();
        let _ = child.wait();
        let (first, last) = (
            outcome.samples.first().expect("samples"),
            outcome.samples.last().expect("samples"),
        );
        assert!(outcome.samples.len() >= 4, "{:?}", outcome.samples);
        assert!(
            last.rss_bytes > first.rss_bytes + 15 * 1024 * 1024,
            "{:?}",
            outcome.samples
        );
        // It is busy allocating: some CPU shows.
        assert!(outcome.samples.iter().any(|s| s.cpu_percent > 1.0));
    }

    #[test]
    fn a_spawned_child_exit_status_is_recorded() {
        let sink: crate::spawn::LineSink = Arc::new(|_, _| {});
        let target = crate::spawn::start(
            &format!(
                "{} -c 'import time, sys; time.sleep(0.5); sys.exit(3)'",
                python3()
            ),
            sink,
        )
        .expect("spawn");
        let watch = ProcessWatch::attach_child(target.pid(), Instant::now(), target.exit_probe())
            .expect("attach");
        assert!(eventually(Duration::from_secs(4), || watch
            .exited()
            .is_some()));
        let exit = watch.exited().expect("exit");
        assert_eq!(exit.how, "exit status 3");
        assert!(exit.t_s >= 0.4, "{exit:?}");
        assert_eq!(target.stop().as_deref(), Some("exit status 3"));
    }

    #[test]
    fn a_restart_with_the_same_command_is_followed() {
        let script = format!(
            "import time; time.sleep(0.8)  # restart test {}",
            std::process::id()
        );
        let mut first = python(&script);
        let watch = ProcessWatch::attach(first.id(), Instant::now()).expect("attach");
        let _ = first.wait();
        let mut second = python(&script);
        let second_pid = second.id();
        assert!(eventually(Duration::from_secs(3), || watch
            .exited()
            .is_some_and(|e| e.restarted)));
        assert_eq!(watch.pid(), second_pid);
        assert!(eventually(Duration::from_secs(2), || watch
            .latest()
            .is_some_and(|s| s.t_s > 0.9)));
        let outcome = watch.finish();
        let _ = second.kill();
        let _ = second.wait();
        let exit = outcome.exit.expect("exit");
        assert_eq!(exit.how, format!("restarted as pid {second_pid}"));
        assert_eq!(outcome.pid, second_pid);
    }

    #[test]
    fn stat_is_parsed_past_a_command_name_with_parentheses() {
        let line = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    150 50 0 0 20 0 7 0 123456 1000000 250 18446744073709551615";
        let stat = Stat::parse(line).expect("parsed");
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.cpu_ticks, 200);
        assert_eq!(stat.threads, 7);
        assert_eq!(stat.start_ticks, 123456);
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t  2048 kB\n"),
            Some(2048 * 1024)
        );
        assert_eq!(Stat::parse("garbage"), None);
    }

    #[test]
    fn samples_are_thinned_evenly_within_the_cap() {
        let mut thinned = Thinned::new(10);
        for i in 0..100 {
            thinned.push(ProcessSample {
                t_s: i as f64,
                ..ProcessSample::default()
            });
        }
        let kept = thinned.take();
        assert!(kept.len() <= 10 && kept.len() >= 5, "{}", kept.len());
        assert_eq!(kept[0].t_s, 0.0);
        let gaps: Vec<f64> = kept.windows(2).map(|p| p[1].t_s - p[0].t_s).collect();
        assert!(gaps.iter().all(|&g| g == gaps[0]), "{gaps:?}");
        assert!(kept.last().is_some_and(|s| s.t_s >= 80.0));
    }
}
