// The `aws` backend against a mocked ECS client: the RunTask it sends (cluster, family, capacity, network, overrides,
// StartedBy), how RunTask failures and SDK errors surface (as Step Functions names them), the DescribeTasks -> Task
// mapping `.sync` returns, ListTasks/StopTask, and the Spot -> on-demand fallback when a local run drives real ECS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientException,
  DescribeTasksCommand,
  type DescribeTasksCommandOutput,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { awsBackend, toEcsTask } from '../cli/backends/aws';
import type { TaskRequest } from '../cli/backends/types';
import { Store } from '../cli/store';
import { runLocal } from '../cli/run';
import type { Job } from '../workflows/catalog';
import type { StageParams } from '../workflows/resources';

const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/stepcron-prod/0123456789abcdef0123456789abcdef';
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:cluster/stepcron-prod';
const TASK_DEFINITION_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/stepcron-prod-nightly:7';

const ecs = mockClient(ECSClient);

function job(overrides: Partial<Job> = {}): Job {
  return {
    name: 'nightly', description: 'test job', schedule: 'rate(1 day)', timezone: 'UTC', enabled: true,
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobs:1', command: ['sh', 'run.sh'], cpu: 256, memory: 512,
    environment: {}, secrets: {}, taskPolicyArns: [], capacity: 'fargate', timeoutSeconds: 60, retries: 0, retryOn: [],
    retryIntervalSeconds: 1, backoffRate: 1, maxDelaySeconds: 1, exitCodes: {}, concurrency: 'allow',
    notify: { onFailure: false, onSuccess: false }, input: {},
    ...overrides,
  };
}

function params(overrides: Partial<StageParams> = {}): StageParams {
  return {
    stage: 'prod', cluster: '', subnets: ['subnet-aaa', 'subnet-bbb'], securityGroups: ['sg-111'],
    assignPublicIp: 'DISABLED', notifyEmails: [], slackWebhookSecret: '', enabledJobs: '*',
    ...overrides,
  };
}

function request(overrides: Partial<TaskRequest> = {}): { req: TaskRequest; lines: string[] } {
  const lines: string[] = [];
  const req: TaskRequest = {
    job: job(),
    // The local stand-ins from the state machine: the aws backend must use the stage's real cluster and family instead.
    cluster: 'arn:aws:ecs:local:000000000000:cluster/stepcron-prod',
    taskDefinition: 'arn:aws:ecs:local:000000000000:task-definition/stepcron-prod-nightly:1',
    startedBy: '20261124T163716Z-8a54',
    environment: { STEPCRON_JOB: 'nightly', STEPCRON_ATTEMPT: '0', LOG_LEVEL: 'info' },
    command: ['sh', 'run.sh'],
    onOutput: (stream, line) => { lines.push(`${stream}:${line}`); },
    ...overrides,
  };
  return { req, lines };
}

/** A stopped task as DescribeTasks returns it (camelCase, Dates). */
function describedTask(overrides: Partial<Task> = {}): Task {
  return {
    taskArn: TASK_ARN,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: TASK_DEFINITION_ARN,
    startedBy: '20261124T163716Z-8a54',
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    createdAt: new Date('2026-11-24T16:37:16.000Z'),
    startedAt: new Date('2026-11-24T16:37:40.000Z'),
    stoppedAt: new Date('2026-11-24T16:41:52.000Z'),
    containers: [{ name: 'job', exitCode: 0, lastStatus: 'STOPPED' }],
    ...overrides,
  };
}

function describes(task: Task): DescribeTasksCommandOutput {
  return { tasks: [task], failures: [], $metadata: {} };
}

function runTaskInput(call = 0): RunTaskCommandInput {
  const calls = ecs.commandCalls(RunTaskCommand);
  const found = calls[call];
  if (!found) throw new Error(`RunTask call ${call} was not made (${calls.length} calls)`);
  return found.args[0].input;
}

beforeEach(() => {
  ecs.reset();
});

