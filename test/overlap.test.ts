// One run per scheduled time, and concurrency buffer, with real local runs: the real definitions on the local engine,
// real `sh -c 'sleep ...'` child processes, the real run store (SQLite) holding the claims, and the CLI itself for the
// cross-process cases.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { runLocal, type Summary } from '../cli/run';
import { localScheduler } from '../cli/scheduler';
import { Store } from '../cli/store';
import { claimKeys } from '../handlers/lib/precheck';
import { compile, runTimeoutSeconds } from '../workflows/compile';
import { localInfra } from '../cli/engine';
import { jobFrom } from './support/workflow';

const BIN = join(__dirname, '..', 'bin', 'stepcron.cjs');
const T = '2026-11-24T02:00:00Z';

/**
 * A job that logs when each execution starts and ends its task; in between it runs as long as the test's hold file
 * exists, so the test decides when a run ends (no sleeps to guess).
 */
const jobYaml = (name: string, concurrency: string, env: { LOG: string; HOLD: string }, schedule = 'rate(1 hour)') => `
jobs:
  ${name}:
    description: ${name}
    schedule: ${schedule}
    image: local:1
    command: [sh, -c, 'echo "start $STEPCRON_EXECUTION $STEPCRON_SCHEDULED_TIME" >> "$LOG"; while [ -e "$HOLD" ]; do sleep 0.02; done; echo "end $STEPCRON_EXECUTION" >> "$LOG"']
    environment: { LOG: '${env.LOG}', HOLD: '${env.HOLD}' }
    retries: 0
    concurrency: ${concurrency}
`;

let dir: string;
let store: Store;
let log: string;
let hold: string;
const backend = processBackend({ graceMs: 200 });
const children = new Set<ChildProcess>();
/** Runs of the current test: a failed test must not close the store under them. */
const pending = new Set<Promise<unknown>>();
const track = <P extends Promise<unknown>>(promise: P): P => {
  pending.add(promise);
  return promise;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepcron-overlap-'));
  store = Store.open(join(dir, '.stepcron'));
  log = join(dir, 'task.log');
  hold = join(dir, 'hold');
  writeFileSync(log, '');
  writeFileSync(hold, '');
});

