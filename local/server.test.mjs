// The local endpoint against a stand-in for `cargo lambda watch` (an HTTP server that records
// the Invoke calls and answers as told), so its AppSync behaviour is tested without Rust.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
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

test('the demo header is refused unless the endpoint runs in local mode', async () => {
  await withEndpoint({ local: false }, async (url) => {
    const r = await post(url, '{ me { identityId } }', 'acme/alice');
    assert.equal(r.status, 403);
    assert.match(r.body.errors[0].message, /local mode/);
  });
  await withEndpoint({ local: true }, async (url) => {
    assert.equal((await post(url, '{ me { identityId } }', 'nobody/x')).status, 401);
    assert.equal((await post(url, '{ me { identityId } }')).status, 401);
  });
});

test('a field is resolved by its function with the Direct Lambda event AppSync sends', async () => {
  calls.length = 0;
  answer = () => ({ status: 200, body: { id: 'n1', title: 'T', extra: 'ignored' } });
  await withEndpoint({ local: true }, async (url) => {
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
  assert.deepEqual(Object.keys(payload).sort(), ['arguments', 'identity', 'info', 'prev', 'request', 'source', 'stash']);
});

test('function errors come back typed, as the deployed response handler raises them', async () => {
  answer = () => ({ status: 500, body: { errorType: 'ConflictError', errorMessage: 'ConflictError: expectedVersion 1 is stale.' } });
  await withEndpoint({ local: true }, async (url) => {
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
  await withEndpoint({ local: true }, async (url) => {
    const r = await post(url, '{ notes { items { id } } }', 'guest');
    assert.equal(r.body.errors[0].errorType, 'Unauthorized');
    assert.equal(calls.length, 0);
    const ok = await post(url, '{ publicNotes(tenantId: "acme") { items { id } } }', 'guest');
    assert.deepEqual(ok.body, { data: { publicNotes: { items: [] } } });
    assert.equal(calls[0].payload.identity.cognitoIdentityAuthType, 'unauthenticated');
  });
});

test('invalid queries are refused like AppSync does', async () => {
  await withEndpoint({ local: true }, async (url) => {
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
  await withEndpoint({ local: true }, async (url) => {
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
