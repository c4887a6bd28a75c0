//! The check over what the suite sent: reads `pg_stat_statements` for the test
//! databases, sets aside the migrations' and the harness's own statements, and walks
//! every other one that names a sharded table.

use std::path::Path;

use sqlx::PgConnection;

use super::allow::{self, FAN_OUTS};
use super::{check, sources, touches_sharded};

/// The distinct statements recorded in test databases (`ratify_t_…`, live or already
/// dropped: a dropped database's entries stay, under an oid no database has any more)
/// since the last `pg_stat_statements_reset()`.
pub async fn recorded(admin: &mut PgConnection) -> sqlx::Result<Vec<Recorded>> {
    sqlx::query_as(
        "SELECT query, sum(calls)::int8 AS calls, sum(total_exec_time)::float8 AS exec_ms FROM pg_stat_statements
         WHERE dbid NOT IN (SELECT oid FROM pg_database WHERE datname NOT LIKE 'ratify\\_t\\_%')
         GROUP BY query",
    )
    .fetch_all(admin)
    .await
}

/// One distinct statement: its text, and how often and how long Postgres ran it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recorded {
    pub query: String,
    pub calls: i64,
    pub exec_ms: f64,
}

/// Executions and execution time of a kind of statement.
#[derive(Debug, Default, Clone, Copy)]
pub struct Load {
    pub calls: i64,
    pub exec_ms: f64,
}

impl Load {
    fn add(&mut self, r: &Recorded) {
        self.calls += r.calls;
        self.exec_ms += r.exec_ms;
    }
}

/// What the check saw and found.
#[derive(Debug, Default)]
pub struct Report {
    /// Distinct statements recorded in test databases.
    pub recorded: usize,
    /// Of those, the ones naming a sharded table.
    pub on_sharded: usize,
    /// Set aside: statements of the schema migrations.
    pub migrations: usize,
    /// Set aside: the test harness's own inspection queries.
    pub harness: usize,
    /// Set aside: Postgres' own foreign-key checks and cascades (nested statements).
    pub foreign_keys: usize,
    /// Ratify's statements pinned to one advertiser (or a list of them).
    pub keyed: usize,
    /// Ratify's statements allowed across advertisers: (allowance, how many statements).
    pub fan_outs: Vec<(&'static str, usize)>,
    /// Statements that fail, with why.
    pub failures: Vec<String>,
    /// What Ratify's pinned statements and its fan-outs cost Postgres in the recorded run.
    pub pinned_load: Load,
    pub fan_out_load: Load,
    /// Every statement on a sharded table with what became of it, for `RATIFY_SHARDING_VERBOSE`.
    pub verdicts: Vec<(&'static str, String)>,
}

impl Report {
    /// Allowances no recorded statement needed.
    pub fn unused(&self) -> Vec<&'static str> {
        self.fan_outs.iter().filter(|(_, n)| *n == 0).map(|(name, _)| *name).collect()
    }

    /// Ratify's statements on sharded tables that were checked.
    pub fn checked(&self) -> usize {
        self.keyed + self.fan_outs.iter().map(|(_, n)| n).sum::<usize>() + self.failures.len()
    }

    pub fn summary(&self) -> String {
        let mut s = format!(
            "sharding key: {} statements recorded in test databases, {} on sharded tables: \
             {} migrations, {} harness queries and {} foreign-key checks set aside; \
             {} of Ratify's checked: {} pinned to advertiser_id, {} allowed fan-outs, {} failing\n",
            self.recorded,
            self.on_sharded,
            self.migrations,
            self.harness,
            self.foreign_keys,
            self.checked(),
            self.keyed,
            self.fan_outs.iter().map(|(_, n)| n).sum::<usize>(),
            self.failures.len()
        );
        let (p, f) = (self.pinned_load, self.fan_out_load);
        s.push_str(&format!(
            "  executions: pinned {} ({:.0} ms in Postgres), fan-outs {} ({:.0} ms)\n",
            p.calls, p.exec_ms, f.calls, f.exec_ms
        ));
        for (name, n) in &self.fan_outs {
            s.push_str(&format!("  fan-out {name}: {n} statement(s)\n"));
        }
        for f in &self.failures {
            s.push_str(&format!("  FAIL {f}\n"));
        }
        s
    }
}

/// Checks `statements`; `root` is the repository (its migrations and harness sources).
pub fn verify(statements: &[Recorded], root: &Path) -> std::io::Result<Report> {
    let migrations = sources::migration_shapes(&root.join("shared/migrations"))?;
    let harness = sources::literal_shapes(&root.join("tests"))?;
    let mut report = Report {
        recorded: statements.len(),
        fan_outs: FAN_OUTS.iter().map(|f| (f.name, 0)).collect(),
        ..Report::default()
    };
    for recorded in statements.iter().filter(|s| touches_sharded(&s.query)) {
        let sql = &recorded.query;
        report.on_sharded += 1;
        let shape = sources::shape(sql);
        let one_line = allow::collapse(sql);
        if migrations.contains(&shape) {
            report.migrations += 1;
            report.verdicts.push(("migration", one_line));
            continue;
        }
        if harness.matches(&shape) {
            report.harness += 1;
            report.verdicts.push(("harness", one_line));
            continue;
        }
        if is_foreign_key_check(&one_line) {
            report.foreign_keys += 1;
            report.verdicts.push(("foreign key", one_line));
            continue;
        }
        let findings = match check(&unfold(sql)) {
            Ok(f) => f,
            Err(e) => {
                report.failures.push(format!("{e}: {one_line}"));
                continue;
            }
        };
        if !findings.uncolocated.is_empty() {
            report.failures.push(format!("{}: {one_line}", findings.uncolocated.join("; ")));
        } else if findings.unkeyed.is_empty() {
            report.keyed += 1;
            report.pinned_load.add(recorded);
            report.verdicts.push(("pinned", one_line));
        } else if let Some(fan_out) = allow::allowance(sql) {
            if let Some(entry) = report.fan_outs.iter_mut().find(|(name, _)| *name == fan_out.name) {
                entry.1 += 1;
            }
            report.fan_out_load.add(recorded);
            report.verdicts.push((fan_out.name, one_line));
        } else {
            report.failures.push(format!("{}: {one_line}", findings.unkeyed.join("; ")));
        }
    }
    Ok(report)
}

/// The statements Postgres' referential-integrity triggers send (recorded because
/// `pg_stat_statements.track = all`): `SELECT 1 FROM ONLY "public"."jobs" x WHERE
/// "advertiser_id" OPERATOR(pg_catalog.=) $1 … FOR KEY SHARE OF x` and the cascades. They
/// follow the foreign keys, which the schema test holds to `advertiser_id`.
fn is_foreign_key_check(collapsed: &str) -> bool {
    collapsed.contains(" only \"public\".") && collapsed.contains("operator(pg_catalog.")
}

/// Undoes what `pg_stat_statements` folds that the parser cannot read back: the field of
/// `extract(epoch FROM …)` is a string constant to Postgres, so it is recorded as
/// `extract($6 FROM …)`.
fn unfold(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.to_lowercase().find("extract($") {
        let after = &rest[at + "extract(".len()..];
        let digits = after[1..].chars().take_while(char::is_ascii_digit).count();
        out.push_str(&rest[..at]);
        out.push_str("extract(epoch");
        rest = &after[1 + digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sharding_unfold_restores_the_extract_field() {
        assert_eq!(
            super::unfold("SELECT extract($6 FROM a - b)::float8, EXTRACT($12 from c)"),
            "SELECT extract(epoch FROM a - b)::float8, extract(epoch from c)"
        );
    }
}
