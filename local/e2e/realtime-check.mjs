#!/usr/bin/env node
// Real-time isolation against any stack, AWS's endpoint or the local one, from an outputs file
// and credentials only (scripts/aws-check.sh runs it; no local-only hook: no counters, no
// moto-made pools, no fixed tenant ids):
//   OUTPUTS=FILE node local/e2e/realtime-check.mjs --credentials CREDS [--timeout-ms 60000]
// FILE: the outputs file (tenants A and B first; `realtimeUrl` — AWS: the stack's RealtimeUrl
// output, locally wss://…/graphql/realtime with `realtimeCaCertificate`). CREDS: Identity Pool
// credentials of alice, carol (tenant A), bob (tenant B) and a guest
// (local/e2e/aws_check.py credentials). Every subscriber connects over AppSync's WebSocket
// protocol with SigV4 on the connection and on every start; every write is a signed GraphQL
// mutation through the functions, the table's stream and the note publisher. Each subscriber must
// receive exactly the changes it may read (per note, in order), and nothing else.
// Prints `ok`/`FAIL` per check and `realtime: N passed, N failed`; exit code 1 on a failure.
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

const USAGE = 'usage: OUTPUTS=FILE node local/e2e/realtime-check.mjs --credentials CREDS [--timeout-ms 60000]';

function parseArgs(argv) {
  const opts = { credentials: null, timeoutMs: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-h' || argv[i] === '--help') {
      console.log(`${USAGE}\nReal-time isolation against any stack (see the comment at the top of this file).`);
      process.exit(0);
    } else if (argv[i] === '--credentials') opts.credentials = argv[++i];
    else if (argv[i] === '--timeout-ms') opts.timeoutMs = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!opts.credentials) throw new Error(USAGE);
  return opts;
}

// Arguments first: the helpers read the outputs file as they load.
const opts = parseArgs(process.argv.slice(2));
const { outputs, post, signedGraphql } = await import('./live.mjs');
const { NOTE_CHANGES, PUBLIC_CHANGES, createNote, deleteNote, expectedEvent, received, reads, updateNote } = await import('./realtime-live.mjs');

const graphql = new URL(outputs.graphqlUrl);
const region = outputs.region;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SigV4 headers for a POST to the GraphQL host at `path`, as AppSync's real-time protocol wants them. */
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
    path,
    headers: { accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8', host: graphql.host },
    body,
  });
  return req.headers;
}

