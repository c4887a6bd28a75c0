//! Collecting figures and printing them as a markdown table.

use crate::data::Scale;

/// Summary statistics of repeated measurements.
pub fn stats(samples: &mut [f64]) -> Option<(f64, f64, f64, f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Some((at(0.5), at(0.95), at(0.99), samples[0], samples[samples.len() - 1]))
}

pub struct Row {
    id: String,
    scenario: String,
    figure: String,
    goal: String,
    verdict: &'static str,
}

impl Row {
    pub fn new(id: &str, scenario: impl Into<String>, figure: impl Into<String>, goal: &str, met: Option<bool>) -> Row {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "",
        };
        Row { id: id.to_owned(), scenario: scenario.into(), figure: figure.into(), goal: goal.to_owned(), verdict }
    }

    pub fn note(id: &str, figure: impl Into<String>) -> Row {
        Row::new(id, "", figure, "", None)
    }
}

pub struct Report {
    scale: String,
    rows: Vec<Row>,
    pub floor: f64,
    /// B0u's median.
    pub update_floor: f64,
}

impl Report {
    pub fn new(scale: &Scale) -> Report {
        Report { scale: scale.name.to_owned(), rows: Vec::new(), floor: 0.0, update_floor: 0.0 }
    }

    pub fn push(&mut self, row: Row) {
        eprintln!("bench: {} {} {} {}", row.id, row.scenario, row.figure, row.verdict);
        self.rows.push(row);
    }

    /// B0 and B0u from their passes: the medians are the references for the B2 ratios.
    pub fn set_floor(&mut self, floor: crate::floor::Floor) {
        let crate::floor::Floor { with_outcomes, update_only, cpu_with_outcomes, cpu_update_only } = floor;
        let scenarios = [
            ("B0", "Postgres floor: 1,000-row chunks, UPDATE … FROM unnest + an indexed outcome row per item, 2 connections", with_outcomes, cpu_with_outcomes),
            ("B0u", "the limit: the same UPDATE … FROM unnest alone, 2 connections", update_only, cpu_update_only),
        ];
        for (id, scenario, mut passes, cpu) in scenarios {
            let Some((median, _, _, min, max)) = stats(&mut passes) else { continue };
            if id == "B0" {
                self.floor = median;
            } else {
                self.update_floor = median;
            }
            self.push(Row::new(
                id,
                scenario,
                format!(
                    "median {median:.0} items/s (min {min:.0}, max {max:.0}, n={}); Postgres CPU {cpu:.1} µs/item",
                    passes.len()
                ),
                "reference",
                None,
            ));
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Ratify benchmark ({} scale) on {} cores, {}\n\n| id | scenario | figure | goal | |\n|---|---|---|---|---|\n",
            self.scale,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            chrono_like_now()
        );
        for r in &self.rows {
            out.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.id, r.scenario, r.figure, r.goal, r.verdict));
        }
        out
    }
}

/// The date, from the system clock (no extra dependency for one line).
fn chrono_like_now() -> String {
    std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
