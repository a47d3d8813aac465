// Unit tests of workflows/compile.ts: the exact ASL each catalog setting produces (state by state, retry and catch
// shapes, timeouts, payloads), and the numbers it derives (back-off delays, run deadline, inline item limit).
// test/workflow.test.ts runs these definitions on the local engine; this file pins what they say, in milliseconds, so
// mutation testing (scripts/mutate.mjs) can afford to run it for each of compile.ts's mutants.
// Every job is parsed inside its test: nothing is compiled while the file loads.
import { type Job, parseCatalog } from '../workflows/catalog';
import {
  baseStateName, compile, type Infra, inlineItemLimit, resultsLocation, retriesTimeouts, retryDelays, RUNTIME_ITEMS, runTimeoutSeconds,
  S3_ITEMS, s3Bucket, START_FAILURES,
} from '../workflows/compile';

/** Plain strings, so every value in a state says where it came from. */
const infra: Infra = {
  stage: 'prod', cluster: 'CLUSTER', taskDefinition: 'TASKDEF', subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED',
  precheckFunction: 'PRECHECK', notifyFunction: 'NOTIFY', logGroup: 'LOGS', resultsBucket: 'RESULTS', itemsPrefix: 's3://RESULTS/items/',
};

/** Job `j` with the catalog lines given (defaults: retries 2, timeoutSeconds 3600, retryIntervalSeconds 30, ...). */
function job(...lines: string[]): Job {
  const yaml = `jobs:\n  j:\n    description: nightly\n    schedule: rate(1 hour)\n    image: i:1\n    command: [x]\n${lines.map((l) => `    ${l}\n`).join('')}`;
  return parseCatalog(yaml, { stage: 'prod' })[0]!;
}

type State = Record<string, any>;
const states = (j: Job): Record<string, State> => compile(j, infra).States;
const LAMBDA_RETRY = [{
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
  IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL',
}];
const SDK_RETRY = [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }];
const notifyCommon = (extra: State = {}) => ({
  job: 'j', stage: 'prod', logGroup: 'LOGS', 'execution.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime', timezone: 'UTC',
  'endTime.$': '$$.State.EnteredTime', taskSize: { cpu: 256, memoryMiB: 512 }, ...extra,
});
const notifyTask = (payload: State, next: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: 'NOTIFY', Payload: payload },
  ResultSelector: { 'delivered.$': '$.Payload.delivered' },
  ResultPath: '$.notification',
  Retry: LAMBDA_RETRY,
  Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: next }],
  Next: next,
});

