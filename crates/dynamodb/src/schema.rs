//! A table's definition (keys, attribute definitions, indexes, billing, stream, TTL,
//! tags), built from CreateTable's input with AWS's validation, and the
//! `TableDescription` it renders as.

use crate::api::{AttributeDefinition, CreateTableInput, IndexInput, KeySchemaElement, Throughput};
use crate::errors::{DdbError, DdbResult};
use crate::keys::{KeySchema, KeyType, MAX_KEY_PART_ATTRIBUTES};
use crate::time::epoch_seconds;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionKind {
    KeysOnly,
    Include(Vec<String>),
    All,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub key: KeySchema,
    pub projection: ProjectionKind,
    pub global: bool,
    pub throughput: Option<(i64, i64)>,
    pub created_ms: u64,
    /// WarmThroughput (read, write units per second) when the request set it.
    #[serde(default)]
    pub warm: Option<(i64, i64)>,
}

impl IndexDef {
    /// Which attributes of an item the index holds (None: all).
    pub fn projected(&self, table_key: &KeySchema) -> Option<Vec<String>> {
        let mut names: Vec<String> = table_key.names().into_iter().chain(self.key.names()).map(String::from).collect();
        match &self.projection {
            ProjectionKind::All => return None,
            ProjectionKind::KeysOnly => {}
            ProjectionKind::Include(extra) => names.extend(extra.iter().cloned()),
        }
        names.sort();
        names.dedup();
        Some(names)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamSettings {
    pub view_type: String,
    pub arn: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDef {
    pub id: u64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub table_id: String,
    pub key: KeySchema,
    pub attributes: Vec<(String, KeyType)>,
    pub lsis: Vec<IndexDef>,
    pub gsis: Vec<IndexDef>,
    pub pay_per_request: bool,
    pub throughput: (i64, i64),
    /// The enabled stream, if any.
    pub stream: Option<StreamSettings>,
    /// The most recent stream (kept after it is disabled): LatestStreamArn / Label.
    pub latest_stream: Option<StreamSettings>,
    pub sse: Option<Value>,
    pub tags: BTreeMap<String, String>,
    pub deletion_protection: bool,
    pub ttl_attribute: Option<String>,
    pub table_class: Option<String>,
    pub created_ms: u64,
    /// WarmThroughput (read, write units per second) when a request set it.
    #[serde(default)]
    pub warm: Option<(i64, i64)>,
    /// Set on a table restored from a backup: the RestoreSummary.
    #[serde(default)]
    pub restored: Option<RestoredFrom>,
    /// Point-in-time recovery, when enabled.
    #[serde(default)]
    pub pitr: Option<PitrSettings>,
    /// Contributor Insights settings by index name ("" for the table itself).
    #[serde(default)]
    pub insights: BTreeMap<String, InsightsSettings>,
    /// Kinesis data streams the table's changes are sent to (`kinesis_dest.rs`).
    #[serde(default)]
    pub kinesis: Vec<crate::kinesis_dest::KinesisDestination>,
}

/// Contributor Insights on a table or index: stored and reported (nimbus computes no
/// contributor figures; there is no CloudWatch Contributor Insights yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InsightsSettings {
    pub enabled: bool,
    pub mode: String,
    pub updated_ms: u64,
}

/// Point-in-time recovery of a table: since when its changes are logged, and how far
/// back it can be restored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PitrSettings {
    pub enabled_ms: u64,
    pub period_days: u32,
}

/// Where a restored table came from (DescribeTable's `RestoreSummary`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoredFrom {
    /// The backup restored from (none for a point-in-time restore).
    pub backup_arn: Option<String>,
    pub source_table_arn: String,
    /// The moment the data is from: the backup's creation, or the point in time.
    pub at_ms: u64,
}

impl TableDef {
    pub fn arn(&self) -> String {
        format!("arn:aws:dynamodb:{}:{}:table/{}", self.region, self.account, self.name)
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.lsis.iter().chain(self.gsis.iter()).find(|i| i.name == name)
    }

    pub fn indexes(&self) -> impl Iterator<Item = &IndexDef> {
        self.lsis.iter().chain(self.gsis.iter())
    }

    pub fn attribute_type(&self, name: &str) -> Option<KeyType> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }
}

