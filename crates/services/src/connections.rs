//! Connecting platform accounts over OAuth and disconnecting them.
//!
//! Starting a connection stores a hash of a fresh `state`, bound to the session, workspace and
//! platform for ten minutes; the PKCE verifier (X, TikTok, Facebook) and the OpenID Connect
//! nonce (LinkedIn) are derived from the state with the server's key, so nothing secret is
//! stored, and only the challenge and the nonce go to the platform. A code then redeems only in
//! the flow that asked for it: another state gives another verifier and another nonce, which
//! the platform (PKCE) or we (the nonce in LinkedIn's ID token) refuse. Instagram takes
//! neither; there the state's binding to the session is the whole protection.
//!
//! The callback spends the state once, and only from the session that started the flow: a
//! callback presented by anyone else's browser is refused and leaves the state for its owner.
//! It then exchanges the code, reads who the account is, and stores the account and its sealed
//! tokens in one transaction. Disconnecting revokes the tokens at the platform (where it can),
//! then deletes them.

use crate::account_tokens::TokenSet;
use crate::plans::Need;
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services, activity, tokens};
use base64::Engine;
use domain::plans::Limit;
use domain::{Platform, SessionId, SocialAccountId, UserId, WorkspaceId};
pub use providers::social::Identity;
use providers::social::{Candidate, ConnectError, Connector, Revoked, TokenGrant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use std::sync::Arc;
use store::entities::states::AccountStatus;
use store::entities::{oauth_state, social_account, user};
use store::keyring::Place;

/// How long a person has to authorise at the platform.
const STATE_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// How a callback ended.
#[derive(Debug)]
pub enum Finished {
    Connected(Vec<social_account::Model>),
    /// The login manages several accounts (Facebook pages): the person chooses, and sends
    /// `choice` back with the chosen ids to [`Services::choose_accounts`].
    Choose {
        platform: Platform,
        choice: String,
        candidates: Vec<Identity>,
    },
    /// The person pressed Cancel (or Deny) at the platform.
    Cancelled,
}

/// What disconnecting did at the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    /// The platform offers no revocation, or there was no token.
    NotOffered,
    /// The platform did not confirm; the reason.
    Failed(String),
    /// Not revoked: the same person's authorisation still serves this many other accounts
    /// (Facebook pages), which revoking would disconnect too.
    Shared(usize),
}

fn refused() -> ServiceError {
    ServiceError::invalid(
        "state",
        "This connection attempt is no longer valid (it expired, was already used, or was \
         started in another browser). Start it again.",
    )
}

/// The grant kept while the person chooses (sealed at rest).
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptGrant {
    access: String,
    refresh: Option<String>,
    expires_in: Option<u64>,
    refresh_expires_in: Option<u64>,
    scopes: Vec<String>,
}

/// What to check at the platform when a login offers no account.
fn no_account_hint(platform: Platform) -> &'static str {
    match platform {
        Platform::Facebook => {
            "Socializioz publishes to Facebook Pages: make sure you manage a Page and share it \
             when Facebook asks which Pages to use."
        }
        Platform::Instagram => {
            "Socializioz publishes to Instagram professional (business or creator) accounts: \
             switch the account to professional in Instagram's settings."
        }
        _ => "Check that you signed in with the right account.",
    }
}

fn platform_error(platform: Platform, err: ConnectError) -> ServiceError {
    match err {
        ConnectError::Refused(why) => ServiceError::invalid(
            "state",
            format!("{platform} did not accept the connection ({why}). Start it again."),
        ),
        ConnectError::Unavailable(why) => ServiceError::invalid(
            "state",
            format!("{platform} could not be reached ({why}). Try again in a moment."),
        ),
    }
}

impl Services {
    fn connector(&self, platform: Platform) -> Result<Arc<dyn Connector>> {
        self.connectors.get(platform).ok_or_else(|| {
            ServiceError::invalid(
                "platform",
                format!("{platform} is not set up on this server."),
            )
        })
    }

