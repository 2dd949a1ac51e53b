//! Query and Scan: walking a view (the table or one index) in key order from an
//! exclusive start key, with key conditions, filters, projections (the index's, then the
//! request's), Select, Limit, the 1 MB page and parallel-scan segments.

use crate::api::QueryInput;
use crate::capacity::{check_mode, consumed_on, read_units};
use crate::errors::{DdbError, DdbResult};
use crate::exprs::{check_used, non_empty, Subs};
use crate::keys::{encode_values, KeySchema, VKey};
use crate::schema::{IndexDef, ProjectionKind};
use crate::service::DynamoDbService;
use crate::table::{TableState, View};
use nimbus_core::RequestContext;
use nimbus_dynamodb_expr::expr::{parse_filter, parse_key_condition, parse_projection, project, Condition, KeyCondition, Path, SortCondition};
use nimbus_dynamodb_expr::value::{item_from_json, item_size, item_to_json};
use nimbus_dynamodb_expr::Item;
use serde_json::{json, Value};
use std::ops::Bound;
use std::sync::Arc;

pub const PAGE_BYTES: usize = 1024 * 1024;

/// What to do with each item a read walks over.
struct Plan<'a> {
    st: &'a TableState,
    index: Option<&'a IndexDef>,
    /// The key condition's sort-key conditions, each met by every item returned.
    sort: Vec<SortCondition>,
    segment: Option<(u32, u32)>,
    filter: Option<Condition>,
    paths: Option<Vec<Path>>,
    /// The index's projection, applied before the request's.
    index_attrs: Option<Vec<String>>,
    count_only: bool,
    limit: Option<usize>,
}

struct Page {
    items: Vec<Value>,
    count: usize,
    scanned: usize,
    last: Option<Value>,
    bytes: usize,
}

impl Plan<'_> {
    fn run<'v>(&self, iter: impl Iterator<Item = (&'v VKey, &'v Arc<Item>)>) -> DdbResult<Page> {
        let mut page = Page { items: Vec::new(), count: 0, scanned: 0, last: None, bytes: 0 };
        let mut iter = iter.peekable();
        while let Some((vkey, item)) = iter.next() {
            if !self.sort.iter().all(|c| item.get(c.attribute()).is_some_and(|v| c.matches(v))) {
                continue;
            }
            if let Some((seg, total)) = self.segment {
                if crc32fast::hash(&vkey.key.pk) % total != seg {
                    continue;
                }
            }
            page.scanned += 1;
            page.bytes += item_size(item);
            let visible: Item = match &self.index_attrs {
                Some(names) => item.iter().filter(|(k, _)| names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
                None => (**item).clone(),
            };
            let keep = match &self.filter {
                Some(f) => f.eval(&visible)?,
                None => true,
            };
            if keep {
                page.count += 1;
                if !self.count_only {
                    let out = match &self.paths {
                        Some(p) => project(p, &visible),
                        None => visible,
                    };
                    page.items.push(item_to_json(&out));
                }
            }
            let full = self.limit.is_some_and(|l| page.scanned >= l) || page.bytes >= PAGE_BYTES;
            if full {
                // AWS returns LastEvaluatedKey whenever it stops early on Limit or size.
                if self.limit.is_some_and(|l| page.scanned >= l) || iter.peek().is_some() {
                    page.last = Some(self.key_json(item));
                }
                break;
            }
        }
        Ok(page)
    }

    fn key_json(&self, item: &Item) -> Value {
        let mut key = self.st.def.key.key_item(item);
        if let Some(idx) = self.index {
            key.extend(idx.key.key_item(item));
        }
        item_to_json(&key)
    }

    fn view(&self) -> &View {
        match self.index {
            Some(i) => self.st.indexes.get(&i.name).unwrap_or(&self.st.items),
            None => &self.st.items,
        }
    }

    /// The position an ExclusiveStartKey names. It must hold exactly the key attributes
    /// of the table (and of the index read), with their types.
    fn start_key(&self, esk: &Value) -> DdbResult<VKey> {
        let bad = || DdbError::validation("The provided starting key is invalid: The provided key element does not match the schema");
        let item = item_from_json(esk)?;
        let mut names = self.st.def.key.names();
        if let Some(idx) = self.index {
            names.extend(idx.key.names());
        }
        names.sort_unstable();
        names.dedup();
        if item.len() != names.len() || names.iter().any(|n| !item.contains_key(*n)) {
            return Err(bad());
        }
        let table_key = self.st.def.key.key_of(&item).ok_or_else(bad)?;
        Ok(match self.index {
            Some(idx) => VKey { key: idx.key.key_of(&item).ok_or_else(bad)?, table: Some(table_key) },
            None => VKey { key: table_key, table: None },
        })
    }

    /// A Query's ExclusiveStartKey must lie in the partition and sort-key range the key
    /// condition selects.
    fn query_start_key(&self, esk: &Value, kc: &KeyCondition) -> DdbResult<VKey> {
        let k = self.start_key(esk)?;
        if k.key.pk != partition_bytes(kc) {
            return Err(DdbError::validation("The provided starting key is invalid: The provided key element does not match the schema"));
        }
        let item = item_from_json(esk)?;
        if kc.sort.iter().any(|c| item.get(c.attribute()).is_some_and(|v| !c.matches(v))) {
            return Err(DdbError::validation("The provided starting key does not match the range key predicate"));
        }
        Ok(k)
    }
}

