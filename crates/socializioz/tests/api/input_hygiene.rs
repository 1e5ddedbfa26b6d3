//! Hostile input on both databases: a NUL byte or a 50,001-character value in any field of any
//! form, and a NUL in any path segment or query value, never gets a 500.
//!
//! The list of requests is generated from the application itself: a workspace owner with a
//! post, a campaign, a media file, a connected account and an open invitation crawls every page
//! reachable from the dashboard (and a signed-out browser every page reachable from the home
//! page), reads every `<form>` on them, and sends each form once per field with a NUL in that
//! field and once per field with a very long value. Every crawled address is then requested
//! with a NUL appended to each path segment and as the value of each query parameter.

use crate::both_backends;
use crate::helpers::{Backend, Client, TestApp, expect_page, png, post_input, spawn_app};
use domain::Platform;
use futures_util::StreamExt;
use reqwest::StatusCode;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

both_backends!(
    no_generated_request_with_a_nul_or_a_long_value_gets_a_500,
    the_policy_pages_refuse_a_nul_with_a_page,
    a_nul_in_a_form_is_refused_before_anything_is_saved,
    a_very_long_media_search_is_refused_with_a_message,
    the_generate_forms_take_a_nul_or_a_long_value_without_a_500,
);

/// The long value sent in each field: one past SQLite's default limit on a LIKE pattern.
const LONG: usize = 50_001;
/// The most pages one browser crawls.
const MAX_PAGES: usize = 150;
/// Requests in flight at once (CI has two cores).
const PARALLEL: usize = 4;

// ---------------------------------------------------------------------------------------------
// A small reader of our own server-rendered HTML: tags, attributes, forms and links.

#[derive(Debug)]
struct Tag {
    name: String,
    closing: bool,
    attrs: Vec<(String, String)>,
    /// The raw text up to the matching end tag (for `<textarea>` and `<option>`).
    text: String,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == name)
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The tags of `html`, in order; the contents of scripts and styles are skipped.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = html[i..].find('<') {
        let start = i + at;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = start + rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            i = start + rest.find('>').map_or(rest.len(), |e| e + 1);
            continue;
        }
        let closing = rest.starts_with("</");
        let body_start = if closing { 2 } else { 1 };
        let bytes = rest.as_bytes();
        let mut j = body_start;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        if j == body_start {
            i = start + 1;
            continue;
        }
        let name = rest[body_start..j].to_ascii_lowercase();
        // Attributes, up to the `>` that is outside quotes.
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let k0 = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let key = rest[k0..j].to_ascii_lowercase();
            let mut value = String::new();
            if j < bytes.len() && bytes[j] == b'=' {
                j += 1;
                if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                    let quote = bytes[j];
                    let v0 = j + 1;
                    j = v0;
                    while j < bytes.len() && bytes[j] != quote {
                        j += 1;
                    }
                    value = decode_entities(&rest[v0..j.min(bytes.len())]);
                    j += 1;
                } else {
                    let v0 = j;
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    value = decode_entities(&rest[v0..j]);
                }
            }
            if key.is_empty() {
                j += 1;
            } else {
                attrs.push((key, value));
            }
        }
        let end = (start + j + 1).min(html.len());
        let mut tag = Tag {
            name: name.clone(),
            closing,
            attrs,
            text: String::new(),
        };
        i = end;
        if !closing && matches!(name.as_str(), "script" | "style" | "textarea" | "option") {
            let close = format!("</{name}");
            let stop = if name == "option" {
                // An option ends at the next tag.
                html[end..].find('<').map_or(html.len(), |e| end + e)
            } else {
                html[end..].find(&close).map_or(html.len(), |e| end + e)
            };
            tag.text = decode_entities(&html[end..stop]);
            if name != "option" {
                i = stop;
            }
        }
        out.push(tag);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Typed or chosen by the person (text, textarea, select, radio, checkbox, date…).
    Text,
    /// Hidden fields and the value of a named submit button: sent by the page, but a client
    /// can send anything.
    Hidden,
    File,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    /// What a browser sends when the form is submitted untouched (`None`: nothing, as for an
    /// unchecked box or an unpressed button).
    value: Option<String>,
}

#[derive(Debug, Clone)]
struct Form {
    method: reqwest::Method,
    action: String,
    multipart: bool,
    fields: Vec<Field>,
}

