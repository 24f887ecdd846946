// The DynamoDB proxy against real DynamoDB Local (scripts/dynamodb-local.sh, its own state dir):
// the template's grants decide, and removing one grant from a copy of template.yaml makes exactly
// the call that needs it fail (list-notes' Query on index/gsi2) while the others still work.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadTemplate } from '../wiring.mjs';
import { loadStackPolicies } from './policies.mjs';
import { PrincipalStore, buildPrincipals } from './principals.mjs';
import { createDynamoDbProxy } from './proxy.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TABLE = 'notes-local';
const state = mkdtempSync(join(tmpdir(), 'iam-proxy-test-'));
const ddb = (cmd) => {
  const r = spawnSync(join(ROOT, 'scripts', 'dynamodb-local.sh'), [cmd], { env: { ...process.env, DDB_STATE_DIR: state }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dynamodb-local.sh ${cmd}: ${r.stderr}`);
};

async function startProxy(template) {
  const stack = loadStackPolicies(ROOT, { template, tableName: TABLE });
  const principals = buildPrincipals(stack);
  const lines = [];
  const backend = `http://127.0.0.1:${readFileSync(join(state, 'ddb.port'), 'utf8').trim()}`;
  const server = createServer(createDynamoDbProxy({ backend, store: new PrincipalStore(principals), log: (l) => lines.push(l) }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const as = (name) => withKey(principals.find((x) => x.name === name));
  const withKey = (p) => {
    return async (op, body) => {
      const signer = new SignatureV4({ credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken }, region: 'eu-central-1', service: 'dynamodb', sha256: Sha256 });
      const u = new URL(url);
      const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/', headers: { host: u.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${op}` }, body: JSON.stringify(body) });
      const r = await fetch(url, { method: 'POST', headers: signed.headers, body: JSON.stringify(body) });
      return { status: r.status, type: r.headers.get('x-amzn-errortype'), body: await r.json() };
    };
  };
  return { as, withKey, lines, close: () => new Promise((r) => server.close(r)) };
}

const key = (pk, sk) => ({ pk: { S: pk }, sk: { S: sk } });
const listing = { TableName: TABLE, IndexName: 'gsi2', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'TENANT#acme' } } };

test.before(async () => {
  ddb('start');
  const { as, close } = await startProxy(loadTemplate(ROOT));
  const admin = as('admin');
  const created = await admin('CreateTable', {
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2sk'].map((n) => ({ AttributeName: n, AttributeType: 'S' })),
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [
      { IndexName: 'gsi1', KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
      { IndexName: 'gsi2', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'gsi2sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
    ],
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const put = await admin('PutItem', { TableName: TABLE, Item: { ...key('TENANT#acme', 'NOTE#1'), gsi2sk: { S: 'SHARED#1' }, title: { S: 'hello' } } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await close();
});

test.after(() => {
  ddb('stop');
  rmSync(state, { recursive: true, force: true });
});

test('the template as it is: each function reaches what it needs, and no more', async () => {
  const { as, lines, close } = await startProxy(loadTemplate(ROOT));
  try {
    const q = await as('function:list-notes')('Query', listing);
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.equal(q.body.Count, 1);
    const g = await as('function:get-note')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'NOTE#1') });
    assert.equal(g.body.Item.title.S, 'hello');
    const b = await as('function:note-author')('BatchGetItem', { RequestItems: { [TABLE]: { Keys: [key('TENANT#acme', 'NOTE#1')] } } });
    assert.equal(b.status, 200, JSON.stringify(b.body));
    // me reads the registry only.
    const me = await as('function:me')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'NOTE#1') });
    assert.equal(me.status, 400);
    assert.equal(me.type, 'AccessDeniedException');
    // The first admin's claim (shared::lambda::Claimant: a TransactWriteItems of Put + Update).
    // my-profile's role holds both, inside a transaction only; a read-only role (get-note; the
    // deploy-day outage when every member field claimed) is refused at its first element, as
    // on AWS, and my-profile may not Put outside a transaction.
    const claimItems = { TransactItems: [
      { Put: { TableName: TABLE, Item: { ...key('TENANT#acme', 'MEMBER#x'), role: { S: 'ADMIN' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: TABLE, Key: key('TENANT#acme', 'COUNTERS'), UpdateExpression: 'ADD admins :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
    ] };
    const claim = await as('function:get-note')('TransactWriteItems', claimItems);
    assert.equal(claim.status, 400);
    assert.equal(claim.body.Message, 'User: arn:aws:sts::123456789012:assumed-role/notes-local-GetNoteFunctionRole/get-note is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-central-1:123456789012:table/notes-local because no identity-based policy allows the dynamodb:PutItem action');
    const line = lines.find((l) => l.operation === 'TransactWriteItems');
    assert.deepEqual(line.context, { 'dynamodb:LeadingKeys': ['TENANT#acme'], 'dynamodb:EnclosingOperation': 'TransactWriteItems' });
    assert.equal(line.element, 0);
    assert.match(line.missing.why, /does not include dynamodb:PutItem/);
    const put = await as('function:my-profile')('PutItem', { TableName: TABLE, Item: { ...key('TENANT#acme', 'MEMBER#y') } });
    assert.equal(put.status, 400, 'PutItem outside a transaction');
    assert.equal(put.type, 'AccessDeniedException');
    // Nothing was written by the refused ones.
    const none = await as('admin')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'MEMBER#y') });
    assert.equal(none.body.Item, undefined);
    const claimed = await as('function:my-profile')('TransactWriteItems', claimItems);
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    await as('admin')('DeleteItem', { TableName: TABLE, Key: key('TENANT#acme', 'MEMBER#x') });
    // Nothing was written.
    const after = await as('admin')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'MEMBER#x') });
    assert.equal(after.body.Item, undefined);
  } finally {
    await close();
  }
});

