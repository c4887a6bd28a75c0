//! Workers killed (SIGKILL) or stopped (SIGTERM) while they hold chunks mid-transaction.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn workers_killed_mid_job_lose_and_double_nothing() {
    let mut stack = Stack::builder().workers(0).env("RATIFY_CHUNK_SIZE", 200).start().await;
    let (client, ids) = setup(&stack, 5000).await;
    let (items, codes) = four_per_transaction(&ids);
    let total = codes.len() as i64;
    let job = client.submit(ADVERTISER, &items).await;
    let mut gate = gate_chunks(&stack).await;
    for _ in 0..3 {
        stack.add_worker().expect("a worker");
    }

    // Three times: once the oldest worker holds 4 chunks (its prefetch) stopped
    // mid-transaction at the gate, kill -9 it and start a fresh one in its place; then
    // let some chunks through and check the job moved. A killed worker's Postgres
    // sessions stay at the gate until it opens, then roll back (their client is gone):
    // the chunks they hold are redelivered and wait for those chunk locks.
    let mut alive: Vec<usize> = vec![0, 1, 2];
    for round in 1..=3 {
        let victim = alive.remove(0);
        let pid = stack.worker_pids()[victim];
        eventually("the worker to hold 4 chunks at the gate", FINISH, || async {
            (held_by(&stack, pid).await == 4).then_some(())
        })
        .await;
        let (processed, done) = progress(&client, &job).await.expect("the job");
        assert!(!done && processed < total, "round {round}: {processed}/{total}");
        let status = stack.signal_worker(victim, "KILL").expect("kill -9");
        assert!(!status.success(), "a killed worker does not exit cleanly: {status}");
        stack.add_worker().expect("a new worker");
        alive.push(stack.worker_pids().len() - 1);
        gate = let_through(&stack, &client, &job, gate, processed).await;
    }
    gate.commit().await.expect("opening the gate");

    let job = finished(&client, &job).await;
    assert_codes(&job, |i| codes[i]);
    assert_eq!(assert_exactly_once(&stack, &job).await, 7500);
    // The killed workers' chunks never committed: each of the 100 chunks committed once.
    assert_eq!(worker_logs(&stack).matches("chunk applied items=").count(), 100);

    // Every transaction ends as its four items say, whichever worker applied them.
    let rows: Vec<(i64, String, bool, i64, i64, bool)> = sqlx::query_as(
        "SELECT id, commission_status, amended, sale_amount, commission_amount, validation_date IS NOT NULL
         FROM transactions WHERE advertiser_id = $1",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), ids.len());
    for (id, status, amended, sale, commission, validated) in rows {
        let t = ids.iter().position(|x| *x == id).expect("a recorded id");
        let want = if t % 2 == 0 {
            ("approved".to_owned(), true, 8000, 800, true)
        } else {
            ("declined".to_owned(), false, 10000, 1000, true)
        };
        assert_eq!((status, amended, sale, commission, validated), want, "transaction {id} (#{t})");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_job_stops_a_worker_cleanly_and_another_finishes() {
    let drain = Duration::from_secs(10);
    let mut stack = Stack::builder()
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 100)
        .env("RATIFY_DRAIN_SECONDS", drain.as_secs())
        .start()
        .await;
    let (client, ids) = setup(&stack, 6000).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let gate = gate_chunks(&stack).await;
    stack.add_worker().expect("a worker");
    stack.add_worker().expect("a worker");
    at_gate(&stack, 8).await;

    // SIGTERM while the worker holds 4 chunks mid-transaction, unable to finish them.
    let pid = stack.worker_pids()[0];
    eventually("the worker to hold 4 chunks at the gate", FINISH, || async {
        (held_by(&stack, pid).await == 4).then_some(())
    })
    .await;
    let start = Instant::now();
    let status = stack.signal_worker(0, "TERM").expect("SIGTERM");
    let took = start.elapsed();
    assert!(status.success(), "a worker stops cleanly on SIGTERM: {status}");
    assert!(took < drain + Duration::from_secs(5), "it took {took:?} (drain time {drain:?})");
    eprintln!("the worker stopped {took:?} after SIGTERM");
    let log = worker_log(&stack, 1);
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    assert_eq!(log.matches("chunk applied items=").count(), 0, "{log}");
    let (at_stop, done) = progress(&client, &job).await.expect("the job");
    assert!(!done && at_stop == 0, "the job is held at the gate ({at_stop})");
    gate.commit().await.expect("opening the gate");

    let done = finished(&client, &job).await;
    assert_codes(&done, |_| OK);
    assert_eq!(assert_exactly_once(&stack, &done).await, 6000);
    let other = worker_log(&stack, 2);
    assert_eq!(other.matches("chunk applied items=").count(), 60, "the other worker applied every chunk");
    assert!(other.contains("job_done=true"), "the other worker finished the job");
}
