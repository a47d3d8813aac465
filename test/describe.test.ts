// `stepcron describe <job>`: one view of one job. Locally for real (the CLI as a child process, jobs run by the process
// backend into .stepcron/store.db, then described); on a stage with Scheduler, Step Functions and CloudWatch Logs
// mocked with aws-sdk-client-mock, answering as the AWS API references show.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, ListExecutionsCommand, ListMapRunsCommand, SFNClient,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsOps } from '../cli/ops/aws';
import { guarded } from '../cli/ops/commands';
import { causeText, type Description, describe as describeJob, TAIL_LINES } from '../cli/ops/describe';
import type { OpsPort } from '../cli/ops/types';
import { parseCatalog } from '../workflows/catalog';
import { startCli } from './support/cli';
import { HOSTILE_TEXT, SECRET_FORMS, shapesCatalog } from './support/shapes-catalog';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `bad` prints 30 lines and fails (exit 3, after one retry), `ok` succeeds, `off` is disabled, `held` gets paused. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-describe-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'jobs.yml'), [
    'defaults:', '  image: busybox:latest', '  retries: 0', 'jobs:',
    '  bad:', '    description: nightly export', '    schedule: cron(30 2 * * ? *)', '    timezone: Europe/Berlin',
    '    retries: 1', '    retryIntervalSeconds: 1',
    '    command: [sh, -c, "for i in $(seq 1 30); do echo line $i; done; echo gave up >&2; exit 3"]',
    '    secrets: { DB_PASSWORD: /stepcron/db-password-value-path }', '    environment: { MODE: full }',
    '    successDeadlineMinutes: 2880', '    exitCodes: { fail: [2] }',
    '  ok:', '    description: succeeds', '    schedule: rate(1 hour)', '    command: [sh, -c, "echo fine"]',
    '  off:', '    description: disabled', '    schedule: rate(1 hour)', '    enabled: false', '    command: [sh, -c, "true"]',
    '  held:', '    description: paused', '    schedule: cron(0 6 * * ? *)', '    timezone: America/New_York', '    command: [sh, -c, "true"]',
    '',
  ].join('\n'));
  return dir;
}

