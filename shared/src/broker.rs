//! The RabbitMQ topology and the two things done with it: publishing tasks with
//! publisher confirms, and opening a consumer channel. The api and the workers must
//! agree on this exactly, which is why it lives here rather than in either binary.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use lapin::options::{
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use crate::message::QueueTask;

/// How many times RabbitMQ delivers a task, by default, before dead-lettering it.
/// Deliveries fail only when a worker dies holding the task or gives it back after
/// exhausting its own retries, so this is generous: a few worker crashes must not
/// dead-letter healthy work.
pub const DEFAULT_DELIVERY_LIMIT: i32 = 10;

/// Queue and exchange names under one prefix.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Chunks of large jobs, in order of acceptance.
    pub work_queue: String,
    /// Chunks of single-chunk jobs: a small job is not stuck behind a large backlog,
    /// because workers consume this queue on channels of its own.
    pub express_queue: String,
    pub dead_exchange: String,
    pub dead_queue: String,
    /// `x-delivery-limit` of the work queue. Every process declaring the queue must use
    /// the same value: RabbitMQ refuses a redeclaration with other arguments.
    pub delivery_limit: i32,
}

impl Topology {
    pub fn new(prefix: &str, delivery_limit: i32) -> Topology {
        Topology {
            delivery_limit,
            work_queue: format!("{prefix}.chunks"),
            express_queue: format!("{prefix}.chunks.express"),
            dead_exchange: format!("{prefix}.dead"),
            dead_queue: format!("{prefix}.chunks.dead"),
        }
    }

    /// Declares everything, idempotently. Both binaries call this on every connect, so
    /// whichever starts first creates the topology.
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        let durable = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
        // The dead-letter path is declared explicitly: without a dead-letter exchange a
        // quorum queue drops a message past its delivery limit.
        channel
            .exchange_declare(
                &self.dead_exchange,
                ExchangeKind::Fanout,
                ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() },
                FieldTable::default(),
            )
            .await?;
        channel.queue_declare(&self.dead_queue, durable, quorum_args(None)).await?;
        channel
            .queue_bind(&self.dead_queue, &self.dead_exchange, "", QueueBindOptions::default(), FieldTable::default())
            .await?;
        for queue in [&self.work_queue, &self.express_queue] {
            let args = quorum_args(Some((&self.dead_exchange, self.delivery_limit)));
            channel.queue_declare(queue, durable, args).await?;
        }
        Ok(())
    }

    /// The queue for a chunk of a job with `chunk_count` chunks.
    pub fn queue_for(&self, chunk_count: i32) -> &str {
        if chunk_count <= 1 {
            &self.express_queue
        } else {
            &self.work_queue
        }
    }
}

/// Quorum queues: replicated when RabbitMQ is a cluster, durable, and they count
/// deliveries, which is what bounds a poison message.
fn quorum_args(dead_letter: Option<(&str, i32)>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from("quorum")));
    if let Some((exchange, limit)) = dead_letter {
        args.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit));
        args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(LongString::from(exchange)));
    }
    args
}

/// The one retry policy for reaching a dependency: jittered exponential backoff from
/// 100 ms up to 5 s between attempts, `attempts` times.
pub fn reconnect_policy(attempts: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(attempts)
        .with_jitter()
}

/// Connects to one node, retrying with backoff up to `attempts` times.
pub async fn connect(url: &str, attempts: usize) -> lapin::Result<Connection> {
    (|| Connection::connect(url, ConnectionProperties::default()))
        .retry(reconnect_policy(attempts))
        .notify(|e, wait| tracing::warn!(error = %e, ?wait, "RabbitMQ unreachable, retrying"))
        .await
}

/// How long one node may take to accept a connection before the next is tried: a node
/// that hangs must not hold its clients away from the healthy ones.
const NODE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The broker's nodes: one, or the members of a cluster. A process holds connections to
/// one node at a time; a connect that fails moves on to the next node, so when a node
/// dies its clients land on the survivors (quorum queues keep their messages and elect a
/// new leader there). Processes begin at different nodes, spreading their connections.
#[derive(Clone)]
pub struct Nodes {
    urls: Arc<[String]>,
    /// Where the next connect begins: the node last connected to.
    next: Arc<AtomicUsize>,
}

