// AppSync's real-time endpoint, served locally: GraphQL subscriptions over WebSocket with the
// `graphql-ws` subprotocol as AppSync speaks it (docs.aws.amazon.com/appsync/latest/devguide/
// real-time-websocket-client.html), so AppSync clients (Amplify JS v6, hand-written ones) work
// unchanged:
//
//   connect   wss://<host>/graphql/realtime (custom-domain form; /graphql too) with the auth
//             headers as base64 JSON in the `header` query parameter (+ base64 `payload`), or as
//             base64url JSON in a `header-<...>` subprotocol next to `graphql-ws`, or as plain
//             HTTP headers. For AWS_IAM they are a SigV4 signature of POST <graphqlUrl>/connect
//             with body `{}`, verified with sigv4.mjs before anything else; `host` must be the
//             GraphQL host.
//   client    {"type":"connection_init"}            server {"type":"connection_ack","payload":
//                                                    {"connectionTimeoutMs":300000}}, then "ka"s
//   client    {"type":"start","id":…,"payload":{"data":"{\"query\":…,\"variables\":…}",
//             "extensions":{"authorization":{…SigV4 of POST <graphqlUrl> with body = data…}}}}
//             server: host (the connection's rule), signature, GraphQL validation, the role's
//             field permission, then the field's resolver (the same APPSYNC_JS handler and
//             function as on AWS) → {"type":"start_ack"}
//             or {"type":"error","id":…,"payload":{"errors":[{errorType, message}]}}
//   server    {"type":"data","id":…,"payload":{"data":{<field>: …}}} for every published event the
//             subscription's filter lets through
//   client    {"type":"stop","id":…}                server {"type":"complete","id":…}
//
// Filtering is AppSync's: the filter the subscription resolver set with
// extensions.setSubscriptionFilter (subscription-filter.mjs: same shape, operators, OR of groups,
// AND within a group, same limits), and the client's arguments only when the resolver set no
// filter (basic filtering). Events come from mutations: when a mutation named in a subscription
// field's @aws_subscribe completes, its answer — exactly the fields the mutation selected — is the
// published object; each subscriber's own selection is then applied to it (fields the mutation did
// not select come back null; nested resolvers do not run).
//
// Invalidation: a mutation's response handler calling extensions.invalidateSubscriptions({
// subscriptionField, payload}) ends every subscription of that field whose invalidation filter
// (extensions.setSubscriptionInvalidationFilter) matches the payload: the client gets
// {"type":"complete","id":…,"payload":{"message":"Subscription complete."}} and its connection is
// closed, as the invalidation guide describes (aws-appsync-real-time-invalidation.html).
import { WebSocketServer } from 'ws';
import {
  GraphQLError,
  Kind,
  defaultFieldResolver,
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { AppSyncError, withExtensions } from './appsync-js.mjs';
import { fieldInfo } from './graphql-info.mjs';
import { FilterError, matches, validateFilter } from './subscription-filter.mjs';
import { Refusal } from './sigv4.mjs';

/** What connection_ack announces: how long a client waits for a "ka" before giving up. */
export const CONNECTION_TIMEOUT_MS = 300_000;
/** AppSync's default quota "Subscriptions per connection" (general/latest/gr/appsync.html). */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/** AppSync's quota "Subscription payload size": 240 kilobytes. */
export const MAX_PAYLOAD_BYTES = 240 * 1024;

const PATHS = new Set(['/graphql/realtime', '/graphql']);

/** Which subscription fields each mutation publishes to: @aws_subscribe(mutations: [...]). */
export function subscriptionsByMutation(schema) {
  const out = new Map();
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const directive = field.astNode?.directives?.find((d) => d.name.value === 'aws_subscribe');
    const arg = directive?.arguments?.find((a) => a.name.value === 'mutations');
    const names = arg?.value.kind === Kind.LIST ? arg.value.values.map((v) => v.value) : [];
    for (const m of names) {
      if (!out.has(m)) out.set(m, []);
      out.get(m).push(field.name);
    }
  }
  return out;
}

const lowerKeys = (obj) => Object.fromEntries(Object.entries(obj ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));

function decodeJson(text, encoding) {
  try {
    return JSON.parse(Buffer.from(text, encoding).toString('utf8'));
  } catch {
    throw new Refusal(400, 'BadRequestException', 'The connection header is not base64-encoded JSON.');
  }
}

/**
 * The connection's auth headers and signed body, from the three places AppSync reads them: the
 * `header`/`payload` query parameters, a `header-<base64url>` subprotocol, or the HTTP headers.
 */
