// AWS's limits, enforced by the local runner on the same definition: history events, payload size, inline Map
// concurrency, ECS container overrides, execution names; and the summary that stays small for a large fan-out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type Definition } from '../workflows/compile';
import {
  checkExecutionName, dataLimitCause, ECS_OVERRIDES_LIMIT, ecsOverridesLength, executionNameError, HISTORY_EVENT_LIMIT, historyEventCount,
  historyEvents, iterationEvents, jsonDepth, LOCAL_DEPTH_LIMIT, localDepthProblem, overrideChars, PAYLOAD_LIMIT_BYTES, payloadBytes, taskKind,
  type Transition,
} from '../workflows/limits';
import { execute, HistoryBudget, localInfra, newExecution, type Services, StartExecutionError, withInlineMapLimit } from '../cli/engine';
import { formatSummary, runLocal } from '../cli/run';
import { Store } from '../cli/store';
import type { EcsBackend } from '../cli/backends/types';
import { defaultPrecheck, ecsTask, jobFrom, runJob } from './support/workflow';

const fanOutJob = (items: unknown[], extra = '') => jobFrom(`
jobs:
  sync:
    description: per-tenant sync
    schedule: rate(1 hour)
    image: sync:1
    command: [sh, sync.sh]
    retries: 0
    fanOut: { items: ${JSON.stringify(items)}, maxConcurrency: 40, toleratedFailurePercentage: 100 }
${extra}`);

const singleJob = () => jobFrom(`
jobs:
  report:
    description: nightly report
    schedule: cron(30 2 * * ? *)
    image: reports:1
    command: [sh, report.sh]
    retries: 0
`);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The smallest inline fan-out of AWS-FACTS' item shape: an inline Map whose item is a `.sync` RunTask and a Pass, with
 * a Catch on the Map (a limit must not go there). Independent of how workflows/compile.ts routes fan-outs.
 */
function inlineFanOut(items: unknown[], runTask: Services['runTask'] = async () => ecsTask(0)) {
  let calls = 0;
  const definition: Definition = {
    Comment: 'inline fan-out', StartAt: 'FanOut', TimeoutSeconds: 600,
    States: {
      FanOut: {
        Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 40,
        ItemSelector: { 'item.$': '$$.Map.Item.Value', 'runId.$': "States.Format('run-{}', $$.Map.Item.Index)" },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'RunTask',
          States: {
            RunTask: {
              Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync',
              Parameters: {
                Cluster: 'c', TaskDefinition: 't', 'StartedBy.$': '$.runId',
                Overrides: { ContainerOverrides: [{ Name: 'job', Environment: [{ Name: 'STEPCRON_ITEM', 'Value.$': 'States.JsonToString($.item)' }] }] },
              },
              ResultSelector: { 'taskArn.$': '$.TaskArn' }, ResultPath: '$.task', Next: 'ItemSucceeded',
            },
            ItemSucceeded: { Type: 'Pass', Result: 'ok', End: true },
          },
        },
        ResultPath: '$.results',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
        Next: 'Done',
      },
      Caught: { Type: 'Pass', Next: 'Done' },
      Done: { Type: 'Succeed' },
    },
  };
  const services = {
    runTask: (params) => { calls++; return runTask(params); },
  } as Services;
  return { definition, input: { items }, services, started: () => calls };
}

