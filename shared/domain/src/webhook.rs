//! Which webhook targets Ratify posts to. A URL must be `http` or `https` with a host; the
//! addresses its host resolves to must all be public: loopback, private, link-local
//! (cloud metadata services), shared, multicast, unspecified and documentation ranges are
//! refused, unless private targets are allowed (`RATIFY_WEBHOOK_ALLOW_PRIVATE=1`). The
//! addresses are checked where they are resolved, and a delivery connects to the address
//! it checked, so a name cannot resolve to something else between the check and the post.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// A target URL, checked for its shape: what to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: url::Url,
    pub host: String,
    pub port: u16,
}

/// Reads a target URL, or says why it is not one.
pub fn parse(text: &str) -> Result<Target, String> {
    if text.len() > MAX_URL_LEN {
        return Err(format!("url is longer than {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("url is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("url must be http:// or https://".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not carry a user name or password: sign with the secret instead".to_owned());
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("url has no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("url has no port")?;
    // An IPv6 literal is written in brackets in the URL, not when resolved.
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok(Target { url, host, port })
}

/// Whether Ratify may post to `addr` (see the module's notes).
pub fn allowed(addr: IpAddr, allow_private: bool) -> bool {
    allow_private || is_public(addr)
}

pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [first, second, ..] = a.octets();
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || first == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (first == 100 && (64..128).contains(&second))
        // Benchmarking, 198.18.0.0/15, and the reserved 240.0.0.0/4.
        || (first == 198 && (second == 18 || second == 19))
        || first >= 240)
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let first = a.segments()[0];
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        // Unique local fc00::/7 and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && a.segments()[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_metadata_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
        ] {
            let addr: IpAddr = refused.parse().unwrap();
            assert!(!is_public(addr), "{refused}");
            assert!(allowed(addr, true), "{refused} when private targets are allowed");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_targets() {
        let target = parse("https://hooks.example.com/ratify?x=1").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("hooks.example.com", 443));
        assert_eq!(parse("http://[::1]:8080/h").unwrap().host, "::1");
        for bad in ["ftp://example.com/", "example.com", "https://user:pw@example.com/", "http://", "file:///etc"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
