//! The e-mails the product sends, and how they are queued: a message is written as a job in the
//! same transaction as the change it announces, and the worker delivers it.

use crate::Result;
use crate::queue::{self, NewJob};
use providers::mail::Email;
use sea_orm::ConnectionTrait;

pub const JOB_KIND: &str = "send_email";

/// Queues `email` for delivery.
pub async fn queue<C: ConnectionTrait>(conn: &C, email: Email, user_id: Option<i64>) -> Result<()> {
    let payload = serde_json::to_value(&email).map_err(anyhow::Error::from)?;
    let mut job = NewJob::now(JOB_KIND, payload);
    job.user_id = user_id;
    queue::enqueue(conn, job).await?;
    Ok(())
}

pub fn verify_address(to: &str, name: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Confirm your e-mail address for Socializioz".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             Please confirm that this is your e-mail address by opening the link below.\n\n\
             {link}\n\n\
             The link works once and expires in 48 hours. If you did not sign up for \
             Socializioz, ignore this message and no account will be confirmed.\n"
        ),
    }
}

pub fn password_reset(to: &str, name: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Reset your Socializioz password".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             Someone asked to reset the password of the Socializioz account for this address. \
             To choose a new password, open the link below.\n\n\
             {link}\n\n\
             The link works once and expires in 1 hour. If it was not you, ignore this message: \
             your password stays as it is.\n"
        ),
    }
}

pub fn confirm_new_address(to: &str, name: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Confirm your new e-mail address for Socializioz".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             You asked to use this address for your Socializioz account. Open the link below \
             to confirm it; until you do, your account keeps its current address.\n\n\
             {link}\n\n\
             The link works once and expires in 48 hours.\n"
        ),
    }
}

pub fn address_change_requested(to: &str, name: &str, new_address: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your Socializioz e-mail address is being changed".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             Someone signed in to your Socializioz account asked to change its e-mail address \
             to {new_address}. The change happens only when the new address is confirmed.\n\n\
             If this was not you, change your password now; that also signs out every other \
             session.\n"
        ),
    }
}

pub fn password_changed(to: &str, name: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your Socializioz password was changed".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             The password of your Socializioz account was just changed, and every other \
             session was signed out.\n\n\
             If this was not you, reset your password from the log-in page at once.\n"
        ),
    }
}

pub fn invitation(to: &str, inviter: &str, workspace: &str, role: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("{inviter} invited you to {workspace} on Socializioz"),
        body: format!(
            "Hello,\n\n\
             {inviter} invited you to join the workspace \"{workspace}\" on Socializioz as \
             {role}. To accept, open the link below and sign in (or create an account) with \
             this e-mail address.\n\n\
             {link}\n\n\
             The invitation expires in 7 days. If you were not expecting it, ignore this \
             message.\n"
        ),
    }
}

/// A target of someone's post failed, or its outcome is unknown and needs them.
pub fn publish_problem(
    to: &str,
    name: &str,
    platform: &str,
    username: &str,
    excerpt: &str,
    reason: &str,
    link: &str,
) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Your post to {platform} needs attention"),
        body: format!(
            "Hello {name},\n\n\
             Your post “{excerpt}” to {platform} (@{username}) did not go out as planned:\n\n\
             {reason}\n\n\
             Open the post to see what happened and to retry it:\n\n\
             {link}\n"
        ),
    }
}

/// A connected account's token was refused: someone has to reconnect it.
pub fn reconnect_needed(to: &str, name: &str, platform: &str, username: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Reconnect {platform} @{username} in Socializioz"),
        body: format!(
            "Hello {name},\n\n\
             {platform} no longer accepts Socializioz's access to @{username} (it may have been \
             revoked, or it expired). Posts to this account are waiting and go out once it is \
             connected again:\n\n\
             {link}\n"
        ),
    }
}
