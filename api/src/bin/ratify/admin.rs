//! The operator's commands, with the admin token: advertisers, commission groups, tokens.
//! Group values travel as exact decimals, like amounts.

use std::io::Write;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::client::{Api, CliError};
use crate::number;

/// A commission group as the api takes and shows it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Group {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    value: Box<RawValue>,
}

impl Group {
    pub fn new(code: Option<&str>, name: &str, kind: &str, value: &str) -> Result<Group, String> {
        let kind = kind.trim().to_lowercase();
        if kind != "percentage" && kind != "fixed" {
            return Err(format!("type {kind:?} must be percentage or fixed"));
        }
        let value = number::amount(value).map_err(|e| format!("value {value:?} {e}"))?;
        Ok(Group { code: code.map(|c| c.trim().to_owned()), name: name.trim().to_owned(), kind, value })
    }

    /// `CODE:NAME:TYPE:VALUE`, e.g. `EXISTING:Existing customers:percentage:5`; the name
    /// may itself hold colons.
    pub fn parse(text: &str) -> Result<Group, String> {
        let bad = || {
            format!("--group {text:?}: expected CODE:NAME:TYPE:VALUE, e.g. EXISTING:Existing customers:percentage:5")
        };
        let (code, rest) = text.split_once(':').ok_or_else(bad)?;
        let (rest, value) = rest.rsplit_once(':').ok_or_else(bad)?;
        let (name, kind) = rest.rsplit_once(':').ok_or_else(bad)?;
        if code.trim().is_empty() || name.trim().is_empty() {
            return Err(bad());
        }
        Group::new(Some(code), name, kind, value).map_err(|e| format!("--group {text:?}: {e}"))
    }

    fn line(&self, code: &str) -> String {
        format!("{code:<16} {:<11} {:>8}  {}", self.kind, self.value.get(), self.name)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Advertiser {
    id: i64,
    name: String,
    currency: String,
    commission_groups: Vec<Group>,
}

pub async fn create_advertiser(
    api: &Api,
    id: i64,
    name: &str,
    currency: &str,
    groups: Vec<Group>,
) -> Result<u8, CliError> {
    let body = Advertiser { id, name: name.to_owned(), currency: currency.to_uppercase(), commission_groups: groups };
    let created: Advertiser = api.json(api.request(Method::POST, "/admin/advertisers").json(&body)).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "advertiser {} {:?} ({}) created, commission groups:", created.id, created.name, created.currency)?;
    for group in &created.commission_groups {
        writeln!(out, "  {}", group.line(group.code.as_deref().unwrap_or("?")))?;
    }
    Ok(0)
}

pub async fn set_group(api: &Api, advertiser: i64, code: &str, group: Group) -> Result<u8, CliError> {
    let path = format!("/admin/advertisers/{advertiser}/commission-groups/{}", segment(code));
    let saved: Group = api.json(api.request(Method::PUT, &path).json(&group)).await?;
    writeln!(std::io::stdout().lock(), "advertiser {advertiser}: {}", saved.line(code))?;
    Ok(0)
}

pub async fn create_token(api: &Api, name: &str, advertisers: &[i64]) -> Result<u8, CliError> {
    #[derive(Deserialize)]
    struct Created {
        id: String,
        token: String,
    }
    let body = serde_json::json!({"name": name, "advertiserIds": advertisers});
    let created: Created = api.json(api.request(Method::POST, "/admin/tokens").json(&body)).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "id: {}", created.id)?;
    writeln!(out, "token: {}", created.token)?;
    out.flush()?;
    eprintln!("the token is shown only this once: store it now (revoke it with: ratify token revoke {})", created.id);
    Ok(0)
}

pub async fn revoke_token(api: &Api, id: &str) -> Result<u8, CliError> {
    api.send(api.request(Method::DELETE, &format!("/admin/tokens/{}", segment(id)))).await?;
    writeln!(std::io::stdout().lock(), "token {id} revoked")?;
    Ok(0)
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
        let group = Group::parse("EXISTING:Existing: returning customers:Percentage:5.50").unwrap();
        assert_eq!(
            serde_json::to_string(&group).unwrap(),
            r#"{"code":"EXISTING","name":"Existing: returning customers","type":"percentage","value":5.50}"#
        );
        for bad in ["EXISTING", "EXISTING:5", ":Name:fixed:1", "X::fixed:1", "X:Name:flat:1", "X:Name:fixed:1,5"] {
            assert!(Group::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("NEW CUSTOMER/1"), "NEW%20CUSTOMER%2F1");
        assert_eq!(segment("DEFAULT"), "DEFAULT");
    }
}
