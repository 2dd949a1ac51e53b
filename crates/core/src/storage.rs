//! Embedded durable storage plumbing: SQLite in WAL mode with group commit.
//!
//! Each service defines its own storage trait and schema; this module gives them a
//! [`Database`] whose [`Writer`] applies submitted jobs in submission order, many per
//! transaction. There is no writer thread: the first caller that waits on a job whose
//! transaction has not run becomes the leader and commits everything submitted so far,
//! while later callers wait on a notification. A lone client commits inline (no thread
//! hand-off); many clients share commits. A caller is answered only after the
//! transaction holding its job committed, so an acknowledged write survives `kill -9`
//! (WAL with `synchronous=NORMAL` survives a process crash; `Durability::Fsync` also
//! survives power loss).
//!
//! Checkpoints (copying the WAL back into the database file, with an fsync) never run
//! on the request path: SQLite's automatic checkpoint is off, and a checkpointer thread
//! with its own connection runs passive checkpoints, at most every
//! [`CHECKPOINT_INTERVAL`], after commits — concurrently with the writer. (An automatic
//! checkpoint inside a group commit stalled every request of that group by the fsync:
//! tens of milliseconds at p99.) Under sustained writes a passive checkpoint never
//! catches up with the end of the WAL, and SQLite only rewinds a WAL that was checkpointed
//! completely — the WAL grew without bound (18 GB in seven minutes of a soak). So the
//! checkpointer (woken by every group commit, never sleeping) also runs at once when the
//! WAL file passed [`WAL_RESTART_FRAMES`], and then holds the writer's lock for one short
//! TRUNCATE checkpoint after its passive pass copied nearly everything: commits wait for
//! the last frames and one fsync, and the WAL starts again from empty.

use parking_lot::Mutex;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage: the writer has stopped")]
    WriterGone,
    #[error("storage: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of the process (the OS has the write).
    Process,
    /// fsync at each group commit: also survives a crash of the machine.
    Fsync,
}

pub type Job = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

/// An open database before writing starts: schema setup and loading happen here.
pub struct Database {
    conn: Connection,
    durability: Durability,
    path: std::path::PathBuf,
}

/// The shortest time between two checkpoints of one database.
pub const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);
/// A WAL longer than this (in 4 KiB frames: 8 MiB) is truncated by the checkpointer. (32
/// MiB made each locked truncation longer: p999 ~21 ms and max ~120 ms for SendMessage at 16
/// clients, against ~9 ms and ~62 ms with 8 MiB, in the same runs.)
pub const WAL_RESTART_FRAMES: i64 = 2048;
/// A WAL file larger than this is truncated by the committing leader itself, right after
/// its commit: the backstop for a checkpointer thread that does not get the CPU (a machine
/// under load). Normally the checkpointer keeps the WAL near `WAL_RESTART_FRAMES`.
pub const WAL_HARD_LIMIT_BYTES: u64 = 32 << 20;

impl Database {
    pub fn open(path: &Path, durability: Durability) -> Result<Database, StorageError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        // Normal (shared) locking: the checkpointer's connection works beside the writer.
        // nimbus's own data-directory lock keeps other nimbus processes out.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if durability == Durability::Fsync { "FULL" } else { "NORMAL" })?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Database { conn, durability, path: path.to_path_buf() })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Turns the connection into a group-committing writer. (`_name` is kept for logs.)
    pub fn into_writer(self, name: &str) -> Result<Writer, StorageError> {
        let conn = Arc::new(Mutex::new(self.conn));
        let checkpoints = spawn_checkpointer(&self.path, name, conn.clone())?;
        Ok(Writer {
            shared: Arc::new(Shared {
                conn,
                state: Mutex::new(State::default()),
                committed: Notify::new(),
                fsync: self.durability == Durability::Fsync,
                checkpoints,
                wal: {
                    let mut p = self.path.clone().into_os_string();
                    p.push("-wal");
                    std::path::PathBuf::from(p)
                },
            }),
        })
    }
}

