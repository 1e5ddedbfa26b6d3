//! The e-mails the product sends, and how they are queued: a message is written as a job in the
//! same transaction as the change it announces, and the worker delivers it.

use crate::jobs::{Job, JobError};
use crate::queue::{self, NewJob};
use crate::{Result, Services};
use domain::{DeletionRequestId, UserId};
use providers::mail::Email;
use sea_orm::ConnectionTrait;
use store::entities::job;

impl queue::Payload for Email {
    const KIND: &'static str = "send_email";
}

/// Delivers one queued e-mail; a refusal the mail server gives for good is not tried again.
pub struct Deliver;

impl Job for Deliver {
    type Payload = Email;

    async fn run(services: &Services, _: &job::Model, email: Email) -> Result<(), JobError> {
        services.mailer.send(&email).await.map_err(|e| {
            if e.is_permanent() {
                JobError::Permanent(e.to_string())
            } else {
                JobError::Retry(e.to_string())
            }
        })
    }
}

/// Queues `email` for delivery. The job names its recipient's address, so that deleting the
/// person (or answering a deletion request for the address) withdraws it while it waits.
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    email: Email,
    user_id: Option<UserId>,
) -> Result<()> {
    let recipient = email.to.to_lowercase();
    queue_job(conn, email, user_id.map(i64::from), Some(recipient)).await
}

/// Queues a deletion's receipt: the one message for an address that is being erased. It names
/// no recipient, so the deletion it reports does not withdraw it and the residue check does
/// not count it; like every sent message it loses its payload once delivered.
pub async fn queue_receipt<C: ConnectionTrait>(conn: &C, email: Email) -> Result<()> {
    queue_job(conn, email, None, None).await
}

async fn queue_job<C: ConnectionTrait>(
    conn: &C,
    email: Email,
    user_id: Option<i64>,
    recipient: Option<String>,
) -> Result<()> {
    let mut job = NewJob::of(&email)?;
    job.user_id = user_id;
    job.recipient = recipient;
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
        attachments: Vec::new(),
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
        attachments: Vec::new(),
    }
}

/// Someone signed up with an address that already has an account: no second account is made,
/// and the owner is told, with a way in.
pub fn sign_up_with_your_address(to: &str, name: &str, login: &str, reset_link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Someone tried to sign up with your address on Socializioz".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             Someone tried to create a Socializioz account with this e-mail address, which \
             already has one: yours. No new account was made, and nothing in your account \
             changed.\n\n\
             If it was you, log in instead:\n\n\
             {login}\n\n\
             If you forgot your password, choose a new one with the link below. It works once \
             and expires in 1 hour.\n\n\
             {reset_link}\n\n\
             If it was not you, ignore this message.\n"
        ),
        attachments: Vec::new(),
    }
}

/// Many wrong passwords were tried for the account: sent once per run of failures.
pub fn wrong_passwords_tried(
    to: &str,
    name: &str,
    failures: usize,
    minutes: u64,
    reset_page: &str,
) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Wrong passwords were tried on your Socializioz account".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             {failures} wrong passwords were tried for your Socializioz account within \
             {minutes} minutes. None of them signed anyone in.\n\n\
             While this goes on, log-ins to your account from browsers that have not signed in \
             to it before must wait a little between attempts, and a network that keeps \
             guessing is blocked for a while. Browsers you signed in with before are not \
             slowed down. You are not locked out.\n\n\
             If it was you, there is nothing to do. If it was not, your account is safe as long \
             as your password is not easy to guess and not used anywhere else; you can choose a \
             new one here:\n\n\
             {reset_page}\n"
        ),
        attachments: Vec::new(),
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
        attachments: Vec::new(),
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
        attachments: Vec::new(),
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
        attachments: Vec::new(),
    }
}

/// An invitation to a workspace. The inviter's and the workspace's names are chosen by whoever
/// sends it, so they stay out of the subject (where they could pose as a bank or a warning), and
/// in the body they are quoted, marked as chosen by the inviter, and cleaned by [`quoted`].
pub fn invitation(to: &str, inviter: &str, workspace: &str, role: &str, link: &str) -> Email {
    let inviter = quoted(inviter);
    let workspace = quoted(workspace);
    Email {
        to: to.to_owned(),
        subject: "You're invited to a workspace on Socializioz".to_owned(),
        body: format!(
            "Hello,\n\n\
             Someone who calls themselves {inviter} invited you to join a workspace named \
             {workspace} on Socializioz, as {role}. Both names were typed by the person who \
             invited you; Socializioz does not check them. To accept, open the link below and \
             sign in (or create an account) with this e-mail address.\n\n\
             {link}\n\n\
             The invitation expires in 7 days. If you were not expecting it, ignore this \
             message.\n"
        ),
        attachments: Vec::new(),
    }
}

