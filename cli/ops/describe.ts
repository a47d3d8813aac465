// `stepcron describe <job>`: one view of one job, as `kubectl describe cronjob` gives one: its settings as they deploy
// on the stage, whether it fires there (and why not), its next times in its own zone, its last runs, the last failure
// with its cause and the tail of its output, and what a run costs. Reads the same port as status, runs and logs
// (the local run store, or the stage with --aws); text in aligned sections, or one JSON object.
import { type Job, oneLine, offReason } from '../../workflows/catalog';
import { retryDelays, runTimeoutSeconds } from '../../workflows/compile';
import { deployedSchedule, nextFireTimes, parseSchedule, startsAtDeployNote } from '../../workflows/schedule';
import { localIso } from '../../workflows/times';
import { seconds } from '../progress';
import { type CostHook, type Io, notFiring, table } from './commands';
import { type LogLine, OpsError, type OpsPort, type Pause, type RunRow, type RunStatus } from './types';

/** Fire times shown. */
const NEXT_TIMES = 5;
/** Lines of the last failure's output shown. */
export const TAIL_LINES = 20;
const FAILED: ReadonlySet<RunStatus> = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const FINISHED: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

export interface DescribeOptions {
  stage: string;
  json: boolean;
  /** How many of the newest runs to show (and price). */
  last: number;
  /** The stage's enabledJobs param: why a stage's schedule is disabled when no pause says so. */
  enabledJobs?: string[] | '*';
  cost?: CostHook;
}

/** `describe --json`: one object; times in ISO UTC, as in every --json. */
export interface Description {
  job: string;
  description: string;
  stage: string;
  where: string;
  state: 'enabled' | 'paused' | 'disabled' | 'not deployed';
  /** Why it does not fire on the stage (disabled or not deployed). */
  off?: string;
  pause?: Pause;
  schedule: {
    /** As the catalog writes it. */
    expression: string;
    timezone: string;
    /** What fires: on a stage the deployed schedule, locally what a deploy would create (workflows/schedule.ts). */
    deployed: { expression: string; timezone: string };
    /** The catalog differs from what the stage has deployed. */
    notDeployedYet?: boolean;
    /** A rate off the clock: its first run is at deploy. */
    note?: string;
  };
  next: string[];
  settings: {
    image: string;
    command: string[];
    cpu: number;
    memoryMiB: number;
    capacity: Job['capacity'];
    timeoutSeconds: number;
    /** The whole run's deadline (every attempt and back-off, per wave of fan-out items). */
    runTimeoutSeconds: number;
    retries: number;
    /** Seconds before each retry (retryIntervalSeconds x backoffRate^n, capped at maxDelaySeconds, with full jitter on AWS). */
    retryDelaysSeconds: number[];
    retryOn: string[];
    exitCodes: Job['exitCodes'];
    concurrency: Job['concurrency'];
    notify: Job['notify'];
    alerts: { successDeadlineMinutes?: number; runtimeWarningSeconds?: number; minRuntimeSeconds?: number };
    environment: string[];
    /** Names only: values never leave the catalog's references. */
    secrets: string[];
    taskPolicyArns: string[];
    fanOut?: Job['fanOut'];
  };
  runs: RunRow[];
  /** The newest failed, timed-out or aborted run among `runs`, with the last lines its job wrote. */
  lastFailure?: RunRow & { tail: LogLine[] };
  /** The average of the priced finished runs among `runs`, in USD at list prices (workflows/cost.ts). */
  costPerRun?: number;
  monthlyEstimate?: number;
}

export async function describe(ops: OpsPort, job: Job, o: DescribeOptions, io: Io): Promise<number> {
  const d = await describeJob(ops, job, o, io.now?.() ?? new Date());
  io.out(o.json ? `${JSON.stringify(d)}\n` : formatDescription(d, job.timezone, io.now?.() ?? new Date(), io.tty));
  return 0;
}

