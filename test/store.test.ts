// The run store (.stepcron/store.db) with real SQLite, real processes and the real CLI: leases that survive a killed
// runner and a reused pid, exactly one of two simultaneous starts, claims raced by two processes, damaged and odd
// stores, and job output kept per run (the last 1 MiB per stream) as `stepcron logs` prints it.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  compactEvent, EVENT_FIELD_CAP, LEASE_SLACK_MS, LOG_CAP_BYTES, processStartTime, type RunRecord, Store, StoreError,
} from '../cli/store';
import type { Summary } from '../cli/run';

const root = join(__dirname, '..');
const BIN = join(root, 'bin', 'stepcron.cjs');
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

const dirs: string[] = [];
const children = new Set<ChildProcess>();
/** Process groups a test started and must not leave behind. */
const groups = new Set<number>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone already, as it should be.
    }
  }
  groups.clear();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-store-'));
  dirs.push(dir);
  return dir;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The process (or group leader) is gone: no such pid, or a zombie waiting to be reaped. */
const gone = (pid: number) => processStartTime(pid) === undefined;

const record = (job: string, execution: string, startedAt = new Date().toISOString()): RunRecord => ({
  job, stage: 'dev', execution, executionArn: `arn:aws:states:local:000000000000:execution:stepcron-dev-${job}:${execution}`,
  stateMachineArn: `arn:aws:states:local:000000000000:stateMachine:stepcron-dev-${job}`, status: 'RUNNING', pid: process.pid,
  startedAt,
});

/** A process group of its own running `sleep 30`, as the process backend starts a task. */
function sleeper(): number {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  child.unref();
  groups.add(child.pid!);
  return child.pid!;
}

/** The database itself, as another program (or a damaged disk) would change it. */
function raw(dir: string, sql: string, ...params: Array<string | number>): void {
  const db = new DatabaseSync(join(dir, 'store.db'));
  db.prepare(sql).run(...params);
  db.close();
}

interface Output { code: number | null; stdout: string; stderr: string }

/** What `fn` threw (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected it to throw');
}

/**
 * Another stepcron process: a child Node running `body` (JavaScript with `Store`, `record`, `store` for `dir` and
 * `say(value)` printing one JSON line) against the same store.
 */
