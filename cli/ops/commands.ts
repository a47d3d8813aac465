// The day-2 commands' bodies: each takes the port (local store or stage, cli/ops/types.ts), the job(s) and its options,
// writes text (an aligned table on a terminal, tab-separated when piped) or one JSON value, and returns the exit code.
// cli/main.ts parses the flags and picks the port.
import type { Job } from '../../workflows/catalog';
import { deployedSchedule, nextFireTimes, parseSchedule } from '../../workflows/schedule';
import { localIso, localTime } from '../../workflows/times';
import { UsageError } from '../errors';
import { seconds } from '../progress';
import { type Ended, type LogLine, OpsError, type OpsPort, RUN_STATUSES, type RunRow, type RunStatus, type ScheduleState } from './types';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** An aligned table when true, tab-separated columns otherwise. */
  tty: boolean;
  now?: () => Date;
}

/** The monthly estimate from an average cost per run (workflows/cost.ts monthlyEstimate, injected by cli/ops/register.ts). */
export interface CostHook {
  monthly: (job: Job, costPerRun: number) => number;
}
/** Jobs `status` looks at at once. */
const STATUS_JOBS_AT_ONCE = 4;
/** How many of the newest finished runs `status` prices for the average (a stage reads each one's history). */
export const PRICED_RUNS = 5;

