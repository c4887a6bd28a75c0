//! The cluster override's scenario (deploy/docker-compose.cluster.yml over the base file):
//! the three RabbitMQ nodes form one cluster whose work queues have all three as members,
//! and the replica streams from the primary. Mid-job, the node leading the chunk queue is
//! killed; a survivor takes the lead, the api and the workers move to the survivors and
//! the job ends DONE with every item applied once. While it runs on two nodes, new
//! transactions and jobs are read back through the api at once: never a 404, whatever
//! the replica has replayed. At the end the replica holds the finished job and its
//! history, the api's metrics show reads it served, and the killed node, started again,
//! rejoins the cluster.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use ratify_tests::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::stack::{docker, until, Stack, Timeline};
use crate::{up, BigJob};

/// The RabbitMQ services; each node is rabbit@<service> (the hostname is the service's name).
const NODES: [&str; 3] = ["rabbitmq", "rabbitmq-2", "rabbitmq-3"];
const REPLICA: &str = "postgres-replica";
/// The advertiser of the read-your-writes rounds, apart from the large job's.
const READER: i64 = 7002;
const ROUNDS: usize = 20;

pub async fn scenario(stack: &Stack<'_>, timeline: &Timeline) -> anyhow::Result<()> {
    let args = stack.args;
    up(stack, timeline, args.workers).await?;
    let prefix = std::env::var("RATIFY_QUEUE_PREFIX").unwrap_or_else(|_| "ratify".to_owned());
    let chunks = format!("{prefix}.chunks");
    cluster_formed(stack, &prefix)?;
    replica_streaming(stack)?;
    timeline.mark("one cluster of three nodes, work queues on all three; the replica streams from the primary");

    // The leader is found before the job runs (it stays put while its node lives), so
    // that the kill follows the job's first progress at once.
    let stopped = leader(stack, &chunks, &NODES)?.with_context(|| format!("no node names a leader of {chunks}"))?;
    let container = stack.compose(&["ps", "-q", &stopped])?;
    let job = BigJob::submit(args, timeline).await?;
    let processed = job.in_progress().await?;
    // SIGKILL, not a clean stop: gone at once, so surely mid-job, and without handing
    // its queues' lead over first, the harder case.
    docker(&["kill", container.trim()])?;
    let after = until("the job's summary", Duration::from_secs(60), || job.summary()).await?;
    ensure!(after["status"] != "DONE", "the job was DONE when {stopped} died; give it more items");
    timeline.mark(format!(
        "docker kill {stopped} (SIGKILL; it led {chunks}) at {processed} of {} items, {} once it was gone",
        job.ids.len(),
        after["processedCount"]
    ));
    let survivors: Vec<&str> = NODES.into_iter().filter(|n| *n != stopped).collect();
    let successor = until("a survivor to lead the chunk queue", Duration::from_secs(60), || async {
        Ok(leader(stack, &chunks, &survivors)?.filter(|l| *l != stopped))
    })
    .await?;
    timeline.mark(format!("{successor} leads {chunks}"));

    read_your_writes(&args.api, &args.admin_token).await?;
    timeline.mark(format!(
        "read-your-writes on two nodes: {ROUNDS} transactions and {ROUNDS} jobs each read back at once, no 404"
    ));

    job.done(timeline).await?;
    job.applied_once(stack, timeline).await?;

    let n = job.ids.len();
    let history = job.history_query();
    let status = format!("SELECT status FROM jobs WHERE id = '{}'", job.id);
    until("the replica to hold the finished job", Duration::from_secs(120), || async {
        let done = stack.sql_on(REPLICA, &status)? == "DONE" && stack.sql_on(REPLICA, &history)? == format!("{n} {n}");
        Ok(done.then_some(()))
    })
    .await?;
    let served = replica_reads(&args.api).await?;
    ensure!(served > 0.0, "the api served no read from the replica (DATABASE_READ_URL unused?)");
    timeline
        .mark(format!("the replica holds the job DONE and its {n} approvals; it served {served} of the api's reads"));

    // The killed node comes back into its cluster from its volume.
    stack.compose(&["start", &stopped])?;
    until("the killed node to rejoin", Duration::from_secs(120), || async {
        Ok((running_nodes(stack, survivors[0])?.len() == NODES.len()).then_some(()))
    })
    .await?;
    timeline.mark(format!("compose start {stopped}: three nodes running again"));
    Ok(())
}

/// `rabbitmq-diagnostics` or `rabbitmqctl` on `service`'s node; stdout only (the CLI
/// warns about the cookie's variable on stderr).
fn rabbit(stack: &Stack<'_>, service: &str, args: &[&str]) -> anyhow::Result<String> {
    let mut words = vec!["exec", "-T", service];
    words.extend_from_slice(args);
    stack.compose(&words)
}

