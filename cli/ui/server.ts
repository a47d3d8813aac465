// `stepcron ui`'s HTTP server: the console's pages (dist/ui, built from web/ with the CLI) and its JSON API
// (cli/ui/api.ts), on 127.0.0.1 only. Safe by default, as Jupyter is:
// - the printed URL's random token opens the console once: that page load (?token=) trades it for a separate random
//   session value in an HttpOnly, SameSite=Strict cookie and a redirect that drops it from the address bar; the
//   page's own requests send the cookie. Cookies are not scoped by port, so other servers on 127.0.0.1 see it: it is
//   worth nothing there, and never the printed token. The used URL presented again without the session is refused,
//   and a fresh one is printed to the terminal (a browser reopened after the tab was closed);
// - the Host header must name 127.0.0.1:PORT or localhost:PORT (a DNS-rebinding page's requests name its own host);
// - state changes only by POST with a JSON body (a cross-site form cannot send one without a CORS preflight, which
//   is never answered), from no Origin or this server's own;
// - a Content-Security-Policy without inline script, nosniff, and no framing; only the built asset files are served,
//   by their names (no path is ever joined from the request).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Api } from './api';

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/**
 * A POST body larger than this is refused before it is read whole. A run input is at most 256 KiB (the API says so,
 * as `run --event` does), but it arrives as a JSON string inside the body: escaping may make each of its bytes up to
 * six (a control character is \u0000), so the bound leaves room for that, plus the body's other fields.
 */
const BODY_MAX_BYTES = 6 * 256 * 1024 + 16 * 1024;
/** JSON answers larger than this are gzipped when the browser takes gzip (the jobs page of 1,000 jobs is ~2 MB). */
const GZIP_ABOVE = 8 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

export interface UiServer {
  url: string;
  port: number;
  /** The X-Stepcron-Token header's value: not the URL's one-time token. */
  token: string;
  server: Server;
  close(): Promise<void>;
}

export interface ServeOptions {
  api: Api;
  /** 0: any free port. */
  port: number;
  /** The built pages (dist/ui); found from this file when not given. */
  assets?: string;
  /** The X-Stepcron-Token header's value (scripts, tests, bench); a random one by default. Never printed. */
  token?: string;
  /** Told each fresh one-time URL after the first (the printed one was used and presented again): print it. */
  onUrl?: (url: string) => void;
}

/** The folder of the built console: dist/ui beside the CLI's bundle (dist/), or in the package root when run from sources. */
export function assetsDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist', 'ui'))) return join(dir, 'dist', 'ui');
    if (existsSync(join(dir, 'ui', 'index.html')) && dir.endsWith('dist')) return join(dir, 'ui');
    if (dirname(dir) === dir) throw new Error('the console is not built (dist/ui is missing): run npm run build');
  }
}

