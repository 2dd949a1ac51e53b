//! The control plane: functions, versions, aliases, concurrency, asynchronous invocation
//! settings, tags, resource policies and account settings, validated as AWS validates them.

use crate::api::*;
use crate::code::CodeStore;
use crate::errors::{LambdaError, LambdaResult};
use crate::function::{runtime_kind, timestamp, Alias, CodeRef, EventInvokeConfig, Function, VersionConfig, LATEST};
use crate::service::{parse_function_name, Inner};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Environment variable names the Lambda runtime owns.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
];

const ENV_LIMIT_BYTES: usize = 4096;

fn check_environment(vars: &BTreeMap<String, String>) -> LambdaResult<()> {
    let reserved: Vec<&str> = vars.keys().map(String::as_str).filter(|k| RESERVED_ENV.contains(k)).collect();
    if !reserved.is_empty() {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for k in vars.keys() {
        let mut bytes = k.bytes();
        let first_ok = bytes.next().map(|b| b.is_ascii_alphabetic()).unwrap_or(false);
        if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] (key: {k})"
            )));
        }
    }
    let size = serde_json::to_string(vars).map(|s| s.len()).unwrap_or(0);
    if size > ENV_LIMIT_BYTES {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {}",
            serde_json::to_string(vars).unwrap_or_default()
        )));
    }
    Ok(())
}

fn check_timeout(t: i64) -> LambdaResult<u32> {
    if (1..=900).contains(&t) {
        Ok(t as u32)
    } else {
        Err(LambdaError::Validation(format!("1 validation error detected: Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value {}", if t < 1 { "greater than or equal to 1" } else { "less than or equal to 900" })))
    }
}

/// `TracingConfig.Mode`: `Active` or `PassThrough` (the model's TracingMode enum).
fn check_tracing_mode(mode: Option<&str>) -> LambdaResult<()> {
    match mode {
        None | Some("Active") | Some("PassThrough") => Ok(()),
        Some(other) => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]"
        ))),
    }
}

fn check_memory(m: i64) -> LambdaResult<u32> {
    if (128..=10240).contains(&m) {
        Ok(m as u32)
    } else {
        Err(LambdaError::Validation(format!("1 validation error detected: Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value {}", if m < 128 { "greater than or equal to 128" } else { "less than or equal to 10240" })))
    }
}

fn check_handler(runtime: Option<&str>, handler: Option<&str>) -> LambdaResult<()> {
    let kind = runtime_kind(runtime).map_err(LambdaError::invalid)?;
    match handler {
        Some(h) if h.len() > 128 || h.chars().any(char::is_whitespace) || h.is_empty() => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{h}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
        ))),
        None if kind != crate::function::RuntimeKind::Provided => Err(LambdaError::invalid("Handler is required for runtimes other than provided.")),
        _ => Ok(()),
    }
}

fn check_role(role: &str) -> LambdaResult<()> {
    let ok = role.starts_with("arn:aws:iam::") && role.split(':').nth(4).map(|a| a.len() == 12).unwrap_or(false) && role.contains(":role/");
    if ok {
        Ok(())
    } else {
        Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        )))
    }
}

fn check_unsupported(layers: &Option<Vec<String>>, package_type: Option<&str>, image: Option<&str>) -> LambdaResult<()> {
    if layers.as_ref().map(|l| !l.is_empty()).unwrap_or(false) {
        return Err(LambdaError::invalid("Layers are not supported by nimbus."));
    }
    if package_type == Some("Image") || image.is_some() {
        return Err(LambdaError::invalid("Container image functions (PackageType Image) are not supported by nimbus."));
    }
    Ok(())
}

