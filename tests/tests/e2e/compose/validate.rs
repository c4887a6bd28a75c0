//! Compose's own check of the file (`config -q`), with the operator's ADMIN_TOKEN and without
//! it, alone and with the cluster override.

use std::process::{Command, Output, Stdio};

use super::*;

/// Compose, as found: the `docker compose` plugin, or a standalone `docker-compose`
/// (v2, or Debian's v1.29). The second value is true for v1.
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

/// `<compose> -p ratify -f FILE... <args>` with `admin_token` (or none) in an otherwise
/// empty environment, so that no DATABASE_URL or ADMIN_TOKEN of the caller's shell leaks
/// in. The same files for v1 and v2: they have no v2-only keys. Returns the output and
/// the program as described.
pub(super) fn run_compose(files: &[&str], admin_token: Option<&str>, args: &[&str]) -> (Output, String) {
    let Some((program, v1)) = find_compose() else {
        panic!(
            "docker-compose is not installed, so {files:?} cannot be validated: install it \
             (`apt-get install -y docker-compose`; `deploy/local.sh test` does) or the `docker compose` plugin"
        )
    };
    let mut cmd = Command::new(program[0]);
    cmd.args(&program[1..]).env_clear().stdin(Stdio::null());
    for keep in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(keep) {
            cmd.env(keep, value);
        }
    }
    if let Some(token) = admin_token {
        cmd.env("ADMIN_TOKEN", token);
    }
    cmd.current_dir(checkout()).args(["-p", "ratify"]);
    for file in files {
        cmd.args(["-f", file]);
    }
    cmd.args(args);
    let described = format!("{} ({})", program.join(" "), if v1 { "v1" } else { "v2" });
    (cmd.output().unwrap_or_else(|e| panic!("running {described}: {e}")), described)
}

fn compose_config(admin_token: Option<&str>) -> (Output, String) {
    run_compose(&[COMPOSE_FILE], admin_token, &["config", "-q"])
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
fn compose_validates_the_cluster_override_over_the_file() {
    let files = [COMPOSE_FILE, CLUSTER_FILE];
    let (output, compose) = run_compose(&files, Some(TEST_ADMIN_TOKEN), &["config", "-q"]);
    assert!(
        output.status.success(),
        "{compose} config -q rejected {files:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{files:?} validated by {compose}");
}
