//! Invoices: one per completed PayPal payment, numbered without gaps across the instance.
//!
//! The number comes from the single row of `invoice_counter`, counted up inside the transaction
//! that writes the invoice: the row's lock makes two payments at the same instant wait for each
//! other (on PostgreSQL; SQLite has one writer), so they get consecutive numbers, and a
//! transaction that fails gives its number back with everything else. A payment already
//! invoiced (PayPal's sale id is unique) is answered with its invoice, so a webhook delivered
//! twice makes one.
//!
//! What an invoice says is fixed when it is issued: the seller's details from the configuration
//! (`[billing.seller]`), the buyer's from the workspace's billing details as an owner entered
//! them (the workspace's name when there are none), and net, tax and gross when a tax rate is
//! configured (PayPal's amount is the gross). Each invoice also writes its legal record (number,
//! date, amount, currency, country), which stays for `retention.legal_days` after the account
//! and its invoices are deleted.

use crate::pdf::{self, Line};
use crate::workspaces::Membership;
use crate::{Result, ServiceError, Services};
use chrono::{DateTime, Utc};
use domain::{Role, WorkspaceId};
use providers::billing::Money;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use store::entities::{billing_details, invoice, invoice_counter, legal_record, workspace};

/// A completed payment, as PayPal's sale reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// PayPal's sale id.
    pub sale_id: String,
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
}

/// A workspace's billing details, as an owner entered them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub name: String,
    pub address: String,
    pub country: String,
    pub vat_id: Option<String>,
}

impl Details {
    /// Checks what an owner typed: a name and an address, a two-letter country, an optional VAT
    /// id of letters and digits.
    pub fn parse(name: &str, address: &str, country: &str, vat_id: &str) -> Result<Details> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push((
                "name".to_owned(),
                "Enter the name to bill, up to 200 characters.".to_owned(),
            ));
        }
        let address = address.trim().replace("\r\n", "\n");
        if address.is_empty() || address.chars().count() > 500 {
            errors.push((
                "address".to_owned(),
                "Enter the billing address, up to 500 characters.".to_owned(),
            ));
        }
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            errors.push((
                "country".to_owned(),
                "Enter the country as two letters, such as DE or US.".to_owned(),
            ));
        }
        let vat: String = vat_id
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if vat.len() > 20 || !vat.bytes().all(|b| b.is_ascii_alphanumeric()) {
            errors.push((
                "vat_id".to_owned(),
                "A VAT id is letters and digits, up to 20 (leave it empty if there is none)."
                    .to_owned(),
            ));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Fields(errors));
        }
        Ok(Details {
            name: name.to_owned(),
            address,
            country,
            vat_id: (!vat.is_empty()).then_some(vat),
        })
    }
}

/// Net and tax of a gross amount at `rate_bp` hundredths of a percent (rounded to the cent;
/// net + tax = gross always).
pub fn split_gross(gross: i64, rate_bp: Option<u32>) -> (i64, i64) {
    match rate_bp {
        Some(bp) if bp > 0 => {
            let bp = i128::from(bp);
            let gross128 = i128::from(gross);
            // Rounded half away from zero.
            let net = (gross128 * 10_000 * 2 + (10_000 + bp)) / ((10_000 + bp) * 2);
            let net = i64::try_from(net).unwrap_or(gross);
            (net, gross - net)
        }
        _ => (gross, 0),
    }
}

fn can_see_invoices(m: &Membership) -> Result<()> {
    if matches!(m.role, Role::Owner | Role::Admin) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only the workspace's owners and admins can see its invoices.".into(),
        ))
    }
}

impl Services {
    /// The workspace's billing details, if an owner entered them.
    pub async fn billing_details(&self, ws: WorkspaceId) -> Result<Option<Details>> {
        let row = billing_details::Entity::find()
            .filter(billing_details::Column::WorkspaceId.eq(ws.0))
            .one(&self.db)
            .await?;
        Ok(row.map(|r| Details {
            name: r.name,
            address: r.address,
            country: r.country,
            vat_id: r.vat_id,
        }))
    }