test('one grant removed from a copy of template.yaml: list-notes Query on index/gsi2 refused, get-note still works', async () => {
  const text = readFileSync(join(ROOT, 'template.yaml'), 'utf8');
  const grant = /\n {14}- Effect: Allow\n {16}Action: \[dynamodb:Query\]\n {16}Resource: !Sub "\$\{NotesTable\.Arn\}\/index\/gsi2"\n/;
  assert.match(text, grant, 'list-notes grants Query on index/gsi2 in template.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'iam-mutated-'));
  writeFileSync(join(dir, 'template.yaml'), text.replace(grant, '\n'));
  const { as, lines, close } = await startProxy(loadTemplate(dir));
  try {
    const q = await as('function:list-notes')('Query', listing);
    assert.equal(q.status, 400);
    assert.equal(q.type, 'AccessDeniedException');
    assert.deepEqual(q.body, {
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message: 'User: arn:aws:sts::123456789012:assumed-role/notes-local-ListNotesFunctionRole/list-notes is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:eu-central-1:123456789012:table/notes-local/index/gsi2 because no identity-based policy allows the dynamodb:Query action',
    });
    assert.equal(lines.at(-1).principal, 'arn:aws:sts::123456789012:assumed-role/notes-local-ListNotesFunctionRole/list-notes');
    assert.deepEqual(lines.at(-1).context, { 'dynamodb:LeadingKeys': ['TENANT#acme'] });
    // The nearest statement: list-notes' GetItem grant (right resource family, wrong action).
    assert.match(lines.at(-1).missing.why, /does not include dynamodb:Query/);
    const g = await as('function:get-note')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'NOTE#1') });
    assert.equal(g.status, 200);
    const lg = await as('function:list-notes')('GetItem', { TableName: TABLE, Key: key('TENANT#acme', 'NOTE#1') });
    assert.equal(lg.status, 200);
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys the proxy does not know are refused as DynamoDB refuses them', async () => {
  const { withKey, close } = await startProxy(loadTemplate(ROOT));
  try {
    const r = await withKey({ accessKeyId: 'AKIANOTAPRINCIPAL000', secretAccessKey: 'x' })('ListTables', {});
    assert.equal(r.status, 400);
    assert.equal(r.type, 'UnrecognizedClientException');
    assert.equal(r.body.__type, 'com.amazon.coral.service#UnrecognizedClientException');
  } finally {
    await close();
  }
});