pub fn validate_table_name(name: &str, field: &str) -> DdbResult<()> {
    let bad_len = name.len() < 3 || name.len() > 255;
    let bad_chars = !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if bad_len || bad_chars {
        let constraint = if name.len() < 3 {
            "Member must have length greater than or equal to 3".to_string()
        } else if name.len() > 255 {
            "Member must have length less than or equal to 255".to_string()
        } else {
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+".to_string()
        };
        return Err(DdbError::validation(format!("1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: {constraint}")));
    }
    Ok(())
}

/// Key attribute names: 1 to 255 bytes (`KeySchemaAttributeName` in the API model).
fn key_attribute_name(name: &str, field: &str) -> DdbResult<()> {
    let constraint = match name.len() {
        0 => "Member must have length greater than or equal to 1",
        n if n > MAX_KEY_ATTRIBUTE_NAME_BYTES => "Member must have length less than or equal to 255",
        _ => return Ok(()),
    };
    Err(DdbError::validation(format!("1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: {constraint}")))
}

const MAX_KEY_ATTRIBUTE_NAME_BYTES: usize = 255;

pub fn parse_attribute_definitions(defs: &[AttributeDefinition]) -> DdbResult<Vec<(String, KeyType)>> {
    let mut out: Vec<(String, KeyType)> = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        key_attribute_name(&d.attribute_name, &format!("attributeDefinitions.{}.member.attributeName", i + 1))?;
        let t = KeyType::parse(&d.attribute_type).ok_or_else(|| {
            DdbError::validation(format!(
                "1 validation error detected: Value '{}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                d.attribute_type
            ))
        })?;
        if out.iter().any(|(n, _)| *n == d.attribute_name) {
            return Err(DdbError::validation(format!("Attribute Name is duplicated: {}", d.attribute_name)));
        }
        out.push((d.attribute_name.clone(), t));
    }
    Ok(out)
}

/// A KeySchema list → the key, checking each attribute is defined. Tables and local
/// indexes have one HASH element and at most one RANGE element; a global index (`multi`)
/// up to four of each, every HASH before every RANGE
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys>).
pub fn parse_key_schema(elems: &[KeySchemaElement], attrs: &[(String, KeyType)], what: &str, multi: bool) -> DdbResult<KeySchema> {
    check_key_schema_shape(elems, what, multi)?;
    let lookup = |name: &str| -> DdbResult<KeyType> {
        attrs.iter().find(|(n, _)| n == name).map(|(_, t)| *t).ok_or_else(|| {
            let defined: Vec<&str> = attrs.iter().map(|(n, _)| n.as_str()).collect();
            let keys: Vec<&str> = elems.iter().map(|e| e.attribute_name.as_str()).collect();
            invalid(&format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                keys.join(", "),
                defined.join(", ")
            ))
        })
    };
    let mut key = KeySchema { hash: Vec::new(), range: Vec::new() };
    for e in elems {
        let part = if e.key_type == "HASH" { &mut key.hash } else { &mut key.range };
        part.push((e.attribute_name.clone(), lookup(&e.attribute_name)?));
    }
    Ok(key)
}

fn invalid(m: &str) -> DdbError {
    DdbError::validation(format!("One or more parameter values were invalid: {m}"))
}