describe('aws backend: RunTask', () => {
  it('runs the deployed family on the stage cluster with the job container overrides, network and StartedBy', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask()));
    const backend = awsBackend(params({ cluster: 'shared-jobs' }), new ECSClient({ region: 'eu-west-1' }));
    const { req, lines } = request();
    // Act
    await backend.run(req);
    // Assess
    expect(runTaskInput()).toEqual({
      cluster: 'shared-jobs',
      taskDefinition: 'stepcron-prod-nightly',
      startedBy: '20261124T163716Z-8a54',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-aaa', 'subnet-bbb'], securityGroups: ['sg-111'], assignPublicIp: 'DISABLED' },
      },
      overrides: {
        containerOverrides: [{
          name: 'job',
          environment: [
            { name: 'STEPCRON_JOB', value: 'nightly' },
            { name: 'STEPCRON_ATTEMPT', value: '0' },
            { name: 'LOG_LEVEL', value: 'info' },
          ],
        }],
      },
    });
    expect(lines).toEqual([`stderr:started ${TASK_ARN} (logs: /stepcron/prod/nightly)`]);
  });

  it('uses the cluster the stack creates (stepcron-<stage>) when the stage names none', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask()));
    const backend = awsBackend(params({ stage: 'staging', cluster: '' }), new ECSClient({ region: 'eu-west-1' }));
    // Act
    await backend.run(request().req);
    // Assess
    expect(runTaskInput().cluster).toBe('stepcron-staging');
    expect(runTaskInput().taskDefinition).toBe('stepcron-staging-nightly');
    expect(ecs.commandCalls(DescribeTasksCommand)[0]?.args[0].input).toEqual({ cluster: 'stepcron-staging', tasks: [TASK_ARN] });
  });

  it('asks for FARGATE_SPOT for a job with capacity spot, and passes ENABLED public IPs through', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask()));
    const backend = awsBackend(params({ assignPublicIp: 'ENABLED' }), new ECSClient({ region: 'eu-west-1' }));
    // Act
    await backend.run(request({ job: job({ capacity: 'spot' }) }).req);
    // Assess
    expect(runTaskInput().capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(runTaskInput().networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('ENABLED');
  });

  it('waits until the task has stopped and resolves with the Task object .sync returns', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask({ containers: [{ name: 'job', exitCode: 4, lastStatus: 'STOPPED' }] })));
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const task = await backend.run(request().req);
    // Assess
    expect(task.TaskArn).toBe(TASK_ARN);
    expect(task.StopCode).toBe('EssentialContainerExited');
    expect(task.Containers).toEqual([{ Name: 'job', ExitCode: 4, LastStatus: 'STOPPED' }]);
    // The waiter and the final describe both ask about exactly this task on the stage cluster.
    for (const call of ecs.commandCalls(DescribeTasksCommand)) {
      expect(call.args[0].input).toEqual({ cluster: 'stepcron-prod', tasks: [TASK_ARN] });
    }
  });

  it('RunTask failures (no task started) reject as AmazonECS.Unknown with the reasons', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/x', reason: 'RESOURCE:MEMORY', detail: 'no room' }],
    });
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const run = backend.run(request().req);
    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'AmazonECS.Unknown',
      message: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/x RESOURCE:MEMORY no room',
    });
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('a RunTask that starts nothing and reports no failure still rejects as AmazonECS.Unknown', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({});
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const run = backend.run(request().req);
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AmazonECS.Unknown', message: 'RunTask started no task' });
  });

  it('an SDK exception rejects as ECS.<Exception> with its message, as the runTask integration names it', async () => {
    // Prepare
    ecs.on(RunTaskCommand).rejects(new ClientException({ message: 'TaskDefinition not found.', $metadata: {} }));
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const run = backend.run(request().req);
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ECS.ClientException', message: 'TaskDefinition not found.' });
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('a task that vanished before DescribeTasks rejects as ECS.ClientException', async () => {
    // Prepare: the waiter sees the task stopped, the final describe finds nothing.
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand)
      .resolvesOnce(describes(describedTask()))
      .resolves({ tasks: [], failures: [{ arn: TASK_ARN, reason: 'MISSING' }], $metadata: {} });
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const run = backend.run(request().req);
    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ECS.ClientException', message: `task ${TASK_ARN} not found` });
  });
});

