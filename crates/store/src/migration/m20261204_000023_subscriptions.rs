//! PayPal subscriptions: the catalogue ids `admin billing sync` created at PayPal (the product,
//! a plan per plan and interval, the webhook registration), one row per checkout a workspace
//! owner started, and the webhook events already handled (each event id once).
//!
//! A subscription row goes with its workspace; the workspace's deletion first queues the
//! cancellation at PayPal (a job that carries only PayPal's subscription id). The events keep
//! PayPal's ids and types only, never the body (which names the payer).

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string, string_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000023_subscriptions"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum BillingCatalogue {
    Table,
    Id,
    /// `product`, `plan` or `webhook`.
    Kind,
    Plan,
    Interval,
    PriceCents,
    Currency,
    /// PayPal's id (`PROD-…`, `P-…`, the webhook's id).
    PaypalId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Subscriptions {
    Table,
    Id,
    WorkspaceId,
    StartedBy,
    RequestId,
    PaypalId,
    ApproveUrl,
    Plan,
    Interval,
    Status,
    PaidUntil,
    PaymentFailedAt,
    EndsAt,
    ChangeTo,
    ChangeInterval,
    ChangeFrom,
    ChangeApproved,
    PaypalUpdatedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BillingEvents {
    Table,
    Id,
    EventId,
    EventType,
    ResourceId,
    TransmissionId,
    Outcome,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BillingCatalogue::Table)
                    .col(big_pk_auto(BillingCatalogue::Id))
                    .col(string(BillingCatalogue::Kind))
                    .col(string_null(BillingCatalogue::Plan))
                    .col(string_null(BillingCatalogue::Interval))
                    .col(big_integer_null(BillingCatalogue::PriceCents))
                    .col(string_null(BillingCatalogue::Currency))
                    .col(string(BillingCatalogue::PaypalId))
                    .col(timestamp_with_time_zone(BillingCatalogue::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_billing_catalogue_paypal_id",
                    BillingCatalogue::Table,
                    &[BillingCatalogue::PaypalId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(big_pk_auto(Subscriptions::Id))
                    .col(big_integer(Subscriptions::WorkspaceId))
                    .col(big_integer_null(Subscriptions::StartedBy))
                    .col(string(Subscriptions::RequestId))
                    .col(string_null(Subscriptions::PaypalId))
                    .col(string_null(Subscriptions::ApproveUrl))
                    .col(string(Subscriptions::Plan))
                    .col(string(Subscriptions::Interval))
                    .col(string(Subscriptions::Status))
                    .col(timestamp_with_time_zone_null(Subscriptions::PaidUntil))
                    .col(timestamp_with_time_zone_null(
                        Subscriptions::PaymentFailedAt,
                    ))
                    .col(timestamp_with_time_zone_null(Subscriptions::EndsAt))
                    .col(string_null(Subscriptions::ChangeTo))
                    .col(string_null(Subscriptions::ChangeInterval))
                    .col(timestamp_with_time_zone_null(Subscriptions::ChangeFrom))
                    .col(boolean(Subscriptions::ChangeApproved).default(false))
                    .col(timestamp_with_time_zone_null(
                        Subscriptions::PaypalUpdatedAt,
                    ))
                    .col(timestamp_with_time_zone(Subscriptions::CreatedAt))
                    .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_subscriptions_workspace",
                        (Subscriptions::Table, Subscriptions::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_subscriptions_started_by",
                        (Subscriptions::Table, Subscriptions::StartedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("uq_subscriptions_request_id", Subscriptions::RequestId),
            ("uq_subscriptions_paypal_id", Subscriptions::PaypalId),
        ] {
            manager
                .create_index(
                    index(name, Subscriptions::Table, &[col])
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                index(
                    "ix_subscriptions_workspace",
                    Subscriptions::Table,
                    &[Subscriptions::WorkspaceId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BillingEvents::Table)
                    .col(big_pk_auto(BillingEvents::Id))
                    .col(string(BillingEvents::EventId))
                    .col(string(BillingEvents::EventType))
                    .col(string_null(BillingEvents::ResourceId))
                    .col(string(BillingEvents::TransmissionId))
                    .col(string(BillingEvents::Outcome))
                    .col(timestamp_with_time_zone(BillingEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_billing_events_event_id",
                    BillingEvents::Table,
                    &[BillingEvents::EventId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}