export function connectionAuth(req) {
  const url = new URL(req.url, 'http://placeholder');
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const fromProtocol = protocols.find((p) => p.startsWith('header-'));
  if (url.searchParams.has('header')) {
    const payload = url.searchParams.has('payload') ? Buffer.from(url.searchParams.get('payload'), 'base64').toString('utf8') : '{}';
    return { headers: lowerKeys(decodeJson(url.searchParams.get('header'), 'base64')), body: payload };
  }
  if (fromProtocol) return { headers: lowerKeys(decodeJson(fromProtocol.slice('header-'.length), 'base64url')), body: '{}' };
  return { headers: lowerKeys(req.headers), body: '{}' };
}

/** AppSync's error entry for a refusal, a resolver error or a GraphQL error. */
function errorEntry(e) {
  if (e instanceof Refusal) return { errorType: e.errorType, errorCode: e.status, message: e.message };
  if (e instanceof AppSyncError) return { errorType: e.errorType, message: e.message, ...(e.errorInfo ? { errorInfo: e.errorInfo } : {}) };
  if (e instanceof FilterError) return { errorType: e.errorType, message: e.message };
  if (e instanceof GraphQLError) {
    return { errorType: e.extensions?.errorType ?? 'GraphQLValidationException', message: e.message, locations: e.locations ?? [] };
  }
  return { errorType: 'InternalFailure', message: String(e?.message ?? e) };
}

/**
 * A signature is only valid for the host it was made for: the auth headers of the connection and
 * of every start must name this API's host (the one the client connected to). A valid signature
 * for another AppSync API of the same account is not an authorization for this one.
 */
export function checkHost(headers, apiHost) {
  if (headers.host !== undefined && apiHost !== undefined && headers.host !== apiHost) {
    throw new Refusal(401, 'UnauthorizedException', `The header's host ${headers.host} is not this API's host ${apiHost}.`);
  }
}

class StartError extends Error {
  constructor(errors) {
    super(errors[0]?.message ?? 'error');
    this.errors = errors;
  }
}
const fail = (errorType, message, extra = {}) => new StartError([{ errorType, message, ...extra }]);

/**
 * The real-time endpoint.
 *   schema, resolvers (wiring: "Type.field" -> { dataSource, function, code }), handlers
 *   ("Type.field" -> loaded APPSYNC_JS), allows (principal kind -> (type, field) -> bool)
 *   invoke(function, payload) -> { result } | { error: { message, type } }
 *   authenticate({ headers, path, body, remoteAddress }) -> AppSync identity, or throws Refusal
 *   kaIntervalMs: how often "ka" is sent
 * Returns { handleUpgrade(req, socket, head), publish(mutationField, data), invalidate(field,
 * payload), stats(), close() }.
 */
