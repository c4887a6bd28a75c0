//! The container deployment (`deploy/Dockerfile`, `deploy/docker-compose.yml`), checked
//! without a Docker engine: Compose itself validates the file (`config -q`), and the
//! file is held against the workspace: the commands name binaries and subcommands that
//! exist, every environment variable it sets is one the binaries read, the required
//! ones are set, the start order is right, the workers scale, and the Dockerfile builds
//! and ships both binaries.
//!
//! Needs `docker-compose` (Debian's package; `deploy/local.sh test` installs it) or the
//! `docker compose` plugin, and the debug binaries (`cargo build --workspace --bins`,
//! or `RATIFY_BIN_DIR`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const COMPOSE_FILE: &str = "deploy/docker-compose.yml";
const DOCKERFILE: &str = "deploy/Dockerfile";
const APP_SERVICES: [&str; 3] = ["migrate", "api", "worker"];
/// An admin token long enough for the api (16 characters at least).
const TEST_ADMIN_TOKEN: &str = "compose-test-admin-token-0123456789";

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

/// Environment variable names named by string literals in the Rust sources under `dirs`:
/// `"RATIFY_…"`, `"DATABASE_URL"`, `"AMQP_URL"`, `"API_ADDR"`, `"ADMIN_TOKEN"`. (Every
/// variable is read through `shared::config`'s `var`/`required` by such a literal.)
fn variables_read_in(dirs: &[&str]) -> BTreeSet<String> {
    const EXACT: [&str; 4] = ["DATABASE_URL", "AMQP_URL", "API_ADDR", "ADMIN_TOKEN"];
    fn walk(dir: &Path, found: &mut BTreeSet<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for (i, _) in line.match_indices('"') {
                        let rest = &line[i + 1..];
                        let len = rest.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
                        let Some(len) = len.filter(|&n| n > 0 && rest[n..].starts_with('"')) else { continue };
                        let name = &rest[..len];
                        if name.starts_with("RATIFY_") || EXACT.contains(&name) {
                            found.insert(name.to_owned());
                        }
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    for dir in dirs {
        walk(&checkout().join(dir), &mut found);
    }
    found
}

/// Compose, as found: the `docker compose` plugin, or a standalone `docker-compose`
/// (v2, or Debian's v1.29). The second value is true for v1, which predates the
/// top-level `name` key of the Compose specification.
fn find_compose() -> Option<(Vec<&'static str>, bool)> {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    if runs("docker", &["compose", "version"]).is_some() {
        return Some((vec!["docker", "compose"], false));
    }
    let version = runs("docker-compose", &["version", "--short"])?;
    let version = String::from_utf8_lossy(&version.stdout);
    let v1 = version.trim().trim_start_matches('v').starts_with("1.");
    Some((vec!["docker-compose"], v1))
}

/// `<compose> -f deploy/docker-compose.yml config -q` with `admin_token` (or none) in an
/// otherwise empty environment, so that no DATABASE_URL or ADMIN_TOKEN of the caller's
/// shell leaks in. For Compose v1 the file goes in on stdin without its `name:` line,
/// from deploy/ so that relative paths resolve as they would from the file itself.
fn compose_config(admin_token: Option<&str>) -> (Output, String) {
    let Some((program, v1)) = find_compose() else {
        panic!(
            "docker-compose is not installed, so {COMPOSE_FILE} cannot be validated: install it \
             (`apt-get install -y docker-compose`; `deploy/local.sh test` does) or the `docker compose` plugin"
        )
    };
    let mut cmd = Command::new(program[0]);
    cmd.args(&program[1..]).env_clear().stdout(Stdio::piped()).stderr(Stdio::piped());
    for keep in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(keep) {
            cmd.env(keep, value);
        }
    }
    if let Some(token) = admin_token {
        cmd.env("ADMIN_TOKEN", token);
    }
    let mut stdin = None;
    if v1 {
        let source = read(COMPOSE_FILE);
        let (name_lines, rest): (Vec<&str>, Vec<&str>) = source.lines().partition(|l| l.starts_with("name:"));
        assert_eq!(name_lines, ["name: ratify"], "{COMPOSE_FILE} names its project ratify, once");
        stdin = Some(rest.join("\n") + "\n");
        cmd.current_dir(checkout().join("deploy")).args(["-f", "-", "config", "-q"]).stdin(Stdio::piped());
    } else {
        cmd.current_dir(checkout()).args(["-f", COMPOSE_FILE, "config", "-q"]).stdin(Stdio::null());
    }
    let described = format!("{} ({})", program.join(" "), if v1 { "v1, without the name: line" } else { "v2" });
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting {described}: {e}"));
    if let Some(input) = stdin {
        child.stdin.take().expect("piped stdin").write_all(input.as_bytes()).expect("writing the compose file");
    }
    (child.wait_with_output().expect("waiting for compose"), described)
}

