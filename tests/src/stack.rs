//! Starting and stopping one test's stack: database, queue prefix, api, workers.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::Rng;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::client::Client;

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set: run the tests with deploy/local.sh test"))
}

fn bin_dir() -> PathBuf {
    std::env::var_os("RATIFY_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
}

/// Replaces the database name of a Postgres URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[derive(Default)]
pub struct StackBuilder {
    workers: usize,
    in_process: bool,
    env: Vec<(String, String)>,
    /// Servers other than RATIFY_TEST_DATABASE_URL / RATIFY_TEST_AMQP_URL.
    servers: Option<(String, String)>,
    /// A superuser URL on a read replica of the database server.
    replica: Option<String>,
}

impl StackBuilder {
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Runs the api and the workers in this process, as tasks of the test's runtime (via
    /// `ratify_api::run` and `ratify_worker::run`), instead of as child processes: for tests
    /// of what the api answers, where no process needs to die. Their logs are not kept.
    pub fn in_process(mut self) -> Self {
        self.in_process = true;
        self
    }

    /// Uses these servers (a superuser Postgres URL and a RabbitMQ URL) instead of
    /// RATIFY_TEST_DATABASE_URL and RATIFY_TEST_AMQP_URL, e.g. a test's own [`crate::Servers`].
    pub fn servers(mut self, database_admin_url: &str, amqp_url: &str) -> Self {
        self.servers = Some((database_admin_url.to_owned(), amqp_url.to_owned()));
        self
    }

    /// Gives the api this stack's database on a read replica as `DATABASE_READ_URL`, from a
    /// superuser URL on the replica (`RATIFY_TEST_DATABASE_READ_URL`, or
    /// [`crate::Servers::start_replica`]'s).
    pub fn read_replica(mut self, replica_admin_url: &str) -> Self {
        self.replica = Some(replica_admin_url.to_owned());
        self
    }

    /// Sets a variable for the api and the workers (e.g. `RATIFY_CHUNK_SIZE`).
    pub fn env(mut self, name: &str, value: impl ToString) -> Self {
        self.env.push((name.to_owned(), value.to_string()));
        self
    }

    pub async fn start(self) -> Stack {
        match Stack::start(self).await {
            Ok(stack) => stack,
            Err(e) => panic!("could not start the test stack: {e:?}"),
        }
    }
}

/// One test's running system. Dropping it stops the processes and drops the database.
pub struct Stack {
    pub name: String,
    pub database_url: String,
    pub amqp_url: String,
    /// The api's `DATABASE_READ_URL` (this stack's database on the replica), when it has one;
    /// change it before [`Stack::start_api`] to start the api with another.
    pub database_read_url: Option<String>,
    pub admin_token: String,
    pub base_url: String,
    pub db: PgPool,
    admin_url: String,
    env: Vec<(String, String)>,
    api: Option<Child>,
    workers: Vec<Child>,
    /// Set when the api and the workers run in-process: cancelling it stops them.
    in_process: Option<CancellationToken>,
    log_dir: PathBuf,
    spawned: usize,
}

impl Stack {
    pub fn builder() -> StackBuilder {
        StackBuilder { workers: 1, in_process: false, env: Vec::new(), servers: None, replica: None }
    }

    async fn start(builder: StackBuilder) -> anyhow::Result<Stack> {
        let (admin_url, amqp_url) = match builder.servers.clone() {
            Some(servers) => servers,
            None => (env("RATIFY_TEST_DATABASE_URL")?, env("RATIFY_TEST_AMQP_URL")?),
        };
        let suffix: u64 = rand::thread_rng().gen();
        let name = format!("ratify_t_{suffix:016x}");
        let mut admin = PgConnection::connect(&admin_url).await.context("connecting to RATIFY_TEST_DATABASE_URL")?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
        let database_url = with_database(&admin_url, &name);
        let db = PgPool::connect(&database_url).await?;
        ratify_shared::db::MIGRATOR.run(&db).await?;
        let log_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-logs").join(&name);
        std::fs::create_dir_all(&log_dir)?;
        let admin_token = format!("admin-{suffix:016x}-{:016x}", rand::thread_rng().gen::<u64>());
        let mut stack = Stack {
            database_read_url: builder.replica.as_deref().map(|url| with_database(url, &name)),
            name,
            database_url,
            amqp_url,
            admin_token,
            base_url: String::new(),
            db,
            admin_url,
            env: builder.env,
            api: None,
            workers: Vec::new(),
            in_process: builder.in_process.then(CancellationToken::new),
            log_dir,
            spawned: 0,
        };
        if stack.in_process.is_some() {
            stack.start_in_process(builder.workers).await?;
            return Ok(stack);
        }
        stack.start_api()?;
        for _ in 0..builder.workers {
            stack.add_worker()?;
        }
        Ok(stack)
    }

    /// The variables the api and the workers get: this stack's servers and names, then the
    /// test's own (which win).
    fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = [
            ("DATABASE_URL", self.database_url.as_str()),
            ("AMQP_URL", &self.amqp_url),
            ("RATIFY_QUEUE_PREFIX", &self.name),
            ("ADMIN_TOKEN", &self.admin_token),
            ("API_ADDR", "127.0.0.1:0"),
            ("RUST_LOG", "info"),
            // Tests poll fast from one token; the rate-limit test turns the limit back on.
            ("RATIFY_RATE_LIMIT_PER_MINUTE", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some(url) = &self.database_read_url {
            vars.push(("DATABASE_READ_URL".to_owned(), url.clone()));
        }
        vars.extend(self.env.iter().cloned());
        vars
    }

    fn command(&self, binary: &str) -> Command {
        let mut command = Command::new(bin_dir().join(binary));
        command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).envs(self.vars());
        command
    }

    /// Starts the api on a port of its own and `workers` workers, all in this process.
    async fn start_in_process(&mut self, workers: usize) -> anyhow::Result<()> {
        let shutdown = self.in_process.clone().context("not an in-process stack")?;
        let vars = ratify_api::Vars::of(self.vars());
        let api = ratify_api::ApiConfig::from_vars(&vars)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        self.base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(ratify_api::run(api, listener, shutdown.clone()));
        for _ in 0..workers {
            let worker = ratify_worker::WorkerConfig::from_vars(&vars)?;
            tokio::spawn(ratify_worker::run(worker, shutdown.clone()));
        }
        Ok(())
    }

    fn log(&self, name: &str) -> anyhow::Result<Stdio> {
        Ok(std::fs::File::create(self.log_dir.join(name))?.into())
    }

    /// Starts the api and waits for the line that says where it listens.
    pub fn start_api(&mut self) -> anyhow::Result<()> {
        let mut child = self
            .command("ratify-api")
            .stdout(Stdio::piped())
            .stderr(self.log("api.log")?)
            .spawn()
            .context("starting ratify-api (is it built? deploy/local.sh test builds it)")?;
        let stdout = child.stdout.take().context("api stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ratify-api listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Some(status) = child.try_wait()? {
                bail!("ratify-api exited with {status}; see {}", self.log_dir.display());
            }
            if Instant::now() > deadline {
                bail!("ratify-api did not start within 30 s; see {}", self.log_dir.display());
            }
        };
        self.base_url = url;
        self.api = Some(child);
        Ok(())
    }

    /// Starts one more worker process.
    pub fn add_worker(&mut self) -> anyhow::Result<()> {
        self.spawned += 1;
        let log = self.log(&format!("worker-{}.log", self.spawned))?;
        let child = self
            .command("ratify-worker")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting ratify-worker")?;
        self.workers.push(child);
        Ok(())
    }

    /// Where the processes of this stack write their logs.
    pub fn log_dir(&self) -> &std::path::Path {
        &self.log_dir
    }

    /// The api's process id.
    pub fn api_pid(&self) -> Option<u32> {
        self.api.as_ref().map(Child::id)
    }

    /// Stops the api (SIGTERM, then waits); `start_api` starts a fresh one.
    pub fn stop_api(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.api.take() {
            Command::new("kill").arg("-TERM").arg(child.id().to_string()).status()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Process ids of the running workers.
    pub fn worker_pids(&self) -> Vec<u32> {
        self.workers.iter().map(Child::id).collect()
    }

    /// Sends `signal` (e.g. "KILL", "TERM") to worker `i` and waits for it to exit.
    pub fn signal_worker(&mut self, i: usize, signal: &str) -> anyhow::Result<std::process::ExitStatus> {
        let child = &mut self.workers[i];
        Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status()?;
        Ok(child.wait()?)
    }

    /// A client for an advertiser token (or the admin token).
    pub fn client(&self, token: &str) -> Client {
        Client::new(&self.base_url, token)
    }

    pub fn admin(&self) -> Client {
        self.client(&self.admin_token)
    }

    /// Creates advertiser `aid` in `currency` with `groups` as `(code, type, value)` and
    /// returns a client whose token is granted it alone.
    pub async fn advertiser(&self, aid: i64, currency: &str, groups: &[(&str, &str, serde_json::Value)]) -> Client {
        let admin = self.admin();
        admin.create_advertiser(aid, currency, groups).await;
        self.client(&admin.create_token(&[aid]).await)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(shutdown) = &self.in_process {
            shutdown.cancel();
        }
        for child in self.workers.iter_mut().chain(self.api.iter_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (admin_url, amqp_url, name) = (self.admin_url.clone(), self.amqp_url.clone(), self.name.clone());
        let db = self.db.clone();
        // Clean up on a runtime of our own: Drop cannot await, and the test's runtime may
        // be shutting down.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                db.close().await;
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
                }
                delete_queues(&amqp_url, &name).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn delete_queues(amqp_url: &str, prefix: &str) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let topology = ratify_shared::broker::Topology::new(prefix, ratify_shared::broker::DEFAULT_DELIVERY_LIMIT);
    let Ok(connection) = lapin::Connection::connect(amqp_url, lapin::ConnectionProperties::default()).await else {
        return;
    };
    if let Ok(channel) = connection.create_channel().await {
        for queue in [&topology.work_queue, &topology.express_queue, &topology.dead_queue] {
            let _ = channel.queue_delete(queue, QueueDeleteOptions::default()).await;
        }
        let _ = channel.exchange_delete(&topology.dead_exchange, ExchangeDeleteOptions::default()).await;
    }
    let _ = connection.close(200, "test done").await;
}