    /// The PKCE verifier for `state`: derived, never stored.
    fn pkce_verifier(&self, state: &str) -> String {
        self.keys.mac("oauth-pkce", state.as_bytes())
    }

    /// The OpenID Connect nonce for `state`: derived, never stored. It goes to the platform in
    /// the authorize URL and comes back inside the ID token, never in our callback URL.
    fn oidc_nonce(&self, state: &str) -> String {
        self.keys.mac("oauth-nonce", state.as_bytes())
    }

    /// Starts connecting a `platform` account to the member's workspace; returns the address to
    /// send the browser to.
    #[tracing::instrument(skip_all)]
    pub async fn start_connection(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        session_id: SessionId,
        platform: Platform,
        redirect_uri: &str,
    ) -> Result<String> {
        if !ctx.role.can_manage_members() {
            return Err(ServiceError::Forbidden(
                "Only owners and admins connect accounts to a workspace.".into(),
            ));
        }
        let connector = self.connector(platform)?;
        // Said before the trip to the platform rather than after it, unless the workspace has
        // an account there already (reconnecting it is always allowed). Without plans there
        // is nothing to ask.
        let has_one = !self.billing.is_on()
            || social_account::Entity::find()
                .filter(social_account::Column::WorkspaceId.eq(ctx.workspace.id))
                .filter(social_account::Column::Platform.eq(platform.slug()))
                .filter(social_account::Column::Status.ne(AccountStatus::Disconnected))
                .count(&self.db)
                .await?
                > 0;
        if !has_one {
            self.entitle_account(&self.db, ctx.workspace_id(), platform)
                .await?;
        }
        let state = tokens::random_token();
        // Publishing's permissions, and those of what the workspace reads (analytics, comments).
        let scopes = self.scopes_for(platform, crate::analytics::Wants::of(&ctx.workspace));
        let now = crate::now();
        oauth_state::Entity::delete_many()
            .filter(oauth_state::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        oauth_state::ActiveModel {
            state_hash: Set(tokens::hash_token(&state)),
            user_id: Set(actor.id),
            session_id: Set(session_id.0),
            workspace_id: Set(ctx.workspace_id().0),
            platform: Set(platform.slug().to_owned()),
            scopes: Set(scopes.join(" ")),
            expires_at: Set(now + STATE_TTL),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        let challenge = connector.uses_pkce().then(|| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(self.pkce_verifier(&state).as_bytes()))
        });
        let nonce = connector.uses_nonce().then(|| self.oidc_nonce(&state));
        Ok(connector.authorize_url_with_nonce(
            &state,
            challenge.as_deref(),
            nonce.as_deref(),
            redirect_uri,
            &scopes,
        ))
    }

    /// Spends a state (or a choice) sent by the session that started it: it works once, even
    /// when what follows fails. Presented by anyone else (another person, another browser of
    /// the same person) it is refused and left unspent, so a callback URL that leaked cannot
    /// be used to cancel its owner's connection.
    async fn spend_state(
        &self,
        actor: &user::Model,
        session_id: i64,
        state: &str,
    ) -> Result<oauth_state::Model> {
        let hash = tokens::hash_token(state);
        let txn = store::begin_write(&self.db).await?;
        let found = oauth_state::Entity::find()
            .filter(oauth_state::Column::StateHash.eq(hash.as_str()))
            .filter(oauth_state::Column::UserId.eq(actor.id))
            .filter(oauth_state::Column::SessionId.eq(session_id))
            .one(&txn)
            .await?;
        let Some(found) = found else {
            txn.commit().await?;
            return Err(refused());
        };
        // The same conditions again in the delete: of two requests of this session, one wins.
        let spent = oauth_state::Entity::delete_many()
            .filter(oauth_state::Column::Id.eq(found.id))
            .filter(oauth_state::Column::UserId.eq(actor.id))
            .filter(oauth_state::Column::SessionId.eq(session_id))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        // Another request of this session spent it first, or it is too old (an old state is
        // spent all the same: it could never be used again).
        if spent == 1 && found.expires_at > crate::now() {
            Ok(found)
        } else {
            Err(refused())
        }
    }

