//! The command line.

use crate::app::{self, Application, shutdown_signal};
use crate::config::{self, Settings};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use domain::{Email, Language, Password, PersonName, Timezone};
use services::ServiceError;
use services::accounts::NewAccount;
use services::consent::ChainReport;
use services::jobs::worker::Worker;
use std::io::{BufRead, IsTerminal};

pub mod deletion_requests;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "socializioz",
    version,
    about = "Self-hostable social media management"
)]
pub struct Cli {
    /// Configuration file (default: ./socializioz.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application; the background worker runs in the same process.
    Serve {
        /// Serve pages only, for several web processes behind a load balancer with separate
        /// `socializioz worker` processes.
        #[arg(long)]
        no_worker: bool,
        /// Run the platform simulator in this process and connect to it instead of the real
        /// platforms: try everything without any platform credentials.
        #[arg(long)]
        sandbox: bool,
    },
    /// Run the background worker alone.
    Worker,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Write an encrypted backup of the database into `<data dir>/backups` (safe while the
    /// server runs), then purge the backups older than `retention.backup_days`.
    Backup,
    /// Replace the database with an encrypted backup, then delete again everyone deleted
    /// since it was taken. Stop every serve and worker process first.
    Restore {
        /// The backup file (`socializioz-<time>-<backend>.szbak`).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Restore although the current database cannot be read (its forget list, and so
        /// the deletions made after the backup, are lost).
        #[arg(long)]
        without_current_database: bool,
    },
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Serve the platform simulator on localhost (for trying the product without platform
    /// credentials, and for tests): Facebook, Instagram, TikTok, X and LinkedIn, each under
    /// its own path (`/facebook`, `/instagram`, `/tiktok`, `/x`, `/linkedin`).
    Sim {
        #[arg(long, default_value_t = 7070)]
        port: u16,
        /// Added to every platform call, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Share of publishing calls answered with a server error (0 to 1).
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The consent ledger.
    Consent {
        #[command(subcommand)]
        command: ConsentCommand,
    },
    /// Versioned policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Deletion requests received by e-mail at the privacy address.
    DeletionRequest {
        #[command(subcommand)]
        command: deletion_requests::DeletionRequestCommand,
    },
    /// Workspaces: their plans.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Selling plans through PayPal.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// The master keys that seal platform tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Checks on the privacy promises.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Puts a workspace on a plan (free, starter, professional, enterprise). A downgrade
    /// deletes nothing: what is over the new limits stays, and more cannot be added.
    Plan {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        plan: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BillingCommand {
    /// Creates at PayPal what selling the plans needs and this instance does not have yet: the
    /// product, a plan per paid plan and billing period at its configured price, and the
    /// webhook at `<public url>/webhooks/paypal`. Running it again changes nothing; after a
    /// price change it makes the new PayPal plan (subscribers keep theirs).
    Sync,
}

#[derive(Subcommand, Debug)]
pub enum PrivacyCommand {
    /// Checks that nothing of a deleted account remains: no row of any table names its user
    /// id, its deleted workspaces or its address, and the media store holds none of its files.
    /// Exits with an error when something remains.
    Residue {
        /// The address the account had.
        #[arg(
            long,
            conflicts_with = "user_hash",
            required_unless_present = "user_hash"
        )]
        email: Option<String>,
        /// The keyed hash of the user id, as on the deletion record.
        #[arg(long)]
        user_hash: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Re-wraps every token's data key with the first (current) master key. Put a new key line
    /// first in the key file (or `security.master_keys`), run this, then remove the old line.
    Rotate,
    /// Prints a new key line (`<id>:<64 hex digits>`) to add to the key file.
    New {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Publish a new version of a policy. People who accepted an earlier version are asked to
    /// accept this one once it is in effect.
    Publish(PublishPolicy),
}

#[derive(Args, Debug)]
pub struct PublishPolicy {
    /// terms, privacy, cookies, refund, acceptable-use or data-deletion.
    #[arg(long)]
    pub kind: String,
    /// Greater than every earlier version, like 1.1 or 2.0.
    #[arg(long)]
    pub version: String,
    /// The day it takes effect (YYYY-MM-DD, UTC), today or later.
    #[arg(long)]
    pub effective: String,
    /// The Markdown file with the full text.
    #[arg(long)]
    pub file: PathBuf,
    /// What changed, in a sentence or two.
    #[arg(long)]
    pub summary: String,
}

#[derive(Subcommand, Debug)]
pub enum ConsentCommand {
    /// Check the ledger's hash chain; says which row breaks it, and exits with an error if one does.
    /// Prints the head (`HASH:LENGTH`) to keep outside the database.
    Verify {
        /// A head printed earlier (`HASH:LENGTH`, or `HASH`): exits with an error unless the
        /// ledger still holds it at that position (rows appended since are fine).
        #[arg(long, value_name = "HASH[:LENGTH]")]
        expect_head: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account whose address counts as confirmed. The password is asked for (or read
    /// from the first line of standard input when it is not a terminal).
    Create(CreateUser),
    /// Set an account's password and sign out all its sessions.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// List all accounts.
    List,
}

#[derive(Args, Debug)]
pub struct CreateUser {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub email: String,
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    #[arg(long, default_value = "en")]
    pub language: String,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command {
        Command::Serve { no_worker, sandbox } => {
            let mut settings = settings;
            settings.platforms.sandbox |= sandbox;
            anyhow::ensure!(
                !(settings.platforms.sandbox && no_worker),
                "the sandbox runs its simulator inside `serve`, so it needs the worker there: \
                 leave out --no-worker"
            );
            let app = Application::build(settings, !no_worker).await?;
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Worker => {
            anyhow::ensure!(
                !settings.platforms.sandbox,
                "the sandbox runs inside `serve`; a separate worker would talk to another simulator"
            );
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            let options = settings.worker.options();
            services::jobs::worker::check_clock(&services.db, options.lease).await??;
            let (tx, rx) = tokio::sync::watch::channel(false);
            let worker = tokio::spawn(Worker::new(services, options).run(rx));
            shutdown_signal().await;
            let _ = tx.send(true);
            worker.await.context("the worker task failed")
        }
        Command::Sim {
            port,
            latency_ms,
            error_rate,
        } => {
            if !(0.0..=1.0).contains(&error_rate) {
                anyhow::bail!(
                    "--error-rate must be between 0 and 1 (0.01 is one call in a hundred)"
                );
            }
            let simulator = sim::Simulator::new().with_chaos(sim::Chaos {
                latency: std::time::Duration::from_millis(latency_ms),
                publish_error_rate: error_rate,
            });
            let running = simulator
                .start(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
                .await
                .with_context(|| format!("could not start the simulator on port {port}"))?;
            println!(
                "The platform simulator is serving at {} (/facebook, /instagram, /tiktok, /x, /linkedin; \
                 what was published: /_sim/posts). Stop it with Ctrl-C.",
                running.base_url
            );
            shutdown_signal().await;
            Ok(())
        }
        Command::Backup => crate::backup::backup_command(&settings).await,
        Command::Restore {
            from,
            yes,
            without_current_database,
        } => crate::backup::restore_command(&settings, &from, yes, without_current_database).await,
        Command::Migrate => {
            app::install_crypto_provider();
            let db = store::connect(&settings.database_url(), 1).await?;
            let applied = store::migrate(&db).await?;
            if applied.is_empty() {
                println!("The database schema is up to date.");
            } else {
                for name in applied {
                    println!("applied {name}");
                }
            }
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::User { command },
        } => user(settings, command).await,
        Command::Admin {
            command:
                AdminCommand::Billing {
                    command: BillingCommand::Sync,
                },
        } => {
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            anyhow::ensure!(
                services.billing.paypal.is_some(),
                "this instance does not sell plans through PayPal: add a [billing.paypal] \
                 section (see the README) and run this again"
            );
            let report = services.billing_sync().await.map_err(explain)?;
            let made = |new: bool| if new { "created" } else { "already there" };
            println!(
                "PayPal product {}: {}",
                report.product.0,
                made(report.product.1)
            );
            for (plan, interval, price, id, new) in &report.plans {
                println!(
                    "PayPal plan {id}: {} billed every {} at {} {}: {}",
                    plan.label(),
                    interval.as_str(),
                    services::billing::Money::decimal(price.cents),
                    price.currency,
                    made(*new)
                );
            }
            match &report.webhook {
                Some((id, new)) => println!("PayPal webhook {id}: {}", made(*new)),
                None => println!("PayPal webhook: the one named in billing.paypal.webhook_id"),
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Workspace {
                    command: WorkspaceCommand::Plan { id, plan },
                },
        } => {
            let plan = domain::plans::PlanId::parse(&plan).map_err(|e| anyhow::anyhow!(e.0))?;
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            let ws = domain::WorkspaceId(id);
            let before = services.set_plan(ws, plan).await.map_err(|e| match e {
                ServiceError::NotFound => anyhow::anyhow!("no workspace has the id {id}"),
                other => explain(other),
            })?;
            if before == plan {
                println!("Workspace {id} was already on {plan}.");
            } else {
                println!("Workspace {id} moved from {before} to {plan}.");
            }
            if !services.billing.is_on() {
                println!(
                    "Note: this instance has no [billing] section, so every workspace has every \
                     feature and no limits; the plan takes effect once [billing] is added."
                );
            }
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::DeletionRequest { command },
        } => {
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            deletion_requests::run(&services, command, services::now(), &mut std::io::stdout())
                .await
        }
        Command::Admin {
            command:
                AdminCommand::Policy {
                    command: PolicyCommand::Publish(args),
                },
        } => publish_policy(settings, args).await,
        Command::Admin {
            command:
                AdminCommand::Keys {
                    command: KeysCommand::New { id },
                },
        } => {
            let line = store::keyring::KeyRing::generate_line(&id);
            store::keyring::KeyRing::parse(&line)?;
            println!("{line}");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Keys {
                    command: KeysCommand::Rotate,
                },
        } => {
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            let changed = services.rotate_token_keys().await.map_err(explain)?;
            println!(
                "Re-wrapped {} with master key {:?}.",
                domain::counted(changed, "sealed value", "sealed values"),
                services.keyring.current_id()
            );
            let remaining = services.tokens_under_older_keys().await.map_err(explain)?;
            if remaining == 0 {
                let older: Vec<String> = services
                    .keyring
                    .ids()
                    .skip(1)
                    .map(|id| format!("{id:?}"))
                    .collect();
                if !older.is_empty() {
                    println!(
                        "No token needs {} any more; remove those lines from the key file once \
                         the backups taken before now have expired.",
                        older.join(", ")
                    );
                }
            } else {
                println!(
                    "{} still {} an older key (written meanwhile by a process that has not \
                     loaded the new key): restart every serve and worker process, then run this \
                     again.",
                    domain::counted(remaining, "value", "values"),
                    if remaining == 1 { "uses" } else { "use" }
                );
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Privacy {
                    command: PrivacyCommand::Residue { email, user_hash },
                },
        } => {
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            let whom = match (email, user_hash) {
                (Some(email), _) => services::deletion::Whom::Email(email),
                (None, Some(hash)) => services::deletion::Whom::UserHash(hash),
                (None, None) => anyhow::bail!("give --email or --user-hash"),
            };
            residue_report(services.residue(whom).await.map_err(explain)?)
        }
        Command::Admin {
            command:
                AdminCommand::Consent {
                    command: ConsentCommand::Verify { expect_head },
                },
        } => {
            let expect = expect_head
                .as_deref()
                .map(services::consent::Witnessed::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--expect-head: {e}"))?;
            app::install_crypto_provider();
            let public = settings.public_url(settings.listen_addr()?);
            let services = app::services(&settings, public).await?;
            let check = services
                .check_consent_ledger(expect.as_ref())
                .await
                .map_err(explain)?;
            consent_report(&check)
        }
    }
}

/// Prints the consent ledger check's answer; an error when the chain is broken or no longer
/// holds the witnessed head.
fn consent_report(check: &services::consent::LedgerCheck) -> anyhow::Result<()> {
    use services::consent::WitnessCheck;
    if let ChainReport::Broken { row, reason } = &check.report {
        let at = row
            .map(|r| format!("at row {r}"))
            .unwrap_or_else(|| "at its head".to_owned());
        anyhow::bail!("the consent ledger is broken {at}: {reason}")
    }
    println!(
        "The consent ledger is intact: {} rows, every link, hash and subject checked.",
        check.head.length
    );
    if check.detached > 0 {
        println!(
            "{} detached from deleted accounts, each detachment recorded in the ledger.",
            domain::counted(check.detached, "row was", "rows were")
        );
    }
    if check.unbound > 0 {
        println!(
            "{} written before rows were bound to who consented: their content and order are \
             checked, who they belong to is not.",
            domain::counted(check.unbound, "row was", "rows were")
        );
    }
    println!("Head: {}", check.head);
    println!(
        "Keep the head outside the database; `socializioz admin consent verify --expect-head \
         HASH:LENGTH` later checks that the ledger still holds it."
    );
    match &check.witness {
        Some(WitnessCheck::Holds { position }) => {
            println!("The witnessed head is row {position} of the ledger: it still holds.");
            Ok(())
        }
        Some(WitnessCheck::Fails { reason }) => {
            anyhow::bail!("the consent ledger no longer holds the witnessed head: {reason}")
        }
        None => Ok(()),
    }
}

/// Prints the residue check's answer; an error when something remains.
fn residue_report(residue: services::deletion::Residue) -> anyhow::Result<()> {
    use services::deletion::Residue;
    match residue {
        Residue::AccountExists => anyhow::bail!(
            "this account exists (or its deletion has not finished): nothing to check yet"
        ),
        Residue::Unknown => anyhow::bail!(
            "no deletion is recorded for it (or its forget-list entries have expired)"
        ),
        Residue::Checked {
            deletions,
            findings,
        } if findings.is_empty() => {
            println!(
                "No residue: {} checked; no row of any table refers to the \
                 deleted account, its workspaces or its address, and the media store holds none \
                 of their files.",
                domain::counted(deletions, "deletion", "deletions")
            );
            Ok(())
        }
        Residue::Checked { findings, .. } => {
            for f in &findings {
                println!("{}: {}", f.place, f.count);
            }
            anyhow::bail!(
                "residue found in {}",
                domain::counted(findings.len(), "place", "places")
            )
        }
    }
}

async fn user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    app::install_crypto_provider();
    let public = settings.public_url(settings.listen_addr()?);
    let services = app::services(&settings, public).await?;
    match command {
        UserCommand::Create(args) => {
            let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let account = NewAccount {
                name: PersonName::parse(&args.name).map_err(|e| anyhow::anyhow!("--name: {e}"))?,
                password: read_password(&email)?,
                timezone: Timezone::parse(&args.timezone)
                    .map_err(|e| anyhow::anyhow!("--timezone: {e}"))?,
                language: Language::parse(&args.language)
                    .map_err(|e| anyhow::anyhow!("--language: {e}"))?,
                email,
            };
            let user = services.create_account(account).await.map_err(explain)?;
            println!(
                "Created account {} <{}> (id {}).",
                user.name, user.email, user.id
            );
        }
        UserCommand::SetPassword { email } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let password = read_password(&email)?;
            services
                .set_password(&email, &password)
                .await
                .map_err(|e| match e {
                    ServiceError::NotFound => anyhow::anyhow!("no account has the address {email}"),
                    other => explain(other),
                })?;
            println!("The password of {email} is set; its sessions were signed out.");
        }
        UserCommand::List => {
            let users = services.list_users().await.map_err(explain)?;
            if users.is_empty() {
                println!("No accounts yet.");
            }
            for u in users {
                let verified = if u.email_verified_at.is_some() {
                    "confirmed"
                } else {
                    "unconfirmed"
                };
                println!(
                    "{:>6}  {:<40}  {:<30}  {verified}  since {}",
                    u.id,
                    u.email,
                    u.name,
                    u.created_at.format("%Y-%m-%d")
                );
            }
        }
    }
    Ok(())
}

async fn publish_policy(settings: Settings, args: PublishPolicy) -> anyhow::Result<()> {
    use domain::policy::{PolicyKind, PolicyVersion};
    let kind = PolicyKind::parse(&args.kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let version =
        PolicyVersion::parse(&args.version).map_err(|e| anyhow::anyhow!("--version: {e}"))?;
    let day =
        chrono::NaiveDate::parse_from_str(args.effective.trim(), "%Y-%m-%d").map_err(|_| {
            anyhow::anyhow!(
                "--effective: {:?} is not a date; write it like 2027-01-31",
                args.effective
            )
        })?;
    let effective = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let body = std::fs::read_to_string(&args.file)
        .with_context(|| format!("--file: {} could not be read", args.file.display()))?;
    app::install_crypto_provider();
    let public = settings.public_url(settings.listen_addr()?);
    let services = app::services(&settings, public).await?;
    let row = services
        .publish_policy(kind, &version, effective, &body, &args.summary)
        .await
        .map_err(explain)?;
    println!(
        "Published the {} version {}, in effect from {} (SHA-256 {}).",
        kind.title(),
        row.version,
        row.effective_at.format("%Y-%m-%d"),
        row.sha256
    );
    Ok(())
}

fn explain(err: ServiceError) -> anyhow::Error {
    match err {
        ServiceError::Invalid { message, .. } => anyhow::anyhow!(message),
        other => anyhow::Error::new(other),
    }
}

/// Reads a new password without echo on a terminal, or from the first line of standard input.
fn read_password(email: &Email) -> anyhow::Result<Password> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Repeat it: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Password::parse(&raw, Some(email)).map_err(|e| anyhow::anyhow!("password: {e}"))
}