/** The most scheduled times one backfill starts: more is almost always a wrong --from. */
export const MAX_BACKFILL = 1000;
const OK: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'SKIPPED']);
const FINISHED: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** An OpsError (AWS refused, no credentials, nothing to redrive) is one line and exit 1, never a stack trace. */
export async function guarded(io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OpsError) {
      io.err(`stepcron: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export interface StatusRow {
  job: string;
  state: 'enabled' | 'paused' | 'disabled' | 'not deployed';
  pause?: { by: string; at: string; note: string };
  /** Why a disabled job does not fire (the catalog's enabled:, the stage's enabledJobs, or not deployed). */
  off?: string;
  /** The catalog's expression, or the deployed one while the catalog's is not deployed yet (see `catalog`). */
  schedule: string;
  /** The job's zone (the catalog's): times people read are on its clock, whatever zone the schedule deploys in. */
  timezone: string;
  /** What fires: an aligned rate(...) deploys as its cron(...) in UTC (workflows/schedule.ts deployedSchedule). */
  deployed: { expression: string; timezone: string };
  /** When the catalog says otherwise (changed since the last deploy). */
  catalog?: { schedule: string; timezone: string };
  next: string[];
  lastRun?: { execution: string; status: RunStatus; startedAt: string; durationMs?: number; exitCode?: number | null };
  successRate: { succeeded: number; finished: number; percent: number | null };
  costPerRun?: number;
  monthlyEstimate?: number;
}

/** Why a job has no monthly cost on the stage: `paused`, `off on prod`, `not deployed on prod`. */
export function notFiring(state: StatusRow['state'], stage: string): string {
  return state === 'paused' ? 'paused' : state === 'not deployed' ? `not deployed on ${stage}` : `off on ${stage}`;
}

export async function status(ops: OpsPort, jobs: Job[], o: { json: boolean; last: number; cost?: CostHook }, io: Io): Promise<number> {
  const now = io.now?.() ?? new Date();
  // A few jobs at a time: on a stage each one is a handful of calls (schedule, executions, histories to price).
  const rows = await mapLimit(jobs, STATUS_JOBS_AT_ONCE, async (job): Promise<StatusRow> => {
    const schedule = await ops.schedule(job);
    // A job of the catalog not deployed on the stage yet has no state machine either: a row saying so, not a failure.
    const runs = await ops.runs(job, { limit: o.last, priced: PRICED_RUNS }).catch((err: unknown) => {
      if (schedule.missing && err instanceof OpsError) return [];
      throw err;
    });
    return statusRow(job, schedule, runs, { now, ...(o.cost && { cost: o.cost }) });
  });
  if (o.json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  // Each row on its own job's clock, labelled with its zone: rows of jobs in different zones never read alike.
  const short = (iso: string, zone: string) => localIso(iso, zone, now);
  io.out(table(io.tty, ['JOB', 'STATE', 'SCHEDULE', 'NEXT', 'LAST RUN', `SUCCESS (last ${o.last})`, 'COST/RUN', 'MONTHLY'], rows.map((r) => [
    // How far off only for the first next time: the column stays readable.
    r.job, r.state, scheduleText(r), r.next.map((t, i) => (i === 0 ? short(t, r.timezone) : localIso(t, r.timezone))).join(', ') || '-',
    r.lastRun ? `${r.lastRun.status} ${short(r.lastRun.startedAt, r.timezone)}${r.lastRun.durationMs !== undefined ? ` ${seconds(r.lastRun.durationMs)}` : ''}${r.lastRun.exitCode !== undefined && r.lastRun.exitCode !== null ? ` exit ${r.lastRun.exitCode}` : ''}` : '-',
    r.successRate.percent === null ? '-' : `${r.successRate.percent}% (${r.successRate.succeeded}/${r.successRate.finished})`,
    r.costPerRun === undefined ? '-' : `$${r.costPerRun.toFixed(6)}`,
    r.monthlyEstimate !== undefined ? `$${r.monthlyEstimate.toFixed(2)}` : r.state === 'enabled' ? '-' : `— (${notFiring(r.state, ops.stage)})`,
  ])));
  for (const r of rows) {
    if (r.pause) io.out(`${r.job}: paused on ${ops.stage} by ${r.pause.by} since ${short(r.pause.at, r.timezone)}: ${r.pause.note}\n`);
    if (r.catalog) io.out(`${r.job}: the catalog says ${r.catalog.schedule} ${r.catalog.timezone}, not yet deployed\n`);
  }
  for (const r of rows) if (r.off) io.out(`${r.job}: ${r.off}\n`);
  // Where the stage's runs and alarms are drawn (the table is this moment; the dashboard the last day).
  if (ops.dashboard) io.out(`dashboard: ${await ops.dashboard()}\n`);
  return 0;
}

/**
 * The schedule column: the catalog's expression in the job's zone; and what it deploys as (as describe says it) when
 * that fires in another zone, where the expression alone misleads (rate(6 hours) in Kolkata fires at 05:30, not 00:00).
 */
function scheduleText(r: StatusRow): string {
  if (r.catalog) return `${r.schedule} ${r.deployed.timezone}`;
  const shown = `${r.schedule} ${r.timezone}`;
  return r.deployed.timezone === r.timezone ? shown : `${shown} (deploys as ${r.deployed.expression} ${r.deployed.timezone})`;
}

/**
 * A job's status from its schedule as the port sees it and its newest runs (newest first): what `status` prints per
 * job, and the console's jobs page shows.
 */
export function statusRow(job: Job, schedule: ScheduleState, runs: RunRow[],
  o: { now: Date; cost?: CostHook; next?: number; fireTimes?: (expression: string, timezone: string, from: Date, count: number) => Date[] }): StatusRow {
  const { now } = o;
  const state = schedule.pause ? 'paused' : schedule.enabled ? 'enabled' : schedule.missing?.includes('not deployed') ? 'not deployed' : 'disabled';
  // What fires is what is deployed: on a stage its schedule's own expression and zone; an aligned rate(...) of the
  // catalog deploys as its cron(...) (workflows/schedule.ts), shown as the catalog writes it while the two agree.
  const catalog = deployedSchedule(job.schedule, job.timezone);
  const { expression, timezone } = schedule.deployed ?? catalog;
  const fire = o.fireTimes ?? ((e: string, zone: string, from: Date, count: number) => nextFireTimes(parseSchedule(e), { timezone: zone, from, count }));
  const next = state === 'enabled' ? fire(expression, timezone, now, o.next ?? 3).map((t) => t.toISOString()) : [];
  const drift = expression !== catalog.expression || timezone !== catalog.timezone;
  const finished = runs.filter((r) => FINISHED.has(r.status));
  const succeeded = finished.filter((r) => r.status === 'SUCCEEDED').length;
  const last = runs[0];
  // The average of the newest priced runs: what a run costs now, not what it cost months ago.
  const costs = finished.flatMap((r) => (r.cost === undefined ? [] : [r.cost])).slice(0, PRICED_RUNS);
  const costPerRun = costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : undefined;
  return {
    job: job.name, state, ...(schedule.pause && { pause: schedule.pause }), ...(state === 'disabled' && schedule.missing && { off: schedule.missing }),
    schedule: drift ? expression : job.schedule, timezone: job.timezone, deployed: { expression, timezone }, next,
    ...(drift && { catalog: { schedule: job.schedule, timezone: job.timezone } }),
    ...(last && { lastRun: {
      execution: last.execution, status: last.status, startedAt: last.startedAt,
      ...(last.durationMs !== undefined && { durationMs: last.durationMs }), ...(last.exitCode !== undefined && { exitCode: last.exitCode }),
    } }),
    successRate: { succeeded, finished: finished.length, percent: finished.length ? Math.round((100 * succeeded) / finished.length) : null },
    // A job that does not fire on the stage costs nothing a month, whatever its runs cost.
    ...(costPerRun !== undefined && { costPerRun, ...(o.cost && state === 'enabled' && { monthlyEstimate: o.cost.monthly(job, costPerRun) }) }),
  };
}

export async function runs(ops: OpsPort, job: Job, o: { status?: string; since?: string; limit: number; json: boolean }, io: Io): Promise<number> {
  const now = io.now?.() ?? new Date();
  const status = o.status === undefined ? undefined : parseStatus(o.status);
  const since = o.since === undefined ? undefined : parseSince(o.since, now);
  const rows = await ops.runs(job, { limit: o.limit, ...(status && { status }), ...(since && { since }) });
  if (o.json) {
    io.out(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    // Runs are per stage (the local store keeps every stage's): say which one, and where the job's runs are instead.
    const others = status || since ? undefined : await ops.otherStages?.(job);
    const elsewhere = others?.size
      ? `; other stages have ${[...others.values()].reduce((a, b) => a + b, 0)}: ${[...others.keys()].sort().map((s) => `--stage ${s}`).join(', ')}` : '';
    io.out(`no runs of ${job.name}${status ? ` ${status}` : ''}${since ? ` since ${localTime(since, job.timezone, now)}` : ''} on stage ${ops.stage} (${ops.where}${elsewhere})\n`);
    return 0;
  }
  // Each row says its stage, as history's do: a stage's runs are not another's.
  io.out(table(io.tty, ['STATUS', 'EXECUTION', 'STARTED', 'DURATION', 'EXIT', 'STAGE', 'ERROR/REASON'], rows.map((r) => [
    r.status, r.execution, localIso(r.startedAt, job.timezone, now), r.durationMs === undefined ? '-' : seconds(r.durationMs),
    r.exitCode === undefined || r.exitCode === null ? '-' : String(r.exitCode), ops.stage, r.reason ?? r.error ?? '',
  ])));
  return 0;
}

export async function start(ops: OpsPort, job: Job, input: Record<string, unknown>, o: { wait: boolean; json: boolean }, io: Io): Promise<number> {
  const started = await ops.start(job, input, { wait: o.wait, progress: (line) => io.err(`${line}\n`) });
  if (o.json) io.out(`${JSON.stringify(started)}\n`);
  else if (!started.ended) io.out(`started ${job.name} ${started.execution}\n${started.link ? `  ${started.link}\n` : ''}`);
  else io.out(`${formatEnded(started.ended)}\n${started.link ? `  ${started.link}\n` : ''}`);
  return started.ended ? exitCode(started.ended) : 0;
}

export async function logs(ops: OpsPort, job: Job, execution: string | undefined, o: { follow: boolean; json: boolean }, io: Io): Promise<number> {
  const lines: LogLine[] = [];
  const found = await ops.logs(job, execution, { follow: o.follow, write: (line) => (o.json ? lines.push(line) : io.out(`${line.label} | ${line.text}\n`)) });
  if (o.json) io.out(`${JSON.stringify({ job: job.name, execution: found.execution, lines })}\n`);
  return 0;
}

export async function pause(ops: OpsPort, job: Job, note: string, io: Io): Promise<number> {
  if (!note.trim()) throw new UsageError('pause: --note must say why (it is shown by stepcron status until resume)');
  const now = io.now?.() ?? new Date();
  const at = now.toISOString();
  const by = await ops.who();
  const recorded = await ops.pause(job, { by, at, note: note.trim() });
  // Pauses are per stage, locally too: `status --stage prod` does not show a pause made on dev.
  io.out(`paused ${job.name} on ${ops.stage} (${ops.where}) by ${by} at ${localTime(now, job.timezone)}: ${recorded.note}\n`);
  if (recorded.note !== note.trim()) {
    io.out(`  the note was shortened to fit the schedule's description (Scheduler keeps 512 characters; the description itself is kept whole)\n`);
  }
  return 0;
}

