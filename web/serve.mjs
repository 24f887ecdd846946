#!/usr/bin/env node
// A tiny static server for the built app (Node http, no framework): web/dist, and the stack's
// outputs file at /outputs.json, which the app reads at runtime to find its stack.
//
//   node web/serve.mjs --outputs .local/outputs.json [--dist web/dist] [--port 0] [--host 127.0.0.1]
//
// --port 0 takes a free port. It prints "Web app: http://HOST:PORT/" once listening. GET and HEAD
// only; paths are resolved inside --dist (anything else is 404); the outputs file is read on every
// request, so a restarted stack's new file is served without restarting this.
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function parseArgs(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const opts = { dist: join(here, 'dist'), outputs: null, port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dist') opts.dist = argv[++i];
    else if (a === '--outputs') opts.outputs = argv[++i];
    else if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--host') opts.host = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.outputs) throw new Error('usage: serve.mjs --outputs FILE [--dist DIR] [--port N] [--host H]');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`bad --port ${opts.port}`);
  return opts;
}

/** The request handler: `dist` files, `/outputs.json` from `outputs`. */
export function createStaticServer({ dist, outputs }) {
  const root = resolve(dist);
  const outputsFile = resolve(outputs);

  function send(res, status, type, body, extra = {}) {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff', ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  async function serveFile(req, res, file, cache) {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return false;
    }
    if (!stat.isFile()) return false;
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end(), true;
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
    return true;
  }

  return http.createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'GET or HEAD only\n', { allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
    }
    if (path === '/outputs.json') {
      let body;
      try {
        body = await fs.readFile(outputsFile, 'utf8');
      } catch {
        return send(res, 503, 'application/json; charset=utf-8', `${JSON.stringify({ message: `no outputs file at ${outputsFile} yet` })}\n`, { 'cache-control': 'no-store' });
      }
      return send(res, 200, 'application/json; charset=utf-8', body, { 'cache-control': 'no-store' });
    }
    if (path === '/') path = '/index.html';
    if (path === '/explorer') path = '/explorer.html';
    const file = normalize(join(root, path));
    if (path.includes('\0') || (file !== root && !file.startsWith(root + sep))) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    // Hashed assets never change; the pages are re-read so a rebuild shows at once.
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    if (await serveFile(req, res, file, cache)) return;
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.slice(2).some((a) => a === '-h' || a === '--help')) {
    console.log('usage: node web/serve.mjs --outputs FILE [--dist DIR] [--port N] [--host H]\n'
      + 'Serves the built web app (web/dist) and FILE as /outputs.json.');
    process.exit(0);
  }
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  try {
    await fs.access(join(opts.dist, 'index.html'));
  } catch {
    console.error(`no build in ${opts.dist}: run \`npm ci && npm run build\` in web/ first`);
    process.exit(1);
  }
  const server = createStaticServer(opts);
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    console.log(`Web app: http://${opts.host}:${port}/`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
