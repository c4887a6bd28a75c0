//! Lost messages: a chunk whose message the broker confirmed and then lost (here, a
//! purged queue) is found by the stall watchdog and published again; the job reaches
//! DONE with every item exactly once.

use lapin::options::QueuePurgeOptions;
use ratify_shared::broker::{self, Topology, DEFAULT_DELIVERY_LIMIT};

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_purged_queue_is_found_by_the_watchdog_and_the_job_finishes() {
    let mut stack = Stack::builder().workers(0).env("RATIFY_STALL_SECONDS", 3).start().await;
    let (client, ids) = setup(&stack, 40_000).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let job_uuid: Uuid = job.parse().unwrap();
    eventually("every chunk confirmed by the broker", FINISH, || async {
        let unconfirmed: i64 =
            sqlx::query_scalar("SELECT count(*) FROM job_chunks WHERE job_id = $1 AND published_at IS NULL")
                .bind(job_uuid)
                .fetch_one(&stack.db)
                .await
                .unwrap();
        (unconfirmed == 0).then_some(())
    })
    .await;

    // The broker loses every message of the job.
    let topology = Topology::new(&stack.name, DEFAULT_DELIVERY_LIMIT);
    let connection = broker::connect(&stack.amqp_url, 3).await.expect("RabbitMQ");
    let channel = broker::publisher_channel(&connection, &topology).await.expect("a channel");
    let purged = channel.queue_purge(&topology.work_queue, QueuePurgeOptions::default()).await.expect("purged");
    assert_eq!(purged, 40, "the job's 40 chunks were waiting in the work queue");

    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;
    assert_codes(&done, |_| OK);
    assert_eq!(assert_exactly_once(&stack, &done).await, 40_000);
    let logs = std::fs::read_to_string(stack.log_dir().join("api.log")).unwrap_or_default() + &worker_logs(&stack);
    assert!(logs.contains("watchdog published again chunks whose message was lost"), "{logs}");
}