function stepcron(dir: string, ...args: string[]) {
  return startCli([...args, '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 30_000 }).done;
}

describe('stepcron describe, locally (a store seeded by real runs)', () => {
  const dir = workspace();
  beforeAll(async () => {
    await stepcron(dir, 'start', 'ok');
    await stepcron(dir, 'start', 'bad');
    // A job off on the stage may still be started by hand: its run is priced, its month is not.
    await stepcron(dir, 'start', 'off');
    await stepcron(dir, 'pause', 'held', '--note', 'vendor API down INC-7');
  }, 60_000);

  it('--json: one object with the settings as deployed, 5 next times in ISO UTC, the runs, the failure with its tail, cost', async () => {
    // Act
    const result = await stepcron(dir, 'describe', 'bad', '--json');

    // Assess
    expect(result.code).toBe(0);
    const d = JSON.parse(result.stdout) as Description;
    expect(d).toMatchObject({
      job: 'bad', description: 'nightly export', stage: 'dev', state: 'enabled',
      schedule: { expression: 'cron(30 2 * * ? *)', timezone: 'Europe/Berlin', deployed: { expression: 'cron(30 2 * * ? *)', timezone: 'Europe/Berlin' } },
      settings: {
        image: 'busybox:latest', cpu: 256, memoryMiB: 512, capacity: 'fargate', timeoutSeconds: 3600, retries: 1, retryDelaysSeconds: [1],
        retryOn: [], exitCodes: { fail: [2] }, concurrency: 'forbid', notify: { onFailure: true, onSuccess: false },
        alerts: { successDeadlineMinutes: 2880 }, environment: ['MODE'], secrets: ['DB_PASSWORD'], taskPolicyArns: [],
      },
    });
    // 02:30 in Berlin is 01:30 UTC in winter (00:30 in summer), a day apart.
    expect(d.next).toHaveLength(5);
    for (const t of d.next) expect(t).toMatch(/^\d{4}-\d\d-\d\dT0[01]:30:00\.000Z$/);
    expect(d.runs).toEqual([expect.objectContaining({ status: 'FAILED', exitCode: 3, error: 'JobFailed', cost: expect.any(Number) })]);
    // The failure's last 20 lines: the end of the second attempt's stdout, then what it wrote to stderr.
    const failure = d.lastFailure!;
    expect(failure.execution).toBe(d.runs[0]!.execution);
    expect(failure.tail).toHaveLength(TAIL_LINES);
    expect(failure.tail.at(-1)).toEqual({ label: 'stderr', text: '(attempt 2) gave up' });
    expect(failure.tail.at(-2)).toEqual({ label: 'stdout', text: '(attempt 2) line 30' });
    expect(failure.tail[0]).toEqual({ label: 'stdout', text: '(attempt 2) line 12' });
    expect(JSON.parse(failure.cause!)).toMatchObject({ StopCode: 'EssentialContainerExited', Containers: [{ Name: 'job', ExitCode: 3 }] });
    expect(d.costPerRun).toBe(d.runs[0]!.cost);
    // One run a day for 30 days.
    expect(d.monthlyEstimate).toBeCloseTo(d.costPerRun! * 30, 4);
    // A secret's reference is never shown, only its name.
    expect(result.stdout).not.toContain('db-password-value-path');
  });

  it('as text: aligned sections, times in the job\'s zone with its abbreviation and how far off, the failure\'s cause and tail', async () => {
    const result = await stepcron(dir, 'describe', 'bad');

    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(/^Name: {9}bad$/m);
    expect(text).toMatch(/^State: {8}enabled$/m);
    // Berlin is CET in winter and CEST in summer; the time is the job's 02:30.
    expect(text).toMatch(/^Next: {9}\d{4}-\d\d-\d\d 02:30 CES?T \(in \d+ (s|min|h|d)\)$/m);
    expect(text.match(/^ {14}\d{4}-\d\d-\d\d 02:30 CES?T \(in \d+ (h|d)\)$/gm)).toHaveLength(4);
    expect(text).toMatch(/^ {2}Retries: {8}1, after 1s; a timeout is not retried$/m);
    expect(text).toMatch(/^ {2}Exit codes: {5}fail at once 2$/m);
    expect(text).toMatch(/^ {2}Secrets: {8}DB_PASSWORD$/m);
    expect(text).toMatch(/^ {2}Alerts: {9}no success for 2880 min$/m);
    expect(text).toMatch(/^Cost: {9}\$\d\.\d{6} per run \(average of the last 1 priced\), about \$\d+\.\d\d a month$/m);
    expect(text).toMatch(/^ {2}FAILED\t\S+\t\d{4}-\d\d-\d\d \d\d:\d\d CES?T \(\d+ (s|min) ago\)\t[\d.]+s\t3\t\$\d\.\d{6}\tJobFailed$/m);
    expect(text).toMatch(/^ {2}Cause: {6}EssentialContainerExited; Essential container in task exited; container exit 3$/m);
    expect(text).toMatch(/^ {2}Output \(last 20 lines; all of it: stepcron logs bad \S+\):$/m);
    expect(text.trimEnd().split('\n').slice(-2)).toEqual(['    stdout | (attempt 2) line 30', '    stderr | (attempt 2) gave up']);
    expect(text).not.toContain('db-password-value-path');
  });

  it('a job that succeeded: its runs, no failure in them', async () => {
    const result = await stepcron(dir, 'describe', 'ok');

    expect(result.stdout).toMatch(/^Schedule: {5}rate\(1 hour\) UTC$/m);
    // An hourly rate deploys as the cron on the hour (no run at deploy).
    expect(result.stdout).toMatch(/^ {14}deploys as cron\(0 \* \* \* \? \*\) UTC$/m);
    expect(result.stdout).toMatch(/^Next: {9}\d{4}-\d\d-\d\d \d\d:00 UTC \(in \d+ (s|min|h)\)$/m);
    expect(result.stdout).toMatch(/^Last failure: none in the last 1 runs$/m);
  });

  it('a paused job: paused, by whom and why, and no next times', async () => {
    const result = await stepcron(dir, 'describe', 'held', '--json');

    const d = JSON.parse(result.stdout) as Description;
    expect(d).toMatchObject({ state: 'paused', next: [], runs: [], pause: { note: 'vendor API down INC-7', by: expect.stringContaining('@') } });
    const text = (await stepcron(dir, 'describe', 'held')).stdout;
    expect(text).toMatch(/^ {14}paused by \S+@\S+ at \d{4}-\d\d-\d\d \d\d:\d\d EST \(\d+ (s|min) ago\): vendor API down INC-7$/m);
    expect(text).toMatch(/^Next: {9}none \(paused\)$/m);
    expect(text).toMatch(/^Runs: {9}none yet \(local store \.stepcron\/store\.db\)$/m);
  });

  it('an off job: disabled, and why (the catalog\'s enabled: false)', async () => {
    const d = JSON.parse((await stepcron(dir, 'describe', 'off', '--json')).stdout) as Description;

    expect(d).toMatchObject({ state: 'disabled', off: 'off on dev: enabled: false in the catalog', next: [] });
  });

  it('one stage\'s view: describe --stage prod shows none of the runs made on dev, so no failure and no cost from them', async () => {
    const d = JSON.parse((await stepcron(dir, 'describe', 'bad', '--stage', 'prod', '--json')).stdout) as Description;
    const text = (await stepcron(dir, 'describe', 'bad', '--stage', 'prod')).stdout;

    expect(d).toMatchObject({ stage: 'prod', runs: [] });
    expect(d.lastFailure).toBeUndefined();
    expect(d.costPerRun).toBeUndefined();
    expect(text).toMatch(/^Last failure: -$/m);
    expect(text).toMatch(/^Cost: {9}no priced runs yet$/m);
  });

  it('a job that does not fire on the stage (off, or paused) has no monthly cost, though its runs are priced', async () => {
    const d = JSON.parse((await stepcron(dir, 'describe', 'off', '--json')).stdout) as Description;
    const text = (await stepcron(dir, 'describe', 'off')).stdout;

    expect(d).toMatchObject({ state: 'disabled', costPerRun: expect.any(Number) });
    expect(d.monthlyEstimate).toBeUndefined();
    expect(text).toMatch(/^Cost: {9}\$\d\.\d{6} per run \(average of the last 1 priced\), — a month \(off on dev\)$/m);
  });

  it('retries: 0: the exit-codes line says a non-zero exit fails, not that it is retried', async () => {
    const text = (await stepcron(dir, 'describe', 'ok')).stdout;

    expect(text).toMatch(/^ {2}Retries: {8}none$/m);
    expect(text).toMatch(/^ {2}Exit codes: {5}any non-zero fails$/m);
  });

  it('a misspelt job gets did-you-mean (exit 2); --last must be a whole number', async () => {
    const typo = await stepcron(dir, 'describe', 'bda');
    const last = await stepcron(dir, 'describe', 'bad', '--last', '0');

    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no job named 'bda': did you mean bad\?/);
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/--last: '0' must be a whole number of at least 1/);
  });
});

