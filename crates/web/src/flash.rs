//! One-time messages shown on the page after a redirect. The cookie carries only a code from
//! this list, never text, so nothing a person typed travels through it.

use axum::response::{IntoResponse, Redirect, Response};
use domain::Language;

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
    SessionExpired,
    WorkspaceCreated,
    WorkspaceRenamed,
    InvitationSent,
    InvitationRevoked,
    InvitationAccepted,
    RoleChanged,
    MemberRemoved,
    LeftWorkspace,
    PostSaved,
    PostScheduled,
    PostPublishing,
    PostDuplicated,
    PostDeleted,
    PostRescheduled,
    PostUnscheduled,
    PostSentForApproval,
    PostApproved,
    PostSentBack,
    NoteAdded,
    NoteDeleted,
    NotificationsRead,
    ApprovalsSaved,
    PreviewRevoked,
    PreviewThanks,
    TargetRetried,
    TargetConfirmed,
    CommentRetried,
    CampaignSaved,
    CampaignDeleted,
    MediaUploaded,
    MediaSaved,
    MediaReviewed,
    MediaDeleted,
    AccountConnected,
    ConnectionCancelled,
    AccountDisconnected,
    AccountDisconnectedUnconfirmed,
    AccountDisconnectedNoRevocation,
    AccountDisconnectedShared,
    AccountsConnected,
    DeletionRequestRecorded,
    DeletionRequestResent,
    DeletionRequestClosed,
    ConsentSaved,
    SubscriptionCancelled,
    CheckoutAbandoned,
    SubscriptionReactivated,
    BillingDetailsSaved,
    AiTurnedOn,
    AiTurnedOff,
    AnalyticsOn,
    AnalyticsOff,
    WeeklyReportOn,
    WeeklyReportOff,
    BrandSaved,
    BrandUnchanged,
    CommentsOn,
    CommentsOff,
    CommentSettingsSaved,
    ReplySent,
    ReplyUnconfirmed,
    ReplyDraftSaved,
    ReplySuggested,
    CommentUpdated,
    CommentDeleted,
    InboxOn,
    InboxOff,
    MessageSent,
    ReplyPending,
    ReplyReturned,
}

