// runLocal with real child processes: what the scheduler relies on when several runs share one backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { History, type RunRecord } from '../cli/history';
import { runLocal } from '../cli/run';
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
    const history = new History(join(dir, '.stepcron'));
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

  it('an aborted run stops its task and is recorded as ABORTED', async () => {
    // Prepare
    const backend = processBackend({ graceMs: 500 });
    const history = new History(join(dir, '.stepcron'));
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
});

describe('History', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-history-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record = (job: string, execution: string, status: RunRecord['status'], pid = process.pid): RunRecord => ({
    job, stage: 'dev', execution, executionArn: `arn:aws:states:local:000000000000:execution:stepcron-dev-${job}:${execution}`,
    stateMachineArn: `arn:aws:states:local:000000000000:stateMachine:stepcron-dev-${job}`, status, pid,
    startedAt: `2026-11-24T10:00:${execution.slice(-2)}.000Z`,
  });

  it('keeps the newest runs of a job and never removes a running one', () => {
    // Prepare
    const history = new History(join(dir, '.stepcron'), 3);
    history.start(record('job', 'run-00', 'RUNNING'), {}, () => undefined);
    // Act
    for (let i = 1; i <= 5; i++) {
      const r = record('job', `run-0${i}`, 'RUNNING');
      history.start(r, {}, () => undefined);
      history.finish({ ...r, status: 'SUCCEEDED' }, {});
    }
    // Assess: run-00 is still running, so it stays although it is the oldest
    expect(history.list('job').map((r) => r.execution)).toEqual(['run-05', 'run-04', 'run-03', 'run-00']);
  });

  it('reports running executions of the asked state machine only, even when job names overlap', async () => {
    // Prepare: 'dev-sync' would match stepcron-dev-sync by suffix too
    const history = new History(join(dir, '.stepcron'));
    history.start(record('sync', 'run-01', 'RUNNING'), {}, () => undefined);
    history.start(record('dev-sync', 'run-02', 'RUNNING'), {}, () => undefined);
    history.start(record('sync', 'run-03', 'RUNNING', 999_999_999), {}, () => undefined);
    // Act
    const running = await history.executions().listRunning('arn:aws:states:local:000000000000:stateMachine:stepcron-dev-sync');
    // Assess: the dead process's run is not running any more
    expect(running.map((e) => e.name)).toEqual(['run-01']);
  });
});
