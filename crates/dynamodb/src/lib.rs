//! Amazon DynamoDB and DynamoDB Streams for nimbus (being written).
