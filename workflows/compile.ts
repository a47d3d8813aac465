// One job -> one Standard state machine in JSONPath ASL. Pure: infrastructure comes in as values (plain strings for a
// local run, CloudFormation intrinsics for a deploy), so the same definition serves both.
//
//   Precheck -> ShouldRun -> RunTask ---------------------------------------------> NotifySuccess? -> Succeeded
//                  |            | Timeout: FindTimedOutTasks -> StopTimedOutTasks -> MarkTimedOut ---------\
//                  |            | error:   IsTaskFailure -- not a task that ran --> MarkStartFailed ---------+
//                  |            |            \-> ReadTaskFailure -> FindJobContainer -> ReadExitCode<n>       |
//                  |            |                 -> ShouldRetry -> PrepareRetry -> WaitToRetry -> RunTask   |
//                  |            |                              \-> MarkJobFailed ---------------------------+-> NotifyFailure? -> Failed
//                  |           (fan-out: FanOut Map of the same task states per item -> CountFailures -> TooManyFailures)
//                  \-> Skipped (Succeed, with the reason: duplicate of the run that claimed the scheduled time,
//                      no items, concurrency forbid/replace, or buffered)
//   concurrency buffer, outside the definition (no SendTaskSuccess: IAM cannot scope it to a resource): a run skipped
//   as buffered holds the job's waiting place; when the run ahead ends, EventBridge (Execution Status Change) ->
//   precheck function (startBuffered) -> StartExecution with bufferedFrom -> Precheck takes over its place and time.
//   (runtimeWarningSeconds: ShouldRun -> ArmRuntimeWarning -> RunTask/RouteFanOut; minRuntimeSeconds: success goes
//    through NotifySuccess, which reports only a too-fast run unless notify.onSuccess; retryOn: [timeout]:
//    StopTimedOutTasks -> ShouldRetryTimeout -> PrepareRetry while retries are left, else MarkTimedOut)
import type { Job } from './catalog';
import { HISTORY_EVENT_LIMIT, historyEventCount, INLINE_MAP_MAX_CONCURRENCY, iterationEvents } from './limits';

