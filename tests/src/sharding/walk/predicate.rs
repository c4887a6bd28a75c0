//! The predicate side of the walk: which conjuncts pin a node's `advertiser_id` to a
//! value, which equate two nodes' keys, and which refer to an outer relation.

use sqlparser::ast::{BinaryOperator, Expr, InTarget};

use super::ast::{column, conjuncts, is_value, resolve, scan};
use super::{Scope, Walk};
use crate::sharding::KEY;

impl Walk {
    /// The node whose `advertiser_id` `expr` names, and whether it is an outer one.
    pub(super) fn key_ref(&self, expr: &Expr, scope: &Scope) -> Option<(usize, bool)> {
        let (qualifier, name) = column(expr)?;
        if name != KEY {
            return None;
        }
        resolve(&self.nodes, scope, qualifier.as_deref(), 0)
    }

    /// `a.advertiser_id = b.advertiser_id` in a predicate filtering `filtered`.
    pub(super) fn equate(&mut self, a: usize, b: usize, filtered: &[usize]) {
        self.links.push((a, b));
        if filtered.contains(&b) {
            self.edges.push((a, b));
        }
        if filtered.contains(&a) {
            self.edges.push((b, a));
        }
    }

    /// Reads one predicate of a block whose own nodes are `block`; it filters `filtered`.
    pub(super) fn predicate(
        &mut self,
        expr: &Expr,
        scope: &Scope,
        block: &[usize],
        filtered: &[usize],
    ) -> Result<(), String> {
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

    pub(super) fn root(&mut self, node: usize, value: &Expr, filtered: &[usize]) {
        if filtered.contains(&node) {
            self.roots.push((node, value.to_string()));
        }
    }
}
