// `stepcron run <job>`: the job's deployed state machine, executed locally. Lambda states call the real handler
// logic in-process, the ECS state is served by a backend (process, container or aws), and every run is recorded.
import { runName } from '../workflows/names';
import type { Writable } from 'node:stream';
import type { Job } from '../workflows/catalog';
import { compile, runTimeoutSeconds } from '../workflows/compile';
import { FINAL_STATE, type NotifyDeps, TAIL_LINES, formatNotification, notify } from '../handlers/lib/notify';
import { bufferedRunName, type ClaimsPort, claimKeys, precheck, startWaiting } from '../handlers/lib/precheck';
import { type NotifyEvent, NotifyEventSchema, PrecheckEventSchema, WarningEventSchema } from '../handlers/lib/contracts';
import { runtimeWarning, type WarningDeps } from '../handlers/lib/warnings';
import { parseOrThrow } from '../handlers/lib/errors';
import { type Cost, emptyUsage, formatCost, priceRun } from '../workflows/cost';
import type { EcsBackend, EcsTask } from './backends/types';
import { HISTORY_EVENT_LIMIT, PAYLOAD_LIMIT_BYTES } from '../workflows/limits';
import {
  checkStartExecution, type EventLog, INTERNAL_ERROR, type Execution, execute, jobExitCode, localInfra, newExecution, type RunStatus, type RunTaskParams,
  type Services, validateDefinition,
} from './engine';
import { type Fault, type Injection, withFaults } from './faults';
import { type RedrivePlan, RedriveRefused } from './redrive';
import { type RunRecord, type Store, StoreError, type Unstored } from './store';
import { itemLabel, Progress, seconds } from './progress';

export interface TaskReport {
  item?: unknown;
  exitCode: number | null;
  attempts: number;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
}

/** A fan-out item that ended failed (its last attempt failed, timed out, or never started). */
export interface FailedItem {
  index: number;
  item: unknown;
  exitCode: number | null;
  attempts: number;
  status: 'FAILED' | 'TIMED_OUT';
  /** Why an item that never ran failed (no exit code): the error and the start of its cause. */
  reason?: string;
}

export interface Summary {
  job: string;
  execution: string;
  status: RunStatus;
  durationMs: number;
  transitions: number;
  /** The largest history of any one execution of the run, in AWS's events (AWS fails an execution at 25,000). */
  events: number;
  /** The largest state or execution input/output seen, in bytes (AWS fails a state above 262,144). */
  maxPayloadBytes: number;
  /** The tasks run: every one for a single task; for a fan-out, those of the first 100 items started (see items). */
  tasks: TaskReport[];
  /** Fan-out only: how the items ended (total counts items never started, e.g. when the run failed first). */
  items?: { total: number; succeeded: number; failed: number };
  /** Fan-out only: the failed items with the lowest indexes, at most 100. */
  failedItems?: FailedItem[];
  notifications: Array<{ status: string; subject: string; delivered: string[] }>;
  /** With `--fault`: every fault injected, in order. */
  faults?: Injection[];
  /** What the run cost on AWS at list prices (workflows/cost.ts: the formula and the price table). */
  cost: Cost;
  reason?: string;
  error?: string;
  cause?: string;
  /** concurrency buffer: this run waited; the execution that took the waiting place, and for what. */
  buffered?: { execution: string; behind: string; waitedMs: number };
  /** What the run store could not keep (the disk was full, say): `outcome` if not even how the run ended. */
  unstored?: Unstored & { outcome?: boolean };
}

/** How many per-item task reports and failed items a summary keeps, so a 100,000-item run's summary stays small. */
export const SUMMARY_ITEMS = 100;
/** How many failed items the text summary prints. */
const PRINTED_FAILURES = 20;

interface TaskRun { item?: unknown; attempts: number; task?: EcsTask; timedOut?: boolean }

/** The parts of a fan-out item's state its last states carry (see workflows/compile.ts). */
interface ItemData { runId?: string; index?: number; item?: unknown; outcome?: { status?: string; exitCode?: number | null; attempts?: number; error?: string; cause?: unknown } }

