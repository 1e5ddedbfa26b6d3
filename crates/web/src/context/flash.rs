//! The flash concern of the request context: the one-line message a previous response left
//! for this page in a short-lived cookie.

use super::{FLASH_COOKIE, cookie};
use crate::flash::Flash;
use axum::http::HeaderMap;

/// The flash message the browser brought.
pub(super) struct Incoming {
    /// The message to show, when the cookie names one we know.
    pub message: Option<Flash>,
    /// The browser sent a flash cookie (known or not), which the response clears once shown.
    pub had_cookie: bool,
}

/// Reads the flash cookie.
pub(super) fn read(headers: &HeaderMap) -> Incoming {
    Incoming {
        message: cookie(headers, FLASH_COOKIE).and_then(Flash::from_code),
        had_cookie: cookie(headers, FLASH_COOKIE).is_some(),
    }
}
