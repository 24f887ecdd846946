#!/usr/bin/env node
// A local AppSync-style GraphQL endpoint with AppSync's AWS_IAM authorization, and the local
// Cognito Identity Pool that hands out the credentials it accepts.
//
// Every field that template.yaml gives a resolver is resolved by invoking the real function under
// `cargo lambda watch`, through the same APPSYNC_JS handler the deployed resolver runs
// (resolvers/*.js): the same Direct Lambda event, BatchInvoke arrays for batched fields, and typed
// errors as AppSync would return them.
//
//   node local/server.mjs --port 4000 --lambda http://127.0.0.1:9000 \
//        --moto http://127.0.0.1:5000 --identity-port 4001 \
//        [--tls-cert cert.pem --tls-key key.pem] [--dynamodb http://127.0.0.1:8000 --table notes]
//
// The same port serves the real-time endpoint (realtime.mjs: AppSync's WebSocket protocol, wss://
// when --tls-cert is given), and with --dynamodb the table's stream feeds the stream function of
// template.yaml as Lambda's event source mapping would (streams.mjs).
//
// Requests must be SigV4-signed (service appsync) with credentials the Identity Pool endpoint
// (--identity-port, Cognito Identity's own API; configuration in moto) issued; the signature is
// verified before anything runs (sigv4.mjs), and the caller's `identity` is built from the key's
// Identity Pool identity as AppSync builds it. Each role's root fields come from template.yaml's
// UserRole / GuestRole policies.
//
// --principals DIR/principals.json (local/iam/principals.mjs, as scripts/local.sh starts it):
// plain-IAM callers sign with credentials of their own (each function's role session, tenantctl's
// operator, the admin) and each root field is checked against that principal's own policies
// (appsync:GraphQL on the field's ARN, evaluated by local/iam/evaluate.mjs); refusals are logged
// as one JSON line (--iam-log FILE too). Without it, the one LOCAL_IAM_KEY stands for every plain
// IAM caller and may call what any of the template's non-Identity-Pool grants allows.
//
// --trust-identity-header also accepts `x-demo-identity: acme/alice` (identities.mjs) instead of a
// signature: a test tool for server.test.mjs, never what scripts/local.sh starts.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { appendFileSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError, Kind, defaultFieldResolver, execute, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import { AppSyncError, loadAppsyncJs, withExtensions } from './appsync-js.mjs';
import { fieldInfo } from './graphql-info.mjs';
import { ACCOUNT_ID, DEMO_NAMES, LOCAL_IAM_KEY, REGION, ROLES, appsyncIdentity, demoIdentity, iamIdentity } from './identities.mjs';
import { CredentialStore, answerPreflight, createIdentityService } from './identity-pool.mjs';
import { createRealtime } from './realtime.mjs';
import { startStreamPoller } from './streams.mjs';
import { Refusal, verifySigV4 } from './sigv4.mjs';
import { loadWiring } from './wiring.mjs';
import { evaluate } from './iam/evaluate.mjs';
import { PrincipalStore } from './iam/principals.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { port: 4000, host: '127.0.0.1', lambda: 'http://127.0.0.1:9000', trustIdentityHeader: false, moto: null, identityPort: null, tlsCert: null, tlsKey: null, kaIntervalMs: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--host') opts.host = argv[++i];
    else if (a === '--lambda') opts.lambda = argv[++i];
    else if (a === '--moto') opts.moto = argv[++i];
    else if (a === '--identity-port') opts.identityPort = Number(argv[++i]);
    else if (a === '--identity-pool-id') opts.identityPoolId = argv[++i];
    else if (a === '--trust-identity-header') opts.trustIdentityHeader = true;
    else if (a === '--tls-cert') opts.tlsCert = argv[++i];
    else if (a === '--tls-key') opts.tlsKey = argv[++i];
    else if (a === '--ka-interval-ms') opts.kaIntervalMs = Number(argv[++i]);
    else if (a === '--dynamodb') opts.dynamodb = argv[++i];
    else if (a === '--principals') opts.principals = argv[++i];
    else if (a === '--iam-log') opts.iamLog = argv[++i];
    else if (a === '--table') opts.table = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if ((opts.moto === null) !== (opts.identityPort === null)) throw new Error('--moto and --identity-port go together');
  if ((opts.tlsCert === null) !== (opts.tlsKey === null)) throw new Error('--tls-cert and --tls-key go together');
  if (!opts.dynamodb !== !opts.table) throw new Error('--dynamodb and --table go together');
  return opts;
}

