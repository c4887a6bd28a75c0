//! The cluster override (`deploy/docker-compose.cluster.yml`) as Compose merges it over the
//! base file (`config`): three RabbitMQ nodes sharing one cookie under fixed names, joined by
//! peer discovery listing exactly them; a replica taking its base backup from the primary,
//! which lets it in; the api and the workers knowing every node, the api reading from the
//! replica, and all of them starting only once those are healthy.

use std::collections::BTreeSet;

use super::binaries::variables_read_in;
use super::validate::run_compose;
use super::*;

const NODES: [&str; 3] = ["rabbitmq", "rabbitmq-2", "rabbitmq-3"];
const REPLICA: &str = "postgres-replica";

/// The two files as Compose merges them, defaults substituted.
fn merged() -> Value {
    let files = [COMPOSE_FILE, CLUSTER_FILE];
    let (output, compose) = run_compose(&files, Some(TEST_ADMIN_TOKEN), &["config"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{compose} config {files:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_norway::from_str(&stdout).unwrap_or_else(|e| panic!("{compose} config printed no YAML: {e}\n{stdout}"))
}

/// The override alone, as written.
fn written() -> Value {
    serde_norway::from_str(&read(CLUSTER_FILE)).unwrap_or_else(|e| panic!("{CLUSTER_FILE} is not valid YAML: {e}"))
}

/// A service's mounts as (source, target): Compose v1 prints `source:target[:mode]`, v2
/// the long form.
fn mounts(service: &Value) -> Vec<(String, String)> {
    let Some(list) = service["volumes"].as_array() else { return Vec::new() };
    list.iter()
        .map(|m| match m {
            Value::String(short) => {
                let mut parts = short.split(':');
                let source = parts.next().unwrap_or_default().to_owned();
                (source, parts.next().unwrap_or_default().to_owned())
            }
            long => (text(&long["source"]), text(&long["target"])),
        })
        .collect()
}

/// The source mounted at `target`, if any.
fn mounted_at(service: &Value, target: &str) -> Option<String> {
    mounts(service).into_iter().find(|(_, t)| t == target).map(|(s, _)| s)
}

/// `scheme://user:pass@host:port/path` as (`user:pass`, `host`, `port/path`).
fn url_parts(url: &str) -> (String, String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (credentials, rest) = rest.split_once('@').unwrap_or_else(|| panic!("{url:?} names no user"));
    let (host, rest) = rest.split_once(':').unwrap_or_else(|| panic!("{url:?} names no port"));
    (credentials.to_owned(), host.to_owned(), rest.to_owned())
}

fn env_of(compose: &Value, name: &str, var: &str) -> String {
    environment(service(compose, name)).remove(var).unwrap_or_else(|| panic!("{name} does not set {var}"))
}

#[test]
fn the_override_adds_services_and_start_order() {
    let written = written();
    assert!(written.get("name").is_none(), "{CLUSTER_FILE} has no top-level name: it must run under Compose v1 too");
    // It changes only what the api and the workers wait for and read: their image,
    // command and scaling stay the base file's.
    for name in ["api", "worker"] {
        let keys: BTreeSet<&str> = written["services"][name]
            .as_object()
            .unwrap_or_else(|| panic!("{CLUSTER_FILE} does not extend {name}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["depends_on", "environment"]),
            "{CLUSTER_FILE} sets more of {name} than it needs"
        );
    }

    let compose = merged();
    let healthy = |name: &str, deps: &[&str]| {
        let have = depends_on(service(&compose, name));
        for dep in deps {
            assert_eq!(
                have.get(*dep).map(String::as_str),
                Some("service_healthy"),
                "{name} must wait for {dep} to be healthy"
            );
        }
    };
    for name in ["api", "worker"] {
        healthy(name, &["postgres", REPLICA, "rabbitmq", "rabbitmq-2", "rabbitmq-3"]);
        // The base file's conditions survive the merge.
        let deps = depends_on(service(&compose, name));
        assert_eq!(
            deps.get("migrate").map(String::as_str),
            Some("service_completed_successfully"),
            "{name} after migrate"
        );
    }
    healthy("rabbitmq-2", &["rabbitmq"]);
    healthy("rabbitmq-3", &["rabbitmq"]);
    healthy(REPLICA, &["postgres"]);
    for (name, spec) in compose["services"].as_object().expect("services is a map") {
        for (dep, condition) in depends_on(spec) {
            if condition == "service_healthy" {
                let test = &service(&compose, &dep)["healthcheck"]["test"];
                assert!(test.is_array(), "{name} waits for {dep} to be healthy: it needs a healthcheck");
            }
        }
        assert!(spec.get("container_name").is_none(), "{name}: a container_name would tie the stack to one project");
    }
}

#[test]
fn the_rabbitmq_nodes_form_one_cluster() {
    let compose = merged();
    let image = text(&service(&compose, "rabbitmq")["image"]);
    let cookie = env_of(&compose, "rabbitmq", "RABBITMQ_ERLANG_COOKIE");
    assert!(cookie.len() >= 20, "the cluster's default cookie is too short to guess at: {} characters", cookie.len());
    let mut volumes = BTreeSet::new();
    let mut discovery = BTreeSet::new();
    for name in NODES {
        let node = service(&compose, name);
        // The node name is rabbit@<hostname>: the same service must keep its name.
        assert_eq!(text(&node["hostname"]), name, "{name} has the fixed hostname {name}");
        assert_eq!(text(&node["image"]), image, "{name} runs the same RabbitMQ image as rabbitmq");
        assert_eq!(env_of(&compose, name, "RABBITMQ_ERLANG_COOKIE"), cookie, "{name} shares the cluster's cookie");
        for var in ["RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"] {
            assert_eq!(env_of(&compose, name, var), env_of(&compose, "rabbitmq", var), "{name}: {var} as rabbitmq's");
        }
        let data = mounted_at(node, "/var/lib/rabbitmq").unwrap_or_else(|| panic!("{name} keeps no data"));
        assert!(
            !data.starts_with('/') && !data.starts_with('.'),
            "{name} keeps its data in a named volume, not {data}"
        );
        volumes.insert(data);
        let conf = mounts(node).into_iter().find(|(_, t)| t.starts_with("/etc/rabbitmq/conf.d/"));
        let (source, _) = conf.unwrap_or_else(|| panic!("{name} mounts no peer discovery config into conf.d"));
        discovery.insert(source);
        if name != "rabbitmq" {
            assert!(node.get("ports").is_none(), "{name} publishes no port (node 1's UI shows the cluster)");
            let check = service(&compose, name)["healthcheck"]["test"]
                .as_array()
                .map(|t| t.iter().map(text).collect::<Vec<_>>().join(" "));
            let check = check.unwrap_or_else(|| panic!("{name} has no healthcheck"));
            assert!(
                check.contains("cluster_status") && check.contains("\"rabbit@rabbitmq\""),
                "{name} is healthy only as a member of rabbit@rabbitmq's cluster: {check}"
            );
        }
    }
    assert_eq!(volumes.len(), NODES.len(), "each node its own volume, got {volumes:?}");
    assert_eq!(discovery.len(), 1, "one peer discovery config for the three, got {discovery:?}");

    // The config lists exactly the three nodes by the names their hostnames give them.
    let path = discovery.into_iter().next().expect("one config");
    let conf = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let setting = |key: &str| -> Vec<String> {
        conf.lines()
            .filter(|l| l.starts_with(key))
            .filter_map(|l| l.split_once('='))
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    assert_eq!(setting("cluster_formation.peer_discovery_backend"), ["classic_config"]);
    let listed: BTreeSet<String> = setting("cluster_formation.classic_config.nodes.").into_iter().collect();
    let want: BTreeSet<String> = NODES.iter().map(|n| format!("rabbit@{n}")).collect();
    assert_eq!(listed, want, "{path} must list the three nodes");
}

#[test]
fn the_clients_know_every_node_and_the_replica() {
    let written = written();
    let reads = [
        ("api", variables_read_in(&["api/src", "shared/src"])),
        ("worker", variables_read_in(&["worker/src", "shared/src"])),
    ];
    for (name, reads) in &reads {
        for var in environment(&written["services"][*name]).keys() {
            assert!(reads.contains(var), "{CLUSTER_FILE}: {name} sets {var}, which the binary does not read");
        }
    }

    let compose = merged();
    let urls = env_of(&compose, "api", "AMQP_URLS");
    assert_eq!(env_of(&compose, "worker", "AMQP_URLS"), urls, "api and worker must list the same nodes");
    let (credentials, _, rest) = url_parts(&env_of(&compose, "api", "AMQP_URL"));
    let user = env_of(&compose, "rabbitmq", "RABBITMQ_DEFAULT_USER");
    let pass = env_of(&compose, "rabbitmq", "RABBITMQ_DEFAULT_PASS");
    assert_eq!(credentials, format!("{user}:{pass}"), "AMQP_URL uses the cluster's account");
    let hosts: Vec<String> = urls
        .split(',')
        .map(|url| {
            let (c, host, r) = url_parts(url);
            assert_eq!(
                (c, r.as_str()),
                (credentials.clone(), rest.as_str()),
                "{url:?}: same account, port and vhost as AMQP_URL"
            );
            host
        })
        .collect();
    assert_eq!(hosts, NODES, "AMQP_URLS lists the three nodes, node 1 first");

    let read_url = env_of(&compose, "api", "DATABASE_READ_URL");
    let (credentials, host, rest) = url_parts(&read_url);
    let (primary_credentials, primary, primary_rest) = url_parts(&env_of(&compose, "api", "DATABASE_URL"));
    assert_eq!(primary, "postgres");
    assert_eq!(host, REPLICA, "the api reads from the replica");
    assert_eq!(
        (credentials, rest),
        (primary_credentials, primary_rest),
        "the replica is read as the primary's user and database"
    );
}

#[test]
fn the_replica_streams_from_the_primary() {
    let compose = merged();
    let (primary, replica) = (service(&compose, "postgres"), service(&compose, REPLICA));
    assert_eq!(text(&replica["image"]), text(&primary["image"]), "the replica runs the primary's image");
    assert_eq!(text(&replica["user"]), "postgres", "the base backup is written as the postgres user");
    let max_connections = |name: &str| -> u64 {
        let words = command(service(&compose, name));
        let value = words
            .iter()
            .find_map(|w| w.strip_prefix("max_connections="))
            .unwrap_or_else(|| panic!("{name} sets no max_connections"));
        value.parse().expect("max_connections is a number")
    };
    // A hot standby refuses to start with fewer than the primary.
    assert!(
        max_connections(REPLICA) >= max_connections("postgres"),
        "the replica's max_connections is below the primary's"
    );
    assert!(
        replica["shm_size"].is_string() || replica["shm_size"].is_number(),
        "the replica needs the primary's /dev/shm"
    );
    for var in ["POSTGRES_USER", "POSTGRES_PASSWORD"] {
        assert_eq!(
            env_of(&compose, REPLICA, var),
            env_of(&compose, "postgres", var),
            "the replica connects as the primary's {var}"
        );
    }
    assert_eq!(env_of(&compose, REPLICA, "PRIMARY_HOST"), "postgres");

    let data = mounted_at(replica, "/var/lib/postgresql/data").expect("the replica keeps its data");
    assert_ne!(
        Some(data.clone()),
        mounted_at(primary, "/var/lib/postgresql/data"),
        "the replica has a volume of its own"
    );
    assert!(!data.starts_with('/'), "the replica's data is a named volume, not {data}");

    // The entrypoint is the mounted script, and the script takes a streaming standby.
    let entrypoint = match &replica["entrypoint"] {
        Value::Array(words) => words.iter().map(text).collect::<Vec<_>>(),
        other => text(other).split_whitespace().map(str::to_owned).collect(),
    };
    let script = entrypoint.last().cloned().unwrap_or_default();
    let source =
        mounted_at(replica, &script).unwrap_or_else(|| panic!("the replica's entrypoint {script} is not mounted"));
    let body = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let backup = body
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && l.contains("pg_basebackup "))
        .expect("the replica's entrypoint runs pg_basebackup");
    for flag in ["-R", "-X stream", "-h \"$primary\""] {
        assert!(backup.contains(flag), "pg_basebackup without {flag}: {backup}");
    }
    let check = replica["healthcheck"]["test"].as_array().map(|t| t.iter().map(text).collect::<Vec<_>>().join(" "));
    assert!(check.unwrap_or_default().contains("pg_is_in_recovery()"), "the replica is healthy only as a standby");

    // The primary lets it in: an init script adds a replication line to pg_hba.conf.
    let init = mounts(primary).into_iter().find(|(_, t)| t.starts_with("/docker-entrypoint-initdb.d/"));
    let (source, _) = init.expect("the primary mounts an init script allowing replication");
    let body = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
    assert!(
        body.lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("host replication") && l.contains("pg_hba.conf")),
        "{source} adds no `host replication` line to pg_hba.conf"
    );
}
