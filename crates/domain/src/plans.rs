//! Plans, their limits and features, and the one entitlement check every feature asks.
//!
//! The catalogue is data: [`Catalogue::standard`] is the product's published table, and an
//! operator may change any plan's prices, limits, platforms and features in the configuration.
//! [`Catalogue::check`] is pure: the caller says what the workspace has used and what it asks
//! for, and gets [`Entitlement::Allowed`] or a [`Refusal`] that names the limit, the use so far
//! and the cheapest plan that lifts it.

use crate::Invalid;
use crate::content::Platform;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A plan a workspace is on, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanId {
    Free,
    Starter,
    Professional,
    Enterprise,
}

impl PlanId {
    pub const ALL: [PlanId; 4] = [
        PlanId::Free,
        PlanId::Starter,
        PlanId::Professional,
        PlanId::Enterprise,
    ];

    /// The identifier stored, typed on the command line and used in forms.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Starter => "starter",
            Self::Professional => "professional",
            Self::Enterprise => "enterprise",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Starter => "Starter",
            Self::Professional => "Professional",
            Self::Enterprise => "Enterprise",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.slug() == raw)
            .ok_or_else(|| Invalid::new("Choose free, starter, professional or enterprise."))
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Something a plan counts. Monthly limits start again on the first of each calendar month in
/// the workspace owner's time zone; the others count what the workspace has now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Limit {
    /// Posts scheduled or published this month (a post counts once, when first scheduled;
    /// deleting it does not give the count back).
    Posts,
    AiImages,
    AiVideos,
    AiReels,
    /// Tokens the AI assistant and agent used this month (prompt and answer, as the provider
    /// counts them).
    AiTokens,
    /// Connected social accounts.
    SocialAccounts,
    Campaigns,
    /// Bytes in the media library.
    Storage,
}

impl Limit {
    pub const ALL: [Limit; 8] = [
        Limit::Posts,
        Limit::AiImages,
        Limit::AiVideos,
        Limit::AiReels,
        Limit::AiTokens,
        Limit::SocialAccounts,
        Limit::Campaigns,
        Limit::Storage,
    ];

    /// The key in the configuration and the stored usage counters.
    pub fn key(self) -> &'static str {
        match self {
            Self::Posts => "posts_per_month",
            Self::AiImages => "ai_images_per_month",
            Self::AiVideos => "ai_videos_per_month",
            Self::AiReels => "ai_reels_per_month",
            Self::AiTokens => "ai_tokens_per_month",
            Self::SocialAccounts => "social_accounts",
            Self::Campaigns => "campaigns",
            Self::Storage => "storage_bytes",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.key() == key)
    }

    /// Whether the count starts again each month.
    pub fn monthly(self) -> bool {
        matches!(
            self,
            Self::Posts | Self::AiImages | Self::AiVideos | Self::AiReels | Self::AiTokens
        )
    }

    /// What is counted, in the plural ("posts", "connected social accounts").
    pub fn noun(self) -> &'static str {
        match self {
            Self::Posts => "posts",
            Self::AiImages => "AI images",
            Self::AiVideos => "AI videos",
            Self::AiReels => "AI reels",
            Self::AiTokens => "AI tokens",
            Self::SocialAccounts => "connected social accounts",
            Self::Campaigns => "campaigns",
            Self::Storage => "media storage",
        }
    }

    /// `n` of this, as people read it ("3 posts", "1.5 GB").
    pub fn amount(self, n: u64) -> String {
        match self {
            Self::Storage => human_bytes(n),
            _ => thousands(n),
        }
    }
}

/// "1,250,000": a count with its thousands separated.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "50 MB", "1.5 GB", "812 bytes" (decimal units, as the plans are sold).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (size, unit) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) * 10 / size;
            return if tenth == 0 || whole >= 100 {
                format!("{whole} {unit}")
            } else {
                format!("{whole}.{tenth} {unit}")
            };
        }
    }
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

/// A capability a plan includes or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    AgentChat,
    Scheduling,
    MediaLibrary,
    Mcp,
    AiCaptions,
    CommentsWorkspace,
    AgentActions,
    Analytics,
    AnalyticsExports,
    TeamCollaboration,
    Approvals,
    RoiReporting,
    AutonomousAgent,
    ApiAccess,
    CustomBranding,
}

impl Feature {
    pub const ALL: [Feature; 15] = [
        Feature::AgentChat,
        Feature::Scheduling,
        Feature::MediaLibrary,
        Feature::Mcp,
        Feature::AiCaptions,
        Feature::CommentsWorkspace,
        Feature::AgentActions,
        Feature::Analytics,
        Feature::AnalyticsExports,
        Feature::TeamCollaboration,
        Feature::Approvals,
        Feature::RoiReporting,
        Feature::AutonomousAgent,
        Feature::ApiAccess,
        Feature::CustomBranding,
    ];

