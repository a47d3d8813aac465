// The day-2 commands against the local run store, for real: the CLI as a child process in a temporary directory,
// `sh -c` jobs run by the process backend, and what they record read back from .stepcron/store.db.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../cli/store';
import { startCli } from './support/cli';

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A workspace whose catalog holds `ok` (hourly, Europe/Berlin), `bad` (exits 3) and `slow` (prints, sleeps, prints). */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-ops-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'jobs.yml'), [
    'defaults:', '  image: busybox:latest', '  retries: 0', 'jobs:',
    '  ok:', '    description: succeeds', '    schedule: cron(0 * * * ? *)', '    timezone: Europe/Berlin',
    '    command: [sh, -c, "echo ran $STEPCRON_INPUT"]',
    '  bad:', '    description: fails', '    schedule: rate(1 hour)', '    command: [sh, -c, "echo failing >&2; exit 3"]',
    '  slow:', '    description: slow', '    schedule: rate(1 hour)', '    command: [sh, -c, "echo first; sleep 1.5; echo second"]',
    '',
  ].join('\n'));
  return dir;
}

function stepcron(dir: string, ...args: string[]) {
  return startCli([...args, '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 20_000 }).done;
}

function store<T>(dir: string, fn: (s: Store) => T): T {
  const s = Store.open(join(dir, '.stepcron'), { broken: 'fail' });
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

describe('stepcron start / status / runs, locally', () => {
  const dir = workspace();

  it('start runs the job here and exits as stepcron run does: 0 when it succeeds, 1 when it fails', async () => {
    // Act
    const ok = await stepcron(dir, 'start', 'ok');
    const bad = await stepcron(dir, 'start', 'bad', '--json');

    // Assess
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ran \{\}$/m);
    expect(ok.stdout).toMatch(/^SUCCEEDED \d{8}T\d{6}Z-[0-9a-f]{4} exit 0$/m);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout.trim().split('\n').at(-1)!)).toMatchObject({ ended: { status: 'FAILED', exitCode: 3, error: expect.any(String) } });
  });

  it('start --event refuses an input the precheck would refuse, before anything runs (exit 2)', async () => {
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ inputt: {} }));
    const before = store(dir, (s) => s.list('ok').length);

    const result = await stepcron(dir, 'start', 'ok', '--event', 'typo.json');

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--event: typo\.json: .*inputt/);
    expect(store(dir, (s) => s.list('ok').length)).toBe(before);
  });

  it('status: one row per job with its state, next 3 times in its zone, last run, success rate and cost; --json', async () => {
    const result = await stepcron(dir, 'status', '--json');

    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<Record<string, any>>;
    const ok = rows.find((r) => r.job === 'ok')!;
    const bad = rows.find((r) => r.job === 'bad')!;
    expect(rows.map((r) => r.job)).toEqual(['ok', 'bad', 'slow']);
    expect(ok).toMatchObject({ state: 'enabled', schedule: 'cron(0 * * * ? *)', timezone: 'Europe/Berlin', lastRun: { status: 'SUCCEEDED', exitCode: 0 }, successRate: { succeeded: 1, finished: 1, percent: 100 } });
    // On the hour, one hour apart.
    expect(ok.next).toHaveLength(3);
    for (const t of ok.next) expect(t).toMatch(/T\d\d:00:00\.000Z$/);
    expect(Date.parse(ok.next[1]) - Date.parse(ok.next[0])).toBe(3_600_000);
    expect(ok.costPerRun).toBeGreaterThan(0);
    // ~720 hourly runs in 30 days.
    expect(ok.monthlyEstimate).toBeCloseTo(ok.costPerRun * 720, 2);
    expect(bad).toMatchObject({ lastRun: { status: 'FAILED', exitCode: 3 }, successRate: { succeeded: 0, finished: 1, percent: 0 } });
    expect(rows.find((r) => r.job === 'slow')).toMatchObject({ successRate: { finished: 0, percent: null } });
    expect(rows.find((r) => r.job === 'slow')!.lastRun).toBeUndefined();
  });

  it('status as text: a header and one tab-separated row per job when piped', async () => {
    const result = await stepcron(dir, 'status');

    const lines = result.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines[0]).toEqual(['JOB', 'STATE', 'SCHEDULE', 'NEXT', 'LAST RUN', 'SUCCESS (last 20)', 'COST/RUN', 'MONTHLY']);
    expect(lines.slice(1).map((l) => [l[0], l[1], l[5]])).toEqual([['ok', 'enabled', '100% (1/1)'], ['bad', 'enabled', '0% (0/1)'], ['slow', 'enabled', '-']]);
    // Times people read: the Berlin job's next times and last run on its own clock, each labelled with its zone and
    // how far off (the --json rows keep ISO UTC).
    const ok = lines[1]!;
    expect(ok[3]!.split(', ')).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:00 CES?T \(in \d+ min\)$/),
      ...[1, 2].map(() => expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:00 CES?T$/))]);
    expect(ok[4]).toMatch(/^SUCCEEDED \d{4}-\d\d-\d\d \d\d:\d\d CES?T \(\d+ (s|min) ago\) [\d.]+s exit 0$/);
  });

  it('status --stage prod shows prod\'s runs only: none of those made on dev (the default stage)', async () => {
    const prod = JSON.parse((await stepcron(dir, 'status', '--stage', 'prod', '--json')).stdout) as Array<Record<string, any>>;
    const runs = await stepcron(dir, 'runs', 'bad', '--stage', 'prod');

    for (const row of prod) {
      expect(row.lastRun).toBeUndefined();
      expect(row).toMatchObject({ successRate: { finished: 0, percent: null } });
      expect(row.costPerRun).toBeUndefined();
    }
    // Rule: runs says which stage it shows, and where the job's runs are when that stage has none.
    expect(runs.stdout).toBe('no runs of bad on stage prod (local store .stepcron/store.db; other stages have 1: --stage dev)\n');
  });

  it('runs: newest first, filtered by --status and --since', async () => {
    await stepcron(dir, 'start', 'bad');

    const all = JSON.parse((await stepcron(dir, 'runs', 'bad', '--json')).stdout) as Array<{ status: string; startedAt: string }>;
    const failed = JSON.parse((await stepcron(dir, 'runs', 'bad', '--status', 'failed', '--json', '-n', '1')).stdout) as unknown[];
    const none = await stepcron(dir, 'runs', 'bad', '--status', 'SUCCEEDED');
    const future = await stepcron(dir, 'runs', 'bad', '--since', new Date(Date.now() + 60_000).toISOString());
    const wrong = await stepcron(dir, 'runs', 'bad', '--status', 'BROKEN');
    const text = await stepcron(dir, 'runs', 'bad');

    expect(all.map((r) => r.status)).toEqual(['FAILED', 'FAILED']);
    expect(all[0]!.startedAt > all[1]!.startedAt).toBe(true);
    expect(failed).toHaveLength(1);
    expect(none.stdout).toMatch(/^no runs of bad SUCCEEDED on stage dev \(local store [^;]*\)\n$/);
    expect(future.stdout).toMatch(/^no runs of bad since/);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--status: 'BROKEN' is not one of RUNNING, SUCCEEDED/);
    // STARTED on the job's clock (bad has no timeZone: UTC), labelled, and how long ago.
    expect(text.stdout.split('\n')[1]!.split('\t')[2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ (s|min) ago\)$/);
    // Each row says its stage (the default, dev), as history's rows do.
    expect(text.stdout.split('\n')[0]!.split('\t')).toEqual(['STATUS', 'EXECUTION', 'STARTED', 'DURATION', 'EXIT', 'STAGE', 'ERROR/REASON']);
    expect(text.stdout.trim().split('\n').slice(1).map((l) => l.split('\t')[5])).toEqual(['dev', 'dev']);
  });

  it('logs --follow prints a running run\'s output as it comes, until the run ends', async () => {
    const run = startCli(['start', 'slow', '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 20_000 });
    // The run is recorded before its task starts.
    for (let i = 0; i < 200 && !run.stderr().includes('RunTask'); i++) await new Promise((r) => setTimeout(r, 25));

    const follow = await stepcron(dir, 'logs', 'slow', '--follow');
    await run.done;

    expect(follow.code).toBe(0);
    expect(follow.stdout).toBe('stdout | first\nstdout | second\n');
  });
});

