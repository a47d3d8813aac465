// The first state of every run: validates the run input, resolves fan-out items, makes sure a scheduled time runs once
// and applies the job's concurrency policy, so the state machine only branches on the answer (`run`). The same
// function starts a buffered run again when the run it waited for ends (startBuffered, from EventBridge).
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { type ReconcileEvent, type RunEndedEvent, type RunInput, RunInputSchema, type PrecheckEvent, type PrecheckResult, USER_RUN_INPUT_FIELDS } from './contracts';
import { InvalidInputError, parseOrThrow } from './errors';
import { S3_ITEMS } from '../../workflows/compile';
import { bufferedRunName } from '../../workflows/names';
import { overrideChars, RUN_INPUT_OVERRIDE_CHARS } from '../../workflows/limits';

export interface RunningExecution {
  executionArn: string;
  name: string;
  startDate: Date;
}

/** The Step Functions calls the precheck needs, behind a port so the logic runs without AWS. */
export interface ExecutionsPort {
  listRunning(stateMachineArn: string): Promise<RunningExecution[]>;
  stop(executionArn: string, cause: string): Promise<void>;
}

/**
 * Keys held by one owner at a time, until they expire: each scheduled time's run, and a buffer job's waiting place.
 * A DynamoDB table on AWS (dynamoClaims), the run store locally. Every call is atomic.
 */
export interface ClaimsPort {
  /**
   * Claims `key` for `owner` for ttlMs if it is free, expired, already the owner's (a retried precheck) or held by
   * `from` (a hand-over). Returns the owner holding the key afterwards: `owner` if it won.
   */
  claim(key: string, owner: string, ttlMs: number, from?: string): Promise<string>;
  /** Gives `key` up if `owner` holds it; false if it did not (nobody, or someone else, holds it). */
  release(key: string, owner: string): Promise<boolean>;
  /** Who holds `key` (an expired claim is nobody's). */
  holder(key: string): Promise<string | undefined>;
}

export interface PrecheckDeps {
  executions: ExecutionsPort;
  claims: ClaimsPort;
  now?: () => Date;
}

/** The claim keys. A state machine's name carries the stage and the job (`stepcron-prod-nightly-report`). */
export const claimKeys = {
  /** One run per scheduled time: the same instant however it is written (Z, +01:00, milliseconds). */
  run: (stateMachineArn: string, scheduledTime: string) => `run#${nameOf(stateMachineArn)}#${new Date(scheduledTime).toISOString()}`,
  /** The one run of a buffer job that may wait for the running one. */
  buffer: (stateMachineArn: string) => `buffer#${nameOf(stateMachineArn)}`,
  /**
   * A buffer job's run started without a scheduled time (by hand): what it claims instead of a time, so that the run
   * started again for it takes the claim over and a retried precheck of that run knows the hand-over was its own.
   */
  start: (stateMachineArn: string, executionArn: string) => `start#${nameOf(stateMachineArn)}#${nameOf(executionArn)}`,
};

/**
 * How long a scheduled time stays claimed: 90 days. Far longer than Scheduler retries a delivery (at most 24 h) and
 * as long as Step Functions keeps the execution the claim names, so `duplicate of <execution>` can always be looked
 * up, and a backfill can tell a time that already ran for the same 90 days.
 */
export const RUN_CLAIM_TTL_MS = 90 * 24 * 3600 * 1000;

/**
 * A waiting place outlives the run ahead's deadline by this much: when that run timed out and its status event was
 * lost, the reconcile (every 5 minutes, workflows/resources.ts) still finds the place and starts the waiting run.
 */
export const BUFFER_PLACE_MARGIN_MS = 15 * 60 * 1000;

/** The Error a replaced execution ends with (StopExecution's `error`). */
export const REPLACED_ERROR = 'stepcron.Replaced';
/** ECS StartedBy allows 128 characters; fan-out items append `-<index>`. */
const MAX_RUN_ID = 100;

type Decision = Pick<PrecheckResult, 'run' | 'reason' | 'bufferedBehind'>;