describe('a single-task job', () => {
  it('has the documented flow, starts at Precheck and names the job in its Comment', () => {
    // Act
    const definition = compile(job(), infra);
    // Assess
    expect(definition.Comment).toBe('stepcron job j: nightly');
    expect(definition.StartAt).toBe('Precheck');
    expect(Object.keys(definition.States)).toEqual([
      'Precheck', 'PrecheckFailed', 'ShouldRun', 'Skipped', 'RunTask', 'IsTaskFailure', 'ReadTaskFailure', 'FindJobContainer',
      'ReadExitCode0', 'ReadExitCode1', 'ReadExitCode2', 'NoExitCode', 'PrepareRetry', 'WaitToRetry', 'ShouldRetry', 'SidecarFailed',
      'FindTimedOutTasks', 'StopTimedOutTasks', 'MarkTimedOut', 'MarkJobFailed', 'MarkStartFailed', 'NotifyFailure', 'Succeeded', 'Failed',
    ]);
    expect(definition.States.Skipped).toEqual({ Type: 'Succeed', Comment: 'The precheck decided not to run (see reason)' });
    expect(definition.States.Succeeded).toEqual({ Type: 'Succeed' });
    expect(definition.States.Failed).toEqual({ Type: 'Fail', ErrorPath: '$.outcome.error', CausePath: '$.outcome.cause' });
  });

  it('asks the precheck with the job\'s policy, replaces the state with its answer, and retries only transient Lambda errors', () => {
    // Act
    const precheck = states(job('input: { region: eu }'))
      .Precheck;
    // Assess
    expect(precheck).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'PRECHECK',
        Payload: {
          job: 'j', stage: 'prod', policy: { concurrency: 'forbid', input: { region: 'eu' } },
          'execution.$': '$$.Execution.Id', 'executionName.$': '$$.Execution.Name', 'stateMachine.$': '$$.StateMachine.Id',
          'startTime.$': '$$.Execution.StartTime', 'input.$': '$',
        },
      },
      ResultSelector: {
        'run.$': '$.Payload.run', 'reason.$': '$.Payload.reason', 'runId.$': '$.Payload.runId', 'scheduledTime.$': '$.Payload.scheduledTime',
        'input.$': '$.Payload.input', 'items.$': '$.Payload.items', 'maxFailedItems.$': '$.Payload.maxFailedItems', 'route.$': '$.Payload.route',
        'source.$': '$.Payload.source', retry: { attempt: 0, delay: 0 },
      },
      Retry: LAMBDA_RETRY,
      // No ResultPath on the Catch: a run input that is not an object could not take one.
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'PrecheckFailed' }],
      Next: 'ShouldRun',
    });
  });

  it('tells a buffer job\'s precheck how long a buffered run may wait: the run deadline', () => {
    // Act
    const policy = states(job('concurrency: buffer')).Precheck!.Parameters.Payload.policy;
    // Assess: 3 attempts of 3600 s, 2 back-offs of at most 900 s, 900 s for the Lambdas
    expect(policy).toEqual({ concurrency: 'buffer', runTimeoutSeconds: 13_500, input: {} });
  });

  it('reports a failed precheck as PrecheckFailed with the Lambda error\'s cause and no attempt, notified when onFailure', () => {
    // Act
    const notified = states(job()).PrecheckFailed;
    const silent = states(job('notify: { onFailure: false }')).PrecheckFailed;
    // Assess
    expect(notified).toEqual({
      Type: 'Pass', Parameters: { status: 'FAILED', error: 'PrecheckFailed', 'cause.$': '$.Cause', attempts: 0 }, ResultPath: '$.outcome', Next: 'NotifyFailure',
    });
    expect(silent!.Next).toBe('Failed');
    expect(states(job('notify: { onFailure: false }')).NotifyFailure).toBeUndefined();
  });

  it('runs only when the precheck says so, through ArmRuntimeWarning when runtimeWarningSeconds is set', () => {
    // Act
    const plain = states(job()).ShouldRun;
    const warned = states(job('runtimeWarningSeconds: 60'));
    // Assess
    expect(plain).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.run', BooleanEquals: true, Next: 'RunTask' }], Default: 'Skipped' });
    expect(warned.ShouldRun!.Choices[0].Next).toBe('ArmRuntimeWarning');
    expect(states(job()).ArmRuntimeWarning).toBeUndefined();
  });

  it('arms the runtime warning through the notify function, and a warning that cannot be armed never fails the run', () => {
    // Act
    const arm = states(job('runtimeWarningSeconds: 60')).ArmRuntimeWarning;
    // Assess
    expect(arm).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: 'NOTIFY',
        Payload: {
          kind: 'armRuntimeWarning', job: 'j', stage: 'prod', logGroup: 'LOGS', 'execution.$': '$$.Execution.Id',
          'startTime.$': '$$.Execution.StartTime', runtimeWarningSeconds: 60,
        },
      },
      Retry: LAMBDA_RETRY,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.runtimeWarningError', Next: 'RunTask' }],
      Next: 'RunTask',
      ResultPath: null,
    });
  });

  it('runs the task with runTask.sync on Fargate, the job\'s environment and StartedBy, its timeout, and retries start failures only', () => {
    // Act
    const run = states(job('timeoutSeconds: 600')).RunTask;
    // Assess
    expect(run).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: {
        Cluster: 'CLUSTER',
        TaskDefinition: 'TASKDEF',
        CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
        NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-1'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' } },
        Overrides: {
          ContainerOverrides: [{
            Name: 'job',
            Environment: [
              { Name: 'STEPCRON_JOB', Value: 'j' },
              { Name: 'STEPCRON_EXECUTION', 'Value.$': '$$.Execution.Id' },
              { Name: 'STEPCRON_SCHEDULED_TIME', 'Value.$': '$.scheduledTime' },
              { Name: 'STEPCRON_INPUT', 'Value.$': 'States.JsonToString($.input)' },
              { Name: 'STEPCRON_ATTEMPT', 'Value.$': "States.Format('{}', $.retry.attempt)" },
            ],
          }],
        },
        'StartedBy.$': '$.runId',
        PropagateTags: 'TASK_DEFINITION',
      },
      TimeoutSeconds: 600,
      ResultSelector: { 'taskArn.$': '$.TaskArn' },
      ResultPath: '$.task',
      Retry: [{ ErrorEquals: START_FAILURES, IntervalSeconds: 10, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: 'FULL' }],
      // States.Timeout first: States.ALL would catch it too.
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'FindTimedOutTasks' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'IsTaskFailure' },
      ],
      Next: 'Succeeded',
    });
    expect(START_FAILURES).toEqual(['ECS.AmazonECSException', 'AmazonECS.Unknown', 'ECS.ServerException']);
  });

  it('on Spot, falls back to on-demand Fargate at once when Spot has no capacity (AmazonECS.Unknown), retrying the rest', () => {
    // Act
    const s = states(job('capacity: spot'));
    // Assess
    expect(s.RunTask!.Parameters.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    expect(s.RunTask!.Retry).toEqual([
      { ErrorEquals: ['ECS.AmazonECSException', 'ECS.ServerException'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
    ]);
    expect(s.RunTask!.Catch).toEqual([
      { ErrorEquals: ['AmazonECS.Unknown'], ResultPath: '$.spotError', Next: 'RunTaskOnDemand' },
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'FindTimedOutTasks' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'IsTaskFailure' },
    ]);
    // The fallback is the plain Fargate task, with the start retries.
    expect(s.RunTaskOnDemand).toEqual(states(job()).RunTask);
  });

  it('tells a task that ran and failed (a .sync TaskFailed with the ECS Task as JSON) from one that never started', () => {
    // Act
    const s = states(job());
    // Assess
    expect(s.IsTaskFailure).toEqual({
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
    });
    expect(s.ReadTaskFailure).toEqual({
      Type: 'Pass', Parameters: { 'task.$': 'States.StringToJson($.error.Cause)' }, ResultPath: '$.failure', Next: 'FindJobContainer',
    });
  });

  it('reads the exit code of the container named job in any of the first 3 slots, never a sidecar\'s', () => {
    // Act
    const s = states(job());
    // Assess
    const slot = (i: number) => ({
      And: [
        { Variable: `$.failure.task.Containers[${i}].Name`, IsPresent: true },
        { Variable: `$.failure.task.Containers[${i}].Name`, StringEquals: 'job' },
        { Variable: `$.failure.task.Containers[${i}].ExitCode`, IsPresent: true },
      ],
      Next: `ReadExitCode${i}`,
    });
    expect(s.FindJobContainer).toEqual({ Type: 'Choice', Choices: [slot(0), slot(1), slot(2)], Default: 'NoExitCode' });
    for (const i of [0, 1, 2]) {
      expect(s[`ReadExitCode${i}`]).toEqual({
        Type: 'Pass', Parameters: { 'code.$': `$.failure.task.Containers[${i}].ExitCode` }, ResultPath: '$.exit', Next: 'ShouldRetry',
      });
    }
    expect(s.ReadExitCode3).toBeUndefined();
    expect(s.NoExitCode).toEqual({ Type: 'Pass', Result: { code: null }, ResultPath: '$.exit', Next: 'ShouldRetry' });
  });

  it('judges the exit code: 0 is a sidecar\'s failure (success), fail codes end the run, only retry codes are retried, while attempts are left', () => {
    // Act
    const s = states(job('retries: 2', 'exitCodes: { fail: [2, 3], retry: [75] }'));
    // Assess
    const exited = { Variable: '$.exit.code', IsNumeric: true };
    const is = (code: number) => ({ Variable: '$.exit.code', NumericEquals: code });
    expect(s.ShouldRetry).toEqual({
      Type: 'Choice',
      Choices: [
        { And: [exited, is(0)], Next: 'SidecarFailed' },
        { And: [exited, { Or: [is(2), is(3)] }], Next: 'MarkJobFailed' },
        { And: [exited, { Not: { Or: [is(75)] } }], Next: 'MarkJobFailed' },
        { Variable: '$.retry.attempt', NumericLessThan: 2, Next: 'PrepareRetry' },
      ],
      Default: 'MarkJobFailed',
    });
    expect(s.SidecarFailed).toEqual({
      Type: 'Pass', Parameters: { 'taskArn.$': '$.failure.task.TaskArn', 'exitCode.$': '$.exit.code' }, ResultPath: '$.task', Next: 'Succeeded',
    });
  });

  it('without exitCodes every non-zero exit is retried; without retries there is no retry loop at all', () => {
    // Act
    const plain = states(job('retries: 1'));
    const none = states(job('retries: 0'));
    // Assess
    expect(plain.ShouldRetry!.Choices).toEqual([
      { And: [{ Variable: '$.exit.code', IsNumeric: true }, { Variable: '$.exit.code', NumericEquals: 0 }], Next: 'SidecarFailed' },
      { Variable: '$.retry.attempt', NumericLessThan: 1, Next: 'PrepareRetry' },
    ]);
    expect(none.ShouldRetry!.Choices).toHaveLength(1);
    expect(none.PrepareRetry).toBeUndefined();
    expect(none.WaitToRetry).toBeUndefined();
  });

  it('waits retryIntervalSeconds * backoffRate^n before retry n, capped at maxDelaySeconds, then runs the task again', () => {
    // Act
    const s = states(job('retries: 3', 'retryIntervalSeconds: 10', 'backoffRate: 3', 'maxDelaySeconds: 60'));
    // Assess
    expect(s.PrepareRetry).toEqual({
      Type: 'Pass',
      Comment: 'Back-off: 10, 30, 60 s',
      Parameters: { 'attempt.$': 'States.MathAdd($.retry.attempt, 1)', 'delay.$': 'States.ArrayGetItem(States.Array(10, 30, 60), $.retry.attempt)' },
      ResultPath: '$.retry',
      Next: 'WaitToRetry',
    });
    expect(s.WaitToRetry).toEqual({ Type: 'Wait', SecondsPath: '$.retry.delay', Next: 'RunTask' });
  });

  it('finds a timed-out task by StartedBy alone and stops it, ending TIMED_OUT; finding or stopping failing ends it too', () => {
    // Act
    const s = states(job('timeoutSeconds: 90'));
    // Assess
    expect(s.FindTimedOutTasks).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:ecs:listTasks',
      Parameters: { Cluster: 'CLUSTER', 'StartedBy.$': '$.runId' },
      ResultSelector: { 'taskArns.$': '$.TaskArns' },
      ResultPath: '$.timedOut',
      Retry: SDK_RETRY,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'MarkTimedOut' }],
      Next: 'StopTimedOutTasks',
    });
    expect(s.StopTimedOutTasks).toEqual({
      Type: 'Map',
      ItemsPath: '$.timedOut.taskArns',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'StopTimedOutTask',
        States: {
          StopTimedOutTask: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:ecs:stopTask',
            Parameters: { Cluster: 'CLUSTER', 'Task.$': '$', Reason: 'stepcron: timed out after 90s' },
            ResultSelector: { 'taskArn.$': '$.Task.TaskArn' },
            Retry: SDK_RETRY,
            End: true,
          },
        },
      },
      ResultPath: '$.timedOut.stopped',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopError', Next: 'MarkTimedOut' }],
      Next: 'MarkTimedOut',
    });
    expect(s.ShouldRetryTimeout).toBeUndefined();
  });

  it('with retryOn: [timeout], a stopped attempt is retried like a failure while attempts are left', () => {
    // Act
    const s = states(job('retries: 2', 'retryOn: [timeout]'));
    // Assess
    expect(s.StopTimedOutTasks!.Next).toBe('ShouldRetryTimeout');
    expect(s.ShouldRetryTimeout).toEqual({
      Type: 'Choice', Choices: [{ Variable: '$.retry.attempt', NumericLessThan: 2, Next: 'PrepareRetry' }], Default: 'MarkTimedOut',
    });
  });

  it('records each way the run ends in $.outcome with its error name, cause and attempts', () => {
    // Act
    const s = states(job('timeoutSeconds: 90'));
    // Assess
    const attempts = 'States.MathAdd($.retry.attempt, 1)';
    expect(s.MarkTimedOut).toEqual({
      Type: 'Pass',
      Parameters: { status: 'TIMED_OUT', error: 'JobTimedOut', cause: 'the task ran longer than timeoutSeconds (90) and was stopped', 'attempts.$': attempts },
      ResultPath: '$.outcome',
      Next: 'NotifyFailure',
    });
    expect(s.MarkJobFailed).toEqual({
      Type: 'Pass', Parameters: { status: 'FAILED', error: 'JobFailed', 'cause.$': '$.error.Cause', 'attempts.$': attempts }, ResultPath: '$.outcome', Next: 'NotifyFailure',
    });
    expect(s.MarkStartFailed).toEqual({
      Type: 'Pass', Parameters: { status: 'FAILED', error: 'JobStartFailed', 'cause.$': '$.error.Cause', 'attempts.$': attempts }, ResultPath: '$.outcome', Next: 'NotifyFailure',
    });
  });

  it('notifies a failure with the outcome, and a failed notification keeps the run\'s own outcome', () => {
    // Act
    const s = states(job());
    // Assess
    expect(s.NotifyFailure).toEqual(notifyTask(notifyCommon({ 'status.$': '$.outcome.status', 'outcome.$': '$.outcome' }), 'Failed'));
  });

  it('notifies a success only with onSuccess or minRuntimeSeconds, with the task and attempts, the job\'s zone and task size', () => {
    // Act
    const quiet = states(job());
    const onSuccess = states(job('notify: { onSuccess: true }'));
    const minRuntime = states(job('minRuntimeSeconds: 5', 'timezone: Europe/Berlin', 'cpu: 512', 'memory: 1024'));
    // Assess
    expect(quiet.NotifySuccess).toBeUndefined();
    expect(quiet.RunTask!.Next).toBe('Succeeded');
    const success = { status: 'SUCCEEDED', 'task.$': '$.task', 'attempts.$': 'States.MathAdd($.retry.attempt, 1)' };
    expect(onSuccess.RunTask!.Next).toBe('NotifySuccess');
    expect(onSuccess.SidecarFailed!.Next).toBe('NotifySuccess');
    expect(onSuccess.NotifySuccess).toEqual(notifyTask(notifyCommon(success), 'Succeeded'));
    // minRuntimeSeconds: the notify function reports only a too-fast run (onSuccess false), so it is told both.
    expect(minRuntime.RunTask!.Next).toBe('NotifySuccess');
    expect(minRuntime.NotifySuccess!.Parameters.Payload).toEqual(notifyCommon({
      timezone: 'Europe/Berlin', taskSize: { cpu: 512, memoryMiB: 1024 }, onSuccess: false, minRuntimeSeconds: 5, ...success,
    }));
    // ... and a failure's notification does not carry them.
    expect(minRuntime.NotifyFailure!.Parameters.Payload).not.toHaveProperty('minRuntimeSeconds');
    expect(minRuntime.NotifyFailure!.Parameters.Payload).not.toHaveProperty('onSuccess');
  });
});

