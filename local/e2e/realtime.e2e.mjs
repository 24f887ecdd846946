// Real time against the live stack: the subscription isolation matrix, suspension, and a note
// turning PRIVATE. Every write goes through the real chain (signed GraphQL → Rust function →
// DynamoDB Local → its stream → the note-publisher function → publishNoteChange → the
// real-time endpoint's filters) and every subscriber listens over AppSync's WebSocket protocol.
// Prints `subscriptions: N cells, N held`.
// Needs the live stack (scripts/local.sh); run: node --test local/e2e/realtime.e2e.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, guestCredentials, outputs, tenant } from './live.mjs';
import {
  NOTE_CHANGES, PUBLIC_CHANGES, addTenant, createNote, deleteNote, expectedEvent, gql, reads, realtimeClient,
  realtimeStats, received, removeAddedTenants, tenantctl, updateNote, waitPublished,
} from './realtime-live.mjs';

const acme = tenant('acme');
const globex = tenant('globex');
// The tenant cache of the functions (scripts/local.sh: TENANT_CACHE_TTL_SECONDS=5).
const CACHE_TTL_MS = Number(process.env.TENANT_CACHE_TTL_SECONDS ?? 5) * 1000;

const who = {}; // name -> { creds, identityId, tenantId }
let vandelay;

before(async () => {
  for (const [name, pool, user] of [['alice', acme, acme.users[0]], ['carol', acme, acme.users[1]], ['bob', globex, globex.users[0]]]) {
    const c = await credentialsFor(pool, user);
    who[name] = { creds: c.Credentials, identityId: c.IdentityId, tenantId: pool.tenantId };
  }
  const g = await guestCredentials();
  who.guest = { creds: g.Credentials, identityId: g.IdentityId, tenantId: null };
  // A provider the Identity Pool lists but no tenant registered, and a suspended tenant.
  const umbrella = await addTenant('umbrella', ['ursula'], { register: false });
  vandelay = await addTenant('vandelay', ['ivan']);
  for (const [name, pool] of [['unknown', umbrella], ['suspended', vandelay]]) {
    const c = await credentialsFor(pool, pool.users[0]);
    who[name] = { creds: c.Credentials, identityId: c.IdentityId, tenantId: pool.tenantId };
  }
  await tenantctl('suspend', '--tenant-id', 'vandelay');
});

after(() => removeAddedTenants());

