// The evaluator's answers for template.yaml's own roles (allowed / denied per statement), in both
// credentials modes, and AWS's refusal text.
import test from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from './evaluate.mjs';
import { loadStackPolicies } from './policies.mjs';
import { buildPrincipals } from './principals.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const T = 'arn:aws:dynamodb:eu-central-1:123456789012:table/notes-local';
const lk = (...keys) => ({ 'dynamodb:LeadingKeys': keys });
const principalsFor = (scoped) => {
  const stack = loadStackPolicies(ROOT, { tableName: 'notes-local', parameters: { TenantScopedCredentials: String(scoped) } });
  return { stack, byName: new Map(buildPrincipals(stack).map((p) => [p.name, p])) };
};

async function expect(principal, action, resource, context, allowed) {
  const d = await evaluate(principal, { action, resource, context });
  assert.equal(d.allowed, allowed, `${principal.name} ${action} ${resource} ${JSON.stringify(context)}: ${d.result} ${JSON.stringify(d.missing)}`);
  return d;
}

test('default mode: each function role allows exactly what template.yaml grants it', async () => {
  const { byName } = principalsFor(false);
  const fn = (n) => byName.get(`function:${n}`);
  const cases = [
    ['me', 'dynamodb:GetItem', T, lk('REGISTRY'), true],
    ['me', 'dynamodb:GetItem', T, lk('TENANT#acme'), false],
    ['get-note', 'dynamodb:GetItem', T, lk('TENANT#acme'), true],
    ['get-note', 'dynamodb:PutItem', T, lk('TENANT#acme'), false],
    ['get-note', 'dynamodb:Query', `${T}/index/gsi2`, lk('TENANT#acme'), false],
    ['list-notes', 'dynamodb:Query', `${T}/index/gsi2`, lk('TENANT#acme'), true],
    ['list-notes', 'dynamodb:Query', `${T}/index/gsi1`, lk('PUBLIC#acme'), false],
    ['list-notes', 'dynamodb:Query', T, lk('TENANT#acme'), false],
    ['public-notes', 'dynamodb:Query', `${T}/index/gsi1`, lk('PUBLIC#acme'), true],
    ['public-notes', 'dynamodb:Query', `${T}/index/gsi2`, lk('TENANT#acme'), false],
    ['create-note', 'dynamodb:PutItem', T, lk('TENANT#acme'), true],
    ['create-note', 'dynamodb:UpdateItem', T, lk('TENANT#acme'), false],
    ['update-note', 'dynamodb:UpdateItem', T, lk('TENANT#acme'), true],
    ['update-note', 'dynamodb:PutItem', T, lk('TENANT#acme'), false],
    ['delete-note', 'dynamodb:DeleteItem', T, lk('TENANT#acme'), true],
    ['note-author', 'dynamodb:BatchGetItem', T, lk('TENANT#acme'), true],
    ['set-role', 'dynamodb:ConditionCheckItem', T, { ...lk('TENANT#acme'), 'dynamodb:EnclosingOperation': 'TransactWriteItems' }, true],
    ['set-role', 'dynamodb:PutItem', T, { ...lk('TENANT#acme'), 'dynamodb:EnclosingOperation': 'TransactWriteItems' }, false],
    ['update-my-profile', 'dynamodb:PutItem', T, { ...lk('TENANT#acme'), 'dynamodb:EnclosingOperation': 'TransactWriteItems' }, true],
    ['on-note-changed', 'dynamodb:GetItem', T, lk('REGISTRY'), true],
    ['note-publisher', 'dynamodb:GetItem', T, lk('REGISTRY'), false],
    ['get-note', 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:notes-local-PageTokenSecret-AbCdEf', {}, false],
    ['list-notes', 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:notes-local-PageTokenSecret-AbCdEf', {}, true],
  ];
  for (const [name, action, resource, context, allowed] of cases) await expect(fn(name), action, resource, context, allowed);
});

test('a refusal names the principal, action and resource as DynamoDB does, and the nearest statement', async () => {
  const { byName } = principalsFor(false);
  const me = byName.get('function:me');
  const d = await expect(me, 'dynamodb:GetItem', T, lk('TENANT#acme'), false);
  assert.equal(d.message, `User: arn:aws:sts::123456789012:assumed-role/notes-local-MeFunctionRole/me is not authorized to perform: dynamodb:GetItem on resource: ${T} because no identity-based policy allows the dynamodb:GetItem action`);
  assert.match(d.missing.why, /Condition does not hold: ForAllValues:StringEquals dynamodb:LeadingKeys \["REGISTRY"\]/);
  assert.match(d.missing.why, /TENANT#acme/);
  const gn = await expect(byName.get('function:get-note'), 'dynamodb:PutItem', T, lk('TENANT#acme'), false);
  assert.match(gn.missing.why, /Action \["dynamodb:GetItem"\] does not include dynamodb:PutItem/);
});

test('AppSync: the publisher may publish, operators may invalidate, not the other way round', async () => {
  const { byName } = principalsFor(false);
  const field = (t, f) => `arn:aws:appsync:eu-central-1:123456789012:apis/localapi/types/${t}/fields/${f}`;
  await expect(byName.get('function:note-publisher'), 'appsync:GraphQL', field('Mutation', 'publishNoteChange'), {}, true);
  await expect(byName.get('function:note-publisher'), 'appsync:GraphQL', field('Mutation', 'invalidateTenantSubscriptions'), {}, false);
  await expect(byName.get('operator'), 'appsync:GraphQL', field('Mutation', 'invalidateTenantSubscriptions'), {}, true);
  await expect(byName.get('operator'), 'appsync:GraphQL', field('Mutation', 'publishNoteChange'), {}, false);
  await expect(byName.get('operator'), 'appsync:GraphQL', field('Mutation', 'createNote'), {}, false);
});

test('scoped mode: function roles read the registry only; TenantDataRole sessions one tenant', async () => {
  const { stack, byName } = principalsFor(true);
  const gn = byName.get('function:get-note');
  await expect(gn, 'dynamodb:GetItem', T, lk('REGISTRY'), true);
  await expect(gn, 'dynamodb:GetItem', T, lk('TENANT#acme'), false);
  await expect(gn, 'sts:AssumeRole', stack.roles.get('TenantDataRole').roleArn, {}, true);
  const role = stack.roles.get('TenantDataRole');
  const session = { name: 'tenant-data', arn: `arn:aws:sts::123456789012:assumed-role/${role.roleName}/acme`, principalArn: role.roleArn, accountId: '123456789012', policies: role.policies, tags: { tenant: 'acme' } };
  await expect(session, 'dynamodb:GetItem', T, lk('TENANT#acme'), true);
  await expect(session, 'dynamodb:GetItem', T, lk('TENANT#globex'), false);
  await expect(session, 'dynamodb:BatchGetItem', T, lk('TENANT#acme', 'TENANT#globex'), false);
  await expect(session, 'dynamodb:Query', `${T}/index/gsi1`, lk('PUBLIC#acme'), true);
  await expect(session, 'dynamodb:Query', `${T}/index/gsi1`, lk('TENANT#acme'), false);
  await expect(session, 'dynamodb:Query', `${T}/index/gsi2`, lk('TENANT#acme'), true);
  await expect(session, 'dynamodb:GetItem', T, lk('REGISTRY'), false);
  // A session policy narrows the role further.
  const narrowed = { ...session, sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }] } };
  await expect(narrowed, 'dynamodb:GetItem', T, lk('TENANT#acme'), true);
  const d = await expect(narrowed, 'dynamodb:PutItem', T, lk('TENANT#acme'), false);
  assert.match(d.message, /because no session policy allows the dynamodb:PutItem action$/);
});