describe('workflows/limits', () => {
  it('has the AWS numbers', () => {
    expect([PAYLOAD_LIMIT_BYTES, HISTORY_EVENT_LIMIT, ECS_OVERRIDES_LIMIT]).toEqual([262_144, 25_000, 8_192]);
  });

  it('measures payloads as the UTF-8 bytes of their JSON', () => {
    expect(payloadBytes({ a: 'é' })).toBe('{"a":"é"}'.length + 1);
    expect(payloadBytes('x'.repeat(10))).toBe(12);
    expect(payloadBytes(undefined)).toBe(0);
  });

  it('accepts the names AWS accepts and refuses the others, with the API error StartExecution answers', () => {
    // Assess: fine names
    for (const name of ['20261124T100000Z-ab12', 'a', 'x'.repeat(80), 'run_1.2-b', 'ünïcode']) expect(checkExecutionName(name)).toBeUndefined();
    // Assess: refused names
    expect(executionNameError('')?.error).toBe('ValidationException');
    expect(executionNameError('x'.repeat(81))).toMatchObject({ error: 'ValidationException', message: expect.stringContaining('less than or equal to 80') });
    for (const bad of ['a b', 'a\tb', 'a\u00a0b', ...'<>{}[]?*"#%\\^|~`$&,;:/'.split('').map((c) => `a${c}b`), 'a\u0001b', 'a\u007fb', 'a\u0085b']) {
      expect(executionNameError(bad)?.error).toBe('InvalidName');
    }
  });

  it('counts the ECS overrides as the compact camelCase JSON ECS receives', () => {
    // Prepare
    const overrides = { ContainerOverrides: [{ Name: 'job', Environment: [{ Name: 'A', Value: 'b' }] }] };
    // Act / Assess
    expect(ecsOverridesLength(overrides)).toBe('{"containerOverrides":[{"name":"job","environment":[{"name":"A","value":"b"}]}]}'.length);
  });

  it('models the history events of each transition', () => {
    expect(taskKind('arn:aws:states:::ecs:runTask.sync')).toBe('sync');
    expect(taskKind('arn:aws:states:::lambda:invoke')).toBe('request');
    expect(taskKind('arn:aws:states:::aws-sdk:ecs:listTasks')).toBe('request');
    expect(taskKind('arn:aws:lambda:us-east-1:123456789012:function:f')).toBe('lambda');
    // A .sync task that succeeds: six events.
    expect([
      ...historyEvents({ kind: 'stateEntered', state: 'Task', task: 'sync' }),
      ...historyEvents({ kind: 'stateExited', state: 'Task', task: 'sync' }),
    ]).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited']);
    // A Lambda (lambda:invoke) task: five.
    expect(historyEventCount({ kind: 'stateEntered', state: 'Task', task: 'request' }) + historyEventCount({ kind: 'stateExited', state: 'Task', task: 'request' })).toBe(5);
    // A retry is another attempt; a failure is one event (two for a .sync task that ran).
    expect(historyEvents({ kind: 'stateRetried', state: 'Task', task: 'sync' })).toEqual(['TaskScheduled', 'TaskStarted']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'sync', error: 'States.TaskFailed' })).toEqual(['TaskSubmitted', 'TaskFailed']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'sync', error: 'ECS.AmazonECSException' })).toEqual(['TaskFailed']);
    expect(historyEvents({ kind: 'stateExited', state: 'Task', task: 'sync', caught: true })).toEqual(['TaskStateExited']);
    expect(historyEvents({ kind: 'stateEntered', state: 'Map' })).toEqual(['MapStateEntered', 'MapStateStarted']);
    expect(historyEvents({ kind: 'stateExited', state: 'Wait' })).toEqual(['WaitStateExited']);
    expect(historyEvents({ kind: 'stateExited', state: 'Fail' })).toEqual([]);
    // One fan-out item (.sync task, then a Pass): ten, so about 2,500 items fit.
    expect(iterationEvents([{ state: 'Task', task: 'sync' }, { state: 'Pass' }])).toBe(10);
  });

  it('clamps inline Map concurrency to 40 and leaves a distributed Map alone', () => {
    // Prepare
    const map = (extra: object): Record<string, unknown> => ({ Type: 'Map', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true, ...extra });
    const definition = { StartAt: 'A', States: { A: map({ MaxConcurrency: 100 }), B: map({ MaxConcurrency: 0 }), C: map({ MaxConcurrency: 5 }),
      D: map({ MaxConcurrency: 1000, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'P', States: {} } }) } };
    // Act
    const limited = withInlineMapLimit(definition).States as unknown as Record<string, { MaxConcurrency: number }>;
    // Assess
    expect([limited.A!.MaxConcurrency, limited.B!.MaxConcurrency, limited.C!.MaxConcurrency, limited.D!.MaxConcurrency]).toEqual([40, 40, 5, 1000]);
    expect(definition.States.A.MaxConcurrency).toBe(100);
  });

  it('HistoryBudget stops at the limit: the failure is event number 25,000', () => {
    // Prepare
    const budget = new HistoryBudget(new Map(), 10);
    const pass = (type: 'StateEntered' | 'StateExited') => ({ type, timestamp: 0, state: { name: 'P', type: 'Pass', input: {} } }) as never;
    // Act
    const added = [budget.add({ type: 'ExecutionStarted', timestamp: 0, input: {} } as never)];
    for (let i = 0; i < 4; i++) added.push(budget.add(pass('StateEntered')), budget.add(pass('StateExited')));
    // Assess: 1 + 8 events fit under 10; the tenth would be the last real one... so the next one fails it.
    expect(added.every(Boolean)).toBe(true);
    expect(budget.count).toBe(9);
    expect(budget.add(pass('StateEntered'))).toBe(false);
    expect(budget.count).toBe(10);
  });
});