export async function resume(ops: OpsPort, job: Job, o: { catchUp: boolean; maxConcurrent: number; json: boolean }, io: Io): Promise<number> {
  const was = await ops.resume(job);
  const now = io.now?.() ?? new Date();
  if (!was) {
    io.out(`${job.name} was not paused on ${ops.stage} (${ops.where})\n`);
    return 0;
  }
  io.out(`resumed ${job.name} on ${ops.stage} (${ops.where}); it was paused by ${was.by} since ${localIso(was.at, job.timezone, now)}${was.note ? `: ${was.note}` : ''}\n`);
  if (!o.catchUp) return 0;
  const from = new Date(was.at);
  if (Number.isNaN(from.getTime())) throw new OpsError(`resume --catch-up: the pause does not say when it began: run stepcron backfill ${job.name} --from T --to T`);
  return backfillTimes(ops, job, timesBetween(job, from, now), { dryRun: false, maxConcurrent: o.maxConcurrent, json: o.json }, io);
}

export async function backfill(ops: OpsPort, job: Job, o: { from: string; to: string; dryRun: boolean; maxConcurrent: number; json: boolean }, io: Io): Promise<number> {
  const from = parseTime('--from', o.from);
  const to = parseTime('--to', o.to);
  if (to.getTime() < from.getTime()) throw new UsageError(`backfill: --to (${o.to}) is before --from (${o.from})`);
  if (to.getTime() > (io.now?.() ?? new Date()).getTime()) throw new UsageError(`backfill: --to (${o.to}) is in the future: a backfill runs times that have passed`);
  return backfillTimes(ops, job, timesBetween(job, from, to), o, io);
}

