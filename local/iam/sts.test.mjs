// The local STS (scoped mode): AssumeRole of TenantDataRole checked against the caller's identity
// policy AND the role's trust policy (role path, aws:RequestTag/tenant, aws:TagKeys), and the
// session it issues evaluated with aws:PrincipalTag/tenant.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { evaluate } from './evaluate.mjs';
import { loadStackPolicies } from './policies.mjs';
import { PrincipalStore, buildPrincipals } from './principals.mjs';
import { createSts, parseAssumeRole } from './sts.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const T = 'arn:aws:dynamodb:eu-central-1:123456789012:table/notes-local';
const stack = loadStackPolicies(ROOT, { tableName: 'notes-local', parameters: { TenantScopedCredentials: 'true' } });
const ROLE = stack.roles.get('TenantDataRole').roleArn;

async function withSts(fn) {
  const principals = buildPrincipals(stack);
  // A principal outside the functions' role path, allowed by its own policy: only trust stops it.
  principals.push({
    name: 'outsider', arn: 'arn:aws:sts::123456789012:assumed-role/SomeOtherRole/x', principalArn: 'arn:aws:iam::123456789012:role/SomeOtherRole',
    accountId: '123456789012', policies: [{ name: 'all-sts', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] } }],
    accessKeyId: 'ASIAOUTSIDER00000001', secretAccessKey: 'outsider-secret', sessionToken: 'outsider-token',
  });
  const store = new PrincipalStore(principals);
  const log = [];
  const server = createServer(createSts({ store, roles: [...stack.roles.values()], log: (l) => log.push(l) }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${server.address().port}/`);
  const call = async (name, params) => {
    const p = principals.find((x) => x.name === name);
    const body = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 's', ...params }).toString();
    const signer = new SignatureV4({ credentials: p, region: 'eu-central-1', service: 'sts', sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const r = await fetch(url, { method: 'POST', headers: signed.headers, body });
    return { status: r.status, text: await r.text() };
  };
  try {
    await fn({ call, store, log });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

const tag = (k, v, i = 1) => ({ [`Tags.member.${i}.Key`]: k, [`Tags.member.${i}.Value`]: v });

test('parseAssumeRole reads the Query-protocol form', () => {
  const c = parseAssumeRole(`Action=AssumeRole&RoleArn=${encodeURIComponent(ROLE)}&RoleSessionName=acme-1&DurationSeconds=900&Tags.member.1.Key=tenant&Tags.member.1.Value=acme`);
  assert.deepEqual(c, { action: 'AssumeRole', roleArn: ROLE, sessionName: 'acme-1', durationSeconds: 900, policy: undefined, tags: { tenant: 'acme' } });
});

test('a function role with AssumeTenantDataRolePolicy gets a session tagged tenant=acme, bound to acme', async () => {
  await withSts(async ({ call, store }) => {
    const r = await call('function:get-note', { RoleSessionName: 'acme-get-note', ...tag('tenant', 'acme') });
    assert.equal(r.status, 200, r.text);
    const key = /<AccessKeyId>([^<]+)</.exec(r.text)[1];
    assert.match(r.text, /<Arn>arn:aws:sts::123456789012:assumed-role\/notes-local-TenantDataRole\/acme-get-note<\/Arn>/);
    const session = store.lookup(key).principal;
    assert.deepEqual(session.tags, { tenant: 'acme' });
    assert.equal((await evaluate(session, { action: 'dynamodb:GetItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#acme'] } })).allowed, true);
    assert.equal((await evaluate(session, { action: 'dynamodb:GetItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#globex'] } })).allowed, false);
  });
});

test('refused: no identity grant (me), outside the role path (trust), no tenant tag, extra tag keys', async () => {
  await withSts(async ({ call, log }) => {
    const me = await call('function:me', tag('tenant', 'acme'));
    assert.equal(me.status, 403);
    assert.match(me.text, /<Code>AccessDenied<\/Code><Message>User: arn:aws:sts::123456789012:assumed-role\/notes-local-MeFunctionRole\/me is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/notes-local-TenantDataRole<\/Message>/);
    const outsider = await call('outsider', tag('tenant', 'acme'));
    assert.equal(outsider.status, 403);
    assert.match(log.at(-1).missing.why, /trust policy/);
    const untagged = await call('function:get-note', {});
    assert.equal(untagged.status, 403);
    const extra = await call('function:get-note', { ...tag('tenant', 'acme'), ...tag('role', 'ADMIN', 2) });
    assert.equal(extra.status, 403);
    const empty = await call('function:get-note', tag('tenant', ''));
    assert.equal(empty.status, 403);
  });
});

test('a session policy narrows the session', async () => {
  await withSts(async ({ call, store }) => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }] });
    const r = await call('function:create-note', { Policy: policy, ...tag('tenant', 'acme') });
    assert.equal(r.status, 200, r.text);
    const session = store.lookup(/<AccessKeyId>([^<]+)</.exec(r.text)[1]).principal;
    const put = await evaluate(session, { action: 'dynamodb:PutItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#acme'] } });
    assert.equal(put.allowed, false);
    assert.match(put.message, /no session policy allows/);
  });
});
