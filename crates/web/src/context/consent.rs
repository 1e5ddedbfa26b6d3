//! The consent and policies concern of the request context: the cookie consent in effect
//! (a stored, valid choice made under the Cookie Policy in effect, or a Global Privacy Control
//! signal applied now), and the updated policies a signed-in person must accept before they
//! change anything.

use super::{CookiePolicy, POLICIES_LATER_COOKIE, Sender, cookie};
use crate::AppState;
use crate::consent::{CONSENT_COOKIE, ConsentCookie, ConsentView};
use crate::error::AppError;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use services::frame::Frame;
use services::policies::Pending;
use services::sessions::AuthSession;

/// Which pending versions a "later" covers: a newer version asks again.
pub fn pending_signature(pending: &[Pending]) -> String {
    pending
        .iter()
        .map(|p| format!("{}:{}", p.kind.slug(), p.current))
        .collect::<Vec<_>>()
        .join(",")
}

/// The cookie consent of this request.
pub(super) struct Consent {
    /// What applies to this response.
    pub view: ConsentView,
    /// A consent cookie to store (a GPC signal applied now).
    pub store: Option<ConsentCookie>,
    /// The Cookie Policy in effect.
    pub policy: CookiePolicy,
}

/// Works out the consent: a stored, valid choice made under the Cookie Policy in effect, else
/// none; a GPC signal may decide it now, and then goes into the consent ledger.
pub(super) async fn read(
    state: &AppState,
    headers: &HeaderMap,
    auth: Option<&AuthSession>,
    sender: &Sender,
) -> Result<Consent, AppError> {
    let now = chrono::Utc::now();
    let (version, sha256) = state.services.cookie_policy().await?;
    let policy = CookiePolicy { version, sha256 };
    let stored = cookie(headers, CONSENT_COOKIE).and_then(|value| {
        ConsentCookie::decode(value, &state.services.keys, now, &policy.version)
            .inspect_err(|why| {
                tracing::info!(
                    reason = why,
                    "consent cookie ignored; the banner asks again"
                )
            })
            .ok()
    });
    let gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let (view, outcome) = crate::consent::resolve(stored, gpc, now, &policy.version);
    if let Some(applied) = outcome.store.as_ref().filter(|_| outcome.record_gpc) {
        let decision = services::consent::Decision {
            consent_id: applied.id.clone(),
            user_id: auth.map(|a| a.user.id),
            event: services::consent::Event::Gpc,
            categories: applied.choice.keys(),
            policies: policy.as_json(),
            source: services::consent::Source::Gpc,
            locale: sender.lang.code().to_owned(),
            client: sender.client.clone(),
            browser: sender.browser.clone(),
        };
        state.services.record_consent(decision).await?;
    }
    Ok(Consent {
        view,
        store: outcome.store,
        policy,
    })
}

/// The policies the signed-in person must accept again (none for a visitor): what the frame
/// read they accepted, against the versions in effect.
pub(super) async fn pending_policies(
    state: &AppState,
    frame: Option<&Frame>,
) -> Result<Vec<Pending>, AppError> {
    Ok(match frame {
        Some(f) => state.services.pending_for(&f.accepted).await?,
        None => Vec::new(),
    })
}

/// The redirect to the policy review, when updated policies hold this request back: until the
/// person accepts, nothing but their own settings, the policy pages and signing out may change
/// anything; workspace pages can be read once they chose "later".
pub(super) fn review_first(req: &Request, here: &str, pending: &[Pending]) -> Option<Response> {
    if pending.is_empty() {
        return None;
    }
    let path = req.uri().path();
    let open_for_changes = [
        "/settings",
        "/policies/",
        "/consent",
        "/logout",
        "/verify/",
        "/password/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    let workspace_page =
        path.starts_with("/w/") || path.starts_with("/workspaces/") || path == "/dashboard";
    let deferred =
        cookie(req.headers(), POLICIES_LATER_COOKIE) == Some(pending_signature(pending).as_str());
    let blocked = if req.method().is_safe() {
        workspace_page && !deferred
    } else {
        !open_for_changes
    };
    if !blocked {
        return None;
    }
    // After a refused change, come back to a page, not to the form's address.
    let back = if req.method().is_safe() {
        here
    } else {
        "/dashboard"
    };
    let target = format!(
        "/policies/review?next={}",
        form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
    );
    Some(Redirect::to(&target).into_response())
}
