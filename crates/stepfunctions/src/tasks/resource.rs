//! What a Task state's `Resource` ARN names: an optimized integration
//! (`arn:aws:states:::sqs:sendMessage`), an AWS SDK integration
//! (`arn:aws:states:::aws-sdk:<service>:<action>`) or a Lambda function by ARN, with the
//! integration pattern its suffix asks for — parsed once, checked against what nimbus runs
//! (CreateStateMachine's validation).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>

use super::Pattern;

/// The optimized integrations nimbus runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimized {
    /// `lambda:invoke`
    LambdaInvoke,
    /// `dynamodb:getItem|putItem|updateItem|deleteItem`
    DynamoDb,
    /// `sqs:sendMessage`
    SqsSendMessage,
    /// `sns:publish`
    SnsPublish,
    /// `events:putEvents`
    EventsPutEvents,
    /// `states:startExecution`
    StatesStartExecution,
    /// `apigateway:invoke` (HTTP APIs)
    ApiGatewayInvoke,
}

impl Optimized {
    /// The patterns AWS documents for the integration.
    fn patterns(self) -> &'static [Pattern] {
        use Pattern::*;
        match self {
            Optimized::DynamoDb => &[RequestResponse],
            Optimized::StatesStartExecution => &[RequestResponse, Sync, Sync2, WaitForTaskToken],
            _ => &[RequestResponse, WaitForTaskToken],
        }
    }
}

/// One AWS SDK integration service: the name in the ARN, the signing name nimbus
/// registers the service under, and the service name AWS puts in front of error names
/// (`<ServiceName>.<ErrorName>`, Pascal case, as the AWS SDK for Java 2.x names the
/// service's client: `DynamoDb`, `Sfn`, `SecretsManager`, `AcmPca`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkService {
    pub arn_name: &'static str,
    pub signing_name: &'static str,
    pub error_prefix: &'static str,
}

/// The AWS SDK integrations of the services nimbus implements.
pub const SDK_SERVICES: &[SdkService] = &[
    SdkService { arn_name: "sqs", signing_name: "sqs", error_prefix: "Sqs" },
    SdkService { arn_name: "sns", signing_name: "sns", error_prefix: "Sns" },
    SdkService { arn_name: "lambda", signing_name: "lambda", error_prefix: "Lambda" },
    SdkService { arn_name: "dynamodb", signing_name: "dynamodb", error_prefix: "DynamoDb" },
    SdkService { arn_name: "dynamodbstreams", signing_name: "dynamodbstreams", error_prefix: "DynamoDbStreams" },
    SdkService { arn_name: "eventbridge", signing_name: "events", error_prefix: "EventBridge" },
    SdkService { arn_name: "s3", signing_name: "s3", error_prefix: "S3" },
    SdkService { arn_name: "kms", signing_name: "kms", error_prefix: "Kms" },
    SdkService { arn_name: "secretsmanager", signing_name: "secretsmanager", error_prefix: "SecretsManager" },
    SdkService { arn_name: "ssm", signing_name: "ssm", error_prefix: "Ssm" },
    SdkService { arn_name: "iam", signing_name: "iam", error_prefix: "Iam" },
    SdkService { arn_name: "sts", signing_name: "sts", error_prefix: "Sts" },
    SdkService { arn_name: "cloudwatchlogs", signing_name: "logs", error_prefix: "CloudWatchLogs" },
    SdkService { arn_name: "cloudwatch", signing_name: "monitoring", error_prefix: "CloudWatch" },
    SdkService { arn_name: "xray", signing_name: "xray", error_prefix: "XRay" },
    SdkService { arn_name: "apigatewayv2", signing_name: "apigateway", error_prefix: "ApiGatewayV2" },
    SdkService { arn_name: "kinesis", signing_name: "kinesis", error_prefix: "Kinesis" },
    SdkService { arn_name: "sfn", signing_name: "states", error_prefix: "Sfn" },
];

