// The container backend against a real engine (podman here) and a local busybox image; skipped when none answers.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerBackend, detectEngine, detectEngineSync } from '../cli/backends/container';
import type { EcsBackend, TaskRequest } from '../cli/backends/types';
import type { Job } from '../workflows/catalog';
import { buildBusyboxImage } from './support/busybox-image';

// A private store, kept between runs as a cache: the tests never touch the machine's images or containers.
process.env.STEPCRON_PODMAN_ROOT = join(tmpdir(), 'stepcron-podman-test');

const found = detectEngineSync();
if (!found) console.warn('container tests skipped: no container engine answers (install podman: scripts/install-podman.sh)');
const describeIfEngine = found ? describe : describe.skip;

function job(image: string, command: string[], memory = 512): Job {
  return {
    name: 'nightly', description: 'test job', schedule: 'rate(1 day)', timezone: 'UTC', enabled: true,
    image, command, cpu: 256, memory, environment: {}, secrets: {}, taskPolicyArns: [],
    capacity: 'fargate', timeoutSeconds: 60, retries: 0, retryOn: [], retryIntervalSeconds: 1, backoffRate: 1, maxDelaySeconds: 1,
    exitCodes: {}, concurrency: 'allow', notify: { onFailure: false, onSuccess: false }, input: {},
  };
}

interface Captured { stdout: string[]; stderr: string[] }

function request(
  image: string, command: string[], extra: { environment?: Record<string, string>; startedBy?: string; memory?: number } = {},
): { req: TaskRequest; out: Captured } {
  const out: Captured = { stdout: [], stderr: [] };
  const req: TaskRequest = {
    job: job(image, command, extra.memory), cluster: 'local', taskDefinition: 'stepcron-dev-nightly',
    startedBy: extra.startedBy ?? 'exec-1', environment: extra.environment ?? {}, command,
    onOutput(stream, line) { out[stream].push(line); },
  };
  return { req, out };
}

function waitForLine(out: Captured, line: string): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (out.stdout.includes(line)) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
}

describe('detectEngine', () => {
  it('does not count a docker client without a daemon', async () => {
    // Prepare: only meaningful where docker is a bare client (as on these machines).
    const bareClient = existsSync('/usr/local/bin/docker') || existsSync('/usr/bin/docker');
    const daemon = existsSync('/var/run/docker.sock');

    // Act
    const docker = await detectEngine({ engines: ['docker'] });

    // Assess
    if (bareClient && !daemon) expect(docker).toBeUndefined();
    else expect(docker === undefined || docker.engine === 'docker').toBe(true);
  });
});

