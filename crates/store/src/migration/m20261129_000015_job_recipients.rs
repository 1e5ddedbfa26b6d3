//! The address an e-mail job is for, in a column of its own (`jobs.recipient`, lower case),
//! so that the data map can name it: deleting a person withdraws the messages still queued
//! for their address (an invitation someone else sent them, say), and the residue check and a
//! restore's forget list find such a row like any other row naming the address. The column is
//! cleared with the payload once the message is sent or given up.
//!
//! Messages queued before this migration get their recipient from their payload, except a
//! deletion receipt (queued when the mail server was down), which must reach the address its
//! deletion erased and so names no recipient.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

/// The subject of the deletion receipt as this version sends it.
const RECEIPT_SUBJECT: &str = "Your Socializioz account is deleted";

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000015_job_recipients"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    Recipient,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(string_null(Jobs::Recipient))
                    .to_owned(),
            )
            .await?;
        let waiting = Query::select()
            .columns([Jobs::Id, Jobs::Payload])
            .from(Jobs::Table)
            .and_where(Expr::col(Jobs::Kind).eq("send_email"))
            .and_where(Expr::col(Jobs::State).is_in(["queued", "running"]))
            .to_owned();
        let db = manager.get_connection();
        let rows = db.query_all(&waiting).await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let payload: String = row.try_get("", "payload")?;
            let to = serde_json::from_str::<serde_json::Value>(&payload)
                .ok()
                .filter(|p| p.get("subject").and_then(|s| s.as_str()) != Some(RECEIPT_SUBJECT))
                .and_then(|p| p.get("to").and_then(|t| t.as_str()).map(str::to_lowercase));
            if let Some(to) = to {
                manager
                    .exec_stmt(
                        Query::update()
                            .table(Jobs::Table)
                            .value(Jobs::Recipient, to)
                            .and_where(Expr::col(Jobs::Id).eq(id))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::migration::Migrator;
    use sea_orm::{ConnectionTrait, Statement};
    use sea_orm_migration::MigratorTrait;

    #[tokio::test]
    async fn messages_waiting_at_the_upgrade_get_their_recipient_except_a_receipt() {
        let db = crate::connect("sqlite::memory:", 1).await.unwrap();
        Migrator::up(&db, Some(14)).await.unwrap();
        let job = |kind: &str, payload: &str, state: &str| {
            format!(
                "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, \
                 created_at, updated_at) VALUES ('{kind}', '{payload}', '{state}', \
                 '2026-01-01 00:00:00+00:00', 0, 8, '2026-01-01 00:00:00+00:00', \
                 '2026-01-01 00:00:00+00:00')"
            )
        };
        for sql in [
            job(
                "send_email",
                r#"{"body":"b","subject":"s","to":"Ada@Example.com"}"#,
                "queued",
            ),
            job("send_email", "{}", "done"),
            job(
                "send_email",
                r#"{"body":"b","subject":"Your Socializioz account is deleted","to":"bo@example.com"}"#,
                "queued",
            ),
            job("publish", r#"{"to":"not-an-email"}"#, "queued"),
        ] {
            db.execute_unprepared(&sql).await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT recipient FROM jobs ORDER BY id",
            ))
            .await
            .unwrap();
        let recipients: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.try_get_by_index(0).unwrap())
            .collect();
        assert_eq!(
            recipients,
            vec![Some("ada@example.com".to_owned()), None, None, None]
        );
    }
}