/// The partition a key condition selects, as the view's keys encode it.
fn partition_bytes(kc: &KeyCondition) -> Vec<u8> {
    let values: Vec<&nimbus_dynamodb_expr::AttributeValue> = kc.partition.iter().map(|(_, v)| v).collect();
    encode_values(&values)
}

impl Plan<'_> {
}

fn page_json(page: Page, count_only: bool, rcc: Option<&str>, table: &str, index: Option<&IndexDef>, consistent: bool) -> Value {
    let mut out = json!({ "Count": page.count, "ScannedCount": page.scanned });
    if !count_only {
        out["Items"] = Value::Array(page.items);
    }
    if let Some(l) = page.last {
        out["LastEvaluatedKey"] = l;
    }
    if let Some(c) = consumed_on(rcc, table, index.map(|i| (i.name.as_str(), i.global)), read_units(page.bytes, consistent), true) {
        out["ConsumedCapacity"] = c;
    }
    out
}

/// Common checks and settings of Query and Scan.
struct Common<'a> {
    index: Option<&'a IndexDef>,
    index_attrs: Option<Vec<String>>,
    count_only: bool,
    limit: Option<usize>,
}

fn common<'a>(st: &'a TableState, input: &QueryInput, op: &str) -> DdbResult<Common<'a>> {
    check_mode(input.return_consumed_capacity.as_deref())?;
    let limit = match input.limit {
        Some(l) if l < 1 => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )))
        }
        Some(l) => Some(l as usize),
        None => None,
    };
    let index = match &input.index_name {
        Some(name) => Some(st.def.index(name).ok_or_else(|| DdbError::validation(format!("The table does not have the specified index: {name}")))?),
        None => None,
    };
    if index.is_some_and(|i| i.global) && input.consistent_read == Some(true) {
        return Err(DdbError::validation("Consistent reads are not supported on global secondary indexes"));
    }
    let has_projection = input.projection_expression.is_some();
    let select = input.select.as_deref();
    match select {
        None | Some("ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT") => {}
        Some(other) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )))
        }
    }
    if has_projection && select.is_some_and(|s| s != "SPECIFIC_ATTRIBUTES") {
        return Err(DdbError::validation(format!("Cannot specify the ProjectionExpression when choosing to get {}", select.unwrap_or(""))));
    }
    if select == Some("SPECIFIC_ATTRIBUTES") && !has_projection {
        return Err(DdbError::validation(format!("{op}: Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression")));
    }
    if select == Some("ALL_PROJECTED_ATTRIBUTES") && index.is_none() {
        return Err(DdbError::validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"));
    }
    let mut index_attrs = None;
    if let Some(idx) = index {
        let wants_all = select == Some("ALL_ATTRIBUTES");
        if wants_all && idx.global && idx.projection != ProjectionKind::All {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                idx.name
            )));
        }
        // A local index fetches attributes it does not project from the table when the
        // request names them (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LSI.html#LSI.Projections).
        let fetches = !idx.global && has_projection;
        if !wants_all && !fetches {
            index_attrs = idx.projected(&st.def.key);
        }
    }
    Ok(Common { index, index_attrs, count_only: select == Some("COUNT"), limit })
}