/// The order, number and names of KeySchema elements, before their definitions.
fn check_key_schema_shape(elems: &[KeySchemaElement], what: &str, multi: bool) -> DdbResult<()> {
    if elems.is_empty() || (!multi && elems.len() > 2) {
        let bound = if elems.is_empty() && multi { "greater than or equal to 1" } else { "less than or equal to 2" };
        return Err(DdbError::validation(format!(
            "1 validation error detected: Value '[]' at '{what}' failed to satisfy constraint: Member must have length {bound}"
        )));
    }
    for (i, e) in elems.iter().enumerate() {
        key_attribute_name(&e.attribute_name, &format!("{what}.{}.member.attributeName", i + 1))?;
        if e.key_type != "HASH" && e.key_type != "RANGE" {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{}' at '{what}.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                e.key_type,
                i + 1
            )));
        }
    }
    if elems[0].key_type != "HASH" {
        return Err(invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"));
    }
    if !multi {
        return match elems.get(1) {
            Some(e) if e.key_type != "RANGE" => Err(invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")),
            Some(e) if e.attribute_name == elems[0].attribute_name => Err(invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")),
            _ => Ok(()),
        };
    }
    let hashes = elems.iter().take_while(|e| e.key_type == "HASH").count();
    if elems[hashes..].iter().any(|e| e.key_type == "HASH") {
        return Err(invalid("All HASH key attributes must precede RANGE key attributes in the KeySchema"));
    }
    for (count, kind) in [(hashes, "HASH"), (elems.len() - hashes, "RANGE")] {
        if count > MAX_KEY_PART_ATTRIBUTES {
            return Err(invalid(&format!("The KeySchema exceeds the maximum allowed number of {kind} key attributes")));
        }
    }
    let mut names: Vec<&str> = elems.iter().map(|e| e.attribute_name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(if hashes == 1 && elems.len() == 2 {
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        } else {
            "The KeySchema contains multiple key attributes with the same name"
        }));
    }
    Ok(())
}

pub fn parse_throughput(t: &Throughput) -> DdbResult<(i64, i64)> {
    match (t.read_capacity_units, t.write_capacity_units) {
        (Some(r), Some(w)) if r >= 1 && w >= 1 => Ok((r, w)),
        (Some(_), Some(_)) => Err(DdbError::validation(
            "One or more parameter values were invalid: Each read and write capacity unit must be greater than or equal to 1",
        )),
        _ => Err(DdbError::validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
    }
}

pub fn parse_index(input: &IndexInput, attrs: &[(String, KeyType)], global: bool, pay_per_request: bool, now_ms: u64) -> DdbResult<IndexDef> {
    validate_table_name(&input.index_name, "indexName")?;
    let key = parse_key_schema(&input.key_schema, attrs, "keySchema", global)?;
    let projection = match &input.projection {
        None => return Err(DdbError::validation("One or more parameter values were invalid: Projection is required")),
        Some(p) => match (p.projection_type.as_deref().unwrap_or(""), &p.non_key_attributes) {
            ("ALL", None) => ProjectionKind::All,
            ("KEYS_ONLY", None) => ProjectionKind::KeysOnly,
            ("INCLUDE", Some(names)) if !names.is_empty() => ProjectionKind::Include(names.clone()),
            ("INCLUDE", _) => {
                return Err(DdbError::validation(
                    "One or more parameter values were invalid: NonKeyAttributes must be specified when ProjectionType is INCLUDE",
                ))
            }
            (t @ ("ALL" | "KEYS_ONLY"), Some(_)) => {
                return Err(DdbError::validation(format!(
                    "One or more parameter values were invalid: ProjectionType is {t}, but NonKeyAttributes is specified"
                )))
            }
            (other, _) => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [INCLUDE, ALL, KEYS_ONLY]"
                )))
            }
        },
    };
    let throughput = if !global {
        None
    } else if pay_per_request {
        if input.provisioned_throughput.is_some() {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: ".to_string() + &input.index_name + " when BillingMode is PAY_PER_REQUEST",
            ));
        }
        None
    } else {
        let t = input.provisioned_throughput.as_ref().ok_or_else(|| {
            DdbError::validation(format!("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: {}", input.index_name))
        })?;
        Some(parse_throughput(t)?)
    };
    let warm = match &input.warm_throughput {
        Some(w) if global => Some(parse_warm(w, None)?),
        _ => None,
    };
    Ok(IndexDef { name: input.index_name.clone(), key, projection, global, throughput, created_ms: now_ms, warm })
}

/// Warm throughput a new table or index starts with (on-demand defaults)
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html>).
pub const DEFAULT_WARM: (i64, i64) = (12_000, 4_000);

/// A WarmThroughput input; a member left out keeps `current`'s (or the default) value.
pub fn parse_warm(w: &crate::api::WarmThroughput, current: Option<(i64, i64)>) -> DdbResult<(i64, i64)> {
    let base = current.unwrap_or(DEFAULT_WARM);
    let out = (w.read_units_per_second.unwrap_or(base.0), w.write_units_per_second.unwrap_or(base.1));
    for (v, field) in [(out.0, "readUnitsPerSecond"), (out.1, "writeUnitsPerSecond")] {
        if v < 1 {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{v}' at 'warmThroughput.{field}' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )));
        }
    }
    Ok(out)
}

fn warm_json(w: Option<(i64, i64)>) -> Value {
    let (r, w) = w.unwrap_or(DEFAULT_WARM);
    json!({"ReadUnitsPerSecond": r, "WriteUnitsPerSecond": w, "Status": "ACTIVE"})
}

pub fn stream_view_type(enabled: bool, view: Option<&str>) -> DdbResult<Option<String>> {
    if !enabled {
        return Ok(None);
    }
    match view {
        Some(v @ ("KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES")) => Ok(Some(v.to_string())),
        Some(other) => Err(DdbError::validation(format!(
            "1 validation error detected: Value '{other}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
        ))),
        None => Err(DdbError::validation("One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true")),
    }
}