describe('aws backend: DescribeTasks -> Task', () => {
  it('maps to PascalCase with per-container exit codes, reasons, StopCode and ISO times', () => {
    // Prepare
    const task = describedTask({
      stopCode: 'SpotInterruption' as Task['stopCode'],
      stoppedReason: 'Your Spot Task was interrupted.',
      containers: [
        { name: 'log-router', exitCode: 1, lastStatus: 'STOPPED' },
        { name: 'job', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage', lastStatus: 'STOPPED' },
        { name: 'sidecar', lastStatus: 'STOPPED' },
      ],
    });
    // Act
    const mapped = toEcsTask(task);
    // Assess
    expect(mapped).toEqual({
      TaskArn: TASK_ARN,
      ClusterArn: CLUSTER_ARN,
      TaskDefinitionArn: TASK_DEFINITION_ARN,
      StartedBy: '20261124T163716Z-8a54',
      LastStatus: 'STOPPED',
      DesiredStatus: 'STOPPED',
      StopCode: 'SpotInterruption',
      StoppedReason: 'Your Spot Task was interrupted.',
      CreatedAt: '2026-11-24T16:37:16.000Z',
      StartedAt: '2026-11-24T16:37:40.000Z',
      StoppedAt: '2026-11-24T16:41:52.000Z',
      Containers: [
        { Name: 'log-router', ExitCode: 1, LastStatus: 'STOPPED' },
        { Name: 'job', ExitCode: 137, Reason: 'OutOfMemoryError: Container killed due to memory usage', LastStatus: 'STOPPED' },
        { Name: 'sidecar', LastStatus: 'STOPPED' },
      ],
    });
  });

  it('a task that failed to start keeps TaskFailedToStart, has no StartedAt and no exit code', () => {
    // Prepare
    const { startedAt: _unused, ...neverStarted } = describedTask({
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 1 time(s)',
      containers: [{ name: 'job', reason: 'CannotPullContainerError: access denied', lastStatus: 'STOPPED' }],
    });
    // Act
    const mapped = toEcsTask(neverStarted);
    // Assess
    expect(mapped.StopCode).toBe('TaskFailedToStart');
    expect(mapped).not.toHaveProperty('StartedAt');
    expect(mapped.Containers).toEqual([{ Name: 'job', Reason: 'CannotPullContainerError: access denied', LastStatus: 'STOPPED' }]);
  });
});

describe('aws backend: ListTasks and StopTask', () => {
  it('list asks by StartedBy alone on the stage cluster: ECS refuses startedBy with any other filter (desiredStatus too)', async () => {
    // Prepare: ECS's rule, as the service answers it
    ecs.on(ListTasksCommand).callsFake((input: Record<string, unknown>) => {
      const others = ['containerInstance', 'family', 'serviceName', 'desiredStatus', 'launchType'].filter((k) => input[k] !== undefined);
      if (input.startedBy !== undefined && others.length > 0) {
        throw Object.assign(new Error('When you specify startedBy as the filter, it must be the only filter that you use.'), { name: 'InvalidParameterException' });
      }
      return { taskArns: [TASK_ARN] };
    });
    const backend = awsBackend(params({ cluster: 'shared-jobs' }), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const arns = await backend.list('20261124T163716Z-8a54-3');
    // Assess
    expect(arns).toEqual([TASK_ARN]);
    expect(ecs.commandCalls(ListTasksCommand)[0]?.args[0].input).toEqual({
      cluster: 'shared-jobs', startedBy: '20261124T163716Z-8a54-3',
    });
  });

  it('list returns [] when ECS returns no taskArns', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({});
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const arns = await backend.list('nobody');
    // Assess
    expect(arns).toEqual([]);
  });

  it('stop sends StopTask on the stage cluster with the reason cut to ECS\'s 255 characters', async () => {
    // Prepare
    ecs.on(StopTaskCommand).resolves({});
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    const reason = `stepcron: timed out ${'x'.repeat(300)}`;
    // Act
    await backend.stop(TASK_ARN, reason);
    // Assess
    expect(ecs.commandCalls(StopTaskCommand)[0]?.args[0].input).toEqual({
      cluster: 'stepcron-prod', task: TASK_ARN, reason: reason.slice(0, 255),
    });
  });

  it('stopAll stops the tasks still being waited on, and none once they have stopped', async () => {
    // Prepare: the waiter's DescribeTasks stays unanswered until the test lets it through.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => { answer = resolve; });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand).callsFake(async () => {
      await answered;
      return describes(describedTask({ stopCode: 'UserInitiated', stoppedReason: 'bye' }));
    });
    ecs.on(StopTaskCommand).resolves({});
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    const run = backend.run(request().req);
    while (ecs.commandCalls(DescribeTasksCommand).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Act
    await backend.stopAll('stepcron: the run ended');
    answer();
    const task = await run;
    await backend.stopAll('again');
    // Assess
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'stepcron-prod', task: TASK_ARN, reason: 'stepcron: the run ended' },
    ]);
    expect(task.StopCode).toBe('UserInitiated');
  });
});

