//! The Dockerfile: a multi-stage build of both binaries into a slim runtime image run as a non-root user.

use std::collections::BTreeSet;

use super::*;

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