describe('stepcron redrive, locally: as Step Functions redrives', () => {
  /** A job whose first run is stopped in its task (a marker file says it was), and whose second attempt finishes. */
  function resumable(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-redrive-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'jobs.yml'), [
      'defaults:', '  image: busybox:latest', '  retries: 0', 'jobs:',
      '  resumable:', '    description: stopped the first time', '    schedule: rate(1 hour)',
      '    command: [sh, -c, "if [ -e stopped ]; then echo resumed; else touch stopped; echo first; sleep 30; fi"]',
      '  bad:', '    description: fails', '    schedule: rate(1 hour)', '    command: [sh, -c, "echo failing >&2; exit 3"]',
      '',
    ].join('\n'));
    return dir;
  }

  it('resumes a stopped run at the state it did not finish, as the same execution, with its output appended', async () => {
    // Prepare: a run stopped (SIGTERM, as a supervisor sends) while its task runs
    const dir = resumable();
    const first = startCli(['run', 'resumable', '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 20_000 });
    for (let i = 0; i < 400 && !first.stdout().includes('first'); i++) await new Promise((r) => setTimeout(r, 25));
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(1);
    const [stopped] = store(dir, (s) => s.list('resumable'));
    expect(stopped!.status).toBe('ABORTED');

    // Act
    const result = await stepcron(dir, 'redrive', 'resumable', stopped!.execution);

    // Assess: the same execution, from RunTask (the precheck is not run again), now SUCCEEDED
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^SUCCEEDED ${stopped!.execution} exit 0$`, 'm'));
    expect(result.stderr).toContain(`↻ resumable  ${stopped!.execution}  redriven from RunTask`);
    expect(result.stderr).not.toContain('→ Precheck');
    const runs = store(dir, (s) => s.list('resumable'));
    expect(runs.map((r) => [r.execution, r.status])).toEqual([[stopped!.execution, 'SUCCEEDED']]);
    expect(store(dir, (s) => s.logs(stopped!.execution)).chunks.map((c) => c.text).join('')).toBe('first\nresumed\n');
    // Redriving it again is what AWS refuses: it succeeded.
    const again = await stepcron(dir, 'redrive', 'resumable', stopped!.execution);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^stepcron: redrive: .* cannot be redriven: it is SUCCEEDED; only a FAILED, TIMED_OUT or ABORTED run can be redriven$/)]);
  }, 30_000);

  it('refuses a run whose job failed: it ended in its Fail state, which is all a redrive would run again', async () => {
    // Prepare
    const dir = resumable();
    await stepcron(dir, 'run', 'bad');
    const [failed] = store(dir, (s) => s.list('bad'));

    // Act
    const result = await stepcron(dir, 'redrive', 'bad', failed!.execution);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(
      new RegExp(`^stepcron: redrive: ${failed!.execution} ended in its Fail state \\(JobFailed\\): a redrive reruns only the states that did not finish, .*stepcron run bad --event <file>\\)$`))]);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(store(dir, (s) => s.list('bad')).map((r) => r.status)).toEqual(['FAILED']);
  });

  it('names the job\'s runs when the execution is not one of them', async () => {
    const result = await stepcron(resumable(), 'redrive', 'bad', 'nope');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("stepcron: redrive: job 'bad' has no local run 'nope' (see stepcron runs bad)\n");
  });
});

describe('stepcron pause / resume, locally', () => {
  it('pause records who, when and why; status shows it; schedule does not fire the job; resume clears it', async () => {
    const dir = workspace();

    await stepcron(dir, 'start', 'ok');
    const paused = await stepcron(dir, 'pause', 'ok', '--note', 'database migration INC-42');
    const status = JSON.parse((await stepcron(dir, 'status', 'ok', '--json')).stdout) as Array<Record<string, any>>;
    const text = (await stepcron(dir, 'status', 'ok')).stdout.trim().split('\n')[1]!.split('\t');
    const schedule = await stepcron(dir, 'schedule', '--for', '300ms', '--jobs', 'ok,bad');
    const resumed = await stepcron(dir, 'resume', 'ok');
    const again = await stepcron(dir, 'resume', 'ok');

    expect(paused.code).toBe(0);
    // When, on the job's (Europe/Berlin) clock.
    expect(paused.stdout).toMatch(/^paused ok on dev \(.*\) by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d CES?T: database migration INC-42$/m);
    expect(status[0]).toMatchObject({ state: 'paused', next: [], pause: { note: 'database migration INC-42', by: expect.stringContaining('@') } });
    expect(Date.now() - Date.parse(status[0]!.pause.at)).toBeLessThan(60_000);
    // A paused job costs nothing a month, whatever its runs cost.
    expect(status[0]!.costPerRun).toBeGreaterThan(0);
    expect(status[0]!.monthlyEstimate).toBeUndefined();
    expect(text.at(-1)).toBe('— (paused)');
    expect(schedule.stderr).toMatch(/ok is paused \(by .* database migration INC-42\): not scheduled/);
    expect(schedule.stdout).toMatch(/^\d\d:\d\d:\d\d UTC bad: rate\(1 hour\)/m);
    expect(schedule.stdout).not.toMatch(/ ok: /);
    expect(resumed.stdout).toMatch(/^resumed ok .*paused by \S+ since \d{4}-\d\d-\d\d \d\d:\d\d CES?T \(\d+ s ago\): database migration INC-42$/m);
    expect(again.stdout).toMatch(/^ok was not paused/);
    expect(store(dir, (s) => s.paused('dev').size)).toBe(0);
  });

  it('pause needs a note', async () => {
    const dir = workspace();
    const result = await stepcron(dir, 'pause', 'ok');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/required option '--note <text>'/);
  });

  it('resume --catch-up runs each hour missed since the pause, once, with its scheduledTime', async () => {
    const dir = workspace();
    // Paused at 10 past the hour three hours back: the three top-of-the-hour times since were missed, whatever the
    // minute now (3 h 10 min before 12:03 would have been 08:53, four hours).
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const at = new Date(hour - (2 * 60 + 50) * 60_000);
    store(dir, (s) => s.pause('dev', 'ok', { by: 'tester', at: at.toISOString(), note: 'held' }));

    const result = await stepcron(dir, 'resume', 'ok', '--catch-up', '--json');

    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Array<{ scheduledTime: string; status: string }>;
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === 'SUCCEEDED' && r.scheduledTime.endsWith(':00:00.000Z'))).toBe(true);
    expect(store(dir, (s) => s.list('ok').length)).toBe(3);
  });
});

describe('stepcron backfill, locally', () => {
  it('--dry-run lists the times in the job\'s zone; the backfill runs each once; a second one finds them all ran', async () => {
    const dir = workspace();
    const window = ['--from', '2026-03-29T00:30:00Z', '--to', '2026-03-29T03:00:00Z'];

    const dry = await stepcron(dir, 'backfill', 'ok', ...window, '--dry-run');
    const run = await stepcron(dir, 'backfill', 'ok', ...window, '--max-concurrent', '1', '--json');
    const second = await stepcron(dir, 'backfill', 'ok', ...window, '--dry-run', '--json');
    // A start for one of those times by hand is a duplicate: the precheck's claim, not the backfill's listing.
    writeFileSync(join(dir, 'time.json'), JSON.stringify({ scheduledTime: '2026-03-29T02:00:00+01:00' }));
    const duplicate = await stepcron(dir, 'start', 'ok', '--event', 'time.json', '--json');

    // Assess: hourly on the hour, whatever the zone's DST change that night (Europe/Berlin, 29 March 2026).
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: 3 would run, 0 already ran; nothing was started');
    // On the job's own clock, labelled: 01:00 UTC is 03:00 CEST (02:00 CET does not exist that night).
    const scheduled = dry.stdout.split('\n').filter((l) => l.endsWith('WOULD_RUN\t-\t')).map((l) => l.split('\t')[0]!);
    expect(scheduled.map((t) => t.replace(/ \(\d+ d ago\)$/, ''))).toEqual(['2026-03-29 03:00 CEST', '2026-03-29 04:00 CEST', '2026-03-29 05:00 CEST']);
    expect(scheduled.every((t) => / \(\d+ d ago\)$/.test(t))).toBe(true);
    expect(run.code).toBe(0);
    const ran = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Array<{ status: string; execution: string }>;
    expect(ran.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const again = JSON.parse(second.stdout) as Array<{ status: string; execution: string }>;
    // --json keeps ISO UTC.
    const utc = ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z', '2026-03-29T03:00:00.000Z'];
    expect(again).toEqual(ran.map((r, i) => ({ scheduledTime: utc[i], status: 'ALREADY_RAN', execution: r.execution })));
    expect(duplicate.code).toBe(0);
    expect(JSON.parse(duplicate.stdout.trim().split('\n').at(-1)!).ended).toMatchObject({ status: 'SKIPPED', reason: `duplicate of ${ran[0]!.execution}: it has already claimed scheduled time 2026-03-29T01:00:00.000Z` });
  });

  it('refuses a window in the future, one ending before it starts, or too many times', async () => {
    const dir = workspace();

    const future = await stepcron(dir, 'backfill', 'ok', '--from', '2026-01-01T00:00:00Z', '--to', '2999-01-01T00:00:00Z', '--dry-run');
    const reversed = await stepcron(dir, 'backfill', 'ok', '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-01T00:00:00Z');
    const huge = await stepcron(dir, 'backfill', 'ok', '--from', '2020-01-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z', '--dry-run');

    expect([future.code, reversed.code, huge.code]).toEqual([2, 2, 2]);
    expect(future.stderr).toMatch(/--to .* is in the future/);
    expect(reversed.stderr).toMatch(/--to .* is before --from/);
    expect(huge.stderr).toMatch(/more than 1000 scheduled times of ok/);
  });
});

describe('--help of each day-2 command', () => {
  it.each([
    ['status', /--last <n>.*--json.*--aws.*--region.*--profile/s],
    ['runs', /--status <status>.*--since <when>.*--json.*--aws/s],
    ['start', /--event <file>.*--wait.*--aws/s],
    ['pause', /--note <text>.*--aws/s],
    ['resume', /--catch-up.*--aws/s],
    ['backfill', /--from <time>.*--to <time>.*--dry-run.*--max-concurrent <n>/s],
    ['redrive', /<execution>.*--aws/s],
    ['logs', /--follow.*--aws/s],
  ])('%s --help', async (command, options) => {
    const result = await startCli([command, '--help'], { cwd: tmpdir() }).done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(options);
    expect(result.stdout).toMatch(/--catalog <file>.*--stage <stage>/s);
  });
});
