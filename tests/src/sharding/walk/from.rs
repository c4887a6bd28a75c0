//! The `FROM` side of the walk: each item of a block becomes a node, and join
//! conditions are collected with the nodes each one filters.

use sqlparser::ast::{Expr, JoinConstraint, JoinOperator, TableFactor, TableWithJoins};

use super::ast::{alias_of, first_words, lower, object};
use super::{Out, Scope, Walk};
use crate::sharding::{KEY, SHARDED};

impl Walk {
    /// Adds the nodes of one `FROM` item and its joins to `scope`; returns the join
    /// conditions with the nodes each one filters (`None`: the whole block).
    pub(super) fn walk_from_item<'q>(
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

    pub(super) fn factor<'q>(
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
    pub(super) fn feed(&mut self, out: &Out, id: usize) {
        match out {
            Out::Node(src) => {
                self.edges.push((*src, id));
                self.links.push((*src, id));
            }
            Out::Value(v) => self.roots.push((id, v.clone())),
            Out::None => {}
        }
    }
}
