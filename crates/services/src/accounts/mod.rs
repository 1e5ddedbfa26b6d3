//! Accounts: sign-up, e-mail verification, log-in, password reset and change, change of address,
//! profile.
//!
//! Sign-up does not say whether an address already has an account: the request only hashes
//! the password and queues a job, the same work either way, and answers "check your inbox".
//! The job creates the account and sends its confirmation link, or, when the address is
//! taken, e-mails the owner instead. Log-in failures are limited so that nobody can lock an
//! owner out (see [`crate::throttle`]): a browser that signed in before passes the slowdown,
//! and the owner is e-mailed once when it starts.

pub mod signup;

use crate::sessions::{self, AuthSession};
use crate::throttle::{Refusal, SignupRefusal, Source};
use crate::{Result, ServiceError, Services, emails, passwords, throttle, tokens};
use chrono::Duration;
use domain::{Email, Language, Password, PersonName, SessionId, Timezone, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use store::entities::{email_token, user};

/// The job that carries out a sign-up (see [`Services::sign_up`]).
/// What a single-use e-mail link is for, and how long it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }

    /// Where the link in the e-mail points.
    pub(crate) fn path(&self) -> &'static str {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => "/verify/",
            Self::ResetPassword => "/password/reset/",
        }
    }

    /// The e-mail that carries the link.
    pub(crate) fn email(&self, to: &str, name: &str, link: &str) -> providers::mail::Email {
        match self {
            Self::VerifyEmail => emails::verify_address(to, name, link),
            Self::ResetPassword => emails::password_reset(to, name, link),
            Self::ChangeEmail => emails::confirm_new_address(to, name, link),
        }
    }

    pub(crate) fn lifetime(&self) -> Duration {
        match self {
            Self::ResetPassword => Duration::hours(LINK_HOURS_RESET),
            Self::VerifyEmail | Self::ChangeEmail => Duration::hours(LINK_HOURS_VERIFY),
        }
    }
}

/// How long a password reset link works.
pub const LINK_HOURS_RESET: i64 = 1;
/// How long a confirmation link (new account, new address) works.
pub const LINK_HOURS_VERIFY: i64 = 48;

/// A new account's details, already parsed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: PersonName,
    pub email: Email,
    pub password: Password,
    pub timezone: Timezone,
    pub language: Language,
}

/// Why a log-in or a sign-up did not go through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A limit turned the request away before anything was checked; the message says which
    /// limit and how long to wait.
    #[error("{message}")]
    Limited {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Service(err.into())
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(err: anyhow::Error) -> Self {
        Self::Service(err.into())
    }
}

impl AuthError {
    pub(crate) fn login(refusal: Refusal) -> Self {
        let wait = crate::human_wait(refusal.wait());
        let message = match refusal {
            Refusal::Pair(_) => format!(
                "Too many wrong passwords for this account from your network. Wait {wait} and \
                 try again, or reset your password."
            ),
            Refusal::Client(_) => {
                format!("Too many wrong passwords from your network. Wait {wait} and try again.")
            }
            Refusal::Slowed(_) => format!(
                "Many wrong passwords were tried for this account recently, so log-ins from \
                 browsers that have not signed in to it before are slowed down. Try again in \
                 {wait}."
            ),
        };
        Self::Limited {
            message,
            retry_after: refusal.wait(),
        }
    }

    pub(crate) fn signup(refusal: SignupRefusal) -> Self {
        let (message, retry_after) = match refusal {
            SignupRefusal::Client(wait) => (
                format!(
                    "Too many accounts were signed up from your network in the last hour. Wait \
                     {} and try again.",
                    crate::human_wait(wait)
                ),
                wait,
            ),
            SignupRefusal::Overall(wait) => (
                format!(
                    "We are receiving too many sign-ups right now. Wait {} and try again.",
                    crate::human_wait(wait)
                ),
                wait,
            ),
        };
        Self::Limited {
            message,
            retry_after,
        }
    }
}

/// A successful log-in: the person, the session's token and the token of the browser's
/// known-device cookie.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: user::Model,
    pub session: String,
    pub device: String,
}

/// Who is giving a password.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Asker<'a> {
    /// A browser logging in: its address and its known-device cookie, if it has one.
    Browser {
        client: &'a str,
        device: Option<&'a str>,
    },
    /// A signed-in session of the account confirming a sensitive change.
    Session(SessionId),
}

pub(crate) const DUPLICATE_EMAIL: &str = "An account with this e-mail address already exists. Log in, or reset your password if you forgot it.";
pub(crate) const LINK_DEAD: &str =
    "This link has expired or has already been used. Ask for a new one below.";
