#!/usr/bin/env node
// A short scripted tour of the API through the real sign-in chain: every step is a
// `notes-client` command (SRP sign-in at the tenant's User Pool, Identity Pool credentials,
// SigV4-signed GraphQL), printed as a person would type it, with its answer.
//   node local/tour.mjs --outputs .local/outputs.json [--check] [--client target/debug/notes-client]
//                       [--tenants A,B]
// With --check every answer is asserted and the exit code says whether all held.
// --tenants A,B plays acme's part with tenant A and globex's with B (scripts/aws-check.sh: its
// throwaway tenants, whose users are named alice, carol and bob as well).
// Sessions go to a fresh temporary directory, removed at the end.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { outputs: '.local/outputs.json', check: false, client: join(ROOT, 'target/debug/notes-client'), tenants: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--outputs') opts.outputs = argv[++i];
    else if (argv[i] === '--check') opts.check = true;
    else if (argv[i] === '--client') opts.client = argv[++i];
    else if (argv[i] === '--tenants') {
      const [acme, globex] = argv[++i].split(',');
      opts.tenants = { acme, globex };
    }
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return opts;
}

/** A word for a POSIX shell: bare when safe, single-quoted otherwise. */
export function shQuote(word) {
  return /^[A-Za-z0-9_./:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const DEMO = { acme: 'acme', globex: 'globex' };
const errorTypes = (r) => (r.errors ?? []).map((e) => e.errorType);
const ids = (conn) => (conn?.items ?? []).map((n) => n.id);

/**
 * The tour. Each step: { title, signIn: [tenant, name] } or
 * { title, as: 'acme/alice' | 'guest', query, vars(state), check(answer, state) -> string|null }.
 */
export function steps(tenants = DEMO) {
  return [
    { title: 'alice signs in at acme\'s User Pool (SRP) and gets Identity Pool credentials', signIn: ['acme', 'alice'] },
    { title: 'carol signs in at acme', signIn: ['acme', 'carol'] },
    { title: 'bob signs in at globex\'s User Pool', signIn: ['globex', 'bob'] },
    {
      title: 'who alice is to the API', as: 'acme/alice',
      query: '{ me { identityId authenticated tenantId } }', vars: () => ({}),
      check: (r, s) => {
        s.aliceId = r.data?.me?.identityId;
        return r.data?.me?.tenantId === tenants.acme && r.data.me.authenticated === true ? null : 'expected an authenticated acme caller';
      },
    },
    {
      title: 'alice (acme) creates a PRIVATE note', as: 'acme/alice',
      query: 'mutation { createNote(input: {title: "Acme roadmap", body: "Q1: ship the API", visibility: PRIVATE}) { id title visibility version } }',
      vars: () => ({}),
      check: (r, s) => { s.privateId = r.data?.createNote?.id; return r.data?.createNote?.visibility === 'PRIVATE' ? null : 'expected a PRIVATE note'; },
    },
    {
      title: 'alice (acme) creates a PUBLIC note', as: 'acme/alice',
      query: 'mutation { createNote(input: {title: "Acme is hiring", visibility: PUBLIC}) { id title visibility } }',
      vars: () => ({}),
      check: (r, s) => { s.publicId = r.data?.createNote?.id; return r.data?.createNote?.visibility === 'PUBLIC' ? null : 'expected a PUBLIC note'; },
    },
    {
      title: 'carol (acme, same tenant) reads alice\'s PRIVATE note by id', as: 'acme/carol',
      query: 'query ($id: ID!) { note(id: $id) { id title } }', vars: (s) => ({ id: s.privateId }),
      check: (r) => (r.data?.note === null && !r.errors ? null : 'expected null: another user\'s PRIVATE note'),
    },
    {
      title: 'carol (acme) reads alice\'s PUBLIC note by id', as: 'acme/carol',
      query: 'query ($id: ID!) { note(id: $id) { id title } }', vars: (s) => ({ id: s.publicId }),
      check: (r, s) => (r.data?.note?.id === s.publicId ? null : 'expected the PUBLIC note'),
    },
    {
      title: 'bob (globex) reads the PRIVATE note by id', as: 'globex/bob',
      query: 'query ($id: ID!) { note(id: $id) { id title } }', vars: (s) => ({ id: s.privateId }),
      check: (r) => (r.data?.note === null && !r.errors ? null : 'expected null: another tenant\'s note'),
    },
    {
      title: 'bob (globex) reads the PUBLIC note by id', as: 'globex/bob',
      query: 'query ($id: ID!) { note(id: $id) { id title } }', vars: (s) => ({ id: s.publicId }),
      check: (r) => (r.data?.note === null && !r.errors ? null : 'expected null: another tenant\'s note'),
    },
    {
      title: 'bob (globex) lists his tenant\'s notes', as: 'globex/bob',
      query: '{ notes(limit: 50) { items { id title } nextToken } }', vars: () => ({}),
      check: (r, s) => {
        const seen = ids(r.data?.notes);
        if (r.errors) return `unexpected errors ${errorTypes(r)}`;
        return seen.includes(s.privateId) || seen.includes(s.publicId) ? 'acme notes leaked into globex' : null;
      },
    },
    {
      title: 'a guest reads acme\'s public notes', as: 'guest',
      query: `{ publicNotes(tenantId: "${tenants.acme}", limit: 100) { items { id title visibility } } }`, vars: () => ({}),
      check: (r, s) => {
        const seen = ids(r.data?.publicNotes);
        if (!seen.includes(s.publicId)) return 'the PUBLIC note is missing';
        if (seen.includes(s.privateId)) return 'the PRIVATE note leaked';
        return (r.data.publicNotes.items.every((n) => n.visibility === 'PUBLIC') ? null : 'a non-PUBLIC note leaked');
      },
    },
    {
      title: 'a guest tries a private field', as: 'guest',
      query: '{ notes { items { id } } }', vars: () => ({}),
      check: (r) => (errorTypes(r).includes('Unauthorized') ? null : 'expected Unauthorized'),
    },
    {
      title: 'alice updates her note at version 1', as: 'acme/alice',
      query: 'mutation ($id: ID!) { updateNote(input: {id: $id, title: "Acme roadmap v2", expectedVersion: 1}) { id title version } }',
      vars: (s) => ({ id: s.privateId }),
      check: (r) => (r.data?.updateNote?.version === 2 ? null : 'expected version 2'),
    },
    {
      title: 'alice retries with the stale expectedVersion 1', as: 'acme/alice',
      query: 'mutation ($id: ID!) { updateNote(input: {id: $id, title: "lost update", expectedVersion: 1}) { id version } }',
      vars: (s) => ({ id: s.privateId }),
      check: (r) => (errorTypes(r).includes('ConflictError') ? null : 'expected ConflictError'),
    },
    {
      title: 'alice names herself (her profile: MEMBER)', as: 'acme/alice',
      query: 'mutation { updateMyProfile(input: {displayName: "Alice Liddell"}) { identityId displayName role } }', vars: () => ({}),
      check: (r, s) => {
        if (r.data?.updateMyProfile?.role !== 'MEMBER') return 'expected a MEMBER profile';
        return r.data.updateMyProfile.identityId === s.aliceId ? null : 'expected alice\'s identity id';
      },
    },
    {
      title: 'alice lists notes with their authors (Note.author, one BatchInvoke for the page)', as: 'acme/alice',
      query: '{ notes(limit: 20) { items { id title author { displayName } } } tenant { name memberCount } }', vars: () => ({}),
      check: (r, s) => {
        const mine = (r.data?.notes?.items ?? []).filter((n) => n.id === s.privateId || n.id === s.publicId);
        if (mine.length !== 2) return 'expected both of alice\'s notes';
        if (!mine.every((n) => n.author?.displayName === 'Alice Liddell')) return 'expected alice as author';
        return r.data.tenant.memberCount >= 1 ? null : 'expected a member count';
      },
    },
    {
      title: 'bob (globex) tries to delete alice\'s note', as: 'globex/bob',
      query: 'mutation ($id: ID!) { deleteNote(id: $id) { id } }', vars: (s) => ({ id: s.privateId }),
      check: (r) => (errorTypes(r).includes('NotFound') ? null : 'expected NotFound'),
    },
  ];
}

/** Runs `notes-client` with `args`; stdin gets `input`. */
function runClient(client, args, env, input) {
  const res = spawnSync(client, args, { env, input, encoding: 'utf8', timeout: 120_000 });
  if (res.error) throw new Error(`cannot run ${client}: ${res.error.message}`);
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function parseAnswer(stdout) {
  try {
    return JSON.parse(stdout);
  } catch {
    return null;
  }
}

/** One line of JSON for the log, errors cut to type and message as before. */
function brief(answer) {
  return JSON.stringify(answer.errors
    ? { data: answer.data, errors: answer.errors.map((e) => ({ errorType: e.errorType, message: e.message })) }
    : answer);
}

export function runTour(outputsPath, { client = join(ROOT, 'target/debug/notes-client'), log = console.log, tenants = DEMO } = {}) {
  // 'acme/alice' → 'A/alice' (the steps name the demo tenants).
  const as = (who) => who.replace(/^(acme|globex)\b/, (t) => tenants[t]);
  if (!existsSync(client)) throw new Error(`${client} not found: cargo build -p notes-client`);
  const outputs = JSON.parse(readFileSync(outputsPath, 'utf8'));
  const sessions = mkdtempSync(join(tmpdir(), 'notes-tour-'));
  const env = { ...process.env, NOTES_OUTPUTS: resolve(outputsPath), NOTES_SESSIONS_DIR: sessions };
  log(`# NOTES_OUTPUTS=${outputsPath}  (sessions in ${sessions})`);
  const state = {};
  let passed = 0;
  const failures = [];
  const fail = (title, problem) => {
    failures.push(`${title}: ${problem}`);
    log(`✗ ${problem}`);
  };
  try {
    for (const step of steps(tenants)) {
      log(`\n# ${step.title}`);
      if (step.signIn) {
        const [tenantId, name] = [tenants[step.signIn[0]], step.signIn[1]];
        const entry = outputs.tenants?.find((t) => t.tenantId === tenantId);
        const user = entry?.users?.find((u) => u.name === name);
        // The tenant's own Identity Pool (tenants live in several), else the top-level one.
        const identityPool = entry?.identityPoolId ?? outputs.identityPoolId;
        if (!user?.password) {
          log(`$ notes-client sign-in --tenant ${tenantId} --username ${name}`);
          fail(step.title, `no demo user ${tenantId}/${name} with a password in ${outputsPath}`);
          continue;
        }
        const args = ['sign-in', '--tenant', tenantId, '--username', name, '--password-stdin'];
        log(`$ echo "$PASSWORD" | notes-client ${args.map(shQuote).join(' ')}`);
        const res = runClient(client, args, env, `${user.password}\n`);
        log((res.stdout + res.stderr).trimEnd());
        if (res.status !== 0) fail(step.title, `exit ${res.status}`);
        else if (!/identity: +\S+:/.test(res.stdout)) fail(step.title, 'no identity id in the answer');
        else if (!res.stdout.includes(`(Identity Pool ${identityPool})`)) fail(step.title, `not signed in through ${tenantId}'s Identity Pool ${identityPool}`);
        else passed += 1;
        continue;
      }
      const variables = step.vars(state);
      const hasVars = Object.keys(variables).length > 0;
      const args = step.as === 'guest' ? ['query', step.query, '--guest'] : ['--as', as(step.as), 'query', step.query];
      if (hasVars) args.push('--variables', JSON.stringify(variables));
      log(`$ notes-client ${args.map(shQuote).join(' ')}`);
      const res = runClient(client, args, env);
      const answer = parseAnswer(res.stdout);
      if (res.stderr.trim()) log(res.stderr.trimEnd());
      if (answer === null) {
        log(res.stdout.trimEnd());
        fail(step.title, `exit ${res.status}, no JSON answer`);
        continue;
      }
      log(`→ ${brief(answer)}`);
      const problem = res.status === 0 ? step.check(answer, state) : `exit ${res.status}`;
      if (problem) fail(step.title, problem);
      else passed += 1;
    }
    log('\n# alice signs out (her session file is removed; carol\'s and bob\'s stay)');
    log(`$ notes-client --as ${as('acme/alice')} sign-out`);
    const out = runClient(client, ['--as', as('acme/alice'), 'sign-out'], env);
    log((out.stdout + out.stderr).trimEnd());
    const after = runClient(client, ['--as', as('acme/alice'), 'query', '{ me { identityId } }'], env);
    if (out.status !== 0) fail('alice signs out', `exit ${out.status}`);
    else if (after.status === 0) fail('alice signs out', 'her session still answers');
    else passed += 1;
  } finally {
    rmSync(sessions, { recursive: true, force: true });
  }
  return { passed, failures };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
    console.log('usage: node local/tour.mjs [--outputs .local/outputs.json] [--check] [--client target/debug/notes-client]\n'
      + 'The tour of the local stack through notes-client (scripts/local.sh runs it); --check asserts every answer.');
    process.exit(0);
  }
  const opts = parseArgs(process.argv.slice(2));
  let passed = 0;
  let failures;
  try {
    ({ passed, failures } = runTour(opts.outputs, { client: opts.client, tenants: opts.tenants }));
  } catch (e) {
    console.error(`tour: ${e.message}`);
    failures = [e.message];
  }
  console.log(`\ntour: ${passed} passed, ${failures.length} failed`);
  if (opts.check && failures.length) {
    for (const f of failures) console.error(`FAILED ${f}`);
    process.exit(1);
  }
}