/// CreateTable's input → the definition (no stream ARN yet: the engine assigns it).
pub fn table_def(input: &CreateTableInput, account: &str, region: &str, now_ms: u64) -> DdbResult<(TableDef, Option<String>)> {
    validate_table_name(&input.table_name, "tableName")?;
    let attributes = parse_attribute_definitions(&input.attribute_definitions)?;
    let key = parse_key_schema(&input.key_schema, &attributes, "keySchema", false)?;
    let pay_per_request = match input.billing_mode.as_deref() {
        None | Some("PROVISIONED") => false,
        Some("PAY_PER_REQUEST") => true,
        Some(other) => {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )))
        }
    };
    let throughput = if pay_per_request {
        if input.provisioned_throughput.is_some() {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (0, 0)
    } else {
        parse_throughput(input.provisioned_throughput.as_ref().unwrap_or(&Throughput::default()))?
    };
    let mut lsis = Vec::new();
    for l in input.local_secondary_indexes.iter().flatten() {
        let idx = parse_index(l, &attributes, false, pay_per_request, now_ms)?;
        if key.range.is_empty() {
            return Err(DdbError::validation(
                "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        if idx.key.hash != key.hash {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                idx.name,
                idx.key.first_hash(),
                key.first_hash()
            )));
        }
        if idx.key.range.is_empty() {
            return Err(DdbError::validation(format!("One or more parameter values were invalid: Index KeySchema does not have a range key for index: {}", idx.name)));
        }
        lsis.push(idx);
    }
    if lsis.len() > 5 {
        return Err(DdbError::validation("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"));
    }
    let mut gsis = Vec::new();
    for g in input.global_secondary_indexes.iter().flatten() {
        gsis.push(parse_index(g, &attributes, true, pay_per_request, now_ms)?);
    }
    if gsis.len() > 20 {
        return Err(DdbError::validation("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"));
    }
    let mut names: Vec<&str> = lsis.iter().chain(gsis.iter()).map(|i| i.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(DdbError::validation(format!("One or more parameter values were invalid: Duplicate index name: {}", w[0])));
    }
    // Every defined attribute must be used by some key.
    let used: Vec<&str> = key.names().into_iter().chain(lsis.iter().chain(gsis.iter()).flat_map(|i| i.key.names())).collect();
    if attributes.iter().any(|(n, _)| !used.contains(&n.as_str())) {
        return Err(DdbError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    crate::tags::check_count(input.tags.as_ref().map_or(0, |t| t.len()))?;
    let view = match &input.stream_specification {
        Some(s) => stream_view_type(s.stream_enabled, s.stream_view_type.as_deref())?,
        None => None,
    };
    let sse = input.sse_specification.as_ref().filter(|s| s.get("Enabled").and_then(Value::as_bool) == Some(true)).cloned();
    crate::tags::check_tags(input.tags.as_deref().unwrap_or_default())?;
    let mut tags = BTreeMap::new();
    for t in input.tags.iter().flatten() {
        tags.insert(t.key.clone(), t.value.clone());
    }
    let def = TableDef {
        id: 0,
        account: account.to_string(),
        region: region.to_string(),
        name: input.table_name.clone(),
        table_id: nimbus_core::ids::uuid(),
        key,
        attributes,
        lsis,
        gsis,
        pay_per_request,
        throughput,
        stream: None,
        latest_stream: None,
        sse,
        tags,
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        ttl_attribute: None,
        table_class: input.table_class.clone(),
        created_ms: now_ms,
        warm: input.warm_throughput.as_ref().map(|w| parse_warm(w, None)).transpose()?,
        restored: None,
        pitr: None,
        insights: BTreeMap::new(),
        kinesis: Vec::new(),
    };
    Ok((def, view))
}

impl TableDef {
    pub fn key_schema_json(k: &KeySchema) -> Value {
        key_schema_json(k)
    }
}

fn key_schema_json(k: &KeySchema) -> Value {
    let part = |attrs: &[(String, KeyType)], kind: &str| attrs.iter().map(|(n, _)| json!({"AttributeName": n, "KeyType": kind})).collect::<Vec<_>>();
    let mut v = part(&k.hash, "HASH");
    v.extend(part(&k.range, "RANGE"));
    Value::Array(v)
}

fn projection_json(p: &ProjectionKind) -> Value {
    match p {
        ProjectionKind::All => json!({"ProjectionType": "ALL"}),
        ProjectionKind::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
        ProjectionKind::Include(n) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": n}),
    }
}

fn throughput_json(t: (i64, i64)) -> Value {
    json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": t.0, "WriteCapacityUnits": t.1})
}

/// Live numbers the description reports.
#[derive(Default)]
pub struct Counts {
    pub item_count: u64,
    pub size_bytes: u64,
    /// Per index name: (items, bytes).
    pub indexes: BTreeMap<String, (u64, u64)>,
}

/// DeleteTable's TableDescription: AWS answers with the table's name, status, sizes,
/// throughput and identity only — no key schema, attribute definitions or indexes
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html#API_DeleteTable_Examples>).
pub fn describe_deleting(def: &TableDef, counts: &Counts) -> Value {
    let mut d = json!({
        "TableName": def.name,
        "TableStatus": "DELETING",
        "ProvisionedThroughput": throughput_json(def.throughput),
        "TableSizeBytes": counts.size_bytes,
        "ItemCount": counts.item_count,
        "TableArn": def.arn(),
        "TableId": def.table_id,
    });
    if def.pay_per_request {
        d["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": epoch_seconds(def.created_ms)});
    }
    d
}

