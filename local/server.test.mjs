// The local endpoint against a stand-in for `cargo lambda watch` (an HTTP server that records
// the Invoke calls and answers as told), so its AppSync behaviour is tested without Rust.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { CredentialStore } from './identity-pool.mjs';
import { createServer } from './server.mjs';

const calls = [];
let answer = () => ({ status: 200, body: null });
let lambda;
let lambdaUrl;

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  lambda = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const fn = decodeURIComponent(req.url.split('/functions/')[1].split('/')[0]);
    const payload = JSON.parse(Buffer.concat(chunks).toString());
    calls.push({ fn, payload });
    const { status, body } = answer(fn, payload);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  lambdaUrl = await listen(lambda);
});

after(() => lambda.close());

async function withEndpoint(opts, fn) {
  const server = createServer({ lambda: lambdaUrl, ...opts });
  const base = await listen(server);
  try {
    await fn(`${base}/graphql`);
  } finally {
    server.close();
  }
}

async function post(url, query, who, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  if (who !== undefined) headers['x-demo-identity'] = who;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

test('the demo header is refused unless the endpoint trusts it (--trust-identity-header)', async () => {
  await withEndpoint({ trustIdentityHeader: false }, async (url) => {
    const r = await post(url, '{ me { identityId } }', 'acme/alice');
    assert.equal(r.status, 403);
    assert.match(r.body.errors[0].message, /--trust-identity-header/);
  });
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    assert.equal((await post(url, '{ me { identityId } }', 'nobody/x')).status, 401);
    // Without the header, a request needs a signature as on AppSync.
    const unsigned = await post(url, '{ me { identityId } }');
    assert.equal(unsigned.status, 403);
    assert.deepEqual(unsigned.body, { errors: [{ errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }] });
  });
});

test('a SigV4 request with Identity Pool credentials reaches the function as that identity', async () => {
  calls.length = 0;
  answer = () => ({ status: 200, body: { identityId: 'x' } });
  const credentials = new CredentialStore();
  const who = { identityId: 'eu-central-1:11111111-2222-4333-8444-555555555555', identityPoolId: 'eu-central-1:pool', provider: 'cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc', sub: 'sub-1' };
  const key = credentials.issue(who);
  await withEndpoint({ credentials }, async (url) => {
    const u = new URL(url);
    const body = JSON.stringify({ query: '{ me { identityId } }' });
    const signer = new SignatureV4({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken }, region: 'eu-central-1', service: 'appsync', sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, query: {}, headers: { host: u.host, 'content-type': 'application/json' }, body });
    const server = await fetch(url, { method: 'POST', headers: signed.headers, body });
    assert.equal(server.status, 200, await server.clone().text());
    assert.deepEqual(await server.json(), { data: { me: { identityId: 'x' } } });
    // The same key, the body changed after signing: refused, nothing invoked.
    const before = (await (await fetch(`${u.origin}/__local/invocations`)).json()).invocations;
    const tampered = await fetch(url, { method: 'POST', headers: signed.headers, body: body.replace('me', 'notes') });
    assert.equal(tampered.status, 403);
    assert.equal((await tampered.json()).errors[0].errorType, 'InvalidSignatureException');
    assert.equal((await (await fetch(`${u.origin}/__local/invocations`)).json()).invocations, before);
  });
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].payload.identity, {
    accountId: '123456789012',
    cognitoIdentityAuthProvider: '"cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc","cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc:CognitoSignIn:sub-1"',
    cognitoIdentityAuthType: 'authenticated',
    cognitoIdentityId: who.identityId,
    cognitoIdentityPoolId: who.identityPoolId,
    sourceIp: ['127.0.0.1'],
    userArn: 'arn:aws:sts::123456789012:assumed-role/NotesUserRole/CognitoIdentityCredentials',
    username: 'AROAUSERROLEID000001:CognitoIdentityCredentials',
  });
});

test('CORS: preflights are answered and answers carry AppSync\'s CORS headers', async () => {
  await withEndpoint({}, async (url) => {
    const pre = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-amz-date,x-amz-security-token,x-amz-user-agent' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers'), /x-amz-security-token/);
    const refused = await fetch(url, { method: 'POST', headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.headers.get('access-control-allow-origin'), '*');
    assert.equal(refused.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });
});