/** The job's fire times in [from, to], in its time zone (what its schedule would have started). */
export function timesBetween(job: Job, from: Date, to: Date): Date[] {
  const deployed = deployedSchedule(job.schedule, job.timezone);
  const times = nextFireTimes(parseSchedule(deployed.expression), { timezone: deployed.timezone, from: new Date(from.getTime() - 1), count: MAX_BACKFILL + 1 })
    .filter((t) => t.getTime() <= to.getTime());
  if (times.length > MAX_BACKFILL) {
    throw new UsageError(`backfill: more than ${MAX_BACKFILL} scheduled times of ${job.name} from ${localTime(from, job.timezone)} to ${localTime(to, job.timezone)}: narrow the window`);
  }
  return times;
}

interface BackfillRow { scheduledTime: string; status: RunStatus | 'ALREADY_RAN' | 'WOULD_RUN'; execution?: string; reason?: string }

async function backfillTimes(ops: OpsPort, job: Job, times: Date[], o: { dryRun: boolean; maxConcurrent: number; json: boolean }, io: Io): Promise<number> {
  if (!Number.isInteger(o.maxConcurrent) || o.maxConcurrent < 1) throw new UsageError(`--max-concurrent: '${o.maxConcurrent}' must be a whole number of at least 1`);
  const now = io.now?.() ?? new Date();
  const rows: BackfillRow[] = [];
  for (const t of times) {
    // The precheck would skip a claimed time as a duplicate anyway; looking first spares a run and says which ran it.
    const holder = await ops.claimedBy(job, t);
    rows.push(holder ? { scheduledTime: t.toISOString(), status: 'ALREADY_RAN', execution: holder } : { scheduledTime: t.toISOString(), status: 'WOULD_RUN' });
  }
  const todo = rows.filter((r) => r.status === 'WOULD_RUN');
  if (!o.dryRun) {
    io.err(`backfill ${job.name} (${ops.where}): ${todo.length} of ${rows.length} scheduled times to run, ${o.maxConcurrent} at a time\n`);
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const row = todo[next++]!;
        const started = await ops.start(job, { scheduledTime: row.scheduledTime }, { wait: true, progress: (line) => io.err(`${line}\n`) });
        const end: Ended = started.ended ?? { execution: started.execution, status: 'RUNNING' };
        Object.assign(row, { status: end.status, execution: end.execution, ...(end.reason && { reason: end.reason }), ...(end.error && { reason: end.error }) });
        if (!o.json) io.err(`  ${localIso(row.scheduledTime, job.timezone)} ${formatEnded(end)}\n`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.maxConcurrent, todo.length) }, worker));
  }
  if (o.json) io.out(`${JSON.stringify(rows)}\n`);
  else {
    if (rows.length === 0) io.out(`no scheduled times of ${job.name} in that window (${job.schedule} ${job.timezone})\n`);
    // The job's own clock: a 02:30 Berlin job's times read 02:30 CET, not 01:30Z.
    else io.out(table(io.tty, ['SCHEDULED', 'STATUS', 'EXECUTION', 'REASON'], rows.map((r) => [localIso(r.scheduledTime, job.timezone, now), r.status, r.execution ?? '-', r.reason ?? ''])));
    if (o.dryRun && rows.length) io.out(`dry run: ${todo.length} would run, ${rows.length - todo.length} already ran; nothing was started\n`);
  }
  // A time the job's concurrency policy skipped (another run was in progress) did not run and is not claimed: a later
  // backfill runs it. Only a duplicate's skip means the time has run.
  const notRun = rows.filter((r) => r.status === 'SKIPPED' && !r.reason?.startsWith('duplicate of'));
  if (notRun.length) {
    io.err(`stepcron: ${notRun.length} scheduled time(s) were skipped by ${job.name}'s concurrency policy (${job.concurrency}), not run: backfill them again${o.maxConcurrent > 1 ? ' with --max-concurrent 1' : ' when no other run is in progress'}\n`);
  }
  const ok = (r: BackfillRow) => r.status === 'WOULD_RUN' || r.status === 'ALREADY_RAN' || (OK.has(r.status as RunStatus) && !notRun.includes(r));
  return rows.every(ok) ? 0 : 1;
}

