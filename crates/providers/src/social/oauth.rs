//! What the platforms' OAuth sides have in common, written once so that each adapter declares
//! only what differs:
//! - the authorize page ([`AuthorizePage`]): its address, how it names our app, the order of its
//!   parameters, how scopes are joined, and what binds a code to the authorisation that asked
//!   for it (a PKCE challenge, an OpenID Connect nonce, or the state alone). The URL a person is
//!   sent to is built here for every platform;
//! - the OAuth 2.0 token and revocation endpoints as X, TikTok and LinkedIn speak them
//!   ([`TokenEndpoints`]): a form posted with the app's credentials, and a grant or an
//!   `{error, error_description}` answered. How the app authenticates and how a revocation is
//!   confirmed are declared by each adapter; the calls and what a grant means are here;
//! - the checks of an OpenID Connect ID token that comes with a grant (LinkedIn's);
//! - the credentials of the simulator's sandbox app.
//!
//! Facebook and Instagram take their tokens through Graph instead (queries, and short-lived
//! tokens exchanged for long-lived ones): those calls stay in their adapters.

use super::{ConnectError, TokenGrant, unavailable, with_query};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

/// The app id the simulator's sandbox knows us by.
pub(super) const SANDBOX_CLIENT_ID: &str = "socializioz-sandbox";

/// The sandbox app's secret.
pub(super) fn sandbox_secret() -> SecretString {
    SecretString::from("sandbox-secret")
}

/// A parameter every authorize page takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Our app's id, under the name the platform gives it ([`AuthorizePage::app`]).
    App,
    RedirectUri,
    State,
    /// Always `code`.
    ResponseType,
    /// The scopes asked for, joined by [`AuthorizePage::scope_separator`].
    Scope,
}

/// What binds the code a platform sends back to the authorisation that asked for it, beyond the
/// `state` that our callback accepts only from the session that started the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// A PKCE challenge (S256) on the page; its verifier goes with the code exchange.
    Pkce,
    /// An OpenID Connect nonce on the page, which comes back inside the exchange's ID token.
    Nonce,
    /// The state alone: the platform takes neither.
    StateOnly,
}

/// How a platform's authorize page is asked for a code, as each connector declares it
/// ([`super::Connector::authorize_page`]).
#[derive(Debug, Clone)]
pub struct AuthorizePage<'a> {
    /// The page's address.
    pub address: String,
    /// The name of the parameter that carries our app's id (`client_id`; TikTok says
    /// `client_key`), and the id.
    pub app: (&'static str, &'a str),
    /// The five common parameters, in the order the platform documents them.
    pub order: [Param; 5],
    /// What joins the scopes: `,` or ` `.
    pub scope_separator: &'static str,
    pub binding: Binding,
}

impl AuthorizePage<'_> {
    /// The URL to send a person to: the common parameters in the page's order, then the PKCE
    /// challenge (with its method, `S256`) or the nonce, where the page takes one and one is
    /// given.
    pub fn url(
        &self,
        state: &str,
        pkce_challenge: Option<&str>,
        nonce: Option<&str>,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> String {
        let scope = scopes.join(self.scope_separator);
        let mut pairs: Vec<(&str, &str)> = self
            .order
            .iter()
            .map(|param| match param {
                Param::App => self.app,
                Param::RedirectUri => ("redirect_uri", redirect_uri),
                Param::State => ("state", state),
                Param::ResponseType => ("response_type", "code"),
                Param::Scope => ("scope", scope.as_str()),
            })
            .collect();
        match (self.binding, pkce_challenge, nonce) {
            (Binding::Pkce, Some(challenge), _) => pairs.extend([
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ]),
            (Binding::Nonce, _, Some(nonce)) => pairs.push(("nonce", nonce)),
            _ => {}
        }
        with_query(&self.address, &pairs)
    }
}

/// How our app proves itself at a platform's token and revocation endpoints.
pub(super) enum ClientAuth<'a> {
    /// The app's id (under `id_field`: `client_id`, TikTok's `client_key`) and its secret as
    /// form fields (TikTok, LinkedIn).
    Form {
        id_field: &'static str,
        id: &'a str,
        secret: &'a SecretString,
    },
    /// The app's id as a form field, and HTTP Basic with the secret where there is one (X: a
    /// confidential client has one, a public client none).
    Basic {
        id: &'a str,
        secret: Option<&'a SecretString>,
    },
}

