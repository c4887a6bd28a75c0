//! What Postgres' backends wait on: `pg_stat_activity` sampled every 10 ms while a
//! scenario runs, so a run can say whether its sessions were on the CPU, waiting for a
//! lock, for the WAL, or for the client.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;

/// A running sampler; [`Sampler::finish`] stops it and summarizes.
pub struct Sampler {
    running: Arc<AtomicBool>,
    task: JoinHandle<BTreeMap<String, u64>>,
}

impl Sampler {
    /// Samples the active sessions of `pool`'s database other than its own.
    pub fn start(pool: PgPool) -> Sampler {
        let running = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn(sample(pool, running.clone()));
        Sampler { running, task }
    }

    /// "CPU 61 %, LWLock:WALWrite 12 %, …": the share of active-session samples in each
    /// state (CPU where an active session waits on nothing), largest first, with the
    /// average number of active sessions.
    pub async fn finish(self) -> String {
        self.running.store(false, Ordering::Relaxed);
        let counts = self.task.await.unwrap_or_default();
        let ticks = counts.get(TICKS).copied().unwrap_or(0).max(1);
        let mut states: Vec<(&String, u64)> =
            counts.iter().filter(|(k, _)| *k != TICKS).map(|(k, v)| (k, *v)).collect();
        let total: u64 = states.iter().map(|(_, v)| v).sum::<u64>().max(1);
        states.sort_by_key(|s| std::cmp::Reverse(s.1));
        let shares: Vec<String> =
            states.iter().take(6).map(|(k, v)| format!("{k} {:.0} %", *v as f64 * 100.0 / total as f64)).collect();
        format!("{:.1} active sessions on average; {}", total as f64 / ticks as f64, shares.join(", "))
    }
}

const TICKS: &str = "\0ticks";

async fn sample(pool: PgPool, running: Arc<AtomicBool>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while running.load(Ordering::Relaxed) {
        tick.tick().await;
        let rows: Vec<(Option<String>, Option<String>)> = match sqlx::query_as(
            "SELECT wait_event_type, wait_event FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
               AND backend_type = 'client backend'",
        )
        .fetch_all(&pool)
        .await
        {
            Ok(rows) => rows,
            Err(_) => continue,
        };
        *counts.entry(TICKS.to_owned()).or_insert(0) += 1;
        for (kind, event) in rows {
            let state = match (kind, event) {
                (Some(kind), Some(event)) => format!("{kind}:{event}"),
                _ => "CPU".to_owned(),
            };
            *counts.entry(state).or_insert(0) += 1;
        }
    }
    counts
}
