//! `[billing]`: plans on or off, and the operator's changes to the published plans.
//!
//! ```toml
//! [billing]                      # present: limits are enforced, plans assigned by the operator
//! [billing.plans.starter]        # any plan: free, starter, professional, enterprise
//! monthly_price = "29.00"        # US dollars
//! yearly_price = "290.00"
//! posts_per_month = 150          # a number, or "unlimited"
//! storage_mb = 4000
//! platforms = ["facebook", "instagram", "linkedin"]
//! features = ["agent_chat", "scheduling", "media_library", "mcp", "ai_captions"]
//! ```

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
    pub social_accounts: Option<LimitValue>,
    pub campaigns: Option<LimitValue>,
    pub storage_mb: Option<LimitValue>,
    pub platforms: Option<Vec<String>>,
    pub features: Option<Vec<String>>,
}

/// "29", "29.5", "29.00" → cents.
fn cents(raw: &str, at: &str) -> Result<u64, ConfigError> {
    let bad = || ConfigError(format!("{at}: write a price in dollars, such as \"29.00\""));
    let (whole, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let frac: u64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .ok_or_else(bad)
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
            Some(b) => services::plans::Billing {
                mode: services::plans::Mode::Assigned,
                catalogue: b.catalogue()?,
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
