//! The OAuth 2.0 authorization-code flow as every simulated platform runs it: an authorize page
//! with Allow and Deny, codes bound to the client, redirect URI and (where the platform takes
//! one) a PKCE challenge, access and refresh tokens with lifetimes, and bearer checks. The
//! platforms differ in parameter names, scope separators, PKCE and what they hand back; a
//! [`Flavor`] says how. Token and revoke requests are read here once ([`TokenRequest`],
//! [`RevokeRequest`]); each platform answers them in its own shapes.

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

/// A parameter's value, empty when absent.
pub(crate) fn param<'a>(p: &'a Params, name: &str) -> &'a str {
    p.get(name).map(String::as_str).unwrap_or_default()
}

/// The secret every simulated app is registered with, on the platforms that check one.
pub(crate) const CLIENT_SECRET: &str = "sandbox-secret";

/// The app calling a token or revoke endpoint, as it named itself.
pub(crate) struct Client {
    /// The platform's client parameter (`client_id`, TikTok's `client_key`).
    pub id: String,
    pub secret: String,
}

impl Client {
    /// Whether it named itself and gave the sandbox secret.
    pub fn authenticated(&self) -> bool {
        !self.id.is_empty() && self.secret == CLIENT_SECRET
    }
}

/// A call to a token endpoint, read from its parameters.
pub(crate) struct TokenRequest {
    pub client: Client,
    pub grant_type: String,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
    pub refresh_token: String,
}

/// A call to a revoke endpoint, read from its parameters.
pub(crate) struct RevokeRequest {
    pub client: Client,
    pub token: String,
}

/// Why a token request got no grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoGrant {
    /// The code was refused, for this reason.
    Code(&'static str),
    /// The refresh token is unknown, spent or another client's.
    Refresh,
    /// Neither `authorization_code` nor `refresh_token`.
    GrantType,
}

impl Flavor {
    fn client(&self, p: &Params) -> Client {
        Client {
            id: param(p, self.client_param).to_owned(),
            secret: param(p, "client_secret").to_owned(),
        }
    }

    /// Reads a token request; absent parameters are empty.
    pub fn token_request(&self, p: &Params) -> TokenRequest {
        TokenRequest {
            client: self.client(p),
            grant_type: param(p, "grant_type").to_owned(),
            code: param(p, "code").to_owned(),
            redirect_uri: param(p, "redirect_uri").to_owned(),
            code_verifier: param(p, "code_verifier").to_owned(),
            refresh_token: param(p, "refresh_token").to_owned(),
        }
    }

    /// Reads a revoke request; absent parameters are empty.
    pub fn revoke_request(&self, p: &Params) -> RevokeRequest {
        RevokeRequest {
            client: self.client(p),
            token: param(p, "token").to_owned(),
        }
    }

    /// The grant a token request earns: its code spent (`authorization_code`) or its refresh
    /// token spent (`refresh_token`, rotating).
    pub fn grant(&self, sim: &Simulator, request: &TokenRequest) -> Result<Grant, NoGrant> {
        match request.grant_type.as_str() {
            "authorization_code" => self.redeem(sim, request).map_err(NoGrant::Code),
            "refresh_token" => self.use_refresh(sim, request).ok_or(NoGrant::Refresh),
            _ => Err(NoGrant::GrantType),
        }
    }

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

    /// Spends the request's code: the grant, if client, redirect URI and verifier match.
    pub fn redeem(&self, sim: &Simulator, request: &TokenRequest) -> Result<Grant, &'static str> {
        let pending = sim
            .state()
            .codes
            .remove(&request.code)
            .ok_or("unknown or used code")?;
        if pending.grant.platform != self.platform
            || pending.grant.client_id != request.client.id
            || pending.redirect_uri != request.redirect_uri
        {
            return Err("client or redirect_uri does not match the authorization");
        }
        match &pending.code_challenge {
            Some(challenge) if !crate::pkce_matches(&request.code_verifier, challenge) => {
                Err("code_verifier does not match the code_challenge")
            }
            None if self.pkce == Pkce::Required => Err("the authorization had no code_challenge"),
            _ => Ok(pending.grant),
        }
    }

    /// Issues an access token for `grant` living `ttl`, and a refresh token where the platform
    /// gives one.
    pub fn issue(&self, sim: &Simulator, grant: Grant, ttl: std::time::Duration) -> Issued {
        let access = self.issue_access(sim, grant.clone(), ttl);
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
        if let Some(refresh) = &refresh {
            sim.state().refresh.insert(refresh.clone(), grant);
        }
        Issued {
            access,
            refresh,
            expires_in: ttl.as_secs(),
            scope,
        }
    }

    /// Issues an access token alone for `grant`, living `ttl`.
    pub fn issue_access(&self, sim: &Simulator, grant: Grant, ttl: std::time::Duration) -> String {
        let access = crate::random_token(&format!("{}at_", self.token_prefix));
        let expires_at = chrono::Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default();
        sim.state().access.insert(
            access.clone(),
            AccessToken {
                grant,
                issued_at: chrono::Utc::now(),
                expires_at,
                revoked: false,
            },
        );
        access
    }

    /// The grant behind the request's refresh token, if it is this client's (without spending
    /// it).
    pub fn refresh_grant(&self, sim: &Simulator, request: &TokenRequest) -> Option<Grant> {
        sim.state()
            .refresh
            .get(&request.refresh_token)
            .filter(|g| g.platform == self.platform && g.client_id == request.client.id)
            .cloned()
    }

    /// Spends the request's refresh token (they rotate): its grant, if it is this client's.
    pub fn use_refresh(&self, sim: &Simulator, request: &TokenRequest) -> Option<Grant> {
        let mut state = sim.state();
        let grant = state.refresh.get(&request.refresh_token)?;
        if grant.platform != self.platform || grant.client_id != request.client.id {
            return None;
        }
        state.refresh.remove(&request.refresh_token)
    }

    /// Ends a whole authorisation: every access token of the grant's person for its client is
    /// revoked and every refresh token of theirs forgotten.
    pub fn end_authorisation(&self, sim: &Simulator, of: &Grant) {
        let same = |g: &Grant| {
            g.platform == self.platform && g.client_id == of.client_id && g.user_id == of.user_id
        };
        let mut state = sim.state();
        for token in state.access.values_mut() {
            if same(&token.grant) {
                token.revoked = true;
            }
        }
        state.refresh.retain(|_, g| !same(g));
    }

    /// The grant behind an access or refresh token of `client_id`, if there is one.
    pub fn grant_of(&self, sim: &Simulator, token: &str, client_id: &str) -> Option<Grant> {
        let state = sim.state();
        state
            .access
            .get(token)
            .map(|t| t.grant.clone())
            .or_else(|| state.refresh.get(token).cloned())
            .filter(|g| g.platform == self.platform && g.client_id == client_id)
    }

    /// Revokes the request's access or refresh token; whether there was one of its client.
    pub fn revoke(&self, sim: &Simulator, request: &RevokeRequest) -> bool {
        let (token, client_id) = (request.token.as_str(), request.client.id.as_str());
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
