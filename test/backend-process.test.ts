// The process backend with real child processes (sh -c): what the state machine sees must match ECS's Task object.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { cutMarker, MAX_LINE_BYTES } from '../cli/backends/task';
import type { EcsBackend, EcsTask, TaskRequest } from '../cli/backends/types';
import type { Job } from '../workflows/catalog';

const TASK_ARN = /^arn:aws:ecs:local:000000000000:task\/local\/[0-9a-f]{32}$/;

function job(command: string[]): Job {
  return {
    name: 'nightly', description: 'test job', schedule: 'rate(1 day)', timezone: 'UTC', enabled: true,
    image: 'localhost/stepcron-busybox:latest', command, cpu: 256, memory: 512, environment: {}, secrets: {}, taskPolicyArns: [],
    capacity: 'fargate', timeoutSeconds: 60, retries: 0, retryOn: [], retryIntervalSeconds: 1, backoffRate: 1, maxDelaySeconds: 1,
    exitCodes: {}, concurrency: 'allow', notify: { onFailure: false, onSuccess: false }, input: {},
  };
}

interface Captured { stdout: string[]; stderr: string[]; both: string[] }

function request(command: string[], extra: Partial<TaskRequest> = {}): { req: TaskRequest; out: Captured } {
  const out: Captured = { stdout: [], stderr: [], both: [] };
  const req: TaskRequest = {
    job: job(command), cluster: 'local', taskDefinition: 'stepcron-dev-nightly', startedBy: 'exec-1',
    environment: {}, command,
    onOutput(stream, line) {
      out[stream].push(line);
      out.both.push(`${stream}:${line}`);
    },
    ...extra,
  };
  return { req, out };
}

/** Resolves when a line satisfying `match` has been printed (a task is known to be running). */
function waitForLine(out: Captured, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const line = out.stdout.find(match);
      if (line !== undefined) {
        clearInterval(poll);
        resolve(line);
      }
    }, 10);
  });
}