export async function precheck(event: PrecheckEvent, deps: PrecheckDeps): Promise<PrecheckResult> {
  // An unknown key offers the fields a person sets, not the scheduler's own (scheduleArn...), accepted all the same.
  const run = parseOrThrow(RunInputSchema, event.input ?? {}, 'input', USER_RUN_INPUT_FIELDS);
  const fanOut = event.policy.fanOut;
  if (run.items && !fanOut) {
    throw new InvalidInputError([`input.items: job ${event.job} does not fan out (no fanOut in the catalog): remove items`]);
  }
  if (run.itemsFrom && !fanOut) {
    throw new InvalidInputError([`input.itemsFrom: job ${event.job} does not fan out (no fanOut in the catalog): remove itemsFrom`]);
  }
  if (run.items && run.itemsFrom) throw new InvalidInputError(['input: give items or itemsFrom, not both']);
  const merged = { ...event.policy.input, ...run.input };
  // The run's own items win over the catalog's S3 object, as they win over its items and itemsPath.
  const source = fanOut && !run.items ? itemsSource(fanOut, run.itemsFrom) : null;
  const items = fanOut && !source ? resolveItems(fanOut, run.items, merged) : [];
  // Each container gets its item and the run input, not the list it was cut from: the 8 KiB limit is per item.
  const input = fanOut?.itemsPath && !run.items ? without(merged, fanOut.itemsPath) : merged;
  checkOverrideSize(input, items);

  // Every field is always present: the state machine's ResultSelector reads each one, even when the run is skipped.
  const result: Omit<PrecheckResult, keyof Decision> = {
    runId: toRunId(event.executionName),
    scheduledTime: run.scheduledTime ?? event.startTime,
    input,
    items,
    maxFailedItems: fanOut ? Math.floor((items.length * fanOut.toleratedFailurePercentage) / 100) : 0,
    route: !fanOut ? 'none' : source ? source.format : items.length > fanOut.inlineLimit ? 'items' : 'inline',
    source: source && { bucket: source.bucket, key: source.key },
  };
  // Checked before the concurrency policy so that a run with nothing to do never stops another.
  if (fanOut && !source && items.length === 0) return { run: false, reason: 'no items to fan out', ...result };
  return { ...(await decide(event, run, deps)), ...result };
}

/** A run's scheduled time, claimed by the one run that goes ahead for it. */
interface TimeClaim {
  /** Claims the time for this run before it runs or waits: a skip (duplicate) if another execution has it. */
  take(): Promise<Decision | undefined>;
  /** A run its policy skips: a duplicate of the time's holder if there is one, else the policy's reason. */
  skip(decision: Decision): Promise<Decision>;
}

/**
 * Scheduler delivers at least once: a second execution for a scheduled time must not run it again, whatever the
 * concurrency policy. The policy first decides which run goes ahead, without side effects; the run that would run or
 * wait claims the time before it stops or queues behind anyone, and is a duplicate if another execution has it.
 * Claiming before the policy could hand the time to the execution the policy then skips (forbid keeps the earlier run,
 * replace the later): both would skip. A run started by hand has no scheduledTime and is never a duplicate.
 */
async function decide(event: PrecheckEvent, run: RunInput, deps: PrecheckDeps): Promise<Decision> {
  // A run started for a buffered one takes its waiting place first: if the buffered run went itself (the job was free
  // when it re-checked), its place is gone and this run would run the same time twice.
  const from = run.bufferedFrom;
  const handedOver = from !== undefined && await deps.claims.release(claimKeys.buffer(event.stateMachine), from);
  const time = run.scheduledTime;
  if (time === undefined && event.policy.concurrency !== 'buffer') {
    return applyConcurrency(event, deps, { take: async () => undefined, skip: async (decision) => decision });
  }
  // A run by hand has no time to claim; under buffer it claims its own start, which a run started for it takes over.
  const key = time !== undefined ? claimKeys.run(event.stateMachine, time) : claimKeys.start(event.stateMachine, from ?? event.execution);
  const duplicate = (holder: string): Decision => ({
    run: false,
    reason: time !== undefined
      ? `duplicate of ${nameOf(holder)}: it has already claimed scheduled time ${new Date(time).toISOString()}`
      : `duplicate of ${nameOf(holder)}: it no longer waits in the buffer (it ran, or its place expired)`,
  });
  return applyConcurrency(event, deps, {
    async take() {
      // Step Functions retries a precheck whose Lambda failed: the retry finds the place gone (its first attempt took it
      // over) and the claim already its own. A free start claim was never handed over: its run went, or expired.
      if (time === undefined && from !== undefined && !handedOver) {
        const holder = await deps.claims.holder(key);
        return holder === event.execution ? undefined : duplicate(holder ?? from);
      }
      const holder = await deps.claims.claim(key, event.execution, RUN_CLAIM_TTL_MS, handedOver ? from : undefined);
      return holder === event.execution ? undefined : duplicate(holder);
    },
    async skip(decision) {
      const holder = await deps.claims.holder(key);
      const mine = holder === undefined || holder === event.execution || (handedOver && holder === from);
      return mine ? decision : duplicate(holder);
    },
  });
}

