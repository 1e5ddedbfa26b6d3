//! Checking the consent ledger: the row hashes (version 1, plain SHA-256; version 2, keyed), the
//! walk along the chain that finds the first broken row and checks who each row belongs to, the
//! chain's head for the outside witness, and the daily hand-over of that head.

use super::kinds::Event;
use crate::{Result, Services};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use store::entities::{consent_chain, consent_record, consent_subject};

/// Rows read at a time by the check.
pub(crate) const PAGE: u64 = 1000;

/// The fields a version-1 row's hash covers, in a fixed order, serialised as a JSON array so
/// that no two different rows can produce the same text. Neither the subject nor a key.
pub(crate) fn row_hash_v1(row: &consent_record::Model) -> String {
    let fields = serde_json::json!([
        row.id,
        row.consent_id,
        row.event,
        row.categories,
        row.policies,
        row.banner_version,
        row.source,
        row.locale,
        row.ip_hash,
        row.browser,
        row.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        row.prev_hash,
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// A version-2 row's hash: keyed, over the version, every field but `user_id` (the subject
/// stands for it) and the previous hash.
pub(crate) fn row_hash_v2(keys: &crate::tokens::Keys, row: &consent_record::Model) -> String {
    let fields = serde_json::json!([
        VERSION,
        row.id,
        row.consent_id,
        row.subject,
        row.event,
        row.categories,
        row.policies,
        row.banner_version,
        row.source,
        row.locale,
        row.ip_hash,
        row.browser,
        row.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        row.prev_hash,
    ]);
    keys.mac(ROW_KEY, fields.to_string().as_bytes())
}

/// The subject of `user_id`'s rows, given their salt.
pub(crate) fn subject_of(keys: &crate::tokens::Keys, user_id: i64, salt: &str) -> String {
    keys.mac(SUBJECT_KEY, format!("{user_id}:{salt}").as_bytes())
}

/// Where the chain check found a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact { rows: u64 },
    Broken { row: Option<i64>, reason: String },
}

/// The chain's head as an outside witness keeps it: the newest row's hash and the number of
/// rows, written `HASH:LENGTH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub hash: String,
    pub length: u64,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.hash, self.length)
    }
}

/// A head to look for: its hash, and its length when the witness kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    pub hash: String,
    pub length: Option<u64>,
}

impl Witnessed {
    /// Reads `HASH` or `HASH:LENGTH` (64 hex digits, then the number of rows).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        let (hash, length) = match text.split_once(':') {
            Some((hash, length)) => (hash, Some(length)),
            None => (text, None),
        };
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(
                "a witnessed head is the hash `admin consent verify` printed: 64 hex \
                        digits, optionally followed by `:` and the number of rows"
                    .to_owned(),
            );
        }
        let length = match length {
            Some(length) => Some(length.trim().parse::<u64>().map_err(|_| {
                format!("the length after the hash must be a number of rows, not {length:?}")
            })?),
            None => None,
        };
        Ok(Self { hash, length })
    }
}

/// Whether the ledger still holds a witnessed head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessCheck {
    /// The row at `position` (counted from 1; 0 for the empty ledger) has the witnessed hash.
    Holds {
        position: u64,
    },
    Fails {
        reason: String,
    },
}

/// What [`Services::check_consent_ledger`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheck {
    pub report: ChainReport,
    /// The head of the rows checked, for an outside witness (up to the break, if broken).
    pub head: Head,
    /// Rows written before subjects were bound into the hash (version 1): who they belong to
    /// is not covered.
    pub unbound: u64,
    /// Rows detached from a deleted account.
    pub detached: u64,
    /// Whether the `expect`ed head is still there; `None` when none was given or the chain is
    /// broken.
    pub witness: Option<WitnessCheck>,
}