export function createRealtime({ schema, resolvers, handlers, allows, invoke, authenticate, graphqlPath = '/graphql', kaIntervalMs = 60_000, log = () => {} }) {
  const byMutation = subscriptionsByMutation(schema);
  const wss = new WebSocketServer({
    noServer: true,
    // The client offers `graphql-ws` (and maybe a `header-…` auth subprotocol): answer graphql-ws.
    handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false),
    maxPayload: 1024 * 1024,
  });
  const connections = new Set();
  const counters = { connections: 0, started: 0, refused: 0, published: 0, delivered: 0, invalidated: 0 };

  const send = (conn, msg) => {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(JSON.stringify(msg));
  };

  async function handleUpgrade(req, socket, head) {
    const path = req.url.split('?')[0];
    if (!PATHS.has(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    let identity = null;
    let refusal = null;
    try {
      const { headers, body } = connectionAuth(req);
      checkHost(headers, req.headers.host);
      identity = await authenticate({ headers, path: `${graphqlPath}/connect`, body, remoteAddress: req.socket.remoteAddress });
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      refusal = e;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, identity, refusal));
  }

  function onConnection(ws, req, identity, refusal) {
    const conn = { ws, identity, refusal, subs: new Map(), pending: new Set(), ka: null, remoteAddress: req.socket.remoteAddress, host: req.headers.host };
    connections.add(conn);
    counters.connections += 1;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        send(conn, { type: 'error', payload: { errors: [{ errorType: 'UnsupportedOperation', message: 'Messages must be JSON.' }] } });
        return;
      }
      onMessage(conn, msg).catch((e) => log(`realtime: ${e.stack ?? e}`));
    });
    ws.on('close', () => {
      clearInterval(conn.ka);
      connections.delete(conn);
    });
    ws.on('error', () => {});
  }

  function refuseConnection(conn) {
    send(conn, { type: 'connection_error', payload: { errors: [errorEntry(conn.refusal)] } });
    conn.ws.close(1000);
  }

  async function onMessage(conn, msg) {
    switch (msg?.type) {
      case 'connection_init':
        if (conn.refusal) return refuseConnection(conn);
        send(conn, { type: 'connection_ack', payload: { connectionTimeoutMs: CONNECTION_TIMEOUT_MS } });
        send(conn, { type: 'ka' });
        clearInterval(conn.ka);
        conn.ka = setInterval(() => send(conn, { type: 'ka' }), kaIntervalMs);
        conn.ka.unref?.();
        return;
      case 'start':
        if (conn.refusal) return refuseConnection(conn);
        return start(conn, msg);
      case 'stop':
        conn.subs.delete(msg.id);
        conn.pending.delete(msg.id);
        send(conn, { type: 'complete', id: msg.id });
        return;
      default:
        send(conn, { type: 'error', ...(msg?.id ? { id: msg.id } : {}), payload: { errors: [{ errorType: 'UnsupportedOperation', message: `Unknown message type ${JSON.stringify(msg?.type ?? null)}.` }] } });
    }
  }

  /** Resolves a start message into a subscription, or throws StartError. */
  async function subscribe(conn, msg) {
    const id = msg.id;
    const authorization = msg.payload?.extensions?.authorization;
    if (!authorization || typeof authorization !== 'object') throw fail('UnauthorizedException', 'The start message carries no extensions.authorization.', { errorCode: 401 });
    const data = msg.payload?.data;
    if (typeof data !== 'string') throw fail('BadRequestException', 'payload.data must be the stringified {query, variables}.');
    let identity;
    try {
      // The connection's host rule, for every start: a start carries its own signature, which
      // must be for this API too (issue 19 §4.10).
      checkHost(lowerKeys(authorization), conn.host);
      identity = await authenticate({ headers: lowerKeys(authorization), path: graphqlPath, body: data, remoteAddress: conn.remoteAddress });
    } catch (e) {
      if (e instanceof Refusal) throw new StartError([errorEntry(e)]);
      throw e;
    }
    let request;
    try {
      request = JSON.parse(data);
    } catch {
      throw fail('BadRequestException', 'payload.data is not JSON.');
    }
    let document;
    try {
      document = parse(String(request?.query ?? ''));
    } catch (e) {
      throw new StartError([errorEntry(e)]);
    }
    const invalid = validate(schema, document, specifiedRules);
    if (invalid.length) throw new StartError(invalid.map(errorEntry));
    const op = getOperationAST(document, request.operationName);
    if (!op || op.operation !== 'subscription') throw fail('UnsupportedOperation', 'Only subscription operations are served over the real-time endpoint.');
    const vars = getVariableValues(schema, op.variableDefinitions ?? [], request.variables ?? {});
    if (vars.errors) throw new StartError(vars.errors.map(errorEntry));
    const fieldNode = op.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value !== '__typename');
    if (!fieldNode) throw fail('UnsupportedOperation', 'A subscription selects one root field.');
    const field = fieldNode.name.value;
    const fieldDef = schema.getSubscriptionType().getFields()[field];
    const args = getArgumentValues(fieldDef, fieldNode, vars.coerced);
    // AppSync's IAM check: the caller's role must grant appsync:GraphQL on the field's ARN.
    const kind = identity.cognitoIdentityAuthType ?? 'iam';
    if (!allows[kind]?.('Subscription', field)) {
      throw fail('Unauthorized', `Not Authorized to access ${field} on type Subscription`);
    }
    const fragments = Object.fromEntries(document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    let filter = null;
    let invalidationFilter = null;
    const wiring = resolvers.get(`Subscription.${field}`);
    if (wiring) {
      const handler = handlers.get(`Subscription.${field}`);
      const ctx = {
        arguments: JSON.parse(JSON.stringify(args)),
        identity,
        source: null,
        request: { headers: lowerKeys(authorization), domainName: null },
        info: fieldInfo({ parentTypeName: 'Subscription', node: fieldNode, fragments, variables: vars.coerced }),
        prev: null,
        stash: {},
      };
      try {
        const req = handler.request(ctx);
        const out = wiring.dataSource === 'AWS_LAMBDA' ? await invoke(wiring.function, req.payload) : { result: req.payload ?? null };
        const { extensions } = withExtensions(handler.response, { ...ctx, result: out.result ?? null, error: out.error });
        for (const { op: call, arg } of extensions) {
          if (call === 'setSubscriptionFilter') filter = validateFilter(arg);
          if (call === 'setSubscriptionInvalidationFilter') invalidationFilter = validateFilter(arg);
        }
      } catch (e) {
        if (e instanceof AppSyncError || e instanceof FilterError) throw new StartError([errorEntry(e)]);
        throw e;
      }
    }
    if (!filter) {
      // Basic filtering: no resolver filter, so every argument the client gave must equal the
      // published field of the same name.
      const rules = Object.entries(args).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => ({ fieldName: k, operator: 'eq', value: v }));
      filter = { filterGroup: [{ filters: rules }] };
    }
    return { id, field, document, operationName: request.operationName, variables: vars.coerced, filter, invalidationFilter, identity };
  }

  async function start(conn, msg) {
    const id = msg.id;
    if (typeof id !== 'string' || id === '') {
      send(conn, { type: 'error', payload: { errors: [{ errorType: 'BadRequestException', message: 'A start message needs an id.' }] } });
      return;
    }
    if (conn.subs.has(id) || conn.pending.has(id)) {
      send(conn, { type: 'error', id, payload: { errors: [{ errorType: 'DuplicatedOperationError', message: `Duplicated operation with id ${id}` }] } });
      return;
    }
    if (conn.subs.size + conn.pending.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      send(conn, { type: 'error', id, payload: { errors: [{ errorType: 'MaxSubscriptionsReachedError', message: `At most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions a connection.` }] } });
      return;
    }
    conn.pending.add(id);
    try {
      const sub = await subscribe(conn, msg);
      // Stopped (or closed) while its resolver ran: nothing to start.
      if (!conn.pending.delete(id) || conn.ws.readyState !== conn.ws.OPEN) return;
      conn.subs.set(id, sub);
      counters.started += 1;
      send(conn, { type: 'start_ack', id });
    } catch (e) {
      conn.pending.delete(id);
      counters.refused += 1;
      // Anything else (the function unreachable, say) fails this start, never silently.
      const errors = e instanceof StartError ? e.errors : [errorEntry(e)];
      if (!(e instanceof StartError)) log(`realtime: start ${id}: ${e.stack ?? e}`);
      send(conn, { type: 'error', id, payload: { errors } });
    }
  }

  /** A mutation named in @aws_subscribe completed with `data` (what it selected): deliver it. */
  function publish(mutationField, data) {
    const fields = byMutation.get(mutationField);
    if (!fields || data === null || data === undefined) return 0;
    counters.published += 1;
    let delivered = 0;
    for (const conn of connections) {
      for (const sub of conn.subs.values()) {
        if (!fields.includes(sub.field) || !matches(sub.filter, data)) continue;
        const result = execute({
          schema,
          document: sub.document,
          operationName: sub.operationName,
          variableValues: sub.variables,
          rootValue: { [sub.field]: data },
          fieldResolver: defaultFieldResolver,
        });
        const payload = { data: result.data ?? null };
        if (result.errors?.length) payload.errors = result.errors.map(errorEntry);
        send(conn, { type: 'data', id: sub.id, payload });
        delivered += 1;
      }
    }
    counters.delivered += delivered;
    return delivered;
  }

  /** extensions.invalidateSubscriptions({ subscriptionField, payload }). */
  function invalidate(subscriptionField, payload) {
    let count = 0;
    for (const conn of [...connections]) {
      let hit = false;
      for (const sub of [...conn.subs.values()]) {
        if (sub.field !== subscriptionField || !sub.invalidationFilter || !matches(sub.invalidationFilter, payload ?? {})) continue;
        conn.subs.delete(sub.id);
        send(conn, { type: 'complete', id: sub.id, payload: { message: 'Subscription complete.' } });
        hit = true;
        count += 1;
      }
      if (hit) conn.ws.close(1000, 'Subscription invalidated');
    }
    counters.invalidated += count;
    return count;
  }

  function stats() {
    let subscriptions = 0;
    for (const c of connections) subscriptions += c.subs.size;
    return { ...counters, open: connections.size, subscriptions };
  }

  function close() {
    for (const c of connections) c.ws.terminate();
    wss.close();
  }

  return { handleUpgrade, publish, invalidate, stats, close };
}
