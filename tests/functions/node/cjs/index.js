// Node.js test function (CommonJS) for nimbus's Lambda integration tests.
// Handlers: index.handler (async echo), index.callback (callback-style echo), index.fail,
// index.proxy (an API Gateway proxy response: 200 with the event as its JSON body).

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

function echoBody(event, context, style) {
  const env = {};
  for (const name of ECHO_ENV) env[name] = process.env[name] ?? null;
  return {
    echo: event,
    style,
    request_id: context.awsRequestId,
    function_arn: context.invokedFunctionArn,
    function_name: context.functionName,
    memory_limit_in_mb: context.memoryLimitInMB,
    remaining_ms: context.getRemainingTimeInMillis(),
    env,
    pid: process.pid,
  };
}

exports.handler = async (event, context) => echoBody(event, context, 'async');

exports.callback = (event, context, callback) => {
  // A pending timer: the runtime must wait for the empty event loop before replying.
  setTimeout(() => {}, 20);
  callback(null, echoBody(event, context, 'callback'));
};

exports.fail = async (event) => {
  throw new Error((event && event.message) || 'failed on purpose');
};

exports.proxy = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(event),
});
