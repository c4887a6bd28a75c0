//! The documents carry their own contract: every relative link in README.md and docs/
//! names a file of this repository, so a fresh clone has everything a link points at.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository").to_path_buf()
}

/// The targets of the Markdown links `[text](target)` in `text`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].trim().to_owned());
        }
    }
    found
}

fn documents() -> Vec<PathBuf> {
    let root = repository();
    let mut docs = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/").flatten() {
        if entry.path().extension().is_some_and(|e| e == "md") {
            docs.push(entry.path());
        }
    }
    docs
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = repository().canonicalize().expect("the repository");
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("a document");
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
                continue;
            }
            let file = link.split('#').next().unwrap_or_default();
            let target = doc.parent().expect("a folder").join(file);
            match target.canonicalize() {
                Ok(path) if path.starts_with(&root) => checked += 1,
                Ok(path) => {
                    broken.push(format!("{}: {link} leaves the repository ({})", doc.display(), path.display()))
                }
                Err(_) => broken.push(format!("{}: {link} does not exist", doc.display())),
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 5, "only {checked} links checked: is the link parser right?");
}

#[test]
fn the_link_parser_finds_links() {
    assert_eq!(links("see [a](docs/a.md) and [b](b.md#x)."), ["docs/a.md", "b.md#x"]);
}
