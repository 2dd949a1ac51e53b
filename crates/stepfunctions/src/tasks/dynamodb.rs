//! DynamoDB from a Task state: `arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem`
//! (request-response only). The result is the API's answer with its SDK metadata; the
//! service's errors are `DynamoDB.<ErrorCode>` (`DynamoDB.ConditionalCheckFailedException`).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html>

use super::resource::Optimized;
use super::runner::{only, Integrations};
use super::shapes::pascal_case;
use super::{TaskRequest, TaskResult};
use serde_json::Value;

/// The parameters each API takes through the integration.
fn parameters(action: &str) -> &'static [&'static str] {
    const COMMON: [&str; 7] = ["Key", "TableName", "ConditionalOperator", "ConditionExpression", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues"];
    match action {
        "getItem" => &["Key", "TableName", "AttributesToGet", "ConsistentRead", "ExpressionAttributeNames", "ProjectionExpression", "ReturnConsumedCapacity"],
        "putItem" => &[
            "Item", "TableName", "ConditionalOperator", "ConditionExpression", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues",
            "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure",
        ],
        "deleteItem" => &[
            COMMON[0], COMMON[1], COMMON[2], COMMON[3], COMMON[4], COMMON[5], COMMON[6],
            "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure",
        ],
        _ => &[
            COMMON[0], COMMON[1], COMMON[2], COMMON[3], COMMON[4], COMMON[5], COMMON[6],
            "AttributeUpdates", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "UpdateExpression",
        ],
    }
}

pub async fn run(runner: &Integrations, req: &TaskRequest, action: &str) -> TaskResult {
    let params = only(req.arguments.clone(), parameters(action));
    match runner.optimized_call(req, Optimized::DynamoDb, "dynamodb", &pascal_case(action), params).await {
        Ok(out) => TaskResult::Output(Value::Object(out)),
        Err(failed) => failed,
    }
}
