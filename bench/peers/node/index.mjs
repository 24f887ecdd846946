// Peer for the benchmark: get-note as a typical Node.js 20 AppSync resolver (AWS SDK v3), with
// a minimal runtime loop against AWS_LAMBDA_RUNTIME_API (what the managed nodejs20.x runtime
// does for you). Same table, same events, same rules as the Rust function.
import http from 'node:http';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const ddb = new DynamoDBClient({});
const TABLE = process.env.TABLE_NAME;
const tenants = new Map();

const plain = (item) => Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? (v.N !== undefined ? Number(v.N) : null)]));

async function tenantOf(provider) {
  const hit = tenants.get(provider);
  if (hit && hit.at > Date.now() - 60000) return hit.tenant;
  const p = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'REGISTRY' }, sk: { S: `PROVIDER#${provider}` } } }));
  let tenant = null;
  if (p.Item) {
    const t = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'REGISTRY' }, sk: { S: `TENANT#${p.Item.tenantId.S}` } } }));
    tenant = t.Item ? plain(t.Item) : null;
  }
  tenants.set(provider, { at: Date.now(), tenant });
  return tenant;
}

export async function handler(event) {
  const id = event.identity;
  if (!id || id.cognitoIdentityAuthType !== 'authenticated') throw new Error('Unauthorized');
  const provider = id.cognitoIdentityAuthProvider.split(',')[0].replace(/"/g, '');
  const tenant = await tenantOf(provider);
  if (!tenant || tenant.status !== 'ACTIVE') throw new Error('Unauthorized');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(event.arguments.id)) throw new Error('ValidationError');
  const r = await ddb.send(new GetItemCommand({
    TableName: TABLE,
    Key: { pk: { S: `TENANT#${tenant.tenantId}` }, sk: { S: `NOTE#${event.arguments.id}` } },
    ConsistentRead: true,
  }));
  if (!r.Item) return null;
  const note = plain(r.Item);
  if (note.visibility === 'PRIVATE' && note.ownerId !== id.cognitoIdentityId) return null;
  delete note.pk; delete note.sk; delete note.gsi1pk; delete note.gsi1sk;
  return note;
}

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

for (;;) {
  const next = await call('GET', '/2018-06-01/runtime/invocation/next');
  const requestId = next.headers['lambda-runtime-aws-request-id'];
  try {
    const result = await handler(JSON.parse(next.body));
    await call('POST', `/2018-06-01/runtime/invocation/${requestId}/response`, JSON.stringify(result));
  } catch (e) {
    await call('POST', `/2018-06-01/runtime/invocation/${requestId}/error`, JSON.stringify({ errorType: e.message, errorMessage: e.message }));
  }
}
