//! Telling recorded statements apart by where they came from: the schema migrations and
//! the test harness's own inspection queries are not Ratify's statements, so the check
//! recognises them by shape (their tokens, with every constant and parameter as `?`,
//! which is how `pg_stat_statements` also folds them) and sets them aside.

use std::collections::HashSet;
use std::path::Path;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

fn tokens(sql: &str) -> Option<Vec<Token>> {
    Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()
}

/// The words of `sql`, lowercased (a text that does not tokenize: split on non-word
/// characters instead, so that no table name is missed).
pub fn words(sql: &str) -> Vec<String> {
    match tokens(sql) {
        Some(tokens) => tokens
            .into_iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.value.to_lowercase()),
                _ => None,
            })
            .collect(),
        None => sql
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect(),
    }
}

/// A statement's shape: its tokens, lowercased and single-spaced, with constants,
/// parameters, `true`/`false`/`null` as `?`.
pub fn shape(sql: &str) -> String {
    let Some(tokens) = tokens(sql) else { return sql.split_whitespace().collect::<Vec<_>>().join(" ") };
    let mut out: Vec<String> = Vec::new();
    for token in tokens {
        let piece = match token {
            Token::Whitespace(_) | Token::SemiColon => continue,
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_) => "?".to_owned(),
            Token::Word(w) if ["true", "false", "null"].contains(&w.value.to_lowercase().as_str()) => "?".to_owned(),
            Token::Word(w) => w.value.to_lowercase(),
            other => other.to_string(),
        };
        out.push(piece);
    }
    out.join(" ")
}

/// The statements of a `.sql` file, split on the semicolons between them.
pub fn sql_statements(text: &str) -> Vec<String> {
    let Some(tokens) = tokens(text) else { return vec![text.to_owned()] };
    let mut out = vec![String::new()];
    for token in tokens {
        if token == Token::SemiColon {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push_str(&token.to_string());
        }
    }
    out.retain(|s| !s.trim().is_empty());
    out
}

/// The string literals of a Rust source file (plain and raw), unescaped enough to compare
/// as SQL: `\n`, `\"`, `\\` and line continuations.
pub fn rust_literals(source: &str) -> Vec<String> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            // A char literal ('"', '\'') or a lifetime ('a).
            b'\'' => {
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) && (i == 0 || !is_ident(b[i - 1])) => {
                let mut j = i + 1;
                while b.get(j) == Some(&b'#') {
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let closing = format!("\"{}", "#".repeat(j - i - 1));
                let start = j + 1;
                let end = source[start..].find(&closing).map(|e| start + e).unwrap_or(b.len());
                out.push(source[start..end].to_owned());
                i = end + closing.len();
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        match b[i + 1] {
                            b'n' => s.push('\n'),
                            b'\n' => {
                                i += 2;
                                while i < b.len() && b[i].is_ascii_whitespace() {
                                    i += 1;
                                }
                                continue;
                            }
                            c => s.push(c as char),
                        }
                        i += 2;
                    } else {
                        let ch = source[i..].chars().next().unwrap_or(' ');
                        s.push(ch);
                        i += ch.len_utf8();
                    }
                }
                out.push(s);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The shapes of every statement of the migrations in `dir`.
pub fn migration_shapes(dir: &Path) -> std::io::Result<HashSet<String>> {
    let mut shapes = HashSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            shapes.extend(sql_statements(&std::fs::read_to_string(&path)?).iter().map(|s| shape(s)));
        }
    }
    Ok(shapes)
}

/// The shapes of the SQL string literals of the Rust files under `dir` (the harness).
/// A `format!` hole (`FROM {table}`) becomes a `*` that [`Harness::matches`] lets stand
/// for a name (up to `schema . table`).
pub fn literal_shapes(dir: &Path) -> std::io::Result<Harness> {
    let mut harness = Harness::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                // This checker's own examples are not the harness's statements.
                if !path.ends_with("src/sharding") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                for literal in rust_literals(&std::fs::read_to_string(&path)?) {
                    let templated = literal.contains('{') && is_sql(&literal);
                    if templated {
                        harness.templates.push(shape(&holes(&literal)).split(' ').map(str::to_owned).collect());
                    } else if super::touches_sharded(&literal) {
                        harness.exact.insert(shape(&literal));
                    }
                }
            }
        }
    }
    Ok(harness)
}

/// The harness's statements by shape: exact ones, and templates with holes.
#[derive(Debug, Default)]
pub struct Harness {
    exact: HashSet<String>,
    templates: Vec<Vec<String>>,
}

impl Harness {
    pub fn matches(&self, shape: &str) -> bool {
        if self.exact.contains(shape) {
            return true;
        }
        let tokens: Vec<&str> = shape.split(' ').collect();
        self.templates.iter().any(|t| fits(t, &tokens))
    }
}

/// Whether `tokens` fit `template`, each `*` standing for one to three tokens.
fn fits(template: &[String], tokens: &[&str]) -> bool {
    match template.split_first() {
        None => tokens.is_empty(),
        Some((first, rest)) if first == "*" => (1..=3.min(tokens.len())).any(|n| fits(rest, &tokens[n..])),
        Some((first, rest)) => tokens.first().is_some_and(|t| t == first) && fits(rest, &tokens[1..]),
    }
}

/// A `format!` string with its `{…}` holes as `*` (`{{` and `}}` are braces).
fn holes(literal: &str) -> String {
    let mut out = String::new();
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                out.push_str(" * ");
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_sql(text: &str) -> bool {
    let words = words(text);
    let has = |w: &str| words.iter().any(|x| x == w);
    (has("select") && has("from")) || (has("update") && has("set")) || (has("delete") && has("from")) || has("insert")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharding_shapes_fold_constants_as_pg_stat_statements_does() {
        assert_eq!(
            shape("SELECT count(*) FROM jobs WHERE advertiser_id = 1001 AND label = 'x' AND done IS NULL"),
            shape("select count(*)  from jobs\n where advertiser_id = $1 and label = $2 and done is null")
        );
        assert_ne!(shape("SELECT id FROM jobs"), shape("SELECT id FROM job_chunks"));
    }

    #[test]
    fn sharding_harness_templates_stand_for_a_table_name() {
        let dir = std::env::temp_dir().join(format!("sharding-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.rs"), "q(&format!(\"SELECT count(*) FROM {table} t WHERE x = $1\"));").unwrap();
        let harness = literal_shapes(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(harness.matches(&shape("select count(*) from public.jobs t where x = $1")));
        assert!(harness.matches(&shape("select count(*) from jobs t where x = $1")));
        assert!(!harness.matches(&shape("select count(*) from jobs t where y = $1")));
    }

    #[test]
    fn sharding_rust_literals_are_read() {
        let src =
            "let c = '\"'; // \"not this\"\nq(\"SELECT 1 \\\n    FROM jobs\"); r#\"UPDATE \"x\" SET\"#; fn f<'a>() {}";
        assert_eq!(rust_literals(src), ["SELECT 1 FROM jobs", "UPDATE \"x\" SET"]);
    }
}
