// Every relative link in README.md, docs/**/*.md and every folder's README.md resolves: the file
// or folder exists and, for a link into a Markdown file, its #anchor is one of that file's
// headings as GitHub slugs them (or an explicit <a id>/<a name>). docs/SUMMARY.md lists every
// page of docs/, and the README stays the front door (at most 250 lines). Links inside code
// fences and code spans are text, not links; http(s):, mailto: and other schemes are not
// checked (no network). No dependency: a small Markdown link scan, enough for these files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Folders that hold no documentation of ours: build output, installed packages, state.
const SKIP_DIRS = new Set(['node_modules', 'target', 'dist', '.git', '.local']);

/** The Markdown files whose links must resolve: README.md, docs/**, and every README.md. */
export function documents(root = ROOT) {
  const out = new Set();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        // Dot folders (.git, .local, .ci, ...) hold no pages a reader opens.
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(dir, e.name));
      } else if (e.name === 'README.md' || (e.name.endsWith('.md') && relative(root, dir).split(sep)[0] === 'docs')) {
        out.add(join(dir, e.name));
      }
    }
  };
  walk(root);
  return [...out].sort();
}

/** The lines of a Markdown text outside fenced code blocks, as [lineNumber, text]. */
export function proseLines(text) {
  const out = [];
  let fence = null; // the opening fence (``` or ~~~, its length) while inside one
  text.split('\n').forEach((line, i) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      // A fence closes with the same character, at least as long, and nothing else on the line.
      const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) fence = null;
      return;
    }
    if (m) {
      fence = m[1];
      return;
    }
    out.push([i + 1, line]);
  });
  return out;
}

/** A line with its code spans blanked (their text is literal, never a link). */
function withoutCodeSpans(line) {
  return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, (s) => ' '.repeat(s.length));
}

// [text](dest "title") and ![alt](dest); the text may hold one level of brackets (an image in a
// link, or a bracketed word); dest may be <in angle brackets> or hold balanced parentheses.
const INLINE = /!?\[((?:[^[\]]|\[[^\]]*\])*)\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
// [label]: dest (a reference definition); HTML href= / src= attributes.
const DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const HTML_ATTR = /<(?:a|img|source)\b[^>]*?\s(?:href|src)\s*=\s*("([^"]*)"|'([^']*)')/gi;

/** Every link destination of a Markdown text outside code: [{ line, dest }]. */
export function links(text) {
  const out = [];
  const scan = (line, n) => {
    for (const m of line.matchAll(INLINE)) {
      out.push({ line: n, dest: m[2].replace(/^<|>$/g, '') });
      scan(m[1], n); // an image inside the link's text is a link of its own
    }
  };
  for (const [n, raw] of proseLines(text)) {
    const line = withoutCodeSpans(raw);
    const d = DEFINITION.exec(line);
    if (d) out.push({ line: n, dest: d[1].replace(/^<|>$/g, '') });
    scan(line, n);
    for (const m of line.matchAll(HTML_ATTR)) out.push({ line: n, dest: m[2] ?? m[3] });
  }
  return out;
}

/**
 * GitHub's heading anchor: the heading's text as rendered (code spans' content, a link's
 * text, no emphasis marks or HTML), lower-cased, every character that is not a letter, digit,
 * mark, connector (`_`), hyphen or space removed, spaces turned into hyphens.
 */
