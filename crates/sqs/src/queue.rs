//! One queue's working state and the rules that move its messages: delays, visibility,
//! retention, FIFO group order and locking, deduplication windows, and which messages a
//! receive returns or hands to the dead-letter queue. Standard queues deliver visible
//! messages oldest first (a message that becomes visible again keeps its place by age);
//! FIFO queues serve unlocked groups in the order they became available. Pure state: no I/O and no clock of
//! its own (callers pass `now`); every change is also written to a [`Mutation`] list that
//! the caller makes durable.

use crate::attributes::RedrivePolicy;
use crate::message::Attributes;
use crate::store::{DedupRecord, Mutation, QueueRecord};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

pub const DEDUP_WINDOW_MS: u64 = 5 * 60 * 1000;
/// How long a ReceiveRequestAttemptId can be retried.
const ATTEMPT_WINDOW_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct Message {
    /// Position in the queue (insertion order); the message's storage key.
    pub seq: u64,
    pub message_id: String,
    pub body: Arc<str>,
    pub attributes: Arc<Attributes>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub trace_header: Option<String>,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub sent_ms: u64,
    pub visible_at_ms: u64,
    pub receive_count: u32,
    pub first_receive_ms: Option<u64>,
    pub last_receive_ms: Option<u64>,
    /// Bumped on every receive: the receipt handle of the latest receive carries it.
    pub nonce: u64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    /// Set when the message was moved here by a redrive policy.
    pub dead_letter_source: Option<String>,
}

impl Message {
    fn in_flight(&self, now: u64) -> bool {
        self.receive_count > 0 && self.visible_at_ms > now
    }
}

/// A message ready to be enqueued (validated, digests computed).
pub struct NewMessage {
    pub body: Arc<str>,
    pub attributes: Arc<Attributes>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub trace_header: Option<String>,
    pub md5_system: Option<String>,
    pub sender_id: String,
    pub delay_ms: u64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    /// Original sent time and receive history survive a move between queues.
    pub carried: Option<Carried>,
    /// Body plus attributes in bytes (the SentMessageSize metric); 0 for moved messages.
    pub size: usize,
}

pub struct Carried {
    pub message_id: String,
    pub sent_ms: u64,
    pub dead_letter_source: Option<String>,
    /// Receives so far (dead-lettering keeps them; move tasks start afresh at 0).
    pub receive_count: u32,
    pub first_receive_ms: Option<u64>,
}

pub struct Sent {
    pub message_id: String,
    pub sequence_number: Option<String>,
}

/// What a receive hands back for one message.
pub struct Received {
    pub message: Message,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

struct DedupEntry {
    /// The message group of the send that opened the window (None: stored before groups
    /// were recorded with every entry).
    group: Option<String>,
    expires_ms: u64,
    message_id: String,
    sequence_number: Option<String>,
}

struct Attempt {
    expires_ms: u64,
    /// (seq, nonce) of the messages the attempt returned.
    messages: Vec<(u64, u64)>,
}

pub struct QueueState {
    pub record: Arc<QueueRecord>,
    messages: HashMap<u64, Message>,
    /// Every message by the time it becomes (or became) visible.
    by_visibility: BTreeSet<(u64, u64)>,
    /// Messages visible as of `ready_until`, by position: the oldest first.
    ready: BTreeSet<u64>,
    ready_until: u64,
    /// Every message by sent time, for retention.
    by_sent: BTreeSet<(u64, u64)>,
    /// FIFO: each group's messages in order.
    groups: HashMap<String, VecDeque<u64>>,
    /// Deduplication windows by deduplication id; one entry per message group that used it.
    dedup: HashMap<String, Vec<DedupEntry>>,
    attempts: HashMap<String, Attempt>,
    next_seq: u64,
    last_sequence_number: u64,
    pub last_purge_ms: Option<u64>,
}

impl QueueState {
    pub fn new(record: Arc<QueueRecord>) -> Self {
        QueueState {
            record,
            messages: HashMap::new(),
            by_visibility: BTreeSet::new(),
            ready: BTreeSet::new(),
            ready_until: 0,
            by_sent: BTreeSet::new(),
            groups: HashMap::new(),
            dedup: HashMap::new(),
            attempts: HashMap::new(),
            next_seq: 1,
            last_sequence_number: 0,
            last_purge_ms: None,
        }
    }

    pub fn fifo(&self) -> bool {
        self.record.fifo
    }

