//! The control plane: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable,
//! TTL, tags, DescribeLimits, DescribeEndpoints. Tables become ACTIVE as soon as their
//! creation committed (CreateTable answers CREATING, the next DescribeTable ACTIVE); GSIs
//! created by UpdateTable are backfilled before the call answers.

use crate::api::*;
use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::schema::{describe, parse_attribute_definitions, parse_index, parse_throughput, stream_view_type, table_def};
use crate::service::{table_name_of, DynamoDbService};
use crate::table::TableState;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

fn description(st: &TableState, status: &str, creating: &[String]) -> Value {
    let counts = st.counts();
    let status_of = |name: &str| if creating.iter().any(|c| c == name) { "CREATING" } else { "ACTIVE" };
    describe(&st.def, status, &counts, &status_of)
}

impl DynamoDbService {
    pub(crate) async fn create_table(&self, ctx: &RequestContext, input: CreateTableInput) -> DdbResult<Value> {
        let (def, view) = table_def(&input, &ctx.account_id, &ctx.region, self.engine.clock.now_ms())?;
        let mut txn = Txn::default();
        let table = self.engine.create_table(def, view, &mut txn)?;
        let out = {
            let st = table.state.lock();
            let all: Vec<String> = st.def.gsis.iter().map(|g| g.name.clone()).collect();
            description(&st, "CREATING", &all)
        };
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "TableDescription": out }))
    }

    pub(crate) fn describe_table(&self, ctx: &RequestContext, input: TableNameInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let st = table.state.lock();
        Ok(json!({ "Table": description(&st, "ACTIVE", &[]) }))
    }

    pub(crate) fn list_tables(&self, ctx: &RequestContext, input: ListTablesInput) -> DdbResult<Value> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {} 100",
                if limit < 1 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
            )));
        }
        let names = self.engine.table_names(&ctx.account_id, &ctx.region);
        let start = input.exclusive_start_table_name.as_deref();
        let rest: Vec<String> = names.into_iter().filter(|n| start.is_none_or(|s| n.as_str() > s)).collect();
        let page: Vec<String> = rest.iter().take(limit as usize).cloned().collect();
        let mut out = json!({ "TableNames": page });
        if rest.len() > limit as usize {
            out["LastEvaluatedTableName"] = json!(page.last());
        }
        Ok(out)
    }

    pub(crate) async fn delete_table(&self, ctx: &RequestContext, input: TableNameInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let mut txn = Txn::default();
        let out = {
            let mut st = table.state.lock();
            if st.deleted {
                return Err(DdbError::table_not_found_named(name));
            }
            if st.def.deletion_protection {
                return Err(DdbError::validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
                ));
            }
            let out = crate::schema::describe_deleting(&st.def, &st.counts());
            self.engine.delete_table(&mut st, &mut txn);
            out
        };
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "TableDescription": out }))
    }

    pub(crate) async fn update_table(&self, ctx: &RequestContext, input: UpdateTableInput) -> DdbResult<Value> {
        let table = self.table(ctx, &input.table_name)?;
        let now = self.engine.clock.now_ms();
        let mut txn = Txn::default();
        let out = {
            let mut st = table.state.lock();
            if st.deleted {
                return Err(DdbError::table_not_found());
            }
            let nothing = input.billing_mode.is_none()
                && input.provisioned_throughput.is_none()
                && input.global_secondary_index_updates.as_ref().is_none_or(|u| u.is_empty())
                && input.stream_specification.is_none()
                && input.sse_specification.is_none()
                && input.deletion_protection_enabled.is_none()
                && input.table_class.is_none()
                && input.replica_updates.is_none()
                && input.warm_throughput.is_none();
            if nothing {
                return Err(DdbError::validation(
                    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
                ));
            }
            if input.replica_updates.is_some() {
                return Err(DdbError::unsupported("ReplicaUpdates"));
            }
            // Work on a copy; install it only when every part validated.
            let mut def = st.def.clone();
            if let Some(mode) = &input.billing_mode {
                match mode.as_str() {
                    "PAY_PER_REQUEST" => {
                        def.pay_per_request = true;
                        def.throughput = (0, 0);
                        for g in &mut def.gsis {
                            g.throughput = None;
                        }
                    }
                    "PROVISIONED" => {
                        let t = input.provisioned_throughput.as_ref().ok_or_else(|| {
                            DdbError::validation("One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
                        })?;
                        def.pay_per_request = false;
                        def.throughput = parse_throughput(t)?;
                        for g in &mut def.gsis {
                            g.throughput.get_or_insert(def.throughput);
                        }
                    }
                    other => return Err(DdbError::validation(format!("1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"))),
                }
            } else if let Some(t) = &input.provisioned_throughput {
                if def.pay_per_request {
                    return Err(DdbError::validation(
                        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                    ));
                }
                def.throughput = parse_throughput(t)?;
            }
            if let Some(defs) = &input.attribute_definitions {
                for (n, t) in parse_attribute_definitions(defs)? {
                    match def.attributes.iter_mut().find(|(x, _)| *x == n) {
                        Some(existing) => existing.1 = t,
                        None => def.attributes.push((n, t)),
                    }
                }
            }
            let mut created = Vec::new();
            for u in input.global_secondary_index_updates.iter().flatten() {
                if let Some(c) = &u.create {
                    if def.index(&c.index_name).is_some() {
                        return Err(DdbError::validation(format!("One or more parameter values were invalid: Index with name {} already exists", c.index_name)));
                    }
                    let idx = parse_index(c, &def.attributes, true, def.pay_per_request, now)?;
                    created.push(idx.name.clone());
                    def.gsis.push(idx);
                } else if let Some(d) = &u.delete {
                    let before = def.gsis.len();
                    def.gsis.retain(|g| g.name != d.index_name);
                    if def.gsis.len() == before {
                        return Err(DdbError::ResourceNotFound(format!("Requested resource not found: Index: {} not found", d.index_name)));
                    }
                } else if let Some(up) = &u.update {
                    let g = def
                        .gsis
                        .iter_mut()
                        .find(|g| g.name == up.index_name)
                        .ok_or_else(|| DdbError::ResourceNotFound(format!("Requested resource not found: Index: {} not found", up.index_name)))?;
                    if let Some(t) = &up.provisioned_throughput {
                        g.throughput = Some(parse_throughput(t)?);
                    }
                    if let Some(w) = &up.warm_throughput {
                        g.warm = Some(crate::schema::parse_warm(w, g.warm)?);
                    }
                }
            }
            // Attribute definitions follow the keys that use them.
            let used: Vec<String> = def.key.names().into_iter().chain(def.indexes().flat_map(|i| i.key.names())).map(String::from).collect();
            def.attributes.retain(|(n, _)| used.contains(n));
            if let Some(w) = &input.warm_throughput {
                def.warm = Some(crate::schema::parse_warm(w, def.warm)?);
            }
            if let Some(p) = input.deletion_protection_enabled {
                def.deletion_protection = p;
            }
            if let Some(sse) = &input.sse_specification {
                def.sse = (sse.get("Enabled").and_then(Value::as_bool) == Some(true)).then(|| sse.clone());
            }
            if let Some(c) = &input.table_class {
                def.table_class = Some(c.clone());
            }
            let mut stream_change = None;
            if let Some(spec) = &input.stream_specification {
                let view = stream_view_type(spec.stream_enabled, spec.stream_view_type.as_deref())?;
                match (&def.stream, view) {
                    (Some(s), Some(_)) => return Err(DdbError::validation(format!("Table already has an enabled stream: {}", s.arn))),
                    (None, None) => return Err(DdbError::validation("Table already has stream disabled")),
                    (_, v) => stream_change = Some(v),
                }
            }
            match stream_change {
                Some(Some(view)) => self.engine.open_stream(&mut def, view, &mut txn),
                Some(None) => {
                    if let Some(s) = def.stream.take() {
                        self.engine.close_stream(&s.arn, &mut txn);
                    }
                }
                None => {}
            }
            let dropped: Vec<String> = st.def.gsis.iter().filter(|g| def.index(&g.name).is_none()).map(|g| g.name.clone()).collect();
            st.def = def;
            for name in dropped {
                st.drop_index(&name);
            }
            for name in &created {
                if let Some(idx) = st.def.index(name).cloned() {
                    st.backfill(&idx);
                }
            }
            self.engine.put_def(&st, &mut txn);
            description(&st, "UPDATING", &created)
        };
        self.engine.submit(txn).wait().await?;
        Ok(json!({ "TableDescription": out }))
    }

    pub(crate) async fn update_ttl(&self, ctx: &RequestContext, input: UpdateTtlInput) -> DdbResult<Value> {
        let table = self.table(ctx, &input.table_name)?;
        let spec = input.time_to_live_specification;
        if spec.attribute_name.is_empty() {
            return Err(DdbError::validation(
                "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let mut txn = Txn::default();
        {
            let mut st = table.state.lock();
            match (&st.def.ttl_attribute, spec.enabled) {
                (Some(a), true) if *a != spec.attribute_name => {
                    return Err(DdbError::validation(format!("TimeToLive is active on a different AttributeName: current AttributeName is {a}")))
                }
                (Some(_), true) => return Err(DdbError::validation("TimeToLive is already enabled")),
                (None, false) => return Err(DdbError::validation("TimeToLive is already disabled")),
                (Some(a), false) if *a != spec.attribute_name => {
                    return Err(DdbError::validation("Attribute name does not match the attribute name of the current TimeToLive configuration"))
                }
                _ => {}
            }
            st.def.ttl_attribute = spec.enabled.then(|| spec.attribute_name.clone());
            st.rebuild_ttl();
            self.engine.put_def(&st, &mut txn);
        }
        self.engine.submit(txn).wait().await?;
        self.engine.ttl_wake.notify_one();
        Ok(json!({ "TimeToLiveSpecification": { "Enabled": spec.enabled, "AttributeName": spec.attribute_name } }))
    }

    pub(crate) fn describe_ttl(&self, ctx: &RequestContext, input: TableNameInput) -> DdbResult<Value> {
        let table = self.table(ctx, &input.table_name)?;
        let st = table.state.lock();
        Ok(match &st.def.ttl_attribute {
            Some(a) => json!({ "TimeToLiveDescription": { "TimeToLiveStatus": "ENABLED", "AttributeName": a } }),
            None => json!({ "TimeToLiveDescription": { "TimeToLiveStatus": "DISABLED" } }),
        })
    }

    fn table_by_arn(&self, ctx: &RequestContext, arn: &str) -> DdbResult<std::sync::Arc<crate::engine::Table>> {
        let not_found = || DdbError::ResourceNotFound(format!("Requested resource not found: ResourcArn: {arn} not found"));
        let rest = arn.strip_prefix("arn:aws:dynamodb:").ok_or_else(|| DdbError::validation(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}")))?;
        let mut parts = rest.splitn(3, ':');
        let (region, account, resource) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let name = resource.strip_prefix("table/").ok_or_else(not_found)?;
        if name.contains('/') || account != ctx.account_id {
            return Err(not_found());
        }
        self.engine.table(account, region, name).ok_or_else(not_found)
    }

    pub(crate) async fn tag_resource(&self, ctx: &RequestContext, input: TagResourceInput) -> DdbResult<Value> {
        let table = self.table_by_arn(ctx, &input.resource_arn)?;
        let mut txn = Txn::default();
        {
            crate::tags::check_tags(&input.tags)?;
            let mut st = table.state.lock();
            let mut merged = st.def.tags.clone();
            for t in &input.tags {
                merged.insert(t.key.clone(), t.value.clone());
            }
            crate::tags::check_count(merged.len())?;
            st.def.tags = merged;
            self.engine.put_def(&st, &mut txn);
        }
        self.engine.submit(txn).wait().await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, ctx: &RequestContext, input: UntagResourceInput) -> DdbResult<Value> {
        let table = self.table_by_arn(ctx, &input.resource_arn)?;
        for (i, k) in input.tag_keys.iter().enumerate() {
            crate::tags::check_key(k, &format!("tagKeys.{}.member", i + 1))?;
        }
        let mut txn = Txn::default();
        {
            let mut st = table.state.lock();
            for k in &input.tag_keys {
                st.def.tags.remove(k);
            }
            self.engine.put_def(&st, &mut txn);
        }
        self.engine.submit(txn).wait().await?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags(&self, ctx: &RequestContext, input: ListTagsInput) -> DdbResult<Value> {
        let table = self.table_by_arn(ctx, &input.resource_arn)?;
        let st = table.state.lock();
        let tags: Vec<Value> = st.def.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        Ok(json!({ "Tags": tags }))
    }
}

pub fn describe_limits() -> Value {
    json!({
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000
    })
}

pub fn describe_endpoints(ctx: &RequestContext) -> Value {
    json!({ "Endpoints": [ { "Address": ctx.host, "CachePeriodInMinutes": 1440 } ] })
}