/// A platform's token and revocation endpoints: what differs between X, TikTok and LinkedIn.
pub(super) struct TokenEndpoints<'a> {
    /// The platform's name in messages.
    pub platform: &'a str,
    pub http: &'a reqwest::Client,
    pub token_url: String,
    pub revoke_url: String,
    pub client: ClientAuth<'a>,
    /// What the app's credentials are called ("client id or secret") where the platform says
    /// `invalid_client` when it refuses them: a message that names the setting to fix. `None`
    /// treats `invalid_client` like any other failure of the platform's.
    pub credentials: Option<&'a str>,
    /// Whether any answer, a success too, may carry an `error` (TikTok's way).
    pub errors_in_any_answer: bool,
    /// Reads a revocation's answer: `Ok` when it confirms the revocation, else why not (often
    /// [`unconfirmed_revocation`]).
    pub revoked: fn(StatusCode, &Value) -> Result<(), ConnectError>,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    /// TikTok's name; LinkedIn says `refresh_token_expires_in`.
    #[serde(alias = "refresh_token_expires_in")]
    refresh_expires_in: Option<u64>,
    /// Separated by spaces (X, LinkedIn) or commas (TikTok, LinkedIn).
    scope: Option<String>,
    /// With the `openid` scope (LinkedIn): who signed in, for whom, and the nonce.
    id_token: Option<String>,
}

