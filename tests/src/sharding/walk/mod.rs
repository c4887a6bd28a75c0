//! One parsed statement, walked: which sharded tables it reads or writes, and for each
//! reference whether its `advertiser_id` is pinned by the statement's own predicates.
//!
//! Every `FROM` item (table, derived table, CTE reference, table function) becomes a
//! node. A conjunct `x.advertiser_id = <value>` (a parameter or constant, `= ANY(…)`,
//! `IN (…)`) roots `x`; `x.advertiser_id = y.advertiser_id` lets a pinned `y` pin `x`.
//! A predicate only pins the relations it filters: a `WHERE` those of its own block, a
//! `LEFT JOIN … ON` its right side, a correlated subquery its inner relations, never the
//! outer ones. A node is keyed when a chain of such steps reaches a root. Only top-level
//! `AND`s count: `($1 IS NULL OR advertiser_id = $1)` pins nothing.
//!
//! Separately, co-location: distributed relations joined in one block (or correlated to
//! an outer one) must be linked by `advertiser_id` equalities, or pinned to the same
//! value, so that a Citus-style cluster can run the join on one shard group.

mod ast;
mod from;
mod predicate;
mod solve;

use std::collections::HashMap;

use ast::{column, first_words, is_value, lower, object, resolve, scan};

use sqlparser::ast::{
    Delete, Expr, FromTable, Insert, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableObject, TableWithJoins, Update, UpdateTableFromKind,
};

use super::{KEY, SHARDED};

/// What the walk found in one statement.
#[derive(Debug, Default)]
pub struct Findings {
    /// The sharded tables (and views over them) it names, sorted, once each.
    pub tables: Vec<String>,
    /// References whose `advertiser_id` nothing pins, and inserts that do not supply it.
    pub unkeyed: Vec<String>,
    /// Joins of distributed relations not made on `advertiser_id`.
    pub uncolocated: Vec<String>,
}

struct Node {
    label: String,
    sharded: bool,
    /// A sharded table, or a derived table / CTE reading one.
    distributed: bool,
    /// Has an `advertiser_id` column to resolve an unqualified one to.
    has_key: bool,
}

/// Where a query's `advertiser_id` output column comes from.
#[derive(Clone)]
enum Out {
    Node(usize),
    Value(String),
    None,
}

#[derive(Clone)]
struct Cte {
    out: Out,
    distributed: bool,
}

/// The relations visible at one level of a statement, innermost first.
struct Scope<'p> {
    nodes: Vec<(String, usize)>,
    ctes: HashMap<String, Cte>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    fn child(parent: Option<&'p Scope<'p>>) -> Scope<'p> {
        Scope { nodes: Vec::new(), ctes: HashMap::new(), parent }
    }

    fn cte(&self, name: &str) -> Option<Cte> {
        self.ctes.get(name).cloned().or_else(|| self.parent.and_then(|p| p.cte(name)))
    }
}

#[derive(Default)]
pub struct Walk {
    nodes: Vec<Node>,
    /// `(a, b)`: a keyed `a` keys `b`.
    edges: Vec<(usize, usize)>,
    /// Undirected `advertiser_id` equalities, for co-location.
    links: Vec<(usize, usize)>,
    roots: Vec<(usize, String)>,
    /// The distributed relations of each `FROM` block.
    blocks: Vec<Vec<usize>>,
    /// An outer relation a block's predicates refer to, with that block's relations.
    correlations: Vec<(usize, Vec<usize>)>,
    inserts: Vec<String>,
    tables: Vec<String>,
}

impl Walk {
    pub fn statement(&mut self, statement: &Statement) -> Result<(), String> {
        self.dml(statement, None).map(|_| ())
    }

    fn dml(&mut self, statement: &Statement, parent: Option<&Scope>) -> Result<Out, String> {
        match statement {
            Statement::Query(q) => self.query(q, parent),
            Statement::Insert(i) => self.insert(i, parent),
            Statement::Update(u) => self.update(u, parent),
            Statement::Delete(d) => self.delete(d, parent),
            other => Err(format!("not a data statement the check knows: {}", first_words(&other.to_string()))),
        }
    }

    fn node(&mut self, label: String, sharded: bool, distributed: bool, has_key: bool) -> usize {
        if sharded && !self.tables.contains(&label) {
            self.tables.push(label.clone());
        }
        self.nodes.push(Node { label, sharded, distributed, has_key });
        self.nodes.len() - 1
    }

