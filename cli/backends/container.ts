// The `container` backend: runs the job's image with podman or docker through their command line, with the job's
// cpu/memory as limits, and describes the result as the ECS Task object `ecs:runTask.sync` returns.
// The CLI, never the Docker-compatible socket: podman 4.3's API reports exit code 0 for `run --rm` whatever happened.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ESSENTIAL_EXITED, exitCodeOf, forEachLine, localTaskArn, newTaskId, stoppedTask, taskIdOf,
} from './task';
import { TaskStartError, type EcsBackend, type EcsTask, type TaskRequest } from './types';

export type Engine = 'podman' | 'docker';

export interface ContainerBackendOptions {
  engine: Engine;
  /** `<engine> stop -t`: seconds between SIGTERM and SIGKILL (ECS's stopTimeout, 30 s there). Default 5. */
  graceSeconds?: number;
  /** Added to `run` just before the image (e.g. ['--pull', 'never'], ['--network', 'host'], ['-v', 'a:b']). */
  extraArgs?: string[];
}

/** Same local default as the process backend: a stop is interactive here, 30 s of waiting would feel hung. */
const DEFAULT_GRACE_SECONDS = 5;
/** How long an engine gets to answer `info` before it counts as absent (a client without a daemon may hang). */
const DETECT_TIMEOUT_MS = 5000;
const NAME_PREFIX = 'stepcron-';
const STARTED_BY_LABEL = 'stepcron.startedBy';
const TASK_ARN_LABEL = 'stepcron.taskArn';

/**
 * Options that come before the subcommand. STEPCRON_PODMAN_ROOT points podman at a private store (tests, CI),
 * and on a host with hybrid/v1 cgroups crun cannot run containers, so runc is named unless CONTAINERS_CONF says otherwise.
 */
export function engineGlobalArgs(engine: Engine): string[] {
  if (engine !== 'podman') return [];
  const args: string[] = [];
  const root = process.env.STEPCRON_PODMAN_ROOT;
  if (root) args.push('--root', join(root, 'root'), '--runroot', join(root, 'runroot'));
  if (!process.env.CONTAINERS_CONF && !unifiedCgroups()) args.push('--runtime', 'runc');
  return args;
}

/** Options for `run` that this host needs: podman cannot raise rlimits here, so ask for limits it may set. */
function hostRunArgs(engine: Engine): string[] {
  if (engine !== 'podman' || process.env.CONTAINERS_CONF) return [];
  return ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];
}

/** cgroup v2 only (no v1 hierarchies): crun works there. */
function unifiedCgroups(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}

const infoArgs = (engine: Engine) => ['info', '--format', engine === 'podman' ? '{{.Version.Version}}' : '{{.ServerVersion}}'];

/**
 * The first engine that answers `info` (podman, then docker), with its server version. A docker client without a
 * daemon fails `info`, so it does not count.
 */
export async function detectEngine(
  options: { engines?: Engine[] } = {},
): Promise<{ engine: Engine; version: string } | undefined> {
  for (const engine of options.engines ?? ['podman', 'docker']) {
    const info = await engineCommand(engine, infoArgs(engine), DETECT_TIMEOUT_MS);
    const version = info.code === 0 ? info.stdout.trim() : '';
    if (version) return { engine, version };
  }
  return undefined;
}

/** detectEngine for places that cannot await (choosing describe or describe.skip at a test file's top level). */
export function detectEngineSync(options: { engines?: Engine[] } = {}): { engine: Engine; version: string } | undefined {
  for (const engine of options.engines ?? ['podman', 'docker']) {
    const probe = spawnSync(engine, [...engineGlobalArgs(engine), ...infoArgs(engine)], {
      timeout: DETECT_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8',
    });
    const version = probe.status === 0 ? probe.stdout.trim() : '';
    if (version) return { engine, version };
  }
  return undefined;
}

