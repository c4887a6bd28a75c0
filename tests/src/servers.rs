//! Private Postgres and RabbitMQ servers for one fault test, started by the project's
//! own script (`deploy/local.sh servers` with `RATIFY_LOCAL_DIR` pointing at a fresh
//! folder under `target/fault-servers/`), so that stopping and restarting them never
//! disturbs the tests that share the common servers.
//!
//! Ports are chosen below the kernel's ephemeral range: while a server is down, clients
//! keep reconnecting to its port, and a port inside the ephemeral range could meanwhile
//! be taken as the local end of one of those connections (even a TCP self-connection),
//! which would keep the server from coming back.

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context};
use rand::Rng;

/// Ports handed out by this process, so that its parallel tests never pick the same one.
/// Tests in other processes (nextest) may: the script then finds the port taken, and
/// [`Servers::start`] tries again with other ports.
static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The lowest port of the kernel's ephemeral range (32768 when unreadable).
fn ephemeral_low() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768)
}

fn bindable(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok() && TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// `n` distinct free ports below the ephemeral range, each checked three times.
fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let high = ephemeral_low().clamp(12_000, 32_768);
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let taken = taken.get_or_insert_with(HashSet::new);
    let mut ports = Vec::with_capacity(n);
    for _ in 0..1000 {
        if ports.len() == n {
            break;
        }
        let port = rand::thread_rng().gen_range(10_000..high);
        if taken.contains(&port) || ports.contains(&port) {
            continue;
        }
        if (0..3).all(|_| bindable(port)) {
            ports.push(port);
        }
    }
    if ports.len() < n {
        bail!("found only {} free ports below {high}", ports.len());
    }
    taken.extend(&ports);
    Ok(ports)
}

