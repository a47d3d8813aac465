// `stepcron ui` in a real browser: Debian's chromium driven by puppeteer-core against the CLI's own server over a store
// with real runs (`stepcron start`) and a seeded history. The pages show the jobs, their runs and states, the calendar
// shows fire times, actions taken in the page are what `stepcron status` and `history` then show, and the security
// rules hold against requests a hostile page or a DNS-rebinding host would send. Screenshots: test/output/ui/ui-*.png
// (docs/img/ with `npm run screenshots`: test/support/screenshots.ts).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, launch, type Page } from 'puppeteer-core';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsOps } from '../cli/ops/aws';
import { localOps } from '../cli/ops/local';
import { Store } from '../cli/store';
import { uiApi } from '../cli/ui/api';
import { serveUi } from '../cli/ui/server';
import { cleanUp, ROOT, startCli, until, workspace } from './support/cli';
import { docsShotTimes, expectShotsWhereTheyBelong, shot } from './support/screenshots';
import { parseCatalog } from '../workflows/catalog';
import { bigCatalog } from './support/big-catalog';
import { seedRuns } from './support/seed-store';

// What the functions run in the page see (the project's types are Node's, without the DOM's).
declare const document: any;
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const ACCOUNT = '123456789012';
const MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:stepcron-prod-ok`;
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';
/** The stage's AWS services for the --aws page (mocked as test/ops-aws.test.ts mocks them). */
const mocks = { sfn: mockClient(SFNClient), scheduler: mockClient(SchedulerClient), sts: mockClient(STSClient), logs: mockClient(CloudWatchLogsClient) };
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) process.stderr.write(`ui.test: ${CHROMIUM} is missing (apt-get install chromium; scripts/install-chromium.sh): the browser tests are skipped\n`);
const withBrowser = hasChromium ? describe : describe.skip;
/** The screenshots this file takes, and docs/img's copies as they were before it ran. */
const SHOTS = ['ui-jobs.png', 'ui-calendar.png', 'ui-calendar-dst.png', 'ui-job.png', 'ui-aws-denied.png'];
const docsShotsBefore = docsShotTimes(SHOTS);

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
  /** The tab's session: the cookie the printed URL's token was traded for. */
  let session: string;
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
    // The token went out of the address bar, traded for a session cookie whose value is not the printed token.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
    const cookies = await page.cookies();
    session = cookies.find((c) => c.name === `stepcron-ui-${port}`)!.value;
    expect(session).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(session).not.toBe(token);
    // The printed URL opened the console once: presented again by a browser without the session (another profile,
    // or reopened), it is refused and a fresh URL printed.
    const other = await browser.createBrowserContext();
    const again = await other.newPage();
    try {
      const answer = await again.goto(url);
      expect(answer?.status()).toBe(401);
      expect(await again.$eval('body', (el) => el.textContent)).toMatch(/this link was used already \(it opens the console once\): use the open tab, or the new URL stepcron ui just printed/);
      await until(() => server.stdout().trim().split('\n').length === 2, 10_000, 'a fresh URL');
      expect(server.stdout().trim().split('\n')[1]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=(?!${token}$)[A-Za-z0-9_-]{32}$`));
    } finally {
      await other.close();
    }
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
    await page.screenshot({ path: shot('ui-jobs.png') });

    // A run started elsewhere (another terminal) shows in the open page without a reload.
    await page.evaluate(() => { window.notReloaded = true; });
    expect((await cli(dir, 'start', 'bad')).code).toBe(1);
    await page.waitForFunction(() => document.querySelectorAll('[data-job="bad"] .bar.s-FAILED').length === 2, { timeout: 10_000 });
    expect(await page.evaluate(() => window.notReloaded)).toBe(true);
  });

  it('the calendar counts the fire times of the enabled jobs per hour', async () => {
    await page.goto(`http://127.0.0.1:${port}/#/calendar`);
    await page.waitForSelector('.hour');
    const counts = await page.$$eval('.hour', (els) => els.map((el) => Number(el.getAttribute('data-count'))));
    // The next 24 hours: ok hourly (24), bad and nightly-report daily (1 each), sync-crm every 15 minutes (96); off
    // never. By clock hour: 25 of them when now is not on the hour (the first and last partial).
    expect(counts.length).toBeGreaterThanOrEqual(24);
    expect(counts.length).toBeLessThanOrEqual(25);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(24 + 1 + 1 + 96);
    await page.click('.hour[data-count="6"]').catch(() => page.click('.hour'));
    await page.waitForSelector('.fires li');
    await page.screenshot({ path: shot('ui-calendar.png') });
  });

  it('the calendar marks a DST night: the hour a zone changes its offset, and the 02:30 that does not exist', async () => {
    // The week of Europe's spring-forward (2026-03-29 01:00 UTC), through the API's clock.
    const jobs = parseCatalog(['defaults:', '  image: busybox:latest', 'jobs:',
      '  berlin-0230:', '    description: at 02:30 Berlin', '    schedule: cron(30 2 * * ? *)', '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]',
      '  hourly:', '    description: hourly', '    schedule: cron(0 * * * ? *)', '    command: [sh, -c, "true"]',
      '  ny-0900:', '    description: weekdays 09:00 New York', '    schedule: cron(0 9 ? * MON-FRI *)', '    timezone: America/New_York', '    command: [sh, -c, "true"]', ''].join('\n'), { stage: 'dev' });
    const root = join(dir, 'dst', '.stepcron');
    const store = Store.open(root, { broken: 'fail' });
    const march = await serveUi({ port: 0, api: uiApi({
      ops: localOps({ stage: 'dev', store: () => store, run: async () => undefined }), mode: 'local', catalog: 'jobs.yml', jobs: async () => jobs, enabledJobs: '*',
      checkInput: async (i) => i as Record<string, unknown>, monthlyRuns: () => 30, now: () => new Date('2026-03-27T00:00:00Z'),
    }) });
    try {
      await page.goto(march.url);
      await page.goto(`http://127.0.0.1:${march.port}/#/calendar`);
      await page.waitForSelector('.hour');
      await page.evaluate(() => [...document.querySelectorAll('.toolbar button')].find((b: any) => b.textContent === 'next 7 days').click());
      await page.waitForFunction(() => document.querySelectorAll('.hour').length === 168);
      expect(await page.$$eval('.dstlist li', (els) => els.map((el) => el.textContent))).toEqual([
        'DST: Europe/Berlin goes from UTC+01:00 to UTC+02:00 at 03-29 01:00 UTC (03-29 03:00 CEST there)',
      ]);
      expect(await page.$$eval('.hour.dst', (els) => els.map((el) => el.getAttribute('title')!.split('\n')[0]))).toEqual(['03-29 01:00 UTC: 1 run']);
      // 02:30 Berlin does not exist that night (it does not fire): the DST hour holds only the hourly job's run.
      await page.click('.hour.dst');
      expect(await page.$$eval('.fires li', (els) => els.map((el) => el.textContent))).toEqual(['01:00 UTC hourly']);
      await page.screenshot({ path: shot('ui-calendar-dst.png') });
    } finally {
      await march.close();
      store.close();
    }
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
    expect(await page.$eval('.outcome', (el) => el.textContent)).toMatch(/^input: 'inputt' at the top level is no run-input field: did you mean input\?/);

    await page.$eval('textarea[name=input]', (el: any) => { el.value = ''; });
    await page.type('textarea[name=input]', '{"input": {"day": "2026-12-01"}}');
    await page.click('form:has(textarea) button');
    await page.waitForFunction(() => /^SUCCEEDED \S+ exit 0$/.test(document.querySelector('.outcome.ok')?.textContent ?? ''));
    const execution = (await page.$eval('.outcome', (el) => el.textContent!)).split(' ')[1]!;
    const history = JSON.parse((await cli(dir, 'history', '--json')).stdout) as Array<{ job: string; execution: string; status: string }>;
    expect(history[0]).toMatchObject({ job: 'ok', execution, status: 'SUCCEEDED' });
    // The page followed: the new run is in its list without a reload.
    await page.waitForSelector(`a[href="#/run/ok/${execution}"]`);
    await page.screenshot({ path: shot('ui-job.png') });

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
    // The Run page proper (its graph, items, the screenshot ui-run.png) is tested in test/ui-run.test.ts.
    expect(await page.$$eval('.evlist tbody tr', (els) => els.length)).toBeGreaterThan(5);
  });

  it('refuses requests without the token, for another Host, cross-origin POSTs and GETs on actions', async () => {
    const cookie = `stepcron-ui-${port}=${session}`;
    const host = `127.0.0.1:${port}`;
    const json = { 'Content-Type': 'application/json', Cookie: cookie, Host: host };
    // The printed token is no cookie: it opened the console once.
    expect((await raw(port, '/api/jobs', { headers: { Cookie: `stepcron-ui-${port}=${token}`, Host: host } })).status).toBe(401);
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

  it('1,000 jobs: the page renders only the rows in view, and filters and sorts all of them', async () => {
    const big = workspace({});
    writeFileSync(join(big, 'jobs.yml'), bigCatalog(1000));
    const jobs = parseCatalog(bigCatalog(1000), { stage: 'dev' }).map((j) => j.name);
    seedRuns(join(big, '.stepcron'), jobs, 30);
    const other = startCli(['ui', '--catalog', 'jobs.yml'], { cwd: big, timeoutMs: 60_000 });
    try {
      await until(() => /token=/.test(other.stdout()), 30_000, 'the console URL');
      const started = Date.now();
      await page.goto(other.stdout().trim().split('\n')[0]!);
      await page.waitForSelector('.row');
      const shownMs = Date.now() - started;
      expect(await page.$eval('.count', (el) => el.textContent)).toMatch(/^1000 of 1000 jobs/);
      // A screenful of rows in the DOM, not 1,000 (each with 30 bars).
      const rendered = await page.$$eval('.row', (els) => els.length);
      expect(rendered).toBeGreaterThan(5);
      expect(rendered).toBeLessThan(60);
      // Sorted by success rate, worst first, across all 1,000; then scrolled to the end.
      await page.click('.grid.head button:nth-child(6)');
      const worst = await page.$eval('.row', (el) => el.querySelector('.num')?.textContent);
      expect(worst).toMatch(/^\d+%/);
      await page.$eval('.rows', (el) => { el.scrollTop = el.scrollHeight; });
      // The rows at the end are rendered (rows sit at their index x 46 px).
      await page.waitForFunction(() => [...document.querySelectorAll('.row')].some((el: any) => Number.parseInt(el.style.top, 10) === 999 * 46));
      expect(await page.$$eval('.row', (els) => els.length)).toBeLessThan(60);
      process.stderr.write(`ui.test: 1,000 jobs: the jobs page showed in ${shownMs} ms\n`);
    } finally {
      other.child.kill('SIGINT');
      await other.done;
    }
  });

  it('--aws: the same pages over a stage; an action AWS denies says which permission, and its button stays disabled', async () => {
    mocks.scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default', State: 'ENABLED', Target: { Arn: MACHINE } }] });
    mocks.scheduler.on(GetScheduleCommand).resolves({
      Arn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/stepcron-prod-OkSchedule-1A2B3C`, Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default',
      State: 'ENABLED', Description: 'ok: hourly', ScheduleExpression: 'cron(0 * * * ? *)', ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: MACHINE, RoleArn: `arn:aws:iam::${ACCOUNT}:role/stepcron-prod-SchedulerRole` },
    });
    mocks.scheduler.on(UpdateScheduleCommand).rejects(Object.assign(new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice is not authorized to perform: scheduler:UpdateSchedule`),
      { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice`, UserId: 'AROAEXAMPLE:alice' });
    mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [
      { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:a`, stateMachineArn: MACHINE, name: 'a', status: 'SUCCEEDED', startDate: new Date(Date.now() - 3_600_000), stopDate: new Date(Date.now() - 3_590_000) },
    ] });
    mocks.sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', name: 'a', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(), output: '{"run":true,"outcome":{"status":"SUCCEEDED","exitCode":0}}' });
    mocks.sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 1, type: 'ExecutionStarted', timestamp: new Date() }] });
    const jobs = parseCatalog(['defaults:', '  image: busybox:latest', 'jobs:', '  ok:', '    description: hourly', '    schedule: cron(0 * * * ? *)',
      '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]',
      '  other:', '    description: daily', '    schedule: cron(0 3 * * ? *)', '    command: [sh, -c, "true"]', ''].join('\n'), { stage: 'prod' });
    const ops = awsOps({ stage: 'prod', pollMs: 1 });
    const stage = await serveUi({ port: 0, api: uiApi({
      ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => jobs, enabledJobs: '*', checkInput: async (i) => i as Record<string, unknown>, monthlyRuns: () => 720,
    }) });
    try {
      await page.goto(stage.url);
      await page.waitForSelector('[data-job="ok"] .bar.s-SUCCEEDED');
      expect(await page.$eval('header .where', (el) => el.textContent)).toBe('stage prod on AWS');
      await page.goto(`http://127.0.0.1:${stage.port}/#/job/ok`);
      await page.waitForSelector('input[name=note]');
      await page.type('input[name=note]', 'maintenance');
      await page.click('form:has(input[name=note]) button');
      await page.waitForSelector('.outcome.bad');
      expect(await page.$eval('.outcome', (el) => el.textContent)).toMatch(/^read-only: AWS denied scheduler:UpdateSchedule: your identity needs that permission \(.*\)$/);
      expect(await page.$eval('form:has(input[name=note]) button', (el: any) => [el.disabled, el.title])).toEqual([true, expect.stringMatching(/^AWS denied scheduler:UpdateSchedule/)]);
      await page.screenshot({ path: shot('ui-aws-denied.png') });
      // A denial is for that job's action only (a permission may be scoped to some schedules): another job's Pause is not disabled.
      await page.goto(`http://127.0.0.1:${stage.port}/#/job/other`);
      await page.waitForFunction(() => document.querySelector('.job h2')?.textContent.startsWith('other'));
      await page.type('input[name=note]', 'maintenance');
      expect(await page.$eval('form:has(input[name=note]) button', (el: any) => [el.disabled, el.title])).toEqual([false, '']);
      // The permission granted, a reload forgets the denial and the same action works.
      mocks.scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/stepcron-prod-OkSchedule-1A2B3C` });
      await page.goto(`http://127.0.0.1:${stage.port}/#/job/ok`);
      await page.reload();
      await page.waitForSelector('input[name=note]');
      await page.type('input[name=note]', 'maintenance');
      await page.click('form:has(input[name=note]) button');
      await page.waitForSelector('.outcome.ok');
      expect(await page.$eval('.outcome', (el) => el.textContent)).toMatch(/^paused ok on prod .*: maintenance$/);
    } finally {
      await stage.close();
      ops.close();
    }
  });

  it('the console is small: all its files together under 150 KB gzipped', () => {
    const dist = join(ROOT, 'dist', 'ui');
    const sizes = readdirSync(dist).filter((f) => !f.startsWith('.')).map((f) => gzipSync(readFileSync(join(dist, f))).length);
    const total = sizes.reduce((a, b) => a + b, 0);
    writeFileSync(join(dir, 'sizes.txt'), String(total));
    expect(total).toBeLessThan(150 * 1024);
  });

  it('writes its screenshots to test/output/ui, leaving docs/img as it was (npm run screenshots refreshes those)', () => {
    expectShotsWhereTheyBelong(SHOTS, docsShotsBefore);
  });
});
