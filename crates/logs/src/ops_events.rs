//! Event operations: PutLogEvents (limits and rejected events), GetLogEvents (one
//! stream, `f/`/`b/` tokens) and FilterLogEvents (several streams, filter patterns).

use crate::api::*;
use crate::engine::{DAY_MS, EVENT_OVERHEAD};
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::filter::Pattern;
use crate::names::group_from;
use crate::service::LogsService;
use crate::store::EventRecord;
use crate::tokens::{self, EventKey, Position};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
/// Responses carry at most this many bytes of events (AWS's 1 MB).
const MAX_RESPONSE_BYTES: usize = 1_048_576;
const MAX_AGE_MS: u64 = 14 * DAY_MS;
const MAX_FUTURE_MS: u64 = 2 * 3_600_000;

fn key_of(e: &EventRecord) -> EventKey {
    (e.timestamp, e.seq)
}

fn size_of(e: &EventRecord) -> usize {
    e.message.len() + EVENT_OVERHEAD
}

/// The first events of `events` (in order) within `limit` and the response size cap.
fn take_first<'a>(events: impl Iterator<Item = &'a EventRecord>, limit: usize) -> Vec<&'a EventRecord> {
    let mut out = Vec::new();
    let mut bytes = 0;
    for e in events {
        if out.len() == limit || (bytes + size_of(e) > MAX_RESPONSE_BYTES && !out.is_empty()) {
            break;
        }
        bytes += size_of(e);
        out.push(e);
    }
    out
}

/// The last events of `events` (returned in ascending order) within the same caps.
fn take_last<'a>(events: &[&'a EventRecord], limit: usize) -> Vec<&'a EventRecord> {
    let mut out = take_first(events.iter().rev().copied(), limit);
    out.reverse();
    out
}

fn non_negative(member: &str, v: Option<i64>) -> LogsResult<Option<u64>> {
    match v {
        Some(t) if t < 0 => Err(LogsError::validation(t, member, "Member must have value greater than or equal to 0")),
        other => Ok(other.map(|t| t as u64)),
    }
}