export function slug(heading) {
  const rendered = heading
    .replace(/!?\[((?:[^[\]]|\[[^\]]*\])*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`+/g, '')
    .replace(/\*+/g, '')
    .replace(/(^|\s)_+|_+(?=\s|$)/g, '$1');
  return rendered.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown text offers: its headings' slugs (duplicates get -1, -2, ...) and <a id|name>. */
export function anchors(text) {
  const seen = new Map();
  const out = new Set();
  for (const [, line] of proseLines(text)) {
    const h = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\b[^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']/gi)) out.add(m[1]);
  }
  return out;
}

/** What is wrong with one link of `file` (null: it resolves). */
export function problem(file, dest, root = ROOT) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(dest) || dest.startsWith('//')) return null; // http(s):, mailto:, ...
  const hash = dest.indexOf('#');
  const rawPath = hash < 0 ? dest : dest.slice(0, hash);
  const anchor = hash < 0 ? null : dest.slice(hash + 1);
  let path;
  try {
    path = decodeURIComponent(rawPath.split('?')[0]);
  } catch {
    return `${dest}: not a valid URL path`;
  }
  // GitHub resolves /x from the repository's root, anything else from the file's folder.
  const target = path === '' ? file : path.startsWith('/') ? join(root, path) : resolve(dirname(file), path);
  if (!target.startsWith(root)) return `${dest}: points outside the repository`;
  if (!existsSync(target)) return `${dest}: ${relative(root, target)} does not exist`;
  if (anchor === null || anchor === '' || !target.endsWith('.md') || statSync(target).isDirectory()) return null;
  let id;
  try {
    id = decodeURIComponent(anchor);
  } catch {
    return `${dest}: not a valid anchor`;
  }
  if (!anchors(readFileSync(target, 'utf8')).has(id)) return `${dest}: no heading #${id} in ${relative(root, target)}`;
  return null;
}

test('the link scan: fences, code spans, images in links, anchors as GitHub slugs them', () => {
  const text = [
    '# Identity → tenant',
    '## `Query.me` and [docs](x.md)',
    '## Large tenants: the ceiling, and why',
    '## Notes',
    '## Notes',
    'See [a](a.md#b) and ![pic](p.png "title"), [![badge](b.svg)](c.md), `[not](code.md)`.',
    '```sh',
    '[not a link](inside-a-fence.md)',
    '```',
    '[ref]: <d e.md>',
    '<a href="f.md">f</a>',
  ].join('\n');
  assert.deepEqual(links(text).map((l) => l.dest), ['x.md', 'a.md#b', 'p.png', 'c.md', 'b.svg', 'd e.md', 'f.md']);
  assert.deepEqual([...anchors(text)], ['identity--tenant', 'queryme-and-docs', 'large-tenants-the-ceiling-and-why', 'notes', 'notes-1']);
  assert.equal(slug('Profiles, roles and batched authors'), 'profiles-roles-and-batched-authors');
  assert.equal(slug('Lists cost O(page), not O(tenant)'), 'lists-cost-opage-not-otenant');
  assert.equal(problem(join(ROOT, 'README.md'), 'https://example.com/x.md#nowhere'), null);
  assert.equal(problem(join(ROOT, 'README.md'), 'mailto:someone@example.com'), null);
  assert.match(problem(join(ROOT, 'README.md'), 'docs/no-such-page.md') ?? '', /does not exist/);
  assert.match(problem(join(ROOT, 'README.md'), '#no-such-heading') ?? '', /no heading #no-such-heading/);
});

test('every relative link and anchor in README.md, docs/ and the READMEs resolves', () => {
  const files = documents();
  assert.ok(files.includes(join(ROOT, 'README.md')), 'README.md not found');
  assert.ok(files.some((f) => f.startsWith(join(ROOT, 'docs') + sep)), 'no page under docs/');
  const broken = [];
  let checked = 0;
  for (const file of files) {
    for (const { line, dest } of links(readFileSync(file, 'utf8'))) {
      checked += 1;
      const p = problem(file, dest);
      if (p) broken.push(`${relative(ROOT, file)}:${line}: ${p}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} links found: is the scan broken?`);
  assert.deepEqual(broken, [], `links that do not resolve:\n${broken.join('\n')}`);
});

test('docs/SUMMARY.md lists every page of docs/', () => {
  const summary = join(ROOT, 'docs', 'SUMMARY.md');
  const listed = new Set(links(readFileSync(summary, 'utf8')).map(({ dest }) => resolve(dirname(summary), dest.split('#')[0])));
  const pages = documents().filter((f) => f.startsWith(join(ROOT, 'docs') + sep) && f !== summary);
  const missing = pages.filter((f) => !listed.has(f)).map((f) => relative(ROOT, f));
  assert.deepEqual(missing, [], `pages of docs/ that docs/SUMMARY.md does not list: ${missing.join(', ')}`);
});

test('README.md is the front door: at most 250 lines', () => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
  assert.ok(lines <= 250, `README.md has ${lines} lines; move the depth into docs/`);
});
