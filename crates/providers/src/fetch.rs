//! Fetching a file from an address a person typed (the media library's Import from URL),
//! without letting that address reach inside the server's network: only `https://`, no
//! user name or password in it, and every address its host resolves to must be public (not
//! private, loopback, link-local, shared, multicast or reserved, in IPv4 or IPv6, IPv4-mapped
//! included). The connection goes to the very addresses that were checked (the host is pinned
//! to them, so a second DNS answer cannot swap in another), no proxy is used, and redirects
//! are followed by hand, each new address checked the same way.
//!
//! An operator may trust origins (`http://dam.intranet:8080`) for an internal asset server:
//! those skip the scheme and address rules, and nothing else does.

pub use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// What may be fetched.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Origins (`scheme://host[:port]`) exempt from the https and public-address rules.
    pub trusted_origins: Vec<String>,
    pub max_redirects: u8,
    /// For the connection and the answer's headers; the body is read by the caller.
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            trusted_origins: Vec::new(),
            max_redirects: 5,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why an address was not fetched; each says what a person can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("That is not a web address. Paste the whole address, starting with https://.")]
    NotAnAddress,
    #[error("Only https:// addresses can be imported.")]
    NotHttps,
    #[error("Addresses with a user name or password in them cannot be imported.")]
    Credentials,
    /// Not public, or not found: one message for both, so that the answer does not tell
    /// which names exist inside the server's network.
    #[error(
        "{0} is not a public address this server can fetch from (a private, local or \
         reserved address, or one that could not be found). Check the address."
    )]
    NotPublic(String),
    #[error("Only the standard https port can be used; remove “:{0}” from the address.")]
    Port(u16),
    #[error("The address redirected more than {0} times.")]
    TooManyRedirects(u8),
    #[error("The server answered {0}: the file could not be fetched.")]
    Status(u16),
    #[error("The server did not answer in time.")]
    Timeout,
    #[error("The file could not be fetched: the connection failed.")]
    Network,
}

/// An answer whose body is still to be read.
pub struct Fetched {
    /// Where the file came from in the end (after redirects).
    pub url: Url,
    /// What the server said the body's length is.
    pub content_length: Option<u64>,
    response: reqwest::Response,
}

impl Fetched {
    /// The next piece of the body; none at its end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, FetchError> {
        self.response.chunk().await.map_err(|e| {
            if e.is_timeout() {
                FetchError::Timeout
            } else {
                FetchError::Network
            }
        })
    }
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved for future use, and the broadcast address.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address inside them.
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6].iter().all(|s| *s == 0) {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if seg[0] == 0x2002 {
        let [a, b] = seg[1].to_be_bytes();
        let [c, d] = seg[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Only global unicast (2000::/3), without Teredo (2001::/32), documentation
    // (2001:db8::/32) and the other special ranges of 2001::/23.
    (seg[0] & 0xe000) == 0x2000
        && !(seg[0] == 0x2001 && seg[1] < 0x0200)
        && !(seg[0] == 0x2001 && seg[1] == 0x0db8)
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A client for `url` alone under `policy`: the address is checked (scheme, credentials, port,
/// every address its host resolves to) and the client connects only to the addresses checked,
/// through no proxy, following no redirect.
pub async fn pinned_client(url: &Url, policy: &FetchPolicy) -> Result<reqwest::Client, FetchError> {
    let trusted = policy.trusted_origins.iter().any(|o| *o == origin(url));
    if !trusted && url.scheme() != "https" {
        return Err(FetchError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Credentials);
    }
    let host = url.host_str().ok_or(FetchError::NotAnAddress)?.to_owned();
    let port = url
        .port_or_known_default()
        .ok_or(FetchError::NotAnAddress)?;
    if !trusted && port != 443 {
        return Err(FetchError::Port(port));
    }
    let addrs = tokio::time::timeout(policy.timeout, resolve(&host, port))
        .await
        .map_err(|_| FetchError::Timeout)??;
    if !trusted && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        tracing::info!(address = %bad.ip(), "an address that is not public was refused");
        return Err(FetchError::NotPublic(host));
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(policy.timeout)
        // A server that stops sending is given up on, not waited for to the end.
        .read_timeout(policy.timeout)
        .resolve_to_addrs(&host, &addrs)
        .build()
        .map_err(|_| FetchError::Network)
}

/// Opens `address` under `policy`: checks it and each redirect, and returns the answer once
/// its headers are in.
pub async fn open(address: &str, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let mut url = Url::parse(address.trim()).map_err(|_| FetchError::NotAnAddress)?;
    for _ in 0..=policy.max_redirects {
        let client = pinned_client(&url, policy).await?;
        let response = tokio::time::timeout(policy.timeout, client.get(url.clone()).send())
            .await
            .map_err(|_| FetchError::Timeout)?
            .map_err(|e| {
                let timed_out = e.is_timeout();
                tracing::info!(error = %e.without_url(), "an import could not connect");
                if timed_out {
                    FetchError::Timeout
                } else {
                    FetchError::Network
                }
            })?;
        let status = response.status();
        if status.is_redirection() {
            let next = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or(FetchError::Status(status.as_u16()))?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        return Ok(Fetched {
            url,
            content_length: response.content_length(),
            response,
        });
    }
    Err(FetchError::TooManyRedirects(policy.max_redirects))
}

/// The addresses of `host`: the literal itself, or what DNS answers.
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| FetchError::NotPublic(host.to_owned()))?
        .collect();
    if found.is_empty() {
        return Err(FetchError::NotPublic(host.to_owned()));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001::1",
            "fec0::1",
            "100::1",
            "::ffff:0:a00:1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!is_public(ip), "{refused} passed");
        }
        for allowed in [
            "93.184.215.14",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:93.184.215.14",
            "64:ff9b::5db8:d70e",
            "2002:5db8:d70e::1",
        ] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert!(is_public(ip), "{allowed} refused");
        }
    }

    #[tokio::test]
    async fn addresses_are_refused_before_any_connection() {
        let policy = FetchPolicy::default();
        let refused = |a: &'static str| {
            let policy = policy.clone();
            async move { open(a, &policy).await.err() }
        };
        assert_eq!(
            refused("http://example.com/a.png").await,
            Some(FetchError::NotHttps)
        );
        assert_eq!(
            refused("ftp://example.com/a.png").await,
            Some(FetchError::NotHttps)
        );
        assert_eq!(
            refused("https://ada:pw@example.com/a.png").await,
            Some(FetchError::Credentials)
        );
        assert_eq!(refused("not a url").await, Some(FetchError::NotAnAddress));
        assert_eq!(
            refused("https://example.com:25/a.png").await,
            Some(FetchError::Port(25))
        );
        for inside in [
            "https://127.0.0.1/a.png",
            "https://[::1]/a.png",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.7/a.png",
            "https://[::ffff:192.168.0.1]/a.png",
            "https://localhost/a.png",
            "https://2130706433/a.png",
        ] {
            assert!(
                matches!(refused(inside).await, Some(FetchError::NotPublic(_))),
                "{inside}"
            );
        }
    }
}