impl LogsService {
    pub(crate) async fn put_log_events(&self, ctx: &RequestContext, req: PutLogEvents) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        let events = required("logEvents", req.log_events)?;
        if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
            return Err(LogsError::validation(
                format!("[{} events]", events.len()),
                "logEvents",
                &format!("Member must have length between 1 and {MAX_BATCH_EVENTS}"),
            ));
        }
        let mut batch = Vec::with_capacity(events.len());
        let mut bytes = 0;
        for (i, e) in events.into_iter().enumerate() {
            let ts = non_negative(&format!("logEvents.{}.member.timestamp", i + 1), e.timestamp)?
                .ok_or_else(|| LogsError::missing(&format!("logEvents.{}.member.timestamp", i + 1)))?;
            let msg = required(&format!("logEvents.{}.member.message", i + 1), e.message)?;
            if msg.is_empty() {
                return Err(LogsError::validation("", &format!("logEvents.{}.member.message", i + 1), "Member must have length greater than or equal to 1"));
            }
            bytes += msg.len() + EVENT_OVERHEAD;
            batch.push((ts, msg));
        }
        if bytes > MAX_BATCH_BYTES {
            return Err(LogsError::InvalidParameter(format!("Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}")));
        }
        let (min, max) = batch.iter().fold((u64::MAX, 0), |(lo, hi), (t, _)| (lo.min(*t), hi.max(*t)));
        if max - min > DAY_MS {
            return Err(LogsError::InvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into()));
        }
        let key = Self::key(ctx, group);
        let now = self.engine.clock.now_ms();
        let cutoff = self.engine.read(|st| {
            let g = st.group(&key)?;
            if !g.streams.contains_key(&stream) {
                return Err(LogsError::StreamNotFound);
            }
            Ok(g.cutoff(now))
        })?;
        let (mut too_new, mut too_old, mut expired) = (None::<usize>, None::<usize>, None::<usize>);
        let mut accepted = Vec::with_capacity(batch.len());
        for (i, (ts, msg)) in batch.into_iter().enumerate() {
            if ts > now + MAX_FUTURE_MS {
                too_new = Some(too_new.map_or(i, |x| x.min(i)));
            } else if ts + MAX_AGE_MS < now {
                too_old = Some(i + 1);
            } else if ts < cutoff {
                expired = Some(i + 1);
            } else {
                accepted.push((ts, msg));
            }
        }
        let (pending, uploads) = self.engine.put_events(&key, &stream, accepted)?;
        Self::committed(pending).await?;
        let mut resp = Map::new();
        resp.insert("nextSequenceToken".into(), json!(format!("{uploads:056}")));
        if too_new.is_some() || too_old.is_some() || expired.is_some() {
            let mut info = Map::new();
            if let Some(i) = too_new {
                info.insert("tooNewLogEventStartIndex".into(), json!(i));
            }
            if let Some(i) = too_old {
                info.insert("tooOldLogEventEndIndex".into(), json!(i));
            }
            if let Some(i) = expired {
                info.insert("expiredLogEventEndIndex".into(), json!(i));
            }
            resp.insert("rejectedLogEventsInfo".into(), Value::Object(info));
        }
        Ok(Value::Object(resp))
    }

    pub(crate) fn get_log_events(&self, ctx: &RequestContext, req: GetLogEvents) -> LogsResult<Value> {
        let group = group_from(req.log_group_name, req.log_group_identifier)?;
        let stream = required("logStreamName", req.log_stream_name)?;
        let limit = in_range("limit", req.limit, 1, 10_000, 10_000)? as usize;
        let start = non_negative("startTime", req.start_time)?.unwrap_or(0);
        let end = non_negative("endTime", req.end_time)?.unwrap_or(u64::MAX);
        let given = req.next_token.filter(|t| !t.is_empty());
        let position = given.as_deref().map(tokens::parse_event_token).transpose()?;
        let key = Self::key(ctx, group);
        let now = self.engine.clock.now_ms();
        self.engine.read(|st| {
            let g = st.group(&key)?;
            let s = g.streams.get(&stream).ok_or(LogsError::StreamNotFound)?;
            let lo = start.max(g.cutoff(now));
            let in_range = s.events.iter().filter(|e| e.timestamp >= lo && e.timestamp < end);
            let page = match position {
                Some(Position::After(k)) => take_first(in_range.filter(|e| key_of(e) > k), limit),
                Some(Position::Before(k)) => take_last(&in_range.filter(|e| key_of(e) < k).collect::<Vec<_>>(), limit),
                None if req.start_from_head.unwrap_or(false) => take_first(in_range, limit),
                None => take_last(&in_range.collect::<Vec<_>>(), limit),
            };
            let (forward, backward) = match (page.first(), page.last(), position) {
                (Some(first), Some(last), _) => (tokens::forward(key_of(last)), tokens::backward(key_of(first))),
                // Nothing more: hand back the same token, and its opposite from the same place.
                (_, _, Some(Position::After(k))) => (given.clone().unwrap_or_default(), tokens::backward(tokens::succ(k))),
                (_, _, Some(Position::Before(k))) => (tokens::forward(tokens::pred(k)), given.clone().unwrap_or_default()),
                (_, _, None) => (tokens::forward((0, 0)), tokens::backward((0, 0))),
            };
            let events: Vec<Value> = page
                .iter()
                .map(|e| json!({ "timestamp": e.timestamp, "message": &*e.message, "ingestionTime": e.ingestion_ms }))
                .collect();
            Ok(json!({ "events": events, "nextForwardToken": forward, "nextBackwardToken": backward }))
        })
    }

    pub(crate) fn filter_log_events(&self, ctx: &RequestContext, req: FilterLogEvents) -> LogsResult<Value> {
        let group = group_from(req.log_group_name, req.log_group_identifier)?;
        if req.log_stream_names.is_some() && req.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into()));
        }
        if let Some(names) = &req.log_stream_names {
            if names.is_empty() || names.len() > 100 {
                return Err(LogsError::validation(format!("[{} names]", names.len()), "logStreamNames", "Member must have length between 1 and 100"));
            }
        }
        let limit = in_range("limit", req.limit, 1, 10_000, 10_000)? as usize;
        let start = non_negative("startTime", req.start_time)?.unwrap_or(0);
        let end = non_negative("endTime", req.end_time)?.unwrap_or(u64::MAX);
        let pattern = Pattern::parse(req.filter_pattern.as_deref())?;
        let after = req.next_token.as_deref().filter(|t| !t.is_empty()).map(tokens::parse_filter_token).transpose()?;
        let prefix = req.log_stream_name_prefix.unwrap_or_default();
        let key = Self::key(ctx, group);
        let now = self.engine.clock.now_ms();
        self.engine.read(|st| {
            let g = st.group(&key)?;
            let lo = start.max(g.cutoff(now));
            let selected: Vec<(&String, &crate::engine::Stream)> = g
                .streams
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix) && req.log_stream_names.as_ref().is_none_or(|names| names.contains(n)))
                .collect();
            let mut candidates: Vec<(&str, &EventRecord)> = selected
                .iter()
                .flat_map(|(n, s)| s.events.iter().map(move |e| (n.as_str(), e)))
                .filter(|(_, e)| e.timestamp >= lo && e.timestamp <= end && after.is_none_or(|a| key_of(e) > a))
                .collect();
            candidates.sort_by_key(|(_, e)| key_of(e));
            let mut matched = candidates.into_iter().filter(|(_, e)| pattern.matches(&e.message));
            let mut page = Vec::new();
            let mut bytes = 0;
            let mut more = false;
            for (stream, e) in matched.by_ref() {
                if page.len() == limit || (bytes + size_of(e) > MAX_RESPONSE_BYTES && !page.is_empty()) {
                    more = true;
                    break;
                }
                bytes += size_of(e);
                page.push((stream, e));
            }
            let events: Vec<Value> = page
                .iter()
                .map(|(stream, e)| {
                    json!({
                        "logStreamName": stream,
                        "timestamp": e.timestamp,
                        "message": &*e.message,
                        "ingestionTime": e.ingestion_ms,
                        "eventId": tokens::event_id(key_of(e)),
                    })
                })
                .collect();
            let searched: Vec<Value> = selected.iter().map(|(n, _)| json!({ "logStreamName": n, "searchedCompletely": !more })).collect();
            let mut resp = json!({ "events": events, "searchedLogStreams": searched });
            if let (true, Some((_, last)), Value::Object(m)) = (more, page.last(), &mut resp) {
                m.insert("nextToken".into(), json!(tokens::filter_token(key_of(last))));
            }
            Ok(resp)
        })
    }
}
