// Local run history under .stepcron/runs/<job>/<execution>/: run.json (status, like the console's execution list),
// input.json, events.jsonl (the engine's event log) and summary.json. Files are replaced atomically.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionsPort } from '../handlers/lib/precheck';

export interface RunRecord {
  job: string;
  stage: string;
  execution: string;
  executionArn: string;
  stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'SKIPPED' | 'ABORTED';
  pid: number;
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  error?: string;
}

/** Finished runs kept per job; older ones are removed as new runs finish, so `stepcron schedule` can run for weeks. */
export const KEEP_RUNS = 200;

export class History {
  /** Runs of this process, so a `replace` can stop them without a signal. */
  private readonly live = new Map<string, (cause: string) => void>();

  constructor(readonly root: string, private readonly keep = KEEP_RUNS) {}

  dir(job: string, execution: string): string {
    return join(this.root, 'runs', job, execution);
  }

  start(record: RunRecord, input: unknown, abort: (cause: string) => void): void {
    const dir = this.dir(record.job, record.execution);
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, 'input.json'), input);
    writeAtomic(join(dir, 'run.json'), record);
    this.live.set(record.executionArn, abort);
  }

  event(record: RunRecord, event: unknown): void {
    appendFileSync(join(this.dir(record.job, record.execution), 'events.jsonl'), `${JSON.stringify(event)}\n`);
  }

  finish(record: RunRecord, summary: unknown): void {
    const dir = this.dir(record.job, record.execution);
    writeAtomic(join(dir, 'summary.json'), summary);
    writeAtomic(join(dir, 'run.json'), record);
    this.live.delete(record.executionArn);
    this.prune(record.job);
  }

  /** Execution names start with their UTC start time, so name order is age order. */
  private prune(job: string): void {
    const jobDir = join(this.root, 'runs', job);
    const old = readdirSync(jobDir).sort().reverse().slice(this.keep);
    for (const execution of old) {
      const record = this.read(join(jobDir, execution, 'run.json'));
      if (record?.status !== 'RUNNING') rmSync(join(jobDir, execution), { recursive: true, force: true });
    }
  }

  private read(file: string): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    } catch {
      // Missing, or being replaced right now.
      return undefined;
    }
  }

  /** Newest first. A RUNNING record whose process is gone was cut off: it shows as ABORTED. */
  list(job?: string): RunRecord[] {
    const runs = join(this.root, 'runs');
    if (!existsSync(runs)) return [];
    const jobs = job ? [job] : readdirSync(runs);
    const records: RunRecord[] = [];
    for (const j of jobs) {
      const jobDir = join(runs, j);
      if (!existsSync(jobDir)) continue;
      for (const execution of readdirSync(jobDir)) {
        const record = this.read(join(jobDir, execution, 'run.json'));
        if (!record) continue;
        if (record.status === 'RUNNING' && !alive(record.pid)) record.status = 'ABORTED';
        records.push(record);
      }
    }
    return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The jobs whose runs can belong to a state machine `stepcron-<stage>-<job>`: only their folders are read. */
  private jobsOf(stateMachineArn: string): string[] {
    const runs = join(this.root, 'runs');
    if (!existsSync(runs)) return [];
    const machine = stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1);
    return readdirSync(runs).filter((job) => machine.endsWith(`-${job}`));
  }

  /** The precheck's view of "other executions of this state machine", served from local history. */
  executions(): ExecutionsPort {
    return {
      listRunning: async (stateMachineArn) => this.jobsOf(stateMachineArn).flatMap((job) => this.list(job))
        .filter((r) => r.stateMachineArn === stateMachineArn && r.status === 'RUNNING')
        .map((r) => ({ executionArn: r.executionArn, name: r.execution, startDate: new Date(r.startedAt) })),
      stop: async (executionArn, cause) => {
        const local = this.live.get(executionArn);
        if (local) return local(cause);
        const record = this.list().find((r) => r.executionArn === executionArn);
        // Another `stepcron` process: SIGTERM makes it abort its run and stop its tasks.
        if (record && alive(record.pid)) process.kill(record.pid, 'SIGTERM');
      },
    };
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
