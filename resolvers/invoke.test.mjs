// Unit tests of the APPSYNC_JS resolver handler, run with `node --test resolvers/`.
// The handler runs through the same loader the local endpoint uses (local/appsync-js.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AppSyncError, loadAppsyncJs } from '../local/appsync-js.mjs';

const load = (file) => loadAppsyncJs(fileURLToPath(new URL(file, import.meta.url)));
const handlers = { 'invoke.js': load('./invoke.js'), 'batch-invoke.js': load('./batch-invoke.js') };

// A context as AppSync builds it for Query.note under AWS_IAM.
function ctx(extra = {}) {
  return {
    arguments: { id: 'n-1' },
    identity: {
      accountId: '123456789012',
      cognitoIdentityAuthProvider:
        '"cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1","cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AcmePool1:CognitoSignIn:2f1c5a3e"',
      cognitoIdentityAuthType: 'authenticated',
      cognitoIdentityId: 'eu-central-1:a11ce000',
      cognitoIdentityPoolId: 'eu-central-1:1cb638b4',
      sourceIp: ['203.0.113.7'],
      userArn: 'arn:aws:sts::123456789012:assumed-role/NotesUserRole/CognitoIdentityCredentials',
      username: 'AROA:CognitoIdentityCredentials',
    },
    source: null,
    request: { headers: { host: 'x.appsync-api.eu-central-1.amazonaws.com' }, domainName: null },
    info: {
      parentTypeName: 'Query',
      fieldName: 'note',
      variables: { id: 'n-1' },
      selectionSetList: ['id', 'title'],
      selectionSetGraphQL: '{ id title }',
    },
    prev: null,
    stash: {},
    ...extra,
  };
}

function raised(fn) {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppSyncError) return { message: e.rawMessage, type: e.errorType };
    throw e;
  }
  assert.fail('util.error was not called');
}

test('request invokes the function with the parts of the Direct Lambda event it reads', () => {
  const c = ctx();
  assert.equal(handlers['invoke.js'].request(c).operation, 'Invoke');
  // Batched fields: AppSync collects these payloads into one array per invocation.
  assert.equal(handlers['batch-invoke.js'].request(c).operation, 'BatchInvoke');
  for (const handler of Object.values(handlers)) {
    const req = handler.request(c);
    assert.deepEqual(Object.keys(req.payload).sort(), ['arguments', 'identity', 'info', 'source']);
    assert.deepEqual(req.payload.identity, c.identity);
    assert.deepEqual(req.payload.info, c.info);
    assert.deepEqual(req.payload.arguments, c.arguments);
    assert.equal(req.payload.source, null);
  }
});

for (const [file, handler] of Object.entries(handlers)) test(`request headers, prev and stash never reach the function (${file})`, () => {
  const c = ctx({
    // The caller's session token and signature are request headers under AWS_IAM.
    request: { headers: { 'x-amz-security-token': 'SESSION-TOKEN', authorization: 'AWS4-HMAC-SHA256 Credential=ASIA…' } },
    prev: { result: { secret: 'PREV' } },
    stash: { secret: 'STASH' },
    source: { id: 'n-1', ownerId: 'eu-central-1:a11ce000' },
  });
  const payload = handler.request(c).payload;
  assert.deepEqual(payload.source, c.source);
  const sent = JSON.stringify(payload);
  for (const secret of ['SESSION-TOKEN', 'AWS4-HMAC-SHA256', 'PREV', 'STASH']) {
    assert.ok(!sent.includes(secret), `${secret} was sent to the function`);
  }
});

for (const [file, handler] of Object.entries(handlers)) test(`response passes results through, null included (${file})`, () => {
  const note = { id: 'n-1', title: 't' };
  assert.deepEqual(handler.response(ctx({ result: note })), note);
  assert.equal(handler.response(ctx({ result: null })), null);
});

for (const [file, handler] of Object.entries(handlers)) test(`typed function errors become typed GraphQL errors (${file})`, () => {
  for (const type of ['Unauthorized', 'Forbidden', 'NotFound', 'ValidationError', 'ConflictError', 'Unavailable', 'InternalError']) {
    const message = `${type}: Something a client can act on: with a colon.`;
    const e = raised(() => handler.response(ctx({ error: { message, type: 'Lambda:Unhandled' } })));
    assert.deepEqual(e, { type, message: 'Something a client can act on: with a colon.' });
  }
});

for (const [file, handler] of Object.entries(handlers)) test(`other errors pass through unchanged (${file})`, () => {
  for (const error of [
    { message: 'Task timed out after 10.00 seconds', type: 'Lambda:Unhandled' },
    { message: 'NotOurs: message', type: 'Lambda:Unhandled' },
    { message: 'NotFound without separator', type: 'Lambda:Unhandled' },
    { message: undefined, type: 'Lambda:Unhandled' },
  ]) {
    const e = raised(() => handler.response(ctx({ error })));
    assert.deepEqual(e, { message: error.message, type: 'Lambda:Unhandled' });
  }
});

for (const [file, handler] of Object.entries(handlers)) test(`splitError only accepts our error types (${file})`, () => {
  assert.deepEqual(handler.splitError('ConflictError: stale'), { type: 'ConflictError', message: 'stale' });
  assert.equal(handler.splitError('Lambda:Unhandled: x'), null);
  assert.equal(handler.splitError(null), null);
  assert.equal(handler.splitError(''), null);
});
