// The first state of every run: validates the run input, resolves fan-out items and applies the job's concurrency
// policy, so the state machine only branches on the answer (`run`).
import { ListExecutionsCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { RunInputSchema, type PrecheckEvent, type PrecheckResult } from './contracts';
import { InvalidInputError, parseOrThrow } from './errors';
import { S3_ITEMS } from '../../workflows/compile';

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

export interface PrecheckDeps {
  executions: ExecutionsPort;
  now?: () => Date;
}

/** The Error a replaced execution ends with (StopExecution's `error`). */
export const REPLACED_ERROR = 'stepcron.Replaced';
/** ECS StartedBy allows 128 characters; fan-out items append `-<index>`. */
const MAX_RUN_ID = 100;
// ECS container overrides allow 8 KiB in total and carry the input (and item) as JSON inside JSON; the rest is
// left for the other STEPCRON_* variables.
const MAX_OVERRIDE_CHARS = 7 * 1024;

type Decision = Pick<PrecheckResult, 'run' | 'reason'>;

export async function precheck(event: PrecheckEvent, deps: PrecheckDeps): Promise<PrecheckResult> {
  const run = parseOrThrow(RunInputSchema, event.input ?? {}, 'input');
  const fanOut = event.policy.fanOut;
  if (run.items && !fanOut) {
    throw new InvalidInputError([`input.items: job ${event.job} does not fan out (no fanOut in the catalog): remove items`]);
  }
  if (run.itemsFrom && !fanOut) {
    throw new InvalidInputError([`input.itemsFrom: job ${event.job} does not fan out (no fanOut in the catalog): remove itemsFrom`]);
  }
  if (run.items && run.itemsFrom) throw new InvalidInputError(['input: give items or itemsFrom, not both']);
  const merged = { ...event.policy.input, ...run.input };
  const source = fanOut ? itemsSource(fanOut, run.items ? undefined : run.itemsFrom) : null;
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
  return { ...(await applyConcurrency(event, deps)), ...result };
}

/** The execution name in the characters ECS accepts in StartedBy, which is how a timed-out task is found again. */
export function toRunId(executionName: string): string {
  return executionName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_RUN_ID);
}

async function applyConcurrency(event: PrecheckEvent, deps: PrecheckDeps): Promise<Decision> {
  const policy = event.policy.concurrency;
  if (policy === 'allow') return { run: true, reason: 'concurrency allow' };

  const self = { name: event.executionName, startDate: new Date(event.startTime) };
  const others = (await deps.executions.listRunning(event.stateMachine))
    .filter((e) => e.executionArn !== event.execution);
  if (others.length === 0) return { run: true, reason: 'no other run in progress' };
  // At-least-once delivery can start two runs at once: only the earlier run wins, or both would skip (or stop each other).
  const earlier = others.filter((e) => startsFirst(e, self)).sort((a, b) => (startsFirst(a, b) ? -1 : 1));
  const later = others.filter((e) => !startsFirst(e, self));

  if (policy === 'forbid') {
    const oldest = earlier[0];
    if (!oldest) return { run: true, reason: `concurrency forbid: ${names(later)} started after this run and will skip` };
    const minutes = Math.round(((deps.now?.() ?? new Date()).getTime() - oldest.startDate.getTime()) / 60_000);
    return {
      run: false,
      reason: `concurrency forbid: ${oldest.name} has been running since ${oldest.startDate.toISOString()} (${minutes} min)`,
    };
  }

  const newest = later.sort((a, b) => (startsFirst(a, b) ? 1 : -1))[0];
  if (newest) return { run: false, reason: `concurrency replace: ${newest.name} started after this run and replaces it` };
  const cause = `replaced by ${event.executionName} (${event.execution})`;
  await Promise.all(earlier.map((e) => deps.executions.stop(e.executionArn, cause)));
  const count = earlier.length;
  return { run: true, reason: `concurrency replace: stopped ${count} running execution${count === 1 ? '' : 's'} (${names(earlier)})` };
}

/** Start time, then name: a total order, so two runs that started in the same millisecond agree on which is first. */
function startsFirst(a: { name: string; startDate: Date }, b: { name: string; startDate: Date }): boolean {
  const diff = a.startDate.getTime() - b.startDate.getTime();
  return diff < 0 || (diff === 0 && a.name < b.name);
}

function names(executions: RunningExecution[]): string {
  return executions.map((e) => e.name).join(', ');
}

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
  const inJson = (value: unknown) => {
    try {
      return JSON.stringify(JSON.stringify(value)).length;
    } catch (err) {
      // A few thousand levels of nesting fit in Step Functions' 256 KB input but overflow JSON.stringify's stack.
      if (err instanceof RangeError) throw new InvalidInputError(['input: is nested too deeply to pass to the container: flatten it, or pass an S3 key instead']);
      throw err;
    }
  };
  const largestItem = items.reduce<number>((max, item) => Math.max(max, inJson(item)), 0);
  const size = inJson(input) + largestItem;
  if (size > MAX_OVERRIDE_CHARS) {
    throw new InvalidInputError([
      `input: is ${size} characters as container overrides (input${items.length ? ' plus the largest item' : ''}); ` +
      `ECS allows 8 KiB in total: keep it under ${MAX_OVERRIDE_CHARS}, e.g. pass an S3 key instead of the data`,
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
