//! State machines, their versions and aliases, tags, and ValidateStateMachineDefinition:
//! checks and response shapes.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-state-machine-version.html>

use crate::definition::{self, Diagnostic};
use crate::engine::{Alias, Engine, Machine};
use crate::errors;
use crate::service::{page, page_answer, paginate, req, s, secs};
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Checks an ARN's form and that it names a state machine resource of `kinds`.
pub(crate) fn check_arn<'a>(arn: &'a str, kinds: &[&str]) -> Result<crate::arns::Arn<'a>, AwsError> {
    if !arn.starts_with("arn:") {
        return Err(errors::invalid_arn_text(format!("Invalid Arn: 'Invalid ARN prefix: {arn}'")));
    }
    let parsed = crate::arns::parse(arn).ok_or_else(|| errors::invalid_arn_text(format!("Invalid Arn: 'Invalid ARN: {arn}'")))?;
    if !kinds.contains(&parsed.kind) {
        return Err(errors::invalid_arn_text(format!("Invalid Arn: 'Resource type not valid in this context: {}'", parsed.kind)));
    }
    Ok(parsed)
}

fn tags_of(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    let mut out = BTreeMap::new();
    if let Some(list) = input.get("tags").and_then(Value::as_array) {
        for t in list {
            let k = t.get("key").and_then(Value::as_str).unwrap_or_default();
            let v = t.get("value").and_then(Value::as_str).unwrap_or_default();
            out.insert(k.to_string(), v.to_string());
        }
    }
    if out.len() > 50 {
        return Err(errors::too_many_tags(""));
    }
    Ok(out)
}

fn logging_of(input: &Value) -> Result<Option<Value>, AwsError> {
    let Some(l) = input.get("loggingConfiguration") else { return Ok(None) };
    let level = l.get("level").and_then(Value::as_str).unwrap_or("OFF");
    let destinations = l.get("destinations").and_then(Value::as_array).cloned().unwrap_or_default();
    if level != "OFF" && destinations.is_empty() {
        return Err(AwsError::new("InvalidLoggingConfiguration", 400, "Invalid Logging Configuration: Must specify exactly one Log Destination if logging level is not OFF."));
    }
    if destinations.len() > 1 {
        return Err(AwsError::new("InvalidLoggingConfiguration", 400, "Invalid Logging Configuration: Must specify exactly one Log Destination."));
    }
    for d in &destinations {
        let arn = d.pointer("/cloudWatchLogsLogGroup/logGroupArn").and_then(Value::as_str).unwrap_or_default();
        if !arn.starts_with("arn:aws:logs:") {
            return Err(AwsError::new("InvalidLoggingConfiguration", 400, format!("Invalid Logging Configuration: The CloudWatch Logs Resource Policy does not allow the log group ARN: '{arn}'")));
        }
    }
    Ok(Some(json!({ "level": level, "includeExecutionData": l.get("includeExecutionData").and_then(Value::as_bool).unwrap_or(false), "destinations": destinations })))
}

fn default_logging() -> Value {
    json!({ "level": "OFF", "includeExecutionData": false })
}

/// Checks a definition for CreateStateMachine / UpdateStateMachine: AWS's schema checks,
/// then each Task resource against the integrations nimbus runs.
/// AWS's quota on a definition's length (characters).
const MAX_DEFINITION: usize = 1_048_576;

fn check_definition_length(text: &str) -> Result<(), AwsError> {
    if text.chars().count() > MAX_DEFINITION {
        return Err(errors::validation(format!("1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to {MAX_DEFINITION}")));
    }
    Ok(())
}

fn check_definition(engine: &Engine, text: &str) -> Result<Arc<definition::Definition>, AwsError> {
    check_definition_length(text)?;
    let (def, _) = definition::parse(text).map_err(|d| errors::invalid_definition(definition::invalid_message(&d)))?;
    let diags = resource_diagnostics(engine, &def);
    if !diags.is_empty() {
        return Err(errors::invalid_definition(definition::invalid_message(&diags)));
    }
    Ok(def)
}

fn resource_diagnostics(engine: &Engine, def: &definition::Definition) -> Vec<Diagnostic> {
    let mut resources = Vec::new();
    definition::resources(def, "", &mut resources);
    resources.sort();
    let runner = engine.runner.read().clone();
    let mut out = Vec::new();
    for (r, loc) in resources {
        if r.starts_with("{%") || crate::arns::parse(&r).is_some_and(|a| a.kind == "activity") {
            continue;
        }
        if let Some(runner) = &runner {
            if let Err(reason) = runner.check_resource(&r) {
                out.push(Diagnostic { code: "SCHEMA_VALIDATION_FAILED", message: reason, location: loc, warning: false });
            }
        }
    }
    out
}

