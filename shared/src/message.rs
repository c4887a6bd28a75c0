//! The one type that crosses the queue between the api and the workers.

use ratify_domain::ids::AdvertiserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A unit of work. Messages name work stored in Postgres rather than carry it, so a
/// message can be lost, duplicated or republished without losing or doubling anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum QueueTask {
    /// Apply one chunk of a job.
    #[serde(rename_all = "camelCase")]
    ApplyChunk { advertiser_id: AdvertiserId, job_id: Uuid, chunk_no: i32 },
}

impl QueueTask {
    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of integers and a UUID always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<QueueTask, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_a_stable_shape() {
        let task = QueueTask::ApplyChunk { advertiser_id: AdvertiserId(7), job_id: Uuid::nil(), chunk_no: 3 };
        let text = String::from_utf8(task.to_bytes()).unwrap();
        assert_eq!(
            text,
            r#"{"type":"applyChunk","advertiserId":7,"jobId":"00000000-0000-0000-0000-000000000000","chunkNo":3}"#
        );
        assert_eq!(QueueTask::from_bytes(text.as_bytes()).unwrap(), task);
        assert!(QueueTask::from_bytes(b"{}").is_err());
    }
}