    /// The key in the configuration.
    pub fn key(self) -> &'static str {
        match self {
            Self::AgentChat => "agent_chat",
            Self::Scheduling => "scheduling",
            Self::MediaLibrary => "media_library",
            Self::Mcp => "mcp",
            Self::AiCaptions => "ai_captions",
            Self::CommentsWorkspace => "comments_workspace",
            Self::AgentActions => "agent_actions",
            Self::Analytics => "analytics",
            Self::AnalyticsExports => "analytics_exports",
            Self::TeamCollaboration => "team_collaboration",
            Self::Approvals => "approvals",
            Self::RoiReporting => "roi_reporting",
            Self::AutonomousAgent => "autonomous_agent",
            Self::ApiAccess => "api_access",
            Self::CustomBranding => "custom_branding",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The feature's name in a sentence ("Team collaboration needs …").
    pub fn label(self) -> &'static str {
        match self {
            Self::AgentChat => "AI agent chat",
            Self::Scheduling => "Scheduling",
            Self::MediaLibrary => "The media library",
            Self::Mcp => "The MCP workspace connection",
            Self::AiCaptions => "AI captions",
            Self::CommentsWorkspace => "The comments workspace",
            Self::AgentActions => "Agent actions",
            Self::Analytics => "Analytics",
            Self::AnalyticsExports => "Analytics exports",
            Self::TeamCollaboration => "Team collaboration",
            Self::Approvals => "Approval workflows",
            Self::RoiReporting => "ROI reporting",
            Self::AutonomousAgent => "The more autonomous agent",
            Self::ApiAccess => "API access",
            Self::CustomBranding => "Custom branding",
        }
    }
}

/// A price in cents of US dollars (`None`: set per workspace by the operator, or not sold).
pub type Cents = Option<u64>;

/// One plan's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub monthly_cents: Cents,
    pub yearly_cents: Cents,
    /// The most of each thing; a limit absent from the map is unlimited.
    pub limits: BTreeMap<Limit, u64>,
    pub platforms: BTreeSet<Platform>,
    pub features: BTreeSet<Feature>,
}

impl Plan {
    /// The most of `limit` (`None`: unlimited).
    pub fn limit(&self, limit: Limit) -> Option<u64> {
        self.limits.get(&limit).copied()
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    pub fn allows(&self, platform: Platform) -> bool {
        self.platforms.contains(&platform)
    }

    /// A plan with no limits, every platform and every feature (self-hosting with no
    /// `[billing]`).
    pub fn unlimited(id: PlanId) -> Self {
        Plan {
            id,
            monthly_cents: None,
            yearly_cents: None,
            limits: BTreeMap::new(),
            platforms: Platform::ALL.into_iter().collect(),
            features: Feature::ALL.into_iter().collect(),
        }
    }
}

/// What a workspace asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Use a feature.
    Feature(Feature),
    /// Connect an account of, or publish to, a platform.
    Platform(Platform),
    /// Add `amount` of `limit` to the `used` it has (this month, for a monthly limit).
    Add {
        limit: Limit,
        used: u64,
        amount: u64,
    },
}

/// Why a workspace may not do something, and what would let it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub ask: Ask,
    /// The workspace's plan.
    pub plan: PlanId,
    /// The cheapest plan that allows it (`None`: none does; the operator can raise a limit).
    pub lifted_by: Option<PlanId>,
    /// The plan's limit, for [`Ask::Add`].
    pub limit: Option<u64>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.ask {
            Ask::Feature(feature) => {
                format!("{} is not part of the {} plan", feature.label(), self.plan)
            }
            Ask::Platform(platform) => format!(
                "Publishing to {} is not part of the {} plan",
                platform.label(),
                self.plan
            ),
            Ask::Add {
                limit: which, used, ..
            } => {
                let most = self.limit.unwrap_or(0);
                let period = if which.monthly() { " this month" } else { "" };
                let used = if which == Limit::Storage {
                    format!("{} of {}", which.amount(used), which.amount(most))
                } else {
                    format!("{used} of {most} {}", which.noun())
                };
                format!(
                    "This workspace has used {used}{period}, the most the {} plan allows",
                    self.plan
                )
            }
        };
        match self.lifted_by {
            Some(plan) => write!(f, "{what}. The {plan} plan lifts this."),
            None => write!(
                f,
                "{what}. No plan goes further; ask the operator of this instance."
            ),
        }
    }
}

/// The answer to an [`Ask`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entitlement {
    Allowed,
    Refused(Refusal),
}

/// Every plan's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    plans: BTreeMap<PlanId, Plan>,
}

