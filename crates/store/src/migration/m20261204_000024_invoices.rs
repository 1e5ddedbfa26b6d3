//! Invoices: one per completed payment, numbered without gaps from the single row of
//! `invoice_counter`; what each says (seller, buyer, amounts) is copied in when it is issued.
//! A workspace's billing details, as an owner entered them. Both go with their workspace; the
//! legal record each invoice writes (`legal_records`) stays.

use super::refs::{Users, Workspaces};
use super::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, string, string_null, text, timestamp_with_time_zone,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000024_invoices"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum InvoiceCounter {
    Table,
    Id,
    LastNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invoices {
    Table,
    Id,
    WorkspaceId,
    Seq,
    Number,
    IssuedAt,
    PaypalSaleId,
    PaidAt,
    Description,
    Currency,
    NetMinor,
    TaxMinor,
    GrossMinor,
    TaxRateBp,
    TaxName,
    SellerName,
    SellerAddress,
    SellerCountry,
    SellerVatId,
    BuyerName,
    BuyerAddress,
    BuyerCountry,
    BuyerVatId,
}

#[derive(DeriveIden, Clone, Copy)]
enum BillingDetails {
    Table,
    Id,
    WorkspaceId,
    Name,
    Address,
    Country,
    VatId,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InvoiceCounter::Table)
                    .col(
                        ColumnDef::new(InvoiceCounter::Id)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(big_integer(InvoiceCounter::LastNumber))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(InvoiceCounter::Table)
                    .columns([InvoiceCounter::Id, InvoiceCounter::LastNumber])
                    .values([1.into(), 0.into()])
                    .map_err(|e| DbErr::Migration(e.to_string()))?
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(big_pk_auto(Invoices::Id))
                    .col(big_integer(Invoices::WorkspaceId))
                    .col(big_integer(Invoices::Seq))
                    .col(string(Invoices::Number))
                    .col(timestamp_with_time_zone(Invoices::IssuedAt))
                    .col(string(Invoices::PaypalSaleId))
                    .col(timestamp_with_time_zone(Invoices::PaidAt))
                    .col(text(Invoices::Description))
                    .col(string(Invoices::Currency))
                    .col(big_integer(Invoices::NetMinor))
                    .col(big_integer(Invoices::TaxMinor))
                    .col(big_integer(Invoices::GrossMinor))
                    .col(big_integer_null(Invoices::TaxRateBp))
                    .col(string(Invoices::TaxName))
                    .col(text(Invoices::SellerName))
                    .col(text(Invoices::SellerAddress))
                    .col(string(Invoices::SellerCountry))
                    .col(string_null(Invoices::SellerVatId))
                    .col(text(Invoices::BuyerName))
                    .col(text(Invoices::BuyerAddress))
                    .col(string_null(Invoices::BuyerCountry))
                    .col(string_null(Invoices::BuyerVatId))
                    .foreign_key(&mut fk(
                        "fk_invoices_workspace",
                        (Invoices::Table, Invoices::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("uq_invoices_seq", Invoices::Seq),
            ("uq_invoices_number", Invoices::Number),
            ("uq_invoices_paypal_sale_id", Invoices::PaypalSaleId),
        ] {
            manager
                .create_index(index(name, Invoices::Table, &[col]).unique().to_owned())
                .await?;
        }
        manager
            .create_index(
                index(
                    "ix_invoices_workspace",
                    Invoices::Table,
                    &[Invoices::WorkspaceId],
                )
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BillingDetails::Table)
                    .col(big_pk_auto(BillingDetails::Id))
                    .col(big_integer(BillingDetails::WorkspaceId))
                    .col(text(BillingDetails::Name))
                    .col(text(BillingDetails::Address))
                    .col(string(BillingDetails::Country))
                    .col(string_null(BillingDetails::VatId))
                    .col(big_integer_null(BillingDetails::UpdatedBy))
                    .col(timestamp_with_time_zone(BillingDetails::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_billing_details_workspace",
                        (BillingDetails::Table, BillingDetails::WorkspaceId),
                        (Workspaces::Table, Workspaces::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_billing_details_updated_by",
                        (BillingDetails::Table, BillingDetails::UpdatedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_billing_details_workspace",
                    BillingDetails::Table,
                    &[BillingDetails::WorkspaceId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        Ok(())
    }
}