/// How to run `deploy/local.sh` for one set of servers.
#[derive(Debug, Clone)]
struct Script {
    dir: PathBuf,
    log_dir: PathBuf,
    /// RATIFY_PG_PORT, RATIFY_AMQP_PORT, RATIFY_AMQP_DIST_PORT, RATIFY_EPMD_PORT, and a
    /// cluster's RATIFY_AMQP_PORT_K / RATIFY_AMQP_DIST_PORT_K.
    ports: Vec<(&'static str, u16)>,
}

impl Script {
    /// Runs `deploy/local.sh ARGS` for these servers; returns its stdout. Progress goes
    /// to `local.sh.log` in the log folder.
    fn run<S: AsRef<str>>(&self, args: &[S]) -> anyhow::Result<String> {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let log_path = self.log_dir.join("local.sh.log");
        let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
        writeln!(log, "$ deploy/local.sh {}", args.join(" "))?;
        let started = Instant::now();
        let output = Command::new(checkout().join("deploy/local.sh"))
            .args(&args)
            .env("RATIFY_LOCAL_DIR", &self.dir)
            .envs(self.ports.iter().map(|(k, v)| (*k, v.to_string())))
            .env_remove("RATIFY_AMQP_MGMT")
            .stdin(Stdio::null())
            .stderr(log.try_clone()?)
            .output()
            .with_context(|| format!("running deploy/local.sh {}", args.join(" ")))?;
        writeln!(log, "# {} after {:?}", output.status, started.elapsed())?;
        if !output.status.success() {
            bail!("deploy/local.sh {} failed ({}); see {}", args.join(" "), output.status, log_path.display());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Stops everything of this folder and deletes it, keeping the servers' own logs in
    /// the log folder.
    fn tear_down(&self) {
        if let Err(e) = self.run(&["down"]) {
            eprintln!("stopping the private servers in {}: {e:?}", self.dir.display());
        }
        for (from, to) in [("logs", "logs"), ("rabbitmq/log", "rabbitmq-log")] {
            if let Ok(entries) = std::fs::read_dir(self.dir.join(from)) {
                let target = self.log_dir.join(to);
                let _ = std::fs::create_dir_all(&target);
                for entry in entries.flatten() {
                    let _ = std::fs::copy(entry.path(), target.join(entry.file_name()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One test's own Postgres and RabbitMQ. Dropping it stops both (`deploy/local.sh down`)
/// and deletes their data, after copying their logs to `target/test-logs/servers-<name>/`.
pub struct Servers {
    pub name: String,
    /// A superuser URL, as `RATIFY_TEST_DATABASE_URL` would be.
    pub database_admin_url: String,
    pub amqp_url: String,
    /// Every RabbitMQ node's URL, comma-separated (`AMQP_URLS`): node 1's alone unless
    /// started with [`Servers::start_cluster`].
    pub amqp_urls: String,
    script: Script,
}

impl Servers {
    /// Starts both servers; `name` names the folder (a random suffix is added).
    pub async fn start(name: &str) -> Servers {
        Servers::start_as(name, false).await
    }

    /// Starts Postgres and a cluster of three RabbitMQ nodes (`servers --cluster`).
    pub async fn start_cluster(name: &str) -> Servers {
        Servers::start_as(name, true).await
    }

    async fn start_as(name: &str, cluster: bool) -> Servers {
        let name = format!("{name}-{:08x}", rand::thread_rng().gen::<u32>());
        match tokio::task::spawn_blocking(move || Servers::start_blocking(name, cluster)).await {
            Ok(Ok(servers)) => servers,
            Ok(Err(e)) => panic!("could not start private servers: {e:?}"),
            Err(e) => panic!("could not start private servers: {e}"),
        }
    }

    fn start_blocking(name: String, cluster: bool) -> anyhow::Result<Servers> {
        let log_dir = checkout().join("target/test-logs").join(format!("servers-{name}"));
        std::fs::create_dir_all(&log_dir)?;
        let dir = checkout().join("target/fault-servers").join(&name);
        let mut last = None;
        // A port may be taken between the check and the server's bind: pick again.
        for _ in 0..3 {
            std::fs::create_dir_all(&dir)?;
            let p = free_ports(if cluster { 8 } else { 4 })?;
            let mut ports = vec![
                ("RATIFY_PG_PORT", p[0]),
                ("RATIFY_AMQP_PORT", p[1]),
                ("RATIFY_AMQP_DIST_PORT", p[2]),
                ("RATIFY_EPMD_PORT", p[3]),
            ];
            if cluster {
                ports.extend([
                    ("RATIFY_AMQP_PORT_2", p[4]),
                    ("RATIFY_AMQP_DIST_PORT_2", p[5]),
                    ("RATIFY_AMQP_PORT_3", p[6]),
                    ("RATIFY_AMQP_DIST_PORT_3", p[7]),
                ]);
            }
            let script = Script { dir: dir.clone(), log_dir: log_dir.clone(), ports };
            let args: &[&str] = if cluster { &["servers", "--cluster"] } else { &["servers"] };
            let started = script.run(args).and_then(|stdout| {
                let amqp_url = export(&stdout, "RATIFY_TEST_AMQP_URL")?;
                let amqp_urls = if cluster { export(&stdout, "RATIFY_TEST_AMQP_URLS")? } else { amqp_url.clone() };
                Ok((export(&stdout, "RATIFY_TEST_DATABASE_URL")?, amqp_url, amqp_urls))
            });
            match started {
                Ok((database_admin_url, amqp_url, amqp_urls)) => {
                    return Ok(Servers { name, database_admin_url, amqp_url, amqp_urls, script });
                }
                Err(e) => {
                    script.tear_down();
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
    }

    /// Runs `deploy/local.sh ARGS` for these servers; returns its stdout.
    async fn try_run(&self, args: &[&str]) -> anyhow::Result<String> {
        let script = self.script.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || script.run(&args)).await?
    }

    /// [`Servers::try_run`], failing the test when the script fails.
    async fn run(&self, args: &[&str]) -> String {
        self.try_run(args).await.unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// Stops Postgres with a fast shutdown (clients are disconnected at once).
    pub async fn stop_postgres(&self) {
        self.run(&["stop-postgres"]).await;
    }

    /// Stops Postgres without a shutdown checkpoint: the next start recovers from the
    /// WAL, as after a crash.
    pub async fn crash_postgres(&self) {
        self.run(&["stop-postgres", "--immediate"]).await;
    }

    /// Starts Postgres again (same data, same port); returns once it accepts connections.
    pub async fn start_postgres(&self) {
        self.run(&["start-postgres"]).await;
    }

    pub async fn restart_postgres(&self) {
        self.stop_postgres().await;
        self.start_postgres().await;
    }

    /// Stops RabbitMQ gracefully (its queues and persistent messages stay on disk).
    pub async fn stop_rabbitmq(&self) {
        self.run(&["stop-rabbitmq"]).await;
    }

    /// Starts RabbitMQ again (same data, same ports); returns once its AMQP listener is open.
    pub async fn start_rabbitmq(&self) {
        self.run(&["start-rabbitmq"]).await;
    }

    /// Stops RabbitMQ node `k` (1-3) of a cluster, gracefully; the others keep serving.
    pub async fn stop_rabbitmq_node(&self, k: usize) {
        self.run(&["stop-rabbitmq", "--node", &k.to_string()]).await;
    }

    /// Starts node `k` of a cluster again; returns once its AMQP listener is open.
    pub async fn start_rabbitmq_node(&self, k: usize) {
        self.run(&["start-rabbitmq", "--node", &k.to_string()]).await;
    }

    /// The node (1-3) leading quorum queue `queue`, as a running node reports it; `None`
    /// while none can say (e.g. during an election).
    pub async fn rabbitmq_leader(&self, queue: &str) -> Option<usize> {
        self.try_run(&["rabbitmq-leader", queue]).await.ok()?.trim().parse().ok()
    }

    /// The nodes (1-3) holding a member of quorum queue `queue`.
    pub async fn rabbitmq_members(&self, queue: &str) -> Vec<usize> {
        let listing = self.run(&["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "members"]).await;
        let Some(line) = listing.lines().find(|l| l.split('\t').next() == Some(queue)) else {
            panic!("rabbitmqctl lists no queue {queue}: {listing}");
        };
        let mut members: Vec<usize> = line
            .split(['[', ',', ']', '\t', ' '])
            .filter_map(|name| match name.trim_matches('\'') {
                "ratify@localhost" => Some(1),
                "ratify-2@localhost" => Some(2),
                "ratify-3@localhost" => Some(3),
                _ => None,
            })
            .collect();
        members.sort_unstable();
        members
    }

    pub async fn restart_rabbitmq(&self) {
        self.stop_rabbitmq().await;
        self.start_rabbitmq().await;
    }

    /// Starts a streaming read replica of this Postgres on a port of its own
    /// (`start-replica`; the primary is restarted once to write the WAL a replica needs), or
    /// starts it again after [`Servers::stop_replica`]. Returns a superuser URL on the
    /// replica, as `RATIFY_TEST_DATABASE_READ_URL` would be.
    pub async fn start_replica(&mut self) -> String {
        const NAME: &str = "RATIFY_PG_REPLICA_PORT";
        let port = match self.script.ports.iter().find(|(name, _)| *name == NAME) {
            Some((_, port)) => *port,
            None => {
                let port = free_ports(1).unwrap_or_else(|e| panic!("a port for the replica: {e:?}"))[0];
                self.script.ports.push((NAME, port));
                port
            }
        };
        self.run(&["start-replica"]).await;
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }

    /// Stops the read replica (a fast shutdown: its clients are disconnected at once).
    pub async fn stop_replica(&self) {
        self.run(&["stop-replica"]).await;
    }
}

/// The value of `export NAME=value` in the script's output (`printf %q` quoting undone).
fn export(stdout: &str, name: &str) -> anyhow::Result<String> {
    let prefix = format!("export {name}=");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .with_context(|| format!("deploy/local.sh servers printed no {name}: {stdout}"))?;
    let line = line.trim();
    if let Some(quoted) = line.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
        return Ok(quoted.to_owned());
    }
    let mut value = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        value.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    Ok(value)
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.script.tear_down();
    }
}
