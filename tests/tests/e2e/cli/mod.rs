//! The `ratify` command-line client against a running stack: the built binary is run as
//! a user would run it, and what it prints, its exit code and what it changed in the
//! api are checked. One module per topic; `deps` holds the crate to its dependencies.

mod admin;
mod deps;
mod input;
mod retry;
mod shell;
mod submit;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratify_tests::Stack;

fn ratify_bin() -> PathBuf {
    std::env::var_os("RATIFY_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
        .join("ratify")
}

/// What one run of `ratify` left behind.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The exit codes of docs/cli.md.
const APPLIED: i32 = 0;
const ITEMS_FAILED: i32 = 1;
const USAGE: i32 = 2;
const REFUSED: i32 = 3;
const UNFINISHED: i32 = 4;

/// `ratify --url <url> ARGS` with only `env` (and PATH) in its environment, so the
/// developer's own RATIFY_* variables never leak in.
fn command(url: &str, env: &[(&str, &str)], args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(ratify_bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .arg("--url")
        .arg(url)
        .args(args)
        .kill_on_drop(true);
    command
}

/// Runs `ratify --url <url> ARGS` to its end (see [`command`]).
async fn ratify(url: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let output =
        command(url, env, args).output().await.expect("running ratify (is it built? cargo build --workspace --bins)");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    };
    eprintln!("ratify {args:?} -> {run:?}");
    run
}

/// A command line split into words, `'…'` quoting a word with spaces (no escapes).
fn words(line: &str) -> Vec<&str> {
    line.split('\'')
        .enumerate()
        .flat_map(|(i, part)| if i % 2 == 1 { vec![part] } else { part.split_whitespace().collect() })
        .collect()
}

/// A folder of this test's input files under `target/`.
fn work_dir(stack: &Stack) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/cli-tests").join(&stack.name);
    std::fs::create_dir_all(&dir).expect("creating the test folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing an input file");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The `[code]  count` lines of a `submit --wait` summary.
fn summary(stdout: &str) -> BTreeMap<String, u64> {
    stdout
        .lines()
        .filter(|line| line.starts_with("  ["))
        .map(|line| {
            let (code, count) = line.trim().rsplit_once(' ').expect("code and count");
            (code.trim().to_owned(), count.parse().expect("count"))
        })
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(code, n)| (code.to_string(), *n)).collect()
}

/// The value after `key: ` on a line of `stdout`.
fn field<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
}
