//! Following a log file like `tail -F`: from its end at the start (only new lines), polled
//! every [`POLL_INTERVAL`]; a file that shrinks was truncated and is read again from its
//! start; a file replaced by another (rotated: renamed away and created anew) is read to
//! its end and the new one from its start; a file that does not exist yet is waited for.

use super::{LogWatch, MAX_LINE_BYTES};
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a followed file is looked at.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// A thread following one file; [`Follower::stop`] ends it.
#[derive(Debug)]
pub struct Follower {
    stopped: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Follower {
    /// Reads what is left, hands over a last line without its newline, and ends the thread.
    pub fn stop(mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            // A panic in the thread has nothing left to tell; the lines it read are in.
            let _ = handle.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Some(handle) = &self.handle {
            handle.thread().unpark();
        }
    }
}

impl LogWatch {
    /// Follows the file at `path` on a new thread, like `tail -F`, handing each new line
    /// to [`LogWatch::line`] with the path as its source. Lines already in the file are
    /// skipped. The thread ends when `stop` is set or [`Follower::stop`] is called.
    ///
    /// Errors only when the thread cannot be started; a missing or unreadable file is
    /// waited for.
    pub fn follow(&self, path: &Path, stop: Arc<AtomicBool>) -> io::Result<Follower> {
        let mut tail = Tail::new(path.to_path_buf());
        // Decided now, not on the thread: a file created after this call is read whole.
        tail.open_at_end();
        let stopped = Arc::new(AtomicBool::new(false));
        let watch = self.clone();
        let thread_stopped = stopped.clone();
        let handle = std::thread::Builder::new()
            .name("unruly-log-follow".to_owned())
            .spawn(move || loop {
                let done = stop.load(Ordering::Relaxed) || thread_stopped.load(Ordering::Relaxed);
                tail.poll(&watch);
                if done {
                    tail.flush_partial(&watch);
                    return;
                }
                std::thread::park_timeout(POLL_INTERVAL);
            })?;
        Ok(Follower {
            stopped,
            handle: Some(handle),
        })
    }
}

/// The open file and how far it was read.
struct Open {
    file: File,
    identity: Option<(u64, u64)>,
    pos: u64,
}

/// The state of one followed file.
struct Tail {
    path: PathBuf,
    source: String,
    open: Option<Open>,
    partial: Vec<u8>,
}

/// Device and inode: what tells a rotated file from the one it replaced.
#[cfg(unix)]
fn identity(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Elsewhere a replaced file is noticed only when it is shorter than what was read.
#[cfg(not(unix))]
fn identity(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            source: path.display().to_string(),
            path,
            open: None,
            partial: Vec::new(),
        }
    }

    /// Opens the file, if it exists, positioned at its end.
    fn open_at_end(&mut self) {
        self.open = self.open_from_start();
        if let Some(open) = &mut self.open {
            open.pos = open.file.metadata().map_or(0, |m| m.len());
        }
    }

    fn open_from_start(&self) -> Option<Open> {
        let file = File::open(&self.path).ok()?;
        let identity = file.metadata().ok().as_ref().and_then(identity);
        Some(Open {
            file,
            identity,
            pos: 0,
        })
    }

    /// Reads whatever is new, reopening the file when it was replaced.
    fn poll(&mut self, watch: &LogWatch) {
        if self.open.is_none() {
            self.open = self.open_from_start();
        }
        if self.open.is_none() {
            return;
        }
        // Checked before reading: lines written to the old file before the new one
        // appeared are still read from the old handle.
        let now = std::fs::metadata(&self.path).ok();
        let replaced = match (&self.open, now.as_ref().and_then(identity)) {
            (Some(open), Some(now)) => open.identity.is_some_and(|then| then != now),
            _ => false,
        };
        self.read_new(watch);
        if replaced {
            self.flush_partial(watch);
            self.open = self.open_from_start();
            self.read_new(watch);
        }
    }