describe('causes', () => {
  it('a failure\'s cause: the ECS task\'s stop code, reason and the job container\'s exit, or the text on one line', () => {
    const task = JSON.stringify({ StopCode: 'SpotInterruption', StoppedReason: 'Your Spot Task was interrupted.', Containers: [{ Name: 'sidecar', ExitCode: 0 }, { Name: 'job', ExitCode: 137 }] });

    expect(causeText(task)).toBe('SpotInterruption; Your Spot Task was interrupted.; container exit 137');
    expect(causeText('precheck: bad input\nsecond line')).toBe('precheck: bad input\\nsecond line');
  });
});

describe('stepcron describe --aws (mocked Scheduler, Step Functions, CloudWatch Logs)', () => {
  const sfn = mockClient(SFNClient);
  const scheduler = mockClient(SchedulerClient);
  const logs = mockClient(CloudWatchLogsClient);
  const sts = mockClient(STSClient);
  const dynamodb = mockClient(DynamoDBClient);
  const ACCOUNT = '123456789012';
  const MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:stepcron-prod-ok`;
  const exec = (name: string) => `arn:aws:states:eu-west-1:${ACCOUNT}:execution:stepcron-prod-ok:${name}`;
  const NOW = new Date('2026-11-25T12:00:00Z');
  const jobs = parseCatalog([
    'defaults:', '  image: busybox:latest', 'jobs:',
    '  ok:', '    description: hourly sync', '    schedule: cron(0 * * * ? *)', '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]', '',
  ].join('\n'), { stage: 'prod' });
  const job = jobs[0]!;
  const TASK = `{"TaskArn":"arn:aws:ecs:eu-west-1:${ACCOUNT}:task/stepcron-prod/ccc333","StopCode":"EssentialContainerExited","StoppedReason":"Essential container in task exited","Containers":[{"Name":"job","ExitCode":4}],"StartedAt":"2026-11-25T10:00:05Z","StoppedAt":"2026-11-25T10:01:05Z"}`;
  const schedule = (state: 'ENABLED' | 'DISABLED', description: string, expression = 'cron(0 * * * ? *)') => ({
    Arn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/stepcron-prod-OkSchedule-1A2B3C`, Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default',
    State: state, Description: description, ScheduleExpression: expression, ScheduleExpressionTimezone: 'Europe/Berlin', FlexibleTimeWindow: { Mode: 'OFF' as const },
    Target: { Arn: MACHINE, RoleArn: `arn:aws:iam::${ACCOUNT}:role/stepcron-prod-SchedulerRole` },
  });
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), tty: false, now: () => NOW }, out, err };
  };

  beforeEach(() => {
    for (const m of [sfn, scheduler, logs, sts, dynamodb]) m.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice`, UserId: 'AROAEXAMPLE:alice' });
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [{ Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default', State: 'ENABLED', Target: { Arn: MACHINE } }] });
  });
  afterAll(() => {
    for (const m of [sfn, scheduler, logs, sts, dynamodb]) m.restore();
  });

  it('reads the deployed schedule, the runs, the exit code from the failure\'s cause (the ECS task), and only the last 20 lines of its last task\'s stream', async () => {
    // Prepare
    scheduler.on(GetScheduleCommand).resolves(schedule('ENABLED', 'ok: hourly sync', 'cron(15 * * * ? *)'));
    sfn.on(ListExecutionsCommand).resolves({ executions: [
      { executionArn: exec('b'), stateMachineArn: MACHINE, name: 'b', status: 'FAILED', startDate: new Date('2026-11-25T10:00:01Z'), stopDate: new Date('2026-11-25T10:01:31Z') },
      { executionArn: exec('a'), stateMachineArn: MACHINE, name: 'a', status: 'SUCCEEDED', startDate: new Date('2026-11-25T09:00:01Z'), stopDate: new Date('2026-11-25T09:00:41Z') },
    ] });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('b') }).resolves({ executionArn: exec('b'), name: 'b', status: 'FAILED', stateMachineArn: MACHINE, startDate: NOW, error: 'JobFailed', cause: TASK });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('a') }).resolves({ executionArn: exec('a'), name: 'a', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: NOW, output: '{"run":true,"outcome":{"status":"SUCCEEDED","exitCode":0}}' });
    const history: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: NOW },
      { id: 5, type: 'TaskScheduled', timestamp: NOW, taskScheduledEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', region: 'eu-west-1',
        parameters: JSON.stringify({ Overrides: { ContainerOverrides: [{ Name: 'job', Environment: [{ Name: 'STEPCRON_ATTEMPT', Value: '2' }] }] } }) } },
      { id: 6, type: 'TaskStarted', previousEventId: 5, timestamp: NOW },
      { id: 7, type: 'TaskFailed', previousEventId: 6, timestamp: NOW, taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', error: 'States.TaskFailed', cause: TASK } },
    ];
    sfn.on(GetExecutionHistoryCommand).resolves({ events: history });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ timestamp: Date.parse('2026-11-25T10:01:00Z'), message: 'retrying upstream' }, { timestamp: Date.parse('2026-11-25T10:01:04Z'), message: 'upstream 503: giving up' }], nextForwardToken: 'f/2' });
    const { io: out, out: stdout } = io();

    // Act
    const code = await describeJob(awsOps({ stage: 'prod', pollMs: 1 }), job, { stage: 'prod', json: true, last: 10 }, out);

    // Assess
    expect(code).toBe(0);
    const d = JSON.parse(stdout.join('')) as Description;
    expect(d).toMatchObject({
      state: 'enabled', where: 'stage prod on AWS',
      schedule: { expression: 'cron(0 * * * ? *)', deployed: { expression: 'cron(15 * * * ? *)', timezone: 'Europe/Berlin' }, notDeployedYet: true },
      next: ['2026-11-25T12:15:00.000Z', '2026-11-25T13:15:00.000Z', '2026-11-25T14:15:00.000Z', '2026-11-25T15:15:00.000Z', '2026-11-25T16:15:00.000Z'],
      runs: [{ execution: 'b', status: 'FAILED', exitCode: 4, error: 'JobFailed', cause: TASK }, { execution: 'a', status: 'SUCCEEDED', exitCode: 0 }],
      lastFailure: { execution: 'b', tail: [
        { label: 'attempt 3', at: '2026-11-25T10:01:00.000Z', text: 'retrying upstream' },
        { label: 'attempt 3', at: '2026-11-25T10:01:04.000Z', text: 'upstream 503: giving up' },
      ] },
    });
    expect(d.costPerRun).toBeGreaterThan(0);
    // One read, from the end of the last task's stream: the tail, not the whole log.
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: '/stepcron/prod/jobs', logStreamName: 'ok/job/ccc333', startFromHead: false, limit: TAIL_LINES },
    ]);
    const text = io();
    await describeJob(awsOps({ stage: 'prod', pollMs: 1 }), job, { stage: 'prod', json: false, last: 10 }, text.io);
    expect(text.out.join('')).toMatch(/^ {14}deployed as cron\(15 \* \* \* \? \*\) Europe\/Berlin \(the catalog's is not deployed yet\)$/m);
    expect(text.out.join('')).toMatch(/^Next: {9}2026-11-25 13:15 CET \(in 15 min\)$/m);
    expect(text.out.join('')).toMatch(/^ {2}Output \(last 2 lines; all of it: stepcron logs ok b --aws\):\n {4}attempt 3 \| retrying upstream\n {4}attempt 3 \| upstream 503: giving up\n$/m);
  });

  it('a Distributed Map run that failed: the tail of one failed child\'s task, found in a few calls, not by reading every child', async () => {
    // Prepare
    const MAP_RUN = `arn:aws:states:eu-west-1:${ACCOUNT}:mapRun:stepcron-prod-ok/FanOutDistributed:0a1b`;
    const child = `arn:aws:states:eu-west-1:${ACCOUNT}:execution:stepcron-prod-ok/FanOutDistributed:0a1b:7`;
    scheduler.on(GetScheduleCommand).resolves(schedule('ENABLED', 'ok: hourly sync'));
    sfn.on(ListExecutionsCommand, { stateMachineArn: MACHINE }).resolves({ executions: [
      { executionArn: exec('m'), stateMachineArn: MACHINE, name: 'm', status: 'FAILED', startDate: new Date('2026-11-25T10:00:01Z'), stopDate: new Date('2026-11-25T10:05:01Z') },
    ] });
    sfn.on(ListExecutionsCommand, { mapRunArn: MAP_RUN }).resolves({ executions: [{ executionArn: child, stateMachineArn: MACHINE, name: '7', status: 'FAILED', startDate: NOW }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: exec('m'), name: 'm', status: 'FAILED', stateMachineArn: MACHINE, startDate: NOW, error: 'FanOutToleranceExceeded', cause: 'States.ExceedToleratedFailureThreshold: 3 of 8 items failed' });
    sfn.on(GetExecutionHistoryCommand, { executionArn: exec('m') }).resolves({ events: [{ id: 1, type: 'MapRunStarted', timestamp: NOW }] });
    sfn.on(GetExecutionHistoryCommand, { executionArn: child }).resolves({ events: [
      { id: 3, type: 'TaskScheduled', timestamp: NOW, taskScheduledEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', region: 'eu-west-1',
        parameters: JSON.stringify({ Overrides: { ContainerOverrides: [{ Environment: [{ Name: 'STEPCRON_ATTEMPT', Value: '0' }, { Name: 'STEPCRON_ITEM', Value: '"initech"' }] }] } }) } },
      { id: 4, type: 'TaskFailed', previousEventId: 3, timestamp: NOW, taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', error: 'States.TaskFailed', cause: TASK } },
    ] });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ executionArn: exec('m'), mapRunArn: MAP_RUN, stateMachineArn: MACHINE, startDate: NOW }] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ timestamp: 1, message: 'crm.initech.example: connection timed out' }] });
    const { io: out, out: stdout } = io();

    // Act
    await describeJob(awsOps({ stage: 'prod' }), job, { stage: 'prod', json: true, last: 10 }, out);

    // Assess
    const d = JSON.parse(stdout.join('')) as Description;
    expect(d.lastFailure).toMatchObject({ execution: 'm', error: 'FanOutToleranceExceeded', tail: [{ label: '[initech] attempt 1', text: 'crm.initech.example: connection timed out' }] });
    expect(sfn.commandCalls(ListExecutionsCommand, { mapRunArn: MAP_RUN }).map((c) => c.args[0].input)).toEqual([{ mapRunArn: MAP_RUN, statusFilter: 'FAILED', maxResults: 1 }]);
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.logStreamName)).toEqual(['ok/job/ccc333']);
  });

  it('a schedule disabled with no pause note: off, and why (the stage\'s enabledJobs); a pause note: paused, with it', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    scheduler.on(GetScheduleCommand).resolves(schedule('DISABLED', 'ok: hourly sync'));
    const off = io();
    await describeJob(awsOps({ stage: 'prod' }), job, { stage: 'prod', json: true, last: 10, enabledJobs: ['other'] }, off.io);
    scheduler.on(GetScheduleCommand).resolves(schedule('DISABLED', 'stepcron-pause:{"by":"arn:aws:sts::123456789012:assumed-role/ops/bob","at":"2026-11-24T09:00:00.000Z","note":"quota"}\nok: hourly sync'));
    const paused = io();
    await describeJob(awsOps({ stage: 'prod' }), job, { stage: 'prod', json: true, last: 10 }, paused.io);

    expect(JSON.parse(off.out.join(''))).toMatchObject({ state: 'disabled', off: "off on prod: not in the stage's enabledJobs (serverless.yml params)", next: [] });
    expect(JSON.parse(paused.out.join(''))).toMatchObject({ state: 'paused', pause: { by: 'arn:aws:sts::123456789012:assumed-role/ops/bob', note: 'quota' }, next: [] });
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(0);
  });

  it('a job not deployed on the stage: shown so, without runs, exit 0', async () => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [] });
    sfn.on(ListExecutionsCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } }));
    const { io: out, out: stdout } = io();

    const code = await guarded(out, () => describeJob(awsOps({ stage: 'prod' }), job, { stage: 'prod', json: true, last: 10 }, out));

    expect(code).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ state: 'not deployed', off: 'no schedule on stage prod: not deployed', runs: [], next: [] });
  });
});

describe('describe --help', () => {
  it('takes the day-2 options: --last, --json, --aws with --region and --profile, --catalog and --stage', async () => {
    const result = await startCli(['describe', '--help'], { cwd: tmpdir() }).done;

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--last <n>.*--json.*--aws.*--region.*--profile/s);
    expect(result.stdout).toMatch(/--catalog <file>.*--stage <stage>/s);
  });
});

describe('every job shape, whatever its text says', () => {
  const jobs = parseCatalog(shapesCatalog(), { stage: 'prod' });
  /** A port with one failed run whose output and cause carry the hostile text too. */
  const port: OpsPort = {
    where: 'fake', stage: 'prod', who: async () => 'me', schedule: async () => ({ enabled: true }),
    runs: async (job) => [{ job: job.name, execution: 'e1', status: 'FAILED', startedAt: '2026-12-07T10:00:00.000Z', error: HOSTILE_TEXT, cause: HOSTILE_TEXT }],
    logs: async (_job, execution, o) => {
      o.write({ label: 'stdout', text: `${HOSTILE_TEXT}\u001b[2J` });
      return { execution: execution! };
    },
    start: async () => ({ execution: 'x' }), claimedBy: async () => undefined, pause: async (_j, p) => p, resume: async () => undefined,
    redrive: async () => ({ execution: 'x' }),
  };

  it.each(jobs.map((j) => [j.name, j] as const))('%s: one line per field, no control characters, secrets by name only', async (_name, job) => {
    const out: string[] = [];

    await describeJob(port, job, { stage: 'prod', json: false, last: 10 }, { out: (t) => void out.push(t), err: () => undefined, tty: true, now: () => new Date('2026-12-07T12:00:00Z') });

    const text = out.join('');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f]/);
    // The hostile text's line break is shown as \n, never starting a line of its own.
    expect(text).not.toMatch(/^newline/m);
    for (const ref of Object.values(SECRET_FORMS)) expect(text).not.toContain(ref);
    if (job.name === 'secret-forms') expect(text).toMatch(new RegExp(`Secrets: +${Object.keys(SECRET_FORMS).join(', ')}$`, 'm'));
    if (job.fanOut) expect(text).toMatch(/^ {2}Fan-out: +.+ at a time, \d+% may fail$/m);
  });
});
