//! `--spawn`: unruly starts the target, captures its output, waits until it answers, stops it.
//!
//! The command runs as `sh -c "exec CMD"`, so that the pid unruly watches is the target's
//! own (not a shell's), in a process group of its own (so that stopping it also stops what it
//! started), with stdin closed and stdout and stderr read line by line into a [`LineSink`].

use crate::lock;
use crate::logs::split_lines;
use crate::process::WatchError;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Which output of the target a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Its standard output.
    Stdout,
    /// Its standard error.
    Stderr,
}

impl Stream {
    /// `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Where the target's output lines go, one call per line (without its line ending). Called
/// from the reader threads, one per stream.
pub type LineSink = Arc<dyn Fn(Stream, &str) + Send + Sync>;

/// The longest line passed to the sink, in bytes; the rest of a longer line is dropped.
pub use crate::logs::MAX_LINE_BYTES;
/// Time between two connection attempts in [`SpawnedTarget::wait_until_answers`].
pub const ANSWER_POLL: Duration = Duration::from_millis(50);
/// How long [`SpawnedTarget::stop`] waits after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// How long stopping waits for the reader threads once the target is gone (a grandchild
/// that left the process group may still hold the pipes; its readers are then left behind).
const READER_JOIN_WAIT: Duration = Duration::from_secs(1);

/// The spawned child and, once it has been reaped, how it ended.
#[derive(Debug)]
struct ChildState {
    child: Child,
    ended: Option<String>,
}

impl ChildState {
    /// How the child ended, reaping it if it has (without blocking).
    fn try_ended(&mut self) -> Option<String> {
        if self.ended.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.ended = Some(describe_exit(status));
            }
        }
        self.ended.clone()
    }
}

/// A handle that tells how the spawned target ended, shared with a
/// [`ProcessWatch`](crate::process::ProcessWatch) started with
/// [`attach_child`](crate::process::ProcessWatch::attach_child), so that the watch records
/// `exit status 3` or `killed by signal 9 (SIGKILL)` instead of `gone`.
#[derive(Debug, Clone)]
pub struct ExitProbe(Arc<Mutex<ChildState>>);

impl ExitProbe {
    /// How the target ended, if it has (reaps it: the pid is gone afterwards).
    pub fn check(&self) -> Option<String> {
        lock(&self.0).try_ended()
    }
}

/// A target that unruly started with `--spawn`; stopped when stopped or dropped.
#[derive(Debug)]
pub struct SpawnedTarget {
    command: String,
    pid: u32,
    state: Arc<Mutex<ChildState>>,
    readers: Vec<JoinHandle<()>>,
    stopped: bool,
}

/// The process groups of the targets started and not yet stopped, for [`kill_spawned`].
static LIVE_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Kills (SIGKILL) the process group of every target started and not stopped: for a
/// process about to exit at once (a second Ctrl-C), which runs no destructor, so that no
/// target outlives unruly.
pub fn kill_spawned() {
    let groups = lock(&LIVE_GROUPS);
    for &pid in groups.iter() {
        signal_group(pid, rustix::process::Signal::KILL);
    }
}

fn forget_group(pid: u32) {
    lock(&LIVE_GROUPS).retain(|&live| live != pid);
}

/// The script `sh -c` runs for `command`: a simple command (`./srv --port 8080`, with
/// leading variable assignments: `PORT=8080 ./srv`) becomes `[VARS] exec CMD`, so that the
/// shell is replaced by the target; anything else (`cd app && ./srv`, pipes, lists) is run
/// as written (dash and bash then exec its last simple command themselves).
pub fn shell_script(command: &str) -> String {
    if command.starts_with("exec ") {
        return command.to_owned();
    }
    let Some(words) = simple_words(command) else {
        return command.to_owned();
    };
    let is_assignment = |word: &str| {
        word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let assignments = words.iter().take_while(|word| is_assignment(word)).count();
    match words.get(assignments) {
        None => command.to_owned(),
        Some(_) if assignments == 0 => format!("exec {command}"),
        Some(first) => {
            let at = first.as_ptr() as usize - command.as_ptr() as usize;
            format!("{} exec {}", command[..at].trim_end(), &command[at..])
        }
    }
}

/// The words of a simple command, as slices of it (quotes kept inside them); `None` when an
/// operator (`;`, `&`, `|`, a redirection, a subshell, a substitution, a newline) stands
/// outside quotes, or a quote is left open.
fn simple_words(command: &str) -> Option<Vec<&str>> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in command.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => escaped = true,
            Some(_) => {}
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    start.get_or_insert(at);
                }
                '\\' => {
                    escaped = true;
                    start.get_or_insert(at);
                }
                ';' | '&' | '|' | '(' | ')' | '<' | '>' | '`' | '$' | '\n' => return None,
                c if c.is_whitespace() => {
                    if let Some(begin) = start.take() {
                        words.push(&command[begin..at]);
                    }
                }
                _ => {
                    start.get_or_insert(at);
                }
            },
        }
    }
    if quote.is_some() {
        return None;
    }
    if let Some(begin) = start {
        words.push(&command[begin..]);
    }
    Some(words)
}

