// What a run costs, from what it used: state transitions, Fargate vCPU- and GB-seconds, Lambda invocations. Pure: the
// local runner measures the usage as it runs, the notify function reads it from the execution's history, and
// `stepcron status` multiplies the average by the schedule's runs per month.
import { fireTimesUntil, parseSchedule } from './schedule';

/**
 * Prices per unit, from AWS's public price pages (us-east-1, on-demand, no free tier: what one more run costs).
 * Fargate Spot's price varies by hour and zone; it is estimated at 30% of on-demand (AWS quotes "up to 70% off").
 */
export const PRICES = {
  asOf: '2026-11',
  region: 'us-east-1',
  /** Standard workflows, per state transition ($0.025 per 1,000). */
  transition: 0.000025,
  /** Fargate Linux/x86, per vCPU-second and GB-second ($0.04048 and $0.004445 per hour); billed per second, 1 minute minimum. */
  fargateVcpuSecond: 0.04048 / 3600,
  fargateGbSecond: 0.004445 / 3600,
  spotFactor: 0.3,
  /** Lambda arm64 (serverless.yml): per request ($0.20 per million) and per GB-second. */
  lambdaRequest: 0.0000002,
  lambdaGbSecond: 0.0000133334,
} as const;

/** The handlers' memory (serverless.yml provider.memorySize), in GB. */
export const LAMBDA_GB = 256 / 1024;
/** Billed duration assumed per Lambda call where it is not measured (the notify function reading a history). */
export const ASSUMED_LAMBDA_MS = 100;
/** Fargate bills at least this much per task. */
const FARGATE_MINIMUM_SECONDS = 60;

export interface Usage {
  transitions: number;
  /** One entry per ECS task that started (an attempt that never started costs nothing). */
  tasks: Array<{ cpu: number; memoryMiB: number; seconds: number; spot: boolean }>;
  lambda: { invocations: number; billedMs: number };
}

export interface Cost {
  region: string;
  transitions: number;
  transitionsUsd: number;
  vcpuSeconds: number;
  gbSeconds: number;
  fargateUsd: number;
  lambdaInvocations: number;
  lambdaUsd: number;
  totalUsd: number;
}

export function emptyUsage(): Usage {
  return { transitions: 0, tasks: [], lambda: { invocations: 0, billedMs: 0 } };
}

/** A task's billed time: whole seconds from start to stop, at least a minute (Fargate bills from image pull to stop). */
export function billedSeconds(seconds: number): number {
  return Math.max(FARGATE_MINIMUM_SECONDS, Math.ceil(seconds));
}

export function priceRun(usage: Usage): Cost {
  let vcpuSeconds = 0;
  let gbSeconds = 0;
  let fargateUsd = 0;
  for (const task of usage.tasks) {
    const seconds = billedSeconds(task.seconds);
    const vcpu = (task.cpu / 1024) * seconds;
    const gb = (task.memoryMiB / 1024) * seconds;
    vcpuSeconds += vcpu;
    gbSeconds += gb;
    fargateUsd += (vcpu * PRICES.fargateVcpuSecond + gb * PRICES.fargateGbSecond) * (task.spot ? PRICES.spotFactor : 1);
  }
  const transitionsUsd = round(usage.transitions * PRICES.transition);
  const lambdaUsd = round(usage.lambda.invocations * PRICES.lambdaRequest
    + (usage.lambda.billedMs / 1000) * LAMBDA_GB * PRICES.lambdaGbSecond);
  fargateUsd = round(fargateUsd);
  // The total of the parts as they are shown, so the line adds up.
  return {
    region: PRICES.region,
    transitions: usage.transitions,
    transitionsUsd,
    vcpuSeconds: round(vcpuSeconds, 3),
    gbSeconds: round(gbSeconds, 3),
    fargateUsd,
    lambdaInvocations: usage.lambda.invocations,
    lambdaUsd,
    totalUsd: round(transitionsUsd + fargateUsd + lambdaUsd),
  };
}

