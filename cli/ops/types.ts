// The day-2 commands (status, runs, start, logs, pause/resume, backfill, redrive) ask one port where a job's runs and
// schedule live: the local run store (cli/ops/local.ts) or a deployed stage (cli/ops/aws.ts). Chosen once per command
// (--aws), so no command branches on where it runs.
import type { Job } from '../../workflows/catalog';
import type { Pause } from '../store';

export type { Pause };

/** Run statuses as `stepcron history` and the run summary name them (AWS's, plus SKIPPED). */
export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'SKIPPED' | 'PENDING_REDRIVE';
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'SKIPPED', 'PENDING_REDRIVE'];

/** One run, with the field names of the run summary (cli/run.ts Summary) and of `stepcron history --json`. */
export interface RunRow {
  job: string;
  execution: string;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  /** The job container's exit code, where the run tells it. */
  exitCode?: number | null;
  error?: string;
  /** The failure's cause as Step Functions records it (for a job that failed, the ECS task as JSON). */
  cause?: string;
  /** Why a run was skipped (duplicate of …) or recovered. */
  reason?: string;
  /** The run's page in the Step Functions console (stage runs only). */
  link?: string;
  /** The run's cost in USD, when the cost module can price it (workflows/cost.ts). */
  cost?: number;
  /** The scheduled time a scheduled run was started for (its input's scheduledTime), where the port reads it. */
  scheduledTime?: string;
}

export interface RunsQuery {
  /** Only runs in this status. */
  status?: RunStatus;
  /** Only runs started at or after this time; listing stops at the first older run. */
  since?: Date;
  /** At most this many runs. */
  limit: number;
  /** Price this many of the newest finished runs (a stage reads each one's history for it; locally every run is priced). */
  priced?: number;
}

/** The job's schedule as it is where the port looks: enabled or not, and the pause that disabled it. */
export interface ScheduleState {
  /** Fires at its times: enabled in the catalog (and on the stage) and not paused. */
  enabled: boolean;
  /** Set by `stepcron pause`; cleared by `stepcron resume`. */
  pause?: Pause;
  /** The schedule is not there (a stage without this job deployed, or the catalog disables it). */
  missing?: string;
  /** On a stage: the deployed expression and zone, which fire (the catalog may have changed since the deploy). */
  deployed?: { expression: string; timezone: string };
}

/** How a started run ended, for `start --wait` and `backfill`. */
export interface Ended {
  execution: string;
  status: RunStatus;
  reason?: string;
  error?: string;
  exitCode?: number | null;
}

export interface Started {
  execution: string;
  /** The console's page for the run (stage runs). */
  link?: string;
  /** Local runs end before `start` returns; stage runs only with `wait`. */
  ended?: Ended;
}

/** One line a job's container wrote, labelled with the run's attempt and fan-out item. */
export interface LogLine {
  /** e.g. `attempt 2`, `[item-7] attempt 1`, or `stdout`/`stderr` locally. */
  label: string;
  at?: string;
  text: string;
}

export interface OpsPort {
  /** Where the port looks, for messages: `local store .stepcron/store.db` or `stage prod on AWS`. */
  readonly where: string;
  /** The stage: pauses are per stage (locally too), so pause, resume and status name it. */
  readonly stage: string;
  /** The caller, for a pause's `by`: the OS user locally, the AWS caller identity on a stage. */
  who(): Promise<string>;
  schedule(job: Job): Promise<ScheduleState>;
  /** Newest first. */
  runs(job: Job, query: RunsQuery): Promise<RunRow[]>;
  /** Starts a run with this (validated) input; `wait` follows it to its end, `progress` tells how it goes. */
  start(job: Job, input: Record<string, unknown>, options: { wait: boolean; progress: (line: string) => void }): Promise<Started>;
  /** The execution that holds the scheduled time's claim, if one does (backfill: never duplicate a time that ran). */
  claimedBy(job: Job, scheduledTime: Date): Promise<string | undefined>;
  /**
   * The newest `perJob` runs of each job (newest first), unpriced, in one read where the port can (the local store: the
   * console's jobs page over 1,000 jobs); without it, a caller asks runs() per job.
   */
  recent?(jobs: Job[], perJob: number): Promise<Map<string, RunRow[]>>;
  /** How many runs of the job other stages have, by stage, where one read tells (the local store keeps every stage's). */
  otherStages?(job: Job): Promise<Map<string, number>>;
  /** Changes whenever a run starts or ends or a pause changes, in one cheap read (the local store); polled by the console. */
  version?(): Promise<string>;
  /** One run by its execution name (or ARN), as runs() would list it; undefined if there is none. */
  run?(job: Job, execution: string): Promise<RunRow | undefined>;
  /** The run's events, oldest first, as the port keeps them (the local store's engine events; a stage's history). */
  events?(job: Job, execution: string): Promise<unknown[]>;
  /** The pause as recorded: a stage's schedule keeps a shortened note when the whole one does not fit. */
  pause(job: Job, pause: Pause): Promise<Pause>;
  /** The pause it had, or undefined if the job was not paused. */
  resume(job: Job): Promise<Pause | undefined>;
  /**
   * The run's job output; `follow` keeps printing until the run ends. `last`: only its last lines (on a stage, those of
   * the run's last task, read from the end of its stream), for `describe`'s tail of a failure.
   */
  logs(job: Job, execution: string | undefined, options: { follow: boolean; last?: number; write: (line: LogLine) => void }): Promise<{ execution: string }>;
  redrive(job: Job, execution: string): Promise<Started>;
  /** The stage's CloudWatch dashboard, its console page (a stage only: locally there is none). */
  dashboard?(): Promise<string>;
  /** The definition the run ran, where the port knows it (a stage: DescribeStateMachineForExecution, its very version). */
  definition?(job: Job, execution: string): Promise<unknown>;
}

/** A request AWS (or the store) refuses, or cannot be made: exit 1 with this one line, never a stack trace. */
export class OpsError extends Error {
  override name = 'OpsError';
}