impl Form {
    /// The same form on another page or row counts once.
    fn key(&self) -> String {
        let mut names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        format!("{} {} {}", self.method, self.action, names.join(","))
    }

    /// The names a client might tamper with: every field but the CSRF token and file inputs.
    fn targets(&self) -> Vec<(&str, Kind)> {
        let mut seen = HashSet::new();
        self.fields
            .iter()
            .filter(|f| f.name != "csrf" && f.kind != Kind::File)
            .filter(|f| seen.insert(f.name.as_str()))
            .map(|f| (f.name.as_str(), f.kind))
            .collect()
    }

    /// The pairs a browser sends, with `target`'s value replaced by `value`.
    fn pairs(&self, target: &str, value: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut replaced = false;
        for f in &self.fields {
            if f.kind == Kind::File {
                continue;
            }
            if f.name == target {
                if !replaced {
                    out.push((f.name.clone(), value.to_owned()));
                    replaced = true;
                }
            } else if let Some(v) = &f.value {
                out.push((f.name.clone(), v.clone()));
            }
        }
        if !replaced {
            out.push((target.to_owned(), value.to_owned()));
        }
        out
    }
}

/// A link or action resolved against the page it is on: a path and query of this site, or
/// `None` for another origin, a fragment or a script.
fn resolve(page: &str, href: &str) -> Option<String> {
    let href = href.split('#').next().unwrap_or_default();
    if href.is_empty() {
        return Some(page.to_owned());
    }
    if href.starts_with("//") || href.contains("://") || href.starts_with("javascript:") {
        return None;
    }
    if href.starts_with("mailto:") || href.starts_with("data:") {
        return None;
    }
    if href.starts_with('/') {
        return Some(href.to_owned());
    }
    if let Some(query) = href.strip_prefix('?') {
        let path = page.split('?').next().unwrap_or("/");
        return Some(format!("{path}?{query}"));
    }
    let path = page.split('?').next().unwrap_or("/");
    let dir = &path[..=path.rfind('/').unwrap_or(0)];
    Some(format!("{dir}{href}"))
}

/// The links and forms of one page.
fn read_page(page: &str, html: &str) -> (Vec<String>, Vec<Form>) {
    let mut links = Vec::new();
    let mut forms = Vec::new();
    let mut current: Option<Form> = None;
    let mut select: Option<(String, Option<String>, Option<String>)> = None;
    for tag in tags(html) {
        match (tag.name.as_str(), tag.closing) {
            ("a", false) => {
                if let Some(link) = tag.attr("href").and_then(|h| resolve(page, h)) {
                    links.push(link);
                }
            }
            ("form", false) => {
                let method = match tag.attr("method").map(str::to_ascii_lowercase).as_deref() {
                    Some("post") => reqwest::Method::POST,
                    _ => reqwest::Method::GET,
                };
                let Some(action) = resolve(page, tag.attr("action").unwrap_or_default()) else {
                    continue;
                };
                current = Some(Form {
                    method,
                    action,
                    multipart: tag
                        .attr("enctype")
                        .is_some_and(|e| e.starts_with("multipart/")),
                    fields: Vec::new(),
                });
            }
            ("form", true) => forms.extend(current.take()),
            ("input", false) => {
                let (Some(form), Some(name)) = (current.as_mut(), tag.attr("name")) else {
                    continue;
                };
                let ty = tag.attr("type").unwrap_or("text").to_ascii_lowercase();
                let value = tag.attr("value").unwrap_or_default().to_owned();
                let (kind, value) = match ty.as_str() {
                    "file" => (Kind::File, None),
                    "hidden" => (Kind::Hidden, Some(value)),
                    "submit" | "image" | "button" | "reset" => (Kind::Hidden, None),
                    "checkbox" | "radio" => {
                        let value = if value.is_empty() { "on".into() } else { value };
                        let checked = tag.has("checked");
                        // A radio group sends one value: the checked one.
                        if checked {
                            form.fields.retain(|f| f.name != name || f.value.is_none());
                        }
                        (Kind::Text, checked.then_some(value))
                    }
                    _ => (Kind::Text, Some(value)),
                };
                form.fields.push(Field {
                    name: name.to_owned(),
                    kind,
                    value,
                });
            }
            ("textarea", false) => {
                let (Some(form), Some(name)) = (current.as_mut(), tag.attr("name")) else {
                    continue;
                };
                // A newline right after the start tag is not part of the value.
                let text = tag.text.strip_prefix('\n').unwrap_or(&tag.text).to_owned();
                form.fields.push(Field {
                    name: name.to_owned(),
                    kind: Kind::Text,
                    value: Some(text),
                });
            }
            ("button", false) => {
                let (Some(form), Some(name)) = (current.as_mut(), tag.attr("name")) else {
                    continue;
                };
                let ty = tag.attr("type").unwrap_or("submit");
                if ty != "submit" {
                    continue;
                }
                // The first named button is the one pressed.
                let pressed = !form.fields.iter().any(|f| f.name == name);
                form.fields.push(Field {
                    name: name.to_owned(),
                    kind: Kind::Hidden,
                    value: pressed.then(|| tag.attr("value").unwrap_or_default().to_owned()),
                });
            }
            ("select", false) => {
                select = tag.attr("name").map(|n| (n.to_owned(), None, None));
            }
            ("option", false) => {
                if let Some((_, first, selected)) = select.as_mut() {
                    let value = tag
                        .attr("value")
                        .map_or_else(|| tag.text.trim().to_owned(), str::to_owned);
                    if first.is_none() {
                        *first = Some(value.clone());
                    }
                    if tag.has("selected") {
                        *selected = Some(value);
                    }
                }
            }
            ("select", true) => {
                if let (Some(form), Some((name, first, selected))) =
                    (current.as_mut(), select.take())
                {
                    form.fields.push(Field {
                        name,
                        kind: Kind::Text,
                        value: selected.or(first),
                    });
                }
            }
            _ => {}
        }
    }
    (links, forms)
}

