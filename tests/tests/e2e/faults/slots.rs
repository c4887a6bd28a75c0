//! `RATIFY_APPLY_SLOTS`: across all workers, at most that many chunks of large jobs are
//! applied at once; a single-chunk job's chunk takes no slot, so a small job never queues
//! behind a large one; and the capped chunks still end exactly once.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn at_most_the_slots_apply_at_once_across_workers_and_small_jobs_pass() {
    let stack = Stack::builder().workers(2).env("RATIFY_CHUNK_SIZE", 100).env("RATIFY_APPLY_SLOTS", 2).start().await;
    let (client, ids) = setup(&stack, 2010).await;
    let gate = gate_chunks(&stack).await;
    // 20 chunks; without the cap the two workers would hold 8 of them at the gate.
    let large = client.submit(ADVERTISER, &batch(&ids[..2000], approve)).await;
    at_gate(&stack, 2).await;
    let small = client.submit(ADVERTISER, &batch(&ids[2000..], approve)).await;
    at_gate(&stack, 3).await;
    // Held for a second: never more than the two slots and the small job's chunk.
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for _ in 0..10 {
        tick.tick().await;
        let waiting = at_gate(&stack, 0).await;
        assert!(waiting <= 3, "{waiting} chunks mid-transaction with 2 slots and one small job");
    }
    // The chunks past the cap queue on a slot in Postgres (no retries in a loop).
    eventually("chunks queued on a slot", FINISH, || async {
        let queued: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'",
        )
        .fetch_one(&stack.db)
        .await
        .ok()?;
        (queued >= 1).then_some(queued)
    })
    .await;
    gate.commit().await.expect("opening the gate");
    for job in [&large, &small] {
        let job = finished(&client, job).await;
        assert_codes(&job, |_| OK);
        assert_eq!(assert_exactly_once(&stack, &job).await, job.items().len());
    }
}
