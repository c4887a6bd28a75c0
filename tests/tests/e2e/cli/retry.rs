//! `Retry-After`: a rate-limited token's submit and its `--wait` polls are asked again
//! after the seconds the api names (429), and so is a submit while Postgres is down (503,
//! on private servers).

use std::process::Stdio;
use std::time::{Duration, Instant};

use ratify_tests::servers::Servers;
use ratify_tests::Stack;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::*;

/// The waits the CLI announced on stderr: `… asking again in 2.0 s (Retry-After)`.
fn retry_after_waits(stderr: &str) -> Vec<f64> {
    stderr
        .lines()
        .filter(|l| l.ends_with("s (Retry-After)"))
        .filter_map(|l| l.rsplit_once("asking again in ")?.1.split(' ').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_submit_and_its_wait_honour_retry_after() {
    // 20 calls a minute: one comes back every 3 s.
    let stack = Stack::builder().workers(1).env("RATIFY_RATE_LIMIT_PER_MINUTE", 20).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "SO", 1).await;
    let file = write(&dir, "a.csv", &format!("action,transactionId\napprove,{}\n", ids[0]));
    // Spend the token's allowance.
    let mut spent = false;
    for _ in 0..40 {
        let (status, _) = client.get("/advertisers/1001/transactions/jobs").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            spent = true;
            break;
        }
    }
    assert!(spent, "the allowance of 20 a minute was never spent");

    let started = Instant::now();
    let run = ratify(url, &[("RATIFY_TOKEN", &token)], &["submit", &file, "--advertiser", "1001", "--wait"]).await;
    let took = started.elapsed().as_secs_f64();
    assert_eq!(run.code, APPLIED, "{run:?}");
    assert_eq!(summary(&run.stdout), counts(&[("[200 OK]", 1)]), "{run:?}");
    assert!(run.stderr.contains("RATE_LIMITED: "), "{run:?}");
    let waits = retry_after_waits(&run.stderr);
    // The submit itself, then the polls of --wait (each right after a granted call).
    assert!(waits.len() >= 2, "{run:?}");
    assert!(waits.iter().all(|w| (1.0..=3.0).contains(w)), "the api's Retry-After, in seconds: {waits:?}");
    let waited: f64 = waits.iter().sum();
    assert!(took >= waited, "ran {took:.1} s but announced {waited:.1} s of waits");
    // Read from the database: the token is still out of calls.
    let status: String = sqlx::query_scalar("SELECT commission_status FROM transactions WHERE id = $1")
        .bind(ids[0])
        .fetch_one(&stack.db)
        .await
        .expect("the transaction");
    assert_eq!(status, "approved");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submit_while_postgres_is_down_is_sent_again_when_it_is_back() {
    let servers = Servers::start("cli-retry-after").await;
    let stack = Stack::builder().servers(&servers.database_admin_url, &servers.amqp_url).workers(1).start().await;
    let url = stack.base_url.as_str();
    let dir = work_dir(&stack);
    stack.admin().create_advertiser(1001, "SEK", &[]).await;
    let token = stack.admin().create_token(&[1001]).await;
    let client = stack.client(&token);
    let ids = client.record_simple(1001, "SEK", "SO", 1).await;
    let file = write(&dir, "a.csv", &format!("action,transactionId\napprove,{}\n", ids[0]));

    servers.stop_postgres().await;
    let mut child = command(url, &[("RATIFY_TOKEN", &token)], &["submit", &file, "--advertiser", "1001", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running ratify");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = String::new();
    // The CLI announces its wait after the api's 503: only then does Postgres come back.
    let announced = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stderr.next_line().await.expect("reading stderr") {
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("SERVICE_UNAVAILABLE: ") && line.ends_with("s (Retry-After)") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(announced, Ok(true), "no retry announced after a 503: {seen}");
    servers.start_postgres().await;

    let rest = tokio::spawn(async move {
        let mut rest = String::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    });
    let mut stdout = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).await.expect("reading stdout");
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait()).await.expect("ratify ends").unwrap();
    let rest = rest.await.unwrap_or_default();
    assert_eq!(status.code(), Some(APPLIED), "stdout {stdout}\nstderr {seen}{rest}");
    assert_eq!(summary(&stdout), counts(&[("[200 OK]", 1)]), "{stdout}");
    assert_eq!(client.transaction(1001, ids[0]).await["commissionStatus"], "approved");
    let _ = std::fs::remove_dir_all(dir);
}
