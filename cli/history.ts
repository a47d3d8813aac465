// Local run history under .stepcron/runs/<job>/<execution>/: run.json (status, like the console's execution list),
// input.json, events.jsonl (the engine's event log) and summary.json. Files are replaced atomically.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

export class History {
  /** Runs of this process, so a `replace` can stop them without a signal. */
  private readonly live = new Map<string, (cause: string) => void>();

  constructor(readonly root: string) {}

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
        const file = join(jobDir, execution, 'run.json');
        if (!existsSync(file)) continue;
        try {
          const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
          if (record.status === 'RUNNING' && !alive(record.pid)) record.status = 'ABORTED';
          records.push(record);
        } catch {
          // A record being replaced right now: skip it this time.
        }
      }
    }
    return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The precheck's view of "other executions of this state machine", served from local history. */
  executions(): ExecutionsPort {
    return {
      listRunning: async (stateMachineArn) => this.list()
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
