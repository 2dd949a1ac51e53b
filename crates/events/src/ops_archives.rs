//! Archives and replays: CreateArchive, DescribeArchive, ListArchives, UpdateArchive,
//! DeleteArchive, StartReplay, DescribeReplay, ListReplays, CancelReplay. A replay sends
//! the archived events of its time window back to the archive's bus — to every rule, or
//! to the rules in `Destination.FilterArns` — with `replay-name` added to each event.
//! The replays' records and the task that runs them are `replays.rs`'s.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html>

use crate::archives::{Archive, ArchiveKey};
use crate::replays::{self, Replay, ReplayState};
use crate::errors::{required, EventsError, EventsResult};
use crate::names::{bus_arn, check_name};
use crate::service::{s, EventsService};
use nimbus_core::RequestContext;
use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::{json, Value};

fn archive_arn(key: &ArchiveKey) -> String {
    format!("arn:aws:events:{}:{}:archive/{}", key.1, key.0, key.2)
}

fn replay_arn(key: &ArchiveKey) -> String {
    format!("arn:aws:events:{}:{}:replay/{}", key.1, key.0, key.2)
}

fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// A timestamp member (epoch seconds) in milliseconds.
fn time_ms(input: &Value, member: &str) -> EventsResult<u64> {
    let v = required(member, input.get(member))?;
    v.as_f64().map(|t| (t * 1000.0) as u64).ok_or_else(|| EventsError::Validation(format!("Parameter {member} is not valid.")))
}

fn no_archive(name: &str) -> EventsError {
    EventsError::NotFound(format!("Archive {name} does not exist."))
}

fn no_replay(name: &str) -> EventsError {
    EventsError::NotFound(format!("Replay {name} does not exist."))
}

fn check_pattern(p: Option<&str>) -> EventsResult<()> {
    if let Some(p) = p {
        Pattern::parse(p, Dialect::EventBridge).map_err(|e| EventsError::InvalidEventPattern(e.message))?;
    }
    Ok(())
}

impl EventsService {
    fn archive_key(ctx: &RequestContext, input: &Value) -> EventsResult<ArchiveKey> {
        let name = required("archiveName", s(input, "ArchiveName"))?;
        check_name("archiveName", name, 48)?;
        Ok((ctx.account_id.clone(), ctx.region.clone(), name.to_string()))
    }

    pub(crate) async fn create_archive(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = Self::archive_key(ctx, input)?;
        let source = required("eventSourceArn", s(input, "EventSourceArn"))?;
        let bus = source.split_once(":event-bus/").map(|(_, b)| b.to_string()).filter(|b| self.reg.bus_exists(&ctx.account_id, &ctx.region, b) && source == bus_arn(&ctx.region, &ctx.account_id, b));
        let Some(bus) = bus else { return Err(EventsError::NotFound(format!("Event bus {source} does not exist."))) };
        check_pattern(s(input, "EventPattern"))?;
        if s(input, "KmsKeyIdentifier").is_some() {
            return Err(EventsError::NotSupported("KmsKeyIdentifier on archives".into()));
        }
        if self.reg.archives.archives.read().contains_key(&key) {
            return Err(EventsError::AlreadyExists(format!("Archive {} already exists.", key.2)));
        }
        let now = self.clock.now_ms();
        let mut a = Archive {
            bus,
            description: s(input, "Description").map(str::to_string),
            event_pattern: s(input, "EventPattern").map(str::to_string),
            retention_days: input.get("RetentionDays").and_then(Value::as_u64).unwrap_or(0),
            created_ms: now,
            compiled: None,
        };
        a.compile();
        self.reg.archives.save(&key, Some(&a)).await.map_err(EventsError::Internal)?;
        self.reg.archives.archives.write().insert(key.clone(), a);
        Ok(json!({ "ArchiveArn": archive_arn(&key), "State": "ENABLED", "CreationTime": secs(now) }))
    }

    fn archive_json(&self, key: &ArchiveKey, a: &Archive, full: bool) -> Value {
        let (count, bytes) = self.reg.archives.figures(key);
        let mut v = json!({
            "ArchiveName": key.2,
            "EventSourceArn": bus_arn(&key.1, &key.0, &a.bus),
            "State": "ENABLED",
            "RetentionDays": a.retention_days,
            "SizeBytes": bytes,
            "EventCount": count,
            "CreationTime": secs(a.created_ms),
        });
        if full {
            v["ArchiveArn"] = json!(archive_arn(key));
            if let Some(d) = &a.description {
                v["Description"] = json!(d);
            }
            if let Some(p) = &a.event_pattern {
                v["EventPattern"] = json!(p);
            }
        }
        v
    }

    pub(crate) fn describe_archive(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = Self::archive_key(ctx, input)?;
        let archives = self.reg.archives.archives.read();
        let a = archives.get(&key).ok_or_else(|| no_archive(&key.2))?;
        Ok(self.archive_json(&key, a, true))
    }

    pub(crate) fn list_archives(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let prefix = s(input, "NamePrefix").unwrap_or("");
        let source = s(input, "EventSourceArn");
        let archives = self.reg.archives.archives.read();
        let list: Vec<Value> = archives
            .iter()
            .filter(|(k, a)| k.0 == ctx.account_id && k.1 == ctx.region && k.2.starts_with(prefix) && source.is_none_or(|src| src == bus_arn(&k.1, &k.0, &a.bus)))
            .filter(|_| s(input, "State").is_none_or(|st| st == "ENABLED"))
            .map(|(k, a)| self.archive_json(k, a, false))
            .collect();
        Ok(json!({ "Archives": list }))
    }