    fn attr_u64(&self, name: &str, default: u64) -> u64 {
        self.record.attributes.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    pub fn visibility_timeout_s(&self) -> u64 {
        self.attr_u64("VisibilityTimeout", 30)
    }
    pub fn delay_s(&self) -> u64 {
        self.attr_u64("DelaySeconds", 0)
    }
    pub fn max_message_size(&self) -> u64 {
        self.attr_u64("MaximumMessageSize", crate::attributes::MAX_MESSAGE_SIZE)
    }
    pub fn receive_wait_s(&self) -> u64 {
        self.attr_u64("ReceiveMessageWaitTimeSeconds", 0)
    }
    fn retention_ms(&self) -> u64 {
        self.attr_u64("MessageRetentionPeriod", 345_600) * 1000
    }
    pub fn content_based_dedup(&self) -> bool {
        self.record.attributes.get("ContentBasedDeduplication").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false)
    }
    fn dedup_per_group(&self) -> bool {
        self.record.attributes.get("DeduplicationScope").map(String::as_str) == Some("messageGroup")
    }
    pub fn redrive_policy(&self) -> Option<RedrivePolicy> {
        self.record.attributes.get("RedrivePolicy").filter(|v| !v.is_empty()).and_then(|v| crate::attributes::parse_redrive_policy(v).ok())
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Restores a stored message at start-up.
    pub fn restore(&mut self, m: Message) {
        self.next_seq = self.next_seq.max(m.seq + 1);
        if let Some(n) = m.sequence_number.as_deref().and_then(|s| s.parse::<u64>().ok()) {
            self.last_sequence_number = self.last_sequence_number.max(n);
        }
        self.index(m);
    }

    pub fn restore_dedup(&mut self, d: DedupRecord) {
        if let Some(n) = d.sequence_number.as_deref().and_then(|s| s.parse::<u64>().ok()) {
            self.last_sequence_number = self.last_sequence_number.max(n);
        }
        let (group, id) = match d.key.split_once('\u{1}') {
            Some((g, id)) => (Some(g.to_string()), id.to_string()),
            None => (None, d.key),
        };
        self.dedup.entry(id).or_default().push(DedupEntry { group, expires_ms: d.expires_ms, message_id: d.message_id, sequence_number: d.sequence_number });
    }

    fn index(&mut self, m: Message) {
        self.by_visibility.insert((m.visible_at_ms, m.seq));
        if m.visible_at_ms <= self.ready_until {
            self.ready.insert(m.seq);
        }
        self.by_sent.insert((m.sent_ms, m.seq));
        if self.record.fifo {
            if let Some(g) = &m.group_id {
                let q = self.groups.entry(g.clone()).or_default();
                // Keep group order by seq even when restored out of order.
                let pos = q.iter().position(|s| *s > m.seq).unwrap_or(q.len());
                q.insert(pos, m.seq);
            }
        }
        self.messages.insert(m.seq, m);
    }

    fn unindex(&mut self, seq: u64) -> Option<Message> {
        let m = self.messages.remove(&seq)?;
        self.by_visibility.remove(&(m.visible_at_ms, seq));
        self.ready.remove(&seq);
        self.by_sent.remove(&(m.sent_ms, seq));
        if let Some(g) = &m.group_id {
            if let Some(q) = self.groups.get_mut(g) {
                if let Some(pos) = q.iter().position(|s| *s == seq) {
                    q.remove(pos);
                }
                if q.is_empty() {
                    self.groups.remove(g);
                }
            }
        }
        Some(m)
    }

    fn set_visible_at(&mut self, seq: u64, at: u64) {
        if let Some(m) = self.messages.get_mut(&seq) {
            self.by_visibility.remove(&(m.visible_at_ms, seq));
            self.ready.remove(&seq);
            m.visible_at_ms = at;
            self.by_visibility.insert((at, seq));
            if at <= self.ready_until {
                self.ready.insert(seq);
            }
        }
    }

    /// Moves the messages that became visible up to `now` into `ready`.
    fn promote(&mut self, now: u64) {
        if now <= self.ready_until {
            return;
        }
        let from = (self.ready_until + 1, 0);
        for &(_, seq) in self.by_visibility.range(from..=(now, u64::MAX)) {
            self.ready.insert(seq);
        }
        self.ready_until = now;
    }

    fn next_sequence_number(&mut self, now: u64) -> String {
        self.last_sequence_number = (self.last_sequence_number + 1).max(now.saturating_mul(1_000_000));
        format!("{:020}", self.last_sequence_number)
    }

    /// A send deduplicated against the window: the first send's id and sequence number.
    /// The queue's current DeduplicationScope decides whether the group must match, so
    /// switching the scope applies to the history already recorded.
    fn duplicate_of(&self, now: u64, group: Option<&str>, dedup_id: &str) -> Option<Sent> {
        let per_group = self.dedup_per_group();
        self.dedup
            .get(dedup_id)?
            .iter()
            .find(|e| e.expires_ms > now && (!per_group || e.group.as_deref() == group))
            .map(|e| Sent { message_id: e.message_id.clone(), sequence_number: e.sequence_number.clone() })
    }

    fn remember_dedup(&mut self, now: u64, group: Option<&str>, dedup_id: &str, sent: &Sent, muts: &mut Vec<Mutation>) {
        let expires_ms = now + DEDUP_WINDOW_MS;
        let entry = DedupEntry { group: group.map(str::to_string), expires_ms, message_id: sent.message_id.clone(), sequence_number: sent.sequence_number.clone() };
        let entries = self.dedup.entry(dedup_id.to_string()).or_default();
        entries.retain(|e| e.expires_ms > now && e.group.as_deref() != group);
        entries.push(entry);
        let key = match group {
            Some(g) => format!("{g}\u{1}{dedup_id}"),
            None => dedup_id.to_string(),
        };
        muts.push(Mutation::PutDedup { queue: self.record.id, key, expires_ms, message_id: sent.message_id.clone(), sequence_number: sent.sequence_number.clone() });
        if self.dedup.len() > 1024 {
            self.dedup.retain(|_, v| {
                v.retain(|e| e.expires_ms > now);
                !v.is_empty()
            });
        }
    }

    /// Enqueues a message (or recognises a duplicate within the dedup window).
    pub fn send(&mut self, now: u64, new: NewMessage, muts: &mut Vec<Mutation>) -> Sent {
        let queue = self.record.id;
        let check_dedup = self.record.fifo && new.carried.is_none() && new.dedup_id.is_some();
        if check_dedup {
            if let Some(dup) = self.duplicate_of(now, new.group_id.as_deref(), new.dedup_id.as_deref().unwrap_or_default()) {
                return dup;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let sequence_number = if self.record.fifo { Some(self.next_sequence_number(now)) } else { None };
        let (message_id, sent_ms, dead_letter_source, receive_count, first_receive_ms) = match new.carried {
            Some(c) => (c.message_id, c.sent_ms, c.dead_letter_source, c.receive_count, c.first_receive_ms),
            None => (nimbus_core::ids::uuid(), now, None, 0, None),
        };
        let msg = Message {
            seq,
            message_id: message_id.clone(),
            body: new.body,
            attributes: new.attributes,
            md5_body: new.md5_body,
            md5_attributes: new.md5_attributes,
            trace_header: new.trace_header,
            md5_system: new.md5_system,
            sender_id: new.sender_id,
            sent_ms,
            visible_at_ms: now + new.delay_ms,
            receive_count,
            first_receive_ms,
            last_receive_ms: None,
            nonce: 0,
            group_id: new.group_id,
            dedup_id: new.dedup_id,
            sequence_number: sequence_number.clone(),
            dead_letter_source,
        };
        let sent = Sent { message_id, sequence_number };
        if check_dedup {
            let (group, id) = (msg.group_id.clone(), msg.dedup_id.clone().unwrap_or_default());
            self.remember_dedup(now, group.as_deref(), &id, &sent, muts);
        }
        muts.push(Mutation::InsertMessage(queue, Arc::new(msg.clone())));
        self.index(msg);
        sent
    }

    /// Drops messages older than the retention period.
    pub fn expire(&mut self, now: u64, muts: &mut Vec<Mutation>) {
        let cutoff = now.saturating_sub(self.retention_ms());
        while let Some(&(sent, seq)) = self.by_sent.first() {
            if sent > cutoff {
                break;
            }
            self.unindex(seq);
            muts.push(Mutation::DeleteMessage { queue: self.record.id, seq });
        }
    }

    /// When the oldest message still in the queue was sent (ApproximateAgeOfOldestMessage).
    pub fn oldest_sent_ms(&self) -> Option<u64> {
        self.by_sent.first().map(|(sent, _)| *sent)
    }

    pub fn counts(&self, now: u64) -> Counts {
        let mut c = Counts::default();
        for m in self.messages.values() {
            if m.visible_at_ms <= now {
                c.visible += 1;
            } else if m.receive_count > 0 {
                c.in_flight += 1;
            } else {
                c.delayed += 1;
            }
        }
        c
    }

    /// When the next not-yet-visible message becomes visible.
    pub fn next_visible_at(&self, now: u64) -> Option<u64> {
        self.by_visibility.range((now + 1, 0)..).next().map(|(t, _)| *t)
    }

    /// When an unlocked group became available to receivers: its head's visibility time,
    /// or later if some of its messages were received and became visible again (their
    /// timeout ran out or was changed to 0) — such a group queues up behind the groups
    /// already waiting. None: a message of the group is in flight (the group is locked) or
    /// its head is not visible yet.
    fn group_ready_at(&self, group: &VecDeque<u64>, now: u64) -> Option<u64> {
        let head = self.messages.get(group.front()?)?;
        if head.visible_at_ms > now {
            return None;
        }
        let mut ready_at = head.visible_at_ms;
        // Received messages come first in a group: they were delivered in order.
        for m in group.iter().map_while(|s| self.messages.get(s).filter(|m| m.receive_count > 0)) {
            if m.in_flight(now) {
                return None;
            }
            ready_at = ready_at.max(m.visible_at_ms);
        }
        Some(ready_at)
    }

    /// Picks up to `max` messages to deliver, in the order SQS would. Messages that have
    /// been received `maxReceiveCount` times are returned separately for the dead-letter
    /// queue.
    fn pick(&self, now: u64, max: usize, redrive_at: Option<u32>) -> (Vec<u64>, Vec<u64>) {
        let exhausted = |m: &Message| redrive_at.map(|n| m.receive_count >= n).unwrap_or(false);
        if self.record.fifo {
            return self.pick_fifo(now, max, &exhausted);
        }
        // Standard: the oldest visible messages first (`ready` is promoted up to `now`).
        let (mut picked, mut dead) = (Vec::new(), Vec::new());
        for &seq in &self.ready {
            if picked.len() >= max {
                break;
            }
            match self.messages.get(&seq) {
                Some(m) if exhausted(m) => dead.push(seq),
                Some(_) => picked.push(seq),
                None => {}
            }
        }
        (picked, dead)
    }

    /// FIFO: whole groups in the order they became available (see [`Self::group_ready_at`]),
    /// as many messages of one group as possible, in order, before the next group.
    ///
    /// Walks messages by visibility time; a group's ready time is never earlier than the
    /// first of its messages met, so a group can be served once the walk has passed its
    /// ready time (a heap holds the groups met but not yet due).
    fn pick_fifo(&self, now: u64, max: usize, exhausted: &dyn Fn(&Message) -> bool) -> (Vec<u64>, Vec<u64>) {
        let (mut picked, mut dead) = (Vec::new(), Vec::new());
        let mut seen: HashSet<&str> = HashSet::new();
        let mut due: BinaryHeap<Reverse<(u64, u64, &str)>> = BinaryHeap::new();
        let mut take = |group_id: &str, picked: &mut Vec<u64>| {
            for s in self.groups.get(group_id).into_iter().flatten() {
                let Some(m) = self.messages.get(s) else { break };
                if m.visible_at_ms > now || picked.len() >= max {
                    break;
                }
                if exhausted(m) {
                    dead.push(*s);
                } else {
                    picked.push(*s);
                }
            }
        };
        for &(at, seq) in self.by_visibility.iter() {
            if at > now || picked.len() >= max {
                break;
            }
            while let Some(Reverse((ready_at, _, g))) = due.peek().copied() {
                if ready_at >= at || picked.len() >= max {
                    break;
                }
                due.pop();
                take(g, &mut picked);
            }
            let Some(group_id) = self.messages.get(&seq).and_then(|m| m.group_id.as_deref()) else { continue };
            if !seen.insert(group_id) {
                continue;
            }
            let Some(group) = self.groups.get(group_id) else { continue };
            if let (Some(ready_at), Some(&head)) = (self.group_ready_at(group, now), group.front()) {
                due.push(Reverse((ready_at, head, group_id)));
            }
        }
        while let Some(Reverse((_, _, g))) = due.pop() {
            if picked.len() >= max {
                break;
            }
            take(g, &mut picked);
        }
        (picked, dead)
    }

    /// Removes messages that exhausted their receives, for the caller to move to the DLQ.
    pub fn take_exhausted(&mut self, seqs: &[u64], muts: &mut Vec<Mutation>) -> Vec<Message> {
        let mut out = Vec::new();
        for &seq in seqs {
            if let Some(m) = self.unindex(seq) {
                muts.push(Mutation::DeleteMessage { queue: self.record.id, seq });
                out.push(m);
            }
        }
        out
    }

    /// A receive. Returns the delivered messages and the ones to dead-letter (already
    /// removed from this queue when `dead_letter` is true).
    pub fn receive(
        &mut self,
        now: u64,
        max: usize,
        visibility_ms: u64,
        attempt_id: Option<&str>,
        dead_letter: bool,
        muts: &mut Vec<Mutation>,
    ) -> (Vec<Received>, Vec<Message>) {
        self.expire(now, muts);
        if let Some(again) = attempt_id.and_then(|id| self.retry_attempt(id, now, visibility_ms, muts)) {
            return (again, Vec::new());
        }
        let redrive_at = if dead_letter { self.redrive_policy().map(|p| p.max_receive_count) } else { None };
        self.promote(now);
        let (picked, dead) = self.pick(now, max, redrive_at);
        let dead = self.take_exhausted(&dead, muts);
        let mut out = Vec::with_capacity(picked.len());
        for seq in picked {
            self.set_visible_at(seq, now + visibility_ms);
            let Some(m) = self.messages.get_mut(&seq) else { continue };
            m.receive_count += 1;
            m.nonce += 1;
            m.first_receive_ms.get_or_insert(now);
            m.last_receive_ms = Some(now);
            muts.push(update_of(self.record.id, m));
            out.push(Received { message: m.clone() });
        }
        if let Some(id) = attempt_id {
            self.attempts.retain(|_, a| a.expires_ms > now);
            self.attempts.insert(
                id.to_string(),
                Attempt { expires_ms: now + ATTEMPT_WINDOW_MS, messages: out.iter().map(|r| (r.message.seq, r.message.nonce)).collect() },
            );
        }
        (out, dead)
    }

    /// A FIFO receive retried with the same ReceiveRequestAttemptId returns the same
    /// messages and handles, if none of them changed since.
    fn retry_attempt(&mut self, id: &str, now: u64, visibility_ms: u64, muts: &mut Vec<Mutation>) -> Option<Vec<Received>> {
        let attempt = self.attempts.get(id).filter(|a| a.expires_ms > now)?;
        let unchanged = attempt.messages.iter().all(|(seq, nonce)| self.messages.get(seq).map(|m| m.nonce == *nonce).unwrap_or(false));
        if !unchanged || attempt.messages.is_empty() {
            return None;
        }
        let seqs: Vec<u64> = attempt.messages.iter().map(|(s, _)| *s).collect();
        let mut out = Vec::new();
        for seq in seqs {
            self.set_visible_at(seq, now + visibility_ms);
            if let Some(m) = self.messages.get(&seq) {
                muts.push(update_of(self.record.id, m));
                out.push(Received { message: m.clone() });
            }
        }
        Some(out)
    }

    pub fn message(&self, seq: u64) -> Option<&Message> {
        self.messages.get(&seq)
    }

    /// Deletes a message by its receipt handle's (seq, nonce). `Ok(false)`: the handle has
    /// expired (FIFO only; standard queues accept any handle of a stored message).
    pub fn delete(&mut self, now: u64, seq: u64, nonce: u64, muts: &mut Vec<Mutation>) -> bool {
        let Some(m) = self.messages.get(&seq) else { return true };
        if self.record.fifo && (m.nonce != nonce || !m.in_flight(now)) {
            return false;
        }
        self.unindex(seq);
        muts.push(Mutation::DeleteMessage { queue: self.record.id, seq });
        true
    }

    /// Changes a received message's visibility. `Err(())`: no such message, or (FIFO) the
    /// handle is not the latest one. A message whose visibility timeout already ran out
    /// (and that was not received again) accepts its handle too, as on AWS: it becomes
    /// invisible again for `timeout_s`. `Ok(false)`: beyond the 12-hour limit counted from
    /// its receive.
    pub fn change_visibility(&mut self, now: u64, seq: u64, nonce: u64, timeout_s: u64, muts: &mut Vec<Mutation>) -> Result<bool, ()> {
        let Some(m) = self.messages.get(&seq) else { return Err(()) };
        let latest = m.nonce == nonce;
        if m.receive_count == 0 || (self.record.fifo && !latest) || (!m.in_flight(now) && !latest) {
            return Err(());
        }
        let since_receive = now.saturating_sub(m.last_receive_ms.unwrap_or(now));
        if since_receive + timeout_s * 1000 > 43_200_000 {
            return Ok(false);
        }
        self.set_visible_at(seq, now + timeout_s * 1000);
        if let Some(m) = self.messages.get(&seq) {
            muts.push(update_of(self.record.id, m));
        }
        Ok(true)
    }

    pub fn purge(&mut self, now: u64, muts: &mut Vec<Mutation>) {
        self.messages.clear();
        self.by_visibility.clear();
        self.ready.clear();
        // PurgeQueue also forgets the deduplication history (the store drops it too).
        self.dedup.clear();
        self.by_sent.clear();
        self.groups.clear();
        self.attempts.clear();
        self.last_purge_ms = Some(now);
        muts.push(Mutation::PurgeMessages(self.record.id));
    }

    /// Takes up to `max` visible messages out of the queue (message move tasks).
    pub fn take_visible(&mut self, now: u64, max: usize, muts: &mut Vec<Mutation>) -> Vec<Message> {
        self.promote(now);
        let seqs: Vec<u64> = self.ready.iter().take(max).copied().collect();
        self.take_exhausted(&seqs, muts)
    }
}

fn update_of(queue: u64, m: &Message) -> Mutation {
    Mutation::UpdateMessage {
        queue,
        seq: m.seq,
        visible_at_ms: m.visible_at_ms,
        receive_count: m.receive_count,
        first_receive_ms: m.first_receive_ms,
        last_receive_ms: m.last_receive_ms,
        nonce: m.nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::QueueKey;

    fn state(fifo: bool) -> QueueState {
        let key = QueueKey { account: "000000000000".into(), region: "us-east-1".into(), name: "q".into() };
        QueueState::new(Arc::new(QueueRecord { id: 1, key, fifo, attributes: Default::default(), tags: Default::default(), created_s: 0, modified_s: 0 }))
    }

    fn put(st: &mut QueueState, now: u64, body: &str, group: Option<&str>) {
        let new = NewMessage {
            body: Arc::from(body),
            attributes: Arc::new(Attributes::new()),
            md5_body: String::new(),
            md5_attributes: None,
            trace_header: None,
            md5_system: None,
            sender_id: String::new(),
            delay_ms: 0,
            group_id: group.map(str::to_string),
            dedup_id: Some(body.to_string()),
            carried: None,
            size: 0,
        };
        st.send(now, new, &mut Vec::new());
    }

    fn take(st: &mut QueueState, now: u64, max: usize, visibility_ms: u64) -> Vec<String> {
        st.receive(now, max, visibility_ms, None, false, &mut Vec::new()).0.into_iter().map(|r| r.message.body.to_string()).collect()
    }

    #[test]
    fn fifo_groups_in_order_of_availability() {
        let mut st = state(true);
        put(&mut st, 1_000, "a1", Some("A"));
        put(&mut st, 1_000, "a2", Some("A"));
        put(&mut st, 2_000, "b1", Some("B"));
        put(&mut st, 2_500, "c1", Some("C"));
        assert_eq!(take(&mut st, 3_000, 1, 10_000), ["a1"]);
        // A locked: B then C.
        assert_eq!(take(&mut st, 3_000, 10, 0), ["b1", "c1"]);
        // A visible again at 13 000, after B and C (visible again at 3 000, receive with
        // visibility 0) — those queued up first.
        assert_eq!(take(&mut st, 20_000, 10, 10_000), ["b1", "c1", "a1", "a2"]);
    }

    #[test]
    fn standard_oldest_visible_first() {
        let mut st = state(false);
        put(&mut st, 1_000, "old", None);
        assert_eq!(take(&mut st, 1_000, 1, 5_000), ["old"]);
        put(&mut st, 2_000, "new", None);
        assert_eq!(take(&mut st, 2_000, 10, 0), ["new"]);
        assert_eq!(take(&mut st, 7_000, 10, 0), ["old", "new"]);
    }
}