/// Starts the thread that checkpoints `path`'s WAL when told that commits happened (at
/// most every [`CHECKPOINT_INTERVAL`]); it ends when the sender is dropped. `writer` is
/// the writer's connection, locked only to truncate a WAL that passive checkpoints
/// cannot rewind.
fn spawn_checkpointer(path: &Path, name: &str, writer: Arc<Mutex<Connection>>) -> Result<std::sync::mpsc::SyncSender<()>, StorageError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
    let name = name.to_string();
    let path_owned = path.to_path_buf();
    std::thread::Builder::new().name(format!("checkpoint-{name}")).spawn(move || {
        let checkpoint = |mode: &str| -> rusqlite::Result<i64> {
            // (busy, frames in the WAL, frames checkpointed)
            conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| r.get::<_, i64>(1))
        };
        let wal = {
            let mut p = path_owned.into_os_string();
            p.push("-wal");
            std::path::PathBuf::from(p)
        };
        let mut last: Option<std::time::Instant> = None;
        // Woken after every group commit: checkpoint when the interval has passed since
        // the last pass, or at once when the WAL file has grown past the limit.
        while rx.recv().is_ok() {
            let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
            let due = last.is_none_or(|t| t.elapsed() >= CHECKPOINT_INTERVAL) || wal_bytes > (WAL_RESTART_FRAMES as u64) * 4096;
            if !due {
                continue;
            }
            last = Some(std::time::Instant::now());
            // PASSIVE: copies what it can without waiting for (or blocking) the writer.
            match checkpoint("PASSIVE") {
                Ok(frames) if frames > WAL_RESTART_FRAMES => {
                    let _no_commits = writer.lock();
                    if let Err(e) = checkpoint("TRUNCATE") {
                        tracing::warn!(error = %e, database = %name, "WAL truncation failed");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, database = %name, "WAL checkpoint failed"),
            }
        }
    })?;
    Ok(tx)
}

#[derive(Default)]
struct State {
    /// Jobs with tickets `committed_upto + running..next_ticket`, in ticket order.
    jobs: Vec<Job>,
    next_ticket: u64,
    /// Every ticket below this has been committed (or failed).
    committed_upto: u64,
    leader: bool,
    failures: HashMap<u64, String>,
}

struct Shared {
    conn: Arc<Mutex<Connection>>,
    state: Mutex<State>,
    committed: Notify,
    fsync: bool,
    /// Tells the checkpointer that commits happened (a full channel: it already knows).
    checkpoints: std::sync::mpsc::SyncSender<()>,
    /// The WAL file, for the leader's backstop truncation.
    wal: std::path::PathBuf,
}