/** Alive means present and not a zombie (an orphan killed under a non-reaping init stays in the table as Z). */
/** A signalled process takes a moment to exit; wait for it (up to 5 s) before calling it alive. */
async function staysAlive(pid: number): Promise<boolean> {
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    if (!isAlive(pid)) return false;
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('process backend', () => {
  let backend: EcsBackend;
  beforeEach(() => {
    backend = processBackend({ graceMs: 300 });
  });
  afterEach(async () => {
    // A failed assertion must not leave sleeps running behind the test.
    await backend.stopAll('test cleanup');
  });

  it('reports exit 0 as EssentialContainerExited with an ECS-shaped task', async () => {
    // Prepare
    const { req } = request(['sh', '-c', 'exit 0']);

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task).toMatchObject<Partial<EcsTask>>({
      ClusterArn: 'arn:aws:ecs:local:000000000000:cluster/local',
      TaskDefinitionArn: 'arn:aws:ecs:local:000000000000:task-definition/stepcron-dev-nightly',
      StartedBy: 'exec-1', LastStatus: 'STOPPED', DesiredStatus: 'STOPPED',
      StopCode: 'EssentialContainerExited', StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'job', ExitCode: 0, LastStatus: 'STOPPED' }],
    });
    expect(task.TaskArn).toMatch(TASK_ARN);
    expect(Date.parse(task.StoppedAt)).toBeGreaterThanOrEqual(Date.parse(task.StartedAt!));
    expect(Date.parse(task.StartedAt!)).toBeGreaterThanOrEqual(Date.parse(task.CreatedAt));
  });

  it('reports a non-zero exit code as the container ExitCode', async () => {
    // Prepare
    const { req } = request(['sh', '-c', 'exit 3']);

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task.StopCode).toBe('EssentialContainerExited');
    expect(task.Containers).toEqual([{ Name: 'job', ExitCode: 3, LastStatus: 'STOPPED' }]);
  });

  it('passes the request environment, with PATH/HOME but not the rest of the parent environment', async () => {
    // Prepare
    const input = JSON.stringify({ tenants: ['a b', "c'd"], quote: '"x"', nested: { n: 1 } });
    process.env.STEPCRON_TEST_PARENT_ONLY = 'leaked';
    const { req, out } = request(
      ['sh', '-c', 'printf "%s\\n" "$STEPCRON_INPUT" "$GREETING" "${STEPCRON_TEST_PARENT_ONLY:-unset}" "${PATH:+has-path}"'],
      { environment: { STEPCRON_INPUT: input, GREETING: 'hello world' } },
    );

    // Act
    const task = await backend.run(req);
    delete process.env.STEPCRON_TEST_PARENT_ONLY;

    // Assess
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(out.stdout).toEqual([input, 'hello world', 'unset', 'has-path']);
  });

  it('streams stdout and stderr line by line in order, including a last line without a newline', async () => {
    // Prepare
    const script = 'echo one; echo two >&2; i=0; while [ $i -lt 500 ]; do echo "n$i"; i=$((i+1)); done; printf "crlf\\r\\n"; printf last';
    const { req, out } = request(['sh', '-c', script]);

    // Act
    await backend.run(req);

    // Assess
    const numbered = Array.from({ length: 500 }, (_, i) => `n${i}`);
    expect(out.stdout).toEqual(['one', ...numbered, 'crlf', 'last']);
    expect(out.stderr).toEqual(['two']);
  });

  it('keeps a multi-byte character split across chunks intact', async () => {
    // Prepare: 'é' is two bytes; printing them apart forces two chunks.
    const { req, out } = request(['sh', '-c', "printf '\\303'; sleep 0.05; printf '\\251t\\303\\251\\n'"]);

    // Act
    await backend.run(req);

    // Assess
    expect(out.stdout).toEqual(['été']);
  });

  it('stop() kills the shell and its children fast and reports UserInitiated', async () => {
    // Prepare: the shell starts a background sleep (its child) and prints that child's pid.
    const { req, out } = request(['sh', '-c', 'sleep 30 & echo "child $!"; wait']);
    const running = backend.run(req);
    const childPid = Number((await waitForLine(out, (l) => l.startsWith('child '))).split(' ')[1]);
    const [arn] = await backend.list('exec-1');

    // Act
    await backend.stop(arn!, 'Task timed out: the job ran longer than 60 s');
    const task = await running;

    // Assess: 143 means SIGTERM ended it, without waiting for the SIGKILL grace
    expect(task).toMatchObject({
      TaskArn: arn, StopCode: 'UserInitiated', StoppedReason: 'Task timed out: the job ran longer than 60 s',
    });
    expect(task.Containers[0]?.ExitCode).toBe(143);
    expect(await staysAlive(childPid)).toBe(false);
  });

  it('stop() sends SIGKILL after the grace period to a job that ignores SIGTERM (exit 137)', async () => {
    // Prepare: an ignored SIGTERM is inherited by the sleep, so only SIGKILL ends it.
    const { req, out } = request(['sh', '-c', 'trap "" TERM; echo ready; sleep 30; echo survived']);
    const running = backend.run(req);
    await waitForLine(out, (l) => l === 'ready');
    const [arn] = await backend.list('exec-1');

    // Act
    const started = Date.now();
    await backend.stop(arn!, 'stopped by test');
    await backend.stop(arn!, 'a second stop is ignored');
    const task = await running;
    const elapsed = Date.now() - started;

    // Assess
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(task.StopCode).toBe('UserInitiated');
    expect(task.StoppedReason).toBe('stopped by test');
    expect(task.Containers[0]?.ExitCode).toBe(137);
    expect(out.stdout).not.toContain('survived');
  });

  it('list() returns running tasks by startedBy, and nothing once they stopped', async () => {
    // Prepare
    const before = await backend.list('exec-1');
    const { req, out } = request(['sh', '-c', 'echo ready; sleep 30']);
    const running = backend.run(req);
    await waitForLine(out, (l) => l === 'ready');

    // Act
    const during = await backend.list('exec-1');
    const other = await backend.list('exec-2');
    await backend.stop(during[0]!, 'done');
    const duringStop = await backend.list('exec-1');
    const task = await running;
    const after = await backend.list('exec-1');

    // Assess
    expect(before).toEqual([]);
    expect(during).toEqual([task.TaskArn]);
    expect(other).toEqual([]);
    // ListTasks(desiredStatus RUNNING) leaves out a task that is being stopped.
    expect(duringStop).toEqual([]);
    expect(after).toEqual([]);
  });

  it('stop() of an unknown or finished task is a no-op', async () => {
    // Prepare
    const { req } = request(['true']);
    const task = await backend.run(req);

    // Act
    const stops = Promise.all([
      backend.stop(task.TaskArn, 'again'),
      backend.stop('arn:aws:ecs:local:000000000000:task/local/00000000000000000000000000000000', 'unknown'),
    ]);

    // Assess
    await expect(stops).resolves.toEqual([undefined, undefined]);
  });

  it('stopAll() stops every running task and waits for them', async () => {
    // Prepare
    const a = request(['sh', '-c', 'echo ready; sleep 30'], { startedBy: 'exec-a' });
    const b = request(['sh', '-c', 'echo ready; sleep 30'], { startedBy: 'exec-b' });
    const runs = [backend.run(a.req), backend.run(b.req)];
    await Promise.all([waitForLine(a.out, (l) => l === 'ready'), waitForLine(b.out, (l) => l === 'ready')]);

    // Act
    await backend.stopAll('Ctrl-C');
    const tasks = await Promise.all(runs);

    // Assess
    expect(tasks.map((t) => [t.StartedBy, t.StopCode, t.StoppedReason])).toEqual([
      ['exec-a', 'UserInitiated', 'Ctrl-C'], ['exec-b', 'UserInitiated', 'Ctrl-C'],
    ]);
  });

  it('the task stops when the job exits even if it left a background process holding stdout', async () => {
    // Prepare: in ECS the task ends with its essential container, whatever it started.
    const { req, out } = request(['sh', '-c', 'sleep 30 & echo "child $!"; exit 5']);

    // Act
    const started = Date.now();
    const task = await backend.run(req);

    // Assess
    // Far less than the 30 s the background sleep would hold stdout open.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(task.Containers[0]?.ExitCode).toBe(5);
    expect(await staysAlive(Number(out.stdout[0]?.split(' ')[1]))).toBe(false);
  });

  it('a missing command resolves as TaskFailedToStart (CannotStartContainerError), not a rejection', async () => {
    // Prepare
    const { req } = request(['/nonexistent/stepcron-job', '--flag']);

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task.StopCode).toBe('TaskFailedToStart');
    expect(task.StoppedReason).toMatch(/^CannotStartContainerError: .*ENOENT/);
    expect(task.StartedAt).toBeUndefined();
    expect(task.Containers).toEqual([{ Name: 'job', LastStatus: 'STOPPED', Reason: task.StoppedReason }]);
    expect(await backend.list('exec-1')).toEqual([]);
  });

  it('a command that is not executable resolves as TaskFailedToStart (EACCES)', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-process-'));
    const script = join(dir, 'job.sh');
    writeFileSync(script, '#!/bin/sh\necho never\n');
    chmodSync(script, 0o644);
    const { req } = request([script]);

    // Act
    const task = await backend.run(req);
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(task.StopCode).toBe('TaskFailedToStart');
    expect(task.StoppedReason).toMatch(/^CannotStartContainerError: .*EACCES/);
    expect(task.Containers[0]?.ExitCode).toBeUndefined();
  });

  it('runs in the given cwd', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-cwd-'));
    const inDir = processBackend({ cwd: dir });
    const { req, out } = request(['pwd']);

    // Act
    await inDir.run(req);
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(out.stdout).toEqual([dir]);
  });

  it('passes a line of MAX_LINE_BYTES whole and cuts a longer one at a character boundary, saying how long it was', async () => {
    // Prepare: lines of exact sizes; 'é' (\303\251) is two bytes and straddles the cap in the third line.
    const script = `a() { head -c "$1" /dev/zero | tr '\\0' a; }
      a ${MAX_LINE_BYTES}; echo
      a ${MAX_LINE_BYTES}; printf '\\r\\n'
      a ${MAX_LINE_BYTES - 1}; printf '\\303\\251\\n'
      a ${MAX_LINE_BYTES}; echo tail
      echo next`;
    const { req, out } = request(['sh', '-c', script]);

    // Act
    const task = await backend.run(req);

    // Assess
    const full = 'a'.repeat(MAX_LINE_BYTES);
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(out.stdout).toEqual([
      full,
      full,
      `${full.slice(1)}${cutMarker(MAX_LINE_BYTES + 1)}`,
      `${full}${cutMarker(MAX_LINE_BYTES + 4)}`,
      'next',
    ]);
  });

  it('stops reading while onOutput holds back (the job blocks on its writes), and loses no line', async () => {
    // Prepare: 20,000 lines (~200 KB, more than a pipe holds), then a file saying the job got to its end.
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-backpressure-'));
    let release!: () => void;
    let held: Promise<void> | undefined = new Promise((resolve) => { release = resolve; });
    const lines: string[] = [];
    const { req } = request(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done; touch finished'], {
      onOutput: (_stream, line) => {
        lines.push(line);
        return held;
      },
    });
    const inDir = processBackend({ cwd: dir });

    // Act
    const running = inDir.run(req);
    await new Promise((r) => setTimeout(r, 1000));
    const whileHeld = { lines: lines.length, finished: existsSync(join(dir, 'finished')) };
    held = undefined;
    release();
    const task = await running;
    rmSync(dir, { recursive: true, force: true });

    // Assess: one chunk was taken (its lines all delivered), then nothing until the release.
    expect(whileHeld.finished).toBe(false);
    expect(whileHeld.lines).toBeGreaterThan(0);
    expect(whileHeld.lines).toBeLessThan(20000);
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(lines).toEqual(Array.from({ length: 20000 }, (_, i) => `line ${i}`));
  });

  it('keeps what a job wrote before exiting while the reader was held back past the abandon delay', async () => {
    // Prepare: ~40 KB fits in the pipe, so the job exits while its output is still unread.
    let release!: () => void;
    let held: Promise<void> | undefined = new Promise((resolve) => { release = resolve; });
    const lines: string[] = [];
    const { req } = request(['sh', '-c', 'i=0; while [ $i -lt 4000 ]; do echo "line $i"; i=$((i+1)); done'], {
      onOutput: (_stream, line) => {
        lines.push(line);
        return held;
      },
    });

    // Act: held for 1.5 s, three times the 500 ms after which a pipe kept open by an escaped process is abandoned.
    const running = backend.run(req);
    await new Promise((r) => setTimeout(r, 1500));
    held = undefined;
    release();
    const task = await running;

    // Assess
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(lines).toEqual(Array.from({ length: 4000 }, (_, i) => `line ${i}`));
  });
});
