//! The cookies a response needs besides what its handler asked for: planned while the context
//! is built, written once the response is ready (the consent cookie and the optional
//! categories' cookies, a new CSRF seed, the session cookie's start or end, the flash message).

use super::consent::Consent;
use super::csrf::Seed;
use super::flash::Incoming;
use super::session::Session;
use super::{
    CSRF_COOKIE, FLASH_COOKIE, SESSION_COOKIE, SessionCookie, build_cookie, clear_cookie, cookie,
};
use crate::AppState;
use crate::consent::{ANALYTICS_COOKIE, CONSENT_COOKIE, ConsentCookie, MARKETING_COOKIE};
use crate::flash::Flash;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use domain::consent::ConsentChoice;
use services::sessions;
use services::tokens;

/// Which optional tags the operator configured; their categories' cookies exist only then.
struct TagsConfigured {
    analytics: bool,
    marketing: bool,
}

/// The cookies a response needs besides what its handler asked for.
pub(super) struct CookiePlan {
    secure: bool,
    /// A CSRF seed made for a browser that had none.
    new_seed: Option<String>,
    /// The browser sent a session cookie that no longer names a session.
    stale_session: bool,
    had_flash: bool,
    /// A consent cookie to store (a GPC signal applied now).
    consent: Option<ConsentCookie>,
    /// The consent in effect for this response, unless the handler changes it.
    effective: ConsentChoice,
    had_analytics: bool,
    had_marketing: bool,
    tags: TagsConfigured,
    keys: services::tokens::Keys,
}

impl CookiePlan {
    /// Plans the cookies from what the context found in the request.
    pub(super) fn new(
        state: &AppState,
        headers: &HeaderMap,
        session: &Session,
        seed: &Seed,
        flash: &Incoming,
        consent: &Consent,
    ) -> Self {
        Self {
            secure: state.config.https,
            new_seed: seed.new.clone(),
            stale_session: session.stale,
            had_flash: flash.had_cookie,
            consent: consent.store.clone(),
            effective: consent.view.effective,
            had_analytics: cookie(headers, ANALYTICS_COOKIE).is_some(),
            had_marketing: cookie(headers, MARKETING_COOKIE).is_some(),
            tags: TagsConfigured {
                analytics: state.config.analytics_script.is_some(),
                marketing: state.config.marketing_script.is_some(),
            },
            keys: state.services.keys.clone(),
        }
    }

    /// Writes every cookie: the handler's session and flash intents (from the response's
    /// extensions) and this plan's own.
    pub(super) fn apply(self, mut res: Response) -> Response {
        let secure = self.secure;
        let status = res.status();
        let flash_set = res.extensions_mut().remove::<Flash>();
        let session_change = res.extensions_mut().remove::<SessionCookie>();
        // A choice made by this request's handler takes effect on this very response.
        let consent = res
            .extensions_mut()
            .remove::<ConsentCookie>()
            .or(self.consent);
        let effective = consent.as_ref().map(|c| c.choice).unwrap_or(self.effective);
        let set = res.headers_mut();
        let mut add = |value: HeaderValue| set.append(header::SET_COOKIE, value);
        if let Some(consent) = consent {
            let max_age = crate::consent::MAX_AGE_DAYS * 24 * 60 * 60;
            add(build_cookie(
                CONSENT_COOKIE,
                consent.encode(&self.keys),
                max_age,
                secure,
            ));
        }
        // Optional categories' cookies exist only while granted (and while their tag is
        // configured); a withdrawal expires them on the same response.
        for (granted, configured, had, name, days) in [
            (
                effective.analytics,
                self.tags.analytics,
                self.had_analytics,
                ANALYTICS_COOKIE,
                365,
            ),
            (
                effective.marketing,
                self.tags.marketing,
                self.had_marketing,
                MARKETING_COOKIE,
                90,
            ),
        ] {
            if granted && configured && !had {
                add(build_cookie(
                    name,
                    tokens::random_token(),
                    days * 24 * 60 * 60,
                    secure,
                ));
            } else if had && !(granted && configured) {
                add(clear_cookie(name, secure));
            }
        }
        if let Some(seed) = self.new_seed {
            add(build_cookie(CSRF_COOKIE, seed, 60 * 60 * 24 * 365, secure));
        }
        match session_change {
            Some(SessionCookie::Start(token)) => {
                add(build_cookie(
                    SESSION_COOKIE,
                    token,
                    sessions::LIFETIME.num_seconds(),
                    secure,
                ));
            }
            Some(SessionCookie::End) => {
                add(clear_cookie(SESSION_COOKIE, secure));
            }
            None if self.stale_session => {
                add(clear_cookie(SESSION_COOKIE, secure));
            }
            None => {}
        }
        match flash_set {
            Some(flash) => {
                add(build_cookie(
                    FLASH_COOKIE,
                    flash.code().to_owned(),
                    60,
                    secure,
                ));
            }
            // The message is shown by the page that ends a chain of redirects, not by a redirect.
            None if self.had_flash && !status.is_redirection() => {
                add(clear_cookie(FLASH_COOKIE, secure));
            }
            None => {}
        }
        res
    }
}
