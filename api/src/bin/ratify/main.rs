//! `ratify`: the command-line client of Ratify's HTTP api, for finance teams (submit a
//! batch from a JSON or CSV file, follow the job, export what failed) and for operators
//! (advertisers, commission groups, tokens). A pure HTTP client: it shares no code with
//! the server. Exit codes: 0 done, 1 the api said no (or a job had errors), 2 bad input.

mod admin;
mod client;
mod csv_input;
mod job;
mod number;
mod output;
mod submit;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::{Api, CliError};

#[derive(Parser)]
#[command(name = "ratify", version, about = "Command-line client of Ratify's transaction validation api")]
struct Cli {
    /// The api's base URL.
    #[arg(long, global = true, env = "RATIFY_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A token granted the advertiser (submit, job, jobs).
    #[arg(long, global = true, env = "RATIFY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The operator's admin token (advertiser, group, token).
    #[arg(long, global = true, env = "RATIFY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Submit a batch of actions from a JSON array or a CSV file; prints the jobId.
    Submit(SubmitArgs),
    /// Show a job: its summary, or its items with --errors / --all.
    Job(JobArgs),
    /// List the advertiser's jobs of the last 60 days, newest first.
    Jobs(JobsArgs),
    /// Advertisers (admin).
    #[command(subcommand)]
    Advertiser(AdvertiserCommand),
    /// Commission groups (admin).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Api tokens (admin).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Args)]
struct SubmitArgs {
    /// The batch: a JSON array of actions, or a CSV file (by its .csv extension or --format).
    file: PathBuf,
    #[arg(long)]
    advertiser: i64,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    format: Option<submit::Format>,
    /// Submitting again with the same key within 24 h returns the first job.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Follow the job until it is DONE, then print a summary by outcome.
    #[arg(long)]
    wait: bool,
    /// With --wait: give up waiting after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    timeout: u64,
}

#[derive(Args)]
struct JobArgs {
    /// The jobId that submit printed.
    id: String,
    #[arg(long)]
    advertiser: i64,
    /// List the failed items.
    #[arg(long, conflicts_with = "all")]
    errors: bool,
    /// List every item.
    #[arg(long)]
    all: bool,
    /// List the items as CSV (all of them unless --errors).
    #[arg(long)]
    csv: bool,
}

#[derive(Args)]
struct JobsArgs {
    #[arg(long)]
    advertiser: i64,
    /// Jobs per page (the api's default is 50, at most 500).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    limit: Option<u32>,
    /// Follow the pages to the end.
    #[arg(long)]
    all_pages: bool,
}

#[derive(Subcommand)]
enum AdvertiserCommand {
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
        #[arg(long = "group", value_name = "CODE:NAME:TYPE:VALUE", value_parser = admin::Group::parse)]
        groups: Vec<admin::Group>,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create or change one commission group of an advertiser.
    Set {
        #[arg(long)]
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
enum TokenCommand {
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(CliError::ClosedOutput) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<u8, CliError> {
    let user = || Api::new(&cli.url, cli.token.clone(), "set RATIFY_TOKEN or pass --token");
    let admin = || Api::new(&cli.url, cli.admin_token.clone(), "set RATIFY_ADMIN_TOKEN or pass --admin-token");
    match &cli.command {
        Command::Submit(args) => {
            let submit = submit::Submit {
                file: &args.file,
                format: args.format,
                advertiser: args.advertiser,
                idempotency_key: args.idempotency_key.as_deref(),
                wait: args.wait,
                timeout: Duration::from_secs(args.timeout),
            };
            submit::run(&user()?, submit).await
        }
        Command::Job(args) => {
            let items = match (args.errors, args.all) {
                (true, _) => job::Items::Errors,
                (_, true) => job::Items::All,
                _ => job::Items::None,
            };
            job::show(&user()?, args.advertiser, &args.id, items, args.csv).await
        }
        Command::Jobs(args) => job::list(&user()?, args.advertiser, args.limit, args.all_pages).await,
        Command::Advertiser(AdvertiserCommand::Create { id, name, currency, groups }) => {
            admin::create_advertiser(&admin()?, *id, name, currency, groups.clone()).await
        }
        Command::Group(GroupCommand::Set { advertiser, code, name, kind, value }) => {
            let group = admin::Group::new(None, name, kind, value).map_err(CliError::Usage)?;
            admin::set_group(&admin()?, *advertiser, code, group).await
        }
        Command::Token(TokenCommand::Create { name, advertisers }) => {
            admin::create_token(&admin()?, name, advertisers).await
        }
        Command::Token(TokenCommand::Revoke { id }) => admin::revoke_token(&admin()?, id).await,
    }
}