/** A value in the definition: a literal, or a CloudFormation intrinsic the deploy resolves. */
export type Ref = string | { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Sub': string };

export interface Infra {
  stage: string;
  cluster: Ref;
  taskDefinition: Ref;
  subnets: Ref[];
  securityGroups: Ref[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
  precheckFunction: Ref;
  notifyFunction: Ref;
  logGroup: Ref;
  /** The stage's bucket for fan-out results (Distributed Map ResultWriter) and items uploaded for runs. */
  resultsBucket: Ref;
  /** `s3://<that bucket>/items/`: where a run's `itemsFrom` may point besides the catalog's own bucket. */
  itemsPrefix: Ref;
}

/** The container that runs the job in every task definition; exit codes are judged on it, never on a sidecar. */
export const JOB_CONTAINER = 'job';

/** Error names on the run's Fail states: what alarms, the console and `stepcron run` report. */
export const FAILURE = {
  failed: 'JobFailed',
  timedOut: 'JobTimedOut',
  startFailed: 'JobStartFailed',
  precheck: 'PrecheckFailed',
  tolerance: 'FanOutToleranceExceeded',
  fanOut: 'FanOutFailed',
} as const;

/** How a fan-out run reaches its items (the precheck decides; `RouteFanOut` branches on it). */
export const ROUTES = {
  /** The items are in the state (a catalog list, the run's `items`, or `itemsPath`) and few enough for inline Map. */
  inline: 'FanOut',
  /** The same, but more than one execution's history holds: a Distributed Map over the state's items. */
  items: 'FanOutDistributed',
  /** An S3 object (catalog or run input `itemsFrom`), by format: a Distributed Map reading it (ItemReader). */
  json: 'FanOutJson',
  jsonl: 'FanOutJsonl',
  csv: 'FanOutCsv',
} as const;
export type Route = keyof typeof ROUTES;

/** History events of one inline item that succeeds at once: MapIteration events, the `.sync` task's, ItemSucceeded's. */
// Functions, not constants computed at load: the Lambda bundles import this module for a few names and leave the
// event model (workflows/limits.ts) out only if nothing runs it when they load.
const itemEvents = () => iterationEvents([{ state: 'Task', task: 'sync' }, { state: 'Pass' }]);
/**
 * Each retry adds a failed attempt (entered, failed, exited after the Catch) and the loop back to RunTask:
 * IsTaskFailure, ReadTaskFailure, FindJobContainer, ReadExitCode<n>, ShouldRetry, PrepareRetry, WaitToRetry.
 */
const retryEvents = () => historyEventCount({ kind: 'stateEntered', state: 'Task', task: 'sync' })
  + historyEventCount({ kind: 'stateFailed', state: 'Task', task: 'sync', error: 'States.TaskFailed' })
  + historyEventCount({ kind: 'stateExited', state: 'Task', task: 'sync', caught: true })
  + (['Choice', 'Pass', 'Choice', 'Pass', 'Choice', 'Pass', 'Wait'] as const)
    .reduce((n, state) => n + historyEventCount({ kind: 'stateEntered', state }) + historyEventCount({ kind: 'stateExited', state }), 0);
/**
 * A timed-out attempt that is retried (retryOn: [timeout]): RunTask times out and is caught, FindTimedOutTasks,
 * StopTimedOutTasks stopping one task (a Map of one iteration), then ShouldRetryTimeout, PrepareRetry, WaitToRetry.
 */
const timeoutRetryEvents = () => historyEventCount({ kind: 'stateEntered', state: 'Task', task: 'sync' })
  + historyEventCount({ kind: 'stateFailed', state: 'Task', task: 'sync', error: 'States.Timeout' })
  + historyEventCount({ kind: 'stateExited', state: 'Task', task: 'sync', caught: true })
  + historyEventCount({ kind: 'stateEntered', state: 'Task', task: 'request' }) + historyEventCount({ kind: 'stateExited', state: 'Task', task: 'request' })
  + historyEventCount({ kind: 'stateEntered', state: 'Map' }) + iterationEvents([{ state: 'Task', task: 'request' }])
  + historyEventCount({ kind: 'stateExited', state: 'Map' })
  + (['Choice', 'Pass', 'Wait'] as const)
    .reduce((n, state) => n + historyEventCount({ kind: 'stateEntered', state }) + historyEventCount({ kind: 'stateExited', state }), 0);
/** Events the run spends outside the Map (precheck, counting, notification), with room to spare. */
const RUN_EVENTS = 200;

/**
 * The most items an inline Map can take in one execution's history if every item used all its retries. Longer lists
 * take the Distributed Map, whose items each have their own child execution and history.
 */
export function inlineItemLimit(job: Job): number {
  const perRetry = retriesTimeouts(job) ? Math.max(retryEvents(), timeoutRetryEvents()) : retryEvents();
  return Math.floor((HISTORY_EVENT_LIMIT - RUN_EVENTS) / (itemEvents() + job.retries * perRetry));
}

/** How many container slots of the ECS Task to search for the job's container (the job, plus injected sidecars). */
const CONTAINER_SLOTS = 3;
/** A fan-out item's result when it succeeded. */
export const ITEM_OK = 'ok';
const succeededSome = (yes: boolean) => ({ Variable: '$.tally.anySucceeded', BooleanEquals: yes });

/**
 * Transient ECS start failures, retried with backoff and jitter: throttling (ECS.AmazonECSException "Rate exceeded"),
 * placement and capacity (AmazonECS.Unknown), ECS's own 5xx (ECS.ServerException). Other ECS.* errors, such as
 * ECS.ClientException for a missing task definition, are mistakes no retry fixes: they fail the run at once.
 */
export const START_FAILURES = ['ECS.AmazonECSException', 'AmazonECS.Unknown', 'ECS.ServerException'];
const LAMBDA_TRANSIENT = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException'];

type State = Record<string, unknown>;
type States = Record<string, State>;
export interface Definition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: States;
}

export function compile(job: Job, infra: Infra): Definition {
  const fanOut = job.fanOut;
  const failureExit = job.notify.onFailure ? 'NotifyFailure' : 'Failed';
  const states: States = {
    Precheck: precheckState(job, infra),
    PrecheckFailed: markOutcome('FAILED', FAILURE.precheck, { path: '$.Cause' }, failureExit, false),
    ShouldRun: {
      Type: 'Choice',
      Choices: [{ Variable: '$.run', BooleanEquals: true, Next: job.runtimeWarningSeconds ? 'ArmRuntimeWarning' : fanOut ? 'RouteFanOut' : 'RunTask' }],
      Default: 'Skipped',
    },
    ...(job.runtimeWarningSeconds && { ArmRuntimeWarning: armRuntimeWarningState(job, infra, fanOut ? 'RouteFanOut' : 'RunTask') }),
    Skipped: { Type: 'Succeed', Comment: 'The precheck decided not to run (see reason)' },
  };

  if (fanOut) {
    states.RouteFanOut = {
      Type: 'Choice',
      Comment: 'The precheck chose the route: inline Map for short lists, Distributed Map for long lists and S3 objects',
      Choices: (Object.keys(ROUTES) as Route[]).filter((r) => r !== 'inline')
        .map((route) => ({ Variable: '$.route', StringEquals: route, Next: ROUTES[route] })),
      Default: ROUTES.inline,
    };
    Object.assign(states, {
      FanOut: {
        Type: 'Map',
        Comment: 'One task per item; every item ends in ItemSucceeded or ItemFailed, so none is dropped',
        ItemsPath: '$.items',
        MaxConcurrency: Math.min(fanOut.maxConcurrency, INLINE_MAP_MAX_CONCURRENCY),
        ItemSelector: itemSelector(),
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'RunTask',
          States: taskStates(job, infra, { onSuccess: 'ItemSucceeded', onFailure: 'ItemFailed' }, 'inline'),
        },
        ResultPath: '$.results',
        Next: 'CountFailures',
      },
      // Inline Map has no ToleratedFailurePercentage: items catch their own failures and the run counts them.
      // results[i] is 'ok' or item i's failure (unique by index): failures = distinct results, less one 'ok' if any.
      CountFailures: {
        Type: 'Pass',
        Parameters: {
          'total.$': 'States.ArrayLength($.results)',
          'distinct.$': 'States.ArrayLength(States.ArrayUnique($.results))',
          'anySucceeded.$': `States.ArrayContains($.results, '${ITEM_OK}')`,
          'limit.$': 'States.MathAdd($.maxFailedItems, 1)',
        },
        ResultPath: '$.tally',
        Next: 'TooManyFailures',
      },
      TooManyFailures: {
        Type: 'Choice',
        Choices: [
          { And: [succeededSome(true), { Variable: '$.tally.distinct', NumericGreaterThanPath: '$.tally.limit' }], Next: 'MarkFanOutFailed' },
          { And: [succeededSome(false), { Variable: '$.tally.total', NumericGreaterThanPath: '$.maxFailedItems' }], Next: 'MarkFanOutFailed' },
        ],
        Default: reportsSuccess(job) ? 'NotifySuccess' : 'AnyItemFailed',
      },
      MarkFanOutFailed: {
        Type: 'Pass',
        Parameters: {
          status: 'FAILED',
          error: FAILURE.tolerance,
          'cause.$': `States.Format('more than {} of {} items failed (${fanOut.toleratedFailurePercentage}% tolerated)', $.maxFailedItems, $.tally.total)`,
          attempts: 0,
          'results.$': '$.results',
        },
        ResultPath: '$.outcome',
        Next: failureExit,
      },
    });
    Object.assign(states, distributedStates(job, infra, failureExit));
    // A run that succeeded with some failed items is still reported, so no failure goes unseen.
    if (!reportsSuccess(job)) {
      states.AnyItemFailed = {
        Type: 'Choice',
        Choices: [{ Or: [succeededSome(false), { Variable: '$.tally.distinct', NumericGreaterThan: 1 }], Next: 'NotifySuccess' }],
        Default: 'Succeeded',
      };
    }
    states.NotifySuccess = notifyState(job, infra, 'SUCCEEDED', 'Succeeded');
    states.NotifyItemsSucceeded = notifyState(job, infra, 'SUCCEEDED', 'Succeeded', true);
  } else {
    Object.assign(states, taskStates(job, infra, { onSuccess: reportsSuccess(job) ? 'NotifySuccess' : 'Succeeded', onFailure: failureExit }, 'single'));
    if (reportsSuccess(job)) states.NotifySuccess = notifyState(job, infra, 'SUCCEEDED', 'Succeeded');
  }

  if (job.notify.onFailure) states.NotifyFailure = notifyState(job, infra, 'FAILED', 'Failed');
  states.Succeeded = { Type: 'Succeed' };
  states.Failed = { Type: 'Fail', ErrorPath: '$.outcome.error', CausePath: '$.outcome.cause' };

  return {
    Comment: `stepcron job ${job.name}: ${job.description}`,
    StartAt: 'Precheck',
    TimeoutSeconds: runTimeoutSeconds(job),
    States: states,
  };
}