describe('local runs fail where AWS would', () => {
  it('an inline fan-out past 25,000 history events fails with States.Runtime, uncaught, and starts no task after that', async () => {
    // Prepare: ~10 events per item (a .sync task and a Pass), so 2,600 items need ~26,000 events
    const { definition, input, services, started } = inlineFanOut(range(2600));
    // Act
    const outcome = await execute(definition, input, newExecution(singleJob(), 'test', 'big-fan-out'), { services, keepEvents: true });
    // Assess: AWS fails the execution as its 25,000th event; the Map's Catch (States.ALL) does not apply
    expect(outcome).toMatchObject({
      status: 'FAILED', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (25000).',
      historyEvents: 25_000,
    });
    expect(started()).toBeLessThan(2500);
    expect(outcome.events.some((e) => e.type === 'StateEntered' && e.state.name === 'Caught')).toBe(false);
  }, 30_000);

  it('counts a fan-out history the way AWS writes it: 10 events per item of a .sync task and a Pass', async () => {
    // Prepare
    const { definition, input, services } = inlineFanOut(range(100));
    // Act
    const outcome = await execute(definition, input, newExecution(singleJob(), 'test', 'small-fan-out'), { services });
    // Assess: ExecutionStarted, the Map's 4, 10 per item, Done's 2, ExecutionSucceeded
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', historyEvents: 1 + 4 + 10 * 100 + 2 + 1, transitions: 2 + 2 * 100 });
  });

  it('the compiled fan-out job costs about 10 events per item, plus a few for the run', async () => {
    // Prepare
    const items = range(50);
    // Act
    const { outcome } = await runJob(fanOutJob(items), { precheck: defaultPrecheck(items) });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.historyEvents).toBeGreaterThanOrEqual(10 * 50 + 20);
    expect(outcome.historyEvents).toBeLessThan(10 * 50 + 60);
  });

  it('a task result over 256 KiB fails the run with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    // Prepare: RunTask catches States.ALL (to judge start failures) and failures notify
    const huge = ecsTask(0, { StoppedReason: 'x'.repeat(PAYLOAD_LIMIT_BYTES) });
    // Act
    const { outcome, calls } = await runJob(singleJob(), { runTask: () => huge });
    // Assess
    expect(outcome).toMatchObject({
      status: 'FAILED', error: 'States.DataLimitExceeded',
      cause: "The state/task 'RunTask' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(outcome.maxPayloadBytes).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
    expect(outcome.events.some((e) => e.type === 'StateEntered' && e.state.name === 'MarkStartFailed')).toBe(false);
    expect(calls.notify).toHaveLength(0);
  });

  it("a state's output over 256 KiB fails the run with States.DataLimitExceeded", async () => {
    // Prepare: a Pass state builds the big value, no Task involved
    const definition = {
      Comment: 'big', StartAt: 'Big', TimeoutSeconds: 60,
      States: { Big: { Type: 'Pass', Result: 'x'.repeat(PAYLOAD_LIMIT_BYTES), ResultPath: '$.big', Next: 'Done' }, Done: { Type: 'Succeed' } },
    };
    const job = singleJob();
    // Act
    const outcome = await execute(definition, {}, newExecution(job, 'test', 'big-1'), { services: {} as Services });
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: expect.stringContaining("'Big'") });
  });

  it('container overrides over 8 KiB fail RunTask as ECS does, through the definition\'s Catch (JobStartFailed)', async () => {
    // Prepare: the run input goes into STEPCRON_INPUT
    const precheck = (e: Parameters<ReturnType<typeof defaultPrecheck>>[0]) => ({ ...defaultPrecheck()(e), input: { blob: 'x'.repeat(ECS_OVERRIDES_LIMIT) } });
    // Act
    const { outcome, calls } = await runJob(singleJob(), { precheck });
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed', cause: expect.stringMatching(/^Container Overrides length must be at most 8192/) });
    expect(calls.runTask).toHaveLength(0);
    expect(calls.notify).toEqual([expect.objectContaining({ status: 'FAILED', outcome: expect.objectContaining({ error: 'JobStartFailed' }) })]);
  });

  it('overrides just under 8 KiB still run', async () => {
    // Prepare: the largest input that fits, from the overrides of an empty one
    const job = singleJob();
    const sized = (n: number) => (e: Parameters<ReturnType<typeof defaultPrecheck>>[0]) => ({ ...defaultPrecheck()(e), input: { blob: 'x'.repeat(n) } });
    const probe = await runJob(job, { precheck: sized(0) });
    const fits = ECS_OVERRIDES_LIMIT - ecsOverridesLength(probe.calls.runTask[0]!.Overrides);
    // Act
    const under = await runJob(job, { precheck: sized(fits) });
    const over = await runJob(job, { precheck: sized(fits + 1) });
    // Assess
    expect(ecsOverridesLength(under.calls.runTask[0]!.Overrides)).toBe(ECS_OVERRIDES_LIMIT);
    expect(under.outcome.status).toBe('SUCCEEDED');
    expect(over.outcome).toMatchObject({ status: 'FAILED', error: 'JobStartFailed' });
  });

  it('refuses a bad execution name as StartExecution does, before anything runs', async () => {
    // Prepare
    const job = singleJob();
    const services = { precheck: jest.fn() } as unknown as Services;
    const bad = { ...newExecution(job, 'test', 'ok'), name: 'not ok' };
    // Act / Assess
    expect(() => newExecution(job, 'test', 'has space')).toThrow(StartExecutionError);
    expect(() => newExecution(job, 'test', 'a'.repeat(81))).toThrow(expect.objectContaining({ name: 'ValidationException' }));
    await expect(execute(compile(job, localInfra(job, 'test')), {}, bad, { services })).rejects.toMatchObject({ name: 'InvalidName' });
    expect(services.precheck).not.toHaveBeenCalled();
  });

  it('runs an inline Map of MaxConcurrency 0 or 100 at most 40 at a time', async () => {
    for (const maxConcurrency of [0, 100]) {
      // Prepare: tasks that take a little while, so iterations overlap
      let running = 0;
      let most = 0;
      const { definition, input, services } = inlineFanOut(range(120), async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return ecsTask(0);
      });
      (definition.States.FanOut as { MaxConcurrency: number }).MaxConcurrency = maxConcurrency;
      // Act
      const outcome = await execute(definition, input, newExecution(singleJob(), 'test', `c-${maxConcurrency}`), { services });
      // Assess
      expect(outcome.status).toBe('SUCCEEDED');
      expect(most).toBeLessThanOrEqual(40);
      expect(most).toBeGreaterThan(1);
    }
  });
});

