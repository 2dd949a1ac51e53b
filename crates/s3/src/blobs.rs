//! Object bytes as files: `<data-dir>/s3/<uuid>`, each written first to `s3/tmp/<uuid>`
//! while its MD5 and requested checksum are computed, and renamed into place only once
//! the whole body arrived — so a crash never leaves a torn file where a version could
//! point. A version's metadata names its files only after the rename; files no version
//! names (a crash between rename and commit, or after a commit that replaced a version
//! and before its old file was removed) are removed by the sweep at start. fsync (file
//! and directory) only with `--fsync`, matching the metadata's WAL discipline.
//!
//! Reads stream a list of segments (one file, or a multipart object's part files back to
//! back) with an optional byte range, from a blocking reader thread through a bounded
//! channel: memory stays constant whatever the object's size.

use crate::checksums::{Algorithm, Hasher};
use crate::store::Segment;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use nimbus_core::service::BodyStream;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bytes gathered before a write (and hash) is handed to a blocking thread.
const WRITE_CHUNK: usize = 1 << 20;
/// Bytes per frame of a read.
const READ_CHUNK: usize = 256 * 1024;
/// Reads up to this size are done on the request's task.
const SMALL_READ: u64 = 64 * 1024;

/// A channel that yields one error (a small read that failed).
fn closed_channel(e: std::io::Error) -> tokio::sync::mpsc::Receiver<std::io::Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let _ = tx.try_send(Err(e));
    rx
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The client's body ended early or broke off.
    #[error("body: {0}")]
    Body(std::io::Error),
    #[error("disk: {0}")]
    Disk(#[from] std::io::Error),
    /// More bytes than allowed.
    #[error("too large")]
    TooLarge,
}

/// Where blob files live.
pub struct Blobs {
    dir: PathBuf,
    tmp: PathBuf,
    fsync: bool,
    /// Files being read (by how many readers), and those of them removed meanwhile: a
    /// replaced object's file goes when its last reader finishes.
    pins: Mutex<Pins>,
}

#[derive(Default)]
struct Pins {
    readers: HashMap<String, usize>,
    doomed: HashSet<String>,
}

/// Files kept from removal while held (see [`Blobs::pin`]).
pub struct Pinned {
    blobs: Arc<Blobs>,
    files: Vec<String>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut gone = Vec::new();
        {
            let mut pins = self.blobs.pins.lock();
            for f in &self.files {
                let left = match pins.readers.get_mut(f) {
                    Some(n) => {
                        *n -= 1;
                        *n
                    }
                    None => 0,
                };
                if left == 0 {
                    pins.readers.remove(f);
                    if pins.doomed.remove(f) {
                        gone.push(f.clone());
                    }
                }
            }
        }
        for f in gone {
            let _ = std::fs::remove_file(self.blobs.path(&f));
        }
    }
}

/// A body written to its final file.
#[derive(Debug, Clone)]
pub struct Written {
    pub file: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// The checksums computed while writing (base64).
    pub checksums: Vec<(Algorithm, String)>,
    /// Trailing headers the body carried (aws-chunked's trailing checksum).
    pub trailers: HeaderMap,
}

impl Written {
    pub fn md5_hex(&self) -> String {
        hex(&self.md5)
    }

    pub fn checksum(&self, a: Algorithm) -> Option<&str> {
        self.checksums.iter().find(|(x, _)| *x == a).map(|(_, v)| v.as_str())
    }
}

pub use nimbus_core::hex::hex;

/// A finished body's MD5 and checksums.
type Digests = ([u8; 16], Vec<(Algorithm, String)>);

struct Sink {
    file: std::fs::File,
    md5: Md5,
    hashers: Vec<Hasher>,
}

impl Sink {
    /// Writes and hashes a chunk; a large one is hashed on a second thread while it is
    /// written (MD5 alone runs near the disk's speed: done in turn, they would add up).
    fn take(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let Sink { file, md5, hashers } = self;
        let hash = |md5: &mut Md5, hashers: &mut Vec<Hasher>| {
            md5.update(chunk);
            for h in hashers.iter_mut() {
                h.update(chunk);
            }
        };
        if chunk.len() < 256 * 1024 {
            file.write_all(chunk)?;
            hash(md5, hashers);
            return Ok(());
        }
        std::thread::scope(|scope| {
            let hashing = scope.spawn(|| hash(md5, hashers));
            let written = file.write_all(chunk);
            hashing.join().map_err(|_| std::io::Error::other("hashing thread panicked"))?;
            written
        })
    }
}

impl Blobs {
    /// Opens `dir` (created if needed); the temp area is emptied (whatever is there was
    /// being written when nimbus stopped).
    pub fn open(dir: &Path, fsync: bool) -> std::io::Result<Blobs> {
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        for entry in std::fs::read_dir(&tmp)?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        Ok(Blobs { dir: dir.to_path_buf(), tmp, fsync, pins: Mutex::new(Pins::default()) })
    }

