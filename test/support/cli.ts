// The real CLI as a child process, for tests that watch it from outside: its pid, its memory (from /proc), its output,
// and the process groups of the jobs it starts. Each workspace is a temporary directory with its own catalog.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'stepcron.cjs');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Result>;
}

const started = new Set<ChildProcess>();
const dirs: string[] = [];

/**
 * Starts `node bin/stepcron.cjs <args>` (or `npx stepcron <args>` with `npx: true`) in `cwd`; SIGKILLed after
 * `timeoutMs`. With `readStdout: false` nobody reads its stdout until `stdout()` is first called.
 */
export function startCli(args: string[], options: { cwd: string; npx?: boolean; timeoutMs?: number; readStdout?: boolean }): Cli {
  const [file, argv] = options.npx ? ['npx', ['--no-install', 'stepcron', ...args]] : [process.execPath, [BIN, ...args]];
  // The test's process.env, not the one spawn would take by default (jest gives each test file its own copy).
  const child = spawn(file, argv, { cwd: options.cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  const out: Buffer[] = [];
  let err = '';
  const read = () => child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  if (options.readStdout !== false) read();
  let reading = options.readStdout !== false;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<Result>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      started.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
  return {
    child,
    stdout: () => {
      if (!reading) {
        reading = true;
        read();
      }
      return Buffer.concat(out).toString('utf8');
    },
    stderr: () => err,
    done,
  };
}

/** A temporary directory with `jobs.yml` holding these jobs (fields: extra YAML lines at job level). */
export function workspace(jobs: Record<string, { command: string; schedule?: string; fields?: string[] }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-signals-'));
  dirs.push(dir);
  const lines = ['defaults:', '  image: busybox:latest', '  retries: 0', 'jobs:'];
  for (const [name, spec] of Object.entries(jobs)) {
    lines.push(`  ${name}:`, `    description: test job ${name}`, `    schedule: ${spec.schedule ?? 'rate(1 hour)'}`,
      `    command: [sh, -c, ${JSON.stringify(spec.command)}]`, ...(spec.fields ?? []).map((f) => `    ${f}`));
  }
  writeFileSync(join(dir, 'jobs.yml'), `${lines.join('\n')}\n`);
  // What `npm install stepcron` leaves: `npx stepcron` then runs this bin without asking the registry.
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(BIN, join(dir, 'node_modules', '.bin', 'stepcron'));
  return dir;
}

/** Kills what a failed test left running and removes the workspaces. */
export function cleanUp(): void {
  for (const child of started) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** pid, parent pid, process group and state of a live process, from /proc; undefined if there is none. */
export function procStat(pid: number): { ppid: number; pgid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (in parentheses) may hold spaces: the fields start after the last ')'.
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid), pgid: Number(pgid) };
  } catch {
    return undefined;
  }
}

/** Running: present and not a zombie (a killed orphan may wait to be reaped by an init that never does). */
export function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** The processes of a group that still run (zombies left out). */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)
    .filter((pid) => {
      const stat = procStat(pid);
      return stat !== undefined && stat.pgid === pgid && stat.state !== 'Z';
    });
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in bytes; undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples a process's peak resident memory until it exits: the last reading is its high-water mark. */
export function watchPeak(pid: number, everyMs = 20): { peak(): number; stop(): void } {
  let peak = 0;
  const sample = () => {
    const memory = memoryOf(pid);
    if (memory && memory.peak > peak) peak = memory.peak;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

/** The job's pid (= its process group: the process backend starts each task as a group leader), from its pid file. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
