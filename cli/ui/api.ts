// The console's JSON endpoints (`stepcron ui`), over the same port the day-2 commands use (cli/ops/types.ts: the local
// run store, or a stage with --aws), and through the same command bodies (cli/ops/commands.ts) for every action: a pause
// from the page is `stepcron pause`, a start is `stepcron start`, a backfill is `stepcron backfill --dry-run`. Each
// endpoint returns { status, body }; cli/ui/server.ts does HTTP and security.
import type { Job } from '../../workflows/catalog';
import { deployedSchedule, fireTimesUntil, nextFireTimes, parseSchedule } from '../../workflows/schedule';
import { scheduleInWords } from '../../workflows/schedule-words';
import { UsageError } from '../errors';
import * as commands from '../ops/commands';
import { describeJob } from '../ops/describe';
import { type LogLine, OpsError, type OpsPort, type RunRow } from '../ops/types';
import { runApi } from './run-api';

/** Runs in a job's strip. */
export const STRIP_RUNS = 30;
/** A scheduled run that started more than this after its scheduled time is marked late. */
export const LATE_MS = 60_000;
/** Step Functions' limit on an execution's input, counted as sent (as `run --event` checks it). */
const INPUT_MAX_BYTES = 256 * 1024;
/** Fire times of one job counted in a calendar window: a per-minute job for 7 days; more is cut and said. */
const CALENDAR_FIRES_PER_JOB = 7 * 24 * 60;
/** Names listed per calendar hour (the count is always whole). */
const CALENDAR_NAMES = 50;
/** How long a start waits for a local run to end before answering "running" (the page follows it live). */
const START_WAIT_MS = 1500;
/** The calendar reuses a jobs page computed this recently (whose jobs are enabled). */
const CALENDAR_REUSE_MS = 60_000;
/** Computed schedule facts (runs per 30 days) are kept this long: they change only with the calendar. */
const SCHEDULE_CACHE_MS = 3_600_000;

export interface UiDeps {
  ops: OpsPort;
  /** `local` (the run store) or `aws` (a deployed stage). */
  mode: 'local' | 'aws';
  catalog: string;
  /** The catalog's jobs on the stage, read again when the catalog file changed (cli/main.ts jobsOf). */
  jobs: () => Promise<Job[]>;
  /** The stage's enabledJobs param, for `describe`'s reason a job is off. */
  enabledJobs: string[] | '*';
  /** A run input checked as `stepcron run --event` checks it: UsageError with the problems when the precheck would refuse it. */
  checkInput: (input: unknown, job: Job) => Promise<Record<string, unknown>>;
  /** workflows/cost.ts monthlyEstimate: runs per 30 days of a schedule (costPerRun 1 gives the runs). */
  monthlyRuns: (schedule: string, timezone: string) => number;
  now?: () => Date;
}

export interface Answer {
  status: number;
  body: unknown;
}

/** A strip's run: short keys, since a page of 1,000 jobs carries 30,000 of them. */
export interface StripRun {
  /** execution */
  e: string;
  /** status */
  s: RunRow['status'];
  /** startedAt */
  t: string;
  /** durationMs */
  d?: number;
  /** late (started > LATE_MS after its scheduled time), fast (succeeded under minRuntimeSeconds), slow (over runtimeWarningSeconds) */
  m?: Array<'late' | 'fast' | 'slow'>;
  /** exit code */
  x?: number | null;
  /** reason or error */
  r?: string;
}

export interface JobRow extends commands.StatusRow {
  description: string;
  /** The schedule that fires, in words (workflows/schedule-words.ts). */
  words: string;
  runs: StripRun[];
}

export interface Api {
  handle(method: string, path: string, query: URLSearchParams, body: unknown): Promise<Answer>;
  /** Computes what the first page load needs (catalog, schedule facts), so that it answers at once. */
  warm(): Promise<void>;
}

