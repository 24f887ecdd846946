// The real-time endpoint's protocol, authorization, filtering and invalidation, against a small
// schema and a stand-in for the functions (no Rust, no AWS): what an AppSync WebSocket client
// sees, message by message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { buildSchema } from 'graphql';
import { WebSocket } from 'ws';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadAppsyncJs } from './appsync-js.mjs';
import { CredentialStore } from './identity-pool.mjs';
import { appsyncIdentity } from './identities.mjs';
import { createRealtime } from './realtime.mjs';
import { verifySigV4 } from './sigv4.mjs';
import { APPSYNC_PRELUDE } from './wiring.mjs';

const REGION = 'eu-central-1';
const schema = buildSchema(`${APPSYNC_PRELUDE}
type Query { x: Int }
type Mutation { publish(tenantId: ID!, ownerId: ID!, title: String!): Event }
type Event { tenantId: ID! ownerId: ID! title: String! }
type Subscription {
  onEvent(tenantId: ID): Event @aws_subscribe(mutations: ["publish"])
  onBasic(tenantId: ID): Event @aws_subscribe(mutations: ["publish"])
  forbidden: Event @aws_subscribe(mutations: ["publish"])
}`);

const subscribeJs = loadAppsyncJs(fileURLToPath(new URL('../resolvers/subscribe.js', import.meta.url)));
const resolvers = new Map([['Subscription.onEvent', { dataSource: 'AWS_LAMBDA', function: 'on-event', code: 'subscribe.js' }]]);
const handlers = new Map([['Subscription.onEvent', subscribeJs]]);
const allows = { authenticated: (t, f) => f !== 'forbidden', unauthenticated: () => false };

