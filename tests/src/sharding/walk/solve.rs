//! Solving a walked statement: which references a chain of `advertiser_id` steps pins,
//! and whether its joins of distributed relations are co-located.

use std::collections::HashMap;

use super::{Findings, Walk, KEY};

impl Walk {
    pub fn finish(self) -> Findings {
        let n = self.nodes.len();
        let mut keyed = vec![false; n];
        for (node, _) in &self.roots {
            keyed[*node] = true;
        }
        loop {
            let mut changed = false;
            for &(a, b) in &self.edges {
                if keyed[a] && !keyed[b] {
                    keyed[b] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut unkeyed: Vec<String> = (0..n)
            .filter(|&i| self.nodes[i].sharded && !keyed[i])
            .map(|i| format!("{} is not pinned to one {KEY}", self.nodes[i].label))
            .collect();
        unkeyed.dedup();

        // Co-location: components of the `advertiser_id` equalities, nodes pinned to the
        // same value counting as joined.
        let mut group: Vec<usize> = (0..n).collect();
        fn find(g: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while g[r] != r {
                r = g[r];
            }
            g[x] = r;
            r
        }
        let mut by_value: HashMap<&str, usize> = HashMap::new();
        let mut pairs = self.links.clone();
        for (node, value) in &self.roots {
            if let Some(&other) = by_value.get(value.as_str()) {
                pairs.push((other, *node));
            } else {
                by_value.insert(value, *node);
            }
        }
        for (a, b) in pairs {
            let (ra, rb) = (find(&mut group, a), find(&mut group, b));
            group[ra] = rb;
        }
        let mut uncolocated = Vec::new();
        let mut check = |a: usize, b: usize, group: &mut Vec<usize>| {
            if find(group, a) != find(group, b) {
                let what = format!("{} and {} are joined without {KEY}", self.nodes[a].label, self.nodes[b].label);
                if !uncolocated.contains(&what) {
                    uncolocated.push(what);
                }
            }
        };
        for block in &self.blocks {
            for pair in block.windows(2) {
                check(pair[0], pair[1], &mut group);
            }
        }
        for (outer, block) in &self.correlations {
            if self.nodes[*outer].distributed {
                for &inner in block.iter().filter(|&&b| self.nodes[b].distributed) {
                    check(*outer, inner, &mut group);
                }
            }
        }
        let mut tables = self.tables;
        tables.sort();
        Findings { tables, unkeyed, uncolocated }
    }
}