/// Optimized integrations AWS has and nimbus does not run (refused by name rather than
/// as unknown).
const OPTIMIZED_NOT_IN_NIMBUS: &[&str] = &[
    "athena", "batch", "bedrock", "codebuild", "databrew", "ecs", "eks", "elasticmapreduce",
    "emr-containers", "emr-serverless", "glue", "http", "mediaconvert", "sagemaker",
];

/// What the resource calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An optimized integration; `action` as written (`putItem`).
    Optimized { integration: Optimized, action: String },
    /// An AWS SDK integration; `action` as written (`getObject`), `operation` as the
    /// service's model names it (`GetObject`).
    AwsSdk { service: SdkService, action: String, operation: String },
    /// A Lambda function (or version / alias) by ARN: the state's input is the payload.
    Function { arn: String },
}

/// A parsed `Resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub target: Target,
    pub pattern: Pattern,
}

/// Why a resource is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceError {
    /// Not a resource AWS knows (AWS's SCHEMA_VALIDATION_FAILED wording).
    NotRecognized(String),
    /// A resource AWS knows that nimbus does not run.
    NotSupported(String),
}

impl std::fmt::Display for ResourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResourceError::NotRecognized(r) => {
                write!(f, "The resource provided {r} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.")
            }
            ResourceError::NotSupported(r) => write!(f, "The resource provided {r} is not supported by nimbus."),
        }
    }
}

/// Parses a Task state's `Resource` (activities are the engine's and are not parsed here).
pub fn parse(resource: &str) -> Result<Resource, ResourceError> {
    let not_recognized = || ResourceError::NotRecognized(resource.to_string());
    let (pattern, base) = Pattern::of(resource);
    let parts: Vec<&str> = base.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" || !parts[1].starts_with("aws") {
        return Err(not_recognized());
    }
    match parts[2] {
        "lambda" if parts[5] == "function" && (7..=8).contains(&parts.len()) && !parts[6].is_empty() => {
            // A bare function ARN answers with the function's result: no suffixes.
            if pattern != Pattern::RequestResponse {
                return Err(not_recognized());
            }
            Ok(Resource { target: Target::Function { arn: base.to_string() }, pattern })
        }
        "states" if parts[3].is_empty() && parts[4].is_empty() => {
            let target = match parts[5] {
                "aws-sdk" if parts.len() == 8 => sdk_target(parts[6], parts[7]).ok_or_else(not_recognized)?,
                service if parts.len() == 7 => match optimized(service, parts[6]) {
                    Some(integration) => Target::Optimized { integration, action: parts[6].to_string() },
                    None if OPTIMIZED_NOT_IN_NIMBUS.contains(&service) => return Err(ResourceError::NotSupported(resource.to_string())),
                    None => return Err(not_recognized()),
                },
                _ => return Err(not_recognized()),
            };
            let allowed = match &target {
                Target::Optimized { integration, .. } => integration.patterns(),
                // AWS SDK integrations: request-response and the callback pattern.
                _ => &[Pattern::RequestResponse, Pattern::WaitForTaskToken],
            };
            if !allowed.contains(&pattern) {
                return Err(not_recognized());
            }
            Ok(Resource { target, pattern })
        }
        _ => Err(not_recognized()),
    }
}

fn optimized(service: &str, action: &str) -> Option<Optimized> {
    Some(match (service, action) {
        ("lambda", "invoke") => Optimized::LambdaInvoke,
        ("dynamodb", "getItem" | "putItem" | "updateItem" | "deleteItem") => Optimized::DynamoDb,
        ("sqs", "sendMessage") => Optimized::SqsSendMessage,
        ("sns", "publish") => Optimized::SnsPublish,
        ("events", "putEvents") => Optimized::EventsPutEvents,
        ("states", "startExecution") => Optimized::StatesStartExecution,
        ("apigateway", "invoke") => Optimized::ApiGatewayInvoke,
        _ => return None,
    })
}

