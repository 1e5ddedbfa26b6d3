//! One-time messages shown on the page after a redirect. The cookie carries only a code from
//! this list, never text, so nothing a person typed travels through it.

use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    Welcome,
    LoggedOut,
    EmailConfirmed,
    VerificationSent,
    ResetSent,
    PasswordReset,
    ProfileSaved,
    PasswordChanged,
    EmailChangeSent,
    SessionsEnded,
    SessionEnded,
    WorkspaceCreated,
    WorkspaceRenamed,
    InvitationSent,
    InvitationRevoked,
    InvitationAccepted,
    RoleChanged,
    MemberRemoved,
    LeftWorkspace,
}

const ALL: &[(Flash, &str, &str)] = &[
    (
        Flash::Welcome,
        "welcome",
        "Welcome to Socializioz! We sent you a link to confirm your e-mail address.",
    ),
    (Flash::LoggedOut, "logged-out", "You are logged out."),
    (
        Flash::EmailConfirmed,
        "email-confirmed",
        "Your e-mail address is confirmed.",
    ),
    (
        Flash::VerificationSent,
        "verification-sent",
        "We sent a new confirmation link to your address.",
    ),
    (
        Flash::ResetSent,
        "reset-sent",
        "If an account uses that address, we sent it a link to reset the password. The link works for 1 hour.",
    ),
    (
        Flash::PasswordReset,
        "password-reset",
        "Your password is changed and every session was signed out. Log in with the new password.",
    ),
    (
        Flash::ProfileSaved,
        "profile-saved",
        "Your profile is saved.",
    ),
    (
        Flash::PasswordChanged,
        "password-changed",
        "Your password is changed. Every other session was signed out.",
    ),
    (
        Flash::EmailChangeSent,
        "email-change-sent",
        "We sent a confirmation link to the new address. Your address changes when you open it.",
    ),
    (
        Flash::SessionsEnded,
        "sessions-ended",
        "Every other session is signed out.",
    ),
    (
        Flash::SessionEnded,
        "session-ended",
        "That session is signed out.",
    ),
    (
        Flash::WorkspaceCreated,
        "workspace-created",
        "Your workspace is ready.",
    ),
    (
        Flash::WorkspaceRenamed,
        "workspace-renamed",
        "The workspace is renamed.",
    ),
    (
        Flash::InvitationSent,
        "invitation-sent",
        "The invitation is on its way.",
    ),
    (
        Flash::InvitationRevoked,
        "invitation-revoked",
        "The invitation is withdrawn.",
    ),
    (
        Flash::InvitationAccepted,
        "invitation-accepted",
        "You joined the workspace.",
    ),
    (Flash::RoleChanged, "role-changed", "The role is changed."),
    (
        Flash::MemberRemoved,
        "member-removed",
        "The member is removed from the workspace.",
    ),
    (
        Flash::LeftWorkspace,
        "left-workspace",
        "You left the workspace.",
    ),
];

impl Flash {
    pub fn from_code(code: &str) -> Option<Self> {
        ALL.iter().find(|(_, c, _)| *c == code).map(|(f, _, _)| *f)
    }

    fn entry(&self) -> (&'static str, &'static str) {
        ALL.iter()
            .find(|(f, _, _)| f == self)
            .map(|(_, c, m)| (*c, *m))
            .unwrap_or(("", ""))
    }

    pub fn message(&self) -> &'static str {
        self.entry().1
    }

    /// The value the flash cookie carries.
    pub fn code(&self) -> &'static str {
        self.entry().0
    }
}

/// A redirect (303, so the browser follows with GET) that shows `flash` on the next page. The
/// request context turns the flash into its cookie.
pub fn redirect_with(to: &str, flash: Flash) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.extensions_mut().insert(flash);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flash_has_one_code_and_a_message() {
        for (flash, code, message) in ALL {
            assert_eq!(Flash::from_code(code), Some(*flash));
            assert_eq!(flash.message(), *message);
            assert_eq!(ALL.iter().filter(|(f, _, _)| f == flash).count(), 1);
        }
        assert_eq!(Flash::from_code("<script>"), None);
    }
}