    /// Saves the billing details an owner entered (for the invoices from now on).
    pub async fn save_billing_details(
        &self,
        m: &Membership,
        user: domain::UserId,
        details: &Details,
    ) -> Result<()> {
        if m.role != Role::Owner {
            return Err(ServiceError::Forbidden(
                "Only the workspace's owners can change its billing details.".into(),
            ));
        }
        let now = crate::now();
        billing_details::Entity::insert(billing_details::ActiveModel {
            workspace_id: Set(m.workspace.id),
            name: Set(details.name.clone()),
            address: Set(details.address.clone()),
            country: Set(details.country.clone()),
            vat_id: Set(details.vat_id.clone()),
            updated_by: Set(Some(user.0)),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(billing_details::Column::WorkspaceId)
                .update_columns([
                    billing_details::Column::Name,
                    billing_details::Column::Address,
                    billing_details::Column::Country,
                    billing_details::Column::VatId,
                    billing_details::Column::UpdatedBy,
                    billing_details::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// The invoice of a completed payment on the subscription of workspace `ws`: issued now,
    /// or the one issued before for the same payment.
    pub async fn invoice_payment(
        &self,
        ws: WorkspaceId,
        description: &str,
        payment: &Payment,
    ) -> Result<invoice::Model> {
        let paypal = self.paypal()?;
        let seller = &paypal.seller;
        let txn = store::begin_write(&self.db).await?;
        // The counter's row lock orders concurrent payments (and two deliveries of one): taken
        // first, so that the check below sees what the one before committed. Its number is
        // this invoice's; returning without committing gives it back.
        invoice_counter::Entity::update_many()
            .col_expr(
                invoice_counter::Column::LastNumber,
                Expr::col(invoice_counter::Column::LastNumber).add(1),
            )
            .filter(invoice_counter::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        if let Some(issued) = invoice::Entity::find()
            .filter(invoice::Column::PaypalSaleId.eq(payment.sale_id.as_str()))
            .one(&txn)
            .await?
        {
            txn.rollback().await?;
            return Ok(issued);
        }
        let seq: i64 = invoice_counter::Entity::find_by_id(1)
            .select_only()
            .column(invoice_counter::Column::LastNumber)
            .into_tuple()
            .one(&txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the invoice counter's row is missing"))?;
        let buyer = match billing_details::Entity::find()
            .filter(billing_details::Column::WorkspaceId.eq(ws.0))
            .one(&txn)
            .await?
        {
            Some(d) => Details {
                name: d.name,
                address: d.address,
                country: d.country,
                vat_id: d.vat_id,
            },
            None => {
                let name: Option<String> = workspace::Entity::find_by_id(ws.0)
                    .select_only()
                    .column(workspace::Column::Name)
                    .into_tuple()
                    .one(&txn)
                    .await?;
                Details {
                    name: name.unwrap_or_default(),
                    ..Details::default()
                }
            }
        };
        let (net, tax) = split_gross(payment.amount.cents, seller.tax_rate_bp);
        let number = format!("{}{seq:06}", seller.prefix);
        let now = crate::now();
        let saved = invoice::ActiveModel {
            workspace_id: Set(ws.0),
            seq: Set(seq),
            number: Set(number.clone()),
            issued_at: Set(now),
            paypal_sale_id: Set(payment.sale_id.clone()),
            paid_at: Set(payment.paid_at),
            description: Set(description.to_owned()),
            currency: Set(payment.amount.currency.clone()),
            net_minor: Set(net),
            tax_minor: Set(tax),
            gross_minor: Set(payment.amount.cents),
            tax_rate_bp: Set(seller.tax_rate_bp.map(i64::from)),
            tax_name: Set(seller.tax_name.clone()),
            seller_name: Set(seller.name.clone()),
            seller_address: Set(seller.address.clone()),
            seller_country: Set(seller.country.clone()),
            seller_vat_id: Set(seller.vat_id.clone()),
            buyer_name: Set(buyer.name.clone()),
            buyer_address: Set(buyer.address.clone()),
            buyer_country: Set((!buyer.country.is_empty()).then(|| buyer.country.clone())),
            buyer_vat_id: Set(buyer.vat_id.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let country = if buyer.country.is_empty() {
            seller.country.clone()
        } else {
            buyer.country
        };
        let issued = now.date_naive();
        legal_record::ActiveModel {
            invoice_number: Set(number.clone()),
            issue_date: Set(issued),
            amount_minor: Set(payment.amount.cents),
            currency: Set(payment.amount.currency.clone()),
            country: Set(country),
            keep_until: Set(issued
                .checked_add_days(chrono::Days::new(u64::from(self.retention.legal_days)))
                .unwrap_or(issued)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        tracing::info!(workspace = ws.0, invoice = %number, "invoice issued");
        Ok(saved)
    }

    /// The workspace's invoices, newest first (owners and admins).
    pub async fn invoices(&self, m: &Membership) -> Result<Vec<invoice::Model>> {
        can_see_invoices(m)?;
        Ok(invoice::Entity::find()
            .filter(invoice::Column::WorkspaceId.eq(m.workspace.id))
            .order_by_desc(invoice::Column::Seq)
            .all(&self.db)
            .await?)
    }

    /// One invoice of the workspace as a PDF: its number and the document.
    pub async fn invoice_pdf(&self, m: &Membership, id: i64) -> Result<(String, Vec<u8>)> {
        can_see_invoices(m)?;
        let row = invoice::Entity::find_by_id(id)
            .filter(invoice::Column::WorkspaceId.eq(m.workspace.id))
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let document = pdf::render(&format!("Invoice {}", row.number), &page_of(&row))
            .map_err(anyhow::Error::from)?;
        Ok((row.number, document))
    }
}

/// `1234` `USD` → `12.34 USD`.
fn amount(minor: i64, currency: &str) -> String {
    format!("{} {currency}", Money::decimal(minor))
}

/// What the invoice's page says, top to bottom.
fn page_of(row: &invoice::Model) -> Vec<pdf::Row> {
    let day = |t: DateTime<Utc>| t.format("%-d %B %Y").to_string();
    let party =
        |label: &str, name: &str, address: &str, country: Option<&str>, vat: Option<&str>| {
            let mut text = name.to_owned();
            if !address.is_empty() {
                text.push('\n');
                text.push_str(address);
            }
            if let Some(country) = country {
                text.push('\n');
                text.push_str(country);
            }
            if let Some(vat) = vat {
                text.push_str(&format!("\nVAT id: {vat}"));
            }
            vec![
                Line::text(label).size(9.0).gap(14.0),
                Line::text(text).indent(80.0).gap(14.0),
            ]
        };
    let mut rows = vec![
        vec![Line::text("Invoice").size(22.0)],
        vec![Line::text(format!("Invoice number: {}", row.number)).gap(10.0)],
        vec![Line::text(format!("Date of issue: {}", day(row.issued_at)))],
        party(
            "From",
            &row.seller_name,
            &row.seller_address,
            Some(&row.seller_country),
            row.seller_vat_id.as_deref(),
        ),
        party(
            "Bill to",
            &row.buyer_name,
            &row.buyer_address,
            row.buyer_country.as_deref(),
            row.buyer_vat_id.as_deref(),
        ),
        vec![
            Line::text(row.description.clone()).gap(24.0),
            Line::text(amount(row.net_minor, &row.currency))
                .right()
                .gap(24.0),
        ],
    ];
    if let Some(bp) = row.tax_rate_bp {
        let percent = format!("{}.{:02}", bp / 100, bp % 100);
        let percent = percent.trim_end_matches('0').trim_end_matches('.');
        rows.push(vec![
            Line::text("Net").gap(12.0),
            Line::text(amount(row.net_minor, &row.currency))
                .right()
                .gap(12.0),
        ]);
        rows.push(vec![
            Line::text(format!("{} {percent}%", row.tax_name)),
            Line::text(amount(row.tax_minor, &row.currency)).right(),
        ]);
    }
    rows.push(vec![
        Line::text("Total").size(12.0).gap(8.0),
        Line::text(amount(row.gross_minor, &row.currency))
            .size(12.0)
            .right()
            .gap(8.0),
    ]);
    rows.push(vec![
        Line::text(format!(
            "Paid on {} through PayPal (transaction {}).",
            day(row.paid_at),
            row.paypal_sale_id
        ))
        .size(9.0)
        .gap(24.0),
    ]);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_and_tax_add_up_to_the_gross() {
        assert_eq!(split_gross(2_900, None), (2_900, 0));
        assert_eq!(split_gross(2_900, Some(1_900)), (2_437, 463));
        assert_eq!(split_gross(6_900, Some(2_000)), (5_750, 1_150));
        for gross in [1, 99, 2_900, 69_000] {
            for bp in [500, 700, 1_900, 2_100, 2_500] {
                let (net, tax) = split_gross(gross, Some(bp));
                assert_eq!(net + tax, gross);
                assert!(tax >= 0 && net > 0);
            }
        }
    }

    #[test]
    fn billing_details_are_checked() {
        let ok = Details::parse(
            " Acme GmbH ",
            "Hauptstr. 1\r\n10115 Berlin",
            "de",
            "de 123 456 789",
        )
        .unwrap_or_default();
        assert_eq!(ok.country, "DE");
        assert_eq!(ok.vat_id.as_deref(), Some("DE123456789"));
        assert_eq!(ok.address, "Hauptstr. 1\n10115 Berlin");
        match Details::parse("", "", "Germany", "DE-1") {
            Err(ServiceError::Fields(f)) => assert_eq!(f.len(), 4),
            other => panic!("{other:?}"),
        }
    }
}