/// The TableDescription shape.
pub fn describe(def: &TableDef, status: &str, counts: &Counts, index_status: &dyn Fn(&str) -> &'static str) -> Value {
    let mut d = json!({
        "AttributeDefinitions": def.attributes.iter().map(|(n, t)| json!({"AttributeName": n, "AttributeType": t.as_str()})).collect::<Vec<_>>(),
        "TableName": def.name,
        "KeySchema": key_schema_json(&def.key),
        "TableStatus": status,
        "CreationDateTime": epoch_seconds(def.created_ms),
        "ProvisionedThroughput": throughput_json(def.throughput),
        "TableSizeBytes": counts.size_bytes,
        "ItemCount": counts.item_count,
        "TableArn": def.arn(),
        "TableId": def.table_id,
        "DeletionProtectionEnabled": def.deletion_protection,
        "WarmThroughput": warm_json(def.warm),
    });
    if def.pay_per_request {
        d["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": epoch_seconds(def.created_ms)});
    }
    let index_json = |i: &IndexDef| {
        let (n, b) = counts.indexes.get(&i.name).copied().unwrap_or((0, 0));
        let mut v = json!({
            "IndexName": i.name,
            "KeySchema": key_schema_json(&i.key),
            "Projection": projection_json(&i.projection),
            "IndexSizeBytes": b,
            "ItemCount": n,
            "IndexArn": format!("{}/index/{}", def.arn(), i.name),
        });
        if i.global {
            v["IndexStatus"] = json!(index_status(&i.name));
            v["ProvisionedThroughput"] = throughput_json(i.throughput.unwrap_or((0, 0)));
            v["WarmThroughput"] = warm_json(i.warm);
        }
        v
    };
    if !def.lsis.is_empty() {
        d["LocalSecondaryIndexes"] = Value::Array(def.lsis.iter().map(index_json).collect());
    }
    if !def.gsis.is_empty() {
        d["GlobalSecondaryIndexes"] = Value::Array(def.gsis.iter().map(index_json).collect());
    }
    match (&def.stream, &def.latest_stream) {
        (Some(s), _) => {
            d["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": s.view_type});
        }
        (None, Some(_)) => {
            d["StreamSpecification"] = json!({"StreamEnabled": false});
        }
        _ => {}
    }
    if let Some(s) = &def.latest_stream {
        d["LatestStreamLabel"] = json!(s.label);
        d["LatestStreamArn"] = json!(s.arn);
    }
    if def.sse.is_some() {
        d["SSEDescription"] = json!({
            "Status": "ENABLED",
            "SSEType": "KMS",
            "KMSMasterKeyArn": format!("arn:aws:kms:{}:{}:key/{}", def.region, def.account, def.table_id),
        });
    }
    if let Some(c) = &def.table_class {
        d["TableClassSummary"] = json!({"TableClass": c});
    }
    if let Some(r) = &def.restored {
        d["RestoreSummary"] = json!({
            "SourceTableArn": r.source_table_arn,
            "RestoreDateTime": epoch_seconds(r.at_ms),
            "RestoreInProgress": status == "CREATING",
        });
        if let Some(arn) = &r.backup_arn {
            d["RestoreSummary"]["SourceBackupArn"] = json!(arn);
        }
    }
    d
}
