#!/usr/bin/env node
// A local AppSync-style GraphQL endpoint. Every field that template.yaml gives a resolver is
// resolved by invoking the real function under `cargo lambda watch`, through the same
// APPSYNC_JS handler the deployed resolver runs (resolvers/*.js): the same Direct Lambda event,
// BatchInvoke arrays for batched fields, and typed errors as AppSync would return them.
//
//   node local/server.mjs --port 4000 --lambda http://127.0.0.1:9000 --local
//
// No Identity Pool runs locally, so in local mode (--local) the caller is chosen per request by
// the header `x-demo-identity: acme/alice` (see identities.mjs). Without --local the header is
// refused.
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError, defaultFieldResolver, execute, parse, print, specifiedRules, validate } from 'graphql';
import { AppSyncError, loadAppsyncJs } from './appsync-js.mjs';
import { DEMO_NAMES, demoIdentity } from './identities.mjs';
import { loadWiring } from './wiring.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { port: 4000, host: '127.0.0.1', lambda: 'http://127.0.0.1:9000', local: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--host') opts.host = argv[++i];
    else if (a === '--lambda') opts.lambda = argv[++i];
    else if (a === '--local') opts.local = true;
    else throw new Error(`unknown argument ${a}`);
  }
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
  constructor(lambdaUrl, fn, maxBatchSize) {
    this.lambdaUrl = lambdaUrl;
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
      const out = await invokeFunction(this.lambdaUrl, this.fn, chunk.map((c) => c.payload));
      chunk.forEach((c, j) => {
        if (out.error) c.resolve({ error: out.error });
        else if (!Array.isArray(out.result) || out.result.length !== chunk.length) {
          c.resolve({ error: { message: `${this.fn} answered a batch of ${chunk.length} with ${JSON.stringify(out.result)?.slice(0, 80)}`, type: 'Lambda:Unhandled' } });
        } else c.resolve({ result: out.result[j] });
      });
    }
  }
}

export function createServer({ lambda, local }) {
  const { schema, resolvers, guestFields } = loadWiring(ROOT);
  const handlers = new Map();
  for (const [key, w] of resolvers) handlers.set(key, loadAppsyncJs(w.code));

  async function fieldResolver(source, args, context, info) {
    const key = `${info.parentType.name}.${info.fieldName}`;
    const wiring = resolvers.get(key);
    if (!wiring) return defaultFieldResolver(source, args, context, info);
    const isRoot = info.parentType.name === 'Query' || info.parentType.name === 'Mutation';
    // The Identity Pool's guest role may call only the fields its IAM policy names.
    if (isRoot && context.identity?.cognitoIdentityAuthType === 'unauthenticated' && !guestFields.has(key)) {
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
          batcher = new Batcher(lambda, wiring.function, Math.max(1, wiring.maxBatchSize || 1));
          context.batchers.set(key, batcher);
        }
        out = await batcher.load(req.payload);
      } else {
        out = await invokeFunction(lambda, wiring.function, req.payload);
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

  function send(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  return http.createServer(async (req, res) => {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/')) {
      return send(res, 200, { ok: true, fields: [...resolvers.keys()], identities: local ? DEMO_NAMES : [] });
    }
    if (req.url !== '/graphql' || req.method !== 'POST') {
      return send(res, 404, { errors: [{ errorType: 'NotFound', message: 'POST GraphQL requests to /graphql' }] });
    }
    const demo = req.headers['x-demo-identity'];
    let identity = null;
    if (demo !== undefined) {
      if (!local) {
        return send(res, 403, { errors: [{ errorType: 'UnauthorizedException', message: 'x-demo-identity is accepted only when the endpoint runs in local mode (--local).' }] });
      }
      identity = demoIdentity(String(demo));
      if (!identity) {
        return send(res, 401, { errors: [{ errorType: 'UnauthorizedException', message: `Unknown demo identity '${demo}'; one of: ${DEMO_NAMES.join(', ')}.` }] });
      }
    } else {
      // AppSync refuses an AWS_IAM request without a signature before any resolver runs.
      return send(res, 401, { errors: [{ errorType: 'UnauthorizedException', message: local ? `Valid authorization header not provided: send x-demo-identity (one of: ${DEMO_NAMES.join(', ')}).` : 'Valid authorization header not provided.' }] });
    }

    let body;
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
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
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const server = createServer(opts);
  server.listen(opts.port, opts.host, () => {
    console.log(`GraphQL endpoint: http://${opts.host}:${server.address().port}/graphql${opts.local ? ' (local mode: x-demo-identity accepted)' : ''}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