/// A read of the whole ledger that sees one moment: rows appended meanwhile by a running
/// server are not half-seen (a row without its head, a detached row without its marker).
pub(crate) async fn snapshot(db: &store::Db) -> Result<DatabaseTransaction> {
    use sea_orm::{AccessMode, DbBackend, IsolationLevel};
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // A SQLite read transaction (WAL) sees the database as of its first read.
        _ => db.begin().await?,
    })
}

/// The walk along the chain, one row at a time.
pub(crate) struct Walk<'a> {
    keys: &'a crate::tokens::Keys,
    /// Each person's salt, by user id.
    salts: HashMap<i64, String>,
    /// For each detached subject, the id of the first marker naming it.
    markers: HashMap<String, i64>,
    expect: Option<&'a Witnessed>,
    prev: String,
    position: u64,
    seen_v2: bool,
    unbound: u64,
    detached: u64,
    /// Where the expected hash was found.
    found_at: Option<u64>,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(
        keys: &'a crate::tokens::Keys,
        salts: HashMap<i64, String>,
        markers: HashMap<String, i64>,
        expect: Option<&'a Witnessed>,
    ) -> Self {
        let genesis = store::migration::m20261129_000002_consent::GENESIS;
        Self {
            keys,
            salts,
            markers,
            expect,
            prev: genesis.to_owned(),
            position: 0,
            seen_v2: false,
            unbound: 0,
            detached: 0,
            found_at: expect.filter(|w| w.hash == genesis).map(|_| 0),
        }
    }

    pub(crate) fn step(&mut self, row: &consent_record::Model) -> std::result::Result<(), Broken> {
        let broken = |reason: &str| Err((row.id, reason.to_owned()));
        if row.prev_hash != self.prev {
            return broken("it does not link to the row before it (a row was deleted or inserted)");
        }
        match row.hash_version {
            1 if self.seen_v2 => {
                return broken(
                    "it claims the hash of a row older than subject binding, after newer rows \
                     (it was rewritten)",
                );
            }
            1 => {
                if row_hash_v1(row) != row.row_hash {
                    return broken("its content does not match its hash (the row was edited)");
                }
                self.unbound += 1;
            }
            VERSION => {
                if row_hash_v2(self.keys, row) != row.row_hash {
                    return broken("its content does not match its hash (the row was edited)");
                }
                self.seen_v2 = true;
                self.subject(row)?;
            }
            _ => return broken("its hash version is unknown (the row was edited)"),
        }
        self.position += 1;
        self.prev = row.row_hash.clone();
        if self.expect.is_some_and(|w| w.hash == row.row_hash) && self.found_at.is_none() {
            self.found_at = Some(self.position);
        }
        Ok(())
    }

    /// A version-2 row's `user_id` against the subject its hash covers.
    pub(crate) fn subject(
        &mut self,
        row: &consent_record::Model,
    ) -> std::result::Result<(), Broken> {
        let broken = |reason: &str| Err((row.id, reason.to_owned()));
        if row.event == Event::Detach.as_str() {
            if row.user_id.is_some() || row.subject.is_empty() {
                return broken("a detachment marker names a person (the row was edited)");
            }
            return Ok(());
        }
        match (row.user_id, row.subject.is_empty()) {
            (None, true) => Ok(()),
            (Some(_), true) => broken(
                "it was recorded while nobody was signed in, and has been attributed to a person \
                 since",
            ),
            (Some(user), false) => {
                let theirs = self
                    .salts
                    .get(&user)
                    .is_some_and(|salt| subject_of(self.keys, user, salt) == row.subject);
                if !theirs || self.markers.contains_key(&row.subject) {
                    return broken(
                        "it is attributed to a person it was not recorded for (it was moved)",
                    );
                }
                Ok(())
            }
            (None, false) => {
                if self.markers.get(&row.subject).is_some_and(|m| *m > row.id) {
                    self.detached += 1;
                    Ok(())
                } else {
                    broken(
                        "it was detached from its person without an account deletion recording \
                         it",
                    )
                }
            }
        }
    }
}