/** Where a Distributed Map's ResultWriter puts a run's results (under it: <map run id>/manifest.json, ...). */
export function resultsLocation(job: Job, infra: Infra): State {
  return { bucket: infra.resultsBucket, 'prefix.$': `States.Format('results/${job.name}/{}', $.runId)` };
}

/** An S3 object of items: JSON (an array), JSON Lines, or CSV with a header row, told apart by the key's ending. */
export const S3_ITEMS = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+\.(json|jsonl|ndjson|csv))$/;

/** `s3://bucket/key` -> `bucket`. */
export const s3Bucket = (url: string) => url.slice('s3://'.length).split('/')[0]!;

/** The states renamed `<name><suffix>`, with every transition (and nested Map) following the new names. */
function withSuffix(states: States, suffix: string): States {
  const rename = (name: unknown) => (typeof name === 'string' && name in states ? `${name}${suffix}` : name);
  const follow = (node: unknown, key = ''): unknown => {
    if (Array.isArray(node)) return node.map((n) => follow(n));
    if (node === null || typeof node !== 'object') return ['Next', 'Default', 'StartAt'].includes(key) ? rename(node) : node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => {
      // A nested Map's own states are renamed too: names are unique across the state machine, nested levels included.
      if (k === 'ItemProcessor') {
        const inner = v as { StartAt: string; States: States };
        return [k, { ...inner, StartAt: `${inner.StartAt}${suffix}`, States: withSuffix(inner.States, suffix) }];
      }
      return [k, follow(v, k)];
    }));
  };
  return Object.fromEntries(Object.entries(states).map(([name, state]) => [`${name}${suffix}`, follow(state) as State]));
}