impl Inner {
    /// The package a request gives: `ZipFile`, the hot-reload convention (`S3Bucket`
    /// "hot-reload", `S3Key` a local directory), or an object of nimbus's S3 read through
    /// `ObjectReader`, with S3's error worded as Lambda words it.
    /// <https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html>
    async fn code_from(&self, ctx: &RequestContext, zip: Option<&str>, bucket: Option<&str>, key: Option<&str>, version: Option<&str>) -> LambdaResult<CodeRef> {
        match (zip, bucket, key) {
            (Some(z), _, _) => self.code.put_zip(z),
            (None, Some("hot-reload"), Some(dir)) => CodeStore::hot_reload(dir),
            (None, Some(bucket), Some(key)) => {
                let Some(objects) = self.objects.get() else {
                    return Err(LambdaError::invalid("Code from S3 needs nimbus's S3 service, which is not running."));
                };
                let bytes = objects
                    .read_object(&ctx.account_id, &ctx.region, bucket, key, version, crate::code::MAX_UNZIPPED_BYTES)
                    .await
                    .map_err(|e| LambdaError::invalid(format!("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message)))?;
                self.code.put_zip_bytes(&bytes)
            }
            _ => Err(LambdaError::invalid("Please provide a source for function code.")),
        }
    }

    fn render(&self, f: &Function, v: &VersionConfig) -> Value {
        f.configuration(v, ("Active", "Successful"))
    }

    /// The execution role must exist and trust `lambda.amazonaws.com`: refused as AWS
    /// refuses it when IAM enforces, a warning otherwise (CreateFunction's "Errors").
    fn check_role_trust(&self, role: &str) -> LambdaResult<()> {
        match self.roles.check_service_trust(role, "lambda.amazonaws.com") {
            Ok(()) => Ok(()),
            Err(_) if self.roles.enforcing() => Err(LambdaError::invalid("The role defined for the function cannot be assumed by Lambda.")),
            Err(reason) => {
                tracing::warn!(role, %reason, "lambda: the execution role cannot be assumed by Lambda (accepted: IAM is not enforcing)");
                Ok(())
            }
        }
    }

    fn arn_of(&self, ctx: &RequestContext, account: &str, name: &str) -> String {
        format!("arn:aws:lambda:{}:{account}:function:{name}", ctx.region)
    }

    pub async fn create_function(&self, ctx: &RequestContext, input: CreateFunction) -> LambdaResult<Value> {
        let raw = input.function_name.ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
        let (account, name, qualifier) = parse_function_name(ctx, &raw)?;
        if qualifier.is_some() {
            return Err(LambdaError::invalid("FunctionName must not include a qualifier when creating a function."));
        }
        let role = input.role.ok_or_else(|| LambdaError::invalid("Role is required"))?;
        check_role(&role)?;
        self.check_role_trust(&role)?;
        check_unsupported(&input.layers, input.package_type.as_deref(), input.code.as_ref().and_then(|c| c.image_uri.as_deref()))?;
        check_handler(input.runtime.as_deref(), input.handler.as_deref())?;
        let timeout = check_timeout(input.timeout.unwrap_or(3))?;
        check_tracing_mode(input.tracing_config.as_ref().and_then(|t| t.mode.as_deref()))?;
        // Refused rather than run on another version of the language.
        self.interpreter(input.runtime.as_deref()).await.map_err(LambdaError::invalid)?;
        let memory = check_memory(input.memory_size.unwrap_or(128))?;
        let environment = input.environment.and_then(|e| e.variables).unwrap_or_default();
        check_environment(&environment)?;
        let code_in = input.code.unwrap_or_default();
        let key = Inner::key(ctx, account.clone(), name.clone());
        if self.functions.read().contains_key(&key) {
            return Err(LambdaError::ResourceConflict(format!("Function already exist: {name}")));
        }
        let code = self.code_from(ctx, code_in.zip_file.as_deref(), code_in.s3_bucket.as_deref(), code_in.s3_key.as_deref(), code_in.s3_object_version.as_deref()).await?;
        let now = self.clock.now_ms();
        let latest = VersionConfig {
            version: LATEST.into(),
            runtime: input.runtime,
            role,
            handler: input.handler,
            description: input.description.unwrap_or_default(),
            timeout,
            memory_size: memory,
            environment,
            code,
            last_modified: timestamp(now),
            revision_id: nimbus_core::ids::uuid(),
            dead_letter_target: input.dead_letter_config.and_then(|d| d.target_arn).filter(|t| !t.is_empty()),
            tracing_mode: input.tracing_config.and_then(|t| t.mode).unwrap_or_else(|| "PassThrough".into()),
            architectures: input.architectures.unwrap_or_else(|| vec!["x86_64".into()]),
            ephemeral_storage: 512,
            log_group: input.logging_config.as_ref().and_then(|l| l.log_group.clone()),
            log_format: input.logging_config.and_then(|l| l.log_format).unwrap_or_else(|| "Text".into()),
            generation: now,
        };
        let mut f = Function {
            name: name.clone(),
            account,
            region: ctx.region.clone(),
            latest,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
            reserved_concurrency: None,
            event_invoke_configs: BTreeMap::new(),
            tags: input.tags.unwrap_or_default(),
            policy: Vec::new(),
        };
        let mut shown = f.latest.clone();
        if input.publish.unwrap_or(false) {
            let mut v = f.latest.clone();
            v.version = "1".into();
            f.versions.insert(1, v.clone());
            f.next_version = 2;
            shown = v;
        }
        let pending = {
            let mut map = self.functions.write();
            if map.contains_key(&key) {
                return Err(LambdaError::ResourceConflict(format!("Function already exist: {name}")));
            }
            let pending = self.store.put_function(&f);
            map.insert(key, f.clone());
            pending
        };
        Inner::commit(pending).await?;
        Ok(f.configuration(&shown, ("Pending", "InProgress")))
    }

    fn resolve_ref(&self, ctx: &RequestContext, function_name: Option<String>, qualifier: Option<String>) -> LambdaResult<(crate::service::FunctionKey, Option<String>)> {
        let raw = function_name.ok_or_else(|| LambdaError::invalid("FunctionName is required"))?;
        let (account, name, q) = parse_function_name(ctx, &raw)?;
        if let (Some(a), Some(b)) = (&q, &qualifier) {
            if a != b {
                return Err(LambdaError::invalid("The derived qualifier from the function name does not match the specified qualifier."));
            }
        }
        Ok((Inner::key(ctx, account, name), qualifier.or(q)))
    }

    fn version_of<'a>(&self, f: &'a Function, qualifier: Option<&str>) -> LambdaResult<&'a VersionConfig> {
        f.resolve(qualifier).ok_or_else(|| {
            LambdaError::function_not_found(&format!("{}:{}", f.arn(), qualifier.unwrap_or(LATEST)))
        })
    }

    pub fn get_function(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let f = self.get(&key)?;
        let v = self.version_of(&f, q.as_deref())?;
        let location = self.code.zip_path(&v.code).map(|p| format!("file://{}", p.display())).unwrap_or_default();
        let mut out = json!({
            "Configuration": self.render(&f, v),
            "Code": { "RepositoryType": "S3", "Location": location },
        });
        if !f.tags.is_empty() {
            out["Tags"] = json!(f.tags);
        }
        if let Some(r) = f.reserved_concurrency {
            out["Concurrency"] = json!({ "ReservedConcurrentExecutions": r });
        }
        Ok(out)
    }

    pub fn get_function_configuration(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let f = self.get(&key)?;
        let v = self.version_of(&f, q.as_deref())?;
        Ok(self.render(&f, v))
    }

    pub fn list_functions(&self, ctx: &RequestContext, input: ListFunctions) -> LambdaResult<Value> {
        let max = page_size(input.max_items)?;
        let all_versions = input.function_version.as_deref() == Some("ALL");
        let map = self.functions.read();
        let mut names: Vec<&Function> = map.values().filter(|f| f.account == ctx.account_id && f.region == ctx.region).collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        let mut configs = Vec::new();
        for f in names {
            configs.push((f.name.clone(), self.render(f, &f.latest)));
            if all_versions {
                for v in f.versions.values() {
                    configs.push((format!("{}:{}", f.name, v.version), self.render(f, v)));
                }
            }
        }
        let (page, next) = paginate(configs, input.marker.as_deref(), max);
        let mut out = json!({ "Functions": page });
        if let Some(m) = next {
            out["NextMarker"] = json!(m);
        }
        Ok(out)
    }

    pub async fn update_function_code(&self, ctx: &RequestContext, input: UpdateFunctionCode) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        check_unsupported(&None, None, input.image_uri.as_deref())?;
        let code = self.code_from(ctx, input.zip_file.as_deref(), input.s3_bucket.as_deref(), input.s3_key.as_deref(), input.s3_object_version.as_deref()).await?;
        let now = self.clock.now_ms();
        let publish = input.publish.unwrap_or(false);
        let revision = input.revision_id;
        let shown = self
            .mutate(&key, |f| {
                check_revision(&f.latest.revision_id, revision.as_deref())?;
                f.latest.code = code;
                touch(&mut f.latest, now);
                Ok(if publish { publish_latest(f, None) } else { f.latest.clone() })
            })
            .await?;
        self.pool.retire_function(&key.0, &key.1, &key.2);
        let f = self.get(&key)?;
        Ok(f.configuration(&shown, ("Active", "InProgress")))
    }