/** The `run` argv (without the engine binary) for one task. */
function runArgs(engine: Engine, request: TaskRequest, name: string, taskArn: string, extraArgs: string[] = []): string[] {
  const { job } = request;
  const args = [
    ...engineGlobalArgs(engine), 'run', '--rm', '--name', name,
    '--label', `${STARTED_BY_LABEL}=${request.startedBy}`, '--label', `${TASK_ARN_LABEL}=${taskArn}`,
  ];
  // One argv element per variable: values with spaces, quotes or JSON arrive intact (no shell in between).
  for (const [key, value] of Object.entries(request.environment)) args.push('-e', `${key}=${value}`);
  args.push('--memory', `${job.memory}m`, '--cpus', String(job.cpu / 1024), ...hostRunArgs(engine), ...extraArgs);
  args.push(job.image, ...request.command);
  return args;
}

interface RunningContainer {
  arn: string;
  name: string;
  startedBy: string;
  stopReason?: string;
  /** True once the `run` client has exited: nothing left to stop. */
  ended: boolean;
  /** The `run` client (its own process group). */
  client: ChildProcess;
  done: Promise<EcsTask>;
}

export function containerBackend(options: ContainerBackendOptions): EcsBackend {
  const { engine } = options;
  const graceSeconds = options.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  const tasks = new Map<string, RunningContainer>();
  const stopArgs = (name: string) => ['stop', '-t', String(graceSeconds), name];
  // `stop` itself takes up to the grace period; give the engine a margin before giving up on it.
  const stopTimeoutMs = (graceSeconds + 60) * 1000;

  // If the runner exits before its containers are gone (a second Ctrl-C, a forced exit), the engine keeps them running
  // (killing a `run` client does not stop its container): stop them by force, synchronously, on the way out. The
  // clients go first, so none goes on to create its container; then each container is killed, then removed. Not
  // `rm -f` alone: during a `stop` still waiting out its grace, podman 4.3's rm -f drops the container from its list
  // and leaves its processes running.
  const killAllOnExit = () => {
    const live = [...tasks.values()].filter((t) => !t.ended);
    if (live.length === 0) return;
    for (const task of live) killGroup(task.client);
    const names = live.map((t) => t.name);
    const sync = { timeout: 10_000, killSignal: 'SIGKILL', stdio: 'ignore' } as const;
    spawnSync(engine, [...engineGlobalArgs(engine), 'kill', '-s', 'KILL', ...names], sync);
    spawnSync(engine, [...engineGlobalArgs(engine), 'rm', '-f', ...names], sync);
  };
  const track = (task: RunningContainer) => {
    if (tasks.size === 0) process.on('exit', killAllOnExit);
    tasks.set(task.arn, task);
  };
  const untrack = (task: RunningContainer) => {
    tasks.delete(task.arn);
    if (tasks.size === 0) process.off('exit', killAllOnExit);
  };

  function run(request: TaskRequest): Promise<EcsTask> {
    const id = newTaskId();
    const name = `${NAME_PREFIX}${id}`;
    const arn = localTaskArn(request.cluster, id);
    const createdAt = new Date();
    // detached: Ctrl-C in the terminal reaches the runner only, which stops containers through stopAll().
    const child = spawn(engine, runArgs(engine, request, name, arn, options.extraArgs), {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });

    let resolveDone!: (task: EcsTask) => void;
    let rejectDone!: (err: Error) => void;
    const done = new Promise<EcsTask>((resolve, reject) => { resolveDone = resolve; rejectDone = reject; });
    const task: RunningContainer = { arn, name, startedBy: request.startedBy, ended: false, client: child, done };
    track(task);

    // The engine's own messages arrive on stderr after the job's: keep the last few to explain a start failure.
    const lastErrLines: string[] = [];
    // Back-pressure reaches the container through the engine client: paused, it stops reading the container's output.
    forEachLine(child.stdout!, (line) => request.onOutput('stdout', line));
    forEachLine(child.stderr!, (line) => {
      lastErrLines.push(line);
      if (lastErrLines.length > 5) lastErrLines.shift();
      return request.onOutput('stderr', line);
    });

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('error', (err) => {
      // The engine binary itself is missing: a backend failure, as RunTask failing, not a task that failed to start.
      task.ended = true;
      untrack(task);
      rejectDone(new TaskStartError(`cannot run ${engine}: ${err.message}`));
    });
    child.on('exit', (code, signal) => { exit = { code, signal }; });
    child.on('close', () => {
      if (!exit) return;
      task.ended = true;
      untrack(task);
      const exitCode = exitCodeOf(exit.code, exit.signal);
      const failure = startFailure(exitCode, lastErrLines);
      if (failure) {
        resolveDone(stoppedTask({
          request, taskArn: arn, createdAt, stopCode: 'TaskFailedToStart', stoppedReason: failure, containerReason: failure,
        }));
        return;
      }
      const stopped = task.stopReason !== undefined;
      resolveDone(stoppedTask({
        request, taskArn: arn, createdAt, startedAt: createdAt, exitCode,
        stopCode: stopped ? 'UserInitiated' : 'EssentialContainerExited',
        stoppedReason: stopped ? task.stopReason! : ESSENTIAL_EXITED,
      }));
    });
    return done;
  }

  async function stop(taskArn: string, reason: string): Promise<void> {
    const task = tasks.get(taskArn);
    if (task) {
      // Already stopping or gone: StopTask changes nothing.
      if (task.stopReason !== undefined || task.ended) return;
      task.stopReason = reason;
      void stopContainer(task);
      return;
    }
    // A task another runner started (found by list()): its container is named after the task id.
    const id = taskIdOf(taskArn);
    if (/^[0-9a-f]{32}$/.test(id)) void engineCommand(engine, stopArgs(`${NAME_PREFIX}${id}`), stopTimeoutMs);
  }

  /** `<engine> stop`, retried while the `run` client has not created the container yet (stop right after run). */
  async function stopContainer(task: RunningContainer): Promise<void> {
    for (;;) {
      const result = await engineCommand(engine, stopArgs(task.name), stopTimeoutMs);
      if (result.code === 0 || task.ended) return;
      if (!/no such container|no container with name|No such container/i.test(result.stderr)) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 100).unref());
    }
  }

  return {
    name: 'container',
    run,
    async list(startedBy) {
      // Ours (even before the engine has created them) plus any other runner's, found by label as ListTasks(startedBy)
      // would; one being stopped is left out, as ListTasks' default desired status RUNNING leaves it out.
      const ours = [...tasks.values()].filter((t) => t.startedBy === startedBy && t.stopReason === undefined).map((t) => t.arn);
      const stopping = new Set([...tasks.values()].filter((t) => t.stopReason !== undefined).map((t) => t.arn));
      const format = engine === 'podman' ? `{{index .Labels "${TASK_ARN_LABEL}"}}` : `{{.Label "${TASK_ARN_LABEL}"}}`;
      const ps = await engineCommand(engine, ['ps', '--filter', `label=${STARTED_BY_LABEL}=${startedBy}`, '--format', format]);
      const found = ps.code === 0 ? ps.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('arn:')) : [];
      return [...new Set([...ours, ...found])].filter((arn) => !stopping.has(arn));
    },
    stop,
    async stopAll(reason) {
      const running = [...tasks.values()];
      await Promise.all(running.map((t) => stop(t.arn, reason)));
      // Wait until they are gone (about graceSeconds at most): after stopAll the runner may exit at once.
      await Promise.allSettled(running.map((t) => t.done));
    },
  };
}

