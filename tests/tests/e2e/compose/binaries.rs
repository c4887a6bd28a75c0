//! The commands and environment held against the binaries: what they run exists, what they set is read.

use std::collections::BTreeSet;
use std::process::Command;

use super::*;

/// Environment variable names named by string literals in the Rust sources under `dirs`:
/// `"RATIFY_…"`, `"DATABASE_URL"`, `"DATABASE_READ_URL"`, `"AMQP_URL"`, `"AMQP_URLS"`,
/// `"API_ADDR"`, `"ADMIN_TOKEN"`. (Every variable is read through `shared::config`'s
/// `var`/`required`/`optional` by such a literal.)
pub(super) fn variables_read_in(dirs: &[&str]) -> BTreeSet<String> {
    const EXACT: [&str; 6] = ["DATABASE_URL", "DATABASE_READ_URL", "AMQP_URL", "AMQP_URLS", "API_ADDR", "ADMIN_TOKEN"];
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