    fn sharded_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.sharded).count() + self.inserts.len()
    }

    fn query(&mut self, q: &Query, parent: Option<&Scope>) -> Result<Out, String> {
        let mut scope = Scope::child(parent);
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let before = self.sharded_count();
                let out = self.query(&cte.query, Some(&scope))?;
                let distributed = self.sharded_count() > before;
                scope.ctes.insert(lower(&cte.alias.name), Cte { out, distributed });
            }
        }
        self.set_expr(&q.body, &scope)
    }

    fn set_expr(&mut self, body: &SetExpr, scope: &Scope) -> Result<Out, String> {
        match body {
            SetExpr::Select(s) => self.select(s, scope),
            SetExpr::Query(q) => self.query(q, Some(scope)),
            SetExpr::SetOperation { left, right, .. } => {
                let out = self.set_expr(left, scope)?;
                self.set_expr(right, scope)?;
                Ok(out)
            }
            SetExpr::Values(values) => {
                for e in values.rows.iter().flat_map(|r| r.iter()) {
                    self.subqueries(e, scope)?;
                }
                Ok(Out::None)
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => self.dml(s, Some(scope)),
            other => Err(format!("unsupported query body: {}", first_words(&other.to_string()))),
        }
    }

    fn subqueries(&mut self, expr: &Expr, scope: &Scope) -> Result<(), String> {
        for q in scan(expr).queries {
            self.query(&q, Some(scope))?;
        }
        Ok(())
    }

    /// Walks a block of relations with its predicates; returns its nodes.
    fn block(
        &mut self,
        items: &[&TableWithJoins],
        predicate: Option<&Expr>,
        scope: &mut Scope,
    ) -> Result<Vec<usize>, String> {
        let mut conditions = Vec::new();
        for item in items {
            self.walk_from_item(item, scope, &mut conditions)?;
        }
        let nodes: Vec<usize> = scope.nodes.iter().map(|(_, n)| *n).collect();
        self.blocks.push(nodes.iter().copied().filter(|&n| self.nodes[n].distributed).collect());
        for (expr, filtered) in conditions {
            let filtered = filtered.unwrap_or_else(|| nodes.clone());
            self.predicate(expr, scope, &nodes, &filtered)?;
        }
        if let Some(p) = predicate {
            self.predicate(p, scope, &nodes, &nodes)?;
        }
        Ok(nodes)
    }

    fn select(&mut self, s: &Select, parent: &Scope) -> Result<Out, String> {
        let mut scope = Scope::child(Some(parent));
        let items: Vec<&TableWithJoins> = s.from.iter().collect();
        let nodes = self.block(&items, s.selection.as_ref(), &mut scope)?;
        if let Some(h) = &s.having {
            self.predicate(h, &scope, &nodes, &nodes)?;
        }
        self.projection(&s.projection, &scope)
    }

    /// Walks a projection's subqueries; returns where its `advertiser_id` comes from.
    fn projection(&mut self, items: &[SelectItem], scope: &Scope) -> Result<Out, String> {
        let mut out = Out::None;
        for item in items {
            let found = match item {
                SelectItem::UnnamedExpr(e) => {
                    self.subqueries(e, scope)?;
                    self.key_ref(e, scope).map(|(n, _)| Out::Node(n))
                }
                SelectItem::ExprWithAlias { expr, alias } if lower(alias) == KEY => {
                    self.subqueries(expr, scope)?;
                    match column(expr) {
                        Some((q, _)) => resolve(&self.nodes, scope, q.as_deref(), 0).map(|(n, _)| Out::Node(n)),
                        None if is_value(expr) => Some(Out::Value(expr.to_string())),
                        None => None,
                    }
                }
                SelectItem::ExprWithAlias { expr, .. } | SelectItem::ExprWithAliases { expr, .. } => {
                    self.subqueries(expr, scope)?;
                    None
                }
                SelectItem::Wildcard(_) => resolve(&self.nodes, scope, None, 0).map(|(n, _)| Out::Node(n)),
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(q), _) => {
                    resolve(&self.nodes, scope, Some(&object(q)), 0).map(|(n, _)| Out::Node(n))
                }
                SelectItem::QualifiedWildcard(..) => None,
            };
            if let (Out::None, Some(f)) = (&out, found) {
                out = f;
            }
        }
        Ok(out)
    }

    fn insert(&mut self, i: &Insert, parent: Option<&Scope>) -> Result<Out, String> {
        let TableObject::TableName(name) = &i.table else {
            return Err("INSERT into a table function".to_owned());
        };
        let table = object(name);
        if SHARDED.contains(&table.as_str()) {
            if !self.tables.contains(&table) {
                self.tables.push(table.clone());
            }
            self.inserts.push(table.clone());
            if !i.columns.iter().any(|c| object(c) == KEY) {
                return Err(format!("INSERT INTO {table} does not name its {KEY} column"));
            }
        }
        if let Some(source) = &i.source {
            self.query(source, parent)?;
        }
        Ok(Out::None)
    }

    fn update(&mut self, u: &Update, parent: Option<&Scope>) -> Result<Out, String> {
        let mut scope = Scope::child(parent);
        let mut items = vec![&u.table];
        if let Some(UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from)) = &u.from {
            items.extend(from.iter());
        }
        self.block(&items, u.selection.as_ref(), &mut scope)?;
        for a in &u.assignments {
            self.subqueries(&a.value, &scope)?;
        }
        self.projection(u.returning.as_deref().unwrap_or_default(), &scope)
    }

    fn delete(&mut self, d: &Delete, parent: Option<&Scope>) -> Result<Out, String> {
        let mut scope = Scope::child(parent);
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
        let mut items: Vec<&TableWithJoins> = from.iter().collect();
        items.extend(d.using.iter().flatten());
        self.block(&items, d.selection.as_ref(), &mut scope)?;
        self.projection(d.returning.as_deref().unwrap_or_default(), &scope)
    }
}
