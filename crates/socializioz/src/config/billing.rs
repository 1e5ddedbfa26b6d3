//! `[billing]`: plans on or off, and the operator's changes to the published plans.
//!
//! ```toml
//! [billing]                      # present: limits are enforced, plans assigned by the operator
//! [billing.plans.starter]        # any plan: free, starter, professional, enterprise
//! monthly_price = "29.00"        # US dollars
//! yearly_price = "290.00"
//! posts_per_month = 150          # a number, or "unlimited"
//! storage_mb = 4000
//! ai_tokens_per_month = 1000000  # the AI assistant's and agent's monthly token budget
//! platforms = ["facebook", "instagram", "linkedin"]
//! features = ["agent_chat", "scheduling", "media_library", "mcp", "ai_captions"]
//!
//! [billing.paypal]               # present: owners buy plans through PayPal Subscriptions
//! client_id = "…"
//! client_secret = "…"
//! environment = "live"           # or "sandbox" (PayPal's), or api_base = "https://…"
//! currency = "USD"
//! grace_days = 7                 # after a failed payment, before the workspace is on Free
//! failure_threshold = 3          # failed payments in a row before PayPal suspends
//! webhook_max_age_seconds = 900  # older deliveries are refused
//! cert_origins = ["https://*.paypal.com"]   # where webhook certificates may come from
//! trust_roots = "/etc/ssl/paypal-roots.pem" # default: the Mozilla roots browsers trust
//! webhook_id = "…"               # default: the one `admin billing sync` registered
//! ```
//!
//! With `serve --sandbox` and a `[billing]` section but no `[billing.paypal]`, PayPal is the
//! built-in simulator.

