// `stepcron schedule`: a local EventBridge Scheduler. Fires every job at its times in its time zone (the scheduled
// time goes into the run input, as the real schedule's target input does), leaves overlap to the precheck, and on
// a stop (Ctrl-C, SIGTERM, SIGHUP: see cli/signals.ts) aborts the running jobs and records them before it exits.
// It fires what deploys (workflows/schedule.ts deployedSchedule): an aligned rate(...) on the clock, as its cron(...);
// any other rate(...) at the scheduler's start, as AWS runs it when the deploy creates the schedule, then every period.
import type { Job } from '../workflows/catalog';
import { deployedSchedule, nextFireTimes, parseSchedule, startsAtDeployNote } from '../workflows/schedule';
import { clockTime, localTime } from '../workflows/times';
import { stateMachineName } from '../workflows/resources';
import type { EcsBackend } from './backends/types';
import { UsageError } from './errors';
import type { Store } from './store';
import { runLocal, type Summary } from './run';
import { seconds } from './progress';

export interface SchedulerOptions {
  jobs: Job[];
  stage: string;
  history: Store;
  backend: EcsBackend;
  /** Stop after this long; undefined: until `signal`. */
  forMs?: number | undefined;
  /** Stops the scheduler and aborts its running jobs (the CLI's SIGINT/SIGTERM/SIGHUP). */
  signal?: AbortSignal;
  /** A returned promise is back-pressure (see LocalRunOptions.out). */
  out: (text: string) => unknown;
  now?: () => Date;
}