/// EXPRESS machines run no `.sync` or `.waitForTaskToken` integrations and no activities.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html>
fn check_express(def: &definition::Definition) -> Result<(), AwsError> {
    let mut resources = Vec::new();
    definition::resources(def, "", &mut resources);
    resources.sort();
    let mut diags = Vec::new();
    for (r, loc) in resources {
        let what = if r.ends_with(".sync") || r.ends_with(".sync:2") {
            "'.sync' service integration"
        } else if r.ends_with(".waitForTaskToken") {
            "'.waitForTaskToken' service integration"
        } else if crate::arns::parse(&r).is_some_and(|a| a.kind == "activity") {
            "Activity resources"
        } else {
            continue;
        };
        diags.push(Diagnostic { code: "SCHEMA_VALIDATION_FAILED", message: format!("Express state machine does not support {what}"), location: loc, warning: false });
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(errors::invalid_definition(definition::invalid_message(&diags)))
    }
}

pub(crate) fn check_role(role: &str) -> Result<(), AwsError> {
    if !role.starts_with("arn:") || role.split(':').count() < 6 {
        return Err(errors::invalid_arn_text(format!("Invalid Arn: 'Invalid ARN prefix: {role}'")));
    }
    Ok(())
}

fn describe_doc(m: &Machine) -> Value {
    let mut out = json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": m.definition,
        "roleArn": m.role_arn,
        "type": m.kind,
        "creationDate": secs(m.created_ms),
        "loggingConfiguration": m.logging.clone().unwrap_or_else(default_logging),
        "tracingConfiguration": m.tracing.clone().unwrap_or_else(|| json!({ "enabled": false })),
        "revisionId": m.revision_id,
    });
    if let Some(d) = &m.description {
        out["description"] = json!(d);
    }
    out
}

fn put(engine: &Engine, kind: &str, arn: &str, doc: Value) -> nimbus_core::storage::Pending {
    engine.store.put_resource(arn, kind, &doc)
}

async fn commit(p: nimbus_core::storage::Pending) -> Result<(), AwsError> {
    p.wait().await.map_err(AwsError::internal)
}

pub async fn create(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let name = req(input, "name")?;
    let text = req(input, "definition")?;
    let role = req(input, "roleArn")?;
    if !crate::arns::valid_name(name) {
        return Err(errors::invalid_name(name));
    }
    check_role(role)?;
    let kind = s(input, "type").unwrap_or("STANDARD");
    if !matches!(kind, "STANDARD" | "EXPRESS") {
        return Err(errors::validation(format!("1 validation error detected: Value '{kind}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")));
    }
    let def = check_definition(engine, text)?;
    if kind == "EXPRESS" {
        check_express(&def)?;
    }
    let logging = logging_of(input)?;
    let tracing = input.get("tracingConfiguration").cloned();
    let tags = tags_of(input)?;
    let arn = crate::arns::machine(&ctx.region, &ctx.account_id, name);
    let now = engine.clock.now_ms();
    let publish = input.get("publish").and_then(Value::as_bool).unwrap_or(false);
    let (pending, created_ms, version) = {
        let mut reg = engine.registry.write();
        if let Some(existing) = reg.machines.get(&arn) {
            // Idempotent when everything matches.
            if existing.definition == text && existing.role_arn == role && existing.kind == kind && !publish {
                return Ok(json!({ "stateMachineArn": arn, "creationDate": secs(existing.created_ms) }));
            }
            return Err(errors::machine_exists(&arn));
        }
        let mut m = Machine {
            arn: arn.clone(),
            name: name.to_string(),
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            definition: text.to_string(),
            role_arn: role.to_string(),
            kind: kind.to_string(),
            created_ms: now,
            updated_ms: now,
            revision_id: nimbus_core::ids::uuid(),
            logging,
            tracing,
            tags,
            version: None,
            machine_arn: None,
            description: None,
            next_version: 1,
        };
        let version = publish.then(|| new_version(&mut m, s(input, "versionDescription"), now));
        reg.parsed.insert(arn.clone(), def.clone());
        let mut pending = vec![put(engine, "machine", &arn, serde_json::to_value(&m).unwrap_or_default())];
        if let Some(v) = &version {
            reg.parsed.insert(v.arn.clone(), def);
            pending.push(put(engine, "version", &v.arn, serde_json::to_value(v).unwrap_or_default()));
            reg.machines.insert(v.arn.clone(), v.clone());
        }
        reg.machines.insert(arn.clone(), m);
        (pending, now, version)
    };
    for p in pending {
        commit(p).await?;
    }
    let mut out = json!({ "stateMachineArn": arn, "creationDate": secs(created_ms) });
    if let Some(v) = version {
        out["stateMachineVersionArn"] = json!(v.arn);
    }
    Ok(out)
}