    /// Removes files no version (or other keeper) references. Run once at start, before
    /// any request.
    pub fn sweep(&self, referenced: &HashSet<String>) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)?.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if !kind.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes a request body to a new file, computing MD5 and the `checksums` asked for;
    /// at most `limit` bytes. Data frames go to the file; a trailers frame is kept.
    pub async fn write(&self, mut body: BodyStream, checksums: &[Algorithm], limit: u64) -> Result<Written, BlobError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let tmp = self.tmp.join(&name);
        let result = self.write_to(&tmp, &mut body, checksums, limit).await;
        let (size, mut sink, trailers, rest) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let fsync = self.fsync;
        let final_path = self.dir.join(&name);
        let dir = self.dir.clone();
        let tmp2 = tmp.clone();
        // The last bytes, the rename and the digests on one blocking thread (a small
        // object's whole write is one hop).
        let finished = tokio::task::spawn_blocking(move || -> std::io::Result<Digests> {
            if !rest.is_empty() {
                sink.take(&rest)?;
            }
            if fsync {
                sink.file.sync_all()?;
            }
            drop(sink.file);
            std::fs::rename(&tmp2, &final_path)?;
            if fsync {
                std::fs::File::open(&dir)?.sync_all()?;
            }
            let md5: [u8; 16] = sink.md5.finalize().into();
            Ok((md5, sink.hashers.into_iter().map(|h| (h.algorithm(), h.finish())).collect()))
        })
        .await
        .map_err(|e| BlobError::Disk(std::io::Error::other(e)))?;
        match finished {
            Ok((md5, checksums)) => Ok(Written { file: name, size, md5, checksums, trailers }),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(BlobError::Disk(e))
            }
        }
    }

    /// Streams the body to `tmp`; answers the size, the sink and the trailers, and the
    /// last bytes not yet written.
    async fn write_to(&self, tmp: &Path, body: &mut BodyStream, checksums: &[Algorithm], limit: u64) -> Result<(u64, Sink, HeaderMap, Vec<u8>), BlobError> {
        let file = std::fs::File::create(tmp)?;
        let mut sink = Some(Sink { file, md5: Md5::new(), hashers: checksums.iter().map(|a| a.hasher()).collect() });
        // One write in flight on a blocking thread while the next chunk arrives.
        let mut in_flight: Option<tokio::task::JoinHandle<std::io::Result<Sink>>> = None;
        let mut buf: Vec<u8> = Vec::with_capacity(WRITE_CHUNK);
        let mut size: u64 = 0;
        let mut trailers = HeaderMap::new();
        async fn settle(in_flight: &mut Option<tokio::task::JoinHandle<std::io::Result<Sink>>>, sink: &mut Option<Sink>) -> Result<(), BlobError> {
            if let Some(h) = in_flight.take() {
                *sink = Some(h.await.map_err(|e| BlobError::Disk(std::io::Error::other(e)))??);
            }
            Ok(())
        }
        loop {
            let frame = match body.frame().await {
                None => break,
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    settle(&mut in_flight, &mut sink).await?;
                    return Err(BlobError::Body(e));
                }
            };
            match frame.into_data() {
                Ok(data) => {
                    size += data.len() as u64;
                    if size > limit {
                        settle(&mut in_flight, &mut sink).await?;
                        return Err(BlobError::TooLarge);
                    }
                    buf.extend_from_slice(&data);
                    if buf.len() >= WRITE_CHUNK {
                        settle(&mut in_flight, &mut sink).await?;
                        let chunk = std::mem::replace(&mut buf, Vec::with_capacity(WRITE_CHUNK));
                        let Some(mut s) = sink.take() else { return Err(BlobError::Disk(std::io::Error::other("writer lost"))) };
                        in_flight = Some(tokio::task::spawn_blocking(move || s.take(&chunk).map(|_| s)));
                    }
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers.extend(t);
                    }
                }
            }
        }
        settle(&mut in_flight, &mut sink).await?;
        let Some(s) = sink else { return Err(BlobError::Disk(std::io::Error::other("writer lost"))) };
        Ok((size, s, trailers, buf))
    }

    /// A new file with the same bytes as `segments` (a hard link for one whole file: no
    /// copy). For CopyObject and UploadPartCopy.
    pub async fn duplicate(&self, segments: &[Segment]) -> std::io::Result<Vec<Segment>> {
        let mut out = Vec::new();
        for s in segments {
            let name = uuid::Uuid::new_v4().simple().to_string();
            let (from, to) = (self.path(&s.file), self.path(&name));
            let linked = tokio::task::spawn_blocking(move || std::fs::hard_link(&from, &to).or_else(|_| std::fs::copy(&from, &to).map(drop))).await.map_err(std::io::Error::other);
            if let Err(e) = linked.and_then(|r| r) {
                self.remove(&out.iter().map(|s: &Segment| s.file.clone()).collect::<Vec<_>>());
                return Err(e);
            }
            out.push(Segment { file: name, len: s.len });
        }
        Ok(out)
    }

    /// Removes blob files (after the commit that stopped referencing them); a file being
    /// read goes when its last reader finishes.
    pub fn remove(&self, files: &[String]) {
        let now: Vec<&String> = {
            let mut pins = self.pins.lock();
            files
                .iter()
                .filter(|f| {
                    if pins.readers.contains_key(*f) {
                        pins.doomed.insert((*f).clone());
                        false
                    } else {
                        true
                    }
                })
                .collect()
        };
        for f in now {
            let _ = std::fs::remove_file(self.path(f));
        }
    }

    /// Keeps a version's files from removal while the result is held; `None` when one is
    /// already gone (the version was replaced after it was looked up: look it up again).
    pub fn pin(self: &Arc<Self>, segments: &[Segment]) -> Option<Pinned> {
        let files: Vec<String> = segments.iter().map(|s| s.file.clone()).collect();
        {
            let mut pins = self.pins.lock();
            for f in &files {
                *pins.readers.entry(f.clone()).or_insert(0) += 1;
            }
        }
        let pinned = Pinned { blobs: self.clone(), files };
        pinned.files.iter().all(|f| self.path(f).exists()).then_some(pinned)
    }

    /// Streams `len` bytes from `start` of the (pinned) segments read back to back. A small
    /// read is done at once (a page-cache copy costs less than a thread hand-off).
    pub fn read(&self, pinned: Pinned, segments: &[Segment], start: u64, len: u64) -> BodyStream {
        let files: Vec<(PathBuf, u64)> = segments.iter().map(|s| (self.path(&s.file), s.len)).collect();
        if len <= SMALL_READ {
            let mut data = Vec::with_capacity(len as usize);
            let read = read_segments(&files, start, len, &mut |b: Bytes| {
                data.extend_from_slice(&b);
                true
            });
            drop(pinned);
            return match read {
                Ok(()) if data.len() as u64 == len => http_body_util::Full::new(Bytes::from(data)).map_err(|never| match never {}).boxed(),
                Ok(()) => ChannelBody { rx: closed_channel(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "object file ended early")), remaining: len }.boxed(),
                Err(e) => ChannelBody { rx: closed_channel(e), remaining: len }.boxed(),
            };
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
        if len > 0 {
            tokio::task::spawn_blocking(move || {
                let _pinned = pinned;
                if let Err(e) = read_segments(&files, start, len, &mut |b: Bytes| tx.blocking_send(Ok(b)).is_ok()) {
                    let _ = tx.blocking_send(Err(e));
                }
            });
        }
        ChannelBody { rx, remaining: len }.boxed()
    }

    /// The MD5 (hex) of stored segments (the ETag of a copy of a multipart object).
    pub async fn md5_of(&self, segments: &[Segment]) -> std::io::Result<String> {
        let h = self.feed(segments, Md5::new(), |h, chunk| h.update(chunk)).await?;
        Ok(hex(&h.finalize()))
    }

    /// Computes a checksum of stored segments (a trailer named an algorithm the upload
    /// was not hashed with).
    pub async fn checksum_of(&self, segments: &[Segment], algorithm: Algorithm) -> std::io::Result<String> {
        let h = self.feed(segments, algorithm.hasher(), |h, chunk| h.update(chunk)).await?;
        Ok(h.finish())
    }

    /// Reads the segments back to back on a blocking thread, handing each chunk to
    /// `update` of `state`, and gives `state` back.
    async fn feed<S: Send + 'static>(&self, segments: &[Segment], mut state: S, update: fn(&mut S, &[u8])) -> std::io::Result<S> {
        let files: Vec<(PathBuf, u64)> = segments.iter().map(|s| (self.path(&s.file), s.len)).collect();
        tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; READ_CHUNK];
            for (path, len) in files {
                let mut f = std::fs::File::open(path)?.take(len);
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    update(&mut state, &buf[..n]);
                }
            }
            Ok(state)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// Reads `len` bytes from `start` of the files back to back into `out` (which answers
/// `false` when the reader went away).
fn read_segments(files: &[(PathBuf, u64)], mut start: u64, mut len: u64, out: &mut dyn FnMut(Bytes) -> bool) -> std::io::Result<()> {
    for (path, seg_len) in files {
        if len == 0 {
            break;
        }
        if start >= *seg_len {
            start -= seg_len;
            continue;
        }
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(start))?;
        let mut left = (seg_len - start).min(len);
        start = 0;
        while left > 0 {
            let mut buf = vec![0u8; (left as usize).min(READ_CHUNK)];
            f.read_exact(&mut buf)?;
            left -= buf.len() as u64;
            len -= buf.len() as u64;
            if !out(Bytes::from(buf)) {
                // The client went away.
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A response body fed by the reader thread.
struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    remaining: u64,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                Poll::Ready(Some(Ok(http_body::Frame::data(b))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "object file ended early")))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}