/** `90s`, `10m`, `2h`, `500ms`. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new UsageError(`--for: '${text}' is not a duration such as 90s, 10m or 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Resolves with the exit code once stopped: 0, or 1 if any fired run did not succeed or skip. */
export async function localScheduler(options: SchedulerOptions): Promise<number> {
  const now = options.now ?? (() => new Date());
  const { out } = options;
  if (options.jobs.length === 0) throw new UsageError('schedule: no enabled jobs to schedule (see --jobs)');
  const stop = new AbortController();
  const running = new Set<Promise<Summary>>();
  let failures = 0;
  const timers = new Set<NodeJS.Timeout>();

  const arm = (job: Job, after: Date) => {
    const next = nextFire(job, after);
    if (!next) {
      out(`${stamp(now(), job)} ${job.name}: no more fire times\n`);
      return;
    }
    // setTimeout cannot wait longer than ~24.8 days: re-arm in steps.
    const wait = Math.min(next.getTime() - now().getTime(), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stop.signal.aborted) return;
      if (now().getTime() < next.getTime()) {
        arm(job, new Date(next.getTime() - 1));
        return;
      }
      fire(job, next);
      arm(job, next);
    }, Math.max(0, wait));
    timers.add(timer);
  };

  const fire = (job: Job, scheduledTime: Date) => {
    out(`${stamp(now(), job)} ${job.name}: start (scheduled ${localTime(scheduledTime, job.timezone)})\n`);
    const prefix = (t: string) => t.split('\n').filter(Boolean).map((l) => `  ${job.name} | ${l}\n`).join('');
    const run = runLocal({
      job, stage: options.stage, backend: options.backend, history: options.history, signal: stop.signal,
      input: { scheduledTime: scheduledTime.toISOString() },
      err: (t) => out(prefix(t)),
      out: (t) => out(prefix(t)),
    });
    running.add(run);
    run.then((s) => {
      if (s.status !== 'SUCCEEDED' && s.status !== 'SKIPPED') failures++;
      const why = s.reason ?? s.error ?? '';
      out(`${stamp(now(), job)} ${job.name}: ${s.status} in ${seconds(s.durationMs)}${why ? ` (${why})` : ''}\n`);
      if (s.status === 'SUCCEEDED') watchDeadline(job, now());
    }, (err: Error) => {
      failures++;
      out(`${stamp(now(), job)} ${job.name}: could not run: ${err.message}\n`);
    }).finally(() => running.delete(run));
  };

  /** successDeadlineMinutes: what the deployed alarm does, told as it happens (once per miss, and on recovery). */
  const missed = new Set<string>();
  const deadlines = new Map<string, NodeJS.Timeout>();
  const watchDeadline = (job: Job, since: Date) => {
    const minutes = job.successDeadlineMinutes;
    if (minutes === undefined) return;
    clearTimeout(deadlines.get(job.name));
    if (missed.delete(job.name)) out(`${stamp(now(), job)} ${job.name}: succeeded again, within its success deadline\n`);
    const due = since.getTime() + minutes * 60_000;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stop.signal.aborted) return;
      if (now().getTime() < due) return watchDeadline(job, since);
      missed.add(job.name);
      out(`${stamp(now(), job)} ${job.name}: MISSED DEADLINE: no run has succeeded since ${localTime(since, job.timezone, now())} ` +
        `(successDeadlineMinutes ${minutes}); on AWS the alarm ${stateMachineName(job, options.stage)}-no-success goes off\n`);
    }, Math.min(Math.max(0, due - now().getTime()), 2 ** 31 - 1));
    deadlines.set(job.name, timer);
    timers.add(timer);
  };

  for (const job of options.jobs) {
    // From the job's last local success, or from now: a job this scheduler has never seen succeed gets a full window.
    const lastSuccess = job.successDeadlineMinutes === undefined ? undefined
      : options.history.list(job.name).find((r) => r.status === 'SUCCEEDED');
    watchDeadline(job, lastSuccess?.stoppedAt ? new Date(lastSuccess.stoppedAt) : now());
    const deployed = deployedSchedule(job.schedule, job.timezone);
    const start = now();
    const as = deployed.expression === job.schedule ? '' : ` (on the clock: deploys as ${deployed.expression} ${deployed.timezone})`;
    if (deployed.startsAtDeploy) {
      // As on AWS: the first run when the schedule is created (here: now), then every period from there.
      out(`${stamp(start, job)} ${job.name}: ${job.schedule} ${job.timezone}, next ${localTime(start, job.timezone)} (now)\n`);
      out(`${stamp(start, job)} ${startsAtDeployNote(job.schedule, job.name)}\n`);
      fire(job, start);
      arm(job, start);
      continue;
    }
    // The time arm() fires it at, announced on the job's clock.
    const next = nextFire(job, start);
    out(`${stamp(start, job)} ${job.name}: ${job.schedule} ${job.timezone}, next ${next ? localTime(next, job.timezone, start) : 'never'}${as}\n`);
    arm(job, start);
  }
  out(`scheduling ${options.jobs.length} job(s)${options.forMs ? ` for ${seconds(options.forMs)}` : ''}; Ctrl-C stops\n`);

  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    const limit = options.forMs === undefined ? undefined : setTimeout(done, options.forMs);
    options.signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(limit);
      options.signal?.removeEventListener('abort', done);
      resolve();
    }
  });
  // Its runs are aborted: their tasks get SIGTERM, then SIGKILL after the grace period.
  stop.abort();
  for (const t of timers) clearTimeout(t);
  if (running.size) out(`stopping ${running.size} running job(s)...\n`);
  await Promise.allSettled([...running]);
  await options.backend.stopAll('stepcron schedule stopped');
  out('scheduler stopped\n');
  return failures ? 1 : 0;
}

/**
 * When the scheduler fires `job` next after `after`: what deploys (an aligned rate(...) as its cron(...) in UTC,
 * workflows/schedule.ts deployedSchedule) in the zone it deploys in. What it announces and what it fires, alike.
 */
export function nextFire(job: Job, after: Date): Date | undefined {
  const deployed = deployedSchedule(job.schedule, job.timezone);
  return nextFireTimes(parseSchedule(deployed.expression), { timezone: deployed.timezone, from: after, count: 1 })[0];
}

/** A line's stamp: the time on the job's own clock, labelled (lines of jobs in different zones each say theirs). */
function stamp(d: Date, job: Job): string {
  return clockTime(d, job.timezone);
}
