//! The check of a PayPal webhook before anything in it is read.
//!
//! PayPal signs `transmission id | transmission time | webhook id | CRC32 of the exact body`
//! (the CRC as an unsigned decimal) with SHA256withRSA, and names the certificate to check it
//! with in `PAYPAL-CERT-URL`. [`Verifier::verify`] refuses, in this order: a missing header, an
//! algorithm other than SHA256withRSA, a transmission time older (or further ahead) than the
//! configured age, a certificate address that is not under `/v1/notifications/certs/` on one
//! of PayPal's hosts (the setting [`VerifierConfig::cert_origins`]), a certificate that is not
//! issued to PayPal's signing name ([`VerifierConfig::cert_names`]) or whose chain does not lead
//! to a configured trust root, and a signature that does not match. Only when the certificate
//! cannot be fetched (no answer, or a server error at PayPal) does it ask PayPal's
//! `verify-webhook-signature` instead, with the body exactly as received, at most
//! [`FALLBACKS_PER_MINUTE`] times a minute; when that cannot answer either, the delivery is left
//! undecided, so that PayPal sends it again later.

use super::paypal::PayPal;
use base64::Engine;
use chrono::{DateTime, Utc};
/// The headers of a delivery (the `http` crate's, as the web server has them).
pub use reqwest::header::HeaderMap;
/// A certificate in DER, as [`certificates_from_pem`] reads them.
pub use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{TrustAnchor, UnixTime};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The only algorithm PayPal signs with.
pub const AUTH_ALGO: &str = "SHA256withRSA";

/// Where PayPal serves its certificates, by default: `https` on paypal.com and its subdomains.
pub const PAYPAL_CERT_ORIGINS: &[&str] = &["https://*.paypal.com"];

/// The names PayPal's signing certificates are issued to (live and sandbox).
pub const PAYPAL_CERT_NAMES: &[&str] = &[
    "messageverificationcerts.paypal.com",
    "messageverificationcerts.sandbox.paypal.com",
];

/// The path every certificate address starts with.
const CERT_PATH: &str = "/v1/notifications/certs/";

/// PayPal's own check is asked at most this often (it spends this instance's API quota, and a
/// stranger can cause it).
pub const FALLBACKS_PER_MINUTE: u32 = 30;

/// Certificates kept at most (each URL names one certificate, which does not change).
const CERT_CACHE: usize = 16;
/// A certificate answer larger than this is not a certificate chain.
const CERT_MAX_BYTES: usize = 64 * 1024;

/// The `PAYPAL-*` headers of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission {
    pub auth_algo: String,
    pub cert_url: String,
    pub id: String,
    /// Base64.
    pub signature: String,
    /// RFC 3339, exactly as sent (the signature is over this text).
    pub time: String,
}

impl Transmission {
    pub fn from_headers(headers: &HeaderMap) -> Result<Transmission, WebhookError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| WebhookError::Refused(format!("the {name} header is missing")))
        };
        Ok(Transmission {
            auth_algo: header("PAYPAL-AUTH-ALGO")?,
            cert_url: header("PAYPAL-CERT-URL")?,
            id: header("PAYPAL-TRANSMISSION-ID")?,
            signature: header("PAYPAL-TRANSMISSION-SIG")?,
            time: header("PAYPAL-TRANSMISSION-TIME")?,
        })
    }

    /// What PayPal signed for this body.
    pub fn message(&self, webhook_id: &str, body: &[u8]) -> String {
        format!(
            "{}|{}|{webhook_id}|{}",
            self.id,
            self.time,
            crc32fast::hash(body)
        )
    }
}

/// Why a delivery was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Forged, tampered, stale or malformed: answered 400, nothing is read.
    #[error("the webhook was refused: {0}")]
    Refused(String),
    /// Neither the certificate nor PayPal could be reached to decide: answered with a server
    /// error, so that PayPal delivers it again.
    #[error("the webhook could not be checked now: {0}")]
    Undecided(String),
}

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Origins a certificate may be fetched from: `https://api.paypal.com`, or with a leading
    /// `*.` in the host for any subdomain (`https://*.paypal.com`), or with the path the API is
    /// served under (`http://127.0.0.1:4000/paypal`, the simulator).
    pub cert_origins: Vec<String>,
    /// The names the signing certificate may be issued to ([`PAYPAL_CERT_NAMES`]).
    pub cert_names: Vec<String>,
    /// The roots a certificate's chain must lead to; `None`: the Mozilla roots that browsers
    /// trust (PayPal's certificates are issued by a public authority).
    pub trust_roots: Option<Vec<CertificateDer<'static>>>,
    /// Deliveries sent longer ago than this, or this far ahead, are refused.
    pub max_age: Duration,
}