/** A request the page made wrongly (a bad input, an unknown job): 400 with the one line the CLI would print. */
class BadRequest extends Error {}

export function uiApi(deps: UiDeps): Api {
  const { ops } = deps;
  const now = () => deps.now?.() ?? new Date();
  // The Run page (#/run/<job>/<execution>): definition, state outcomes, events, output, items (cli/ui/run-api.ts).
  const runPage = runApi(deps);
  const runsPerMonth = new Map<string, { runs: number; at: number }>();
  /** The CLI's cost hook (status, describe), with the schedule's runs per 30 days computed once an hour. */
  const cost: commands.CostHook = {
    monthly: (job, costPerRun) => {
      const key = `${job.schedule}\u0000${job.timezone}`;
      let found = runsPerMonth.get(key);
      if (!found || Date.now() - found.at > SCHEDULE_CACHE_MS) {
        found = { runs: deps.monthlyRuns(job.schedule, job.timezone), at: Date.now() };
        runsPerMonth.set(key, found);
      }
      // monthlyEstimate's own rounding (4 decimals).
      return Math.round(found.runs * costPerRun * 1e4) / 1e4;
    },
  };

  /** Next fire times per schedule, kept until the first of them has passed (1,000 jobs, every few seconds). */
  const nextTimes = new Map<string, Date[]>();
  const fireTimes = (expression: string, timezone: string, from: Date, count: number): Date[] => {
    const key = `${expression}\u0000${timezone}\u0000${count}`;
    const kept = nextTimes.get(key);
    if (kept && kept.length > 0 && kept[0]!.getTime() > from.getTime()) return kept;
    const times = nextFireTimes(parseSchedule(expression), { timezone, from, count });
    nextTimes.set(key, times);
    return times;
  };

  const jobByName = async (name: string): Promise<Job> => {
    const job = (await deps.jobs()).find((j) => j.name === name);
    if (!job) throw new NotFound(`no job '${name}' in ${deps.catalog} (stage ${ops.stage})`);
    return job;
  };

  /** The page being computed: requests that come meanwhile (the warm-up, a poll, a second tab) share it. */
  let computing: Promise<JobRow[]> | undefined;
  /** The last page computed, and when: the calendar reuses a fresh one (on a stage, a page is 2,000 calls for 1,000 jobs). */
  let last: { at: number; rows: JobRow[] } | undefined;
  function jobsPage(): Promise<JobRow[]> {
    computing ??= computeJobsPage().then((rows) => {
      last = { at: Date.now(), rows };
      return rows;
    }).finally(() => {
      computing = undefined;
    });
    return computing;
  }

  /** One page row per job: `status`'s row, its schedule in words and a strip of its newest runs. */
  async function computeJobsPage(): Promise<JobRow[]> {
    const jobs = await deps.jobs();
    const at = now();
    // The local store answers every job's newest runs in one read; a stage one ListExecutions per job.
    const recent = ops.recent ? await ops.recent(jobs, STRIP_RUNS) : undefined;
    // A stage's schedules are one GetSchedule each: a few at a time, as status asks them (Scheduler throttles).
    return commands.mapLimit(jobs, deps.mode === 'local' ? 64 : 4, async (job) => {
      const schedule = await ops.schedule(job);
      const runs = recent ? (recent.get(job.name) ?? []) : await ops.runs(job, { limit: STRIP_RUNS, priced: commands.PRICED_RUNS }).catch((err: unknown) => {
        if (schedule.missing && err instanceof OpsError) return [];
        throw err;
      });
      const row = commands.statusRow(job, schedule, runs, { now: at, cost, fireTimes });
      return { ...row, description: job.description, words: inWords(row.schedule), runs: runs.map((r) => stripRun(job, r)) };
    });
  }

  /** Every enabled job's fire times in [now, now + hours), counted per hour, with the zones' DST changes in that window. */
  async function calendar(hours: number) {
    const rows = last && Date.now() - last.at < CALENDAR_REUSE_MS ? last.rows : await jobsPage();
    const jobs = new Map((await deps.jobs()).map((j) => [j.name, j]));
    // The fires still to come, [now, now + hours): a fire earlier this hour has passed and is not counted. They are
    // bucketed by clock hour, so off the hour the first and last buckets are partial (hours + 1 of them).
    const from = now();
    const end = from.getTime() + hours * 3_600_000;
    const start = new Date(Math.floor(from.getTime() / 3_600_000) * 3_600_000);
    const length = Math.ceil((end - start.getTime()) / 3_600_000);
    const buckets = Array.from({ length }, (_, i) => ({ at: new Date(start.getTime() + i * 3_600_000).toISOString(), count: 0, jobs: [] as Array<{ job: string; at: string }> }));
    const cut: Array<{ job: string; fires: number }> = [];
    const zones = new Set<string>();
    for (const row of rows) {
      if (row.state !== 'enabled') continue;
      const job = jobs.get(row.job);
      if (!job) continue;
      zones.add(row.timezone);
      const times = firesBetween(row.schedule, row.timezone, from, end, CALENDAR_FIRES_PER_JOB);
      if (times.length >= CALENDAR_FIRES_PER_JOB) cut.push({ job: row.job, fires: times.length });
      for (const t of times) {
        const bucket = buckets[Math.floor((t.getTime() - start.getTime()) / 3_600_000)];
        if (!bucket) continue;
        bucket.count++;
        if (bucket.jobs.length < CALENDAR_NAMES) bucket.jobs.push({ job: row.job, at: t.toISOString() });
      }
    }
    for (const b of buckets) b.jobs.sort((a, z) => a.at.localeCompare(z.at) || a.job.localeCompare(z.job));
    return { from: from.toISOString(), hours, buckets, cut, dst: dstChanges([...zones], start, length) };
  }

  /** A job page: `stepcron describe` as JSON. */
  async function job(name: string) {
    // On a stage each run listed is described and priced from its history: describe's own default there.
    const shown = deps.mode === 'aws' ? 10 : STRIP_RUNS;
    return describeJob(ops, await jobByName(name), { stage: ops.stage, json: true, last: shown, enabledJobs: deps.enabledJobs, cost }, now());
  }

  /** A run: its row, its events where the port keeps them, and its job's output (`stepcron logs`). */
  async function run(name: string, execution: string) {
    const j = await jobByName(name);
    // One DescribeExecution on a stage; the store's row locally.
    const row = ops.run ? await ops.run(j, execution) : (await ops.runs(j, { limit: STRIP_RUNS })).find((r) => r.execution === execution);
    const events = ops.events ? await ops.events(j, execution).catch((err: unknown) => {
      if (err instanceof OpsError) return [];
      throw err;
    }) : [];
    const output: LogLine[] = [];
    await ops.logs(j, execution, { follow: false, write: (line) => output.push(line) }).catch((err: unknown) => {
      if (!(err instanceof OpsError)) throw err;
    });
    if (!row && events.length === 0) throw new NotFound(`job '${name}' has no run '${execution}' (${ops.where})`);
    return { job: name, execution, run: row, events, output };
  }

  /** The command's text output, captured: the page shows what the CLI would print. */
  const captured = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), tty: false, now }, out, err };
  };

  async function start(name: string, body: { input?: unknown }) {
    const j = await jobByName(name);
    const input = await parseInput(body.input, j);
    const { io, out } = captured();
    const before = new Set((await ops.runs(j, { limit: 5 }).catch(() => [])).map((r) => r.execution));
    // A local run ends before `start` returns; the page is answered within START_WAIT_MS and follows the run live.
    const done = commands.start(ops, j, input, { wait: false, json: true }, io);
    const first = await Promise.race([done.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), START_WAIT_MS).unref())]);
    if (first) return { started: JSON.parse(out.join('')) };
    done.catch(() => undefined);
    const running = (await ops.runs(j, { limit: 5 })).find((r) => !before.has(r.execution));
    return { started: { execution: running?.execution, running: true } };
  }

  async function parseInput(text: unknown, j: Job): Promise<Record<string, unknown>> {
    if (text === undefined || text === '') return {};
    if (typeof text !== 'string') throw new BadRequest('input: send the run input as JSON text');
    if (Buffer.byteLength(text) > INPUT_MAX_BYTES) {
      throw new BadRequest(`input: ${Math.ceil(Buffer.byteLength(text) / 1024)} KiB; Step Functions takes at most 256 KiB of input: put the data in S3 and pass its key`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new BadRequest(`input: not valid JSON (${(err as Error).message})`);
    }
    return deps.checkInput(value, j);
  }

  async function act(name: string, action: string, body: Record<string, unknown>) {
    const j = await jobByName(name);
    const { io, out, err } = captured();
    const text = () => ({ message: out.join('').trim(), ...(err.length && { notes: err.join('').trim() }) });
    switch (action) {
      case 'start':
        return start(name, body);
      case 'pause':
        await commands.pause(ops, j, typeof body.note === 'string' ? body.note : '', io);
        return text();
      case 'resume':
        await commands.resume(ops, j, { catchUp: false, maxConcurrent: 1, json: false }, io);
        return text();
      case 'redrive': {
        if (typeof body.execution !== 'string' || !body.execution) throw new BadRequest('redrive: name the run (execution) to redrive');
        const code = await commands.redrive(ops, j, body.execution, { json: true }, io);
        return { redriven: JSON.parse(out.join('')), code };
      }
      case 'backfill': {
        // Dry run only: a backfill that starts runs belongs to the terminal, where it can be watched and stopped.
        const from = typeof body.from === 'string' ? body.from : '';
        const to = typeof body.to === 'string' ? body.to : '';
        await commands.backfill(ops, j, { from, to, dryRun: true, maxConcurrent: 1, json: true }, io);
        return { times: JSON.parse(out.join('')) };
      }
      default:
        throw new NotFound(`no action '${action}' (start, pause, resume, redrive, backfill)`);
    }
  }

  return {
    async warm() {
      await jobsPage();
    },
    async handle(method, path, query, body) {
      try {
        const parts = path.split('/').slice(2).map(decodePart);
        if (method === 'POST') {
          // /api/jobs/<job>/<action>
          if (parts[0] === 'jobs' && parts.length === 3) {
            // An action may change what fires: the calendar computes afresh.
            last = undefined;
            return ok(await act(parts[1]!, parts[2]!, (body ?? {}) as Record<string, unknown>));
          }
          return { status: 404, body: { error: `no such action: ${path}` } };
        }
        switch (parts[0]) {
          case 'info':
            return ok({ stage: ops.stage, where: ops.where, mode: deps.mode, catalog: deps.catalog, live: Boolean(ops.version), strip: STRIP_RUNS, lateMs: LATE_MS });
          case 'version':
            return ok({ version: ops.version ? await ops.version() : null });
          case 'jobs':
            if (parts.length === 1) return ok(await jobsPage());
            if (parts.length === 2) return ok(await job(parts[1]!));
            break;
          case 'calendar': {
            const hours = query.get('days') === '7' ? 168 : 24;
            return ok(await calendar(hours));
          }
          case 'runs':
            if (parts.length === 3) return ok(await run(parts[1]!, parts[2]!));
            break;
          case 'run':
            if (parts.length === 3) return await runPage.page(parts[1]!, parts[2]!, query);
            break;
        }
        return { status: 404, body: { error: `no such page: ${path}` } };
      } catch (err) {
        return failure(err);
      }
    },
  };
}

