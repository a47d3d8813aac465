// The alerts a cron monitor sells, as pure translations: a success deadline becomes a CloudWatch alarm's window, and
// the catalog's alert fields are checked against the job's schedule and timeouts so an alert never fires on a healthy
// job (or can never fire at all).
import { type CronFields, deployedSchedule, eachCronTime, isValidTimezone, parseSchedule, ScheduleError, timezoneProblem } from './schedule';

/** CloudWatch evaluates an alarm over at most 7 days (Period x EvaluationPeriods), 1 day when the period is < 1 hour. */
export const ALARM_WINDOW_MAX_SECONDS = 7 * 24 * 3600;
const SHORT_PERIOD_WINDOW_MAX_SECONDS = 24 * 3600;
export const MAX_SUCCESS_DEADLINE_MINUTES = ALARM_WINDOW_MAX_SECONDS / 60;

/**
 * The alarm window for "no run succeeded in the last `minutes`": N periods of P seconds, all N without a success.
 * The window slides by one period, so it is `minutes` rounded up to the period: 5 minutes up to a day, 1 hour beyond.
 */
export function deadlineWindow(minutes: number): { periodSeconds: number; evaluationPeriods: number } {
  const periodSeconds = minutes * 60 <= SHORT_PERIOD_WINDOW_MAX_SECONDS ? 300 : 3600;
  return { periodSeconds, evaluationPeriods: Math.ceil((minutes * 60) / periodSeconds) };
}

/**
 * How far ahead the schedule is searched for its longest gap: past a year's DST changes and month ends. Walked whole,
 * whatever the number of fire times: a cap on them (there was one, at 50,000) cut an every-minute job on days 1-27 off
 * before its longest wait, which only a 31-day month has. A whole year of every minute is ~0.1 s.
 */
const GAP_HORIZON_MS = 400 * 24 * 3600 * 1000;

/**
 * The longest wait between two consecutive fire times in the coming year (in the job's time zone, DST included), or
 * undefined for a one-time `at()` schedule. Stops early at the first gap longer than `stopAbove` ms.
 */