/// A new version of `m` (its number taken), as a machine document of its own.
fn new_version(m: &mut Machine, description: Option<&str>, now: u64) -> Machine {
    let n = m.next_version.max(1);
    m.next_version = n + 1;
    Machine {
        arn: format!("{}:{n}", m.arn),
        created_ms: now,
        updated_ms: now,
        tags: BTreeMap::new(),
        version: Some(n),
        machine_arn: Some(m.arn.clone()),
        description: description.map(str::to_string),
        next_version: 0,
        ..m.clone()
    }
}

pub fn describe(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let reg = engine.registry.read();
    match reg.machines.get(arn) {
        Some(m) => Ok(describe_doc(m)),
        None => Err(errors::machine_missing(arn)),
    }
}

pub fn list(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let (start, max) = page(input, 100)?;
    let reg = engine.registry.read();
    let mut all: Vec<&Machine> = reg.machines.values().filter(|m| m.version.is_none() && m.account == ctx.account_id && m.region == ctx.region).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = all.iter().map(|m| json!({ "stateMachineArn": m.arn, "name": m.name, "type": m.kind, "creationDate": secs(m.created_ms) })).collect();
    let (items, next) = paginate(items, start, max);
    Ok(page_answer("stateMachines", items, next))
}

pub async fn delete(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    let parsed = check_arn(arn, &["stateMachine"])?;
    if parsed.rest.len() > 1 {
        return Err(errors::validation(format!("Invalid Arn: use DeleteStateMachineVersion or DeleteStateMachineAlias for '{arn}'")));
    }
    let pending = {
        let mut reg = engine.registry.write();
        // Deleting an unknown machine succeeds (AWS answers 200).
        let prefix = format!("{arn}:");
        let doomed: Vec<String> = reg.machines.keys().filter(|k| *k == arn || k.starts_with(&prefix)).cloned().collect();
        let aliases: Vec<String> = reg.aliases.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        let mut pending = Vec::new();
        for k in doomed.iter().chain(aliases.iter()) {
            reg.machines.remove(k);
            reg.aliases.remove(k);
            reg.parsed.remove(k);
            pending.push(engine.store.delete_resource(k));
        }
        pending
    };
    for p in pending {
        commit(p).await?;
    }
    Ok(json!({}))
}

pub async fn update(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let text = s(input, "definition");
    let role = s(input, "roleArn");
    let logging = logging_of(input)?;
    let tracing = input.get("tracingConfiguration").cloned();
    let publish = input.get("publish").and_then(Value::as_bool).unwrap_or(false);
    if text.is_none() && role.is_none() && logging.is_none() && tracing.is_none() && !publish {
        return Err(AwsError::new("MissingRequiredParameter", 400, "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"));
    }
    if let Some(r) = role {
        check_role(r)?;
    }
    let def = match text {
        Some(t) => Some(check_definition(engine, t)?),
        None => None,
    };
    if let Some(d) = &def {
        if engine.registry.read().machines.get(arn).is_some_and(|m| m.express()) {
            check_express(d)?;
        }
    }
    let now = engine.clock.now_ms();
    let (pending, out) = {
        let mut reg = engine.registry.write();
        let Some(mut m) = reg.machines.get(arn).filter(|m| m.version.is_none()).cloned() else {
            return Err(errors::machine_missing(arn));
        };
        let changed = text.is_some_and(|t| t != m.definition) || role.is_some_and(|r| r != m.role_arn);
        if let Some(t) = text {
            m.definition = t.to_string();
        }
        if let Some(r) = role {
            m.role_arn = r.to_string();
        }
        if logging.is_some() {
            m.logging = logging;
        }
        if tracing.is_some() {
            m.tracing = tracing;
        }
        if changed {
            m.revision_id = nimbus_core::ids::uuid();
        }
        m.updated_ms = now;
        if let Some(d) = def {
            reg.parsed.insert(arn.to_string(), d);
        }
        let mut pending = Vec::new();
        let mut out = json!({ "updateDate": secs(now), "revisionId": m.revision_id });
        if publish {
            let v = latest_version_for_revision(&reg, &m).unwrap_or_else(|| {
                let v = new_version(&mut m, s(input, "versionDescription"), now);
                pending.push(put(engine, "version", &v.arn, serde_json::to_value(&v).unwrap_or_default()));
                v
            });
            if let Some(d) = reg.parsed.get(arn).cloned() {
                reg.parsed.insert(v.arn.clone(), d);
            }
            out["stateMachineVersionArn"] = json!(v.arn);
            reg.machines.insert(v.arn.clone(), v);
        }
        pending.insert(0, put(engine, "machine", arn, serde_json::to_value(&m).unwrap_or_default()));
        reg.machines.insert(arn.to_string(), m);
        (pending, out)
    };
    for p in pending {
        commit(p).await?;
    }
    Ok(out)
}

