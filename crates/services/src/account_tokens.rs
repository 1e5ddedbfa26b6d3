//! The tokens of connected accounts, sealed at rest with the key ring: each value is bound to
//! this table, its column and the account, and opened only when an adapter needs it.

use crate::{Result, ServiceError, Services};
use chrono::{DateTime, Utc};
use domain::SocialAccountId;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use secrecy::SecretString;
use store::entities::account_token;
use store::entities::states::AccountStatus;
use store::keyring::Place;

const TABLE: &str = "account_tokens";

/// What a platform granted.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl TokenSet {
    /// When these tokens need renewing: the earlier of the access token's end and the refresh
    /// token's (a Facebook page token does not end, but the person's token behind it does).
    pub fn renew_by(&self) -> Option<DateTime<Utc>> {
        match (self.expires_at, self.refresh_expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn place(column: &'static str, account_id: i64) -> Place<'static> {
    Place {
        table: TABLE,
        column,
        row: account_id,
    }
}

impl Services {
    /// Stores (or replaces) an account's tokens, sealed.
    pub async fn store_tokens<C: ConnectionTrait>(
        &self,
        conn: &C,
        account_id: SocialAccountId,
        tokens: &TokenSet,
    ) -> Result<()> {
        let seal = |column: &'static str, value: &SecretString| {
            self.keyring
                .seal(place(column, account_id.0), value)
                .map_err(|e| ServiceError::Unexpected(anyhow::Error::new(e)))
        };
        let row = account_token::ActiveModel {
            account_id: Set(account_id.0),
            access_token: Set(seal("access_token", &tokens.access)?),
            refresh_token: Set(tokens
                .refresh
                .as_ref()
                .map(|r| seal("refresh_token", r))
                .transpose()?),
            expires_at: Set(tokens.expires_at),
            refresh_expires_at: Set(tokens.refresh_expires_at),
            scopes: Set(tokens.scopes.join(" ")),
            updated_at: Set(crate::now()),
        };
        account_token::Entity::insert(row)
            .on_conflict(
                OnConflict::column(account_token::Column::AccountId)
                    .update_columns([
                        account_token::Column::AccessToken,
                        account_token::Column::RefreshToken,
                        account_token::Column::ExpiresAt,
                        account_token::Column::RefreshExpiresAt,
                        account_token::Column::Scopes,
                        account_token::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(conn)
            .await?;
        // The permissions granted are shown on the analytics page.
        crate::analytics::kept::account_changed(conn, account_id.0).await?;
        Ok(())
    }

    /// An account's tokens, opened; `None` when it has none.
    pub async fn tokens_of(&self, account_id: SocialAccountId) -> Result<Option<TokenSet>> {
        let Some(row) = account_token::Entity::find_by_id(account_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        self.open_tokens(&row).map(Some)
    }

    /// Opens the tokens of a stored row (its sealed values stay in `row` for comparison).
    pub(crate) fn open_tokens(&self, row: &account_token::Model) -> Result<TokenSet> {
        let open = |column: &'static str, value: &str| {
            self.keyring
                .open(place(column, row.account_id), value)
                .map_err(|e| ServiceError::Unexpected(anyhow::Error::new(e)))
        };
        Ok(TokenSet {
            access: open("access_token", &row.access_token)?,
            refresh: row
                .refresh_token
                .as_deref()
                .map(|r| open("refresh_token", r))
                .transpose()?,
            expires_at: row.expires_at,
            refresh_expires_at: row.refresh_expires_at,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
        })
    }

    /// How many stored values are still sealed with a master key other than the current one.
    pub async fn tokens_under_older_keys(&self) -> Result<usize> {
        let prefix = format!("v1.{}.", self.keyring.current_id());
        let rows = account_token::Entity::find().all(&self.db).await?;
        Ok(rows
            .iter()
            .flat_map(|r| std::iter::once(&r.access_token).chain(r.refresh_token.as_ref()))
            .filter(|v| !v.starts_with(&prefix))
            .count())
    }

    /// Re-wraps every sealed token's data key with the key ring's current master key, in
    /// batches, each row in its own short transaction. Returns how many values changed. After
    /// it, the older master keys can be taken out of the ring.
    pub async fn rotate_token_keys(&self) -> Result<usize> {
        let mut changed = 0;
        let mut after = i64::MIN;
        loop {
            let batch = account_token::Entity::find()
                .filter(account_token::Column::AccountId.gt(after))
                .order_by_asc(account_token::Column::AccountId)
                .limit(200)
                .all(&self.db)
                .await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.account_id;
            for row in batch {
                let id = row.account_id;
                let rewrap = |column: &'static str, value: &str| {
                    self.keyring.rewrap(place(column, id), value).map_err(|e| {
                        ServiceError::Unexpected(
                            anyhow::Error::new(e).context(format!("the tokens of account {id}")),
                        )
                    })
                };
                let access = rewrap("access_token", &row.access_token)?;
                let refresh = match &row.refresh_token {
                    Some(r) => rewrap("refresh_token", r)?,
                    None => None,
                };
                if access.is_none() && refresh.is_none() {
                    continue;
                }
                // Written only over the values read: a token refreshed meanwhile is not
                // overwritten with its older self.
                let mut update = account_token::Entity::update_many()
                    .filter(account_token::Column::AccountId.eq(id))
                    .filter(account_token::Column::AccessToken.eq(row.access_token.as_str()));
                update = match &row.refresh_token {
                    Some(r) => update.filter(account_token::Column::RefreshToken.eq(r.as_str())),
                    None => update.filter(account_token::Column::RefreshToken.is_null()),
                };
                let values = access.is_some() as usize + refresh.is_some() as usize;
                if let Some(access) = access {
                    update =
                        update.col_expr(account_token::Column::AccessToken, Expr::value(access));
                }
                if let Some(refresh) = refresh {
                    update =
                        update.col_expr(account_token::Column::RefreshToken, Expr::value(refresh));
                }
                if update.exec(&self.db).await?.rows_affected == 1 {
                    changed += values;
                }
            }
        }
        Ok(changed)
    }
}

/// The account a per-account job (token refresh, profile reading) works on, with its platform:
/// `None` when the account is gone or no longer connected, which ends such a job quietly.
pub(crate) async fn connected_account(
    db: &store::Db,
    account_id: SocialAccountId,
) -> Result<Option<(store::entities::social_account::Model, domain::Platform)>, crate::jobs::JobError>
{
    use crate::jobs::JobError;
    let Some(account) = store::entities::social_account::Entity::find_by_id(account_id)
        .one(db)
        .await
        .map_err(JobError::retry)?
    else {
        return Ok(None);
    };
    if account.status != AccountStatus::Connected {
        return Ok(None);
    }
    let platform = domain::Platform::parse(&account.platform)
        .map_err(|_| JobError::Permanent("unknown platform".into()))?;
    Ok(Some((account, platform)))
}
