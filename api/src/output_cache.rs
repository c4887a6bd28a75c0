//! Rendered item lists of finished jobs. A `DONE` job never changes (until it is purged,
//! and then its job row is gone first), so ops polling `?output=errors` of a finished
//! job are served from memory instead of Postgres. Bounded by bytes, least recently
//! used first out.
//!
//! Filling is one at a time per body: when many ops open the same finished job at once,
//! one request reads and renders it while the others wait for its result, instead of
//! each holding a copy of the same large body.

use bytes::Bytes;
use quick_cache::sync::{Cache, DefaultLifecycle, PlaceholderGuard};
use quick_cache::DefaultHashBuilder;
use quick_cache::Weighter;
use ratify_domain::ids::AdvertiserId;
use uuid::Uuid;

/// A cached body: (advertiser, job, errors only).
type Key = (AdvertiserId, Uuid, bool);

/// One body larger than this is streamed every time rather than held.
const MAX_ENTRY: usize = 16 * 1024 * 1024;

#[derive(Clone)]
struct ByBytes;

impl Weighter<Key, Bytes> for ByBytes {
    fn weight(&self, _: &Key, body: &Bytes) -> u64 {
        body.len() as u64 + 64
    }
}

pub struct OutputCache {
    bodies: Option<Cache<Key, Bytes, ByBytes>>,
}

impl OutputCache {
    /// A cache of at most `capacity` bytes; 0 disables it.
    pub fn new(capacity: u64) -> OutputCache {
        let bodies = (capacity > 0).then(|| Cache::with_weighter(1024, capacity, ByBytes));
        OutputCache { bodies }
    }

    pub fn get(&self, advertiser_id: AdvertiserId, job_id: Uuid, errors_only: bool) -> Option<Bytes> {
        self.bodies.as_ref()?.get(&(advertiser_id, job_id, errors_only))
    }

    #[cfg(test)]
    fn insert(&self, advertiser_id: AdvertiserId, job_id: Uuid, errors_only: bool, body: Bytes) {
        if let Some(bodies) = &self.bodies {
            bodies.insert((advertiser_id, job_id, errors_only), body);
        }
    }

    /// The cached body, or the right to render it: waits while another request renders
    /// the same body, then takes its result (or its turn, if that one gave up).
    pub async fn fill(&self, advertiser_id: AdvertiserId, job_id: Uuid, errors_only: bool) -> Fill<'_> {
        let Some(bodies) = &self.bodies else {
            return Fill::Render(None);
        };
        match bodies.get_value_or_guard_async(&(advertiser_id, job_id, errors_only)).await {
            Ok(body) => Fill::Cached(body),
            Err(guard) => Fill::Render(Some(Filler { guard })),
        }
    }

    /// Whether a body of `len` bytes so far is still worth collecting.
    pub fn worth_keeping(&self, len: usize) -> bool {
        self.bodies.is_some() && len <= MAX_ENTRY
    }
}

/// What [`OutputCache::fill`] gives.
pub enum Fill<'a> {
    Cached(Bytes),
    /// Render the body; hand it to the filler (if any) for those waiting.
    Render(Option<Filler<'a>>),
}

/// The one request rendering a body. Dropping it without [`Filler::insert`] lets the
/// next waiting request render instead.
pub struct Filler<'a> {
    guard: PlaceholderGuard<'a, Key, Bytes, ByBytes, DefaultHashBuilder, DefaultLifecycle<Key, Bytes>>,
}

impl Filler<'_> {
    pub fn insert(self, body: Bytes) {
        // Refused only when the cache was cleared meanwhile; the body was sent anyway.
        let _ = self.guard.insert(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bodies_within_its_capacity() {
        let cache = OutputCache::new(10_000);
        let job = Uuid::new_v4();
        cache.insert(AdvertiserId(1), job, true, Bytes::from_static(b"{}"));
        assert_eq!(cache.get(AdvertiserId(1), job, true).as_deref(), Some(&b"{}"[..]));
        assert_eq!(cache.get(AdvertiserId(1), job, false), None);
        assert_eq!(cache.get(AdvertiserId(2), job, true), None, "keyed by advertiser too");
        let jobs: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
        for job in &jobs {
            cache.insert(AdvertiserId(1), *job, true, Bytes::from(vec![b' '; 1000]));
        }
        let held = jobs.iter().filter(|job| cache.get(AdvertiserId(1), **job, true).is_some()).count();
        assert!(held > 0 && held <= 10, "{held} bodies of 1,000 bytes held in 10,000");
        assert!(!OutputCache::new(0).worth_keeping(1));
        assert!(cache.worth_keeping(1));
    }

    #[tokio::test]
    async fn one_request_renders_while_the_others_wait_for_it() {
        let cache = std::sync::Arc::new(OutputCache::new(10_000));
        let job = Uuid::new_v4();
        let Fill::Render(Some(filler)) = cache.fill(AdvertiserId(1), job, true).await else {
            panic!("the first one renders")
        };
        let waiting = {
            let cache = cache.clone();
            tokio::spawn(async move {
                matches!(cache.fill(AdvertiserId(1), job, true).await, Fill::Cached(b) if &b[..] == b"[]")
            })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second waits for the first");
        filler.insert(Bytes::from_static(b"[]"));
        assert!(waiting.await.unwrap(), "and takes its body");
        // A renderer that gives up hands its turn on.
        let other = Uuid::new_v4();
        let Fill::Render(Some(filler)) = cache.fill(AdvertiserId(1), other, false).await else { panic!("renders") };
        drop(filler);
        assert!(matches!(cache.fill(AdvertiserId(1), other, false).await, Fill::Render(Some(_))));
        assert!(matches!(OutputCache::new(0).fill(AdvertiserId(1), other, false).await, Fill::Render(None)));
    }
}