/// The newest version of `m`, if it was published from the current revision.
fn latest_version_for_revision(reg: &crate::engine::Registry, m: &Machine) -> Option<Machine> {
    reg.machines.values().filter(|v| v.machine_arn.as_deref() == Some(&m.arn)).max_by_key(|v| v.version).filter(|v| v.revision_id == m.revision_id).cloned()
}

pub fn validate(engine: &Engine, input: &Value) -> Result<Value, AwsError> {
    let text = req(input, "definition")?;
    check_definition_length(text)?;
    let max = input.get("maxResults").and_then(Value::as_u64).filter(|n| *n > 0).unwrap_or(100) as usize;
    // `severity` ERROR (the default) answers errors only; WARNING answers both.
    let only_errors = s(input, "severity") != Some("WARNING");
    let diags = match definition::parse(text) {
        Ok((def, warnings)) => {
            let mut d = resource_diagnostics(engine, &def);
            d.extend(warnings);
            d
        }
        Err(d) => d,
    };
    let failed = diags.iter().any(|d| !d.warning);
    let list: Vec<Value> = diags
        .iter()
        .filter(|d| !(only_errors && d.warning))
        .map(|d| json!({ "severity": if d.warning { "WARNING" } else { "ERROR" }, "code": d.code, "message": d.message, "location": if d.location.is_empty() { "/".to_string() } else { d.location.clone() } }))
        .collect();
    let truncated = list.len() > max;
    Ok(json!({ "result": if failed { "FAIL" } else { "OK" }, "diagnostics": list.into_iter().take(max).collect::<Vec<_>>(), "truncated": truncated }))
}

pub async fn publish(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let now = engine.clock.now_ms();
    let (pending, v) = {
        let mut reg = engine.registry.write();
        let Some(mut m) = reg.machines.get(arn).filter(|m| m.version.is_none()).cloned() else {
            return Err(errors::machine_missing(arn));
        };
        if let Some(rev) = s(input, "revisionId") {
            if rev != m.revision_id {
                return Err(errors::conflict(format!("Failed to publish the State Machine version because the current revision id does not match the provided revision id: '{rev}'")));
            }
        }
        if let Some(v) = latest_version_for_revision(&reg, &m) {
            return Ok(json!({ "stateMachineVersionArn": v.arn, "creationDate": secs(v.created_ms) }));
        }
        let v = new_version(&mut m, s(input, "description"), now);
        if let Some(d) = reg.parsed.get(arn).cloned() {
            reg.parsed.insert(v.arn.clone(), d);
        }
        let pending = vec![put(engine, "machine", arn, serde_json::to_value(&m).unwrap_or_default()), put(engine, "version", &v.arn, serde_json::to_value(&v).unwrap_or_default())];
        reg.machines.insert(arn.to_string(), m);
        reg.machines.insert(v.arn.clone(), v.clone());
        (pending, v)
    };
    for p in pending {
        commit(p).await?;
    }
    Ok(json!({ "stateMachineVersionArn": v.arn, "creationDate": secs(v.created_ms) }))
}

pub fn list_versions(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let (start, max) = page(input, 100)?;
    let reg = engine.registry.read();
    if !reg.machines.contains_key(arn) {
        return Err(errors::machine_missing(arn));
    }
    let mut versions: Vec<&Machine> = reg.machines.values().filter(|v| v.machine_arn.as_deref() == Some(arn)).collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.version));
    let items: Vec<Value> = versions.iter().map(|v| json!({ "stateMachineVersionArn": v.arn, "creationDate": secs(v.created_ms) })).collect();
    let (items, next) = paginate(items, start, max);
    Ok(page_answer("stateMachineVersions", items, next))
}