    fn read_new(&mut self, watch: &LogWatch) {
        let Some(open) = &mut self.open else {
            return;
        };
        let Ok(len) = open.file.metadata().map(|m| m.len()) else {
            return;
        };
        if len < open.pos {
            // Truncated (`> file`, logrotate's copytruncate): start over.
            open.pos = 0;
            self.partial.clear();
        }
        if len == open.pos || open.file.seek(SeekFrom::Start(open.pos)).is_err() {
            return;
        }
        // Up to the length seen now, no further: a file growing faster than it is read
        // must not hold this poll (and the follower's stop) forever.
        let mut buf = vec![0u8; CHUNK];
        while open.pos < len {
            let want = usize::try_from(len - open.pos).map_or(CHUNK, |left| left.min(CHUNK));
            match open.file.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => {
                    open.pos += n as u64;
                    split_lines(&mut self.partial, &buf[..n], |line| {
                        watch.line(&self.source, line)
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }

    /// Hands over a last line that has no newline (the file ended or was replaced).
    fn flush_partial(&mut self, watch: &LogWatch) {
        if !self.partial.is_empty() {
            watch.line(&self.source, &String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }
}

/// Splits `bytes` into lines, continuing `partial`; each complete line goes to `emit`
/// (without `\n` or `\r`, invalid UTF-8 replaced). A line's bytes past
/// [`MAX_LINE_BYTES`] are dropped. The target's output (`--spawn`) is split the same way.
pub fn split_lines(partial: &mut Vec<u8>, bytes: &[u8], mut emit: impl FnMut(&str)) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let (piece, newline) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(partial.len());
        partial.extend_from_slice(&piece[..piece.len().min(room)]);
        if newline {
            let line = String::from_utf8_lossy(partial);
            emit(line.strip_suffix('\r').unwrap_or(&line));
            partial.clear();
            rest = &rest[piece.len() + 1..];
        } else {
            rest = &[];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    fn wait_for(watch: &LogWatch, lines: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while watch.lines_read() < lines {
            assert!(
                Instant::now() < deadline,
                "waited for {lines} lines, saw {:?}",
                watch.tail()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open for append");
        file.write_all(text.as_bytes()).expect("append");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "unruly-follow-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn lines_are_split_and_capped() {
        let mut partial = Vec::new();
        let mut seen = Vec::new();
        split_lines(&mut partial, b"one\r\ntw", |l| seen.push(l.to_owned()));
        split_lines(&mut partial, b"o\n\nthree", |l| seen.push(l.to_owned()));
        assert_eq!(seen, ["one", "two", ""]);
        assert_eq!(partial, b"three");
        let long = vec![b'x'; MAX_LINE_BYTES * 3];
        partial.clear();
        split_lines(&mut partial, &long, |l| seen.push(l.to_owned()));
        split_lines(&mut partial, &long, |l| seen.push(l.to_owned()));
        assert_eq!(partial.len(), MAX_LINE_BYTES);
        split_lines(&mut partial, b"\n", |l| seen.push(l.to_owned()));
        assert_eq!(seen.last().map(String::len), Some(MAX_LINE_BYTES));
    }

    #[test]
    fn follows_appends_truncation_and_rotation_seeing_each_line_once() {
        let dir = temp_dir("rotate");
        let path = dir.join("app.log");
        append(&path, "old line, before following\n");
        let watch = LogWatch::new(Instant::now());
        let stop = Arc::new(AtomicBool::new(false));
        let follower = watch.follow(&path, stop).expect("follow");

        append(&path, "one\ntwo\n");
        append(&path, "thr");
        append(&path, "ee\n");
        wait_for(&watch, 3);

        // Truncated, then a shorter content.
        std::fs::write(&path, "four\n").expect("truncate");
        wait_for(&watch, 4);

        // Rotated: renamed away (a late line still lands in the old file), a new file made.
        let rotated = dir.join("app.log.1");
        std::fs::rename(&path, &rotated).expect("rotate");
        append(&rotated, "five\n");
        append(&path, "six\nseven\n");
        wait_for(&watch, 7);
        append(&path, "eight, without newline");
        follower.stop();

        assert_eq!(
            watch.tail(),
            [
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight, without newline"
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_waited_for_and_read_whole() {
        let dir = temp_dir("missing");
        let path = dir.join("later.log");
        let watch = LogWatch::new(Instant::now());
        let stop = Arc::new(AtomicBool::new(false));
        let follower = watch.follow(&path, stop.clone()).expect("follow");
        std::thread::sleep(POLL_INTERVAL * 2);
        append(&path, "first\nsecond\n");
        wait_for(&watch, 2);
        // The caller's flag ends it too.
        stop.store(true, Ordering::Relaxed);
        follower.stop();
        assert_eq!(watch.tail(), ["first", "second"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_in_a_followed_file_are_grouped_under_its_path() {
        let dir = temp_dir("errors");
        let path = dir.join("err.log");
        std::fs::write(&path, "").expect("create");
        let watch = LogWatch::new(Instant::now());
        let follower = watch
            .follow(&path, Arc::new(AtomicBool::new(false)))
            .expect("follow");
        append(&path, "INFO ok\nERROR payment 42 declined\n");
        wait_for(&watch, 2);
        follower.stop();
        let groups = watch.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].source, path.display().to_string());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
