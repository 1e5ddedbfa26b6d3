//! Where a deletion request stands, as stored in `deletion_requests.state`.

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the person to confirm through the e-mailed link.
    Open,
    /// Confirmed: the account deletion started (and `closed_at` says when it ended).
    Confirmed,
    /// The person withdrew it.
    Withdrawn,
    /// Closed unconfirmed after the link expired.
    Expired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Confirmed => "confirmed",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Confirmed, Self::Withdrawn, Self::Expired]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}
