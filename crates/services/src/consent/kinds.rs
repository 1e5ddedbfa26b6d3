//! What a row of the consent ledger records: the event (a cookie decision, a policy acceptance,
//! a detachment marker) and where it was made, with their stored codes and their words.

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A first choice for this browser.
    Grant,
    /// A later choice that adds categories or keeps them.
    Update,
    /// A later choice that takes categories back.
    Withdraw,
    /// The browser's Global Privacy Control signal was applied.
    Gpc,
    PolicyAccept,
    /// Not a decision: an account deletion detached the rows of the subject this row names.
    Detach,
}

impl Event {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Update => "update",
            Self::Withdraw => "withdraw",
            Self::Gpc => "gpc",
            Self::PolicyAccept => "policy_accept",
            Self::Detach => "detach",
        }
    }
}

impl Event {
    const ALL: [Event; 6] = [
        Self::Grant,
        Self::Update,
        Self::Withdraw,
        Self::Gpc,
        Self::PolicyAccept,
        Self::Detach,
    ];

    /// The event a ledger row names; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == code)
    }
}

/// Where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CookieBanner,
    CookiePolicyPage,
    Gpc,
    Signup,
    BillingCheckout,
    PolicyUpdate,
    /// Where detachment markers come from.
    AccountDeletion,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CookieBanner => "cookie_banner",
            Self::CookiePolicyPage => "cookie_policy_page",
            Self::Gpc => "gpc",
            Self::Signup => "signup",
            Self::BillingCheckout => "billing_checkout",
            Self::PolicyUpdate => "policy_update",
            Self::AccountDeletion => "account_deletion",
        }
    }

    const ALL: [Source; 7] = [
        Self::CookieBanner,
        Self::CookiePolicyPage,
        Self::Gpc,
        Self::Signup,
        Self::BillingCheckout,
        Self::PolicyUpdate,
        Self::AccountDeletion,
    ];

    /// The source a ledger row names; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// Where, in words that follow what was decided.
    pub fn label(&self) -> &'static str {
        match self {
            Self::CookieBanner => "from the cookie banner",
            Self::CookiePolicyPage => "from the cookie policy page",
            Self::Gpc => "by your browser's Global Privacy Control signal",
            Self::Signup => "at sign-up",
            Self::BillingCheckout => "at the billing checkout",
            Self::PolicyUpdate => "when the policies were updated",
            Self::AccountDeletion => "when the account was deleted",
        }
    }
}
