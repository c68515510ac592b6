//! Import cycles between files: strongly connected components of the file dependency graph, each shown as one
//! concrete loop with the line that makes every step, so the fix (move the shared piece down) is easy to see.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::refs::{Edges, Evidence};

/// One loop of files: `steps[i]` is file `i` depending on file `i+1` (the last on the first).
#[derive(Debug)]
pub struct Cycle {
    /// Every file of the strongly connected component, sorted.
    pub component: Vec<usize>,
    /// A shortest loop through the component's first file: (from, to, why).
    pub steps: Vec<(usize, usize, Evidence)>,
}

/// Every import cycle of the graph, one per strongly connected component of two or more files.
pub fn find(edges: &Edges, files: usize) -> Vec<Cycle> {
    let mut out = Vec::new();
    for comp in components(edges, files) {
        if comp.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = comp.iter().copied().collect();
        let start = comp[0];
        if let Some(steps) = shortest_loop(edges, start, &members) {
            out.push(Cycle {
                component: comp,
                steps,
            });
        }
    }
    out
}

/// Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
fn components(edges: &Edges, n: usize) -> Vec<Vec<usize>> {
    let succ = |v: usize| -> Vec<usize> {
        edges
            .get(&v)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    };
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut comps = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(root, succ(root), 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, children, i)) = work.last_mut() {
            let v = *v;
            if *i < children.len() {
                let w = children[*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, succ(w), 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                comp.sort_unstable();
                comps.push(comp);
            }
        }
    }
    comps.sort();
    comps
}

/// Breadth-first search from `start` back to itself inside `members`.
fn shortest_loop(
    edges: &Edges,
    start: usize,
    members: &BTreeSet<usize>,
) -> Option<Vec<(usize, usize, Evidence)>> {
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = BTreeSet::from([start]);
    let mut last = None;
    'search: while let Some(v) = queue.pop_front() {
        for &w in edges.get(&v).map(|m| m.keys()).into_iter().flatten() {
            if !members.contains(&w) {
                continue;
            }
            if w == start {
                last = Some(v);
                break 'search;
            }
            if seen.insert(w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    let mut v = last?;
    let mut path = vec![start];
    while v != start {
        path.push(v);
        v = *prev.get(&v)?;
    }
    path.push(start);
    path.reverse();
    // path: start, ..., start
    let steps = path
        .windows(2)
        .filter_map(|w| {
            let ev = edges.get(&w[0])?.get(&w[1])?;
            Some((w[0], w[1], ev.clone()))
        })
        .collect();
    Some(steps)
}
