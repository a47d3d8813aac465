// The `process` backend: runs a job's command as a local child process (no image, no limits) and describes it as the
// ECS Task object `ecs:runTask.sync` returns, so the state machine sees the same exit codes, stop codes and failures.
import { spawn, type ChildProcess } from 'node:child_process';
import { ESSENTIAL_EXITED, exitCodeOf, forEachLine, localTaskArn, newTaskId, stoppedTask } from './task';
import type { EcsBackend, EcsTask, TaskRequest } from './types';

/** Parent variables a job may rely on without declaring them; everything else must come from the job's environment. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TMPDIR'] as const;
/**
 * Local default for SIGTERM -> SIGKILL. ECS waits 30 s (stopTimeout); locally a stop is usually Ctrl-C or a timeout
 * in an interactive run, where 30 s of waiting feels hung, and jobs written for ECS should exit on SIGTERM in far less.
 */
export const DEFAULT_GRACE_MS = 5000;

interface RunningTask {
  arn: string;
  startedBy: string;
  child: ChildProcess;
  /** Set by stop(): the task then reports UserInitiated with this reason. */
  stopReason?: string;
  killTimer?: NodeJS.Timeout;
  done: Promise<EcsTask>;
}

export function processBackend(options: { graceMs?: number; cwd?: string } = {}): EcsBackend {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const tasks = new Map<string, RunningTask>();

  // If the runner itself exits, its detached jobs would live on: kill their groups synchronously on the way out.
  const killAllOnExit = () => {
    for (const task of tasks.values()) killGroup(task.child, 'SIGKILL');
  };
  const track = (task: RunningTask) => {
    if (tasks.size === 0) process.on('exit', killAllOnExit);
    tasks.set(task.arn, task);
  };
  const untrack = (task: RunningTask) => {
    tasks.delete(task.arn);
    if (tasks.size === 0) process.off('exit', killAllOnExit);
  };

  function run(request: TaskRequest): Promise<EcsTask> {
    const arn = localTaskArn(request.cluster, newTaskId());
    const createdAt = new Date();
    const [file, ...args] = request.command;
    if (file === undefined) {
      return Promise.resolve(stoppedTask({
        request, taskArn: arn, createdAt, stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotStartContainerError: the command is empty',
        containerReason: 'CannotStartContainerError: the command is empty',
      }));
    }

    const env: Record<string, string> = {};
    for (const name of INHERITED_ENV) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, request.environment);

    // detached: its own process group, so stop() reaches a shell's children too and Ctrl-C goes through stopAll().
    const child = spawn(file, args, {
      env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });

    let resolveDone!: (task: EcsTask) => void;
    const done = new Promise<EcsTask>((resolve) => { resolveDone = resolve; });
    const task: RunningTask = { arn, startedBy: request.startedBy, child, done };
    track(task);

    let startedAt: Date | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let abandonTimer: NodeJS.Timeout | undefined;

    const out = forEachLine(child.stdout!, (line) => request.onOutput('stdout', line));
    const err = forEachLine(child.stderr!, (line) => request.onOutput('stderr', line));

    const finish = (result: EcsTask) => {
      if (settled) return;
      settled = true;
      clearTimeout(task.killTimer);
      clearTimeout(abandonTimer);
      untrack(task);
      resolveDone(result);
    };

    child.on('spawn', () => {
      startedAt = new Date();
      // detached: the child leads its own group, whose id is its pid.
      request.onSpawn?.(child.pid!);
    });

    child.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT/EACCES: the command could not be started; ECS reports that as a task, not as a RunTask error.
      if (startedAt !== undefined) return;
      const reason = `CannotStartContainerError: ${err.message}`;
      finish(stoppedTask({
        request, taskArn: arn, createdAt, stopCode: 'TaskFailedToStart', stoppedReason: reason, containerReason: reason,
      }));
    });

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // The essential container exited, so the task stops: whatever else the job left running dies with it (as in ECS).
      killGroup(child, 'SIGKILL');
      request.onExit?.(child.pid!);
      // A process that escaped the group (setsid) may still hold our pipes open: do not wait for it for long. While
      // the reader holds the pipes paused (back-pressure), what is left in them is the job's own output: keep it.
      const abandon = () => {
        if (out.waiting || err.waiting) {
          abandonTimer = setTimeout(abandon, 500).unref();
          return;
        }
        out.flush();
        err.flush();
        child.stdout?.destroy();
        child.stderr?.destroy();
        complete();
      };
      abandonTimer = setTimeout(abandon, 500).unref();
    });

    // 'close' comes after 'exit' once both pipes have ended, so every output line has been delivered by then.
    child.on('close', () => complete());

    function complete() {
      if (!exit) return;
      const exitCode = exitCodeOf(exit.code, exit.signal);
      const stopped = task.stopReason !== undefined;
      finish(stoppedTask({
        request, taskArn: arn, createdAt, startedAt, exitCode,
        stopCode: stopped ? 'UserInitiated' : 'EssentialContainerExited',
        stoppedReason: stopped ? task.stopReason! : ESSENTIAL_EXITED,
      }));
    }

    return done;
  }

  async function stop(taskArn: string, reason: string): Promise<void> {
    const task = tasks.get(taskArn);
    // Unknown, finished or already stopping: StopTask on such a task changes nothing.
    if (!task || task.stopReason !== undefined) return;
    task.stopReason = reason;
    killGroup(task.child, 'SIGTERM');
    task.killTimer = setTimeout(() => killGroup(task.child, 'SIGKILL'), graceMs);
    // A pending SIGKILL must not keep the runner (or jest) alive; finish() clears it anyway.
    task.killTimer.unref();
  }

  return {
    name: 'process',
    run,
    async list(startedBy) {
      // ListTasks(startedBy) lists desired status RUNNING only (its default): a task being stopped is STOPPED already.
      return [...tasks.values()].filter((t) => t.startedBy === startedBy && t.stopReason === undefined).map((t) => t.arn);
    },
    stop,
    async stopAll(reason) {
      const running = [...tasks.values()];
      await Promise.all(running.map((t) => stop(t.arn, reason)));
      // Wait for them to be gone (at most graceMs): after stopAll the runner may exit at once.
      await Promise.all(running.map((t) => t.done));
    },
  };
}

/** Signals the child's whole process group; a group that is already gone is not an error. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    // ESRCH: already gone. EPERM: the pid now names a group we do not own, so ours is gone too.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH' && code !== 'EPERM') throw err;
  }
}