describe('the run summary of a fan-out', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-limits-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts items, keeps at most 100 failed items and 100 tasks, reports events and payload size, and prints little', async () => {
    // Prepare: 250 items, the odd ones exit 3
    const items = range(250);
    const backend: EcsBackend = {
      name: 'process',
      run: async (request) => ecsTask(Number(request.environment.STEPCRON_ITEM) % 2 === 1 ? 3 : 0, { StartedBy: request.startedBy }),
      list: async () => [],
      stop: async () => undefined,
      stopAll: async () => undefined,
    };
    const history = Store.open(join(dir, '.stepcron'));
    // Act
    const summary = await runLocal({
      job: fanOutJob(items, '    notify: { onFailure: false }'), stage: 'test', input: {}, backend, history, skipWaits: true,
      err: () => undefined, out: () => undefined,
    });
    const text = formatSummary(summary);
    // Assess
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.items).toEqual({ total: 250, succeeded: 125, failed: 125 });
    expect(summary.failedItems).toHaveLength(100);
    expect(summary.failedItems!.map((f) => f.index)).toEqual(range(100).map((i) => 2 * i + 1));
    expect(summary.failedItems![0]).toEqual({ index: 1, item: 1, exitCode: 3, attempts: 1, status: 'FAILED' });
    expect(summary.tasks.length).toBeLessThanOrEqual(100);
    // 10 per item that succeeded; 22 per item that failed (the .sync failure is 1 + 3 + 2 + 1, then four Choice/Pass
    // states to read the exit code, MarkJobFailed, ItemFailed); a few dozen for the run itself (precheck, counting, notify).
    expect(summary.events).toBeGreaterThan(10 * 125 + 22 * 125 + 20);
    expect(summary.events).toBeLessThan(10 * 125 + 22 * 125 + 60);
    expect(summary.maxPayloadBytes).toBeGreaterThan(JSON.stringify(items).length);
    expect(summary.maxPayloadBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(text.split('\n').length).toBeLessThan(40);
    expect(text).toContain('125 succeeded, 125 failed of 250');
    expect(text).toContain('and 105 more failed items');
  });

  it('a run refused at StartExecution (input over 256 KiB) records nothing', async () => {
    // Prepare
    const history = Store.open(join(dir, '.stepcron'));
    const backend = { name: 'process' } as EcsBackend;
    // Act
    const run = runLocal({ job: singleJob(), stage: 'test', input: { blob: 'x'.repeat(PAYLOAD_LIMIT_BYTES) }, backend, history, err: () => undefined, out: () => undefined });
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ValidationException' });
    expect(history.list()).toEqual([]);
  });
});