export interface LocalRunOptions {
  job: Job;
  stage: string;
  input: unknown;
  backend: EcsBackend;
  history: Store;
  /** Publish notifications for real (SNS/Slack, from the handler's environment) instead of printing them. */
  notifyDeps?: NotifyDeps;
  skipWaits?: boolean;
  signal?: AbortSignal;
  /** Where `s3://bucket/key` lives locally (default .stepcron/s3). */
  s3Dir?: string;
  /** Progress and the job's stderr; the job's stdout goes to `out`. */
  /** A returned promise is back-pressure (the stream is full): the job's output is not read until it settles. */
  err: (text: string) => unknown;
  out: (text: string) => unknown;
  tty?: boolean;
  /** `--fault`: failures injected into the Task states (cli/faults.ts), through the real definition. */
  faults?: Fault[];
  /** concurrency buffer: how often a waiting run looks whether the run ahead has ended (default 250 ms). */
  pollMs?: number;
  /** `stepcron redrive`: resume this ended run, as the same execution, at the state and input planned (cli/redrive.ts). */
  redrive?: { record: RunRecord; plan: RedrivePlan };
}

/** A local waiting place is renewed while its run waits, so one whose process died is free again this soon. */
const LOCAL_PLACE_TTL_MS = 30_000;

/** A new run's execution name (workflows/names.ts: within Step Functions' 80 characters). */
export const executionName = (now = new Date()): string => runName(now);

/**
 * Runs the job once. Under concurrency buffer a run skipped into the waiting place waits here for the run ahead to
 * end, then starts again as a new execution (what EventBridge and the precheck function's startBuffered do on AWS),
 * and that run's summary is returned.
 */
export async function runLocal(options: LocalRunOptions): Promise<Summary> {
  const claims = options.history.claimsPort();
  // A redrive resumes after the precheck: no overlap decision, no waiting place.
  if (options.redrive) return (await runExecution(options, claims, options.input)).summary;
  let next: { input: unknown; name?: string; waited?: Omit<NonNullable<Summary['buffered']>, 'waitedMs'> & { since: number } } = { input: options.input };
  for (;;) {
    const run = await runExecution(options, claims, next.input, next.name);
    const summary = next.waited ? { ...run.summary, buffered: { execution: next.waited.execution, behind: next.waited.behind, waitedMs: Date.now() - next.waited.since } } : run.summary;
    if (run.summary.status !== 'SKIPPED' || !run.bufferedBehind) return summary;
    const since = Date.now();
    const input = await waitInBuffer(options, claims, run.execution, run.bufferedBehind, run.input);
    if (!input) return summary;
    next = { input, name: bufferedRunName(run.execution.executionArn), waited: { execution: run.execution.name, behind: nameOf(run.bufferedBehind), since } };
  }
}

/**
 * Waits in the job's waiting place until no other run is in progress, then does what startBuffered does when the run
 * ahead ends; resolves with the input of the run to start (null: stopped, or the place was lost).
 */
