//! The Dockerfile: a multi-stage build of both binaries into a slim runtime image run as a
//! non-root user, and the `prebuilt` target that ships binaries built on the host.

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

/// One build stage: its name, its base (build arguments expanded) and its instructions.
struct Stage {
    name: String,
    from: String,
    body: Vec<String>,
}

fn stages(instructions: &[String]) -> Vec<Stage> {
    let args: BTreeMap<String, String> = instructions
        .iter()
        .filter_map(|i| i.strip_prefix("ARG "))
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    let expand = |s: &str| args.iter().fold(s.to_owned(), |s, (k, v)| s.replace(&format!("${{{k}}}"), v));
    let mut out: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if let Some(from) = instruction.strip_prefix("FROM ") {
            let words: Vec<&str> = from.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => (*name).to_owned(),
                _ => panic!("{DOCKERFILE}: every stage is named: FROM {from}"),
            };
            out.push(Stage { name, from: expand(words[0]), body: Vec::new() });
        } else if let Some(stage) = out.last_mut() {
            stage.body.push(instruction.clone());
        }
    }
    out
}

fn non_root_user(stage: &Stage) {
    let user = stage
        .body
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .unwrap_or_else(|| panic!("{} sets USER", stage.name));
    assert!(!["root", "0"].contains(&user.split(':').next().unwrap().trim()), "{} runs as root ({user})", stage.name);
}

#[test]
fn dockerfile_builds_and_ships_both_binaries() {
    let dockerfile = read(DOCKERFILE);
    let stages = stages(&instructions(&dockerfile));
    let position = |name: &str| {
        stages.iter().position(|s| s.name == name).unwrap_or_else(|| panic!("{DOCKERFILE} has no stage {name}"))
    };
    let (base, prebuilt, builder, runtime) =
        (position("runtime-base"), position("prebuilt"), position("builder"), position("runtime"));
    assert_eq!(runtime, stages.len() - 1, "runtime is the last stage, so the default target");
    assert!(
        prebuilt < builder,
        "the classic builder runs every stage before its target: prebuilt must precede the builder"
    );
    assert_eq!(stages[base].from, "debian:bookworm-slim", "the runtime's default base");
    assert!(
        stages[builder].from.starts_with("rust:") && stages[builder].from.ends_with("-bookworm"),
        "builder {:?}: rust on bookworm (glibc of the runtime)",
        stages[builder].from
    );
    for shipped in [prebuilt, runtime] {
        assert_eq!(stages[shipped].from, "runtime-base", "{} is made on runtime-base", stages[shipped].name);
        non_root_user(&stages[shipped]);
    }

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

    let builds: Vec<&String> = stages[builder].body.iter().filter(|i| i.contains("cargo build")).collect();
    assert!(builds.len() >= 2, "{DOCKERFILE}: dependencies are built first, then the sources");
    for build in builds {
        for flag in ["--release", "--locked", "--bins", "-p ratify-api", "-p ratify-worker"] {
            assert!(build.contains(flag), "{DOCKERFILE}: cargo build without {flag}: {build}");
        }
    }
    for binary in ["ratify-api", "ratify-worker"] {
        assert!(dockerfile.contains(&format!("test -x /out/{binary}")), "the builder checks {binary} was built");
    }

    let install =
        stages[base].body.iter().find(|i| i.contains("apt-get install")).expect("the runtime installs packages");
    for package in ["ca-certificates", "curl"] {
        assert!(install.contains(package), "the runtime image needs {package}");
    }
    assert!(stages[base].body.iter().any(|i| i.contains("useradd")), "runtime-base makes the unprivileged user");
    assert!(
        stages[runtime].body.iter().any(|i| i.starts_with("COPY --from=builder") && i.ends_with("/usr/local/bin/")),
        "the compiled binaries go to /usr/local/bin"
    );
    assert!(
        stages[prebuilt].body.iter().any(|i| i == "COPY deploy/images/ratify/bin/ /usr/local/bin/"),
        "the prebuilt binaries come from deploy/images/ratify/bin/ and go to /usr/local/bin"
    );

    let ignore = read(".dockerignore");
    let ignored: BTreeSet<&str> = ignore.lines().map(|l| l.trim().trim_end_matches('/')).collect();
    for entry in ["target", ".local", ".git"] {
        assert!(ignored.contains(entry), ".dockerignore must leave out {entry}/");
    }
    assert!(!ignored.contains("deploy"), ".dockerignore must keep deploy/images/ratify/bin/");
}