impl Catalogue {
    /// The plans as the product publishes them.
    pub fn standard() -> Self {
        use Feature::*;
        use Limit::*;
        let meta = [Platform::Facebook, Platform::Instagram];
        let base = [AgentChat, Scheduling, MediaLibrary, Mcp];
        let starter = [AiCaptions, CommentsWorkspace, AgentActions];
        let professional = [
            Analytics,
            AnalyticsExports,
            TeamCollaboration,
            Approvals,
            RoiReporting,
            AutonomousAgent,
        ];
        let enterprise = [ApiAccess, CustomBranding];
        let plan = |id,
                    monthly,
                    yearly,
                    limits: &[(Limit, u64)],
                    platforms: &[Platform],
                    features: Vec<Feature>| Plan {
            id,
            monthly_cents: monthly,
            yearly_cents: yearly,
            limits: limits.iter().copied().collect(),
            platforms: platforms.iter().copied().collect(),
            features: features.into_iter().collect(),
        };
        const MB: u64 = 1_000_000;
        const GB: u64 = 1_000_000_000;
        let plans = [
            plan(
                PlanId::Free,
                Some(0),
                Some(0),
                &[
                    (Posts, 10),
                    (AiImages, 5),
                    (AiVideos, 1),
                    (AiTokens, 20_000),
                    (AiReels, 1),
                    (SocialAccounts, 1),
                    (Campaigns, 1),
                    (Storage, 50 * MB),
                ],
                &meta,
                base.to_vec(),
            ),
            plan(
                PlanId::Starter,
                Some(2_900),
                Some(29_000),
                &[
                    (Posts, 100),
                    (AiImages, 50),
                    (AiVideos, 15),
                    (AiTokens, 500_000),
                    (AiReels, 15),
                    (SocialAccounts, 5),
                    (Campaigns, 10),
                    (Storage, 2 * GB),
                ],
                &meta,
                [&base[..], &starter[..]].concat(),
            ),
            plan(
                PlanId::Professional,
                Some(6_900),
                Some(69_000),
                &[
                    (Posts, 500),
                    (AiImages, 200),
                    (AiVideos, 50),
                    (AiTokens, 2_000_000),
                    (AiReels, 50),
                    (Storage, 10 * GB),
                ],
                &Platform::ALL,
                [&base[..], &starter[..], &professional[..]].concat(),
            ),
            plan(
                PlanId::Enterprise,
                None,
                None,
                &[],
                &Platform::ALL,
                [&base[..], &starter[..], &professional[..], &enterprise[..]].concat(),
            ),
        ];
        Catalogue {
            plans: plans.into_iter().map(|p| (p.id, p)).collect(),
        }
    }

    /// Every plan unlimited: self-hosting with no `[billing]` section.
    pub fn unlimited() -> Self {
        Catalogue {
            plans: PlanId::ALL
                .into_iter()
                .map(|id| (id, Plan::unlimited(id)))
                .collect(),
        }
    }

    pub fn plan(&self, id: PlanId) -> &Plan {
        // Both constructors fill every plan and `set` only replaces.
        self.plans
            .get(&id)
            .unwrap_or_else(|| unreachable!("every plan is in the catalogue"))
    }

    /// Every plan, cheapest first.
    pub fn plans(&self) -> impl Iterator<Item = &Plan> {
        self.plans.values()
    }

    /// Replaces a plan's terms (the operator's configuration).
    pub fn set(&mut self, plan: Plan) {
        self.plans.insert(plan.id, plan);
    }

    fn fits(plan: &Plan, ask: Ask) -> bool {
        match ask {
            Ask::Feature(feature) => plan.has(feature),
            Ask::Platform(platform) => plan.allows(platform),
            Ask::Add {
                limit,
                used,
                amount,
            } => plan
                .limit(limit)
                .is_none_or(|most| used.saturating_add(amount) <= most),
        }
    }

