// Stopping the real CLI from outside, as a terminal, `timeout` or a supervisor does: SIGTERM, SIGINT and SIGHUP (also
// through `npx`, which does not pass SIGTERM on), a second signal, a fan-out interrupted after its first batch, and the
// scheduler. Jobs write their pid to a file; the process backend makes each task the leader of its own process group,
// so that pid is the group checked for survivors (in /proc, zombies left out).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectEngineSync, engineGlobalArgs } from '../cli/backends/container';
import { DEFAULT_GRACE_MS } from '../cli/backends/process';
import type { Summary } from '../cli/run';
import { buildBusyboxImage } from './support/busybox-image';
import { cleanUp, groupMembers, isRunning, procStat, readPid, sleep, startCli, until, workspace } from './support/cli';

/** Time for a stopped CLI to be gone and its jobs with it: the grace period the tasks get after SIGTERM. */
const GRACE = DEFAULT_GRACE_MS;

afterAll(cleanUp);

/** The job's pid (its process group), once it has written it. */
async function jobPid(dir: string, file = 'job.pid'): Promise<number> {
  await until(() => readPid(join(dir, file)) !== undefined, 20_000, `the job to write ${file}`);
  const pid = readPid(join(dir, file))!;
  expect(procStat(pid)?.pgid).toBe(pid);
  return pid;
}

/** Resolves once the CLI process and every process of these groups are gone; rejects after `ms`. */
function allGone(cliPid: number, groups: number[], ms: number): Promise<void> {
  return until(() => !isRunning(cliPid) && groups.every((g) => groupMembers(g).length === 0), ms, 'the CLI and its jobs to be gone');
}

function summaryOf(stdout: string): Summary {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Summary;
}

/** `stepcron history <job>`'s status column. */
async function statuses(dir: string, job: string): Promise<string[]> {
  const result = await startCli(['history', job, '--catalog', 'jobs.yml'], { cwd: dir }).done;
  return result.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s+/)[0]!);
}

describe('stepcron run, stopped by a signal', () => {
  it.each<[NodeJS.Signals, string]>([
    // npm passes SIGTERM to the shell only, which dies and leaves the CLI orphaned.
    ['SIGTERM', 'the shell'],
    // npm does not pass SIGHUP on: npm dies, the shell lives on and the CLI's parent stays the same.
    ['SIGHUP', 'npm'],
  ])('%s to `npx stepcron run` (it reaches npm only) stops the job and the CLI within the grace period: %s is seen gone', async (signal, gone) => {
    // Prepare
    const dir = workspace({ sleeper: { command: 'echo $$ > job.pid; exec sleep 60' } });
    const npx = startCli(['run', 'sleeper', '--catalog', 'jobs.yml', '--json'], { cwd: dir, npx: true });
    const job = await jobPid(dir);
    const cliPid = procStat(job)!.ppid;
    // npm -> sh -c -> the CLI.
    const shell = procStat(cliPid)!.ppid;
    expect(procStat(shell)?.ppid).toBe(npx.child.pid);

    // Act
    const stoppedAt = Date.now();
    npx.child.kill(signal);
    await allGone(cliPid, [job], GRACE);
    const elapsed = Date.now() - stoppedAt;
    const result = await npx.done;

    // Assess
    expect(elapsed).toBeLessThan(GRACE);
    const seenGone = gone === 'npm' ? npx.child.pid : shell;
    expect(result.stderr).toContain(`stepcron: the parent process (pid ${seenGone}) exited: stopping the run`);
    expect(summaryOf(result.stdout)).toMatchObject({ status: 'ABORTED', tasks: [{ exitCode: 143 }] });
    expect(await statuses(dir, 'sleeper')).toEqual(['ABORTED']);
  }, 40_000);

  it('SIGTERM and SIGHUP each stop the job group, record the run ABORTED and exit 1', async () => {
    // Prepare
    const dirs = { SIGTERM: workspace({ sleeper: { command: 'echo $$ > job.pid; sleep 60' } }),
      SIGHUP: workspace({ sleeper: { command: 'echo $$ > job.pid; sleep 60' } }) };
    const clis = Object.entries(dirs).map(([signal, cwd]) =>
      ({ signal: signal as NodeJS.Signals, cwd, cli: startCli(['run', 'sleeper', '--catalog', 'jobs.yml', '--json'], { cwd }) }));
    const jobs = await Promise.all(clis.map(({ cwd }) => jobPid(cwd)));

    // Act
    for (const { signal, cli } of clis) cli.child.kill(signal);
    const results = await Promise.all(clis.map(({ cli }) => cli.done));

    // Assess
    await until(() => jobs.every((g) => groupMembers(g).length === 0), 1000, 'the job groups to be gone');
    for (const [i, result] of results.entries()) {
      expect({ code: result.code, stderr: result.stderr }).toMatchObject({
        code: 1, stderr: expect.stringContaining(`stepcron: ${clis[i]!.signal}: stopping the run`),
      });
      expect(summaryOf(result.stdout)).toMatchObject({ status: 'ABORTED', tasks: [{ exitCode: 143 }] });
    }
    expect(await statuses(dirs.SIGHUP, 'sleeper')).toEqual(['ABORTED']);
  }, 40_000);

  it('a second SIGINT kills a job that ignores SIGTERM at once, instead of after the grace period', async () => {
    // Prepare: the ignored SIGTERM is inherited by the sleep, so only SIGKILL ends the group.
    const dir = workspace({ stubborn: { command: "trap '' TERM; echo $$ > job.pid; sleep 60" } });
    const cli = startCli(['run', 'stubborn', '--catalog', 'jobs.yml'], { cwd: dir });
    const job = await jobPid(dir);
    const cliPid = cli.child.pid!;

    // Act
    cli.child.kill('SIGINT');
    await sleep(500);
    const afterFirst = { cli: isRunning(cliPid), job: groupMembers(job).length };
    const secondAt = Date.now();
    cli.child.kill('SIGINT');
    const result = await cli.done;
    const exitedAfter = Date.now() - secondAt;

    // Assess
    expect(afterFirst).toEqual({ cli: true, job: 2 });
    expect(exitedAfter).toBeLessThan(GRACE / 2);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stepcron: SIGINT again: killing the job's processes now");
    await allGone(cliPid, [job], 1000);
    // The record of a run whose process is gone reads ABORTED.
    expect(await statuses(dir, 'stubborn')).toEqual(['ABORTED']);
  }, 40_000);
});

