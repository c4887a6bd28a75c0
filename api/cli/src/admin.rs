//! The operator's commands, with the admin token: advertisers, commission groups, tokens.
//! Group values travel as exact decimals, like amounts.

use std::io::Write;

use ratify_wire::{AdvertiserSettings, AdvertiserView, CreatedToken, GroupView, NewAdvertiser, NewGroup, NewToken};
use reqwest::Method;

use crate::client::Api;
use crate::error::{exit, CliError};
use crate::number;
use crate::output;

/// A group from flags: `kind` is `percentage` or `fixed`, `value` an exact decimal.
pub fn group(code: Option<&str>, name: &str, kind: &str, value: &str) -> Result<NewGroup, String> {
    let kind = kind.trim().to_lowercase();
    if kind != "percentage" && kind != "fixed" {
        return Err(format!("type {kind:?} must be percentage or fixed"));
    }
    let value = number::group_value(value).map_err(|e| format!("value {value:?} {e}"))?;
    Ok(NewGroup { code: code.map(|c| c.trim().to_owned()), name: name.trim().to_owned(), kind, value })
}

/// `CODE:NAME:TYPE:VALUE`, e.g. `EXISTING:Existing customers:percentage:5`; the name may
/// itself hold colons.
pub fn parse_group(text: &str) -> Result<NewGroup, String> {
    let bad =
        || format!("--group {text:?}: expected CODE:NAME:TYPE:VALUE, e.g. EXISTING:Existing customers:percentage:5");
    let (code, rest) = text.split_once(':').ok_or_else(bad)?;
    let (rest, value) = rest.rsplit_once(':').ok_or_else(bad)?;
    let (name, kind) = rest.rsplit_once(':').ok_or_else(bad)?;
    if code.trim().is_empty() || name.trim().is_empty() {
        return Err(bad());
    }
    group(Some(code), name, kind, value).map_err(|e| format!("--group {text:?}: {e}"))
}

fn line(group: &GroupView) -> String {
    format!("{:<16} {:<11} {:>8}  {}", group.code, group.kind, group.value.as_str(), group.name)
}

pub async fn create_advertiser(
    api: &Api,
    id: i64,
    name: &str,
    currency: &str,
    groups: Vec<NewGroup>,
    json: bool,
) -> Result<u8, CliError> {
    let body =
        NewAdvertiser { id, name: name.to_owned(), currency: currency.to_uppercase(), commission_groups: groups };
    let created: AdvertiserView = api.json(api.request(Method::POST, "/admin/advertisers").json(&body), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &created)?;
        return Ok(exit::APPLIED);
    }
    writeln!(out, "advertiser {} {:?} ({}) created, commission groups:", created.id, created.name, created.currency)?;
    for group in &created.commission_groups {
        writeln!(out, "  {}", line(group))?;
    }
    Ok(exit::APPLIED)
}

/// A validation period: days, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(pub Option<i32>);

pub fn parse_period(text: &str) -> Result<Period, String> {
    match text.trim() {
        "never" => Ok(Period(None)),
        days => match days.parse::<i32>() {
            Ok(d) if (0..=3650).contains(&d) => Ok(Period(Some(d))),
            _ => Err("write a number of days from 0 to 3650, or never".to_owned()),
        },
    }
}

/// `ratify advertiser set`: prints the advertiser's settings as they are now.
pub async fn set_advertiser(api: &Api, id: i64, period: Option<Period>, json: bool) -> Result<u8, CliError> {
    let body = AdvertiserSettings { validation_period_days: period.map(|p| p.0) };
    let path = format!("/admin/advertisers/{id}");
    let saved: AdvertiserView = api.json(api.request(Method::PATCH, &path).json(&body), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &saved)?;
    } else {
        match saved.validation_period_days {
            Some(days) => writeln!(out, "advertiser {id}: pending transactions are approved after {days} days")?,
            None => writeln!(out, "advertiser {id}: pending transactions are never approved automatically")?,
        }
    }
    Ok(exit::APPLIED)
}

pub async fn set_group(api: &Api, advertiser: i64, code: &str, group: NewGroup, json: bool) -> Result<u8, CliError> {
    let path = format!("/admin/advertisers/{advertiser}/commission-groups/{}", segment(code));
    let saved: GroupView = api.json(api.request(Method::PUT, &path).json(&group), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &saved)?;
    } else {
        writeln!(out, "advertiser {advertiser}: {}", line(&saved))?;
    }
    Ok(exit::APPLIED)
}

pub async fn create_token(api: &Api, name: &str, advertisers: &[i64], json: bool) -> Result<u8, CliError> {
    let body = NewToken { name: name.to_owned(), advertiser_ids: advertisers.to_vec() };
    let created: CreatedToken = api.json(api.request(Method::POST, "/admin/tokens").json(&body), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &created)?;
    } else {
        writeln!(out, "id: {}", created.id)?;
        writeln!(out, "token: {}", created.token)?;
    }
    out.flush()?;
    eprintln!("the token is shown only this once: store it now (revoke it with: ratify token revoke {})", created.id);
    Ok(exit::APPLIED)
}

pub async fn revoke_token(api: &Api, id: &str, json: bool) -> Result<u8, CliError> {
    api.send(api.request(Method::DELETE, &format!("/admin/tokens/{}", segment(id))), None).await?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json(&mut out, &serde_json::json!({ "id": id, "revoked": true }))?;
    } else {
        writeln!(out, "token {id} revoked")?;
    }
    Ok(exit::APPLIED)
}

/// A path segment with everything but unreserved characters percent-encoded.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_parse_from_flags_with_exact_values() {
        let group = parse_group("EXISTING:Existing: returning customers:Percentage:5.50").unwrap();
        assert_eq!(
            serde_json::to_string(&group).unwrap(),
            r#"{"code":"EXISTING","name":"Existing: returning customers","type":"percentage","value":5.50}"#
        );
        for bad in ["EXISTING", "EXISTING:5", ":Name:fixed:1", "X::fixed:1", "X:Name:flat:1", "X:Name:fixed:1,5"] {
            assert!(parse_group(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("NEW CUSTOMER/1"), "NEW%20CUSTOMER%2F1");
        assert_eq!(segment("DEFAULT"), "DEFAULT");
    }
}
