//! The catalogue of AWS managed policies (`arn:aws:iam::aws:policy/…`) users attach by
//! ARN, with their documents (`data/aws-managed-policies.json`, whose `source` names
//! where they come from). A managed policy that is not in the catalogue is answered as
//! AWS answers an unknown one: it does not exist.

use crate::entities::{ManagedPolicy, PolicyVersion};
use nimbus_core::time::parse_iso8601;
use serde::Deserialize;
use std::sync::OnceLock;

const CATALOGUE: &str = include_str!("../data/aws-managed-policies.json");

#[derive(Deserialize)]
struct Catalogue {
    policies: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    path: String,
    version: String,
    created: String,
    updated: String,
    document: serde_json::Value,
}

pub const AWS_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy";

/// A stable id for a catalogue entry (AWS's ids are not published with the documents).
fn policy_id(name: &str) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::from("ANPA");
    for round in 0..17u64 {
        for b in name.bytes().chain(round.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push(BASE32[(h % 32) as usize] as char);
    }
    out
}

/// Every catalogue policy, as a managed policy with one (default) version.
pub fn catalogue() -> &'static [ManagedPolicy] {
    static ALL: OnceLock<Vec<ManagedPolicy>> = OnceLock::new();
    ALL.get_or_init(|| {
        let parsed: Catalogue = serde_json::from_str(CATALOGUE).expect("the vendored managed-policy catalogue parses");
        parsed
            .policies
            .into_iter()
            .map(|e| {
                let created = parse_iso8601(&e.created).unwrap_or(0);
                let updated = parse_iso8601(&e.updated).unwrap_or(created);
                ManagedPolicy {
                    arn: format!("{AWS_POLICY_PREFIX}{}{}", e.path, e.name),
                    id: policy_id(&e.name),
                    name: e.name,
                    path: e.path,
                    description: None,
                    created_ms: created,
                    updated_ms: updated,
                    default_version: e.version.clone(),
                    versions: vec![PolicyVersion { id: e.version, document: serde_json::to_string_pretty(&e.document).unwrap_or_default(), created_ms: updated }],
                    next_version: 0,
                    tags: Vec::new(),
                }
            })
            .collect()
    })
}

pub fn is_aws_managed(arn: &str) -> bool {
    arn.starts_with("arn:aws:iam::aws:policy/")
}

pub fn find(arn: &str) -> Option<&'static ManagedPolicy> {
    catalogue().iter().find(|p| p.arn == arn)
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogue_loads_with_lambda_roles() {
        let p = super::find("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").unwrap();
        assert!(p.default_document().contains("logs:PutLogEvents"));
        assert!(super::find("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert_eq!(p.id.len(), 21);
    }
}