/** The name a state has in the catalog's own terms: `RunTask-json` (a Distributed Map's copy) -> `RunTask`. */
export function baseStateName(name: string): string {
  return name.replace(new RegExp(`-(${Object.keys(ROUTES).join('|')})$`), '');
}

/** What each fan-out item's task states start from: the run's id and input, and the item with its index. */
function itemSelector(): State {
  return {
    'runId.$': "States.Format('{}-{}', $.runId, $$.Map.Item.Index)",
    'scheduledTime.$': '$.scheduledTime',
    'input.$': '$.input',
    'item.$': '$$.Map.Item.Value',
    'index.$': '$$.Map.Item.Index',
    retry: { attempt: 0, delay: 0 },
  };
}

/**
 * Long lists and S3 objects: a Distributed Map whose items are child executions (STANDARD, so `.sync` works) with
 * their own histories. A failed item fails its child execution, so the native ToleratedFailurePercentage counts it;
 * results go to the stage bucket (ResultWriter) instead of the state, and DescribeMapRun gives the counts.
 */
function distributedStates(job: Job, infra: Infra, failureExit: string): States {
  const fanOut = job.fanOut!;
  const states = taskStates(job, infra, { onSuccess: 'ItemSucceeded', onFailure: 'ItemFailed' }, 'distributed');
  // State names are unique across the whole state machine: each Map's item states carry its route (RunTask-json).
  const processor = (route: Route) => ({
    ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
    StartAt: `RunTask-${route}`,
    States: withSuffix(states, `-${route}`),
  });
  const map = (route: Route, reader: State | undefined): State => ({
    Type: 'Map',
    Comment: 'One child execution per item; a failed item fails its execution and counts against the tolerance',
    ...(reader ? { ItemReader: reader } : { ItemsPath: '$.items' }),
    ItemSelector: itemSelector(),
    ItemProcessor: processor(route),
    MaxConcurrency: fanOut.maxConcurrency,
    ToleratedFailurePercentage: fanOut.toleratedFailurePercentage,
    ResultWriter: {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: infra.resultsBucket, 'Prefix.$': `States.Format('results/${job.name}/{}', $.runId)` },
    },
    ResultPath: '$.mapRun',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: 'FindMapRun' }],
    Next: 'FindMapRun',
  });
  const s3Reader = (InputType: string): State => ({
    Resource: 'arn:aws:states:::s3:getObject',
    ReaderConfig: { InputType, ...(InputType === 'CSV' && { CSVHeaderLocation: 'FIRST_ROW' }) },
    Parameters: { 'Bucket.$': '$.source.bucket', 'Key.$': '$.source.key' },
  });
  const counts: State = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:sfn:describeMapRun',
    Parameters: { 'MapRunArn.$': '$.mapRunFound.runs[0].MapRunArn' },
    ResultSelector: {
      known: true,
      'total.$': '$.ItemCounts.Total',
      'succeeded.$': '$.ItemCounts.Succeeded',
      'failed.$': '$.ItemCounts.Failed',
      'timedOut.$': '$.ItemCounts.TimedOut',
      'aborted.$': '$.ItemCounts.Aborted',
    },
    ResultPath: '$.counts',
    Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.countError', Next: 'CountsUnknown' }],
    Next: 'DidFanOutFail',
  };
  const outcome = (error: string, cause: Record<string, string>): State => ({
    Type: 'Pass',
    Parameters: { status: 'FAILED', error, ...cause, attempts: 0, 'counts.$': '$.counts', resultsAt: resultsLocation(job, infra) },
    ResultPath: '$.outcome',
    Next: failureExit,
  });
  const anyFailed = { Variable: '$.counts.failed', NumericGreaterThan: 0 };
  return {
    [ROUTES.items]: map('items', undefined),
    [ROUTES.json]: map('json', s3Reader('JSON')),
    [ROUTES.jsonl]: map('jsonl', s3Reader('JSONL')),
    [ROUTES.csv]: map('csv', s3Reader('CSV')),
    // The Map's output (or its error) does not carry the counts: its map run does.
    FindMapRun: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:sfn:listMapRuns',
      Parameters: { 'ExecutionArn.$': '$$.Execution.Id' },
      // Not `$.MapRuns[0]` here: with no map run (the items could not be read) that path is a States.Runtime error,
      // which no Catch handles; HasMapRun asks instead.
      ResultSelector: { 'runs.$': '$.MapRuns' },
      ResultPath: '$.mapRunFound',
      Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.countError', Next: 'CountsUnknown' }],
      Next: 'HasMapRun',
    },
    HasMapRun: {
      Type: 'Choice',
      Choices: [{ Variable: '$.mapRunFound.runs[0].MapRunArn', IsPresent: true, Next: 'CountItems' }],
      Default: 'CountsUnknown',
    },
    CountItems: counts,
    CountsUnknown: { Type: 'Pass', Result: { known: false }, ResultPath: '$.counts', Next: 'DidFanOutFail' },
    DidFanOutFail: {
      Type: 'Choice',
      Choices: [
        { And: [{ Variable: '$.mapError', IsPresent: true }, { Variable: '$.mapError.Error', StringEquals: 'States.ExceedToleratedFailureThreshold' }], Next: 'MarkToleranceExceeded' },
        { Variable: '$.mapError', IsPresent: true, Next: 'MarkFanOutError' },
        // A run that succeeded with some failed items is still reported, so no failure goes unseen.
        ...(reportsSuccess(job) ? [] : [{ And: [{ Variable: '$.counts.known', BooleanEquals: true }, anyFailed], Next: 'NotifyItemsSucceeded' }]),
      ],
      Default: reportsSuccess(job) ? 'NotifyItemsSucceeded' : 'Succeeded',
    },
    MarkToleranceExceeded: outcome(FAILURE.tolerance, { cause: `more than ${fanOut.toleratedFailurePercentage}% of the items failed` }),
    // The items could not be read or results not written (a missing object, bad CSV, no access): nothing ran.
    MarkFanOutError: outcome(FAILURE.fanOut, { 'cause.$': "States.Format('{}: {}', $.mapError.Error, $.mapError.Cause)" }),
  };
}