pub(crate) const BAD_LOGIN: &str = "That e-mail address and password do not match an account.";

pub(crate) async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    account: &NewAccount,
    password_hash: String,
    verified: bool,
) -> Result<user::Model> {
    user_row(
        account.name.as_str(),
        account.email.as_str(),
        password_hash,
        account.timezone.name(),
        account.language.code(),
        verified,
    )
    .insert(conn)
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            ServiceError::invalid("email", DUPLICATE_EMAIL)
        } else {
            e.into()
        }
    })
}

/// A new user's row.
pub(crate) fn user_row(
    name: &str,
    email: &str,
    password_hash: String,
    timezone: &str,
    language: &str,
    verified: bool,
) -> user::ActiveModel {
    let now = crate::now();
    user::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(email.to_owned()),
        email_verified_at: Set(verified.then_some(now)),
        password_hash: Set(password_hash),
        timezone: Set(timezone.to_owned()),
        language: Set(language.to_owned()),
        last_workspace_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Whether `value` has the shape of our random tokens (a cookie may hold anything).
pub(crate) fn looks_like_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Replaces the password hash, ends every session but `keep`, voids every unused e-mail link
/// and forgets the known devices, so that nothing issued before the change can act on the
/// account after it.
pub(crate) async fn store_password<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    hash: String,
    keep: Option<domain::SessionId>,
) -> Result<()> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(conn)
        .await?;
    sessions::end_all_but(conn, user_id, keep).await?;
    sessions::forget_devices(conn, user_id).await?;
    retire_links(conn, user_id).await
}

/// Voids every unused link of the user: after a password change or reset, or a change of
/// address, no earlier link (a pending change of address, a reset sent to an old address) may
/// still act on the account.
pub(crate) async fn retire_links<C: ConnectionTrait>(conn: &C, user_id: UserId) -> Result<()> {
    email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(crate::now()))
        .filter(email_token::Column::UserId.eq(user_id.0))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Creates a link token for `user` and returns the secret for the e-mail.
pub(crate) async fn issue_link<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    purpose: Purpose,
    email: &str,
) -> Result<String> {
    issue_link_with(conn, user_id, purpose, email, tokens::random_token()).await
}

