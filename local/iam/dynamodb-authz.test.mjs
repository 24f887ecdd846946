// The request → authorization mapping, operation by operation, as IAM derives it for DynamoDB.
import test from 'node:test';
import assert from 'node:assert/strict';
import { authorizationRequests, keyConditionValue } from './dynamodb-authz.mjs';

const ctx = { region: 'eu-central-1', accountId: '123456789012' };
const T = 'arn:aws:dynamodb:eu-central-1:123456789012:table/notes';
const O = 'arn:aws:dynamodb:eu-central-1:123456789012:table/other';
// The table's key schema as DescribeTable answers it (the proxy reads it from DynamoDB Local).
const keySchema = async (table, index) => ({ undefined: 'pk', gsi1: 'gsi1pk', gsi2: 'pk' })[String(index)];
const map = (op, body, prefix = 'DynamoDB_20120810') => authorizationRequests(`${prefix}.${op}`, body, ctx, keySchema);

test('single-item operations: action, table ARN, LeadingKeys of the key or item', async () => {
  for (const op of ['GetItem', 'DeleteItem', 'UpdateItem']) {
    assert.deepEqual(await map(op, { TableName: 'notes', Key: { pk: { S: 'TENANT#acme' }, sk: { S: 'NOTE#1' } } }), [
      { action: `dynamodb:${op}`, resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#acme'] } },
    ]);
  }
  assert.deepEqual(await map('PutItem', { TableName: 'notes', Item: { pk: { S: 'REGISTRY' }, sk: { S: 'x' } }, ReturnValues: 'ALL_OLD' }), [
    { action: 'dynamodb:PutItem', resource: T, context: { 'dynamodb:LeadingKeys': ['REGISTRY'], 'dynamodb:ReturnValues': 'ALL_OLD' } },
  ]);
});

test('Query: the index ARN and the partition key value of the key condition', async () => {
  assert.deepEqual(await map('Query', {
    TableName: 'notes', IndexName: 'gsi2', KeyConditionExpression: '#p = :p AND begins_with(gsi2sk, :s)',
    ExpressionAttributeNames: { '#p': 'pk' }, ExpressionAttributeValues: { ':p': { S: 'TENANT#acme' }, ':s': { S: 'SHARED#' } },
  }), [{ action: 'dynamodb:Query', resource: `${T}/index/gsi2`, context: { 'dynamodb:LeadingKeys': ['TENANT#acme'] } }]);
  assert.deepEqual(await map('Query', {
    TableName: 'notes', IndexName: 'gsi1', KeyConditionExpression: ':v = gsi1pk', ExpressionAttributeValues: { ':v': { S: 'PUBLIC#acme' } }, Select: 'COUNT',
  }), [{ action: 'dynamodb:Query', resource: `${T}/index/gsi1`, context: { 'dynamodb:LeadingKeys': ['PUBLIC#acme'], 'dynamodb:Select': 'COUNT' } }]);
  // The legacy KeyConditions form.
  assert.equal(keyConditionValue({ KeyConditions: { pk: { AttributeValueList: [{ S: 'TENANT#a' }], ComparisonOperator: 'EQ' } } }, 'pk'), 'TENANT#a');
  assert.deepEqual(await map('Query', { TableName: 'notes', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'TENANT#b' } } }), [
    { action: 'dynamodb:Query', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#b'] } },
  ]);
});

test('Scan: no LeadingKeys (IAM has none to give)', async () => {
  assert.deepEqual(await map('Scan', { TableName: 'notes' }), [{ action: 'dynamodb:Scan', resource: T, context: {} }]);
  assert.deepEqual(await map('Scan', { TableName: 'notes', IndexName: 'gsi1' }), [{ action: 'dynamodb:Scan', resource: `${T}/index/gsi1`, context: {} }]);
});

