// How the CLI is stopped: SIGINT, SIGTERM and SIGHUP, and its parent process going away. Under `npx` (and `npm run`)
// a SIGTERM reaches npm only: npm passes it to the `sh -c` it started the CLI with, the shell dies, npm exits, and the
// CLI is left orphaned without a signal; so losing the parent counts as a SIGTERM. A SIGHUP npm does not pass on: npm
// dies alone and the shell lives on, so under npm the shell's parent is watched too. The first stop aborts the run: its
// tasks get SIGTERM, then SIGKILL after the grace period, and it is recorded ABORTED. A second signal, or a stop that
// outlasts the grace period, exits at once; the backends' exit hooks then SIGKILL every job's process group.
import { readFileSync } from 'node:fs';
import { DEFAULT_GRACE_MS } from './backends/process';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** An aborted run's exit code, forced exits included (see --help). */
export const EXIT_ABORTED = 1;
/** How often the parent is looked at: one getppid call, on an unref'd timer. */
const PARENT_POLL_MS = 500;
/** After the grace period, the time a stopping run gets to record itself and end before the exit is forced. */
const EXIT_MARGIN_MS = 1500;

export interface StopOptions {
  /** Where the one line saying what happens goes (stderr). */
  err: (text: string) => void;
  /** The parent's pid when the CLI started (read first thing by bin/stepcron.cjs); default: the parent now. */
  parentPid?: number | undefined;
  graceMs?: number;
}

export interface Stop {
  /** Aborted at the first stop, with the reason (e.g. 'SIGTERM'). */
  readonly signal: AbortSignal;
  /** Stops listening (the forced-exit timer of a stop under way stays, unref'd). */
  dispose(): void;
}

export function stopOnSignals(options: StopOptions): Stop {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const stop = new AbortController();

  const force = (why: string) => {
    options.err(`stepcron: ${why}: killing the job's processes now\n`);
    // The 'exit' listeners of the backends SIGKILL the process groups (and remove containers) synchronously; the run
    // record, still RUNNING with this pid, reads as ABORTED once the pid is gone.
    process.exit(EXIT_ABORTED);
  };
  const request = (why: string) => {
    if (stop.signal.aborted) return;
    options.err(`stepcron: ${why}: stopping the run (SIGTERM to its tasks, SIGKILL after ${graceMs / 1000}s; a second signal kills them now)\n`);
    stop.abort(why);
    // The run normally ends within the grace period; if something still holds it, do not hang (unref'd: an exit that
    // comes by itself is not delayed).
    setTimeout(() => force(`still running ${(graceMs + EXIT_MARGIN_MS) / 1000}s after ${why}`), graceMs + EXIT_MARGIN_MS).unref();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // The terminal that sent SIGHUP is gone: writing to it fails (EIO), which must not end the run before it is recorded.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    if (stop.signal.aborted) force(`${signal} again`);
    else request(signal);
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);

  // Reparented (to init or a subreaper): whoever started the CLI is gone and cannot stop it any more.
  const parent = options.parentPid ?? process.ppid;
  const launcher = npmOf(parent);
  const watch = parent > 1 ? setInterval(() => {
    const gone = process.ppid !== parent ? parent : launcher !== undefined && parentOf(parent) !== launcher ? launcher : undefined;
    if (gone === undefined) return;
    clearInterval(watch);
    request(`the parent process (pid ${gone}) exited`);
  }, PARENT_POLL_MS).unref() : undefined;

  return {
    signal: stop.signal,
    dispose() {
      for (const name of STOP_SIGNALS) process.off(name, onSignal);
      clearInterval(watch);
    },
  };
}

/**
 * npm, when it started the CLI through a shell (`sh -c`, as npx and npm run do): the shell outlives npm when npm alone
 * is signalled. Read from /proc (Linux); undefined elsewhere, or when npm did not start the CLI.
 */
function npmOf(parent: number): number | undefined {
  if (!process.env.npm_execpath) return undefined;
  const stat = statOf(parent);
  return stat && /^(sh|dash|bash|ash|zsh)$/.test(stat.name) && stat.ppid > 1 ? stat.ppid : undefined;
}

/** A process's parent now, or undefined if it is gone. */
function parentOf(pid: number): number | undefined {
  return statOf(pid)?.ppid;
}

function statOf(pid: number): { name: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may hold spaces: the fields after it start past the last ')'.
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}