/// The crawl's identity of an address: its path and the names (not values) of its query, so
/// that the calendar's "next month" does not lead on forever.
fn shape(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut keys: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    keys.sort();
    keys.dedup();
    format!("{path}?{}", keys.join("&"))
}

/// Addresses that are not pages to read (files, scripts, the simulator).
fn not_a_page(path: &str) -> bool {
    path.starts_with("/static/")
        || path.starts_with("/favicon")
        || path.starts_with("/media/")
        || path.starts_with("/_sandbox/")
        || path.ends_with("/file")
        || path.ends_with("/thumb")
        || path.ends_with("/download")
        || path.ends_with(".json")
}

/// What one browser found: the pages it read (with their query names) and the forms on them.
#[derive(Default)]
struct Crawl {
    pages: Vec<String>,
    forms: BTreeMap<String, Form>,
}

async fn crawl(client: &Client, seeds: &[String], failures: &mut Vec<String>) -> Crawl {
    let mut out = Crawl::default();
    let mut queue: VecDeque<String> = seeds.iter().cloned().collect();
    let mut seen: HashSet<String> = seeds.iter().map(|s| shape(s)).collect();
    while let Some(url) = queue.pop_front() {
        if out.pages.len() >= MAX_PAGES {
            break;
        }
        let res = client.get(&url).await;
        let status = res.status();
        if status.is_server_error() {
            failures.push(format!("GET {url} (untouched) → {status}"));
        }
        let html = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let body = res.text().await.unwrap_or_default();
        out.pages.push(url.clone());
        if !html || status != StatusCode::OK {
            continue;
        }
        let (links, forms) = read_page(&url, &body);
        for form in forms {
            out.forms.entry(form.key()).or_insert(form);
        }
        for link in links {
            let path = link.split('?').next().unwrap_or_default();
            if not_a_page(path) || !seen.insert(shape(&link)) {
                continue;
            }
            queue.push_back(link);
        }
    }
    out
}

/// Forms whose action would end the crawl: signing out, deleting the account, leaving the
/// workspace, removing a member (the owner among them), and ending one session (the crawler's
/// own among them).
fn skipped(action: &str) -> bool {
    let path = action.split('?').next().unwrap_or_default();
    let one_session = path.starts_with("/settings/sessions/")
        && path.ends_with("/end")
        && path != "/settings/sessions/others/end";
    one_session
        || path == "/logout"
        || path == "/settings/account/delete"
        || path.ends_with("/leave")
        || path.ends_with("/remove")
}

