//! The command line, as clap parses it: every flag and variable the CLI reads, with the
//! help text users see. `main` turns these into calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::batch::Format;
use ratify_wire::NewGroup;

#[derive(Parser)]
#[command(name = "ratify", version, about = "Command-line client of Ratify's transaction validation api")]
pub struct Cli {
    /// The api's base URL (http:// or https://).
    #[arg(long, global = true, env = "RATIFY_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A token granted the advertiser (submit, job, jobs).
    #[arg(long, global = true, env = "RATIFY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The operator's admin token (advertiser, group, token).
    #[arg(long, global = true, env = "RATIFY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Print one JSON document on stdout instead of text, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Submit a batch of actions from a JSON array or a CSV file; prints the jobId.
    Submit(SubmitArgs),
    /// Show a job: its summary, or its items with --errors / --all.
    Job(JobArgs),
    /// List the advertiser's jobs of the last 60 days, newest first.
    Jobs(JobsArgs),
    /// Apply one action to one transaction now and print its outcome.
    Validate(ValidateArgs),
    /// The advertiser's completion webhook.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Advertisers (admin).
    #[command(subcommand)]
    Advertiser(AdvertiserCommand),
    /// Commission groups (admin).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Api tokens (admin).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print a shell completion script: ratify completions bash > /etc/bash_completion.d/ratify
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
pub struct SubmitArgs {
    /// The batch: a JSON array of actions, or a CSV file (by its .csv extension or --format).
    pub file: PathBuf,
    #[arg(long, env = "RATIFY_ADVERTISER")]
    pub advertiser: i64,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Submitting again with the same key within 24 h returns the first job. Default: one
    /// derived from the bytes sent (sha256), so running the same submit again is safe.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Actions per job: a longer file is sent as several jobs (the api's limit).
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_items: u64,
    /// Bytes per request body: a larger file is sent as several jobs (the api's limit).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    pub max_bytes: u64,
    /// Follow the jobs until they are DONE, then print a summary by outcome.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up waiting after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub timeout: u64,
    /// A dry run: every action gets the outcome it would get now; nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The transaction's id.
    pub transaction: i64,
    #[arg(value_enum)]
    pub action: Action,
    #[arg(long, env = "RATIFY_ADVERTISER")]
    pub advertiser: i64,
    /// The decline's or the amend's reason (required for both).
    #[arg(long)]
    pub reason: Option<String>,
    /// Amend: also approve.
    #[arg(long)]
    pub approve: bool,
    /// Amend: the transaction's currency, e.g. EUR.
    #[arg(long)]
    pub currency: Option<String>,
    /// Amend: the new sale amount, e.g. 55.96.
    #[arg(long)]
    pub sale: Option<String>,
    /// Amend: a part as CODE:AMOUNT, e.g. DEFAULT:44.76 (repeatable).
    #[arg(long = "part", value_name = "CODE:AMOUNT")]
    pub parts: Vec<String>,
}

/// The actions of `ratify validate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    Approve,
    Decline,
    Amend,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct JobArgs {
    #[command(subcommand)]
    pub control: Option<JobControl>,
    /// The jobId that submit printed.
    #[arg(required = true)]
    pub id: Option<String>,
    #[arg(long, env = "RATIFY_ADVERTISER", required = true)]
    pub advertiser: Option<i64>,
    /// List the failed items.
    #[arg(long, conflicts_with = "all")]
    pub errors: bool,
    /// List every item.
    #[arg(long)]
    pub all: bool,
    /// List the items as CSV (all of them unless --errors); reads back as a submit file.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// What `ratify job` can do to a job.
#[derive(Subcommand)]
pub enum JobControl {
    /// Cancel a job: items not applied yet end [409 CANCELLED]; prints the job.
    Cancel(JobRef),
    /// Make a new job of the items that ended [500]; prints its jobId.
    Retry(JobRef),
}

#[derive(Args)]
pub struct JobRef {
    /// The job's id.
    pub id: String,
    #[arg(long, env = "RATIFY_ADVERTISER")]
    pub advertiser: i64,
}

#[derive(Args)]
pub struct JobsArgs {
    #[arg(long, env = "RATIFY_ADVERTISER")]
    pub advertiser: i64,
    /// Jobs per page (the api's default is 50, at most 500).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: Option<u32>,
    /// Follow the pages to the end.
    #[arg(long)]
    pub all_pages: bool,
}

#[derive(Subcommand)]
pub enum AdvertiserCommand {
    /// Create an advertiser with its commission groups (DEFAULT is added at 0 % if not given).
    Create {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        name: String,
        /// ISO 4217 code, e.g. SEK.
        #[arg(long)]
        currency: String,
        /// CODE:NAME:TYPE:VALUE, e.g. EXISTING:Existing customers:percentage:5 (repeatable).
        #[arg(long = "group", value_name = "CODE:NAME:TYPE:VALUE", value_parser = crate::admin::parse_group)]
        groups: Vec<NewGroup>,
    },
    /// Change an advertiser's settings.
    Set {
        #[arg(long)]
        id: i64,
        /// Days after its transaction date that a transaction still pending is approved by the
        /// workers, 0 to 3650, or "never".
        #[arg(long, value_name = "DAYS|never", value_parser = crate::admin::parse_period)]
        validation_period_days: Option<crate::admin::Period>,
    },
}

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Post every job that reaches DONE to ENDPOINT, signed with SECRET (Standard Webhooks).
    Set {
        #[arg(long, env = "RATIFY_ADVERTISER")]
        advertiser: i64,
        /// The receiver's URL, http:// or https:// (--url is the api's).
        #[arg(long)]
        endpoint: String,
        /// 16 to 256 characters; whsec_… (base64) as Standard Webhooks secrets are. Never shown again.
        #[arg(long, env = "RATIFY_WEBHOOK_SECRET")]
        secret: String,
    },
    /// Show the webhook's URL.
    Show {
        #[arg(long, env = "RATIFY_ADVERTISER")]
        advertiser: i64,
    },
    /// Remove the webhook.
    Delete {
        #[arg(long, env = "RATIFY_ADVERTISER")]
        advertiser: i64,
    },
    /// Send a test delivery and follow it; exit 0 once the receiver answered 2xx.
    Test {
        #[arg(long, env = "RATIFY_ADVERTISER")]
        advertiser: i64,
        /// Give up following after this many seconds (the delivery goes on).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
}

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create or change one commission group of an advertiser.
    Set {
        #[arg(long, env = "RATIFY_ADVERTISER")]
        advertiser: i64,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// percentage or fixed.
        #[arg(long = "type")]
        kind: String,
        /// A percentage (0 to 100) or a fixed amount in the advertiser's currency.
        #[arg(long)]
        value: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token granted one or more advertisers; prints its id and the token (once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "advertiser", required = true)]
        advertisers: Vec<i64>,
    },
    /// Revoke a token at once.
    Revoke { id: String },
}