/// Whether an intact chain of `rows` rows still holds the witnessed head.
pub(crate) fn witness_check(
    w: &Witnessed,
    rows: u64,
    found_at: Option<u64>,
    at_length: Option<String>,
) -> WitnessCheck {
    match (w.length, found_at) {
        (Some(length), _) if length > rows => WitnessCheck::Fails {
            reason: format!(
                "the ledger has {rows} rows, fewer than the {length} witnessed: rows were removed \
                 from its end and its head moved back"
            ),
        },
        (Some(length), _) if at_length.as_deref() != Some(w.hash.as_str()) => WitnessCheck::Fails {
            reason: format!(
                "row {length} of the ledger is not the witnessed one: the ledger was rewritten up \
                 to there"
            ),
        },
        (Some(length), _) => WitnessCheck::Holds { position: length },
        (None, Some(position)) => WitnessCheck::Holds { position },
        (None, None) => WitnessCheck::Fails {
            reason: "no row of the ledger has the witnessed hash: rows were removed or rewritten"
                .to_owned(),
        },
    }
}

impl Services {
    /// Walks the whole ledger and checks every link, every row's hash and subject, and that
    /// the head names the last row and counts them all.
    pub async fn verify_consent_chain(&self) -> Result<ChainReport> {
        Ok(self.check_consent_ledger(None).await?.report)
    }

    /// [`Self::verify_consent_chain`] with what an outside witness needs: the head checked,
    /// the rows older than subject binding, and, given `expect`, whether the ledger still holds
    /// that head at its position (a witness without a length: anywhere).
    pub async fn check_consent_ledger(&self, expect: Option<&Witnessed>) -> Result<LedgerCheck> {
        let txn = snapshot(&self.db).await?;
        let check = self.check_in(&txn, expect).await;
        txn.rollback().await?;
        check
    }