/** The execution name in the characters ECS accepts in StartedBy, which is how a timed-out task is found again. */
export function toRunId(executionName: string): string {
  return executionName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_RUN_ID);
}

async function applyConcurrency(event: PrecheckEvent, deps: PrecheckDeps, time: TimeClaim): Promise<Decision> {
  const policy = event.policy.concurrency;
  const go = async (decision: Decision) => (await time.take()) ?? decision;
  if (policy === 'allow') return go({ run: true, reason: 'concurrency allow' });

  const self = { name: event.executionName, startDate: new Date(event.startTime) };
  const others = (await deps.executions.listRunning(event.stateMachine))
    .filter((e) => e.executionArn !== event.execution);
  if (others.length === 0) return go({ run: true, reason: 'no other run in progress' });
  // At-least-once delivery can start two runs at once: only the earlier run wins, or both would skip (or stop each other).
  const earlier = others.filter((e) => startsFirst(e, self)).sort((a, b) => (startsFirst(a, b) ? -1 : 1));
  const later = others.filter((e) => !startsFirst(e, self));

  if (policy === 'buffer') {
    if (earlier.length === 0) return go({ run: true, reason: `concurrency buffer: ${names(later)} started after this run and will wait or skip` });
    return (await time.take()) ?? takeBufferPlace(event, self, earlier, deps);
  }

  if (policy === 'forbid') {
    const oldest = earlier[0];
    if (!oldest) return go({ run: true, reason: `concurrency forbid: ${names(later)} started after this run and will skip` });
    const minutes = Math.round(((deps.now?.() ?? new Date()).getTime() - oldest.startDate.getTime()) / 60_000);
    return time.skip({
      run: false,
      reason: `concurrency forbid: ${oldest.name} has been running since ${oldest.startDate.toISOString()} (${minutes} min)`,
    });
  }

  const newest = later.sort((a, b) => (startsFirst(a, b) ? 1 : -1))[0];
  if (newest) return time.skip({ run: false, reason: `concurrency replace: ${newest.name} started after this run and replaces it` });
  // Claimed before stopping anything: a duplicate must not stop the run it duplicates.
  const duplicate = await time.take();
  if (duplicate) return duplicate;
  const cause = `replaced by ${event.executionName} (${event.execution})`;
  await Promise.all(earlier.map((e) => deps.executions.stop(e.executionArn, cause)));
  const count = earlier.length;
  return { run: true, reason: `concurrency replace: stopped ${count} running execution${count === 1 ? '' : 's'} (${names(earlier)})` };
}

/**
 * concurrency buffer with a run in progress: this run takes the job's one waiting place and ends (skipped); when the
 * runs ahead of it have ended, startBuffered starts it again. No place free: it skips, as forbid would.
 */
async function takeBufferPlace(event: PrecheckEvent, self: { name: string; startDate: Date }, ahead: RunningExecution[],
  deps: PrecheckDeps): Promise<Decision> {
  const runTimeout = event.policy.runTimeoutSeconds;
  if (runTimeout === undefined) throw new InvalidInputError(['event.policy.runTimeoutSeconds: is required with concurrency buffer']);
  const key = claimKeys.buffer(event.stateMachine);
  // The place expires a margin after the run ahead must have ended (its deadline), so a place whose starter never came
  // is freed, and the reconcile has time to find one whose run ahead timed out without a status event.
  const holder = await deps.claims.claim(key, event.execution, runTimeout * 1000 + BUFFER_PLACE_MARGIN_MS);
  if (holder !== event.execution) {
    return { run: false, reason: `concurrency buffer: ${nameOf(holder)} is already waiting for ${names(ahead)}; at most one run waits` };
  }
  // Re-checked now that the place is taken: a run that ended in between found nobody waiting, and nothing would start
  // this one. The one that releases the place goes: this run, or what the ended run's startBuffered started for it.
  const still = (await deps.executions.listRunning(event.stateMachine))
    .filter((e) => e.executionArn !== event.execution && startsFirst(e, self));
  if (still.length === 0) {
    if (await deps.claims.release(key, event.execution)) {
      return { run: true, reason: `concurrency buffer: ${names(ahead)} ended while this run took the waiting place` };
    }
    return { run: false, reason: `buffered: ${names(ahead)} ended and this run was started again` };
  }
  return { run: false, reason: `buffered: starts when ${names(still)} ends`, bufferedBehind: still.at(-1)!.executionArn };
}