/** A connection to the stack's real-time URL (wss://), signed for the GraphQL host's /graphql/connect. */
async function connect(creds) {
  if (!outputs.realtimeUrl) throw new Error('the outputs file has no realtimeUrl');
  const header = Buffer.from(JSON.stringify(await sign(creds, `${graphql.pathname}/connect`, '{}'))).toString('base64');
  const url = `${outputs.realtimeUrl}?header=${encodeURIComponent(header)}&payload=e30=`;
  const tls = outputs.realtimeCaCertificate ? { ca: readFileSync(outputs.realtimeCaCertificate) } : {};
  const ws = new WebSocket(url, ['graphql-ws'], tls);
  const messages = [];
  const waiters = new Set();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    messages.push(m);
    for (const w of waiters) if (w.pred(m)) { waiters.delete(w); w.resolve(m); }
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = (pred, ms = 15_000, from = 0) => {
    const found = messages.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      waiters.add(w);
      setTimeout(() => { waiters.delete(w); reject(new Error(`no matching message in ${ms} ms`)); }, ms).unref();
    });
  };
  ws.send(JSON.stringify({ type: 'connection_init' }));
  const ack = await next((m) => m.type === 'connection_ack' || m.type === 'connection_error');
  if (ack.type !== 'connection_ack') throw new Error(`connection refused: ${JSON.stringify(ack)}`);
  return {
    async start(id, query, variables = {}) {
      const data = JSON.stringify({ query, variables });
      const from = messages.length;
      ws.send(JSON.stringify({ id, type: 'start', payload: { data, extensions: { authorization: await sign(creds, graphql.pathname, data) } } }));
      return next((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'), 30_000, from);
    },
    data: (id) => messages.filter((m) => m.type === 'data' && m.id === id).map((m) => Object.values(m.payload.data)[0]),
    close: () => new Promise((r) => { if (ws.readyState === ws.CLOSED) r(); else { ws.once('close', r); ws.close(); } }),
  };
}

const who = JSON.parse(readFileSync(opts.credentials, 'utf8'));
const [A, B] = outputs.tenants.map((t) => t.tenantId);
const results = [];
const check = (title, ok, detail = '') => {
  results.push(ok);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${title}${ok || !detail ? '' : `: ${detail}`}`);
};
const clients = [];

try {
  // Subscribers: the members of A and B on onNoteChanged, a guest on each tenant's public changes.
  const subs = [];
  for (const name of ['alice', 'carol', 'bob']) {
    const c = await connect(who[name]);
    clients.push(c);
    const ans = await c.start(name, NOTE_CHANGES);
    check(`${name} (${who[name].tenantId}) subscribes to onNoteChanged`, ans.type === 'start_ack', JSON.stringify(ans));
    subs.push({ label: `${name} onNoteChanged`, client: c, id: name, sub: { kind: 'member', tenantId: who[name].tenantId, identityId: who[name].identityId } });
    if (name === 'alice') {
      // AppSync's own validation: a subscription argument the schema does not declare.
      const forged = await c.start('forged', `subscription { onNoteChanged(tenantId: "${B}") { noteId } }`);
      check('a forged onNoteChanged(tenantId:) is refused by validation', forged.type === 'error' && /unknown (field )?argument/i.test(JSON.stringify(forged.payload)), JSON.stringify(forged));
      const nosuch = await c.start('nosuch', PUBLIC_CHANGES, { tenantId: `${A}-nosuch` });
      check('onPublicNoteChanged of an unknown tenant is refused (NotFound)', nosuch.type === 'error' && nosuch.payload?.errors?.[0]?.errorType === 'NotFound', JSON.stringify(nosuch));
    }
  }
  if (who.guest) {
    const g = await connect(who.guest);
    clients.push(g);
    const refused = await g.start('guest-members', NOTE_CHANGES);
    check('a guest is refused onNoteChanged (the guest role)', refused.type === 'error' && refused.payload?.errors?.[0]?.errorType === 'Unauthorized', JSON.stringify(refused));
    for (const t of [A, B]) {
      const ans = await g.start(`guest-${t}`, PUBLIC_CHANGES, { tenantId: t });
      check(`a guest subscribes to onPublicNoteChanged(${t})`, ans.type === 'start_ack', JSON.stringify(ans));
      subs.push({ label: `guest onPublicNoteChanged(${t})`, client: g, id: `guest-${t}`, sub: { kind: 'public', tenantId: t } });
    }
  }

  // Identity Pool credentials cannot publish (the internal mutation is the publisher's only).
  const change = { kind: 'CREATED', noteId: 'x', tenantId: B, ownerId: who.alice.identityId, visibility: 'PUBLIC', previousVisibility: null, revoked: false, note: null };
  const pub = await post(await signedGraphql(who.alice, 'mutation P($c: NoteChangeInput!) { publishNoteChange(change: $c) { noteId } }', { c: change }));
  check('alice cannot call publishNoteChange', JSON.stringify(pub.body).includes('Not Authorized to access publishNoteChange on type Mutation'), JSON.stringify(pub.body));

  // The writes: each visibility in both tenants, a narrowing, a deletion.
  const writes = [];
  const notes = {};
  const write = async (key, fn) => {
    const before = notes[key] ?? null;
    const after = await fn(before);
    notes[key] = after;
    writes.push({ key, before, after });
  };
  const { alice, carol, bob } = who;
  await write('A1', () => createNote(alice, 'check A1 private', 'PRIVATE'));
  await write('A2', () => createNote(alice, 'check A2 tenant', 'TENANT'));
  await write('A3', () => createNote(alice, 'check A3 public', 'PUBLIC'));
  await write('C1', () => createNote(carol, 'check C1 tenant', 'TENANT'));
  await write('B1', () => createNote(bob, 'check B1 public', 'PUBLIC'));
  await write('B2', () => createNote(bob, 'check B2 private', 'PRIVATE'));
  await write('A2', (n) => updateNote(alice, n, { visibility: 'PRIVATE' }));
  await write('A2', (n) => updateNote(alice, n, { title: 'check A2 private now' }));
  await write('A3', async (n) => { await deleteNote(alice, n); return null; });
  await write('C1', async (n) => { await deleteNote(carol, n); return null; });
  check(`${writes.length} signed mutations (${A}, ${B}) succeed`, true);

  // What each subscriber is owed, per note in write order (streams order per item only).
  const owed = (s) => writes.map((w) => ({ key: w.key, e: expectedEvent(s.sub, w.before, w.after) })).filter((x) => x.e);
  const noteIds = new Set(writes.flatMap((w) => [w.before?.id, w.after?.id]).filter(Boolean));
  const mine = (s) => s.client.data(s.id).filter((c) => noteIds.has(c.noteId));
  const until = Date.now() + opts.timeoutMs;
  while (Date.now() < until && subs.some((s) => mine(s).length < owed(s).length)) await sleep(250);
  await sleep(3000); // anything extra arrives now, or was never coming
  for (const s of subs) {
    const want = owed(s).map((x) => x.e);
    const got = mine(s).map(received);
    const byNote = (list) => JSON.stringify([...new Set(list.map((e) => e.noteId))].sort().map((id) => [id, list.filter((e) => e.noteId === id)]));
    check(`${s.label}: exactly the ${want.length} changes it may read, per note in order`, byNote(got) === byNote(want), `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    const bodies = mine(s);
    check(`${s.label}: every body readable, removals without one`, bodies.every((c) => (c.kind === 'DELETED' ? c.note === null : reads(s.sub, c.note))), JSON.stringify(bodies));
    const foreign = s.client.data(s.id).filter((c) => c.tenantId !== s.sub.tenantId);
    check(`${s.label}: nothing of another tenant`, foreign.length === 0, JSON.stringify(foreign));
  }
} catch (e) {
  check(`real-time check ran to the end (${e.message})`, false, e.stack);
}
for (const c of clients) await c.close().catch(() => {});
const passed = results.filter(Boolean).length;
console.log(`realtime: ${passed} passed, ${results.length - passed} failed`);
process.exit(results.length - passed ? 1 : 0);