    /// The one entitlement check: may a workspace on `plan` do `ask`?
    pub fn check(&self, plan: PlanId, ask: Ask) -> Entitlement {
        let terms = self.plan(plan);
        if Self::fits(terms, ask) {
            return Entitlement::Allowed;
        }
        let lifted_by = self
            .plans()
            .filter(|p| p.id > plan)
            .find(|p| Self::fits(p, ask))
            .map(|p| p.id);
        let limit = match ask {
            Ask::Add { limit, .. } => terms.limit(limit),
            _ => None,
        };
        Entitlement::Refused(Refusal {
            ask,
            plan,
            lifted_by,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(c: &Catalogue, plan: PlanId, ask: Ask) -> Refusal {
        match c.check(plan, ask) {
            Entitlement::Refused(r) => r,
            Entitlement::Allowed => panic!("{ask:?} on {plan:?} was allowed"),
        }
    }

    #[test]
    fn the_published_table() {
        let c = Catalogue::standard();
        let free = c.plan(PlanId::Free);
        assert_eq!(free.limit(Limit::Posts), Some(10));
        assert_eq!(free.limit(Limit::Storage), Some(50_000_000));
        assert_eq!(c.plan(PlanId::Starter).monthly_cents, Some(2_900));
        assert_eq!(c.plan(PlanId::Professional).yearly_cents, Some(69_000));
        assert_eq!(
            c.plan(PlanId::Professional).limit(Limit::SocialAccounts),
            None
        );
        assert_eq!(c.plan(PlanId::Enterprise).limit(Limit::Posts), None);
        assert!(!c.plan(PlanId::Starter).allows(Platform::X));
        assert!(c.plan(PlanId::Professional).allows(Platform::TikTok));
        assert!(c.plan(PlanId::Starter).has(Feature::AiCaptions));
        assert!(!c.plan(PlanId::Starter).has(Feature::TeamCollaboration));
        assert!(c.plan(PlanId::Enterprise).has(Feature::CustomBranding));
    }

    #[test]
    fn at_the_limit_is_allowed_and_one_over_is_refused() {
        let c = Catalogue::standard();
        let add = |used| Ask::Add {
            limit: Limit::Posts,
            used,
            amount: 1,
        };
        assert_eq!(c.check(PlanId::Free, add(9)), Entitlement::Allowed);
        let r = refused(&c, PlanId::Free, add(10));
        assert_eq!(r.lifted_by, Some(PlanId::Starter));
        assert_eq!(
            r.to_string(),
            "This workspace has used 10 of 10 posts this month, the most the Free plan allows. \
             The Starter plan lifts this."
        );
        assert_eq!(
            c.check(PlanId::Enterprise, add(1_000_000)),
            Entitlement::Allowed
        );
    }

    #[test]
    fn the_refusal_names_the_cheapest_plan_that_lifts_it() {
        let c = Catalogue::standard();
        // Starter allows 5 accounts; the sixth needs Professional, not Enterprise.
        let r = refused(
            &c,
            PlanId::Starter,
            Ask::Add {
                limit: Limit::SocialAccounts,
                used: 5,
                amount: 1,
            },
        );
        assert_eq!(r.lifted_by, Some(PlanId::Professional));
        assert_eq!(
            refused(&c, PlanId::Free, Ask::Platform(Platform::X)).lifted_by,
            Some(PlanId::Professional)
        );
        let api = refused(&c, PlanId::Professional, Ask::Feature(Feature::ApiAccess));
        assert_eq!(api.lifted_by, Some(PlanId::Enterprise));
        assert_eq!(
            api.to_string(),
            "API access is not part of the Professional plan. The Enterprise plan lifts this."
        );
    }

    #[test]
    fn storage_reads_in_bytes_people_know() {
        let c = Catalogue::standard();
        let r = refused(
            &c,
            PlanId::Free,
            Ask::Add {
                limit: Limit::Storage,
                used: 49_500_000,
                amount: 1_000_000,
            },
        );
        assert_eq!(
            r.to_string(),
            "This workspace has used 49.5 MB of 50 MB, the most the Free plan allows. The \
             Starter plan lifts this."
        );
        assert_eq!(human_bytes(2_000_000_000), "2 GB");
        assert_eq!(human_bytes(999), "999 bytes");
    }

    #[test]
    fn nothing_lifts_a_limit_the_operator_set_on_every_plan() {
        let mut c = Catalogue::standard();
        for id in PlanId::ALL {
            let mut p = c.plan(id).clone();
            p.limits.insert(Limit::Campaigns, 3);
            c.set(p);
        }
        let r = refused(
            &c,
            PlanId::Enterprise,
            Ask::Add {
                limit: Limit::Campaigns,
                used: 3,
                amount: 1,
            },
        );
        assert_eq!(r.lifted_by, None);
        assert!(
            r.to_string()
                .ends_with("ask the operator of this instance.")
        );
    }

    #[test]
    fn unlimited_allows_everything() {
        let c = Catalogue::unlimited();
        for id in PlanId::ALL {
            for f in Feature::ALL {
                assert_eq!(c.check(id, Ask::Feature(f)), Entitlement::Allowed);
            }
            for p in Platform::ALL {
                assert_eq!(c.check(id, Ask::Platform(p)), Entitlement::Allowed);
            }
            for limit in Limit::ALL {
                let ask = Ask::Add {
                    limit,
                    used: u64::MAX - 1,
                    amount: 1,
                };
                assert_eq!(c.check(id, ask), Entitlement::Allowed);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for p in PlanId::ALL {
            assert_eq!(PlanId::parse(p.slug()).unwrap(), p);
        }
        assert!(PlanId::parse("gold").is_err());
        for l in Limit::ALL {
            assert_eq!(Limit::parse(l.key()), Some(l));
        }
        for f in Feature::ALL {
            assert_eq!(Feature::parse(f.key()), Some(f));
        }
    }
}
