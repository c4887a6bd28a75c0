//! Where the CPU goes: seconds of CPU used by each part of the stack, read from /proc,
//! so a scenario can say how its time divides between Postgres, the workers, the api
//! and RabbitMQ.

use std::collections::BTreeMap;

/// User + system CPU seconds of a process.
fn seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn command_name(pid: u32) -> Option<String> {
    Some(std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim().to_owned())
}

/// CPU seconds so far, by part: the given processes by name, plus every `postgres` and
/// RabbitMQ (`beam.smp`) process on the machine.
pub fn snapshot(named: &[(&str, u32)]) -> BTreeMap<String, f64> {
    let mut parts = BTreeMap::new();
    for (name, pid) in named {
        *parts.entry((*name).to_owned()).or_insert(0.0) += seconds(*pid).unwrap_or(0.0);
    }
    let Ok(entries) = std::fs::read_dir("/proc") else { return parts };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let part = match command_name(pid).as_deref() {
            Some("postgres") => "postgres",
            Some("beam.smp") => "rabbitmq",
            _ => continue,
        };
        *parts.entry(part.to_owned()).or_insert(0.0) += seconds(pid).unwrap_or(0.0);
    }
    parts
}

/// The difference of two snapshots, as "postgres 20.1 s (20.1 µs/item), worker 9.8 s
/// (9.8 µs/item), …", largest first, over `items` items.
pub fn spent(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, items: usize) -> String {
    let mut used: Vec<(String, f64)> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.05)
        .collect();
    used.sort_by(|a, b| b.1.total_cmp(&a.1));
    let per_item = |v: f64| v * 1e6 / items.max(1) as f64;
    let total: f64 = used.iter().map(|(_, v)| v).sum();
    let parts: Vec<String> = used.iter().map(|(k, v)| format!("{k} {v:.1} s ({:.1} µs/item)", per_item(*v))).collect();
    format!("{}; together {:.1} µs/item", parts.join(", "), per_item(total))
}
