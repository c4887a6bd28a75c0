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

/// The worker of a job's last chunk commits it and dies before writing the job's row
/// (here: the row is put back as it was before that write). The job reads `DONE` at once,
/// with its counts and completion date, from its chunks; the relay's sweep then writes the
/// row, with the same values.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_last_worker_died_before_its_row_reads_done_and_the_sweep_writes_the_row() {
    let stack = Stack::builder().workers(1).env("RATIFY_STALL_SECONDS", 2).start().await;
    let (client, ids) = setup(&stack, 300).await;
    let mut items = batch(&ids[..299], approve);
    items.as_array_mut().unwrap().push(approve(i64::MAX));
    let job = client.submit(ADVERTISER, &items).await;
    let done = finished(&client, &job).await;
    let job_uuid: Uuid = job.parse().unwrap();
    let row = "SELECT status, processed_count, error_count, completion_date::text FROM jobs WHERE id = $1";
    let written: (String, i32, i32, Option<String>) =
        sqlx::query_as(row).bind(job_uuid).fetch_one(&stack.db).await.unwrap();
    assert_eq!((written.0.as_str(), written.1, written.2), ("DONE", 300, 1), "the last chunk's worker wrote the row");

    // As if that worker had died between its commit and the row: the row as accepted,
    // and a sweep that has not run yet.
    sqlx::query(
        "UPDATE jobs SET status = 'QUEUED', processed_count = 0, error_count = 0, completion_date = NULL,
                created_at = now() WHERE id = $1",
    )
    .bind(job_uuid)
    .execute(&stack.db)
    .await
    .unwrap();
    let (_, answer) = client.get(&job_path(&job)).await;
    assert_eq!(answer["status"], "DONE", "{answer}");
    assert_eq!((answer["processedCount"].as_i64(), answer["errorCount"].as_i64()), (Some(300), Some(1)), "{answer}");
    assert_eq!(answer["completionDate"], done.body["completionDate"], "the last chunk's time, before and after");

    let swept: (String, i32, i32, Option<String>) = eventually("the sweep to write the row", FINISH, || async {
        let row: (String, i32, i32, Option<String>) =
            sqlx::query_as(row).bind(job_uuid).fetch_one(&stack.db).await.ok()?;
        (row.0 == "DONE").then_some(row)
    })
    .await;
    assert_eq!(swept, written, "the sweep writes what the worker would have");
}
