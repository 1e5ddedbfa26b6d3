//! Accounts: sign-up, e-mail verification, log-in, password reset and change, change of address,
//! profile.

use crate::sessions::{self, AuthSession};
use crate::{Result, ServiceError, Services, emails, passwords, throttle, tokens};
use chrono::Duration;
use domain::{Email, Language, Password, PersonName, Timezone, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::time::Instant;
use store::entities::{email_token, user};

/// What a single-use e-mail link is for, and how long it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
}

impl Purpose {
    fn as_str(&self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }

    /// Where the link in the e-mail points.
    fn path(&self) -> &'static str {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => "/verify/",
            Self::ResetPassword => "/password/reset/",
        }
    }

    /// The e-mail that carries the link.
    fn email(&self, to: &str, name: &str, link: &str) -> providers::mail::Email {
        match self {
            Self::VerifyEmail => emails::verify_address(to, name, link),
            Self::ResetPassword => emails::password_reset(to, name, link),
            Self::ChangeEmail => emails::confirm_new_address(to, name, link),
        }
    }

    fn lifetime(&self) -> Duration {
        match self {
            Self::ResetPassword => Duration::hours(LINK_HOURS_RESET),
            Self::VerifyEmail | Self::ChangeEmail => Duration::hours(LINK_HOURS_VERIFY),
        }
    }
}

/// Where a sign-up came from, for the record of the policies it accepted.
#[derive(Debug, Clone, Default)]
pub struct SignupOrigin {
    /// The browser's consent id, when it has one.
    pub consent_id: Option<String>,
    pub locale: String,
    pub client: String,
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

const DUPLICATE_EMAIL: &str = "An account with this e-mail address already exists. Log in, or reset your password if you forgot it.";
const LINK_DEAD: &str = "This link has expired or has already been used. Ask for a new one below.";
const BAD_LOGIN: &str = "That e-mail address and password do not match an account.";

async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    account: &NewAccount,
    password_hash: String,
    verified: bool,
) -> Result<user::Model> {
    let now = crate::now();
    user::ActiveModel {
        name: Set(account.name.as_str().to_owned()),
        email: Set(account.email.as_str().to_owned()),
        email_verified_at: Set(verified.then_some(now)),
        password_hash: Set(password_hash),
        timezone: Set(account.timezone.name().to_owned()),
        language: Set(account.language.code().to_owned()),
        last_workspace_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
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

/// Replaces the password hash, ends every session but `keep`, and voids every unused e-mail
/// link, so that nothing issued before the change can act on the account after it.
async fn store_password<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    hash: String,
    keep: Option<domain::SessionId>,
) -> Result<()> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    sessions::end_all_but(conn, UserId(user_id), keep).await?;
    retire_links(conn, user_id).await
}

/// Voids every unused link of the user: after a password change or reset, or a change of
/// address, no earlier link (a pending change of address, a reset sent to an old address) may
/// still act on the account.
async fn retire_links<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<()> {
    email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(crate::now()))
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Creates a link token for `user` and returns the secret for the e-mail.
async fn issue_link<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    purpose: Purpose,
    email: &str,
) -> Result<String> {
    let token = tokens::random_token();
    let now = crate::now();
    email_token::ActiveModel {
        user_id: Set(user_id),
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
    async fn send_link<C: ConnectionTrait>(
        &self,
        conn: &C,
        user: &user::Model,
        purpose: Purpose,
        to: &str,
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
        let token = issue_link(conn, user.id, purpose, to).await?;
        let link = format!("{}{}{token}", self.base_url, purpose.path());
        emails::queue(conn, purpose.email(to, &user.name, &link), Some(user.id)).await
    }

    /// Signs a person up, queues the verification e-mail and starts a session, all or nothing.
    /// The acceptance of the sign-up policies is recorded in the same transaction, with where it
    /// came from (`origin`).
    pub async fn sign_up(
        &self,
        account: NewAccount,
        user_agent: &str,
        origin: &SignupOrigin,
    ) -> Result<(user::Model, String)> {
        let hash = passwords::hash(&account.password).await?;
        let policies = self
            .versions_in_effect(&domain::policy::PolicyKind::AT_SIGNUP)
            .await?;
        let txn = self.db.begin().await?;
        let user = insert_user(&txn, &account, hash, false).await?;
        let acceptor = crate::policies::Acceptor {
            user_id: user.id,
            consent_id: origin.consent_id.clone(),
            locale: origin.locale.clone(),
            client: origin.client.clone(),
            browser: sessions::describe_device(user_agent),
        };
        self.accept_policies(&txn, &acceptor, &policies, crate::consent::Source::Signup)
            .await?;
        self.send_link(&txn, &user, Purpose::VerifyEmail, &user.email)
            .await?;
        let session = sessions::start(&txn, UserId(user.id), user_agent).await?;
        txn.commit().await?;
        tracing::info!(user = user.id, "account created");
        Ok((user, session))
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
    async fn use_link<C: ConnectionTrait>(conn: &C, link: &email_token::Model) -> Result<()> {
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
            retire_links(&txn, user.id).await?;
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
    /// not exist), counting the attempt against the account and the client: every place that
    /// asks for a password goes through here, so none of them can be used to guess it faster.
    async fn check_password(
        &self,
        email: &str,
        candidate: &str,
        client: &str,
    ) -> Result<Option<user::Model>> {
        let account_key = self.keys.mac("throttle", email.as_bytes());
        let client_key = self.keys.mac("throttle", client.as_bytes());
        let attempt = self
            .login_throttle
            .begin(&account_key, &client_key, Instant::now())
            .map_err(|(scope, wait)| {
                tracing::warn!(scope = ?scope, "password attempts throttled");
                ServiceError::RateLimited { retry_after: wait }
            })?;
        let user = if email.is_empty() {
            None
        } else {
            user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(&self.db)
                .await?
        };
        let hash = user.as_ref().map(|u| u.password_hash.as_str());
        if !passwords::verify(candidate, hash).await? {
            return Ok(None);
        }
        self.login_throttle.succeeded(attempt);
        Ok(user)
    }

    /// Checks an e-mail and password and starts a session. Failed attempts are limited per
    /// account and per client (`client` is the caller's network address).
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        user_agent: &str,
    ) -> Result<(user::Model, String)> {
        let normalised = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default();
        let Some(user) = self.check_password(&normalised, password, client).await? else {
            return Err(ServiceError::invalid("password", BAD_LOGIN));
        };
        let token = sessions::start(&self.db, UserId(user.id), user_agent).await?;
        Ok((user, token))
    }

    /// Checks the signed-in person's password before a sensitive change.
    pub(crate) async fn confirm_identity(
        &self,
        auth: &AuthSession,
        password: &str,
        client: &str,
        field: &'static str,
    ) -> Result<()> {
        match self
            .check_password(&auth.user.email, password, client)
            .await?
        {
            Some(user) if user.id == auth.user.id => Ok(()),
            _ => Err(ServiceError::invalid(field, "Your password is not right.")),
        }
    }

    /// Sends a reset link if an account has this address. Answers the same either way, so the
    /// form does not reveal who has an account.
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
        store_password(&txn, user.id, hash, None).await?;
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
        store_password(&txn, auth.user.id, hash, Some(auth.session_id)).await?;
        emails::queue(
            &txn,
            emails::password_changed(&auth.user.email, &auth.user.name),
            Some(auth.user.id),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Starts a change of address: the new address gets a confirmation link, the old one a
    /// notice. Nothing changes until the link is used.
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
            Some(auth.user.id),
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
        store_password(&txn, user.id, hash, None).await?;
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