impl TokenEndpoints<'_> {
    /// Exchanges an authorisation code, with its PKCE verifier where one is given.
    pub async fn exchange(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<TokenGrant, ConnectError> {
        Ok(self
            .exchange_with_id_token(code, pkce_verifier, redirect_uri)
            .await?
            .0)
    }

    /// [`TokenEndpoints::exchange`], with the OpenID Connect ID token the answer carried, if any
    /// (unchecked: see [`IdTokenCheck`]).
    pub async fn exchange_with_id_token(
        &self,
        code: &str,
        pkce_verifier: Option<&str>,
        redirect_uri: &str,
    ) -> Result<(TokenGrant, Option<String>), ConnectError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = pkce_verifier {
            form.push(("code_verifier", verifier));
        }
        self.grant(self.post(&self.token_url, &form)).await
    }

    /// Renews a grant with its refresh token; `missing` is the refusal when the platform gave
    /// none for the account.
    pub async fn refresh(
        &self,
        refresh: Option<&SecretString>,
        missing: &str,
    ) -> Result<TokenGrant, ConnectError> {
        let refresh = refresh.ok_or_else(|| ConnectError::Refused(missing.to_owned()))?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose_secret()),
        ];
        Ok(self.grant(self.post(&self.token_url, &form)).await?.0)
    }

    /// Revokes each token in turn, stopping at the first the platform does not confirm.
    pub async fn revoke(&self, tokens: &[&SecretString]) -> Result<(), ConnectError> {
        for token in tokens {
            let res = self
                .post(&self.revoke_url, &[("token", token.expose_secret())])
                .send()
                .await
                .map_err(unavailable)?;
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_default();
            (self.revoked)(status, &body)?;
        }
        Ok(())
    }

    /// A form posted to `url` with the call's own fields, then the app's credentials.
    fn post(&self, url: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut fields = fields.to_vec();
        match &self.client {
            ClientAuth::Form {
                id_field,
                id,
                secret,
            } => {
                fields.extend([(*id_field, *id), ("client_secret", secret.expose_secret())]);
                self.http.post(url).form(&fields)
            }
            ClientAuth::Basic { id, secret } => {
                fields.push(("client_id", id));
                let request = self.http.post(url).form(&fields);
                match secret {
                    Some(secret) => request.basic_auth(id, Some(secret.expose_secret())),
                    None => request,
                }
            }
        }
    }

    /// Sends a token request (a code exchange or a refresh) and reads the grant, with the
    /// OpenID Connect ID token the answer carried, if any.
    async fn grant(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(TokenGrant, Option<String>), ConnectError> {
        let platform = self.platform;
        let res = request.send().await.map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() {
            return Err(ConnectError::Unavailable(format!(
                "{platform} answered {status}"
            )));
        }
        let body: Value = match res.json().await {
            Ok(body) => body,
            Err(e) if status.is_success() || self.errors_in_any_answer => {
                return Err(unavailable(e));
            }
            Err(_) => Value::Null,
        };
        let error = body["error"].as_str().unwrap_or_default();
        if !status.is_success() || (self.errors_in_any_answer && !error.is_empty()) {
            let why = body["error_description"]
                .as_str()
                .filter(|d| !d.is_empty())
                .unwrap_or(error)
                .to_owned();
            return Err(self.refusal(status, error, why));
        }
        let token: TokenBody = serde_json::from_value(body)
            .map_err(|e| ConnectError::Unavailable(format!("{platform}'s token answer: {e}")))?;
        let grant = TokenGrant {
            access: SecretString::from(token.access_token),
            refresh: token.refresh_token.map(SecretString::from),
            expires_in: token.expires_in,
            refresh_expires_in: token.refresh_expires_in,
            scopes: token
                .scope
                .unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        Ok((grant, token.id_token))
    }

    /// Only a refused grant is the account's problem; our own credentials being refused or a
    /// rate limit must not send every account to "reconnect".
    fn refusal(&self, status: StatusCode, error: &str, why: String) -> ConnectError {
        let platform = self.platform;
        match (error, self.credentials) {
            ("invalid_grant" | "invalid_request", _) => ConnectError::Refused(why),
            ("invalid_client", Some(credentials)) => ConnectError::Unavailable(format!(
                "{platform} refused the app's {credentials} (check the {platform} client secret \
                 setting): {why}"
            )),
            _ => ConnectError::Unavailable(format!("{platform} answered {status}: {why}")),
        }
    }
}

/// A revocation the platform did not confirm: its own failure (a 5xx) may pass, anything else is
/// a refusal.
pub(super) fn unconfirmed_revocation(platform: &str, status: StatusCode) -> ConnectError {
    if status.is_server_error() {
        ConnectError::Unavailable(format!("{platform} answered {status}"))
    } else {
        ConnectError::Refused(format!(
            "{platform} answered {status} without confirming the revocation"
        ))
    }
}

/// What an OpenID Connect ID token must say to be accepted (OpenID Connect Core 1.0, 3.1.3.7).
///
/// The token is read as it comes from the platform's token endpoint, over TLS, in answer to our
/// own authenticated request: the standard lets TLS stand for the issuer's signature there, so
/// the signature is not verified (the platform's keys are not fetched). Issuer, audience,
/// expiry and the nonce are checked.
pub(super) struct IdTokenCheck<'a> {
    /// The platform's name in messages.
    pub platform: &'a str,
    /// The `iss` the platform signs with (`https://www.linkedin.com/oauth`).
    pub issuer: &'a str,
    /// Our client id: the token must be meant for us.
    pub audience: &'a str,
    /// The nonce sent with the authorisation; `None` when none was sent.
    pub nonce: Option<&'a str>,
}

#[derive(Deserialize)]
struct IdClaims {
    #[serde(default)]
    iss: String,
    /// One audience, or several.
    #[serde(default)]
    aud: Value,
    #[serde(default)]
    sub: String,
    exp: Option<i64>,
    nonce: Option<String>,
}

/// How far the platform's clock may be ahead of ours when judging expiry.
const CLOCK_LEEWAY_SECONDS: i64 = 300;

