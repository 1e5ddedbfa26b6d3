//! How this instance sells through PayPal: the adapter, the webhooks' verifier and the terms
//! (currency, grace period, seller), built from the configuration. It imports nothing else of
//! this crate, so that `plans` can hold it without importing billing's workings.

use providers::billing::paypal::PayPal;
use providers::billing::webhook::Verifier;
use std::sync::Arc;

/// PayPal, as this instance is set up to use it.
pub struct PayPalBilling {
    pub api: Arc<PayPal>,
    pub verifier: Verifier,
    /// The currency plans are priced in (`USD`).
    pub currency: String,
    /// How long a workspace keeps its plan after a payment fails.
    pub grace: chrono::Duration,
    /// Failed payments in a row before PayPal suspends a subscription (set on the plans).
    pub failure_threshold: u32,
    /// The name PayPal shows the payer.
    pub brand_name: String,
    /// Who sells, for the invoices.
    pub seller: Seller,
    /// The webhook id from the configuration; without one, the id `sync` registered.
    pub webhook_id: Option<String>,
    /// The origin of PayPal's approval pages, where the checkout form's redirect leads (the
    /// pages' form-action rule must allow it).
    pub approve_origin: String,
}

impl std::fmt::Debug for PayPalBilling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalBilling")
            .field("api", &self.api.api_base())
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// Who sells: printed on every invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    /// Several lines.
    pub address: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub vat_id: Option<String>,
    /// In hundredths of a percent (1900 = 19 %); `None`: no tax is shown.
    pub tax_rate_bp: Option<u32>,
    /// What the tax is called on the invoice (`VAT`).
    pub tax_name: String,
    /// Before the number (`INV-`).
    pub prefix: String,
}