/** "$0.000162 = 4 transitions $0.000100 + Fargate 15.0 vCPU-s, 30.0 GB-s $0.000062 + 1 Lambda call $0.000000 (...)". */
export function formatCost(cost: Cost): string {
  const usd = (n: number) => `$${n.toFixed(6)}`;
  const calls = `${cost.lambdaInvocations} Lambda call${cost.lambdaInvocations === 1 ? '' : 's'}`;
  return `${usd(cost.totalUsd)} = ${cost.transitions} transitions ${usd(cost.transitionsUsd)} + Fargate ` +
    `${cost.vcpuSeconds.toFixed(1)} vCPU-s, ${cost.gbSeconds.toFixed(1)} GB-s ${usd(cost.fargateUsd)} + ${calls} ` +
    `${usd(cost.lambdaUsd)} (${cost.region} list prices, ${PRICES.asOf})`;
}

/**
 * Runs per 30 days of a schedule, counted over the next 30 days (DST and month lengths as they come), and what they
 * cost at `costPerRun`. A one-time at() schedule runs at most once.
 */
export function monthlyEstimate(schedule: string, timezone: string, costPerRun: number, from = new Date()):
  { runs: number; usd: number } {
  const parsed = parseSchedule(schedule);
  const end = from.getTime() + 30 * 24 * 3600 * 1000;
  const runs = parsed.kind === 'rate' ? Math.floor((30 * 24 * 3600) / parsed.seconds) : fireTimesUntil(parsed, timezone, from, end).length;
  return { runs, usd: round(runs * costPerRun, 4) };
}

/** The parts of a Step Functions history event the cost reads (GetExecutionHistory). */
export interface HistoryEvent {
  type: string;
  taskSucceededEventDetails?: { resourceType?: string; resource?: string; output?: string };
  taskFailedEventDetails?: { resourceType?: string; resource?: string; cause?: string };
  taskScheduledEventDetails?: { resourceType?: string; resource?: string };
}

/**
 * A run's usage from its execution history, as the notify function sees it on AWS: every state entered is a
 * transition, every `ecs` runTask.sync that ended (its output, or a failure's cause, is the ECS Task with StartedAt and
 * StoppedAt) a task, every `lambda` task scheduled an invocation of ASSUMED_LAMBDA_MS. Distributed Map items run in
 * child executions, which are not in this history.
 */
export function usageFromHistory(events: HistoryEvent[], task: { cpu: number; memoryMiB: number }): Usage {
  const usage = emptyUsage();
  for (const event of events) {
    if (event.type.endsWith('StateEntered')) usage.transitions++;
    const scheduled = event.taskScheduledEventDetails;
    if (event.type === 'TaskScheduled' && scheduled?.resourceType === 'lambda') {
      usage.lambda.invocations++;
      usage.lambda.billedMs += ASSUMED_LAMBDA_MS;
    }
    const ended = event.taskSucceededEventDetails ?? event.taskFailedEventDetails;
    if (ended?.resourceType !== 'ecs' || !ended.resource?.startsWith('runTask')) continue;
    const ran = taskTimes(event.taskSucceededEventDetails?.output ?? event.taskFailedEventDetails?.cause);
    if (ran) usage.tasks.push({ ...task, ...ran });
  }
  return usage;
}

function taskTimes(json: string | undefined): { seconds: number; spot: boolean } | undefined {
  if (!json?.startsWith('{')) return undefined;
  try {
    const t = JSON.parse(json) as { StartedAt?: number | string; StoppedAt?: number | string; CapacityProviderName?: string };
    if (t.StartedAt === undefined || t.StoppedAt === undefined) return undefined;
    const ms = new Date(t.StoppedAt).getTime() - new Date(t.StartedAt).getTime();
    return Number.isNaN(ms) ? undefined : { seconds: ms / 1000, spot: t.CapacityProviderName === 'FARGATE_SPOT' };
  } catch {
    return undefined;
  }
}

function round(value: number, digits = 8): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