    /// The member's workspace, if they may still connect accounts to it.
    async fn manager_of(&self, actor: &user::Model, ws: WorkspaceId) -> Result<Membership> {
        self.memberships_of(domain::UserId(actor.id))
            .await?
            .into_iter()
            .find(|m| m.workspace_id() == ws)
            .filter(|m| m.role.can_manage_members())
            .ok_or_else(|| {
                ServiceError::Forbidden(
                    "Only owners and admins connect accounts to a workspace.".into(),
                )
            })
    }

    /// Finishes a connection when the platform sends the browser back.
    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(skip_all)]
    pub async fn finish_connection(
        &self,
        actor: &user::Model,
        session_id: SessionId,
        platform: Platform,
        state: &str,
        code: Option<&str>,
        denied: bool,
        redirect_uri: &str,
    ) -> Result<(WorkspaceId, Finished)> {
        let found = self.spend_state(actor, session_id.0, state).await?;
        if found.platform != platform.slug() || found.pending_grant.is_some() {
            return Err(refused());
        }
        let ws = WorkspaceId(found.workspace_id);
        if denied {
            return Ok((ws, Finished::Cancelled));
        }
        let code = code.filter(|c| !c.is_empty()).ok_or_else(refused)?;
        let connector = self.connector(platform)?;
        let verifier = connector.uses_pkce().then(|| self.pkce_verifier(state));
        let nonce = connector.uses_nonce().then(|| self.oidc_nonce(state));
        let grant = connector
            .exchange_with_nonce(code, verifier.as_deref(), nonce.as_deref(), redirect_uri)
            .await
            .map_err(|e| platform_error(platform, e))?;
        let mut candidates = connector
            .accounts(&grant)
            .await
            .map_err(|e| platform_error(platform, e))?;
        if candidates.is_empty() {
            // Nothing to store, so nothing would ever revoke it: give the grant back now.
            let _ = connector
                .revoke(&grant.access, grant.refresh.as_ref())
                .await;
        }
        let membership = self.manager_of(actor, ws).await?;
        match candidates.len() {
            0 => Err(ServiceError::invalid(
                "state",
                format!(
                    "{platform} shows no account this login can publish to. {}",
                    no_account_hint(platform)
                ),
            )),
            1 => {
                let candidate = candidates.remove(0);
                let account = self
                    .save_account(actor, &membership, platform, candidate)
                    .await?;
                Ok((ws, Finished::Connected(vec![account])))
            }
            _ => {
                let choice = self.keep_choice(&found, &grant, &candidates).await?;
                Ok((
                    ws,
                    Finished::Choose {
                        platform,
                        choice,
                        candidates: candidates.into_iter().map(|c| c.identity).collect(),
                    },
                ))
            }
        }
    }

    /// Keeps a grant while the person chooses which of its accounts to connect: a fresh
    /// single-use state for the same session, workspace and platform, holding the grant sealed
    /// and the accounts offered. Returns the new state to send with the choice.
    async fn keep_choice(
        &self,
        spent: &oauth_state::Model,
        grant: &TokenGrant,
        candidates: &[Candidate],
    ) -> Result<String> {
        let choice = tokens::random_token();
        let offered: Vec<&str> = candidates
            .iter()
            .map(|c| c.identity.external_id.as_str())
            .collect();
        let kept = KeptGrant {
            access: grant.access.expose_secret().to_owned(),
            refresh: grant.refresh.as_ref().map(|r| r.expose_secret().to_owned()),
            expires_in: grant.expires_in,
            refresh_expires_in: grant.refresh_expires_in,
            scopes: grant.scopes.clone(),
        };
        let txn = store::begin_write(&self.db).await?;
        let row = oauth_state::ActiveModel {
            state_hash: Set(tokens::hash_token(&choice)),
            user_id: Set(spent.user_id),
            session_id: Set(spent.session_id),
            workspace_id: Set(spent.workspace_id),
            platform: Set(spent.platform.clone()),
            scopes: Set(spent.scopes.clone()),
            expires_at: Set(crate::now() + STATE_TTL),
            candidates: Set(Some(
                serde_json::to_string(&offered).map_err(anyhow::Error::from)?,
            )),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let sealed = self
            .keyring
            .seal(
                Place {
                    table: "oauth_states",
                    column: "pending_grant",
                    row: row.id,
                },
                &SecretString::from(serde_json::to_string(&kept).map_err(anyhow::Error::from)?),
            )
            .map_err(|e| ServiceError::Unexpected(anyhow::Error::new(e)))?;
        let mut row: oauth_state::ActiveModel = row.into();
        row.pending_grant = Set(Some(sealed));
        row.update(&txn).await?;
        txn.commit().await?;
        Ok(choice)
    }

    /// Connects the accounts the person chose among those a grant offered.
    #[tracing::instrument(skip_all)]
    pub async fn choose_accounts(
        &self,
        actor: &user::Model,
        session_id: SessionId,
        choice: &str,
        chosen: &[String],
    ) -> Result<(WorkspaceId, Vec<social_account::Model>)> {
        if chosen.is_empty() {
            return Err(ServiceError::invalid(
                "account",
                "Choose at least one account to connect.",
            ));
        }
        let found = self.spend_state(actor, session_id.0, choice).await?;
        let (Some(sealed), Some(offered)) = (&found.pending_grant, &found.candidates) else {
            return Err(refused());
        };
        let offered: Vec<String> = serde_json::from_str(offered).map_err(anyhow::Error::from)?;
        if chosen.iter().any(|c| !offered.contains(c)) {
            return Err(refused());
        }
        let kept: KeptGrant = {
            let opened = self
                .keyring
                .open(
                    Place {
                        table: "oauth_states",
                        column: "pending_grant",
                        row: found.id,
                    },
                    sealed,
                )
                .map_err(|_| refused())?;
            serde_json::from_str(opened.expose_secret()).map_err(anyhow::Error::from)?
        };
        let platform = Platform::parse(&found.platform).map_err(|_| refused())?;
        let ws = WorkspaceId(found.workspace_id);
        let connector = self.connector(platform)?;
        let grant = TokenGrant {
            access: SecretString::from(kept.access),
            refresh: kept.refresh.map(SecretString::from),
            expires_in: kept.expires_in,
            refresh_expires_in: kept.refresh_expires_in,
            scopes: kept.scopes,
        };
        let candidates = connector
            .accounts(&grant)
            .await
            .map_err(|e| platform_error(platform, e))?;
        let membership = self.manager_of(actor, ws).await?;
        let mut connected = Vec::new();
        for candidate in candidates {
            if chosen.contains(&candidate.identity.external_id) {
                connected.push(
                    self.save_account(actor, &membership, platform, candidate)
                        .await?,
                );
            }
        }
        if connected.is_empty() {
            return Err(ServiceError::invalid(
                "account",
                format!("{platform} no longer lists the accounts you chose. Start again."),
            ));
        }
        Ok((ws, connected))
    }

    /// Whether the plan allows one more connected account on `platform`.
    async fn entitle_account<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        ws: WorkspaceId,
        platform: Platform,
    ) -> Result<()> {
        self.entitle(conn, ws, Need::Platform(platform)).await?;
        self.entitle(conn, ws, Need::More(Limit::SocialAccounts, 1))
            .await
    }

    /// Stores a connected account and its sealed tokens in one transaction, and sends on the
    /// posts that were waiting for it.
    async fn save_account(
        &self,
        actor: &user::Model,
        membership: &Membership,
        platform: Platform,
        candidate: Candidate,
    ) -> Result<social_account::Model> {
        let Candidate {
            identity: who,
            grant,
        } = candidate;
        let ws = membership.workspace_id();
        let now = crate::now();
        let txn = store::begin_write(&self.db).await?;
        let existing = social_account::Entity::find()
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .filter(social_account::Column::Platform.eq(platform.slug()))
            .filter(social_account::Column::ExternalId.eq(who.external_id.as_str()))
            .one(&txn)
            .await?;
        // A reconnection keeps what the workspace has; a new account (or one disconnected
        // before) is an addition, which the plan must allow.
        if existing
            .as_ref()
            .is_none_or(|a| a.status == AccountStatus::Disconnected)
        {
            self.entitle_account(&txn, ws, platform).await?;
        }
        let mut row: social_account::ActiveModel = match existing {
            Some(account) => account.into(),
            None => social_account::ActiveModel {
                workspace_id: Set(ws.0),
                platform: Set(platform.slug().to_owned()),
                external_id: Set(who.external_id.clone()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        row.username = Set(who.username.clone());
        row.display_name = Set(who.display_name.clone());
        row.avatar_url = Set(who.avatar_url.clone());
        if let Some(followers) = who.followers {
            row.follower_count = Set(i64::try_from(followers).ok());
            row.followers_updated_at = Set(Some(now));
        }
        row.authorized_by = Set(who.authorized_by.clone());
        row.status = Set(AccountStatus::Connected);
        row.updated_at = Set(now);
        let account = row.save(&txn).await.map_err(|e| {
            if store::is_unique_violation(&e) {
                ServiceError::invalid(
                    "state",
                    "This account was connected from another tab a moment ago. Reload the page.",
                )
            } else {
                e.into()
            }
        })?;
        let account = sea_orm::TryIntoModel::try_into_model(account)?;
        let seconds = |s: Option<u64>| crate::token_refresh::after_seconds(now, s);
        let tokens = TokenSet {
            access: grant.access,
            refresh: grant.refresh,
            expires_at: seconds(grant.expires_in),
            refresh_expires_at: seconds(grant.refresh_expires_in),
            scopes: grant.scopes,
        };
        // (Raises the figures version: the analytics page shows the account's state.)
        self.store_tokens(&txn, SocialAccountId(account.id), &tokens)
            .await?;
        crate::token_refresh::resume(&txn, &account, tokens.renew_by()).await?;
        crate::account_profiles::schedule(&txn, &account, now + crate::account_profiles::EVERY)
            .await?;
        if membership.workspace.analytics_on_at.is_some() {
            crate::queue::plan_read::<crate::analytics::ingest::MetricsOf, _>(
                &txn,
                &account,
                Some(now),
            )
            .await?;
        }
        if membership.workspace.comments_on_at.is_some() {
            crate::queue::plan_read::<crate::comments::ingest::CommentsOf, _>(
                &txn,
                &account,
                Some(now),
            )
            .await?;
        }
        if membership.workspace.inbox_on_at.is_some() && account.platform == "instagram" {
            crate::queue::plan_read::<crate::inbox::MessagesOf, _>(&txn, &account, Some(now))
                .await?;
        }
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "account.connected",
                object_type: "account",
                object_id: Some(account.id),
                summary: format!("connected {platform} @{}", account.username),
            },
        )
        .await?;
        txn.commit().await?;
        self.wake.notify_one();
        Ok(account)
    }

    /// Disconnects an account: its tokens are revoked at the platform where it offers that,
    /// then deleted; the account stays listed as disconnected, with its posts' history.
    #[tracing::instrument(skip_all)]
    pub async fn disconnect_account(
        &self,
        ctx: &Membership,
        actor: &user::Model,
        account_id: SocialAccountId,
    ) -> Result<Revocation> {
        if !ctx.role.can_manage_members() {
            return Err(ServiceError::Forbidden(
                "Only owners and admins disconnect accounts.".into(),
            ));
        }
        let ws = ctx.workspace_id();
        let account = social_account::Entity::find_by_id(account_id)
            .filter(social_account::Column::WorkspaceId.eq(ws.0))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let platform = Platform::parse(&account.platform)
            .map_err(|_| anyhow::anyhow!("account {account_id} has an unknown platform"))?;
        // Revoke first (outside any transaction); tokens that cannot be opened (a lost master
        // key) are still deleted below.
        let sharing = self.sharing_authorisation(&account, &[]).await?;
        let revocation = self.revoke_at_platform(&account, sharing).await;
        let txn = store::begin_write(&self.db).await?;
        store::entities::account_token::Entity::delete_by_id(account.id)
            .exec(&txn)
            .await?;
        crate::token_refresh::schedule(&txn, SocialAccountId(account.id), ws, None).await?;
        let mut row: social_account::ActiveModel = account.clone().into();
        row.status = Set(AccountStatus::Disconnected);
        row.updated_at = Set(crate::now());
        row.update(&txn).await?;
        crate::analytics::kept::account_changed(&txn, account.id).await?;
        let held = crate::publishing::hold_for_disconnected(&txn, &account).await?;
        activity::record(
            &txn,
            ws,
            Some(actor),
            activity::Entry {
                action: "account.disconnected",
                object_type: "account",
                object_id: Some(account.id),
                summary: format!(
                    "disconnected {platform} @{} ({}; {} wait for it or for an edit)",
                    account.username,
                    match &revocation {
                        Revocation::Revoked => "access revoked at the platform".to_owned(),
                        Revocation::NotOffered => "nothing to revoke at the platform".to_owned(),
                        Revocation::Failed(why) =>
                            format!("the platform did not confirm the revocation: {why}"),
                        Revocation::Shared(n) => format!(
                            "the authorisation was kept: {} share it",
                            domain::counted(
                                *n,
                                "other connected account",
                                "other connected accounts"
                            )
                        ),
                    },
                    domain::counted(held, "scheduled post", "scheduled posts")
                ),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(revocation)
    }

    /// How many other connected accounts, outside `leaving`, share `account`'s authorisation
    /// (pages of one Facebook login): revoking it would cut them off too.
    pub(crate) async fn sharing_authorisation(
        &self,
        account: &social_account::Model,
        leaving: &[i64],
    ) -> Result<usize> {
        let Some(person) = &account.authorized_by else {
            return Ok(0);
        };
        let n = social_account::Entity::find()
            .filter(social_account::Column::Platform.eq(account.platform.as_str()))
            .filter(social_account::Column::AuthorizedBy.eq(person.as_str()))
            .filter(social_account::Column::Id.ne(account.id))
            .filter(social_account::Column::Id.is_not_in(leaving.iter().copied()))
            .filter(social_account::Column::Status.ne(AccountStatus::Disconnected))
            .count(&self.db)
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Revokes `account`'s tokens at its platform where the platform offers it (the refresh
    /// token, then the access token), unless `sharing` other accounts still use the same
    /// authorisation. Best effort: the outcome is reported, never an error.
    pub(crate) async fn revoke_at_platform(
        &self,
        account: &social_account::Model,
        sharing: usize,
    ) -> Revocation {
        if sharing > 0 {
            return Revocation::Shared(sharing);
        }
        let Ok(platform) = Platform::parse(&account.platform) else {
            return Revocation::NotOffered;
        };
        let tokens = self
            .tokens_of(SocialAccountId(account.id))
            .await
            .unwrap_or_default();
        match (tokens, self.connectors.get(platform)) {
            (Some(tokens), Some(connector)) => {
                match connector
                    .revoke(&tokens.access, tokens.refresh.as_ref())
                    .await
                {
                    Ok(Revoked::Confirmed) => Revocation::Revoked,
                    Ok(Revoked::NotOffered) => Revocation::NotOffered,
                    Err(err) => Revocation::Failed(err.to_string()),
                }
            }
            _ => Revocation::NotOffered,
        }
    }

    /// The accounts `user_id` disconnected, newest first, with what the platform did (the
    /// activity log's record of each): (when, workspace id, what happened).
    pub async fn disconnections_by(
        &self,
        user_id: UserId,
    ) -> Result<Vec<store::entities::activity::Model>> {
        use sea_orm::QueryOrder;
        use store::entities::activity;
        Ok(activity::Entity::find()
            .filter(activity::Column::ActorUserId.eq(user_id.0))
            .filter(activity::Column::Action.eq("account.disconnected"))
            .order_by_desc(activity::Column::Id)
            .all(&self.db)
            .await?)
    }
}
