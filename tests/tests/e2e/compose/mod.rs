//! The container deployment (`deploy/Dockerfile`, `deploy/docker-compose.yml`), checked
//! without a Docker engine: Compose itself validates the file (`config -q`), and the
//! file is held against the workspace: the commands name binaries and subcommands that
//! exist, every environment variable it sets is one the binaries read, the required
//! ones are set, the start order is right, the workers scale, and the Dockerfile builds
//! and ships both binaries. The cluster override (`deploy/docker-compose.cluster.yml`) is
//! checked as Compose merges it over the file.
//!
//! Needs `docker-compose` (Debian's package; `deploy/local.sh test` installs it) or the
//! `docker compose` plugin, and the debug binaries (`cargo build --workspace --bins`,
//! or `RATIFY_BIN_DIR`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

const COMPOSE_FILE: &str = "deploy/docker-compose.yml";
/// The override adding a RabbitMQ cluster and a read replica (`cluster.rs`).
const CLUSTER_FILE: &str = "deploy/docker-compose.cluster.yml";
const DOCKERFILE: &str = "deploy/Dockerfile";
const APP_SERVICES: [&str; 3] = ["migrate", "api", "worker"];
/// An admin token long enough for the api (16 characters at least).
const TEST_ADMIN_TOKEN: &str = "compose-test-admin-token-0123456789";

mod binaries;
mod cluster;
mod dockerfile;
mod services;
mod validate;

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).expect("the tests crate has a parent folder")
}

fn bin_dir() -> PathBuf {
    std::env::var_os("RATIFY_BIN_DIR").map(PathBuf::from).unwrap_or_else(|| checkout().join("target/debug"))
}

fn read(relative: &str) -> String {
    let path = checkout().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The compose file as JSON values (YAML anchors expanded).
fn compose() -> Value {
    serde_norway::from_str(&read(COMPOSE_FILE)).unwrap_or_else(|e| panic!("{COMPOSE_FILE} is not valid YAML: {e}"))
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    compose["services"].get(name).unwrap_or_else(|| panic!("{COMPOSE_FILE} has no service {name:?}"))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A service's `environment`, in either of Compose's forms (map or `KEY=VALUE` list).
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Null => BTreeMap::new(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let item = text(item);
                match item.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (item, String::new()),
                }
            })
            .collect(),
        other => panic!("environment must be a map or a list, not {other}"),
    }
}

/// The value Compose substitutes when the operator sets nothing: `${VAR:-default}` or
/// `${VAR-default}` gives the default, a plain value itself; `None` for a variable
/// without a default (`${VAR}`, `${VAR:?message}`).
fn default_value(raw: &str) -> Option<String> {
    let Some(inner) = raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        assert!(!raw.contains("${"), "only whole-value interpolation is expected here, got {raw:?}");
        return Some(raw.to_owned());
    };
    let name_end = inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
    let rest = &inner[name_end..];
    rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-')).map(str::to_owned)
}

fn default_number(env: &BTreeMap<String, String>, service: &str, name: &str) -> u64 {
    let raw = env.get(name).unwrap_or_else(|| panic!("service {service} does not set {name}"));
    let value = default_value(raw).unwrap_or_else(|| panic!("{service}: {name} = {raw:?} has no default"));
    value.parse().unwrap_or_else(|e| panic!("{service}: {name} defaults to {value:?}, not a number: {e}"))
}

/// A service's command as words (Compose takes a list or a string).
fn command(service: &Value) -> Vec<String> {
    match &service["command"] {
        Value::Array(words) => words.iter().map(text).collect(),
        Value::String(line) => line.split_whitespace().map(str::to_owned).collect(),
        other => panic!("command must be a list or a string, not {other}"),
    }
}

/// `depends_on` as service -> condition (the short list form means `service_started`).
fn depends_on(service: &Value) -> BTreeMap<String, String> {
    match &service["depends_on"] {
        Value::Null => BTreeMap::new(),
        Value::Array(names) => names.iter().map(|n| (text(n), "service_started".to_owned())).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(name, spec)| {
                let condition = spec.get("condition").map_or_else(|| "service_started".to_owned(), text);
                (name.clone(), condition)
            })
            .collect(),
        other => panic!("depends_on must be a list or a map, not {other}"),
    }
}