class NotFound extends Error {}

/** A path segment as named (a job, a run): a malformed %-escape is the request's mistake, not a bug. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadRequest(`a malformed %-escape in the path ('${part.slice(0, 60)}'): encode names with encodeURIComponent`);
  }
}

const words = new Map<string, string>();
/** scheduleInWords, once per expression. */
function inWords(expression: string): string {
  const found = words.get(expression) ?? scheduleInWords(expression);
  words.set(expression, found);
  return found;
}

const ok = (body: unknown): Answer => ({ status: 200, body });

/**
 * What went wrong, in the CLI's one line: 400 a usage mistake, 403 AWS denied it (the page then knows it is
 * read-only for that action: the message names the permission), 404 no such job or run, 409 refused (nothing to
 * redrive, no schedule), 500 a bug.
 */
function failure(err: unknown): Answer {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof BadRequest || err instanceof UsageError) return { status: 400, body: { error: message } };
  if (err instanceof NotFound) return { status: 404, body: { error: message } };
  if (err instanceof OpsError) return { status: /^AWS denied /.test(message) ? 403 : 409, body: { error: message, ...(/^AWS denied /.test(message) && { denied: true }) } };
  return { status: 500, body: { error: `internal error (a bug in stepcron): ${message}` } };
}

/** A run as its strip shows it, with the marks the job's alert settings give it. */
export function stripRun(job: Pick<Job, 'minRuntimeSeconds' | 'runtimeWarningSeconds'>, r: RunRow): StripRun {
  const marks: NonNullable<StripRun['m']> = [];
  if (r.scheduledTime && Date.parse(r.startedAt) - Date.parse(r.scheduledTime) > LATE_MS) marks.push('late');
  if (r.status === 'SUCCEEDED' && job.minRuntimeSeconds && r.durationMs !== undefined && r.durationMs < job.minRuntimeSeconds * 1000) marks.push('fast');
  if (job.runtimeWarningSeconds && r.durationMs !== undefined && r.durationMs > job.runtimeWarningSeconds * 1000) marks.push('slow');
  const why = r.reason ?? r.error;
  return {
    e: r.execution, s: r.status, t: r.startedAt,
    ...(r.durationMs !== undefined && { d: r.durationMs }),
    ...(marks.length && { m: marks }),
    ...(r.exitCode !== undefined && { x: r.exitCode }),
    ...(why && { r: why }),
  };
}