/** Start time, then name: a total order, so two runs that started in the same millisecond agree on which is first. */
function startsFirst(a: { name: string; startDate: Date }, b: { name: string; startDate: Date }): boolean {
  const diff = a.startDate.getTime() - b.startDate.getTime();
  return diff < 0 || (diff === 0 && a.name < b.name);
}

function names(executions: RunningExecution[]): string {
  return executions.map((e) => e.name).join(', ');
}

/** The last part of an ARN: an execution's or state machine's name. */
function nameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/** Reads and starts executions: what startBuffered needs of Step Functions. */
export interface RestartPort {
  /** The run input an execution was started with. */
  input(executionArn: string): Promise<unknown>;
  /** Starts an execution; one already started under that name counts as started (the event came twice). */
  start(stateMachineArn: string, name: string, input: Record<string, unknown>): Promise<void>;
}

export interface StartBufferedDeps {
  executions: ExecutionsPort;
  claims: ClaimsPort;
  restart: RestartPort;
}

/**
 * A run of the job ended (EventBridge: SUCCEEDED, FAILED, TIMED_OUT or ABORTED): if a buffered run waits and nothing
 * else runs, start it again with its input and scheduled time, naming it in `bufferedFrom` so that the new run takes
 * over its place and its claim on the scheduled time. Another run still going: its own end will start it.
 */
export async function startBuffered(event: RunEndedEvent, deps: StartBufferedDeps): Promise<BufferedStart> {
  const { stateMachineArn, executionArn: ended } = event.detail;
  const waiting = await deps.claims.holder(claimKeys.buffer(stateMachineArn));
  if (!waiting) return { started: null, reason: 'no run waits' };
  return startWaiting(stateMachineArn, waiting, ended, deps);
}

export interface BufferedStart { started: string | null; reason: string }

/** Buffer jobs' state machines looked at in parallel by one reconcile: GetItem and ListExecutions stay well in quota. */
const RECONCILE_AT_ONCE = 10;

/**
 * The reconcile (a schedule every few minutes, workflows/resources.ts): EventBridge delivers status-change events
 * best effort, and one lost event would strand the waiting run (and its claim on its scheduled time). For each buffer
 * job, a run waiting with nothing in progress any more is started, under the same name startBuffered would use: both
 * may fire, and StartExecution of an existing name starts nothing new. Every job is looked at even if one fails.
 */
export async function reconcileBuffered(event: ReconcileEvent, deps: StartBufferedDeps): Promise<ReconcileResult> {
  const results: ReconcileResult['results'] = [];
  const failures: string[] = [];
  for (let i = 0; i < event.stateMachines.length; i += RECONCILE_AT_ONCE) {
    const batch = event.stateMachines.slice(i, i + RECONCILE_AT_ONCE);
    const settled = await Promise.allSettled(batch.map(async (stateMachine) => {
      const waiting = await deps.claims.holder(claimKeys.buffer(stateMachine));
      return { stateMachine, ...(waiting ? await startWaiting(stateMachine, waiting, undefined, deps) : { started: null, reason: 'no run waits' }) };
    }));
    settled.forEach((s, j) => {
      if (s.status === 'fulfilled') results.push(s.value);
      else failures.push(`${nameOf(batch[j]!)}: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}`);
    });
  }
  // Failed: the invocation fails too (Lambda retries it, then its failure destination has it); the next one tries again.
  if (failures.length > 0) throw new Error(`reconcile of buffered runs: ${failures.join('; ')}`);
  return { results };
}

export interface ReconcileResult { results: Array<BufferedStart & { stateMachine: string }> }