impl Nodes {
    /// A comma-separated list of AMQP URLs. The error names the position of a bad URL,
    /// never its text: URLs carry credentials.
    pub fn parse(list: &str) -> Result<Nodes, String> {
        let urls: Vec<String> = list.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
        if urls.is_empty() {
            return Err("lists no URL".to_owned());
        }
        for (i, url) in urls.iter().enumerate() {
            url.parse::<AMQPUri>().map_err(|e| format!("URL {} of {} is not an AMQP URL: {e}", i + 1, urls.len()))?;
        }
        // A random first node (RandomState is seeded randomly per process): process ids
        // of processes started together are too regular to spread them.
        let start = BuildHasher::hash_one(&RandomState::new(), 0u8) as usize % urls.len();
        Ok(Nodes { urls: urls.into(), next: Arc::new(AtomicUsize::new(start)) })
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// Connects to the first node that answers, beginning with the last one connected
    /// to; a round that reaches none is retried with backoff up to `attempts` times.
    pub async fn connect(&self, attempts: usize) -> lapin::Result<Connection> {
        (|| self.connect_round())
            .retry(reconnect_policy(attempts))
            .notify(|e, wait| tracing::warn!(error = %e, ?wait, "no RabbitMQ node reachable, retrying"))
            .await
    }

    async fn connect_round(&self) -> lapin::Result<Connection> {
        let n = self.urls.len();
        let first = self.next.load(Ordering::Relaxed);
        let mut last = None;
        for k in (0..n).map(|i| (first + i) % n) {
            let connecting = Connection::connect(&self.urls[k], ConnectionProperties::default());
            let error = match tokio::time::timeout(NODE_CONNECT_TIMEOUT, connecting).await {
                Ok(Ok(connection)) => {
                    if k != first {
                        tracing::info!(node = %self.address(k), "connected to another RabbitMQ node");
                    }
                    self.next.store(k, Ordering::Relaxed);
                    return Ok(connection);
                }
                Ok(Err(e)) => e,
                Err(_) => lapin::Error::IOError(Arc::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the node did not accept the connection in time",
                ))),
            };
            if n > 1 {
                tracing::warn!(node = %self.address(k), error = %error, "RabbitMQ node unreachable; trying the next");
            }
            last = Some(error);
        }
        Err(last.unwrap_or(lapin::Error::InvalidConnectionState(lapin::ConnectionState::Closed)))
    }

    /// Node `k` as host:port, without credentials.
    fn address(&self, k: usize) -> String {
        match self.urls[k].parse::<AMQPUri>() {
            Ok(uri) => format!("{}:{}", uri.authority.host, uri.authority.port),
            Err(_) => format!("node {}", k + 1),
        }
    }
}

/// Addresses only: the URLs' credentials never reach a log.
impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries((0..self.urls.len()).map(|k| self.address(k))).finish()
    }
}

/// Opens a channel in confirm mode, with the topology declared.
pub async fn publisher_channel(connection: &Connection, topology: &Topology) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    topology.declare(&channel).await?;
    Ok(channel)
}

/// Opens a consuming channel with at most `prefetch` unacknowledged deliveries.
pub async fn consumer_channel(connection: &Connection, topology: &Topology, prefetch: u16) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    topology.declare(&channel).await?;
    channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
    Ok(channel)
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("RabbitMQ refused (nacked) a message")]
    Nacked,
}

/// Publishes each `(queue, task)` as a persistent message and waits until the broker
/// has confirmed every one. Publishes are pipelined; confirms are awaited together.
pub async fn publish_confirmed(channel: &Channel, tasks: &[(&str, QueueTask)]) -> Result<(), PublishError> {
    let properties = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
    let mut confirms = Vec::with_capacity(tasks.len());
    for (queue, task) in tasks {
        let confirm = channel
            .basic_publish("", queue, BasicPublishOptions::default(), &task.to_bytes(), properties.clone())
            .await?;
        confirms.push(confirm);
    }
    for confirm in confirms {
        if !confirm.await?.is_ack() {
            return Err(PublishError::Nacked);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Nodes;

    #[test]
    fn a_list_of_nodes_parses_and_never_shows_its_credentials() {
        let nodes = Nodes::parse(" amqp://u:secret@10.0.0.1:5672/%2f, ,amqp://u:secret@10.0.0.2:5673/%2f").unwrap();
        assert_eq!(nodes.len(), 2);
        let shown = format!("{nodes:?}");
        assert_eq!(shown, r#"["10.0.0.1:5672", "10.0.0.2:5673"]"#);
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn a_bad_list_names_the_position_not_the_url() {
        assert_eq!(Nodes::parse(" , ").unwrap_err(), "lists no URL");
        let error = Nodes::parse("amqp://u:p@h:5672/%2f,http://u:secret@h/").unwrap_err();
        assert!(error.starts_with("URL 2 of 2 is not an AMQP URL"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }
}
