//! The house's one direction, checked: the `crate::` import graph between the top-level parts of
//! `src/` (a folder or a file is a part) must follow the layers below, bottom first, so that no
//! import cycle can come back. A failure names the edge that goes the wrong way.
//!
//! Also checked here: the front end's list of transports names the same transports, in the same
//! order and at the same paths, as the server's `Transport`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use pushlab::transport_kind::Transport;

/// The parts of `src/`, bottom first. A part may import only parts of a lower layer.
const LAYERS: &[&[&str]] = &[
    // Foundations: they import nothing of pushlab.
    &[
        "batch_send",
        "config",
        "error",
        "lang",
        "redact",
        "sessions",
        "signals",
        "telemetry",
        "timer_grid",
        "transport_kind",
    ],
    // Per-client limits: who a client is, how often it may act.
    &["limits"],
    // RFC 6455 as a library.
    &["ws"],
    // The feed (each event's frame is encoded once, at publish).
    &["feed"],
    // What is measured, and what the instructor simulates.
    &["meter", "network"],
    // Several servers, one feed: the broker's stream (it measures its own hop).
    &["broker"],
    // The shared state.
    &["state"],
    // Who is the instructor, and the controls behind the token.
    &["admin"],
    // The five transports.
    &["transport"],
    // The other endpoints and the pages.
    &["api", "pages"],
    &["export"],
    // The server's edge.
    &["server"],
    // The app's assembly.
    &["routes"],
    &["lib"],
    &["bench"],
    &["main"],
];

/// `part -> parts it imports`, read from `crate::NAME` paths (also inside `use crate::{..}`
/// groups); in `lib.rs`, from the paths that start with a part's name.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut parts: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(src).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // `api.rs` and its submodules in `api/` are one part.
        if path.is_dir() {
            parts.entry(name).or_default().extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            parts.entry(name).or_default().push(path);
        }
    }
    let names: BTreeSet<String> = parts.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (part, files) in &parts {
        let mut targets = BTreeSet::new();
        for file in files {
            let text = without_comments(&fs::read_to_string(file).expect("a readable file"));
            for name in crate_paths(&text) {
                // A name that is no part (`crate::Config`, a re-export) is the crate root's.
                let target = if names.contains(&name) {
                    name
                } else {
                    "lib".into()
                };
                targets.insert(target);
            }
            if part == "lib" {
                targets.extend(
                    names
                        .iter()
                        .filter(|n| {
                            text.contains(&format!(" {n}::")) || text.contains(&format!("({n}::"))
                        })
                        .cloned(),
                );
            }
        }
        targets.remove(part);
        graph.insert(part.clone(), targets);
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path, including each item of a `crate::{...}` group.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            for item in top_level_items(group) {
                names.extend(identifier(item.trim_start()));
            }
        } else {
            names.extend(identifier(rest));
        }
    }
    names
}

/// The comma-separated items of a brace group, up to its closing brace (nested groups kept whole).
fn top_level_items(group: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0usize, 0usize, Vec::new());
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// A leading lowercase identifier (a module name), if any.
fn identifier(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect();
    (!name.is_empty() && text[name.len()..].starts_with("::")).then_some(name)
}

/// Every edge that does not go to a lower layer, as "a -> b (layer i -> layer j)".
fn upward_edges(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let layer_of = |part: &str| LAYERS.iter().position(|layer| layer.contains(&part));
    let mut wrong = Vec::new();
    for (from, targets) in graph {
        let Some(from_layer) = layer_of(from) else {
            wrong.push(format!("{from}: a part of src/ that LAYERS does not place"));
            continue;
        };
        for to in targets {
            match layer_of(to) {
                Some(to_layer) if to_layer < from_layer => {}
                Some(to_layer) => wrong.push(format!(
                    "{from} -> {to} (layer {from_layer} imports layer {to_layer}: only lower ones)"
                )),
                None => wrong.push(format!("{from} -> {to}: a part LAYERS does not place")),
            }
        }
    }
    wrong
}

#[test]
fn every_import_goes_down_the_layers() {
    let graph = import_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.contains_key("feed") && graph.contains_key("server"),
        "{graph:?}"
    );
    let wrong = upward_edges(&graph);
    assert!(
        wrong.is_empty(),
        "imports against the direction of the house (tests/architecture.rs LAYERS):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn an_edge_back_up_is_named() {
    // The checker itself: the graph of today plus one edge back up must fail, naming it.
    let mut graph = import_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    graph.get_mut("ws").unwrap().insert("server".into());
    assert_eq!(
        upward_edges(&graph),
        vec!["ws -> server (layer 2 imports layer 11: only lower ones)".to_string()]
    );
    let text = "use crate::{\n    error::ApiError,\n    server::{ClientStream, tap},\n};\nlet x = crate::feed::Hub::new(1);";
    assert_eq!(
        crate_paths(text),
        ["error", "feed", "server"].map(String::from).into()
    );
}

#[test]
fn the_front_end_lists_the_transports_of_the_server() {
    let static_js = Path::new(env!("CARGO_MANIFEST_DIR")).join("static/js");
    let file = find_file(&static_js, "transports.js").expect("static/js has a transports.js");
    let text = fs::read_to_string(&file).unwrap();
    // Entries are lines that read `{ id: "poll", path: "/api/poll" },`.
    let listed: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| {
            let entry = line.trim().strip_prefix("{ id: \"")?;
            let (id, rest) = entry.split_once('"')?;
            let path = rest.strip_prefix(", path: \"")?.split_once('"')?.0;
            Some((id.to_owned(), path.to_owned()))
        })
        .collect();
    let served: Vec<(String, String)> = Transport::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), t.path().to_owned()))
        .collect();
    assert_eq!(
        listed,
        served,
        "{} disagrees with Transport",
        file.display()
    );
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