export async function describeJob(ops: OpsPort, job: Job, o: DescribeOptions, now: Date): Promise<Description> {
  const schedule = await ops.schedule(job);
  // A job not deployed on the stage has no state machine either: no runs, not a failure (as status does).
  const runs = await ops.runs(job, { limit: o.last, priced: o.last }).catch((err: unknown) => {
    if (schedule.missing && err instanceof OpsError) return [];
    throw err;
  });
  const state = schedule.pause ? 'paused' : schedule.enabled ? 'enabled' : schedule.missing?.includes('not deployed') ? 'not deployed' : 'disabled';
  const catalog = deployedSchedule(job.schedule, job.timezone);
  const deployed = schedule.deployed ?? { expression: catalog.expression, timezone: catalog.timezone };
  const off = state === 'paused' || state === 'enabled' ? undefined : schedule.missing ?? disabledOnStage(job, o);
  const next = state === 'enabled'
    ? nextFireTimes(parseSchedule(deployed.expression), { timezone: deployed.timezone, from: now, count: NEXT_TIMES }).map((t) => t.toISOString())
    : [];
  const failure = runs.find((r) => FAILED.has(r.status));
  let lastFailure: Description['lastFailure'];
  if (failure) {
    const tail: LogLine[] = [];
    await ops.logs(job, failure.execution, { follow: false, last: TAIL_LINES, write: (line) => tail.push(line) })
      // The run is listed but its output is gone (pruned, or its log stream expired): the failure still shows.
      .catch((err: unknown) => {
        if (!(err instanceof OpsError)) throw err;
      });
    lastFailure = { ...failure, tail };
  }
  const costs = runs.filter((r) => FINISHED.has(r.status)).flatMap((r) => (r.cost === undefined ? [] : [r.cost]));
  const costPerRun = costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : undefined;
  const note = startsAtDeployNote(job.schedule);
  return {
    job: job.name, description: job.description, stage: o.stage, where: ops.where, state,
    ...(off && { off }), ...(schedule.pause && { pause: schedule.pause }),
    schedule: {
      expression: job.schedule, timezone: job.timezone, deployed,
      ...(schedule.deployed && (deployed.expression !== catalog.expression || deployed.timezone !== catalog.timezone) && { notDeployedYet: true }),
      ...(note && { note }),
    },
    next,
    settings: {
      image: job.image, command: job.command, cpu: job.cpu, memoryMiB: job.memory, capacity: job.capacity,
      timeoutSeconds: job.timeoutSeconds, runTimeoutSeconds: runTimeoutSeconds(job),
      retries: job.retries, retryDelaysSeconds: retryDelays(job), retryOn: job.retryOn,
      exitCodes: job.exitCodes, concurrency: job.concurrency, notify: job.notify,
      alerts: {
        ...(job.successDeadlineMinutes !== undefined && { successDeadlineMinutes: job.successDeadlineMinutes }),
        ...(job.runtimeWarningSeconds !== undefined && { runtimeWarningSeconds: job.runtimeWarningSeconds }),
        ...(job.minRuntimeSeconds !== undefined && { minRuntimeSeconds: job.minRuntimeSeconds }),
      },
      environment: Object.keys(job.environment), secrets: Object.keys(job.secrets), taskPolicyArns: job.taskPolicyArns,
      ...(job.fanOut && { fanOut: job.fanOut }),
    },
    runs,
    ...(lastFailure && { lastFailure }),
    // A job that does not fire on the stage costs nothing a month, whatever its runs cost.
    ...(costPerRun !== undefined && { costPerRun, ...(o.cost && state === 'enabled' && { monthlyEstimate: o.cost.monthly(job, costPerRun) }) }),
  };
}