/// The FilterExpression and ProjectionExpression of a Query or Scan, parsed.
fn filter_and_projection(input: &QueryInput, s: &nimbus_dynamodb_expr::expr::Substitutions) -> DdbResult<(Option<Condition>, Option<Vec<Path>>)> {
    let filter = match non_empty(input.filter_expression.as_deref(), "FilterExpression")? {
        Some(f) => Some(parse_filter(f, s)?),
        None => None,
    };
    let paths = match non_empty(input.projection_expression.as_deref(), "ProjectionExpression")? {
        Some(p) => Some(parse_projection(p, s)?),
        None => None,
    };
    Ok((filter, paths))
}

/// Every value of a key condition must have the type the schema declares for its key
/// attribute (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html>).
fn check_key_condition_types(key: &KeySchema, kc: &KeyCondition) -> DdbResult<()> {
    let mismatch = || DdbError::validation("One or more parameter values were invalid: Condition parameter type does not match schema type");
    let type_of = |name: &str| key.attributes().find(|(n, _)| n == name).map(|(_, t)| *t);
    for (name, v) in &kc.partition {
        if !type_of(name).is_some_and(|t| t.matches(v)) {
            return Err(mismatch());
        }
    }
    for sort in &kc.sort {
        let Some(t) = type_of(sort.attribute()) else { return Err(mismatch()) };
        check_sort_condition_type(sort, t)?;
    }
    Ok(())
}

