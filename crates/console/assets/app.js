// nimbus console: one script, no framework, no build step. Every page reads nimbus through
// the console's JSON endpoint (POST /_nimbus/console/api/<service>/<Operation>, reads only)
// and the trace view (GET /_nimbus/console/trace/<id>). Hash routes: #/queues, #/trace/<id>…
'use strict';

const BASE = '/_nimbus/console';
const LIVE_MS = 2000;
const PAGE = 50;

let region = localStorage.getItem('nimbus.region') || 'us-east-1';
let generation = 0;       // bumped on every navigation: stale async work checks it
let liveTimer = null;

// ---------- small helpers ----------

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

async function aws(service, op, input) {
  const r = await fetch(`${BASE}/api/${service}/${op}?region=${encodeURIComponent(region)}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input || {}),
  });
  let body = {};
  try { body = await r.json(); } catch (_) { /* empty */ }
  if (!r.ok) {
    const e = new Error(`${service}:${op}: ${body.__type || r.status}: ${body.message || ''}`);
    e.code = body.__type; e.status = r.status;
    throw e;
  }
  return body;
}

// Every item of a paginated list (at most `max` pages).
async function all(service, op, input, listKey, tokenIn, tokenOut, max = 20) {
  const out = [];
  let token;
  for (let i = 0; i < max; i++) {
    const page = await aws(service, op, token ? { ...input, [tokenIn]: token } : input);
    out.push(...(page[listKey] || []));
    token = page[tokenOut || tokenIn];
    if (!token) break;
  }
  return out;
}

const lastPart = (s) => String(s || '').split(/[:/]/).pop();
const num = (n) => (n === undefined || n === null || n === '' ? '—' : Number(n).toLocaleString('en-US'));
const pad = (n, w = 2) => String(n).padStart(w, '0');
function clock(sec, ms) {
  const d = new Date(sec * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` + (ms ? `.${pad(d.getMilliseconds(), 3)}` : '');
}
function when(sec) {
  if (!sec) return '—';
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(sec)}`;
}
function ago(sec) {
  const s = Math.max(0, Date.now() / 1000 - sec);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
function dur(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}
const pill = (text, kind) => el('span', { class: `pill ${kind || text}` }, text);
const numCell = (v, cls) => el('td', { class: `num ${cls}${Number(v) === 0 ? ' zero' : ''}` }, num(v));
const panel = (title, sub, ...body) => el('section', { class: 'panel' }, el('h2', {}, title, sub ? el('small', {}, sub) : null), ...body);
const empty = (text) => el('div', { class: 'empty' }, text);
const errBox = (e) => el('div', { class: 'err-box' }, String(e.message || e));

function table(headers, rows) {
  return el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { class: h.startsWith('#') ? 'num' : '' }, h.replace(/^#/, ''))))),
    el('tbody', {}, rows));
}

function status(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'status bad' : 'status';
}

// A pager over a list held in memory: only PAGE rows are ever rendered.
function pager(total, page, go) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  return el('div', { class: 'pager' },
    el('span', { class: 'grow' }, total ? `${page * PAGE + 1}–${Math.min(total, (page + 1) * PAGE)} of ${num(total)}` : ''),
    el('button', { onclick: () => go(page - 1), disabled: page <= 0 }, '‹ Prev'),
    el('span', {}, `${page + 1} / ${pages}`),
    el('button', { onclick: () => go(page + 1), disabled: page + 1 >= pages }, 'Next ›'));
}

// Runs `fn` now and then every LIVE_MS while the page is shown and the tab visible.
function live(fn) {
  const g = generation;
  document.getElementById('live').classList.add('on');
  const tick = async () => {
    if (g !== generation) return;
    if (!document.hidden) {
      try { await fn(); status(`updated ${clock(Date.now() / 1000)}`); } catch (e) { status(String(e.message || e), true); }
    }
    if (g === generation) liveTimer = setTimeout(tick, LIVE_MS);
  };
  return tick();
}

// ---------- routing ----------

const PAGES = {};
const TITLES = {
  overview: 'Overview', traces: 'Traces', trace: 'Trace', logs: 'Logs', metrics: 'Metrics', alarms: 'Alarms',
  queues: 'SQS queues', functions: 'Lambda functions', tables: 'DynamoDB tables', topics: 'SNS topics',
  apis: 'API Gateway APIs', rules: 'EventBridge rules',
};

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, q] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', arg: parts[1], params: new URLSearchParams(q || '') };
}

function setHashParams(page, params) {
  const q = params.toString();
  history.replaceState(null, '', `#/${page}${q ? '?' + q : ''}`);
}

async function route() {
  generation++;
  clearTimeout(liveTimer);
  document.getElementById('live').classList.remove('on');
  status('');
  const { page, arg, params } = parseHash();
  const fn = PAGES[page] || PAGES.overview;
  document.getElementById('title').textContent = TITLES[page] || 'Overview';
  document.title = `${TITLES[page] || 'Overview'} · nimbus console`;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('on', a.dataset.page === page || (page === 'trace' && a.dataset.page === 'traces'));
  }
  const root = document.getElementById('page');
  root.replaceChildren();
  try {
    await fn(root, params, arg, generation);
  } catch (e) {
    root.append(errBox(e));
  }
}

// ---------- overview ----------

