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
mod solve;

use std::collections::HashMap;

use ast::{alias_of, column, conjuncts, first_words, is_value, lower, object, resolve, scan};

use sqlparser::ast::{
    BinaryOperator, Delete, Expr, FromTable, InTarget, Insert, JoinConstraint, JoinOperator, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind,
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

    /// Adds the nodes of one `FROM` item and its joins to `scope`; returns the join
    /// conditions with the nodes each one filters (`None`: the whole block).
    fn walk_from_item<'q>(
        &mut self,
        item: &'q TableWithJoins,
        scope: &mut Scope,
        conditions: &mut Vec<(&'q Expr, Option<Vec<usize>>)>,
    ) -> Result<(), String> {
        self.factor(&item.relation, scope, conditions)?;
        for join in &item.joins {
            let start = scope.nodes.len();
            self.factor(&join.relation, scope, conditions)?;
            let right: Vec<usize> = scope.nodes[start..].iter().map(|(_, n)| *n).collect();
            let (constraint, outer) = match &join.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => (c, false),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, true),
                other => return Err(format!("unsupported join: {other:?}")),
            };
            match constraint {
                JoinConstraint::On(e) => conditions.push((e, outer.then(|| right.clone()))),
                JoinConstraint::Using(columns) if columns.iter().any(|c| object(c) == KEY) => {
                    let left = scope.nodes[..start].iter().rev().find(|(_, n)| self.nodes[*n].has_key);
                    if let (Some(&(_, l)), Some(&r)) = (left, right.first()) {
                        let filtered = if outer { vec![r] } else { vec![l, r] };
                        self.equate(l, r, &filtered);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn factor<'q>(
        &mut self,
        factor: &'q TableFactor,
        scope: &mut Scope,
        conditions: &mut Vec<(&'q Expr, Option<Vec<usize>>)>,
    ) -> Result<(), String> {
        let (alias, id) = match factor {
            TableFactor::Table { name, alias, args: None, .. } => {
                let table = object(name);
                let alias = alias.as_ref().map(|a| lower(&a.name)).unwrap_or_else(|| table.clone());
                let id = if let Some(cte) = scope.cte(&table) {
                    let id = self.node(alias.clone(), false, cte.distributed, !matches!(cte.out, Out::None));
                    self.feed(&cte.out, id);
                    id
                } else {
                    let sharded = SHARDED.contains(&table.as_str());
                    let has_key = sharded || table == "api_token_advertisers";
                    self.node(table, sharded, sharded, has_key)
                };
                (alias, id)
            }
            TableFactor::Derived { subquery, alias, .. } => {
                let (before, first) = (self.sharded_count(), self.nodes.len());
                let out = self.query(subquery, Some(scope))?;
                let distributed = self.sharded_count() > before;
                let alias = alias.as_ref().map(|a| lower(&a.name)).unwrap_or_default();
                let id = self.node(format!("({alias})"), false, distributed, !matches!(out, Out::None));
                self.feed(&out, id);
                // A derived table lives where its relations do (their own joins are
                // checked in their block): joining it is joining them.
                for inner in (first..id).filter(|&n| self.nodes[n].sharded) {
                    self.links.push((inner, id));
                }
                (alias, id)
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                return self.walk_from_item(table_with_joins, scope, conditions)
            }
            // Table functions (unnest, json_array_elements, generate_series, …).
            TableFactor::Table { name, alias, .. } | TableFactor::Function { name, alias, .. } => {
                let (alias, has_key) = alias_of(alias.as_ref(), &object(name));
                (alias.clone(), self.node(format!("{alias}()"), false, false, has_key))
            }
            TableFactor::UNNEST { alias, .. } => {
                let (alias, has_key) = alias_of(alias.as_ref(), "unnest");
                (alias.clone(), self.node(format!("{alias}()"), false, false, has_key))
            }
            other => return Err(format!("unsupported FROM item: {}", first_words(&other.to_string()))),
        };
        scope.nodes.push((alias, id));
        Ok(())
    }

    /// A derived relation's `advertiser_id` takes its source's key.
    fn feed(&mut self, out: &Out, id: usize) {
        match out {
            Out::Node(src) => {
                self.edges.push((*src, id));
                self.links.push((*src, id));
            }
            Out::Value(v) => self.roots.push((id, v.clone())),
            Out::None => {}
        }
    }

    /// The node whose `advertiser_id` `expr` names, and whether it is an outer one.
    fn key_ref(&self, expr: &Expr, scope: &Scope) -> Option<(usize, bool)> {
        let (qualifier, name) = column(expr)?;
        if name != KEY {
            return None;
        }
        resolve(&self.nodes, scope, qualifier.as_deref(), 0)
    }

    /// `a.advertiser_id = b.advertiser_id` in a predicate filtering `filtered`.
    fn equate(&mut self, a: usize, b: usize, filtered: &[usize]) {
        self.links.push((a, b));
        if filtered.contains(&b) {
            self.edges.push((a, b));
        }
        if filtered.contains(&a) {
            self.edges.push((b, a));
        }
    }

    /// Reads one predicate of a block whose own nodes are `block`; it filters `filtered`.
    fn predicate(&mut self, expr: &Expr, scope: &Scope, block: &[usize], filtered: &[usize]) -> Result<(), String> {
        let mut parts = Vec::new();
        conjuncts(expr, &mut parts);
        for part in parts {
            match part {
                Expr::BinaryOp { left, op: BinaryOperator::Eq, right } => {
                    match (self.key_ref(left, scope), self.key_ref(right, scope)) {
                        (Some((a, _)), Some((b, _))) => self.equate(a, b, filtered),
                        (Some((a, _)), None) if is_value(right) => self.root(a, right, filtered),
                        (None, Some((b, _))) if is_value(left) => self.root(b, left, filtered),
                        _ => {}
                    }
                }
                Expr::AnyOp { left, compare_op: BinaryOperator::Eq, right, .. } if is_value(right) => {
                    if let Some((a, _)) = self.key_ref(left, scope) {
                        self.root(a, right, filtered);
                    }
                }
                Expr::In { expr: e, target: InTarget::List(list), negated: false, .. } if list.iter().all(is_value) => {
                    if let Some((a, _)) = self.key_ref(e, scope) {
                        self.root(a, part, filtered);
                    }
                }
                _ => {}
            }
            for (qualifier, _) in scan(part).columns.iter().filter(|(q, _)| q.is_some()) {
                if let Some((n, true)) = resolve(&self.nodes, scope, qualifier.as_deref(), 0) {
                    self.correlations.push((n, block.to_vec()));
                }
            }
        }
        self.subqueries(expr, scope)
    }

    fn root(&mut self, node: usize, value: &Expr, filtered: &[usize]) {
        if filtered.contains(&node) {
            self.roots.push((node, value.to_string()));
        }
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