    pub(crate) async fn update_archive(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = Self::archive_key(ctx, input)?;
        check_pattern(s(input, "EventPattern"))?;
        let mut a = self.reg.archives.archives.read().get(&key).cloned().ok_or_else(|| no_archive(&key.2))?;
        if let Some(d) = s(input, "Description") {
            a.description = Some(d.to_string());
        }
        if let Some(p) = s(input, "EventPattern") {
            a.event_pattern = Some(p.to_string());
        }
        if let Some(r) = input.get("RetentionDays").and_then(Value::as_u64) {
            a.retention_days = r;
        }
        a.compile();
        self.reg.archives.save(&key, Some(&a)).await.map_err(EventsError::Internal)?;
        let created = a.created_ms;
        self.reg.archives.archives.write().insert(key.clone(), a);
        Ok(json!({ "ArchiveArn": archive_arn(&key), "State": "ENABLED", "CreationTime": secs(created) }))
    }

    pub(crate) async fn delete_archive(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = Self::archive_key(ctx, input)?;
        if !self.reg.archives.archives.read().contains_key(&key) {
            return Err(no_archive(&key.2));
        }
        self.reg.archives.save(&key, None).await.map_err(EventsError::Internal)?;
        self.reg.archives.archives.write().remove(&key);
        Ok(json!({}))
    }

    pub(crate) async fn start_replay(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = required("replayName", s(input, "ReplayName"))?;
        check_name("replayName", name, 64)?;
        let source = required("eventSourceArn", s(input, "EventSourceArn"))?;
        let start_ms = time_ms(input, "EventStartTime")?;
        let end_ms = time_ms(input, "EventEndTime")?;
        let destination = required("destination", input.get("Destination"))?.clone();
        let dest_arn = required("destination.arn", destination.get("Arn").and_then(Value::as_str))?;
        if start_ms >= end_ms {
            return Err(EventsError::Validation("Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.".into()));
        }
        let archive_name = source.rsplit_once(":archive/").map(|(_, n)| n).unwrap_or_default();
        let akey: ArchiveKey = (ctx.account_id.clone(), ctx.region.clone(), archive_name.to_string());
        let bus = self.reg.archives.archives.read().get(&akey).map(|a| a.bus.clone()).ok_or_else(|| no_archive(archive_name))?;
        if dest_arn != bus_arn(&ctx.region, &ctx.account_id, &bus) {
            return Err(EventsError::Validation("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.".into()));
        }
        let rkey: ArchiveKey = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        let now = self.clock.now_ms();
        let replay = Replay {
            archive_arn: source.to_string(),
            archive: archive_name.to_string(),
            bus,
            description: s(input, "Description").map(str::to_string),
            destination,
            event_start_ms: start_ms,
            event_end_ms: end_ms,
            state: ReplayState::Starting,
            started_ms: now,
            ended_ms: None,
            last_replayed_ms: None,
        };
        if !self.reg.archives.insert_replay(&rkey, replay).await.map_err(EventsError::Internal)? {
            return Err(EventsError::AlreadyExists(format!("Replay {name} already exists.")));
        }
        replays::spawn(&self.reg, &self.targets, &self.clock, rkey);
        Ok(json!({ "ReplayArn": replay_arn(&(ctx.account_id.clone(), ctx.region.clone(), name.to_string())), "State": "STARTING", "ReplayStartTime": secs(now) }))
    }

    fn replay_json(key: &ArchiveKey, r: &Replay, full: bool) -> Value {
        let mut v = json!({
            "ReplayName": key.2,
            "EventSourceArn": r.archive_arn,
            "State": r.state.as_str(),
            "EventStartTime": secs(r.event_start_ms),
            "EventEndTime": secs(r.event_end_ms),
            "ReplayStartTime": secs(r.started_ms),
        });
        if let Some(t) = r.ended_ms {
            v["ReplayEndTime"] = secs(t);
        }
        if let Some(t) = r.last_replayed_ms {
            v["EventLastReplayedTime"] = secs(t);
        }
        if full {
            v["ReplayArn"] = json!(replay_arn(key));
            v["Destination"] = r.destination.clone();
            if let Some(d) = &r.description {
                v["Description"] = json!(d);
            }
        }
        v
    }

    pub(crate) fn describe_replay(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = required("replayName", s(input, "ReplayName"))?;
        let key = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        let replays = self.reg.archives.replays.read();
        let r = replays.get(&key).ok_or_else(|| no_replay(name))?;
        Ok(Self::replay_json(&key, r, true))
    }

    pub(crate) fn list_replays(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let prefix = s(input, "NamePrefix").unwrap_or("");
        let replays = self.reg.archives.replays.read();
        let list: Vec<Value> = replays
            .iter()
            .filter(|(k, _)| k.0 == ctx.account_id && k.1 == ctx.region && k.2.starts_with(prefix))
            .filter(|(_, r)| s(input, "State").is_none_or(|st| st == r.state.as_str()) && s(input, "EventSourceArn").is_none_or(|a| a == r.archive_arn))
            .map(|(k, r)| Self::replay_json(k, r, false))
            .collect();
        Ok(json!({ "Replays": list }))
    }

    pub(crate) async fn cancel_replay(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = required("replayName", s(input, "ReplayName"))?;
        let key = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        if !self.reg.archives.replays.read().contains_key(&key) {
            return Err(no_replay(name));
        }
        let cancel = |r: &mut Replay| matches!(r.state, ReplayState::Starting | ReplayState::Running).then(|| r.state = ReplayState::Cancelling);
        if self.reg.archives.change_replay(&key, cancel).await.map_err(EventsError::Internal)?.is_none() {
            return Err(EventsError::IllegalStatus(format!("Replay {name} is not in a valid state for this operation.")));
        }
        Ok(json!({ "ReplayArn": replay_arn(&key), "State": "CANCELLING" }))
    }
}
