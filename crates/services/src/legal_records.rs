//! Legal records: what tax law requires of each invoice (number, issue date, amount, currency,
//! country), kept detached from the person for the configured legal period and then deleted.
//!
//! Billing records one per invoice; nothing here names a person, an address, an account or a
//! workspace, so deleting an account leaves these rows, and no row can be matched to anyone.

use crate::{Result, ServiceError, Services};
use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use store::entities::legal_record;

/// An invoice number: 1 to 64 visible characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNumber(String);

impl InvoiceNumber {
    pub fn parse(raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 64 {
            return Err(ServiceError::invalid(
                "invoice_number",
                "An invoice number has 1 to 64 characters.",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "invoice_number",
                "An invoice number cannot contain control characters.",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Exactly `n` ASCII letters, upper-cased.
fn letters(raw: &str, n: usize, field: &'static str, what: &str) -> Result<String> {
    let code = raw.trim();
    if code.len() != n || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ServiceError::invalid(
            field,
            format!("{what} is written as {n} letters."),
        ));
    }
    Ok(code.to_ascii_uppercase())
}

/// An ISO 4217 currency code (`EUR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self> {
        letters(raw, 3, "currency", "A currency (like EUR)").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 3166-1 alpha-2 country code (`DE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country(String);

impl Country {
    pub fn parse(raw: &str) -> Result<Self> {
        letters(raw, 2, "country", "A country (like DE)").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One invoice's legal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLegalRecord {
    pub invoice_number: InvoiceNumber,
    pub issue_date: NaiveDate,
    /// In the currency's minor unit; negative for a credit note.
    pub amount_minor: i64,
    pub currency: Currency,
    pub country: Country,
}

impl Services {
    /// Records an invoice for the legal period (`retention.legal_days` from its issue date).
    /// Recording the same invoice again returns the row already kept; the same number with
    /// other values is refused.
    pub async fn record_legal_record(&self, record: NewLegalRecord) -> Result<legal_record::Model> {
        let keep_until = record
            .issue_date
            .checked_add_days(chrono::Days::new(u64::from(self.retention.legal_days)))
            .ok_or_else(|| {
                ServiceError::invalid("issue_date", "The issue date is out of range.")
            })?;
        let row = legal_record::ActiveModel {
            invoice_number: Set(record.invoice_number.as_str().to_owned()),
            issue_date: Set(record.issue_date),
            amount_minor: Set(record.amount_minor),
            currency: Set(record.currency.as_str().to_owned()),
            country: Set(record.country.as_str().to_owned()),
            keep_until: Set(keep_until),
            created_at: Set(crate::now()),
            ..Default::default()
        };
        match row.insert(&self.db).await {
            Ok(saved) => Ok(saved),
            Err(err) if store::is_unique_violation(&err) => {
                let kept = legal_record::Entity::find()
                    .filter(legal_record::Column::InvoiceNumber.eq(record.invoice_number.as_str()))
                    .one(&self.db)
                    .await?
                    .ok_or_else(|| ServiceError::from(err))?;
                let same = kept.issue_date == record.issue_date
                    && kept.amount_minor == record.amount_minor
                    && kept.currency == record.currency.as_str()
                    && kept.country == record.country.as_str();
                if same {
                    Ok(kept)
                } else {
                    Err(ServiceError::invalid(
                        "invoice_number",
                        format!(
                            "Invoice {} is already recorded with other values.",
                            kept.invoice_number
                        ),
                    ))
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes the legal records whose period ended before `today`; returns how many.
    pub async fn purge_legal_records(&self, today: NaiveDate) -> Result<u64> {
        let res = legal_record::Entity::delete_many()
            .filter(legal_record::Column::KeepUntil.lt(today))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_and_upper_cased() {
        assert_eq!(Currency::parse(" eur ").unwrap().as_str(), "EUR");
        assert_eq!(Country::parse("de").unwrap().as_str(), "DE");
        for bad in ["", "EU", "EURO", "E1R", "€€€"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "D", "DEU", "D3"] {
            assert!(Country::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invoice_numbers_are_bounded() {
        assert_eq!(
            InvoiceNumber::parse(" INV-2026-0001 ").unwrap().as_str(),
            "INV-2026-0001"
        );
        assert!(InvoiceNumber::parse("   ").is_err());
        assert!(InvoiceNumber::parse(&"9".repeat(65)).is_err());
        assert!(InvoiceNumber::parse("INV\n1").is_err());
    }
}
