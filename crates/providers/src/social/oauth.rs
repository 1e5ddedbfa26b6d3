//! The OAuth 2.0 token and revocation endpoints as X, TikTok and LinkedIn speak them: a form
//! posted, and a grant or an `{error, error_description}` answered.
//!
//! How each platform authenticates the call stays in its adapter (it builds the request); what
//! the answer means is read here, once.

use super::{ConnectError, TokenGrant, unavailable};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// What differs between the platforms' token endpoints.
pub(super) struct TokenEndpoint<'a> {
    /// The platform's name in messages.
    pub platform: &'a str,
    /// What the app's credentials are called ("client id or secret") where the platform says
    /// `invalid_client` when it refuses them: a message that names the setting to fix. `None`
    /// treats `invalid_client` like any other failure of the platform's.
    pub credentials: Option<&'a str>,
    /// Whether any answer, a success too, may carry an `error` (TikTok's way).
    pub errors_in_any_answer: bool,
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
}

impl TokenEndpoint<'_> {
    /// Sends a token request (a code exchange or a refresh) and reads the grant.
    pub async fn grant(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<TokenGrant, ConnectError> {
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
        Ok(TokenGrant {
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
        })
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