pub async fn delete_version(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineVersionArn")?;
    check_arn(arn, &["stateMachine"])?;
    let pending = {
        let mut reg = engine.registry.write();
        if let Some(a) = reg.aliases.values().find(|a| a.routing.iter().any(|(v, _)| v == arn)) {
            return Err(errors::conflict(format!("Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]", a.arn)));
        }
        if reg.machines.get(arn).is_none_or(|m| m.version.is_none()) {
            return Ok(json!({}));
        }
        reg.machines.remove(arn);
        reg.parsed.remove(arn);
        engine.store.delete_resource(arn)
    };
    commit(pending).await?;
    Ok(json!({}))
}

/// An alias's routing: one or two versions of the machine, weights adding to 100.
fn routing_of(reg: &crate::engine::Registry, machine_arn: &str, input: &Value) -> Result<Vec<(String, u64)>, AwsError> {
    let list = input.get("routingConfiguration").and_then(Value::as_array).ok_or_else(|| errors::missing("routingConfiguration"))?;
    if list.is_empty() || list.len() > 2 {
        return Err(errors::validation("1 validation error detected: Value at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2"));
    }
    let mut out = Vec::new();
    for r in list {
        let v = r.get("stateMachineVersionArn").and_then(Value::as_str).unwrap_or_default();
        let w = r.get("weight").and_then(Value::as_u64).unwrap_or(0);
        match reg.machines.get(v) {
            Some(m) if m.machine_arn.as_deref() == Some(machine_arn) => {}
            Some(_) => return Err(errors::validation(format!("Routing configuration must contain state machine version ARNs of the same state machine: '{v}'"))),
            None => return Err(errors::resource_missing(format!("Resource not found: '{v}'")).with_member("resourceName", v.to_string())),
        }
        if out.iter().any(|(x, _): &(String, u64)| x == v) {
            return Err(errors::validation("Routing configuration must contain distinct state machine version ARNs"));
        }
        out.push((v.to_string(), w));
    }
    if out.iter().map(|(_, w)| w).sum::<u64>() != 100 {
        return Err(errors::validation("Sum of routing configuration weights must be equal to 100."));
    }
    Ok(out)
}

fn alias_doc(a: &Alias) -> Value {
    json!({
        "stateMachineAliasArn": a.arn,
        "name": a.name,
        "description": a.description.clone().unwrap_or_default(),
        "routingConfiguration": a.routing.iter().map(|(v, w)| json!({ "stateMachineVersionArn": v, "weight": w })).collect::<Vec<_>>(),
        "creationDate": secs(a.created_ms),
        "updateDate": secs(a.updated_ms),
    })
}

pub async fn create_alias(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let name = req(input, "name")?;
    if !crate::arns::valid_name(name) || name.chars().all(|c| c.is_ascii_digit()) {
        return Err(errors::invalid_name(name));
    }
    let now = engine.clock.now_ms();
    let (pending, arn) = {
        let mut reg = engine.registry.write();
        let first = input.pointer("/routingConfiguration/0/stateMachineVersionArn").and_then(Value::as_str).unwrap_or_default().to_string();
        let machine_arn = reg.machines.get(&first).and_then(|m| m.machine_arn.clone()).unwrap_or_default();
        let routing = routing_of(&reg, &machine_arn, input)?;
        let arn = format!("{machine_arn}:{name}");
        if let Some(existing) = reg.aliases.get(&arn) {
            if existing.routing == routing && existing.description.as_deref() == s(input, "description") {
                return Ok(json!({ "stateMachineAliasArn": arn, "creationDate": secs(existing.created_ms) }));
            }
            return Err(errors::conflict(format!("Failed to create alias because an alias with the same name and a different routing configuration already exists: '{arn}'")));
        }
        let a = Alias { arn: arn.clone(), name: name.to_string(), machine_arn, description: s(input, "description").map(str::to_string), routing, created_ms: now, updated_ms: now };
        let p = put(engine, "alias", &arn, serde_json::to_value(&a).unwrap_or_default());
        reg.aliases.insert(arn.clone(), a);
        (p, arn)
    };
    commit(pending).await?;
    Ok(json!({ "stateMachineAliasArn": arn, "creationDate": secs(now) }))
}