/// Forms that delete or disconnect go last, so the others still find what they act on.
fn destructive(action: &str) -> bool {
    action.ends_with("/delete") || action.ends_with("/disconnect") || action.ends_with("/revoke")
}

/// One request to send and how to describe it.
struct Probe {
    label: String,
    method: reqwest::Method,
    url: String,
    body: Body,
}

enum Body {
    None,
    Form(Vec<(String, String)>),
    Multipart(Vec<(String, String)>, Vec<String>),
}

fn with_query(url: &str, pairs: &[(String, String)]) -> String {
    let path = url.split('?').next().unwrap_or(url);
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}

/// Each form sent once per target field with a NUL in it and once with a long value.
fn form_probes(forms: &[&Form], long: &str, counts: &mut Counts) -> Vec<Probe> {
    let mut out = Vec::new();
    for form in forms {
        counts.forms += 1;
        for (name, kind) in form.targets() {
            match kind {
                Kind::Text => counts.text_fields += 1,
                _ => counts.hidden_fields += 1,
            }
            for (what, value) in [("NUL", "a\u{0}b".to_owned()), ("long", long.to_owned())] {
                let pairs = form.pairs(name, &value);
                let label = format!("{} {} [{name}: {what}]", form.method, form.action);
                let files: Vec<String> = form
                    .fields
                    .iter()
                    .filter(|f| f.kind == Kind::File)
                    .map(|f| f.name.clone())
                    .collect();
                let probe = if form.method == reqwest::Method::GET {
                    Probe {
                        label,
                        method: reqwest::Method::GET,
                        url: with_query(&form.action, &pairs),
                        body: Body::None,
                    }
                } else if form.multipart {
                    Probe {
                        label,
                        method: reqwest::Method::POST,
                        url: form.action.clone(),
                        body: Body::Multipart(pairs, files),
                    }
                } else {
                    Probe {
                        label,
                        method: reqwest::Method::POST,
                        url: form.action.clone(),
                        body: Body::Form(pairs),
                    }
                };
                out.push(probe);
            }
        }
    }
    out
}

/// Every crawled address with a NUL appended to each of its path segments, and with a NUL as
/// the value of each query parameter it takes (its own, its forms', and a few common ones).
fn address_probes(pages: &[String], forms: &[&Form], counts: &mut Counts) -> Vec<Probe> {
    let mut out = Vec::new();
    let mut done = HashSet::new();
    for url in pages {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let segments: Vec<&str> = path.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            if segment.is_empty() && i + 1 != segments.len() {
                continue;
            }
            let mut tampered = segments.clone();
            let poisoned = format!("{segment}%00");
            tampered[i] = &poisoned;
            let target = tampered.join("/");
            if done.insert(target.clone()) {
                counts.path_segments += 1;
                out.push(Probe {
                    label: format!("GET {target}"),
                    method: reqwest::Method::GET,
                    url: target,
                    body: Body::None,
                });
            }
        }
        let own: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut keys: BTreeSet<String> = own.iter().map(|(k, _)| k.clone()).collect();
        for form in forms {
            if form.method == reqwest::Method::GET && form.action.split('?').next() == Some(path) {
                keys.extend(form.targets().into_iter().map(|(n, _)| n.to_owned()));
            }
        }
        keys.extend(["q", "next", "from", "to"].map(str::to_owned));
        for key in keys {
            let mut pairs: Vec<(String, String)> =
                own.iter().filter(|(k, _)| *k != key).cloned().collect();
            pairs.push((key.clone(), "\u{0}".to_owned()));
            let target = with_query(path, &pairs);
            if done.insert(target.clone()) {
                counts.query_values += 1;
                out.push(Probe {
                    label: format!("GET {path}?{key}=%00"),
                    method: reqwest::Method::GET,
                    url: target,
                    body: Body::None,
                });
            }
        }
    }
    out
}

#[derive(Default, Debug)]
struct Counts {
    pages: usize,
    forms: usize,
    text_fields: usize,
    hidden_fields: usize,
    path_segments: usize,
    query_values: usize,
    requests: usize,
}