async function waitInBuffer(options: LocalRunOptions, claims: ClaimsPort, execution: Execution, behind: string,
  input: unknown): Promise<Record<string, unknown> | null> {
  const executions = options.history.executions();
  const key = claimKeys.buffer(execution.stateMachineArn);
  const me = execution.executionArn;
  options.err(`  ⏸ waiting for ${nameOf(behind)} to end (concurrency buffer): ${execution.name} holds the waiting place\n`);
  let started: Record<string, unknown> | null = null;
  try {
    while (!options.signal?.aborted) {
      // Renewed as it waits: a place whose process died is free again within LOCAL_PLACE_TTL_MS.
      const holder = await claims.claim(key, me, LOCAL_PLACE_TTL_MS);
      if (holder !== me) {
        options.err(`  ! the waiting place is now ${nameOf(holder)}'s: ${execution.name} does not run\n`);
        return null;
      }
      const running = (await executions.listRunning(execution.stateMachineArn)).filter((e) => e.executionArn !== me);
      if (running.length === 0) {
        const result = await startWaiting(execution.stateMachineArn, me, behind, {
          executions, claims,
          restart: { input: async () => input, start: async (_machine, _name, runInput) => { started = runInput; } },
        });
        if (started) {
          options.err(`  ▶ ${result.reason}\n`);
          return started;
        }
      }
      await sleep(options.pollMs ?? 250, options.signal);
    }
    return null;
  } finally {
    // Stopped while waiting: leave the place to the next run.
    if (!started) await claims.release(key, me);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const nameOf = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);

interface ExecutionRun {
  summary: Summary;
  execution: Execution;
  input: unknown;
  /** concurrency buffer: the run took the waiting place behind this execution. */
  bufferedBehind?: string;
}

async function runExecution(options: LocalRunOptions, claims: ClaimsPort, input: unknown, name?: string): Promise<ExecutionRun> {
  const { job, stage, backend, history } = options;
  const { redrive } = options;
  const definition = compile(job, localInfra(job, stage));
  // Slow the first time: done before the start time that other runs' prechecks compare with this run's.
  validateDefinition(definition);
  const started = new Date();
  const execution = redrive
    ? newExecution(job, stage, redrive.record.execution, new Date(redrive.record.startedAt))
    : newExecution(job, stage, name ?? executionName(started), started);
  let bufferedBehind: string | undefined;
  // StartExecution's own checks, before anything is recorded: a refused start is no run.
  if (!redrive) checkStartExecution(execution.name, input);
  const progress = new Progress({
    write: options.err, tty: options.tty ?? false, skipWaits: options.skipWaits ?? false, timeoutSeconds: job.timeoutSeconds,
  });
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The lease outlives the run's own deadline: an owner still alive past it is stuck, and its run is recovered.
  const lease = { leaseMs: runTimeoutSeconds(job) * 1000 };
  const record: RunRecord = redrive
    ? history.reopen({ ...redrive.record, pid: process.pid }, () => abort.abort(), lease) ?? notRedrivable(redrive.record)
    : history.start({
      job: job.name, stage, execution: execution.name, executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn, status: 'RUNNING', pid: process.pid, startedAt: started.toISOString(),
    }, input, () => abort.abort(), lease);
  // The store starts a run just after one recorded before it, if need be: the precheck orders runs by this time.
  execution.startTime = new Date(record.startedAt);
  progress.line(redrive
    ? `↻ ${job.name}  ${execution.name}  redriven from ${redrive.plan.startAt}  (stage ${stage}, ecs ${backend.name})`
    : `▶ ${job.name}  ${execution.name}  (stage ${stage}, ecs ${backend.name})`);

  /** Per StartedBy (one per fan-out item): what ran, for the summary; the first SUMMARY_ITEMS items only. */
  const runs = new Map<string, TaskRun>();
  const items = { total: 0, succeeded: 0, failed: 0 };
  /** The failed items with the lowest indexes, sorted by index. */
  const failedItems: FailedItem[] = [];
  /** Tasks still running, per StartedBy. */
  const pending = new Map<string, Promise<EcsTask>>();
  const notifications: Summary['notifications'] = [];
  // Printed after the run: the engine's event log trails the handlers, so printing now would jump ahead of it.
  const printed: string[] = [];
  const printNotification: NotifyDeps = { print: (text) => printed.push(text) };

  const secrets = localSecrets(job, progress);
  /** Items end in ItemSucceeded or ItemFailed (see workflows/compile.ts): counted as they end, the failed ones kept. */
  const countItem = (event: EventLog) => {
    if (!job.fanOut || event.type !== 'StateEntered') return;
    if (event.state.name === 'FanOut' && event.index === undefined) {
      items.total = (event.state.input as { items?: unknown[] }).items?.length ?? 0;
    } else if (event.state.name === 'ItemSucceeded' && event.index !== undefined) {
      items.succeeded++;
    } else if (event.state.name === 'ItemFailed' && event.index !== undefined) {
      items.failed++;
      const data = event.state.input as ItemData;
      const index = data.index ?? event.index;
      if (failedItems.length === SUMMARY_ITEMS && index > failedItems.at(-1)!.index) return;
      const task = data.runId === undefined ? undefined : runs.get(data.runId)?.task;
      const exitCode = data.outcome?.exitCode ?? (task && jobExitCode(task)) ?? null;
      failedItems.push({
        index,
        item: data.item,
        exitCode,
        attempts: data.outcome?.attempts ?? runs.get(data.runId ?? '')?.attempts ?? 0,
        status: data.outcome?.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED',
        ...(exitCode === null && data.outcome?.error && { reason: itemReason(data.outcome.error, data.outcome.cause) }),
      });
      failedItems.sort((a, b) => a.index - b.index);
      if (failedItems.length > SUMMARY_ITEMS) failedItems.pop();
    }
  };

  /** Records an attempt of a RunTask for the summary: per StartedBy, the first SUMMARY_ITEMS items only. */
  const trackAttempt = (params: RunTaskParams) => {
    const env = Object.fromEntries(params.Overrides.ContainerOverrides[0]!.Environment.map((e) => [e.Name, e.Value]));
    const item = env.STEPCRON_ITEM === undefined ? undefined : JSON.parse(env.STEPCRON_ITEM);
    const label = item === undefined ? '' : itemLabel(item);
    const run: TaskRun = runs.get(params.StartedBy) ?? { ...(item !== undefined && { item }), attempts: 0 };
    if (runs.size < SUMMARY_ITEMS) runs.set(params.StartedBy, run);
    // Attempts of the job (STEPCRON_ATTEMPT + 1); a start failure retried by ECS is not another attempt.
    run.attempts = Math.max(run.attempts, Number(env.STEPCRON_ATTEMPT ?? 0) + 1);
    // A new attempt after a timeout (retryOn: [timeout]) is judged on its own.
    run.timedOut = false;
    return { env, label, run };
  };
  /** Runtime warnings armed and not yet due; `ended` once the run is over (a due warning then stays quiet). */
  const warningTimers = new Set<NodeJS.Timeout>();
  let ended = false;
  // The runtime warning's one-time schedule is a timer here: the check goes out as it falls due, while the run goes on.
  const warningDeps: WarningDeps = {
    ...(options.notifyDeps ?? { print: (text) => progress.line(`  ⚠ ${text.split('\n')[0]}`) }),
    isRunning: async () => !ended,
    schedule: async (at, check) => {
      const timer = setTimeout(() => {
        warningTimers.delete(timer);
        runtimeWarning(check, warningDeps).then(({ notification: n }) => {
          if (n) notifications.push({ status: 'RUNNING', subject: n.subject, delivered: n.delivered });
        }, (err: Error) => progress.line(`  ! runtime warning not delivered: ${err.message}`));
      }, Math.max(0, at.getTime() - Date.now()));
      timer.unref();
      warningTimers.add(timer);
    },
  };
  /** What the run used, priced for the summary and the notification (workflows/cost.ts). */
  const usage = emptyUsage();
  /**
   * A Lambda call: counted, with the handler's own time as its billed duration (no cold start: a lower bound). A call
   * that prices the run itself (notify) bills the time it priced itself at, so its message and the summary agree.
   */
  const billed = async <T>(call: (clock: { elapsedMs: () => number; bill: (ms: number) => void }) => Promise<T>): Promise<T> => {
    const begun = performance.now();
    const elapsedMs = () => Math.max(1, Math.ceil(performance.now() - begun));
    let fixed: number | undefined;
    try {
      return await call({ elapsedMs, bill: (ms) => { fixed = ms; } });
    } finally {
      usage.lambda.invocations++;
      usage.lambda.billedMs += fixed ?? elapsedMs();
    }
  };
  const services: Services = {
    // Payloads are parsed with the handlers' own schemas, as the Lambda entries do.
    precheck: (event) => billed(async () => {
      // $$.Execution.StartTime as AWS gives it: when the execution started, which is the time the store recorded and
      // orders runs by. aws-local-stepfunctions puts its own clock there (when its run() began, milliseconds later),
      // and two runs started together then each saw the other as the earlier one: both skipped under forbid.
      const parsed = { ...parseOrThrow(PrecheckEventSchema, event, 'event'), startTime: execution.startTime.toISOString() };
      const result = await precheck(parsed, { executions: history.executions(), claims });
      bufferedBehind = result.bufferedBehind;
      return result;
    }),
    warning: (payload) => billed(() => runtimeWarning(parseOrThrow(WarningEventSchema, payload, 'event'), warningDeps)),
    notify: (payload: NotifyEvent) => billed(async (clock) => {
      const event = parseOrThrow(NotifyEventSchema, payload, 'event');
      const { subject } = formatNotification(event);
      // Counted as the summary will count them (FINAL_STATE): the run's last state ahead, and this call, which AWS's
      // history has as scheduled by now, billed for its time so far and that time only (its delivery, after the
      // message is written, would otherwise tip the summary's Lambda cost a rounded $0.000001 past the message's).
      const sofar = () => {
        const ms = clock.elapsedMs();
        clock.bill(ms);
        return priceRun({
          ...usage, transitions: usage.transitions + FINAL_STATE,
          lambda: { invocations: usage.lambda.invocations + 1, billedMs: usage.lambda.billedMs + ms },
        });
      };
      try {
        const result = await notify(event, {
          ...(options.notifyDeps ?? printNotification),
          cost: async () => sofar(),
          // No console holds a local run: its links are the commands that show it.
          local: { execution: execution.name, logs: `npx stepcron logs ${job.name} ${execution.name}` },
          tail: async (_event, taskArn) => outputTail(history, execution.name, [...runs.values()].find((r) => r.task?.TaskArn === taskArn)),
        });
        // Nothing delivered without an error: a success the job reports only when too fast (minRuntimeSeconds).
        if (result.delivered.length) notifications.push({ status: event.status, subject, delivered: result.delivered });
        return result;
      } catch (err) {
        notifications.push({ status: event.status, subject, delivered: [] });
        throw err;
      }
    }),
    runTask: async (params: RunTaskParams) => {
      // Stopping (Ctrl-C, SIGTERM): the engine may still reach a queued fan-out item or a retry; none of them starts.
      if (abort.signal.aborted) throw stopping();
      const { env, label, run } = trackAttempt(params);
      // The stored output says which item and which attempt wrote each line.
      const attempt = Number(env.STEPCRON_ATTEMPT ?? 0) + 1;
      const stored = `${label}${attempt > 1 ? `(attempt ${attempt}) ` : ''}`;
      const started = backend.run({
        job,
        cluster: params.Cluster,
        taskDefinition: params.TaskDefinition,
        startedBy: params.StartedBy,
        ...(params.CapacityProviderStrategy?.[0] && { capacityProvider: params.CapacityProviderStrategy[0].CapacityProvider as 'FARGATE' | 'FARGATE_SPOT' }),
        environment: { ...job.environment, ...secrets, ...env },
        command: job.command,
        onOutput: (stream, line) => {
          history.output(record, stream, `${stored}${line}`);
          return waitFor(stream === 'stdout' && !label ? options.out(`${line}\n`) : progress.line(`${label}${line}`));
        },
        onSpawn: (pgid) => history.spawned(record, pgid),
        onExit: (pgid) => history.exited(record, pgid),
      });
      pending.set(params.StartedBy, started);
      try {
        run.task = await started;
        const ran = run.task.StartedAt && Date.parse(run.task.StoppedAt) - Date.parse(run.task.StartedAt);
        if (typeof ran === 'number' && !Number.isNaN(ran)) {
          usage.tasks.push({ cpu: job.cpu, memoryMiB: job.memory, seconds: ran / 1000, spot: params.CapacityProviderStrategy?.[0]?.CapacityProvider === 'FARGATE_SPOT' });
        }
      } finally {
        pending.delete(params.StartedBy);
      }
      return run.task;
    },
    // Only the timed-out path looks tasks up by StartedBy (see FindTimedOutTasks).
    listTasks: async (startedBy) => {
      const run = runs.get(startedBy);
      if (run) run.timedOut = true;
      return backend.list(startedBy);
    },
    stopTask: (taskArn, reason) => backend.stop(taskArn, reason),
  };
  // Faults answer before the backend is asked, the way the real service would fail: same error names and causes.
  const faulty = options.faults?.length ? withFaults(services, options.faults, {
    job,
    skipWaits: options.skipWaits ?? false,
    onInject: (injection) => {
      // Attempts numbered as the summary counts them (from 1); the hit says which of the fault's <times> it was.
      const where = [
        injection.attempt !== undefined && `attempt ${injection.attempt}`, `hit ${injection.hit} of ${injection.times}`,
        injection.startedBy && job.fanOut && injection.startedBy,
      ].filter(Boolean).join(', ');
      progress.line(`  ⚡ fault ${injection.state}=${injection.fault} (${where}): ${injection.error}`);
      // A faulted RunTask attempt counts in the summary like a real one (a timed-out one is marked by listTasks).
      if (!injection.params) return;
      const { run } = trackAttempt(injection.params);
      if (injection.task) run.task = injection.task;
    },
  }) : undefined;

  let outcome: Awaited<ReturnType<typeof execute>>;
  try {
    outcome = await execute(definition, redrive ? redrive.plan.input : input, execution, {
      skipWaits: options.skipWaits ?? false,
      signal: abort.signal,
      // A redrive runs the same definition from the state it resumes at, with that state's input.
      ...(redrive && { startAt: redrive.plan.startAt }),
      ...(options.s3Dir && { s3Dir: options.s3Dir }),
      // A Distributed Map's items are counted by its map run (the Map state's input does not hold them).
      onMapRun: (mapRun, phase) => {
        items.total = mapRun.itemCounts.Total;
        if (phase === 'started') progress.setTotalItems(mapRun.itemCounts.Total);
        else progress.finishFanOut(mapRun.itemCounts);
      },
      onEvent: (event: EventLog) => {
        history.event(record, forHistory(event));
        progress.event(event);
        countItem(event);
        // Transitions so far, for a notification sent before the run ends; the summary takes the engine's count.
        if (event.type === 'StateEntered') usage.transitions++;
      },
      services: faulty?.services ?? services,
    });
  } catch (err) {
    // A bug of stepcron's own: the run ends FAILED with it, never left RUNNING with its slot held (the CLI exits 3).
    const stoppedAt = new Date();
    history.finish({
      ...record, status: 'FAILED', stoppedAt: stoppedAt.toISOString(), durationMs: stoppedAt.getTime() - started.getTime(), error: INTERNAL_ERROR,
    }, { error: INTERNAL_ERROR, cause: String((err as Error)?.stack ?? err) });
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    faulty?.close();
    ended = true;
    for (const timer of warningTimers) clearTimeout(timer);
    // Nothing of this run outlives it (a timed-out task may still be stopping); a backend shared by the scheduler
    // keeps other runs' tasks.
    const leftovers = (await Promise.all([...pending.keys()].map((startedBy) => backend.list(startedBy)))).flat();
    await Promise.all(leftovers.map((arn) => backend.stop(arn, 'stepcron: the run ended')));
    await Promise.allSettled(pending.values());
  }
  if (outcome.status === 'ABORTED') progress.line('  ■ aborted: the run was stopped (Ctrl-C, SIGTERM, or a newer run under concurrency replace)');
  for (const text of printed) {
    progress.line(`  notification (printed, not sent; --notify aws publishes it):\n${text.split('\n').map((l) => `  │ ${l}`).join('\n')}`);
  }

  const stopped = new Date();
  const summary: Summary = {
    job: job.name,
    execution: execution.name,
    status: outcome.status,
    durationMs: stopped.getTime() - started.getTime(),
    transitions: outcome.transitions,
    events: outcome.historyEvents,
    maxPayloadBytes: outcome.maxPayloadBytes,
    tasks: [...runs.values()].map((r) => ({
      ...(r.item !== undefined && { item: r.item }),
      exitCode: (r.task && jobExitCode(r.task)) ?? null,
      attempts: r.attempts,
      status: r.timedOut ? 'TIMED_OUT' : r.task && jobExitCode(r.task) === 0 ? 'SUCCEEDED' : 'FAILED',
    })),
    ...(job.fanOut && { items, failedItems }),
    notifications,
    cost: priceRun({ ...usage, transitions: outcome.transitions }),
    ...(faulty && { faults: faulty.injected.map(({ task: _task, params: _params, ...rest }) => rest) }),
    ...(outcome.status === 'SKIPPED' && { reason: (outcome.output as { reason?: string }).reason ?? '' }),
    ...(outcome.error !== undefined && { error: outcome.error }),
    ...(outcome.cause !== undefined && { cause: outcome.cause }),
  };
  try {
    const { unstored } = history.finish({
      ...record, status: summary.status, stoppedAt: stopped.toISOString(), durationMs: summary.durationMs,
      ...(summary.error !== undefined && { error: summary.error }),
    }, summary);
    if (unstored) summary.unstored = unstored;
  } catch (err) {
    // The store could not even record the outcome: the run's result stands all the same (its summary, its exit code).
    if (!(err instanceof StoreError)) throw err;
    progress.line(`  ! the outcome of this run could not be recorded: ${err.message}`);
    summary.unstored = { stdoutBytes: 0, stderrBytes: 0, events: 0, outcome: true, why: err.message };
  }
  // What the run wrote is out before whoever called prints the summary (directly, in order after it).
  flushBatch();
  return { summary, execution, input, ...(bufferedBehind !== undefined && { bufferedBehind }) };
}

/**
 * The last TAIL_LINES lines a task wrote, from the run store: the lines the runner labelled with its item and attempt
 * (see runTask's onOutput), or the run's last lines when the task is not among the runs tracked.
 */
function outputTail(history: Store, execution: string, run: TaskRun | undefined): string[] {
  const label = run?.item === undefined ? '' : itemLabel(run.item);
  const attempt = run && run.attempts > 1 ? `(attempt ${run.attempts}) ` : '';
  const all = history.logs(execution).chunks.map((c) => c.text).join('').split('\n').filter(Boolean);
  // A first attempt's lines carry no attempt label; a later one's do.
  const mine = run ? all.filter((line) => line.startsWith(label + attempt) && (attempt !== '' || !line.slice(label.length).startsWith('(attempt ')))
    .map((line) => line.slice(label.length + attempt.length)) : all;
  return mine.length ? mine.slice(-TAIL_LINES) : ['(none: the task wrote nothing)'];
}

/** Another redrive reopened the run first (the store's check, under its write lock). */
function notRedrivable(record: RunRecord): never {
  throw new RedriveRefused(`redrive: ${record.execution} is no longer FAILED, TIMED_OUT or ABORTED: another redrive has taken it`);
}

/** A stream the CLI writes to, and the promise of its 'drain' while its buffer is full (its reader is slow). */
interface Out { stream: Writable; full?: Promise<void> | undefined }
const outs = new Map<Writable, Out>();
/** Text not yet written, for one stream: written at the next turn of the event loop, or at BATCH_BYTES. */
let batch: { out: Out; text: string } | undefined;
let flushScheduled = false;
const BATCH_BYTES = 64 * 1024;

function flushBatch(): void {
  const pending = batch;
  batch = undefined;
  if (!pending) return;
  const { out } = pending;
  if (out.stream.destroyed || out.stream.writableEnded) return;
  if (!out.stream.write(pending.text)) out.full ??= drained(out);
}

function drained(out: Out): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.stream.off('drain', done);
      out.stream.off('close', done);
      out.full = undefined;
      resolve();
    };
    out.stream.on('drain', done);
    out.stream.on('close', done);
  });
}