/// Every node runs in node 1's cluster, and every work queue (`prefix.*`) has the three
/// as members: they were declared after the cluster formed.
fn cluster_formed(stack: &Stack<'_>, prefix: &str) -> anyhow::Result<()> {
    let want: BTreeSet<String> = NODES.iter().map(|n| format!("rabbit@{n}")).collect();
    let running = running_nodes(stack, NODES[0])?;
    ensure!(running == want, "running nodes {running:?}, want {want:?}");
    let queues =
        rabbit(stack, NODES[0], &["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "members"])?;
    let mut work_queues = 0;
    for line in queues.lines().filter(|l| l.starts_with(&format!("{prefix}."))) {
        let (name, members) = line.split_once(char::is_whitespace).context("a queue line")?;
        let members: BTreeSet<String> = members
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        ensure!(members == want, "queue {name} has members {members:?}, want all three nodes");
        work_queues += 1;
    }
    ensure!(work_queues >= 3, "{work_queues} queues named {prefix}.*, want the chunk, express and dead-letter queues");
    Ok(())
}

/// The nodes running in the cluster, as `service`'s node sees it.
fn running_nodes(stack: &Stack<'_>, service: &str) -> anyhow::Result<BTreeSet<String>> {
    let status = rabbit(stack, service, &["rabbitmq-diagnostics", "-q", "cluster_status", "--formatter", "json"])?;
    let json = status.find('{').map(|i| &status[i..]).context("cluster_status printed no JSON")?;
    let status: Value = serde_json::from_str(json.trim()).context("cluster_status JSON")?;
    Ok(status["running_nodes"]
        .as_array()
        .context("cluster_status has running_nodes")?
        .iter()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect())
}

/// The replica is a standby (in recovery) fed by the primary's WAL sender.
fn replica_streaming(stack: &Stack<'_>) -> anyhow::Result<()> {
    ensure!(stack.sql_on(REPLICA, "SELECT pg_is_in_recovery()")? == "t", "{REPLICA} is not in recovery");
    ensure!(stack.sql("SELECT pg_is_in_recovery()")? == "f", "the primary is in recovery");
    let senders = stack.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")?;
    ensure!(senders == "1", "{senders} WAL senders streaming on the primary, want 1");
    Ok(())
}

/// The service among `candidates` whose node leads `queue`, as the first of them that
/// answers says; None when none names one of NODES.
fn leader(stack: &Stack<'_>, queue: &str, candidates: &[&str]) -> anyhow::Result<Option<String>> {
    let mut last = None;
    for service in candidates {
        let listed =
            match rabbit(stack, service, &["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "leader"])
            {
                Ok(listed) => listed,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
        let node = listed.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(queue)).then(|| words.next().unwrap_or_default().to_owned())
        });
        let service = node.as_deref().and_then(|n| n.strip_prefix("rabbit@"));
        return Ok(service.filter(|s| NODES.contains(s)).map(str::to_owned));
    }
    match last {
        Some(e) => Err(e.context("no node answered list_queues")),
        None => Ok(None),
    }
}

/// A GET answered with anything but 429 (the token's rate limit, waited out).
async fn get_once_allowed(client: &Client, path: &str) -> (StatusCode, Value) {
    loop {
        let (status, body) = client.get(path).await;
        if status != StatusCode::TOO_MANY_REQUESTS {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// ROUNDS times, for an advertiser of its own: a transaction recorded and looked up at
/// once, then a job approving it submitted and polled at once. Both must be found (200):
/// the api reads from the replica only what the replica has replayed of its own writes.
async fn read_your_writes(api: &str, admin_token: &str) -> anyhow::Result<()> {
    let admin = Client::new(api, admin_token);
    admin.create_advertiser(READER, "EUR", &[]).await;
    let client = Client::new(api, &admin.create_token(&[READER]).await);
    for round in 0..ROUNDS {
        let ids = client.record_simple(READER, "EUR", &format!("ryw-{round}"), 1).await;
        let id = *ids.first().context("recorded no transaction")?;
        let path = format!("/advertisers/{READER}/transactions/{id}");
        let (status, body) = get_once_allowed(&client, &path).await;
        if status != StatusCode::OK {
            bail!("round {round}: {path} answered {status} at once after it was recorded: {body}");
        }
        let items = json!([{"action": "approve", "transaction": {"transactionId": id}}]);
        let job = client.submit(READER, &items).await;
        let path = format!("/advertisers/{READER}/transactions/jobs/{job}");
        let (status, body) = get_once_allowed(&client, &path).await;
        if status != StatusCode::OK || body["jobId"] != job {
            bail!("round {round}: {path} answered {status} at once after the job was accepted: {body}");
        }
    }
    Ok(())
}

/// The api's `ratify_replica_reads_total{served_by="replica"}`, summed over its reasons.
async fn replica_reads(api: &str) -> anyhow::Result<f64> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let text = http.get(format!("{api}/metrics")).send().await?.error_for_status()?.text().await?;
    let name = ratify_shared::metrics::REPLICA_READS;
    let served = text
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(r#"served_by="replica""#))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    Ok(served)
}