    pub(crate) async fn check_in(
        &self,
        txn: &DatabaseTransaction,
        expect: Option<&Witnessed>,
    ) -> Result<LedgerCheck> {
        let genesis = store::migration::m20261129_000002_consent::GENESIS;
        let Some(head) = consent_chain::Entity::find_by_id(1).one(txn).await? else {
            return Ok(LedgerCheck {
                report: ChainReport::Broken {
                    row: None,
                    reason: "the chain head is missing".into(),
                },
                head: Head {
                    hash: genesis.to_owned(),
                    length: 0,
                },
                unbound: 0,
                detached: 0,
                witness: None,
            });
        };
        let salts = consent_subject::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|s| (s.user_id, s.salt))
            .collect();
        let mut markers = HashMap::new();
        let found: Vec<(i64, String)> = consent_record::Entity::find()
            .select_only()
            .column(consent_record::Column::Id)
            .column(consent_record::Column::Subject)
            .filter(consent_record::Column::Event.eq(Event::Detach.as_str()))
            .order_by_asc(consent_record::Column::Id)
            .into_tuple()
            .all(txn)
            .await?;
        for (id, subject) in found {
            markers.entry(subject).or_insert(id);
        }
        let mut walk = Walk::new(&self.keys, salts, markers, expect);
        // The hash at the witnessed length, once reached.
        let mut at_length = expect
            .and_then(|w| w.length)
            .filter(|l| *l == 0)
            .map(|_| genesis.to_owned());
        let mut last: Option<i64> = None;
        let mut broken = None;
        'pages: loop {
            let mut query = consent_record::Entity::find()
                .order_by_asc(consent_record::Column::Id)
                .limit(PAGE);
            if let Some(id) = last {
                query = query.filter(consent_record::Column::Id.gt(id));
            }
            let rows = query.all(txn).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if let Err(at) = walk.step(row) {
                    broken = Some(at);
                    break 'pages;
                }
                if expect.and_then(|w| w.length) == Some(walk.position) {
                    at_length = Some(row.row_hash.clone());
                }
                last = Some(row.id);
            }
        }
        let checked = Head {
            hash: walk.prev.clone(),
            length: walk.position,
        };
        let mut check = LedgerCheck {
            report: ChainReport::Intact {
                rows: walk.position,
            },
            head: checked,
            unbound: walk.unbound,
            detached: walk.detached,
            witness: None,
        };
        if let Some((row, reason)) = broken {
            check.report = ChainReport::Broken {
                row: Some(row),
                reason,
            };
            return Ok(check);
        }
        let rows = walk.position as i64;
        if head.head_hash != walk.prev || head.length != rows {
            let why = if head.length > rows {
                "rows were removed from the end"
            } else if head.length < rows {
                "rows were added without moving the head"
            } else {
                "the head was changed"
            };
            check.report = ChainReport::Broken {
                row: last,
                reason: format!(
                    "the chain head expects {} rows ending in {}…, the ledger has {rows} ({why})",
                    head.length,
                    &head.head_hash[..12.min(head.head_hash.len())],
                ),
            };
            return Ok(check);
        }
        check.witness = expect.map(|w| witness_check(w, walk.position, walk.found_at, at_length));
        Ok(check)
    }

    /// The chain's head as it stands (not checked): what the daily run hands to the witness.
    pub async fn consent_head(&self) -> Result<Head> {
        let head = consent_chain::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the consent chain head is missing"))?;
        Ok(Head {
            hash: head.head_hash,
            length: u64::try_from(head.length).unwrap_or(0),
        })
    }

    /// The daily witness: logs the chain's head and, with `consent.witness_file`, appends
    /// `<time> HASH:LENGTH` to that file. The head holds no personal data.
    pub async fn witness_consent_ledger(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Head> {
        use anyhow::Context;
        use tokio::io::AsyncWriteExt;
        let head = self.consent_head().await?;
        tracing::info!(consent_ledger_head = %head, "consent ledger head, for an outside witness");
        if let Some(path) = &self.consent_witness {
            let mut options = tokio::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            options.mode(0o600);
            let mut file = options.open(path).await.with_context(|| {
                format!("could not open the consent witness file {}", path.display())
            })?;
            let line = format!(
                "{} {head}\n",
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            file.write_all(line.as_bytes())
                .await
                .and(file.sync_all().await)
                .with_context(|| {
                    format!(
                        "could not write to the consent witness file {}",
                        path.display()
                    )
                })?;
        }
        Ok(head)
    }
}

/// The purpose of the key that hashes version-2 rows.
pub(crate) const ROW_KEY: &str = "consent-ledger-row";

/// The purpose of the key that makes subjects.
pub(crate) const SUBJECT_KEY: &str = "consent-subject";

/// The hash version of every row written now.
pub(crate) const VERSION: i32 = 2;

pub(crate) type Broken = (i64, String);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::consent::*;

    pub(crate) fn row(
        event: &str,
        categories: &str,
        policies: &str,
        source: &str,
    ) -> consent_record::Model {
        consent_record::Model {
            id: 1,
            consent_id: "c".into(),
            user_id: Some(1),
            event: event.into(),
            categories: categories.into(),
            policies: policies.into(),
            banner_version: "v".into(),
            source: source.into(),
            locale: "en".into(),
            ip_hash: "h".into(),
            browser: "Firefox on Linux".into(),
            created_at: chrono::Utc::now(),
            prev_hash: String::new(),
            row_hash: String::new(),
            subject: String::new(),
            hash_version: 2,
        }
    }

    pub(crate) fn keys() -> crate::tokens::Keys {
        crate::tokens::Keys::new(vec![7; 32])
    }

    /// A row of `version` for `user` (recorded for `subject`), not yet chained.
    pub(crate) fn ledger_row(
        id: i64,
        version: i32,
        user: Option<i64>,
        subject: &str,
    ) -> consent_record::Model {
        let mut r = row("grant", "essential", "{}", "cookie_banner");
        r.id = id;
        r.user_id = user;
        r.subject = subject.to_owned();
        r.hash_version = version;
        r
    }

    /// Links `rows` into a chain, each hashed the way its version is.
    pub(crate) fn chained(
        keys: &crate::tokens::Keys,
        mut rows: Vec<consent_record::Model>,
    ) -> Vec<consent_record::Model> {
        let mut prev = store::migration::m20261129_000002_consent::GENESIS.to_owned();
        for r in &mut rows {
            r.prev_hash = prev;
            r.row_hash = if r.hash_version == 1 {
                row_hash_v1(r)
            } else {
                row_hash_v2(keys, r)
            };
            prev = r.row_hash.clone();
        }
        rows
    }

    /// Walks `rows`; the first break, if any.
    pub(crate) fn walk(
        keys: &crate::tokens::Keys,
        rows: &[consent_record::Model],
        salts: &[(i64, &str)],
    ) -> std::result::Result<(u64, u64), Broken> {
        let markers = rows
            .iter()
            .filter(|r| r.event == "detach")
            .map(|r| (r.subject.clone(), r.id))
            .collect();
        let salts = salts.iter().map(|(u, s)| (*u, (*s).to_owned())).collect();
        let mut walk = Walk::new(keys, salts, markers, None);
        for r in rows {
            walk.step(r)?;
        }
        Ok((walk.unbound, walk.detached))
    }

    #[test]
    pub(crate) fn rows_are_bound_to_who_consented() {
        let keys = keys();
        let ada = subject_of(&keys, 1, "salt-ada");
        let bob = subject_of(&keys, 2, "salt-bob");
        let salts = [(1, "salt-ada"), (2, "salt-bob")];
        let rows = chained(
            &keys,
            vec![
                ledger_row(1, 2, None, ""),
                ledger_row(2, 2, Some(1), &ada),
                ledger_row(3, 2, Some(2), &bob),
            ],
        );
        assert_eq!(walk(&keys, &rows, &salts), Ok((0, 0)));

        // An anonymous row given to a person afterwards.
        let mut moved = rows.clone();
        moved[0].user_id = Some(1);
        let (at, why) = walk(&keys, &moved, &salts).unwrap_err();
        assert_eq!(at, 1);
        assert!(why.contains("nobody was signed in"), "{why}");

        // One person's row given to another.
        let mut moved = rows.clone();
        moved[1].user_id = Some(2);
        let (at, why) = walk(&keys, &moved, &salts).unwrap_err();
        assert_eq!(at, 2);
        assert!(why.contains("not recorded for"), "{why}");

        // Salts swapped along with the rows: the user id is in the subject too.
        let swapped = [(1, "salt-bob"), (2, "salt-ada")];
        assert_eq!(walk(&keys, &rows, &swapped).unwrap_err().0, 2);

        // The subject cannot be changed without the key: the row hash covers it.
        let mut forged = rows.clone();
        forged[0].user_id = Some(1);
        forged[0].subject = ada.clone();
        let (at, why) = walk(&keys, &forged, &salts).unwrap_err();
        assert_eq!(at, 1);
        assert!(why.contains("edited"), "{why}");
        let other_key = crate::tokens::Keys::new(vec![8; 32]);
        assert_eq!(walk(&other_key, &rows, &salts).unwrap_err().0, 1);
    }

    #[test]
    pub(crate) fn detachment_passes_only_when_the_ledger_records_it() {
        let keys = keys();
        let ada = subject_of(&keys, 1, "salt-ada");
        let mut marker = ledger_row(3, 2, None, &ada);
        marker.event = "detach".into();
        let rows = chained(
            &keys,
            vec![
                ledger_row(1, 2, None, &ada),
                ledger_row(2, 2, None, &ada),
                marker,
            ],
        );
        // Detached by a deletion: her salt is gone, the marker follows her rows.
        assert_eq!(walk(&keys, &rows, &[]), Ok((0, 2)));
        // Without the marker.
        let cut = rows[..2].to_vec();
        let (at, why) = walk(&keys, &cut, &[]).unwrap_err();
        assert_eq!(at, 1);
        assert!(why.contains("without an account deletion"), "{why}");
        // Given back to someone after her deletion (even with her old salt).
        let mut back = rows.clone();
        back[1].user_id = Some(1);
        assert_eq!(walk(&keys, &back, &[(1, "salt-ada")]).unwrap_err().0, 2);
    }

    #[test]
    pub(crate) fn rows_from_before_subject_binding_are_checked_the_old_way() {
        let keys = keys();
        let rows = chained(
            &keys,
            vec![
                ledger_row(1, 1, Some(5), ""),
                ledger_row(2, 1, None, ""),
                ledger_row(3, 2, None, ""),
            ],
        );
        assert_eq!(walk(&keys, &rows, &[]), Ok((2, 0)));
        let mut edited = rows.clone();
        edited[1].categories = "essential,marketing".into();
        assert_eq!(walk(&keys, &edited, &[]).unwrap_err().0, 2);
        // A newer row passed off as an old one (whose hash needs no key) is refused.
        let late = chained(
            &keys,
            vec![ledger_row(1, 2, None, ""), ledger_row(2, 1, Some(5), "")],
        );
        let (at, why) = walk(&keys, &late, &[]).unwrap_err();
        assert_eq!(at, 2);
        assert!(why.contains("older than subject binding"), "{why}");
    }

    #[test]
    pub(crate) fn witnessed_heads_are_read_and_checked() {
        let hash = "ab".repeat(32);
        assert_eq!(
            Witnessed::parse(&format!(" {}:12 ", hash.to_uppercase())),
            Ok(Witnessed {
                hash: hash.clone(),
                length: Some(12)
            })
        );
        assert_eq!(Witnessed::parse(&hash).unwrap().length, None);
        for bad in [
            "",
            "abc",
            &format!("{hash}:x"),
            &format!("{hash}:-1"),
            &"zz".repeat(32),
        ] {
            assert!(Witnessed::parse(bad).is_err(), "{bad:?}");
        }
        let w = |length| Witnessed {
            hash: hash.clone(),
            length,
        };
        assert_eq!(
            witness_check(&w(Some(3)), 5, None, Some(hash.clone())),
            WitnessCheck::Holds { position: 3 }
        );
        assert!(matches!(
            witness_check(&w(Some(6)), 5, None, None),
            WitnessCheck::Fails { reason } if reason.contains("fewer than the 6")
        ));
        assert!(matches!(
            witness_check(&w(Some(3)), 5, None, Some("other".into())),
            WitnessCheck::Fails { reason } if reason.contains("rewritten")
        ));
        assert_eq!(
            witness_check(&w(None), 5, Some(4), None),
            WitnessCheck::Holds { position: 4 }
        );
        assert!(matches!(
            witness_check(&w(None), 5, None, None),
            WitnessCheck::Fails { .. }
        ));
    }

    #[test]
    pub(crate) fn ledger_rows_read_as_words() {
        assert_eq!(
            describe(&row(
                "withdraw",
                "essential,marketing",
                "{}",
                "cookie_banner"
            )),
            Described {
                what: "Turned Marketing on, Analytics off".into(),
                allowed: "Essential, Marketing".into(),
                source: "from the cookie banner".into(),
            }
        );
        assert_eq!(
            describe(&row("grant", "essential", "{}", "gpc")).what,
            "Chose Analytics off, Marketing off"
        );
        let accepted = describe(&row(
            "policy_accept",
            "",
            r#"{"privacy":{"version":"1.0"},"terms":{"version":"1.1"}}"#,
            "policy_update",
        ));
        assert_eq!(
            accepted.what,
            "Accepted Terms of Service 1.1, Privacy Policy 1.0"
        );
        assert_eq!(accepted.allowed, "");
        assert_eq!(accepted.source, "when the policies were updated");
    }
}