describe('a fan-out interrupted after its first batch', () => {
  const items = Array.from({ length: 30 }, (_, i) => i + 1);
  // Each item leaves a marker holding its pid (its group), then sleeps.
  const command = 'echo $$ > item-$STEPCRON_ITEM.pid; sleep 45';

  it.each([
    ['inline Map', `fanOut: { items: [${items.join(', ')}], maxConcurrency: 10 }`],
    ['Distributed Map', 'fanOut: { itemsFrom: s3://acme-items/items.json, maxConcurrency: 10 }'],
  ])('%s: no item starts after SIGINT, and the CLI exits within the grace period', async (_route, fanOut) => {
    // Prepare: 30 items, 10 at a time.
    const dir = workspace({ fan: { command, fields: [fanOut] } });
    mkdirSync(join(dir, '.stepcron', 's3', 'acme-items'), { recursive: true });
    writeFileSync(join(dir, '.stepcron', 's3', 'acme-items', 'items.json'), JSON.stringify(items));
    const markers = () => readdirSync(dir).filter((f) => /^item-\d+\.pid$/.test(f));
    const cli = startCli(['run', 'fan', '--catalog', 'jobs.yml', '--json'], { cwd: dir });
    await until(() => markers().length === 10, 20_000, 'the first 10 items to start');
    // Each marker is complete once its line ends.
    await until(() => markers().every((f) => readFileSync(join(dir, f), 'utf8').endsWith('\n')), 5000, 'the pids');
    const groups = markers().map((f) => Number(readFileSync(join(dir, f), 'utf8')));

    // Act
    const stoppedAt = Date.now();
    cli.child.kill('SIGINT');
    const result = await cli.done;
    const elapsed = Date.now() - stoppedAt;
    await sleep(500);

    // Assess: before, 20 more items started after the signal and the CLI waited 45 s for them.
    expect(elapsed).toBeLessThan(GRACE);
    expect(markers()).toHaveLength(10);
    expect(groups.flatMap((g) => groupMembers(g))).toEqual([]);
    expect(result.code).toBe(1);
    expect(summaryOf(result.stdout)).toMatchObject({ status: 'ABORTED', items: { total: 30, succeeded: 0 } });
  }, 40_000);
});