PAGES.overview = async (root, params, arg, g) => {
  const cards = el('div', { class: 'cards' });
  root.append(cards);
  const specs = [
    ['Queues', '#/queues', async () => {
      const urls = await all('sqs', 'ListQueues', { MaxResults: 1000 }, 'QueueUrls', 'NextToken');
      return [urls.length, ''];
    }],
    ['Functions', '#/functions', async () => [(await all('lambda', 'ListFunctions', {}, 'Functions', 'Marker', 'NextMarker')).length, '']],
    ['Tables', '#/tables', async () => [(await all('dynamodb', 'ListTables', {}, 'TableNames', 'ExclusiveStartTableName', 'LastEvaluatedTableName')).length, '']],
    ['Topics', '#/topics', async () => {
      const subs = await all('sns', 'ListSubscriptions', {}, 'Subscriptions', 'NextToken');
      return [(await all('sns', 'ListTopics', {}, 'Topics', 'NextToken')).length, `${subs.length} subscriptions`];
    }],
    ['APIs', '#/apis', async () => [(await all('apigateway', 'GetApis', {}, 'Items', 'NextToken')).length, '']],
    ['Rules', '#/rules', async () => {
      const buses = await all('events', 'ListEventBuses', {}, 'EventBuses', 'NextToken');
      let n = 0;
      for (const b of buses) n += (await all('events', 'ListRules', { EventBusName: b.Name }, 'Rules', 'NextToken')).length;
      return [n, `${buses.length} bus${buses.length === 1 ? '' : 'es'}`];
    }],
    ['Alarms', '#/alarms', async () => {
      const a = await aws('monitoring', 'DescribeAlarms', { MaxRecords: 100 });
      const list = [...(a.MetricAlarms || []), ...(a.CompositeAlarms || [])];
      const firing = list.filter((x) => x.StateValue === 'ALARM').length;
      return [list.length, firing ? `${firing} in ALARM` : 'none in ALARM'];
    }],
    ['Log groups', '#/logs', async () => [(await all('logs', 'DescribeLogGroups', {}, 'logGroups', 'nextToken')).length, '']],
    ['Traces, last 15 min', '#/traces', async () => {
      const now = Date.now() / 1000;
      const r = await aws('xray', 'GetTraceSummaries', { StartTime: now - 900, EndTime: now });
      const t = r.TraceSummaries || [];
      const bad = t.filter((x) => x.HasError || x.HasFault).length;
      return [r.NextToken ? `${t.length}+` : t.length, bad ? `${bad}${r.NextToken ? '+' : ''} with errors` : 'no errors'];
    }],
  ];
  for (const [label, href, count] of specs) {
    const n = el('div', { class: 'n' }, '…');
    const x = el('div', { class: 'x' });
    cards.append(el('a', { class: 'card', href, 'data-card': label }, n, el('div', { class: 'l' }, label), x));
    count().then(([c, extra]) => { n.textContent = typeof c === 'string' ? c : num(c); x.textContent = extra; })
      .catch((e) => { n.textContent = '—'; x.textContent = e.status === 404 || e.status === 501 || /not supported/.test(e.message) ? 'not available' : 'error'; x.title = e.message; });
  }
  const recent = el('div', {});
  root.append(panel('Recent traces', 'newest first', recent));
  await live(async () => {
    const now = Date.now() / 1000;
    let rows;
    try {
      rows = (await aws('xray', 'GetTraceSummaries', { StartTime: now - 3600, EndTime: now })).TraceSummaries || [];
    } catch (e) {
      recent.replaceChildren(empty(`Traces are not available: ${e.message}`));
      return;
    }
    if (g !== generation) return;
    rows.sort((a, b) => traceStart(b) - traceStart(a));
    recent.replaceChildren(rows.length ? traceTable(rows.slice(0, 8)) : empty('No traces in the last hour.'));
  });
};

// ---------- SQS ----------

PAGES.queues = async (root, params, arg, g) => {
  const page = Number(params.get('page') || 0);
  const urls = (await all('sqs', 'ListQueues', { MaxResults: 1000 }, 'QueueUrls', 'NextToken')).sort((a, b) => lastPart(a).localeCompare(lastPart(b)));
  if (!urls.length) { root.append(panel('Queues', '', empty('No queues in this region.'))); return; }
  const shown = urls.slice(page * PAGE, (page + 1) * PAGE);
  const body = el('div', {});
  const go = (p) => { params.set('page', p); setHashParams('queues', params); route(); };
  root.append(panel('Queues', `${urls.length} queue${urls.length === 1 ? '' : 's'} · depths refresh every 2 s`, body, pager(urls.length, page, go)));
  await live(async () => {
    const attrs = await Promise.all(shown.map((QueueUrl) => aws('sqs', 'GetQueueAttributes', { QueueUrl, AttributeNames: ['All'] })
      .then((r) => r.Attributes || {}).catch(() => null)));
    if (g !== generation) return;
    const arnToName = {};
    const sources = {};
    shown.forEach((u, i) => {
      const a = attrs[i];
      if (!a) return;
      arnToName[a.QueueArn] = lastPart(u);
      if (a.RedrivePolicy) {
        try { const t = lastPart(JSON.parse(a.RedrivePolicy).deadLetterTargetArn); (sources[t] = sources[t] || []).push(lastPart(u)); } catch (_) { /* shown raw */ }
      }
    });
    const rows = shown.map((u, i) => {
      const name = lastPart(u);
      const a = attrs[i];
      if (!a) return el('tr', { 'data-queue': name }, el('td', { class: 'mono' }, name), el('td', { colspan: 6, class: 'muted' }, 'deleted'));
      let dlq = el('span', { class: 'muted' }, '—');
      if (a.RedrivePolicy) {
        try {
          const p = JSON.parse(a.RedrivePolicy);
          dlq = el('span', {}, el('span', { class: 'mono' }, lastPart(p.deadLetterTargetArn)), el('span', { class: 'muted' }, ` after ${p.maxReceiveCount} receives`));
        } catch (_) { dlq = el('span', { class: 'mono' }, a.RedrivePolicy); }
      }
      const dlqOf = sources[name] ? el('div', { class: 'sub' }, `dead-letter queue of ${sources[name].join(', ')}`) : null;
      return el('tr', { 'data-queue': name },
        el('td', {}, el('span', { class: 'mono' }, name), dlqOf),
        el('td', {}, a.FifoQueue === 'true' ? el('span', { class: 'tag' }, 'FIFO') : el('span', { class: 'tag' }, 'Standard')),
        numCell(a.ApproximateNumberOfMessages, 'visible'),
        numCell(a.ApproximateNumberOfMessagesNotVisible, 'inflight'),
        numCell(a.ApproximateNumberOfMessagesDelayed, 'delayed'),
        el('td', { class: 'dlq' }, dlq),
        el('td', { class: 'muted' }, a.CreatedTimestamp ? ago(Number(a.CreatedTimestamp)) : '—'));
    });
    body.replaceChildren(table(['Queue', 'Type', '#Visible', '#In flight', '#Delayed', 'Dead-letter queue', 'Created'], rows));
  });
};

// ---------- Lambda ----------

