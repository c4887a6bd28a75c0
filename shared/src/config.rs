//! Configuration from the environment. Every variable is read through [`Vars`], so an
//! invalid value fails at start-up naming the variable, and a test can hand an in-process
//! api or worker variables of its own instead of the process environment.

use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set; it is required")]
    Missing(&'static str),
    #[error("{name} has the invalid value {value:?}: {reason}")]
    Invalid { name: &'static str, value: String, reason: String },
}

/// Where settings come from: the process environment (the binaries), or a map of its own
/// (a test that runs the api or a worker in-process, beside others in the same process).
#[derive(Debug, Clone, Default)]
pub struct Vars(Option<std::sync::Arc<std::collections::HashMap<String, String>>>);

impl Vars {
    /// The process environment.
    pub fn process() -> Vars {
        Vars(None)
    }

    /// These variables and no others.
    pub fn of<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Vars {
        Vars(Some(std::sync::Arc::new(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect())))
    }

    /// `name`'s value, when it is set and not blank.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.0 {
            None => std::env::var(name).ok(),
            Some(map) => map.get(name).cloned(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    /// Reads `name`, or `default` when it is unset or empty.
    pub fn var<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name) {
            Some(value) => parse(name, value),
            None => Ok(default),
        }
    }

    /// Reads `name`, which must be set.
    pub fn required<T>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name) {
            Some(value) => parse(name, value),
            None => Err(ConfigError::Missing(name)),
        }
    }

    /// Reads `name` when it is set.
    pub fn optional<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.get(name).map(|value| parse(name, value)).transpose()
    }
}

fn parse<T>(name: &'static str, value: String) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, value, reason: e.to_string() })
}

/// Checks a numeric setting lies in `range`, naming the variable otherwise.
pub fn in_range<T>(name: &'static str, value: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: PartialOrd + Display + Copy,
{
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: format!("must be between {} and {}", range.start(), range.end()),
        })
    }
}

/// Settings both binaries share.
#[derive(Debug, Clone)]
pub struct Common {
    pub database_url: String,
    /// `AMQP_URLS` (a cluster's nodes, comma-separated) when set, else `AMQP_URL`.
    pub amqp: crate::broker::Nodes,
    /// Prefix of every exchange and queue name, so several deployments (or tests) can
    /// share one broker.
    pub queue_prefix: String,
    /// Deliveries of a chunk task before RabbitMQ dead-letters it.
    pub delivery_limit: i32,
    pub db_pool_size: u32,
    pub json_logs: bool,
    /// How long a published chunk may stay not done before the relay's watchdog
    /// publishes it again (once its queue holds no waiting message).
    pub stall: std::time::Duration,
}

impl Common {
    /// The queue topology these settings name.
    pub fn topology(&self) -> crate::broker::Topology {
        crate::broker::Topology::new(&self.queue_prefix, self.delivery_limit)
    }

    pub fn from_vars(vars: &Vars, default_pool: u32) -> Result<Common, ConfigError> {
        let log_format: String = vars.var("RATIFY_LOG_FORMAT", "text".to_owned())?;
        let json_logs = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => {
                return Err(ConfigError::Invalid {
                    name: "RATIFY_LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "use text or json".to_owned(),
                })
            }
        };
        Ok(Common {
            database_url: vars.required("DATABASE_URL")?,
            amqp: amqp_nodes(vars)?,
            queue_prefix: vars.var("RATIFY_QUEUE_PREFIX", "ratify".to_owned())?,
            delivery_limit: in_range(
                "RATIFY_DELIVERY_LIMIT",
                vars.var("RATIFY_DELIVERY_LIMIT", crate::broker::DEFAULT_DELIVERY_LIMIT)?,
                1..=1000,
            )?,
            db_pool_size: in_range("RATIFY_DB_POOL_SIZE", vars.var("RATIFY_DB_POOL_SIZE", default_pool)?, 1..=500)?,
            json_logs,
            stall: std::time::Duration::from_secs(in_range(
                "RATIFY_STALL_SECONDS",
                vars.var("RATIFY_STALL_SECONDS", 300)?,
                1..=86_400,
            )?),
        })
    }
}

/// The broker's nodes: `AMQP_URLS` wins over `AMQP_URL` when both are set (an override
/// file can add a cluster's list without removing the single URL).
fn amqp_nodes(vars: &Vars) -> Result<crate::broker::Nodes, ConfigError> {
    let (name, list) = match vars.get("AMQP_URLS") {
        Some(list) => ("AMQP_URLS", list),
        None => ("AMQP_URL", vars.required::<String>("AMQP_URL")?),
    };
    crate::broker::Nodes::parse(&list).map_err(|reason| ConfigError::Invalid {
        name,
        value: "(not shown: it holds credentials)".to_owned(),
        reason,
    })
}

/// Starts `tracing`: human-readable by default, JSON lines with `RATIFY_LOG_FORMAT=json`.
/// Logs go to stderr; `RUST_LOG` filters (default `info`).
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only for a terminal: log files stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// Cancels `token` on SIGTERM or Ctrl-C: how both binaries learn to stop. What stopping
/// means (in-flight requests finished, chunks finished or given back) is each `run`'s.
pub async fn cancel_on_signal(token: tokio_util::sync::CancellationToken) {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
    token.cancel();
}
