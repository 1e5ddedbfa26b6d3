//! Asking before what cannot be undone (disconnecting an account, deleting a post or a file).
//! The destructive form posts `confirm=yes` only from the page that asks: a post without it
//! (the button on the list, an old page, a script that failed) is sent to that page, which
//! says what will happen, in numbers, and holds the real form. With script, `app.js` reads the
//! same words from that page into a dialog and sends the same form with `confirm=yes`.

use crate::page::Layout;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};

/// The page that asks.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub layout: Layout,
    /// A question: "Disconnect X @acme?".
    pub heading: String,
    /// What will happen, one paragraph each.
    pub consequences: Vec<String>,
    /// Where the confirmed form posts (the destructive route itself).
    pub action: String,
    /// The confirm button's words, such as "Disconnect @acme"; `None` when it cannot be done
    /// now (the consequences say why), and only the way back is offered.
    pub button: Option<String>,
    /// Where "Cancel" leads.
    pub back: String,
}

/// The destructive form's one extra field.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Confirmation {
    confirm: String,
}

impl Confirmation {
    /// Sent from the page (or dialog) that asked.
    pub fn given(&self) -> bool {
        self.confirm == "yes"
    }
}

/// Sends an unconfirmed destructive post to the page at `ask` (a 303, so the browser follows
/// with GET and nothing is done).
pub fn ask_first(ask: &str) -> Response {
    Redirect::to(ask).into_response()
}
