//! The workspace's layering, read from its source.
//!
//! The engine's files import one another in one direction only: the graph
//! whose nodes are the crate's source files and whose edges are the
//! `crate::`, `super::`, `self::` and child-module paths each file names
//! (comments, literals and test-only code left out) has no cycle, and
//! neither has the coarser graph of its top-level modules. The tool's
//! top-level modules import one another in one direction, and only the
//! binary reaches its `cli`. The `allocgate` library (the workspace root's
//! `src/`) names nothing of the engine or the tool.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// A token of Rust source, as far as paths need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
    /// A string, character or number literal.
    Literal,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The index past the string literal whose opening quote is at `i`.
fn skip_string(c: &[char], mut i: usize) -> usize {
    i += 1;
    while i < c.len() && c[i] != '"' {
        i += if c[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// The index past the raw string whose `#`s or opening quote start at `i`.
fn skip_raw_string(c: &[char], mut i: usize) -> usize {
    let hashes = c[i..].iter().take_while(|&&x| x == '#').count();
    i += hashes + 1;
    while i < c.len() {
        if c[i] == '"'
            && c[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&x| x == '#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// The index past the character literal whose opening quote is at `i`.
fn skip_char(c: &[char], i: usize) -> usize {
    let mut j = if c.get(i + 1) == Some(&'\\') {
        i + 3
    } else {
        i + 2
    };
    while j < c.len() && c[j] != '\'' {
        j += 1;
    }
    j + 1
}

/// Rust source as tokens, without comments; literals and lifetimes carry
/// no text.
fn lex(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(&c, i);
            out.push(Tok::Literal);
        } else if ch == '\'' {
            if next == Some('\\') || c.get(i + 2) == Some(&'\'') {
                i = skip_char(&c, i);
                out.push(Tok::Literal);
            } else {
                // A lifetime or label: its name is no path.
                i += 1;
                while i < c.len() && is_ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if is_ident_start(ch) {
            let start = i;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let after = c.get(i).copied();
            let raw_ident = word == "r"
                && after == Some('#')
                && c.get(i + 1).is_some_and(|&x| is_ident_start(x));
            match (word.as_str(), after) {
                _ if raw_ident => {
                    let start = i + 1;
                    i = start;
                    while i < c.len() && is_ident_char(c[i]) {
                        i += 1;
                    }
                    out.push(Tok::Ident(c[start..i].iter().collect()));
                }
                ("r" | "br" | "cr", Some('"' | '#')) => {
                    i = skip_raw_string(&c, i);
                    out.push(Tok::Literal);
                }
                ("b" | "c", Some('"')) => {
                    i = skip_string(&c, i);
                    out.push(Tok::Literal);
                }
                ("b", Some('\'')) => {
                    i = skip_char(&c, i);
                    out.push(Tok::Literal);
                }
                _ => out.push(Tok::Ident(word)),
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            out.push(Tok::Literal);
        } else if ch == ':' && next == Some(':') {
            out.push(Tok::Sep);
            i += 2;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Ident(w)) => Some(w),
        _ => None,
    }
}

/// Whether a `cfg(...)` predicate (the tokens inside its parentheses)
/// holds only in test builds: false with `test` off, whatever the other
/// flags are.
fn test_only(pred: &[Tok]) -> bool {
    let flags: BTreeSet<&str> = pred
        .iter()
        .filter_map(|t| ident(Some(t)))
        .filter(|w| !matches!(*w, "all" | "any" | "not" | "test"))
        .collect();
    let flags: Vec<&str> = flags.into_iter().collect();
    (0..1u32 << flags.len()).all(|bits| {
        let on = |w: &str| {
            w != "test"
                && flags
                    .iter()
                    .position(|f| *f == w)
                    .is_some_and(|k| bits & (1 << k) != 0)
        };
        !eval_cfg(pred, &mut 0, &on)
    })
}

fn eval_cfg(t: &[Tok], i: &mut usize, on: &dyn Fn(&str) -> bool) -> bool {
    let Some(word) = ident(t.get(*i)).map(str::to_owned) else {
        return false;
    };
    *i += 1;
    if t.get(*i) == Some(&Tok::Punct('=')) {
        // `key = "value"`: a flag of its own.
        *i += 2;
        return on(&word);
    }
    if t.get(*i) != Some(&Tok::Punct('(')) {
        return on(&word);
    }
    *i += 1;
    let mut args = Vec::new();
    while t.get(*i).is_some_and(|x| *x != Tok::Punct(')')) {
        args.push(eval_cfg(t, i, on));
        if t.get(*i) == Some(&Tok::Punct(',')) {
            *i += 1;
        }
    }
    *i += 1;
    match word.as_str() {
        "all" => args.iter().all(|&a| a),
        "any" => args.iter().any(|&a| a),
        "not" => !args.first().copied().unwrap_or(false),
        _ => false,
    }
}

/// The index of the bracket closing the one at `open`.
fn closing(t: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    for (k, tok) in t.iter().enumerate().skip(open) {
        match tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    t.len()
}

/// The index past the item starting at `i`: its `;`, or its `{ … }`.
fn item_end(t: &[Tok], mut i: usize) -> usize {
    while i < t.len() {
        match t[i] {
            Tok::Punct(';') => return i + 1,
            Tok::Punct('{') => return closing(t, i) + 1,
            Tok::Punct('(' | '[') => i = closing(t, i) + 1,
            _ => i += 1,
        }
    }
    i
}

/// Collects the paths of a path tree (`a::b::{c, d::{self, E}}`) whose
/// first segment is at `i`, each prefixed by `prefix`; returns the index
/// past the tree.
fn path_tree(t: &[Tok], mut i: usize, mut segs: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match t.get(i) {
            Some(Tok::Ident(w)) => {
                segs.push(w.clone());
                i += 1;
                if t.get(i) != Some(&Tok::Sep) {
                    break;
                }
                i += 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while i < t.len() && t[i] != Tok::Punct('}') {
                    i = path_tree(t, i, segs.clone(), out);
                    if t.get(i) == Some(&Tok::Punct(',')) {
                        i += 1;
                    } else if t.get(i) != Some(&Tok::Punct('}')) {
                        // `as name`, a generic argument: past this subtree.
                        while i < t.len() && !matches!(t[i], Tok::Punct(',' | '}')) {
                            i += 1;
                        }
                    }
                }
                return i + 1;
            }
            _ => break,
        }
    }
    out.push(segs);
    i
}

/// What one file names.
#[derive(Debug, Default)]
struct Scan {
    /// Module paths named, absolute from the crate root (a path may run
    /// on past its module into an item: `["sites", "Site"]`).
    paths: Vec<Vec<String>>,
    /// Child modules declared out of line (`mod name;`), each with whether
    /// it is compiled only in test builds.
    children: Vec<(String, bool)>,
}

/// The paths and child modules of the file of module `module`.
fn scan(src: &str, module: &[String]) -> Scan {
    let t = lex(src);
    let mut scan = Scan::default();
    // Paths relative to this module: kept if their head is a child.
    let mut relative = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_inline = None;
    let mut depth = 0;
    let mut skip_next_item = false;
    let mut i = 0;
    while i < t.len() {
        if t[i] == Tok::Punct('#') {
            let open = i + 1 + usize::from(t.get(i + 1) == Some(&Tok::Punct('!')));
            if t.get(open) == Some(&Tok::Punct('[')) {
                let close = closing(&t, open);
                let attr = &t[open + 1..close.min(t.len())];
                if ident(attr.first()) == Some("cfg")
                    && attr.get(1) == Some(&Tok::Punct('('))
                    && test_only(&attr[2..attr.len() - 1])
                {
                    skip_next_item = true;
                }
                i = close + 1;
                continue;
            }
        }
        if skip_next_item {
            let end = item_end(&t, i);
            let item = &t[i..end];
            if let Some(k) = item.iter().position(|x| ident(Some(x)) == Some("mod"))
                && let (Some(name), Some(Tok::Punct(';'))) =
                    (ident(item.get(k + 1)), item.get(k + 2))
            {
                scan.children.push((name.to_owned(), true));
            }
            skip_next_item = false;
            i = end;
            continue;
        }
        let here = || {
            let mut m = module.to_vec();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        let after_sep = i > 0 && t[i - 1] == Tok::Sep;
        match &t[i] {
            Tok::Ident(w) if w == "mod" => {
                if let Some(name) = ident(t.get(i + 1)) {
                    match t.get(i + 2) {
                        Some(Tok::Punct(';')) if inline.is_empty() => {
                            scan.children.push((name.to_owned(), false));
                        }
                        Some(Tok::Punct('{')) => pending_inline = Some(name.to_owned()),
                        _ => {}
                    }
                }
                i += 1;
            }
            Tok::Ident(w) if !after_sep && t.get(i + 1) == Some(&Tok::Sep) => {
                let mut found = Vec::new();
                let end = path_tree(&t, i, Vec::new(), &mut found);
                for segs in found {
                    let mut abs = match segs[0].as_str() {
                        "crate" => Vec::new(),
                        "self" | "super" => here(),
                        _ => {
                            if inline.is_empty() {
                                relative.push(segs);
                            }
                            continue;
                        }
                    };
                    let mut rest = segs.iter().peekable();
                    if w == "crate" {
                        rest.next();
                    }
                    while let Some(s) = rest.next_if(|s| *s == "super" || *s == "self") {
                        if s == "super" {
                            abs.pop();
                        }
                    }
                    abs.extend(rest.filter(|s| *s != "self").cloned());
                    scan.paths.push(abs);
                }
                i = end;
            }
            Tok::Punct('{') => {
                depth += 1;
                if let Some(name) = pending_inline.take() {
                    inline.push((name, depth));
                }
                i += 1;
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    let children: BTreeSet<&str> = scan
        .children
        .iter()
        .filter(|(_, test)| !test)
        .map(|(n, _)| n.as_str())
        .collect();
    for segs in relative {
        if children.contains(segs[0].as_str()) {
            let mut abs = module.to_vec();
            abs.extend(segs.into_iter().filter(|s| s != "self"));
            scan.paths.push(abs);
        }
    }
    scan
}

/// A module graph: each node and the nodes it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The crate under `src`, followed from `lib.rs` through its `mod`
/// declarations: the file-level import graph (file names relative to
/// `src`), each file's module path, and every file reached, test-only
/// ones included.
fn crate_graph(src: &Path) -> (Graph, BTreeMap<String, Vec<String>>, BTreeSet<PathBuf>) {
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    let mut scans = Vec::new();
    let mut reached = BTreeSet::new();
    let mut queue = VecDeque::from([(Vec::<String>::new(), src.join("lib.rs"))]);
    while let Some((module, file)) = queue.pop_front() {
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let scan = scan(&text, &module);
        let dir = match file.file_name().and_then(|n| n.to_str()) {
            Some("lib.rs" | "mod.rs") => file.parent().unwrap().to_path_buf(),
            _ => file.with_extension(""),
        };
        for (name, test) in &scan.children {
            let flat = dir.join(format!("{name}.rs"));
            let child = if flat.exists() {
                flat
            } else {
                dir.join(name).join("mod.rs")
            };
            assert!(
                child.exists(),
                "module {name} of {}: no file",
                file.display()
            );
            if *test {
                reached.insert(child);
            } else {
                let mut path = module.clone();
                path.push(name.clone());
                queue.push_back((path, child));
            }
        }
        let rel = file
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        modules.insert(module.clone(), rel.clone());
        reached.insert(file);
        scans.push((rel, scan));
    }
    let mut graph = Graph::new();
    for (rel, scan) in &scans {
        let edges = graph.entry(rel.clone()).or_default();
        for path in &scan.paths {
            let target = (0..=path.len())
                .rev()
                .find_map(|k| modules.get(&path[..k]))
                .expect("the crate root is a module");
            if target != rel {
                edges.insert(target.clone());
            }
        }
    }
    let module_of = modules.into_iter().map(|(m, f)| (f, m)).collect();
    (graph, module_of, reached)
}

/// The graph's strongly connected components of more than one node
/// (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

/// A shortest cycle through the component's first node, as
/// `a → b → a`.
fn cycle_through(graph: &Graph, component: &[String]) -> String {
    let start = &component[0];
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flatten() {
            if !component.contains(w) || came_from.contains_key(w) {
                continue;
            }
            came_from.insert(w, v);
            if w == start {
                let mut path = vec![start.as_str()];
                let mut at = came_from[start];
                while at != start {
                    path.push(at);
                    at = came_from[at];
                }
                path.push(start);
                path.reverse();
                return path.join(" → ");
            }
            queue.push_back(w);
        }
    }
    component.join(", ")
}

/// Every cycle of `graph`: for each strongly connected component, a
/// shortest cycle through it, then the imports inside it; empty when the
/// graph has none.
fn describe_cycles(graph: &Graph) -> String {
    let mut out = String::new();
    for c in cycles(graph) {
        out += &format!("{} nodes: {}\n", c.len(), cycle_through(graph, &c));
        for v in &c {
            let inside: Vec<&str> = graph[v]
                .iter()
                .filter(|w| c.contains(w))
                .map(String::as_str)
                .collect();
            out += &format!("  {v} → {}\n", inside.join(", "));
        }
    }
    out
}

/// An acyclic graph's nodes by layer, bottom up: layer 0 imports nothing,
/// each other node sits one above the highest node it imports.
fn layers(graph: &Graph) -> Vec<Vec<String>> {
    fn height(graph: &Graph, v: &str, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(&h) = memo.get(v) {
            return h;
        }
        let h = graph
            .get(v)
            .into_iter()
            .flatten()
            .map(|w| height(graph, w, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(v.to_owned(), h);
        h
    }
    let mut memo = BTreeMap::new();
    let mut out: Vec<Vec<String>> = Vec::new();
    for v in graph.keys() {
        let h = height(graph, v, &mut memo);
        if out.len() <= h {
            out.resize(h + 1, Vec::new());
        }
        out[h].push(v.clone());
    }
    out
}

/// The workspace's root (this test binary belongs to crates/tool).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The file graph with each file replaced by its top-level module (`lib`
/// for the crate root).
fn module_graph(graph: &Graph, module_of: &BTreeMap<String, Vec<String>>) -> Graph {
    let top = |f: &String| {
        module_of[f]
            .first()
            .cloned()
            .unwrap_or_else(|| "lib".into())
    };
    let mut modules = Graph::new();
    for (file, imports) in graph {
        let edges = modules.entry(top(file)).or_default();
        edges.extend(imports.iter().map(top).filter(|m| *m != top(file)));
    }
    modules
}

fn rust_files(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.insert(path);
        }
    }
}

#[test]
fn the_engine_files_import_one_another_in_one_direction() {
    let src = workspace().join("crates/engine/src");
    let (graph, module_of, reached) = crate_graph(&src);
    let mut all = BTreeSet::new();
    rust_files(&src, &mut all);
    let unreached: Vec<_> = all.difference(&reached).collect();
    assert!(
        unreached.is_empty(),
        "files no `mod` declaration reaches: {unreached:?}"
    );
    assert!(graph.len() > 20, "only {} files scanned", graph.len());

    let found = describe_cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles among the engine's files:\n{found}"
    );

    // The same graph with each file as its top-level module.
    let modules = module_graph(&graph, &module_of);
    let found = describe_cycles(&modules);
    assert!(
        found.is_empty(),
        "import cycles among the engine's modules:\n{found}"
    );

    for (h, layer) in layers(&graph).iter().enumerate() {
        println!("layer {h}: {}", layer.join(", "));
    }
}

#[test]
fn the_tool_modules_import_one_another_in_one_direction() {
    let src = workspace().join("crates/tool/src");
    let (graph, module_of, _) = crate_graph(&src);
    assert!(graph.len() > 50, "only {} files scanned", graph.len());
    let modules = module_graph(&graph, &module_of);
    assert!(
        modules.len() > 8,
        "only {} modules: {modules:?}",
        modules.len()
    );
    let found = describe_cycles(&modules);
    assert!(
        found.is_empty(),
        "import cycles among the tool's modules:\n{found}"
    );
    // The command line is the top: the library's other modules never
    // reach into it (the crate root only declares it).
    let into_cli: Vec<_> = modules
        .iter()
        .filter(|(m, imports)| *m != "cli" && *m != "lib" && imports.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(into_cli.is_empty(), "modules importing cli: {into_cli:?}");
    for (h, layer) in layers(&modules).iter().enumerate() {
        println!("layer {h}: {}", layer.join(", "));
    }
}

#[test]
fn the_library_names_nothing_of_the_engine_or_the_tool() {
    let root = workspace();
    let mut files = BTreeSet::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.contains(&root.join("src/lib.rs")),
        "no library at {}",
        root.display()
    );
    let ours = ["allocgate_engine", "allocgate_tool"];
    let mut named = Vec::new();
    for file in &files {
        let tokens = lex(&fs::read_to_string(file).unwrap());
        for w in ours {
            if tokens.contains(&Tok::Ident(w.to_owned())) {
                named.push(format!("{} names {w}", file.display()));
            }
        }
    }
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section.contains("dependencies")
            && ["allocgate-engine", "allocgate-tool", "crates/"]
                .iter()
                .any(|w| line.contains(w))
        {
            named.push(format!("Cargo.toml {section}: {line}"));
        }
    }
    assert!(named.is_empty(), "the library depends on ours: {named:#?}");
}

#[test]
fn the_scan_sees_every_path_form_and_skips_comments_literals_and_tests() {
    let src = r##"
        //! [`crate::doc`] in a comment
        use crate::a::{b::C, d, self};
        use super::up;
        pub use child::Thing;
        mod child;
        #[cfg(all(test, not(loom)))]
        mod tests { use crate::test_only; }
        #[cfg(test)]
        mod out_of_line_tests;
        #[cfg(not(test))]
        use crate::not_test;
        /* crate::block /* nested */ crate::still_comment */
        fn f<'a>(x: &'a str) -> char {
            let _ = "crate::in_string";
            let _ = r#"crate::in_raw "string""#;
            let _ = crate::e::call(x);
            let _ = Site::Abl;
            'q'
        }
    "##;
    let module = vec!["m".to_owned(), "n".to_owned()];
    let s = scan(src, &module);
    let mut heads: Vec<String> = s.paths.iter().map(|p| p.join("::")).collect();
    heads.sort();
    assert_eq!(
        heads,
        [
            "a",
            "a::b::C",
            "a::d",
            "e::call",
            "m::n::child::Thing",
            "m::up",
            "not_test"
        ]
    );
    assert_eq!(
        s.children,
        [
            ("child".to_owned(), false),
            ("out_of_line_tests".to_owned(), true)
        ]
    );
}

#[test]
fn a_cycle_is_found_and_shown_as_a_path() {
    let graph: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c", "x"]),
        ("c", vec!["a"]),
        ("x", vec![]),
        ("y", vec!["x"]),
    ]
    .into_iter()
    .map(|(v, ws)| (v.to_owned(), ws.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        describe_cycles(&graph),
        "3 nodes: a → b → c → a\n  a → b\n  b → c\n  c → a\n"
    );
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(describe_cycles(&acyclic), "");
    assert_eq!(
        layers(&acyclic),
        [vec!["c", "x"], vec!["b", "y"], vec!["a"]]
    );
}
