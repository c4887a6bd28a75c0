//! Where a read goes: the primary, or the streaming read replica named by `DATABASE_READ_URL`.
//! The replica serves job status (every output form and page), the job lists (the advertiser's
//! and `/admin/jobs`) and the transaction lookups; writes and every other read stay on the
//! primary.
//!
//! The rule that keeps this invisible to clients (README, "Read replica"): a read of an
//! advertiser's data goes to the replica only once the replica has replayed up to that
//! advertiser's *mark*, a WAL position this api keeps per advertiser and raises
//!
//! - after each write it commits for the advertiser (a submitted job, recorded transactions, a
//!   cancel, a retry, an action): so its clients read their own writes at once, never a `404`
//!   for a job just answered with its `jobId`;
//! - after each read of the advertiser's data the primary served: so no later answer comes from
//!   a replica older than one already given (a job seen `DONE` never reads `PROCESSING` again,
//!   pages of a finished job never miss items).
//!
//! Reads of every advertiser (the admin list) wait for the highest mark. Progress the workers
//! write is not a write of this api: a poll may show a running job's progress as the replica has
//! replayed it, a few milliseconds behind the primary, but never older than an earlier answer.
//! The positions are read with `pg_current_wal_insert_lsn()` on the primary after the write or
//! the read (at or past every commit either could see) and `pg_last_wal_replay_lsn()` on the
//! replica (kept as last read, a lower bound: replay only moves forward, so it is read again only
//! when a mark is past it). Marks belong to this process; behind several apis, a job or
//! transaction the replica does not have yet (a miss) is read again on the primary, and so is
//! any read that fails on the replica: a replica that is down costs a retry, never an error, and
//! is then left alone for [`REST`].

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ratify_domain::ids::AdvertiserId;
use ratify_shared::metrics as names;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub type Connection = sqlx::pool::PoolConnection<sqlx::Postgres>;

/// How long the replica is left alone after it failed a read.
pub const REST: Duration = Duration::from_secs(1);

/// How long a read waits for a replica connection before it goes to the primary: a replica
/// that refuses connections would otherwise be retried for the pool's whole timeout.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(250);

/// A pool for the replica at `url`, connecting when first used.
pub fn replica_pool(url: &str, size: u32) -> Result<PgPool, sqlx::Error> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options))
}

/// A mark no replay reaches: the advertiser's reads stay on the primary (set when the position
/// after a write could not be read, so nothing is known about what the replica must have).
const UNKNOWN: u64 = u64::MAX;

/// What a replica said when it failed a read (logged once per rest).
pub type Cause<'a> = &'a (dyn Display + Sync);

/// The server a read was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Primary,
    Replica,
}

/// Whose data a read shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Advertiser(AdvertiserId),
    /// Every advertiser's: the admin list.
    All,
}

/// The primary and, when configured, the replica.
pub struct Reads {
    primary: PgPool,
    replica: Option<Replica>,
}

struct Replica {
    pool: PgPool,
    /// Each advertiser's mark (see the module's doc); an advertiser without one has nothing to
    /// wait for. Marks the replica has passed are dropped.
    marks: Mutex<HashMap<AdvertiserId, u64>>,
    /// The highest mark given out: what reads of every advertiser wait for.
    highest: AtomicU64,
    /// The replica's replay position as last read.
    replayed: AtomicU64,
    /// After a failure, the replica serves nothing until then.
    resting_until: Mutex<Option<Instant>>,
}

/// Why a read went to the primary although a replica is configured (a metric label).
#[derive(Debug, Clone, Copy)]
pub enum Fallback {
    /// The replica had not replayed the advertiser's mark yet.
    Behind,
    /// The replica did not have the job or transaction asked for.
    Miss,
    /// The replica failed, or is resting after a failure.
    ReplicaError,
}

impl Fallback {
    fn label(self) -> &'static str {
        match self {
            Fallback::Behind => "behind",
            Fallback::Miss => "miss",
            Fallback::ReplicaError => "replica_error",
        }
    }
}

fn count(source: Source, fallback: Option<Fallback>) {
    let served_by = match source {
        Source::Primary => "primary",
        Source::Replica => "replica",
    };
    let reason = fallback.map_or("", Fallback::label);
    metrics::counter!(names::REPLICA_READS, "served_by" => served_by, "reason" => reason).increment(1);
}

/// An LSN as a number (`pg_lsn` minus `0/0` is its byte position).
const INSERT_LSN: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint";
const REPLAY_LSN: &str = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint";

impl Reads {
    pub fn new(primary: PgPool, replica: Option<PgPool>) -> Reads {
        let replica = replica.map(|pool| Replica {
            pool,
            marks: Mutex::default(),
            highest: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            resting_until: Mutex::new(None),
        });
        Reads { primary, replica }
    }

    /// A connection for a read of `scope`'s data: the replica's when it has replayed `scope`'s
    /// mark, else the primary's.
    pub async fn acquire(&self, scope: Scope) -> Result<(Connection, Source), sqlx::Error> {
        let Some(replica) = &self.replica else {
            return Ok((self.primary.acquire().await?, Source::Primary));
        };
        let fallback = match replica.current(scope).await {
            Ok(Some(conn)) => {
                count(Source::Replica, None);
                return Ok((conn, Source::Replica));
            }
            Ok(None) => Fallback::Behind,
            Err(error) => {
                replica.rest(&error);
                Fallback::ReplicaError
            }
        };
        count(Source::Primary, Some(fallback));
        Ok((self.primary.acquire().await?, Source::Primary))
    }