describe('aws backend under a local run', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepcron-aws-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a spot job with no Spot capacity falls back to an on-demand (FARGATE) RunTask', async () => {
    // Prepare: Spot has no capacity (RunTask failure -> AmazonECS.Unknown); on-demand starts the task.
    ecs.on(RunTaskCommand).callsFake(async (input: RunTaskCommandInput) => (
      input.capacityProviderStrategy?.[0]?.capacityProvider === 'FARGATE'
        ? { tasks: [{ taskArn: TASK_ARN }], failures: [] }
        : { tasks: [], failures: [{ reason: 'Capacity is unavailable at this time. Please try again later or in a different availability zone' }] }
    ));
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask()));
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    const output: string[] = [];
    // Act
    const summary = await runLocal({
      job: job({ capacity: 'spot' }), stage: 'prod', input: {}, backend, history: Store.open(join(dir, '.stepcron')),
      skipWaits: true, err: (t) => { output.push(t); }, out: (t) => { output.push(t); },
    });
    // Assess
    const providers = ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input.capacityProviderStrategy?.[0]?.capacityProvider);
    expect(providers[0]).toBe('FARGATE_SPOT');
    expect(providers[1]).toBe('FARGATE');
    expect(summary.status).toBe('SUCCEEDED');
  });

  it('a throttled RunTask is retried as a start failure (ECS.AmazonECSException), not counted as an attempt', async () => {
    // Prepare
    ecs.on(RunTaskCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
    ecs.on(DescribeTasksCommand).resolves(describes(describedTask()));
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    // Act
    const summary = await runLocal({
      job: job(), stage: 'prod', input: {}, backend, history: Store.open(join(dir, '.stepcron')),
      skipWaits: true, err: () => undefined, out: () => undefined,
    });
    // Assess
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(2);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', tasks: [{ attempts: 1, exitCode: 0 }] });
  });

  it('a RunTask that ECS refuses outright fails the run as JobStartFailed and notifies', async () => {
    // Prepare: not a transient start failure, so no retry helps; the run must end through MarkStartFailed.
    ecs.on(RunTaskCommand).rejects(new ClientException({ message: 'TaskDefinition not found.', $metadata: {} }));
    const backend = awsBackend(params(), new ECSClient({ region: 'eu-west-1' }));
    const output: string[] = [];
    // Act
    const summary = await runLocal({
      job: job({ notify: { onFailure: true, onSuccess: false } }), stage: 'prod', input: {}, backend,
      history: Store.open(join(dir, '.stepcron')), skipWaits: true, err: (t) => { output.push(t); }, out: (t) => { output.push(t); },
    });
    // Assess
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(1);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'JobStartFailed' });
    expect(summary.cause).toContain('TaskDefinition not found.');
    expect(summary.notifications.map((n) => n.status)).toEqual(['FAILED']);
  });
});
