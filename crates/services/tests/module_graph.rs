//! The services crate's modules import one another in one direction only: no module imports one
//! that imports it back, directly or through others. A loop would mean two areas that cannot be
//! read (or changed) one without the other; see the crate's layers in `src/lib.rs`.
//!
//! The check reads the source as text: every `crate::a::b` path (in `use` lines, grouped
//! `use crate::{…}` lines and inline paths) and every `super::x` path becomes an arrow from the
//! file to the deepest module file the path names. `mod` lines and the crate root are not
//! arrows, and test modules at the end of a file are left out.

#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module, by its path below the crate (`["deletion", "steps"]`).
type Module = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file
        .strip_prefix(src)
        .expect("below src")
        .with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its trailing test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths a file names after `prefix` (`crate::` or `super::`), expanding one level of
/// `{a, b::c}` groups; each path as its segments.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        let mut path = Vec::new();
        let mut tail = rest;
        loop {
            let ident: String = tail.chars().take_while(|c| is_ident(*c)).collect();
            if ident.is_empty() {
                break;
            }
            tail = &tail[ident.len()..];
            path.push(ident);
            if let Some(next) = tail.strip_prefix("::") {
                tail = next;
            } else {
                break;
            }
        }
        if let Some(group) = tail.strip_prefix('{') {
            let mut depth = 0;
            let body: String = group
                .chars()
                .take_while(|c| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => return false,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    true
                })
                .collect();
            // Items at the group's own level; a nested group counts by its first segments.
            let mut items = Vec::new();
            let (mut level, mut start) = (0, 0);
            for (i, c) in body.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 0 => {
                        items.push(&body[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&body[start..]);
            for item in items {
                let mut full = path.clone();
                full.extend(
                    item.trim()
                        .split("::")
                        .map(|s| s.trim().to_owned())
                        .take_while(|s| !s.is_empty() && s.chars().all(is_ident)),
                );
                found.push(full);
            }
        } else {
            found.push(path);
        }
    }
    found
}

/// The deepest module that `path` names, if it names one.
fn target(modules: &BTreeSet<Module>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains(m))
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut arrows: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let me = module_of(&src, file);
        // `super` of `a/b.rs` and of `a/b/mod.rs` (both module `a::b`) is `a`.
        let parent: Module = me[..me.len().saturating_sub(1)].to_vec();
        let code = code_of(&std::fs::read_to_string(file).expect("readable source"));
        let mut paths = paths_after(&code, "crate::");
        for path in paths_after(&code, "super::") {
            let mut full = parent.clone();
            full.extend(path);
            paths.push(full);
        }
        let targets = arrows.entry(me.clone()).or_default();
        for path in paths {
            if let Some(to) = target(&modules, &path)
                && to != me
                && !to.is_empty()
            {
                targets.insert(to);
            }
        }
    }
    arrows
}

/// The loops of the graph (strongly connected parts of more than one module).
fn loops(arrows: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<BTreeSet<Module>> {
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for next in arrows.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Module, BTreeSet<Module>> =
        arrows.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<BTreeSet<Module>> = Vec::new();
    for (m, from_m) in &reached {
        if !from_m.contains(*m) || found.iter().any(|l| l.contains(*m)) {
            continue;
        }
        let part: BTreeSet<Module> = from_m
            .iter()
            .filter(|other| reached.get(other).is_some_and(|r| r.contains(*m)))
            .cloned()
            .collect();
        found.push(part);
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let arrows = graph();
    assert!(
        arrows.len() > 30 && arrows.values().map(BTreeSet::len).sum::<usize>() > 80,
        "the source was not read: {} modules",
        arrows.len()
    );
    let found = loops(&arrows);
    let shown: Vec<Vec<String>> = found
        .iter()
        .map(|l| l.iter().map(|m| m.join("::")).collect())
        .collect();
    assert!(shown.is_empty(), "import loops in services: {shown:#?}");
}

#[test]
fn the_check_sees_a_loop() {
    let module = |s: &str| -> Module { s.split("::").map(str::to_owned).collect() };
    let mut arrows: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    arrows.entry(module("a")).or_default().insert(module("b"));
    arrows
        .entry(module("b"))
        .or_default()
        .insert(module("c::d"));
    arrows
        .entry(module("c::d"))
        .or_default()
        .insert(module("a"));
    arrows.entry(module("e")).or_default().insert(module("a"));
    let found = loops(&arrows);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0],
        ["a", "b", "c::d"].into_iter().map(module).collect()
    );
    let code =
        "use crate::{Result, jobs::{Job, JobError}, queue};\nlet x = super::receipt::Via::App;";
    assert_eq!(
        paths_after(code, "crate::"),
        vec![
            vec!["Result".to_owned()],
            vec!["jobs".to_owned()],
            vec!["queue".to_owned()]
        ]
    );
    assert_eq!(
        paths_after(code, "super::"),
        vec![vec![
            "receipt".to_owned(),
            "Via".to_owned(),
            "App".to_owned()
        ]]
    );
}