use super::ConfigError;
use domain::Platform;
use domain::plans::{Catalogue, Feature, Limit, PlanId};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct BillingSettings {
    /// Changes to the published plans, by plan slug.
    pub plans: BTreeMap<String, PlanOverride>,
    /// Selling the plans through PayPal.
    pub paypal: Option<PayPalSettings>,
    /// Who sells, printed on the invoices (required with PayPal).
    pub seller: Option<SellerSettings>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerSettings {
    pub name: String,
    /// Several lines.
    pub address: String,
    /// Two letters (`DE`).
    pub country: String,
    pub vat_id: Option<String>,
    /// A percentage such as `"19"` or `"7.5"`: prices are gross, the invoice shows net and tax.
    pub tax_rate: Option<String>,
    #[serde(default = "vat")]
    pub tax_name: String,
    #[serde(default = "inv")]
    pub invoice_prefix: String,
}

fn vat() -> String {
    "VAT".into()
}
fn inv() -> String {
    "INV-".into()
}

impl SellerSettings {
    pub fn seller(&self) -> Result<services::billing::Seller, ConfigError> {
        let bad = |what: &str| ConfigError(format!("billing.seller.{what}"));
        if self.name.trim().is_empty() || self.address.trim().is_empty() {
            return Err(bad("name and address: both are printed on every invoice"));
        }
        let country = self.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad("country: two letters, such as \"DE\""));
        }
        let prefix = self.invoice_prefix.trim();
        if prefix.len() > 16 || prefix.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("invoice_prefix: up to 16 characters without spaces"));
        }
        let tax_rate_bp = match &self.tax_rate {
            None => None,
            Some(raw) => {
                let bp = services::billing::Money::parse(raw.trim().trim_end_matches('%'), "XXX")
                    .and_then(|m| u32::try_from(m.cents).ok())
                    .filter(|bp| *bp < 10_000)
                    .ok_or_else(|| bad("tax_rate: a percentage such as \"19\" or \"7.5\""))?;
                Some(bp)
            }
        };
        Ok(services::billing::Seller {
            name: self.name.trim().to_owned(),
            address: self.address.trim().to_owned(),
            country,
            vat_id: self.vat_id.clone().filter(|v| !v.trim().is_empty()),
            tax_rate_bp,
            tax_name: self.tax_name.trim().to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

/// The seller printed on the sandbox's invoices.
pub fn sandbox_seller() -> services::billing::Seller {
    services::billing::Seller {
        name: "Socializioz sandbox (no real sale)".to_owned(),
        address: "This invoice is a sample from the sandbox".to_owned(),
        country: "US".to_owned(),
        vat_id: None,
        tax_rate_bp: None,
        tax_name: "Tax".to_owned(),
        prefix: "SANDBOX-".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayPalSettings {
    pub client_id: String,
    pub client_secret: secrecy::SecretString,
    /// `live` or `sandbox`.
    #[serde(default = "live")]
    pub environment: String,
    /// Overrides `environment` (the simulator: `http://127.0.0.1:4000/paypal`).
    pub api_base: Option<String>,
    #[serde(default = "usd")]
    pub currency: String,
    #[serde(default = "seven")]
    pub grace_days: u32,
    #[serde(default = "three")]
    pub failure_threshold: u32,
    #[serde(default = "fifteen_minutes")]
    pub webhook_max_age_seconds: u64,
    #[serde(default = "paypal_origins")]
    pub cert_origins: Vec<String>,
    /// The names PayPal's signing certificates are issued to.
    #[serde(default = "paypal_names")]
    pub cert_names: Vec<String>,
    /// A PEM file of the roots webhook certificates must lead to.
    pub trust_roots: Option<std::path::PathBuf>,
    pub webhook_id: Option<String>,
    /// The name PayPal shows the payer (default: Socializioz).
    pub brand_name: Option<String>,
}

fn live() -> String {
    "live".into()
}
fn usd() -> String {
    "USD".into()
}
fn seven() -> u32 {
    7
}
fn three() -> u32 {
    3
}
fn fifteen_minutes() -> u64 {
    900
}
fn paypal_names() -> Vec<String> {
    providers::billing::webhook::PAYPAL_CERT_NAMES
        .iter()
        .map(|n| (*n).to_owned())
        .collect()
}
fn paypal_origins() -> Vec<String> {
    providers::billing::webhook::PAYPAL_CERT_ORIGINS
        .iter()
        .map(|o| (*o).to_owned())
        .collect()
}

impl PayPalSettings {
    /// The settings of the sandbox's PayPal: the simulator at `api` (loopback), trusting only
    /// the simulator's own root (given to [`PayPalSettings::build_with_roots`]).
    pub fn simulated(api: &str) -> PayPalSettings {
        PayPalSettings {
            client_id: "socializioz-sandbox".to_owned(),
            client_secret: sim::paypal::PAYPAL_SECRET.to_owned().into(),
            environment: "sandbox".to_owned(),
            api_base: Some(format!("{api}/paypal")),
            currency: usd(),
            grace_days: seven(),
            failure_threshold: three(),
            webhook_max_age_seconds: fifteen_minutes(),
            cert_origins: vec![format!("{api}/paypal")],
            cert_names: paypal_names(),
            trust_roots: None,
            webhook_id: None,
            brand_name: Some("Socializioz (sandbox)".to_owned()),
        }
    }

    /// PayPal as configured, with the trust roots of `trust_roots` (a PEM file) when set.
    pub fn build(
        &self,
        seller: services::billing::Seller,
    ) -> Result<services::billing::PayPalBilling, ConfigError> {
        use providers::billing::webhook::certificates_from_pem;
        let trust_roots = match &self.trust_roots {
            None => None,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    ConfigError(format!(
                        "billing.paypal.trust_roots: could not read {}: {e}",
                        path.display()
                    ))
                })?;
                Some(
                    certificates_from_pem(&pem)
                        .map_err(|e| ConfigError(format!("billing.paypal.trust_roots: {e}")))?,
                )
            }
        };
        self.build_with_roots(seller, trust_roots)
    }

    /// PayPal as configured, trusting `trust_roots` (none: the Mozilla roots).
    pub fn build_with_roots(
        &self,
        seller: services::billing::Seller,
        trust_roots: Option<Vec<providers::billing::webhook::CertificateDer<'static>>>,
    ) -> Result<services::billing::PayPalBilling, ConfigError> {
        use providers::billing::paypal::{LIVE_API, PayPal, PayPalConfig, SANDBOX_API};
        use providers::billing::webhook::{Verifier, VerifierConfig};
        let (api_base, approve_origin) = match (&self.api_base, self.environment.as_str()) {
            (Some(base), _) => (
                base.clone(),
                base.split('/').take(3).collect::<Vec<_>>().join("/"),
            ),
            (None, "live") => (LIVE_API.to_owned(), "https://www.paypal.com".to_owned()),
            (None, "sandbox") => (
                SANDBOX_API.to_owned(),
                "https://www.sandbox.paypal.com".to_owned(),
            ),
            (None, other) => {
                return Err(ConfigError(format!(
                    "billing.paypal.environment: {other:?} is neither \"live\" nor \"sandbox\""
                )));
            }
        };
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ConfigError(
                "billing.paypal.currency: write a currency code such as \"USD\"".into(),
            ));
        }
        if self.grace_days > 90 {
            return Err(ConfigError(
                "billing.paypal.grace_days: at most 90 days".into(),
            ));
        }
        let api = std::sync::Arc::new(PayPal::new(PayPalConfig {
            api_base,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
        }));
        let verifier = Verifier::new(
            VerifierConfig {
                cert_origins: self.cert_origins.clone(),
                cert_names: self.cert_names.clone(),
                trust_roots,
                max_age: std::time::Duration::from_secs(self.webhook_max_age_seconds),
            },
            Some(api.clone()),
        )
        .map_err(|e| ConfigError(format!("billing.paypal: {e}")))?;
        Ok(services::billing::PayPalBilling {
            api,
            verifier,
            currency,
            grace: chrono::Duration::days(i64::from(self.grace_days)),
            failure_threshold: self.failure_threshold.clamp(1, 999),
            brand_name: self
                .brand_name
                .clone()
                .unwrap_or_else(|| "Socializioz".to_owned()),
            seller,
            webhook_id: self.webhook_id.clone(),
            approve_origin,
        })
    }
}