    /// A connection to go on reading from `source` (a finished job's documents after its row);
    /// the primary's when the replica fails.
    pub async fn connection(&self, source: Source) -> Result<Connection, sqlx::Error> {
        if let (Source::Replica, Some(replica)) = (source, &self.replica) {
            match replica.pool.acquire().await {
                Ok(conn) => return Ok(conn),
                Err(error) => replica.rest(&error),
            }
        }
        self.primary.acquire().await
    }

    /// The primary's connection for a read the replica could not answer: `error` is what the
    /// replica said, if it failed.
    pub async fn fallback(&self, why: Fallback, error: Option<Cause<'_>>) -> Result<Connection, sqlx::Error> {
        if let (Some(replica), Some(error)) = (&self.replica, error) {
            replica.rest(error);
        }
        count(Source::Primary, Some(why));
        self.primary.acquire().await
    }

    /// Runs `read` on a connection for `scope` and gives the connection back with what it
    /// found, to read on from the same server. A miss (`None`) or an error on the replica is
    /// read again on the primary. The caller says [`Reads::served`] once its reads started.
    pub async fn read<T, F, Fut>(
        &self,
        scope: Scope,
        mut read: F,
    ) -> Result<(Option<T>, Connection, Source), sqlx::Error>
    where
        F: FnMut(Connection) -> Fut,
        Fut: Future<Output = sqlx::Result<(Option<T>, Connection)>>,
    {
        let (conn, source) = self.acquire(scope).await?;
        let first = read(conn).await;
        let why = match (&first, source) {
            (Ok((Some(_), _)), _) | (_, Source::Primary) => None,
            (Ok((None, _)), Source::Replica) => Some((Fallback::Miss, None)),
            (Err(error), Source::Replica) => Some((Fallback::ReplicaError, Some(error as Cause))),
        };
        let Some((why, error)) = why else {
            let (found, conn) = first?;
            return Ok((found, conn, source));
        };
        let conn = self.fallback(why, error).await?;
        let (found, conn) = read(conn).await?;
        Ok((found, conn, Source::Primary))
    }

    /// After a read of `scope` that `source` served (its statements started): when that was
    /// the primary, no later read of `scope` may come from a replica that has not replayed as
    /// far as the primary had.
    pub async fn served(&self, scope: Scope, source: Source) {
        if let (Source::Primary, Some(replica)) = (source, &self.replica) {
            replica.raise(scope, self.insert_lsn().await);
        }
    }

    /// After a write for `advertiser` committed: its reads wait for the replica to replay it.
    pub async fn wrote(&self, advertiser: AdvertiserId) {
        if let Some(replica) = &self.replica {
            replica.raise(Scope::Advertiser(advertiser), self.insert_lsn().await);
        }
    }

    /// The primary's WAL insert position now, or [`UNKNOWN`] when it cannot be read.
    async fn insert_lsn(&self) -> u64 {
        match sqlx::query_scalar::<_, i64>(INSERT_LSN).fetch_one(&self.primary).await {
            Ok(lsn) => u64::try_from(lsn).unwrap_or(UNKNOWN),
            Err(error) => {
                tracing::warn!(%error, "could not read the primary's WAL position; this advertiser's reads stay on the primary");
                UNKNOWN
            }
        }
    }
}

impl Replica {
    fn mark(&self, scope: Scope) -> u64 {
        match scope {
            Scope::All => self.highest.load(Ordering::Acquire),
            Scope::Advertiser(id) => {
                self.marks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).copied().unwrap_or(0)
            }
        }
    }

    fn raise(&self, scope: Scope, lsn: u64) {
        if let Scope::Advertiser(id) = scope {
            let mut marks = self.marks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mark = marks.entry(id).or_insert(0);
            *mark = (*mark).max(lsn);
        }
        self.highest.fetch_max(lsn, Ordering::AcqRel);
    }

    /// A replica connection when the replica has replayed `scope`'s mark; `None` when not.
    async fn current(&self, scope: Scope) -> Result<Option<Connection>, sqlx::Error> {
        let resting = self
            .resting_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until);
        if resting {
            return Err(sqlx::Error::PoolTimedOut);
        }
        let mark = self.mark(scope);
        if mark == UNKNOWN {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        if self.replayed.load(Ordering::Acquire) < mark {
            // NULL: the server is not replaying, so it is a primary itself and has everything.
            let replayed: Option<i64> = sqlx::query_scalar(REPLAY_LSN).fetch_one(&mut *conn).await?;
            let replayed = replayed.map_or(UNKNOWN - 1, |lsn| u64::try_from(lsn).unwrap_or(0));
            self.replayed.fetch_max(replayed, Ordering::AcqRel);
            let replayed = self.replayed.load(Ordering::Acquire);
            self.marks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|_, mark| *mark > replayed);
            if replayed < mark {
                return Ok(None);
            }
        }
        Ok(Some(conn))
    }

    fn rest(&self, error: Cause<'_>) {
        let mut until = self.resting_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if until.is_none_or(|until| Instant::now() >= until) {
            tracing::warn!(%error, "the read replica failed; reading from the primary for {REST:?}");
            *until = Some(Instant::now() + REST);
        }
    }
}