/// Runs a group of jobs in one transaction. Jobs only run nimbus's own statements, so an
/// error means the database itself is failing: the whole group is rolled back and every
/// member's caller gets the error (nothing of it was acknowledged).
fn run_group(conn: &mut Connection, jobs: Vec<Job>) -> Vec<Result<(), String>> {
    let n = jobs.len();
    // BEGIN and COMMIT as cached statements: a group commit runs them every time.
    let outcome = (|| -> rusqlite::Result<()> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        for job in jobs {
            if let Err(e) = job(conn) {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        if let Err(e) = conn.prepare_cached("COMMIT")?.execute([]) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => vec![Ok(()); n],
        Err(e) => {
            tracing::error!(error = %e, jobs = n, "group commit failed");
            vec![Err(e.to_string()); n]
        }
    }
}

impl Shared {
    /// Commits everything submitted so far, as the leader.
    fn lead(&self) {
        let (jobs, first) = {
            let mut st = self.state.lock();
            let jobs = std::mem::take(&mut st.jobs);
            let first = st.next_ticket - jobs.len() as u64;
            (jobs, first)
        };
        let upto = first + jobs.len() as u64;
        let results = if jobs.is_empty() {
            Vec::new()
        } else {
            let mut conn = self.conn.lock();
            let results = run_group(&mut conn, jobs);
            if std::fs::metadata(&self.wal).map(|m| m.len()).unwrap_or(0) > WAL_HARD_LIMIT_BYTES {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL truncation by the writer failed");
                }
            }
            results
        };
        let mut st = self.state.lock();
        for (i, r) in results.into_iter().enumerate() {
            if let Err(e) = r {
                st.failures.insert(first + i as u64, e);
            }
        }
        st.committed_upto = st.committed_upto.max(upto);
        st.leader = false;
        drop(st);
        self.committed.notify_waiters();
        let _ = self.checkpoints.try_send(());
    }

    async fn wait(self: &Arc<Self>, ticket: u64) -> Result<(), String> {
        loop {
            let notified = self.committed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let lead = {
                let mut st = self.state.lock();
                if ticket < st.committed_upto {
                    return st.failures.remove(&ticket).map_or(Ok(()), Err);
                }
                if st.leader {
                    false
                } else {
                    st.leader = true;
                    true
                }
            };
            if lead {
                // Let tasks that are already runnable submit first: one bigger group.
                tokio::task::yield_now().await;
                if self.fsync {
                    // An fsync takes milliseconds: let the runtime move other tasks away.
                    tokio::task::block_in_place(|| self.lead());
                } else {
                    self.lead();
                }
                continue;
            }
            notified.await;
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Whatever is still queued at shutdown is written before the connection closes.
        let jobs = std::mem::take(&mut self.state.get_mut().jobs);
        let mut conn = self.conn.lock();
        if !jobs.is_empty() {
            run_group(&mut conn, jobs);
        }
        let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    }
}

/// Submits jobs for group commit. Cloneable.
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Shared>,
}

impl Writer {
    /// Queues `job`, in order with every other submission, and returns a handle that
    /// resolves once it is committed. Submit while holding the lock that ordered the
    /// in-memory change; await outside it.
    pub fn submit(&self, job: Job) -> Pending {
        let mut st = self.shared.state.lock();
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.jobs.push(job);
        Pending { state: PendingState::Waiting(self.shared.clone(), ticket) }
    }

    /// Runs a read on the writer's connection (the only one: the database is opened in
    /// exclusive locking mode). It waits for a group commit that is running, and sees
    /// everything committed before it. For rare reads of data kept out of memory.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StorageError> {
        let conn = self.shared.conn.lock();
        Ok(f(&conn)?)
    }
}

/// A submitted job's commit, to be awaited. Dropped without waiting, it is committed in
/// the background.
pub struct Pending {
    state: PendingState,
}

enum PendingState {
    /// Nothing to wait for (the in-memory store).
    Done,
    Waiting(Arc<Shared>, u64),
}

impl Pending {
    pub fn done() -> Pending {
        Pending { state: PendingState::Done }
    }

    pub async fn wait(mut self) -> Result<(), String> {
        match std::mem::replace(&mut self.state, PendingState::Done) {
            PendingState::Done => Ok(()),
            PendingState::Waiting(shared, ticket) => shared.wait(ticket).await,
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let PendingState::Waiting(shared, ticket) = std::mem::replace(&mut self.state, PendingState::Done) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(async move {
                        let _ = shared.wait(ticket).await;
                    });
                }
                Err(_) => {
                    // No runtime (tests, shutdown): commit here.
                    let lead = {
                        let mut st = shared.state.lock();
                        !std::mem::replace(&mut st.leader, true)
                    };
                    if lead {
                        shared.lead();
                    }
                }
            }
        }
    }
}

/// What each service's SQLite store shares: at open, the database is opened, the schema
/// created and everything loaded once; afterwards batches of the service's own
/// mutations are made durable through the group-committing [`Writer`].
pub struct DomainStore<L> {
    writer: Writer,
    loaded: Mutex<Option<L>>,
}

