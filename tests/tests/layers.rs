//! The shared crate's imports point down its layers, and neither it nor the local stack has a
//! circle of modules: a newcomer reads a module knowing that nothing below it depends on it.
//! Read off the sources' `crate::` and `super::` paths (test modules left out: a test may
//! reach up to the wiring it drives).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// The shared crate's layers, lowest first: a module may use its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &["domain", "metrics", "telemetry", "deadline", "web"],
    &["ports"],
    &["adapters"],
    &["flows"],
    // The HTTP edge: the caller's claims, and flows' errors as problem+json.
    &["http"],
    &["config"],
    &["deps", "runtime"],
    // Test support, compiled for tests only.
    &["memory_world", "testing"],
];

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&top))
}

/// Every `.rs` file under `dir`, as (module path, source without its test modules).
fn modules(dir: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(dir).expect("inside").with_extension("");
                let mut parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                let source = std::fs::read_to_string(&path).expect("a source file");
                found.insert(parts.join("::"), without_tests(&source));
            }
        }
    }
    found
}

/// The source up to its first `#[cfg(test)]` module, without `#[cfg(test)]` items above it
/// and without comment lines.
fn without_tests(source: &str) -> String {
    let mut kept = Vec::new();
    let mut skip_next = false;
    for line in source.lines() {
        if skip_next {
            skip_next = false;
            if line.trim_start().starts_with("mod ") {
                break;
            }
            continue;
        }
        if line.trim() == "#[cfg(test)]" {
            skip_next = true;
            continue;
        }
        // Comments name modules without using them (`[`super::x`]` links).
        if line.trim_start().starts_with("//") {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// The modules `module`'s source names through `crate::` and `super::` paths, as known
/// modules (the longest known prefix of each path).
fn references(module: &str, source: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let parent: Vec<&str> = {
        let mut parts: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
        parts.pop();
        parts
    };
    let mut found = BTreeSet::new();
    let bytes = source.as_bytes();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut from = 0;
        while let Some(at) = source[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            // `super::super::` and paths inside longer identifiers are left out.
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let rest: String = source[from..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut path: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
            path.extend(
                rest.split("::")
                    .filter(|p| !p.is_empty() && p.starts_with(|c: char| c.is_ascii_lowercase()))
                    .map(str::to_owned),
            );
            while !path.is_empty() {
                let candidate = path.join("::");
                if known.contains(&candidate) {
                    if candidate != module {
                        found.insert(candidate);
                    }
                    break;
                }
                path.pop();
            }
        }
    }
    found
}

type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph(dir: &Path) -> Graph {
    let modules = modules(dir);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, source)| (module.clone(), references(module, source, &known)))
        .collect()
}

/// The strongly connected groups of more than one module (Tarjan's algorithm).
fn circles(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, node: &'a str) {
        let n = w.index.len();
        w.index.insert(node, n);
        w.low.insert(node, n);
        w.stack.push(node);
        w.on_stack.insert(node);
        for next in w.graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[node].min(w.low[next]);
                w.low.insert(node, low);
            } else if w.on_stack.contains(next) {
                let low = w.low[node].min(w.index[next]);
                w.low.insert(node, low);
            }
        }
        if w.low[node] == w.index[node] {
            let mut group = BTreeSet::new();
            while let Some(top) = w.stack.pop() {
                w.on_stack.remove(top);
                group.insert(top.to_owned());
                if top == node {
                    break;
                }
            }
            if group.len() > 1 {
                w.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

/// Each circle, its modules joined.
fn named_circles(graph: &Graph) -> Vec<String> {
    circles(graph)
        .into_iter()
        .map(|group| group.into_iter().collect::<Vec<_>>().join(" <-> "))
        .collect()
}

#[test]
fn the_shared_crates_imports_point_down_its_layers() {
    let graph = graph(&root().join("shared/src"));
    assert!(
        graph.contains_key("flows::follow_ups"),
        "the sources were read"
    );
    let mut upward = Vec::new();
    for (module, uses) in &graph {
        let Some(own) = module.split("::").next().and_then(layer_of) else {
            continue;
        };
        for used in uses {
            let top = used.split("::").next().unwrap_or_default();
            if layer_of(top).is_some_and(|layer| layer > own) {
                upward.push(format!("{module} uses {used}, a layer above it"));
            }
        }
    }
    assert!(upward.is_empty(), "{}", upward.join("\n"));
}

#[test]
fn neither_the_shared_crate_nor_the_local_stack_has_a_circle_of_modules() {
    for dir in ["shared/src", "local/src"] {
        let circles = named_circles(&graph(&root().join(dir)));
        assert!(circles.is_empty(), "{dir}: {}", circles.join("\n"));
    }
}

#[test]
fn the_check_sees_an_upward_import_and_a_circle() {
    let known: BTreeSet<String> = ["flows::settle", "deps", "flows"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let uses = references(
        "flows::settle",
        &without_tests(
            "/// See [`crate::flows`].\nuse crate::deps::Deps;\nuse super::settle::x;\n#[cfg(test)]\nmod tests { use crate::flows::x; }",
        ),
        &known,
    );
    assert_eq!(uses, BTreeSet::from(["deps".to_owned()]));
    let source = "use super::b::X;\n#[cfg(test)]\nmod tests {\n use super::c::Y;\n}";
    let a = references(
        "m::a",
        &without_tests(source),
        &["m::a", "m::b", "m::c"].map(str::to_owned).into(),
    );
    assert_eq!(a, BTreeSet::from(["m::b".to_owned()]));
    let graph: Graph = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(named_circles(&graph), vec!["a <-> b".to_owned()]);
}
