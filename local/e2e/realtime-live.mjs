// Shared helpers of the real-time live tests (realtime.e2e.mjs, realtime-load.e2e.mjs): an
// AppSync real-time client written from AWS's protocol description (SigV4 on the connection and
// on every start, as the docs and Amplify do it), extra tenants made the way an operator would
// (a User Pool and app client in moto, listed in the Identity Pool, registered with tenantctl),
// and a model of who may read what, independent of the filters under test.
//
// Needs the stack scripts/local.sh starts, with its environment (TABLE_NAME,
// AWS_ENDPOINT_URL_DYNAMODB, GRAPHQL_URL, the local AWS key) for tenantctl.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, CreateUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DescribeIdentityPoolCommand, UpdateIdentityPoolCommand } from '@aws-sdk/client-cognito-identity';
import { identityAdmin, idp, outputs, post, providerOf, region, signedGraphql } from './live.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const graphql = new URL(outputs.graphqlUrl);

// ---------------------------------------------------------------- the real-time client

async function sign(creds, path, body) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretKey, sessionToken: creds.SessionToken },
    region,
    service: 'appsync',
    sha256: Sha256,
  });
  const req = await signer.sign({
    method: 'POST',
    protocol: graphql.protocol,
    hostname: graphql.hostname,
    port: Number(graphql.port),
    path,
    headers: { accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8', host: graphql.host },
    body,
  });
  return req.headers;
}

/**
 * A connection to the real-time endpoint, signed with Identity Pool credentials
 * ({ AccessKeyId, SecretKey, SessionToken }). Plain ws:// on the GraphQL port (the endpoint also
 * speaks wss:// there, which Amplify uses).
 */