function other(dir: string, body: string): { child: ChildProcess; lines: () => unknown[]; done: Promise<Output> } {
  const script = `
    require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();
    const { Store } = require(${JSON.stringify(join(root, 'cli', 'store.ts'))});
    const store = Store.open(${JSON.stringify(dir)});
    const say = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
    const record = ${record.toString()};
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => { ${body} })().catch((err) => { console.error(err); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const done = new Promise<Output>((resolve) => child.on('close', (code) => {
    children.delete(child);
    resolve({ code, stdout, stderr });
  }));
  return { child, lines: () => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)), done };
}

describe('Store: runs, leases and recovery', () => {
  it('keeps the newest finished runs of a job and never removes a running one', () => {
    // Prepare
    const store = Store.open(tempDir(), { keep: 3 });
    store.start(record('job', 'run-00', '2026-11-24T10:00:00.000Z'), {}, () => undefined);
    // Act
    for (let i = 1; i <= 5; i++) {
      const r = store.start(record('job', `run-0${i}`, `2026-11-24T10:00:0${i}.000Z`), {}, () => undefined);
      store.finish({ ...r, status: 'SUCCEEDED' }, {});
    }
    // Assess: run-00 is still running, so it stays although it is the oldest
    expect(store.list('job').map((r) => r.execution)).toEqual(['run-05', 'run-04', 'run-03', 'run-00']);
    store.close();
  });

  it('reports running executions of the asked state machine only, even when job names overlap', async () => {
    // Prepare: 'dev-sync' would match stepcron-dev-sync by suffix
    const store = Store.open(tempDir());
    store.start(record('sync', 'run-01'), {}, () => undefined);
    store.start(record('dev-sync', 'run-02'), {}, () => undefined);
    const done = store.start(record('sync', 'run-03'), {}, () => undefined);
    store.finish({ ...done, status: 'SUCCEEDED' }, {});
    // Act
    const running = await store.executions().listRunning('arn:aws:states:local:000000000000:stateMachine:stepcron-dev-sync');
    // Assess
    expect(running.map((e) => e.name)).toEqual(['run-01']);
    store.close();
  });

  it('starts a run recorded after a running one of the same job after it, whatever time its caller took', () => {
    // Prepare: the second caller took its time first but records second
    const store = Store.open(tempDir());
    const first = store.start(record('job', 'b', '2026-11-24T10:00:00.500Z'), {}, () => undefined);
    // Act
    const second = store.start(record('job', 'a', '2026-11-24T10:00:00.000Z'), {}, () => undefined);
    const otherJob = store.start(record('other', 'c', '2026-11-24T10:00:00.000Z'), {}, () => undefined);
    // Assess: a precheck ordering by start time sees the first recorded as the first started
    expect(first.startedAt).toBe('2026-11-24T10:00:00.500Z');
    expect(second.startedAt).toBe('2026-11-24T10:00:00.501Z');
    expect(otherJob.startedAt).toBe('2026-11-24T10:00:00.000Z');
    store.close();
  });

  it('a run whose stepcron process was killed (kill -9) is recovered: its task groups killed, ABORTED with the reason', async () => {
    // Prepare: another process starts a run whose task is a process group of its own, then is killed
    const dir = tempDir();
    const owner = other(dir, `
      const r = store.start(record('nightly', 'run-1'), {}, () => undefined);
      const task = require('node:child_process').spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      await new Promise((resolve) => task.on('spawn', resolve));
      store.spawned(r, task.pid);
      say(task.pid);
      await sleep(60_000);`);
    await until(() => owner.lines().length === 1, 15_000, 'the other process to start its task');
    const pgid = owner.lines()[0] as number;
    groups.add(pgid);
    owner.child.kill('SIGKILL');
    await owner.done;
    expect(gone(pgid)).toBe(false);
    // Act
    const store = Store.open(dir);
    const [run] = store.list('nightly');
    // Assess
    expect(run).toMatchObject({ execution: 'run-1', status: 'ABORTED', error: 'stepcron.OwnerDied' });
    expect(run!.reason).toMatch(new RegExp(`^the stepcron process \\(pid ${owner.child.pid}\\) died: run recovered at \\d{4}-\\d\\d-\\d\\dT`));
    await until(() => gone(pgid), 5000, 'the dead run\'s task group to be killed');
    expect(await store.executions().listRunning(run!.stateMachineArn)).toEqual([]);
    store.close();
  }, 30_000);

  it('a lease whose pid now names another process (another start time) is dead; a reused group id is not killed', async () => {
    // Prepare: the run's owner pid and one of its group ids now belong to an unrelated process
    const dir = tempDir();
    const store = Store.open(dir);
    const r = store.start(record('nightly', 'run-1'), {}, () => undefined);
    const stranger = sleeper();
    raw(dir, 'UPDATE leases SET owner_pid = ?', stranger);
    raw(dir, "INSERT INTO lease_groups (run_id, pgid, leader_start) SELECT id, ?, '1' FROM runs", stranger);
    // Act
    const [run] = store.list('nightly');
    await sleep(100);
    // Assess
    expect(run).toMatchObject({ execution: r.execution, status: 'ABORTED' });
    expect(run!.reason).toContain(`the stepcron process (pid ${stranger}) died`);
    expect(gone(stranger)).toBe(false);
    store.close();
  });

  it('a lease that expired while its owner lives on is recovered too, saying so', () => {
    // Prepare: a lease that ends at its start (a run stuck past its deadline)
    const store = Store.open(tempDir());
    const r = store.start(record('stuck', 'run-1'), {}, () => undefined, { leaseMs: -LEASE_SLACK_MS });
    // Act
    const [run] = store.list('stuck');
    store.finish({ ...r, status: 'SUCCEEDED' }, { late: true });
    // Assess: the owner's late finish does not bring it back
    expect(run).toMatchObject({ status: 'ABORTED' });
    expect(run!.reason).toMatch(/^the run's lease expired at .* \(its stepcron process, pid \d+, outlived the run's deadline\)/);
    expect(store.list('stuck')[0]).toMatchObject({ status: 'ABORTED', error: 'stepcron.OwnerDied', reason: run!.reason });
    store.close();
  });

  it('two processes recording runs at the same instant: in every round exactly one sees no earlier run', async () => {
    // Prepare: each round, both take a start time, wait 0-15 ms (compiling, validating), record, and list at once;
    // each stays RUNNING until the other has listed too (a marker file per round; a time window alone was too short for
    // a loaded machine, where one side's record could come after the other had finished, and both rightly went first).
    // The precheck's rule: a run goes first if no running one started before it.
    const dir = tempDir();
    Store.open(dir).close();
    const rounds = 12;
    const at = Date.now() + 1500;
    const body = (name: string, peer: string) => `
      const fs = require('node:fs');
      const marker = (who, round) => ${JSON.stringify(dir)} + '/listed-' + who + '-' + round;
      for (let round = 0; round < ${rounds}; round++) {
        while (Date.now() < ${at} + round * 150) {}
        const startedAt = new Date().toISOString();
        await sleep(Math.random() * 15);
        const mine = store.start({ ...record('race', '${name}-' + round, startedAt) }, {}, () => undefined);
        const running = await store.executions().listRunning(mine.stateMachineArn);
        const before = (e) => e.startDate.getTime() < Date.parse(mine.startedAt) || (e.startDate.getTime() === Date.parse(mine.startedAt) && e.name < mine.execution);
        say({ round, first: !running.some((e) => e.executionArn !== mine.executionArn && before(e)) });
        fs.writeFileSync(marker('${name}', round), '');
        for (let waited = 0; !fs.existsSync(marker('${peer}', round)) && waited < 10000; waited += 5) await sleep(5);
        store.finish({ ...mine, status: 'SUCCEEDED' }, {});
      }`;
    // Act
    const [a, b] = [other(dir, body('a', 'b')), other(dir, body('b', 'a'))];
    const [ra, rb] = await Promise.all([a.done, b.done]);
    // Assess
    expect([ra.code, rb.code, ra.stderr, rb.stderr]).toEqual([0, 0, '', '']);
    const firsts = Array.from({ length: rounds }, (_, round) =>
      [...a.lines(), ...b.lines()].filter((l) => (l as { round: number; first: boolean }).round === round && (l as { first: boolean }).first).length);
    expect(firsts).toEqual(Array(rounds).fill(1));
  }, 30_000);
});

describe('Store: claims', () => {
  it('one owner at a time: renewed by its owner, free once expired or released, handed over from the holder', async () => {
    const store = Store.open(tempDir());
    expect(store.claim('run#job#t1', 'a', 60_000)).toBe('a');
    expect(store.claim('run#job#t1', 'b', 60_000)).toBe('a');
    expect(store.claim('run#job#t1', 'a', 60_000)).toBe('a');
    expect(store.holder('run#job#t1')).toBe('a');
    expect(store.release('run#job#t1', 'b')).toBe(false);
    expect(store.holder('run#job#t1')).toBe('a');
    expect(store.release('run#job#t1', 'a')).toBe(true);
    expect(store.claim('run#job#t1', 'b', 60_000)).toBe('b');
    // Handed over: c may take it from b
    expect(store.claim('run#job#t1', 'c', 60_000, 'b')).toBe('c');
    expect(store.claim('run#job#t1', 'd', 60_000, 'b')).toBe('c');
    // Expired: anyone's
    expect(store.claim('buffer#job', 'x', 30)).toBe('x');
    await sleep(60);
    expect(store.holder('buffer#job')).toBeUndefined();
    expect(store.claim('buffer#job', 'y', 60_000)).toBe('y');
    // The port the precheck uses says the same
    expect(await store.claimsPort().claim('buffer#job', 'z', 60_000)).toBe('y');
    store.close();
  });

  it('two processes racing for the same keys: every key has exactly one owner, and both agree on it', async () => {
    // Prepare
    const dir = tempDir();
    Store.open(dir).close();
    const at = Date.now() + 1500;
    const body = (owner: string) => `
      while (Date.now() < ${at}) {}
      const won = [];
      for (let i = 0; i < 300; i++) won.push(store.claim('key-' + i, '${owner}', 60_000));
      say(won);`;
    // Act
    const [a, b] = [other(dir, body('a')), other(dir, body('b'))];
    const [ra, rb] = await Promise.all([a.done, b.done]);
    // Assess
    expect([ra.code, rb.code, ra.stderr, rb.stderr]).toEqual([0, 0, '', '']);
    const [byA] = a.lines() as string[][];
    const [byB] = b.lines() as string[][];
    expect(byA).toEqual(byB);
    expect(byA!.every((owner) => owner === 'a' || owner === 'b')).toBe(true);
  }, 30_000);
});

describe('Store: output and events', () => {
  it('keeps the last 1 MiB of each stream, from the start of a line, in order, and counts what it dropped', () => {
    // Prepare: 3 MiB of numbered lines on stdout, a few on stderr in between
    const store = Store.open(tempDir());
    const r = store.start(record('chatty', 'run-1'), {}, () => undefined);
    const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(100)}`;
    const count = Math.ceil((3 * LOG_CAP_BYTES) / (line(0).length + 1));
    // Act
    for (let i = 0; i < count; i++) {
      store.output(r, 'stdout', line(i));
      if (i % 10_000 === 0) store.output(r, 'stderr', `warning ${i}`);
    }
    store.finish({ ...r, status: 'SUCCEEDED' }, {});
    const { chunks, dropped } = store.logs('run-1');
    // Assess
    const stdout = chunks.filter((c) => c.stream === 'stdout').map((c) => c.text).join('');
    const stderr = chunks.filter((c) => c.stream === 'stderr').map((c) => c.text).join('');
    expect(Buffer.byteLength(stdout)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    expect(Buffer.byteLength(stdout)).toBeGreaterThan(LOG_CAP_BYTES - 200);
    // (compared as small values: a failure here should not print megabytes)
    expect(stdout.endsWith(`${line(count - 2)}\n${line(count - 1)}\n`)).toBe(true);
    const kept = stdout.split('\n').filter(Boolean);
    const firstKept = Number(kept[0]!.slice(5, 11));
    expect(kept[0]!.slice(0, 20)).toBe(line(firstKept).slice(0, 20));
    expect(kept.length).toBe(count - firstKept);
    expect(kept.findIndex((l, i) => l !== line(firstKept + i))).toBe(-1);
    expect(dropped.stdout + Buffer.byteLength(stdout)).toBe(count * (line(0).length + 1));
    expect(stderr.split('\n').filter(Boolean)).toEqual(Array.from({ length: Math.ceil(count / 10_000) }, (_, i) => `warning ${i * 10_000}`));
    expect(dropped.stderr).toBe(0);
    // The order of the streams is kept: the last warning comes before the stdout lines written after it
    const lastWarning = chunks.findLastIndex((c) => c.stream === 'stderr');
    expect(chunks.slice(lastWarning + 1).every((c) => c.stream === 'stdout')).toBe(true);
    store.close();
  });

  it('drops what the cap would drop before writing it: 5 MiB of one stream between two flushes keeps its last 1 MiB', () => {
    // Prepare: one stream only, so the output waiting for the next flush is one growing chunk
    const store = Store.open(tempDir());
    const r = store.start(record('one-stream', 'run-1'), {}, () => undefined);
    const line = (i: number) => `${String(i).padStart(7, '0')} ${'y'.repeat(92)}`;
    const count = Math.ceil((5 * LOG_CAP_BYTES) / 101);
    // Act
    for (let i = 0; i < count; i++) store.output(r, 'stdout', line(i));
    store.finish({ ...r, status: 'SUCCEEDED' }, {});
    const { chunks, dropped } = store.logs('run-1');
    // Assess
    const stdout = chunks.map((c) => c.text).join('');
    expect(Buffer.byteLength(stdout)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    expect(Buffer.byteLength(stdout)).toBeGreaterThan(LOG_CAP_BYTES - 101);
    const kept = stdout.split('\n').filter(Boolean);
    expect(kept.findIndex((l, i) => l !== line(count - kept.length + i))).toBe(-1);
    expect(dropped.stdout + Buffer.byteLength(stdout)).toBe(count * 101);
    store.close();
  });

  it('stores events compactly: long fields cut with their size, StateExited without its input; 10,000 items take little', () => {
    // Prepare: a fan-out's event stream, its Map state carrying every item
    const items = Array.from({ length: 10_000 }, (_, i) => ({ id: `item-${i}` }));
    const dir = tempDir();
    const store = Store.open(dir);
    const r = store.start(record('fan', 'run-1'), {}, () => undefined);
    // Act
    store.event(r, { type: 'StateEntered', timestamp: 1, state: { name: 'FanOut', type: 'Map', input: { items } } });
    for (const [index, item] of items.entries()) {
      const input = { runId: `run-1-${index}`, item, index, retry: { attempt: 0, delay: 0 } };
      store.event(r, { type: 'StateEntered', timestamp: 2, index, state: { name: 'RunTask', type: 'Task', input } });
      store.event(r, { type: 'StateExited', timestamp: 3, index, state: { name: 'RunTask', type: 'Task', input, output: { ...input, task: { taskArn: `arn:${index}` } } } });
    }
    store.finish({ ...r, status: 'SUCCEEDED' }, {});
    const events = store.events('run-1') as Array<{ state: { input?: unknown; output?: unknown } }>;
    store.close();
    // Assess
    expect(events).toHaveLength(1 + 2 * items.length);
    expect(events[0]!.state.input).toEqual({ cutBytes: JSON.stringify({ items }).length, head: expect.stringMatching(/^\{"items":\[\{"id":"item-0"\}/) });
    expect(events[2]).toEqual({ type: 'StateExited', timestamp: 3, index: 0, state: { name: 'RunTask', type: 'Task', output: expect.objectContaining({ task: { taskArn: 'arn:0' } }) } });
    expect(compactEvent({ type: 'X', cause: 'c'.repeat(100_000) }).length).toBeLessThan(2 * EVENT_FIELD_CAP);
    expect(statSync(join(dir, 'store.db')).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('a row with bad JSON, an unreadable event batch or a status it does not know breaks no listing, no precheck, no logs', async () => {
    // Prepare
    const dir = tempDir();
    const store = Store.open(dir);
    const r = store.start(record('odd', 'run-1'), { fine: true }, () => undefined);
    store.event(r, { type: 'ExecutionStarted' });
    store.finish({ ...r, status: 'SUCCEEDED' }, { status: 'SUCCEEDED' });
    store.start(record('odd', 'run-2'), {}, () => undefined);
    raw(dir, `UPDATE runs SET input = '{"half', summary = '[1, 2' WHERE execution = 'run-1'`);
    raw(dir, `UPDATE events SET data = X'00FF00FF'`);
    const db = new DatabaseSync(join(dir, 'store.db'));
    db.exec("PRAGMA ignore_check_constraints = ON; UPDATE runs SET status = 'WEIRD' WHERE execution = 'run-1'");
    db.close();
    // Act
    const listed = store.list('odd');
    const running = await store.executions().listRunning(r.stateMachineArn);
    // Assess
    expect(listed.map((x) => [x.execution, x.status])).toEqual([['run-2', 'RUNNING'], ['run-1', 'WEIRD']]);
    expect(running.map((e) => e.name)).toEqual(['run-2']);
    expect(store.events('run-1')).toEqual([{ unreadable: expect.stringContaining('an event batch could not be read') }]);
    expect(store.logs('run-1')).toEqual({ chunks: [], dropped: { stdout: 0, stderr: 0 } });
    store.close();
  });
});

describe('Store: damaged, old and odd stores', () => {
  it('garbage bytes: one line saying what to delete; a run moves the file aside with a warning and goes on', () => {
    // Prepare
    const dir = tempDir();
    const garbage = Buffer.alloc(8192, 0x5a);
    writeFileSync(join(dir, 'store.db'), garbage);
    const warnings: string[] = [];
    // Act
    const refused = thrown(() => Store.open(dir, { broken: 'fail' }));
    const store = Store.open(dir, { broken: 'replace', warn: (l) => warnings.push(l) });
    const r = store.start(record('job', 'run-1'), {}, () => undefined);
    store.finish({ ...r, status: 'SUCCEEDED' }, {});
    // Assess
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused.message).toBe(`${join(dir, 'store.db')} is not a stepcron run store (file is not a database): delete it (rm ${join(dir, 'store.db')}) to start a new one`);
    expect(warnings).toEqual([expect.stringMatching(/^stepcron: warning: .*store\.db was not a stepcron run store \(file is not a database\): moved it to .*store\.db\.corrupt-\d{8}T\d{6}Z and started a new one$/)]);
    const aside = readdirSync(dir).filter((f) => f.startsWith('store.db.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(statSync(join(dir, aside[0]!)).size).toBe(garbage.length);
    expect(store.list().map((x) => x.status)).toEqual(['SUCCEEDED']);
    store.close();
  });

  it('a store of a newer schema is refused in one line and left as it is; another program\'s database is no store', () => {
    // Prepare
    const newer = tempDir();
    raw(newer, 'PRAGMA user_version = 7');
    const foreign = tempDir();
    raw(foreign, 'CREATE TABLE notes (body TEXT)');
    const open = (dir: string, broken: 'fail' | 'replace') => thrown(() => Store.open(dir, { broken, warn: () => undefined }));
    // Act
    const [failNewer, replaceNewer, failForeign] = [open(newer, 'fail'), open(newer, 'replace'), open(foreign, 'fail')];
    // Assess: a newer store's runs may matter to the newer stepcron, so even a run does not replace it
    for (const refused of [failNewer, replaceNewer]) {
      expect(refused).toBeInstanceOf(StoreError);
      expect(refused.message).toMatch(/store\.db was written by a newer stepcron \(store schema 7; this one knows up to \d+\): use that stepcron, or move the file aside \(mv .*\)/);
    }
    expect(readdirSync(newer).filter((f) => f.includes('corrupt'))).toEqual([]);
    expect(failForeign.message).toMatch(/store\.db is not a stepcron run store \(it is an SQLite database of another program\): delete it/);
  });

  it('an empty store.db is set up; a .stepcron that is a file is one line; old runs folder noted, stray files ignored', () => {
    // Prepare
    const empty = tempDir();
    writeFileSync(join(empty, 'store.db'), '');
    const file = join(tempDir(), '.stepcron');
    writeFileSync(file, 'not a folder');
    const old = tempDir();
    mkdirSync(join(old, 'runs', 'nightly', '20261124T100000Z-abcd'), { recursive: true });
    writeFileSync(join(old, 'stray.txt'), '');
    const stray = tempDir();
    writeFileSync(join(stray, 'runs'), 'a file where a folder was');
    const notes: string[] = [];
    // Act
    const fresh = Store.open(empty);
    const refused = thrown(() => Store.open(file));
    const withOld = Store.open(old, { warn: (l) => notes.push(l) });
    const withStray = Store.open(stray, { warn: (l) => notes.push(l) });
    // Assess
    expect(fresh.list()).toEqual([]);
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused.message).toBe(`${file} is a file, not a folder: move it aside (mv ${file} ${file}.old) so stepcron can keep its runs there`);
    expect(notes).toEqual([`stepcron: note: ${join(old, 'runs')}/ holds runs of an older stepcron, which this one no longer reads (runs are in ${join(old, 'store.db')} now): delete it (rm -r ${join(old, 'runs')}) when you no longer need them`]);
    expect([withOld.list(), withStray.list()]).toEqual([[], []]);
    for (const s of [fresh, withOld, withStray]) s.close();
  });
});

describe('Store: private to its owner', () => {
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

  it('a new store is created 0700, store.db and its -wal and -shm 0600, whatever the umask would give', () => {
    // Prepare: the usual umask, under which files were 0644 and the folder 0755
    const umask = process.umask(0o022);
    try {
      const root = join(tempDir(), '.stepcron');
      // Act: a run written, so the WAL and its index exist
      const store = Store.open(root);
      store.start(record('job', 'e1'), { secret: 'x' }, () => undefined);
      // Assess
      expect(['', '-wal', '-shm'].map((s) => existsSync(join(root, `store.db${s}`)))).toEqual([true, true, true]);
      expect([mode(root), ...['', '-wal', '-shm'].map((s) => mode(join(root, `store.db${s}`)))]).toEqual(['700', '600', '600', '600']);
      store.close();
    } finally {
      process.umask(umask);
    }
  });

  it('a store made world-readable before is tightened when it is opened, and keeps its runs', () => {
    // Prepare: a store as older stepcron left it (0755, 0644), WAL files included
    const root = join(tempDir(), '.stepcron');
    const before = Store.open(root);
    before.start(record('job', 'e1'), {}, () => undefined);
    chmodSync(root, 0o755);
    for (const s of ['', '-wal', '-shm']) chmodSync(join(root, `store.db${s}`), 0o644);
    // Act
    const after = Store.open(root);
    // Assess
    expect([mode(root), ...['', '-wal', '-shm'].map((s) => mode(join(root, `store.db${s}`)))]).toEqual(['700', '600', '600', '600']);
    expect(after.list().map((r) => r.execution)).toEqual(['e1']);
    before.close();
    after.close();
  });
});

describe('Store: the reserve kept for recording outcomes on a full disk', () => {
  it('one per running run, given back with its outcome; those left by a killed process are removed by the next open', () => {
    // Prepare: reserves of a process that is gone (pid 2^22 + 1 is above Linux's pid_max; the older per-process name
    // too), and one of a live process
    const root = tempDir();
    const store = Store.open(root);
    const reserves = () => readdirSync(root).filter((f) => f.startsWith('reserve-')).sort();
    writeFileSync(join(root, 'reserve-4194305'), '');
    writeFileSync(join(root, 'reserve-4194305-7'), '');
    const live = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.add(live);
    writeFileSync(join(root, `reserve-${live.pid}-1`), '');
    const others = ['reserve-4194305', 'reserve-4194305-7', `reserve-${live.pid}-1`].sort();
    // Act + Assess: each run holds one of 64 KiB; its end gives that one back
    store.start(record('job', 'e1'), {}, () => undefined);
    store.start(record('job', 'e2'), {}, () => undefined);
    const mine = reserves().filter((f) => f.startsWith(`reserve-${process.pid}-`));
    expect(mine.map((f) => statSync(join(root, f)).size)).toEqual([64 * 1024, 64 * 1024]);
    store.finish({ ...record('job', 'e1'), status: 'SUCCEEDED' }, {});
    expect(reserves().filter((f) => f.startsWith(`reserve-${process.pid}-`))).toHaveLength(1);
    store.finish({ ...record('job', 'e2'), status: 'SUCCEEDED' }, {});
    expect(reserves()).toEqual(others);
    Store.open(root).close();
    expect(reserves()).toEqual([`reserve-${live.pid}-1`]);
    store.close();
  });
});

// The CLI, spawned as a user runs it, each test in a temporary directory with its own catalog and .stepcron/.
interface Cli extends Output { ms: number }

function cli(args: string[], cwd: string, timeoutMs = 20_000): { child: ChildProcess; stdout: () => string; done: Promise<Cli> } {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Cli>((resolve) => child.on('close', (code) => {
    clearTimeout(killer);
    children.delete(child);
    resolve({ code, stdout, stderr, ms: Date.now() - started });
  }));
  return { child, stdout: () => stdout, done };
}

const stepcron = (args: string[], cwd: string) => cli(args, cwd).done;

/** A directory with jobs.yml holding these jobs (`fields`: extra YAML lines at job level). */
function workspace(jobs: Record<string, { command: string; fields?: string[] }>): string {
  const dir = tempDir();
  const lines = ['defaults:', '  image: busybox:latest', 'jobs:'];
  for (const [name, spec] of Object.entries(jobs)) {
    lines.push(`  ${name}:`, `    description: test job ${name}`, '    schedule: rate(1 hour)',
      `    command: [sh, -c, ${JSON.stringify(spec.command)}]`, ...(spec.fields ?? []).map((f) => `    ${f}`));
  }
  writeFileSync(join(dir, 'jobs.yml'), `${lines.join('\n')}\n`);
  return dir;
}
const CATALOG = ['--catalog', 'jobs.yml'];

const summaryOf = (result: Output) => JSON.parse(result.stdout.trimEnd().split('\n').at(-1) ?? '') as Summary;

/** Exit 2, nothing on stdout, one line on stderr, no stack trace. */
function expectOneLine(result: Output, pattern: RegExp): void {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect({ code: result.code, stdout: result.stdout, lines }).toEqual({ code: 2, stdout: '', lines: [expect.stringMatching(pattern)] });
  expect(result.stderr).not.toMatch(STACK_LINE);
}

describe('stepcron with the store', () => {
  it('processes that create a new store at once all open it: none gives up as "locked" (SQLite answers BUSY there without waiting)', async () => {
    // Prepare: a workspace with no .stepcron yet, five times over
    const dir = workspace({ quick: { command: 'true' } });
    for (let round = 0; round < 5; round++) {
      rmSync(join(dir, '.stepcron'), { recursive: true, force: true });
      // Act: four processes open the new store together
      const results = await Promise.all([0, 1, 2, 3].map(() => stepcron(['history', ...CATALOG], dir)));
      // Assess
      for (const result of results) expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    }
  }, 60_000);

  it('kill -9 of `stepcron run`: the next run kills the left-over job, records the run ABORTED with why, and runs (forbid)', async () => {
    // Prepare: the first run's job writes its group id and sleeps; later runs end at once
    const dir = workspace({
      slow: { command: 'if [ -e first ]; then echo second run; else touch first; echo $$ > pgid; echo started; sleep 30; fi', fields: ['concurrency: forbid', 'retries: 0'] },
    });
    const first = cli(['run', 'slow', ...CATALOG], dir);
    await until(() => first.stdout().includes('started'), 15_000, 'the first run\'s job to start');
    const pgid = Number(readFileSync(join(dir, 'pgid'), 'utf8'));
    groups.add(pgid);
    first.child.kill('SIGKILL');
    await first.done;
    expect(gone(pgid)).toBe(false);
    // Act
    const second = await stepcron(['run', 'slow', ...CATALOG, '--json'], dir);
    const [history, table] = await Promise.all([stepcron(['history', 'slow', ...CATALOG, '--json'], dir), stepcron(['history', ...CATALOG], dir)]);
    // Assess
    expect(second.code).toBe(0);
    expect(summaryOf(second).status).toBe('SUCCEEDED');
    expect(second.stdout).toContain('second run');
    await until(() => gone(pgid), 5000, 'the left-over job to be killed');
    const runs = JSON.parse(history.stdout) as RunRecord[];
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'ABORTED']);
    expect(runs[1]!.reason).toMatch(new RegExp(`^the stepcron process \\(pid ${first.child.pid}\\) died: run recovered at `));
    expect(table.stdout.split('\n')[2]).toMatch(new RegExp(`^ABORTED +slow +${runs[1]!.execution} .* {2}the stepcron process \\(pid ${first.child.pid}\\) died: run recovered at `));
  }, 40_000);

  it('two `stepcron run` of a forbid job started together: in each round exactly one runs, the other skips', async () => {
    // Prepare: three rounds at once, each in a workspace of its own (sleep long enough that the two of a round overlap
    // on a busy machine)
    const dirs = [0, 1, 2].map(() => workspace({ exclusive: { command: 'sleep 1.5; echo ran', fields: ['concurrency: forbid', 'retries: 0'] } }));
    // Act
    const rounds = await Promise.all(dirs.map((dir) => Promise.all([
      stepcron(['run', 'exclusive', ...CATALOG, '--json'], dir), stepcron(['run', 'exclusive', ...CATALOG, '--json'], dir),
    ])));
    // Assess
    for (const results of rounds) {
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      // With each run's reason, so a failure says what each one saw.
      const outcomes = results.map((r) => summaryOf(r)).map((s) => `${s.status}${s.reason ? `: ${s.reason}` : ''}`).sort();
      expect(outcomes).toEqual([expect.stringMatching(/^SKIPPED: concurrency forbid: /), 'SUCCEEDED']);
    }
  }, 60_000);

  it('a damaged store: history and logs say what to delete (exit 2); run moves it aside, warns and runs', async () => {
    // Prepare
    const dir = workspace({ fine: { command: 'echo fine', fields: ['retries: 0'] } });
    mkdirSync(join(dir, '.stepcron'));
    writeFileSync(join(dir, '.stepcron', 'store.db'), 'this is not a database, it only sits where one should be'.repeat(100));
    // Act
    const [history, logs] = await Promise.all([stepcron(['history', ...CATALOG], dir), stepcron(['logs', 'fine', ...CATALOG], dir)]);
    const run = await stepcron(['run', 'fine', ...CATALOG, '--json'], dir);
    const after = await stepcron(['history', '--json', ...CATALOG], dir);
    // Assess
    for (const refused of [history, logs]) {
      expectOneLine(refused, /^stepcron: \.stepcron\/store\.db is not a stepcron run store \(file is not a database\): delete it \(rm \.stepcron\/store\.db\) to start a new one$/);
    }
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^stepcron: warning: \.stepcron\/store\.db was not a stepcron run store \(file is not a database\): moved it to \.stepcron\/store\.db\.corrupt-\S+ and started a new one$/m);
    expect((JSON.parse(after.stdout) as RunRecord[]).map((r) => r.status)).toEqual(['SUCCEEDED']);
  }, 40_000);

  it('stepcron logs: the latest run or a named one, each stream to its own, items and attempts labelled; mistakes are one line', async () => {
    // Prepare: a job whose first attempt fails, and a fan-out of two items
    const dir = workspace({
      flaky: { command: 'echo "try $STEPCRON_ATTEMPT"; echo "oops $STEPCRON_ATTEMPT" >&2; [ "$STEPCRON_ATTEMPT" = 1 ]', fields: ['retries: 1', 'notify: { onFailure: false }'] },
      fan: { command: 'echo "item $STEPCRON_ITEM"', fields: ['retries: 0', 'fanOut: { items: [a, b] }'] },
    });
    mkdirSync(join(dir, '.stepcron', 'runs', 'flaky'), { recursive: true });
    const firstFlaky = summaryOf(await stepcron(['run', 'flaky', ...CATALOG, '--json', '--skip-waits'], dir));
    await Promise.all([
      stepcron(['run', 'flaky', ...CATALOG, '--skip-waits'], dir),
      stepcron(['run', 'fan', ...CATALOG, '--skip-waits'], dir),
    ]);
    // Act
    const [latest, named, onlyErr, json, fan, noJob, noRun] = await Promise.all([
      stepcron(['logs', 'flaky', ...CATALOG], dir),
      stepcron(['logs', 'flaky', firstFlaky.execution, ...CATALOG], dir),
      stepcron(['logs', 'flaky', '--stream', 'stderr', ...CATALOG], dir),
      stepcron(['logs', 'flaky', firstFlaky.execution, '--json', ...CATALOG], dir),
      stepcron(['logs', 'fan', ...CATALOG], dir),
      stepcron(['logs', 'nope', ...CATALOG], dir),
      stepcron(['logs', 'flaky', '20261124T100000Z-0000', ...CATALOG], dir),
    ]);
    // Assess
    const note = /^stepcron: note: \.stepcron\/runs\/ holds runs of an older stepcron, which this one no longer reads .*: delete it \(rm -r \.stepcron\/runs\) when you no longer need them\n/;
    expect(latest.code).toBe(0);
    expect(latest.stdout).toBe('try 0\n(attempt 2) try 1\n');
    expect(latest.stderr.replace(note, '')).toBe('oops 0\n(attempt 2) oops 1\n');
    expect(named.stdout).toBe(latest.stdout);
    expect(onlyErr).toMatchObject({ code: 0, stdout: 'oops 0\n(attempt 2) oops 1\n' });
    expect(JSON.parse(json.stdout)).toMatchObject({
      job: 'flaky', execution: firstFlaky.execution, status: 'SUCCEEDED', stdout: 'try 0\n(attempt 2) try 1\n',
      stderr: 'oops 0\n(attempt 2) oops 1\n', droppedBytes: { stdout: 0, stderr: 0 },
    });
    expect(fan.stdout.split('\n').filter(Boolean).sort()).toEqual(['[a] item "a"', '[b] item "b"']);
    for (const refused of [noJob, noRun]) refused.stderr = refused.stderr.replace(note, '');
    expectOneLine(noJob, /^stepcron: .*no job named 'nope': the catalog has /);
    expectOneLine(noRun, /^stepcron: logs: job 'flaky' has no local run '20261124T100000Z-0000' \(see stepcron history flaky\)$/);
    expect(existsSync(join(dir, '.stepcron', 'store.db'))).toBe(true);
  }, 60_000);
});
