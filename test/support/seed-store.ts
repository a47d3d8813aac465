// A run store filled with many finished runs at once, for the console's speed checks (bench, test/ui-api.test.ts):
// the store creates its schema (Store.open), then runs go in through SQLite in one transaction, with summaries of
// the shape a local run records (cli/run.ts Summary: tasks, cost, reason). Writing 100,000 runs through
// Store.start/finish would take minutes (a reserve file and a transaction each) and measure nothing of the console.
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { Store } from '../../cli/store';

const STATUSES = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'TIMED_OUT', 'SUCCEEDED'] as const;

/** `runsPerJob` finished runs of each job on `stage`, an hour apart, ending `end`; deterministic. Returns the store file. */
export function seedRuns(root: string, jobs: string[], runsPerJob: number, options: { stage?: string; end?: Date } = {}): string {
  const stage = options.stage ?? 'dev';
  const end = (options.end ?? new Date()).getTime();
  const store = Store.open(root, { broken: 'fail', keep: runsPerJob });
  store.close();
  const file = join(root, 'store.db');
  const db = new DatabaseSync(file);
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec('BEGIN IMMEDIATE');
    const insert = db.prepare(`INSERT INTO runs (job, stage, execution, execution_arn, state_machine_arn, status, pid, started_at,
        stopped_at, duration_ms, error, input, summary) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`);
    jobs.forEach((job, j) => {
      const machine = `arn:aws:states:local:000000000000:stateMachine:stepcron-${stage}-${job}`;
      for (let i = 0; i < runsPerJob; i++) {
        const status = STATUSES[(i + j) % STATUSES.length]!;
        const scheduled = new Date(end - (runsPerJob - i) * 3_600_000);
        // Every 13th run starts six minutes late; durations drift with the run so bars differ.
        const started = new Date(scheduled.getTime() + ((i + j) % 13 === 0 ? 360_000 : 1_000));
        const durationMs = 2_000 + ((i * 7919 + j * 104_729) % 60_000);
        const stopped = new Date(started.getTime() + durationMs);
        const execution = `${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${(j * 1000 + i).toString(16).padStart(4, '0')}`;
        const exitCode = status === 'FAILED' ? 3 : status === 'SUCCEEDED' ? 0 : null;
        const summary = {
          job, execution, status, durationMs, transitions: 12, events: 30, maxPayloadBytes: 900,
          tasks: status === 'SKIPPED' ? [] : [{ attempts: 1, exitCode, startedAt: started.toISOString(), stoppedAt: stopped.toISOString() }],
          notifications: [],
          cost: { region: 'us-east-1', transitions: 12, fargateUsd: 0.00002, transitionsUsd: 0.0003, lambdaUsd: 0.000001, totalUsd: 0.000321 },
          ...(status === 'SKIPPED' && { reason: 'duplicate of another run: it has already claimed this scheduled time' }),
          ...(status === 'FAILED' && { error: 'JobFailed' }),
        };
        insert.run(job, stage, execution, `${machine.replace(':stateMachine:', ':execution:')}:${execution}`, machine, status,
          started.toISOString(), stopped.toISOString(), durationMs, status === 'FAILED' ? 'JobFailed' : status === 'TIMED_OUT' ? 'States.Timeout' : null,
          JSON.stringify({ scheduledTime: scheduled.toISOString() }), JSON.stringify(summary));
      }
    });
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  return file;
}
