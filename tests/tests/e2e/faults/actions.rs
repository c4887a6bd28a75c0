//! Races of the routes beyond the batch: one action now against a batch job on the same
//! transactions (no lost update; the two outcomes agree with one serial order), and a
//! cancel against the chunks in flight (one outcome per item).

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn actions_racing_a_batch_on_the_same_transactions_serialize() {
    let stack = Stack::builder().workers(1).start().await;
    let (client, ids) = setup(&stack, 120).await;
    // The batch approves every transaction; one action each declines them. The test
    // locks the transactions first, so the batch's chunk and the actions stand together
    // at the gate, having read the pending states, and race when it opens.
    let gate = gate_transactions(&stack, &ids).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let actions = tokio::spawn({
        let (client, ids) = (client.clone(), ids.clone());
        async move {
            let each = ids.iter().map(|id| {
                let client = client.clone();
                let path = format!("/advertisers/{ADVERTISER}/transactions/{id}/actions");
                async move { client.post(&path, &json!({"action": "decline", "declineReason": "order returned"})).await }
            });
            futures::future::join_all(each).await
        }
    });
    at_gate(&stack, 2).await;
    gate.commit().await.expect("opening the gate");
    let answers = actions.await.expect("the actions");
    let job = finished(&client, &job).await;
    let batch_ok = assert_exactly_once(&stack, &job).await;

    let statuses: std::collections::HashMap<i64, String> =
        sqlx::query_as("SELECT id, commission_status FROM transactions WHERE advertiser_id = $1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .expect("the transactions")
            .into_iter()
            .collect();
    let mut action_ok = 0;
    for (t, (id, (status, body))) in ids.iter().zip(&answers).enumerate() {
        let want = match (job.code(t), status.as_u16()) {
            (OK, 422) => "approved",
            (UNPROCESSABLE, 200) => {
                action_ok += 1;
                assert_eq!(body["commissionStatus"], "declined", "{body}");
                "declined"
            }
            other => panic!("transaction {id}: the batch's approve and the action's decline gave {other:?}: {body}"),
        };
        assert_eq!(statuses[id], want, "transaction {id}");
    }
    let history: Vec<(i64, i64)> =
        sqlx::query_as("SELECT transaction_id, count(*) FROM transaction_history WHERE advertiser_id = $1 GROUP BY 1")
            .bind(ADVERTISER)
            .fetch_all(&stack.db)
            .await
            .expect("the history");
    assert_eq!(history.len(), ids.len());
    assert!(history.iter().all(|(_, rows)| *rows == 1), "one change per transaction: {history:?}");
    assert_eq!(batch_ok + action_ok, ids.len());
    eprintln!("the batch won {batch_ok}, the actions won {action_ok} of {}", ids.len());
}

/// A cancel arriving while a worker holds chunks mid-transaction waits for them, then ends
/// the rest: every item has exactly one outcome, each chunk all applied or all cancelled.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_racing_the_chunks_in_flight_leaves_one_outcome_per_item() {
    let stack = Stack::builder().workers(1).env("RATIFY_CHUNK_SIZE", 100).start().await;
    let (client, ids) = setup(&stack, 1000).await;
    let gate = gate_chunks(&stack).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let held = at_gate(&stack, 4).await;
    let cancelling = tokio::spawn({
        let (client, path) = (client.clone(), format!("{}/cancel", job_path(&job)));
        async move { client.post(&path, &json!(null)).await }
    });
    // The cancel waits for a chunk row that a chunk at the gate holds.
    at_gate(&stack, held + 1).await;
    gate.commit().await.expect("opening the gate");
    let (status, body) = cancelling.await.expect("the cancel");
    let done = finished(&client, &job).await;
    let applied = assert_exactly_once(&stack, &done).await;
    let chunks: Vec<&str> = (0..10)
        .map(|c| {
            let code = done.code(c * 100);
            assert!((c * 100..c * 100 + 100).all(|i| done.code(i) == code), "chunk {c} is all {code}");
            code
        })
        .collect();
    let cancelled = chunks.iter().filter(|c| **c == "[409 CANCELLED]").count();
    assert_eq!(applied + cancelled * 100, 1000, "{chunks:?}");
    assert!(applied >= 400, "the chunks held at the gate were applied: {chunks:?}");
    match status {
        StatusCode::OK => {
            assert_eq!(body["cancelled"], true, "{body}");
            assert_eq!(done.body["cancelled"], true);
            assert!(cancelled > 0, "{chunks:?}");
        }
        // The worker applied every chunk before the cancel got to them.
        StatusCode::CONFLICT => assert_eq!((body["error"].clone(), cancelled), (json!("JOB_DONE"), 0), "{body}"),
        other => panic!("the cancel answered {other}: {body}"),
    }
    eprintln!("the cancel answered {status}: {cancelled} of 10 chunks cancelled");
}