test('condition keys the template relies on: EnclosingOperation, ForAllValues / ForAnyValue, explicit deny', async () => {
  const p = (statements) => ({ name: 't', arn: 'arn:aws:sts::123456789012:assumed-role/R/s', principalArn: 'arn:aws:iam::123456789012:role/R', accountId: '123456789012', policies: [{ name: 'p', policy: { Version: '2012-10-17', Statement: statements } }] });
  const inTx = p([{ Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: T, Condition: { StringEquals: { 'dynamodb:EnclosingOperation': 'TransactWriteItems' } } }]);
  await expect(inTx, 'dynamodb:PutItem', T, lk('TENANT#a'), false);
  await expect(inTx, 'dynamodb:PutItem', T, { ...lk('TENANT#a'), 'dynamodb:EnclosingOperation': 'TransactWriteItems' }, true);
  const any = p([{ Effect: 'Allow', Action: 'dynamodb:BatchGetItem', Resource: T, Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['TENANT#a'] } } }]);
  await expect(any, 'dynamodb:BatchGetItem', T, lk('TENANT#b', 'TENANT#a'), true);
  await expect(any, 'dynamodb:BatchGetItem', T, lk('TENANT#b'), false);
  const deny = p([{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }, { Effect: 'Deny', Action: 'dynamodb:DeleteTable', Resource: '*' }]);
  const d = await expect(deny, 'dynamodb:DeleteTable', T, {}, false);
  assert.match(d.message, /with an explicit deny in an identity-based policy$/);
});