pub fn describe_alias(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineAliasArn")?;
    check_arn(arn, &["stateMachine"])?;
    let reg = engine.registry.read();
    reg.aliases.get(arn).map(alias_doc).ok_or_else(|| errors::resource_missing(format!("Resource not found: '{arn}'")).with_member("resourceName", arn.to_string()))
}

pub fn list_aliases(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineArn")?;
    check_arn(arn, &["stateMachine"])?;
    let (start, max) = page(input, 100)?;
    let reg = engine.registry.read();
    if !reg.machines.contains_key(arn) {
        return Err(errors::machine_missing(arn));
    }
    let mut aliases: Vec<&Alias> = reg.aliases.values().filter(|a| a.machine_arn == arn).collect();
    aliases.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = aliases.iter().map(|a| json!({ "stateMachineAliasArn": a.arn, "creationDate": secs(a.created_ms) })).collect();
    let (items, next) = paginate(items, start, max);
    Ok(page_answer("stateMachineAliases", items, next))
}

pub async fn update_alias(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineAliasArn")?;
    check_arn(arn, &["stateMachine"])?;
    if input.get("description").is_none() && input.get("routingConfiguration").is_none() {
        return Err(errors::validation("Either the description or the RoutingConfiguration must be specified"));
    }
    let now = engine.clock.now_ms();
    let pending = {
        let mut reg = engine.registry.write();
        let Some(mut a) = reg.aliases.get(arn).cloned() else {
            return Err(errors::resource_missing(format!("Resource not found: '{arn}'")).with_member("resourceName", arn.to_string()));
        };
        if input.get("routingConfiguration").is_some() {
            a.routing = routing_of(&reg, &a.machine_arn, input)?;
        }
        if let Some(d) = s(input, "description") {
            a.description = Some(d.to_string());
        }
        a.updated_ms = now;
        let p = put(engine, "alias", arn, serde_json::to_value(&a).unwrap_or_default());
        reg.aliases.insert(arn.to_string(), a);
        p
    };
    commit(pending).await?;
    Ok(json!({ "updateDate": secs(now) }))
}

pub async fn delete_alias(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "stateMachineAliasArn")?;
    check_arn(arn, &["stateMachine"])?;
    let pending = {
        let mut reg = engine.registry.write();
        if reg.aliases.remove(arn).is_none() {
            return Err(errors::resource_missing(format!("Resource not found: '{arn}'")).with_member("resourceName", arn.to_string()));
        }
        engine.store.delete_resource(arn)
    };
    commit(pending).await?;
    Ok(json!({}))
}

fn not_found(arn: &str) -> AwsError {
    errors::resource_missing(format!("Resource not found: '{arn}'")).with_member("resourceName", arn.to_string())
}

/// Tags on a machine or an activity; `f` changes them, the document is written.
async fn with_tags(engine: &Engine, arn: &str, f: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), AwsError>) -> Result<(), AwsError> {
    check_arn(arn, &["stateMachine", "activity"])?;
    let pending = {
        let mut reg = engine.registry.write();
        if let Some(m) = reg.machines.get_mut(arn).filter(|m| m.version.is_none()) {
            f(&mut m.tags)?;
            put(engine, "machine", arn, serde_json::to_value(&*m).unwrap_or_default())
        } else if let Some(a) = reg.activities.get_mut(arn) {
            f(&mut a.tags)?;
            put(engine, "activity", arn, serde_json::to_value(&*a).unwrap_or_default())
        } else {
            return Err(not_found(arn));
        }
    };
    commit(pending).await
}

pub async fn tag(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "resourceArn")?;
    let new = tags_of(input)?;
    with_tags(engine, arn, |tags| {
        for (k, v) in new {
            tags.insert(k, v);
        }
        if tags.len() > 50 {
            return Err(errors::too_many_tags(arn));
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn untag(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "resourceArn")?;
    let keys: Vec<String> = input.get("tagKeys").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
    with_tags(engine, arn, |tags| {
        for k in &keys {
            tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub fn list_tags(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "resourceArn")?;
    check_arn(arn, &["stateMachine", "activity"])?;
    let reg = engine.registry.read();
    let tags: &BTreeMap<String, String> = if let Some(m) = reg.machines.get(arn).filter(|m| m.version.is_none()) {
        &m.tags
    } else if let Some(a) = reg.activities.get(arn) {
        &a.tags
    } else {
        return Err(not_found(arn));
    };
    Ok(json!({ "tags": tags.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect::<Vec<_>>() }))
}

/// Activities share the tag helpers.
pub(crate) fn activity_tags(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    tags_of(input)
}