/** The schedule's fire times in [from, to), at most `cap`, in batches that double (a daily job asks 32 once). */
export function firesBetween(expression: string, timezone: string, from: Date, to: number, cap: number): Date[] {
  const deployed = deployedSchedule(expression, timezone);
  // From `from` itself, up to but not including `to`.
  return fireTimesUntil(parseSchedule(deployed.expression), deployed.timezone, new Date(from.getTime() - 1), to - 1, cap);
}

/** Where a zone's UTC offset changes in the window (hour by hour, then to the minute): the DST nights. */
export function dstChanges(zones: string[], start: Date, hours: number): Array<{ zone: string; at: string; from: string; to: string }> {
  const changes: Array<{ zone: string; at: string; from: string; to: string }> = [];
  for (const zone of zones) {
    let before = offsetMinutes(start, zone);
    for (let h = 1; h <= hours; h++) {
      const t = new Date(start.getTime() + h * 3_600_000);
      const after = offsetMinutes(t, zone);
      if (after === before) continue;
      // The minute it changed, between t - 1 h and t.
      let lo = t.getTime() - 3_600_000;
      let hi = t.getTime();
      while (hi - lo > 60_000) {
        const mid = Math.floor((lo + hi) / 2 / 60_000) * 60_000;
        if (mid <= lo) break;
        if (offsetMinutes(new Date(mid), zone) === before) lo = mid;
        else hi = mid;
      }
      changes.push({ zone, at: new Date(hi).toISOString(), from: offsetText(before), to: offsetText(after) });
      before = after;
    }
  }
  return changes.sort((a, b) => a.at.localeCompare(b.at) || a.zone.localeCompare(b.zone));
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
function offsetMinutes(at: Date, zone: string): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, format);
  }
  const name = format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
