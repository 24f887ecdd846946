// Unit tests of the real-time handlers (subscribe.js, publish-note-change.js,
// invalidate-tenant.js), run through the loader the local endpoint uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AppSyncError, loadAppsyncJs, withExtensions } from '../local/appsync-js.mjs';

const load = (file) => loadAppsyncJs(fileURLToPath(new URL(file, import.meta.url)));
const subscribe = load('./subscribe.js');
const publish = load('./publish-note-change.js');
const invalidate = load('./invalidate-tenant.js');

const userIdentity = { cognitoIdentityAuthType: 'authenticated', cognitoIdentityId: 'eu-central-1:a11ce000' };
const iamIdentity = { cognitoIdentityAuthType: null, cognitoIdentityId: null, userArn: 'arn:aws:sts::123456789012:assumed-role/Publisher/x', username: 'AROAPUBLISHER0000001:x' };
// The API's environment (template: GraphQLApi EnvironmentVariables).
const env = { PUBLISHER_ROLE_ID: 'AROAPUBLISHER0000001' };

function raised(fn) {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppSyncError) return { message: e.rawMessage, type: e.errorType };
    throw e;
  }
  assert.fail('no error was raised');
}

const grant = {
  tenantId: 'acme',
  filter: { or: [{ tenantId: { eq: 'acme' }, ownerId: { eq: 'me' } }, { tenantId: { eq: 'acme' }, visibility: { in: ['TENANT', 'PUBLIC'] } }] },
  invalidationFilter: { tenantId: { eq: 'acme' } },
};

test('subscribe.js sets exactly the filters the function answered, whatever the client sent', () => {
  const ctx = { arguments: { tenantId: 'globex', filter: '{"tenantId":{"ne":"x"}}' }, identity: userIdentity, source: null, info: {} };
  assert.equal(subscribe.request(ctx).operation, 'Invoke');
  assert.deepEqual(Object.keys(subscribe.request(ctx).payload).sort(), ['arguments', 'identity', 'info', 'source']);
  const { value, extensions } = withExtensions(subscribe.response, { ...ctx, result: grant });
  assert.equal(value, null);
  assert.deepEqual(extensions.map((e) => e.op), ['setSubscriptionFilter', 'setSubscriptionInvalidationFilter']);
  const [filter, invalidation] = extensions.map((e) => e.arg);
  assert.equal(filter.filterGroup.length, 2);
  assert.ok(filter.filterGroup.every((g) => g.filters.some((f) => f.fieldName === 'tenantId' && f.operator === 'eq' && f.value === 'acme')));
  assert.deepEqual(invalidation, { filterGroup: [{ filters: [{ fieldName: 'tenantId', operator: 'eq', value: 'acme' }] }] });
  // Nothing of the client's arguments made it into the filter.
  assert.ok(!JSON.stringify(filter).includes('globex'));
});

test('subscribe.js fails closed: typed errors pass on, a missing filter refuses the subscription', () => {
  const ctx = { arguments: {}, identity: userIdentity };
  assert.deepEqual(
    raised(() => withExtensions(subscribe.response, { ...ctx, error: { message: 'Forbidden: The tenant is suspended.', type: 'Lambda:Unhandled' } })),
    { message: 'The tenant is suspended.', type: 'Forbidden' },
  );
  for (const result of [null, {}, { filter: grant.filter }, { invalidationFilter: grant.invalidationFilter }]) {
    assert.equal(raised(() => withExtensions(subscribe.response, { ...ctx, result })).type, 'InternalError');
  }
});

const change = {
  kind: 'UPDATED', noteId: 'n1', tenantId: 'acme', ownerId: 'o1', visibility: 'TENANT', previousVisibility: null, revoked: false,
  note: { id: 'n1', tenantId: 'acme', ownerId: 'o1', title: 't', body: null, visibility: 'TENANT', version: 2, createdAt: 'x', updatedAt: 'y' },
};

test('publish-note-change.js passes a consistent change to subscribers', () => {
  const req = publish.request({ arguments: { change }, identity: iamIdentity, env });
  assert.deepEqual(req.payload, change);
  assert.deepEqual(publish.response({ result: req.payload }), change);
});

test('publish-note-change.js admits only sessions of the publisher role', () => {
  // Another role of the account, even one named like the publisher's, or with a session name
  // that looks like the role id; a plain IAM user; no environment at all (fails closed).
  const others = [
    { ...iamIdentity, userArn: 'arn:aws:sts::123456789012:assumed-role/Admin/AROAPUBLISHER0000001', username: 'AROAADMIN00000000001:AROAPUBLISHER0000001' },
    { ...iamIdentity, userArn: 'arn:aws:iam::123456789012:user/ops', username: 'AIDAOPS0000000000001' },
    { ...iamIdentity, username: 'AROAPUBLISHER0000001' },
    { ...iamIdentity, username: null },
  ];
  for (const identity of others) {
    assert.equal(raised(() => publish.request({ arguments: { change }, identity, env })).type, 'Unauthorized', JSON.stringify(identity));
  }
  assert.equal(raised(() => publish.request({ arguments: { change }, identity: iamIdentity })).type, 'Unauthorized');
  assert.equal(raised(() => publish.request({ arguments: { change }, identity: iamIdentity, env: {} })).type, 'Unauthorized');
});

test('publish-note-change.js refuses Identity Pool callers and inconsistent changes', () => {
  assert.equal(raised(() => publish.request({ arguments: { change }, identity: userIdentity, env })).type, 'Unauthorized');
  const bad = [
    { ...change, tenantId: 'globex' },
    { ...change, ownerId: 'o2' },
    { ...change, visibility: 'PUBLIC' },
    { ...change, noteId: 'n2' },
    { ...change, note: null },
    { ...change, kind: 'DELETED' },
    { ...change, kind: 'DELETED', note: null, revoked: true, previousVisibility: null },
    { ...change, revoked: true, note: null, previousVisibility: 'TENANT' },
  ];
  for (const c of bad) {
    assert.equal(raised(() => publish.request({ arguments: { change: c }, identity: iamIdentity, env })).type, 'ValidationError', JSON.stringify(c));
  }
  const revocation = { ...change, kind: 'DELETED', note: null, revoked: true, visibility: 'PRIVATE', previousVisibility: 'TENANT' };
  assert.deepEqual(publish.request({ arguments: { change: revocation }, identity: iamIdentity, env }).payload, revocation);
});

test('invalidate-tenant.js invalidates both subscription fields of the tenant, for IAM callers only', () => {
  const req = invalidate.request({ arguments: { tenantId: 'acme' }, identity: iamIdentity, env });
  const { value, extensions } = withExtensions(invalidate.response, { arguments: { tenantId: 'acme' }, result: req.payload });
  assert.deepEqual(extensions, [
    { op: 'invalidateSubscriptions', arg: { subscriptionField: 'onNoteChanged', payload: { tenantId: 'acme' } } },
    { op: 'invalidateSubscriptions', arg: { subscriptionField: 'onPublicNoteChanged', payload: { tenantId: 'acme' } } },
  ]);
  assert.deepEqual(value, { tenantId: 'acme', subscriptionFields: ['onNoteChanged', 'onPublicNoteChanged'] });
  assert.equal(raised(() => invalidate.request({ arguments: { tenantId: 'acme' }, identity: userIdentity, env })).type, 'Unauthorized');
  for (const bad of ['', 'ACME', 'a#b', 'x'.repeat(65)]) {
    assert.equal(raised(() => invalidate.request({ arguments: { tenantId: bad }, identity: iamIdentity, env })).type, 'ValidationError');
  }
});
