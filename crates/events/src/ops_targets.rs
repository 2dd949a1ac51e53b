//! Targets: PutTargets, RemoveTargets, ListTargetsByRule. Targets are stored as given
//! (the `Target` shape) with the rule. nimbus delivers to SQS queues (FIFO with
//! `SqsParameters.MessageGroupId`), Lambda functions, CloudWatch Logs log groups, event
//! buses, (when an SNS service is wired) SNS topics and (when Kinesis is wired) Kinesis
//! data streams (`KinesisParameters.PartitionKeyPath`); other target types are refused.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html>

use crate::errors::{required, EventsError, EventsResult};
use crate::names::check_name;
use crate::service::{s, EventsService};
use crate::transform::valid_path;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

/// AWS's quota of targets per rule.
const MAX_TARGETS: usize = 5;

fn check_target(t: &Value, sns: bool, kinesis: bool) -> EventsResult<()> {
    let id = required("targets.member.id", s(t, "Id"))?;
    check_name("targets.member.id", id, 64)?;
    let arn = required("targets.member.arn", s(t, "Arn"))?;
    let service = arn.split(':').nth(2).unwrap_or("");
    let known = matches!(service, "sqs" | "lambda" | "logs" | "events") || (service == "sns" && sns) || (service == "kinesis" && kinesis && arn.contains(":stream/"));
    if !known || (service == "events" && !arn.contains(":event-bus/")) {
        return Err(EventsError::NotSupported(format!("Target {arn} (targets of service '{service}')")));
    }
    let given = ["Input", "InputPath", "InputTransformer"].iter().filter(|m| t.get(**m).is_some_and(|v| !v.is_null())).count();
    if given > 1 {
        return Err(EventsError::Validation(format!("Only one of Input, InputPath, or InputTransformer must be provided for target {id}.")));
    }
    if let Some(input) = s(t, "Input") {
        if serde_json::from_str::<Value>(input).is_err() {
            return Err(EventsError::Validation(format!("Target {id} has Input that is not valid JSON.")));
        }
    }
    if let Some(p) = s(t, "InputPath") {
        if !valid_path(p) {
            return Err(EventsError::Validation(format!("Target {id} has InputPath that is not valid JSONPath.")));
        }
    }
    if let Some(tr) = t.get("InputTransformer") {
        required("targets.member.inputTransformer.inputTemplate", tr.get("InputTemplate").and_then(Value::as_str))?;
        if let Some(map) = tr.get("InputPathsMap").and_then(Value::as_object) {
            if map.len() > 100 {
                return Err(EventsError::Validation("InputPathsMap can have at most 100 entries.".into()));
            }
            for (k, v) in map {
                if k.starts_with("aws.") || !v.as_str().is_some_and(valid_path) {
                    return Err(EventsError::Validation(format!("Target {id} has an InputPathsMap entry '{k}' that is not valid.")));
                }
            }
        }
    }
    if let Some(p) = t.pointer("/KinesisParameters/PartitionKeyPath").and_then(Value::as_str) {
        if !valid_path(p) {
            return Err(EventsError::Validation(format!("Target {id} has PartitionKeyPath that is not valid JSONPath.")));
        }
    }
    if service == "sqs" && arn.ends_with(".fifo") && t.pointer("/SqsParameters/MessageGroupId").and_then(Value::as_str).is_none() {
        return Err(EventsError::Validation(format!("Parameter(s) SqsParameters must be specified for target: {id}.")));
    }
    if let Some(dlq) = t.pointer("/DeadLetterConfig/Arn").and_then(Value::as_str) {
        if !dlq.starts_with("arn:aws:sqs:") {
            return Err(EventsError::Validation(format!("Target {id}: the DeadLetterConfig Arn must be an SQS queue ARN.")));
        }
    }
    Ok(())
}

impl EventsService {
    pub(crate) async fn put_targets(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "rule")?;
        let given = required("targets", input.get("Targets").and_then(Value::as_array))?;
        if given.is_empty() || given.len() > 10 {
            return Err(EventsError::constraint(format!("{} targets", given.len()), "targets", "Member must have length between 1 and 10"));
        }
        for t in given {
            check_target(t, self.targets.topics.is_some(), self.reg.streams.get().is_some())?;
        }
        let mut rule = self.reg.rules.read().get(&key).cloned().ok_or_else(|| Self::no_rule(&key))?;
        for t in given {
            let id = s(t, "Id").unwrap_or_default();
            match rule.targets.iter_mut().find(|x| s(x, "Id") == Some(id)) {
                Some(slot) => *slot = t.clone(),
                None => rule.targets.push(t.clone()),
            }
        }
        if rule.targets.len() > MAX_TARGETS {
            return Err(EventsError::LimitExceeded("The requested resource exceeds the maximum number allowed.".into()));
        }
        self.reg.save_rule(&key, Some(&rule)).await?;
        self.reg.rules.write().insert(key, rule);
        Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
    }

    pub(crate) async fn remove_targets(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "rule")?;
        let ids: Vec<&str> = required("ids", input.get("Ids").and_then(Value::as_array))?.iter().filter_map(Value::as_str).collect();
        if ids.is_empty() || ids.len() > 100 {
            return Err(EventsError::constraint(format!("{} ids", ids.len()), "ids", "Member must have length between 1 and 100"));
        }
        let mut rule = self.reg.rules.read().get(&key).cloned().ok_or_else(|| Self::no_rule(&key))?;
        rule.targets.retain(|t| !ids.contains(&s(t, "Id").unwrap_or_default()));
        self.reg.save_rule(&key, Some(&rule)).await?;
        self.reg.rules.write().insert(key, rule);
        Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
    }

    pub(crate) fn list_targets_by_rule(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "rule")?;
        let rules = self.reg.rules.read();
        let r = rules.get(&key).ok_or_else(|| Self::no_rule(&key))?;
        Ok(json!({ "Targets": r.targets }))
    }
}
