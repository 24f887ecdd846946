// Real time under load, on loopback: 200 subscribers across 3 tenants (users on onNoteChanged,
// guests on each tenant's onPublicNoteChanged) while 2,000 mutations run through the whole chain
// (functions, DynamoDB Local, its stream, the publisher function, the real-time endpoint). Every
// subscriber must receive, for every note, exactly the events its history owes that subscriber,
// in order: none lost, none crossed, no body it may not read.
// Needs the live stack (scripts/local.sh); run: node --test local/e2e/realtime-load.e2e.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFor, guestCredentials, tenant } from './live.mjs';
import {
  NOTE_CHANGES, PUBLIC_CHANGES, addTenant, createNote, deleteNote, expectedEvent, reads, realtimeClient, realtimeStats,
  received, removeAddedTenants, updateNote, waitPublished,
} from './realtime-live.mjs';

const SUBSCRIBERS = 200;
const MUTATIONS = 2000;
const WRITERS_IN_FLIGHT = 8;
const BUDGET_MS = 8 * 60_000;

after(() => removeAddedTenants());

/** A small seeded generator: the same run every time. */
function rng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

test(`${SUBSCRIBERS} subscribers across 3 tenants, ${MUTATIONS} mutations: every delivery correct, none lost, none crossed`, { timeout: BUDGET_MS }, async () => {
  const started = Date.now();
  const hooli = await addTenant('hooli', ['hanna', 'hugo', 'hilde']);
  const users = [];
  for (const [pool, list] of [[tenant('acme'), tenant('acme').users], [tenant('globex'), tenant('globex').users], [hooli, hooli.users]]) {
    for (const u of list) {
      const c = await credentialsFor(pool, u);
      users.push({ name: u.username, creds: c.Credentials, identityId: c.IdentityId, tenantId: pool.tenantId });
    }
  }
  const guest = (await guestCredentials()).Credentials;
  const tenants = ['acme', 'globex', 'hooli'];

  // The subscribers: users on onNoteChanged, guests on each tenant's public channel.
  const kinds = [...users.map((u) => ({ u })), ...tenants.map((t) => ({ publicOf: t }))];
  const subs = [];
  for (let i = 0; i < SUBSCRIBERS; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, SUBSCRIBERS - i) }, async (_, j) => {
      const k = kinds[(i + j) % kinds.length];
      const client = await realtimeClient(k.u ? k.u.creds : guest);
      const ans = k.u ? await client.start('s', NOTE_CHANGES) : await client.start('s', PUBLIC_CHANGES, { tenantId: k.publicOf });
      assert.equal(ans.type, 'start_ack', JSON.stringify(ans));
      subs.push({ client, sub: k.u ? { kind: 'member', tenantId: k.u.tenantId, identityId: k.u.identityId } : { kind: 'public', tenantId: k.publicOf } });
    }));
  }
  assert.equal((await realtimeStats()).subscriptions >= SUBSCRIBERS, true);

  // The mutations: each writer works on its own notes, one call at a time, writers in parallel.
  const writers = users.filter((u) => u.name !== 'hilde@hooli.example');
  const histories = new Map(); // noteId -> [state after each write, null when deleted]; [0] = null
  let published = 0;
  const since = (await realtimeStats()).published;
  const visibilities = ['PRIVATE', 'TENANT', 'PUBLIC'];
  const reach = (v) => visibilities.indexOf(v);
  let remaining = MUTATIONS;
  async function run(writer, seed) {
    const rand = rng(seed);
    const mine = [];
    while (remaining > 0) {
      remaining -= 1;
      const r = rand();
      const pick = mine.length ? mine[Math.floor(rand() * mine.length)] : null;
      if (!pick || r < 0.35) {
        const n = await createNote(writer.creds, `${writer.name} ${seed} ${Math.floor(rand() * 1e9)}`, visibilities[Math.floor(rand() * 3)]);
        histories.set(n.id, [null, n]);
        mine.push(n);
        published += 1;
      } else if (r < 0.85) {
        const change = r < 0.6 ? { title: `${pick.title.split(' v')[0]} v${pick.version + 1}` } : { visibility: visibilities[Math.floor(rand() * 3)] };
        const n = await updateNote(writer.creds, pick, change);
        histories.get(n.id).push(n);
        mine[mine.indexOf(pick)] = n;
        published += reach(n.visibility) < reach(pick.visibility) ? 2 : 1;
      } else {
        await deleteNote(writer.creds, pick);
        histories.get(pick.id).push(null);
        mine.splice(mine.indexOf(pick), 1);
        published += 1;
      }
    }
  }
  const t0 = Date.now();
  await Promise.all(Array.from({ length: WRITERS_IN_FLIGHT }, (_, i) => run(writers[i % writers.length], 1000 + i)));
  const wrote = Date.now() - t0;
  await waitPublished(since, published, BUDGET_MS - (Date.now() - started) - 30_000);
  const drained = Date.now() - t0;

  // Every subscriber, every note: the received events equal what the note's history owes it.
  const problems = [];
  let deliveries = 0;
  for (const [i, s] of subs.entries()) {
    const byNote = new Map();
    for (const c of s.client.data('s')) {
      deliveries += 1;
      if (!histories.has(c.noteId)) { problems.push(`subscriber ${i}: event for a note not written here ${c.noteId}`); continue; }
      if (c.note && !reads(s.sub, c.note)) problems.push(`subscriber ${i} (${JSON.stringify(s.sub)}): received a body it may not read: ${c.noteId} v${c.note.version}`);
      if (!byNote.has(c.noteId)) byNote.set(c.noteId, []);
      byNote.get(c.noteId).push(received(c));
    }
    for (const [id, states] of histories) {
      const want = [];
      for (let k = 1; k < states.length; k += 1) {
        const e = expectedEvent(s.sub, states[k - 1], states[k]);
        if (e) want.push(e);
      }
      const got = byNote.get(id) ?? [];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        problems.push(`subscriber ${i} (${JSON.stringify(s.sub)}) note ${id}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
    }
  }
  for (const s of subs) await s.client.close();
  console.log(`realtime load: ${SUBSCRIBERS} subscribers, ${MUTATIONS} mutations in ${wrote} ms, ${published} events published and ${deliveries} deliveries checked after ${drained} ms`);
  assert.deepEqual(problems.slice(0, 20), []);
  assert.ok(deliveries > 0);
});