export function longestGap(schedule: string, timezone: string, from: Date, stopAbove = Number.POSITIVE_INFINITY):
  { ms: number; after: Date } | undefined {
  // The times that deploy: an aligned rate(...) fires on the clock, as its cron(...) in UTC.
  const deployed = deployedSchedule(schedule, timezone);
  const parsed = parseSchedule(deployed.expression);
  if (parsed.kind === 'at') return undefined;
  if (parsed.kind === 'rate') return { ms: parsed.seconds * 1000, after: from };
  // As nextFireTimes checks them.
  if (!isValidTimezone(deployed.timezone)) throw new ScheduleError(`timezone: ${timezoneProblem(deployed.timezone)}`);
  if (Number.isNaN(from.getTime())) throw new ScheduleError('from: must be a valid Date');
  const end = from.getTime() + GAP_HORIZON_MS;
  // Every day alike in UTC (no DST, no day or month rule, every year the walk can reach): the times repeat each day, so
  // every gap, and the first time it occurs, is found within two days of `from` (an hourly job walked ~10,000 times,
  // ~3 ms of validate's start). A walk of a year finds nothing longer.
  const daily = deployed.timezone === 'UTC' && everyDay(parsed.fields, from);
  const stopAt = daily ? from.getTime() + 2 * DAY_MS : Number.POSITIVE_INFINITY;
  let longest = { ms: 0, after: from };
  let previous: number | undefined;
  let seen = 0;
  // One walk over numbers (a Date per fire time and a new search per 1,000 were ~5 ms of validate's start for an
  // hourly job). It stops where the search in batches of 1,000 did: at the first thousandth time past the horizon.
  eachCronTime(parsed.fields, deployed.timezone, from.getTime(), (time) => {
    if (previous !== undefined && time - previous > longest.ms) {
      longest = { ms: time - previous, after: new Date(previous) };
      if (longest.ms > stopAbove) return false;
    }
    previous = time;
    seen++;
    return time <= stopAt && !(seen % 1000 === 0 && time > end);
  });
  return longest;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * True if the cron fields fire at the same times of every day from `from` to as far as longestGap's walk can go: at
 * most 1,000 fire times past its 400-day horizon, so with one or more a day, under four years; five are checked.
 */
function everyDay(fields: CronFields, from: Date): boolean {
  const year = from.getUTCFullYear();
  // `*` is every day of the month or week as a list; `?` is 'any'.
  const every = (rule: CronFields['dayOfMonth'] | CronFields['dayOfWeek'], days: number) =>
    rule.kind === 'any' || (rule.kind === 'days' && rule.days.length === days);
  return every(fields.dayOfMonth, 31) && every(fields.dayOfWeek, 7) && fields.months.length === 12 &&
    [0, 1, 2, 3, 4, 5].every((k) => fields.years.includes(year + k));
}

export interface AlertFields {
  schedule: string;
  timezone: string;
  timeoutSeconds: number;
  retries: number;
  successDeadlineMinutes?: number | undefined;
  runtimeWarningSeconds?: number | undefined;
  minRuntimeSeconds?: number | undefined;
}

/**
 * longestGap, remembered: a catalog checks every job against one `now`, and 1,000 jobs on one every-minute schedule
 * were 1,000 walks of a year (16 s); now one. Bounded, as a long-running process (the console) checks many catalogs.
 */
const gaps = new Map<string, ReturnType<typeof longestGap>>();
function knownGap(schedule: string, timezone: string, from: Date, stopAbove: number): ReturnType<typeof longestGap> {
  const key = `${schedule}\n${timezone}\n${from.getTime()}\n${stopAbove}`;
  if (gaps.has(key)) return gaps.get(key);
  if (gaps.size >= 10_000) gaps.clear();
  const gap = longestGap(schedule, timezone, from, stopAbove);
  gaps.set(key, gap);
  return gap;
}

/** Problems with a job's alert fields, each at its field; `now` anchors the schedule search. */
export function alertProblems(job: AlertFields, now = new Date()): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const { successDeadlineMinutes: deadline, runtimeWarningSeconds: warning, minRuntimeSeconds: minimum } = job;
  // The longest a run can last: every attempt running to its timeout (retry delays apart).
  const budget = job.timeoutSeconds * (job.retries + 1);
  if (warning !== undefined && warning >= budget) {
    problems.push({
      path: 'runtimeWarningSeconds',
      message: `${warning} s is not below the run's hard limit (timeoutSeconds ${job.timeoutSeconds} x ${job.retries + 1} attempts = ${budget} s): ` +
        'the run would be stopped before the warning; use a smaller value or raise timeoutSeconds',
    });
  }
  if (minimum !== undefined && minimum >= job.timeoutSeconds) {
    problems.push({
      path: 'minRuntimeSeconds',
      message: `${minimum} s is not below timeoutSeconds (${job.timeoutSeconds}): every successful run would be reported as too fast`,
    });
  } else if (minimum !== undefined && warning !== undefined && minimum >= warning) {
    problems.push({ path: 'minRuntimeSeconds', message: `${minimum} s must be below runtimeWarningSeconds (${warning})` });
  }
  if (deadline !== undefined) {
    let gap: ReturnType<typeof longestGap>;
    try {
      gap = knownGap(job.schedule, job.timezone, now, deadline * 60_000);
    } catch {
      return problems; // The schedule's own problem is reported at schedule.
    }
    if (!gap) {
      problems.push({ path: 'successDeadlineMinutes', message: 'a one-time at() schedule has no next run to miss: remove it' });
    } else if (gap.ms >= deadline * 60_000) {
      const gapMinutes = Math.ceil(gap.ms / 60_000);
      problems.push({
        path: 'successDeadlineMinutes',
        // A deadline must be longer than the wait and at most what an alarm looks back: a weekly job has none.
        message: gapMinutes >= MAX_SUCCESS_DEADLINE_MINUTES
          ? `the schedule waits up to ${gapMinutes} min between runs (after ${gap.after.toISOString()}), and a CloudWatch alarm ` +
            `looks back at most ${MAX_SUCCESS_DEADLINE_MINUTES} min (7 days): a job this rare cannot have a success deadline; remove it (its failure alarm still reports failed runs)`
          : `${deadline} min is not longer than the schedule's longest wait between runs (${gapMinutes} min, after ` +
            `${gap.after.toISOString()}): the alarm would go off between healthy runs; use at least ${gapMinutes} plus a run's usual duration`,
      });
    }
  }
  return problems;
}