/// Starts `command` with `sh -c` in its own process group, stdin null, its output read line
/// by line into `sink`. A simple command is `exec`ed (see [`shell_script`]), so that the
/// pid watched is the target's own.
pub fn start(command: &str, sink: LineSink) -> Result<SpawnedTarget, WatchError> {
    let trimmed = command.trim();
    if trimmed.is_empty() {
        return Err(WatchError::EmptyCommand);
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(shell_script(trimmed))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| WatchError::Spawn {
            command: trimmed.to_owned(),
            source,
        })?;
    let pid = child.id();
    lock(&LIVE_GROUPS).push(pid);
    let mut readers = Vec::with_capacity(2);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let state = Arc::new(Mutex::new(ChildState { child, ended: None }));
    let mut target = SpawnedTarget {
        command: trimmed.to_owned(),
        pid,
        state,
        readers: Vec::new(),
        stopped: false,
    };
    let pipes: [(Stream, Option<Box<dyn Read + Send>>); 2] = [
        (
            Stream::Stdout,
            stdout.map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            Stream::Stderr,
            stderr.map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ];
    for (stream, pipe) in pipes {
        let Some(pipe) = pipe else { continue };
        let sink = Arc::clone(&sink);
        let reader = std::thread::Builder::new()
            .name(format!("unruly-{}", stream.as_str()))
            .spawn(move || read_lines(pipe, |line| sink(stream, line)))
            .map_err(|source| WatchError::Thread { source });
        match reader {
            Ok(handle) => readers.push(handle),
            Err(e) => {
                // Dropping `target` stops the child.
                target.readers = readers;
                return Err(e);
            }
        }
    }
    target.readers = readers;
    Ok(target)
}

/// Reads `input` line by line until its end, calling `each` with every line: without its
/// line ending, cut at `max` bytes, invalid UTF-8 replaced. Memory stays bounded by `max`
/// whatever the writer sends.
pub fn read_lines(mut input: impl Read, mut each: impl FnMut(&str)) {
    let mut partial = Vec::new();
    let mut buf = [0u8; 8 * 1024];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => split_lines(&mut partial, &buf[..n], &mut each),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if !partial.is_empty() {
        let line = String::from_utf8_lossy(&partial);
        each(line.strip_suffix('\r').unwrap_or(&line));
    }
}

impl SpawnedTarget {
    /// The target's pid (its own: the shell `exec`s it). Also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command as given.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// A handle telling how the target ended, for
    /// [`ProcessWatch::attach_child`](crate::process::ProcessWatch::attach_child).
    pub fn exit_probe(&self) -> ExitProbe {
        ExitProbe(Arc::clone(&self.state))
    }

    /// How the target ended, if it has: `exit status 3`, `killed by signal 9 (SIGKILL)`.
    pub fn exit_status(&mut self) -> Option<String> {
        lock(&self.state).try_ended()
    }

    /// Waits until a TCP connection to `addr` succeeds, trying every 50 ms; fails if the
    /// target exits first or nothing answers within `timeout`.
    pub fn wait_until_answers(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<(), WatchError> {
        self.wait_until_answers_or(&[addr], timeout, || false)
    }

    /// As [`wait_until_answers`](Self::wait_until_answers), on any of `addrs` (a name such
    /// as `localhost` may resolve to `::1` and `127.0.0.1`, and the target listen on one),
    /// giving up as soon as `interrupted` says so (Ctrl-C). Errors name the first address.
    pub fn wait_until_answers_or(
        &mut self,
        addrs: &[SocketAddr],
        timeout: Duration,
        interrupted: impl Fn() -> bool,
    ) -> Result<(), WatchError> {
        let Some(&addr) = addrs.first() else {
            return Err(WatchError::NotAnswering {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                timeout,
            });
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(how) = self.exit_status() {
                return Err(WatchError::ExitedBeforeAnswering { how, addr });
            }
            if interrupted() {
                return Err(WatchError::Interrupted { addr });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WatchError::NotAnswering { addr, timeout });
            }
            let attempt = (deadline - now).min(ANSWER_POLL);
            if addrs
                .iter()
                .any(|addr| TcpStream::connect_timeout(addr, attempt).is_ok())
            {
                return Ok(());
            }
            let now = Instant::now();
            if now < deadline {
                std::thread::sleep(ANSWER_POLL.min(deadline - now));
            }
        }
    }

    /// Stops the target: SIGTERM to its process group, up to 3 s to end, then SIGKILL;
    /// waits for its output to be read. Returns how it ended (`None` only if it could not be
    /// waited for).
    pub fn stop(mut self) -> Option<String> {
        self.stop_now()
    }

    fn stop_now(&mut self) -> Option<String> {
        if self.stopped {
            return lock(&self.state).ended.clone();
        }
        self.stopped = true;
        // The lock is taken per poll, so that a watch checking the exit is never held up.
        let mut ended = lock(&self.state).try_ended();
        if ended.is_none() {
            signal_group(self.pid, rustix::process::Signal::TERM);
            let deadline = Instant::now() + STOP_GRACE;
            while ended.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
                ended = lock(&self.state).try_ended();
            }
        }
        // Whatever it started may linger in its group even when it ended itself.
        signal_group(self.pid, rustix::process::Signal::KILL);
        forget_group(self.pid);
        if ended.is_none() {
            let mut state = lock(&self.state);
            if state.ended.is_none() {
                if let Ok(status) = state.child.wait() {
                    state.ended = Some(describe_exit(status));
                }
            }
            ended = state.ended.clone();
        }
        let deadline = Instant::now() + READER_JOIN_WAIT;
        for reader in std::mem::take(&mut self.readers) {
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        ended
    }
}

impl Drop for SpawnedTarget {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Sends `signal` to the process group `pgid`; a group already gone is not an error.
fn signal_group(pgid: u32, signal: rustix::process::Signal) {
    let Some(pid) = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let _ = rustix::process::kill_process_group(pid, signal);
}

/// How a process ended, in words: `exit status 3`, `killed by signal 9 (SIGKILL)`.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    if let Some(signal) = status.signal() {
        let core = if status.core_dumped() {
            ", core dumped"
        } else {
            ""
        };
        return match signal_name(signal) {
            Some(name) => format!("killed by signal {signal} ({name}{core})"),
            None => format!("killed by signal {signal}{core}"),
        };
    }
    status.to_string()
}