/** How many items a fan-out whose items come with the run (itemsPath, items, itemsFrom) is sized for. */
export const RUNTIME_ITEMS = 100_000;
/** A Standard execution runs for at most a year. */
const MAX_RUN_SECONDS = 365 * 24 * 3600;

/**
 * The whole run's deadline, so a stuck run ends as TIMED_OUT (and alarms) instead of running for a year:
 * every attempt at its timeout plus the longest back-off, per wave of fan-out items, plus room for the Lambdas.
 * A catalog list gives the waves exactly; items that come with the run are counted as RUNTIME_ITEMS at the job's
 * Distributed Map concurrency (a short list runs in fewer waves, so it always fits).
 */
export function runTimeoutSeconds(job: Job): number {
  const attempts = (job.retries + 1) * job.timeoutSeconds + job.retries * job.maxDelaySeconds;
  const waves = !job.fanOut ? 1
    : Math.max(
      Math.ceil((job.fanOut.items?.length ?? 0) / Math.min(job.fanOut.maxConcurrency, INLINE_MAP_MAX_CONCURRENCY)),
      Math.ceil(RUNTIME_ITEMS / job.fanOut.maxConcurrency),
    );
  return Math.min(MAX_RUN_SECONDS, attempts * waves + 900);
}

function precheckState(job: Job, infra: Infra): State {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: infra.precheckFunction,
      Payload: {
        job: job.name,
        stage: infra.stage,
        policy: {
          concurrency: job.concurrency,
          // How long a buffered run may wait: the run ahead has ended by its deadline.
          ...(job.concurrency === 'buffer' && { runTimeoutSeconds: runTimeoutSeconds(job) }),
          input: job.input,
          ...(job.fanOut && {
            fanOut: {
              ...(job.fanOut.items && { items: job.fanOut.items }),
              ...(job.fanOut.itemsPath && { itemsPath: job.fanOut.itemsPath }),
              ...(job.fanOut.itemsFrom && { itemsFrom: job.fanOut.itemsFrom }),
              // Where a run may point `itemsFrom`: the catalog's bucket and the stage's own (what the role may read).
              itemsPrefixes: [...(job.fanOut.itemsFrom ? [`s3://${s3Bucket(job.fanOut.itemsFrom)}/`] : []), infra.itemsPrefix],
              inlineLimit: inlineItemLimit(job),
              toleratedFailurePercentage: job.fanOut.toleratedFailurePercentage,
            },
          }),
        },
        'execution.$': '$$.Execution.Id',
        'executionName.$': '$$.Execution.Name',
        'stateMachine.$': '$$.StateMachine.Id',
        'startTime.$': '$$.Execution.StartTime',
        'input.$': '$',
      },
    },
    // The precheck's answer replaces the run input: from here on the state is stepcron's own, typed shape.
    ResultSelector: {
      'run.$': '$.Payload.run',
      'reason.$': '$.Payload.reason',
      'runId.$': '$.Payload.runId',
      'scheduledTime.$': '$.Payload.scheduledTime',
      'input.$': '$.Payload.input',
      'items.$': '$.Payload.items',
      'maxFailedItems.$': '$.Payload.maxFailedItems',
      'route.$': '$.Payload.route',
      'source.$': '$.Payload.source',
      retry: { attempt: 0, delay: 0 },
    },
    Retry: [{ ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }],
    // No ResultPath: the error replaces the state. A run input that is not an object ([1,2], "x", null) has nowhere to
    // take `$.error` (States.ResultPathMatchFailure, which no Catch handles), so the run would end unreported.
    Catch: [{ ErrorEquals: ['States.ALL'], Next: 'PrecheckFailed' }],
    Next: 'ShouldRun',
  };
}

/** Where the task states go when the task succeeded or failed; a fan-out item's are its ItemSucceeded and ItemFailed. */
interface Exits { onSuccess: string; onFailure: string }

/** The states that run one task with its retry policy; shared by the single-task flow and each fan-out item. */
/** single: the run's own task; inline: an inline Map item; distributed: a Distributed Map item (a child execution). */
type TaskMode = 'single' | 'inline' | 'distributed';