/// A name someone chose, for a plain-text body: in double quotes, with its own double quotes
/// made single, and without control and formatting characters (such as the ones that reverse
/// the direction of text), so it cannot end its quotes, start a line, or disguise itself.
fn quoted(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control() && !is_format(*c))
        .map(|c| {
            if matches!(c, '"' | '\u{201c}' | '\u{201d}') {
                '\''
            } else {
                c
            }
        })
        .collect();
    format!("\"{}\"", clean.trim())
}

/// Unicode's invisible formatting characters: bidirectional controls, zero-width characters
/// and the byte-order mark.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
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
        attachments: Vec::new(),
    }
}

/// A long AI generation ended: made (`failure` none) or not.
pub fn generation_ended(
    to: &str,
    name: &str,
    what: &str,
    workspace: &str,
    failure: Option<&str>,
    link: &str,
) -> Email {
    match failure {
        None => Email {
            to: to.to_owned(),
            subject: format!("Your AI {what} is ready to review"),
            body: format!(
                "Hello {name},\n\n\
                 The {what} you asked for in {workspace} is in the media library. It is marked \
                 “AI-generated — review before publishing”: look at it, and mark it reviewed \
                 before a post with it can be scheduled.\n\n\
                 {link}\n"
            ),
            attachments: Vec::new(),
        },
        Some(reason) => Email {
            to: to.to_owned(),
            subject: format!("Your AI {what} could not be made"),
            body: format!(
                "Hello {name},\n\n\
                 The {what} you asked for in {workspace} could not be made:\n\n\
                 {reason}\n\n\
                 {link}\n"
            ),
            attachments: Vec::new(),
        },
    }
}

/// A post waits for this approver's review.
pub fn approval_asked(
    to: &str,
    name: &str,
    author: &str,
    workspace: &str,
    excerpt: &str,
    link: &str,
) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("A post waits for your approval in {workspace}"),
        body: format!(
            "Hello {name},\n\n\
             {author} sent a post for approval in {workspace}. It is not published until an \
             approver approves it:\n\n\
             “{excerpt}”\n\n\
             Review it here:\n\n\
             {link}\n"
        ),
        attachments: Vec::new(),
    }
}

/// An approver decided on the author's post.
#[allow(clippy::too_many_arguments)]
pub fn post_reviewed(
    to: &str,
    name: &str,
    reviewer: &str,
    workspace: &str,
    decision: domain::approval::Decision,
    excerpt: &str,
    note: Option<&str>,
    link: &str,
) -> Email {
    use domain::approval::Decision;
    let (subject, next) = match decision {
        Decision::Approved => (
            "Your post was approved",
            "It is scheduled and goes out at its time.",
        ),
        Decision::Rejected => (
            "Your post was not approved",
            "It is back among your drafts and will not go out as it is.",
        ),
        Decision::ChangesRequested => (
            "Changes were asked for on your post",
            "It is back among your drafts: change it and send it for approval again.",
        ),
    };
    let note = note
        .map(|n| format!("Their note:\n\n{n}\n\n"))
        .unwrap_or_default();
    Email {
        to: to.to_owned(),
        subject: format!("{subject} in {workspace}"),
        body: format!(
            "Hello {name},\n\n\
             {reviewer} {} your post in {workspace}:\n\n\
             “{excerpt}”\n\n\
             {next}\n\n\
             {note}{link}\n",
            decision.verb()
        ),
        attachments: Vec::new(),
    }
}

/// A member mentioned this person in a note on a post.
pub fn mentioned_in_note(
    to: &str,
    name: &str,
    author: &str,
    workspace: &str,
    post: &str,
    note: &str,
    link: &str,
) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("{author} mentioned you in a note in {workspace}"),
        body: format!(
            "Hello {name},\n\n\
             {author} mentioned you in a note on the post “{post}” in {workspace}:\n\n\
             {note}\n\n\
             Read the notes on the post here:\n\n\
             {link}\n"
        ),
        attachments: Vec::new(),
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
        attachments: Vec::new(),
    }
}

/// A deletion request e-mailed to the privacy address, for an address an account uses: the
/// link to confirm it.
pub fn deletion_request_confirm(
    to: &str,
    name: &str,
    link: &str,
    expires: chrono::DateTime<chrono::Utc>,
) -> Email {
    let expires = expires.format("%Y-%m-%d %H:%M UTC");
    Email {
        to: to.to_owned(),
        subject: "Confirm the deletion of your Socializioz account".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             We received a request, sent to our privacy address, to delete the Socializioz \
             account that uses this e-mail address. Because anyone can send us an e-mail, we \
             delete nothing until the request is confirmed from this mailbox.\n\n\
             Open the link below: it shows what will be deleted and what we keep, and the \
             button there deletes the account. You do not need to log in.\n\n\
             {link}\n\n\
             The link works once, until {expires}. If you did not ask for this, or changed \
             your mind, ignore this message: your account stays as it is.\n"
        ),
        attachments: Vec::new(),
    }
}