test('a field is resolved by its function with the Direct Lambda event AppSync sends', async () => {
  calls.length = 0;
  answer = () => ({ status: 200, body: { id: 'n1', title: 'T', extra: 'ignored' } });
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    const r = await post(url, 'query Q($id: ID!) { note(id: $id) { id heading: title } }', 'acme/alice', { id: 'n1' });
    assert.deepEqual(r.body, { data: { note: { id: 'n1', heading: 'T' } } });
  });
  assert.equal(calls.length, 1);
  const { fn, payload } = calls[0];
  assert.equal(fn, 'get-note');
  assert.deepEqual(payload.arguments, { id: 'n1' });
  assert.equal(payload.info.parentTypeName, 'Query');
  assert.equal(payload.info.fieldName, 'note');
  assert.deepEqual(payload.info.selectionSetList, ['id', 'heading']);
  assert.deepEqual(payload.info.variables, { id: 'n1' });
  assert.equal(payload.source, null);
  assert.equal(payload.identity.cognitoIdentityAuthType, 'authenticated');
  assert.match(payload.identity.cognitoIdentityAuthProvider, /^"cognito-idp\.[^"]+","cognito-idp\.[^"]+:CognitoSignIn:[^"]+"$/);
  // What resolvers/invoke.js sends: no request headers (session token, signature), prev or stash.
  assert.deepEqual(Object.keys(payload).sort(), ['arguments', 'identity', 'info', 'source']);
});

test('function errors come back typed, as the deployed response handler raises them', async () => {
  answer = () => ({ status: 500, body: { errorType: 'ConflictError', errorMessage: 'ConflictError: expectedVersion 1 is stale.' } });
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    const r = await post(url, 'mutation { deleteNote(id: "n1", expectedVersion: 1) { id } }', 'acme/alice');
    assert.equal(r.status, 200);
    assert.equal(r.body.data, null);
    assert.equal(r.body.errors[0].errorType, 'ConflictError');
    assert.equal(r.body.errors[0].message, 'expectedVersion 1 is stale.');
    assert.deepEqual(r.body.errors[0].path, ['deleteNote']);
  });
});

test('guests reach only the fields the guest role names, before any function runs', async () => {
  calls.length = 0;
  answer = () => ({ status: 200, body: { items: [], nextToken: null } });
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    const r = await post(url, '{ notes { items { id } } }', 'guest');
    assert.equal(r.body.errors[0].errorType, 'Unauthorized');
    assert.equal(calls.length, 0);
    const ok = await post(url, '{ publicNotes(tenantId: "acme") { items { id } } }', 'guest');
    assert.deepEqual(ok.body, { data: { publicNotes: { items: [] } } });
    assert.equal(calls[0].payload.identity.cognitoIdentityAuthType, 'unauthenticated');
  });
});

test('invalid queries are refused like AppSync does', async () => {
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    const r = await post(url, '{ nope }', 'acme/alice');
    assert.equal(r.status, 400);
    assert.equal(r.body.errors[0].errorType, 'GraphQLValidationException');
  });
});

test('batched nested fields reach their function as one BatchInvoke array per request', async () => {
  calls.length = 0;
  const notes = [1, 2, 3].map((i) => ({ id: `n${i}`, tenantId: 'acme', ownerId: `owner-${i % 2}`, title: `t${i}`, visibility: 'TENANT', version: 1, createdAt: 'x', updatedAt: 'x' }));
  answer = (fn, payload) => {
    if (fn === 'list-notes') return { status: 200, body: { items: notes, nextToken: null } };
    // note-author: one answer per event, in order; null for the second.
    return { status: 200, body: payload.map((e, i) => (i === 1 ? null : { identityId: e.source.ownerId, displayName: `name of ${e.source.id}`, role: 'MEMBER', updatedAt: 'x' })) };
  };
  await withEndpoint({ trustIdentityHeader: true }, async (url) => {
    const r = await post(url, '{ notes { items { id author { displayName } } } }', 'acme/alice');
    assert.deepEqual(r.body.data.notes.items, [
      { id: 'n1', author: { displayName: 'name of n1' } },
      { id: 'n2', author: null },
      { id: 'n3', author: { displayName: 'name of n3' } },
    ]);
  });
  assert.deepEqual(calls.map((c) => c.fn), ['list-notes', 'note-author']);
  const batch = calls[1].payload;
  assert.ok(Array.isArray(batch) && batch.length === 3);
  assert.deepEqual(batch.map((e) => e.source.id), ['n1', 'n2', 'n3']);
  assert.equal(batch[0].info.parentTypeName, 'Note');
  assert.equal(batch[0].info.fieldName, 'author');
  assert.deepEqual(batch[0].info.selectionSetList, ['displayName']);
});