/** A stage's schedule DISABLED without a pause note: the catalog's doing, or a deploy from another catalog. */
function disabledOnStage(job: Job, o: DescribeOptions): string {
  const why = offReason(job, o.enabledJobs ?? '*');
  if (why === 'enabled: false') return `off on ${o.stage}: enabled: false in the catalog`;
  if (why) return `off on ${o.stage}: not in the stage's enabledJobs (serverless.yml params)`;
  return `disabled on ${o.stage}, though the catalog enables it: deploy the stage, or see who disabled it`;
}

export function formatDescription(d: Description, zone: string, now: Date, tty: boolean): string {
  const out: string[] = [];
  const s = d.settings;
  const when = (iso: string) => localIso(iso, zone, now);
  out.push(...fields([
    ['Name', d.job],
    ['Description', oneLine(d.description)],
    ['Stage', `${d.stage} (${d.where})`],
    ['State', d.state],
    ...(d.off ? [['', d.off] as Row] : []),
    ...(d.pause ? [['', `paused by ${oneLine(d.pause.by)} at ${d.pause.at ? when(d.pause.at) : '?'}: ${oneLine(d.pause.note)}`] as Row] : []),
    ['Schedule', `${d.schedule.expression} ${d.schedule.timezone}`],
    ...(d.schedule.deployed.expression !== d.schedule.expression || d.schedule.deployed.timezone !== d.schedule.timezone
      ? [['', `${d.schedule.notDeployedYet ? 'deployed' : 'deploys'} as ${d.schedule.deployed.expression} ${d.schedule.deployed.timezone}${d.schedule.notDeployedYet ? ' (the catalog\'s is not deployed yet)' : ''}`] as Row]
      : []),
    ...(d.schedule.note ? [['', d.schedule.note] as Row] : []),
    ...(d.next.length ? d.next.map((t, i): Row => [i === 0 ? 'Next' : '', when(t)]) : [['Next', `none (${d.state})`] as Row]),
  ]));
  out.push('Task:', ...fields([
    ['Image', s.image],
    ['Command', oneLine(JSON.stringify(s.command))],
    ['Size', `${s.cpu} CPU units, ${s.memoryMiB} MiB, ${s.capacity === 'spot' ? 'Fargate Spot' : 'Fargate'}`],
    ['Timeout', `${s.timeoutSeconds}s per attempt, ${s.runTimeoutSeconds}s the whole run`],
    ['Retries', s.retries ? `${s.retries}, after ${s.retryDelaysSeconds.map((x) => `${x}s`).join(', ')}${s.retryOn.length ? `; retried on ${s.retryOn.join(', ')} too` : '; a timeout is not retried'}` : 'none'],
    ['Exit codes', [s.exitCodes.retry?.length && `retry ${s.exitCodes.retry.join(', ')}`, s.exitCodes.fail?.length && `fail at once ${s.exitCodes.fail.join(', ')}`].filter(Boolean).join('; ') || (s.retries ? 'any non-zero fails (and is retried)' : 'any non-zero fails')],
    ['Concurrency', s.concurrency],
    ['Notify', [s.notify.onFailure && 'on failure', s.notify.onSuccess && 'on success'].filter(Boolean).join(', ') || 'never'],
    ['Alerts', [
      s.alerts.successDeadlineMinutes !== undefined && `no success for ${s.alerts.successDeadlineMinutes} min`,
      s.alerts.runtimeWarningSeconds !== undefined && `still running after ${s.alerts.runtimeWarningSeconds}s`,
      s.alerts.minRuntimeSeconds !== undefined && `succeeded in under ${s.alerts.minRuntimeSeconds}s`,
    ].filter(Boolean).join('; ') || 'failed runs only'],
    ['Environment', s.environment.map(oneLine).join(', ') || '-'],
    ['Secrets', s.secrets.map(oneLine).join(', ') || '-'],
    ['Task policies', s.taskPolicyArns.join(', ') || '-'],
    ...(s.fanOut ? [['Fan-out', fanOutText(s.fanOut)] as Row] : []),
  ], '  '));
  out.push(`Cost:         ${d.costPerRun === undefined ? 'no priced runs yet' : `$${d.costPerRun.toFixed(6)} per run (average of the last ${d.runs.filter((r) => r.cost !== undefined).length} priced)${d.monthlyEstimate !== undefined ? `, about $${d.monthlyEstimate.toFixed(2)} a month` : d.state === 'enabled' ? '' : `, — a month (${notFiring(d.state, d.stage)})`}`}`);
  if (d.runs.length === 0) out.push(`Runs:         none yet (${d.where})`);
  else {
    out.push(`Runs (last ${d.runs.length}, newest first):`);
    out.push(table(tty, ['STATUS', 'EXECUTION', 'STARTED', 'DURATION', 'EXIT', 'COST', 'ERROR/REASON'], d.runs.map((r) => [
      r.status, r.execution, when(r.startedAt), r.durationMs === undefined ? '-' : seconds(r.durationMs),
      r.exitCode === undefined || r.exitCode === null ? '-' : String(r.exitCode), r.cost === undefined ? '-' : `$${r.cost.toFixed(6)}`,
      oneLine(r.reason ?? r.error ?? ''),
    ])).replace(/^/gm, '  ').trimEnd());
  }
  const f = d.lastFailure;
  if (!f) out.push(`Last failure: ${d.runs.length ? `none in the last ${d.runs.length} runs` : '-'}`);
  else {
    out.push('Last failure:', ...fields([
      ['Execution', `${f.execution}, ${f.status}, started ${when(f.startedAt)}`],
      ['Error', oneLine(f.error ?? f.status)],
      ...(f.cause ? [['Cause', causeText(f.cause)] as Row] : []),
      ...(f.link ? [['Console', f.link] as Row] : []),
    ], '  '));
    out.push(f.tail.length ? `  Output (last ${f.tail.length} lines; all of it: stepcron logs ${d.job} ${f.execution}${d.where.startsWith('stage') ? ' --aws' : ''}):` : '  Output: none recorded');
    for (const line of f.tail) out.push(`    ${line.label} | ${oneLine(line.text)}`);
  }
  return `${out.join('\n')}\n`;
}