test('BatchGetItem and BatchWriteItem: one request per table, with every key of that table', async () => {
  assert.deepEqual(await map('BatchGetItem', { RequestItems: {
    notes: { Keys: [{ pk: { S: 'TENANT#a' }, sk: { S: '1' } }, { pk: { S: 'TENANT#a' }, sk: { S: '2' } }, { pk: { S: 'TENANT#b' }, sk: { S: '3' } }] },
    other: { Keys: [{ pk: { S: 'X' } }] },
  } }), [
    { action: 'dynamodb:BatchGetItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#a', 'TENANT#b'] } },
    { action: 'dynamodb:BatchGetItem', resource: O, context: { 'dynamodb:LeadingKeys': ['X'] } },
  ]);
  assert.deepEqual(await map('BatchWriteItem', { RequestItems: { notes: [
    { PutRequest: { Item: { pk: { S: 'TENANT#a' }, sk: { S: '1' } } } },
    { DeleteRequest: { Key: { pk: { S: 'TENANT#c' }, sk: { S: '2' } } } },
  ] } }), [{ action: 'dynamodb:BatchWriteItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#a', 'TENANT#c'] } }]);
});

test('TransactWriteItems: each element its own action, with EnclosingOperation', async () => {
  const out = await map('TransactWriteItems', { TransactItems: [
    { Put: { TableName: 'notes', Item: { pk: { S: 'TENANT#a' }, sk: { S: 'MEMBER#1' } } } },
    { Update: { TableName: 'notes', Key: { pk: { S: 'TENANT#a' }, sk: { S: 'COUNTERS' } } } },
    { Delete: { TableName: 'other', Key: { pk: { S: 'Z' } } } },
    { ConditionCheck: { TableName: 'notes', Key: { pk: { S: 'REGISTRY' }, sk: { S: 'TENANT#a' } } } },
  ] });
  const enc = { 'dynamodb:EnclosingOperation': 'TransactWriteItems' };
  assert.deepEqual(out, [
    { action: 'dynamodb:PutItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#a'], ...enc }, element: 0 },
    { action: 'dynamodb:UpdateItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#a'], ...enc }, element: 1 },
    { action: 'dynamodb:DeleteItem', resource: O, context: { 'dynamodb:LeadingKeys': ['Z'], ...enc }, element: 2 },
    { action: 'dynamodb:ConditionCheckItem', resource: T, context: { 'dynamodb:LeadingKeys': ['REGISTRY'], ...enc }, element: 3 },
  ]);
});

test('TransactGetItems: GetItem per element, EnclosingOperation TransactGetItems', async () => {
  assert.deepEqual(await map('TransactGetItems', { TransactItems: [{ Get: { TableName: 'notes', Key: { pk: { S: 'TENANT#a' }, sk: { S: '1' } } } }] }), [
    { action: 'dynamodb:GetItem', resource: T, context: { 'dynamodb:LeadingKeys': ['TENANT#a'], 'dynamodb:EnclosingOperation': 'TransactGetItems' }, element: 0 },
  ]);
});

test('control plane and streams: the action on the table, stream or *', async () => {
  for (const op of ['DescribeTable', 'CreateTable', 'UpdateTable', 'DeleteTable', 'UpdateTimeToLive', 'DescribeTimeToLive', 'UpdateContinuousBackups']) {
    assert.deepEqual(await map(op, { TableName: 'notes' }), [{ action: `dynamodb:${op}`, resource: T, context: {} }]);
  }
  assert.deepEqual(await map('ListTables', {}), [{ action: 'dynamodb:ListTables', resource: '*', context: {} }]);
  assert.deepEqual(await map('ListTagsOfResource', { ResourceArn: T }), [{ action: 'dynamodb:ListTagsOfResource', resource: T, context: {} }]);
  const stream = `${T}/stream/2026-01-01T00:00:00.000`;
  assert.deepEqual(await map('DescribeStream', { StreamArn: stream }, 'DynamoDBStreams_20120810'), [{ action: 'dynamodb:DescribeStream', resource: stream, context: {} }]);
  assert.deepEqual(await map('ListStreams', { TableName: 'notes' }, 'DynamoDBStreams_20120810'), [{ action: 'dynamodb:ListStreams', resource: `${T}/stream/*`, context: {} }]);
  await assert.rejects(() => authorizationRequests('Nope.GetItem', {}, ctx, keySchema), /unknown X-Amz-Target/);
});
