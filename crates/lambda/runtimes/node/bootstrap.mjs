// nimbus's bootstrap for Node.js functions.
//
// nimbus starts it as an execution environment's process (`node bootstrap.mjs`, working
// directory = LAMBDA_TASK_ROOT). It speaks the Lambda Runtime API at
// AWS_LAMBDA_RUNTIME_API: loads the handler named by _HANDLER once (CommonJS or ES
// module), reporting a failure to /init/error, then runs invocations one at a time —
// async handlers and callback-style ones — posting each result or error. Built-in
// modules only.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const BASE = '/2018-06-01/runtime';
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: BASE + p, method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

class InitError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// Paths in the function's package appear under /var/task, as on Lambda.
const taskRoot = (() => {
  try {
    return fs.realpathSync(process.env.LAMBDA_TASK_ROOT || process.cwd());
  } catch {
    return process.env.LAMBDA_TASK_ROOT || process.cwd();
  }
})();
const lambdaPaths = (text) => text.split(`file://${taskRoot}/`).join('file:///var/task/').split(`${taskRoot}/`).join('/var/task/');

function errorDocument(err, type) {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err));
  return {
    errorType: type || e.name || 'Error',
    errorMessage: e.message,
    trace: lambdaPaths(e.stack || '').split('\n'),
  };
}

// Lambda's console format: timestamp, request id, level, message.
let currentRequestId;
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  const stream = level === 'WARN' || level === 'ERROR' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    const text = util.format(...args).replace(/\n/g, '\r');
    stream.write(`${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${text}\n`);
  };
}

function packageIsModule(dir, root) {
  for (let d = dir; d.startsWith(root); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (d === root) break;
  }
  return false;
}

async function loadHandler(spec, root) {
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0) throw new InitError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  const modulePath = spec.slice(0, dot);
  const functionPath = spec.slice(dot + 1).split('.');
  const base = path.resolve(root, modulePath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
  let mod;
  try {
    const esm = file.endsWith('.mjs') || (file.endsWith('.js') && packageIsModule(path.dirname(file), root));
    mod = esm ? await import(pathToFileURL(file).href) : createRequire(file)(file);
  } catch (e) {
    if (e instanceof SyntaxError) throw new InitError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`);
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) throw new InitError('Runtime.ImportModuleError', `Error: ${e.message}`);
    throw e;
  }
  let fn = mod;
  for (const part of functionPath) fn = fn == null ? undefined : fn[part];
  if (typeof fn !== 'function') throw new InitError('Runtime.HandlerNotFound', `${modulePath}.${functionPath.join('.')} is undefined or not exported`);
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const parse = (v) => {
    try {
      return v ? JSON.parse(v) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers['lambda-runtime-cognito-identity']),
    clientContext: parse(headers['lambda-runtime-client-context']),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// Runs a handler of either style; settles with its result or its error.
function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    context.succeed = (r) => settle(null, r);
    context.fail = (e) => settle(e ?? new Error('handled'));
    context.done = (e, r) => settle(e, r);
    try {
      const out = handler(event, context, settle);
      if (out && typeof out.then === 'function') out.then((r) => settle(null, r), (e) => settle(e ?? new Error('rejected')));
      else if (handler.length < 3) settle(null, out);
    } catch (e) {
      settle(e);
    }
  });
}

async function main() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '', root);
  } catch (e) {
    const doc = errorDocument(e, e instanceof InitError ? e.type : undefined);
    console.error(`${doc.errorType}: ${doc.errorMessage}`);
    await call('POST', '/init/error', JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) process.exit(0);
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    // Per invocation, as Lambda's Node.js runtime does: the SDKs inside the function
    // (JS SDK v3's recursion-detection middleware, the X-Ray SDK) read the trace from it.
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
      const result = await runHandler(handler, event, makeContext(next.headers));
      const payload = result === undefined ? 'null' : JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      await call('POST', `/invocation/${id}/response`, payload, { 'Content-Type': 'application/json' });
    } catch (e) {
      const doc = errorDocument(e);
      console.error(`Invoke Error \t${JSON.stringify(doc)}`);
      await call('POST', `/invocation/${id}/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    }
    currentRequestId = undefined;
  }
}

process.on('unhandledRejection', (reason) => {
  console.error('Unhandled Promise Rejection', reason);
  process.exit(128);
});

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