#[test]
fn compose_validates_the_file() {
    let (output, compose) = compose_config(Some(TEST_ADMIN_TOKEN));
    assert!(
        output.status.success(),
        "{compose} config -q rejected {COMPOSE_FILE}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{COMPOSE_FILE} validated by {compose}");

    // ADMIN_TOKEN comes from the operator: without it Compose refuses, naming it.
    let (output, compose) = compose_config(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{compose} accepted {COMPOSE_FILE} without ADMIN_TOKEN");
    assert!(stderr.contains("ADMIN_TOKEN"), "{compose} failed without ADMIN_TOKEN but did not say so:\n{stderr}");
}

#[test]
fn services_and_start_order() {
    let compose = compose();
    assert_eq!(compose["name"], "ratify", "the Compose project is named ratify");
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

    // Connection pools: each worker's pool covers its lanes (2 x concurrency + 2, as the
    // worker's own default) and 1 api + 4 workers + migrate + headroom fit Postgres.
    let concurrency = default_number(&env, "worker", "RATIFY_WORKER_CONCURRENCY");
    let worker_pool = default_number(&env, "worker", "RATIFY_DB_POOL_SIZE");
    assert!(worker_pool >= 2 * concurrency + 2, "worker pool {worker_pool} < 2 x concurrency {concurrency} + 2");
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

#[test]
fn commands_name_binaries_and_subcommands_that_exist() {
    let compose = compose();
    let dockerfile = read(DOCKERFILE);
    let bins = bin_dir();
    let expected = [("migrate", "ratify-api"), ("api", "ratify-api"), ("worker", "ratify-worker")];
    for (name, binary) in expected {
        let words = command(service(&compose, name));
        assert_eq!(words.first().map(String::as_str), Some(binary), "{name} runs {binary}");
        let path = bins.join(binary);
        assert!(
            path.is_file(),
            "{} does not exist: build first (cargo build --workspace --bins) or set RATIFY_BIN_DIR",
            path.display()
        );
        assert!(dockerfile.contains(&format!("-p {binary}")), "{DOCKERFILE} builds the {binary} package");
        match binary {
            "ratify-worker" => assert_eq!(words.len(), 1, "ratify-worker takes no arguments, got {words:?}"),
            _ => {
                // Any subcommand must be one `ratify-api --help` lists.
                let help = Command::new(&path).arg("--help").output().expect("running ratify-api --help");
                assert!(help.status.success(), "ratify-api --help failed");
                let help = String::from_utf8_lossy(&help.stdout);
                let subcommands: BTreeSet<&str> = help
                    .lines()
                    .skip_while(|l| !l.starts_with("Commands:"))
                    .skip(1)
                    .take_while(|l| !l.trim().is_empty())
                    .filter_map(|l| l.split_whitespace().next())
                    .collect();
                assert!(subcommands.contains("migrate"), "ratify-api --help lists no migrate subcommand:\n{help}");
                assert!(words.len() <= 2, "{name}: one subcommand at most, got {words:?}");
                if let Some(sub) = words.get(1) {
                    assert!(
                        subcommands.contains(sub.as_str()),
                        "{name}: ratify-api has no subcommand {sub:?}:\n{help}"
                    );
                }
            }
        }
    }
    assert_eq!(command(service(&compose, "migrate"))[1], "migrate", "the migrate service runs `ratify-api migrate`");

    // The three run one image, built from this repository by deploy/Dockerfile.
    let images: BTreeSet<String> = APP_SERVICES.iter().map(|s| text(&service(&compose, s)["image"])).collect();
    assert_eq!(images.len(), 1, "migrate, api and worker run one image, got {images:?}");
    for name in APP_SERVICES {
        let build = &service(&compose, name)["build"];
        assert_eq!(build["context"], "..", "{name}: the build context is the repository root");
        assert_eq!(build["dockerfile"], DOCKERFILE, "{name}: built by {DOCKERFILE}");
    }
}

#[test]
fn environment_matches_what_the_binaries_read() {
    let compose = compose();
    let api_reads = variables_read_in(&["api/src", "shared/src"]);
    let worker_reads = variables_read_in(&["worker/src", "shared/src"]);
    // The scan itself works: it finds what config.rs is known to read.
    for name in ["DATABASE_URL", "AMQP_URL", "ADMIN_TOKEN", "API_ADDR", "RATIFY_DB_POOL_SIZE"] {
        assert!(api_reads.contains(name), "the source scan did not find {name} in api/src or shared/src");
    }
    assert!(worker_reads.contains("RATIFY_WORKER_CONCURRENCY"), "the source scan did not find the worker's variables");

    let services: [(&str, &BTreeSet<String>, &[&str]); 3] = [
        ("migrate", &api_reads, &["DATABASE_URL"]),
        ("api", &api_reads, &["DATABASE_URL", "AMQP_URL", "ADMIN_TOKEN"]),
        ("worker", &worker_reads, &["DATABASE_URL", "AMQP_URL"]),
    ];
    for (name, reads, required) in services {
        let env = environment(service(&compose, name));
        for var in env.keys() {
            assert!(
                var == "RUST_LOG" || reads.contains(var),
                "{name} sets {var}, which the binary does not read (it reads: {reads:?})"
            );
        }
        for var in required {
            let value = env.get(*var).unwrap_or_else(|| panic!("{name} must set {var}"));
            assert!(!value.trim().is_empty(), "{name} sets {var} empty");
        }
    }

    // The operator supplies ADMIN_TOKEN; no default is baked into the file.
    let api = environment(service(&compose, "api"));
    assert!(api["ADMIN_TOKEN"].starts_with("${ADMIN_TOKEN:?"), "ADMIN_TOKEN must be ${{ADMIN_TOKEN:?…}}");

    // What api, workers and the migration must agree on is set identically.
    let worker = environment(service(&compose, "worker"));
    for var in ["DATABASE_URL", "AMQP_URL", "RATIFY_QUEUE_PREFIX", "RATIFY_DELIVERY_LIMIT"] {
        assert_eq!(api.get(var), worker.get(var), "api and worker must set {var} alike");
    }
    let migrate = environment(service(&compose, "migrate"));
    assert_eq!(api.get("DATABASE_URL"), migrate.get("DATABASE_URL"), "migrate must migrate the api's database");
}

/// Dockerfile instructions, continuation lines joined, comments dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

#[test]
fn dockerfile_builds_and_ships_both_binaries() {
    let dockerfile = read(DOCKERFILE);
    let instructions = instructions(&dockerfile);
    let args: BTreeMap<String, String> = instructions
        .iter()
        .filter_map(|i| i.strip_prefix("ARG "))
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let expand = |s: &str| args.iter().fold(s.to_owned(), |s, (k, v)| s.replace(&format!("${{{k}}}"), v));

    let stages: Vec<(usize, String)> = instructions
        .iter()
        .enumerate()
        .filter_map(|(n, i)| i.strip_prefix("FROM ").map(|f| (n, expand(f.split_whitespace().next().unwrap()))))
        .collect();
    assert!(stages.len() >= 2, "{DOCKERFILE} is multi-stage");
    let (_, builder) = &stages[0];
    let (runtime_start, runtime) = stages.last().unwrap();
    assert_eq!(runtime, "debian:bookworm-slim", "runtime image");
    assert!(
        builder.starts_with("rust:") && builder.ends_with("-bookworm"),
        "builder {builder:?}: rust on bookworm (glibc of the runtime)"
    );

    // Every workspace member's manifest is in the image before the first build, or
    // cargo cannot load the workspace.
    let manifest = read("Cargo.toml");
    let members = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("members"))
        .expect("workspace members")
        .split('"')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>();
    for member in &members {
        assert!(
            dockerfile.contains(&format!("COPY {member}/Cargo.toml")),
            "{DOCKERFILE} must copy {member}/Cargo.toml"
        );
    }

    let builds: Vec<&String> = instructions.iter().filter(|i| i.contains("cargo build")).collect();
    assert!(builds.len() >= 2, "{DOCKERFILE}: dependencies are built first, then the sources");
    for build in builds {
        for flag in ["--release", "--locked", "--bins", "-p ratify-api", "-p ratify-worker"] {
            assert!(build.contains(flag), "{DOCKERFILE}: cargo build without {flag}: {build}");
        }
    }

    let runtime_stage = &instructions[*runtime_start..];
    let install = runtime_stage.iter().find(|i| i.contains("apt-get install")).expect("the runtime installs packages");
    for package in ["ca-certificates", "curl"] {
        assert!(install.contains(package), "the runtime image needs {package}");
    }
    let user = runtime_stage.iter().rev().find_map(|i| i.strip_prefix("USER ")).expect("the runtime sets USER");
    assert!(
        !["root", "0"].contains(&user.split(':').next().unwrap().trim()),
        "the runtime runs as a non-root user, not {user}"
    );
    assert!(
        runtime_stage.iter().any(|i| i.starts_with("COPY --from=builder") && i.ends_with("/usr/local/bin/")),
        "the binaries go to /usr/local/bin"
    );
    for binary in ["ratify-api", "ratify-worker"] {
        assert!(dockerfile.contains(&format!("test -x /out/{binary}")), "the builder checks {binary} was built");
    }

    let ignore = read(".dockerignore");
    let ignored: BTreeSet<&str> = ignore.lines().map(|l| l.trim().trim_end_matches('/')).collect();
    for entry in ["target", ".local", ".git"] {
        assert!(ignored.contains(entry), ".dockerignore must leave out {entry}/");
    }
}
