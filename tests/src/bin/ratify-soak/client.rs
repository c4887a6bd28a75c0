//! One soak client: rounds of recording fresh transactions and submitting a batch of
//! good, malformed and hostile items over its own transactions, each checked against
//! its model once the job is DONE. Now and then a whole request that must be refused.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ratify_tests::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::model::{self, Intent, State, RECORDED_SALE};

pub const ADVERTISER: i64 = 4242;
/// How long one job may take to reach DONE, faults included.
const JOB_DEADLINE: Duration = Duration::from_secs(180);

/// What a client saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub jobs: u64,
    pub items: u64,
    pub codes: BTreeMap<String, u64>,
    pub refused_requests: u64,
    pub server_errors: u64,
    pub violations: Vec<String>,
    /// The client's transactions as the model has them.
    pub model: HashMap<i64, State>,
}

impl Tally {
    fn violation(&mut self, what: String) {
        if self.violations.len() < 20 {
            eprintln!("soak: VIOLATION {what}");
        }
        self.violations.push(what);
    }

    fn status(&mut self, status: StatusCode) {
        if status.is_server_error() {
            self.server_errors += 1;
        }
    }
}

pub struct SoakClient {
    pub n: usize,
    pub client: Client,
    pub until: Instant,
}

impl SoakClient {
    pub async fn run(self) -> Tally {
        let mut tally = Tally::default();
        let mut rng = StdRng::seed_from_u64(self.n as u64);
        let mut ids: Vec<i64> = Vec::new();
        let mut round = 0_usize;
        while Instant::now() < self.until {
            round += 1;
            if round.is_multiple_of(5) {
                self.refused_request(&mut tally, round).await;
            }
            let fresh = rng.gen_range(100..600);
            match self.record(fresh, round).await {
                Ok(new) => {
                    for id in &new {
                        tally.model.insert(*id, State::recorded());
                    }
                    ids.extend(new);
                }
                Err((status, body)) => {
                    tally.status(status);
                    tally.violation(format!("client {}: recording answered {status}: {body}", self.n));
                    continue;
                }
            }
            let size = rng.gen_range(50..3000);
            let intents: Vec<Intent> = (0..size).map(|_| intent(&mut rng, &ids)).collect();
            self.round(&mut tally, &intents, &mut rng).await;
        }
        tally
    }

    async fn record(&self, n: usize, round: usize) -> Result<Vec<i64>, (StatusCode, Value)> {
        let rows: Vec<Value> = (0..n)
            .map(|i| {
                json!({"orderRef": format!("soak-{}-{round}-{i}", self.n), "transactionDate": "2026-11-14T10:15:00",
                       "timezone": "Europe/Stockholm", "saleAmount": RECORDED_SALE, "currency": "EUR"})
            })
            .collect();
        let (status, body) =
            self.client.post(&format!("/advertisers/{ADVERTISER}/transactions"), &Value::Array(rows)).await;
        if status != StatusCode::CREATED {
            return Err((status, body));
        }
        Ok(body["ids"].as_array().map(|ids| ids.iter().filter_map(Value::as_i64).collect()).unwrap_or_default())
    }

    /// A request that must be refused whole, with a 4xx in the error shape.
    async fn refused_request(&self, tally: &mut Tally, round: usize) {
        let path = format!("/advertisers/{ADVERTISER}/transactions/batch");
        let (status, body) = match round % 3 {
            0 => self.client.send_raw(&path, "application/json", b"[{\"action\": \"approve\",".to_vec()).await,
            1 => self.client.send_raw(&path, "application/json", b"{\"not\": \"an array\"}".to_vec()).await,
            _ => {
                let hostile = json!([{"orderRef": "nul\u{0}", "transactionDate": "2026-11-14T10:15:00",
                                      "timezone": "Europe/Stockholm", "saleAmount": 1, "currency": "EUR"}]);
                self.client.post(&format!("/advertisers/{ADVERTISER}/transactions"), &hostile).await
            }
        };
        tally.status(status);
        tally.refused_requests += 1;
        if !status.is_client_error() || body.get("error").is_none() {
            tally.violation(format!("client {}: a bad request answered {status}: {body}", self.n));
        }
    }

    async fn round(&self, tally: &mut Tally, intents: &[Intent], rng: &mut StdRng) {
        let items = Value::Array(intents.iter().map(|i| model::item(i, rng.gen())).collect());
        let (status, body) = self.client.post(&format!("/advertisers/{ADVERTISER}/transactions/batch"), &items).await;
        tally.status(status);
        let Some(job) = body["jobId"].as_str().filter(|_| status == StatusCode::OK) else {
            tally.violation(format!("client {}: submit answered {status}: {body}", self.n));
            return;
        };
        let listed = match self.wait(job, tally).await {
            Some(listed) => listed,
            None => return,
        };
        tally.jobs += 1;
        if listed.len() != intents.len() {
            tally.violation(format!("job {job}: {} items listed for {}", listed.len(), intents.len()));
            return;
        }
        for (index, (intent, outcome)) in intents.iter().zip(&listed).enumerate() {
            let code = outcome["code"].as_str().unwrap_or_default().to_owned();
            let allowed = model::expect(&tally.model, intent);
            if outcome["index"] != json!(index) || !allowed.contains(&code.as_str()) {
                tally.violation(format!(
                    "job {job} item {index} {intent:?}: got {outcome}, expected one of {allowed:?}"
                ));
            }
            if code == "[200 OK]" {
                model::apply(&mut tally.model, intent);
            }
            tally.items += 1;
            *tally.codes.entry(code).or_default() += 1;
        }
    }

    /// Polls until the job is DONE; its items with `output=all`.
    async fn wait(&self, job: &str, tally: &mut Tally) -> Option<Vec<Value>> {
        let path = format!("/advertisers/{ADVERTISER}/transactions/jobs/{job}");
        let started = Instant::now();
        loop {
            let (status, body) = self.client.get(&path).await;
            tally.status(status);
            if body["status"] == "DONE" {
                break;
            }
            if started.elapsed() > JOB_DEADLINE {
                tally.violation(format!("job {job} not DONE after {JOB_DEADLINE:?}: {status} {body}"));
                return None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (status, body) = self.client.get(&format!("{path}?output=all")).await;
        tally.status(status);
        body["allTransactions"].as_array().cloned()
    }
}

/// A random item over the client's transactions, mostly good ones.
fn intent(rng: &mut StdRng, ids: &[i64]) -> Intent {
    let id = ids[rng.gen_range(0..ids.len())];
    match rng.gen_range(0..100) {
        0..=39 => Intent::Approve(id),
        40..=64 => Intent::Decline(id),
        65..=89 => Intent::Amend(id, [50, 80, 100, 120][rng.gen_range(0..4)]),
        90..=95 => Intent::Malformed,
        _ => Intent::Unknown,
    }
}