/** Invokes a function through the Lambda Invoke API that `cargo lambda watch` serves. */
async function invokeFunction(lambdaUrl, name, payload) {
  const res = await fetch(`${lambdaUrl}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  let body;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = { errorMessage: text };
  }
  const failed = res.status >= 400 || res.headers.get('x-amz-function-error');
  if (failed) {
    // AppSync hands the response handler only the message; the type is always Lambda:Unhandled.
    return { error: { message: body?.errorMessage ?? `function ${name} failed (${res.status})`, type: 'Lambda:Unhandled' } };
  }
  return { result: body };
}

function appsyncInfo(info) {
  return fieldInfo({ parentTypeName: info.parentType.name, node: info.fieldNodes[0], fragments: info.fragments, variables: info.variableValues });
}

function toGraphQLError(e, info) {
  if (e instanceof AppSyncError) {
    return new GraphQLError(e.message, {
      nodes: info.fieldNodes,
      path: info.path,
      extensions: { errorType: e.errorType, errorInfo: e.errorInfo, data: e.data },
    });
  }
  return e;
}

/** Collects BatchInvoke payloads of one field per tick and sends them as arrays. */
class Batcher {
  constructor(invoke, fn, maxBatchSize) {
    this.invoke = invoke;
    this.fn = fn;
    this.max = maxBatchSize;
    this.queue = [];
  }

  load(payload) {
    return new Promise((resolve) => {
      this.queue.push({ payload, resolve });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  async flush() {
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.max) {
      const chunk = queue.slice(i, i + this.max);
      const out = await this.invoke(this.fn, chunk.map((c) => c.payload));
      chunk.forEach((c, j) => {
        if (out.error) c.resolve({ error: out.error });
        else if (!Array.isArray(out.result) || out.result.length !== chunk.length) {
          c.resolve({ error: { message: `${this.fn} answered a batch of ${chunk.length} with ${JSON.stringify(out.result)?.slice(0, 80)}`, type: 'Lambda:Unhandled' } });
        } else c.resolve({ result: out.result[j] });
      });
    }
  }
}

// AppSync's CORS answer: any origin, and the headers a browser client may read.
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-amzn-RequestId,x-amzn-ErrorType,x-amz-user-agent,x-amzn-ErrorMessage,Date,x-amz-schema-version',
};

const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * The GraphQL endpoint's request handler (an http.Server).
 *   lambda: `cargo lambda watch`'s Invoke API
 *   credentials: the Identity Pool's CredentialStore (keys a signature may be made with)
 *   trustIdentityHeader: also accept `x-demo-identity` stand-ins (tests only)
 *   kaIntervalMs: how often the real-time endpoint sends "ka"
 * `server.invocations` counts function invocations (a BatchInvoke counts once); GET
 * /__local/invocations answers it, so a test can assert that a refused request invoked nothing.
 * The same server answers WebSocket upgrades on /graphql/realtime (realtime.mjs): mutations named
 * in a subscription's @aws_subscribe publish to it, and `invalidateSubscriptions` calls of a
 * mutation's handler end subscriptions there. `server.realtime` is that endpoint; GET
 * /__local/realtime answers its counters.
 */
export function createServer({ lambda, credentials = new CredentialStore(), principals = null, trustIdentityHeader = false, region = REGION, accountId = ACCOUNT_ID, kaIntervalMs = 60_000, log = () => {}, iamLog = log }) {
  const { schema, resolvers, allows, environment } = loadWiring(ROOT);
  // ctx.env: a role's unique id (`!GetAtt <Function>Role.RoleId`) is the role id of that
  // function's local principal (local/iam/principals.mjs), or without principals the local
  // stack's one plain-IAM key's; other values are taken as written.
  const roleIdOf = (role) => {
    const fn = role.replace(/Role$/, '');
    const p = principals ? [...principals.byKey.values()].find((q) => q.logicalId === fn) : null;
    return p?.roleId ?? LOCAL_IAM_KEY.roleId;
  };
  const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [
    k,
    typeof v?.GetAtt === 'string' && v.GetAtt.endsWith('.RoleId') ? roleIdOf(v.GetAtt.slice(0, -'.RoleId'.length)) : v,
  ]));
  const handlers = new Map();
  for (const [key, w] of resolvers) handlers.set(key, loadAppsyncJs(w.code));
  const invocations = { count: 0 };
  const invoke = (name, payload) => {
    invocations.count += 1;
    return invokeFunction(lambda, name, payload);
  };

  async function fieldResolver(source, args, context, info) {
    const key = `${info.parentType.name}.${info.fieldName}`;
    const wiring = resolvers.get(key);
    if (!wiring) return defaultFieldResolver(source, args, context, info);
    const isRoot = info.parentType.name === 'Query' || info.parentType.name === 'Mutation';
    // AppSync's IAM check: the caller's role must grant appsync:GraphQL on the field's ARN
    // (template.yaml's UserRole / GuestRole; for a plain IAM key every other grant of the
    // template), else the field is refused before its resolver runs.
    const principal = context.identity.cognitoIdentityAuthType ?? 'iam';
    const iamPrincipal = iamPrincipals.get(context.identity);
    if (isRoot && iamPrincipal) {
      // This principal's own policies, as AppSync asks IAM (local/iam/evaluate.mjs).
      const request = { action: 'appsync:GraphQL', resource: fieldArn(info.parentType.name, info.fieldName) };
      const decision = await evaluate(iamPrincipal, request);
      if (!decision.allowed) {
        iamLog(JSON.stringify({ time: new Date().toISOString(), service: 'appsync', decision: 'denied', principal: iamPrincipal.arn, ...request, result: decision.result, missing: decision.missing, message: decision.message }));
        throw new GraphQLError(`Not Authorized to access ${info.fieldName} on type ${info.parentType.name}`, {
          nodes: info.fieldNodes,
          path: info.path,
          extensions: { errorType: 'Unauthorized' },
        });
      }
    } else if (isRoot && !allows[principal]?.(info.parentType.name, info.fieldName)) {
      throw new GraphQLError(`Not Authorized to access ${info.fieldName} on type ${info.parentType.name}`, {
        nodes: info.fieldNodes,
        path: info.path,
        extensions: { errorType: 'Unauthorized' },
      });
    }
    const handler = handlers.get(key);
    const ctx = {
      arguments: JSON.parse(JSON.stringify(args ?? {})),
      identity: context.identity,
      source: source ?? null,
      request: { headers: context.headers, domainName: null },
      info: appsyncInfo(info),
      prev: null,
      stash: {},
      env,
    };
    try {
      const req = handler.request(ctx);
      let out;
      if (req.operation === 'BatchInvoke') {
        let batcher = context.batchers.get(key);
        if (!batcher) {
          batcher = new Batcher(invoke, wiring.function, Math.max(1, wiring.maxBatchSize || 1));
          context.batchers.set(key, batcher);
        }
        out = await batcher.load(req.payload);
      } else if (wiring.dataSource === 'NONE') {
        // A NONE data source hands the request's payload to the response handler as the result.
        out = { result: req.payload ?? null };
      } else {
        out = await invoke(wiring.function, req.payload);
      }
      const { value, extensions } = withExtensions(handler.response, { ...ctx, result: out.result ?? null, error: out.error });
      for (const { op, arg } of extensions) {
        if (op === 'invalidateSubscriptions') context.invalidations.push(arg);
      }
      return value;
    } catch (e) {
      throw toGraphQLError(e, info);
    }
  }

  // AppSync's error shape: errorType, errorInfo and data beside the message.
  function formatError(err) {
    const ext = err.extensions ?? {};
    return {
      path: err.path ?? null,
      data: ext.data ?? null,
      errorType: ext.errorType ?? (err.path ? null : 'GraphQLValidationException'),
      errorInfo: ext.errorInfo ?? null,
      locations: (err.locations ?? []).map((l) => ({ ...l, sourceName: null })),
      message: err.message,
    };
  }

  function send(res, status, body, headers = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'x-amzn-requestid': randomUUID(), ...CORS_HEADERS, ...headers });
    res.end(JSON.stringify(body));
  }

  const refuse = (res, r) => send(res, r.status, r.body(), { 'x-amzn-errortype': r.errorType });

  // The field ARNs template.yaml's policies name (local/iam/policies.mjs: API id `localapi`).
  const fieldArn = (type, field) => `arn:aws:appsync:${region}:${accountId}:apis/localapi/types/${type}/fields/${field}`;
  // identity -> the plain-IAM principal that signed it (kept out of the identity object itself,
  // which the functions receive).
  const iamPrincipals = new WeakMap();
  // Plain-IAM keys beside the Identity Pool's credentials: the principals' own keys, or else the
  // local stack's one key (LOCAL_IAM_KEY).
  const lookup = (id) => {
    if (principals) {
      const r = principals.lookup(id);
      if (r) return { ...r, who: { iam: { roleName: r.principal.roleName, roleId: r.principal.roleId, session: r.principal.session }, principal: r.principal } };
    } else if (id === LOCAL_IAM_KEY.accessKeyId) {
      return { secretAccessKey: LOCAL_IAM_KEY.secretAccessKey, sessionToken: undefined, who: { iam: LOCAL_IAM_KEY } };
    }
    return credentials.lookup(id);
  };

  /**
   * Who signed `headers` (lower-cased) for `method path` with `body`: an AppSync identity, or a
   * Refusal thrown before anything runs. The HTTP endpoint and the real-time endpoint (the
   * connection's headers, each start message's authorization) both come here.
   */
  async function authenticateHeaders({ headers, method = 'POST', url, body, remoteAddress }) {
    const demo = headers['x-demo-identity'];
    if (demo !== undefined) {
      if (!trustIdentityHeader) {
        throw new Refusal(403, 'UnauthorizedException', 'x-demo-identity is accepted only when the endpoint runs with --trust-identity-header (tests).');
      }
      const identity = demoIdentity(String(demo));
      if (!identity) throw new Refusal(401, 'UnauthorizedException', `Unknown demo identity '${demo}'; one of: ${DEMO_NAMES.join(', ')}.`);
      return identity;
    }
    const { record } = await verifySigV4({ method, url, headers, body: Buffer.from(body), region, service: 'appsync', lookup });
    const ip = (remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    if (record.who.iam) {
      const identity = iamIdentity({ ...record.who.iam, sourceIp: ip, accountId });
      if (record.who.principal) iamPrincipals.set(identity, record.who.principal);
      return identity;
    }
    return appsyncIdentity({ ...record.who, sourceIp: ip, accountId });
  }

  const authenticate = (req, body) => authenticateHeaders({ headers: req.headers, method: req.method, url: req.url, body, remoteAddress: req.socket.remoteAddress });

  const realtime = createRealtime({
    schema,
    resolvers,
    handlers,
    allows,
    invoke,
    kaIntervalMs,
    log,
    authenticate: ({ headers, path, body, remoteAddress }) => authenticateHeaders({ headers, url: path, body, remoteAddress }),
  });

  /** The root fields of a mutation's answer, by field name (aliases resolved). */
  function publishMutation(document, operationName, data) {
    const op = getOperationAST(document, operationName);
    if (op?.operation !== 'mutation' || !data) return;
    for (const sel of op.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD) continue;
      const value = data[(sel.alias ?? sel.name).value];
      if (value !== null && value !== undefined) realtime.publish(sel.name.value, value);
    }
  }

  async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY_BYTES) throw new Refusal(413, 'PayloadTooLargeException', 'The request body is too large.');
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  const server = http.createServer(async (req, res) => {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && (path === '/health' || path === '/')) {
      return send(res, 200, { ok: true, fields: [...resolvers.keys()], identities: trustIdentityHeader ? DEMO_NAMES : [] });
    }
    if (req.method === 'GET' && path === '/__local/invocations') {
      return send(res, 200, { invocations: invocations.count });
    }
    if (req.method === 'GET' && path === '/__local/realtime') {
      return send(res, 200, realtime.stats());
    }
    if (req.method === 'GET' && path === '/__local/streams') {
      return send(res, 200, server.streams?.stats() ?? { running: false });
    }
    if (path === '/graphql' && req.method === 'OPTIONS') return answerPreflight(req, res, 'GET, POST, OPTIONS');
    if (path !== '/graphql' || req.method !== 'POST') {
      return send(res, 404, { errors: [{ errorType: 'NotFound', message: 'POST GraphQL requests to /graphql' }] });
    }

    let identity;
    let raw;
    try {
      raw = await readBody(req);
      identity = await authenticate(req, raw);
    } catch (e) {
      if (e instanceof Refusal) return refuse(res, e);
      throw e;
    }

    let body;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return send(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'The body must be JSON: {"query": ..., "variables": ...}.' }] });
    }
    let document;
    try {
      document = parse(String(body.query ?? ''));
    } catch (e) {
      return send(res, 400, { data: null, errors: [formatError(e)] });
    }
    const errors = validate(schema, document, specifiedRules);
    if (errors.length) return send(res, 400, { data: null, errors: errors.map(formatError) });
    if (getOperationAST(document, body.operationName)?.operation === 'subscription') {
      return send(res, 400, { data: null, errors: [{ errorType: 'UnsupportedOperation', message: 'Subscriptions are served over the real-time endpoint (WebSocket, /graphql/realtime), not over HTTP POST.' }] });
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const contextValue = { identity, headers, batchers: new Map(), invalidations: [] };
    const result = await execute({
      schema,
      document,
      variableValues: body.variables ?? {},
      operationName: body.operationName,
      contextValue,
      fieldResolver,
    });
    // What the mutation answered is what its subscribers get, in the order mutations complete.
    publishMutation(document, body.operationName, result.data);
    for (const { subscriptionField, payload } of contextValue.invalidations) realtime.invalidate(subscriptionField, payload);
    const out = { data: result.data ?? null };
    if (result.errors?.length) out.errors = result.errors.map(formatError);
    return send(res, 200, out);
  });
  server.on('upgrade', (req, socket, head) => {
    realtime.handleUpgrade(req, socket, head).catch((e) => {
      log(`realtime upgrade: ${e.stack ?? e}`);
      socket.destroy();
    });
  });
  server.on('close', () => realtime.close());
  server.invocations = invocations;
  server.realtime = realtime;
  return server;
}

/**
 * Listens for `server` (an http.Server) on one port for plain HTTP and TLS alike: the first byte of
 * a connection tells them apart (0x16 opens a TLS handshake). The GraphQL URL stays http://, and
 * the real-time endpoint is reachable as wss:// on the same host and port, which is where AppSync
 * clients look for it: Amplify turns the GraphQL URL into wss://<same host>/graphql/realtime,
 * rewriting http:// to wss:// too (packages/api-graphql/src/Providers/AWSWebSocketProvider/
 * appsyncUrl.ts). Returns the listening net.Server.
 */
export function listenHttpAndTls(server, { cert, key }, port, host, onListening) {
  const tlsServer = https.createServer({ cert, key });
  // What arrives over TLS is handled by the plain server's request and upgrade handlers.
  tlsServer.on('request', (req, res) => server.emit('request', req, res));
  tlsServer.on('upgrade', (req, socket, head) => server.emit('upgrade', req, socket, head));
  tlsServer.on('tlsClientError', () => {});
  const front = net.createServer((socket) => {
    socket.once('data', (first) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? tlsServer : server).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => {});
  });
  front.on('close', () => server.emit('close'));
  front.listen(port, host, onListening);
  return front;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).slice(0, 30).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  }
  const opts = parseArgs(process.argv.slice(2));
  const credentials = new CredentialStore();
  const servers = [];
  const principals = opts.principals ? PrincipalStore.fromFile(opts.principals) : null;
  const iamLog = (line) => {
    console.error(line);
    if (opts.iamLog) appendFileSync(opts.iamLog, `${line}\n`);
  };
  const graphql = createServer({ lambda: opts.lambda, credentials, principals, trustIdentityHeader: opts.trustIdentityHeader, kaIntervalMs: opts.kaIntervalMs, log: (m) => console.error(m), iamLog });
  const announce = (listener) => () => {
    const port = listener.address().port;
    console.log(`GraphQL endpoint: http://${opts.host}:${port}/graphql${opts.trustIdentityHeader ? ' (x-demo-identity trusted: tests only)' : ''}`);
    console.log(`Real-time endpoint: ${opts.tlsCert ? 'wss' : 'ws'}://${opts.host}:${port}/graphql/realtime`);
  };
  if (opts.tlsCert) {
    const front = listenHttpAndTls(graphql, { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) }, opts.port, opts.host, () => announce(front)());
    servers.push(front);
  } else {
    servers.push(graphql);
    graphql.listen(opts.port, opts.host, announce(graphql));
  }
  if (opts.dynamodb) {
    // template.yaml's stream event source mapping: the table's stream feeds its function.
    graphql.streams = startStreamPoller({
      dynamodb: opts.dynamodb,
      table: opts.table,
      lambda: opts.lambda,
      root: ROOT,
      region: process.env.AWS_REGION ?? REGION,
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? LOCAL_IAM_KEY.accessKeyId,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? LOCAL_IAM_KEY.secretAccessKey,
      log: (m) => console.error(m),
    });
    console.log(`DynamoDB stream of ${opts.table} feeds ${graphql.streams.stats().function}`);
  }
  if (opts.moto) {
    // With local IAM: the Identity Pool's roles (UserRole / GuestRole) and their trust policies.
    const roleOf = (kind) => principals?.roles.find((r) => r.logicalId === ROLES[kind].resource);
    const roles = principals ? { authenticated: roleOf('authenticated'), unauthenticated: roleOf('unauthenticated') } : null;
    const identity = createIdentityService({ motoUrl: opts.moto, store: credentials, principals, roles, firstPoolId: opts.identityPoolId ?? null, iamLog: (line) => iamLog(JSON.stringify({ time: new Date().toISOString(), ...line })) });
    const idServer = http.createServer((req, res) => identity.handle(req, res));
    servers.push(idServer);
    idServer.listen(opts.identityPort, opts.host, () => {
      console.log(`Cognito Identity endpoint: http://${opts.host}:${idServer.address().port} (configuration in moto at ${opts.moto})`);
    });
  }
  const stop = () => {
    // Open WebSockets would keep the listener from ever closing.
    graphql.realtime.close();
    graphql.streams?.stop();
    return Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