describeIfEngine('container backend', () => {
  const engine = found?.engine ?? 'podman';
  let image: string;
  let backend: EcsBackend;

  beforeAll(async () => {
    image = await buildBusyboxImage(engine);
  });
  beforeEach(() => {
    // --pull never: the images are local and no registry is reachable, so a missing one fails at once.
    backend = containerBackend({ engine, graceSeconds: 2, extraArgs: ['--pull', 'never'] });
  });
  afterEach(async () => {
    await backend.stopAll('test cleanup');
  });

  it('detectEngine() reports the engine with its version', async () => {
    // Act
    const detected = await detectEngine();

    // Assess
    expect(detected).toEqual({ engine, version: expect.stringMatching(/^\d+\.\d+/) });
  });

  it('runs the command in the image: exit code and output come back as ECS reports them', async () => {
    // Prepare
    const { req, out } = request(image, ['sh', '-c', 'echo $STEPCRON_JOB; echo warn >&2; printf tail; exit 4'], {
      environment: { STEPCRON_JOB: 'nightly' },
    });

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task).toMatchObject({
      StopCode: 'EssentialContainerExited', StoppedReason: 'Essential container in task exited',
      Containers: [{ Name: 'job', ExitCode: 4, LastStatus: 'STOPPED' }],
    });
    expect(task.TaskArn).toMatch(/^arn:aws:ecs:local:000000000000:task\/local\/[0-9a-f]{32}$/);
    expect(out.stdout).toEqual(['nightly', 'tail']);
    expect(out.stderr).toEqual(['warn']);
  });

  it('passes environment values with spaces, quotes and JSON intact', async () => {
    // Prepare
    const input = JSON.stringify({ tenants: ['a b', "c'd"], quote: '"x"', dollar: '$HOME', nl: 'x\ny' });
    const { req, out } = request(image, ['sh', '-c', 'printf "%s\\n" "$STEPCRON_INPUT"'], {
      environment: { STEPCRON_INPUT: input },
    });

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(out.stdout.join('\n')).toBe(input);
  });

  it('limits the container to the job memory and cpu', async () => {
    // Prepare: cgroup v1 and v2 files; 512 MiB and cpu 256 (a quarter of a core).
    const script = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;'
      + ' cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max';
    const { req, out } = request(image, ['sh', '-c', script], { memory: 512 });

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task.Containers[0]?.ExitCode).toBe(0);
    expect(out.stdout).toEqual([String(512 * 1024 * 1024), '25000']);
  });

  it('a missing image is TaskFailedToStart with the engine message and no exit code', async () => {
    // Prepare
    const { req } = request('localhost/stepcron-no-such-image:latest', ['true']);

    // Act
    const task = await backend.run(req);

    // Assess
    expect(task.StopCode).toBe('TaskFailedToStart');
    expect(task.StoppedReason).toMatch(/^CannotPullContainerError: .*(image not known|No such image)/);
    expect(task.Containers).toEqual([{ Name: 'job', LastStatus: 'STOPPED', Reason: task.StoppedReason }]);
    expect(task.StartedAt).toBeUndefined();
  });

  it('a command missing from the image is TaskFailedToStart, but a job exiting 127 is its own exit code', async () => {
    // Prepare
    const missing = request(image, ['stepcron-no-such-command']);
    const exits127 = request(image, ['sh', '-c', 'exit 127']);

    // Act
    const [failed, exited] = await Promise.all([backend.run(missing.req), backend.run(exits127.req)]);

    // Assess
    expect(failed.StopCode).toBe('TaskFailedToStart');
    expect(failed.StoppedReason).toMatch(/^CannotStartContainerError: .*executable file not found/);
    expect(failed.Containers[0]?.ExitCode).toBeUndefined();
    expect(exited.StopCode).toBe('EssentialContainerExited');
    expect(exited.Containers[0]?.ExitCode).toBe(127);
  });

  it('stop() ends a sleeping container within the grace period: 143 if it exits on SIGTERM, 137 if not', async () => {
    // Prepare: PID 1 ignores SIGTERM unless it traps it, so the second container needs the SIGKILL.
    const polite = request(image, ['sh', '-c', 'trap "exit 143" TERM; echo ready; sleep 30 & wait'], { startedBy: 'exec-polite' });
    const stubborn = request(image, ['sh', '-c', 'echo ready; exec sleep 30'], { startedBy: 'exec-stubborn' });
    const runs = [backend.run(polite.req), backend.run(stubborn.req)];
    await Promise.all([waitForLine(polite.out, 'ready'), waitForLine(stubborn.out, 'ready')]);
    const [politeArn] = await backend.list('exec-polite');
    const [stubbornArn] = await backend.list('exec-stubborn');

    // Act
    const started = Date.now();
    await Promise.all([backend.stop(politeArn!, 'Task timed out'), backend.stop(stubbornArn!, 'Task timed out')]);
    const [politeTask, stubbornTask] = await Promise.all(runs.map(async (r) => {
      const task = await r;
      return { task, ms: Date.now() - started };
    }));

    // Assess
    expect(politeTask!.task).toMatchObject({ TaskArn: politeArn, StopCode: 'UserInitiated', StoppedReason: 'Task timed out' });
    expect(politeTask!.task.Containers[0]?.ExitCode).toBe(143);
    expect(stubbornTask!.task).toMatchObject({ TaskArn: stubbornArn, StopCode: 'UserInitiated' });
    expect(stubbornTask!.task.Containers[0]?.ExitCode).toBe(137);
    expect(stubbornTask!.ms).toBeGreaterThanOrEqual(1900);
  });

  it('list() finds running tasks by startedBy and drops them once stopped', async () => {
    // Prepare
    const { req, out } = request(image, ['sh', '-c', 'trap "exit 143" TERM; echo ready; sleep 30 & wait'], { startedBy: 'exec-list' });
    const before = await backend.list('exec-list');
    const running = backend.run(req);
    await waitForLine(out, 'ready');

    // Act
    const during = await backend.list('exec-list');
    const fromAnotherRunner = await containerBackend({ engine }).list('exec-list');
    await backend.stop(during[0]!, 'done');
    const task = await running;
    const after = await backend.list('exec-list');

    // Assess
    expect(before).toEqual([]);
    expect(during).toEqual([task.TaskArn]);
    // Found through the container's labels, as ListTasks would find a task started elsewhere.
    expect(fromAnotherRunner).toEqual([task.TaskArn]);
    expect(after).toEqual([]);
  });
});
