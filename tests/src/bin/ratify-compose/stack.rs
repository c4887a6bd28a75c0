//! The running stack as the scenarios see it: Compose and Docker commands, SQL through psql
//! in a container, the workers' containers, and polling with a deadline.

use std::fmt::Display;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};

use crate::Args;

/// Seconds since the start, printed beside each step.
pub struct Timeline {
    pub start: Instant,
}

impl Timeline {
    pub fn mark(&self, what: impl Display) {
        println!("{:>7.1} s  {what}", self.start.elapsed().as_secs_f64());
    }
}

pub struct Stack<'a> {
    pub args: &'a Args,
}

impl Stack<'_> {
    /// Runs the compose program on every `--file` with `args`; returns its standard output.
    pub fn compose(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut words = self.args.compose.split_whitespace();
        let program = words.next().context("--compose is empty")?;
        let mut cmd = Command::new(program);
        cmd.args(words);
        for file in &self.args.files {
            cmd.args(["-f", file]);
        }
        cmd.args(args);
        run(cmd)
    }

    pub fn worker_containers(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.compose(&["ps", "-q", "worker"])?.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect())
    }

    pub fn running_workers(&self) -> anyhow::Result<Vec<String>> {
        let mut running = Vec::new();
        for id in self.worker_containers()? {
            if docker(&["inspect", "-f", "{{.State.Running}}", &id])?.trim() == "true" {
                running.push(id);
            }
        }
        Ok(running)
    }

    /// One row of SQL run by psql in the container of `service` (postgres, or the replica).
    pub fn sql_on(&self, service: &str, query: &str) -> anyhow::Result<String> {
        Ok(self
            .compose(&["exec", "-T", service, "psql", "-U", "ratify", "-d", "ratify", "-Atc", query])?
            .trim()
            .to_owned())
    }

    /// One row of SQL on the primary.
    pub fn sql(&self, query: &str) -> anyhow::Result<String> {
        self.sql_on("postgres", query)
    }
}

pub fn run(mut cmd: Command) -> anyhow::Result<String> {
    let described = format!("{cmd:?}");
    let out = cmd.output().with_context(|| format!("starting {described}"))?;
    ensure!(
        out.status.success(),
        "{described} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn docker(args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run(cmd)
}

/// Polls `check` every 500 ms until it gives a value or `deadline` passes.
pub async fn until<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last = String::from("nothing yet");
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last = format!("{e:#}"),
        }
        if start.elapsed() > deadline {
            bail!("{what}: not within {deadline:?} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
