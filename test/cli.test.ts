// `npx stepcron` end to end, spawned exactly as a user runs it (node bin/stepcron.cjs ...), each test in its own
// temporary directory with its own catalog and its own .stepcron/ history. Jobs are `sh -c '...'`, so no files needed.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '../cli/run';
import { type RunRecord, Store } from '../cli/store';
import { detectEngineSync } from '../cli/backends/container';
import { buildBusyboxImage } from './support/busybox-image';
import { stackIndex } from '../workflows/stacks';
import { parseCatalog } from '../workflows/catalog';
import { stageTemplate, toStageParams } from '../workflows/resources';
import { nextFireTimes } from '../workflows/schedule';
import { localTime } from '../workflows/times';

const root = join(__dirname, '..');
const BIN = join(root, 'bin', 'stepcron.cjs');
/** A line of a stack trace, as Node prints one. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Started {
  child: ChildProcess;
  startedAt: number;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<Result>;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** Starts the CLI in `cwd`; the run is killed if it outlives `timeoutMs`. */
function start(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Started {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
    });
  });
  return { child, startedAt, stdout: () => stdout, stderr: () => stderr, done };
}

function stepcron(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Result> {
  return start(args, options).done;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-cli-'));
  dirs.push(dir);
  return dir;
}

/** A temporary directory holding `jobs.yml`; returns the directory and the `--catalog` arguments. */
function workspace(catalog: string): { dir: string; catalog: string[] } {
  const dir = tempDir();
  writeFileSync(join(dir, 'jobs.yml'), catalog);
  return { dir, catalog: ['--catalog', 'jobs.yml'] };
}

/** One job's catalog entry; `fields` are extra YAML lines at job level (4 spaces). */
function catalogOf(jobs: Record<string, { command: string; fields?: string[] }>): string {
  const lines = ['defaults:', '  image: busybox:latest', 'jobs:'];
  for (const [name, spec] of Object.entries(jobs)) {
    lines.push(`  ${name}:`, `    description: test job ${name}`, '    schedule: rate(1 hour)',
      `    command: [sh, -c, ${JSON.stringify(spec.command)}]`, ...(spec.fields ?? []).map((f) => `    ${f}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The `--json` summary: the last line of stdout. */
function summaryOf(result: Result): Summary {
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Summary;
}

function expectNoStackTrace(result: Result): void {
  expect(result.stderr).not.toMatch(STACK_LINE);
  expect(result.stdout).not.toMatch(STACK_LINE);
}

/** A mistake: exit 2, nothing on stdout, one line on stderr saying what is wrong, no stack trace. */
function expectUsageError(result: Result, pattern: RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect({ code: result.code, stdout: result.stdout, lines }).toEqual({ code: 2, stdout: '', lines: [expect.stringMatching(pattern)] });
  expectNoStackTrace(result);
}

/** The runs recorded in .stepcron/store.db (of one job, or all), newest first; none when there is no store. */
function runRecords(dir: string, job?: string): RunRecord[] {
  if (!existsSync(join(dir, '.stepcron', 'store.db'))) return [];
  const store = Store.open(join(dir, '.stepcron'), { broken: 'fail' });
  try {
    return store.list(job);
  } finally {
    store.close();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Gone: no such process, or a zombie (killed, waiting to be reaped). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

afterEach(() => {
  // Only the CLI processes this file started and that are somehow still running (a failed assertion mid-test).
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('stepcron run', () => {
  it('success: exit 0, the job\'s stdout streamed, summary SUCCEEDED, the run recorded', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ hello: { command: 'echo hello from the job; echo to stderr >&2', fields: ['retries: 0'] } }));
    // Act
    const result = await stepcron(['run', 'hello', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(['hello from the job']);
    expect(result.stderr).toContain('to stderr');
    expect(result.stderr).toMatch(/^▶ hello {2}\S+ {2}\(stage dev, ecs process\)$/m);
    const summary = summaryOf(result);
    expect(summary).toMatchObject({ job: 'hello', status: 'SUCCEEDED', tasks: [{ exitCode: 0, attempts: 1, status: 'SUCCEEDED' }], notifications: [] });
    expect(runRecords(dir, 'hello')).toEqual([expect.objectContaining({ status: 'SUCCEEDED', execution: summary.execution })]);
    const store = Store.open(join(dir, '.stepcron'));
    expect(store.events(summary.execution)).toContainEqual(expect.objectContaining({ type: 'ExecutionSucceeded' }));
    expect(store.logs(summary.execution).chunks).toEqual([{ stream: 'stdout', text: 'hello from the job\n' }, { stream: 'stderr', text: 'to stderr\n' }]);
    store.close();
    expectNoStackTrace(result);
  }, 20_000);

  it('retries a failed attempt (STEPCRON_ATTEMPT 0 fails, 1 succeeds): SUCCEEDED after 2 attempts', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      flaky: { command: '[ "$STEPCRON_ATTEMPT" = 0 ] && exit 1 || exit 0', fields: ['retries: 2'] },
    }));
    // Act
    const result = await stepcron(['run', 'flaky', ...catalog, '--json', '--skip-waits'], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expect(result.code).toBe(0);
    const summary = summaryOf(result);
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.tasks).toEqual([{ exitCode: 0, attempts: 2, status: 'SUCCEEDED' }]);
    expect(summary.notifications).toEqual([]);
    // --skip-waits: the 30 s retry interval was not waited.
    // Attempts count from 1, as the fault lines and the summary count them: the first retry is attempt 2.
    expect(result.stderr).toContain('retry 1: attempt 2 at once (--skip-waits; would wait 30s)');
    expect(result.stderr).toMatch(/RunTask.*States\.TaskFailed \(exit 1\)/);
  }, 20_000);

  it('an exit code the policy fails at once (exitCodes.fail): FAILED, exit 1, 1 attempt, a FAILED notification', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      broken: { command: 'echo bad config; exit 3', fields: ['retries: 2', 'exitCodes: { fail: [3] }'] },
    }));
    // Act
    const result = await stepcron(['run', 'broken', ...catalog, '--json', '--skip-waits'], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'JobFailed' });
    expect(summary.tasks).toEqual([{ exitCode: 3, attempts: 1, status: 'FAILED' }]);
    expect(summary.notifications).toEqual([
      { status: 'FAILED', subject: expect.stringMatching(/broken FAILED/), delivered: ['stdout'] },
    ]);
    expect(result.stdout).toContain('bad config');
    expect(result.stderr).toContain('Exit code: 3');
    expect(runRecords(dir, 'broken')).toEqual([expect.objectContaining({ status: 'FAILED' })]);
  }, 20_000);

  it('a failure\'s printed notification ends with the failed attempt\'s last 20 lines, links `stepcron logs`, and counts as the summary does', async () => {
    // Prepare: two attempts of 25 lines each; the notification shows the last attempt's last 20
    const { dir, catalog } = workspace(catalogOf({
      chatty: { command: 'for i in $(seq 1 25); do echo "line $i of attempt $STEPCRON_ATTEMPT"; done; exit 1', fields: ['retries: 1'] },
    }));
    // Act
    const result = await stepcron(['run', 'chatty', ...catalog, '--json', '--skip-waits'], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    const printed = result.stderr.split('\n').filter((l) => l.startsWith('  │ ')).map((l) => l.slice(4));
    const output = printed.slice(printed.indexOf('Output (last 20 lines):') + 1);
    expect(output).toEqual(Array.from({ length: 20 }, (_, i) => `  line ${i + 6} of attempt 1`));
    expect(printed).toContain(`Execution: ${summary.execution}`);
    expect(printed).toContain(`Logs: npx stepcron logs chatty ${summary.execution}`);
    expect(printed.join('\n')).not.toContain('console.aws.amazon.com');
    // The same counts as the summary: every state entered, the run's last (Failed) included, and every Lambda call.
    expect(printed).toContainEqual(expect.stringContaining(`= ${summary.transitions} transitions `));
    expect(printed).toContainEqual(expect.stringContaining(` + ${summary.cost.lambdaInvocations} Lambda calls `));
    // ... and the command it names works.
    const logs = await stepcron(['logs', 'chatty', summary.execution, ...catalog], { cwd: dir });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('line 25 of attempt 1');
  }, 20_000);

  it('a timeout kills the process: TIMED_OUT, exit 1, well under the 30 s sleep, the sleep is gone', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      hangs: { command: 'echo $$ > pidfile; exec sleep 30', fields: ['timeoutSeconds: 1', 'retries: 0'] },
    }));
    // Act
    const result = await stepcron(['run', 'hangs', ...catalog, '--json'], { cwd: dir, timeoutMs: 25_000 });
    // Assess
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(15_000);
    const summary = summaryOf(result);
    expect(summary).toMatchObject({ status: 'TIMED_OUT', error: 'JobTimedOut' });
    expect(summary.tasks).toEqual([{ exitCode: 143, attempts: 1, status: 'TIMED_OUT' }]);
    expect(summary.notifications.map((n) => n.status)).toEqual(['TIMED_OUT']);
    const pid = Number(readFileSync(join(dir, 'pidfile'), 'utf8').trim());
    expect(pid).toBeGreaterThan(1);
    expect(isGone(pid)).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);

  it('concurrency forbid: a second run while the first is RUNNING is SKIPPED (exit 0); the first still succeeds', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      exclusive: { command: 'echo first started; sleep 3; echo first done', fields: ['concurrency: forbid', 'retries: 0'] },
    }));
    const first = start(['run', 'exclusive', ...catalog, '--json'], { cwd: dir, timeoutMs: 20_000 });
    await until(() => runRecords(dir, 'exclusive').some((r) => r.status === 'RUNNING'), 10_000, 'the first run to be RUNNING');
    const running = runRecords(dir, 'exclusive')[0]!;
    // Act
    const second = await stepcron(['run', 'exclusive', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 });
    const firstResult = await first.done;
    // Assess
    expect(second.code).toBe(0);
    const skipped = summaryOf(second);
    expect(skipped).toMatchObject({ status: 'SKIPPED', tasks: [] });
    expect(skipped.reason).toMatch(/forbid/);
    expect(skipped.reason).toContain(running.execution);
    expect(second.stdout).not.toContain('first started');
    expect(firstResult.code).toBe(0);
    expect(summaryOf(firstResult)).toMatchObject({ execution: running.execution, status: 'SUCCEEDED' });
    expect(firstResult.stdout).toContain('first done');
    expect(runRecords(dir, 'exclusive').map((r) => r.status).sort()).toEqual(['SKIPPED', 'SUCCEEDED']);
  }, 30_000);
});

describe('stepcron run: concurrency replace', () => {
  it('a second run stops the first (ABORTED, its task killed) and runs to the end', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      // Runs started once the file `quick` exists end at once; the first one sleeps.
      latest: { command: 'echo "started $STEPCRON_EXECUTION"; [ -e quick ] || sleep 20; echo finished', fields: ['concurrency: replace', 'retries: 0'] },
    }));
    const first = start(['run', 'latest', ...catalog, '--json'], { cwd: dir, timeoutMs: 30_000 });
    await until(() => first.stdout().includes('started'), 10_000, 'the first run\'s task to start');
    writeFileSync(join(dir, 'quick'), '');
    // Act
    const second = await stepcron(['run', 'latest', ...catalog, '--json'], { cwd: dir, timeoutMs: 20_000 });
    const firstResult = await first.done;
    // Assess
    expect(firstResult.code).toBe(1);
    expect(summaryOf(firstResult)).toMatchObject({ status: 'ABORTED', tasks: [{ exitCode: 143 }] });
    expect(firstResult.stdout).not.toContain('finished');
    expect(second.code).toBe(0);
    expect(summaryOf(second).status).toBe('SUCCEEDED');
    expect(second.stderr).toMatch(/run: concurrency replace: stopped 1 running execution/);
    expect(runRecords(dir, 'latest').map((r) => r.status).sort()).toEqual(['ABORTED', 'SUCCEEDED']);
  }, 30_000);
});

describe('stepcron run: fan-out of 100 items', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const fanOutCatalog = (tolerated: number) => catalogOf({
    tenants: {
      command: 'echo "item $STEPCRON_ITEM"; case "$STEPCRON_ITEM" in 7|42|99) exit 5;; esac',
      fields: ['retries: 0', `fanOut: { items: [${items.join(', ')}], maxConcurrency: 20, toleratedFailurePercentage: ${tolerated} }`],
    },
  });

  function expectItems(summary: Summary): void {
    expect(summary.tasks).toHaveLength(100);
    expect(summary.tasks.map((t) => t.item).sort((a, b) => Number(a) - Number(b))).toEqual(items);
    const failed = summary.tasks.filter((t) => t.status !== 'SUCCEEDED');
    expect(failed.sort((a, b) => Number(a.item) - Number(b.item))).toEqual([
      { item: 7, exitCode: 5, attempts: 1, status: 'FAILED' },
      { item: 42, exitCode: 5, attempts: 1, status: 'FAILED' },
      { item: 99, exitCode: 5, attempts: 1, status: 'FAILED' },
    ]);
    for (const t of summary.tasks.filter((x) => x.status === 'SUCCEEDED')) expect(t).toMatchObject({ exitCode: 0, attempts: 1 });
  }

  function expectProgress(result: Result): void {
    const bars = result.stderr.split('\n').filter((l) => l.includes('FanOut ['));
    expect(bars.at(-1)).toMatch(/FanOut \[#{24}\] 100\/100 done · 3 failed · 0 running/);
    for (const bar of bars) expect(Number(/(\d+) running/.exec(bar)?.[1])).toBeLessThanOrEqual(20);
    const output = result.stdout + result.stderr;
    for (const i of [0, 7, 42, 99]) expect(output).toContain(`[${i}] item ${i}`);
  }

  it('3 of 100 failed with 10% tolerated: SUCCEEDED, exactly items 7, 42, 99 FAILED with exit 5, progress and [item] lines', async () => {
    // Prepare
    const { dir, catalog } = workspace(fanOutCatalog(10));
    // Act
    const result = await stepcron(['run', 'tenants', ...catalog, '--json', '--skip-waits'], { cwd: dir, timeoutMs: 30_000 });
    // Assess
    expect(result.code).toBe(0);
    const summary = summaryOf(result);
    expect(summary.status).toBe('SUCCEEDED');
    expectItems(summary);
    expectProgress(result);
    // A run that succeeded with failed items is still reported.
    expect(summary.notifications).toEqual([
      { status: 'SUCCEEDED', subject: expect.stringContaining('3 of 100 items failed'), delivered: ['stdout'] },
    ]);
  }, 40_000);

  it('3 of 100 failed with 2% tolerated: FAILED, exit 1, FanOutToleranceExceeded', async () => {
    // Prepare
    const { dir, catalog } = workspace(fanOutCatalog(2));
    // Act
    const result = await stepcron(['run', 'tenants', ...catalog, '--json', '--skip-waits'], { cwd: dir, timeoutMs: 30_000 });
    // Assess
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'FanOutToleranceExceeded' });
    expect(summary.cause).toBe('more than 2 of 100 items failed (2% tolerated)');
    expectItems(summary);
    expectProgress(result);
    expect(summary.notifications.map((n) => n.status)).toEqual(['FAILED']);
    // The output tail names the item that wrote it (the first failed one), as its output lines name it: [7].
    const printed = result.stderr.split('\n').filter((l) => l.startsWith('  │ ')).map((l) => l.slice(4));
    const at = printed.findIndex((l) => l.startsWith('Output'));
    expect(printed.slice(at, at + 2)).toEqual(['Output of item #7 [7] (last 20 lines):', '  item 7']);
  }, 40_000);
});

describe('stepcron run --json', () => {
  it('prints one summary object on the last stdout line, with the documented keys and types', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      fine: { command: 'echo fine', fields: ['retries: 0'] },
      fails: { command: 'exit 4', fields: ['retries: 0'] },
    }));
    // Act
    const [ok, failed] = await Promise.all([
      stepcron(['run', 'fine', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 }),
      stepcron(['run', 'fails', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 }),
    ]);
    // Assess
    const good = summaryOf(ok);
    expect(Object.keys(good).sort()).toEqual(['cost', 'durationMs', 'events', 'execution', 'job', 'maxPayloadBytes', 'notifications', 'status', 'tasks', 'transitions']);
    expect(good).toEqual({
      job: 'fine',
      execution: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/),
      status: 'SUCCEEDED',
      durationMs: expect.any(Number),
      transitions: expect.any(Number),
      events: expect.any(Number),
      maxPayloadBytes: expect.any(Number),
      tasks: [{ exitCode: 0, attempts: 1, status: 'SUCCEEDED' }],
      notifications: [],
      cost: {
        region: 'us-east-1', transitions: good.transitions, transitionsUsd: expect.any(Number), vcpuSeconds: 15, gbSeconds: 30,
        fargateUsd: expect.any(Number), lambdaInvocations: 1, lambdaUsd: expect.any(Number), totalUsd: expect.any(Number),
      },
    });
    expect(Number.isInteger(good.durationMs) && good.durationMs >= 0).toBe(true);
    expect(Number.isInteger(good.transitions) && good.transitions > 0).toBe(true);
    expect(runRecords(dir, 'fine')).toContainEqual(expect.objectContaining({ execution: good.execution, status: 'SUCCEEDED' }));

    const bad = summaryOf(failed);
    expect(Object.keys(bad).sort()).toEqual(
      ['cause', 'cost', 'durationMs', 'error', 'events', 'execution', 'job', 'maxPayloadBytes', 'notifications', 'status', 'tasks', 'transitions']);
    expect(bad).toMatchObject({ job: 'fails', status: 'FAILED', error: 'JobFailed', tasks: [{ exitCode: 4, attempts: 1, status: 'FAILED' }] });
    expect(typeof bad.cause).toBe('string');
    for (const n of bad.notifications) {
      expect(Object.keys(n).sort()).toEqual(['delivered', 'status', 'subject']);
      expect(typeof n.subject).toBe('string');
      expect(n.delivered.every((d) => typeof d === 'string')).toBe(true);
    }
    expect(ok.code).toBe(0);
    expect(failed.code).toBe(1);
  }, 20_000);
});

describe('stepcron history', () => {
  it('lists the local runs newest first with their status; a job name narrows the list', async () => {
    // Prepare: three runs one after the other, so their start times differ.
    const { dir, catalog } = workspace(catalogOf({
      fine: { command: 'true', fields: ['retries: 0'] },
      fails: { command: 'exit 1', fields: ['retries: 0', 'notify: { onFailure: false }'] },
    }));
    const empty = await stepcron(['history', ...catalog], { cwd: dir, timeoutMs: 15_000 });
    const runs: Summary[] = [];
    for (const job of ['fine', 'fails', 'fine']) {
      runs.push(summaryOf(await stepcron(['run', job, ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 })));
    }
    // Act
    const [all, one] = await Promise.all([
      stepcron(['history', ...catalog], { cwd: dir, timeoutMs: 15_000 }),
      stepcron(['history', 'fails', ...catalog], { cwd: dir, timeoutMs: 15_000 }),
    ]);
    // Assess
    expect(empty).toMatchObject({ code: 0, stdout: expect.stringContaining('no local runs yet') });
    const rows = (r: Result) => r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 3));
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^STATUS\s+JOB\s+EXECUTION\s+STARTED\s+DURATION\s+STAGE$/);
    expect(rows(all)).toEqual([
      ['SUCCEEDED', 'fine', runs[2]!.execution],
      ['FAILED', 'fails', runs[1]!.execution],
      ['SUCCEEDED', 'fine', runs[0]!.execution],
    ]);
    expect(one.code).toBe(0);
    expect(rows(one)).toEqual([['FAILED', 'fails', runs[1]!.execution]]);
  }, 30_000);

  it('shows each run on its own job\'s clock, labelled with its zone (rows of jobs in different zones never read alike)', async () => {
    // Prepare: one run of a Berlin job and one of a Kolkata job (no abbreviation in Intl: its offset)
    const { dir, catalog } = workspace(catalogOf({
      berlin: { command: 'true', fields: ['timezone: Europe/Berlin'] },
      kolkata: { command: 'true', fields: ['timezone: Asia/Kolkata'] },
    }));
    const runs = [summaryOf(await stepcron(['run', 'berlin', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 })),
      summaryOf(await stepcron(['run', 'kolkata', ...catalog, '--json'], { cwd: dir, timeoutMs: 15_000 }))];
    // Act
    const [text, json] = await Promise.all([stepcron(['history', ...catalog], { cwd: dir, timeoutMs: 15_000 }), stepcron(['history', '--json', ...catalog], { cwd: dir, timeoutMs: 15_000 })]);
    // Assess: the STARTED column in each job's zone, how long ago; --json keeps the ISO UTC instant
    const started = JSON.parse(json.stdout) as Array<{ job: string; startedAt: string }>;
    const at = (job: string) => new Date(started.find((r) => r.job === job)!.startedAt);
    expect(started.map((r) => r.startedAt)).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), expect.stringMatching(/Z$/)]);
    const line = (job: string) => text.stdout.split('\n').find((l) => l.includes(` ${job} `)) ?? '';
    expect(line('berlin')).toContain(`${localTime(at('berlin'), 'Europe/Berlin')} (`);
    expect(line('berlin')).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d CES?T \(\d+ s ago\) /);
    expect(line('kolkata')).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d UTC\+05:30 \(\d+ s ago\) /);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  }, 30_000);
});

describe('stepcron next', () => {
  it.each<[string, string[], string[]]>([
    // The last day of each month, leap February included.
    ['L', ['cron(0 12 L * ? *)', '--from', '2028-01-15T00:00:00Z', '-n', '3'],
      ['2028-01-31T12:00:00.000Z', '2028-02-29T12:00:00.000Z', '2028-03-31T12:00:00.000Z']],
    // 15 Feb and 15 Mar 2026 are Sundays -> Monday 16th; 15 Apr is a Wednesday.
    ['15W (Sunday)', ['cron(0 9 15W * ? *)', '--from', '2026-02-01T00:00:00Z', '-n', '3'],
      ['2026-02-16T09:00:00.000Z', '2026-03-16T09:00:00.000Z', '2026-04-15T09:00:00.000Z']],
    // 15 Aug 2026 is a Saturday -> Friday 14th.
    ['15W (Saturday)', ['cron(0 9 15W * ? *)', '--from', '2026-07-20T00:00:00Z', '-n', '3'],
      ['2026-08-14T09:00:00.000Z', '2026-09-15T09:00:00.000Z', '2026-10-15T09:00:00.000Z']],
    // Third Friday: 1 Jan 2026 is a Thursday (Fridays 2, 9, 16); 1 Feb and 1 Mar are Sundays (Fridays 6, 13, 20).
    ['6#3', ['cron(0 10 ? * 6#3 *)', '--from', '2026-01-01T00:00:00Z', '-n', '3'],
      ['2026-01-16T10:00:00.000Z', '2026-02-20T10:00:00.000Z', '2026-03-20T10:00:00.000Z']],
    // New York springs forward on Sun 8 Mar 2026 at 02:00 EST: 01:30 is still EST (UTC-5) that night, EDT (UTC-4) after.
    ['New York spring forward', ['cron(30 1 * * ? *)', '--tz', 'America/New_York', '--from', '2026-03-07T00:00:00Z', '-n', '3'],
      ['2026-03-07T06:30:00.000Z', '2026-03-08T06:30:00.000Z', '2026-03-09T05:30:00.000Z']],
    // ... and 02:30 does not exist on 8 Mar: that day is skipped.
    ['New York skipped 02:30', ['cron(30 2 * * ? *)', '--tz', 'America/New_York', '--from', '2026-03-07T00:00:00Z', '-n', '3'],
      ['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']],
    // Berlin falls back on Sun 25 Oct 2026 at 03:00 CEST -> 02:00 CET: 01:30 is CEST (UTC+2) that night, CET (UTC+1) after.
    ['Berlin fall back', ['cron(30 1 * * ? *)', '--tz', 'Europe/Berlin', '--from', '2026-10-23T00:00:00Z', '-n', '3'],
      ['2026-10-23T23:30:00.000Z', '2026-10-24T23:30:00.000Z', '2026-10-26T00:30:00.000Z']],
    // ... and 02:30 happens twice on 25 Oct: it fires once, at the first (CEST) occurrence.
    ['Berlin repeated 02:30', ['cron(30 2 * * ? *)', '--tz', 'Europe/Berlin', '--from', '2026-10-24T01:00:00Z', '-n', '3'],
      ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']],
  ])('%s', async (_name, args, expected) => {
    // Prepare
    const dir = tempDir();
    // Act
    const result = await stepcron(['next', ...args, '--json'], { cwd: dir, timeoutMs: 15_000 });
    // Assess: --json keeps the ISO UTC instants
    expect({ code: result.code, times: JSON.parse(result.stdout), stderr: result.stderr })
      .toEqual({ code: 0, times: expected, stderr: '' });
  }, 20_000);

  it('gives a rate\'s deployed times: an aligned one on the clock (as its cron), another from deploy, saying so', async () => {
    // Prepare: from 00:07, so a rate counted from --from and one on the clock differ
    const dir = tempDir();
    // Act
    const aligned = await stepcron(['next', 'rate(15 minutes)', '--from', '2026-01-01T00:07:00Z', '-n', '2'], { cwd: dir, timeoutMs: 15_000 });
    const unaligned = await stepcron(['next', 'rate(7 minutes)', '--from', '2026-01-01T00:07:00Z', '-n', '2'], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expect({ code: aligned.code, stdout: aligned.stdout, stderr: aligned.stderr }).toEqual({
      code: 0, stdout: '2026-01-01 00:15 UTC\n2026-01-01 00:30 UTC\n',
      stderr: '',
    });
    expect({ code: unaligned.code, stdout: unaligned.stdout }).toEqual({ code: 0, stdout: '2026-01-01 00:14 UTC\n2026-01-01 00:21 UTC\n' });
    expect(unaligned.stderr).toBe('stepcron: note: rate(7 minutes) is not aligned to the clock: on AWS its first run is when the deploy creates ' +
      'the schedule (and again whenever a deploy recreates it), then every 7 minutes from there; for fixed times use cron(0/6 * * * ? *) ' +
      '(every 6 minutes on the clock); the times below count from --from\n');
  }, 20_000);

  it('agrees with the schedule the stage deploys for a job, in its time zone', async () => {
    // Prepare: a 2-hour rate in Berlin across its fall-back night
    const { dir, catalog } = workspace(catalogOf({ every2h: { command: 'true', fields: ['timezone: Europe/Berlin'] } }).replace('rate(1 hour)', 'rate(2 hours)'));
    const jobs = parseCatalog(readFileSync(join(dir, 'jobs.yml'), 'utf8'), { stage: 'dev' });
    const deployed = stageTemplate(jobs, toStageParams('dev', { subnets: 'subnet-0a1b2c3d4e5f60001' })).Resources.Every2hSchedule as { Properties: Record<string, string> };
    const from = new Date('2026-10-24T20:30:00Z');
    // Act
    const result = await stepcron(['next', 'every2h', '--from', from.toISOString(), '-n', '6', '--json', ...catalog], { cwd: dir, timeoutMs: 15_000 });
    // Assess: the times of the template's own expression and zone
    const expected = nextFireTimes(deployed.Properties.ScheduleExpression!, { from, count: 6, timezone: deployed.Properties.ScheduleExpressionTimezone });
    expect(deployed.Properties.ScheduleExpression).toBe('cron(0 0/2 * * ? *)');
    expect({ code: result.code, times: JSON.parse(result.stdout) }).toEqual({ code: 0, times: expected.map((t) => t.toISOString()) });
  }, 20_000);

  it('prints times people read: the job\'s own clock with its zone\'s abbreviation (or offset), --tz\'s for an expression', async () => {
    // Prepare: a 02:30 Berlin job (01:30 UTC in winter), and Sydney's DST end night (02:30 happens twice on 5 Apr 2026)
    const { dir, catalog } = workspace(catalogOf({ backup: { command: 'true', fields: ['timezone: Europe/Berlin'] } }).replace('rate(1 hour)', 'cron(30 2 * * ? *)'));
    // Act
    const job = await stepcron(['next', 'backup', '--from', '2026-12-07T18:00:00Z', '-n', '2', ...catalog], { cwd: dir, timeoutMs: 15_000 });
    const sydney = await stepcron(['next', 'cron(30 2 * * ? *)', '--tz', 'Australia/Sydney', '--from', '2026-04-03T12:00:00Z', '-n', '3'], { cwd: dir, timeoutMs: 15_000 });
    const kolkata = await stepcron(['next', 'cron(0 9 * * ? *)', '--tz', 'Asia/Kolkata', '--from', '2026-12-07T00:00:00Z', '-n', '1'], { cwd: dir, timeoutMs: 15_000 });
    const fromNow = await stepcron(['next', 'rate(1 minute)', '-n', '1'], { cwd: dir, timeoutMs: 15_000 });
    // Assess: never the bare UTC instant (2026-12-08T01:30:00.000Z) for a Berlin job
    expect({ code: job.code, stdout: job.stdout }).toEqual({ code: 0, stdout: '2026-12-08 02:30 CET\n2026-12-09 02:30 CET\n' });
    // AWS fires the repeated 02:30 once, at its first (daylight) occurrence; the label says which one.
    expect(sydney.stdout).toBe('2026-04-04 02:30 AEDT\n2026-04-05 02:30 AEDT\n2026-04-06 02:30 AEST\n');
    expect(kolkata.stdout).toBe('2026-12-07 09:00 UTC+05:30\n');
    // Counting from now, how far off too.
    expect(fromNow.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in \d+ s\)\n$/);
  }, 20_000);
});

describe('mistakes exit 2 with one line and no stack trace', () => {
  it('bad arguments, unknown jobs and bad --event files', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ fine: { command: 'echo should not run' } }));
    writeFileSync(join(dir, 'bad.json'), '{"input": ');
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['run', 'fine', '--bogus', ...catalog], /unknown option '--bogus'/],
      [['run', ...catalog], /missing required argument 'job'/],
      [['run', 'fine', '--ecs', 'nope', ...catalog], /--ecs.*'nope'.*process, container, aws/],
      [['next', 'cron(bad)'], /^stepcron: cron: expected 6 fields/],
      [['next', 'rate(1 minute)', '--from', 'yesterday'], /^stepcron: --from: 'yesterday'/],
      [['next', 'rate(1 minute)', '-n', '0'], /^stepcron: --count: '0'/],
      [['next', 'cron(0 1 * * ? *)', '--tz', 'Mars/Olympus_Mons'], /^stepcron: --tz: 'Mars\/Olympus_Mons'/],
      [['run', 'nosuch', ...catalog], /^stepcron: .*no job named 'nosuch'.*fine/],
      [['run', 'fine', '--event', 'missing.json', ...catalog], /^stepcron: --event: cannot read missing\.json \(ENOENT\)$/],
      [['run', 'fine', '--event', 'bad.json', ...catalog], /^stepcron: --event: bad\.json is not valid JSON/],
      [['run', 'fine', '--catalog', 'absent.yml'], /^stepcron: .*absent\.yml: cannot read the catalog: ENOENT$/],
    ];
    // Act
    const results = await Promise.all(cases.map(([args]) => stepcron(args, { cwd: dir, timeoutMs: 15_000 })));
    // Assess
    results.forEach((result, i) => {
      const [args, pattern] = cases[i]!;
      try {
        expectUsageError(result, pattern);
      } catch (err) {
        throw new Error(`stepcron ${args.join(' ')}: ${(err as Error).message}`);
      }
    });
    // None of them started a run.
    expect(existsSync(join(dir, '.stepcron'))).toBe(false);
  }, 30_000);

  it('a bad catalog: validate and run exit 2 naming jobs.<name>.schedule and jobs.<name>.timezone', async () => {
    // Prepare
    const { dir, catalog } = workspace([
      'jobs:',
      '  report:',
      '    description: a job with two mistakes',
      '    schedule: cron(0 25 * * ? *)',
      '    timezone: Mars/Olympus',
      '    image: busybox:latest',
      "    command: [sh, -c, 'echo should not run']",
      '',
    ].join('\n'));
    // Act
    const [validate, run] = await Promise.all([
      stepcron(['validate', ...catalog], { cwd: dir, timeoutMs: 15_000 }),
      stepcron(['run', 'report', ...catalog], { cwd: dir, timeoutMs: 15_000 }),
    ]);
    // Assess
    for (const result of [validate, run]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^stepcron: .*jobs\.yml: 2 problems$/);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^ {2}- jobs\.report\.schedule: hours: 25 is out of range/),
        expect.stringMatching(/^ {2}- jobs\.report\.timezone: 'Mars\/Olympus' is not an IANA time zone/),
      ]);
      expectNoStackTrace(result);
    }
    expect(existsSync(join(dir, '.stepcron'))).toBe(false);
  }, 20_000);
});

describe('stepcron synth and validate on the sample catalog', () => {
  it('synth <job> prints its definition with Precheck and RunTask; validate exits 0', async () => {
    // Prepare: synth reads the stage params from ./serverless.yml, so it runs in the project (it writes nothing).
    const dir = tempDir();
    // Act
    const [synth, validate] = await Promise.all([
      stepcron(['synth', 'hourly-cleanup'], { cwd: root, timeoutMs: 15_000 }),
      stepcron(['validate', '--catalog', join(root, 'workflows', 'jobs.yml')], { cwd: dir, timeoutMs: 15_000 }),
    ]);
    // Assess
    expect(synth.code).toBe(0);
    const definition = JSON.parse(synth.stdout) as { StartAt: string; States: Record<string, { Type: string; Resource?: string }> };
    expect(definition.StartAt).toBe('Precheck');
    expect(definition.States).toHaveProperty('Precheck');
    expect(definition.States).toHaveProperty('RunTask');
    expect(definition.States.RunTask).toMatchObject({ Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync' });
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/jobs\.yml: \d+ jobs valid for stage dev; \d+ scheduled: .*hourly-cleanup/);
    expect(validate.stderr).toBe('');
  }, 20_000);

  it('validate says how the stage splits into nested stacks, and warns (exit 1) when a stack would pass a quota', async () => {
    // Prepare: a project whose serverless.yml sits beside workflows/, with 90 jobs whose names all hash to stack
    // Jobs00 and that each read a secret and have policies of their own (6 resources each): 540 resources in one stack
    const dir = tempDir();
    mkdirSync(join(dir, 'workflows'));
    writeFileSync(join(dir, 'serverless.yml'), readFileSync(join(root, 'serverless.yml')));
    const names = Array.from({ length: 20_000 }, (_, i) => `job-${i}`).filter((n) => stackIndex(n) === 0).slice(0, 90);
    const heavy = names.map((name, i) => `  ${name}:\n    description: heavy ${i}\n    schedule: rate(1 day)\n` +
      `    secrets: { TOKEN: /stepcron/t${i} }\n    taskPolicyArns: [arn:aws:iam::123456789012:policy/p${i}]\n`).join('');
    writeFileSync(join(dir, 'workflows/jobs.yml'), `defaults:\n  image: x:1\n  command: [run]\njobs:\n${heavy}`);
    // Act
    const [sample, tooBig] = await Promise.all([
      stepcron(['validate'], { cwd: root, timeoutMs: 15_000 }),
      stepcron(['validate', '--catalog', 'workflows/jobs.yml', '--stage', 'prod'], { cwd: dir, timeoutMs: 20_000 }),
    ]);
    // Assess
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/deploys as 3 nested stacks under the main stack .*; the fullest, Jobs\d\d, holds \d+ of 500 resources and \d+ of 1,000 KB/);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stdout).toMatch(/90 jobs valid for stage prod/);
    expect(tooBig.stderr).toMatch(/^stepcron: warning: stage prod would not deploy: CloudFormation refuses a stack over its quotas:\n {2}- Jobs00: 540 resources \(CloudFormation allows 500\)/);
  }, 30_000);

  it.each([['[1,2]', /input: must be a JSON object/], ['null', /input: must be a JSON object/], ['{"inputs":{}}', /'inputs' at the top level is no run-input field: did you mean input\? \(a run input sets scheduledTime, input, items, itemsFrom, /],
  // Rule: an unknown key is named as written in the file (not input.inputt) and only fields a person sets are offered.
  ['{"inputt":{"a":1}}', /'inputt' at the top level is no run-input field: did you mean input\? \(a run input sets scheduledTime, input, items, itemsFrom, e\.g\. /]])(
    'run --event %s: exit 2 with the precheck\'s own line, and no run recorded', async (text, message) => {
      // Prepare
      const dir = tempDir();
      writeFileSync(join(dir, 'event.json'), text);
      // Act
      const result = await stepcron(['run', 'hourly-cleanup', '--catalog', join(root, 'workflows', 'jobs.yml'), '--event', join(dir, 'event.json')], { cwd: dir, timeoutMs: 15_000 });
      // Assess
      expectUsageError(result, new RegExp(`^stepcron: --event: .*event\\.json: ${message.source}`));
      expect(runRecords(dir)).toEqual([]);
    }, 20_000);

  it('--help lists the exit codes', async () => {
    const result = await stepcron(['--help'], { cwd: root, timeoutMs: 15_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 {2}an internal error/);
  });

  it('run refuses, in one line and exit 2, an input Step Functions would not start (over 256 KiB)', async () => {
    // Prepare
    const dir = tempDir();
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ items: Array.from({ length: 3000 }, () => 'x'.repeat(100)) }));
    // Act
    const result = await stepcron(['run', 'tenant-sync', '--catalog', join(root, 'workflows', 'jobs.yml'), '--event', join(dir, 'big.json')], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    // Refused as a file before it is parsed (AWS counts the input text as sent); an input merged over 256 KiB from a
    // smaller file is refused as StartExecution would (test/deploy-proof.test.ts, checkStartExecution).
    expectUsageError(result, /--event: .*big\.json is 302 KiB; Step Functions takes at most 256 KiB of input/);
    expect(runRecords(dir)).toEqual([]);
  }, 20_000);

  it('run --event takes a sample precheck event\'s run input (the same files serve sls invoke local)', async () => {
    // Prepare
    const dir = tempDir();
    const catalog = ['--catalog', join(root, 'workflows', 'jobs.yml')];
    const event = join(root, 'events', 'precheck-skip-no-items.json');
    // Act
    const [skipped, wrongJob] = await Promise.all([
      stepcron(['run', 'tenant-sync', ...catalog, '--event', event, '--json'], { cwd: dir, timeoutMs: 15_000 }),
      stepcron(['run', 'nightly-report', ...catalog, '--event', event], { cwd: dir, timeoutMs: 15_000 }),
    ]);
    // Assess
    expect(skipped.code).toBe(0);
    expect(summaryOf(skipped)).toMatchObject({ status: 'SKIPPED', reason: 'no items to fan out', tasks: [] });
    expectUsageError(wrongJob, /--event: .* is a precheck event for job 'tenant-sync', not 'nightly-report'/);
  }, 20_000);
});

/** A PATH with node and sh only, so that neither podman nor docker can be found; undefined if it cannot be built. */
function pathWithoutEngines(): string | undefined {
  const sh = ['/bin/sh', '/usr/bin/sh'].find((p) => existsSync(p));
  if (!sh) return undefined;
  try {
    const bin = join(mkdtempSync(join(tmpdir(), 'stepcron-cli-path-')), 'bin');
    dirs.push(join(bin, '..'));
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(sh, join(bin, 'sh'));
    return bin;
  } catch {
    return undefined;
  }
}

const isolatedPath = pathWithoutEngines();
if (!isolatedPath) console.warn('cli --ecs container test skipped: cannot build a PATH without podman and docker');

describe('stepcron run --ecs aws', () => {
  it('without a region or credentials: exit 2 with one line saying what to set, and no task is tried', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ remote: { command: 'true' } }));
    // No AWS_* settings at all, then a region but nowhere to find credentials.
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const none = join(dir, 'none');
    const noCredentials = { ...bare, AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: none, AWS_CONFIG_FILE: none };
    // Act
    const [noRegion, noCreds] = await Promise.all([
      stepcron(['run', 'remote', ...catalog, '--ecs', 'aws'], { cwd: dir, env: bare, timeoutMs: 20_000 }),
      stepcron(['run', 'remote', ...catalog, '--ecs', 'aws'], { cwd: dir, env: noCredentials, timeoutMs: 20_000 }),
    ]);
    // Assess
    expectUsageError(noRegion, /^stepcron: --ecs aws: set AWS_REGION/);
    expectUsageError(noCreds, /^stepcron: --ecs aws: no AWS credentials/);
    expect(existsSync(join(dir, '.stepcron'))).toBe(false);
  }, 30_000);

  it('--notify aws without a topic or Slack secret: exit 2 naming the variables', async () => {
    const { dir, catalog } = workspace(catalogOf({ remote: { command: 'true' } }));
    const env = { ...process.env, NOTIFY_TOPIC_ARN: '', SLACK_WEBHOOK_SECRET: '' };
    const result = await stepcron(['run', 'remote', ...catalog, '--notify', 'aws'], { cwd: dir, env, timeoutMs: 20_000 });
    expectUsageError(result, /^stepcron: --notify aws: environment variable NOTIFY_TOPIC_ARN is not set and neither is SLACK_WEBHOOK_SECRET/);
  }, 30_000);
});

describe('stepcron run --ecs container', () => {
  (isolatedPath ? it : it.skip)('exits 2 naming podman when no container engine answers', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ fine: { command: 'echo should not run' } }));
    // Act
    const result = await stepcron(['run', 'fine', '--ecs', 'container', ...catalog], {
      cwd: dir, env: { ...process.env, PATH: isolatedPath! }, timeoutMs: 20_000,
    });
    // Assess
    expectUsageError(result, /^stepcron: --ecs container: .*podman/);
    expect(existsSync(join(dir, '.stepcron'))).toBe(false);
  }, 25_000);
});

describe('stepcron schedule', () => {
  it('fires a job at its time with the scheduled time in the run input, and records the run', async () => {
    // Prepare: a one-time schedule 2 s from now (at() is local time in the job's zone, UTC here)
    const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const { dir, catalog } = workspace(catalogOf({ once: { command: 'echo "fired for $STEPCRON_SCHEDULED_TIME"' } })
      .replace('rate(1 hour)', `at(${at.toISOString().slice(0, 19)})`));
    // Act
    const result = await stepcron(['schedule', '--for', '5s', ...catalog], { cwd: dir, timeoutMs: 20_000 });
    // Assess
    expect(result.code).toBe(0);
    // The scheduled time as people read it (the job's zone, here UTC); the run's input keeps the ISO instant.
    expect(result.stdout).toContain(`once: start (scheduled ${localTime(at, 'UTC')})`);
    expect(result.stdout).toContain(`fired for ${at.toISOString()}`);
    expect(result.stdout).toMatch(/once: SUCCEEDED in /);
    expect(runRecords(dir, 'once').map((r) => r.status)).toEqual(['SUCCEEDED']);
  }, 30_000);

  it('--for 3s prints the next fire time and stops by itself; SIGINT stops it cleanly', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ tick: { command: 'echo tick' } }).replace('rate(1 hour)', 'rate(1 day)'));
    const midnight = () => Math.ceil((Date.now() + 1) / 86_400_000) * 86_400_000;
    const due = midnight();
    // Act
    const timed = start(['schedule', '--for', '3s', '--jobs', 'tick', ...catalog], { cwd: dir, timeoutMs: 20_000 });
    const interrupted = start(['schedule', '--jobs', 'tick', ...catalog], { cwd: dir, timeoutMs: 20_000 });
    await until(() => interrupted.stdout().includes('Ctrl-C stops'), 15_000, 'the scheduler to start');
    await sleep(Math.max(0, interrupted.startedAt + 1000 - Date.now()));
    interrupted.child.kill('SIGINT');
    const [forResult, intResult] = await Promise.all([timed.done, interrupted.done]);
    // Assess
    expect({ code: forResult.code, signal: forResult.signal }).toEqual({ code: 0, signal: null });
    const lines = forResult.stdout.trimEnd().split('\n');
    // rate(1 day) fires on the clock, as the cron(...) it deploys as: at the next midnight (UTC here), not a day from now.
    const next = /^\d\d:\d\d:\d\d UTC tick: rate\(1 day\) UTC, next (\d{4}-\d\d-\d\d) 00:00 UTC \(in \d+ (min|h)\) \(on the clock: deploys as cron\(0 0 \* \* \? \*\) UTC\)$/.exec(lines[0] ?? '');
    expect(next).not.toBeNull();
    expect([due, midnight()]).toContain(Date.parse(`${next![1]}T00:00:00Z`));
    expect(lines.slice(1)).toEqual(['scheduling 1 job(s) for 3.00s; Ctrl-C stops', 'scheduler stopped']);
    expect(forResult.ms).toBeGreaterThanOrEqual(3000);
    expectNoStackTrace(forResult);

    expect({ code: intResult.code, signal: intResult.signal }).toEqual({ code: 0, signal: null });
    expect(intResult.stdout.trimEnd().split('\n').at(-1)).toBe('scheduler stopped');
    expectNoStackTrace(intResult);
    // Nothing was due within the test: no run fired.
    expect(runRecords(dir)).toEqual([]);
  }, 30_000);

  it('fires a rate that is not aligned to the clock at its start, as AWS does when the deploy creates it, and says so', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ odd: { command: 'echo "odd at $STEPCRON_SCHEDULED_TIME"' } }).replace('rate(1 hour)', 'rate(7 minutes)'));
    const before = Date.now();
    // Act
    const result = await stepcron(['schedule', '--for', '3s', ...catalog], { cwd: dir, timeoutMs: 20_000 });
    // Assess: one run, at once; the next a period later; the note as validate words it
    expect(result.code).toBe(0);
    const started = /odd: rate\(7 minutes\) UTC, next (\d{4}-\d\d-\d\d \d\d:\d\d) UTC \(now\)/.exec(result.stdout);
    expect(started).not.toBeNull();
    expect(Date.parse(`${started![1]!.replace(' ', 'T')}:00Z`)).toBeGreaterThanOrEqual(Math.floor((before - 1000) / 60_000) * 60_000);
    expect(result.stdout).toContain(`odd: start (scheduled ${started![1]} UTC)`);
    expect(result.stdout).toContain('odd: rate(7 minutes) is not aligned to the clock: on AWS its first run is when the deploy creates the schedule');
    expect(result.stdout).toMatch(/odd: SUCCEEDED in /);
    expect(runRecords(dir, 'odd').map((r) => r.status)).toEqual(['SUCCEEDED']);
  }, 30_000);
});

describe('stepcron validate: names AWS would refuse', () => {
  it('names each resource whose name would be too long, its length and the limit, for the stage and for a job', async () => {
    // Prepare: a buffer job (its EventBridge rule has the tightest limit) and a job name too long for a 41-character stage
    const stage = `s${'x'.repeat(41)}`;
    const job = `j${'x'.repeat(29)}`;
    const { dir, catalog } = workspace(catalogOf({ [job]: { command: 'true', fields: ['concurrency: buffer'] } }));
    // Act
    const longStage = await stepcron(['validate', '--stage', stage, ...catalog], { cwd: dir, timeoutMs: 15_000 });
    const longJob = await stepcron(['validate', '--stage', stage.slice(0, 41), ...catalog], { cwd: dir, timeoutMs: 15_000 });
    // Assess
    expectUsageError(longStage, new RegExp(`^stepcron: --stage: '${stage}' is 42 characters: .*at most 41 for the stage; EventBridge rule name ` +
      `'stepcron-${stage}-buffered-runs' is 65 characters; the limit is 64 \\(it exists when a job has concurrency: buffer\\): shorten it$`));
    expect(longJob.code).toBe(2);
    expect(longJob.stderr).toContain(`jobs.${job}: state machine name 'stepcron-${stage.slice(0, 41)}-${job}' is 81 characters; the limit is 80: ` +
      `shorten the job name to at most 29 characters on stage ${stage.slice(0, 41)}`);
  }, 20_000);
});

describe('stepcron validate: rates that run at deploy', () => {
  it('warns, without failing, about each job whose rate is not aligned to the clock', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({ odd: { command: 'true' }, even: { command: 'true' } }).replace('rate(1 hour)', 'rate(90 minutes)'));
    // Act
    const result = await stepcron(['validate', ...catalog], { cwd: dir, timeoutMs: 15_000 });
    // Assess: exit 0; one warning line naming the job (the first job only: the second keeps rate(1 hour))
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('stepcron: warning: jobs.odd.schedule: rate(90 minutes) is not aligned to the clock: on AWS its first run is ' +
      'when the deploy creates the schedule (and again whenever a deploy recreates it), then every 90 minutes from there\n');
  }, 20_000);
});

const engine = detectEngineSync();
const describeIfEngine = engine ? describe : describe.skip;
if (!engine) console.warn('CLI container test skipped: no container engine answers (install podman: scripts/install-podman.sh)');

describeIfEngine('stepcron run --ecs container', () => {
  // The private store the container backend tests use, so the image is built once.
  const env = { ...process.env, STEPCRON_PODMAN_ROOT: join(tmpdir(), 'stepcron-podman-test') };
  let image: string;
  beforeAll(async () => {
    process.env.STEPCRON_PODMAN_ROOT = env.STEPCRON_PODMAN_ROOT;
    image = await buildBusyboxImage(engine!.engine);
  }, 60_000);

  it('runs the job in its image, retried by STEPCRON_ATTEMPT, with the run input in STEPCRON_INPUT', async () => {
    // Prepare
    const { dir, catalog } = workspace(catalogOf({
      boxed: {
        command: 'echo "in a container: $STEPCRON_INPUT"; [ "$STEPCRON_ATTEMPT" = 0 ] && exit 1 || exit 0',
        fields: [`image: ${image}`, 'retries: 1', 'retryIntervalSeconds: 1'],
      },
    }));
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ input: { day: 'monday' } }));
    // Act
    const result = await stepcron(['run', 'boxed', ...catalog, '--ecs', 'container', '--event', 'event.json', '--json'], { cwd: dir, env, timeoutMs: 30_000 });
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('in a container: {"day":"monday"}');
    expect(summaryOf(result)).toMatchObject({ status: 'SUCCEEDED', tasks: [{ exitCode: 0, attempts: 2, status: 'SUCCEEDED' }] });
    expect(result.stderr).toMatch(/ecs container/);
  }, 40_000);
});
