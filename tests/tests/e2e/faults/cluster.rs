//! A RabbitMQ node of a three-node cluster stopped in the middle of a 200,000-item job:
//! the node that leads the chunk queue, with chunks held mid-transaction by the workers
//! (whose acks may then have nowhere to go), and then a second node after the first came
//! back. The api, the relays and the workers know every node (`AMQP_URLS`) and move to
//! the survivors; the quorum queues keep every message. Nothing is lost, nothing applied
//! twice, and the job reaches DONE.

use ratify_tests::servers::Servers;

use super::*;

const ITEMS: usize = 200_000;

/// A cluster, a stack knowing all its nodes (2 workers, chunks of 1,000), 200,000
/// pending transactions (and 2,000 more), and one job approving the 200,000 held at the
/// history gate with both workers' chunks standing there mid-transaction.
struct Held {
    servers: Servers,
    stack: Stack,
    client: Client,
    job: String,
    gate: Gate,
    /// 2,000 more pending transactions, outside the job.
    extra: Vec<i64>,
}

async fn hold_mid_job(name: &str) -> Held {
    let servers = Servers::start_cluster(name).await;
    let stack = Stack::builder()
        .servers(&servers.database_admin_url, &servers.amqp_url)
        .env("AMQP_URLS", &servers.amqp_urls)
        .env("RATIFY_MAX_BATCH_ITEMS", ITEMS)
        .workers(2)
        .start()
        .await;
    let (client, mut ids) = setup(&stack, ITEMS / 2).await;
    ids.extend(client.record_simple(ADVERTISER, "EUR", "more", ITEMS / 2).await);
    let extra = client.record_simple(ADVERTISER, "EUR", "extra", 2000).await;
    let gate = gate_chunks(&stack).await;
    let job = client.submit(ADVERTISER, &batch(&ids, approve)).await;
    at_gate(&stack, 8).await;
    Held { servers, stack, client, job, gate, extra }
}

/// The node leading the large jobs' chunk queue, once it is not `not` (a stopped node
/// the others have not yet replaced).
async fn leader(servers: &Servers, stack: &Stack, not: Option<usize>) -> usize {
    let queue = format!("{}.chunks", stack.name);
    eventually("the chunk queue to have a leader", FINISH, || async {
        servers.rabbitmq_leader(&queue).await.filter(|k| Some(*k) != not)
    })
    .await
}

/// Opens the gate, then closes it again once the job has moved `items` further.
async fn advance(stack: &Stack, client: &Client, job: &str, gate: Gate, items: i64) -> Gate {
    let (processed, _) = progress(client, job).await.expect("the job");
    let_through(stack, client, job, gate, processed + items).await
}

/// Every item applied once, every transaction approved, and some process of the stack
/// moved to another node (so the failover itself was exercised, not only the queue's).
async fn assert_whole(stack: &Stack, client: &Client, job: &str) {
    let job = finished(client, job).await;
    assert_codes(&job, |_| OK);
    assert_eq!(assert_exactly_once(stack, &job).await, ITEMS);
    let approved: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE advertiser_id = $1 AND commission_status = 'approved'",
    )
    .bind(ADVERTISER)
    .fetch_one(&stack.db)
    .await
    .expect("counting approvals");
    assert_eq!(approved, ITEMS as i64);
    let mut logs = worker_logs(stack);
    logs.push_str(&std::fs::read_to_string(stack.log_dir().join("api.log")).unwrap_or_default());
    assert!(logs.contains("connected to another RabbitMQ node"), "no process failed over to another node");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chunk_queues_leader_stopped_mid_job_loses_and_doubles_nothing() {
    let Held { servers, stack, client, job, gate, extra } = hold_mid_job("cluster-leader").await;
    for queue in ["chunks", "chunks.express", "chunks.dead"] {
        let queue = format!("{}.{queue}", stack.name);
        assert_eq!(servers.rabbitmq_members(&queue).await, [1, 2, 3], "{queue} is replicated on every node");
    }
    let first = leader(&servers, &stack, None).await;

    // 8 chunks stand mid-transaction; their acks, once they commit, may find their
    // channel's node gone.
    servers.stop_rabbitmq_node(first).await;
    // A batch taken now: the api's publish meets a dead connection, or a new node, or a
    // queue without a leader yet; whatever it meets, the outbox gets the chunks out.
    let other = client.submit(ADVERTISER, &batch(&extra, decline)).await;
    gate.commit().await.expect("opening the gate");
    // A new leader serves the queue: the job moves on from the two nodes left.
    leader(&servers, &stack, Some(first)).await;

    assert_whole(&stack, &client, &job).await;
    let other = finished(&client, &other).await;
    assert_codes(&other, |_| OK);
    assert_eq!(assert_exactly_once(&stack, &other).await, extra.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_stopped_one_after_the_other_lose_and_double_nothing() {
    let Held { servers, stack, client, job, gate, .. } = hold_mid_job("cluster-two").await;

    // The leader goes while chunks are held; the job moves on without it.
    let first = leader(&servers, &stack, None).await;
    servers.stop_rabbitmq_node(first).await;
    let gate = advance(&stack, &client, &job, gate, 20_000).await;
    // It comes back, and another node goes, again mid-transaction: the leader, unless the
    // returning node won an election again (a busy leader's heartbeats can be late), then a
    // follower.
    servers.start_rabbitmq_node(first).await;
    let second = match leader(&servers, &stack, None).await {
        now if now != first => now,
        _ => (1..=3).find(|&k| k != first).expect("another node"),
    };
    at_gate(&stack, 8).await;
    servers.stop_rabbitmq_node(second).await;
    gate.commit().await.expect("opening the gate");

    assert_whole(&stack, &client, &job).await;
}