fn sdk_target(service: &str, action: &str) -> Option<Target> {
    let service = *SDK_SERVICES.iter().find(|s| s.arn_name == service)?;
    let mut chars = action.chars();
    let first = chars.next()?;
    // Actions are written in camelCase (`getObject`); the model names operations in PascalCase.
    if !first.is_ascii_lowercase() || !action.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let operation = first.to_ascii_uppercase().to_string() + chars.as_str();
    Some(Target::AwsSdk { service, action: action.to_string(), operation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(r: &str) -> Target {
        parse(r).unwrap().target
    }

    #[test]
    fn optimized_integrations_and_their_patterns() {
        assert_eq!(target("arn:aws:states:::lambda:invoke"), Target::Optimized { integration: Optimized::LambdaInvoke, action: "invoke".into() });
        assert_eq!(parse("arn:aws:states:::lambda:invoke.waitForTaskToken").unwrap().pattern, Pattern::WaitForTaskToken);
        assert_eq!(target("arn:aws:states:::dynamodb:updateItem"), Target::Optimized { integration: Optimized::DynamoDb, action: "updateItem".into() });
        assert_eq!(parse("arn:aws:states:::states:startExecution.sync:2").unwrap().pattern, Pattern::Sync2);
        assert_eq!(parse("arn:aws:states:::events:putEvents.waitForTaskToken").unwrap().pattern, Pattern::WaitForTaskToken);
        // DynamoDB has request-response only; Lambda has no `.sync`.
        assert!(matches!(parse("arn:aws:states:::dynamodb:putItem.waitForTaskToken"), Err(ResourceError::NotRecognized(_))));
        assert!(matches!(parse("arn:aws:states:::lambda:invoke.sync"), Err(ResourceError::NotRecognized(_))));
        assert!(matches!(parse("arn:aws:states:::sqs:receiveMessage"), Err(ResourceError::NotRecognized(_))));
        assert!(matches!(parse("arn:aws:states:::dynamodb:query"), Err(ResourceError::NotRecognized(_))));
    }

    #[test]
    fn aws_sdk_services_map_to_signing_names_and_operations() {
        match target("arn:aws:states:::aws-sdk:cloudwatchlogs:describeLogGroups") {
            Target::AwsSdk { service, operation, .. } => {
                assert_eq!(service.signing_name, "logs");
                assert_eq!(service.error_prefix, "CloudWatchLogs");
                assert_eq!(operation, "DescribeLogGroups");
            }
            other => panic!("{other:?}"),
        }
        match target("arn:aws:states:::aws-sdk:sfn:startExecution.waitForTaskToken") {
            Target::AwsSdk { service, operation, .. } => assert_eq!((service.signing_name, operation.as_str()), ("states", "StartExecution")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("arn:aws:states:::aws-sdk:ec2:describeInstances"), Err(ResourceError::NotRecognized(_))));
        assert!(matches!(parse("arn:aws:states:::aws-sdk:s3:getObject.sync"), Err(ResourceError::NotRecognized(_))));
        assert!(matches!(parse("arn:aws:states:::aws-sdk:s3:GetObject"), Err(ResourceError::NotRecognized(_))));
    }

    #[test]
    fn function_arns_with_and_without_qualifier() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:Hello";
        assert_eq!(target(arn), Target::Function { arn: arn.into() });
        assert_eq!(target(&format!("{arn}:prod")), Target::Function { arn: format!("{arn}:prod") });
        assert!(parse(&format!("{arn}.waitForTaskToken")).is_err());
        assert!(parse("arn:aws:lambda:us-east-1:123456789012:layer:x").is_err());
    }

    #[test]
    fn refusals_word_the_reason() {
        assert_eq!(target("arn:aws:states:::apigateway:invoke"), Target::Optimized { integration: Optimized::ApiGatewayInvoke, action: "invoke".into() });
        let e = parse("arn:aws:states:::ecs:runTask.sync").unwrap_err();
        assert_eq!(e.to_string(), "The resource provided arn:aws:states:::ecs:runTask.sync is not supported by nimbus.");
        let e = parse("arn:aws:states:::nope:x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "The resource provided arn:aws:states:::nope:x is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
        );
        assert!(parse("not-an-arn").is_err());
    }
}
