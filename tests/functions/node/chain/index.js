// The trace-chain test's DynamoDB-stream function (tests/tests/it/trace_chain.rs): logs
// the trace it runs in (`TRACE <_X_AMZN_TRACE_ID>`) and publishes each record's new image
// to CHAIN_TOPIC_ARN with the AWS SDK for JavaScript v3 (@aws-sdk/client-sns, installed
// next to this file by the test: nimbus bundles no Node.js SDK). Nothing here passes the
// trace on: the SDK's recursion-detection middleware adds X-Amzn-Trace-Id from
// _X_AMZN_TRACE_ID inside a Lambda function, as on AWS.
const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');

const sns = new SNSClient({});

exports.handler = async (event) => {
  console.log('TRACE ' + (process.env._X_AMZN_TRACE_ID || ''));
  for (const r of event.Records || []) {
    await sns.send(new PublishCommand({ TopicArn: process.env.CHAIN_TOPIC_ARN, Message: JSON.stringify(r.dynamodb.NewImage) }));
  }
  return {};
};