impl<L: Default> DomainStore<L> {
    pub fn open(path: &Path, durability: Durability, name: &str, schema: &str, load: fn(&Connection) -> Result<L, StorageError>) -> Result<DomainStore<L>, StorageError> {
        let db = Database::open(path, durability)?;
        db.conn().execute_batch(schema)?;
        let loaded = load(db.conn())?;
        Ok(DomainStore { writer: db.into_writer(name)?, loaded: Mutex::new(Some(loaded)) })
    }

    /// What was loaded at open; once (later calls get an empty value).
    pub fn take_loaded(&self) -> L {
        self.loaded.lock().take().unwrap_or_default()
    }

    /// Reads through the writer's connection (see [`Writer::read`]).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StorageError> {
        self.writer.read(f)
    }

    /// Submits a job of the service's own making (see [`Writer::submit`]).
    pub fn submit(&self, job: Job) -> Pending {
        self.writer.submit(job)
    }

    /// Makes `batch` durable, each mutation written by `write`, atomically and in order
    /// with every earlier call. Never blocks.
    pub fn apply<M: Send + 'static>(&self, batch: Vec<M>, write: fn(&Connection, &M) -> rusqlite::Result<()>) -> Pending {
        if batch.is_empty() {
            return Pending::done();
        }
        self.writer.submit(Box::new(move |conn| {
            for m in &batch {
                write(conn, m)?;
            }
            Ok(())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits leave the checkpoint to the checkpointer thread: the rows reach the
    /// database file without the writer checkpointing, and the WAL is reused instead
    /// of growing with every commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_happen_off_the_writer() {
        let dir = std::env::temp_dir().join(format!("nimbus-ckpt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let db = Database::open(&path, Durability::Process).expect("open");
        db.conn().execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").expect("schema");
        let writer = db.into_writer("test").expect("writer");
        let row = "x".repeat(1000);
        let mut wal_sizes = Vec::new();
        for round in 0..8 {
            let mut pending = Vec::new();
            for i in 0..100 {
                let v = row.clone();
                let id = round * 100 + i;
                pending.push(writer.submit(Box::new(move |c| c.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![id, v]).map(drop))));
            }
            for p in pending {
                p.wait().await.expect("commit");
            }
            // Give the checkpointer its interval to run.
            tokio::time::sleep(CHECKPOINT_INTERVAL * 2).await;
            wal_sizes.push(std::fs::metadata(dir.join("t.db-wal")).map(|m| m.len()).unwrap_or(0));
        }
        let db_size = std::fs::metadata(&path).expect("db file").len();
        assert!(db_size > 600_000, "800 rows of 1 KB were checkpointed into the database file ({db_size} bytes)");
        let max_wal = wal_sizes.iter().copied().max().unwrap_or(0);
        assert!(max_wal < 500_000, "the WAL is rewound after checkpoints instead of holding every commit: {wal_sizes:?}");
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Under writes without a pause, passive checkpoints never reach the WAL's end; the
    /// checkpointer must still keep the WAL bounded (it grew to 18 GB in a soak before).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_under_sustained_writes() {
        let dir = std::env::temp_dir().join(format!("nimbus-wal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.db");
        let db = Database::open(&path, Durability::Process).expect("open");
        db.conn().execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").expect("schema");
        let writer = db.into_writer("test").expect("writer");
        let blob = vec![7u8; 16 * 1024];
        let mut biggest = 0;
        for round in 0..24i64 {
            let mut pending = Vec::new();
            for i in 0..200i64 {
                let v = blob.clone();
                pending.push(writer.submit(Box::new(move |c| c.execute("INSERT OR REPLACE INTO t VALUES (?1, ?2)", rusqlite::params![(round * 200 + i) % 1000, v]).map(drop))));
            }
            for p in pending {
                p.wait().await.expect("commit");
            }
            biggest = biggest.max(std::fs::metadata(dir.join("t.db-wal")).map(|m| m.len()).unwrap_or(0));
        }
        // ~75 MB written; the WAL is truncated past 8 MiB.
        assert!(biggest < 40 << 20, "the WAL grew to {biggest} bytes");
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