/**
 * Starts the run waiting in the place (`waiting`) again, unless a run other than `ended` (the run whose end was
 * announced, if any) is still in progress.
 */
export async function startWaiting(stateMachineArn: string, waiting: string, ended: string | undefined, deps: StartBufferedDeps): Promise<BufferedStart> {
  // The ended run may still be listed for a moment (ListExecutions is eventually consistent): this event says it ended.
  const running = (await deps.executions.listRunning(stateMachineArn))
    .filter((e) => e.executionArn !== ended && e.executionArn !== waiting);
  if (running.length > 0) return { started: null, reason: `${nameOf(waiting)} waits for ${names(running)}` };
  const input = await deps.restart.input(waiting);
  const name = bufferedRunName(waiting);
  await deps.restart.start(stateMachineArn, name, { ...(isObject(input) ? input : {}), bufferedFrom: waiting });
  const why = ended ? `waited for ${nameOf(ended)}` : 'waited, and no run is in progress any more';
  return { started: name, reason: `${nameOf(waiting)} ${why}: started as ${name}` };
}

// The run started for a buffered one is named by workflows/names.ts (its table checks the name fits 80 characters).
export { bufferedRunName };

type FanOutPolicy = NonNullable<PrecheckEvent['policy']['fanOut']>;

function resolveItems(fanOut: FanOutPolicy, runItems: unknown[] | undefined, input: Record<string, unknown>): unknown[] {
  if (runItems) return runItems;
  if (fanOut.itemsPath) {
    const found = valueAt(input, fanOut.itemsPath);
    if (!Array.isArray(found)) {
      throw new InvalidInputError([
        `input.input${fanOut.itemsPath.slice(1)}: must be a JSON array of items (the job's fanOut.itemsPath ` +
        `${fanOut.itemsPath} reads it from the run input), found ${describe(found)}`,
      ]);
    }
    return found;
  }
  if (fanOut.items) return fanOut.items;
  throw new InvalidInputError(['input.items: is required: the job has neither fanOut.items nor fanOut.itemsPath']);
}

/** The S3 object a run fans out over: the run's `itemsFrom`, else the catalog's; null when the items are inline. */
function itemsSource(fanOut: FanOutPolicy, fromRun: string | undefined): { bucket: string; key: string; format: 'json' | 'jsonl' | 'csv' } | null {
  const url = fromRun ?? fanOut.itemsFrom;
  if (!url) return null;
  const match = S3_ITEMS.exec(url);
  if (!match) {
    throw new InvalidInputError([`input.itemsFrom: '${url}' must be s3://bucket/key ending in .json (an array), .jsonl or .csv (with a header row)`]);
  }
  const [, bucket, key, ending] = match as unknown as [string, string, string, string];
  if (!fanOut.itemsPrefixes.some((prefix) => url.startsWith(prefix))) {
    throw new InvalidInputError([`input.itemsFrom: '${url}': this job may read items only under ${fanOut.itemsPrefixes.join(' or ')} ` +
      "(its fanOut.itemsFrom bucket and the stage bucket's items/ folder): upload the object there"]);
  }
  return { bucket, key, format: ending === 'csv' ? 'csv' : ending === 'json' ? 'json' : 'jsonl' };
}