/// Creates a link for `user` whose secret is `token`.
pub(crate) async fn issue_link_with<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    purpose: Purpose,
    email: &str,
    token: String,
) -> Result<String> {
    let now = crate::now();
    email_token::ActiveModel {
        user_id: Set(user_id.0),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(tokens::hash_token(&token)),
        email: Set(email.to_owned()),
        expires_at: Set(now + purpose.lifetime()),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

impl Services {
    /// Creates a single-use link for `purpose` and queues the e-mail that carries it to `to`.
    /// At most one such e-mail a minute and five an hour go out per account and purpose, so
    /// nobody can use the product to flood an inbox; beyond that the request is quietly dropped
    /// (the page says the same either way).
    pub(crate) async fn send_link<C: ConnectionTrait>(
        &self,
        conn: &C,
        user: &user::Model,
        purpose: Purpose,
        to: &str,
    ) -> Result<()> {
        self.send_link_as(conn, user, purpose, to, |to, name, link| {
            purpose.email(to, name, link)
        })
        .await
    }

    /// [`Self::send_link`], with the e-mail written by `compose(to, name, link)`.
    pub(crate) async fn send_link_as<C: ConnectionTrait>(
        &self,
        conn: &C,
        user: &user::Model,
        purpose: Purpose,
        to: &str,
        compose: impl FnOnce(&str, &str, &str) -> providers::mail::Email,
    ) -> Result<()> {
        let now = crate::now();
        let recent: Vec<chrono::DateTime<chrono::Utc>> = email_token::Entity::find()
            .select_only()
            .column(email_token::Column::CreatedAt)
            .filter(email_token::Column::UserId.eq(user.id))
            .filter(email_token::Column::Purpose.eq(purpose.as_str()))
            .filter(email_token::Column::CreatedAt.gt(now - Duration::hours(1)))
            .into_tuple()
            .all(conn)
            .await?;
        let last_minute = recent.iter().any(|t| now - *t < Duration::minutes(1));
        if last_minute || recent.len() >= 5 {
            tracing::info!(
                user = user.id,
                purpose = purpose.as_str(),
                "link e-mail not sent: too many recently"
            );
            return Ok(());
        }
        let token = issue_link(conn, UserId(user.id), purpose, to).await?;
        let link = format!("{}{}{token}", self.base_url, purpose.path());
        emails::queue(conn, compose(to, &user.name, &link), Some(UserId(user.id))).await
    }

    /// After a confirmation link was used: a session for the browser that signed up, when
    /// `proof` (its sign-up cookie) belongs to the link. Any other browser (a mail scanner, or
    /// the real owner of an address a stranger signed up with) gets none and logs in with the
    /// password.
    pub async fn session_after_confirmation(
        &self,
        token: &str,
        proof: Option<&str>,
        user: &user::Model,
        user_agent: &str,
    ) -> Result<Option<String>> {
        let Some(proof) = proof else {
            return Ok(None);
        };
        if !self.keys.verify("signup-browser", token.as_bytes(), proof) {
            return Ok(None);
        }
        let session = sessions::start(&self.db, UserId(user.id), user_agent).await?;
        tracing::info!(user = user.id, "signed in by the confirmation of a sign-up");
        Ok(Some(session))
    }

    /// Creates an account from the command line; its address counts as verified.
    pub async fn create_account(&self, account: NewAccount) -> Result<user::Model> {
        let hash = passwords::hash(&account.password).await?;
        insert_user(&self.db, &account, hash, true).await
    }

    /// Sends a new verification link to the user's current address.
    pub async fn resend_verification(&self, user: &user::Model) -> Result<()> {
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let txn = self.db.begin().await?;
        self.send_link(&txn, user, Purpose::VerifyEmail, &user.email)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Looks up a live link of one of `purposes` without using it.
    pub async fn peek_link(&self, token: &str, purposes: &[Purpose]) -> Result<email_token::Model> {
        let row = email_token::Entity::find()
            .filter(email_token::Column::TokenHash.eq(tokens::hash_token(token)))
            .one(&self.db)
            .await?
            .filter(|t| {
                t.used_at.is_none()
                    && t.expires_at > crate::now()
                    && purposes.iter().any(|p| p.as_str() == t.purpose)
            });
        row.ok_or_else(|| ServiceError::invalid("token", LINK_DEAD))
    }

    /// Marks a link used, once: of two concurrent uses only one succeeds.
    pub(crate) async fn use_link<C: ConnectionTrait>(
        conn: &C,
        link: &email_token::Model,
    ) -> Result<()> {
        let now = crate::now();
        let res = email_token::Entity::update_many()
            .col_expr(email_token::Column::UsedAt, Expr::value(now))
            .filter(email_token::Column::Id.eq(link.id))
            .filter(email_token::Column::UsedAt.is_null())
            .filter(email_token::Column::ExpiresAt.gt(now))
            .exec(conn)
            .await?;
        if res.rows_affected != 1 {
            return Err(ServiceError::invalid("token", LINK_DEAD));
        }
        Ok(())
    }

    /// Uses a verification or change-of-address link. Returns the user's new state.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_email(&self, token: &str) -> Result<user::Model> {
        let link = self
            .peek_link(token, &[Purpose::VerifyEmail, Purpose::ChangeEmail])
            .await?;
        let txn = self.db.begin().await?;
        Self::use_link(&txn, &link).await?;
        let user = user::Entity::find_by_id(link.user_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let now = crate::now();
        let mut active = user.clone().into_active_model();
        if link.purpose == Purpose::ChangeEmail.as_str() {
            retire_links(&txn, UserId(user.id)).await?;
            active.email = Set(link.email.clone());
            active.email_verified_at = Set(Some(now));
        } else if link.email == user.email {
            active.email_verified_at = Set(Some(user.email_verified_at.unwrap_or(now)));
        } else {
            // The address changed since this link was sent: it no longer proves anything.
            return Err(ServiceError::invalid("token", LINK_DEAD));
        }
        active.updated_at = Set(now);
        let user = active.update(&txn).await.map_err(|e| {
            if store::is_unique_violation(&e) {
                ServiceError::invalid("token", "Another account uses this address now.")
            } else {
                e.into()
            }
        })?;
        txn.commit().await?;
        Ok(user)
    }

    /// Checks `candidate` against the password of the account with address `email` (which may
    /// not exist), within the limits of [`crate::throttle`]: every place that asks for a
    /// password goes through here, so none of them can be used to guess it faster. A browser
    /// known to the account, or a session of it, is not slowed down when others keep failing;
    /// the failure that starts the slowdown e-mails the owner.
    pub(crate) async fn check_password(
        &self,
        email: &str,
        candidate: &str,
        asker: Asker<'_>,
    ) -> Result<Option<user::Model>, AuthError> {
        let user = if email.is_empty() {
            None
        } else {
            user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(&self.db)
                .await?
        };
        let (known, key) = match asker {
            Asker::Session(id) => (
                true,
                self.keys
                    .mac("throttle-device", format!("session:{}", id.0).as_bytes()),
            ),
            Asker::Browser { client, device } => {
                let known = match (&user, device) {
                    (Some(u), Some(token)) => {
                        sessions::is_known_device(&self.db, UserId(u.id), token).await?
                    }
                    _ => false,
                };
                match device.filter(|_| known) {
                    Some(token) => (true, self.keys.mac("throttle-device", token.as_bytes())),
                    None => (false, self.keys.mac("throttle", client.as_bytes())),
                }
            }
        };
        let source = if known {
            Source::Known(&key)
        } else {
            Source::Client(&key)
        };
        let account_key = self.keys.mac("throttle", email.as_bytes());
        let attempt = self
            .login_throttle
            .begin(&account_key, source)
            .map_err(|refusal| {
                tracing::warn!(?refusal, "password attempt refused by a limit");
                AuthError::login(refusal)
            })?;
        let hash = user.as_ref().map(|u| u.password_hash.as_str());
        if passwords::verify(candidate, hash).await? {
            self.login_throttle.succeeded(attempt);
            return Ok(user);
        }
        if self.login_throttle.failed(attempt)
            && let Some(owner) = &user
        {
            self.warn_of_wrong_passwords(owner).await;
        }
        Ok(None)
    }

    /// Tells the owner that their account reached the slowdown. The failed attempt is answered
    /// either way: a warning that cannot be queued is logged, not shown to the guesser.
    pub(crate) async fn warn_of_wrong_passwords(&self, owner: &user::Model) {
        let limits = self.login_throttle.limits();
        let email = emails::wrong_passwords_tried(
            &owner.email,
            &owner.name,
            limits.slow_after,
            limits.window.as_secs() / 60,
            &format!("{}/password/forgot", self.base_url),
        );
        match emails::queue(&self.db, email, Some(UserId(owner.id))).await {
            Ok(()) => {
                self.wake.notify_one();
                tracing::warn!(
                    user = owner.id,
                    "many wrong passwords: log-ins from new devices slowed, the owner is told"
                );
            }
            Err(err) => tracing::error!(
                user = owner.id,
                error = ?err,
                "could not queue the warning about wrong passwords"
            ),
        }
    }

    /// Checks an e-mail and password and starts a session. `device` is the browser's
    /// known-device cookie, if it sent one; the token to keep in it is returned. Failed
    /// attempts are limited per account and client (`client` is the caller's network
    /// address), and slowed down per account for browsers the account does not know.
    #[tracing::instrument(skip_all)]
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        user_agent: &str,
        device: Option<&str>,
    ) -> Result<LoggedIn, AuthError> {
        let normalised = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default();
        let device = device.filter(|d| looks_like_token(d));
        let asker = Asker::Browser { client, device };
        let Some(user) = self.check_password(&normalised, password, asker).await? else {
            return Err(ServiceError::invalid("password", BAD_LOGIN).into());
        };
        let session = sessions::start(&self.db, UserId(user.id), user_agent).await?;
        let device =
            sessions::remember_device(&self.db, UserId(user.id), device, user_agent).await?;
        Ok(LoggedIn {
            user,
            session,
            device,
        })
    }

    /// Checks the signed-in person's password before a sensitive change. The session stands
    /// for the browser: it is limited on its own and not slowed down by strangers' failures
    /// (`_client` is kept for the callers' sake).
    pub(crate) async fn confirm_identity(
        &self,
        auth: &AuthSession,
        password: &str,
        _client: &str,
        field: &'static str,
    ) -> Result<()> {
        let asker = Asker::Session(auth.session_id);
        match self.check_password(&auth.user.email, password, asker).await {
            Ok(Some(user)) if user.id == auth.user.id => Ok(()),
            Ok(_) => Err(ServiceError::invalid(field, "Your password is not right.")),
            Err(AuthError::Limited { retry_after, .. }) => {
                Err(ServiceError::RateLimited { retry_after })
            }
            Err(AuthError::Service(err)) => Err(err),
        }
    }

    /// Sends a reset link if an account has this address. Answers the same either way, so the
    /// form does not reveal who has an account.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &Email) -> Result<()> {
        let Some(user) = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?
        else {
            return Ok(());
        };
        let txn = self.db.begin().await?;
        self.send_link(&txn, &user, Purpose::ResetPassword, &user.email)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets a new password from a reset link, ends every session, and counts the address as
    /// verified (the link proved the inbox).
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<user::Model> {
        let link = self.peek_link(token, &[Purpose::ResetPassword]).await?;
        let user = user::Entity::find_by_id(link.user_id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if link.email != user.email {
            // Sent to an address the account no longer has: it proves nothing now.
            return Err(ServiceError::invalid("token", LINK_DEAD));
        }
        let email = Email::parse(&user.email).ok();
        let password = Password::parse(new_password, email.as_ref())
            .map_err(|e| ServiceError::invalid("password", e.0))?;
        let hash = passwords::hash(&password).await?;
        let txn = self.db.begin().await?;
        Self::use_link(&txn, &link).await?;
        store_password(&txn, UserId(user.id), hash, None).await?;
        if user.email_verified_at.is_none() {
            // The link reached the inbox, which proves the address.
            user::Entity::update_many()
                .col_expr(user::Column::EmailVerifiedAt, Expr::value(crate::now()))
                .filter(user::Column::Id.eq(user.id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(user)
    }

    /// Changes the password after checking the current one; every other session ends.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        auth: &AuthSession,
        current: &str,
        new: &str,
        client: &str,
    ) -> Result<()> {
        self.confirm_identity(auth, current, client, "current_password")
            .await?;
        let email = Email::parse(&auth.user.email).ok();
        let password = Password::parse(new, email.as_ref())
            .map_err(|e| ServiceError::invalid("new_password", e.0))?;
        let hash = passwords::hash(&password).await?;
        let txn = self.db.begin().await?;
        store_password(&txn, UserId(auth.user.id), hash, Some(auth.session_id)).await?;
        emails::queue(
            &txn,
            emails::password_changed(&auth.user.email, &auth.user.name),
            Some(UserId(auth.user.id)),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Starts a change of address: the new address gets a confirmation link, the old one a
    /// notice. Nothing changes until the link is used.
    #[tracing::instrument(skip_all)]
    pub async fn request_email_change(
        &self,
        auth: &AuthSession,
        new: &Email,
        password: &str,
        client: &str,
    ) -> Result<()> {
        self.confirm_identity(auth, password, client, "password")
            .await?;
        if new.as_str() == auth.user.email {
            return Err(ServiceError::invalid(
                "email",
                "This is already your address.",
            ));
        }
        let taken = user::Entity::find()
            .filter(user::Column::Email.eq(new.as_str()))
            .one(&self.db)
            .await?
            .is_some();
        if taken {
            return Err(ServiceError::invalid(
                "email",
                "Another account uses this address.",
            ));
        }
        let txn = self.db.begin().await?;
        self.send_link(&txn, &auth.user, Purpose::ChangeEmail, new.as_str())
            .await?;
        emails::queue(
            &txn,
            emails::address_change_requested(&auth.user.email, &auth.user.name, new.as_str()),
            Some(UserId(auth.user.id)),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The address waiting for confirmation, if a change is pending.
    pub async fn pending_email_change(&self, user_id: UserId) -> Result<Option<String>> {
        let pending = email_token::Entity::find()
            .filter(email_token::Column::UserId.eq(user_id.0))
            .filter(email_token::Column::Purpose.eq(Purpose::ChangeEmail.as_str()))
            .filter(email_token::Column::UsedAt.is_null())
            .filter(email_token::Column::ExpiresAt.gt(crate::now()))
            .order_by_desc(email_token::Column::CreatedAt)
            .one(&self.db)
            .await?;
        Ok(pending.map(|t| t.email))
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_profile(
        &self,
        user_id: UserId,
        name: &PersonName,
        timezone: Timezone,
        language: Language,
    ) -> Result<()> {
        user::Entity::update_many()
            .col_expr(user::Column::Name, Expr::value(name.as_str()))
            .col_expr(user::Column::Timezone, Expr::value(timezone.name()))
            .col_expr(user::Column::Language, Expr::value(language.code()))
            .col_expr(user::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(user::Column::Id.eq(user_id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Sets a password from the command line (the admin's `set-password`); every session ends.
    pub async fn set_password(&self, email: &Email, password: &Password) -> Result<()> {
        let user = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let hash = passwords::hash(password).await?;
        let txn = self.db.begin().await?;
        store_password(&txn, UserId(user.id), hash, None).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// Defaults for a fresh throttle, used by the binary and by tests.
pub fn default_throttle() -> std::sync::Arc<throttle::LoginThrottle> {
    std::sync::Arc::new(throttle::LoginThrottle::new(throttle::Limits::default()))
}