/**
 * Writes to the CLI's stdout or stderr with back-pressure: while the stream's buffer is full (its reader is slow), the
 * promise returned settles at 'drain', and until then the job's output is not read (TaskRequest.onOutput), so memory
 * stays bounded and the job waits on its writes as it would on a pipe. A stream that closed holds nothing up.
 * Lines are batched, one write per turn of the event loop (or per 64 KiB): a write per line cost half the time of a
 * chatty job's output. The batch of one stream is written before another stream's text is taken, so stdout and stderr
 * keep the order their lines came in.
 */
export function writeTo(stream: Writable): (text: string) => void | Promise<void> {
  const mine = outs.get(stream) ?? { stream };
  outs.set(stream, mine);
  return (text) => {
    if (stream.destroyed || stream.writableEnded) return undefined;
    if (batch && batch.out !== mine) flushBatch();
    if (batch) batch.text += text;
    else batch = { out: mine, text };
    if (batch.text.length >= BATCH_BYTES) flushBatch();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(() => {
        flushScheduled = false;
        flushBatch();
      });
    }
    return mine.full;
  };
}

/** A writer's promise (back-pressure), if it returned one. */
const waitFor = (written: unknown) => (written instanceof Promise ? (written as Promise<void>) : undefined);

/**
 * What a Task state gets once its run is stopping: no Retry or Catch handles it (not even States.ALL), since on AWS no
 * state runs after StopExecution. The run reports ABORTED; this error is never its outcome.
 */
