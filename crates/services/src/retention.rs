//! How long each kind of data is kept, from the constants the code uses, so that the Privacy
//! Policy states what the software does.

use crate::{accounts, sessions, workspaces};

/// (what, how long), in the order the Privacy Policy lists them.
pub fn periods() -> Vec<(&'static str, String)> {
    let days = |d: chrono::Duration| format!("{} days", d.num_days());
    vec![
        (
            "Your account, workspaces, posts and media",
            "until you delete them or your account; deletion is immediate".to_owned(),
        ),
        (
            "Sign-in sessions",
            format!(
                "{} after they start, or until you sign out",
                days(sessions::LIFETIME)
            ),
        ),
        (
            "E-mail confirmation and change-of-address links",
            format!("{} hours, used once", accounts::LINK_HOURS_VERIFY),
        ),
        (
            "Password reset links",
            format!("{} hour, used once", accounts::LINK_HOURS_RESET),
        ),
        (
            "Workspace invitations",
            format!(
                "{} unless accepted or withdrawn",
                days(workspaces::INVITATION_LIFETIME)
            ),
        ),
        (
            "Your cookie choice (in your browser)",
            "1 year, then we ask again".to_owned(),
        ),
        (
            "Consent records",
            "kept as proof of consent; when you delete your account they are detached from you"
                .to_owned(),
        ),
        (
            "Backups (when the operator enables them)",
            "30 days".to_owned(),
        ),
        (
            "Anonymized aggregates (no identity)",
            "indefinitely".to_owned(),
        ),
    ]
}
