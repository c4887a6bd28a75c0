//! The services: start order, health checks, volumes, ports, and workers that scale within Postgres's connections.

use super::*;

/// A Compose duration (`40s`, `1m30s`, `1h`, `500ms`) in whole seconds, rounded down.
fn duration_seconds(raw: &str) -> u64 {
    let mut total_ms: u64 = 0;
    let mut number = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit_ms = match c {
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1000,
            _ => panic!("unexpected {c:?} in the duration {raw:?}"),
        };
        let n: u64 = number.parse().unwrap_or_else(|_| panic!("no number before a unit in the duration {raw:?}"));
        total_ms += n * unit_ms;
        number.clear();
    }
    assert!(number.is_empty(), "the duration {raw:?} ends without a unit");
    total_ms / 1000
}

#[test]
fn services_and_start_order() {
    let compose = compose();
    // Compose v1.29 refuses a top-level `name:` (the project is named by -p).
    assert!(compose.get("name").is_none(), "{COMPOSE_FILE} has no top-level name: it must run under Compose v1 too");
    for name in ["postgres", "rabbitmq", "migrate", "api", "worker"] {
        service(&compose, name);
    }

    let expected: [(&str, &[(&str, &str)]); 3] = [
        ("migrate", &[("postgres", "service_healthy")]),
        ("api", &[("migrate", "service_completed_successfully"), ("rabbitmq", "service_healthy")]),
        ("worker", &[("migrate", "service_completed_successfully"), ("rabbitmq", "service_healthy")]),
    ];
    for (name, wanted) in expected {
        let deps = depends_on(service(&compose, name));
        for (dep, condition) in wanted {
            assert_eq!(
                deps.get(*dep).map(String::as_str),
                Some(*condition),
                "{name} must depend on {dep} ({condition})"
            );
        }
    }

    // Every condition can come true: service_healthy needs a healthcheck, and
    // service_completed_successfully a one-shot service that is not restarted.
    let services = compose["services"].as_object().expect("services is a map");
    for (name, spec) in services {
        for (dep, condition) in depends_on(spec) {
            let target = service(&compose, &dep);
            match condition.as_str() {
                "service_healthy" => {
                    assert!(
                        target["healthcheck"]["test"].is_array(),
                        "{name} waits for {dep} to be healthy: it needs a healthcheck"
                    )
                }
                "service_completed_successfully" => {
                    assert_eq!(
                        target["restart"], "no",
                        "{name} waits for {dep} to complete: {dep} must be restart: \"no\""
                    )
                }
                "service_started" => {}
                other => panic!("{name} depends on {dep} with an unknown condition {other:?}"),
            }
        }
    }

    let healthcheck = |name: &str| -> Vec<String> {
        service(&compose, name)["healthcheck"]["test"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no healthcheck test list"))
            .iter()
            .map(text)
            .collect()
    };
    assert!(healthcheck("postgres").iter().any(|w| w.contains("pg_isready")), "postgres: pg_isready healthcheck");
    assert!(healthcheck("rabbitmq").join(" ").contains("rabbitmq-diagnostics -q ping"), "rabbitmq: diagnostics ping");
    let api_check = healthcheck("api");
    assert!(api_check.iter().any(|w| w == "curl"), "api: curl healthcheck (curl is in the image)");
    assert!(api_check.iter().any(|w| w.ends_with(":8080/health")), "api: the healthcheck asks /health on port 8080");

    // Postgres keeps its data in a named volume and allows the connections the
    // pool arithmetic below counts on.
    let volumes = compose["volumes"].as_object().expect("top-level named volumes");
    for name in ["postgres", "rabbitmq"] {
        let mounts = service(&compose, name)["volumes"].as_array().unwrap_or_else(|| panic!("{name} has no volumes"));
        let named = mounts.iter().map(text).filter_map(|m| m.split_once(':').map(|(v, _)| v.to_owned()));
        assert!(named.into_iter().any(|v| volumes.contains_key(&v)), "{name} keeps its data in a named volume");
    }

    // The RabbitMQ management UI is reachable from this host only.
    let rabbit_ports: Vec<String> =
        service(&compose, "rabbitmq")["ports"].as_array().map(|p| p.iter().map(text).collect()).unwrap_or_default();
    assert!(!rabbit_ports.is_empty(), "rabbitmq publishes its management UI");
    for port in &rabbit_ports {
        assert!(port.starts_with("127.0.0.1:"), "rabbitmq port {port:?} must be bound to 127.0.0.1");
    }

    // The api listens on all interfaces inside its container, on the published port.
    let api = service(&compose, "api");
    assert_eq!(environment(api).get("API_ADDR").map(String::as_str), Some("0.0.0.0:8080"));
    let api_ports: Vec<String> = api["ports"].as_array().map(|p| p.iter().map(text).collect()).unwrap_or_default();
    assert!(api_ports.iter().any(|p| p.ends_with(":8080")), "api publishes port 8080, got {api_ports:?}");
}

#[test]
fn workers_scale() {
    let compose = compose();
    let worker = service(&compose, "worker");
    assert!(worker.get("container_name").is_none(), "a container_name would stop `--scale worker=N`");
    if let Some(ports) = worker.get("ports").and_then(Value::as_array) {
        for port in ports.iter().map(text) {
            assert!(!port.contains(':'), "worker port {port:?} is fixed on the host: replicas would collide");
        }
    }
    assert!(worker.get("hostname").is_none(), "workers need no fixed hostname");

    // Docker waits stop_grace_period before SIGKILL; a draining worker needs its
    // RATIFY_DRAIN_SECONDS and some slack.
    let env = environment(worker);
    let drain = default_number(&env, "worker", "RATIFY_DRAIN_SECONDS");
    let grace = text(&worker["stop_grace_period"]);
    let grace = duration_seconds(&default_value(&grace).expect("stop_grace_period has a default"));
    assert!(
        grace >= drain + 5,
        "worker stop_grace_period {grace}s must be at least RATIFY_DRAIN_SECONDS {drain}s + 5s"
    );

    // Connection pools: each worker's pool is the worker's own default (2 x concurrency
    // + 7: the lanes plus the relay, the purge, the heartbeat, auto-approval and webhooks) and 1 api + 4 workers + migrate + headroom fit Postgres.
    let concurrency = default_number(&env, "worker", "RATIFY_WORKER_CONCURRENCY");
    let worker_pool = default_number(&env, "worker", "RATIFY_DB_POOL_SIZE");
    assert!(worker_pool >= 2 * concurrency + 7, "worker pool {worker_pool} < 2 x concurrency {concurrency} + 7");
    let api_pool = default_number(&environment(service(&compose, "api")), "api", "RATIFY_DB_POOL_SIZE");
    let postgres = command(service(&compose, "postgres"));
    let max_connections: u64 = postgres
        .iter()
        .find_map(|w| w.strip_prefix("max_connections="))
        .expect("postgres sets -c max_connections=N")
        .parse()
        .expect("max_connections is a number");
    let (reserved, migrate, headroom) = (3, 1, 20);
    let budget = max_connections - reserved - api_pool - migrate - headroom;
    let max_workers = budget / worker_pool;
    assert!(max_workers >= 4, "only {max_workers} workers fit max_connections {max_connections}");
    eprintln!(
        "pools: api {api_pool} + migrate {migrate} + N x worker {worker_pool} + headroom {headroom} \
         <= {max_connections} - {reserved} reserved  =>  N <= {max_workers}"
    );
}
