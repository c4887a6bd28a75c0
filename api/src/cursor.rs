//! Cursors: opaque and tamper-evident. Job-list cursors and item-page cursors.
//!
//! Job-list cursors: A cursor names the last job of a page
//! (its creation instant and id) and carries an HMAC-SHA256 tag over that position and
//! the advertiser it was issued to, keyed from `ADMIN_TOKEN` under a label of its own. Any
//! cursor the api did not issue for this advertiser fails the tag, so no client-made
//! position ever reaches a query.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use ratify_domain::ids::AdvertiserId;
use sha2::Sha256;
use uuid::Uuid;

/// Keeps cursor tags apart from anything else the same secret might ever sign.
const LABEL: &[u8] = b"ratify job-list cursor v1\0";
/// Tag bytes kept: 128 bits is far beyond guessing, and keeps the cursor short.
const TAG_LEN: usize = 16;
const POSITION_LEN: usize = 8 + 16;

/// An HMAC keyed with the secret, begun with the label of what it signs.
fn keyed(secret: &str, label: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length (a long one is hashed first), so this cannot fail
    // whatever secret is configured.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(label);
    mac
}

fn mac(secret: &str, advertiser_id: AdvertiserId, position: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret, LABEL);
    mac.update(&advertiser_id.0.to_be_bytes());
    mac.update(position);
    mac
}

/// The cursor after the job created at `created` with id `id`, for this advertiser.
pub fn issue(secret: &str, advertiser_id: AdvertiserId, created: DateTime<Utc>, id: Uuid) -> String {
    let mut bytes = Vec::with_capacity(POSITION_LEN + TAG_LEN);
    bytes.extend_from_slice(&created.timestamp_micros().to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    let tag = mac(secret, advertiser_id, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The position a cursor names, or `None` unless this api issued it to this advertiser.
pub fn open(secret: &str, advertiser_id: AdvertiserId, cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    if bytes.len() != POSITION_LEN + TAG_LEN {
        return None;
    }
    let (position, given) = bytes.split_at(POSITION_LEN);
    // A constant-time comparison of the truncated tag.
    mac(secret, advertiser_id, position).verify_truncated_left(given).ok()?;
    let micros = i64::from_be_bytes(position[..8].try_into().ok()?);
    let id = Uuid::from_slice(&position[8..]).ok()?;
    Some((DateTime::from_timestamp_micros(micros)?, id))
}

/// Keeps item-page tags apart from job-list tags.
const ITEM_LABEL: &[u8] = b"ratify item-page cursor v1\0";
const ITEM_POSITION_LEN: usize = 16 + 4;

/// The tag of an item page's position, bound to the advertiser and to the listing's
/// `scope` (which output and code filter), so a cursor only continues the listing it
/// came from.
fn item_mac(secret: &str, advertiser_id: AdvertiserId, scope: &str, position: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret, ITEM_LABEL);
    mac.update(&advertiser_id.0.to_be_bytes());
    mac.update(&(scope.len() as u64).to_be_bytes());
    mac.update(scope.as_bytes());
    mac.update(position);
    mac
}

/// The cursor of a job's item page starting at item `next_index`, for one listing.
pub fn issue_items(secret: &str, advertiser_id: AdvertiserId, scope: &str, job_id: Uuid, next_index: i32) -> String {
    let mut bytes = Vec::with_capacity(ITEM_POSITION_LEN + TAG_LEN);
    bytes.extend_from_slice(job_id.as_bytes());
    bytes.extend_from_slice(&next_index.to_be_bytes());
    let tag = item_mac(secret, advertiser_id, scope, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..TAG_LEN]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The item index an item-page cursor starts at, or `None` unless this api issued it for
/// this advertiser, listing and job.
pub fn open_items(secret: &str, advertiser_id: AdvertiserId, scope: &str, job_id: Uuid, cursor: &str) -> Option<i32> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    if bytes.len() != ITEM_POSITION_LEN + TAG_LEN {
        return None;
    }
    let (position, given) = bytes.split_at(ITEM_POSITION_LEN);
    item_mac(secret, advertiser_id, scope, position).verify_truncated_left(given).ok()?;
    (Uuid::from_slice(&position[..16]).ok()? == job_id).then_some(())?;
    Some(i32::from_be_bytes(position[16..].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-secret-of-sixteen-or-more";

    #[test]
    fn an_issued_cursor_opens_to_its_position() {
        let (created, id) = (DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(), Uuid::new_v4());
        let cursor = issue(SECRET, AdvertiserId(1001), created, id);
        assert_eq!(open(SECRET, AdvertiserId(1001), &cursor), Some((created, id)));
    }

    #[test]
    fn another_advertiser_secret_or_any_changed_byte_is_refused() {
        let cursor = issue(SECRET, AdvertiserId(1001), Utc::now(), Uuid::new_v4());
        assert_eq!(open(SECRET, AdvertiserId(1002), &cursor), None);
        assert_eq!(open("another-secret-entirely", AdvertiserId(1001), &cursor), None);
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            assert_eq!(open(SECRET, AdvertiserId(1001), &URL_SAFE_NO_PAD.encode(changed)), None, "byte {i}");
        }
        for bad in ["", "-300000000000000000.00000000-0000-0000-0000-000000000000", "!!!!", &cursor[1..]] {
            assert_eq!(open(SECRET, AdvertiserId(1001), bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_item_cursor_continues_only_its_own_listing() {
        let job = Uuid::new_v4();
        let cursor = issue_items(SECRET, AdvertiserId(1001), "errors:404", job, 2_500);
        assert_eq!(open_items(SECRET, AdvertiserId(1001), "errors:404", job, &cursor), Some(2_500));
        assert_eq!(open_items(SECRET, AdvertiserId(1001), "errors:", job, &cursor), None);
        assert_eq!(open_items(SECRET, AdvertiserId(1002), "errors:404", job, &cursor), None);
        assert_eq!(open_items(SECRET, AdvertiserId(1001), "errors:404", Uuid::new_v4(), &cursor), None);
        assert_eq!(open(SECRET, AdvertiserId(1001), &cursor), None);
        let list = issue(SECRET, AdvertiserId(1001), Utc::now(), job);
        assert_eq!(open_items(SECRET, AdvertiserId(1001), "errors:404", job, &list), None);
    }
}
