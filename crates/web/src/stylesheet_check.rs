//! A check that the stylesheet styles what the templates use: every class named in a template
//! has a rule in `static/app.css` (a class built from a value, `state-{{ … }}`, needs a rule
//! for its fixed beginning, `.state-…`). Unstyled markup, such as a media library rendered as
//! a bare list of full-size images, fails here rather than in front of a person.

use std::path::{Path, PathBuf};

/// The classes of every `class="…"` attribute in `html`. Template tags are removed
/// (`{% if x %} a{% endif %}` names `a`), and a value tag makes the class a prefix, returned
/// with a trailing `*`.
fn classes(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("class=\"") {
        rest = &rest[at + "class=\"".len()..];
        let mut value = String::new();
        loop {
            if rest.starts_with("{%") || rest.starts_with("{{") {
                let close = if rest.starts_with("{%") { "%}" } else { "}}" };
                let end = rest.find(close).map_or(rest.len(), |e| e + 2);
                value.push(if close == "}}" { '*' } else { ' ' });
                rest = &rest[end..];
            } else if let Some(c) = rest.chars().next() {
                rest = &rest[c.len_utf8()..];
                if c == '"' {
                    break;
                }
                value.push(c);
            } else {
                break;
            }
        }
        found.extend(value.split_whitespace().map(str::to_owned));
    }
    found
}

/// Whether `css` has a selector naming `class` (or, for `prefix*`, a class starting so).
fn styled(css: &str, class: &str) -> bool {
    let (name, prefix) = match class.split_once('*') {
        Some((start, _)) => (start, true),
        None => (class, false),
    };
    if name.is_empty() {
        return true;
    }
    let needle = format!(".{name}");
    css.match_indices(&needle).any(|(at, _)| {
        let next = css[at + needle.len()..].chars().next();
        prefix || !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

fn templates(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            templates(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

#[test]
fn the_class_reader_understands_template_tags() {
    let html = r#"<li class="field{% if errors.get("x").is_some() %} has-error{% endif %}">
        <span class="badge state-{{ p.state.class }}">"#;
    assert_eq!(classes(html), ["field", "has-error", "badge", "state-*"]);
    let css = ".field { } .badge.state-ok { } .has-errors { }";
    assert!(styled(css, "field") && styled(css, "state-*") && styled(css, "badge"));
    assert!(
        !styled(css, "has-error"),
        "a longer class name is another class"
    );
    assert!(!styled(css, "media-grid"));
}

#[test]
fn every_class_a_template_uses_has_a_rule_in_the_stylesheet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let css = std::fs::read_to_string(root.join("static/app.css")).unwrap();
    let mut files = Vec::new();
    templates(&root.join("templates"), &mut files);
    assert!(files.len() > 20, "the templates were not found");
    let mut missing: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let html = std::fs::read_to_string(file).unwrap();
            let name = file.strip_prefix(root).unwrap().display().to_string();
            classes(&html)
                .into_iter()
                .filter(|class| !styled(&css, class))
                .map(move |class| format!("{class} ({name})"))
        })
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "classes used in templates with no rule in static/app.css: {missing:?}"
    );
}
