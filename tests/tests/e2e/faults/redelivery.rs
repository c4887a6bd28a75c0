//! A chunk delivered twice, and two jobs racing on the same transactions.

use lapin::options::BasicGetOptions;
use ratify_domain::ids::AdvertiserId;
use ratify_shared::broker::{self, Topology, DEFAULT_DELIVERY_LIMIT};
use ratify_shared::message::QueueTask;

use super::*;

/// Takes every message off the work queue (no worker runs); returns them.
async fn take_all(channel: &lapin::Channel, queue: &str, n: usize) -> Vec<QueueTask> {
    let mut tasks = Vec::new();
    let start = Instant::now();
    while tasks.len() < n {
        assert!(start.elapsed() < Duration::from_secs(30), "only {} of {n} messages in {queue}", tasks.len());
        match channel.basic_get(queue, BasicGetOptions { no_ack: true }).await.expect("basic.get") {
            Some(message) => tasks.push(QueueTask::from_bytes(&message.delivery.data).expect("a task")),
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    tasks
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunk_delivered_twice_applies_once() {
    let mut stack = Stack::builder().workers(0).env("RATIFY_CHUNK_SIZE", 100).start().await;
    let (client, ids) = setup(&stack, 1000).await;
    // Per transaction: approve (200), then decline (422): a second application of a
    // chunk would show as a second history row or a changed outcome.
    let items: Vec<Value> = ids.iter().flat_map(|id| [approve(*id), decline(*id)]).collect();
    let job = client.submit(ADVERTISER, &Value::Array(items)).await;
    let chunks: i32 = sqlx::query_scalar("SELECT chunk_count FROM jobs WHERE id = $1")
        .bind(job.parse::<Uuid>().unwrap())
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(chunks, 20);

    // Replace the api's messages by two copies of each, side by side, so that the two
    // copies of a chunk are delivered at the same time and race for it.
    let topology = Topology::new(&stack.name, DEFAULT_DELIVERY_LIMIT);
    let connection = broker::connect(&stack.amqp_url, 3).await.expect("RabbitMQ");
    let channel = broker::publisher_channel(&connection, &topology).await.expect("a channel");
    let mut tasks = take_all(&channel, &topology.work_queue, chunks as usize).await;
    tasks.sort_by_key(|QueueTask::ApplyChunk { chunk_no, .. }| *chunk_no);
    let expected: Vec<QueueTask> = (0..chunks)
        .map(|chunk_no| QueueTask::ApplyChunk {
            advertiser_id: AdvertiserId(ADVERTISER),
            job_id: job.parse().unwrap(),
            chunk_no,
        })
        .collect();
    assert_eq!(tasks, expected, "the api published each chunk once");
    let queue = topology.work_queue.as_str();
    let twice: Vec<(&str, QueueTask)> = tasks.iter().flat_map(|t| [(queue, t.clone()), (queue, t.clone())]).collect();
    broker::publish_confirmed(&channel, &twice).await.expect("published");
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;

    // Once the job is done, every chunk once more.
    let once: Vec<(&str, QueueTask)> = tasks.iter().map(|t| (queue, t.clone())).collect();
    broker::publish_confirmed(&channel, &once).await.expect("published");
    let n = chunks as usize;
    eventually("every duplicate to be acknowledged", FINISH, || async {
        (worker_logs(&stack).matches("already applied").count() >= 2 * n).then_some(())
    })
    .await;
    let logs = worker_logs(&stack);
    assert_eq!(logs.matches("already applied").count(), 2 * n, "{logs}");
    assert_eq!(logs.matches("chunk applied items=").count(), n, "each chunk applied once:\n{logs}");

    let done_again = finished(&client, &job).await;
    assert_eq!(done_again.body, done.body, "the late duplicates changed nothing");
    assert_codes(&done, |i| if i % 2 == 0 { OK } else { UNPROCESSABLE });
    assert_eq!(assert_exactly_once(&stack, &done).await, 1000);
    let _ = connection.close(200, "test done").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_jobs_on_the_same_transactions_serialize() {
    // 3 workers taking 8 chunks each at once hold all 20 chunks of the two jobs together.
    let stack =
        Stack::builder().workers(3).env("RATIFY_CHUNK_SIZE", 100).env("RATIFY_WORKER_CONCURRENCY", 8).start().await;
    let (client, ids) = setup(&stack, 1000).await;
    // A approves in id order, B declines in reverse order: every chunk of A shares its
    // transactions with a chunk of B. The test locks the transactions first, so that all
    // chunks of both jobs stand together at the gate (having read the pending states) and
    // race when it opens.
    let gate = gate_transactions(&stack, &ids).await;
    let reversed: Vec<i64> = ids.iter().rev().copied().collect();
    let submitting = tokio::spawn({
        let (client, approvals, declines) = (client.clone(), batch(&ids, approve), batch(&reversed, decline));
        async move {
            let (a, b) = tokio::join!(client.submit(ADVERTISER, &approvals), client.submit(ADVERTISER, &declines));
            (a, b)
        }
    });
    at_gate(&stack, 20).await;
    gate.commit().await.expect("opening the gate");
    let (a, b) = submitting.await.expect("both jobs accepted");
    let a = finished(&client, &a).await;
    let b = finished(&client, &b).await;
    let a_ok = assert_exactly_once(&stack, &a).await;
    let b_ok = assert_exactly_once(&stack, &b).await;
    assert_eq!(a_ok + b_ok, ids.len(), "exactly one of the two actions applies to each transaction");

    let n = ids.len();
    let final_status: std::collections::HashMap<i64, String> =
        sqlx::query_as("SELECT id, commission_status FROM transactions WHERE advertiser_id = $1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for (t, id) in ids.iter().enumerate() {
        let codes = (a.code(t), b.code(n - 1 - t));
        let want = match codes {
            (OK, UNPROCESSABLE) => "approved",
            (UNPROCESSABLE, OK) => "declined",
            other => panic!("transaction {id}: approve and decline gave {other:?}"),
        };
        assert_eq!(final_status[id], want, "transaction {id}: {codes:?}");
    }
    let history: Vec<(i64, i64)> =
        sqlx::query_as("SELECT transaction_id, count(*) FROM transaction_history WHERE advertiser_id = $1 GROUP BY 1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .unwrap();
    assert_eq!(history.len(), n);
    assert!(history.iter().all(|(_, rows)| *rows == 1), "one history row per transaction");
    eprintln!("approve won {a_ok}, decline won {b_ok} of {n}");
}