// Invocations and errors in the last hour: from AWS/Lambda metrics when nimbus has any,
// else counted from the functions' log groups (REPORT lines; error lines).
async function lambdaCounts(names) {
  const now = Math.floor(Date.now() / 1000);
  let haveMetrics = false;
  try { haveMetrics = ((await aws('monitoring', 'ListMetrics', { Namespace: 'AWS/Lambda' })).Metrics || []).length > 0; } catch (_) { /* none */ }
  const out = {};
  if (haveMetrics && names.length) {
    const queries = [];
    names.forEach((n, i) => {
      for (const [id, metric] of [[`i${i}`, 'Invocations'], [`e${i}`, 'Errors']]) {
        queries.push({ Id: id, MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: n }] }, Period: 60, Stat: 'Sum' } });
      }
    });
    const r = await aws('monitoring', 'GetMetricData', { MetricDataQueries: queries, StartTime: now - 3600, EndTime: now + 60 });
    const sums = {};
    for (const res of r.MetricDataResults || []) sums[res.Id] = (sums[res.Id] || 0) + (res.Values || []).reduce((a, b) => a + b, 0);
    names.forEach((n, i) => { out[n] = { invocations: sums[`i${i}`] || 0, errors: sums[`e${i}`] || 0, source: 'metrics' }; });
    return out;
  }
  await Promise.all(names.map(async (n) => {
    const group = `/aws/lambda/${n}`;
    const count = async (pattern) => {
      try { return (await all('logs', 'FilterLogEvents', { logGroupName: group, filterPattern: pattern, startTime: (now - 3600) * 1000 }, 'events', 'nextToken', 'nextToken', 10)).length; } catch (_) { return 0; }
    };
    out[n] = { invocations: await count('"REPORT RequestId"'), errors: (await count('"[ERROR]"')) + (await count('"Invoke Error"')) + (await count('"Status: timeout"')), source: 'logs' };
  }));
  return out;
}

PAGES.functions = async (root, params, arg, g) => {
  const page = Number(params.get('page') || 0);
  const fns = (await all('lambda', 'ListFunctions', {}, 'Functions', 'Marker', 'NextMarker')).sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
  if (!fns.length) { root.append(panel('Functions', '', empty('No functions in this region.'))); return; }
  const shown = fns.slice(page * PAGE, (page + 1) * PAGE);
  const body = el('div', {});
  const sub = el('small', {});
  const go = (p) => { params.set('page', p); setHashParams('functions', params); route(); };
  root.append(el('section', { class: 'panel' }, el('h2', {}, 'Functions', sub), body, pager(fns.length, page, go)));
  await live(async () => {
    const counts = await lambdaCounts(shown.map((f) => f.FunctionName));
    if (g !== generation) return;
    const src = Object.values(counts)[0]?.source;
    sub.textContent = `${fns.length} function${fns.length === 1 ? '' : 's'} · invocations and errors in the last hour, from ${src === 'metrics' ? 'CloudWatch AWS/Lambda metrics' : 'the function logs'}`;
    const rows = shown.map((f) => {
      const c = counts[f.FunctionName] || {};
      const name = f.FunctionName;
      const errors = numCell(c.errors, 'errors');
      if (c.errors > 0) errors.classList.add('bad');
      return el('tr', { 'data-function': name },
        el('td', {}, el('span', { class: 'mono' }, name), el('div', { class: 'sub' }, f.Description || '')),
        el('td', {}, el('span', { class: 'tag' }, f.Runtime || f.PackageType || '—')),
        el('td', { class: 'mono muted' }, f.Handler || '—'),
        el('td', { class: 'num' }, `${f.MemorySize} MB`),
        el('td', { class: 'num' }, `${f.Timeout} s`),
        numCell(c.invocations, 'invocations'),
        errors,
        el('td', {}, c.errors > 0 ? pill('errors', 'fault') : c.invocations > 0 ? pill('ok') : pill('idle', 'neutral')),
        el('td', {}, el('a', { href: `#/logs?group=${encodeURIComponent('/aws/lambda/' + name)}` }, 'logs'), ' · ',
          el('a', { href: `#/metrics?ns=AWS/Lambda&m=Invocations&d=${encodeURIComponent('FunctionName=' + name)}` }, 'metrics')));
    });
    body.replaceChildren(table(['Function', 'Runtime', 'Handler', '#Memory', '#Timeout', '#Invocations', '#Errors', 'Health', ''], rows));
  });
};

// ---------- DynamoDB ----------