type Row = [string, string];

/** `Key:  value` lines, values aligned; an empty key continues the row above. */
function fields(rows: Row[], indent = ''): string[] {
  const width = Math.max(12 - indent.length, ...rows.map(([k]) => k.length + 1));
  return rows.map(([k, v]) => `${indent}${(k ? `${k}:` : '').padEnd(width)}  ${v}`);
}

function fanOutText(f: NonNullable<Job['fanOut']>): string {
  const from = f.items ? `${f.items.length} items from the catalog` : f.itemsPath ? `items at ${f.itemsPath} of the run input` : `items from ${f.itemsFrom}`;
  return oneLine(`${from}, ${f.maxConcurrency} at a time, ${f.toleratedFailurePercentage}% may fail`);
}

/** A failure's cause in one line: the ECS task's stop code, reason and the job container's exit code, or the text. */
export function causeText(cause: string): string {
  let task: { StopCode?: unknown; StoppedReason?: unknown; Containers?: Array<{ Name?: unknown; ExitCode?: unknown; Reason?: unknown }> } | undefined;
  try {
    task = JSON.parse(cause);
  } catch {
    task = undefined;
  }
  if (task && typeof task === 'object' && (task.StopCode !== undefined || Array.isArray(task.Containers))) {
    const job = task.Containers?.find((c) => c.Name === 'job');
    return oneLine([
      typeof task.StopCode === 'string' && task.StopCode,
      typeof task.StoppedReason === 'string' && task.StoppedReason,
      typeof job?.ExitCode === 'number' && `container exit ${job.ExitCode}`,
      typeof job?.Reason === 'string' && job.Reason,
    ].filter(Boolean).join('; '));
  }
  return oneLine(cause.length > 500 ? `${cause.slice(0, 500)}...` : cause);
}