/// The name of a Linux signal number: `SIGKILL` for 9.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tests::{eventually, python3};
    use std::net::{Ipv4Addr, TcpListener};

    type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

    fn collecting() -> (LineSink, Lines) {
        let lines: Lines = Arc::default();
        let kept = Arc::clone(&lines);
        let sink: LineSink = Arc::new(move |stream, line| {
            if let Ok(mut lines) = kept.lock() {
                lines.push((stream, line.to_owned()));
            }
        });
        (sink, lines)
    }

    fn seen(lines: &Lines) -> Vec<(Stream, String)> {
        lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    #[test]
    fn simple_commands_are_execed_with_their_variables_in_front() {
        assert_eq!(shell_script("./srv --port 8080"), "exec ./srv --port 8080");
        assert_eq!(
            shell_script("PORT=8080 RUST_LOG=debug ./srv -v"),
            "PORT=8080 RUST_LOG=debug exec ./srv -v"
        );
        assert_eq!(shell_script("cd app && ./srv"), "cd app && ./srv");
        assert_eq!(shell_script("exec ./srv"), "exec ./srv");
        assert_eq!(
            shell_script("python3 -c 'print(1)'"),
            "exec python3 -c 'print(1)'"
        );
        assert_eq!(shell_script("A='x y' ./srv"), "A='x y' exec ./srv");
        assert_eq!(shell_script("./srv > log"), "./srv > log");
        assert_eq!(
            shell_script("./srv --name \"a;b\""),
            "exec ./srv --name \"a;b\""
        );
        assert_eq!(shell_script("X=1"), "X=1");
    }

    #[test]
    fn a_command_with_a_variable_is_the_targets_own_process() {
        let (sink, lines) = collecting();
        let target = start(
            "GREETING=hello python3 -c 'import os, time; print(os.environ[\"GREETING\"], flush=True); time.sleep(5)'",
            sink,
        )
        .expect("starts");
        assert!(eventually(Duration::from_secs(5), || seen(&lines)
            .iter()
            .any(|(_, line)| line == "hello")));
        let comm =
            std::fs::read_to_string(format!("/proc/{}/comm", target.pid())).unwrap_or_default();
        assert!(comm.starts_with("python3"), "{comm}");
        target.stop();
    }

    /// A loopback address where nothing listens (bound, then released).
    fn unused_addr() -> SocketAddr {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        listener.local_addr().expect("addr")
    }

    fn alive(pid: u32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    const SERVER: &str = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        print('served', self.path, file=sys.stderr, flush=True)
server = http.server.HTTPServer(('127.0.0.1', 0), H)
print('listening on', server.server_address[1], flush=True)
server.serve_forever()
"#;

    /// Starts the small server, returns it with its address once it printed it.
    fn start_server(sink: LineSink, lines: &Lines) -> (SpawnedTarget, SocketAddr) {
        let command = format!(
            "{} -c \"$(printf '%s' {})\"",
            python3(),
            shell_words(SERVER)
        );
        let target = start(&command, sink).expect("spawn");
        let mut port = None;
        assert!(eventually(Duration::from_secs(5), || {
            port = seen(lines).iter().find_map(|(stream, line)| {
                (*stream == Stream::Stdout)
                    .then(|| line.strip_prefix("listening on "))
                    .flatten()
                    .and_then(|p| p.parse::<u16>().ok())
            });
            port.is_some()
        }));
        let port = port.expect("a port");
        (target, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }

    /// `s` single-quoted for sh.
    fn shell_words(s: &str) -> String {
        format!("'{}'", s.replace('\'', "'\\''"))
    }

    #[test]
    fn output_reaches_the_sink_and_the_target_answers_then_stops() {
        let (sink, lines) = collecting();
        let (mut target, addr) = start_server(sink, &lines);
        target
            .wait_until_answers(addr, Duration::from_secs(5))
            .expect("answers");
        let mut stream = TcpStream::connect(addr).expect("connect");
        std::io::Write::write_all(&mut stream, b"GET /hello HTTP/1.0\r\n\r\n").expect("send");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
        assert!(eventually(Duration::from_secs(3), || seen(&lines)
            .contains(&(Stream::Stderr, "served /hello".to_owned()))));
        let pid = target.pid();
        assert!(alive(pid));
        assert_eq!(target.exit_status(), None);
        let how = target.stop();
        assert_eq!(how.as_deref(), Some("killed by signal 15 (SIGTERM)"));
        assert!(!alive(pid), "pid {pid} still there");
    }

    #[test]
    fn a_target_that_exits_at_once_is_said_clearly() {
        let (sink, _lines) = collecting();
        let addr = unused_addr();
        let mut target =
            start(&format!("{} -c 'import sys; sys.exit(1)'", python3()), sink).expect("spawn");
        let err = target
            .wait_until_answers(addr, Duration::from_secs(5))
            .expect_err("exits");
        assert_eq!(
            err.to_string(),
            format!("the target exited (exit status 1) before answering on {addr}")
        );
        assert_eq!(target.exit_status().as_deref(), Some("exit status 1"));
    }

    #[test]
    fn a_target_that_never_answers_times_out_with_advice() {
        let (sink, _lines) = collecting();
        let addr = unused_addr();
        let mut target = start("sleep 5", sink).expect("spawn");
        let started = Instant::now();
        let err = target
            .wait_until_answers(addr, Duration::from_millis(300))
            .expect_err("times out");
        assert!(started.elapsed() < Duration::from_secs(2));
        let message = err.to_string();
        assert!(message.contains(&addr.to_string()), "{message}");
        assert!(message.contains("300ms"), "{message}");
        assert!(message.contains("check that it listens"), "{message}");
        let pid = target.pid();
        drop(target);
        assert!(!alive(pid), "dropping stops it");
    }

    #[test]
    fn a_target_ignoring_sigterm_is_killed() {
        let (sink, lines) = collecting();
        let target = start(
            &format!(
                "{} -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(\"ready\", flush=True); time.sleep(30)'",
                python3()
            ),
            sink,
        )
        .expect("spawn");
        assert!(eventually(Duration::from_secs(5), || !seen(&lines).is_empty()));
        let pid = target.pid();
        assert_eq!(
            target.stop().as_deref(),
            Some("killed by signal 9 (SIGKILL)")
        );
        assert!(!alive(pid));
    }

    #[test]
    fn an_empty_command_is_refused() {
        let (sink, _lines) = collecting();
        let err = start("  ", sink).expect_err("empty");
        assert_eq!(err.to_string(), "the command to spawn is empty");
    }

    #[test]
    fn lines_are_bounded_and_lossy() {
        let mut input = Vec::new();
        input.extend_from_slice(b"first\r\n");
        input.extend(std::iter::repeat_n(b'a', 40_000));
        input.push(b'\n');
        input.extend_from_slice(b"bad \xff byte\n");
        input.extend_from_slice(b"no newline at the end");
        let mut lines = Vec::new();
        read_lines(&input[..], |l| lines.push(l.to_owned()));
        assert_eq!(
            lines.len(),
            4,
            "{:?}",
            lines.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        assert_eq!(lines[0], "first");
        assert_eq!(lines[1].len(), 16 * 1024);
        assert_eq!(lines[2], "bad \u{fffd} byte");
        assert_eq!(lines[3], "no newline at the end");
    }

    #[test]
    fn exits_are_described() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exit status 3");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(9)),
            "killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(11 | 0x80)),
            "killed by signal 11 (SIGSEGV, core dumped)"
        );
    }
}