export async function redrive(ops: OpsPort, job: Job, execution: string, o: { json: boolean }, io: Io): Promise<number> {
  const started = await ops.redrive(job, execution);
  if (o.json) io.out(`${JSON.stringify(started)}\n`);
  else if (!started.ended) io.out(`redriving ${job.name} ${started.execution} from its failed state\n${started.link ? `  ${started.link}\n` : ''}`);
  // Locally the redriven run has ended by now, as `start` ends: its outcome and exit code.
  else io.out(`${formatEnded(started.ended)}\n`);
  return started.ended ? exitCode(started.ended) : 0;
}

/** 0 when it succeeded or was skipped, 1 otherwise: a local run's exit codes. */
export function exitCode(ended: Ended): number {
  return OK.has(ended.status) ? 0 : 1;
}

function formatEnded(e: Ended): string {
  const exit = e.exitCode === undefined || e.exitCode === null ? '' : ` exit ${e.exitCode}`;
  const why = e.reason ?? e.error;
  return `${e.status} ${e.execution}${exit}${why ? ` (${why})` : ''}`;
}

export function parseStatus(text: string): RunStatus {
  const status = text.toUpperCase() as RunStatus;
  if (!RUN_STATUSES.includes(status)) throw new UsageError(`--status: '${text}' is not one of ${RUN_STATUSES.join(', ')}`);
  return status;
}

/** `7d`, `12h`, `30m` ago, or an ISO time. */
export function parseSince(text: string, now: Date): Date {
  const match = /^(\d+)([dhm])$/.exec(text.trim());
  if (match) return new Date(now.getTime() - Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm']);
  return parseTime('--since', text, '7d, 12h, 30m or ');
}

function parseTime(flag: string, text: string, also = ''): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(at.getTime())) {
    throw new UsageError(`${flag}: '${text}' is not ${also}an ISO time such as 2026-11-24T02:00:00Z`);
  }
  return at;
}

/** Columns padded to their widest cell on a terminal; tab-separated (for cut, awk) when piped. */
export function table(tty: boolean, head: string[], rows: string[][]): string {
  if (!tty) return [head, ...rows].map((r) => `${r.join('\t')}\n`).join('');
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`).join('');
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