export async function realtimeClient(creds) {
  const header = Buffer.from(JSON.stringify(await sign(creds, `${graphql.pathname}/connect`, '{}'))).toString('base64');
  const ws = new WebSocket(`ws://${graphql.host}${graphql.pathname}/realtime?header=${encodeURIComponent(header)}&payload=e30=`, ['graphql-ws']);
  const messages = [];
  const waiters = new Set();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    messages.push(m);
    for (const w of waiters) if (w.pred(m)) { waiters.delete(w); w.resolve(m); }
  });
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = (pred, ms = 10_000, from = 0) => {
    const found = messages.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.add(w);
      setTimeout(() => { waiters.delete(w); reject(new Error(`no matching message in ${ms} ms`)); }, ms).unref();
    });
  };
  ws.send(JSON.stringify({ type: 'connection_init' }));
  await next((m) => m.type === 'connection_ack' || m.type === 'connection_error');
  return {
    ws,
    messages,
    closed,
    next,
    /** Sends a start (`data` as given: a test may add keys) and resolves to start_ack or error. */
    async start(id, query, variables = {}, extra = {}, ms = 30_000) {
      const data = JSON.stringify({ query, variables, ...extra });
      const from = messages.length;
      ws.send(JSON.stringify({ id, type: 'start', payload: { data, extensions: { authorization: await sign(creds, graphql.pathname, data) } } }));
      return next((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'), ms, from);
    },
    /** The data payloads received for subscription `id`, in order. */
    data(id) {
      return messages.filter((m) => m.type === 'data' && m.id === id).map((m) => Object.values(m.payload.data)[0]);
    },
    close() {
      ws.close();
      return closed;
    },
  };
}

export const NOTE_CHANGES = `subscription { onNoteChanged { kind noteId tenantId ownerId visibility previousVisibility revoked
  note { id tenantId ownerId title body visibility version } } }`;
export const PUBLIC_CHANGES = `subscription P($tenantId: ID!) { onPublicNoteChanged(tenantId: $tenantId) { kind noteId tenantId ownerId visibility previousVisibility revoked
  note { id tenantId ownerId title body visibility version } } }`;

// ---------------------------------------------------------------- the stack's counters

async function localJson(path) {
  return (await fetch(new URL(path, outputs.graphqlUrl))).json();
}
export const realtimeStats = () => localJson('/__local/realtime');
export const streamStats = () => localJson('/__local/streams');

/**
 * Waits until `count` more events than `since` were published (the stream poller and the
 * publisher function are asynchronous), then a moment for the deliveries to be sent.
 */
export async function waitPublished(since, count, ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    const s = await realtimeStats();
    if (s.published >= since + count) break;
    if (Date.now() > until) {
      throw new Error(`published ${s.published - since} of ${count} events in ${ms} ms; streams: ${JSON.stringify(await streamStats())}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
}

// ---------------------------------------------------------------- GraphQL as a user

export async function gql(creds, query, variables = {}) {
  const r = await post(await signedGraphql(creds, query, variables));
  if (r.status !== 200 || r.body.errors?.length) throw new Error(`${query.slice(0, 40)}: ${r.status} ${JSON.stringify(r.body.errors ?? r.body)}`);
  return r.body.data;
}

const NOTE = 'id tenantId ownerId title body visibility version';
export const createNote = async (creds, title, visibility) => (await gql(creds, `mutation C($i: CreateNoteInput!) { createNote(input: $i) { ${NOTE} } }`, { i: { title, body: `${title} body`, visibility } })).createNote;
export const updateNote = async (creds, note, change) => (await gql(creds, `mutation U($i: UpdateNoteInput!) { updateNote(input: $i) { ${NOTE} } }`, { i: { id: note.id, expectedVersion: note.version, ...change } })).updateNote;
export const deleteNote = async (creds, note) => (await gql(creds, `mutation D($id: ID!, $v: Int) { deleteNote(id: $id, expectedVersion: $v) { ${NOTE} } }`, { id: note.id, v: note.version })).deleteNote;

// ---------------------------------------------------------------- tenants, as an operator adds them

const execFileP = promisify(execFile);

/** Runs target/debug/tenantctl with the stack's environment. */
export async function tenantctl(...args) {
  const { stdout } = await execFileP(join(ROOT, 'target', 'debug', 'tenantctl'), args, { env: process.env });
  return stdout;
}

const added = [];

/**
 * A tenant's User Pool with `users` (names) in moto, listed in the Identity Pool, and — unless
 * `register` is false (an unknown provider) — registered with tenantctl. Returns the pool in
 * the shape of outputs.json's tenants.
 */
export async function addTenant(tenantId, users, { register = true } = {}) {
  const { UserPool } = await idp.send(new CreateUserPoolCommand({ PoolName: `realtime-${tenantId}`, UsernameAttributes: ['email'] }));
  const { UserPoolClient } = await idp.send(new CreateUserPoolClientCommand({ UserPoolId: UserPool.Id, ClientName: 'web', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  // Listed in the top-level Identity Pool below (and registered without one: the stack's first).
  const pool = { tenantId, userPoolId: UserPool.Id, userPoolClientId: UserPoolClient.ClientId, identityPoolId: outputs.identityPoolId, users: [] };
  for (const name of users) {
    const u = { name, username: `${name}@${tenantId}.example`, password: `${name[0].toUpperCase()}${name.slice(1)}-Local-Demo-1` };
    await idp.send(new AdminCreateUserCommand({ UserPoolId: pool.userPoolId, Username: u.username, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: u.username }, { Name: 'email_verified', Value: 'true' }] }));
    await idp.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.userPoolId, Username: u.username, Password: u.password, Permanent: true }));
    pool.users.push(u);
  }
  const config = await identityAdmin.send(new DescribeIdentityPoolCommand({ IdentityPoolId: outputs.identityPoolId }));
  const { $metadata, ...rest } = config;
  await identityAdmin.send(new UpdateIdentityPoolCommand({
    ...rest,
    CognitoIdentityProviders: [...(rest.CognitoIdentityProviders ?? []), { ProviderName: providerOf(pool.userPoolId), ClientId: pool.userPoolClientId, ServerSideTokenCheck: false }],
  }));
  added.push(providerOf(pool.userPoolId));
  if (register) {
    await tenantctl('register', '--tenant-id', tenantId, '--name', tenantId, '--provider', providerOf(pool.userPoolId));
    registered.push(tenantId);
  }
  return pool;
}

/** Tenants addTenant registered: offboarded again by removeAddedTenants. */
const registered = [];

/**
 * Takes the pools addTenant listed back out of the Identity Pool and offboards the tenants it
 * registered (the other live tests expect the demo tenants only: a suspended tenant left in the
 * registry keeps its providers, and sync-identity-pool would list it again).
 */
export async function removeAddedTenants() {
  for (const t of registered.splice(0)) await tenantctl('offboard', '--tenant-id', t, '--discard-data');
  if (!added.length) return;
  const config = await identityAdmin.send(new DescribeIdentityPoolCommand({ IdentityPoolId: outputs.identityPoolId }));
  const { $metadata, ...rest } = config;
  await identityAdmin.send(new UpdateIdentityPoolCommand({ ...rest, CognitoIdentityProviders: (rest.CognitoIdentityProviders ?? []).filter((p) => !added.includes(p.ProviderName)) }));
  added.length = 0;
}

// ---------------------------------------------------------------- who may read what

/** A subscriber: { kind: 'member', tenantId, identityId } or { kind: 'public', tenantId }. */
export function reads(sub, note) {
  if (!note || note.tenantId !== sub.tenantId) return false;
  if (sub.kind === 'public') return note.visibility === 'PUBLIC';
  return note.visibility !== 'PRIVATE' || note.ownerId === sub.identityId;
}

/**
 * What `sub` must receive for one write (`before` → `after`, null for none), as `note(id)` /
 * `publicNotes` answer it: nothing if it could read the note neither before nor after; the new
 * note if it can read it now; a removal without content if it could and can no longer.
 */
export function expectedEvent(sub, before, after) {
  const was = reads(sub, before);
  const is = reads(sub, after);
  if (is) return { kind: before ? 'UPDATED' : 'CREATED', noteId: after.id, version: after.version, title: after.title };
  if (was) return { kind: 'DELETED', noteId: before.id, version: null, title: null };
  return null;
}

/** A received NoteChange in the shape of expectedEvent. */
export const received = (c) => ({ kind: c.kind, noteId: c.noteId, version: c.note?.version ?? null, title: c.note?.title ?? null });