fn check_sort_condition_type(sort: &SortCondition, t: crate::keys::KeyType) -> DdbResult<()> {
    let mismatch = || DdbError::validation("One or more parameter values were invalid: Condition parameter type does not match schema type");
    let values = match sort {
        SortCondition::Eq(_, v) | SortCondition::Lt(_, v) | SortCondition::Le(_, v) | SortCondition::Gt(_, v) | SortCondition::Ge(_, v) | SortCondition::BeginsWith(_, v) => vec![v],
        SortCondition::Between(_, l, h) => vec![l, h],
    };
    if values.iter().any(|v| !t.matches(v)) {
        return Err(mismatch());
    }
    if matches!(sort, SortCondition::BeginsWith(..)) && t == crate::keys::KeyType::N {
        return Err(DdbError::validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"));
    }
    Ok(())
}

/// A Query's FilterExpression may not read the key attributes of the table or index it
/// queries (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html>).
fn no_key_attributes_in_filter(filter: &Condition, key: &KeySchema) -> DdbResult<()> {
    let keys = key.names();
    match filter.top_level_names().into_iter().find(|n| keys.contains(&n.as_str())) {
        Some(k) => Err(DdbError::validation(format!("Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"))),
        None => Ok(()),
    }
}

impl DynamoDbService {
    pub(crate) fn query(&self, ctx: &RequestContext, input: QueryInput) -> DdbResult<Value> {
        let rewritten = crate::legacy::read(&input, true)?;
        let input: &QueryInput = &rewritten;
        let table = self.table(ctx, &input.table_name)?;
        let st = table.state.lock();
        if st.deleted {
            return Err(DdbError::table_not_found());
        }
        let c = common(&st, input, "Query")?;
        if input.segment.is_some() || input.total_segments.is_some() {
            return Err(DdbError::validation("Segment and TotalSegments are only supported by Scan"));
        }
        let subs = Subs::new(&input.exprs)?;
        let s = subs.get();
        let kc_text = non_empty(input.key_condition_expression.as_deref(), "KeyConditionExpression")?
            .ok_or_else(|| DdbError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."))?;
        let key = c.index.map(|i| &i.key).unwrap_or(&st.def.key);
        crate::legacy::check_query_filter(&input.legacy, &key.names())?;
        crate::legacy::check_key_condition_count(&input.legacy, key.names().len())?;
        let kc = parse_key_condition(kc_text, &s, &key.hash_names(), &key.range_names())?;
        check_key_condition_types(key, &kc)?;
        let (filter, paths) = filter_and_projection(input, &s)?;
        check_used(&s)?;
        if let Some(f) = &filter {
            no_key_attributes_in_filter(f, key)?;
        }
        let plan = Plan { st: &st, index: c.index, sort: kc.sort.clone(), segment: None, filter, paths, index_attrs: c.index_attrs, count_only: c.count_only, limit: c.limit };
        let pk = partition_bytes(&kc);
        let start = VKey::partition_start(&pk);
        let end = VKey::partition_end(&pk);
        let forward = input.scan_index_forward.unwrap_or(true);
        let esk = match &input.exclusive_start_key {
            Some(v) if !v.is_null() => Some(plan.query_start_key(v, &kc)?),
            _ => None,
        };
        let view = plan.view();
        let page = match (forward, esk) {
            (true, None) => plan.run(view.range(start..end))?,
            (false, None) => plan.run(view.range(start..end).rev())?,
            (true, Some(k)) if k >= end => plan.run(std::iter::empty())?,
            (true, Some(k)) if k < start => plan.run(view.range(start..end))?,
            (true, Some(k)) => plan.run(view.range((Bound::Excluded(k), Bound::Excluded(end))))?,
            (false, Some(k)) if k <= start => plan.run(std::iter::empty())?,
            (false, Some(k)) if k > end => plan.run(view.range(start..end).rev())?,
            (false, Some(k)) => plan.run(view.range(start..k).rev())?,
        };
        let consistent = input.consistent_read.unwrap_or(false);
        Ok(page_json(page, c.count_only, input.return_consumed_capacity.as_deref(), &st.def.name, c.index, consistent))
    }

    pub(crate) fn scan(&self, ctx: &RequestContext, input: QueryInput) -> DdbResult<Value> {
        let rewritten = crate::legacy::read(&input, false)?;
        let input: &QueryInput = &rewritten;
        let table = self.table(ctx, &input.table_name)?;
        let st = table.state.lock();
        if st.deleted {
            return Err(DdbError::table_not_found());
        }
        let c = common(&st, input, "Scan")?;
        if input.key_condition_expression.is_some() {
            return Err(DdbError::validation("KeyConditionExpression is not supported by Scan"));
        }
        let segment = match (input.segment, input.total_segments) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(DdbError::validation("The TotalSegments parameter is required but was not present in the request when parameter Segment is present"))
            }
            (None, Some(_)) => {
                return Err(DdbError::validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present"))
            }
            (Some(_), Some(t)) if !(1..=1_000_000).contains(&t) => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value {} 1000000",
                    if t < 1 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
                )))
            }
            (Some(s), Some(t)) if s < 0 || s >= t => {
                return Err(DdbError::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                )))
            }
            (Some(s), Some(t)) => Some((s as u32, t as u32)),
        };
        let subs = Subs::new(&input.exprs)?;
        subs.require_expression(input.filter_expression.is_some() || input.projection_expression.is_some())?;
        let s = subs.get();
        let (filter, paths) = filter_and_projection(input, &s)?;
        check_used(&s)?;
        let plan = Plan { st: &st, index: c.index, sort: Vec::new(), segment, filter, paths, index_attrs: c.index_attrs, count_only: c.count_only, limit: c.limit };
        let view = plan.view();
        let page = match &input.exclusive_start_key {
            Some(v) if !v.is_null() => {
                let k = plan.start_key(v)?;
                plan.run(view.range((Bound::Excluded(k), Bound::Unbounded)))?
            }
            _ => plan.run(view.iter())?,
        };
        let consistent = input.consistent_read.unwrap_or(false);
        Ok(page_json(page, c.count_only, input.return_consumed_capacity.as_deref(), &st.def.name, c.index, consistent))
    }
}