function taskStates(job: Job, infra: Infra, exits: Exits, mode: TaskMode): States {
  const perItem = mode !== 'single';
  const failureNext = exits.onFailure;
  const states: States = {};
  // In a Catch, States.TaskFailed matches every error but States.Timeout, so it cannot tell a task that ran and
  // failed from a start failure: IsTaskFailure looks at the error itself.
  const catches = (timeout: string) => [
    { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: timeout },
    { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'IsTaskFailure' },
  ];
  const successNext = exits.onSuccess;

  if (job.capacity === 'spot') {
    // Fargate Spot with no capacity fails placement (AmazonECS.Unknown): fall back to on-demand at once.
    states.RunTask = runTaskState(job, infra, 'FARGATE_SPOT', perItem, successNext, [
      { ErrorEquals: ['ECS.AmazonECSException', 'ECS.ServerException'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
    ], [{ ErrorEquals: ['AmazonECS.Unknown'], ResultPath: '$.spotError', Next: 'RunTaskOnDemand' }, ...catches('FindTimedOutTasks')]);
    states.RunTaskOnDemand = runTaskState(job, infra, 'FARGATE', perItem, successNext, startRetry(), catches('FindTimedOutTasks'));
  } else {
    states.RunTask = runTaskState(job, infra, 'FARGATE', perItem, successNext, startRetry(), catches('FindTimedOutTasks'));
  }

  // .sync puts the ECS Task object in the Cause; judge the job's own container, not a sidecar. JSONPath filters
  // would read it in one step, but their results differ between engines, so look at each container slot instead.
  states.IsTaskFailure = {
    Type: 'Choice',
    Choices: [{
      And: [
        { Variable: '$.error.Error', StringEquals: 'States.TaskFailed' },
        { Variable: '$.error.Cause', IsPresent: true },
        { Variable: '$.error.Cause', StringMatches: '{*' },
      ],
      Next: 'ReadTaskFailure',
    }],
    Default: 'MarkStartFailed',
  };
  states.ReadTaskFailure = {
    Type: 'Pass',
    Parameters: { 'task.$': 'States.StringToJson($.error.Cause)' },
    ResultPath: '$.failure',
    Next: 'FindJobContainer',
  };
  const slot = (i: number) => `$.failure.task.Containers[${i}]`;
  states.FindJobContainer = {
    Type: 'Choice',
    Choices: Array.from({ length: CONTAINER_SLOTS }, (_, i) => ({
      And: [
        { Variable: `${slot(i)}.Name`, IsPresent: true },
        { Variable: `${slot(i)}.Name`, StringEquals: JOB_CONTAINER },
        { Variable: `${slot(i)}.ExitCode`, IsPresent: true },
      ],
      Next: `ReadExitCode${i}`,
    })),
    Default: 'NoExitCode',
  };
  for (let i = 0; i < CONTAINER_SLOTS; i++) {
    states[`ReadExitCode${i}`] = {
      Type: 'Pass', Parameters: { 'code.$': `${slot(i)}.ExitCode` }, ResultPath: '$.exit', Next: 'ShouldRetry',
    };
  }
  // The task never started, or stopped before the job exited (Spot interruption): no exit code to judge.
  states.NoExitCode = { Type: 'Pass', Result: { code: null }, ResultPath: '$.exit', Next: 'ShouldRetry' };

  const exited = { Variable: '$.exit.code', IsNumeric: true };
  const exitIs = (codes: number[]) => ({ Or: codes.map((code) => ({ Variable: '$.exit.code', NumericEquals: code })) });
  const choices: State[] = [
    // A sidecar failed the task but the job itself exited 0: the job succeeded.
    { And: [exited, { Variable: '$.exit.code', NumericEquals: 0 }], Next: 'SidecarFailed' },
  ];
  const { fail, retry } = job.exitCodes;
  if (fail?.length) choices.push({ And: [exited, exitIs(fail)], Next: 'MarkJobFailed' });
  if (retry?.length) choices.push({ And: [exited, { Not: exitIs(retry) }], Next: 'MarkJobFailed' });
  if (job.retries > 0) {
    choices.push({ Variable: '$.retry.attempt', NumericLessThan: job.retries, Next: 'PrepareRetry' });
    states.PrepareRetry = {
      Type: 'Pass',
      Comment: `Back-off: ${retryDelays(job).join(', ')} s`,
      Parameters: {
        'attempt.$': 'States.MathAdd($.retry.attempt, 1)',
        'delay.$': `States.ArrayGetItem(States.Array(${retryDelays(job).join(', ')}), $.retry.attempt)`,
      },
      ResultPath: '$.retry',
      Next: 'WaitToRetry',
    };
    states.WaitToRetry = { Type: 'Wait', SecondsPath: '$.retry.delay', Next: 'RunTask' };
  }
  states.ShouldRetry = { Type: 'Choice', Choices: choices, Default: 'MarkJobFailed' };
  states.SidecarFailed = {
    Type: 'Pass',
    Parameters: { 'taskArn.$': '$.failure.task.TaskArn', 'exitCode.$': '$.exit.code' },
    ResultPath: '$.task',
    Next: successNext,
  };

  // Step Functions does not promise to stop a task whose state timed out: find it by StartedBy and stop it.
  // StartedBy alone: ECS refuses it with any other filter, and lists RUNNING tasks by default (ListTasks API).
  states.FindTimedOutTasks = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:ecs:listTasks',
    Parameters: { Cluster: infra.cluster, 'StartedBy.$': '$.runId' },
    ResultSelector: { 'taskArns.$': '$.TaskArns' },
    ResultPath: '$.timedOut',
    Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'MarkTimedOut' }],
    Next: 'StopTimedOutTasks',
  };
  states.StopTimedOutTasks = {
    Type: 'Map',
    ItemsPath: '$.timedOut.taskArns',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: 'StopTimedOutTask',
      States: {
        StopTimedOutTask: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ecs:stopTask',
          Parameters: { Cluster: infra.cluster, 'Task.$': '$', Reason: `stepcron: timed out after ${job.timeoutSeconds}s` },
          ResultSelector: { 'taskArn.$': '$.Task.TaskArn' },
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
          End: true,
        },
      },
    },
    ResultPath: '$.timedOut.stopped',
    // Finding or stopping the task failed: it may still be running, so the run ends without starting another.
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'MarkTimedOut' }],
    Next: retriesTimeouts(job) ? 'ShouldRetryTimeout' : 'MarkTimedOut',
  };
  if (retriesTimeouts(job)) {
    // retryOn: [timeout]: the stopped attempt counts against the same retries, with the same back-off, as a failure.
    states.ShouldRetryTimeout = {
      Type: 'Choice',
      Choices: [{ Variable: '$.retry.attempt', NumericLessThan: job.retries, Next: 'PrepareRetry' }],
      Default: 'MarkTimedOut',
    };
  }

  states.MarkTimedOut = markOutcome('TIMED_OUT', FAILURE.timedOut,
    { text: `the task ran longer than timeoutSeconds (${job.timeoutSeconds}) and was stopped` }, failureNext);
  // An item's outcome keeps the exit code, not the whole Task object: a large fan-out must stay under 256 KiB.
  states.MarkJobFailed = perItem
    ? {
        Type: 'Pass',
        Parameters: {
          status: 'FAILED', error: FAILURE.failed, 'exitCode.$': '$.exit.code', 'taskArn.$': '$.failure.task.TaskArn',
          'attempts.$': 'States.MathAdd($.retry.attempt, 1)',
        },
        ResultPath: '$.outcome',
        Next: failureNext,
      }
    : markOutcome('FAILED', FAILURE.failed, { path: '$.error.Cause' }, failureNext);
  states.MarkStartFailed = markOutcome('FAILED', FAILURE.startFailed, { path: '$.error.Cause' }, failureNext);

  if (perItem) {
    // Successes are a plain 'ok' and failures carry their index, so counting distinct results counts failures.
    states.ItemSucceeded = { Type: 'Pass', Result: ITEM_OK, End: true };
    const failed = { 'index.$': '$.index', 'item.$': '$.item', 'outcome.$': '$.outcome' };
    if (mode === 'inline') {
      states.ItemFailed = { Type: 'Pass', Parameters: failed, End: true };
    } else {
      // A Distributed Map counts an item as failed only if its child execution fails.
      states.ItemFailed = { Type: 'Pass', Parameters: failed, ResultPath: '$.failedItem', Next: 'DescribeItemFailure' };
      states.DescribeItemFailure = {
        Type: 'Pass',
        Parameters: { 'error.$': '$.failedItem.outcome.error', 'cause.$': 'States.JsonToString($.failedItem)' },
        Next: 'ItemFailedEnd',
      };
      states.ItemFailedEnd = { Type: 'Fail', ErrorPath: '$.error', CausePath: '$.cause' };
    }
  }
  return states;
}

