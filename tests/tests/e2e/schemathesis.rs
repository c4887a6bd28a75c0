//! Schemathesis against the live stack, driven by the api's own `/openapi.json`: generated
//! requests (valid and invalid, every documented operation, plus the coverage and stateful
//! phases) must never get a 5xx, every answer must match the schema the document gives for
//! it, and every status must be one the document lists for that operation.
//!
//! The CLI comes from `.local/venv-schemathesis` (see `deploy/lib/schemathesis.sh`, which
//! this test runs first: it installs the pinned version when it is missing and does nothing
//! otherwise). Two passes: the advertiser routes with an advertiser token whose `aid` path
//! parameter is pinned to the advertiser it is granted (anything else would only ever be
//! `403`), then the `/admin` routes with the admin token. A fixed seed and a bounded number
//! of examples per operation keep the run reproducible and under a time budget.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ratify_tests::Stack;
use reqwest::StatusCode;
use serde_json::json;

const ADVERTISER: i64 = 1001;
/// Schemathesis' own seed: the same requests on every run.
const SEED: u64 = 20_261_121;
/// Test cases per operation and phase.
const MAX_EXAMPLES: u32 = 25;
/// The whole test (both passes) must end within this; a pass still running is killed.
const BUDGET: Duration = Duration::from_secs(160);
const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,\
                      content_type_conformance,response_headers_conformance";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `deploy/lib/schemathesis.sh` (installs the pinned Schemathesis into its venv if it
/// is not there yet) and returns the path of its `st` CLI.
async fn schemathesis_cli() -> PathBuf {
    let script = repo_root().join("deploy/lib/schemathesis.sh");
    let output = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new("bash").arg(&script).kill_on_drop(true).output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{} did not finish within 300 s", script.display()))
    .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{} failed ({}):\n{stderr}", script.display(), output.status);
    eprint!("{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let cli = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    assert!(cli.is_file(), "{} printed {stdout:?}, not the path of the st CLI", script.display());
    cli
}

/// One Schemathesis run; its output goes to `<log_dir>/<name>.log` and is returned.
struct Pass<'a> {
    name: &'a str,
    config: String,
    args: Vec<String>,
    token: &'a str,
}