    pub async fn update_function_configuration(&self, ctx: &RequestContext, input: UpdateFunctionConfiguration) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        check_unsupported(&input.layers, None, None)?;
        let timeout = input.timeout.map(check_timeout).transpose()?;
        let memory = input.memory_size.map(check_memory).transpose()?;
        check_tracing_mode(input.tracing_config.as_ref().and_then(|t| t.mode.as_deref()))?;
        if let Some(r) = &input.role {
            check_role(r)?;
            self.check_role_trust(r)?;
        }
        let environment = input.environment.map(|e| e.variables.unwrap_or_default());
        if let Some(e) = &environment {
            check_environment(e)?;
        }
        if input.runtime.is_some() && input.runtime != self.get(&key)?.latest.runtime {
            runtime_kind(input.runtime.as_deref()).map_err(LambdaError::invalid)?;
            self.interpreter(input.runtime.as_deref()).await.map_err(LambdaError::invalid)?;
        }
        let now = self.clock.now_ms();
        let shown = self
            .mutate(&key, |f| {
                check_revision(&f.latest.revision_id, input.revision_id.as_deref())?;
                let runtime = input.runtime.clone().or_else(|| f.latest.runtime.clone());
                let handler = input.handler.clone().or_else(|| f.latest.handler.clone());
                check_handler(runtime.as_deref(), handler.as_deref())?;
                let l = &mut f.latest;
                l.runtime = runtime;
                l.handler = handler;
                if let Some(r) = input.role {
                    l.role = r;
                }
                if let Some(d) = input.description {
                    l.description = d;
                }
                if let Some(t) = timeout {
                    l.timeout = t;
                }
                if let Some(m) = memory {
                    l.memory_size = m;
                }
                if let Some(e) = environment {
                    l.environment = e;
                }
                if let Some(d) = input.dead_letter_config {
                    l.dead_letter_target = d.target_arn.filter(|t| !t.is_empty());
                }
                if let Some(m) = input.tracing_config.and_then(|t| t.mode) {
                    l.tracing_mode = m;
                }
                if let Some(lc) = input.logging_config {
                    if let Some(g) = lc.log_group {
                        l.log_group = Some(g);
                    }
                    if let Some(fmt) = lc.log_format {
                        l.log_format = fmt;
                    }
                }
                touch(l, now);
                Ok(l.clone())
            })
            .await?;
        self.pool.retire_function(&key.0, &key.1, &key.2);
        let f = self.get(&key)?;
        Ok(f.configuration(&shown, ("Active", "InProgress")))
    }

    pub async fn delete_function(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        match q.as_deref() {
            None => {
                let pending = {
                    let mut map = self.functions.write();
                    if map.remove(&key).is_none() {
                        return Err(LambdaError::function_not_found(&self.arn_of(ctx, &key.0, &key.2)));
                    }
                    self.store.delete_function(&key.0, &key.1, &key.2)
                };
                Inner::commit(pending).await?;
                self.pool.retire_function(&key.0, &key.1, &key.2);
            }
            Some(LATEST) => return Err(LambdaError::invalid("$LATEST version cannot be deleted without deleting the function.")),
            Some(v) => {
                let n: u64 = v.parse().map_err(|_| LambdaError::invalid(format!("Deletion of aliases is not supported through DeleteFunction: {v}")))?;
                self.mutate(&key, |f| {
                    if f.aliases.values().any(|a| a.function_version == v) {
                        return Err(LambdaError::ResourceConflict(format!("Unable to delete version because the following aliases reference it: [{}]", f.aliases.values().filter(|a| a.function_version == v).map(|a| a.name.clone()).collect::<Vec<_>>().join(", "))));
                    }
                    f.versions.remove(&n).map(|_| ()).ok_or_else(|| LambdaError::function_not_found(&format!("{}:{v}", f.arn())))
                })
                .await?;
            }
        }
        Ok(json!({ "StatusCode": 204 }))
    }

    pub async fn publish_version(&self, ctx: &RequestContext, input: PublishVersion) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let v = self
            .mutate(&key, |f| {
                check_revision(&f.latest.revision_id, input.revision_id.as_deref())?;
                if let Some(sha) = &input.code_sha256 {
                    if *sha != f.latest.code.sha256_b64 {
                        return Err(LambdaError::invalid(format!("CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.", f.latest.code.sha256_b64)));
                    }
                }
                Ok(publish_latest(f, input.description))
            })
            .await?;
        let f = self.get(&key)?;
        Ok(self.render(&f, &v))
    }

    pub fn list_versions(&self, ctx: &RequestContext, input: Paged) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let max = page_size(input.max_items)?;
        let f = self.get(&key)?;
        let mut all = vec![(String::from("0"), self.render(&f, &f.latest))];
        all.extend(f.versions.iter().map(|(n, v)| (format!("{n:020}"), self.render(&f, v))));
        let (page, next) = paginate(all, input.marker.as_deref(), max);
        let mut out = json!({ "Versions": page });
        if let Some(m) = next {
            out["NextMarker"] = json!(m);
        }
        Ok(out)
    }

    pub async fn create_alias(&self, ctx: &RequestContext, input: AliasIn) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let name = input.name.ok_or_else(|| LambdaError::invalid("Name is required"))?;
        if name.is_empty() || name.len() > 128 || name.bytes().all(|b| b.is_ascii_digit()) || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(LambdaError::Validation(format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")));
        }
        let version = input.function_version.ok_or_else(|| LambdaError::invalid("FunctionVersion is required"))?;
        let weights = input.routing_config.and_then(|r| r.additional_version_weights).unwrap_or_default();
        check_weights(&weights)?;
        let alias = self
            .mutate(&key, |f| {
                if f.aliases.contains_key(&name) {
                    return Err(LambdaError::ResourceConflict(format!("Alias already exists: {}:{name}", f.arn())));
                }
                if f.version(&version).is_none() {
                    return Err(LambdaError::function_not_found(&format!("{}:{version}", f.arn())));
                }
                let a = Alias {
                    name: name.clone(),
                    function_version: version,
                    description: input.description.unwrap_or_default(),
                    routing_weights: weights,
                    revision_id: nimbus_core::ids::uuid(),
                };
                f.aliases.insert(name.clone(), a.clone());
                Ok(a)
            })
            .await?;
        Ok(self.get(&key)?.alias_json(&alias))
    }

    pub fn get_alias(&self, ctx: &RequestContext, input: AliasIn) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let f = self.get(&key)?;
        let name = input.name.unwrap_or_default();
        let a = f.aliases.get(&name).ok_or_else(|| LambdaError::ResourceNotFound(format!("Cannot find alias arn: {}:{name}", f.arn())))?;
        Ok(f.alias_json(a))
    }

    pub fn list_aliases(&self, ctx: &RequestContext, input: Paged) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let max = page_size(input.max_items)?;
        let f = self.get(&key)?;
        let all: Vec<(String, Value)> = f
            .aliases
            .values()
            .filter(|a| input.function_version.as_deref().map(|v| a.function_version == v).unwrap_or(true))
            .map(|a| (a.name.clone(), f.alias_json(a)))
            .collect();
        let (page, next) = paginate(all, input.marker.as_deref(), max);
        let mut out = json!({ "Aliases": page });
        if let Some(m) = next {
            out["NextMarker"] = json!(m);
        }
        Ok(out)
    }

    pub async fn update_alias(&self, ctx: &RequestContext, input: AliasIn) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let name = input.name.unwrap_or_default();
        let alias = self
            .mutate(&key, |f| {
                let arn = f.arn();
                if let Some(v) = &input.function_version {
                    if f.version(v).is_none() {
                        return Err(LambdaError::function_not_found(&format!("{arn}:{v}")));
                    }
                }
                let a = f.aliases.get_mut(&name).ok_or_else(|| LambdaError::ResourceNotFound(format!("Cannot find alias arn: {arn}:{name}")))?;
                check_revision(&a.revision_id, input.revision_id.as_deref())?;
                if let Some(v) = input.function_version {
                    a.function_version = v;
                }
                if let Some(d) = input.description {
                    a.description = d;
                }
                if let Some(r) = input.routing_config {
                    let weights = r.additional_version_weights.unwrap_or_default();
                    check_weights(&weights)?;
                    a.routing_weights = weights;
                }
                a.revision_id = nimbus_core::ids::uuid();
                Ok(a.clone())
            })
            .await?;
        Ok(self.get(&key)?.alias_json(&alias))
    }

    pub async fn delete_alias(&self, ctx: &RequestContext, input: AliasIn) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let name = input.name.unwrap_or_default();
        self.mutate(&key, |f| {
            f.aliases.remove(&name);
            f.event_invoke_configs.remove(&name);
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub fn reserved_total(&self, account: &str, region: &str, except: &str) -> u32 {
        self.functions.read().values().filter(|f| f.account == account && f.region == region && f.name != except).filter_map(|f| f.reserved_concurrency).sum()
    }

    pub async fn put_concurrency(&self, ctx: &RequestContext, input: Concurrency) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let n = input.reserved_concurrent_executions.ok_or_else(|| LambdaError::invalid("ReservedConcurrentExecutions is required"))?;
        let limit = self.pool.account_limit as i64;
        if n < 0 {
            return Err(LambdaError::Validation(format!("1 validation error detected: Value '{n}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0")));
        }
        // AWS keeps at least 100 unreserved.
        let others = self.reserved_total(&key.0, &key.1, &key.2) as i64;
        if others + n > limit - 100 {
            return Err(LambdaError::invalid(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."
            )));
        }
        self.mutate(&key, |f| {
            f.reserved_concurrency = Some(n as u32);
            Ok(())
        })
        .await?;
        Ok(json!({ "ReservedConcurrentExecutions": n }))
    }

    pub fn get_concurrency(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let f = self.get(&key)?;
        Ok(match f.reserved_concurrency {
            Some(n) => json!({ "ReservedConcurrentExecutions": n }),
            None => json!({}),
        })
    }

    pub async fn delete_concurrency(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        self.mutate(&key, |f| {
            f.reserved_concurrency = None;
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    fn event_config_json(f: &Function, qualifier: &str, c: &EventInvokeConfig) -> Value {
        let mut v = json!({
            "LastModified": c.last_modified,
            "FunctionArn": format!("{}:{qualifier}", f.arn()),
            "DestinationConfig": {
                "OnSuccess": c.on_success.as_ref().map(|d| json!({ "Destination": d })).unwrap_or(json!({})),
                "OnFailure": c.on_failure.as_ref().map(|d| json!({ "Destination": d })).unwrap_or(json!({})),
            },
        });
        if let Some(n) = c.maximum_retry_attempts {
            v["MaximumRetryAttempts"] = json!(n);
        }
        if let Some(n) = c.maximum_event_age_seconds {
            v["MaximumEventAgeInSeconds"] = json!(n);
        }
        v
    }

    pub async fn put_event_invoke_config(&self, ctx: &RequestContext, input: EventInvokeConfigIn, replace: bool) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let qualifier = q.unwrap_or_else(|| LATEST.into());
        if let Some(n) = input.maximum_retry_attempts {
            if !(0..=2).contains(&n) {
                return Err(LambdaError::Validation(format!("1 validation error detected: Value '{n}' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2")));
            }
        }
        if let Some(n) = input.maximum_event_age_in_seconds {
            if !(60..=21_600).contains(&n) {
                return Err(LambdaError::Validation(format!("1 validation error detected: Value '{n}' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 21600")));
            }
        }
        let dest = input.destination_config.unwrap_or_default();
        let on_success = dest.on_success.and_then(|d| d.destination);
        let on_failure = dest.on_failure.and_then(|d| d.destination);
        for d in on_success.iter().chain(on_failure.iter()) {
            let bus = crate::destination_bus::parse_bus_arn(d).is_some();
            if !(d.starts_with("arn:aws:sqs:") || d.starts_with("arn:aws:lambda:") || d.starts_with("arn:aws:sns:") || bus) {
                return Err(LambdaError::invalid(format!("The destination ARN {d} is invalid.")));
            }
        }
        let now = self.clock.now_ms() as f64 / 1000.0;
        let out = self
            .mutate(&key, |f| {
                if f.resolve(Some(&qualifier)).is_none() {
                    return Err(LambdaError::function_not_found(&format!("{}:{qualifier}", f.arn())));
                }
                let entry = f.event_invoke_configs.entry(qualifier.clone()).or_default();
                if replace {
                    *entry = EventInvokeConfig::default();
                }
                if input.maximum_retry_attempts.is_some() || replace {
                    entry.maximum_retry_attempts = input.maximum_retry_attempts.map(|n| n as u32);
                }
                if input.maximum_event_age_in_seconds.is_some() || replace {
                    entry.maximum_event_age_seconds = input.maximum_event_age_in_seconds.map(|n| n as u32);
                }
                if on_success.is_some() || replace {
                    entry.on_success = on_success;
                }
                if on_failure.is_some() || replace {
                    entry.on_failure = on_failure;
                }
                entry.last_modified = now;
                let entry = entry.clone();
                Ok(Self::event_config_json(f, &qualifier, &entry))
            })
            .await?;
        Ok(out)
    }

    pub fn get_event_invoke_config(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let qualifier = q.unwrap_or_else(|| LATEST.into());
        let f = self.get(&key)?;
        let c = f
            .event_invoke_configs
            .get(&qualifier)
            .ok_or_else(|| LambdaError::ResourceNotFound(format!("The function {}:{qualifier} doesn't have an EventInvokeConfig", f.arn())))?;
        Ok(Self::event_config_json(&f, &qualifier, c))
    }

    pub async fn delete_event_invoke_config(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let qualifier = q.unwrap_or_else(|| LATEST.into());
        self.mutate(&key, |f| {
            f.event_invoke_configs
                .remove(&qualifier)
                .map(|_| ())
                .ok_or_else(|| LambdaError::ResourceNotFound(format!("The function {}:{qualifier} doesn't have an EventInvokeConfig", f.arn())))
        })
        .await?;
        Ok(json!({}))
    }

    pub fn list_event_invoke_configs(&self, ctx: &RequestContext, input: Paged) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, None)?;
        let max = page_size(input.max_items)?;
        let f = self.get(&key)?;
        let all: Vec<(String, Value)> = f.event_invoke_configs.iter().map(|(q, c)| (q.clone(), Self::event_config_json(&f, q, c))).collect();
        let (page, next) = paginate(all, input.marker.as_deref(), max);
        let mut out = json!({ "FunctionEventInvokeConfigs": page });
        if let Some(m) = next {
            out["NextMarker"] = json!(m);
        }
        Ok(out)
    }

    fn key_from_arn(&self, ctx: &RequestContext, resource: Option<String>) -> LambdaResult<crate::service::FunctionKey> {
        let arn = resource.ok_or_else(|| LambdaError::invalid("Resource is required"))?;
        let (account, name, _) = parse_function_name(ctx, &arn)?;
        Ok(Inner::key(ctx, account, name))
    }

    pub async fn tag_resource(&self, ctx: &RequestContext, input: Tagging) -> LambdaResult<Value> {
        let key = self.key_from_arn(ctx, input.resource)?;
        let tags = input.tags.unwrap_or_default();
        self.mutate(&key, |f| {
            f.tags.extend(tags);
            if f.tags.len() > 50 {
                return Err(LambdaError::invalid("Number of tags exceeds resource tag limit."));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub async fn untag_resource(&self, ctx: &RequestContext, input: Tagging) -> LambdaResult<Value> {
        let key = self.key_from_arn(ctx, input.resource)?;
        let keys = input.tag_keys.unwrap_or_default();
        self.mutate(&key, |f| {
            for k in &keys {
                f.tags.remove(k);
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub fn list_tags(&self, ctx: &RequestContext, input: Tagging) -> LambdaResult<Value> {
        let key = self.key_from_arn(ctx, input.resource)?;
        Ok(json!({ "Tags": self.get(&key)?.tags }))
    }

    pub fn account_settings(&self, ctx: &RequestContext) -> Value {
        let map = self.functions.read();
        let mine: Vec<&Function> = map.values().filter(|f| f.account == ctx.account_id && f.region == ctx.region).collect();
        let code: u64 = mine.iter().map(|f| f.latest.code.size + f.versions.values().map(|v| v.code.size).sum::<u64>()).sum();
        let reserved: u32 = mine.iter().filter_map(|f| f.reserved_concurrency).sum();
        json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": crate::code::MAX_UNZIPPED_BYTES,
                "CodeSizeZipped": crate::code::MAX_ZIP_BYTES,
                "ConcurrentExecutions": self.pool.account_limit,
                "UnreservedConcurrentExecutions": self.pool.account_limit.saturating_sub(reserved),
            },
            "AccountUsage": { "TotalCodeSize": code, "FunctionCount": mine.len() },
        })
    }

    pub async fn add_permission(&self, ctx: &RequestContext, input: Permission) -> LambdaResult<Value> {
        let (key, q) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let sid = input.statement_id.ok_or_else(|| LambdaError::invalid("StatementId is required"))?;
        let action = input.action.ok_or_else(|| LambdaError::invalid("Action is required"))?;
        let principal = input.principal.ok_or_else(|| LambdaError::invalid("Principal is required"))?;
        let statement = self
            .mutate(&key, |f| {
                check_revision(&f.latest.revision_id, input.revision_id.as_deref())?;
                if f.policy.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid.as_str())) {
                    return Err(LambdaError::ResourceConflict(format!("The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.")));
                }
                let resource = match &q {
                    Some(q) => format!("{}:{q}", f.arn()),
                    None => f.arn(),
                };
                let principal_json = if principal.ends_with(".amazonaws.com") { json!({ "Service": principal }) } else { json!({ "AWS": principal }) };
                let mut s = json!({ "Sid": sid, "Effect": "Allow", "Principal": principal_json, "Action": action, "Resource": resource });
                let mut condition = Map::new();
                if let Some(a) = &input.source_arn {
                    condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": a }));
                }
                if let Some(a) = &input.source_account {
                    condition.insert("StringEquals".into(), json!({ "AWS:SourceAccount": a }));
                }
                if !condition.is_empty() {
                    s["Condition"] = Value::Object(condition);
                }
                f.policy.push(s.clone());
                Ok(s)
            })
            .await?;
        Ok(json!({ "Statement": statement.to_string() }))
    }

    pub async fn remove_permission(&self, ctx: &RequestContext, input: Permission) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let sid = input.statement_id.unwrap_or_default();
        self.mutate(&key, |f| {
            let before = f.policy.len();
            f.policy.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid.as_str()));
            if f.policy.len() == before {
                return Err(LambdaError::ResourceNotFound(format!("Statement {sid} is not found in resource policy.")));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub fn get_policy(&self, ctx: &RequestContext, input: FunctionRef) -> LambdaResult<Value> {
        let (key, _) = self.resolve_ref(ctx, input.function_name, input.qualifier)?;
        let f = self.get(&key)?;
        if f.policy.is_empty() {
            return Err(LambdaError::ResourceNotFound("The resource you requested does not exist.".into()));
        }
        let doc = json!({ "Version": "2012-10-17", "Id": "default", "Statement": f.policy });
        Ok(json!({ "Policy": doc.to_string(), "RevisionId": f.latest.revision_id }))
    }
}

/// A change to $LATEST: new revision, new generation, new LastModified.
fn touch(v: &mut VersionConfig, now: u64) {
    v.last_modified = timestamp(now);
    v.revision_id = nimbus_core::ids::uuid();
    v.generation = now.max(v.generation + 1);
}

fn check_revision(current: &str, given: Option<&str>) -> LambdaResult<()> {
    match given {
        Some(r) if r != current => Err(LambdaError::PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into())),
        _ => Ok(()),
    }
}

/// Snapshots $LATEST as the next version, unless the newest version already has the
/// same code and configuration (AWS returns that version then).
fn publish_latest(f: &mut Function, description: Option<String>) -> VersionConfig {
    if let Some((_, last)) = f.versions.iter().next_back() {
        if last.code.sha256_b64 == f.latest.code.sha256_b64 && last.revision_id == f.latest.revision_id {
            return last.clone();
        }
    }
    let n = f.next_version;
    f.next_version += 1;
    let mut v = f.latest.clone();
    v.version = n.to_string();
    if let Some(d) = description {
        v.description = d;
    }
    f.versions.insert(n, v.clone());
    v
}

/// At most one additional version, weighted 0.0–1.0.
fn check_weights(weights: &BTreeMap<String, f64>) -> LambdaResult<()> {
    if weights.len() > 1 || weights.values().any(|w| !(0.0..=1.0).contains(w)) {
        return Err(LambdaError::invalid("RoutingConfig may name one additional version with a weight between 0.0 and 1.0."));
    }
    Ok(())
}

fn page_size(max_items: Option<i64>) -> LambdaResult<usize> {
    match max_items {
        None => Ok(50),
        Some(n) if (1..=10_000).contains(&n) => Ok(n as usize),
        Some(n) => Err(LambdaError::Validation(format!("1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 10000"))),
    }
}

/// Pages items sorted by their key: the marker is the last key returned.
fn paginate(items: Vec<(String, Value)>, marker: Option<&str>, max: usize) -> (Vec<Value>, Option<String>) {
    let rest: Vec<(String, Value)> = items.into_iter().filter(|(k, _)| marker.map(|m| k.as_str() > m).unwrap_or(true)).collect();
    let more = rest.len() > max;
    let page: Vec<(String, Value)> = rest.into_iter().take(max).collect();
    let next = if more { page.last().map(|(k, _)| k.clone()) } else { None };
    (page.into_iter().map(|(_, v)| v).collect(), next)
}
