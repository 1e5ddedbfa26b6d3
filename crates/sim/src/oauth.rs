//! The OAuth 2.0 authorization-code flow as every simulated platform runs it: an authorize page
//! with Allow and Deny, codes bound to the client, redirect URI and (where the platform takes
//! one) a PKCE challenge, access and refresh tokens with lifetimes, and bearer checks. The
//! platforms differ in parameter names, scope separators, PKCE and what they hand back; a
//! [`Flavor`] says how.

use crate::{AccessToken, Grant, PendingCode, Simulator, html_escape};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::Platform;
use std::collections::HashMap;

/// Whether a platform takes a PKCE challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkce {
    /// S256 required (X).
    Required,
    /// Checked when sent (TikTok for web, Facebook): a code whose authorisation carried a
    /// challenge is redeemed only with its verifier.
    Optional,
    /// Not part of the platform's flow for a web app (Instagram; LinkedIn, which offers it to
    /// native apps only): a challenge sent anyway is ignored.
    Unsupported,
}

/// When a platform hands out a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshTokens {
    /// Only with this scope (X: `offline.access`).
    WithScope(&'static str),
    Always,
    Never,
}

/// How one platform runs OAuth.
pub(crate) struct Flavor {
    pub platform: Platform,
    /// "X", "Facebook", … for the authorize page.
    pub name: &'static str,
    /// The parameter that names the client (`client_id`, TikTok's `client_key`).
    pub client_param: &'static str,
    /// Scopes the platform knows.
    pub scopes: &'static [&'static str],
    /// Between scopes in the `scope` parameter.
    pub scope_separator: char,
    pub pkce: Pkce,
    pub refresh_tokens: RefreshTokens,
    /// Prefix of the tokens it issues, so a test can tell them apart.
    pub token_prefix: &'static str,
    /// The username the authorize page suggests.
    pub default_user: &'static str,
}

/// Query or form parameters, by name.
pub(crate) type Params = HashMap<String, String>;

fn param<'a>(p: &'a Params, name: &str) -> &'a str {
    p.get(name).map(String::as_str).unwrap_or_default()
}

impl Flavor {
    pub fn split_scopes(&self, scope: &str) -> Vec<String> {
        scope
            .split(self.scope_separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Checks an authorize request; the scopes asked for, or why it is refused.
    pub fn check_authorize(&self, p: &Params) -> Result<Vec<String>, String> {
        if self.platform != Platform::Facebook && param(p, "response_type") != "code" {
            return Err("response_type must be code".into());
        }
        if param(p, self.client_param).is_empty() || param(p, "state").is_empty() {
            return Err(format!("{} and state are required", self.client_param));
        }
        let redirect = param(p, "redirect_uri");
        if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
            return Err("redirect_uri must be an http(s) URL".into());
        }
        let challenge = param(p, "code_challenge");
        let method = param(p, "code_challenge_method");
        match self.pkce {
            Pkce::Required if challenge.is_empty() || method != "S256" => {
                return Err("PKCE with code_challenge_method=S256 is required".into());
            }
            Pkce::Optional if !challenge.is_empty() && method != "S256" => {
                return Err("code_challenge_method must be S256".into());
            }
            _ => {}
        }
        let scopes = self.split_scopes(param(p, "scope"));
        if scopes.is_empty() {
            return Err("scope is required".into());
        }
        if let Some(unknown) = scopes.iter().find(|s| !self.scopes.contains(&s.as_str())) {
            return Err(format!("unknown scope {unknown}"));
        }
        Ok(scopes)
    }

    /// The authorize page: what the app asks for, a username to play, Allow and Deny.
    pub fn authorize_page(&self, p: &Params) -> Response {
        let scopes = match self.check_authorize(p) {
            Ok(scopes) => scopes,
            Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
        };
        let mut names: Vec<&String> = p.keys().collect();
        names.sort();
        let hidden: String = names
            .into_iter()
            .map(|k| {
                format!(
                    r#"<input type="hidden" name="{}" value="{}">"#,
                    html_escape(k),
                    html_escape(&p[k])
                )
            })
            .collect();
        let list: String = scopes
            .iter()
            .map(|s| format!("<li>{}</li>", html_escape(s)))
            .collect();
        Html(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize app · {name} (simulated)</title></head>
<body><main><h1>Authorize {client} to use your {name} account? (simulated)</h1>
<p>This is the Socializioz platform simulator, not {name}.</p>
<p>It will be able to:</p><ul id="scopes">{list}</ul>
<form method="post">{hidden}
<label for="username">Simulated {name} user</label> <input id="username" name="username" value="{user}">
<button type="submit" name="decision" value="allow" id="allow">Authorize app</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form></main></body></html>"#,
            name = self.name,
            client = html_escape(param(p, self.client_param)),
            user = self.default_user,
        ))
        .into_response()
    }

    /// The person's answer on the authorize page: back to the app with a code, or with
    /// `access_denied`.
    pub fn decide(&self, sim: &Simulator, p: &Params) -> Response {
        self.decide_with_code(sim, p).0
    }