PAGES.tables = async (root, params, arg, g) => {
  const page = Number(params.get('page') || 0);
  const names = await all('dynamodb', 'ListTables', {}, 'TableNames', 'ExclusiveStartTableName', 'LastEvaluatedTableName');
  if (!names.length) { root.append(panel('Tables', '', empty('No tables in this region.'))); return; }
  const shown = names.slice(page * PAGE, (page + 1) * PAGE);
  const body = el('div', {});
  const go = (p) => { params.set('page', p); setHashParams('tables', params); route(); };
  root.append(panel('Tables', `${names.length} table${names.length === 1 ? '' : 's'}`, body, pager(names.length, page, go)));
  await live(async () => {
    const tables = await Promise.all(shown.map((TableName) => aws('dynamodb', 'DescribeTable', { TableName }).then((r) => r.Table).catch(() => null)));
    const streams = await Promise.all(tables.map((t) => (t && t.LatestStreamArn && t.StreamSpecification?.StreamEnabled
      ? aws('dynamodbstreams', 'DescribeStream', { StreamArn: t.LatestStreamArn }).then((r) => r.StreamDescription).catch(() => null)
      : Promise.resolve(null))));
    if (g !== generation) return;
    const rows = tables.map((t, i) => {
      if (!t) return el('tr', { 'data-table': shown[i] }, el('td', { class: 'mono' }, shown[i]), el('td', { colspan: 6, class: 'muted' }, 'deleted'));
      const keys = (t.KeySchema || []).map((k) => el('span', { class: 'tag' }, `${k.AttributeName} ${k.KeyType === 'HASH' ? 'partition' : 'sort'}`));
      const on = t.StreamSpecification?.StreamEnabled;
      const s = streams[i];
      const stream = on
        ? el('span', {}, pill(s?.StreamStatus || 'ENABLED', s?.StreamStatus || 'ENABLED'), ' ', el('span', { class: 'muted' }, t.StreamSpecification.StreamViewType || ''),
          s ? el('div', { class: 'sub' }, `${(s.Shards || []).length} shard${(s.Shards || []).length === 1 ? '' : 's'}`) : null)
        : el('span', { class: 'muted' }, 'off');
      const gsis = (t.GlobalSecondaryIndexes || []).map((x) => el('span', { class: 'tag' }, x.IndexName));
      return el('tr', { 'data-table': t.TableName },
        el('td', {}, el('span', { class: 'mono' }, t.TableName)),
        el('td', {}, pill(t.TableStatus, t.TableStatus === 'ACTIVE' ? 'ok' : 'neutral')),
        el('td', {}, keys),
        numCell(t.ItemCount, 'items'),
        el('td', { class: 'num' }, `${num(t.TableSizeBytes)} B`),
        el('td', { class: 'stream' }, stream),
        el('td', {}, gsis.length ? gsis : el('span', { class: 'muted' }, '—')),
        el('td', { class: 'muted' }, t.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' ? 'on demand' : 'provisioned'));
    });
    body.replaceChildren(table(['Table', 'Status', 'Keys', '#Items', '#Size', 'Stream', 'Indexes', 'Billing'], rows));
  });
};

// ---------- SNS ----------

PAGES.topics = async (root, params, arg, g) => {
  const page = Number(params.get('page') || 0);
  const topics = (await all('sns', 'ListTopics', {}, 'Topics', 'NextToken')).map((t) => t.TopicArn).sort((a, b) => lastPart(a).localeCompare(lastPart(b)));
  if (!topics.length) { root.append(panel('Topics', '', empty('No topics in this region.'))); return; }
  const shown = topics.slice(page * 20, (page + 1) * 20);
  for (const arn of shown) {
    const [attrs, subs] = await Promise.all([
      aws('sns', 'GetTopicAttributes', { TopicArn: arn }).then((r) => r.Attributes || {}).catch(() => ({})),
      all('sns', 'ListSubscriptionsByTopic', { TopicArn: arn }, 'Subscriptions', 'NextToken').catch(() => []),
    ]);
    if (g !== generation) return;
    const rows = subs.map((s) => el('tr', { 'data-subscription': s.Endpoint },
      el('td', {}, el('span', { class: 'tag' }, s.Protocol)),
      el('td', { class: 'mono' }, s.Endpoint),
      el('td', {}, s.SubscriptionArn === 'PendingConfirmation' ? pill('pending', 'neutral') : pill('confirmed', 'ok')),
      el('td', { class: 'mono muted' }, s.SubscriptionArn === 'PendingConfirmation' ? '' : lastPart(s.SubscriptionArn))));
    const name = lastPart(arn);
    const box = el('section', { class: 'panel', 'data-topic': name },
      el('h2', {}, el('span', { class: 'mono' }, name), attrs.FifoTopic === 'true' ? el('span', { class: 'tag' }, 'FIFO') : null,
        el('small', {}, `${subs.length} subscription${subs.length === 1 ? '' : 's'}${attrs.DisplayName ? ' · ' + attrs.DisplayName : ''}`)),
      subs.length ? table(['Protocol', 'Endpoint', 'Status', 'Subscription'], rows) : empty('No subscriptions.'));
    root.append(box);
  }
  if (topics.length > 20) root.append(pager(topics.length, page, (p) => { params.set('page', p); setHashParams('topics', params); route(); }));
};

// ---------- API Gateway ----------

PAGES.apis = async (root, params, arg, g) => {
  const apis = await all('apigateway', 'GetApis', {}, 'Items', 'NextToken');
  if (!apis.length) { root.append(panel('APIs', '', empty('No APIs in this region.'))); return; }
  for (const api of apis.slice(0, 50)) {
    const [routes, integrations, stages] = await Promise.all([
      all('apigateway', 'GetRoutes', { ApiId: api.ApiId }, 'Items', 'NextToken').catch(() => []),
      all('apigateway', 'GetIntegrations', { ApiId: api.ApiId }, 'Items', 'NextToken').catch(() => []),
      all('apigateway', 'GetStages', { ApiId: api.ApiId }, 'Items', 'NextToken').catch(() => []),
    ]);
    if (g !== generation) return;
    const byId = Object.fromEntries(integrations.map((i) => [i.IntegrationId, i]));
    const rows = routes.sort((a, b) => a.RouteKey.localeCompare(b.RouteKey)).map((r) => {
      const integ = byId[String(r.Target || '').replace('integrations/', '')];
      const target = integ ? `${integ.IntegrationType}${integ.IntegrationSubtype ? ' ' + integ.IntegrationSubtype : ''} → ${integ.IntegrationUri ? lastPart(integ.IntegrationUri.replace(/\/invocations$/, '')) : ''}` : (r.Target || '—');
      return el('tr', { 'data-route': r.RouteKey },
        el('td', { class: 'mono' }, r.RouteKey), el('td', {}, target), el('td', {}, el('span', { class: 'tag' }, r.AuthorizationType || 'NONE')));
    });
    const endpoint = `${location.origin}/_aws/execute-api/${api.ApiId}/`;
    root.append(el('section', { class: 'panel', 'data-api': api.Name },
      el('h2', {}, api.Name, el('span', { class: 'tag' }, api.ProtocolType), el('small', {}, api.ApiId)),
      el('div', { class: 'body' }, el('div', { class: 'mono muted' }, endpoint),
        el('div', { class: 'sub' }, 'stages: ', stages.length ? stages.map((s) => el('span', { class: 'tag' }, s.StageName + (s.AutoDeploy ? ' (auto-deploy)' : ''))) : 'none')),
      routes.length ? table(['Route', 'Integration', 'Authorization'], rows) : empty('No routes.')));
  }
};

// ---------- EventBridge ----------

PAGES.rules = async (root, params, arg, g) => {
  const buses = await all('events', 'ListEventBuses', {}, 'EventBuses', 'NextToken');
  const rules = [];
  for (const b of buses) {
    for (const r of await all('events', 'ListRules', { EventBusName: b.Name }, 'Rules', 'NextToken')) rules.push(r);
  }
  if (!rules.length) { root.append(panel('Rules', `${buses.length} event bus${buses.length === 1 ? '' : 'es'}`, empty('No rules in this region.'))); return; }
  const targets = await Promise.all(rules.slice(0, 200).map((r) => all('events', 'ListTargetsByRule', { Rule: r.Name, EventBusName: r.EventBusName }, 'Targets', 'NextToken').catch(() => [])));
  if (g !== generation) return;
  const rows = rules.slice(0, 200).map((r, i) => el('tr', { 'data-rule': r.Name },
    el('td', {}, el('span', { class: 'mono' }, r.Name), el('div', { class: 'sub' }, r.Description || '')),
    el('td', { class: 'mono muted' }, r.EventBusName),
    el('td', {}, pill(r.State, r.State)),
    el('td', { class: 'mono' }, r.ScheduleExpression || r.EventPattern || ''),
    el('td', {}, targets[i].map((t) => el('span', { class: 'tag', title: t.Arn }, lastPart(t.Arn))))));
  root.append(panel('Rules', `${rules.length} rule${rules.length === 1 ? '' : 's'} on ${buses.length} bus${buses.length === 1 ? '' : 'es'}`,
    table(['Rule', 'Bus', 'State', 'Pattern or schedule', 'Targets'], rows)));
};

// ---------- CloudWatch alarms ----------

const OPS = { GreaterThanOrEqualToThreshold: '>=', GreaterThanThreshold: '>', LessThanThreshold: '<', LessThanOrEqualToThreshold: '<=', LessThanLowerOrGreaterThanUpperThreshold: 'outside', GreaterThanUpperThreshold: '>', LessThanLowerThreshold: '<' };
const tsSec = (t) => (typeof t === 'number' ? t : Date.parse(t) / 1000);

PAGES.alarms = async (root, params, arg, g) => {
  const body = el('div', {});
  const sub = el('small', {});
  root.append(el('section', { class: 'panel' }, el('h2', {}, 'Alarms', sub), body));
  await live(async () => {
    let metric = [];
    let composite = [];
    try {
      let token;
      for (let i = 0; i < 10; i++) {
        const r = await aws('monitoring', 'DescribeAlarms', { MaxRecords: 100, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], ...(token ? { NextToken: token } : {}) });
        metric.push(...(r.MetricAlarms || []));
        composite.push(...(r.CompositeAlarms || []));
        token = r.NextToken;
        if (!token) break;
      }
    } catch (e) {
      body.replaceChildren(empty(e.status === 404 ? 'CloudWatch alarms are not available in this nimbus.' : e.message));
      return;
    }
    if (g !== generation) return;
    const list = [...metric, ...composite].sort((a, b) => (a.StateValue === 'ALARM' ? 0 : 1) - (b.StateValue === 'ALARM' ? 0 : 1) || a.AlarmName.localeCompare(b.AlarmName));
    const firing = list.filter((a) => a.StateValue === 'ALARM').length;
    sub.textContent = `${list.length} alarm${list.length === 1 ? '' : 's'} · ${firing} in ALARM`;
    if (!list.length) { body.replaceChildren(empty('No alarms in this region.')); return; }
    const rows = list.map((a) => {
      let what;
      let cond;
      if (a.AlarmRule) {
        what = el('span', { class: 'mono' }, a.AlarmRule);
        cond = el('span', { class: 'muted' }, 'composite');
      } else {
        const dims = (a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(', ');
        what = a.Metrics && a.Metrics.length
          ? el('span', { class: 'mono' }, a.Metrics.map((m) => m.Expression || m.MetricStat?.Metric?.MetricName || m.Id).join(', '))
          : el('span', {}, el('span', { class: 'muted' }, `${a.Namespace} · `), el('b', {}, a.MetricName), dims ? el('div', { class: 'sub' }, dims) : null);
        const op = OPS[a.ComparisonOperator] || a.ComparisonOperator;
        cond = el('span', {}, `${a.ExtendedStatistic || a.Statistic || ''} ${op} ${a.Threshold ?? ''}`,
          el('div', { class: 'sub' }, `${a.DatapointsToAlarm || a.EvaluationPeriods} of ${a.EvaluationPeriods} × ${a.Period || ''}s · missing: ${a.TreatMissingData || 'missing'}`));
      }
      const updated = a.StateUpdatedTimestamp ? tsSec(a.StateUpdatedTimestamp) : null;
      return el('tr', { 'data-alarm': a.AlarmName },
        el('td', {}, el('span', { class: 'mono' }, a.AlarmName), a.ActionsEnabled === false ? el('div', { class: 'sub' }, 'actions disabled') : null),
        el('td', { class: 'state' }, pill(a.StateValue, a.StateValue)),
        el('td', {}, what),
        el('td', {}, cond),
        el('td', { class: 'muted' }, a.StateReason || ''),
        el('td', {}, (a.AlarmActions || []).map((x) => el('span', { class: 'tag', title: x }, lastPart(x)))),
        el('td', { class: 'muted' }, updated ? ago(updated) : '—'));
    });
    body.replaceChildren(table(['Alarm', 'State', 'Metric', 'Condition', 'Reason', 'Actions', 'Changed'], rows));
  });
};

// ---------- traces ----------

// A trace's start: the summary's StartTime, else the epoch seconds in its id.
function traceStart(t) {
  if (t.StartTime) return tsSec(t.StartTime);
  const m = /^1-([0-9a-f]{8})-/.exec(t.Id || '');
  return m ? parseInt(m[1], 16) : 0;
}
function traceOutcome(t) {
  if (t.HasFault) return 'fault';
  if (t.HasThrottle) return 'throttle';
  if (t.HasError) return 'error';
  return 'ok';
}

function traceTable(list) {
  const rows = list.map((t) => {
    // One tag per name (a function is both its service and its function segment).
    const types = {};
    for (const s of t.ServiceIds || []) (types[s.Name] = types[s.Name] || []).push(s.Type || '');
    const services = Object.entries(types).map(([name, ts]) => el('span', { class: 'tag', title: ts.join(', ') }, name));
    const entry = t.EntryPoint ? t.EntryPoint.Name : (t.ServiceIds?.[0]?.Name || '');
    const http = t.Http && (t.Http.HttpMethod || t.Http.HttpURL) ? `${t.Http.HttpMethod || ''} ${t.Http.HttpURL || ''} ${t.Http.HttpStatus || ''}` : '';
    return el('tr', { 'data-trace': t.Id },
      el('td', { class: 'muted' }, clock(traceStart(t), true)),
      el('td', {}, el('a', { class: 'mono', href: `#/trace/${t.Id}` }, t.Id)),
      el('td', {}, entry, http ? el('div', { class: 'sub mono' }, http) : null),
      el('td', { class: 'num' }, dur((t.Duration || 0) * 1000)),
      el('td', { class: 'outcome' }, pill(traceOutcome(t))),
      el('td', {}, services));
  });
  return table(['Time', 'Trace', 'Entry point', '#Duration', 'Status', 'Services'], rows);
}

const RANGES = [['300', 'last 5 minutes'], ['900', 'last 15 minutes'], ['3600', 'last hour'], ['21600', 'last 6 hours'], ['86400', 'last day']];

PAGES.traces = async (root, params, arg, g) => {
  const q = params.get('q') || '';
  const range = params.get('range') || '3600';
  const search = el('input', { type: 'search', placeholder: 'filter expression, e.g. service("orders") AND error  ·  responsetime > 1', value: q, spellcheck: 'false' });
  const sel = el('select', {}, RANGES.map(([v, l]) => el('option', { value: v, selected: v === range }, l)));
  const apply = () => { params.set('q', search.value.trim()); params.set('range', sel.value); params.delete('page'); setHashParams('traces', params); route(); };
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
  sel.addEventListener('change', apply);
  root.append(el('div', { class: 'toolbar' }, search, sel, el('button', { class: 'primary', onclick: apply }, 'Search'),
    el('button', { onclick: () => { search.value = 'error OR fault'; apply(); } }, 'Errors only')));
  const body = el('div', {});
  const foot = el('div', { class: 'pager' });
  const sub = el('small', {});
  root.append(el('section', { class: 'panel' }, el('h2', {}, 'Recent traces', sub), body, foot));
  // Pages of GetTraceSummaries: tokens[i] starts page i. The end time is pinned while
  // paging so pages do not shift; page 0 follows the clock (live).
  const tokens = [null];
  let index = 0;
  let pinnedEnd = null;
  const load = async () => {
    const end = index === 0 ? Date.now() / 1000 : pinnedEnd;
    if (index === 0) pinnedEnd = end;
    const input = { StartTime: end - Number(range), EndTime: end, Sampling: false };
    if (q) input.FilterExpression = q;
    if (tokens[index]) input.NextToken = tokens[index];
    const t0 = performance.now();
    let r;
    try {
      r = await aws('xray', 'GetTraceSummaries', input);
    } catch (e) {
      if (g !== generation) return;
      sub.textContent = '';
      body.replaceChildren(errBox(e));
      foot.replaceChildren();
      return;
    }
    const ms = performance.now() - t0;
    if (g !== generation) return;
    const list = (r.TraceSummaries || []).slice().sort((a, b) => traceStart(b) - traceStart(a));
    tokens[index + 1] = r.NextToken || null;
    sub.textContent = `${q ? 'matching ' + q + ' · ' : ''}${RANGES.find(([v]) => v === range)?.[1] || ''} · page ${index + 1} · answered in ${Math.round(ms)} ms${index === 0 ? ' · live' : ''}`;
    body.replaceChildren(list.length ? traceTable(list.slice(0, 200)) : empty(q ? 'No trace matches.' : 'No traces in this time range.'));
    foot.replaceChildren(el('span', { class: 'grow' }, `${list.length} trace${list.length === 1 ? '' : 's'} on this page${r.TracesProcessedCount !== undefined ? ` · ${num(r.TracesProcessedCount)} processed` : ''}`),
      el('button', { onclick: () => { index = 0; load(); }, disabled: index === 0 }, '« Newest'),
      el('button', { onclick: () => { index -= 1; load(); }, disabled: index === 0 }, '‹ Prev'),
      el('button', { onclick: () => { index += 1; load(); }, disabled: !tokens[index + 1] }, 'Next ›'));
  };
  await live(async () => { if (index === 0) await load(); });
};

function wfName(r) {
  return el('div', { class: 'wf-name' },
    el('span', { class: 'twisty' }, ''),
    el('span', { class: 'svc' }, r.name),
    r.operation ? el('span', { class: 'op' }, r.operation) : null,
    r.resource && r.resource !== r.name ? el('span', { class: 'res' }, r.resource) : null);
}

PAGES.trace = async (root, params, id, g) => {
  const r = await fetch(`${BASE}/trace/${encodeURIComponent(id)}?region=${encodeURIComponent(region)}`);
  const v = await r.json();
  if (!r.ok) { root.append(errBox(`${v.__type}: ${v.message}`)); return; }
  if (g !== generation) return;
  const rows = v.Rows || [];
  const total = Math.max(v.DurationMs || 0, 0.001);
  const worst = rows.some((x) => x.outcome === 'fault') ? 'fault' : rows.some((x) => x.outcome === 'throttle') ? 'throttle' : rows.some((x) => x.outcome === 'error') ? 'error' : 'ok';
  const services = [...new Set(rows.filter((x) => !x.subsegment).map((x) => x.name))];
  root.append(el('a', { href: '#/traces', class: 'back' }, '‹ all traces'));
  root.append(el('section', { class: 'panel' }, el('div', { class: 'body trace-head' },
    el('div', {}, el('span', { class: 'k' }, 'Trace'), el('span', { class: 'v mono', id: 'trace-id' }, v.TraceId)),
    el('div', {}, el('span', { class: 'k' }, 'Started'), el('span', { class: 'v' }, when(v.StartTime))),
    el('div', {}, el('span', { class: 'k' }, 'Duration'), el('span', { class: 'v' }, dur(v.DurationMs))),
    el('div', {}, el('span', { class: 'k' }, 'Segments'), el('span', { class: 'v' }, rows.length)),
    el('div', {}, el('span', { class: 'k' }, 'Status'), el('span', { class: 'v' }, pill(worst))),
    el('div', {}, el('span', { class: 'k' }, 'Services'), el('span', { class: 'v' }, services.map((s) => el('span', { class: 'tag' }, s)))))));
  // Axis: five ticks over the trace's duration.
  const axis = el('div', { class: 'wf-track' });
  for (let i = 0; i <= 4; i++) {
    const t = el('div', { class: `wf-tick${i === 4 ? ' last' : ''}` }, el('span', {}, dur((total * i) / 4)));
    t.style.left = `${i * 25}%`;
    axis.append(t);
  }
  const wf = el('div', { class: 'wf' }, el('div', { class: 'wf-row axis' }, el('div', { class: 'wf-name' }, 'Segment · operation · resource'), axis, el('div', { class: 'wf-dur' }, 'duration')));
  let open = null;
  for (const row of rows) {
    const bar = el('div', { class: `wf-bar ${row.outcome.replace(' ', '-')}${row.subsegment ? ' sub' : ''}`, title: `${row.name} ${row.operation} · +${dur(row.offset_ms)} · ${dur(row.duration_ms)} · ${row.outcome}` });
    bar.style.left = `${(row.offset_ms / total) * 100}%`;
    bar.style.width = `${Math.max((row.duration_ms / total) * 100, 0.3)}%`;
    const name = wfName(row);
    name.style.paddingLeft = `${10 + row.depth * 18}px`;
    const line = el('div', { class: 'wf-row', 'data-id': row.id, 'data-service': row.name, 'data-origin': row.origin, 'data-outcome': row.outcome, 'data-depth': row.depth },
      name, el('div', { class: 'wf-track' }, bar), el('div', { class: 'wf-dur' }, dur(row.duration_ms), row.outcome !== 'ok' ? ' ' : '', row.outcome !== 'ok' ? pill(row.outcome, row.outcome.replace(' ', '-')) : null));
    const detail = el('div', { class: 'detail' },
      el('div', {}, el('b', {}, row.origin || (row.subsegment ? 'subsegment' : 'segment')), ` · starts +${dur(row.offset_ms)} · ${dur(row.duration_ms)}`,
        row.http_status ? ` · HTTP ${row.http_status}` : '', row.request_id ? el('span', { class: 'muted' }, ` · request ${row.request_id}`) : null),
      row.cause ? el('div', { class: 'err-box' }, row.cause) : null,
      el('pre', { class: 'doc' }, JSON.stringify(row.document, null, 2)));
    line.addEventListener('click', () => {
      if (open) { open.remove(); document.querySelectorAll('.wf-row.sel').forEach((x) => x.classList.remove('sel')); }
      if (open === detail) { open = null; return; }
      line.after(detail); line.classList.add('sel'); open = detail;
    });
    wf.append(line);
  }
  root.append(panel('Waterfall', `${rows.length} segments and subsegments · click a row for its document`, wf));
  const invs = v.Invocations || [];
  const logs = el('div', { class: 'body' });
  for (const inv of invs) {
    logs.append(el('div', { class: 'inv', 'data-function': inv.function },
      el('h3', {}, inv.function, el('span', { class: 'muted' }, `  ·  ${inv.request_id || 'lines with the trace id'}  ·  ${inv.log_group}`)),
      logBox(inv.lines.map((l) => ({ timestamp: l.timestamp, message: l.message })))));
  }
  root.append(panel('Function logs', 'the lines of each Lambda invocation in this trace', invs.length ? logs : empty('No function invocation in this trace wrote logs.')));
};

function logBox(lines, withGroup) {
  return el('pre', { class: 'log' }, lines.map((l) => {
    const m = l.message || '';
    const cls = /\[ERROR\]|ERROR\t|Invoke Error|Traceback|Status: timeout/.test(m) ? 'e' : /^(START|END|REPORT) RequestId/.test(m) ? 's' : '';
    return el('div', { class: 'line' },
      el('span', { class: 't' }, clock(l.timestamp / 1000, true)),
      withGroup ? el('span', { class: 'g' }, l.group) : null,
      el('span', { class: cls }, m.replace(/\s+$/, '')));
  }));
}

// ---------- logs ----------

PAGES.logs = async (root, params, arg, g) => {
  const groups = (await all('logs', 'DescribeLogGroups', {}, 'logGroups', 'nextToken')).map((x) => x.logGroupName);
  const group = params.get('group') || '';
  const pattern = params.get('q') || '';
  const range = params.get('range') || '900';
  const sel = el('select', {}, el('option', { value: '' }, `all log groups (${groups.length})`), groups.map((n) => el('option', { value: n, selected: n === group }, n)));
  const input = el('input', { type: 'search', placeholder: 'filter pattern, e.g. ERROR  ·  "RequestId: …"  ·  { $.level = "ERROR" }', value: pattern, spellcheck: 'false' });
  const rsel = el('select', {}, RANGES.map(([v, l]) => el('option', { value: v, selected: v === range }, l)));
  const apply = () => { params.set('group', sel.value); params.set('q', input.value.trim()); params.set('range', rsel.value); setHashParams('logs', params); route(); };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
  sel.addEventListener('change', apply);
  rsel.addEventListener('change', apply);
  root.append(el('div', { class: 'toolbar' }, sel, input, rsel, el('button', { class: 'primary', onclick: apply }, 'Filter')));
  const sub = el('small', {});
  const body = el('div', { class: 'body' });
  root.append(el('section', { class: 'panel' }, el('h2', {}, 'Merged tail', sub), body));
  const targets = (group ? [group] : groups).slice(0, 40);
  const seen = new Set();
  let lines = [];
  let since = Date.now() - Number(range) * 1000;
  await live(async () => {
    const until = Date.now();
    // The first read pages through the range (bounded); later ones read the last seconds.
    const pages = seen.size ? 2 : 5;
    const batches = await Promise.all(targets.map((n) => all('logs', 'FilterLogEvents', { logGroupName: n, startTime: since, endTime: until, limit: 1000, ...(pattern ? { filterPattern: pattern } : {}) }, 'events', 'nextToken', 'nextToken', pages)
      .then((events) => events.map((e) => ({ ...e, group: n }))).catch(() => [])));
    if (g !== generation) return;
    for (const e of batches.flat()) {
      const key = `${e.group}|${e.eventId || e.logStreamName + e.timestamp + e.message}`;
      if (!seen.has(key)) { seen.add(key); lines.push(e); }
    }
    lines.sort((a, b) => a.timestamp - b.timestamp);
    if (lines.length > 1000) lines = lines.slice(-1000);
    since = Math.max(since, until - 5000); // overlap a little: late writes still show
    sub.textContent = `${lines.length} line${lines.length === 1 ? '' : 's'} from ${targets.length} log group${targets.length === 1 ? '' : 's'}, oldest first · live`;
    const stick = body.firstChild && body.firstChild.scrollTop + body.firstChild.clientHeight >= body.firstChild.scrollHeight - 4;
    body.replaceChildren(lines.length ? logBox(lines, !group) : empty('No log lines in this range.'));
    if (stick || !body.dataset.scrolled) { body.firstChild.scrollTop = body.firstChild.scrollHeight; body.dataset.scrolled = '1'; }
  });
};

// ---------- metrics ----------

function niceTicks(max) {
  if (max <= 0) return [0, 1];
  const step0 = max / 4;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(+v.toPrecision(12));
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function chart(points, start, end, width) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs, ...kids) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  };
  const W = width || 900; const H = 320; const L = 56; const R = 16; const T = 14; const B = 30;
  const max = Math.max(0, ...points.map((p) => p[1]));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] || 1;
  const x = (t) => L + ((t - start) / (end - start)) * (W - L - R);
  const y = (v) => H - B - (v / top) * (H - T - B);
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  const grid = svg('g', { class: 'grid' });
  const axis = svg('g', { class: 'axis' });
  for (const v of ticks) {
    grid.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    axis.append(svg('text', { x: L - 8, y: y(v) + 4, 'text-anchor': 'end' }, +v.toPrecision(4)));
  }
  for (let i = 0; i <= 5; i++) {
    const t = start + ((end - start) * i) / 5;
    axis.append(svg('text', { x: x(t), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' }, clock(t)));
  }
  root.append(grid, axis);
  if (points.length) {
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    root.append(svg('path', { class: 'area', d: `${d} L${x(points[points.length - 1][0]).toFixed(1)},${y(0)} L${x(points[0][0]).toFixed(1)},${y(0)} Z` }));
    root.append(svg('path', { class: 'line', d }));
    for (const p of points.length <= 240 ? points : []) {
      root.append(svg('circle', { cx: x(p[0]), cy: y(p[1]), r: points.length < 20 ? 4 : 2.5 }, svg('title', {}, `${when(p[0])}  ${p[1]}`)));
    }
  }
  return root;
}

PAGES.metrics = async (root, params, arg, g) => {
  const metrics = await all('monitoring', 'ListMetrics', {}, 'Metrics', 'NextToken', 'NextToken', 50);
  if (!metrics.length) { root.append(panel('Metrics', '', empty('No metrics in this region yet.'))); return; }
  const dimText = (m) => (m.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(', ');
  const namespaces = [...new Set(metrics.map((m) => m.Namespace))].sort();
  const ns = namespaces.includes(params.get('ns')) ? params.get('ns') : namespaces[0];
  const inNs = metrics.filter((m) => m.Namespace === ns);
  const names = [...new Set(inNs.map((m) => m.MetricName))].sort();
  const name = names.includes(params.get('m')) ? params.get('m') : names[0];
  const combos = inNs.filter((m) => m.MetricName === name).map(dimText).sort();
  const dims = combos.includes(params.get('d') || '') ? (params.get('d') || '') : combos[0];
  const stat = params.get('stat') || 'Sum';
  const range = params.get('range') || '3600';
  const period = params.get('period') || '60';
  const pick = (key) => (e) => { params.set(key, e.target.value); if (key === 'ns') { params.delete('m'); params.delete('d'); } if (key === 'm') params.delete('d'); setHashParams('metrics', params); route(); };
  const select = (key, values, current, label) => el('label', { class: 'muted' }, `${label} `, el('select', { onchange: pick(key) }, values.map((v) => (Array.isArray(v)
    ? el('option', { value: v[0], selected: v[0] === current }, v[1]) : el('option', { value: v, selected: v === current }, v || '(no dimensions)')))));
  root.append(el('div', { class: 'toolbar' },
    select('ns', namespaces, ns, 'namespace'), select('m', names, name, 'metric'), select('d', combos, dims, 'dimensions'),
    select('stat', ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount', 'p50', 'p90', 'p99'], stat, 'statistic'),
    select('period', [['1', '1 s'], ['60', '1 min'], ['300', '5 min'], ['3600', '1 hour']], period, 'period'),
    select('range', RANGES.concat([['604800', 'last week']]), range, 'range')));
  const body = el('div', { class: 'body' });
  const sub = el('small', {});
  root.append(el('section', { class: 'panel' }, el('h2', {}, `${ns} · ${name}`, sub), body));
  const dimensions = dims ? dims.split(', ').map((kv) => { const i = kv.indexOf('='); return { Name: kv.slice(0, i), Value: kv.slice(i + 1) }; }) : [];
  await live(async () => {
    const end = Date.now() / 1000;
    const start = end - Number(range);
    const r = await aws('monitoring', 'GetMetricData', {
      StartTime: Math.floor(start), EndTime: Math.ceil(end) + 60, ScanBy: 'TimestampAscending',
      MetricDataQueries: [{ Id: 'm0', MetricStat: { Metric: { Namespace: ns, MetricName: name, Dimensions: dimensions }, Period: Number(period), Stat: stat } }],
    });
    if (g !== generation) return;
    const res = (r.MetricDataResults || [])[0] || { Timestamps: [], Values: [] };
    const pts = (res.Timestamps || []).map((t, i) => [tsSec(t), res.Values[i]]).sort((a, b) => a[0] - b[0]);
    const total = pts.reduce((a, p) => a + p[1], 0);
    sub.textContent = `${stat} per ${period} s${dims ? ' · ' + dims : ''} · ${pts.length} datapoint${pts.length === 1 ? '' : 's'}${stat === 'Sum' ? ' · total ' + num(+total.toPrecision(6)) : ''}`;
    const width = Math.max(600, body.clientWidth - 32);
    body.replaceChildren(chart(pts, start, end, width), ...(pts.length ? [] : [el('div', { class: 'legend' }, 'No datapoints in this range.')]));
  });
};

// ---------- start ----------

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  const input = document.getElementById('region');
  input.value = region;
  input.addEventListener('change', () => { region = input.value.trim() || 'us-east-1'; localStorage.setItem('nimbus.region', region); route(); });
  route();
});
