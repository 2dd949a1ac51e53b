//! The syntax tree the parser builds and the evaluator walks. Paths are already
//! flattened into steps, with each step's predicates, `@`/`#` bindings and the path's
//! group-by attached, so evaluation does no tree rewriting.

use std::sync::Arc;

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    /// Character offset just after the node's token, for error positions.
    pub pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
    Coalesce,
    Elvis,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Mod => "%",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Concat => "&",
            Op::And => "and",
            Op::Or => "or",
            Op::In => "in",
            Op::Range => "..",
            Op::Coalesce => "??",
            Op::Elvis => "?:",
        }
    }
}

pub type Pairs = Vec<(Node, Node)>;

#[derive(Debug)]
pub enum Kind {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex(Arc<regex_lite::Regex>),
    /// `$name`; `""` is the context `$`, `"$"` the root `$$`.
    Var(String),
    /// A field name (only as a path step).
    Name(String),
    Wildcard,
    Descendant,
    /// `%`: the parent of the context item (as a path step).
    Parent,
    Path(Box<Path>),
    /// Predicates on an expression that is not a path (`$x[0]`, `(a.b)[1]`).
    Filter(Box<Node>, Vec<Node>),
    /// Group-by on an expression that is not a path.
    Group(Box<Node>, Pairs),
    Neg(Box<Node>),
    /// An array constructor; `true` when it is a step in a path (its result is not flattened).
    Array(Vec<Node>, bool),
    Object(Pairs),
    Binary(Op, Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    Block(Vec<Node>),
    Bind(String, Box<Node>),
    Apply(Box<Node>, Box<Node>),
    Call(Box<Node>, Vec<Node>),
    Partial(Box<Node>, Vec<Node>),
    Placeholder,
    Lambda(Arc<Lambda>),
    /// Order-by (`^(…)`), a path step: terms with `true` for descending.
    Sort(Vec<(Node, bool)>),
    /// `| location | update [, delete] |`
    Transform(Arc<Transform>),
}

#[derive(Debug)]
pub struct Transform {
    pub location: Node,
    pub update: Node,
    pub delete: Option<Node>,
}

#[derive(Debug)]
pub struct Lambda {
    pub params: Vec<String>,
    pub body: Node,
    /// The `<…>` signature, checked when the lambda is called.
    pub signature: Option<Vec<crate::signature::Param>>,
}

#[derive(Debug)]
pub enum Stage {
    Filter(Node),
    Index(String),
}

#[derive(Debug)]
pub struct Step {
    pub node: Node,
    pub stages: Vec<Stage>,
    /// `@$name`: binds each result while the context stays put.
    pub focus: Option<String>,
    /// `#$name`: binds each result's position.
    pub index: Option<String>,
}

impl Step {
    pub fn is_tuple(&self) -> bool {
        self.focus.is_some() || self.index.is_some() || self.stages.iter().any(|s| matches!(s, Stage::Index(_)))
    }
}

#[derive(Debug)]
pub struct Path {
    pub steps: Vec<Step>,
    /// `[]` on a step: a single result stays an array.
    pub keep_singleton: bool,
    pub group: Option<Pairs>,
}
