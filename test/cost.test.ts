// Cost per run: the formula and price table (workflows/cost.ts), usage read from an execution history as the notify
// function reads it on AWS (mocked SDK), and a real local run whose summary and notification carry the cost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { billedSeconds, formatCost, type HistoryEvent, monthlyEstimate, PRICES, priceRun, usageFromHistory } from '../workflows/cost';
import { historyCost } from '../handlers/lib/notify';
import { processBackend } from '../cli/backends/process';
import { Store } from '../cli/store';
import { runLocal } from '../cli/run';
import { jobFrom } from './support/workflow';

process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

describe('the formula', () => {
  it('bills each task per second with a one-minute minimum, Spot at the estimated discount', () => {
    expect([billedSeconds(0.3), billedSeconds(60), billedSeconds(60.2)]).toEqual([60, 60, 61]);
    const onDemand = priceRun({ transitions: 0, tasks: [{ cpu: 1024, memoryMiB: 2048, seconds: 3600, spot: false }], lambda: { invocations: 0, billedMs: 0 } });
    // 1 vCPU and 2 GB for an hour: $0.04048 + 2 x $0.004445.
    expect(onDemand).toMatchObject({ vcpuSeconds: 3600, gbSeconds: 7200, fargateUsd: 0.04937, totalUsd: 0.04937 });
    const spot = priceRun({ transitions: 0, tasks: [{ cpu: 1024, memoryMiB: 2048, seconds: 3600, spot: true }], lambda: { invocations: 0, billedMs: 0 } });
    expect(spot.fargateUsd).toBeCloseTo(0.04937 * PRICES.spotFactor, 8);
  });

  it('adds transitions and Lambda requests and GB-seconds', () => {
    const cost = priceRun({ transitions: 1000, tasks: [], lambda: { invocations: 1_000_000, billedMs: 1_000_000 * 100 } });
    // $0.025 per 1,000 transitions; $0.20 per million requests + 100,000 s x 0.25 GB x $0.0000133334.
    expect(cost).toMatchObject({ region: 'us-east-1', transitionsUsd: 0.025, lambdaInvocations: 1_000_000 });
    expect(cost.lambdaUsd).toBeCloseTo(0.2 + 100_000 * 0.25 * 0.0000133334, 6);
    expect(cost.totalUsd).toBeCloseTo(cost.transitionsUsd + cost.lambdaUsd, 8);
    expect(formatCost(cost)).toMatch(/^\$\d+\.\d{6} = 1000 transitions \$0\.025000 \+ Fargate 0\.0 vCPU-s, 0\.0 GB-s \$0\.000000 \+ 1000000 Lambda calls /);
  });

  it('estimates a month from the schedule\'s own fire times', () => {
    const from = new Date('2026-11-01T00:00:00Z');
    expect(monthlyEstimate('rate(1 hour)', 'UTC', 0.001, from)).toEqual({ runs: 720, usd: 0.72 });
    expect(monthlyEstimate('cron(30 2 * * ? *)', 'Europe/Berlin', 0.01, from).runs).toBe(30);
    expect(monthlyEstimate('cron(0/1 * * * ? *)', 'UTC', 0, from).runs).toBe(30 * 24 * 60);
    expect(monthlyEstimate('at(2026-11-05T00:00:00)', 'UTC', 1, from)).toEqual({ runs: 1, usd: 1 });
  });
});

