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
//                  \-> Skipped (Succeed, with the reason)
import type { Job } from './catalog';

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
} as const;

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
    PrecheckFailed: markOutcome('FAILED', FAILURE.precheck, { path: '$.error.Cause' }, failureExit, false),
    ShouldRun: {
      Type: 'Choice',
      Choices: [{ Variable: '$.run', BooleanEquals: true, Next: fanOut ? 'FanOut' : 'RunTask' }],
      Default: 'Skipped',
    },
    Skipped: { Type: 'Succeed', Comment: 'The precheck decided not to run (see reason)' },
  };

  if (fanOut) {
    Object.assign(states, {
      FanOut: {
        Type: 'Map',
        Comment: 'One task per item; every item ends in ItemSucceeded or ItemFailed, so none is dropped',
        ItemsPath: '$.items',
        MaxConcurrency: fanOut.maxConcurrency,
        ItemSelector: {
          'runId.$': "States.Format('{}-{}', $.runId, $$.Map.Item.Index)",
          'scheduledTime.$': '$.scheduledTime',
          'input.$': '$.input',
          'item.$': '$$.Map.Item.Value',
          'index.$': '$$.Map.Item.Index',
          retry: { attempt: 0, delay: 0 },
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'RunTask',
          States: taskStates(job, infra, { onSuccess: 'ItemSucceeded', onFailure: 'ItemFailed' }, true),
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
        Default: job.notify.onSuccess ? 'NotifySuccess' : 'AnyItemFailed',
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
    // A run that succeeded with some failed items is still reported, so no failure goes unseen.
    if (!job.notify.onSuccess) {
      states.AnyItemFailed = {
        Type: 'Choice',
        Choices: [{ Or: [succeededSome(false), { Variable: '$.tally.distinct', NumericGreaterThan: 1 }], Next: 'NotifySuccess' }],
        Default: 'Succeeded',
      };
    }
    states.NotifySuccess = notifyState(job, infra, 'SUCCEEDED', 'Succeeded');
  } else {
    Object.assign(states, taskStates(job, infra, { onSuccess: job.notify.onSuccess ? 'NotifySuccess' : 'Succeeded', onFailure: failureExit }, false));
    if (job.notify.onSuccess) states.NotifySuccess = notifyState(job, infra, 'SUCCEEDED', 'Succeeded');
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

/**
 * The whole run's deadline, so a stuck run ends as TIMED_OUT (and alarms) instead of running for a year:
 * every attempt at its timeout plus the longest back-off, per wave of fan-out items, plus room for the Lambdas.
 */
function runTimeoutSeconds(job: Job): number {
  const attempts = (job.retries + 1) * job.timeoutSeconds + job.retries * job.maxDelaySeconds;
  const items = job.fanOut?.items?.length ?? (job.fanOut ? 100 : 1);
  const waves = Math.ceil(items / (job.fanOut?.maxConcurrency ?? 1));
  return attempts * waves + 900;
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
          input: job.input,
          ...(job.fanOut && {
            fanOut: {
              ...(job.fanOut.items && { items: job.fanOut.items }),
              ...(job.fanOut.itemsPath && { itemsPath: job.fanOut.itemsPath }),
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
      retry: { attempt: 0, delay: 0 },
    },
    Retry: [{ ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'PrecheckFailed' }],
    Next: 'ShouldRun',
  };
}

interface Exits { onSuccess: string; onFailure: string }

/** The states that run one task with its retry policy; shared by the single-task flow and each fan-out item. */
function taskStates(job: Job, infra: Infra, exits: Exits, perItem: boolean): States {
  const failureNext = perItem ? 'ItemFailed' : exits.onFailure;
  const states: States = {};
  // In a Catch, States.TaskFailed matches every error but States.Timeout, so it cannot tell a task that ran and
  // failed from a start failure: IsTaskFailure looks at the error itself.
  const catches = (timeout: string) => [
    { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: timeout },
    { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'IsTaskFailure' },
  ];
  const successNext = perItem ? 'ItemSucceeded' : exits.onSuccess;

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
  states.FindTimedOutTasks = {
    Type: 'Task',
    Resource: 'arn:aws:states:::aws-sdk:ecs:listTasks',
    Parameters: { Cluster: infra.cluster, 'StartedBy.$': '$.runId', DesiredStatus: 'RUNNING' },
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
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'MarkTimedOut' }],
    Next: 'MarkTimedOut',
  };

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
    states.ItemFailed = {
      Type: 'Pass',
      Parameters: { 'index.$': '$.index', 'item.$': '$.item', 'outcome.$': '$.outcome' },
      End: true,
    };
  }
  return states;
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

function notifyState(job: Job, infra: Infra, status: 'SUCCEEDED' | 'FAILED', next: string): State {
  const common = {
    job: job.name,
    stage: infra.stage,
    logGroup: infra.logGroup,
    'execution.$': '$$.Execution.Id',
    'startTime.$': '$$.Execution.StartTime',
  };
  const payload: State = status === 'FAILED'
    ? { ...common, 'status.$': '$.outcome.status', 'outcome.$': '$.outcome' }
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