describe('stepcron schedule, stopped by a signal', () => {
  /** A one-time schedule 2 s from now (at() is in the job's zone, UTC here). */
  const soon = () => `at(${new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000).toISOString().slice(0, 19)})`;

  it('SIGTERM aborts the running job and stops; SIGHUP twice kills a job that ignores SIGTERM at once', async () => {
    // Prepare
    const polite = workspace({ tick: { command: 'echo $$ > job.pid; sleep 60', schedule: soon() } });
    const stubborn = workspace({ tick: { command: "trap '' TERM; echo $$ > job.pid; sleep 60", schedule: soon() } });
    const [a, b] = [polite, stubborn].map((cwd) => startCli(['schedule', '--catalog', 'jobs.yml'], { cwd }));
    const [jobA, jobB] = await Promise.all([jobPid(polite), jobPid(stubborn)]);

    // Act
    a!.child.kill('SIGTERM');
    b!.child.kill('SIGHUP');
    await sleep(500);
    const stubbornAfterFirst = groupMembers(jobB).length;
    b!.child.kill('SIGHUP');
    const [resultA, resultB] = await Promise.all([a!.done, b!.done]);

    // Assess
    expect(stubbornAfterFirst).toBe(2);
    await until(() => groupMembers(jobA).length + groupMembers(jobB).length === 0, 1000, 'the job groups to be gone');
    // A run that did not succeed makes the scheduler exit 1.
    expect({ code: resultA.code, last: resultA.stdout.trimEnd().split('\n').at(-1) }).toEqual({ code: 1, last: 'scheduler stopped' });
    expect(resultA.stdout).toMatch(/tick: ABORTED in /);
    expect(resultB.code).toBe(1);
    expect(resultB.stderr).toContain('stepcron: SIGHUP again');
    expect(await statuses(polite, 'tick')).toEqual(['ABORTED']);
    expect(await statuses(stubborn, 'tick')).toEqual(['ABORTED']);
  }, 40_000);
});

const engine = detectEngineSync();
if (!engine) console.warn('container signal test skipped: no container engine answers (install podman: scripts/install-podman.sh)');

(engine ? describe : describe.skip)('stepcron run --ecs container, stopped by a signal', () => {
  let image: string;
  beforeAll(async () => {
    // The private store the container tests share, so the image is built once.
    process.env.STEPCRON_PODMAN_ROOT = join(tmpdir(), 'stepcron-podman-test');
    image = await buildBusyboxImage(engine!.engine);
  }, 60_000);

  it('a second SIGINT kills and removes a container that ignores SIGTERM at once', async () => {
    // Prepare: a container's hostname is its id; its sleep, seen from the host, is found by its unusual length.
    const seconds = 60_000 + Math.floor(Math.random() * 10_000);
    const sleeping = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && isRunning(Number(p)))
      .filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${seconds}\0`; } catch { return false; } });
    const dir = workspace({ boxed: { command: `trap '' TERM; echo "started $(hostname)"; sleep ${seconds}`, fields: [`image: ${image}`] } });
    const cli = startCli(['run', 'boxed', '--catalog', 'jobs.yml', '--ecs', 'container'], { cwd: dir });
    await until(() => /started \w+/.test(cli.stdout()), 30_000, 'the container to start');
    const id = /started (\w+)/.exec(cli.stdout())![1]!;
    const containers = () => execFileSync(engine!.engine, [...engineGlobalArgs(engine!.engine), 'ps', '-a', '-q', '--filter', `id=${id}`], { encoding: 'utf8' }).trim();
    const before = { container: containers(), sleeping: sleeping().length };

    // Act
    cli.child.kill('SIGINT');
    await sleep(500);
    const secondAt = Date.now();
    cli.child.kill('SIGINT');
    const result = await cli.done;
    const exitedAfter = Date.now() - secondAt;

    // Assess: without the exit hook the engine keeps the container running after the CLI is gone.
    expect(before).toEqual({ container: expect.stringMatching(/^\w+$/), sleeping: 1 });
    expect(result.code).toBe(1);
    expect(exitedAfter).toBeLessThan(GRACE / 2);
    expect(containers()).toBe('');
    await until(() => sleeping().length === 0, 2000, "the container's processes to be gone");
  }, 60_000);
});
