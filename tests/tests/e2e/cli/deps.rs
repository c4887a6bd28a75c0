//! The crate graph of the README's architecture section, held with `cargo tree`: the CLI
//! stays a light HTTP client (none of the server's crates in its normal dependencies, and
//! none of the CLI's in the server's), the domain does no I/O, the bodies link no server,
//! and the worker speaks no HTTP.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The package names in `cargo tree -p PACKAGE -e normal`, from the lock file alone.
fn dependencies(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let output = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "-p", package, "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("running cargo tree");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&output.stderr));
    let names: BTreeSet<String> =
        stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect();
    assert!(names.contains(package), "cargo tree printed no {package}:\n{stdout}");
    names
}

#[test]
fn the_cli_depends_on_no_server_crate() {
    let names = dependencies("ratify-cli");
    // The scan sees what the CLI is made of: an HTTP client over rustls, speaking the
    // api's own bodies.
    for expected in ["reqwest", "rustls", "clap", "backon", "ratify-wire"] {
        assert!(names.contains(expected), "ratify-cli without {expected}? {names:?}");
    }
    // utoipa: the bodies come without their OpenAPI schemas, which only the api needs.
    for forbidden in ["ratify-shared", "sqlx", "sqlx-core", "lapin", "axum", "axum-core", "openssl", "utoipa"] {
        assert!(!names.contains(forbidden), "ratify-cli depends on {forbidden}: {names:?}");
    }
}

#[test]
fn the_server_depends_on_none_of_the_cli_s_crates() {
    let names = dependencies("ratify-api");
    assert!(names.contains("axum"), "{names:?}");
    // csv is not among them: the console's downloads write CSV as the CLI's exports do.
    for forbidden in ["ratify-cli", "reqwest", "indicatif", "clap_complete"] {
        assert!(!names.contains(forbidden), "ratify-api depends on {forbidden}: {names:?}");
    }
}

#[test]
fn the_domain_depends_on_no_io_crate() {
    let names = dependencies("ratify-domain");
    assert!(names.contains("rust_decimal"), "{names:?}");
    for forbidden in ["ratify-shared", "sqlx", "sqlx-core", "lapin", "tokio", "axum", "reqwest", "utoipa"] {
        assert!(!names.contains(forbidden), "ratify-domain depends on {forbidden}: {names:?}");
    }
}

#[test]
fn the_bodies_depend_on_the_domain_and_no_server() {
    let names = dependencies("ratify-wire");
    assert!(names.contains("ratify-domain"), "{names:?}");
    for forbidden in ["ratify-shared", "sqlx", "sqlx-core", "lapin", "axum", "tokio"] {
        assert!(!names.contains(forbidden), "ratify-wire depends on {forbidden}: {names:?}");
    }
}

#[test]
fn the_worker_serves_no_http_and_the_api_speaks_no_amqp_of_its_own() {
    let worker = dependencies("ratify-worker");
    assert!(worker.contains("lapin") && worker.contains("ratify-shared"), "{worker:?}");
    for forbidden in ["axum", "axum-core", "ratify-wire", "utoipa"] {
        assert!(!worker.contains(forbidden), "ratify-worker depends on {forbidden}: {worker:?}");
    }
    // Its one HTTP client posts webhooks, through ratify-webhooks, which knows no storage.
    let manifest = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../worker/Cargo.toml"))
        .expect("worker/Cargo.toml");
    assert!(!manifest.lines().any(|l| l.trim_start().starts_with("reqwest")), "worker/Cargo.toml names reqwest");
    let webhooks = dependencies("ratify-webhooks");
    assert!(webhooks.contains("reqwest") && webhooks.contains("hmac"), "{webhooks:?}");
    for forbidden in ["ratify-shared", "sqlx", "lapin", "axum"] {
        assert!(!webhooks.contains(forbidden), "ratify-webhooks depends on {forbidden}: {webhooks:?}");
    }
    // The api reaches RabbitMQ only through ratify-shared: lapin is in its tree through
    // that crate, never as a dependency of its own.
    let manifest = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/Cargo.toml"))
        .expect("api/Cargo.toml");
    assert!(!manifest.lines().any(|l| l.trim_start().starts_with("lapin")), "api/Cargo.toml names lapin");
}
