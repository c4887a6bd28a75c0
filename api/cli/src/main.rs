//! `ratify`: the command-line client of Ratify's HTTP api, for finance teams (submit a
//! batch from a JSON or CSV file, follow the job, export what failed) and for operators
//! (advertisers, commission groups, tokens); docs/cli.md is its manual.
//!
//! This crate owns the command line, the reading of batch files, the retry policy and
//! what is printed. It is a pure HTTP client: it may depend on an HTTP client (reqwest
//! over rustls), clap, serde, the api's bodies (`ratify-wire`, without its OpenAPI schemas)
//! and small helpers, never on the server's crates (ratify-shared) or on sqlx, lapin or
//! axum, so it builds in seconds and installs anywhere with `cargo install --path api/cli`.
//! The tests hold it to that with `cargo tree`.

mod admin;
mod args;
mod batch;
mod client;
mod csv_input;
mod error;
mod job;
mod number;
mod output;
mod retry;
mod submit;
mod validate;
mod webhook;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use crate::args::{AdvertiserCommand, Cli, Command, GroupCommand, JobArgs, JobControl, TokenCommand, WebhookCommand};
use crate::client::Api;
use crate::error::{exit, CliError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            for line in e.lines().iter().filter(|l| !l.is_empty()) {
                eprintln!("error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<u8, CliError> {
    let user = || Api::new(&cli.url, cli.token.clone(), "set RATIFY_TOKEN or pass --token");
    let admin = || Api::new(&cli.url, cli.admin_token.clone(), "set RATIFY_ADMIN_TOKEN or pass --admin-token");
    let json = cli.json;
    match &cli.command {
        Command::Submit(args) => {
            let limits = batch::Limits {
                items: usize::try_from(args.max_items).unwrap_or(usize::MAX),
                bytes: usize::try_from(args.max_bytes).unwrap_or(usize::MAX),
            };
            let submit = submit::Submit {
                file: &args.file,
                format: args.format,
                advertiser: args.advertiser,
                idempotency_key: args.idempotency_key.as_deref(),
                limits,
                wait: args.wait,
                timeout: Duration::from_secs(args.timeout),
                json,
                dry_run: args.dry_run,
            };
            submit::run(&user()?, submit).await
        }
        Command::Job(JobArgs { control: Some(JobControl::Cancel(job)), .. }) => {
            job::cancel(&user()?, job.advertiser, &job.id, json).await
        }
        Command::Job(JobArgs { control: Some(JobControl::Retry(job)), .. }) => {
            job::retry(&user()?, job.advertiser, &job.id, json).await
        }
        Command::Job(args) => {
            let (Some(id), Some(advertiser)) = (&args.id, args.advertiser) else {
                return Err(CliError::Usage("ratify job needs a jobId and --advertiser".to_owned()));
            };
            let items = match (args.errors, args.all) {
                (true, _) => job::Items::Errors,
                (_, true) => job::Items::All,
                _ => job::Items::None,
            };
            job::show(&user()?, advertiser, id, items, args.csv, json).await
        }
        Command::Validate(args) => {
            let validate = validate::Validate {
                advertiser: args.advertiser,
                transaction: args.transaction,
                action: match args.action {
                    args::Action::Approve => ratify_wire::ActionKind::Approve,
                    args::Action::Decline => ratify_wire::ActionKind::Decline,
                    args::Action::Amend => ratify_wire::ActionKind::Amend,
                },
                reason: args.reason.as_deref(),
                approve: args.approve,
                currency: args.currency.as_deref(),
                sale: args.sale.as_deref(),
                parts: &args.parts,
                json,
            };
            validate::run(&user()?, validate).await
        }
        Command::Jobs(args) => job::list(&user()?, args.advertiser, args.limit, args.all_pages, json).await,
        Command::Advertiser(AdvertiserCommand::Create { id, name, currency, groups }) => {
            admin::create_advertiser(&admin()?, *id, name, currency, groups.clone(), json).await
        }
        Command::Webhook(WebhookCommand::Set { advertiser, endpoint, secret }) => {
            webhook::set(&user()?, *advertiser, endpoint, secret, json).await
        }
        Command::Webhook(WebhookCommand::Show { advertiser }) => webhook::show(&user()?, *advertiser, json).await,
        Command::Webhook(WebhookCommand::Delete { advertiser }) => webhook::delete(&user()?, *advertiser).await,
        Command::Webhook(WebhookCommand::Test { advertiser, timeout }) => {
            webhook::test(&user()?, *advertiser, Duration::from_secs(*timeout), json).await
        }
        Command::Advertiser(AdvertiserCommand::Set { id, validation_period_days }) => {
            admin::set_advertiser(&admin()?, *id, *validation_period_days, json).await
        }
        Command::Group(GroupCommand::Set { advertiser, code, name, kind, value }) => {
            let group = admin::group(None, name, kind, value).map_err(CliError::Usage)?;
            admin::set_group(&admin()?, *advertiser, code, group, json).await
        }
        Command::Token(TokenCommand::Create { name, advertisers }) => {
            admin::create_token(&admin()?, name, advertisers, json).await
        }
        Command::Token(TokenCommand::Revoke { id }) => admin::revoke_token(&admin()?, id, json).await,
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "ratify", &mut std::io::stdout().lock());
            Ok(exit::APPLIED)
        }
    }
}
