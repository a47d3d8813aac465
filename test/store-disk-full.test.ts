// A full disk under the run store, stdout or the local S3 folder (issue 13), on a real small filesystem: a tmpfs
// mounted in a temporary folder for this file (root may mount; skipped, saying why, where mounting is not permitted).
// A full disk never changes how a run is recorded or the exit code of a job that succeeded; what could not be stored
// is said in the summary and marked where it is missing in `logs`; and every command says "disk full", where, and
// what to do.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { runLocal, type Summary } from '../cli/run';
import { Store } from '../cli/store';
import { jobFrom } from './support/workflow';

const BIN = join(__dirname, '..', 'bin', 'stepcron.cjs');
const mountPoint = mkdtempSync(join(tmpdir(), 'stepcron-full-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mountPoint], { encoding: 'utf8' });
const skipReason = mounted.status === 0 ? undefined : `cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || '').trim()}): the disk-full tests are skipped`;
if (skipReason) console.warn(skipReason);
const onTmpfs = skipReason ? it.skip : it;

afterAll(() => {
  // Lazily: a store a failed test left open must not keep the mount.
  if (!skipReason) spawnSync('umount', ['-l', mountPoint]);
  rmdirSync(mountPoint);
});

const FILLER = join(mountPoint, 'filler');
/** Fills the filesystem up to `leftKiB` KiB free (0: full). */
function leave(leftKiB: number): void {
  rmSync(FILLER, { force: true });
  const fs = statfsSync(mountPoint);
  const free = fs.bavail * fs.bsize;
  writeFileSync(FILLER, Buffer.alloc(Math.max(0, free - leftKiB * 1024)));
  if (leftKiB === 0) {
    // Whatever a block's rounding left.
    try {
      writeFileSync(join(mountPoint, 'filler-2'), Buffer.alloc(64 * 1024));
    } catch {
      // Full: as wanted.
    }
  }
}

beforeEach(() => {
  if (skipReason) return;
  for (const name of ['filler', 'filler-2', '.stepcron', 'jobs.yml', 'fill', 'cron.log', 's3']) rmSync(join(mountPoint, name), { recursive: true, force: true });
});

/** 3,000 lines, about 175 KB: more than the store can keep with 150 KiB free. */
const CHATTY = 'i=0; while [ $i -lt 3000 ]; do echo "line $i of the output that fills the disk"; i=$((i+1)); done';

/** The CLI in `cwd` (default: the tmpfs); `stdout`: a file descriptor to write stdout to, as `>> file` does. */
function cli(args: string[], options: { cwd?: string; stdout?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? mountPoint, stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function catalog(): void {
  writeFileSync(join(mountPoint, 'jobs.yml'), `defaults:\n  image: local:1\n  retries: 0\njobs:\n  chatty:\n    description: chatty\n    schedule: rate(1 hour)\n    command: [sh, -c, '${CHATTY}']\n`);
}

describe('a full disk under the run store', () => {
  onTmpfs('a job that succeeds while the disk fills: recorded SUCCEEDED, exit 0, the lost output counted in the summary and marked at its place in the logs', async () => {
    // Prepare: a store, then 150 KiB left
    const store = Store.open(join(mountPoint, '.stepcron'), { warn: () => undefined });
    leave(150);
    const job = jobFrom(`
jobs:
  chatty:
    description: chatty
    schedule: rate(1 hour)
    image: local:1
    command: [sh, -c, '${CHATTY}']
    retries: 0
`);
    // Act
    const summary = await runLocal({ job, stage: 'test', input: {}, backend: processBackend(), history: store, err: () => undefined, out: () => undefined });
    // Assess: the outcome and the exit code stand; the summary says what is missing
    expect(summary).toMatchObject({ status: 'SUCCEEDED', tasks: [{ exitCode: 0, status: 'SUCCEEDED' }] });
    expect(summary.unstored?.stdoutBytes).toBeGreaterThan(0);
    expect(store.find('chatty', summary.execution)?.status).toBe('SUCCEEDED');
    // The end was lost, not the front dropped: no "first bytes dropped", and a line where the output is missing
    const { chunks, dropped } = store.logs(summary.execution);
    expect(dropped).toEqual({ stdout: 0, stderr: 0 });
    expect(chunks.at(-1)).toEqual({ stream: 'stderr', text: expect.stringMatching(/^\[stepcron: \d+ bytes of stdout(, \d+ events)? of this run could not be stored here: the disk was full\]\n$/) });
    expect((store.summary(summary.execution) as Summary).unstored).toEqual(summary.unstored);
    store.close();
  });

  onTmpfs('runs that end at once on a full disk: each is recorded as it ended, with its exit code and its output up to the disk filling (was: only the first to end; the others RUNNING, then ABORTED as if their process had died)', async () => {
    // Prepare: what `stepcron schedule` does with three jobs fired at once: one store, one backend, three runs
    const store = Store.open(join(mountPoint, '.stepcron'), { warn: () => undefined });
    const job = (name: string, script: string) => jobFrom(`
jobs:
  ${name}:
    description: ${name}
    schedule: rate(1 minute)
    concurrency: allow
    image: local:1
    command: [sh, -c, '${script}']
    retries: 0
`);
    const backend = processBackend({ cwd: mountPoint });
    const run = (name: string, script: string) => runLocal({ job: job(name, script), stage: 'test', input: {}, backend, history: store, err: () => undefined, out: () => undefined });
    // Act: a fills the disk after a second; b and c end after it, on the full disk
    const [a, b, c] = await Promise.all([
      run('a', 'sleep 1; dd if=/dev/zero of=fill bs=1k count=2000 2>/dev/null; exit 0'),
      run('b', 'i=0; while [ $i -lt 300 ]; do echo "b line $i"; i=$((i+1)); done; sleep 2.5; exit 0'),
      run('c', 'sleep 2.5; echo "c ends"; exit 3'),
    ]);
    await backend.stopAll('test over');
    // Assess: every run is recorded as it ended, none needs recovery
    expect([a.status, b.status, c.status]).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    for (const summary of [a, b, c]) expect(summary.unstored?.outcome).toBeUndefined();
    expect(store.find('a', a.execution)?.status).toBe('SUCCEEDED');
    expect(store.find('b', b.execution)?.status).toBe('SUCCEEDED');
    expect(store.find('c', c.execution)).toMatchObject({ status: 'FAILED' });
    expect((store.summary(c.execution) as Summary).tasks).toEqual([expect.objectContaining({ exitCode: 3 })]);
    // b's lines were stored before the disk filled; c's line is stored, or marked where it is missing (was: no output)
    expect(store.logs(b.execution).chunks.filter((k) => k.stream === 'stdout').map((k) => k.text).join('')).toContain('b line 299\n');
    expect(store.logs(c.execution).chunks.at(-1)?.text).toMatch(/^c ends\n$|could not be stored here: the disk was full\]\n$/);
    // Each run's reserve is given back with its outcome
    expect(readdirSync(join(mountPoint, '.stepcron')).filter((f) => f.startsWith('reserve-'))).toEqual([]);
    store.close();
  });

  onTmpfs('stepcron run --json with the disk filling up: exit 0, the summary printed, the run SUCCEEDED in the store (was: exit 2, no JSON, ABORTED)', async () => {
    // Prepare
    catalog();
    expect((await cli(['runs', 'chatty', '--catalog', 'jobs.yml'])).code).toBe(0);
    leave(150);
    // Act
    const run = await cli(['run', 'chatty', '--catalog', 'jobs.yml', '--json']);
    // Assess
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!) as Summary;
    expect(summary).toMatchObject({ status: 'SUCCEEDED', unstored: { stdoutBytes: expect.any(Number) } });
    expect(run.stderr).toContain('stepcron: warning: disk full: cannot write the run store .stepcron/store.db');
    const runs = await cli(['runs', 'chatty', '--catalog', 'jobs.yml']);
    expect(runs.stdout).toMatch(new RegExp(`SUCCEEDED\\t${summary.execution}`));
    expect(runs.stdout).not.toContain('ABORTED');
  });

  onTmpfs('a full disk: a run is refused before it starts, in one line saying "disk full", where and what to do; a read works or says the same', async () => {
    // Prepare
    catalog();
    expect((await cli(['run', 'chatty', '--catalog', 'jobs.yml'])).code).toBe(0);
    leave(0);
    // Act
    const run = await cli(['run', 'chatty', '--catalog', 'jobs.yml']);
    const runs = await cli(['runs', 'chatty', '--catalog', 'jobs.yml']);
    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^stepcron: disk full: cannot write the run store \\.stepcron/store\\.db \\(\\d+ KiB free\\): free space on the disk that holds ${mountPoint}/\\.stepcron \\(stepcron keeps the last 200 runs of each job there; rm -r \\.stepcron drops them all\\)\\n$`));
    expect(run.stdout).not.toContain('line 0');
    // A read works while SQLite's shared-memory file (-shm) is there; when the last process removed it, SQLite must
    // create it again, which a full disk refuses: then it says "disk full" too (it said "disk I/O error").
    if (runs.code === 0) expect(runs.stdout.match(/SUCCEEDED/g)).toHaveLength(1);
    else expect({ code: runs.code, stderr: runs.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/^stepcron: disk full: cannot write the run store .*\n$/) });
  });
});

describe('stdout on a full disk (stepcron run --json >> /full/cron.log), the run store elsewhere', () => {
  it.each([
    ['a job that succeeds', 'exit 0', 0, 'SUCCEEDED'],
    ['a job that fails', 'exit 3', 1, 'FAILED'],
  ])('%s: the run goes on to its outcome, recorded, with its exit code; stderr says once that stdout\'s disk is full (was: an ENOSPC stack trace, the job killed, ABORTED)', async (_what, end, code, status) => {
    if (skipReason) return;
    // Prepare: the project (and its store) on the usual disk; stdout appends to a file on the tmpfs, then left full
    const project = mkdtempSync(join(tmpdir(), 'stepcron-stdout-'));
    writeFileSync(join(project, 'jobs.yml'), `defaults:\n  image: local:1\n  retries: 0\njobs:\n  chatty:\n    description: chatty\n    schedule: rate(1 hour)\n    command: [sh, -c, '${CHATTY}; ${end}']\n`);
    const log = openSync(join(mountPoint, 'cron.log'), 'a');
    leave(16);
    try {
      // Act
      const run = await cli(['run', 'chatty', '--catalog', 'jobs.yml', '--json'], { cwd: project, stdout: log });
      const runs = await cli(['runs', 'chatty', '--catalog', 'jobs.yml'], { cwd: project });
      // Assess
      expect({ code: run.code, trace: run.stderr.match(/^\s+at .*$/m)?.[0] }).toEqual({ code, trace: undefined });
      expect(run.stderr.match(/^stepcron: .*$/gm)).toEqual([expect.stringMatching(new RegExp(
        `^stepcron: warning: disk full: cannot write stdout \\(${mountPoint}/cron\\.log, \\d+ KiB free\\): nothing more is written there \\(the job's output, the summary\\); the run goes on, and stepcron history and stepcron logs show its outcome and output: free space on that disk$`))]);
      expect(runs.stdout).toMatch(new RegExp(`^${status}\\t`, 'm'));
      expect(runs.stdout).not.toContain('ABORTED');
    } finally {
      closeSync(log);
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('a fan-out whose results cannot be written: the local S3 folder (--s3-dir) on a full disk', () => {
  onTmpfs('every item succeeds, the results do not fit: FAILED (States.ResultWriterFailed, as on AWS), its cause saying "disk full", where and what to do (was: only ENOSPC)', async () => {
    // Prepare: the items in the local S3 folder on the tmpfs, then the disk full; the run store on the usual disk
    const s3Dir = join(mountPoint, 's3');
    mkdirSync(join(s3Dir, 'acme-items'), { recursive: true });
    writeFileSync(join(s3Dir, 'acme-items/items.json'), JSON.stringify(Array.from({ length: 20 }, (_, i) => `item-${i}`)));
    const root = mkdtempSync(join(tmpdir(), 'stepcron-store-'));
    const store = Store.open(root, { warn: () => undefined });
    const job = jobFrom(`
jobs:
  sync:
    description: sync
    schedule: rate(1 hour)
    image: local:1
    command: ['true']
    retries: 0
    fanOut: { itemsFrom: s3://acme-items/items.json }
`);
    leave(0);
    try {
      // Act
      const summary = await runLocal({ job, stage: 'test', input: {}, backend: processBackend(), history: store, s3Dir, err: () => undefined, out: () => undefined });
      // Assess
      expect(summary).toMatchObject({ status: 'FAILED', items: { total: 20, succeeded: 20, failed: 0 } });
      expect(store.find('sync', summary.execution)?.status).toBe('FAILED');
      const results = `stepcron-test-local/results/sync/${summary.execution}/[0-9a-f-]+`;
      expect(summary.cause).toMatch(new RegExp(`^States\\.ResultWriterFailed: s3://${results}: disk full: cannot write the fan-out's results there \\(locally ${s3Dir}/${results}, \\d+ KiB free\\): free space on the disk that holds ${s3Dir}, or point --s3-dir at a folder on a disk with room, then run the job again$`));
    } finally {
      store.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('redrive of a run whose events were lost to a full disk', () => {
  onTmpfs('is refused, saying the disk was full when they were written (was: that its stepcron process died, or a redrive from the last state stored)', async () => {
    // Prepare: a job that fills the disk as it starts, then fails; its events are lost, its outcome is recorded
    writeFileSync(join(mountPoint, 'jobs.yml'), "defaults:\n  image: local:1\n  retries: 0\njobs:\n  filler:\n    description: filler\n    schedule: rate(1 hour)\n    command: [sh, -c, 'dd if=/dev/zero of=fill bs=1k count=2000 2>/dev/null; sleep 0.5; exit 3']\n");
    const run = await cli(['run', 'filler', '--catalog', 'jobs.yml', '--json']);
    const summary = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!) as Summary;
    expect({ code: run.code, status: summary.status, lost: summary.unstored?.events }).toEqual({ code: 1, status: 'FAILED', lost: expect.any(Number) });
    rmSync(join(mountPoint, 'fill'));
    // Act
    const redrive = await cli(['redrive', 'filler', summary.execution, '--catalog', 'jobs.yml']);
    // Assess
    expect(redrive.code).toBe(1);
    expect(redrive.stderr).toMatch(new RegExp(`^stepcron: redrive: ${summary.execution} cannot be redriven locally: \\d+ of its events could not be stored \\(the disk was full when they were written\\), so the local store cannot tell where it stopped: start a new run instead \\(stepcron run filler\\)\n$`));
  });
});