impl IdTokenCheck<'_> {
    /// The token's subject, if every claim holds. A token for another client, from another
    /// issuer, expired, or for another authorisation (its nonce) is refused; one that cannot be
    /// read is the platform's failure.
    pub fn subject(&self, id_token: &str, now: i64) -> Result<String, ConnectError> {
        let platform = self.platform;
        let unreadable =
            || ConnectError::Unavailable(format!("{platform}'s ID token could not be read"));
        let mut parts = id_token.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unreadable());
        };
        let claims: IdClaims = base64url_decode(payload)
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(unreadable)?;
        let refused = |why: &str| ConnectError::Refused(format!("{platform}'s ID token {why}"));
        if claims.iss != self.issuer {
            return Err(refused("comes from another issuer"));
        }
        let for_us = match &claims.aud {
            Value::String(aud) => aud == self.audience,
            Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(self.audience)),
            _ => false,
        };
        if !for_us {
            return Err(refused("was issued to another application"));
        }
        if claims
            .exp
            .is_none_or(|exp| exp + CLOCK_LEEWAY_SECONDS < now)
        {
            return Err(refused("has expired"));
        }
        if let Some(expected) = self.nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            return Err(refused(
                "belongs to another connection attempt (its nonce does not match)",
            ));
        }
        if claims.sub.is_empty() {
            return Err(unreadable());
        }
        Ok(claims.sub)
    }
}

/// Decodes unpadded (or padded) base64url, as JSON Web Tokens use it.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(buffer >> bits).ok()?);
            buffer &= (1 << bits) - 1;
        }
    }
    // Six bits (one character) left over can hold no byte.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn token(claims: serde_json::Value) -> String {
        use std::fmt::Write;
        let encode = |bytes: &[u8]| {
            // Reference encoder: six bits a character, no padding.
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
                for i in 0..=chunk.len() {
                    let index = (n >> (18 - 6 * i)) & 63;
                    out.write_char(char::from(ALPHABET[index as usize]))
                        .unwrap();
                }
            }
            out
        };
        format!(
            "{}.{}.c2ln",
            encode(br#"{"alg":"RS256"}"#),
            encode(claims.to_string().as_bytes())
        )
    }

    const NOW: i64 = 1_800_000_000;

    fn check(nonce: Option<&str>) -> IdTokenCheck<'_> {
        IdTokenCheck {
            platform: "LinkedIn",
            issuer: "https://www.linkedin.com/oauth",
            audience: "app",
            nonce,
        }
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({
            "iss": "https://www.linkedin.com/oauth",
            "aud": "app",
            "sub": "member-1",
            "exp": NOW + 3600,
            "nonce": "n-1",
        })
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let json = serde_json::json!({ "b": bytes });
            let text = token(json.clone());
            let payload = text.split('.').nth(1).unwrap();
            let decoded: serde_json::Value =
                serde_json::from_slice(&base64url_decode(payload).unwrap()).unwrap();
            assert_eq!(decoded, json);
        }
        assert_eq!(
            base64url_decode("A"),
            None,
            "a lone character holds no byte"
        );
        assert_eq!(base64url_decode("a+b/"), None, "not the URL alphabet");
    }

    #[test]
    fn an_id_token_is_accepted_only_for_our_issuer_audience_time_and_nonce() {
        assert_eq!(
            check(Some("n-1")).subject(&token(claims()), NOW).unwrap(),
            "member-1"
        );
        // Several audiences, one of them us; no nonce expected.
        let mut several = claims();
        several["aud"] = serde_json::json!(["other", "app"]);
        several.as_object_mut().unwrap().remove("nonce");
        assert!(check(None).subject(&token(several.clone()), NOW).is_ok());

        let refused = |claims: serde_json::Value, nonce: Option<&str>| match check(nonce)
            .subject(&token(claims), NOW)
        {
            Err(ConnectError::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };
        // The nonce of another authorisation, or none where one was sent.
        assert!(refused(claims(), Some("n-2")).contains("another connection attempt"));
        assert!(refused(several, Some("n-1")).contains("nonce"));
        let mut other = claims();
        other["aud"] = serde_json::json!("another-app");
        assert!(refused(other, Some("n-1")).contains("another application"));
        let mut other = claims();
        other["iss"] = serde_json::json!("https://attacker.example");
        assert!(refused(other, Some("n-1")).contains("another issuer"));
        let mut other = claims();
        other["exp"] = serde_json::json!(NOW - CLOCK_LEEWAY_SECONDS - 1);
        assert!(refused(other, Some("n-1")).contains("expired"));

        assert!(matches!(
            check(None).subject("not-a-token", NOW),
            Err(ConnectError::Unavailable(_))
        ));
    }
}
