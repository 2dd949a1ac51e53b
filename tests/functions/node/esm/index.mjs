// Node.js test function (ES module) for nimbus's Lambda integration tests.
// Handler: index.handler (async echo).

const ECHO_ENV = [
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_REGION',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  '_X_AMZN_TRACE_ID',
  'AWS_ENDPOINT_URL',
  'MY_VAR',
];

export const handler = async (event, context) => {
  const env = {};
  for (const name of ECHO_ENV) env[name] = process.env[name] ?? null;
  return {
    echo: event,
    style: 'esm',
    request_id: context.awsRequestId,
    function_arn: context.invokedFunctionArn,
    remaining_ms: context.getRemainingTimeInMillis(),
    env,
    pid: process.pid,
  };
};