    /// [`Flavor::decide`], with the code issued (if one was), for a platform that binds more
    /// to it (LinkedIn's nonce).
    pub fn decide_with_code(&self, sim: &Simulator, p: &Params) -> (Response, Option<String>) {
        let scopes = match self.check_authorize(p) {
            Ok(scopes) => scopes,
            Err(why) => return ((StatusCode::BAD_REQUEST, why).into_response(), None),
        };
        let redirect = param(p, "redirect_uri");
        let state = param(p, "state");
        if param(p, "decision") != "allow" {
            return (
                back_to(redirect, &[("error", "access_denied"), ("state", state)]),
                None,
            );
        }
        let username = match param(p, "username").trim() {
            "" => self.default_user.to_owned(),
            name => name.to_owned(),
        };
        let code = crate::random_token(&format!("{}code_", self.token_prefix));
        let challenge = match self.pkce {
            Pkce::Unsupported => "",
            Pkce::Required | Pkce::Optional => param(p, "code_challenge"),
        };
        sim.state().codes.insert(
            code.clone(),
            PendingCode {
                grant: Grant {
                    platform: self.platform,
                    client_id: param(p, self.client_param).to_owned(),
                    user_id: user_id(self.platform, &username),
                    username,
                    scopes,
                },
                redirect_uri: redirect.to_owned(),
                code_challenge: (!challenge.is_empty()).then(|| challenge.to_owned()),
            },
        );
        (
            back_to(redirect, &[("code", &code), ("state", state)]),
            Some(code),
        )
    }

    /// Spends a code: the grant, if client, redirect URI and verifier match.
    pub fn redeem(
        &self,
        sim: &Simulator,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Grant, &'static str> {
        let pending = sim
            .state()
            .codes
            .remove(code)
            .ok_or("unknown or used code")?;
        if pending.grant.platform != self.platform
            || pending.grant.client_id != client_id
            || pending.redirect_uri != redirect_uri
        {
            return Err("client or redirect_uri does not match the authorization");
        }
        match &pending.code_challenge {
            Some(challenge) if !crate::pkce_matches(verifier, challenge) => {
                Err("code_verifier does not match the code_challenge")
            }
            None if self.pkce == Pkce::Required => Err("the authorization had no code_challenge"),
            _ => Ok(pending.grant),
        }
    }

    /// Issues an access token for `grant` living `ttl`, and a refresh token where the platform
    /// gives one.
    pub fn issue(&self, sim: &Simulator, grant: Grant, ttl: std::time::Duration) -> Issued {
        let access = crate::random_token(&format!("{}at_", self.token_prefix));
        let expires_at = chrono::Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default();
        let refresh = match self.refresh_tokens {
            RefreshTokens::Always => true,
            RefreshTokens::WithScope(scope) => grant.scopes.iter().any(|s| s == scope),
            RefreshTokens::Never => false,
        }
        .then(|| crate::random_token(&format!("{}rt_", self.token_prefix)));
        let scope = grant
            .scopes
            .join(&self.scope_separator.to_string())
            .to_owned();
        let mut state = sim.state();
        state.access.insert(
            access.clone(),
            AccessToken {
                grant: grant.clone(),
                issued_at: chrono::Utc::now(),
                expires_at,
                revoked: false,
            },
        );
        if let Some(refresh) = &refresh {
            state.refresh.insert(refresh.clone(), grant);
        }
        Issued {
            access,
            refresh,
            expires_in: ttl.as_secs(),
            scope,
        }
    }

    /// Spends a refresh token (they rotate): its grant, if it belongs to `client_id`.
    pub fn use_refresh(&self, sim: &Simulator, refresh: &str, client_id: &str) -> Option<Grant> {
        let mut state = sim.state();
        let grant = state.refresh.get(refresh)?;
        if grant.platform != self.platform || grant.client_id != client_id {
            return None;
        }
        state.refresh.remove(refresh)
    }

    /// Revokes an access or refresh token of `client_id`; whether there was one.
    pub fn revoke(&self, sim: &Simulator, token: &str, client_id: &str) -> bool {
        let mut state = sim.state();
        let mut found = false;
        if let Some(t) = state.access.get_mut(token)
            && t.grant.platform == self.platform
            && t.grant.client_id == client_id
        {
            t.revoked = true;
            found = true;
        }
        if state
            .refresh
            .get(token)
            .is_some_and(|g| g.platform == self.platform && g.client_id == client_id)
        {
            state.refresh.remove(token);
            found = true;
        }
        found
    }
}

/// Tokens just issued.
pub(crate) struct Issued {
    pub access: String,
    pub refresh: Option<String>,
    pub expires_in: u64,
    /// The scopes, joined as the platform joins them.
    pub scope: String,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Unknown, expired, revoked, or another platform's token.
    Unauthorised,
    MissingScope(&'static str),
}

/// The `Authorization: Bearer` token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The grant behind `token` on `platform`, if it is valid and carries `scope`.
pub(crate) fn check_token(
    sim: &Simulator,
    platform: Platform,
    token: Option<&str>,
    scope: &'static str,
) -> Result<Grant, Refusal> {
    let token = token.ok_or(Refusal::Unauthorised)?;
    let state = sim.state();
    let found = state.access.get(token).ok_or(Refusal::Unauthorised)?;
    if found.grant.platform != platform || found.revoked || found.expires_at <= chrono::Utc::now() {
        return Err(Refusal::Unauthorised);
    }
    if !found.grant.scopes.iter().any(|s| s == scope) {
        return Err(Refusal::MissingScope(scope));
    }
    Ok(found.grant.clone())
}

/// The OAuth endpoints' flat error, `{error, error_description}` (TikTok adds a `log_id`).
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The redirect back to the app, with `pairs` added to the query.
pub(crate) fn back_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{sep}{query}")).into_response()
}

/// A stable numeric id for a simulated username on a platform.
pub(crate) fn user_id(platform: Platform, username: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}:{username}", platform.slug()).as_bytes());
    let mut n = 0u64;
    for b in &digest[..7] {
        n = (n << 8) | u64::from(*b);
    }
    (n % 9_000_000_000_000_000 + 1_000_000_000_000_000).to_string()
}