/// A limit: a number, or `"unlimited"`.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum LimitValue {
    Count(u64),
    Word(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PlanOverride {
    pub monthly_price: Option<String>,
    pub yearly_price: Option<String>,
    pub posts_per_month: Option<LimitValue>,
    pub ai_images_per_month: Option<LimitValue>,
    pub ai_videos_per_month: Option<LimitValue>,
    pub ai_reels_per_month: Option<LimitValue>,
    /// Tokens the AI assistant and agent may use per workspace and month.
    pub ai_tokens_per_month: Option<LimitValue>,
    pub social_accounts: Option<LimitValue>,
    pub campaigns: Option<LimitValue>,
    pub storage_mb: Option<LimitValue>,
    pub platforms: Option<Vec<String>>,
    pub features: Option<Vec<String>>,
}

/// "29", "29.5", "29.00" → cents.
fn cents(raw: &str, at: &str) -> Result<u64, ConfigError> {
    services::billing::Money::parse(raw, "USD")
        .and_then(|m| u64::try_from(m.cents).ok())
        .ok_or_else(|| ConfigError(format!("{at}: write a price in dollars, such as \"29.00\"")))
}

fn limit(value: &LimitValue, at: &str) -> Result<Option<u64>, ConfigError> {
    match value {
        LimitValue::Count(n) => Ok(Some(*n)),
        LimitValue::Word(w) if w.trim().eq_ignore_ascii_case("unlimited") => Ok(None),
        LimitValue::Word(_) => Err(ConfigError(format!(
            "{at}: write a number or \"unlimited\""
        ))),
    }
}

impl BillingSettings {
    /// The catalogue: the published plans with the operator's changes.
    pub fn catalogue(&self) -> Result<Catalogue, ConfigError> {
        let mut catalogue = Catalogue::standard();
        for (slug, o) in &self.plans {
            let id = PlanId::parse(slug)
                .map_err(|e| ConfigError(format!("billing.plans.{slug}: {}", e.0)))?;
            let at = |field: &str| format!("billing.plans.{slug}.{field}");
            let mut plan = catalogue.plan(id).clone();
            if let Some(p) = &o.monthly_price {
                plan.monthly_cents = Some(cents(p, &at("monthly_price"))?);
            }
            if let Some(p) = &o.yearly_price {
                plan.yearly_cents = Some(cents(p, &at("yearly_price"))?);
            }
            let limits = [
                (Limit::Posts, &o.posts_per_month, 1),
                (Limit::AiImages, &o.ai_images_per_month, 1),
                (Limit::AiVideos, &o.ai_videos_per_month, 1),
                (Limit::AiReels, &o.ai_reels_per_month, 1),
                (Limit::AiTokens, &o.ai_tokens_per_month, 1),
                (Limit::SocialAccounts, &o.social_accounts, 1),
                (Limit::Campaigns, &o.campaigns, 1),
                (Limit::Storage, &o.storage_mb, 1_000_000),
            ];
            for (which, value, unit) in limits {
                let Some(value) = value else { continue };
                match limit(value, &at(which.key()))? {
                    Some(n) => {
                        plan.limits.insert(which, n.saturating_mul(unit));
                    }
                    None => {
                        plan.limits.remove(&which);
                    }
                }
            }
            if let Some(names) = &o.platforms {
                plan.platforms = names
                    .iter()
                    .map(|n| {
                        Platform::parse(n)
                            .map_err(|e| ConfigError(format!("{}: {}", at("platforms"), e.0)))
                    })
                    .collect::<Result<_, _>>()?;
            }
            if let Some(names) = &o.features {
                plan.features = names
                    .iter()
                    .map(|n| {
                        Feature::parse(n.trim()).ok_or_else(|| {
                            ConfigError(format!("{}: {n:?} is not a feature", at("features")))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            catalogue.set(plan);
        }
        Ok(catalogue)
    }
}

impl super::Settings {
    /// The plans as configured: off without `[billing]`.
    pub fn billing(&self) -> Result<services::plans::Billing, ConfigError> {
        Ok(match &self.billing {
            None => services::plans::Billing::off(),
            Some(b) => match &b.paypal {
                None => services::plans::Billing {
                    mode: services::plans::Mode::Assigned,
                    catalogue: b.catalogue()?,
                    paypal: None,
                },
                Some(paypal) => {
                    let seller = b
                        .seller
                        .as_ref()
                        .ok_or_else(|| {
                            ConfigError(
                                "billing.seller: selling through PayPal needs the seller's name, \
                                 address and country for the invoices"
                                    .into(),
                            )
                        })?
                        .seller()?;
                    services::plans::Billing {
                        mode: services::plans::Mode::PayPal,
                        catalogue: b.catalogue()?,
                        paypal: Some(std::sync::Arc::new(paypal.build(seller)?)),
                    }
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_cents() {
        assert_eq!(cents("29.00", "x").unwrap(), 2_900);
        assert_eq!(cents("29.5", "x").unwrap(), 2_950);
        assert_eq!(cents("290", "x").unwrap(), 29_000);
        for bad in ["", "29.001", "-1", "1e3", "2 9", ".5"] {
            assert!(cents(bad, "x").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_override_changes_only_what_it_names() {
        let b: BillingSettings = toml::from_str(
            r#"
            [plans.starter]
            posts_per_month = 150
            campaigns = "unlimited"
            storage_mb = 4000
            platforms = ["facebook", "linkedin"]
            "#,
        )
        .unwrap();
        let c = b.catalogue().unwrap();
        let starter = c.plan(PlanId::Starter);
        assert_eq!(starter.limit(Limit::Posts), Some(150));
        assert_eq!(starter.limit(Limit::Campaigns), None);
        assert_eq!(starter.limit(Limit::Storage), Some(4_000_000_000));
        assert_eq!(starter.limit(Limit::SocialAccounts), Some(5));
        assert!(starter.allows(Platform::LinkedIn));
        assert!(!starter.allows(Platform::Instagram));
        assert_eq!(
            c.plan(PlanId::Free),
            Catalogue::standard().plan(PlanId::Free)
        );
    }

    #[test]
    fn a_mistake_is_named() {
        for (toml, says) in [
            ("[plans.gold]\ncampaigns = 1", "billing.plans.gold"),
            (
                "[plans.free]\ncampaigns = \"lots\"",
                "billing.plans.free.campaigns",
            ),
            (
                "[plans.free]\nfeatures = [\"teleport\"]",
                "\"teleport\" is not a feature",
            ),
            (
                "[plans.free]\nplatforms = [\"myspace\"]",
                "billing.plans.free.platforms",
            ),
        ] {
            let b: BillingSettings = toml::from_str(toml).unwrap();
            let err = b.catalogue().unwrap_err().0;
            assert!(err.contains(says), "{err}");
        }
    }
}