export async function serveUi(o: ServeOptions): Promise<UiServer> {
  const random = () => randomBytes(24).toString('base64url');
  const token = o.token ?? random();
  /** The URL's token: good for one page load, which trades it for a session. */
  let link = random();
  /** Links already traded: presented again, they are refused with a fresh URL printed. */
  const used = new Set<string>();
  /** Session values given as cookies. */
  const sessions = new Set<string>();
  const urlOf = () => `http://127.0.0.1:${port}/?token=${link}`;
  const isSession = (value: string | undefined) => value !== undefined && [...sessions].some((s) => same(value, s));
  const dir = o.assets ?? assetsDir();
  // The files there when the server starts, by name: nothing else is ever read.
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  if (!files.has('index.html')) throw new Error(`the console is not built (${join(dir, 'index.html')} is missing): run npm run build`);
  let port = 0;
  const cookie = () => `stepcron-ui-${port}`;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: `internal error (a bug in stepcron): ${(err as Error)?.message ?? err}` });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    secureHeaders(res);
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return send(res, 403, { error: `refused: Host '${host}' is not this console's (127.0.0.1:${port}): open the URL stepcron ui printed` });
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const method = req.method ?? 'GET';
    // First load: the URL's token is traded for a session cookie, once, and the address bar loses it.
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null && method === 'GET' && url.pathname === '/') {
      if ([...used].some((u) => same(fromQuery, u))) {
        // The link clicked again in the browser that has the session: nothing to refuse.
        if (isSession(cookieOf(req, cookie()))) {
          res.writeHead(303, { Location: '/' }).end();
          return;
        }
        link = random();
        o.onUrl?.(urlOf());
        return send(res, 401, { error: 'this link was used already (it opens the console once): use the open tab, or the new URL stepcron ui just printed in its terminal' });
      }
      if (!same(fromQuery, link)) return send(res, 401, { error: 'wrong token: open the URL stepcron ui printed' });
      used.add(link);
      link = random();
      const session = random();
      sessions.add(session);
      res.setHeader('Set-Cookie', `${cookie()}=${session}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { Location: '/' }).end();
      return;
    }
    const header = req.headers['x-stepcron-token'];
    const allowed = typeof header === 'string' ? same(header, token) : isSession(cookieOf(req, cookie()));
    if (!allowed) return send(res, 401, { error: 'no token: open the URL stepcron ui printed (it ends in ?token=...)' });
    if (url.pathname.startsWith('/api/')) {
      const action = url.pathname.startsWith('/api/jobs/') && url.pathname.split('/').length === 5;
      if (action && method !== 'POST') return send(res, 405, { error: `${url.pathname} changes something: POST only` }, { Allow: 'POST' });
      if (method === 'POST') {
        const refused = postRefusal(req, port);
        if (refused) return send(res, 403, { error: refused });
        const body = await readJson(req);
        if ('error' in body) return send(res, body.status, { error: body.error });
        const answer = await o.api.handle('POST', url.pathname, url.searchParams, body.value);
        return send(res, answer.status, answer.body, {}, req);
      }
      if (method !== 'GET') return send(res, 405, { error: `${method} is not used here` }, { Allow: 'GET, POST' });
      const answer = await o.api.handle('GET', url.pathname, url.searchParams, undefined);
      return send(res, answer.status, answer.body, {}, req);
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: `${method} is not used here` }, { Allow: 'GET' });
    // The page (any client-side route), or an asset by its name: nothing is looked up on disk from the path.
    const name = url.pathname === '/' ? 'index.html' : url.pathname.startsWith('/assets/') ? url.pathname.slice('/assets/'.length) : undefined;
    const file = name === undefined ? undefined : files.get(name);
    if (!file) return send(res, 404, { error: `not found: ${url.pathname}` });
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
    res.end(method === 'HEAD' ? undefined : file.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  return {
    url: urlOf(),
    port,
    token,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function secureHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** The session a request's cookie carries. */
function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** Why a POST is refused: from another origin (or a browser that says it is cross-site), or not JSON. */
function postRefusal(req: IncomingMessage, port: number): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
    return `refused: a request from ${origin} (only this console's own pages may change anything)`;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `refused: a ${site} request (only this console's own pages may change anything)`;
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return 'refused: a change is a POST with a JSON body (Content-Type: application/json)';
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<{ value: unknown } | { status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Read to its end all the same (the client is still sending): answering mid-body resets the connection.
    if (size <= BODY_MAX_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > BODY_MAX_BYTES) return { status: 413, error: `the request is over ${BODY_MAX_BYTES / 1024} KiB` };
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { status: 400, error: 'the request body is not JSON' };
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, req?: IncomingMessage): void {
  let data: Buffer = Buffer.from(JSON.stringify(body));
  const head: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers };
  if (data.length > GZIP_ABOVE && /\bgzip\b/.test(String(req?.headers['accept-encoding'] ?? ''))) {
    data = gzipSync(data, { level: 1 });
    head['Content-Encoding'] = 'gzip';
    head.Vary = 'Accept-Encoding';
  }
  head['Content-Length'] = data.length;
  res.writeHead(status, head).end(data);
}

/** Token comparison in constant time. */
function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