afterEach(async () => {
  letGo();
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await Promise.allSettled(pending);
  pending.clear();
  await backend.stopAll('test over');
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const job = (name: string, concurrency: string, schedule?: string) => jobFrom(jobYaml(name, concurrency, { LOG: log, HOLD: hold }, schedule));
/** The running task ends. */
const letGo = () => rmSync(hold, { force: true });

function run(j: ReturnType<typeof job>, input: unknown, output?: string[]): Promise<Summary> {
  const keep = (text: string) => void output?.push(text);
  return track(runLocal({ job: j, stage: 'test', input, backend, history: store, err: keep, out: keep, skipWaits: true, pollMs: 50 }));
}

const logLines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once the job's task has started (its first log line), i.e. the run is past its precheck. */
const taskStarted = (execution?: () => string | undefined) =>
  until(() => logLines().some((l) => l.startsWith('start ') && (!execution || l.includes(execution() ?? '\0'))), 'a task to start');

describe('the definitions', () => {
  it('are the same for every policy but for what the precheck is told: buffer adds no state and no transition', () => {
    // Prepare
    const definitions = Object.fromEntries(['allow', 'forbid', 'replace', 'buffer'].map((policy) => {
      const j = job('same', policy);
      return [policy, { j, definition: compile(j, localInfra(j, 'test')) }];
    }));
    const withoutPolicy = (d: ReturnType<typeof compile>) => JSON.parse(JSON.stringify(d), (key, value) => (key === 'policy' ? undefined : value));
    // Assess
    for (const policy of ['allow', 'replace', 'buffer']) expect(withoutPolicy(definitions[policy]!.definition)).toEqual(withoutPolicy(definitions.forbid!.definition));
    const { j, definition } = definitions.buffer!;
    expect((definition.States.Precheck as any).Parameters.Payload.policy).toEqual({ concurrency: 'buffer', runTimeoutSeconds: runTimeoutSeconds(j), input: {} });
    expect((definitions.forbid!.definition.States.Precheck as any).Parameters.Payload.policy).toEqual({ concurrency: 'forbid', input: {} });
  });
});

describe('one run per scheduled time (local runs)', () => {
  it.each(['forbid', 'replace', 'allow'])('%s: a second run for the same scheduled time is SKIPPED as a duplicate, during and after the first', async (policy) => {
    // Prepare
    const j = job(`dup-${policy}`, policy);
    // Act: a second delivery while the first runs, and a third after it ended
    const first = run(j, { scheduledTime: T });
    await taskStarted();
    const during = await run(j, { scheduledTime: '2026-11-24T03:00:00+01:00' });
    letGo();
    const firstSummary = await first;
    const after = await run(j, { scheduledTime: T });
    // Assess
    expect(firstSummary.status).toBe('SUCCEEDED');
    for (const s of [during, after]) {
      expect(s).toMatchObject({ status: 'SKIPPED', tasks: [] });
      expect(s.reason).toBe(`duplicate of ${firstSummary.execution}: it has already claimed scheduled time 2026-11-24T02:00:00.000Z`);
    }
    expect(logLines().filter((l) => l.startsWith('start'))).toEqual([expect.stringContaining(firstSummary.execution)]);
  }, 15_000);

  it('runs without a scheduled time are never duplicates; other scheduled times run', async () => {
    // Prepare
    const j = job('by-hand', 'forbid');
    letGo();
    // Act
    const summaries = [await run(j, {}), await run(j, {}), await run(j, { scheduledTime: T }), await run(j, { scheduledTime: '2026-11-24T03:00:00Z' })];
    // Assess
    expect(summaries.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(logLines().filter((l) => l.startsWith('start'))).toHaveLength(4);
  }, 15_000);
});

describe('concurrency buffer (local runs)', () => {
  it('waits for the run in progress and starts when it ends; a third is SKIPPED naming both; the waited time is claimed once', async () => {
    // Prepare
    const j = job('buffered', 'buffer');
    const waitingOutput: string[] = [];
    // Act: A runs; B arrives and waits; C arrives while B waits
    const a = run(j, {});
    await taskStarted();
    const aExecution = store.list('buffered').find((r) => r.status === 'RUNNING')!.execution;
    const b = run(j, { scheduledTime: T }, waitingOutput);
    await until(() => waitingOutput.join('').includes('waiting for'), 'B to wait');
    const c = await run(j, { scheduledTime: '2026-11-24T03:00:00Z' });
    letGo();
    const [aSummary, bSummary] = await Promise.all([a, b]);
    const lateDuplicate = await run(j, { scheduledTime: T });
    // Assess: B's task started only after A's ended, as a new execution that carries B's scheduled time
    expect(aSummary.status).toBe('SUCCEEDED');
    expect(bSummary.status).toBe('SUCCEEDED');
    expect(bSummary.buffered).toMatchObject({ behind: aExecution, execution: expect.any(String) });
    expect(bSummary.execution).toMatch(new RegExp(`^${bSummary.buffered!.execution}-buffered-[0-9a-f]{8}$`));
    expect(waitingOutput.join('')).toContain(`waiting for ${aExecution} to end (concurrency buffer)`);
    expect(logLines().map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      expect.stringMatching(new RegExp(`^start .*:${aExecution}$`)),
      expect.stringMatching(new RegExp(`^end .*:${aExecution}$`)),
      expect.stringMatching(new RegExp(`^start .*:${bSummary.execution}$`)),
      expect.stringMatching(new RegExp(`^end .*:${bSummary.execution}$`)),
    ]);
    expect(logLines()[2]).toMatch(new RegExp(` ${T}$`));
    expect(c).toMatchObject({ status: 'SKIPPED' });
    expect(c.reason).toBe(`concurrency buffer: ${bSummary.buffered!.execution} is already waiting for ${aExecution}; at most one run waits`);
    expect(lateDuplicate.reason).toMatch(new RegExp(`^duplicate of ${bSummary.execution}:`));
    // The waiting place is free again, and the store shows the buffered delivery SKIPPED beside the run it became.
    const machine = store.list('buffered')[0]!.stateMachineArn;
    expect(await store.claimsPort().holder(claimKeys.buffer(machine))).toBeUndefined();
    expect(store.list('buffered').map((r) => r.status).sort()).toEqual(['SKIPPED', 'SKIPPED', 'SKIPPED', 'SUCCEEDED', 'SUCCEEDED']);
  }, 15_000);

  it('a run stopped while it waits leaves the waiting place to the next run', async () => {
    // Prepare
    const j = job('stopped-waiting', 'buffer');
    const a = run(j, {});
    await taskStarted();
    const stop = new AbortController();
    const output: string[] = [];
    const b = track(runLocal({ job: j, stage: 'test', input: {}, backend, history: store, err: (t) => void output.push(t), out: () => undefined, signal: stop.signal, pollMs: 50 }));
    await until(() => output.join('').includes('waiting for'), 'B to wait');
    // Act
    stop.abort();
    const bSummary = await b;
    const c = run(j, {}, output);
    await until(() => output.filter((t) => t.includes('waiting for')).length === 2, 'C to wait in the freed place');
    letGo();
    const [, cSummary] = await Promise.all([a, c]);
    // Assess
    expect(bSummary.status).toBe('SKIPPED');
    expect(cSummary).toMatchObject({ status: 'SUCCEEDED', buffered: expect.objectContaining({ behind: expect.any(String) }) });
  }, 15_000);

  it('stepcron schedule: a scheduled run due while a run is in progress waits and then runs', async () => {
    // Prepare: a clock half a second before the minute, so `cron(* * * * ? *)` fires at once
    const j = job('scheduled', 'buffer', 'cron(* * * * ? *)');
    const a = run(j, {});
    await taskStarted();
    const out: string[] = [];
    const stop = new AbortController();
    const offset = 60_000 - (Date.now() % 60_000) - 200;
    const now = () => new Date(Date.now() + offset);
    // Act: the scheduled run waits; A ends; the scheduler stops once the scheduled run has ended
    const scheduler = track(localScheduler({ jobs: [j], stage: 'test', history: store, backend, signal: stop.signal, out: (t) => void out.push(t), now }));
    await until(() => out.join('').includes('waiting for'), 'the scheduled run to wait');
    letGo();
    await until(() => / scheduled: \w+ in /.test(out.join('')), 'the scheduled run to end');
    stop.abort();
    const code = await scheduler;
    await a;
    // Assess
    const text = out.join('');
    expect(code).toBe(0);
    expect(text).toMatch(/scheduled \| .*waiting for \S+ to end \(concurrency buffer\)/);
    expect(text).toMatch(/scheduled: SUCCEEDED in /);
    const starts = logLines().filter((l) => l.startsWith('start'));
    expect(starts).toHaveLength(2);
    expect(starts[1]).toMatch(/-buffered-[0-9a-f]{8} \d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
  }, 15_000);
});

describe('stepcron run (separate processes)', () => {
  function stepcron(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; stderr: () => string } {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d; });
    child.stderr!.on('data', (d: Buffer) => { stderr += d; });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
    });
    return { done, stderr: () => stderr };
  }

  it('a second `stepcron run` of a buffer job waits for the first and exits 0 once its own run succeeded; a third is SKIPPED', async () => {
    // Prepare: the catalog in the workspace; LOG comes from the environment of each process
    writeFileSync(join(dir, 'jobs.yml'), jobYaml('cli-buffered', 'buffer', { LOG: log, HOLD: hold }));
    const args = ['run', 'cli-buffered', '--catalog', 'jobs.yml', '--skip-waits', '--json'];
    // Act
    const first = stepcron(args);
    await until(() => logLines().length > 0, 'the first task to start', 15_000);
    const second = stepcron(args);
    await until(() => second.stderr().includes('waiting for'), 'the second run to wait', 15_000);
    const third = await stepcron(args).done;
    letGo();
    const [firstResult, secondResult] = await Promise.all([first.done, second.done]);
    // Assess
    const summary = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Summary;
    const firstSummary = summary(firstResult);
    expect([firstResult.code, secondResult.code, third.code]).toEqual([0, 0, 0]);
    expect(secondResult.stderr).toContain(`waiting for ${firstSummary.execution} to end (concurrency buffer)`);
    expect(summary(secondResult)).toMatchObject({ status: 'SUCCEEDED', buffered: { behind: firstSummary.execution } });
    expect(summary(third)).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^concurrency buffer: .* is already waiting for /) });
    expect(logLines().map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end']);
  }, 20_000);
});
