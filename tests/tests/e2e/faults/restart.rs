//! RabbitMQ and Postgres restarted (and Postgres crashed) while workers hold chunks
//! mid-transaction, each on private servers.

use ratify_tests::servers::Servers;

use super::*;

/// A job held at its gate: private servers, a stack on them (chunks of 100, workers
/// started after the gate closed), 6,000 pending transactions, and job `a` approving the
/// first `approvals` with both workers' 4 chunks each stopped mid-transaction.
struct Held {
    servers: Servers,
    stack: Stack,
    client: Client,
    ids: Vec<i64>,
    a: String,
    gate: Gate,
}

async fn hold_mid_job(name: &str, approvals: usize) -> Held {
    let servers = Servers::start(name).await;
    let mut stack = Stack::builder()
        .servers(&servers.database_admin_url, &servers.amqp_url)
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 100)
        .start()
        .await;
    let (client, ids) = setup(&stack, 6000).await;
    let a = client.submit(ADVERTISER, &batch(&ids[..approvals], approve)).await;
    let gate = gate_chunks(&stack).await;
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    at_gate(&stack, 8).await;
    Held { servers, stack, client, ids, a, gate }
}

/// The advertiser's transactions counted by commission status.
async fn by_status(stack: &Stack) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT commission_status, count(*) FROM transactions WHERE advertiser_id = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .expect("counting by status")
}

#[tokio::test(flavor = "multi_thread")]
async fn rabbitmq_restart_mid_job_loses_nothing_and_batches_are_taken_while_it_is_down() {
    let Held { servers, stack, client, ids, a, gate } = hold_mid_job("rabbitmq-restart", 4000).await;

    // The broker goes away while both workers hold 4 chunks each mid-transaction; those
    // commit once the gate opens, but their acks cannot reach the broker.
    servers.stop_rabbitmq().await;
    gate.commit().await.expect("opening the gate");
    // The api still takes batches: they are durable in Postgres and wait in the outbox.
    let b = client.submit(ADVERTISER, &batch(&ids[4000..5000], decline)).await;
    let c = client.submit(ADVERTISER, &batch(&ids[5000..], amend)).await;
    for job in [&b, &c] {
        let unpublished: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM job_chunks WHERE job_id = $1 AND published_at IS NULL AND done_at IS NULL",
        )
        .bind(job.parse::<Uuid>().unwrap())
        .fetch_one(&stack.db)
        .await
        .unwrap();
        assert_eq!(unpublished, 10, "job {job}: its chunks wait for the relay");
    }
    // Still ready, since batches are still taken; the body says what is degraded.
    let (status, body) = stack.client("").get("/ready").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["rabbitmq"], "down", "{body}");
    assert!(body["degraded"][0].as_str().is_some_and(|d| d.contains("outbox")), "{body}");
    let metrics =
        reqwest::get(format!("{}/metrics", stack.base_url)).await.expect("scrape").text().await.expect("text");
    assert!(metrics.lines().any(|l| l == "ratify_queue_depth_stale 1"), "the depths read as stale: {metrics}");
    // The 8 chunks in flight commit; nothing more can start while the broker is down.
    eventually("the chunks in flight to commit", FINISH, || async {
        progress(&client, &a).await.filter(|(processed, _)| *processed >= 800)
    })
    .await;
    assert_eq!(progress(&client, &a).await.expect("job A").0, 800);
    // Let the workers and the relays meet the outage (reconnect loops, failed publishes)
    // before the broker comes back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    servers.start_rabbitmq().await;

    let job_a = finished(&client, &a).await;
    let job_b = finished(&client, &b).await;
    let job_c = finished(&client, &c).await;
    for job in [&job_a, &job_b, &job_c] {
        assert_codes(job, |_| OK);
        assert_eq!(assert_exactly_once(&stack, job).await, job.items().len());
    }
    let counts = by_status(&stack).await;
    assert_eq!(
        counts,
        vec![("approved".to_owned(), 4000), ("declined".to_owned(), 1000), ("pending".to_owned(), 1000)]
    );
    let amended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE advertiser_id = $1 AND amended AND sale_amount = 8000",
    )
    .bind(ADVERTISER)
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!(amended, 1000);
    // The chunks whose acks were lost came back after the restart and changed nothing.
    let logs = worker_logs(&stack);
    assert_eq!(logs.matches("already applied").count(), 8, "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_and_crash_mid_job_lose_and_double_nothing() {
    let Held { servers, stack, client, ids, a, gate } = hold_mid_job("postgres-restart", 3000).await;

    // A clean restart (fast shutdown) while both workers hold 4 chunks each
    // mid-transaction: every connection, the gate's too, is cut at once.
    servers.stop_postgres().await;
    drop(gate);
    let path = format!("/advertisers/{ADVERTISER}/transactions/batch");
    let (status, body) = client.post(&path, &batch(&ids[3000..], decline)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no job can be accepted without Postgres: {body}");
    // Keep it down a little: the workers retry their chunks against a closed port.
    tokio::time::sleep(Duration::from_secs(2)).await;
    servers.start_postgres().await;

    // Then a crash (immediate shutdown: no checkpoint, recovery from the WAL on start)
    // while job B's chunks wait for its transactions, locked by the test. The api may
    // itself still be answering the batch: its outbox mark waits for the chunk rows the
    // workers hold.
    let gate = gate_transactions(&stack, &ids[3000..]).await;
    let submitting = tokio::spawn({
        let (client, items) = (client.clone(), batch(&ids[3000..], decline));
        async move { client.post(&format!("/advertisers/{ADVERTISER}/transactions/batch"), &items).await }
    });
    at_gate(&stack, 8).await;
    servers.crash_postgres().await;
    drop(gate);
    let (status, body) = submitting.await.expect("the answer");
    // The job was committed (its chunks were being applied): the answer must say so.
    assert_eq!(status, StatusCode::OK, "{body}");
    let b = body["jobId"].as_str().expect("jobId").to_owned();
    tokio::time::sleep(Duration::from_secs(1)).await;
    servers.start_postgres().await;

    let job_a = finished(&client, &a).await;
    let job_b = finished(&client, &b).await;
    for job in [&job_a, &job_b] {
        assert_codes(job, |_| OK);
        assert_eq!(assert_exactly_once(&stack, job).await, 3000);
    }
    // The refused batch left nothing behind: two jobs, 6000 outcomes in all.
    let (jobs, outcomes): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM job_outcomes)")
            .fetch_one(&stack.db)
            .await
            .unwrap();
    assert_eq!((jobs, outcomes), (2, 6000));
    let counts = by_status(&stack).await;
    assert_eq!(counts, vec![("approved".to_owned(), 3000), ("declined".to_owned(), 3000)]);
}