function stopping(): Error {
  return Object.assign(new Error('the run is stopping (Ctrl-C, SIGTERM): no task starts'),
    { name: 'ExecutionAborted', isRetryable: false, isCatchable: false });
}

/**
 * The event as the run store keeps it (which also cuts long fields, see compactEvent). A Map iteration's event carries the whole Map input (every item) as its
 * parentState: written for each iteration, that grows with the square of the items (54 MB for 2,400 items). AWS's
 * MapIteration* events hold only the Map's name and the index, and so does the store.
 */
function forHistory(event: EventLog): unknown {
  if (!('parentState' in event)) return event;
  return { ...event, parentState: { name: event.parentState.name, type: event.parentState.type } };
}

/** Secrets come from Secrets Manager/SSM in ECS; locally, from the same-named variables of your shell, if set. */
function localSecrets(job: Job, progress: Progress): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of Object.keys(job.secrets)) {
    const value = process.env[name];
    if (value !== undefined) found[name] = value;
    else progress.line(`  ! secret ${name} is not set locally (export ${name}=... to pass it to the job)`);
  }
  return found;
}

export function formatSummary(s: Summary): string {
  const lines = [
    '',
    `${s.status}  ${s.job}  ${s.execution}`,
    `  duration     ${seconds(s.durationMs)}`,
    `  transitions  ${s.transitions}`,
  ];
  if (s.events !== undefined) lines.push(`  history      ${s.events} events (AWS fails an execution at ${HISTORY_EVENT_LIMIT.toLocaleString('en-US')})`);
  if (s.maxPayloadBytes !== undefined) lines.push(`  max payload  ${kib(s.maxPayloadBytes)} (AWS fails a state above ${kib(PAYLOAD_LIMIT_BYTES)})`);
  if (s.cost) lines.push(`  cost         ${formatCost(s.cost)}`);
  if (s.reason) lines.push(`  reason       ${s.reason}`);
  if (s.buffered) lines.push(`  buffered     waited ${seconds(s.buffered.waitedMs)} for ${s.buffered.behind} (as ${s.buffered.execution})`);
  if (s.error) lines.push(`  error        ${s.error}${s.cause && !s.cause.startsWith('{') ? `: ${s.cause}` : ''}`);
  if (s.items) {
    const { total, succeeded, failed } = s.items;
    const unfinished = total - succeeded - failed;
    lines.push(`  items        ${succeeded} succeeded, ${failed} failed of ${total}${unfinished > 0 ? ` (${unfinished} did not finish)` : ''}`);
    const shown = (s.failedItems ?? []).slice(0, PRINTED_FAILURES);
    for (const f of shown) {
      lines.push(`    ${f.status.padEnd(9)} #${String(f.index).padEnd(6)} ${JSON.stringify(f.item).padEnd(20)} exit ${f.exitCode ?? '-'}  attempts ${f.attempts}${f.reason ? `  ${f.reason}` : ''}`);
    }
    if (failed > shown.length) lines.push(`    ... and ${failed - shown.length} more failed items (--json lists ${SUMMARY_ITEMS}; the run's events in .stepcron/store.db have them all)`);
  } else {
    for (const t of s.tasks) lines.push(`  task         ${t.status}, exit ${t.exitCode ?? '-'}, attempts ${t.attempts}`);
  }
  for (const n of s.notifications) lines.push(`  notified     ${n.subject} -> ${n.delivered.join(', ') || 'not delivered'}`);
  if (s.unstored) lines.push(`  not stored   ${unstoredText(s.unstored)} (${s.unstored.why ?? 'the disk was full'})`);
  return `${lines.join('\n')}\n`;
}

/** What the store lost, for the summary: the part of the output `stepcron logs` will not show, and where it is marked. */
function unstoredText(u: NonNullable<Summary['unstored']>): string {
  if (u.outcome) return 'this run at all: stepcron history will list it as RUNNING, then ABORTED';
  const parts = [u.stdoutBytes && `${u.stdoutBytes} bytes of stdout`, u.stderrBytes && `${u.stderrBytes} bytes of stderr`, u.events && `${u.events} events`]
    .filter(Boolean);
  return `${parts.join(', ')}: stepcron logs shows the rest, with a line where they are missing`;
}

/** An item's error and the first line of its cause (an ECS Task's JSON is left to --json and the store). */
function itemReason(error: string, cause: unknown): string {
  const text = typeof cause === 'string' && !cause.startsWith('{') ? cause.split('\n')[0]! : '';
  return text ? `${error}: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}` : error;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
