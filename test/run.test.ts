// runLocal with real child processes: what the scheduler relies on when several runs share one backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { type RunRecord, Store } from '../cli/store';
import { formatSummary, runLocal } from '../cli/run';
import { type EcsBackend, TaskStartError } from '../cli/backends/types';
import { jobFrom } from './support/workflow';

const job = (name: string, command: string) => jobFrom(`
jobs:
  ${name}:
    description: ${name}
    schedule: rate(1 minute)
    image: local:1
    command: [sh, -c, '${command}']
    retries: 0
`);

describe('runLocal', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-run-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('ending one run leaves the tasks of another run on the same backend alone', async () => {
    // Prepare
    const backend = processBackend();
    const history = Store.open(join(dir, '.stepcron'));
    const quiet = { err: () => undefined, out: () => undefined, history, backend, stage: 'test', input: {} };
    // Act: the quick run ends while the slow one's task is still running
    const [quick, slow] = await Promise.all([
      runLocal({ ...quiet, job: job('quick', 'exit 0') }),
      runLocal({ ...quiet, job: job('slow', 'sleep 1; exit 0') }),
    ]);
    // Assess
    expect(quick.status).toBe('SUCCEEDED');
    expect(slow).toMatchObject({ status: 'SUCCEEDED', tasks: [{ exitCode: 0, status: 'SUCCEEDED' }] });
    expect(history.list().map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('two runs of a forbid job started at once: the precheck orders them by the start the store recorded, so the first one runs', async () => {
    // Prepare: the store records each run 50 ms before its engine starts (on a loaded machine that gap is real; the
    // engine puts its own clock in $$.Execution.StartTime)
    const backend = processBackend();
    const store = Store.open(join(dir, '.stepcron'));
    const history = new Proxy(store, {
      get(target, key) {
        if (key === 'start') {
          return (record: RunRecord, ...rest: [unknown, () => void, { leaseMs?: number }?]) =>
            target.start({ ...record, startedAt: new Date(Date.parse(record.startedAt) - 50).toISOString() }, ...rest);
        }
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const quiet = { err: () => undefined, out: () => undefined, history, backend, stage: 'test', input: {} };
    const exclusive = { ...job('exclusive', 'sleep 0.2'), concurrency: 'forbid' as const };
    for (let round = 0; round < 10; round++) {
      // Act
      const runs = await Promise.all([runLocal({ ...quiet, job: exclusive }), runLocal({ ...quiet, job: exclusive })]);
      // Assess: the run recorded first runs, and the other skips naming it. With the precheck reading the engine's
      // clock instead, the earlier run saw the later one as earlier and skipped; across processes, both skipped.
      const [first, second] = runs.map((r) => ({ ...r, startedAt: history.find('exclusive', r.execution)!.startedAt }))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      expect([first!.status, second!.status]).toEqual(['SUCCEEDED', 'SKIPPED']);
      expect(second!.reason).toBe(`concurrency forbid: ${first!.execution} has been running since ${first!.startedAt} (0 min)`);
    }
  });

  it('an aborted run stops its task and is recorded as ABORTED', async () => {
    // Prepare
    const backend = processBackend({ graceMs: 500 });
    const history = Store.open(join(dir, '.stepcron'));
    const stop = new AbortController();
    // Act
    const running = runLocal({ job: job('long', 'sleep 30'), stage: 'test', input: {}, backend, history, signal: stop.signal, err: () => undefined, out: () => undefined });
    while ((await backend.list(history.list()[0]?.execution ?? 'none')).length === 0) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    const summary = await running;
    await backend.stopAll('test');
    // Assess
    expect(summary.status).toBe('ABORTED');
    expect(history.list()[0]).toMatchObject({ job: 'long', status: 'ABORTED' });
    expect(await backend.list(summary.execution)).toEqual([]);
  });
  it('a bug in the local runner (a TypeError from the ECS stand-in) fails the run as an internal error, with its cause printed: not as a start failure nobody can read', async () => {
    // Prepare: a backend whose run throws what no AWS service answers with
    const broken: EcsBackend = {
      name: 'process',
      run: async () => { throw new TypeError("Cannot read properties of undefined (reading 'pid')"); },
      list: async () => [],
      stop: async () => undefined,
      stopAll: async () => undefined,
    };
    const history = Store.open(join(dir, '.stepcron'));
    // Act
    const summary = await runLocal({ job: job('buggy', 'exit 0'), stage: 'test', input: {}, backend: broken, history, skipWaits: true, err: () => undefined, out: () => undefined });
    // Assess: the run ends at once (no start-failure retries), and the summary says what broke, where
    expect(summary).toMatchObject({ status: 'FAILED', error: 'stepcron.InternalError' });
    expect(summary.tasks).toEqual([{ attempts: 1, exitCode: null, status: 'FAILED' }]);
    expect(formatSummary(summary)).toContain("error        stepcron.InternalError: TypeError: Cannot read properties of undefined (reading 'pid') (serving RunTask, at ");
    expect(history.list()[0]).toMatchObject({ job: 'buggy', status: 'FAILED', error: 'stepcron.InternalError' });
  });
  it('a fan-out item that never started is listed in the summary with its error and cause (an item with no exit code said nothing of why)', async () => {
    // Prepare: ECS refuses every start
    const refusing: EcsBackend = {
      name: 'process',
      run: async () => { throw new TaskStartError('cannot run docker: spawn docker ENOENT'); },
      list: async () => [],
      stop: async () => undefined,
      stopAll: async () => undefined,
    };
    const fan = { ...job('fan', 'exit 0'), fanOut: { items: ['a'], maxConcurrency: 1, toleratedFailurePercentage: 0 } } as ReturnType<typeof job>;
    const history = Store.open(join(dir, '.stepcron'));
    // Act
    const summary = await runLocal({ job: fan, stage: 'test', input: {}, backend: refusing, history, skipWaits: true, err: () => undefined, out: () => undefined });
    // Assess
    expect(summary.failedItems).toEqual([expect.objectContaining({ index: 0, exitCode: null, reason: 'JobStartFailed: cannot run docker: spawn docker ENOENT' })]);
    expect(formatSummary(summary)).toMatch(/#0 +"a" +exit - +attempts 1 +JobStartFailed: cannot run docker: spawn docker ENOENT/);
  });
});