describe('a fan-out job', () => {
  const fanOut = (spec: string, ...lines: string[]) => job('retries: 1', `fanOut: ${spec}`, ...lines);

  it('tells the precheck where the items are, where a run may point itemsFrom, the inline limit and the tolerance', () => {
    // Act
    const policy = (spec: string) => states(fanOut(spec)).Precheck!.Parameters.Payload.policy;
    // Assess: with retries 1, an inline item takes 10 events and each retry 20 more: 24,800 / 30
    expect(policy('{ items: [a, b], toleratedFailurePercentage: 10 }')).toEqual({
      concurrency: 'forbid', input: {},
      fanOut: { items: ['a', 'b'], itemsPrefixes: ['s3://RESULTS/items/'], inlineLimit: 826, toleratedFailurePercentage: 10 },
    });
    expect(policy('{ itemsPath: $.tenants }').fanOut).toEqual({
      itemsPath: '$.tenants', itemsPrefixes: ['s3://RESULTS/items/'], inlineLimit: 826, toleratedFailurePercentage: 0,
    });
    // The catalog's own bucket may be read, and the stage's items/ prefix.
    expect(policy('{ itemsFrom: s3://acme-items/tenants.csv }').fanOut).toEqual({
      itemsFrom: 's3://acme-items/tenants.csv', itemsPrefixes: ['s3://acme-items/', 's3://RESULTS/items/'], inlineLimit: 826, toleratedFailurePercentage: 0,
    });
  });

  it('routes to the Map the precheck chose: inline by default, a Distributed Map per other route', () => {
    // Act
    const s = states(fanOut('{ items: [a] }'));
    // Assess
    expect(s.ShouldRun!.Choices[0].Next).toBe('RouteFanOut');
    expect(states(fanOut('{ items: [a] }', 'runtimeWarningSeconds: 60')).ArmRuntimeWarning!.Next).toBe('RouteFanOut');
    expect(s.RouteFanOut).toEqual({
      Type: 'Choice',
      Comment: 'The precheck chose the route: inline Map for short lists, Distributed Map for long lists and S3 objects',
      Choices: [
        { Variable: '$.route', StringEquals: 'items', Next: 'FanOutDistributed' },
        { Variable: '$.route', StringEquals: 'json', Next: 'FanOutJson' },
        { Variable: '$.route', StringEquals: 'jsonl', Next: 'FanOutJsonl' },
        { Variable: '$.route', StringEquals: 'csv', Next: 'FanOutCsv' },
      ],
      Default: 'FanOut',
    });
    expect(s.RunTask).toBeUndefined();
  });

  it('runs inline items in a Map at most 40 at a time, each item with its own run id and index', () => {
    // Act
    const wide = states(fanOut('{ items: [a], maxConcurrency: 50 }')).FanOut!;
    const narrow = states(fanOut('{ items: [a], maxConcurrency: 3 }')).FanOut!;
    // Assess
    const { ItemProcessor, ...map } = wide;
    expect(map).toEqual({
      Type: 'Map',
      Comment: 'One task per item; every item ends in ItemSucceeded or ItemFailed, so none is dropped',
      ItemsPath: '$.items',
      MaxConcurrency: 40,
      ItemSelector: {
        'runId.$': "States.Format('{}-{}', $.runId, $$.Map.Item.Index)", 'scheduledTime.$': '$.scheduledTime', 'input.$': '$.input',
        'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', retry: { attempt: 0, delay: 0 },
      },
      ResultPath: '$.results',
      Next: 'CountFailures',
    });
    expect(narrow.MaxConcurrency).toBe(3);
    expect(ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(ItemProcessor.StartAt).toBe('RunTask');
  });

  it('ends each inline item in ItemSucceeded (ok) or ItemFailed (its index, item and outcome), never failing the Map', () => {
    // Act
    const item = states(fanOut('{ items: [a] }')).FanOut!.ItemProcessor.States as Record<string, State>;
    // Assess
    expect(item.RunTask!.Next).toBe('ItemSucceeded');
    expect(item.RunTask!.Parameters.Overrides.ContainerOverrides[0].Environment).toContainEqual({ Name: 'STEPCRON_ITEM', 'Value.$': 'States.JsonToString($.item)' });
    expect(item.SidecarFailed!.Next).toBe('ItemSucceeded');
    expect(item.ItemSucceeded).toEqual({ Type: 'Pass', Result: 'ok', End: true });
    expect(item.ItemFailed).toEqual({ Type: 'Pass', Parameters: { 'index.$': '$.index', 'item.$': '$.item', 'outcome.$': '$.outcome' }, End: true });
    // An item's outcome keeps the exit code and task ARN, not the whole ECS Task.
    expect(item.MarkJobFailed).toEqual({
      Type: 'Pass',
      Parameters: {
        status: 'FAILED', error: 'JobFailed', 'exitCode.$': '$.exit.code', 'taskArn.$': '$.failure.task.TaskArn', 'attempts.$': 'States.MathAdd($.retry.attempt, 1)',
      },
      ResultPath: '$.outcome',
      Next: 'ItemFailed',
    });
    for (const name of ['MarkTimedOut', 'MarkStartFailed']) expect(item[name]!.Next).toBe('ItemFailed');
    expect(item.DescribeItemFailure).toBeUndefined();
  });

  it('counts failed items (distinct results, less one ok) and fails the run past maxFailedItems', () => {
    // Act
    const s = states(fanOut('{ items: [a], toleratedFailurePercentage: 10 }'));
    // Assess
    expect(s.CountFailures).toEqual({
      Type: 'Pass',
      Parameters: {
        'total.$': 'States.ArrayLength($.results)', 'distinct.$': 'States.ArrayLength(States.ArrayUnique($.results))',
        'anySucceeded.$': "States.ArrayContains($.results, 'ok')", 'limit.$': 'States.MathAdd($.maxFailedItems, 1)',
      },
      ResultPath: '$.tally',
      Next: 'TooManyFailures',
    });
    expect(s.TooManyFailures).toEqual({
      Type: 'Choice',
      Choices: [
        { And: [{ Variable: '$.tally.anySucceeded', BooleanEquals: true }, { Variable: '$.tally.distinct', NumericGreaterThanPath: '$.tally.limit' }], Next: 'MarkFanOutFailed' },
        { And: [{ Variable: '$.tally.anySucceeded', BooleanEquals: false }, { Variable: '$.tally.total', NumericGreaterThanPath: '$.maxFailedItems' }], Next: 'MarkFanOutFailed' },
      ],
      Default: 'AnyItemFailed',
    });
    expect(s.MarkFanOutFailed).toEqual({
      Type: 'Pass',
      Parameters: {
        status: 'FAILED', error: 'FanOutToleranceExceeded',
        'cause.$': "States.Format('more than {} of {} items failed (10% tolerated)', $.maxFailedItems, $.tally.total)",
        attempts: 0, 'results.$': '$.results',
      },
      ResultPath: '$.outcome',
      Next: 'NotifyFailure',
    });
  });

  it('reports a run that succeeded with some failed items, so no failure goes unseen; a clean run ends quietly', () => {
    // Act
    const s = states(fanOut('{ items: [a] }'));
    // Assess
    expect(s.AnyItemFailed).toEqual({
      Type: 'Choice',
      Choices: [{ Or: [{ Variable: '$.tally.anySucceeded', BooleanEquals: false }, { Variable: '$.tally.distinct', NumericGreaterThan: 1 }], Next: 'NotifySuccess' }],
      Default: 'Succeeded',
    });
    expect(s.NotifySuccess).toEqual(notifyTask(notifyCommon({ status: 'SUCCEEDED', 'results.$': '$.results' }), 'Succeeded'));
  });

  it('with onSuccess every successful run is notified: no AnyItemFailed, and DidFanOutFail defaults to the notification', () => {
    // Act
    const s = states(fanOut('{ items: [a] }', 'notify: { onSuccess: true }'));
    // Assess
    expect(s.TooManyFailures!.Default).toBe('NotifySuccess');
    expect(s.AnyItemFailed).toBeUndefined();
    expect(s.DidFanOutFail!.Default).toBe('NotifyItemsSucceeded');
    expect(s.DidFanOutFail!.Choices).toHaveLength(2);
  });

  it('runs long lists and S3 objects in Distributed Maps of STANDARD child executions, with the native tolerance and results in the stage bucket', () => {
    // Act
    const s = states(fanOut('{ itemsFrom: s3://acme-items/t.csv, maxConcurrency: 50, toleratedFailurePercentage: 10 }'));
    // Assess
    const reader = (InputType: string, extra = {}) => ({
      Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType, ...extra }, Parameters: { 'Bucket.$': '$.source.bucket', 'Key.$': '$.source.key' },
    });
    const expected: Record<string, [string, object]> = {
      FanOutDistributed: ['items', { ItemsPath: '$.items' }],
      FanOutJson: ['json', { ItemReader: reader('JSON') }],
      FanOutJsonl: ['jsonl', { ItemReader: reader('JSONL') }],
      FanOutCsv: ['csv', { ItemReader: reader('CSV', { CSVHeaderLocation: 'FIRST_ROW' }) }],
    };
    for (const [name, [route, source]] of Object.entries(expected)) {
      const { ItemProcessor, ...map } = s[name]!;
      expect(map).toEqual({
        Type: 'Map',
        Comment: 'One child execution per item; a failed item fails its execution and counts against the tolerance',
        ...source,
        ItemSelector: s.FanOut!.ItemSelector,
        MaxConcurrency: 50,
        ToleratedFailurePercentage: 10,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'RESULTS', 'Prefix.$': "States.Format('results/j/{}', $.runId)" } },
        ResultPath: '$.mapRun',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: 'FindMapRun' }],
        Next: 'FindMapRun',
      });
      expect([name, ItemProcessor.ProcessorConfig, ItemProcessor.StartAt]).toEqual([name, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, `RunTask-${route}`]);
    }
  });

  it('names each Distributed Map\'s item states after its route, every transition (nested Map included) following them', () => {
    // Act
    const s = states(fanOut('{ itemsFrom: s3://acme-items/t.json }'));
    // Assess
    for (const route of ['items', 'json', 'jsonl', 'csv']) {
      const map = Object.values(s).find((st) => st.ItemProcessor?.StartAt === `RunTask-${route}`)!;
      const inner = map.ItemProcessor.States as Record<string, State>;
      expect(Object.keys(inner).every((name) => name.endsWith(`-${route}`))).toBe(true);
      expect(Object.keys(inner).map(baseStateName)).toEqual(Object.keys(s.FanOut!.ItemProcessor.States).concat(['DescribeItemFailure', 'ItemFailedEnd']));
      expect(inner[`RunTask-${route}`]!.Catch).toEqual([
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: `FindTimedOutTasks-${route}` },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `IsTaskFailure-${route}` },
      ]);
      expect(inner[`ShouldRetry-${route}`]).toEqual({
        Type: 'Choice',
        Choices: [
          { And: [{ Variable: '$.exit.code', IsNumeric: true }, { Variable: '$.exit.code', NumericEquals: 0 }], Next: `SidecarFailed-${route}` },
          { Variable: '$.retry.attempt', NumericLessThan: 1, Next: `PrepareRetry-${route}` },
        ],
        Default: `MarkJobFailed-${route}`,
      });
      // Every item ends in its own ItemSucceeded or ItemFailed.
      for (const name of ['RunTask', 'SidecarFailed']) expect([name, inner[`${name}-${route}`]!.Next]).toEqual([name, `ItemSucceeded-${route}`]);
      for (const name of ['MarkJobFailed', 'MarkTimedOut', 'MarkStartFailed']) expect([name, inner[`${name}-${route}`]!.Next]).toEqual([name, `ItemFailed-${route}`]);
      const stop = inner[`StopTimedOutTasks-${route}`]!.ItemProcessor;
      expect([stop.StartAt, Object.keys(stop.States)]).toEqual([`StopTimedOutTask-${route}`, [`StopTimedOutTask-${route}`]]);
      // Values that are not state names (a Catch's ResultPath, a Result) stay as they are.
      expect(inner[`ItemSucceeded-${route}`]).toEqual({ Type: 'Pass', Result: 'ok', End: true });
      expect(inner[`NoExitCode-${route}`]).toEqual({ Type: 'Pass', Result: { code: null }, ResultPath: '$.exit', Next: `ShouldRetry-${route}` });
    }
  });

  it('fails a Distributed Map item\'s child execution with the item\'s error, so the Map counts it', () => {
    // Act
    const inner = states(fanOut('{ itemsFrom: s3://acme-items/t.json }')).FanOutJson!.ItemProcessor.States as Record<string, State>;
    // Assess
    expect(inner['ItemFailed-json']).toEqual({
      Type: 'Pass', Parameters: { 'index.$': '$.index', 'item.$': '$.item', 'outcome.$': '$.outcome' }, ResultPath: '$.failedItem', Next: 'DescribeItemFailure-json',
    });
    expect(inner['DescribeItemFailure-json']).toEqual({
      Type: 'Pass', Parameters: { 'error.$': '$.failedItem.outcome.error', 'cause.$': 'States.JsonToString($.failedItem)' }, Next: 'ItemFailedEnd-json',
    });
    expect(inner['ItemFailedEnd-json']).toEqual({ Type: 'Fail', ErrorPath: '$.error', CausePath: '$.cause' });
  });

  it('after a Distributed Map, reads its counts from the map run (when there is one) and tells tolerance from other Map errors', () => {
    // Act
    const s = states(fanOut('{ itemsFrom: s3://acme-items/t.json, toleratedFailurePercentage: 10 }'));
    // Assess
    const catchCounts = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.countError', Next: 'CountsUnknown' }];
    expect(s.FindMapRun).toEqual({
      Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:sfn:listMapRuns', Parameters: { 'ExecutionArn.$': '$$.Execution.Id' },
      ResultSelector: { 'runs.$': '$.MapRuns' }, ResultPath: '$.mapRunFound', Retry: SDK_RETRY, Catch: catchCounts, Next: 'HasMapRun',
    });
    expect(s.HasMapRun).toEqual({
      Type: 'Choice', Choices: [{ Variable: '$.mapRunFound.runs[0].MapRunArn', IsPresent: true, Next: 'CountItems' }], Default: 'CountsUnknown',
    });
    expect(s.CountItems).toEqual({
      Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:sfn:describeMapRun', Parameters: { 'MapRunArn.$': '$.mapRunFound.runs[0].MapRunArn' },
      ResultSelector: {
        known: true, 'total.$': '$.ItemCounts.Total', 'succeeded.$': '$.ItemCounts.Succeeded', 'failed.$': '$.ItemCounts.Failed',
        'timedOut.$': '$.ItemCounts.TimedOut', 'aborted.$': '$.ItemCounts.Aborted',
      },
      ResultPath: '$.counts', Retry: SDK_RETRY, Catch: catchCounts, Next: 'DidFanOutFail',
    });
    expect(s.CountsUnknown).toEqual({ Type: 'Pass', Result: { known: false }, ResultPath: '$.counts', Next: 'DidFanOutFail' });
    expect(s.DidFanOutFail).toEqual({
      Type: 'Choice',
      Choices: [
        { And: [{ Variable: '$.mapError', IsPresent: true }, { Variable: '$.mapError.Error', StringEquals: 'States.ExceedToleratedFailureThreshold' }], Next: 'MarkToleranceExceeded' },
        { Variable: '$.mapError', IsPresent: true, Next: 'MarkFanOutError' },
        { And: [{ Variable: '$.counts.known', BooleanEquals: true }, { Variable: '$.counts.failed', NumericGreaterThan: 0 }], Next: 'NotifyItemsSucceeded' },
      ],
      Default: 'Succeeded',
    });
    const resultsAt = { bucket: 'RESULTS', 'prefix.$': "States.Format('results/j/{}', $.runId)" };
    expect(s.MarkToleranceExceeded).toEqual({
      Type: 'Pass',
      Parameters: { status: 'FAILED', error: 'FanOutToleranceExceeded', cause: 'more than 10% of the items failed', attempts: 0, 'counts.$': '$.counts', resultsAt },
      ResultPath: '$.outcome',
      Next: 'NotifyFailure',
    });
    expect(s.MarkFanOutError).toEqual({
      Type: 'Pass',
      Parameters: {
        status: 'FAILED', error: 'FanOutFailed', 'cause.$': "States.Format('{}: {}', $.mapError.Error, $.mapError.Cause)", attempts: 0, 'counts.$': '$.counts', resultsAt,
      },
      ResultPath: '$.outcome',
      Next: 'NotifyFailure',
    });
    expect(s.NotifyItemsSucceeded).toEqual(notifyTask(notifyCommon({ status: 'SUCCEEDED', 'counts.$': '$.counts', resultsAt }), 'Succeeded'));
    expect(resultsLocation(job(), infra)).toEqual(resultsAt);
  });
});