describe('on AWS, from the execution history', () => {
  const task = (startedAt: number, stoppedAt: number, spot = false) =>
    JSON.stringify({ TaskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/1', StartedAt: startedAt, StoppedAt: stoppedAt, ...(spot && { CapacityProviderName: 'FARGATE_SPOT' }) });
  // The shape GetExecutionHistory returns: a failed attempt (its cause is the Task), a retry that succeeded, two Lambdas.
  const history: HistoryEvent[] = [
    { type: 'ExecutionStarted' },
    { type: 'TaskStateEntered' },
    { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke' } },
    { type: 'TaskStateEntered' },
    { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'ecs', resource: 'runTask.sync' } },
    { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: task(1_700_000_000_000, 1_700_000_030_000) } },
    { type: 'ChoiceStateEntered' },
    { type: 'PassStateEntered' },
    { type: 'WaitStateEntered' },
    { type: 'TaskStateEntered' },
    { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', output: task(1_700_000_100_000, 1_700_000_220_000, true) } },
    { type: 'TaskStateEntered' },
    { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke' } },
  ];

  it('counts every state entered, every task that ran (its own times and capacity) and every Lambda call', () => {
    const usage = usageFromHistory(history, { cpu: 512, memoryMiB: 1024 });
    expect(usage).toEqual({
      transitions: 7,
      tasks: [{ cpu: 512, memoryMiB: 1024, seconds: 30, spot: false }, { cpu: 512, memoryMiB: 1024, seconds: 120, spot: true }],
      lambda: { invocations: 2, billedMs: 200 },
    });
  });

  it('the notify function reads every page of the history', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(GetExecutionHistoryCommand, { nextToken: undefined }).resolves({ events: history.slice(0, 6) as never, nextToken: 'page2' })
      .on(GetExecutionHistoryCommand, { nextToken: 'page2' }).resolves({ events: history.slice(6) as never });
    const cost = await historyCost(new SFNClient({}))({
      job: 'j', stage: 'dev', status: 'SUCCEEDED', execution: 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-j:x',
      startTime: '2026-11-25T10:00:00Z', logGroup: '/stepcron/dev/jobs', taskSize: { cpu: 512, memoryMiB: 1024 },
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
    // 60 s (minimum) + 120 s at 0.5 vCPU and 1 GB; the 7 states entered and the run's last one, which follows the
    // notify state (FINAL_STATE), as a local run's summary counts it.
    expect(cost).toMatchObject({ transitions: 8, vcpuSeconds: 90, gbSeconds: 180, lambdaInvocations: 2 });
  });
});

describe('a local run', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-cost-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prices what it used in its summary and in its notification', async () => {
    const job = jobFrom(`
jobs:
  priced:
    description: priced
    schedule: rate(1 hour)
    image: local:1
    command: [sh, -c, 'exit 3']
    cpu: 1024
    memory: 2048
    retries: 1
    retryIntervalSeconds: 1
`);
    const printed: string[] = [];
    const summary = await runLocal({
      job, stage: 'dev', input: {}, backend: processBackend(), history: Store.open(join(dir, '.stepcron')), skipWaits: true,
      err: () => undefined, out: () => undefined, notifyDeps: { print: (t) => printed.push(t) },
    });
    expect(summary.status).toBe('FAILED');
    // Two attempts of a minute each (the minimum) at 1 vCPU and 2 GB; the precheck and the failure notification.
    expect(summary.cost).toMatchObject({ transitions: summary.transitions, vcpuSeconds: 120, gbSeconds: 240, lambdaInvocations: 2 });
    expect(summary.cost.totalUsd).toBeCloseTo(summary.cost.transitionsUsd + summary.cost.fargateUsd + summary.cost.lambdaUsd, 10);
    // The notification counts as the summary does: the run's last state ahead, and its own call.
    expect(printed.join('\n')).toMatch(new RegExp(`\\nCost: \\$0\\.\\d{6} = ${summary.transitions} transitions .* \\+ Fargate 120\\.0 vCPU-s, 240\\.0 GB-s \\$0\\.\\d{6} \\+ 2 Lambda calls `));
  });

  it('prices the notification as the summary does, to the millionth, however long the delivery takes', async () => {
    // Rule: the notification's cost is the summary's. The notify call bills the time it priced itself at: a slow
    // delivery after the message is written (SNS, Slack) used to add to the summary's Lambda cost only.
    const job = jobFrom(`
jobs:
  priced:
    description: priced
    schedule: rate(1 hour)
    image: local:1
    command: [sh, -c, 'exit 3']
    retries: 0
`);
    const messages: string[] = [];
    const summary = await runLocal({
      job, stage: 'dev', input: {}, backend: processBackend(), history: Store.open(join(dir, '.stepcron')), skipWaits: true,
      err: () => undefined, out: () => undefined,
      notifyDeps: { publish: async (_subject, message) => { messages.push(message); await new Promise((r) => setTimeout(r, 1000)); } },
    });
    expect(summary.status).toBe('FAILED');
    expect(messages.join('\n').split('\n').find((l) => l.startsWith('Cost: '))).toBe(`Cost: ${formatCost(summary.cost)}`);
  }, 15_000);
});

describe('usageFromHistory: what in a history is billed', () => {
  const task = { cpu: 1024, memoryMiB: 2048 };
  const ecsTask = (start: string, stop: string, spot = false) => JSON.stringify({ StartedAt: start, StoppedAt: stop, ...(spot && { CapacityProviderName: 'FARGATE_SPOT' }) });

  it('a Lambda task scheduled is one invocation; an ECS or SDK task scheduled is none', () => {
    const usage = usageFromHistory([
      { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke' } },
      { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'ecs', resource: 'runTask.sync' } },
      { type: 'TaskScheduled', taskScheduledEventDetails: { resourceType: 'aws-sdk:ecs', resource: 'listTasks' } },
      { type: 'TaskScheduled' },
    ], task);
    expect(usage.lambda.invocations).toBe(1);
  });

  it("an ECS runTask that ended is a task, from its output or a failure's cause; other ECS calls and non-JSON text are not", () => {
    const usage = usageFromHistory([
      { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', output: ecsTask('2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z') } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: ecsTask('2026-01-01T00:00:00Z', '2026-01-01T00:00:30Z', true) } },
      // Not a task run: another ECS action, another service, text that is no ECS Task, a Task without both times.
      { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'ecs', resource: 'stopTask', output: ecsTask('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z') } },
      { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: ecsTask('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z') } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: 'States.Timeout' } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: '"{quoted}"' } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: JSON.stringify({ StartedAt: '2026-01-01T00:00:00Z' }) } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: JSON.stringify({ StoppedAt: '2026-01-01T00:00:00Z' }) } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', cause: '{not json' } },
    ], task);
    expect(usage.tasks).toEqual([{ ...task, seconds: 60, spot: false }, { ...task, seconds: 30, spot: true }]);
  });

  it('an ECS runTask event without its output or cause (both optional in the API) is no task, not an error', () => {
    const usage = usageFromHistory([
      { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync' } },
      { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync' } },
      { type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', output: ecsTask('2026-01-01T00:00:00Z', '2026-01-01T00:02:00Z') } },
    ], task);
    expect(usage.tasks).toEqual([{ ...task, seconds: 120, spot: false }]);
  });

  it('one Lambda call reads "call", more read "calls"', () => {
    const cost = priceRun({ transitions: 4, tasks: [], lambda: { invocations: 1, billedMs: 100 } });
    expect(formatCost(cost)).toContain(' + 1 Lambda call $');
    expect(formatCost({ ...cost, lambdaInvocations: 2 })).toContain(' + 2 Lambda calls $');
  });
});