async fn run_pass(cli: &Path, stack: &Stack, pass: Pass<'_>, deadline: Instant) -> (bool, String) {
    let dir = stack.log_dir();
    let config = dir.join(format!("{}.toml", pass.name));
    // The token reaches Schemathesis through its environment, not its command line.
    let config_text = format!("headers = {{ Authorization = \"Bearer ${{RATIFY_ST_TOKEN}}\" }}\n{}", pass.config);
    std::fs::write(&config, config_text).expect("write the schemathesis config");
    let log_path = dir.join(format!("{}.log", pass.name));
    let log = std::fs::File::create(&log_path).expect("create the schemathesis log");
    let mut command = tokio::process::Command::new(cli);
    command
        .current_dir(dir)
        .env("RATIFY_ST_TOKEN", pass.token)
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", stack.base_url))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", &SEED.to_string()])
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .args(["--generation-database", "none"])
        .arg("--no-color")
        .args(&pass.args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", cli.display()));
    let left = deadline.saturating_duration_since(Instant::now());
    let status = match tokio::time::timeout(left, child.wait()).await {
        Ok(status) => Some(status.expect("wait for schemathesis")),
        Err(_) => {
            let _ = child.kill().await;
            None
        }
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    eprintln!("schemathesis pass {} took {:.1?}", pass.name, started.elapsed());
    match status {
        Some(status) => (status.success(), output),
        None => (false, format!("{output}\n--- killed: the pass ran past the test's {BUDGET:?} budget ---")),
    }
}

/// `ratify_http_requests_total` of the api, as (route, method, status, count).
async fn request_counts(stack: &Stack) -> Vec<(String, String, String, f64)> {
    let text = reqwest::get(format!("{}/metrics", stack.base_url))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    let label = |line: &str, name: &str| -> String {
        let start = line.find(&format!("{name}=\"")).map(|i| i + name.len() + 2);
        start.and_then(|s| line[s..].find('"').map(|e| line[s..s + e].to_owned())).unwrap_or_default()
    };
    text.lines()
        .filter(|line| line.starts_with("ratify_http_requests_total{"))
        .map(|line| {
            let count = line.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
            (label(line, "route"), label(line, "method"), label(line, "status"), count)
        })
        .collect()
}

/// An advertiser with two groups, a token, recorded transactions and finished jobs that
/// approved, declined and amended some of them, so reads answer with history and outcomes.
async fn seed(stack: &Stack) -> String {
    let admin = stack.admin();
    admin
        .create_advertiser(
            ADVERTISER,
            "SEK",
            &[("DEFAULT", "percentage", json!(10)), ("EXISTING", "percentage", json!(5))],
        )
        .await;
    let token = admin.create_token(&[ADVERTISER]).await;
    let client = stack.client(&token);
    let mut rows: Vec<serde_json::Value> = (0..6)
        .map(|i| {
            json!({"orderRef": format!("ST-{i}"), "transactionDate": "2026-11-14T10:15:00",
                   "timezone": "Europe/Stockholm", "saleAmount": 125.50, "currency": "SEK",
                   "transactionParts": [{"commissionGroupCode": "DEFAULT", "amount": 100},
                                        {"commissionGroupCode": "EXISTING", "amount": 25.50}],
                   "publisherId": 42, "clickRef": format!("click-{i}")})
        })
        .collect();
    rows.push(json!({"orderRef": "ST-plain", "transactionDate": "2026-11-20T23:30:00", "timezone": "UTC",
                     "saleAmount": 80, "currency": "SEK"}));
    let ids = client.record(ADVERTISER, &serde_json::Value::Array(rows)).await;
    let job = client
        .run(
            ADVERTISER,
            &json!([
                {"action": "approve", "transaction": {"transactionId": ids[0]}},
                {"action": "decline", "transaction": {"orderRef": "ST-1", "transactionDate": "2026-11-14T10:15:00",
                                                      "timezone": "Europe/Stockholm", "declineReason": "returned"}},
                {"action": "amend", "approve": true, "transaction": {"transactionId": ids[2].to_string(),
                    "amendReason": "partial return", "currency": "SEK", "saleAmount": 55.96,
                    "transactionParts": [{"amount": 44.76, "commissionGroupCode": "DEFAULT"},
                                         {"amount": 11.20, "commissionGroupCode": "EXISTING"}]}},
                {"action": "approve", "transaction": {"transactionId": 999_999_999}},
                {"action": "approve", "transaction": {"transactionId": ids[0]}},
                {"action": "bogus"}
            ]),
        )
        .await;
    let codes: Vec<&str> = (0..6).map(|i| job.code(i)).collect();
    assert_eq!(
        codes,
        ["[200 OK]", "[200 OK]", "[200 OK]", "[404 NOT_FOUND]", "[304 NOT_MODIFIED]", "[400 BAD_REQUEST]"],
        "{:?}",
        job.body
    );
    token
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_server_error_nor_schema_mismatch() {
    let cli = schemathesis_cli().await;
    let started = Instant::now();
    let deadline = started + BUDGET;
    let stack = Stack::builder()
        .workers(1)
        // Hundreds of requests a minute from one token: the per-token rate limit (when the api
        // has one) would turn most of them into 429s and hide the routes behind it.
        .env("RATIFY_RATE_LIMIT_PER_MINUTE", 0)
        .start()
        .await;
    let token = seed(&stack).await;
    let jobs_before: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE advertiser_id = $1")
        .bind(ADVERTISER)
        .fetch_one(&stack.db)
        .await
        .expect("count jobs");

    // Pass 1: everything but /admin, as the advertiser.
    let advertiser = Pass {
        name: "schemathesis-advertiser",
        config: format!("[parameters]\n\"path.aid\" = {ADVERTISER}\n"),
        args: vec!["--exclude-path-regex".into(), "^/admin/".into()],
        token: &token,
    };
    let (ok, output) = run_pass(&cli, &stack, advertiser, deadline).await;
    assert!(ok, "Schemathesis found failures on the advertiser routes:\n{output}");

    // The pass really reached the advertiser's data: no 403 (aid was pinned), and batches
    // were accepted and jobs read.
    let counts = request_counts(&stack).await;
    let total = |route: &str, method: &str, status: &dyn Fn(&str) -> bool| -> f64 {
        counts.iter().filter(|(r, m, s, _)| r.starts_with(route) && m == method && status(s)).map(|c| c.3).sum()
    };
    let forbidden: f64 =
        counts.iter().filter(|(r, _, s, _)| r.starts_with("/advertisers/") && s == "403").map(|c| c.3).sum();
    assert_eq!(forbidden, 0.0, "requests for another advertiser than the token's: {counts:?}");
    let ok_status = |s: &str| s.starts_with('2');
    assert!(total("/advertisers/{aid}/transactions/batch", "POST", &ok_status) > 0.0, "no batch accepted: {counts:?}");
    assert!(total("/advertisers/{aid}/transactions/jobs/", "GET", &ok_status) > 0.0, "no job read: {counts:?}");
    assert!(total("/advertisers/{aid}/transactions/{id}", "GET", &ok_status) > 0.0, "no transaction read: {counts:?}");
    let jobs_after: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE advertiser_id = $1")
        .bind(ADVERTISER)
        .fetch_one(&stack.db)
        .await
        .expect("count jobs");
    assert!(jobs_after > jobs_before, "Schemathesis' batches created no job");

    // Pass 2: /admin only, as the operator. The commission-group route is pinned to the
    // existing advertiser so that its 200 answers are exercised too.
    let admin = Pass {
        name: "schemathesis-admin",
        config: format!(
            "[[operations]]\ninclude-path = \"/admin/advertisers/{{id}}/commission-groups/{{code}}\"\n\
             parameters = {{ \"path.id\" = {ADVERTISER} }}\n"
        ),
        args: vec!["--include-path-regex".into(), "^/admin/".into()],
        token: &stack.admin_token,
    };
    let (ok, output) = run_pass(&cli, &stack, admin, deadline).await;
    assert!(ok, "Schemathesis found failures on the /admin routes:\n{output}");
    let counts = request_counts(&stack).await;
    let created: f64 =
        counts.iter().filter(|(r, m, s, _)| r == "/admin/tokens" && m == "POST" && s == "201").map(|c| c.3).sum();
    assert!(created > 0.0, "the admin pass created no token: was the admin token sent? {counts:?}");

    // The api is still up and ready after all that.
    let ready = reqwest::get(format!("{}/ready", stack.base_url)).await.expect("GET /ready");
    assert_eq!(ready.status(), StatusCode::OK);
    eprintln!("schemathesis test took {:.1?}", started.elapsed());
    assert!(started.elapsed() < BUDGET + Duration::from_secs(15), "the test ran too long");
}
