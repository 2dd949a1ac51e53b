//! Step Functions ARNs: state machines (`…:stateMachine:<name>`, a version
//! `…:stateMachine:<name>:<n>`, an alias `…:stateMachine:<name>:<alias>`), executions
//! (`…:execution:<machine>:<name>`; EXPRESS `…:express:<machine>:<name>:<uuid>`) and
//! activities (`…:activity:<name>`), and the naming rules for them.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html>

/// `arn:aws:states:<region>:<account>:<kind>:<rest>` split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub kind: &'a str,
    pub rest: Vec<&'a str>,
}

pub fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.split(':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    if !partition.starts_with("aws") || parts.next()? != "states" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let kind = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if region.is_empty() || account.is_empty() || rest.is_empty() || rest.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(Arn { region, account, kind, rest })
}

pub fn machine(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

pub fn execution(region: &str, account: &str, machine: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
}

pub fn express_execution(region: &str, account: &str, machine: &str, name: &str, id: &str) -> String {
    format!("arn:aws:states:{region}:{account}:express:{machine}:{name}:{id}")
}

pub fn activity(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:activity:{name}")
}

/// AWS's naming rule for state machines, executions, activities and aliases: 1–80
/// characters, none of whitespace, `< > { } [ ]`, `? *`, `" # % \ ^ | ~ ` $ & , ; : /`
/// or control characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 80
        && !name.chars().any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        let a = parse("arn:aws:states:us-east-1:000000000000:stateMachine:m:3").expect("arn");
        assert_eq!((a.region, a.account, a.kind, a.rest), ("us-east-1", "000000000000", "stateMachine", vec!["m", "3"]));
        assert!(parse("arn:aws:lambda:us-east-1:0:function:f").is_none());
        assert!(valid_name("my-machine_1"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(81)));
    }
}
