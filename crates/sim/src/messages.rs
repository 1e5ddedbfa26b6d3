//! Direct messages to Instagram accounts, for the inbox: the conversations people start with an
//! account, and the account's replies.
//!
//! People write to every Instagram account the simulator has issued a token for, by themselves,
//! as a deterministic function of the account and the simulator's clock ([`Simulator::now`],
//! [`Simulator::advance_clock`]): the clock is cut into three-hour slots, and in about half of
//! them one person from a small fixed list writes one message (a question about an order, a
//! complaint, thanks). An account's inbox starts with the two days before the simulator first
//! looked at it, so a freshly connected account already has conversations, some of them older
//! than Instagram's 24-hour reply window; then messages keep arriving as the clock moves. Ids
//! are stable, so a read repeated later gives the same messages plus the newer ones.
//!
//! There is one conversation per account and person, whose id and the person's
//! Instagram-scoped id follow from the account and the person's handle. Tests that want exact
//! conversations turn the arrivals off ([`Simulator::set_messages_auto`]), let people write
//! ([`Simulator::add_message`]), read everything back ([`Simulator::messages_with`]) and close a
//! conversation's reply window without waiting ([`Simulator::age_conversation`]; moving the
//! whole simulator's clock with [`Simulator::advance_clock`] closes every window at once).
//!
//! This file holds the model; Instagram's routes (its answer shapes, its permission and its
//! window) are in `instagram/messages.rs`.

use crate::Simulator;
use crate::metrics::seed;
use chrono::{DateTime, Duration, Utc};
use domain::Platform;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A direct message, as the simulator keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMessage {
    /// The conversation it is part of (one per account and person).
    pub conversation_id: String,
    /// Its id at Instagram.
    pub id: String,
    /// The account's Instagram user id.
    pub account_id: String,
    /// The person's Instagram-scoped id (where replies are sent to).
    pub person_id: String,
    /// The person's handle.
    pub person_name: String,
    /// Written by the account (a reply), not by the person.
    pub by_account: bool,
    pub text: String,
    /// By the simulator's clock.
    pub sent_at: DateTime<Utc>,
}

/// People who write to accounts.
const PEOPLE: [&str; 8] = [
    "Hana Sato",
    "Omar Haddad",
    "Clara Weiss",
    "Diego Alvarez",
    "Freya Lund",
    "Kwame Mensah",
    "Ines Costa",
    "Pavel Novak",
];

/// What they write.
const TEXTS: [&str; 10] = [
    "Hi! Do you still have the blue one in medium?",
    "Can I pick up my order tomorrow morning?",
    "My parcel arrived damaged. What should I do?",
    "Are you open on Sunday?",
    "Do you ship to Canada?",
    "Is there a discount for students?",
    "Thanks for the quick answer!",
    "I'd love to work with you on a project. Who should I contact?",
    "I ordered two weeks ago and still have no tracking number.",
    "Your last post was lovely.",
];

/// The length of a slot of the clock in which at most one message arrives by itself.
const SLOT_MINUTES: i64 = 180;
/// How far back an account's inbox reaches before the simulator first looked at it.
const HISTORY_DAYS: i64 = 2;

/// What the simulator keeps beyond the arrivals it computes.
#[derive(Default)]
struct Store {
    /// Automatic arrivals switched off.
    manual: bool,
    /// Messages added by tests and the account's replies.
    added: Vec<SimMessage>,
    /// Conversations made older: (account, person's handle, up to when, by how much). An
    /// arrival of that conversation sent by `up to when` is moved back by `by how much`.
    aged: Vec<(String, String, DateTime<Utc>, Duration)>,
    /// When the simulator first looked at each account's inbox, by account id.
    first_seen: HashMap<String, DateTime<Utc>>,
}

fn store(sim: &Simulator) -> Arc<Mutex<Store>> {
    sim.extension::<Store>()
}

fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// The Instagram-scoped id of the person with handle `handle`.
fn person_id(handle: &str) -> String {
    crate::oauth::user_id(Platform::Instagram, &format!("igsid/{handle}"))
}

/// The id of the conversation between `account` and the person `person_id`.
fn conversation_id(account: &str, person_id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("ig_conversation:{account}:{person_id}"))
}

/// A message id in Instagram's opaque shape, from what makes it unique.
fn message_id(unique: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("ig_message:{unique}"))
}

/// The message a person with handle `handle` writes to `account` at `at`.
fn message(account: &str, handle: &str, id: String, text: &str, at: DateTime<Utc>) -> SimMessage {
    let person = person_id(handle);
    SimMessage {
        conversation_id: conversation_id(account, &person),
        id,
        account_id: account.to_owned(),
        person_id: person,
        person_name: handle.to_owned(),
        by_account: false,
        text: text.to_owned(),
        sent_at: at,
    }
}