/**
 * The reason ECS would give when the engine failed before the job ran, or undefined when the job itself exited.
 * 125 is the engine's own error (image not found, bad option), 126/127 the runtime failing to invoke the command;
 * a job may exit with those codes too, so the engine's "Error:" line must also be there.
 */
function startFailure(exitCode: number, lastErrLines: string[]): string | undefined {
  if (exitCode < 125 || exitCode > 127) return undefined;
  const line = [...lastErrLines].reverse().find((l) => /^(Error: |docker: )/.test(l));
  if (!line) return undefined;
  if (exitCode !== 125 && !/OCI runtime|executable file not found|permission denied|exec format error|Error response from daemon/i.test(line)) {
    return undefined;
  }
  const message = line.replace(/^(Error: |docker: )/, '');
  const pull = exitCode === 125 && /image not known|pull|initializing source|short-name|manifest unknown|No such image/i.test(message);
  return `${pull ? 'CannotPullContainerError' : 'CannotStartContainerError'}: ${message}`;
}

/** SIGKILLs a `run` client's process group; one already gone is not an error. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: gone already.
  }
}

/** Runs `<engine> <global args> <args>` to completion; never rejects. */
function engineCommand(
  engine: Engine, args: string[], timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(engine, [...engineGlobalArgs(engine), ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });
}
