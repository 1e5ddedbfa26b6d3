//! `socializioz admin deletion-request …`: deletion requests received by e-mail at the privacy
//! address, for operators who work from the command line (the admin page does the same).

use chrono::{DateTime, Utc};
use clap::Subcommand;
use domain::{DeletionRequestId, Email};
use services::ServiceError;
use services::Services;
use services::deletion_requests::{Closing, ReceivedOn, RecordedBy};
use std::io::Write;

#[derive(Subcommand, Debug)]
pub enum DeletionRequestCommand {
    /// Record a request: the address it names and the day it arrived (YYYY-MM-DD, UTC; it must
    /// be carried out within 30 days). The address is e-mailed at once (by the worker): a link
    /// to confirm if an account uses it, otherwise word that nothing is held for it.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        received: String,
    },
    /// List the requests still to be carried out, oldest first, then the latest closed ones.
    List,
    /// Send an open request's message again (with a new link; the old one stops working).
    Resend {
        #[arg(long)]
        id: i64,
    },
    /// Close an open request that will not be confirmed: `withdrawn` (the person withdrew it)
    /// or `expired` (its link expired unused).
    Close {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        outcome: String,
    },
}

fn refused(err: ServiceError) -> anyhow::Error {
    match err {
        ServiceError::NotFound => anyhow::anyhow!("there is no deletion request with that id"),
        other => super::explain(other),
    }
}

/// Runs one command as of `now`, writing what it did to `out`.
pub async fn run(
    services: &Services,
    command: DeletionRequestCommand,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        DeletionRequestCommand::Add { email, received } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let received = ReceivedOn::parse(&received, now.date_naive())
                .map_err(|e| anyhow::anyhow!("--received: {e}"))?;
            let recorded = services
                .record_deletion_request(&email, received, RecordedBy::Cli, now)
                .await
                .map_err(refused)?;
            writeln!(out, "{}", recorded.summary())?;
        }
        DeletionRequestCommand::List => {
            let list = services.deletion_requests(now).await.map_err(refused)?;
            if list.pending.is_empty() {
                writeln!(out, "No deletion request is open.")?;
            } else {
                writeln!(
                    out,
                    "{:>5}  {:<10}  {:<10}  {:>9}  {:<40}  address",
                    "#", "received", "deadline", "days left", "state"
                )?;
            }
            for r in &list.pending {
                writeln!(
                    out,
                    "{:>5}  {}  {}  {:>9}  {:<40}  {}",
                    r.id,
                    r.received_on,
                    r.deadline_on,
                    r.days_left,
                    r.status,
                    r.email.as_deref().unwrap_or("(removed)")
                )?;
            }
            if !list.closed.is_empty() {
                writeln!(out, "\nClosed (newest first):")?;
            }
            for r in &list.closed {
                writeln!(
                    out,
                    "{:>5}  {}  {}  {:<40}  closed {}",
                    r.id,
                    r.received_on,
                    r.deadline_on,
                    r.status,
                    r.closed_at
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default()
                )?;
            }
        }
        DeletionRequestCommand::Resend { id } => {
            services
                .resend_deletion_request(DeletionRequestId(id), now)
                .await
                .map_err(refused)?;
            writeln!(
                out,
                "The message of request #{id} goes to the address again: a new link to confirm \
                 if an account uses it, otherwise word that nothing is held for it."
            )?;
        }
        DeletionRequestCommand::Close { id, outcome } => {
            let closing =
                Closing::parse(&outcome).map_err(|e| anyhow::anyhow!("--outcome: {e}"))?;
            services
                .close_deletion_request(DeletionRequestId(id), closing, now)
                .await
                .map_err(refused)?;
            writeln!(
                out,
                "Request #{id} is closed; its address is removed and its dates are kept."
            )?;
        }
    }
    Ok(())
}