/** A copy of `root` without the value at `$.a.b`. */
function without(root: Record<string, unknown>, path: string): Record<string, unknown> {
  const [head, ...rest] = path.replace(/^\$\.?/, '').split('.');
  if (!head || !Object.hasOwn(root, head)) return root;
  const { [head]: value, ...others } = root;
  if (rest.length === 0) return others;
  return isObject(value) ? { ...others, [head]: without(value, `$.${rest.join('.')}`) } : root;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `$.a.b` in an object; own properties only, so a path cannot reach into prototypes. */
function valueAt(root: Record<string, unknown>, path: string): unknown {
  let value: unknown = root;
  for (const key of path.replace(/^\$\.?/, '').split('.').filter(Boolean)) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function checkOverrideSize(input: Record<string, unknown>, items: unknown[]): void {
  let size: number;
  try {
    size = overrideChars(input, items);
  } catch (err) {
    // A few thousand levels of nesting fit in Step Functions' 256 KB input but overflow JSON.stringify's stack.
    if (err instanceof RangeError) throw new InvalidInputError(['input: is nested too deeply to pass to the container: flatten it, or pass an S3 key instead']);
    throw err;
  }
  if (size > RUN_INPUT_OVERRIDE_CHARS) {
    throw new InvalidInputError([
      `input: is ${size} characters as container overrides (input${items.length ? ' plus the largest item' : ''}); ` +
      `ECS allows 8 KiB in total: keep it under ${RUN_INPUT_OVERRIDE_CHARS}, e.g. pass an S3 key instead of the data`,
    ]);
  }
}

/** The ExecutionsPort backed by Step Functions. */
export function sfnExecutions(client: SFNClient): ExecutionsPort {
  return {
    async listRunning(stateMachineArn) {
      const running: RunningExecution[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new ListExecutionsCommand({
          stateMachineArn, statusFilter: 'RUNNING', ...(nextToken ? { nextToken } : {}),
        }));
        for (const e of page.executions ?? []) {
          if (e.executionArn && e.name && e.startDate) {
            running.push({ executionArn: e.executionArn, name: e.name, startDate: e.startDate });
          }
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return running;
    },
    async stop(executionArn, cause) {
      await client.send(new StopExecutionCommand({ executionArn, error: REPLACED_ERROR, cause }));
    },
  };
}

/** The RestartPort backed by Step Functions. */
export function sfnRestart(client: SFNClient): RestartPort {
  return {
    async input(executionArn) {
      const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
      return JSON.parse(execution.input ?? '{}');
    },
    async start(stateMachineArn, name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      } catch (err) {
        // Started by an earlier delivery of the same event (and it has ended, or its input differs: not ours to judge).
        if ((err as Error).name !== 'ExecutionAlreadyExists') throw err;
      }
    },
  };
}

/**
 * The ClaimsPort backed by a DynamoDB table: partition key `pk`, the holder in `owner`, and `expiresAt` in epoch
 * seconds (the table's TTL attribute). TTL deletes expired items only within a few days, so every condition also
 * treats an expired item as free.
 */
export function dynamoClaims(client: DynamoDBClient, table: string, now: () => number = Date.now): ClaimsPort {
  const seconds = (ms: number) => ({ N: String(Math.floor(ms / 1000)) });
  return {
    async claim(key, owner, ttlMs, from) {
      const at = now();
      try {
        await client.send(new PutItemCommand({
          TableName: table,
          Item: { pk: { S: key }, owner: { S: owner }, expiresAt: seconds(at + ttlMs) },
          ConditionExpression: `attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner${from ? ' OR #owner = :from' : ''}`,
          // `owner` is a DynamoDB reserved word.
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': seconds(at), ':owner': { S: owner }, ...(from && { ':from': { S: from } }) },
          // The holder comes back with the refusal: no second read, which could find another holder.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }));
        return owner;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const holder = (err as { Item?: { owner?: { S?: string } } }).Item?.owner?.S;
        if (!holder) throw new Error(`claim ${key}: DynamoDB refused the write but returned no holder`);
        return holder;
      }
    },
    async release(key, owner) {
      try {
        await client.send(new DeleteItemCommand({
          TableName: table,
          Key: { pk: { S: key } },
          ConditionExpression: '#owner = :owner AND expiresAt >= :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner }, ':now': seconds(now()) },
        }));
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },
    async holder(key) {
      const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: key } }, ConsistentRead: true }));
      if (!Item?.owner?.S || Number(Item.expiresAt?.N) < Math.floor(now() / 1000)) return undefined;
      return Item.owner.S;
    },
  };
}

function isConditionFailure(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Claims in this process's memory: for `sls invoke local`, where each invocation is its own process. */
export function memoryClaims(now: () => number = Date.now): ClaimsPort {
  const held = new Map<string, { owner: string; expiresAt: number }>();
  const current = (key: string) => {
    const claim = held.get(key);
    return claim && claim.expiresAt >= now() ? claim.owner : undefined;
  };
  return {
    async claim(key, owner, ttlMs, from) {
      const holder = current(key);
      if (holder !== undefined && holder !== owner && holder !== from) return holder;
      held.set(key, { owner, expiresAt: now() + ttlMs });
      return owner;
    },
    async release(key, owner) {
      if (current(key) !== owner) return false;
      held.delete(key);
      return true;
    },
    async holder(key) {
      return current(key);
    },
  };
}
