// Every script and command-line entry point of the project answers -h and --help with its usage,
// exits 0 and writes nothing (no file, no directory named "--help", no started service).
// New scripts are found by their place (scripts/, web/, local/), so a new one must comply too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

const inDir = (dir, re) => readdirSync(join(ROOT, dir)).filter((f) => re.test(f)).map((f) => join(dir, f));

// Node entry points: the files that run something when executed (the rest are modules).
const nodeEntries = ['local/server.mjs', 'local/tour.mjs', 'local/cognito-setup.mjs', 'web/serve.mjs'];

function entries() {
  const out = [];
  for (const f of [...inDir('scripts', /\.sh$/), ...inDir('web', /\.sh$/), ...inDir('web/test', /\.sh$/)]) out.push(['bash', f]);
  for (const f of [...inDir('scripts', /\.py$/), ...inDir('local', /\.py$/), ...inDir('local/e2e', /\.py$/)]) {
    if (!/^test_|_test\.py$/.test(f.split('/').pop())) out.push(['python3', f]);
  }
  for (const f of nodeEntries) out.push(['node', f]);
  return out;
}

// What git sees (modified and untracked files), what the scripts' state directory .local holds,
// and any file or directory named like a flag — the mark of a script that took `--help` for a path.
const snapshot = () => [
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 }),
  existsSync(join(ROOT, '.local')) ? readdirSync(join(ROOT, '.local')).sort().join(' ') : '',
  // (find's own exit status is ignored: files of a running build may vanish under it)
  spawnSync('find', ['.', '-maxdepth', '4', '(', '-name', '-h', '-o', '-name', '--help', ')', '-not', '-path', './target/*'], { cwd: ROOT, encoding: 'utf8' }).stdout,
].join('\n');

test('every script answers -h and --help with its usage and writes nothing', () => {
  const before = snapshot();
  const list = entries();
  assert.ok(list.length >= 15, `found only ${list.length} entry points`);
  for (const [runner, file] of list) {
    for (const flag of ['-h', '--help']) {
      const r = spawnSync(runner, [file, flag], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, CI: '' } });
      const what = `${relative(ROOT, join(ROOT, file))} ${flag}`;
      assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
      assert.ok(r.stdout.trim().length > 20, `${what}: no usage printed`);
      assert.equal(snapshot(), before, `${what} wrote something`);
    }
  }
});