// The function behind onEvent: a user's tenant is its identity's "tenant" (the provider's pool),
// whatever the arguments say; guests are refused.
const invocations = [];
async function invoke(fn, payload) {
  invocations.push({ fn, payload });
  const id = payload.identity;
  if (id.cognitoIdentityAuthType !== 'authenticated') return { error: { message: 'Unauthorized: Sign in to subscribe.', type: 'Lambda:Unhandled' } };
  const tenant = id.cognitoIdentityAuthProvider.includes('Acme') ? 'acme' : 'globex';
  // shared/src/realtime.rs member_invalidation_filter: the tenant, or this user by sub.
  const sub = id.cognitoIdentityAuthProvider.split(':CognitoSignIn:')[1]?.replace(/"/g, '');
  const invalidationFilter = { or: [{ tenantId: { eq: tenant } }, { userTenantId: { eq: tenant }, userSub: { eq: sub } }] };
  return { result: { tenantId: tenant, filter: { tenantId: { eq: tenant } }, invalidationFilter } };
}

const store = new CredentialStore();
const pool = 'eu-central-1:1cb638b4-0f0c-4078-9fe0-4dbd3582783d';
const alice = store.issue({ identityPoolId: pool, identityId: 'eu-central-1:a11ce', provider: 'cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1', sub: 's1' });
const bob = store.issue({ identityPoolId: pool, identityId: 'eu-central-1:b0b', provider: 'cognito-idp.eu-central-1.amazonaws.com/eu-central-1_GlobexPl1', sub: 's2' });
const guest = store.issue({ identityPoolId: pool, identityId: 'eu-central-1:9e57', provider: null, sub: null });

async function authenticate({ headers, path, body }) {
  const { record } = await verifySigV4({ method: 'POST', url: path, headers, body: Buffer.from(body), region: REGION, service: 'appsync', lookup: (k) => store.lookup(k) });
  return appsyncIdentity(record.who);
}

let server;
let realtime;
let host;

before(async () => {
  realtime = createRealtime({ schema, resolvers, handlers, allows, invoke, authenticate, kaIntervalMs: 50 });
  server = http.createServer((req, res) => res.end());
  server.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${server.address().port}`;
});

after(() => {
  realtime.close();
  server.close();
});

/** The headers Amplify signs: POST http://<host><path> with `body`, AppSync's real-time headers. */
async function signed(creds, path, body, signedHost = host) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
    region: REGION,
    service: 'appsync',
    sha256: Sha256,
  });
  const req = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: Number(host.split(':')[1]),
    path,
    headers: { accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8', host: signedHost },
    body,
  });
  return req.headers;
}

/** A client: connects with `how` ('query' | 'protocol'), collects messages. */
async function connect(creds, { how = 'query', header } = {}) {
  const h = header ?? (await signed(creds, '/graphql/connect', '{}'));
  const json = JSON.stringify(h);
  const url = how === 'query'
    ? `ws://${host}/graphql/realtime?header=${encodeURIComponent(Buffer.from(json).toString('base64'))}&payload=e30=`
    : `ws://${host}/graphql/realtime`;
  const protocols = how === 'query' ? ['graphql-ws'] : ['graphql-ws', `header-${Buffer.from(json).toString('base64url')}`];
  const ws = new WebSocket(url, protocols);
  const messages = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const next = (pred, ms = 2000, from = 0) => {
    const found = messages.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.push(w);
      setTimeout(() => reject(new Error(`no message matching ${pred} in ${ms} ms; got ${JSON.stringify(messages)}`)), ms).unref();
    });
  };
  return {
    ws,
    messages,
    closed,
    next,
    send: (m) => ws.send(JSON.stringify(m)),
    async start(id, query, variables = {}, who = creds) {
      const data = JSON.stringify({ query, variables });
      const from = messages.length;
      ws.send(JSON.stringify({ id, type: 'start', payload: { data, extensions: { authorization: await signed(who, '/graphql', data) } } }));
      return next((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'), 2000, from);
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 50));
const SUB = 'subscription S($t: ID) { onEvent(tenantId: $t) { tenantId ownerId title } }';

test('handshake with headers in the query string or in a header- subprotocol: connection_ack, then ka', async () => {
  for (const how of ['query', 'protocol']) {
    const c = await connect(alice, { how });
    assert.equal(c.ws.protocol, 'graphql-ws');
    c.send({ type: 'connection_init' });
    const ack = await c.next((m) => m.type === 'connection_ack');
    assert.equal(ack.payload.connectionTimeoutMs, 300000);
    await c.next((m) => m.type === 'ka');
    c.ws.close();
  }
});

test('a connection signed wrongly, or for another host, gets connection_error and is closed', async () => {
  const h = await signed(alice, '/graphql/connect', '{}');
  for (const header of [{ ...h, authorization: h.authorization.replace(/Signature=\w+/, 'Signature=00') }, { ...h, host: 'evil.example' }, { host }]) {
    const c = await connect(alice, { header });
    c.send({ type: 'connection_init' });
    const err = await c.next((m) => m.type === 'connection_error');
    assert.ok([401, 403].includes(err.payload.errors[0].errorCode), JSON.stringify(err));
    await c.closed;
  }
});

test('start → start_ack; data only for what the filter lets through; stop → complete, then nothing', async () => {
  const a = await connect(alice);
  a.send({ type: 'connection_init' });
  await a.next((m) => m.type === 'connection_ack');
  assert.equal((await a.start('s1', SUB)).type, 'start_ack');
  realtime.publish('publish', { tenantId: 'globex', ownerId: 'o', title: 'globex secret' });
  realtime.publish('publish', { tenantId: 'acme', ownerId: 'o', title: 'acme news' });
  const data = await a.next((m) => m.type === 'data');
  assert.deepEqual(data, { type: 'data', id: 's1', payload: { data: { onEvent: { tenantId: 'acme', ownerId: 'o', title: 'acme news' } } } });
  a.send({ type: 'stop', id: 's1' });
  await a.next((m) => m.type === 'complete' && m.id === 's1');
  realtime.publish('publish', { tenantId: 'acme', ownerId: 'o', title: 'after stop' });
  await settle();
  assert.equal(a.messages.filter((m) => m.type === 'data').length, 1);
  a.ws.close();
});

test('arguments cannot widen a resolver filter; without a resolver they are the (basic) filter', async () => {
  const b = await connect(bob);
  b.send({ type: 'connection_init' });
  // Bob names acme: the resolver's filter is globex's anyway.
  assert.equal((await b.start('forged', SUB, { t: 'acme' })).type, 'start_ack');
  assert.equal((await b.start('basic', 'subscription { onBasic(tenantId: "acme") { title } }')).type, 'start_ack');
  realtime.publish('publish', { tenantId: 'acme', ownerId: 'o', title: 'for acme' });
  await settle();
  assert.deepEqual(b.messages.filter((m) => m.type === 'data').map((m) => m.id), ['basic']);
  // A field the role does not grant, an unknown argument, a duplicate id, a query: refused.
  assert.equal((await b.start('f', 'subscription { forbidden { title } }')).payload.errors[0].errorType, 'Unauthorized');
  assert.match((await b.start('g', 'subscription { onEvent(filter: "{}") { title } }')).payload.errors[0].message, /Unknown argument "filter"/);
  assert.equal((await b.start('forged', SUB)).payload.errors[0].errorType, 'DuplicatedOperationError');
  assert.equal((await b.start('q', '{ x }')).payload.errors[0].errorType, 'UnsupportedOperation');
  b.ws.close();
});

test("a start signed for other data, or by a refused caller, is an error and starts nothing", async () => {
  const c = await connect(alice);
  c.send({ type: 'connection_init' });
  const data = JSON.stringify({ query: SUB, variables: {} });
  const authorization = await signed(alice, '/graphql', JSON.stringify({ query: '{ x }' }));
  c.send({ id: 'tampered', type: 'start', payload: { data, extensions: { authorization } } });
  const err = await c.next((m) => m.id === 'tampered');
  assert.equal(err.payload.errors[0].errorType, 'InvalidSignatureException');
  const g = await c.start('guest', SUB, {}, guest);
  assert.equal(g.type, 'error');
  assert.equal(g.payload.errors[0].errorType, 'Unauthorized');
  // The refused caller's function ran (it decides), nothing was acknowledged.
  assert.ok(!c.messages.some((m) => m.type === 'start_ack'));
  c.ws.close();
});

test("a start signed for another API's host is refused like such a connection, and starts nothing", async () => {
  const c = await connect(alice);
  c.send({ type: 'connection_init' });
  await c.next((m) => m.type === 'connection_ack');
  const data = JSON.stringify({ query: SUB, variables: {} });
  const calls = invocations.length;
  // A valid signature by alice, but made for another AppSync API of the account.
  for (const other of ['other-api.appsync-api.eu-central-1.amazonaws.com', `127.0.0.1:${Number(host.split(':')[1]) + 1}`]) {
    const authorization = await signed(alice, '/graphql', data, other);
    const id = `elsewhere-${other}`;
    c.send({ id, type: 'start', payload: { data, extensions: { authorization } } });
    const err = await c.next((m) => m.id === id);
    assert.equal(err.type, 'error', JSON.stringify(err));
    assert.equal(err.payload.errors[0].errorType, 'UnauthorizedException');
    assert.equal(err.payload.errors[0].errorCode, 401);
  }
  // Refused before the resolver: the function never ran, nothing was acknowledged.
  assert.equal(invocations.length, calls);
  assert.ok(!c.messages.some((m) => m.type === 'start_ack'));
  // The same start signed for this host is served on the same connection.
  assert.equal((await c.start('here', SUB)).type, 'start_ack');
  c.ws.close();
});

test('invalidation ends the matching subscriptions with complete and closes their connections', async () => {
  const a = await connect(alice);
  const b = await connect(bob);
  for (const c of [a, b]) c.send({ type: 'connection_init' });
  await a.start('a1', SUB);
  await b.start('b1', SUB);
  assert.equal(realtime.invalidate('onEvent', { tenantId: 'acme' }), 1);
  const done = await a.next((m) => m.type === 'complete');
  assert.deepEqual(done, { type: 'complete', id: 'a1', payload: { message: 'Subscription complete.' } });
  await a.closed;
  realtime.publish('publish', { tenantId: 'globex', ownerId: 'o', title: 'still here' });
  await b.next((m) => m.type === 'data' && m.id === 'b1');
  b.ws.close();
});

test('invalidation by user ends that user\'s subscriptions only, and not by the tenant\'s group', async () => {
  const carol = store.issue({ identityPoolId: pool, identityId: 'eu-central-1:ca201', provider: 'cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1', sub: 's3' });
  const a = await connect(alice);
  const c = await connect(carol);
  for (const x of [a, c]) x.send({ type: 'connection_init' });
  assert.equal((await a.start('a1', SUB)).type, 'start_ack');
  assert.equal((await c.start('c1', SUB)).type, 'start_ack');
  // The same sub in another tenant, or the tenant's id under another key, ends nothing.
  assert.equal(realtime.invalidate('onEvent', { userTenantId: 'globex', userSub: 's1' }), 0);
  assert.equal(realtime.invalidate('onEvent', { userTenantId: 'acme' }), 0);
  assert.equal(realtime.invalidate('onEvent', { userTenantId: 'acme', userSub: 's1' }), 1);
  await a.next((m) => m.type === 'complete' && m.id === 'a1');
  await a.closed;
  realtime.publish('publish', { tenantId: 'acme', ownerId: 'o', title: 'carol still hears' });
  await c.next((m) => m.type === 'data' && m.id === 'c1');
  c.ws.close();
});
