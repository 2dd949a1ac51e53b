//! Which top-level attributes a parsed condition reads: Query refuses a FilterExpression
//! that names a key attribute of the table or index it reads
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html>).

use super::condition::{Cond, Operand};
use super::{Condition, PathElem};

impl Condition {
    /// The first element of every document path the condition reads, in order of
    /// appearance, without repeats. The walk uses an explicit stack.
    pub fn top_level_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack: Vec<&Cond> = vec![&self.root];
        while let Some(c) = stack.pop() {
            let operands: Vec<&Operand> = match c {
                Cond::Or(a, b) | Cond::And(a, b) => {
                    stack.push(b);
                    stack.push(a);
                    continue;
                }
                Cond::Not(a) | Cond::Group(a) => {
                    stack.push(a);
                    continue;
                }
                Cond::Cmp(_, a, b) => vec![a, b],
                Cond::Between(a, l, h) => vec![a, l, h],
                Cond::In(a, list) => std::iter::once(a).chain(list.iter()).collect(),
                Cond::Func(_, args) => args.iter().collect(),
            };
            for op in operands {
                if let Operand::Path(p) | Operand::Size(p) = op {
                    if let Some(PathElem::Attr(name)) = p.first() {
                        if !out.contains(name) {
                            out.push(name.clone());
                        }
                    }
                }
            }
        }
        out
    }
}