impl Flash {
    const ALL: [Flash; 82] = [
        Self::Welcome,
        Self::LoggedOut,
        Self::EmailConfirmed,
        Self::VerificationSent,
        Self::ResetSent,
        Self::PasswordReset,
        Self::ProfileSaved,
        Self::PasswordChanged,
        Self::EmailChangeSent,
        Self::SessionsEnded,
        Self::SessionEnded,
        Self::SessionExpired,
        Self::WorkspaceCreated,
        Self::WorkspaceRenamed,
        Self::InvitationSent,
        Self::InvitationRevoked,
        Self::InvitationAccepted,
        Self::RoleChanged,
        Self::MemberRemoved,
        Self::LeftWorkspace,
        Self::PostSaved,
        Self::PostScheduled,
        Self::PostPublishing,
        Self::PostDuplicated,
        Self::PostDeleted,
        Self::PostRescheduled,
        Self::PostUnscheduled,
        Self::PostSentForApproval,
        Self::PostApproved,
        Self::PostSentBack,
        Self::NoteAdded,
        Self::NoteDeleted,
        Self::NotificationsRead,
        Self::ApprovalsSaved,
        Self::PreviewRevoked,
        Self::PreviewThanks,
        Self::TargetRetried,
        Self::TargetConfirmed,
        Self::CommentRetried,
        Self::CampaignSaved,
        Self::CampaignDeleted,
        Self::MediaUploaded,
        Self::MediaSaved,
        Self::MediaReviewed,
        Self::MediaDeleted,
        Self::AccountConnected,
        Self::ConnectionCancelled,
        Self::AccountDisconnected,
        Self::AccountDisconnectedUnconfirmed,
        Self::AccountDisconnectedNoRevocation,
        Self::AccountDisconnectedShared,
        Self::AccountsConnected,
        Self::DeletionRequestRecorded,
        Self::DeletionRequestResent,
        Self::DeletionRequestClosed,
        Self::ConsentSaved,
        Self::SubscriptionCancelled,
        Self::CheckoutAbandoned,
        Self::SubscriptionReactivated,
        Self::BillingDetailsSaved,
        Self::AiTurnedOn,
        Self::AiTurnedOff,
        Self::AnalyticsOn,
        Self::AnalyticsOff,
        Self::WeeklyReportOn,
        Self::WeeklyReportOff,
        Self::BrandSaved,
        Self::BrandUnchanged,
        Self::CommentsOn,
        Self::CommentsOff,
        Self::CommentSettingsSaved,
        Self::ReplySent,
        Self::ReplyUnconfirmed,
        Self::ReplyDraftSaved,
        Self::ReplySuggested,
        Self::CommentUpdated,
        Self::CommentDeleted,
        Self::InboxOn,
        Self::InboxOff,
        Self::MessageSent,
        Self::ReplyPending,
        Self::ReplyReturned,
    ];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The value the flash cookie carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::LoggedOut => "logged-out",
            Self::EmailConfirmed => "email-confirmed",
            Self::VerificationSent => "verification-sent",
            Self::ResetSent => "reset-sent",
            Self::PasswordReset => "password-reset",
            Self::ProfileSaved => "profile-saved",
            Self::PasswordChanged => "password-changed",
            Self::EmailChangeSent => "email-change-sent",
            Self::SessionsEnded => "sessions-ended",
            Self::SessionEnded => "session-ended",
            Self::SessionExpired => "session-expired",
            Self::WorkspaceCreated => "workspace-created",
            Self::WorkspaceRenamed => "workspace-renamed",
            Self::InvitationSent => "invitation-sent",
            Self::InvitationRevoked => "invitation-revoked",
            Self::InvitationAccepted => "invitation-accepted",
            Self::RoleChanged => "role-changed",
            Self::MemberRemoved => "member-removed",
            Self::LeftWorkspace => "left-workspace",
            Self::PostSaved => "post-saved",
            Self::PostScheduled => "post-scheduled",
            Self::PostPublishing => "post-publishing",
            Self::PostDuplicated => "post-duplicated",
            Self::PostDeleted => "post-deleted",
            Self::PostRescheduled => "post-rescheduled",
            Self::PostUnscheduled => "post-unscheduled",
            Self::PostSentForApproval => "post-sent-for-approval",
            Self::PostApproved => "post-approved",
            Self::PostSentBack => "post-sent-back",
            Self::NoteAdded => "note-added",
            Self::NoteDeleted => "note-deleted",
            Self::NotificationsRead => "notifications-read",
            Self::ApprovalsSaved => "approvals-saved",
            Self::PreviewRevoked => "preview-revoked",
            Self::PreviewThanks => "preview-thanks",
            Self::TargetRetried => "target-retried",
            Self::TargetConfirmed => "target-confirmed",
            Self::CommentRetried => "comment-retried",
            Self::CampaignSaved => "campaign-saved",
            Self::CampaignDeleted => "campaign-deleted",
            Self::MediaUploaded => "media-uploaded",
            Self::MediaSaved => "media-saved",
            Self::MediaReviewed => "media-reviewed",
            Self::MediaDeleted => "media-deleted",
            Self::AccountConnected => "account-connected",
            Self::ConnectionCancelled => "connection-cancelled",
            Self::AccountDisconnected => "account-disconnected",
            Self::AccountDisconnectedUnconfirmed => "account-disconnected-unconfirmed",
            Self::AccountDisconnectedNoRevocation => "account-disconnected-no-revocation",
            Self::AccountDisconnectedShared => "account-disconnected-shared",
            Self::AccountsConnected => "accounts-connected",
            Self::DeletionRequestRecorded => "deletion-request-recorded",
            Self::DeletionRequestResent => "deletion-request-resent",
            Self::DeletionRequestClosed => "deletion-request-closed",
            Self::ConsentSaved => "consent-saved",
            Self::SubscriptionCancelled => "subscription-cancelled",
            Self::CheckoutAbandoned => "checkout-abandoned",
            Self::SubscriptionReactivated => "subscription-reactivated",
            Self::BillingDetailsSaved => "billing-details-saved",
            Self::AiTurnedOn => "ai-on",
            Self::AiTurnedOff => "ai-off",
            Self::AnalyticsOn => "analytics-on",
            Self::AnalyticsOff => "analytics-off",
            Self::WeeklyReportOn => "weekly-report-on",
            Self::WeeklyReportOff => "weekly-report-off",
            Self::BrandSaved => "brand-saved",
            Self::BrandUnchanged => "brand-unchanged",
            Self::CommentsOn => "comments-on",
            Self::CommentsOff => "comments-off",
            Self::CommentSettingsSaved => "comment-settings-saved",
            Self::ReplySent => "reply-sent",
            Self::ReplyUnconfirmed => "reply-unconfirmed",
            Self::ReplyDraftSaved => "reply-draft-saved",
            Self::ReplySuggested => "reply-suggested",
            Self::CommentUpdated => "comment-updated",
            Self::CommentDeleted => "comment-deleted",
            Self::InboxOn => "inbox-on",
            Self::InboxOff => "inbox-off",
            Self::MessageSent => "message-sent",
            Self::ReplyPending => "reply-pending",
            Self::ReplyReturned => "reply-returned",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Self::Welcome => {
                "Welcome to Socializioz! We sent you a link to confirm your e-mail address."
            }
            Self::LoggedOut => "You are logged out.",
            Self::EmailConfirmed => "Your e-mail address is confirmed.",
            Self::VerificationSent => "We sent a new confirmation link to your address.",
            Self::ResetSent => {
                "If an account uses that address, we sent it a link to reset the password. The link works for 1 hour."
            }
            Self::PasswordReset => {
                "Your password is changed and every session was signed out. Log in with the new password."
            }
            Self::ProfileSaved => "Your profile is saved.",
            Self::PasswordChanged => {
                "Your password is changed. Every other session was signed out."
            }
            Self::EmailChangeSent => {
                "We sent a confirmation link to the new address. Your address changes when you open it."
            }
            Self::SessionsEnded => "Every other session is signed out.",
            Self::SessionEnded => "That session is signed out.",
            Self::SessionExpired => {
                "Your session has ended, so nothing was changed. Log in again to go on."
            }
            Self::WorkspaceCreated => "Your workspace is ready.",
            Self::WorkspaceRenamed => "The workspace is renamed.",
            Self::InvitationSent => "The invitation is on its way.",
            Self::InvitationRevoked => "The invitation is withdrawn.",
            Self::InvitationAccepted => "You joined the workspace.",
            Self::RoleChanged => "The role is changed.",
            Self::MemberRemoved => "The member is removed from the workspace.",
            Self::LeftWorkspace => "You left the workspace.",
            Self::PostSaved => "The draft is saved.",
            Self::PostScheduled => "The post is scheduled.",
            Self::PostPublishing => {
                "The post is on its way. This page shows each account's result."
            }
            Self::PostDuplicated => "A copy of the post is ready as a draft.",
            Self::PostDeleted => "The post is deleted from Socializioz.",
            Self::PostRescheduled => "The post is moved to its new time.",
            Self::PostUnscheduled => "The post is off the schedule and back to a draft.",
            Self::PostSentForApproval => {
                "The post is sent for approval. It is scheduled once an approver approves it."
            }
            Self::PostApproved => "The post is approved and scheduled.",
            Self::PostSentBack => "The post is back with its author as a draft, with your note.",
            Self::NoteAdded => "The note is added; the members it mentions are told.",
            Self::NoteDeleted => "The note is deleted.",
            Self::NotificationsRead => "Every notification is marked read.",
            Self::ApprovalsSaved => "The approval settings are saved.",
            Self::PreviewRevoked => "The link is revoked: it no longer opens anything.",
            Self::PreviewThanks => "Thank you: the team sees what you said.",
            Self::TargetRetried => "Trying again now.",
            Self::TargetConfirmed => "Noted as published.",
            Self::CommentRetried => "Posting the first comment again now.",
            Self::CampaignSaved => "The campaign is saved.",
            Self::CampaignDeleted => "The campaign is deleted; its posts are kept.",
            Self::MediaUploaded => "Uploaded to the media library.",
            Self::MediaSaved => "The file's folder and tags are saved.",
            Self::MediaReviewed => {
                "The file is marked reviewed: posts with it can now be scheduled."
            }
            Self::MediaDeleted => "The file is deleted.",
            Self::AccountConnected => "The account is connected.",
            Self::ConnectionCancelled => {
                "The connection was cancelled at the platform; nothing was stored."
            }
            Self::AccountDisconnected => {
                "The account is disconnected: its access was revoked and its tokens deleted."
            }
            Self::AccountDisconnectedUnconfirmed => {
                "The account is disconnected and its tokens deleted, but the platform did not confirm the revocation: remove Socializioz in the platform's own settings too."
            }
            Self::AccountDisconnectedNoRevocation => {
                "The account is disconnected and its tokens deleted. This platform offers apps no way to revoke their access: remove Socializioz in the platform's own settings (the steps are below)."
            }
            Self::AccountDisconnectedShared => {
                "The account is disconnected and its tokens deleted. The platform's authorisation was kept because other connected accounts (pages of the same login) still use it; disconnecting the last of them revokes it."
            }
            Self::AccountsConnected => "The chosen accounts are connected.",
            Self::DeletionRequestRecorded => {
                "The request is recorded. A message went to the address: a link to confirm the deletion if an account uses it, otherwise word that nothing is held for it."
            }
            Self::DeletionRequestResent => {
                "The request's message went to the address again, with a new link if an account uses it; the old link no longer works."
            }
            Self::DeletionRequestClosed => {
                "The request is closed; its address is removed and its dates are kept as the record."
            }
            Self::ConsentSaved => crate::i18n::consent(Language::English).saved,
            Self::SubscriptionCancelled => {
                "The subscription is cancelled: PayPal will not charge again, and the plan lasts until the end of the period paid for."
            }
            Self::CheckoutAbandoned => "Nothing was bought and nothing was charged.",
            Self::SubscriptionReactivated => {
                "PayPal is billing the subscription again; the plan continues once the payment goes through."
            }
            Self::BillingDetailsSaved => {
                "The billing details are saved; invoices from now on carry them."
            }
            Self::AiTurnedOn => {
                "AI is on for this workspace: its members find Assist in the composer."
            }
            Self::AiTurnedOff => {
                "AI is off for this workspace: nothing more is sent to the AI provider."
            }
            Self::AnalyticsOn => {
                "Analytics is on: each account's figures are read within the hour, and every day after."
            }
            Self::AnalyticsOff => {
                "Analytics is off: nothing more is read; the figures read so far are kept."
            }
            Self::WeeklyReportOn => {
                "You will get this workspace's analytics report by e-mail once a week."
            }
            Self::WeeklyReportOff => "You will get no more weekly analytics reports by e-mail.",
            Self::BrandSaved => "The brand profile is saved; the AI uses it from the next request.",
            Self::BrandUnchanged => "Nothing in the brand profile changed.",
            Self::CommentsOn => {
                "The comments workspace is on: each account's comments are read within the hour."
            }
            Self::CommentsOff => {
                "The comments workspace is off: nothing more is read; conversations are purged on their schedule."
            }
            Self::CommentSettingsSaved => "The comments workspace's settings are saved.",
            Self::ReplySent => "The reply is posted.",
            Self::ReplyUnconfirmed => {
                "The platform did not answer: the reply may be there. The next read of the conversation shows it if it is."
            }
            Self::ReplyDraftSaved => "Your draft is saved; nothing was sent.",
            Self::ReplySuggested => {
                "The AI's draft is in the reply box. Edit it, then send it yourself: nothing was sent."
            }
            Self::CommentUpdated => "The comment is updated.",
            Self::CommentDeleted => "The comment is deleted on the platform.",
            Self::InboxOn => {
                "The inbox is on: each Instagram account's direct messages are read within the quarter hour."
            }
            Self::InboxOff => {
                "The inbox is off: nothing more is read; conversations are purged on their schedule."
            }
            Self::MessageSent => "The reply is sent.",
            Self::ReplyPending => "The reply waits for an approver; nothing was sent yet.",
            Self::ReplyReturned => {
                "The reply is back with its writer as a draft; nothing was sent."
            }
        }
    }

    /// The message in the page's language: the cookie banner speaks the visitor's language, so
    /// does its confirmation; the rest of the interface is English.
    pub fn message_in(&self, lang: Language) -> &'static str {
        match self {
            Self::ConsentSaved => crate::i18n::consent(lang).saved,
            other => other.message(),
        }
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
    fn every_flash_round_trips_through_its_code() {
        for flash in Flash::ALL {
            assert_eq!(Flash::from_code(flash.code()), Some(flash));
            assert!(!flash.message().is_empty());
        }
        assert_eq!(Flash::from_code("<script>"), None);
        assert_eq!(Flash::from_code(""), None);
    }
}