/// Everything that arrives by itself to `account` from `from` up to `until`, oldest first.
fn arrivals(account: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<SimMessage> {
    let slot = |at: DateTime<Utc>| at.timestamp().div_euclid(SLOT_MINUTES * 60);
    let mut out = Vec::new();
    for n in slot(from)..=slot(until) {
        let key = n.to_string();
        let one = |what: &str| seed(&["dm", account, &key, what]);
        if one("arrives") % 2 == 0 {
            continue;
        }
        let minute = i64::try_from(one("when") % SLOT_MINUTES.unsigned_abs()).unwrap_or(0);
        let Some(at) = DateTime::from_timestamp(n * SLOT_MINUTES * 60 + minute * 60, 0) else {
            continue;
        };
        if at < from || at > until {
            continue;
        }
        let name = PEOPLE[(one("who") % PEOPLE.len() as u64) as usize];
        let text = TEXTS[(one("text") % TEXTS.len() as u64) as usize];
        let handle = crate::comments::handle(name);
        out.push(message(
            account,
            &handle,
            message_id(&format!("{account}:{n}")),
            text,
            at,
        ));
    }
    out
}

/// Every message of `account`'s inbox by now (the account's replies too), oldest first.
pub(crate) fn inbox(sim: &Simulator, account: &str) -> Vec<SimMessage> {
    let now = sim.now();
    let store = store(sim);
    let mut store = lock(&store);
    let first_seen = *store.first_seen.entry(account.to_owned()).or_insert(now);
    let mut all = Vec::new();
    if !store.manual {
        let mut arrived = arrivals(account, first_seen - Duration::days(HISTORY_DAYS), now);
        for message in &mut arrived {
            let moved: Duration = store
                .aged
                .iter()
                .filter(|(a, handle, until, _)| {
                    a == account && *handle == message.person_name && message.sent_at <= *until
                })
                .map(|(_, _, _, by)| *by)
                .sum();
            message.sent_at -= moved;
        }
        all.extend(arrived);
    }
    all.extend(
        store
            .added
            .iter()
            .filter(|m| m.account_id == account)
            .cloned(),
    );
    all.sort_by(|a, b| a.sent_at.cmp(&b.sent_at).then(a.id.cmp(&b.id)));
    all
}

/// Keeps a reply by `account` to the person `person_id`, sent now; `None` when no conversation
/// with that person exists (the account cannot write first).
pub(crate) fn reply(
    sim: &Simulator,
    account: &str,
    person_id: &str,
    text: &str,
) -> Option<SimMessage> {
    let person = inbox(sim, account)
        .into_iter()
        .find(|m| m.person_id == person_id)?;
    let kept = SimMessage {
        id: message_id(&sim.next_id()),
        by_account: true,
        text: text.to_owned(),
        sent_at: sim.now(),
        ..person
    };
    lock(&store(sim)).added.push(kept.clone());
    Some(kept)
}

impl Simulator {
    /// A message from the person with handle `person_name` to the Instagram account
    /// `ig_user_id`, written now; returns the id of their conversation (one per person and
    /// account, made by their first message).
    pub fn add_message(&self, ig_user_id: &str, person_name: &str, text: &str) -> String {
        let kept = message(
            ig_user_id,
            person_name,
            message_id(&self.next_id()),
            text,
            self.now(),
        );
        let id = kept.conversation_id.clone();
        lock(&store(self)).added.push(kept);
        id
    }

    /// Every message between the Instagram account `ig_user_id` and the person with handle
    /// `person_name` (theirs and the account's replies), oldest first.
    pub fn messages_with(&self, ig_user_id: &str, person_name: &str) -> Vec<SimMessage> {
        inbox(self, ig_user_id)
            .into_iter()
            .filter(|m| m.person_name == person_name)
            .collect()
    }

    /// Makes everything sent so far in the conversation between `ig_user_id` and `person_name`
    /// `by` older: its reply window closes as if that much time had passed, while the other
    /// conversations and the clock stay as they are.
    pub fn age_conversation(&self, ig_user_id: &str, person_name: &str, by: Duration) {
        let now = self.now();
        let store = store(self);
        let mut store = lock(&store);
        for message in store
            .added
            .iter_mut()
            .filter(|m| m.account_id == ig_user_id && m.person_name == person_name)
        {
            message.sent_at -= by;
        }
        store
            .aged
            .push((ig_user_id.to_owned(), person_name.to_owned(), now, by));
    }

    /// Turns the direct messages that arrive by themselves to every Instagram account on or
    /// off (on by default, so the sandbox shows an inbox; tests of exact conversations turn
    /// them off).
    pub fn set_messages_auto(&self, on: bool) {
        lock(&store(self)).manual = !on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn arrivals_repeat_and_keep_coming() {
        let from = at("2026-12-01T00:00:00Z");
        let day = arrivals("178", from, from + Duration::days(1));
        assert_eq!(day, arrivals("178", from, from + Duration::days(1)));
        assert!((1..=8).contains(&day.len()), "{day:?}");
        let week = arrivals("178", from, from + Duration::days(7));
        assert_eq!(
            &week[..day.len()],
            &day[..],
            "a later read adds to an earlier one"
        );
        assert!(week.len() > day.len() + 5, "{}", week.len());
        assert!(
            week.iter()
                .all(|m| m.sent_at >= from && m.sent_at <= from + Duration::days(7))
        );
        let ids: std::collections::HashSet<&str> = week.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), week.len());
        assert_ne!(day, arrivals("179", from, from + Duration::days(1)));
    }

    #[test]
    fn one_conversation_per_person_and_account() {
        let now = at("2026-12-01T00:00:00Z");
        let a = message("178", "ana", "1".into(), "Hi", now);
        let b = message("178", "ana", "2".into(), "Again", now);
        assert_eq!(a.conversation_id, b.conversation_id);
        assert_ne!(
            a.conversation_id,
            message("178", "sam", "3".into(), "Hi", now).conversation_id
        );
        assert_ne!(
            a.conversation_id,
            message("179", "ana", "4".into(), "Hi", now).conversation_id
        );
    }
}
