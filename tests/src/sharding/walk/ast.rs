//! Reading expressions for the walk: column references, conjuncts, values, the
//! subqueries an expression holds, and resolving a column to its relation.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Expr, Ident, ObjectName, Query, TableAlias, Visit, Visitor};

use super::{Node, Scope, KEY};

pub(super) fn lower(ident: &Ident) -> String {
    ident.value.to_lowercase()
}

pub(super) fn object(name: &ObjectName) -> String {
    name.0.last().and_then(|p| p.as_ident()).map(lower).unwrap_or_default()
}

/// A column reference, as `(qualifier, column)`, seen through casts and parentheses.
pub(super) fn column(expr: &Expr) -> Option<(Option<String>, String)> {
    match expr {
        Expr::Identifier(id) => Some((None, lower(id))),
        Expr::CompoundIdentifier(ids) if ids.len() >= 2 => {
            Some((Some(lower(&ids[ids.len() - 2])), lower(&ids[ids.len() - 1])))
        }
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => column(inner),
        _ => None,
    }
}

/// An expression's immediate subqueries and the columns it names outside them.
#[derive(Default)]
pub(super) struct Scan {
    depth: usize,
    pub(super) queries: Vec<Query>,
    pub(super) columns: Vec<(Option<String>, String)>,
}

impl Visitor for Scan {
    type Break = ();
    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.depth == 0 {
            self.queries.push(query.clone());
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.depth == 0 && matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            self.columns.extend(column(expr));
        }
        ControlFlow::Continue(())
    }
}

pub(super) fn scan(expr: &Expr) -> Scan {
    let mut s = Scan::default();
    let _ = expr.visit(&mut s);
    s
}

/// A parameter or constant (or a function of them): no column, no subquery.
pub(super) fn is_value(expr: &Expr) -> bool {
    let s = scan(expr);
    s.columns.is_empty() && s.queries.is_empty()
}

pub(super) fn conjuncts<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        _ => out.push(expr),
    }
}

pub(super) fn alias_of(alias: Option<&TableAlias>, default: &str) -> (String, bool) {
    match alias {
        Some(a) => (lower(&a.name), a.columns.iter().any(|c| lower(&c.name) == KEY)),
        None => (default.to_owned(), false),
    }
}

/// Resolves a column's relation: by alias up the scopes, or, unqualified, to the one
/// relation of the innermost scope that has the column. `true` when it is an outer one.
pub(super) fn resolve(nodes: &[Node], scope: &Scope, qualifier: Option<&str>, depth: usize) -> Option<(usize, bool)> {
    let here = match qualifier {
        Some(q) => scope.nodes.iter().find(|(alias, _)| alias == q).map(|(_, n)| *n),
        None => {
            let mut keyed = scope.nodes.iter().filter(|(_, n)| nodes[*n].has_key);
            match (keyed.next(), keyed.next()) {
                (Some((_, n)), None) => Some(*n),
                // Ambiguous: Postgres would refuse it too.
                (Some(_), Some(_)) => return None,
                _ => None,
            }
        }
    };
    match here {
        Some(n) => Some((n, depth > 0)),
        None => scope.parent.and_then(|p| resolve(nodes, p, qualifier, depth + 1)),
    }
}

pub(super) fn first_words(sql: &str) -> String {
    sql.chars().take(60).collect()
}