pub struct Verifier {
    config: VerifierConfig,
    anchors: Vec<TrustAnchor<'static>>,
    http: reqwest::Client,
    /// Certificate chains by URL (leaf first).
    certs: Mutex<HashMap<String, Arc<Vec<CertificateDer<'static>>>>>,
    /// PayPal's own check, for when the certificate cannot be fetched.
    fallback: Option<Arc<PayPal>>,
    /// The minute's start and how many fallback checks were asked in it.
    fallbacks: Mutex<(std::time::Instant, u32)>,
}

/// Why a certificate could not be used.
enum Unusable {
    /// No answer, or a server error: PayPal may be down, its own check may decide.
    Unreachable(String),
    /// It answered with something that is not a certificate: refused.
    Refused(String),
}

/// Reads every certificate of a PEM text.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate list: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the PEM text".into());
    }
    Ok(certs)
}

impl Verifier {
    pub fn new(config: VerifierConfig, fallback: Option<Arc<PayPal>>) -> Result<Verifier, String> {
        let anchors = match &config.trust_roots {
            Some(roots) => roots
                .iter()
                .map(|root| {
                    webpki::anchor_from_trusted_cert(root)
                        .map(|a| a.to_owned())
                        .map_err(|e| format!("a trust root is not a usable certificate: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for origin in &config.cert_origins {
            Origin::parse(origin).ok_or_else(|| {
                format!("{origin:?} is not an origin such as https://api.paypal.com")
            })?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Ok(Verifier {
            config,
            anchors,
            http,
            certs: Mutex::new(HashMap::new()),
            fallback,
            fallbacks: Mutex::new((std::time::Instant::now(), 0)),
        })
    }

    /// Checks one delivery to the webhook `webhook_id` (the id PayPal gave the registration,
    /// part of what is signed): its headers and its exact body, at `now`.
    pub async fn verify(
        &self,
        webhook_id: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Transmission, WebhookError> {
        let t = Transmission::from_headers(headers)?;
        if t.auth_algo != AUTH_ALGO {
            return Err(WebhookError::Refused(format!(
                "the algorithm {:?} is not PayPal's",
                t.auth_algo
            )));
        }
        let sent = DateTime::parse_from_rfc3339(&t.time)
            .map_err(|_| WebhookError::Refused("the transmission time is not a time".into()))?
            .with_timezone(&Utc);
        let max_age = chrono::Duration::from_std(self.config.max_age).unwrap_or_default();
        if now - sent > max_age {
            return Err(WebhookError::Refused(format!(
                "it was sent at {sent}, longer ago than {} seconds",
                max_age.num_seconds()
            )));
        }
        if sent - now > max_age {
            return Err(WebhookError::Refused(format!(
                "its transmission time {sent} is in the future"
            )));
        }
        self.allowed_cert_url(&t.cert_url)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(t.signature.as_bytes())
            .map_err(|_| WebhookError::Refused("the signature is not base64".into()))?;
        let message = t.message(webhook_id, body);
        match self.chain(&t.cert_url).await {
            Ok(chain) => {
                self.check(&chain, message.as_bytes(), &signature, now)?;
                Ok(t)
            }
            Err(Unusable::Refused(why)) => Err(WebhookError::Refused(why)),
            Err(Unusable::Unreachable(why)) => {
                self.ask_paypal(&t, webhook_id, body, why).await?;
                Ok(t)
            }
        }
    }

    /// Refuses a certificate URL that is not at one of the allowed origins.
    fn allowed_cert_url(&self, url: &str) -> Result<(), WebhookError> {
        let refused = || {
            WebhookError::Refused(format!(
                "the certificate is not at one of PayPal's addresses ({})",
                reqwest::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "not a URL".into())
            ))
        };
        let parsed = reqwest::Url::parse(url).map_err(|_| refused())?;
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(WebhookError::Refused(
                "the certificate address is not one of PayPal's certificates".into(),
            ));
        }
        let host = parsed.host_str().ok_or_else(refused)?.to_ascii_lowercase();
        let port = parsed.port_or_known_default();
        let allowed = self.config.cert_origins.iter().any(|origin| {
            Origin::parse(origin)
                .is_some_and(|o| o.allows(parsed.scheme(), &host, port, parsed.path()))
        });
        if allowed && parsed.username().is_empty() && parsed.password().is_none() {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// The chain at `url`, fetched once; `Err` is why it could not be had.
    async fn chain(&self, url: &str) -> Result<Arc<Vec<CertificateDer<'static>>>, Unusable> {
        if let Some(chain) = self.lock().get(url) {
            return Ok(chain.clone());
        }
        let unreachable = |e: reqwest::Error| {
            Unusable::Unreachable(format!(
                "the certificate could not be fetched: {}",
                crate::social::without_url(&e)
            ))
        };
        let answer = self.http.get(url).send().await.map_err(unreachable)?;
        let status = answer.status();
        if status.is_server_error() {
            return Err(Unusable::Unreachable(format!(
                "the certificate address answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(Unusable::Refused(format!(
                "the certificate address answered {status}"
            )));
        }
        let too_large = || Unusable::Refused("the certificate answer is too large".into());
        if answer
            .content_length()
            .is_some_and(|n| n > CERT_MAX_BYTES as u64)
        {
            return Err(too_large());
        }
        let bytes = answer.bytes().await.map_err(unreachable)?;
        if bytes.len() > CERT_MAX_BYTES {
            return Err(too_large());
        }
        let chain = Arc::new(certificates_from_pem(&bytes).map_err(Unusable::Refused)?);
        let mut cache = self.lock();
        if cache.len() >= CERT_CACHE {
            cache.clear();
        }
        cache.insert(url.to_owned(), chain.clone());
        Ok(chain)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Vec<CertificateDer<'static>>>>> {
        self.certs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The leaf's chain leads to a trust root and the leaf signed `message`.
    fn check(
        &self,
        chain: &[CertificateDer<'static>],
        message: &[u8],
        signature: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let (leaf, intermediates) = chain.split_first().ok_or_else(|| {
            WebhookError::Refused("the certificate address served nothing".into())
        })?;
        let leaf = webpki::EndEntityCert::try_from(leaf)
            .map_err(|e| WebhookError::Refused(format!("the certificate cannot be read: {e}")))?;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(now.timestamp()).unwrap_or(0),
        ));
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            intermediates,
            at,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| {
            WebhookError::Refused(format!(
                "the certificate does not lead to a trusted root ({e})"
            ))
        })?;
        let named = self.config.cert_names.iter().any(|name| {
            rustls_pki_types::ServerName::try_from(name.as_str())
                .is_ok_and(|n| leaf.verify_is_valid_for_subject_name(&n).is_ok())
        });
        if !named {
            return Err(WebhookError::Refused(
                "the certificate is not issued to PayPal's signing name".into(),
            ));
        }
        leaf.verify_signature(
            webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
            message,
            signature,
        )
        .map_err(|_| {
            WebhookError::Refused("the signature does not match the body and headers".into())
        })
    }

    /// PayPal's answer on a delivery this side could not check (`why`).
    async fn ask_paypal(
        &self,
        t: &Transmission,
        webhook_id: &str,
        body: &[u8],
        why: String,
    ) -> Result<(), WebhookError> {
        let Some(paypal) = &self.fallback else {
            return Err(WebhookError::Undecided(why));
        };
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
            return Err(WebhookError::Refused("the body is not JSON".into()));
        }
        {
            let mut window = self.fallbacks.lock().unwrap_or_else(|p| p.into_inner());
            if window.0.elapsed() >= Duration::from_secs(60) {
                *window = (std::time::Instant::now(), 0);
            }
            if window.1 >= FALLBACKS_PER_MINUTE {
                return Err(WebhookError::Undecided(format!(
                    "{why}; PayPal's own check was asked {FALLBACKS_PER_MINUTE} times this minute"
                )));
            }
            window.1 += 1;
        }
        tracing::info!(reason = %why, "asking PayPal to check a webhook's signature");
        let signed = super::paypal::Signed {
            auth_algo: &t.auth_algo,
            cert_url: &t.cert_url,
            transmission_id: &t.id,
            transmission_sig: &t.signature,
            transmission_time: &t.time,
        };
        match paypal
            .verify_webhook_signature(&signed, webhook_id, body)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(WebhookError::Refused(
                "PayPal says the signature does not match".into(),
            )),
            Err(err) => Err(WebhookError::Undecided(format!("{why}; and {err}"))),
        }
    }
}

/// An allowed origin for certificates.
/// Where certificates may be fetched: an origin, with a path prefix where the API is served
/// under one (the simulator's `/paypal`); the path must go on with `/v1/notifications/certs/`
/// and one certificate's name.
struct Origin {
    scheme: String,
    /// Lower case; `wildcard`: any subdomain of it.
    host: String,
    wildcard: bool,
    port: Option<u16>,
    /// Empty, or `/paypal`.
    base: String,
}

impl Origin {
    fn parse(raw: &str) -> Option<Origin> {
        let (scheme, rest) = raw.trim().trim_end_matches('/').split_once("://")?;
        if scheme != "https" && scheme != "http" {
            return None;
        }
        let (rest, base) = match rest.find('/') {
            Some(at) => (&rest[..at], rest[at..].to_owned()),
            None => (rest, String::new()),
        };
        if base.contains(['?', '#', '*', '@']) {
            return None;
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
            None => (rest, None),
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(h) => (h, true),
            None => (host, false),
        };
        if host.is_empty() || host.contains(['/', '*', '@', '?', '#']) {
            return None;
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        Some(Origin {
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            wildcard,
            port: Some(port.unwrap_or(default_port)),
            base,
        })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>, path: &str) -> bool {
        let host_matches = if self.wildcard {
            host.strip_suffix(&self.host)
                .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1)
        } else {
            host == self.host
        };
        let path_matches = path
            .strip_prefix(self.base.as_str())
            .and_then(|p| p.strip_prefix(CERT_PATH))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        scheme == self.scheme && host_matches && port == self.port && path_matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_allow_only_their_hosts() {
        let cert = "/v1/notifications/certs/CERT-1";
        let any = Origin::parse("https://*.paypal.com").unwrap();
        assert!(any.allows("https", "api.paypal.com", Some(443), cert));
        assert!(any.allows("https", "api.sandbox.paypal.com", Some(443), cert));
        assert!(!any.allows("https", "paypal.com.evil.example", Some(443), cert));
        assert!(!any.allows("https", "evilpaypal.com", Some(443), cert));
        assert!(!any.allows("http", "api.paypal.com", Some(80), cert));
        assert!(!any.allows("https", "api.paypal.com", Some(8443), cert));
        // Only a certificate: not another page of PayPal's, not a folder below.
        assert!(!any.allows("https", "api.paypal.com", Some(443), "/echo"));
        assert!(!any.allows(
            "https",
            "api.paypal.com",
            Some(443),
            "/v1/notifications/certs/"
        ));
        assert!(!any.allows(
            "https",
            "api.paypal.com",
            Some(443),
            "/v1/notifications/certs/a/b"
        ));
        let local = Origin::parse("http://127.0.0.1:4000/paypal").unwrap();
        assert!(local.allows("http", "127.0.0.1", Some(4000), &format!("/paypal{cert}")));
        assert!(!local.allows("http", "127.0.0.1", Some(4000), cert));
        assert!(!local.allows("http", "127.0.0.1", Some(4001), &format!("/paypal{cert}")));
        for bad in [
            "api.paypal.com",
            "ftp://x",
            "https://",
            "https://a/b?c",
            "https://x:port",
        ] {
            assert!(Origin::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_signed_message_is_ids_time_and_the_crc_of_the_body() {
        let t = Transmission {
            auth_algo: AUTH_ALGO.into(),
            cert_url: String::new(),
            id: "abc".into(),
            signature: String::new(),
            time: "2026-12-03T10:00:00Z".into(),
        };
        // CRC-32 (IEEE) of "hello" is 907060870.
        assert_eq!(
            t.message("WH-1", b"hello"),
            "abc|2026-12-03T10:00:00Z|WH-1|907060870"
        );
    }
}
