//! The scenery many tests build, written once: a person with a workspace, a team (an owner and
//! a member who joined by invitation), a campaign, a time on a person's clock, a password
//! change, forms and pages with one extra header, the files in the media store, and what the
//! residue check finds for an address. `helpers.rs` starts the application; this file only
//! fills it.

use crate::helpers::{Client, PASSWORD, TestApp, id_from_location};
use reqwest::StatusCode;
use services::deletion::{Finding, Residue, Whom};
use std::path::{Path, PathBuf};

/// Ada Lovelace at `email`, signed up and confirmed, with her workspace "Acme"; returns her
/// browser and the workspace's id.
pub async fn owner_with_workspace(app: &TestApp, email: &str) -> (Client, i64) {
    let client = app.verified_user("Ada Lovelace", email).await;
    let res = client.submit("/workspaces/new", &[("name", "Acme")]).await;
    (client, id_from_location(res.headers()))
}

/// A workspace its owner keeps, with one member who joined by invitation.
pub struct Team {
    pub owner: Client,
    pub member: Client,
    pub ws: i64,
}

impl TestApp {
    /// `owner` and `member` (each a name and an address) sign up and confirm their addresses,
    /// in that order; the owner creates `workspace` and invites the member as `role`, who
    /// accepts.
    pub async fn team(
        &self,
        owner: (&str, &str),
        workspace: &str,
        member: (&str, &str),
        role: &str,
    ) -> Team {
        let owner_browser = self.verified_user(owner.0, owner.1).await;
        let member_browser = self.verified_user(member.0, member.1).await;
        let ws = owner_browser.new_workspace(workspace).await;
        self.join(&owner_browser, ws, member.1, role, &member_browser)
            .await;
        Team {
            owner: owner_browser,
            member: member_browser,
            ws,
        }
    }

    /// `who` invites `email` to `ws` as `role`; `joiner`, the browser of that address, accepts
    /// from the e-mailed link.
    pub async fn join(&self, who: &Client, ws: i64, email: &str, role: &str, joiner: &Client) {
        let link = self.invite(who, ws, email, role).await;
        joiner.accept(&link).await;
    }

    /// The wall-clock time `from_now` ahead on the clock of `email`, a member of `ws`, as the
    /// composer's time field holds it.
    pub async fn local_in(
        &self,
        email: &str,
        ws: i64,
        from_now: chrono::Duration,
    ) -> chrono::NaiveDateTime {
        let (user, _) = self.member(email, ws).await;
        let tz = domain::Timezone::parse(&user.timezone).unwrap();
        domain::schedule::to_local(chrono::Utc::now() + from_now, tz)
    }

    /// Every file under the media folder (finished files, thumbnails and unfinished uploads).
    pub fn media_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data.0.join("media"), &mut out);
        out
    }

    /// What the residue check finds of the person who had the address `email`.
    pub async fn residue_of(&self, email: &str) -> Vec<Finding> {
        match self
            .services
            .residue(Whom::Email(email.to_owned()))
            .await
            .unwrap()
        {
            Residue::Checked { findings, .. } => findings,
            other => panic!("the residue check could not look: {other:?}"),
        }
    }
}

impl Client {
    /// Opens the invitation `link` and accepts it.
    pub async fn accept(&self, link: &str) {
        let res = self.submit(link, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "accepting {link}");
    }

    /// Creates the campaign `name` in `ws`, green, running from `dates.0` to `dates.1` (either
    /// may be empty); returns its id.
    pub async fn new_campaign(
        &self,
        ws: i64,
        name: &str,
        description: &str,
        dates: (&str, &str),
    ) -> i64 {
        let res = self
            .submit(
                &format!("/w/{ws}/campaigns"),
                &[
                    ("name", name),
                    ("description", description),
                    ("starts_on", dates.0),
                    ("ends_on", dates.1),
                    ("colour", "#16a34a"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "campaign {name}");
        id_from_location(res.headers())
    }

    /// Disconnects the account `account` of `ws`, confirmed.
    pub async fn disconnect(&self, ws: i64, account: i64) -> reqwest::Response {
        self.submit(
            &format!("/w/{ws}/accounts/{account}/disconnect"),
            &[("confirm", "yes")],
        )
        .await
    }

    /// Deletes this browser's account from its settings, confirmed with the test password and
    /// its address `email`.
    pub async fn delete_own_account(&self, email: &str) -> reqwest::Response {
        self.submit(
            "/settings/account/delete",
            &[("password", PASSWORD), ("confirm", email)],
        )
        .await
    }

    /// Changes this browser's password from the test password to `new`.
    pub async fn change_password(&self, new: &str) -> reqwest::Response {
        self.submit(
            "/settings/password",
            &[("current_password", PASSWORD), ("new_password", new)],
        )
        .await
    }

    /// Posts a form with this browser's CSRF token and one extra request header.
    pub async fn submit_with_header(
        &self,
        path: &str,
        header: (&str, &str),
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.http
            .post(self.url(path))
            .header(header.0, header.1)
            .form(&form)
            .send()
            .await
            .expect("POST")
    }

    /// Opens `path` with one extra request header.
    pub async fn get_with_header(&self, path: &str, header: (&str, &str)) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header(header.0, header.1)
            .send()
            .await
            .expect("GET")
    }
}
