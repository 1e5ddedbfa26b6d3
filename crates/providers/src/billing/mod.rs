//! Taking payment for plans. PayPal Subscriptions is the one processor: its REST calls are in
//! [`paypal`], and the check of the webhooks it sends in [`webhook`].

pub mod paypal;
pub mod webhook;

/// Why a call to the payment processor did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// No answer (a refused connection, a timeout) or a server error on the processor's side:
    /// nothing can be assumed done, and trying again later is right.
    #[error("PayPal could not be reached: {0}")]
    Unreachable(String),
    /// Our credentials were refused: the operator's configuration is wrong.
    #[error("PayPal refused this instance's credentials: {0}")]
    Credentials(String),
    /// The processor understood the request and refused it (`name` is its error name, such as
    /// `RESOURCE_NOT_FOUND` or `UNPROCESSABLE_ENTITY`).
    #[error("PayPal refused the request ({name}): {message}")]
    Refused {
        status: u16,
        name: String,
        message: String,
    },
    /// An answer we could not read.
    #[error("PayPal's answer could not be read: {0}")]
    Unreadable(String),
}

impl BillingError {
    /// Whether the thing asked for does not exist at the processor.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BillingError::Refused { status: 404, .. })
    }
}

/// How often a subscription is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub const ALL: [Interval; 2] = [Interval::Month, Interval::Year];

    /// PayPal's `interval_unit`.
    pub fn unit(self) -> &'static str {
        match self {
            Interval::Month => "MONTH",
            Interval::Year => "YEAR",
        }
    }

    /// How it is stored and written in forms: `month`, `year`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Option<Interval> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "month" | "monthly" => Some(Interval::Month),
            "year" | "yearly" => Some(Interval::Year),
            _ => None,
        }
    }
}

/// An amount of money in minor units (cents), read from and written as PayPal's decimal string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub cents: i64,
    /// ISO 4217, as PayPal writes it (`USD`).
    pub currency: String,
}

impl Money {
    /// `"29.00"` → 2900. PayPal writes at most two decimals for the currencies we bill in.
    pub fn parse(value: &str, currency: &str) -> Option<Money> {
        let value = value.trim();
        let (negative, digits) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || frac.len() > 2
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let cents = whole
            .parse::<i64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(format!("{frac:0<2}").parse::<i64>().ok()?)?;
        Some(Money {
            cents: if negative { -cents } else { cents },
            currency: currency.to_owned(),
        })
    }

    /// 2900 → `"29.00"`.
    pub fn decimal(cents: i64) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_and_writes_paypal_decimals() {
        assert_eq!(Money::parse("29.00", "USD").map(|m| m.cents), Some(2_900));
        assert_eq!(Money::parse("29.5", "USD").map(|m| m.cents), Some(2_950));
        assert_eq!(Money::parse("290", "USD").map(|m| m.cents), Some(29_000));
        assert_eq!(Money::parse("-3.10", "USD").map(|m| m.cents), Some(-310));
        for bad in ["", "1.234", "1e3", "x", ".5", "--1"] {
            assert_eq!(Money::parse(bad, "USD"), None, "{bad:?}");
        }
        assert_eq!(Money::decimal(2_900), "29.00");
        assert_eq!(Money::decimal(5), "0.05");
        assert_eq!(Money::decimal(-310), "-3.10");
    }

    #[test]
    fn intervals_round_trip() {
        for i in Interval::ALL {
            assert_eq!(Interval::parse(i.as_str()), Some(i));
            assert_eq!(Interval::parse(i.unit()), Some(i));
        }
        assert_eq!(Interval::parse("weekly"), None);
    }
}