/// A deletion request e-mailed to the privacy address, for an address no account uses.
pub fn deletion_request_nothing_held(to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your deletion request to Socializioz".to_owned(),
        body: "Hello,\n\n\
               We received a request, sent to our privacy address, to delete the Socializioz \
               account that uses this e-mail address. No account uses it, and we hold nothing \
               for it: any invitation to a workspace that was sent to this address and not \
               accepted has been withdrawn. There is nothing more to delete.\n\n\
               If your account uses another address, write to us again from that address, or \
               name it in your message.\n\n\
               We keep a record that this request was received and answered: the dates and a \
               keyed hash of the address, not the address itself.\n"
            .to_owned(),
        attachments: Vec::new(),
    }
}

/// To an administrator: an open deletion request is near (or past) its deadline.
pub fn deletion_request_reminder(
    to: &str,
    id: DeletionRequestId,
    received: chrono::NaiveDate,
    deadline: chrono::NaiveDate,
    days_left: i64,
    link: &str,
) -> Email {
    let when = match days_left {
        d if d < 0 => format!(
            "its deadline passed {} ago",
            domain::counted(-d, "day", "days")
        ),
        0 => "its deadline is today".to_owned(),
        1 => "1 day is left".to_owned(),
        d => format!("{d} days are left"),
    };
    Email {
        to: to.to_owned(),
        subject: format!("Deletion request #{id}: {when}"),
        body: format!(
            "Hello,\n\n\
             Deletion request #{id}, received on {received}, has not been confirmed yet, and \
             {when}: it must be carried out by {deadline}.\n\n\
             The person was e-mailed when the request was recorded. If they wrote again, or \
             cannot use their link, send the message again from the list; if they withdrew \
             the request, close it there:\n\n\
             {link}\n"
        ),
        attachments: Vec::new(),
    }
}

