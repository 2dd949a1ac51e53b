//! Contributor Insights settings: UpdateContributorInsights, DescribeContributorInsights
//! and ListContributorInsights store and report whether insights are on for a table or a
//! GSI, in which mode, and the rule names AWS would create. nimbus computes no contributor
//! figures (there is no CloudWatch Contributor Insights in nimbus yet); the settings
//! survive restarts with the table definition.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/contributorinsights_HowItWorks.html>

use crate::api::{ContributorInsightsInput, ListContributorInsightsInput};
use crate::engine::Txn;
use crate::errors::{DdbError, DdbResult};
use crate::schema::{InsightsSettings, TableDef};
use crate::service::{table_name_of, DynamoDbService};
use crate::time::epoch_seconds;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const MODES: [&str; 2] = ["ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"];

/// The rule names: partition keys (and sort keys, where there is one) counted and
/// throttled, named after the table (or index) and when insights were turned on.
fn rules(def: &TableDef, index: &str, s: &InsightsSettings) -> Vec<String> {
    let (name, has_sort) = match def.gsis.iter().find(|g| g.name == index) {
        Some(g) => (format!("{}-{}", def.name, g.name), !g.key.range.is_empty()),
        None => (def.name.clone(), !def.key.range.is_empty()),
    };
    let kinds: &[&str] = if has_sort { &["PKC", "PKT", "SKC", "SKT"] } else { &["PKC", "PKT"] };
    kinds.iter().map(|k| format!("DynamoDBContributorInsights-{k}-{name}-{}", s.updated_ms)).collect()
}

fn status(s: Option<&InsightsSettings>) -> &'static str {
    if s.is_some_and(|s| s.enabled) { "ENABLED" } else { "DISABLED" }
}

/// The index named, which must be one of the table's GSIs ("" for the table).
fn index_key(def: &TableDef, index: Option<&str>) -> DdbResult<String> {
    match index {
        None => Ok(String::new()),
        Some(i) if def.gsis.iter().any(|g| g.name == i) => Ok(i.to_string()),
        Some(i) => Err(DdbError::ResourceNotFound(format!("Requested resource not found: Index: {i} not found for table: {}", def.name))),
    }
}

impl DynamoDbService {
    pub(crate) async fn update_contributor_insights(&self, ctx: &RequestContext, input: ContributorInsightsInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        let enable = match input.contributor_insights_action.as_deref() {
            Some("ENABLE") => true,
            Some("DISABLE") => false,
            other => {
                return Err(DdbError::validation(format!(
                    "1 validation error detected: Value {} at 'contributorInsightsAction' failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]",
                    other.map_or("null".to_string(), |o| format!("'{o}'"))
                )))
            }
        };
        let mode = input.contributor_insights_mode.clone().unwrap_or_else(|| MODES[0].to_string());
        if !MODES.contains(&mode.as_str()) {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{mode}' at 'contributorInsightsMode' failed to satisfy constraint: Member must satisfy enum value set: [ACCESSED_AND_THROTTLED_KEYS, THROTTLED_KEYS]"
            )));
        }
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let mut txn = Txn::default();
        let out = {
            let mut st = table.state.lock();
            let key = index_key(&st.def, input.index_name.as_deref())?;
            st.def.insights.insert(key, InsightsSettings { enabled: enable, mode: mode.clone(), updated_ms: self.engine.clock.now_ms() });
            self.engine.put_def(&st, &mut txn);
            let mut out = json!({
                "TableName": st.def.name,
                "ContributorInsightsStatus": if enable { "ENABLING" } else { "DISABLING" },
                "ContributorInsightsMode": mode,
            });
            if let Some(i) = &input.index_name {
                out["IndexName"] = json!(i);
            }
            out
        };
        self.engine.submit(txn).wait().await?;
        Ok(out)
    }

    pub(crate) fn describe_contributor_insights(&self, ctx: &RequestContext, input: ContributorInsightsInput) -> DdbResult<Value> {
        let name = table_name_of(&input.table_name)?;
        let table = self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
        let st = table.state.lock();
        let key = index_key(&st.def, input.index_name.as_deref())?;
        let settings = st.def.insights.get(&key);
        let mut out = json!({ "TableName": st.def.name, "ContributorInsightsStatus": status(settings) });
        if let Some(i) = &input.index_name {
            out["IndexName"] = json!(i);
        }
        if let Some(s) = settings {
            out["LastUpdateDateTime"] = epoch_seconds(s.updated_ms);
            out["ContributorInsightsMode"] = json!(s.mode);
            if s.enabled {
                out["ContributorInsightsRuleList"] = json!(rules(&st.def, &key, s));
            }
        }
        Ok(out)
    }

    pub(crate) fn list_contributor_insights(&self, ctx: &RequestContext, input: ListContributorInsightsInput) -> DdbResult<Value> {
        let max = input.max_results.unwrap_or(100);
        if max > 100 {
            return Err(DdbError::validation(format!(
                "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
            )));
        }
        let names = match input.table_name.as_deref() {
            Some(t) => {
                let name = table_name_of(t)?;
                self.engine.table(&ctx.account_id, &ctx.region, name).ok_or_else(|| DdbError::table_not_found_named(name))?;
                vec![name.to_string()]
            }
            None => self.engine.table_names(&ctx.account_id, &ctx.region),
        };
        let mut all = Vec::new();
        for name in names {
            let Some(table) = self.engine.table(&ctx.account_id, &ctx.region, &name) else { continue };
            let st = table.state.lock();
            for key in std::iter::once(String::new()).chain(st.def.gsis.iter().map(|g| g.name.clone())) {
                let settings = st.def.insights.get(&key);
                let mut v = json!({ "TableName": st.def.name, "ContributorInsightsStatus": status(settings) });
                if !key.is_empty() {
                    v["IndexName"] = json!(key);
                }
                if let Some(s) = settings {
                    v["ContributorInsightsMode"] = json!(s.mode);
                }
                all.push(v);
            }
        }
        let start: usize = input.next_token.as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
        let take = if max <= 0 { 100 } else { max as usize };
        let page: Vec<Value> = all.iter().skip(start).take(take).cloned().collect();
        let mut out = json!({ "ContributorInsightsSummaries": page });
        if all.len() > start + take {
            out["NextToken"] = json!((start + take).to_string());
        }
        Ok(out)
    }
}
