//! Embedded durable storage plumbing: SQLite in WAL mode, written by one thread that
//! group-commits.
//!
//! Each service defines its own storage trait and schema; this module gives them a
//! [`Database`] whose [`Writer`] applies submitted jobs in submission order, many per
//! transaction. A job's caller is answered only once the transaction holding it has
//! committed, so an acknowledged write survives `kill -9` (WAL with `synchronous=NORMAL`
//! survives a process crash; `Durability::Fsync` also survives power loss).

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage: the writer thread has stopped")]
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

/// Most jobs folded into one transaction.
const MAX_GROUP: usize = 4096;

/// An open database before its writer thread starts: schema setup and loading happen here.
pub struct Database {
    conn: Connection,
}

impl Database {
    pub fn open(path: &Path, durability: Durability) -> Result<Database, StorageError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if durability == Durability::Fsync { "FULL" } else { "NORMAL" })?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Database { conn })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Hands the connection to a writer thread named `name`.
    pub fn into_writer(self, name: &str) -> Result<Writer, StorageError> {
        let (tx, rx) = mpsc::channel::<(Job, oneshot::Sender<Result<(), String>>)>();
        let mut conn = self.conn;
        std::thread::Builder::new().name(format!("{name}-writer")).spawn(move || write_loop(&mut conn, rx))?;
        Ok(Writer { tx })
    }
}

fn write_loop(conn: &mut Connection, rx: mpsc::Receiver<(Job, oneshot::Sender<Result<(), String>>)>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(group.len());
        let outcome = (|| -> rusqlite::Result<()> {
            let mut tx = conn.transaction()?;
            for (job, reply) in group {
                // A savepoint per job: one failing job does not undo the others.
                let sp = tx.savepoint_with_name("job");
                let result = match sp {
                    Ok(mut sp) => {
                        sp.set_drop_behavior(rusqlite::DropBehavior::Commit);
                        let r = job(&sp);
                        if r.is_err() {
                            let _ = sp.rollback();
                        }
                        r.map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                };
                replies.push((reply, result));
            }
            tx.commit()
        })();
        match outcome {
            Ok(()) => {
                for (reply, result) in replies {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                for (reply, _) in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
    // The channel closed: every sender is gone, so the server is shutting down.
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
}

/// Submits jobs to the writer thread. Cloneable; the thread ends when all clones drop.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Job, oneshot::Sender<Result<(), String>>)>,
}

impl Writer {
    /// Queues `job` (in order with every other submission) and returns a receiver that
    /// resolves once it is committed. Submit while holding the lock that ordered the
    /// in-memory change, await outside it.
    pub fn submit(&self, job: Job) -> Pending {
        let (reply, rx) = oneshot::channel();
        match self.tx.send((job, reply)) {
            Ok(()) => Pending { rx: PendingState::Waiting(rx) },
            Err(_) => Pending { rx: PendingState::WriterGone },
        }
    }
}

/// A submitted job's commit, to be awaited.
pub struct Pending {
    rx: PendingState,
}

enum PendingState {
    /// Nothing to wait for (the in-memory store).
    Done,
    Waiting(oneshot::Receiver<Result<(), String>>),
    WriterGone,
}

impl Pending {
    pub fn done() -> Pending {
        Pending { rx: PendingState::Done }
    }

    pub async fn wait(self) -> Result<(), String> {
        match self.rx {
            PendingState::Done => Ok(()),
            PendingState::Waiting(rx) => rx.await.map_err(|_| StorageError::WriterGone.to_string())?,
            PendingState::WriterGone => Err(StorageError::WriterGone.to_string()),
        }
    }
}