/** Whether a timed-out attempt is retried (the catalog's retryOn: [timeout], with retries left to use). */
export function retriesTimeouts(job: Job): boolean {
  return job.retryOn.includes('timeout') && job.retries > 0;
}

function startRetry(): State[] {
  return [{ ErrorEquals: START_FAILURES, IntervalSeconds: 10, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: 'FULL' }];
}

/** Seconds to wait before retry n (0-based): retryIntervalSeconds * backoffRate^n, capped at maxDelaySeconds. */
export function retryDelays(job: Job): number[] {
  return Array.from({ length: job.retries }, (_, n) =>
    Math.min(job.maxDelaySeconds, Math.round(job.retryIntervalSeconds * job.backoffRate ** n)));
}

function runTaskState(job: Job, infra: Infra, provider: 'FARGATE' | 'FARGATE_SPOT', perItem: boolean, next: string,
  retry: State[], catches: State[]): State {
  const environment = [
    { Name: 'STEPCRON_JOB', Value: job.name },
    { Name: 'STEPCRON_EXECUTION', 'Value.$': '$$.Execution.Id' },
    { Name: 'STEPCRON_SCHEDULED_TIME', 'Value.$': '$.scheduledTime' },
    { Name: 'STEPCRON_INPUT', 'Value.$': 'States.JsonToString($.input)' },
    { Name: 'STEPCRON_ATTEMPT', 'Value.$': "States.Format('{}', $.retry.attempt)" },
    ...(perItem ? [{ Name: 'STEPCRON_ITEM', 'Value.$': 'States.JsonToString($.item)' }] : []),
  ];
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::ecs:runTask.sync',
    Parameters: {
      Cluster: infra.cluster,
      TaskDefinition: infra.taskDefinition,
      CapacityProviderStrategy: [{ CapacityProvider: provider, Weight: 1 }],
      NetworkConfiguration: {
        AwsvpcConfiguration: { Subnets: infra.subnets, SecurityGroups: infra.securityGroups, AssignPublicIp: infra.assignPublicIp },
      },
      Overrides: { ContainerOverrides: [{ Name: JOB_CONTAINER, Environment: environment }] },
      // StartedBy finds the task again if the state times out; tags show the run in the ECS console.
      'StartedBy.$': '$.runId',
      PropagateTags: 'TASK_DEFINITION',
    },
    TimeoutSeconds: job.timeoutSeconds,
    ResultSelector: { 'taskArn.$': '$.TaskArn' },
    ResultPath: '$.task',
    Retry: retry,
    Catch: catches,
    Next: next,
  };
}