/// The receipt of an account deletion, sent to the address before it is erased.
pub fn deletion_receipt(
    to: &str,
    name: &str,
    receipt: &crate::deletion::receipt::Receipt,
    kept: &[(&'static str, String)],
    revoke_help: &str,
) -> Email {
    let mut body = format!(
        "Hello {name},\n\n\
         Your Socializioz account is being deleted now, as you asked. This is the record of \
         what happens; it is the last message we send to this address, which is erased with \
         the account.\n\n\
         Deleted:\n"
    );
    for (category, rows) in receipt.by_category() {
        body.push_str(&format!(
            "- {category}: {}\n",
            domain::counted(rows, "record", "records")
        ));
    }
    for ws in &receipt.deleted {
        body.push_str(&format!(
            "- The workspace \"{}\" (you were its only owner)\n",
            ws.name
        ));
    }
    for ws in &receipt.handed_over {
        body.push_str(&format!(
            "\nHanded over: the workspace \"{}\" stays with its other owners.\n",
            ws.name
        ));
    }
    body.push_str(&kept_work_lines(receipt));
    body.push_str("\nConnected accounts:\n");
    if receipt.revocations.is_empty() {
        body.push_str("- none to disconnect\n");
    }
    for r in &receipt.revocations {
        body.push_str(&format!(
            "- {} @{}: {}\n",
            domain::Platform::label_of(&r.platform),
            r.username,
            r.detail
        ));
    }
    body.push_str(&format!(
        "\nTo make sure no platform still lists Socializioz among your authorised apps, see \
         {revoke_help}\n\nKept after deletion:\n"
    ));
    for (what, how_long) in kept {
        body.push_str(&format!("- {what}: {how_long}\n"));
    }
    Email {
        to: to.to_owned(),
        subject: "Your Socializioz account is deleted".to_owned(),
        body,
        attachments: Vec::new(),
    }
}

/// What the receipt says about the posts and files the person made in workspaces others keep:
/// what is there, and whether it is deleted or left (their choice, recorded).
fn kept_work_lines(receipt: &crate::deletion::receipt::Receipt) -> String {
    use crate::deletion::receipt::KeptWork;
    if receipt.kept.is_empty() {
        return String::new();
    }
    let mut out = match receipt.kept_work {
        KeptWork::Delete => "\nIn workspaces that other people keep, also deleted (the default; \
                             you did not choose to leave them there):\n"
            .to_owned(),
        KeptWork::Leave => "\nIn workspaces that other people keep, left there as you chose: \
                            they stay with those workspaces, no longer linked to you:\n"
            .to_owned(),
    };
    for line in &receipt.kept {
        out.push_str(&format!("- \"{}\": {}\n", line.name, line.describe()));
    }
    match receipt.kept_work {
        KeptWork::Delete => {
            out.push_str(
                "Scheduled posts among them are withdrawn and will not go out, and each \
                 workspace's other members are told which. Posts already published stay on the \
                 platforms where they went out. Campaigns you created there stay with the \
                 workspace, no longer linked to you.\n",
            );
            let busy: u64 = receipt.kept.iter().map(|l| l.publishing_now).sum();
            if busy > 0 {
                out.push_str(&format!(
                    "{} being published at this moment: deleted as soon as publishing ends.\n",
                    domain::counted(busy, "post was", "posts were")
                ));
            }
        }
        KeptWork::Leave => out.push_str(
            "Scheduled posts among them still go out as planned. The workspaces' activity logs \
             show you as \"Former member\".\n",
        ),
    }
    out
}

/// To the other owners of a workspace whose co-owner deleted their account: the workspace
/// stays, and `kept_work` says whether the posts and files that person made there (if
/// `their_work`) went with them.
pub fn workspace_handed_over(
    to: &str,
    name: &str,
    workspace: &str,
    kept_work: crate::deletion::receipt::KeptWork,
    their_work: bool,
) -> Email {
    let work = match (their_work, kept_work) {
        (false, _) => "Its posts, files, campaigns and connected accounts are unchanged.",
        (true, crate::deletion::receipt::KeptWork::Delete) => {
            "Its campaigns and connected accounts are unchanged. The posts and files that \
             person made there were deleted with their account; a notice on your next visit \
             to Socializioz says what went, naming any scheduled post that was withdrawn."
        }
        (true, crate::deletion::receipt::KeptWork::Leave) => {
            "As that person chose, the posts and files they made there stay, no longer linked \
             to them; its campaigns and connected accounts are unchanged."
        }
    };
    Email {
        to: to.to_owned(),
        subject: format!("A co-owner of {workspace} deleted their account"),
        body: format!(
            "Hello {name},\n\n\
             One of the owners of the workspace \"{workspace}\" on Socializioz deleted their \
             account. The workspace stays with you and its other owners. {work}\n"
        ),
        attachments: Vec::new(),
    }
}

/// To the members of a workspace deleted with its only owner's account.
pub fn workspace_deleted(to: &str, name: &str, workspace: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("The workspace {workspace} was deleted"),
        body: format!(
            "Hello {name},\n\n\
             The only owner of the workspace \"{workspace}\" on Socializioz deleted their \
             account, and the workspace was deleted with it: its posts, files, campaigns and \
             connected accounts are gone. Your own account and your other workspaces are not \
             affected.\n"
        ),
        attachments: Vec::new(),
    }
}

/// A data export is ready. The link leads to the privacy settings, where the signed-in person
/// downloads it; it carries no secret.
pub fn export_ready(to: &str, name: &str, size: &str, expires: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your Socializioz data export is ready".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             The copy of your data that you asked for is ready ({size}, a ZIP file). Sign in \
             and download it from your privacy settings:\n\n\
             {link}\n\n\
             It is deleted from our server on {expires}. If you did not ask for it, change your \
             password: someone signed in to your account did.\n"
        ),
        attachments: Vec::new(),
    }
}

/// A data export could not be built.
pub fn export_failed(to: &str, name: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your Socializioz data export could not be made".to_owned(),
        body: format!(
            "Hello {name},\n\n\
             We could not finish the copy of your data that you asked for. Nothing of it was \
             kept. You can ask for a new one at once from your privacy settings:\n\n\
             {link}\n"
        ),
        attachments: Vec::new(),
    }
}

/// PayPal could not take a workspace's payment; the plan lasts until `until` (a day).
pub fn payment_failed(to: &str, name: &str, workspace: &str, until: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Payment failed for the workspace {workspace}"),
        body: format!(
            "Hello {name},\n\n\
             PayPal could not take the payment for the workspace \"{workspace}\" on Socializioz. \
             PayPal will try again. The workspace keeps its plan until {until}; if no payment \
             has gone through by then, it moves to the Free plan. Nothing is deleted: whatever \
             is over the Free plan's limits stays, and more cannot be added.\n\n\
             Check the payment method in your PayPal account, or see the workspace's billing \
             page:\n\n\
             {link}\n"
        ),
        attachments: Vec::new(),
    }
}
