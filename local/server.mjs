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
//        --moto http://127.0.0.1:5000 --identity-port 4001
//
// Requests must be SigV4-signed (service appsync) with credentials the Identity Pool endpoint
// (--identity-port, Cognito Identity's own API; configuration in moto) issued; the signature is
// verified before anything runs (sigv4.mjs), and the caller's `identity` is built from the key's
// Identity Pool identity as AppSync builds it. Each role's root fields come from template.yaml's
// UserRole / GuestRole policies.
//
// --trust-identity-header also accepts `x-demo-identity: acme/alice` (identities.mjs) instead of a
// signature: a test tool for server.test.mjs, never what scripts/local.sh starts.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError, defaultFieldResolver, execute, parse, print, specifiedRules, validate } from 'graphql';
import { AppSyncError, loadAppsyncJs } from './appsync-js.mjs';
import { ACCOUNT_ID, DEMO_NAMES, REGION, appsyncIdentity, demoIdentity } from './identities.mjs';
import { CredentialStore, answerPreflight, createIdentityService } from './identity-pool.mjs';
import { Refusal, verifySigV4 } from './sigv4.mjs';
import { loadWiring } from './wiring.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { port: 4000, host: '127.0.0.1', lambda: 'http://127.0.0.1:9000', trustIdentityHeader: false, moto: null, identityPort: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--host') opts.host = argv[++i];
    else if (a === '--lambda') opts.lambda = argv[++i];
    else if (a === '--moto') opts.moto = argv[++i];
    else if (a === '--identity-port') opts.identityPort = Number(argv[++i]);
    else if (a === '--trust-identity-header') opts.trustIdentityHeader = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if ((opts.moto === null) !== (opts.identityPort === null)) throw new Error('--moto and --identity-port go together');
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

/** AppSync's `selectionSetList`: nested paths joined with '/', aliases where given. */
function selectionSetList(selectionSet, fragments, prefix = '', out = []) {
  for (const sel of selectionSet?.selections ?? []) {
    if (sel.kind === 'Field') {
      const name = (sel.alias ?? sel.name).value;
      if (name === '__typename') continue;
      const path = prefix ? `${prefix}/${name}` : name;
      out.push(path);
      if (sel.selectionSet) selectionSetList(sel.selectionSet, fragments, path, out);
    } else if (sel.kind === 'InlineFragment') {
      selectionSetList(sel.selectionSet, fragments, prefix, out);
    } else if (sel.kind === 'FragmentSpread') {
      selectionSetList(fragments[sel.name.value]?.selectionSet, fragments, prefix, out);
    }
  }
  return out;
}

function appsyncInfo(info) {
  const node = info.fieldNodes[0];
  return {
    parentTypeName: info.parentType.name,
    fieldName: info.fieldName,
    variables: info.variableValues ?? {},
    selectionSetList: selectionSetList(node.selectionSet, info.fragments),
    selectionSetGraphQL: node.selectionSet ? print(node.selectionSet) : '',
  };
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
 * `server.invocations` counts function invocations (a BatchInvoke counts once); GET
 * /__local/invocations answers it, so a test can assert that a refused request invoked nothing.
 */
export function createServer({ lambda, credentials = new CredentialStore(), trustIdentityHeader = false, region = REGION, accountId = ACCOUNT_ID }) {
  const { schema, resolvers, allows } = loadWiring(ROOT);
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
    // (template.yaml's UserRole / GuestRole), else the field is refused before its resolver runs.
    if (isRoot && !allows[context.identity.cognitoIdentityAuthType]?.(info.parentType.name, info.fieldName)) {
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
      } else {
        out = await invoke(wiring.function, req.payload);
      }
      return handler.response({ ...ctx, result: out.result ?? null, error: out.error });
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

  /** Who is calling: an AppSync identity, or a Refusal thrown before anything runs. */
  async function authenticate(req, body) {
    const demo = req.headers['x-demo-identity'];
    if (demo !== undefined) {
      if (!trustIdentityHeader) {
        throw new Refusal(403, 'UnauthorizedException', 'x-demo-identity is accepted only when the endpoint runs with --trust-identity-header (tests).');
      }
      const identity = demoIdentity(String(demo));
      if (!identity) throw new Refusal(401, 'UnauthorizedException', `Unknown demo identity '${demo}'; one of: ${DEMO_NAMES.join(', ')}.`);
      return identity;
    }
    const { record } = await verifySigV4({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
      region,
      service: 'appsync',
      lookup: (id) => credentials.lookup(id),
    });
    const ip = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    return appsyncIdentity({ ...record.who, sourceIp: ip, accountId });
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
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const result = await execute({
      schema,
      document,
      variableValues: body.variables ?? {},
      operationName: body.operationName,
      contextValue: { identity, headers, batchers: new Map() },
      fieldResolver,
    });
    const out = { data: result.data ?? null };
    if (result.errors?.length) out.errors = result.errors.map(formatError);
    return send(res, 200, out);
  });
  server.invocations = invocations;
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const credentials = new CredentialStore();
  const servers = [];
  const graphql = createServer({ lambda: opts.lambda, credentials, trustIdentityHeader: opts.trustIdentityHeader });
  servers.push(graphql);
  graphql.listen(opts.port, opts.host, () => {
    console.log(`GraphQL endpoint: http://${opts.host}:${graphql.address().port}/graphql${opts.trustIdentityHeader ? ' (x-demo-identity trusted: tests only)' : ''}`);
  });
  if (opts.moto) {
    const identity = createIdentityService({ motoUrl: opts.moto, store: credentials });
    const idServer = http.createServer((req, res) => identity.handle(req, res));
    servers.push(idServer);
    idServer.listen(opts.identityPort, opts.host, () => {
      console.log(`Cognito Identity endpoint: http://${opts.host}:${idServer.address().port} (configuration in moto at ${opts.moto})`);
    });
  }
  const stop = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
