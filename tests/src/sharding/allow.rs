//! The statements that are across advertisers by nature. On a Citus-style cluster each
//! is a multi-shard (fan-out) statement: legal, run on every shard in parallel, but not
//! routed to one node, so each must be background or admin work, never a per-request
//! path of an advertiser. Each is recognised by fragments of its text (lowercased,
//! single-spaced); the check fails on one no recorded statement needs any more.

/// One allowed fan-out.
pub struct FanOut {
    pub name: &'static str,
    /// Every fragment must occur in the statement's text.
    pub fragments: &'static [&'static str],
    pub why: &'static str,
}

pub const FAN_OUTS: &[FanOut] = &[
    FanOut {
        name: "chunks::unpublished (outbox relay)",
        fragments: &["from job_chunks c", "where c.published_at is null and c.done_at is null and not c.waiting"],
        why: "the relay looks for chunks of any advertiser the broker never confirmed; background, \
              every few seconds, LIMITed and SKIP LOCKED",
    },
    FanOut {
        name: "chunks::stalled (stall watchdog)",
        fragments: &["from job_chunks c", "where c.published_at is not null and c.done_at is null"],
        why: "the watchdog looks for published chunks of any advertiser no worker finished; background",
    },
    FanOut {
        name: "chunks::finish_settled_jobs (repair sweep)",
        fragments: &["update jobs j set status", "where u.status <> ? and u.created_at < ?"],
        why: "writes DONE the jobs of any advertiser whose last worker died before finishing the row; \
              background, rare",
    },
    FanOut {
        name: "health::backlog (gauges, console health)",
        fragments: &["as unpublished_chunks", "from jobs where status <> ?"],
        why: "counts the whole backlog for /metrics and the console; one statement per scrape",
    },
    FanOut {
        name: "purge::oldest_expired (retention)",
        fragments: &["select advertiser_id, id from jobs where created_at < ? order by created_at limit ?"],
        why: "retention finds the oldest expired job of any advertiser; then deletes it by its key. \
              With monthly partitions this becomes dropping a partition (docs/scaling.md)",
    },
    FanOut {
        name: "auto_approve::due_advertisers (scheduler)",
        fragments: &["from advertisers a", "not exists (select ? from jobs j where j.advertiser_id = a.id"],
        why: "the scheduler walks the advertisers (a reference table) and looks for their running \
              auto-approval job; background, once a tick",
    },
    FanOut {
        name: "jobs::list_all (GET /admin/jobs, console job list)",
        fragments: &["select * from ( select j.id", "?::bigint is null or j.advertiser_id = ?"],
        why: "the admin listing is across advertisers by definition (one advertiser only when filtered)",
    },
    FanOut {
        name: "webhooks::claim (delivery loop)",
        fragments: &["update webhook_deliveries d set attempts", "for update skip locked"],
        why: "the delivery loop claims due deliveries of any advertiser; background, LIMITed, SKIP LOCKED",
    },
];

/// The text fragments are compared against: lowercased, whitespace collapsed, every
/// parameter (which is what `pg_stat_statements` makes of constants too) as `?`.
pub fn collapse(sql: &str) -> String {
    let text = sql.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The allowance a statement's text matches, if any.
pub fn allowance(sql: &str) -> Option<&'static FanOut> {
    let text = collapse(sql);
    FAN_OUTS.iter().find(|f| f.fragments.iter().all(|frag| text.contains(frag)))
}
