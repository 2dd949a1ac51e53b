//! Whether an expression can read its input (`$`, `$$`, a leading field name, …). When it
//! cannot — `$states.input.x` and most Step Functions expressions — `evaluate` skips
//! converting the input document. The analysis is conservative: anything it cannot rule
//! out counts as reading the input.

use crate::ast::{Kind, Node, Path, Stage};

/// Does evaluating `node` read the input document? `at_root`: `node` is evaluated with
/// the input as its context (rather than an item reached by a path step).
pub fn reads_input(node: &Node, at_root: bool) -> bool {
    match &node.kind {
        Kind::Str(_) | Kind::Num(_) | Kind::Bool(_) | Kind::Null | Kind::Regex(_) | Kind::Placeholder => false,
        // `$eval` can read the input through the text it evaluates, from anywhere.
        Kind::Var(name) => name == "$" || name == "eval" || (at_root && name.is_empty()),
        Kind::Name(_) | Kind::Wildcard | Kind::Descendant | Kind::Sort(_) => at_root,
        // `%` can climb back to the input document from anywhere.
        Kind::Parent => true,
        // Pairs are evaluated over the context's items: they read the input only if they
        // read their context (at the root) or `$$`.
        Kind::Object(pairs) => pairs.iter().any(|(k, v)| reads_input(k, at_root) || reads_input(v, at_root)),
        Kind::Path(p) => path_reads(p, at_root),
        Kind::Filter(inner, preds) => reads_input(inner, at_root) || preds.iter().any(|p| reads_input(p, false)),
        Kind::Group(inner, pairs) => {
            reads_input(inner, at_root) || pairs.iter().any(|(k, v)| reads_input(k, false) || reads_input(v, false))
        }
        Kind::Neg(inner) | Kind::Bind(_, inner) => reads_input(inner, at_root),
        Kind::Array(items, _) | Kind::Block(items) => items.iter().any(|i| reads_input(i, at_root)),
        Kind::Binary(_, l, r) => reads_input(l, at_root) || reads_input(r, at_root),
        // `l ~> $f(args)` calls $f with l first; `l ~> $f` calls it with l alone.
        Kind::Apply(l, r) => {
            reads_input(l, at_root)
                || match &r.kind {
                    Kind::Call(f, args) => {
                        reads_input(f, at_root)
                            || args.iter().any(|a| reads_input(a, at_root))
                            || (at_root && may_take_context(f, args.len() + 1))
                    }
                    _ => reads_input(r, at_root) || (at_root && may_take_context(r, 1)),
                }
        }
        Kind::Cond(c, t, e) => {
            reads_input(c, at_root) || reads_input(t, at_root) || e.as_ref().is_some_and(|e| reads_input(e, at_root))
        }
        // A lambda's body runs with the context it was defined in.
        Kind::Lambda(def) => reads_input(&def.body, at_root),
        Kind::Transform(def) => {
            reads_input(&def.location, false) || reads_input(&def.update, false) || def.delete.as_ref().is_some_and(|d| reads_input(d, false))
        }
        // A call may hand the context to a built-in that takes it for a missing argument
        // (`$string()`), or to `$eval`: only calls that cannot are ruled out.
        Kind::Call(f, args) | Kind::Partial(f, args) => {
            reads_input(f, at_root) || args.iter().any(|a| reads_input(a, at_root)) || (at_root && may_take_context(f, args.len()))
        }
    }
}

fn path_reads(p: &Path, at_root: bool) -> bool {
    // After `@$v` the context stays where it was, and the path's result is that context:
    // at the root, the input itself.
    if at_root && p.steps.iter().any(|s| s.focus.is_some()) {
        return true;
    }
    let mut steps = p.steps.iter();
    let Some(first) = steps.next() else { return false };
    if reads_input(&first.node, at_root) {
        return true;
    }
    let stage_reads = |s: &Stage| matches!(s, Stage::Filter(n) if reads_input(n, false));
    if first.stages.iter().any(stage_reads) {
        return true;
    }
    for step in steps {
        if reads_input(&step.node, false) || step.stages.iter().any(stage_reads) {
            return true;
        }
    }
    p.group.as_ref().is_some_and(|pairs| pairs.iter().any(|(k, v)| reads_input(k, false) || reads_input(v, false)))
}

/// A call `$name(args…)` that might substitute the context: a built-in taking the context
/// for a missing first argument, `$eval`, or anything that is not a plain `$name`.
fn may_take_context(f: &Node, nargs: usize) -> bool {
    let Kind::Var(name) = &f.kind else { return true };
    match crate::builtins::lookup(name) {
        Some(b) => (b.context && nargs < b.min) || name == "eval",
        // A variable holding a lambda or partial application could take the context
        // through its signature; names that are no built-in are treated that way.
        None => !matches!(name.as_str(), "partition" | "range" | "hash" | "random" | "uuid" | "parse"),
    }
}