async fn send(client: &Client, probe: &Probe) -> StatusCode {
    let url = client.url(&probe.url);
    let request = match &probe.body {
        Body::None => client.http.request(probe.method.clone(), url),
        Body::Form(pairs) => client.http.post(url).form(pairs),
        Body::Multipart(pairs, files) => {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in pairs {
                form = form.text(k.clone(), v.clone());
            }
            for name in files {
                form = form.part(
                    name.clone(),
                    reqwest::multipart::Part::bytes(png(8, 8, 3)).file_name("tiny.png"),
                );
            }
            client.http.post(url).multipart(form)
        }
    };
    match request.send().await {
        Ok(res) => res.status(),
        Err(err) => panic!("{}: {err}", probe.label),
    }
}

/// Sends `probes` a few at a time, counting the answers by status; returns those answered
/// with a 5xx.
async fn run(
    client: &Client,
    probes: &[Probe],
    statuses: &mut BTreeMap<u16, usize>,
) -> Vec<String> {
    let answers: Vec<(&Probe, StatusCode)> = futures_util::stream::iter(probes)
        .map(|probe| async move { (probe, send(client, probe).await) })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut failures = Vec::new();
    for (probe, status) in answers {
        *statuses.entry(status.as_u16()).or_default() += 1;
        if status.is_server_error() {
            failures.push(format!("{} → {status}", probe.label));
        }
    }
    failures
}

/// An owner whose workspace has one of everything a page can show.
async fn owner_with_content(app: &TestApp) -> (Client, i64) {
    let client = app.verified_user("Ada Lovelace", "ada@example.com").await;
    let ws = client.new_workspace("Acme").await;
    let account = app.connect_account(ws, Platform::X, "acme_x").await;
    client
        .new_campaign(
            ws,
            "Spring launch",
            "Everything for March",
            ("2027-03-01", "2027-03-31"),
        )
        .await;
    let media = app
        .upload_media(&client, ws, "spring.png", png(32, 24, 7))
        .await;
    let when = (chrono::Utc::now() + chrono::Duration::days(3)).naive_utc();
    app.save_post(
        "ada@example.com",
        ws,
        post_input(
            "Spring is here",
            &[account],
            vec![media],
            services::posts::Intent::Schedule(when),
        ),
    )
    .await;
    app.save_post(
        "ada@example.com",
        ws,
        post_input(
            "A draft",
            &[account],
            vec![],
            services::posts::Intent::Draft,
        ),
    )
    .await;
    // A second member (her role can be changed) and an open invitation.
    let link = app.invite(&client, ws, "grace@example.com", "editor").await;
    let grace = app.verified_user("Grace Hopper", "grace@example.com").await;
    grace.accept(&link).await;
    app.invite(&client, ws, "linus@example.com", "viewer").await;
    (client, ws)
}