/** A Pass state that records how the run (or item) ended, in the one shape the notify and Fail states read. */
function markOutcome(status: 'FAILED' | 'TIMED_OUT', error: string, cause: { path: string } | { text: string },
  next: string, afterTask = true): State {
  return {
    Type: 'Pass',
    Parameters: {
      status, error,
      ...('path' in cause ? { 'cause.$': cause.path } : { cause: cause.text }),
      ...(afterTask ? { 'attempts.$': 'States.MathAdd($.retry.attempt, 1)' } : { attempts: 0 }),
    },
    ResultPath: '$.outcome',
    Next: next,
  };
}

/**
 * Asks the notify function for a warning if the run is still going runtimeWarningSeconds after it started (it arms a
 * one-time schedule; handlers/lib/warnings.ts). A warning that cannot be armed never fails the run.
 */
function armRuntimeWarningState(job: Job, infra: Infra, next: string): State {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: infra.notifyFunction,
      Payload: {
        kind: 'armRuntimeWarning',
        job: job.name,
        stage: infra.stage,
        logGroup: infra.logGroup,
        'execution.$': '$$.Execution.Id',
        'startTime.$': '$$.Execution.StartTime',
        runtimeWarningSeconds: job.runtimeWarningSeconds,
      },
    },
    Retry: [{ ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.runtimeWarningError', Next: next }],
    Next: next,
    // Last, as packaging writes it (serverless-step-functions moves null ResultPaths), so synth and package agree.
    ResultPath: null,
  };
}

/**
 * Whether a successful run goes through NotifySuccess: when the job notifies on success, or has a minRuntimeSeconds
 * (the notify function then reports only a too-fast run, or failed items).
 */
function reportsSuccess(job: Job): boolean {
  return job.notify.onSuccess || job.minRuntimeSeconds !== undefined;
}

function notifyState(job: Job, infra: Infra, status: 'SUCCEEDED' | 'FAILED', next: string, distributed = false): State {
  const common = {
    job: job.name,
    stage: infra.stage,
    logGroup: infra.logGroup,
    'execution.$': '$$.Execution.Id',
    'startTime.$': '$$.Execution.StartTime',
    // A literal, never a path that may be missing: the notification shows the start on the job's own clock.
    timezone: job.timezone,
    // The run's end as the notification reports it: a notify retried minutes later still gives the run's duration.
    'endTime.$': '$$.State.EnteredTime',
    taskSize: { cpu: job.cpu, memoryMiB: job.memory },
    ...(status === 'SUCCEEDED' && job.minRuntimeSeconds !== undefined
      && { onSuccess: job.notify.onSuccess, minRuntimeSeconds: job.minRuntimeSeconds }),
  };
  const payload: State = status === 'FAILED'
    ? { ...common, 'status.$': '$.outcome.status', 'outcome.$': '$.outcome' }
    : distributed
      ? { ...common, status, 'counts.$': '$.counts', resultsAt: resultsLocation(job, infra) }
      : job.fanOut
        ? { ...common, status, 'results.$': '$.results' }
        : { ...common, status, 'task.$': '$.task', 'attempts.$': 'States.MathAdd($.retry.attempt, 1)' };
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: infra.notifyFunction, Payload: payload },
    ResultSelector: { 'delivered.$': '$.Payload.delivered' },
    ResultPath: '$.notification',
    Retry: [{ ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }],
    // A failed notification must not change the job's own outcome.
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: next }],
    Next: next,
  };
}
