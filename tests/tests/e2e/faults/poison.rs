//! Poison: items whose own processing fails every time. Each fails alone, as `[500]`,
//! and every other item of its chunk is applied as usual; a chunk that cannot be applied
//! at all is given up, keeping the outcomes decided at submit. Every job reaches DONE.
//!
//! The failures are made deterministic with a trigger or corrupt data the test adds to
//! its own database.

use super::*;

/// Chunk size, retries and delivery limit that make a poison quick to find.
fn poison_stack() -> ratify_tests::StackBuilder {
    Stack::builder()
        .workers(0)
        .env("RATIFY_CHUNK_SIZE", 10)
        .env("RATIFY_CHUNK_RETRIES", 1)
        .env("RATIFY_DELIVERY_LIMIT", 2)
}

/// The chunk number and item indexes of the chunk that holds `transaction`.
async fn chunk_of(stack: &Stack, job: &str, transaction: i64) -> (i32, Vec<i32>) {
    let job_uuid: Uuid = job.parse().unwrap();
    let chunk: i32 = sqlx::query_scalar(
        "SELECT c.chunk_no FROM job_chunks c, json_array_elements(c.items::json) e
         WHERE c.job_id = $1 AND (e -> 'plan' ->> 'transaction_id')::bigint = $2",
    )
    .bind(job_uuid)
    .bind(transaction)
    .fetch_one(&stack.db)
    .await
    .expect("the chunk of the transaction");
    let indexes = sqlx::query_scalar(
        "SELECT (e ->> 'index')::int FROM job_chunks c, json_array_elements(c.items::json) e
         WHERE c.job_id = $1 AND c.chunk_no = $2 ORDER BY 1",
    )
    .bind(job_uuid)
    .bind(chunk)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    (chunk, indexes)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_whose_state_cannot_be_read_fails_only_its_items() {
    let mut stack = poison_stack().start().await;
    let (client, ids) = setup(&stack, 30).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    let poisoned = ids[15];
    let (_, in_chunk) = chunk_of(&stack, &job, poisoned).await;
    assert!(in_chunk.contains(&15) && in_chunk.len() > 1, "{in_chunk:?}");
    // A commission status the worker cannot read: applying the chunk fails every time,
    // and not for a reason retrying cures.
    sqlx::query("ALTER TABLE transactions DROP CONSTRAINT transactions_commission_status_check")
        .execute(&stack.db)
        .await
        .unwrap();
    sqlx::query("UPDATE transactions SET commission_status = 'bogus' WHERE advertiser_id = $1 AND id = $2")
        .bind(ADVERTISER)
        .bind(poisoned)
        .execute(&stack.db)
        .await
        .unwrap();

    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;
    assert_codes(&done, |i| if i == 15 { INTERNAL } else { OK });
    let description = done.item(15)["description"].as_str().unwrap_or_default();
    assert!(description.contains("cannot be read"), "{}", done.item(15));
    assert_eq!(done.body["errorCount"], json!(1));
    assert_eq!(assert_exactly_once(&stack, &done).await, 29);
    let status: String = sqlx::query_scalar("SELECT commission_status FROM transactions WHERE id = $1")
        .bind(poisoned)
        .fetch_one(&stack.db)
        .await
        .unwrap();
    assert_eq!(status, "bogus", "the unreadable transaction is left as it was");
    let logs = worker_logs(&stack);
    assert!(logs.contains("chunk failed; retrying it item by item"), "{logs}");
    assert!(!logs.contains("stack backtrace"), "errors log one line:\n{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_refused_at_write_time_is_its_own_500_and_the_rest_is_applied() {
    let mut stack = poison_stack().start().await;
    let (client, ids) = setup(&stack, 8).await;
    // Postgres refuses one specific write: a decline with the reason "poison".
    sqlx::query(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.decline_reason = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF;
           RETURN NEW;
         END $$",
    )
    .execute(&stack.db)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_poison BEFORE UPDATE ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    )
    .execute(&stack.db)
    .await
    .unwrap();
    let poison = json!({"action": "decline", "transaction": {"transactionId": ids[3], "declineReason": "poison"}});
    // Items 0–7 decline or approve each transaction; item 3 is refused; item 8 then
    // approves the same transaction, from the state item 3 left untouched.
    let mut items: Vec<Value> =
        ids.iter().map(|id| if *id == ids[3] { poison.clone() } else { decline(*id) }).collect();
    items.push(approve(ids[3]));
    let job = client.submit(ADVERTISER, &Value::Array(items)).await;

    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;
    assert_codes(&done, |i| if i == 3 { INTERNAL } else { OK });
    assert!(done.item(3)["description"].as_str().unwrap_or_default().contains("could not be stored"));
    assert_eq!(assert_exactly_once(&stack, &done).await, 8);
    let states: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, commission_status, decline_reason FROM transactions WHERE advertiser_id = $1 ORDER BY id",
    )
    .bind(ADVERTISER)
    .fetch_all(&stack.db)
    .await
    .unwrap();
    for (id, status, reason) in states {
        if id == ids[3] {
            assert_eq!((status.as_str(), reason), ("approved", None), "transaction {id}");
        } else {
            assert_eq!((status.as_str(), reason.as_deref()), ("declined", Some("order returned")), "transaction {id}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_given_up_chunk_keeps_the_codes_decided_at_submit() {
    let mut stack = poison_stack().env("RATIFY_CHUNK_SIZE", 100).start().await;
    let (client, ids) = setup(&stack, 4).await;
    // Postgres refuses every chunk whose outcomes hold a `[200 OK]`: applying cannot succeed,
    // item by item or not, so the chunk is dead-lettered and given up.
    sqlx::query(
        "CREATE FUNCTION refuse_ok() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.outcomes LIKE '%\"code\":200%' THEN RAISE EXCEPTION 'no 200 today'; END IF;
           RETURN NEW;
         END $$",
    )
    .execute(&stack.db)
    .await
    .unwrap();
    sqlx::query("CREATE TRIGGER refuse_ok BEFORE UPDATE ON job_chunks FOR EACH ROW EXECUTE FUNCTION refuse_ok()")
        .execute(&stack.db)
        .await
        .unwrap();
    let items = json!([
        approve(ids[0]),
        {"action": "approve", "transaction": {"orderRef": "no-such-order", "transactionDate": "2026-11-14T10:15:00",
                                              "timezone": "Europe/Paris"}},
        {"action": "approve"},
        approve(ids[1]),
    ]);
    let job = client.submit(ADVERTISER, &items).await;

    stack.add_worker().expect("a worker");
    let done = finished(&client, &job).await;
    let codes: Vec<&str> = done.items().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [INTERNAL, "[404 NOT_FOUND]", "[400 BAD_REQUEST]", INTERNAL], "{:?}", done.body);
    assert!(done.item(0)["description"].as_str().unwrap_or_default().contains("given up"));
    assert_eq!(done.item(1)["orderRef"], "no-such-order", "a given-up chunk keeps the echo");
    assert_eq!(assert_exactly_once(&stack, &done).await, 0);
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE advertiser_id = $1 AND commission_status = 'pending'",
    )
    .bind(ADVERTISER)
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert_eq!(pending, 4, "nothing of a given-up chunk is applied");
    let logs = worker_logs(&stack);
    assert!(logs.contains("lane=Dead"), "the dead-letter consumer gave the chunk up:\n{logs}");
}
