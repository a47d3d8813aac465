// `stepcron ui` in a real browser: Debian's chromium driven by puppeteer-core against the CLI's own server over a store
// with real runs (`stepcron start`) and a seeded history. The pages show the jobs, their runs and states, the calendar
// shows fire times, actions taken in the page are what `stepcron status` and `history` then show, and the security
// rules hold against requests a hostile page or a DNS-rebinding host would send. Screenshots: docs/img/ui-*.png.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, launch, type Page } from 'puppeteer-core';
import { cleanUp, ROOT, startCli, until, workspace } from './support/cli';
import { seedRuns } from './support/seed-store';

// What the functions run in the page see (the project's types are Node's, without the DOM's).
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const IMG = join(ROOT, 'docs', 'img');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) process.stderr.write(`ui.test: ${CHROMIUM} is missing (apt-get install chromium; scripts/install-chromium.sh): the browser tests are skipped\n`);
const withBrowser = hasChromium ? describe : describe.skip;

/** An HTTP request as any client may send it (headers as given, no browser rules): status, headers, body. */
function raw(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const cli = (dir: string, ...args: string[]) => startCli([...args, '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 30_000 }).done;

withBrowser('stepcron ui in chromium', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let url: string;
  let port: number;
  let token: string;
  let server: ReturnType<typeof startCli>;

  beforeAll(async () => {
    dir = workspace({
      ok: { command: 'echo ran $STEPCRON_INPUT', schedule: 'cron(0 * * * ? *)', fields: ['timezone: Europe/Berlin', 'minRuntimeSeconds: 30'] },
      bad: { command: 'echo failing >&2; exit 3', schedule: 'cron(30 2 * * ? *)', fields: ['timezone: America/New_York'] },
      off: { command: 'true', schedule: 'rate(1 day)', fields: ['enabled: false'] },
      'nightly-report': { command: 'true', schedule: 'cron(15 1 * * ? *)', fields: ['timezone: Europe/London'] },
      'sync-crm': { command: 'true', schedule: 'cron(0/15 * * * ? *)' },
    });
    // A month of history for the two jobs that only decorate the screenshot; real runs for the ones the tests check.
    seedRuns(join(dir, '.stepcron'), ['nightly-report', 'sync-crm'], 30);
    for (const job of ['ok', 'bad']) expect((await cli(dir, 'start', job)).stderr).toMatch(/▶/);
    server = startCli(['ui', '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 120_000 });
    await until(() => /token=/.test(server.stdout()), 30_000, 'the console URL');
    url = server.stdout().trim().split('\n')[0]!;
    port = Number(new URL(url).port);
    token = new URL(url).searchParams.get('token')!;
    browser = await launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'], defaultViewport: { width: 1400, height: 760 } });
    page = await browser.newPage();
    mkdirSync(IMG, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGINT');
    if (server) await server.done;
    cleanUp();
  });

  it('the jobs page shows every job with its state, schedule in words, next run and a strip of its runs', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => void errors.push(String(err)));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(url);
    // The token went into a cookie and out of the address bar.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('[data-job="bad"] .bar.s-FAILED');

    const rows = await page.$$eval('.row', (els) => els.map((el) => ({
      job: el.getAttribute('data-job'), state: el.querySelector('.state .pill')?.textContent, reason: el.querySelector('.state small')?.textContent,
      words: el.querySelector('.sched')?.textContent, bars: [...el.querySelectorAll('.bar:not(.empty)')].map((b) => b.className),
      marks: [...el.querySelectorAll('.mark')].map((b) => b.className),
    })));
    const row = (job: string) => rows.find((r) => r.job === job)!;
    expect(rows.map((r) => r.job).sort()).toEqual(['bad', 'nightly-report', 'off', 'ok', 'sync-crm']);
    expect(row('ok')).toMatchObject({ state: 'enabled', words: 'every hour at :00Europe/Berlin', bars: ['bar s-SUCCEEDED'] });
    // ok ran in well under its minRuntimeSeconds: marked as too fast.
    expect(row('ok').marks).toEqual(['mark m-fast']);
    expect(row('bad')).toMatchObject({ state: 'enabled', words: 'every day at 02:30America/New_York', bars: ['bar s-FAILED'] });
    expect(row('off')).toMatchObject({ state: 'disabled', reason: 'off on dev: enabled: false in the catalog', bars: [] });
    expect(row('sync-crm').bars).toHaveLength(30);
    expect(errors).toEqual([]);

    // Filter and sort in the page.
    await page.type('input[type=search]', 'new_york');
    await page.waitForFunction(() => document.querySelectorAll('.row').length === 1);
    expect(await page.$eval('.row', (el) => el.getAttribute('data-job'))).toBe('bad');
    await page.click('input[type=search]', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.waitForFunction(() => document.querySelectorAll('.row').length === 5);
    await page.screenshot({ path: join(IMG, 'ui-jobs.png') });
  });

  it('the calendar counts the fire times of the enabled jobs per hour', async () => {
    await page.goto(`http://127.0.0.1:${port}/#/calendar`);
    await page.waitForSelector('.hour');
    const counts = await page.$$eval('.hour', (els) => els.map((el) => Number(el.getAttribute('data-count'))));
    // 24 hours: ok hourly (24), bad and nightly-report daily (1 each), sync-crm every 15 minutes (96); off and never.
    expect(counts).toHaveLength(24);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(24 + 1 + 1 + 96);
    await page.click('.hour[data-count="6"]').catch(() => page.click('.hour'));
    await page.waitForSelector('.fires li');
    await page.screenshot({ path: join(IMG, 'ui-calendar.png') });
  });

  it('a pause and a start made in the page are what stepcron status and history show', async () => {
    await page.goto(`http://127.0.0.1:${port}/#/job/ok`);
    await page.waitForSelector('input[name=note]');
    await page.type('input[name=note]', 'vendor API down until Monday');
    await page.click('form:has(input[name=note]) button');
    await page.waitForSelector('.outcome.ok');
    expect(await page.$eval('.outcome', (el) => el.textContent)).toMatch(/^paused ok on dev .*: vendor API down until Monday$/);

    const status = JSON.parse((await cli(dir, 'status', '--json')).stdout) as Array<{ job: string; state: string; pause?: { note: string } }>;
    expect(status.find((s) => s.job === 'ok')).toMatchObject({ state: 'paused', pause: { note: 'vendor API down until Monday' } });

    // An input the precheck would refuse is refused as `run --event` refuses it; nothing runs.
    await page.type('textarea[name=input]', '{"inputt": {}}');
    await page.click('form:has(textarea) button');
    await page.waitForSelector('.outcome.bad');
    expect(await page.$eval('.outcome', (el) => el.textContent)).toMatch(/^input: input\.inputt: is not a known field/);

    await page.$eval('textarea[name=input]', (el: any) => { el.value = ''; });
    await page.type('textarea[name=input]', '{"input": {"day": "2026-12-01"}}');
    await page.click('form:has(textarea) button');
    await page.waitForFunction(() => /^SUCCEEDED \S+ exit 0$/.test(document.querySelector('.outcome.ok')?.textContent ?? ''));
    const execution = (await page.$eval('.outcome', (el) => el.textContent!)).split(' ')[1]!;
    const history = JSON.parse((await cli(dir, 'history', '--json')).stdout) as Array<{ job: string; execution: string; status: string }>;
    expect(history[0]).toMatchObject({ job: 'ok', execution, status: 'SUCCEEDED' });
    // The page followed: the new run is in its list without a reload.
    await page.waitForSelector(`a[href="#/run/ok/${execution}"]`);
    await page.screenshot({ path: join(IMG, 'ui-job.png') });

    // Resume from the page, as `stepcron resume`.
    const resume = await page.$$eval('form', (forms) => forms.findIndex((f) => f.querySelector('h3')?.textContent === 'Resume'));
    expect(resume).toBeGreaterThanOrEqual(0);
    await page.evaluate((i) => document.querySelectorAll('form')[i].querySelector('button').click(), resume);
    await page.waitForFunction(() => /^resumed ok on dev/.test(document.querySelector('.outcome.ok')?.textContent ?? ''));
    const after = JSON.parse((await cli(dir, 'status', '--json')).stdout) as Array<{ job: string; state: string }>;
    expect(after.find((s) => s.job === 'ok')?.state).toBe('enabled');
  });

  it('the run page shows the run, its output and its events (#/run/<job>/<execution>)', async () => {
    const [bad] = JSON.parse((await cli(dir, 'history', 'bad', '--json')).stdout) as Array<{ execution: string }>;
    await page.goto(`http://127.0.0.1:${port}/#/run/bad/${bad!.execution}`);
    await page.waitForSelector('.run .pill');
    expect(await page.$eval('.run .pill', (el) => el.textContent)).toBe('FAILED');
    expect(await page.$eval('.output', (el) => el.textContent)).toMatch(/failing/);
    // The Run page proper (its graph, items, the screenshot docs/img/ui-run.png) is tested in test/ui-run.test.ts.
    expect(await page.$$eval('.evlist tbody tr', (els) => els.length)).toBeGreaterThan(5);
  });

  it('refuses requests without the token, for another Host, cross-origin POSTs and GETs on actions', async () => {
    const cookie = `stepcron-ui-${port}=${token}`;
    const host = `127.0.0.1:${port}`;
    const json = { 'Content-Type': 'application/json', Cookie: cookie, Host: host };
    // No token: neither the API nor the page.
    expect((await raw(port, '/api/jobs', { headers: { Host: host } })).status).toBe(401);
    expect((await raw(port, '/', { headers: { Host: host } })).status).toBe(401);
    expect((await raw(port, '/?token=wrong', { headers: { Host: host } })).status).toBe(401);
    // DNS rebinding: the right token (a cookie the browser would not even send there), another Host.
    expect((await raw(port, '/api/jobs', { headers: { Cookie: cookie, Host: `evil.example:${port}` } })).status).toBe(403);
    // A cross-origin POST, and one the browser marks cross-site, change nothing.
    const pause = JSON.stringify({ note: 'from evil' });
    expect((await raw(port, '/api/jobs/bad/pause', { method: 'POST', headers: { ...json, Origin: 'http://evil.example' }, body: pause })).status).toBe(403);
    expect((await raw(port, '/api/jobs/bad/pause', { method: 'POST', headers: { ...json, 'Sec-Fetch-Site': 'cross-site' }, body: pause })).status).toBe(403);
    // A form post (no JSON) and a GET on an action are refused.
    expect((await raw(port, '/api/jobs/bad/pause', { method: 'POST', headers: { Cookie: cookie, Host: host, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'note=x' })).status).toBe(403);
    expect((await raw(port, '/api/jobs/bad/pause?note=x', { headers: { Cookie: cookie, Host: host } })).status).toBe(405);
    const status = JSON.parse((await cli(dir, 'status', 'bad', '--json')).stdout) as Array<{ state: string }>;
    expect(status[0]!.state).toBe('enabled');
    // Only the built files, by name: no path reaches the disk.
    for (const path of ['/assets/../package.json', '/assets/%2e%2e%2fpackage.json', '/assets/..%2f..%2fpackage.json', '/package.json']) {
      expect((await raw(port, path, { headers: { Cookie: cookie, Host: host } })).status).toBe(404);
    }
    // The page: a CSP without inline script, nosniff, no framing; its HTML loads scripts by URL only.
    const home = await raw(port, '/', { headers: { Cookie: cookie, Host: host } });
    expect(home.status).toBe(200);
    expect(home.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self';.*frame-ancestors 'none'/);
    expect(home.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(home.headers['x-content-type-options']).toBe('nosniff');
    expect(home.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // In the browser, another origin's page cannot read the API (no CORS) nor post to it.
    const other = await browser.newPage();
    await other.goto('about:blank');
    const read = await other.evaluate((u) => fetch(u).then((r) => r.status, (e: Error) => e.name), `http://127.0.0.1:${port}/api/jobs`);
    expect(read).toBe('TypeError');
    await other.close();
  });

  it('the console is small: all its files together under 150 KB gzipped', () => {
    const dist = join(ROOT, 'dist', 'ui');
    const sizes = readdirSync(dist).filter((f) => !f.startsWith('.')).map((f) => gzipSync(readFileSync(join(dist, f))).length);
    const total = sizes.reduce((a, b) => a + b, 0);
    writeFileSync(join(dir, 'sizes.txt'), String(total));
    expect(total).toBeLessThan(150 * 1024);
  });
});
