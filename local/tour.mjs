#!/usr/bin/env node
// A short scripted tour of the API over HTTP: real GraphQL requests and their answers.
//   node local/tour.mjs --endpoint http://127.0.0.1:4000/graphql [--check]
// With --check every answer is asserted and the exit code says whether all held.

function parseArgs(argv) {
  const opts = { endpoint: 'http://127.0.0.1:4000/graphql', check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--endpoint') opts.endpoint = argv[++i];
    else if (argv[i] === '--check') opts.check = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

export async function gql(endpoint, who, query, variables = {}) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-demo-identity': who },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const errorTypes = (r) => (r.errors ?? []).map((e) => e.errorType);
const ids = (conn) => (conn?.items ?? []).map((n) => n.id);

/** The tour: [title, identity, query, variables(state), check(answer, state) -> string|null]. */
export function steps() {
  return [
    ['alice (acme) creates a PRIVATE note', 'acme/alice',
      'mutation { createNote(input: {title: "Acme roadmap", body: "Q1: ship the API", visibility: PRIVATE}) { id title visibility version } }',
      () => ({}),
      (r, s) => { s.privateId = r.data?.createNote?.id; return r.data?.createNote?.visibility === 'PRIVATE' ? null : 'expected a PRIVATE note'; }],
    ['alice (acme) creates a PUBLIC note', 'acme/alice',
      'mutation { createNote(input: {title: "Acme is hiring", visibility: PUBLIC}) { id title visibility } }',
      () => ({}),
      (r, s) => { s.publicId = r.data?.createNote?.id; return r.data?.createNote?.visibility === 'PUBLIC' ? null : 'expected a PUBLIC note'; }],
    ['bob (globex) reads the PRIVATE note by id', 'globex/bob',
      'query ($id: ID!) { note(id: $id) { id title } }', (s) => ({ id: s.privateId }),
      (r) => (r.data?.note === null && !r.errors ? null : 'expected null: another tenant\'s note')],
    ['bob (globex) reads the PUBLIC note by id', 'globex/bob',
      'query ($id: ID!) { note(id: $id) { id title } }', (s) => ({ id: s.publicId }),
      (r) => (r.data?.note === null && !r.errors ? null : 'expected null: another tenant\'s note')],
    ['bob (globex) lists his tenant\'s notes', 'globex/bob',
      '{ notes(limit: 50) { items { id title } nextToken } }', () => ({}),
      (r, s) => {
        const seen = ids(r.data?.notes);
        if (r.errors) return `unexpected errors ${errorTypes(r)}`;
        return seen.includes(s.privateId) || seen.includes(s.publicId) ? 'acme notes leaked into globex' : null;
      }],
    ['a guest reads acme\'s public notes', 'guest',
      '{ publicNotes(tenantId: "acme", limit: 100) { items { id title visibility } } }', () => ({}),
      (r, s) => {
        const seen = ids(r.data?.publicNotes);
        if (!seen.includes(s.publicId)) return 'the PUBLIC note is missing';
        if (seen.includes(s.privateId)) return 'the PRIVATE note leaked';
        return (r.data.publicNotes.items.every((n) => n.visibility === 'PUBLIC') ? null : 'a non-PUBLIC note leaked');
      }],
    ['a guest tries a private field', 'guest',
      '{ notes { items { id } } }', () => ({}),
      (r) => (errorTypes(r).includes('Unauthorized') ? null : 'expected Unauthorized')],
    ['alice updates her note at version 1', 'acme/alice',
      'mutation ($id: ID!) { updateNote(input: {id: $id, title: "Acme roadmap v2", expectedVersion: 1}) { id title version } }',
      (s) => ({ id: s.privateId }),
      (r) => (r.data?.updateNote?.version === 2 ? null : 'expected version 2')],
    ['alice retries with the stale expectedVersion 1', 'acme/alice',
      'mutation ($id: ID!) { updateNote(input: {id: $id, title: "lost update", expectedVersion: 1}) { id version } }',
      (s) => ({ id: s.privateId }),
      (r) => (errorTypes(r).includes('ConflictError') ? null : 'expected ConflictError')],
    ['alice names herself (her profile: MEMBER)', 'acme/alice',
      'mutation { updateMyProfile(input: {displayName: "Alice Liddell"}) { identityId displayName role } }', () => ({}),
      (r) => (r.data?.updateMyProfile?.role === 'MEMBER' ? null : 'expected a MEMBER profile')],
    ['alice lists notes with their authors (Note.author, one BatchInvoke for the page)', 'acme/alice',
      '{ notes(limit: 20) { items { id title author { displayName } } } tenant { name memberCount } }', () => ({}),
      (r, s) => {
        const mine = (r.data?.notes?.items ?? []).filter((n) => n.id === s.privateId || n.id === s.publicId);
        if (mine.length !== 2) return 'expected both of alice\'s notes';
        if (!mine.every((n) => n.author?.displayName === 'Alice Liddell')) return 'expected alice as author';
        return r.data.tenant.memberCount >= 1 ? null : 'expected a member count';
      }],
    ['bob (globex) tries to delete alice\'s note', 'globex/bob',
      'mutation ($id: ID!) { deleteNote(id: $id) { id } }', (s) => ({ id: s.privateId }),
      (r) => (errorTypes(r).includes('NotFound') ? null : 'expected NotFound')],
  ];
}

export async function runTour(endpoint, { log = console.log } = {}) {
  const state = {};
  let passed = 0;
  const failures = [];
  for (const [title, who, query, vars, check] of steps()) {
    const variables = vars(state);
    const answer = await gql(endpoint, who, query, variables);
    const problem = check(answer, state);
    log(`\n# ${title}\n$ x-demo-identity: ${who}\n${query.replace(/\s+/g, ' ')}${Object.keys(variables).length ? `  ${JSON.stringify(variables)}` : ''}`);
    log(`→ ${JSON.stringify(answer.errors ? { data: answer.data, errors: answer.errors.map((e) => ({ errorType: e.errorType, message: e.message })) } : answer)}`);
    if (problem) {
      failures.push(`${title}: ${problem}`);
      log(`✗ ${problem}`);
    } else {
      passed += 1;
    }
  }
  return { passed, failures };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const opts = parseArgs(process.argv.slice(2));
  const { passed, failures } = await runTour(opts.endpoint);
  console.log(`\ntour: ${passed} passed, ${failures.length} failed`);
  if (opts.check && failures.length) {
    for (const f of failures) console.error(`FAILED ${f}`);
    process.exit(1);
  }
}