describe('the numbers compile derives', () => {
  it('retryDelays: retryIntervalSeconds * backoffRate^n, rounded, capped at maxDelaySeconds; one per retry', () => {
    expect(retryDelays(job('retries: 5', 'retryIntervalSeconds: 30', 'backoffRate: 1.5', 'maxDelaySeconds: 100'))).toEqual([30, 45, 68, 100, 100]);
    expect(retryDelays(job('retries: 0'))).toEqual([]);
  });

  it('retriesTimeouts: only with retryOn: [timeout] and retries left to use', () => {
    expect(retriesTimeouts(job('retryOn: [timeout]'))).toBe(true);
    expect(retriesTimeouts(job())).toBe(false);
    expect(retriesTimeouts({ ...job('retryOn: [timeout]'), retries: 0 })).toBe(false);
  });

  it('runTimeoutSeconds: every attempt at its timeout plus the longest back-offs, plus 900 s for the Lambdas', () => {
    // 3 x 600 + 2 x 120 + 900
    expect(runTimeoutSeconds(job('retries: 2', 'timeoutSeconds: 600', 'maxDelaySeconds: 120'))).toBe(2940);
    expect(compile(job('retries: 2', 'timeoutSeconds: 600', 'maxDelaySeconds: 120'), infra).TimeoutSeconds).toBe(2940);
  });

  it('runTimeoutSeconds of a fan-out: per wave of items, the catalog list\'s at most 40 at a time, or 100,000 run items at maxConcurrency', () => {
    const list = Array.from({ length: 1000 }, (_, i) => i).join(', ');
    // 1,000 listed items, 40 at a time inline: 25 waves of 10 s, more than 100,000 / 10,000 = 10
    expect(runTimeoutSeconds(job('retries: 0', 'timeoutSeconds: 10', `fanOut: { items: [${list}], maxConcurrency: 10000 }`))).toBe(25 * 10 + 900);
    // Items that come with the run: RUNTIME_ITEMS / maxConcurrency waves
    expect(RUNTIME_ITEMS).toBe(100_000);
    expect(runTimeoutSeconds(job('retries: 0', 'timeoutSeconds: 10', 'fanOut: { itemsPath: $.t, maxConcurrency: 10000 }'))).toBe(10 * 10 + 900);
    // ... and never more than a Standard execution's year
    expect(runTimeoutSeconds(job('retries: 0', 'timeoutSeconds: 3600', 'fanOut: { itemsPath: $.t, maxConcurrency: 1 }'))).toBe(365 * 24 * 3600);
  });

  it('inlineItemLimit: 24,800 history events over an item\'s 10, plus 20 per retry (28 per timed-out retry with retryOn: [timeout])', () => {
    expect(inlineItemLimit(job('retries: 0'))).toBe(2480);
    expect(inlineItemLimit(job('retries: 2'))).toBe(496);
    // floor(24,800 / (10 + 2 x 28))
    expect(inlineItemLimit(job('retries: 2', 'retryOn: [timeout]'))).toBe(375);
    expect(inlineItemLimit(job('retries: 10'))).toBe(118);
  });

  it('baseStateName: a Distributed Map\'s copy of a state (RunTask-json) has the catalog\'s name; nothing else changes', () => {
    expect(['RunTask-json', 'RunTask-jsonl', 'RunTask-csv', 'ReadExitCode0-items', 'ItemFailed-inline'].map(baseStateName))
      .toEqual(['RunTask', 'RunTask', 'RunTask', 'ReadExitCode0', 'ItemFailed']);
    expect(['RunTask', 'RunTask-jsonx', 'RunTask-json-x', 'RunTaskjson', 'RunTask-xml'].map(baseStateName))
      .toEqual(['RunTask', 'RunTask-jsonx', 'RunTask-json-x', 'RunTaskjson', 'RunTask-xml']);
  });

  it('S3_ITEMS takes s3://bucket/key ending in .json, .jsonl, .ndjson or .csv; s3Bucket reads the bucket', () => {
    expect(['s3://acme-items/a/b.json', 's3://a.b-c/k.jsonl', 's3://abc/k.ndjson', 's3://abc/k.csv'].map((u) => S3_ITEMS.exec(u)?.slice(1)))
      .toEqual([['acme-items', 'a/b.json', 'json'], ['a.b-c', 'k.jsonl', 'jsonl'], ['abc', 'k.ndjson', 'ndjson'], ['abc', 'k.csv', 'csv']]);
    // Too short a bucket, capitals, a bucket ending in '-', another extension, no key, anything around it.
    for (const bad of ['s3://ab/k.json', 's3://Acme/k.json', 's3://acme-/k.json', 's3://acme/k.xml', 's3://acme/.json', 'x s3://acme/k.json', 's3://acme/k.json x']) {
      expect([bad, S3_ITEMS.test(bad)]).toEqual([bad, false]);
    }
    expect(s3Bucket('s3://acme-items/a/b.json')).toBe('acme-items');
  });
});
