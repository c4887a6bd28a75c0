//! The CLI stays a light HTTP client: `cargo tree` shows none of the server's crates in
//! ratify-cli's normal dependencies, and none of the CLI's in the server's.

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
    for forbidden in ["ratify-cli", "reqwest", "indicatif", "csv", "clap_complete"] {
        assert!(!names.contains(forbidden), "ratify-api depends on {forbidden}: {names:?}");
    }
}