// The history-event model per state type and outcome. AWS documents the event types (the HistoryEvent `type` enum of
// the Step Functions API reference), not a sequence per state; the sequences below are those the console shows for
// each, e.g. a bare Lambda ARN: TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
// LambdaFunctionSucceeded, TaskStateExited. Gaps mutation testing found (npm run mutate -- limits).
describe('workflows/limits: history events per state type and outcome', () => {
  const events = (...transitions: Transition[]) => transitions.flatMap(historyEvents);

  it('tells the task kinds apart by resource', () => {
    expect(taskKind('arn:aws:states:::ecs:runTask.sync')).toBe('sync');
    expect(taskKind('arn:aws:states:::glue:startJobRun.sync:2')).toBe('sync');
    expect(taskKind('arn:aws:states:::sqs:sendMessage.waitForTaskToken')).toBe('sync');
    expect(taskKind('arn:aws:lambda:us-east-1:123456789012:function:f')).toBe('lambda');
    expect(taskKind('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f')).toBe('lambda');
    expect(taskKind('arn:aws:states:us-east-1:123456789012:activity:a')).toBe('activity');
    expect(taskKind('arn:aws:states:::lambda:invoke')).toBe('request');
    expect(taskKind('arn:aws:states:::ecs:runTask')).toBe('request');
    expect(taskKind('xarn:aws:lambda:us-east-1:123456789012:function:f')).toBe('request');
    expect(taskKind('arn:aws:states:::activity:a')).toBe('request');
    expect(taskKind('xarn:aws:states:us-east-1:123456789012:activity:a')).toBe('request');
  });

  it('a bare Lambda ARN: LambdaFunction* events between the Task state\'s own; failed and timed out end in one event', () => {
    expect(events({ kind: 'stateEntered', state: 'Task', task: 'lambda' }, { kind: 'stateExited', state: 'Task', task: 'lambda' })).toEqual(
      ['TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'lambda', error: 'Lambda.Unknown' })).toEqual(['LambdaFunctionFailed']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'lambda', error: 'States.Timeout' })).toEqual(['LambdaFunctionTimedOut']);
    expect(historyEvents({ kind: 'stateRetried', state: 'Task', task: 'lambda' })).toEqual(['LambdaFunctionScheduled', 'LambdaFunctionStarted']);
  });

  it('an activity: Activity* events; failed and timed out end in one event', () => {
    expect(events({ kind: 'stateEntered', state: 'Task', task: 'activity' }, { kind: 'stateExited', state: 'Task', task: 'activity' })).toEqual(
      ['TaskStateEntered', 'ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded', 'TaskStateExited']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'activity', error: 'States.TaskFailed' })).toEqual(['ActivityFailed']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', task: 'activity', error: 'States.Timeout' })).toEqual(['ActivityTimedOut']);
  });

  it('a request-response task (the default kind): TaskSucceeded, TaskFailed or TaskTimedOut', () => {
    expect(events({ kind: 'stateEntered', state: 'Task' }, { kind: 'stateExited', state: 'Task' })).toEqual(
      ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', error: 'States.TaskFailed' })).toEqual(['TaskFailed']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Task', error: 'States.Timeout' })).toEqual(['TaskTimedOut']);
    expect(historyEvents({ kind: 'stateRetried', state: 'Task' })).toEqual(['TaskScheduled', 'TaskStarted']);
  });

  it('a .sync task that times out: the job was submitted, then TaskTimedOut; caught, the state still exits', () => {
    expect(events(
      { kind: 'stateEntered', state: 'Task', task: 'sync' },
      { kind: 'stateFailed', state: 'Task', task: 'sync', error: 'States.Timeout' },
      { kind: 'stateCaught', state: 'Task' },
      { kind: 'stateExited', state: 'Task', task: 'sync', caught: true },
    )).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskTimedOut', 'TaskStateExited']);
  });

  it('a .sync task retried once then succeeding: a second Scheduled/Started pair, no second TaskStateEntered', () => {
    expect(events(
      { kind: 'stateEntered', state: 'Task', task: 'sync' },
      { kind: 'stateFailed', state: 'Task', task: 'sync', error: 'States.TaskFailed' },
      { kind: 'stateRetried', state: 'Task', task: 'sync' },
      { kind: 'stateExited', state: 'Task', task: 'sync' },
    )).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskFailed', 'TaskScheduled', 'TaskStarted',
      'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited']);
  });

  it('Parallel: Entered, Started, the branches\' states (no events of their own), Succeeded, Exited; or Failed', () => {
    expect(events(
      { kind: 'stateEntered', state: 'Parallel' },
      { kind: 'parallelBranch' },
      { kind: 'stateEntered', state: 'Pass' },
      { kind: 'stateExited', state: 'Pass' },
      { kind: 'stateExited', state: 'Parallel' },
    )).toEqual(['ParallelStateEntered', 'ParallelStateStarted', 'PassStateEntered', 'PassStateExited', 'ParallelStateSucceeded', 'ParallelStateExited']);
    expect(historyEvents({ kind: 'stateFailed', state: 'Parallel', error: 'States.TaskFailed' })).toEqual(['ParallelStateFailed']);
    expect(historyEvents({ kind: 'stateRetried', state: 'Parallel' })).toEqual(['ParallelStateStarted']);
    expect(historyEvents({ kind: 'stateExited', state: 'Parallel', caught: true })).toEqual(['ParallelStateExited']);
  });

  it('a Map whose iteration fails: MapIterationFailed, then MapStateFailed; retried, it starts again; caught, it exits', () => {
    expect(events(
      { kind: 'executionStarted' },
      { kind: 'stateEntered', state: 'Map' },
      { kind: 'mapIterationStarted' },
      { kind: 'stateEntered', state: 'Fail' },
      { kind: 'stateFailed', state: 'Fail', error: 'Boom' },
      { kind: 'stateExited', state: 'Fail' },
      { kind: 'mapIterationFailed' },
      { kind: 'stateFailed', state: 'Map', error: 'Boom' },
      { kind: 'stateRetried', state: 'Map' },
      { kind: 'mapIterationStarted' },
      { kind: 'mapIterationSucceeded' },
      { kind: 'stateExited', state: 'Map' },
      { kind: 'executionSucceeded' },
    )).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted', 'MapIterationStarted', 'FailStateEntered', 'MapIterationFailed',
      'MapStateFailed', 'MapStateStarted', 'MapIterationStarted', 'MapIterationSucceeded', 'MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);
    expect(historyEvents({ kind: 'stateExited', state: 'Map', caught: true })).toEqual(['MapStateExited']);
  });

  it('each other state type writes its own Entered and Exited, and nothing on failure or retry (the execution\'s end counts)', () => {
    for (const state of ['Pass', 'Wait', 'Choice', 'Succeed'] as const) {
      expect(events({ kind: 'stateEntered', state }, { kind: 'stateExited', state })).toEqual([`${state}StateEntered`, `${state}StateExited`]);
      expect(events({ kind: 'stateFailed', state, error: 'States.Runtime' }, { kind: 'stateRetried', state })).toEqual([]);
    }
    expect(events({ kind: 'stateEntered', state: 'Fail' }, { kind: 'stateFailed', state: 'Fail', error: 'E' }, { kind: 'executionFailed' }))
      .toEqual(['FailStateEntered', 'ExecutionFailed']);
  });

  it('an execution ends in exactly one event: succeeded, failed, aborted or timed out', () => {
    expect(events({ kind: 'executionAborted' }, { kind: 'executionTimedOut' }, { kind: 'executionFailed' }, { kind: 'executionSucceeded' }))
      .toEqual(['ExecutionAborted', 'ExecutionTimedOut', 'ExecutionFailed', 'ExecutionSucceeded']);
    expect(historyEventCount({ kind: 'stateCaught', state: 'Task' })).toBe(0);
  });

  it('counts a fan-out item by its states: 2 for the iteration, plus each state\'s own', () => {
    expect(iterationEvents([])).toBe(2);
    expect(iterationEvents([{ state: 'Task', task: 'lambda' }])).toBe(7);
    expect(iterationEvents([{ state: 'Task', task: 'sync' }, { state: 'Pass' }])).toBe(10);
  });
});

