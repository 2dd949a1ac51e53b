//! Runs PartiQL statements: plans each onto GetItem / Query / Scan / PutItem /
//! UpdateItem / DeleteItem inputs and calls those operations, so every check and write
//! goes through the existing paths; batches and transactions reuse BatchExecute's
//! per-statement errors and TransactWriteItems / TransactGetItems.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExecuteStatement.html>

use super::parser::{parse, Cond, Operand, Path, Seg, Statement};
use super::{conjuncts, is_sort_condition, mentions, take_key, Render};
use crate::api::*;
use crate::errors::{DdbError, DdbResult};
use crate::service::DynamoDbService;
use base64::Engine as _;
use nimbus_core::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteStatementInput {
    #[serde(default)]
    pub statement: String,
    pub parameters: Option<Vec<Value>>,
    pub consistent_read: Option<bool>,
    pub next_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub limit: Option<i64>,
    pub return_values_on_condition_check_failure: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BatchStatement {
    #[serde(default)]
    pub statement: String,
    pub parameters: Option<Vec<Value>>,
    pub consistent_read: Option<bool>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct BatchExecuteStatementInput {
    #[serde(default)]
    pub statements: Vec<BatchStatement>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct ExecuteTransactionInput {
    #[serde(default)]
    pub transact_statements: Vec<BatchStatement>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
}

/// One statement as an existing operation's input.
enum Plan {
    Get(GetItemInput),
    Query(QueryInput),
    Scan(QueryInput),
    Insert(PutItemInput),
    Update(UpdateItemInput),
    Delete(DeleteItemInput),
}

impl Plan {
    fn is_read(&self) -> bool {
        matches!(self, Plan::Get(_) | Plan::Query(_) | Plan::Scan(_))
    }
    fn table(&self) -> &str {
        match self {
            Plan::Get(i) => &i.table_name,
            Plan::Query(i) | Plan::Scan(i) => &i.table_name,
            Plan::Insert(i) => &i.table_name,
            Plan::Update(i) => &i.table_name,
            Plan::Delete(i) => &i.table_name,
        }
    }
}

/// Read options from the request around the statement.
#[derive(Default)]
struct ReadOpts {
    consistent: Option<bool>,
    /// ReturnConsumedCapacity, passed on to the operation the statement becomes.
    rcc: Option<String>,
    limit: Option<i64>,
    start: Option<Value>,
}

fn key_missing() -> DdbError {
    DdbError::validation("Where clause does not contain a mandatory equality on all key attributes")
}

fn encode_token(lek: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(lek.to_string())
}

fn decode_token(t: &str) -> DdbResult<Value> {
    let invalid = || DdbError::validation("Invalid NextToken");
    let raw = base64::engine::general_purpose::STANDARD.decode(t).map_err(|_| invalid())?;
    serde_json::from_slice(&raw).map_err(|_| invalid())
}

/// A ddb error as a BatchStatementError / cancellation reason code.
fn error_code(e: &DdbError) -> &'static str {
    match e {
        DdbError::ConditionalCheckFailed(_) => "ConditionalCheckFailed",
        DdbError::DuplicateItem(_) => "DuplicateItem",
        DdbError::Validation(_) => "ValidationError",
        DdbError::ResourceNotFound(_) => "ResourceNotFound",
        DdbError::TransactionConflict(_) => "TransactionConflict",
        _ => "InternalServerError",
    }
}

fn error_message(e: &DdbError) -> String {
    match e {
        DdbError::ConditionalCheckFailed(_) => "The conditional request failed".into(),
        DdbError::Validation(m) | DdbError::ResourceNotFound(m) | DdbError::DuplicateItem(m) | DdbError::TransactionConflict(m) | DdbError::Internal(m) => m.clone(),
        other => format!("{other:?}"),
    }
}

impl DynamoDbService {
    /// The key attribute names of a table, or of one of its indexes: the partition key's
    /// and the sort key's (one and at most one for a table, up to four each for a global
    /// index), in key-schema order.
    fn key_names(&self, ctx: &RequestContext, table: &str, index: Option<&str>) -> DdbResult<(Vec<String>, Vec<String>)> {
        let t = self.table(ctx, table)?;
        let st = t.state.lock();
        let key = match index {
            None => &st.def.key,
            Some(i) => {
                let found = st.def.gsis.iter().chain(st.def.lsis.iter()).find(|d| d.name == i);
                &found.ok_or_else(|| DdbError::validation(format!("The table does not have the specified index: {i}")))?.key
            }
        };
        let names = |part: &[(String, crate::keys::KeyType)]| part.iter().map(|(n, _)| n.clone()).collect();
        Ok((names(&key.hash), names(&key.range)))
    }

    /// A table's partition key and optional sort key.
    fn table_key_names(&self, ctx: &RequestContext, table: &str) -> DdbResult<(String, Option<String>)> {
        let (hash, range) = self.key_names(ctx, table, None)?;
        Ok((hash.into_iter().next().unwrap_or_default(), range.into_iter().next()))
    }

    fn plan(&self, ctx: &RequestContext, stmt: Statement, opts: ReadOpts) -> DdbResult<Plan> {
        match stmt {
            Statement::Select { table, index, projection, filter } => self.plan_select(ctx, table, index, projection, filter, opts),
            Statement::Insert { table, item } => {
                let (hash, _) = self.table_key_names(ctx, &table)?;
                let mut r = Render::default();
                let cond = format!("attribute_not_exists({})", r.path(&vec![Seg::Name(hash)]));
                let item = item.get("M").cloned().unwrap_or(Value::Null);
                Ok(Plan::Insert(PutItemInput { table_name: table, item, condition_expression: Some(cond), return_consumed_capacity: opts.rcc, exprs: r.exprs(), ..Default::default() }))
            }
            Statement::Update { table, sets, removes, filter } => {
                let (key, rest, hash) = self.whole_key(ctx, &table, filter)?;
                let mut r = Render::default();
                let update = r.update(&sets, &removes);
                let exists = r.cond(&Cond::Exists(vec![Seg::Name(hash)], true));
                let cond = match r.all(&rest) {
                    Some(c) => format!("{exists} AND ({c})"),
                    None => exists,
                };
                Ok(Plan::Update(UpdateItemInput { table_name: table, key, update_expression: Some(update), condition_expression: Some(cond), return_consumed_capacity: opts.rcc, exprs: r.exprs(), ..Default::default() }))
            }
            Statement::Delete { table, filter } => {
                let (key, rest, _) = self.whole_key(ctx, &table, filter)?;
                let mut r = Render::default();
                let cond = r.all(&rest);
                Ok(Plan::Delete(DeleteItemInput { table_name: table, key, condition_expression: cond, return_consumed_capacity: opts.rcc, exprs: r.exprs(), ..Default::default() }))
            }
        }
    }

    /// The key a WHERE clause fixes with equalities, the remaining terms, and the hash key name.
    fn whole_key(&self, ctx: &RequestContext, table: &str, filter: Cond) -> DdbResult<(Value, Vec<Cond>, String)> {
        let (hash, range) = self.table_key_names(ctx, table)?;
        let mut conds = conjuncts(filter);
        let mut key = serde_json::Map::new();
        key.insert(hash.clone(), take_key(&mut conds, &hash).ok_or_else(key_missing)?);
        if let Some(r) = &range {
            key.insert(r.clone(), take_key(&mut conds, r).ok_or_else(key_missing)?);
        }
        Ok((Value::Object(key), conds, hash))
    }

    fn plan_select(
        &self,
        ctx: &RequestContext,
        table: String,
        index: Option<String>,
        projection: Option<Vec<Path>>,
        filter: Option<Cond>,
        opts: ReadOpts,
    ) -> DdbResult<Plan> {
        let (hash, range) = self.key_names(ctx, &table, index.as_deref())?;
        let mut r = Render::default();
        let proj = projection.map(|p| r.paths(&p));
        let mut conds = filter.map(conjuncts).unwrap_or_default();
        let scan = |mut r: Render, conds: Vec<Cond>, proj: Option<String>, index: Option<String>, table: String, opts: ReadOpts| {
            let filter_expression = r.all(&conds);
            Plan::Scan(QueryInput {
                table_name: table,
                index_name: index,
                filter_expression,
                projection_expression: proj,
                limit: opts.limit,
                exclusive_start_key: opts.start,
                consistent_read: opts.consistent,
                return_consumed_capacity: opts.rcc,
                exprs: r.exprs(),
                ..Default::default()
            })
        };
        let keys: Vec<&str> = hash.iter().chain(range.iter()).map(String::as_str).collect();
        let equality = |name: &String, v: Value| Cond::Cmp("=", Operand::Path(vec![Seg::Name(name.clone())]), Operand::Value(v));
        // Every partition key attribute needs an equality, else only a Scan can answer.
        let mut partition: Vec<(String, Value)> = Vec::new();
        for h in &hash {
            match take_key(&mut conds, h) {
                Some(v) => partition.push((h.clone(), v)),
                None => {
                    conds.extend(partition.into_iter().map(|(n, v)| equality(&n, v)));
                    return Ok(scan(r, conds, proj, index, table, opts));
                }
            }
        }
        // GetItem when the whole key is fixed and nothing else is asked.
        if index.is_none() && opts.start.is_none() {
            let mut probe = conds.clone();
            let rv = range.first().map(|rk| take_key(&mut probe, rk));
            if probe.is_empty() && !matches!(rv, Some(None)) {
                let mut key: serde_json::Map<String, Value> = partition.into_iter().collect();
                if let (Some(rk), Some(Some(v))) = (range.first(), rv) {
                    key.insert(rk.clone(), v);
                }
                return Ok(Plan::Get(GetItemInput {
                    table_name: table,
                    key: Value::Object(key),
                    projection_expression: proj,
                    consistent_read: opts.consistent,
                    return_consumed_capacity: opts.rcc,
                    exprs: r.exprs(),
                    ..Default::default()
                }));
            }
        }
        // Sort-key conditions on a left-to-right prefix: equalities, then any one.
        let mut sort = Vec::new();
        for rk in &range {
            let Some(i) = conds.iter().position(|c| is_sort_condition(c, rk)) else { break };
            let c = conds.remove(i);
            let equal = matches!(&c, Cond::Cmp(op, ..) if *op == "=");
            sort.push(c);
            if !equal {
                break;
            }
        }
        if conds.iter().any(|c| keys.iter().any(|k| mentions(c, k))) {
            // A key attribute used outside a key condition: only a Scan can filter on it.
            conds.extend(sort);
            conds.extend(partition.into_iter().map(|(n, v)| equality(&n, v)));
            return Ok(scan(r, conds, proj, index, table, opts));
        }
        let mut terms: Vec<String> = partition.into_iter().map(|(n, v)| format!("{} = {}", r.path(&vec![Seg::Name(n)]), r.operand(&Operand::Value(v)))).collect();
        terms.extend(sort.iter().map(|s| r.cond(s)));
        let kc = terms.join(" AND ");
        let filter_expression = r.all(&conds);
        Ok(Plan::Query(QueryInput {
            table_name: table,
            index_name: index,
            key_condition_expression: Some(kc),
            filter_expression,
            projection_expression: proj,
            limit: opts.limit,
            exclusive_start_key: opts.start,
            consistent_read: opts.consistent,
            return_consumed_capacity: opts.rcc,
            exprs: r.exprs(),
            ..Default::default()
        }))
    }
}

impl DynamoDbService {
    /// Parses and plans one statement with its parameters.
    fn prepare(&self, ctx: &RequestContext, text: &str, params: &[Value], opts: ReadOpts) -> DdbResult<Plan> {
        let stmt = parse(text, params)?;
        self.plan(ctx, stmt, opts)
    }

    /// Runs one planned statement: `Items` (and `NextToken`) as ExecuteStatement answers.
    async fn run(&self, ctx: &RequestContext, plan: Plan) -> DdbResult<Value> {
        let (out, shaped) = self.run_op(ctx, plan).await?;
        let mut shaped = shaped;
        if let Some(c) = out.get("ConsumedCapacity") {
            shaped["ConsumedCapacity"] = c.clone();
        }
        Ok(shaped)
    }

    /// The operation's own answer and the ExecuteStatement-shaped one.
    async fn run_op(&self, ctx: &RequestContext, plan: Plan) -> DdbResult<(Value, Value)> {
        match plan {
            Plan::Get(i) => {
                let out = self.get_item(ctx, i)?;
                let items: Vec<Value> = out.get("Item").cloned().into_iter().collect();
                Ok((out, json!({ "Items": items })))
            }
            Plan::Query(i) => self.query(ctx, i).map(|out| (out.clone(), page(out))),
            Plan::Scan(i) => self.scan(ctx, i).map(|out| (out.clone(), page(out))),
            Plan::Insert(i) => match self.put_item(ctx, i).await {
                Err(DdbError::ConditionalCheckFailed(_)) => Err(DdbError::DuplicateItem("Duplicate primary key exists in table".into())),
                other => other.map(|out| (out, json!({ "Items": [] }))),
            },
            Plan::Update(i) => self.update_item(ctx, i).await.map(|out| (out, json!({ "Items": [] }))),
            Plan::Delete(i) => self.delete_item(ctx, i).await.map(|out| (out, json!({ "Items": [] }))),
        }
    }

    pub(crate) async fn execute_statement(&self, ctx: &RequestContext, input: ExecuteStatementInput) -> DdbResult<Value> {
        if input.return_values_on_condition_check_failure.as_deref().is_some_and(|v| v != "NONE") {
            return Err(DdbError::unsupported("ReturnValuesOnConditionCheckFailure with ExecuteStatement"));
        }
        if let Some(l) = input.limit {
            if l < 1 {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )));
            }
        }
        let start = input.next_token.as_deref().map(decode_token).transpose()?;
        let opts = ReadOpts { consistent: input.consistent_read, rcc: input.return_consumed_capacity.clone(), limit: input.limit, start };
        let plan = self.prepare(ctx, &input.statement, input.parameters.as_deref().unwrap_or_default(), opts)?;
        self.run(ctx, plan).await
    }

    pub(crate) async fn batch_execute_statement(&self, ctx: &RequestContext, input: BatchExecuteStatementInput) -> DdbResult<Value> {
        let n = input.statements.len();
        if n == 0 || n > 25 {
            let c = if n == 0 { "Member must have length greater than or equal to 1" } else { "Member must have length less than or equal to 25" };
            return Err(DdbError::validation(format!("1 validation error detected: Value at 'statements' failed to satisfy constraint: {c}")));
        }
        let is_read = |s: &BatchStatement| s.statement.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("SELECT"));
        let reads = input.statements.iter().filter(|s| is_read(s)).count();
        if reads != 0 && reads != n {
            // "The entire batch must consist of either read statements or write statements"
            // (API_BatchExecuteStatement); the wording of AWS's error is not documented.
            return Err(DdbError::validation("The entire batch must consist of either read statements or write statements"));
        }
        let mut responses = Vec::with_capacity(n);
        for s in &input.statements {
            let opts = ReadOpts { consistent: s.consistent_read, ..Default::default() };
            let planned = self.prepare(ctx, &s.statement, s.parameters.as_deref().unwrap_or_default(), opts);
            let planned = planned.and_then(|p| match p {
                Plan::Query(_) | Plan::Scan(_) => Err(DdbError::validation("Select statements in a batch must specify an equality on all key attributes")),
                p => Ok(p),
            });
            let (table, result) = match planned {
                Ok(p) => (Some(p.table().to_string()), self.run(ctx, p).await),
                Err(e) => (None, Err(e)),
            };
            let mut r = json!({});
            if let Some(t) = table {
                r["TableName"] = json!(t);
            }
            match result {
                Ok(out) => {
                    if let Some(item) = out.get("Items").and_then(|i| i.get(0)) {
                        r["Item"] = item.clone();
                    }
                }
                Err(e) => r["Error"] = json!({ "Code": error_code(&e), "Message": error_message(&e) }),
            }
            responses.push(r);
        }
        Ok(json!({ "Responses": responses }))
    }

    pub(crate) async fn execute_transaction(&self, ctx: &RequestContext, input: ExecuteTransactionInput, fingerprint: String) -> DdbResult<Value> {
        let n = input.transact_statements.len();
        if n == 0 || n > 100 {
            let c = if n == 0 { "Member must have length greater than or equal to 1" } else { "Member must have length less than or equal to 100" };
            return Err(DdbError::validation(format!("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: {c}")));
        }
        let mut plans = Vec::with_capacity(n);
        for s in &input.transact_statements {
            plans.push(self.prepare(ctx, &s.statement, s.parameters.as_deref().unwrap_or_default(), ReadOpts::default())?);
        }
        let reads = plans.iter().filter(|p| p.is_read()).count();
        if reads == n {
            // SDKs fill ClientRequestToken in on every call; a read has nothing to replay.
            return self.read_transaction(ctx, plans, input.return_consumed_capacity);
        }
        if reads > 0 {
            return Err(DdbError::validation("Transaction must contain either all reads or all writes"));
        }
        let inserts: Vec<bool> = plans.iter().map(|p| matches!(p, Plan::Insert(_))).collect();
        let items = plans
            .into_iter()
            .map(|p| match p {
                Plan::Insert(i) => TransactWriteItem { put: Some(i), ..Default::default() },
                Plan::Update(i) => TransactWriteItem { update: Some(i), ..Default::default() },
                Plan::Delete(i) => TransactWriteItem { delete: Some(i), ..Default::default() },
                _ => TransactWriteItem::default(),
            })
            .collect();
        let tw = TransactWriteItemsInput { transact_items: items, client_request_token: input.client_request_token, return_consumed_capacity: input.return_consumed_capacity, return_item_collection_metrics: None };
        match self.transact_write_items(ctx, tw, format!("partiql:{fingerprint}")).await {
            Err(DdbError::TransactionCanceled(mut reasons)) => {
                for (r, ins) in reasons.iter_mut().zip(inserts) {
                    if ins && r.get("Code").and_then(Value::as_str) == Some("ConditionalCheckFailed") {
                        *r = json!({ "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table" });
                    }
                }
                Err(DdbError::TransactionCanceled(reasons))
            }
            other => other,
        }
    }

    fn read_transaction(&self, ctx: &RequestContext, plans: Vec<Plan>, rcc: Option<String>) -> DdbResult<Value> {
        let mut items = Vec::with_capacity(plans.len());
        for p in plans {
            match p {
                Plan::Get(g) => items.push(TransactGetItem { get: Some(g) }),
                _ => return Err(DdbError::validation("Select statements in a transaction must specify an equality on all key attributes")),
            }
        }
        self.transact_get_items(ctx, TransactGetItemsInput { transact_items: items, return_consumed_capacity: rcc })
    }
}

/// A Query / Scan page as ExecuteStatement answers it.
fn page(out: Value) -> Value {
    let mut r = json!({ "Items": out.get("Items").cloned().unwrap_or_else(|| json!([])) });
    if let Some(lek) = out.get("LastEvaluatedKey") {
        r["NextToken"] = json!(encode_token(lek));
        r["LastEvaluatedKey"] = lek.clone();
    }
    r
}