async fn no_generated_request_with_a_nul_or_a_long_value_gets_a_500(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let started = std::time::Instant::now();
    let (owner, ws) = owner_with_content(&app).await;
    let anonymous = app.client();
    let mut failures = Vec::new();
    let mut counts = Counts::default();

    let owner_seeds = [
        "/dashboard".to_owned(),
        format!("/w/{ws}"),
        "/settings".to_owned(),
    ];
    let owner_crawl = crawl(&owner, &owner_seeds, &mut failures).await;
    let anonymous_seeds = [
        "/".to_owned(),
        "/login".to_owned(),
        "/signup".to_owned(),
        "/password/forgot".to_owned(),
        "/legal".to_owned(),
    ];
    let anonymous_crawl = crawl(&anonymous, &anonymous_seeds, &mut failures).await;
    assert!(
        owner_crawl.pages.len() >= 20,
        "the crawl reached the workspace's pages: {:?}",
        owner_crawl.pages
    );
    for expected in ["/posts", "/campaigns", "/media", "/accounts", "/settings"] {
        assert!(
            owner_crawl
                .pages
                .iter()
                .any(|p| p.starts_with(&format!("/w/{ws}{expected}")) || p == expected),
            "the crawl reached {expected}: {:?}",
            owner_crawl.pages
        );
    }

    let long = "x".repeat(LONG);
    let mut skipped_forms = BTreeSet::new();
    let mut statuses = BTreeMap::new();
    for (who, client, found) in [
        ("owner", &owner, &owner_crawl),
        ("signed out", &anonymous, &anonymous_crawl),
    ] {
        counts.pages += found.pages.len();
        let mut forms: Vec<&Form> = Vec::new();
        for form in found.forms.values() {
            if skipped(&form.action) {
                skipped_forms.insert(format!("{} {}", form.method, form.action));
            } else {
                forms.push(form);
            }
        }
        forms.sort_by_key(|f| destructive(&f.action));
        assert!(
            forms.iter().any(|f| f.method == reqwest::Method::POST),
            "{who}: the crawl found forms to send"
        );
        // Addresses first (the forms may delete what they name), then the forms in order.
        let addresses = address_probes(&found.pages, &forms, &mut counts);
        counts.requests += addresses.len();
        failures.extend(run(client, &addresses, &mut statuses).await);
        let (safe, last): (Vec<&Form>, Vec<&Form>) =
            forms.iter().partition(|f| !destructive(&f.action));
        for batch in [safe, last] {
            let probes = form_probes(&batch, &long, &mut counts);
            counts.requests += probes.len();
            failures.extend(run(client, &probes, &mut statuses).await);
        }
    }
    // The crawl covered the forms the audit found failing.
    let all_forms: Vec<&String> = owner_crawl.forms.keys().collect();
    for needle in [
        format!("POST /w/{ws}/posts "),
        format!("POST /w/{ws}/campaigns "),
        format!("GET /w/{ws}/media "),
        format!("POST /w/{ws}/media/upload "),
        format!("POST /w/{ws}/media/import "),
    ] {
        assert!(
            all_forms.iter().any(|k| k.starts_with(&needle)),
            "no form {needle:?} among {all_forms:#?}"
        );
    }
    println!(
        "input hygiene ({backend:?}): {} pages crawled, {} forms with {} typed and {} hidden \
         fields, {} path segments and {} query values, {} requests in {:.1} s; answers by \
         status: {statuses:?}; skipped forms: {:?}",
        counts.pages,
        counts.forms,
        counts.text_fields,
        counts.hidden_fields,
        counts.path_segments,
        counts.query_values,
        counts.requests,
        started.elapsed().as_secs_f64(),
        skipped_forms,
    );
    assert!(
        failures.is_empty(),
        "{} requests got a server error:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const CONTROL_MESSAGE: &str = "control character";

async fn the_policy_pages_refuse_a_nul_with_a_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let visitor = app.client();
    for path in [
        "/legal/terms/v/%00",
        "/legal/terms/diff?from=%00",
        "/legal/terms/diff?from=1&to=%00",
        "/legal/privacy%00",
        "/login?next=%2Fdashboard%00",
    ] {
        let res = visitor.get(path).await;
        let html = expect_page(res, StatusCode::BAD_REQUEST, CONTROL_MESSAGE).await;
        assert!(html.contains("<html"), "{path}: the product's page");
    }
    // Tab, newline and carriage return are ordinary text; a NUL written as text is too.
    let res = visitor.get("/legal/terms/diff?from=%09").await;
    assert_ne!(res.status(), StatusCode::BAD_REQUEST);
    let res = visitor.get("/legal/terms/v/%5C0").await;
    assert_ne!(res.status(), StatusCode::BAD_REQUEST);
}

async fn a_nul_in_a_form_is_refused_before_anything_is_saved(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (owner, ws) = owner_with_content(&app).await;
    let posts = app.count("SELECT COUNT(*) FROM posts").await;
    let campaigns = app.count("SELECT COUNT(*) FROM campaigns").await;
    let account = app
        .count("SELECT id FROM social_accounts")
        .await
        .to_string();
    // Post text, first comment and campaign fields, each with a NUL or another control
    // character.
    for (field, value) in [
        ("body", "Hello\u{0}world"),
        ("first_comment", "More\u{0}"),
        ("body", "Bell\u{7}"),
        ("body", "C1\u{9f}control"),
    ] {
        let mut fields = vec![
            ("body", "Hello world"),
            ("account", account.as_str()),
            ("action", "draft"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let res = owner.submit(&format!("/w/{ws}/posts"), &fields).await;
        expect_page(res, StatusCode::BAD_REQUEST, CONTROL_MESSAGE).await;
    }
    for field in ["name", "description"] {
        let mut fields = vec![
            ("name", "Autumn"),
            ("description", "Leaves"),
            ("colour", "#16a34a"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, "x\u{0}y"));
        let res = owner.submit(&format!("/w/{ws}/campaigns"), &fields).await;
        expect_page(res, StatusCode::BAD_REQUEST, CONTROL_MESSAGE).await;
    }
    // A multipart text field: the upload's folder.
    let res = owner
        .upload(
            &format!("/w/{ws}/media/upload"),
            &[("folder", "ban\u{0}ners")],
            vec![("late.png", png(8, 8, 9))],
            true,
        )
        .await;
    expect_page(res, StatusCode::BAD_REQUEST, CONTROL_MESSAGE).await;
    // The media library's filters.
    for query in ["q=%00", "folder=%00", "kind=%00"] {
        let res = owner.get(&format!("/w/{ws}/media?{query}")).await;
        expect_page(res, StatusCode::BAD_REQUEST, CONTROL_MESSAGE).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, posts);
    assert_eq!(app.count("SELECT COUNT(*) FROM campaigns").await, campaigns);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM media_items WHERE filename = 'late.png'")
            .await,
        0
    );
    // A text with tabs and line breaks is still an ordinary post.
    let res = owner
        .submit(
            &format!("/w/{ws}/posts"),
            &[
                ("body", "Line one\r\n\tLine two"),
                ("account", account.as_str()),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM posts").await, posts + 1);
}

async fn a_very_long_media_search_is_refused_with_a_message(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (owner, ws) = owner_with_content(&app).await;
    let long = "x".repeat(LONG);
    let res = owner.get(&format!("/w/{ws}/media?q={long}")).await;
    assert!(
        res.status().is_client_error(),
        "a refusal, not {}",
        res.status()
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("at most 200 characters"), "{html}");
    // Many short words make one long search too.
    let words = "ab ".repeat(300);
    let res = owner
        .get(&format!("/w/{ws}/media?q={}", words.replace(' ', "+")))
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    // 200 characters are still a search, and find the file.
    let fitting = format!("{}png", "spring ".repeat(28));
    assert!(fitting.chars().count() <= 200);
    let html = owner
        .get_text(&format!("/w/{ws}/media?q={}", fitting.replace(' ', "+")))
        .await;
    assert!(
        html.contains("spring.png"),
        "the search still finds the file"
    );
}

/// The Generate forms exist only on an instance with AI providers (the crawl above has none):
/// each of them (video, reel and character; their Enhance buttons too) gets a NUL and a very
/// long value in every field, on an instance whose AI is the simulator's.
async fn the_generate_forms_take_a_nul_or_a_long_value_without_a_500(backend: Backend) {
    let Some((s, owner, ws)) = crate::generate_character::speakers(backend).await else {
        return;
    };
    s.app
        .upload_media(&owner, ws, "portrait.png", png(64, 64, 9))
        .await;
    let mut forms = Vec::new();
    for tab in ["video", "reel", "character"] {
        let page = format!("/w/{ws}/media/generate/{tab}");
        let html = owner.get_text(&page).await;
        let (_, found) = read_page(&page, &html);
        let generate: Vec<Form> = found
            .into_iter()
            .filter(|f| f.action == page && f.method == reqwest::Method::POST)
            .collect();
        assert_eq!(generate.len(), 1, "{page}: {html}");
        assert!(
            generate[0].fields.iter().any(|f| f.name == "enhance"),
            "{page} has an Enhance button"
        );
        forms.extend(generate);
    }
    let mut counts = Counts::default();
    let long = "x".repeat(LONG);
    let forms: Vec<&Form> = forms.iter().collect();
    let probes = form_probes(&forms, &long, &mut counts);
    assert!(probes.len() >= 20, "{} probes", probes.len());
    let mut statuses = BTreeMap::new();
    let calls = s.sim.openai_calls();
    let failures = run(&owner, &probes, &mut statuses).await;
    assert_eq!(
        s.sim.openai_calls(),
        calls,
        "a probe reached the text provider"
    );
    assert!(
        failures.is_empty(),
        "{} requests got a server error:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Refused, all of them: nothing was asked of a provider.
    assert_eq!(
        s.app.count("SELECT COUNT(*) FROM media_generations").await,
        0,
        "{statuses:?}"
    );
}