test('the operator (TenantOperatorPolicy + OperatorPolicy): what tenantctl calls, not the deploy-time steps', async () => {
  const { cognitoIdpRequest } = await import('./proxy.mjs');
  const stack = loadStackPolicies(ROOT, { tableName: 'notes-local', identityPoolId: 'eu-central-1:pool-1' });
  const op = buildPrincipals(stack).find((p) => p.name === 'operator');
  const ctx = { region: 'eu-central-1', accountId: '123456789012' };
  const idp = (name, body = {}) => cognitoIdpRequest(`AWSCognitoIdentityProviderService.${name}`, body, ctx);
  const pool = { UserPoolId: 'eu-central-1_Acme' };
  assert.deepEqual(idp('DescribeUserPool', pool), { action: 'cognito-idp:DescribeUserPool', resource: 'arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_Acme', context: {} });
  assert.equal(idp('ListUserPools').resource, '*');
  for (const [name, body] of [['ListUserPools', {}], ['CreateUserPool', {}], ['DescribeUserPool', pool], ['UpdateUserPool', pool], ['DeleteUserPool', pool],
    ['ListUserPoolClients', pool], ['CreateUserPoolClient', pool], ['AdminCreateUser', pool], ['AdminGetUser', pool],
    ['AdminDisableUser', pool], ['AdminUserGlobalSignOut', pool], ['AdminDeleteUser', pool]]) {
    const r = idp(name, body);
    await expect(op, r.action, r.resource, r.context, true);
  }
  for (const name of ['AdminSetUserPassword', 'DeleteUserPoolClient', 'AdminAddUserToGroup']) {
    const r = idp(name, pool);
    await expect(op, r.action, r.resource, r.context, false);
  }
  const ip = (id) => `arn:aws:cognito-identity:eu-central-1:123456789012:identitypool/${id}`;
  await expect(op, 'cognito-identity:UpdateIdentityPool', ip('eu-central-1:pool-1'), {}, true);
  await expect(op, 'cognito-identity:DescribeIdentityPool', ip('eu-central-1:pool-1'), {}, true);
  // Several pools: onboard creates the next one, tagged for this stack, and gives it UserRole.
  const ours = { 'aws:ResourceTag/tenantctl:first-identity-pool': 'eu-central-1:pool-1' };
  const theirs = { 'aws:ResourceTag/tenantctl:first-identity-pool': 'eu-central-1:someone-else' };
  for (const action of ['UpdateIdentityPool', 'DescribeIdentityPool', 'GetIdentityPoolRoles']) {
    await expect(op, `cognito-identity:${action}`, ip('eu-central-1:pool-2'), ours, true);
    await expect(op, `cognito-identity:${action}`, ip('eu-central-1:pool-2'), theirs, false);
    await expect(op, `cognito-identity:${action}`, ip('eu-central-1:app-pool'), {}, false);
  }
  // No resource type: "*"; creating and tagging only with this stack's tag.
  await expect(op, 'cognito-identity:CreateIdentityPool', '*', { 'aws:RequestTag/tenantctl:first-identity-pool': 'eu-central-1:pool-1' }, true);
  await expect(op, 'cognito-identity:CreateIdentityPool', '*', {}, false);
  await expect(op, 'cognito-identity:SetIdentityPoolRoles', '*', {}, true);
  await expect(op, 'cognito-identity:DeleteIdentityPool', ip('eu-central-1:pool-1'), {}, false);
  await expect(op, 'cognito-identity:DeleteIdentityPool', ip('eu-central-1:pool-2'), ours, false);
  for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:TransactWriteItems', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:DescribeTable']) {
    if (action === 'dynamodb:TransactWriteItems') continue; // authorized per element (PutItem, UpdateItem, ...)
    await expect(op, action, T, lk('TENANT#acme'), true);
  }
  for (const action of ['dynamodb:CreateTable', 'dynamodb:UpdateTable', 'dynamodb:Scan', 'dynamodb:DeleteTable', 'dynamodb:UpdateTimeToLive']) {
    await expect(op, action, T, {}, false);
  }
});