/** Retries `fn` until it resolves to a truthy value (the functions' tenant cache catching up). */
async function eventually(fn, ms = CACHE_TTL_MS + 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const FORGED_FILTER = '{"tenantId":{"ne":"nobody"}}';

/** The matrix's subscriptions: (label, query, variables, extra keys in `data`, what it means). */
const VARIANTS = [
  { label: 'onNoteChanged', query: NOTE_CHANGES, sub: (w) => ({ kind: 'member', tenantId: w.tenantId, identityId: w.identityId }) },
  // Keys AppSync does not know in the start message's data are not filters: same as above.
  { label: 'onNoteChanged + forged data keys', query: NOTE_CHANGES, extra: { filter: FORGED_FILTER, tenantId: 'globex', extensions: { filter: FORGED_FILTER } }, sub: (w) => ({ kind: 'member', tenantId: w.tenantId, identityId: w.identityId }) },
  { label: 'onNoteChanged(filter:) forged argument', query: `subscription { onNoteChanged(filter: ${JSON.stringify(FORGED_FILTER)}) { noteId } }`, refused: () => 'GraphQL validation' },
  { label: 'onNoteChanged(tenantId:) forged argument', query: 'subscription { onNoteChanged(tenantId: "globex") { noteId } }', refused: () => 'GraphQL validation' },
  { label: 'onPublicNoteChanged(acme)', query: PUBLIC_CHANGES, variables: { tenantId: 'acme' }, sub: () => ({ kind: 'public', tenantId: 'acme' }) },
  { label: 'onPublicNoteChanged(globex)', query: PUBLIC_CHANGES, variables: { tenantId: 'globex' }, sub: () => ({ kind: 'public', tenantId: 'globex' }) },
  { label: 'onPublicNoteChanged(acme) + forged variables', query: PUBLIC_CHANGES, variables: { tenantId: 'acme', filter: FORGED_FILTER, ownerId: 'x' }, sub: () => ({ kind: 'public', tenantId: 'acme' }) },
  { label: 'onPublicNoteChanged(vandelay: suspended)', query: PUBLIC_CHANGES, variables: { tenantId: 'vandelay' }, refused: () => 'NotFound' },
  { label: 'onPublicNoteChanged(nosuch)', query: PUBLIC_CHANGES, variables: { tenantId: 'nosuch' }, refused: () => 'NotFound' },
  { label: 'onPublicNoteChanged(ACME#x)', query: PUBLIC_CHANGES, variables: { tenantId: 'ACME#x' }, refused: () => 'NotFound' },
];

/** Who may open onNoteChanged: signed-in users of an active tenant; guests are refused by IAM. */
function noteChangesRefusal(name) {
  return { guest: 'Unauthorized', unknown: 'Unauthorized', suspended: 'Forbidden' }[name] ?? null;
}

test('the subscription isolation matrix: each subscriber receives exactly what it may read, in order', async () => {
  const names = ['alice', 'carol', 'bob', 'guest', 'unknown', 'suspended'];
  const clients = {};
  const subs = []; // { name, id, variant, sub }
  const cells = [];
  const cell = (label, ok, detail) => cells.push({ label, ok, detail });

  for (const name of names) {
    clients[name] = await realtimeClient(who[name].creds);
    for (const [i, v] of VARIANTS.entries()) {
      const id = `${name}-${i}`;
      const ans = await clients[name].start(id, v.query, v.variables ?? {}, v.extra ?? {});
      const want = v.refused ? v.refused() : v.query === NOTE_CHANGES ? noteChangesRefusal(name) : null;
      const label = `${name} / ${v.label}: start`;
      if (want === null) {
        cell(label, ans.type === 'start_ack', JSON.stringify(ans));
        if (ans.type === 'start_ack') subs.push({ name, id, variant: v, sub: v.sub(who[name]) });
      } else if (want === 'GraphQL validation') {
        cell(label, ans.type === 'error' && /Unknown argument/.test(ans.payload.errors[0].message), JSON.stringify(ans));
      } else {
        cell(label, ans.type === 'error' && ans.payload.errors[0].errorType === want, `expected ${want}, got ${JSON.stringify(ans)}`);
      }
    }
  }

  // The writes: every publisher, every visibility, and every transition between them.
  const { alice, carol, bob } = who;
  const notes = {};
  const writes = []; // { before, after }
  const since = (await realtimeStats()).published;
  let events = 0;
  const write = async (key, fn) => {
    const before = notes[key] ?? null;
    const after = await fn(before);
    notes[key] = after;
    writes.push({ label: key, before, after });
    const narrowed = before && after && ['PRIVATE', 'TENANT', 'PUBLIC'].indexOf(after.visibility) < ['PRIVATE', 'TENANT', 'PUBLIC'].indexOf(before.visibility);
    events += narrowed ? 2 : 1;
  };
  await write('A1', () => createNote(alice.creds, 'A1 private', 'PRIVATE'));
  await write('A2', () => createNote(alice.creds, 'A2 tenant', 'TENANT'));
  await write('A3', () => createNote(alice.creds, 'A3 public', 'PUBLIC'));
  await write('C1', () => createNote(carol.creds, 'C1 tenant', 'TENANT'));
  await write('B1', () => createNote(bob.creds, 'B1 private', 'PRIVATE'));
  await write('B2', () => createNote(bob.creds, 'B2 public', 'PUBLIC'));
  await write('B3', () => createNote(bob.creds, 'B3 tenant', 'TENANT'));
  await write('A2', (n) => updateNote(alice.creds, n, { title: 'A2 renamed' }));
  await write('A2', (n) => updateNote(alice.creds, n, { visibility: 'PRIVATE' }));
  await write('A2', (n) => updateNote(alice.creds, n, { title: 'A2 private now' }));
  await write('A3', (n) => updateNote(alice.creds, n, { visibility: 'TENANT' }));
  await write('A1', (n) => updateNote(alice.creds, n, { visibility: 'PUBLIC' }));
  await write('C1', (n) => updateNote(carol.creds, n, { visibility: 'PUBLIC' }));
  await write('B2', (n) => updateNote(bob.creds, n, { visibility: 'PRIVATE' }));
  await write('B3', (n) => updateNote(bob.creds, n, { visibility: 'PUBLIC' }));
  await write('A1', async (n) => { await deleteNote(alice.creds, n); return null; });
  await write('C1', async (n) => { await deleteNote(carol.creds, n); return null; });
  await write('B1', async (n) => { await deleteNote(bob.creds, n); return null; });
  await waitPublished(since, events);

  const ids = new Set(writes.flatMap((w) => [w.before?.id, w.after?.id]).filter(Boolean));
  for (const s of subs) {
    const got = clients[s.name].data(s.id);
    // Nothing but the notes written here (nothing else writes while the live tests run).
    cell(`${s.name} / ${s.variant.label}: only these notes`, got.every((c) => ids.has(c.noteId)), JSON.stringify(got.map((c) => c.noteId)));
    const mine = got.map(received);
    const expected = writes.map((w) => expectedEvent(s.sub, w.before, w.after));
    const wanted = expected.filter(Boolean);
    let at = 0;
    for (const [k, w] of writes.entries()) {
      const want = expected[k];
      if (want) {
        cell(`${s.name} / ${s.variant.label}: ${w.label} → ${want.kind}`, JSON.stringify(mine[at]) === JSON.stringify(want), `expected ${JSON.stringify(want)}, got ${JSON.stringify(mine[at])}`);
        at += 1;
        continue;
      }
      // A step it may not hear of: no event carries that version (or, for a deletion, no more
      // removals of that note than it was owed).
      const id = (w.after ?? w.before).id;
      const stray = w.after
        ? mine.some((e) => e.noteId === id && e.version === w.after.version)
        : mine.filter((e) => e.noteId === id && e.kind === 'DELETED').length > wanted.filter((e) => e.noteId === id && e.kind === 'DELETED').length;
      cell(`${s.name} / ${s.variant.label}: ${w.label} unseen`, !stray, JSON.stringify(mine.filter((e) => e.noteId === id)));
    }
    cell(`${s.name} / ${s.variant.label}: nothing more`, mine.length === at, `${mine.length - at} extra: ${JSON.stringify(mine.slice(at))}`);
    // Every body that arrived was readable by the subscriber at that moment.
    cell(`${s.name} / ${s.variant.label}: every body readable`, got.every((c) => !c.note || reads(s.sub, c.note)), '');
    cell(`${s.name} / ${s.variant.label}: removals carry no body`, got.every((c) => c.kind !== 'DELETED' || c.note === null), '');
  }

  // The events replayed give what the queries answer now.
  for (const s of subs) {
    const view = new Map();
    for (const c of clients[s.name].data(s.id)) {
      if (c.kind === 'DELETED') view.delete(c.noteId);
      else view.set(c.noteId, c.note.version);
    }
    const w = who[s.name];
    const listed = s.sub.kind === 'member'
      ? (await gql(w.creds, '{ notes(limit: 100) { items { id version } } }')).notes.items
      : (await gql(w.creds, 'query P($t: ID!) { publicNotes(tenantId: $t, limit: 100) { items { id version } } }', { t: s.sub.tenantId })).publicNotes.items;
    const queried = new Map(listed.filter((n) => ids.has(n.id)).map((n) => [n.id, n.version]));
    cell(`${s.name} / ${s.variant.label}: replayed events = query`, JSON.stringify([...view].sort()) === JSON.stringify([...queried].sort()), `events ${JSON.stringify([...view])}, query ${JSON.stringify([...queried])}`);
  }
  for (const c of Object.values(clients)) await c.close();

  const held = cells.filter((c) => c.ok).length;
  console.log(`subscriptions: ${cells.length} cells, ${held} held`);
  const failed = cells.filter((c) => !c.ok);
  assert.deepEqual(failed.map((c) => `${c.label}: ${c.detail}`), []);
  assert.ok(cells.length >= 400, `the matrix shrank to ${cells.length} cells`);
});

test('a note moved from TENANT to PRIVATE stops reaching colleagues; its owner keeps it', async () => {
  const { alice, carol } = who;
  const a = await realtimeClient(alice.creds);
  const c = await realtimeClient(carol.creds);
  assert.equal((await a.start('a', NOTE_CHANGES)).type, 'start_ack');
  assert.equal((await c.start('c', NOTE_CHANGES)).type, 'start_ack');
  const since = (await realtimeStats()).published;
  let n = await createNote(alice.creds, 'shared for now', 'TENANT');
  n = await updateNote(alice.creds, n, { visibility: 'PRIVATE' });
  n = await updateNote(alice.creds, n, { title: 'private thoughts', body: 'secret body' });
  n = await updateNote(alice.creds, n, { body: 'more secret body' });
  await waitPublished(since, 5);
  const carols = c.data('c').filter((e) => e.noteId === n.id);
  assert.deepEqual(carols.map((e) => [e.kind, e.revoked, e.note?.version ?? null]), [['CREATED', false, 1], ['DELETED', true, null]]);
  assert.ok(!JSON.stringify(c.messages).includes('secret'), 'carol received the private content');
  const alices = a.data('a').filter((e) => e.noteId === n.id);
  assert.deepEqual(alices.map((e) => [e.kind, e.note?.version]), [['CREATED', 1], ['UPDATED', 2], ['UPDATED', 3], ['UPDATED', 4]]);
  await a.close();
  await c.close();
});

test("suspending a tenant closes its users' and its public subscriptions within the cache TTL", async () => {
  await tenantctl('resume', '--tenant-id', 'vandelay');
  const ivan = who.suspended;
  const i = await realtimeClient(ivan.creds);
  const g = await realtimeClient(who.guest.creds);
  const a = await realtimeClient(who.alice.creds);
  // Resumed: admitted again once the functions' cached "suspended" expires.
  assert.ok(await eventually(async () => (await i.start(`i${Date.now()}`, NOTE_CHANGES)).type === 'start_ack'), 'ivan was not admitted after resume');
  assert.ok(await eventually(async () => (await g.start(`g${Date.now()}`, PUBLIC_CHANGES, { tenantId: 'vandelay' })).type === 'start_ack'));
  assert.equal((await a.start('a', NOTE_CHANGES)).type, 'start_ack');
  const since = (await realtimeStats()).published;
  await createNote(ivan.creds, 'vandelay public', 'PUBLIC');
  await waitPublished(since, 1);
  assert.equal(i.messages.filter((m) => m.type === 'data').length, 1);
  assert.equal(g.messages.filter((m) => m.type === 'data').length, 1);

  // tenantctl suspend ends the subscriptions at once, then once more after the cache TTL.
  const t0 = Date.now();
  const suspending = tenantctl('suspend', '--tenant-id', 'vandelay');
  await Promise.all([i.closed, g.closed]);
  const took = Date.now() - t0;
  assert.ok(took <= CACHE_TTL_MS, `closed after ${took} ms`);
  await suspending;
  for (const c of [i, g]) assert.ok(c.messages.some((m) => m.type === 'complete' && m.payload?.message === 'Subscription complete.'));
  // Acme's subscription is untouched.
  const since2 = (await realtimeStats()).published;
  await createNote(who.alice.creds, 'acme goes on', 'PRIVATE');
  await waitPublished(since2, 1);
  assert.equal(a.data('a').length, 1);
  assert.equal(a.ws.readyState, a.ws.OPEN);
  // Coming back is refused once the functions see the suspension.
  const again = await realtimeClient(ivan.creds);
  assert.ok(await eventually(async () => (await again.start(`x${Date.now()}`, NOTE_CHANGES)).payload?.errors?.[0]?.errorType === 'Forbidden'));
  const guestAgain = await realtimeClient(who.guest.creds);
  assert.ok(await eventually(async () => (await guestAgain.start(`y${Date.now()}`, PUBLIC_CHANGES, { tenantId: 'vandelay' })).payload?.errors?.[0]?.errorType === 'NotFound'));
  for (const c of [a, again, guestAgain]) await c.close();
});

test('publishNoteChange and invalidateTenantSubscriptions are not callable with Identity Pool credentials', async () => {
  const change = { kind: 'CREATED', noteId: 'x', tenantId: 'acme', ownerId: who.alice.identityId, visibility: 'PUBLIC', previousVisibility: null, revoked: false, note: null };
  for (const w of [who.alice, who.guest]) {
    await assert.rejects(gql(w.creds, 'mutation P($c: NoteChangeInput!) { publishNoteChange(change: $c) { noteId } }', { c: change }), /Not Authorized to access publishNoteChange on type Mutation/);
    await assert.rejects(gql(w.creds, 'mutation { invalidateTenantSubscriptions(tenantId: "globex") { tenantId } }'), /Not Authorized to access invalidateTenantSubscriptions on type Mutation/);
  }
  assert.ok(outputs.graphqlUrl);
});