describe('workflows/limits: sizes, depths and names, with their messages', () => {
  it('measures nesting without recursion: a scalar 0, {} 1, and stops counting past the bound', () => {
    expect([jsonDepth(1), jsonDepth(null), jsonDepth({}), jsonDepth([]), jsonDepth([[1], { a: { b: [] } }]), jsonDepth({ a: null, b: [null] })]).toEqual([0, 0, 1, 1, 4, 2]);
    expect(jsonDepth([[[[[]]]]], 2)).toBe(3);
    expect(jsonDepth([[]], 2)).toBe(2);
  });

  it('refuses, for the local runner only, JSON nested deeper than its limit, saying so and what to do', () => {
    // Prepare
    let deep: unknown = 1;
    for (let i = 0; i < LOCAL_DEPTH_LIMIT; i++) deep = [deep];
    // Act / Assess
    expect(localDepthProblem(deep, 'the run input')).toBeUndefined();
    expect(localDepthProblem([deep], 'item 3')).toBe('item 3 is nested more than 1,500 levels deep: the most the local runner takes'
      + ' (a limit of stepcron\'s local engine, not of AWS, which documents none); flatten it, or pass an S3 key instead of the data');
  });

  it('words States.DataLimitExceeded as AWS does for a result, and for an input', () => {
    expect(dataLimitCause('RunTask')).toBe("The state/task 'RunTask' returned a result with a size exceeding the maximum number of bytes service limit.");
    expect(dataLimitCause('RunTask', 'input')).toBe("The state/task 'RunTask' has an input with a size exceeding the maximum number of bytes service limit.");
  });

  it('counts a run\'s input and its largest item as JSON inside JSON', () => {
    expect(overrideChars({ a: 1 }, ['x', { id: 'abc' }])).toBe(JSON.stringify('{"a":1}').length + JSON.stringify('{"id":"abc"}').length);
    expect(overrideChars(null, [])).toBe(6);
  });

  it('counts missing overrides as {} and lower-cases keys inside arrays too', () => {
    expect(ecsOverridesLength(undefined)).toBe(2);
    expect(ecsOverridesLength({ A: [{ B: null, C: [1, 'x', { D: 2 }] }] })).toBe('{"a":[{"b":null,"c":[1,"x",{"d":2}]}]}'.length);
  });

  it('names the character StartExecution refuses: printable ones quoted, the others as U+XXXX', () => {
    expect(executionNameError('a#b')).toEqual({ error: 'InvalidName', message: "Invalid Name: 'a#b' ('#' is not allowed in an execution name)" });
    expect(checkExecutionName('a b')).toBe("Invalid Name: 'a b' (U+0020 is not allowed in an execution name)");
    expect(checkExecutionName('a\u0001b')).toContain('(U+0001 is not allowed');
    expect(checkExecutionName('')).toBe("1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1");
    expect(checkExecutionName('x'.repeat(81))).toBe(`1 validation error detected: Value '${'x'.repeat(81)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80`);
  });

  it('counts characters, not UTF-16 units, against the 80, and refuses control, surrogate and non-characters only', () => {
    expect(checkExecutionName('😀'.repeat(80))).toBeUndefined();
    for (const ok of ['a', 'a-b', 'a\u00a1b', 'a\ud7ffb', 'a\ue000b', 'a\ufffdb']) expect(checkExecutionName(ok)).toBeUndefined();
    for (const [bad, code] of [['a\u001fb', '001F'], ['a\u007fb', '007F'], ['a\u009fb', '009F'], ['a\ud800b', 'D800'], ['a\udfffb', 'DFFF'],
      ['a\ufffeb', 'FFFE'], ['a\uffffb', 'FFFF'], ['a\u{10ffff}b', '10FFFF']] as const) {
      expect(checkExecutionName(bad)).toContain(`(U+${code} is not allowed`);
    }
  });
});
