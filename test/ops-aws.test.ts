// The day-2 commands against a stage: Scheduler, Step Functions, CloudWatch Logs, STS and the claims table mocked with
// aws-sdk-client-mock, answering with the response shapes the AWS API references show. And the CLI itself with no
// credentials, no region or no network: one line, exit 1, well within 10 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, ListExecutionsCommand, ListMapRunsCommand, RedriveExecutionCommand,
  SFNClient, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsOps } from '../cli/ops/aws';
import * as commands from '../cli/ops/commands';
import { parseCatalog } from '../workflows/catalog';
import { SCHEDULE_DESCRIPTION_MAX, stageTemplate, toStageParams } from '../workflows/resources';
import { startCli } from './support/cli';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const sfn = mockClient(SFNClient);
const scheduler = mockClient(SchedulerClient);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBClient);

const ACCOUNT = '123456789012';
const MACHINE = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:stepcron-prod-ok`;
const exec = (name: string) => `arn:aws:states:eu-west-1:${ACCOUNT}:execution:stepcron-prod-ok:${name}`;
const NOW = new Date('2026-11-25T12:00:00Z');

const [job] = parseCatalog([
  'defaults:', '  image: busybox:latest', 'jobs:',
  '  ok:', '    description: hourly sync', '    schedule: cron(0 * * * ? *)', '    timezone: Europe/Berlin', '    command: [sh, -c, "true"]', '',
].join('\n'), { stage: 'prod' });

/** GetSchedule's response for the job's schedule (CloudFormation named it), in `state` with `description`. */
function schedule(state: 'ENABLED' | 'DISABLED', description: string) {
  return {
    Arn: `arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/default/stepcron-prod-OkSchedule-1A2B3C`,
    Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default', State: state, Description: description,
    ScheduleExpression: 'cron(0 * * * ? *)', ScheduleExpressionTimezone: 'Europe/Berlin', FlexibleTimeWindow: { Mode: 'OFF' as const },
    Target: {
      Arn: MACHINE, RoleArn: `arn:aws:iam::${ACCOUNT}:role/stepcron-prod-SchedulerRole`, Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 }, DeadLetterConfig: { Arn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:stepcron-prod-schedule-dlq` },
    },
    CreationDate: new Date('2026-11-01T00:00:00Z'), LastModificationDate: new Date('2026-11-01T00:00:00Z'),
  };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), tty: false, now: () => NOW }, out, err };
}

const ops = () => awsOps({ stage: 'prod', pollMs: 1 });

beforeEach(() => {
  for (const m of [sfn, scheduler, logs, sts, dynamodb]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice`, UserId: 'AROAEXAMPLE:alice' });
  scheduler.on(ListSchedulesCommand).resolves({
    Schedules: [
      { Name: 'stepcron-prod-warning-x', GroupName: 'stepcron-prod-warnings', State: 'ENABLED', Target: { Arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:stepcron-prod-notify` } },
      { Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default', State: 'ENABLED', Target: { Arn: MACHINE } },
    ],
  });
});

describe('status on a stage', () => {
  it('reads State and the pause from the schedule, runs from ListExecutions/DescribeExecution, cost from the history', async () => {
    // Prepare
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-OkSchedule-1A2B3C' }).resolves(schedule('DISABLED',
      'stepcron-pause:{"by":"arn:aws:sts::123456789012:assumed-role/ops/bob","at":"2026-11-24T09:00:00.000Z","note":"upstream API down"}\nok: hourly sync'));
    sfn.on(ListExecutionsCommand).resolves({ executions: [
      { executionArn: exec('c'), stateMachineArn: MACHINE, name: 'c', status: 'FAILED', startDate: new Date('2026-11-24T08:00:01Z'), stopDate: new Date('2026-11-24T08:01:01Z') },
      { executionArn: exec('b'), stateMachineArn: MACHINE, name: 'b', status: 'SUCCEEDED', startDate: new Date('2026-11-24T07:00:01Z'), stopDate: new Date('2026-11-24T07:00:02Z') },
      { executionArn: exec('a'), stateMachineArn: MACHINE, name: 'a', status: 'SUCCEEDED', startDate: new Date('2026-11-24T06:00:01Z'), stopDate: new Date('2026-11-24T06:02:01Z') },
    ] });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('c') }).resolves({ executionArn: exec('c'), name: 'c', status: 'FAILED', stateMachineArn: MACHINE, startDate: new Date(), error: 'JobFailed', cause: '{"exitCode":3,"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/stepcron-prod/abc"}' });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('b') }).resolves({ executionArn: exec('b'), name: 'b', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(), output: '{"run":false,"reason":"duplicate of a: it has already claimed scheduled time 2026-11-24T06:00:00.000Z"}' });
    sfn.on(DescribeExecutionCommand, { executionArn: exec('a') }).resolves({ executionArn: exec('a'), name: 'a', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(), output: '{"run":true,"outcome":{"status":"SUCCEEDED","exitCode":0}}' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [
      { id: 1, type: 'ExecutionStarted', timestamp: new Date() },
      { id: 2, type: 'TaskStateEntered', timestamp: new Date(), stateEnteredEventDetails: { name: 'RunTask' } },
      { id: 3, type: 'TaskSucceeded', timestamp: new Date(), taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', output: '{"StartedAt":"2026-11-24T06:00:05Z","StoppedAt":"2026-11-24T06:02:05Z"}' } },
    ] });
    const { io: out, out: stdout } = io();

    // Act
    const code = await commands.status(ops(), [job!], { json: true, last: 20, cost: { monthly: (_j, c) => c * 720 } }, out);

    // Assess
    expect(code).toBe(0);
    const [row] = JSON.parse(stdout.join(''));
    expect(row).toMatchObject({
      job: 'ok', state: 'paused', next: [],
      pause: { by: 'arn:aws:sts::123456789012:assumed-role/ops/bob', at: '2026-11-24T09:00:00.000Z', note: 'upstream API down' },
      lastRun: { execution: 'c', status: 'FAILED', exitCode: 3, durationMs: 60_000 },
      // The skipped run is no success and no failure.
      successRate: { succeeded: 1, finished: 2, percent: 50 },
    });
    // One transition; a 2-minute task of 256 CPU units and 512 MiB at Fargate's list price.
    expect(row.costPerRun).toBeGreaterThan(0.0001);
    // Paused on the stage: no run a month, whatever a run costs.
    expect(row.monthlyEstimate).toBeUndefined();
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input.stateMachineArn).toBe(MACHINE);
  });

  it('a job not deployed on the stage: status shows it so, runs says so in one line (exit 1)', async () => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [] });
    sfn.on(ListExecutionsCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist', $metadata: { httpStatusCode: 400 } }));
    const status = io();
    const runs = io();

    const statusCode = await commands.guarded(status.io, () => commands.status(ops(), [job!], { json: true, last: 20 }, status.io));
    const runsCode = await commands.guarded(runs.io, () => commands.runs(ops(), job!, { limit: 20, json: false }, runs.io));

    expect(statusCode).toBe(0);
    expect(JSON.parse(status.out.join(''))).toEqual([expect.objectContaining({ job: 'ok', state: 'not deployed', next: [], successRate: { succeeded: 0, finished: 0, percent: null } })]);
    expect(runsCode).toBe(1);
    expect(runs.err.join('')).toBe('stepcron: state machine stepcron-prod-ok: not found (StateMachineDoesNotExist): is the stage deployed in this region and account, and the name right?\n');
  });

  it('ends with the console page of the dashboard the stage deploys, in the region it looks at', async () => {
    scheduler.on(GetScheduleCommand).resolves(schedule('ENABLED', 'ok: hourly sync'));
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const { io: out, out: stdout } = io();

    await commands.status(ops(), [job!], { json: false, last: 20 }, out);

    const deployed = stageTemplate([job!], toStageParams('prod', { subnets: 'subnet-0a1b2c3d' })).Resources.Dashboard as { Properties: { DashboardName: string } };
    expect(stdout.join('').trimEnd().split('\n').pop())
      .toBe(`dashboard: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/${deployed.Properties.DashboardName}`);
    expect(deployed.Properties.DashboardName).toBe('stepcron-prod');
  });

  it('next times come from the deployed schedule; a catalog changed since the deploy is pointed out', async () => {
    scheduler.on(GetScheduleCommand).resolves({ ...schedule('ENABLED', 'ok: hourly sync'), ScheduleExpression: 'cron(30 6 * * ? *)', ScheduleExpressionTimezone: 'UTC' });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const { io: out, out: stdout } = io();

    await commands.status(ops(), [job!], { json: false, last: 20 }, out);

    const [, row, note] = stdout.join('').split('\n');
    // The deployed expression and zone (what fires), its times on the job's clock (as describe shows them).
    expect(row!.split('\t').slice(0, 4)).toEqual(['ok', 'enabled', 'cron(30 6 * * ? *) UTC',
      '2026-11-26 07:30 CET (in 19 h), 2026-11-27 07:30 CET, 2026-11-28 07:30 CET']);
    expect(note).toBe('ok: the catalog says cron(0 * * * ? *) Europe/Berlin, not yet deployed');
  });

  // Rule: times people read are on the job's clock, even when its schedule deploys in another zone: an aligned
  // rate(...) deploys as its cron(...) in UTC (workflows/schedule.ts deployedSchedule), the job stays in Asia/Kolkata.
  const [india] = parseCatalog([
    'defaults:', '  image: busybox:latest', 'jobs:',
    '  ok:', '    description: every 6 hours', '    schedule: rate(6 hours)', '    timezone: Asia/Kolkata', '    command: [sh, -c, "true"]', '',
  ].join('\n'), { stage: 'prod' });
  const sixHours = { ...schedule('ENABLED', 'ok: every 6 hours'), ScheduleExpression: 'cron(0 0/6 * * ? *)', ScheduleExpressionTimezone: 'UTC' };

  it('an aligned rate in a non-UTC zone: the catalog\'s expression in the job\'s zone, what it deploys as, times on the job\'s clock', async () => {
    scheduler.on(GetScheduleCommand).resolves(sixHours);
    sfn.on(ListExecutionsCommand).resolves({ executions: [
      { executionArn: exec('a'), stateMachineArn: MACHINE, name: 'a', status: 'SUCCEEDED', startDate: new Date('2026-11-25T06:00:01Z'), stopDate: new Date('2026-11-25T06:00:03Z') },
    ] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: exec('a'), name: 'a', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(), output: '{"run":true,"outcome":{"status":"SUCCEEDED","exitCode":0}}' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const text = io();
    const json = io();

    await commands.status(ops(), [india!], { json: false, last: 20 }, text.io);
    await commands.status(ops(), [india!], { json: true, last: 20 }, json.io);

    const [, row, next] = text.out.join('').split('\n');
    expect(row!.split('\t').slice(0, 5)).toEqual(['ok', 'enabled', 'rate(6 hours) Asia/Kolkata (deploys as cron(0 0/6 * * ? *) UTC)',
      '2026-11-25 23:30 UTC+05:30 (in 6 h), 2026-11-26 05:30 UTC+05:30, 2026-11-26 11:30 UTC+05:30', 'SUCCEEDED 2026-11-25 11:30 UTC+05:30 (6 h ago) 2.00s exit 0']);
    expect(next).toMatch(/^dashboard: /);
    const [r] = JSON.parse(json.out.join(''));
    expect(r).toMatchObject({ schedule: 'rate(6 hours)', timezone: 'Asia/Kolkata', deployed: { expression: 'cron(0 0/6 * * ? *)', timezone: 'UTC' },
      next: ['2026-11-25T18:00:00.000Z', '2026-11-26T00:00:00.000Z', '2026-11-26T06:00:00.000Z'] });
    expect(r.catalog).toBeUndefined();
  });

  it('the same job locally (nothing deployed to read): the same row', () => {
    const row = commands.statusRow(india!, { enabled: true }, [], { now: NOW });
    expect(row).toMatchObject({ schedule: 'rate(6 hours)', timezone: 'Asia/Kolkata', deployed: { expression: 'cron(0 0/6 * * ? *)', timezone: 'UTC' },
      next: ['2026-11-25T18:00:00.000Z', '2026-11-26T00:00:00.000Z', '2026-11-26T06:00:00.000Z'] });
  });
});

describe('runs on a stage', () => {
  it('pages with nextToken, newest first, and stops at --since', async () => {
    const item = (name: string, at: string) => ({ executionArn: exec(name), stateMachineArn: MACHINE, name, status: 'ABORTED' as const, startDate: new Date(at), stopDate: new Date(at) });
    sfn.on(ListExecutionsCommand, { stateMachineArn: MACHINE, statusFilter: 'ABORTED', maxResults: 10 })
      .resolvesOnce({ executions: [item('e3', '2026-11-25T10:00:00Z'), item('e2', '2026-11-24T10:00:00Z')], nextToken: 'page2' })
      .resolvesOnce({ executions: [item('e1', '2026-11-20T10:00:00Z'), item('e0', '2026-11-10T10:00:00Z')], nextToken: 'page3' });
    const { io: out, out: stdout } = io();

    const code = await commands.runs(ops(), job!, { status: 'aborted', since: '7d', limit: 10, json: true }, out);

    expect(code).toBe(0);
    expect(JSON.parse(stdout.join('')).map((r: { execution: string; link: string }) => r.execution)).toEqual(['e3', 'e2', 'e1']);
    const calls = sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.nextToken);
    // The third page is never asked for: e0 is older than 7 days.
    expect(calls).toEqual([undefined, 'page2']);
    expect(JSON.parse(stdout.join(''))[0].link).toBe(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${exec('e3')}`);
  });
});

describe('start on a stage', () => {
  it('starts with the validated input and prints the console link', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec('20261125T120000Z-ab12'), startDate: NOW });
    const { io: out, out: stdout } = io();

    const code = await commands.start(ops(), job!, { input: { day: '2026-11-24' } }, { wait: false, json: false }, out);

    expect(code).toBe(0);
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input.stateMachineArn).toBe(MACHINE);
    expect(JSON.parse(input.input!)).toEqual({ input: { day: '2026-11-24' } });
    expect(input.name).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(stdout.join('')).toBe(`started ok 20261125T120000Z-ab12\n  https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${exec('20261125T120000Z-ab12')}\n`);
  });

  it('--wait follows the states to the end and exits 1 when the run failed, with its exit code', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec('w'), startDate: NOW });
    sfn.on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: exec('w'), name: 'w', status: 'RUNNING', stateMachineArn: MACHINE, startDate: NOW })
      .resolves({ executionArn: exec('w'), name: 'w', status: 'FAILED', stateMachineArn: MACHINE, startDate: NOW, error: 'JobFailed', cause: '{"exitCode":2}' });
    // Asked newest first (reverseOrder), as AWS then answers.
    const started: HistoryEvent = { id: 1, type: 'ExecutionStarted', timestamp: NOW };
    const precheck: HistoryEvent = { id: 2, type: 'TaskStateEntered', timestamp: NOW, stateEnteredEventDetails: { name: 'Precheck' } };
    const runTask: HistoryEvent = { id: 3, type: 'TaskStateEntered', timestamp: NOW, stateEnteredEventDetails: { name: 'RunTask' } };
    sfn.on(GetExecutionHistoryCommand, { reverseOrder: true }).resolvesOnce({ events: [precheck, started] }).resolves({ events: [runTask, precheck, started] });
    const { io: out, out: stdout, err } = io();

    const code = await commands.start(ops(), job!, {}, { wait: true, json: false }, out);

    expect(code).toBe(1);
    expect(err.join('').match(/→ \w+/g)).toEqual(['→ Precheck', '→ RunTask']);
    expect(stdout.join('')).toMatch(/^FAILED w exit 2 \(JobFailed\)\n {2}https:/);
  });
});

describe('pause / resume on a stage', () => {
  it('pause disables the schedule and puts who, when and why in front of its Description, keeping everything else', async () => {
    scheduler.on(GetScheduleCommand).resolves(schedule('ENABLED', 'ok: hourly sync'));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'x' });
    const { io: out } = io();

    await commands.pause(ops(), job!, 'upstream API down', out);

    const input = scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input;
    const { CreationDate: _c, LastModificationDate: _l, Arn: _a, ...rest } = schedule('ENABLED', '');
    expect(input).toEqual({ ...rest, State: 'DISABLED', Description: expect.any(String) });
    expect(input.Description).toBe(`stepcron-pause:{"by":"arn:aws:sts::123456789012:assumed-role/ops/alice","at":"${NOW.toISOString()}","note":"upstream API down"}\nok: hourly sync`);
  });

  it('resume enables it and gives the Description back; a long note is cut (ending ...) to fit 512 characters', async () => {
    const { writePause, readPause } = await import('../cli/ops/pause-note');
    const paused = writePause({ by: 'bob', at: NOW.toISOString(), note: 'x'.repeat(2000) }, 'ok: hourly sync');
    scheduler.on(GetScheduleCommand).resolves(schedule('DISABLED', paused));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'x' });
    const { io: out, out: stdout } = io();

    await commands.resume(ops(), job!, { catchUp: false, maxConcurrent: 1, json: false }, out);

    expect(paused.length).toBeLessThanOrEqual(512);
    expect(readPause(paused)!.note.length).toBeGreaterThan(300);
    const input = scheduler.commandCalls(UpdateScheduleCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ State: 'ENABLED', Description: 'ok: hourly sync', ScheduleExpressionTimezone: 'Europe/Berlin' });
    expect(stdout.join('')).toMatch(/^resumed ok on prod \(stage prod on AWS\); it was paused by bob since 2026-11-25 13:00 CET \(in 0 s\): x+\.\.\.\n$/);
  });

  it.each([0, 1, 100, SCHEDULE_DESCRIPTION_MAX, 300])('pause then resume gives a %i-character description back exactly; only the note is shortened, and pause says so', async (length) => {
    // Prepare: the schedule as Scheduler keeps it between calls (what UpdateSchedule wrote, GetSchedule reads)
    const original = `ok: ${'desc \u00e9\u{1F600} "q" '.repeat(40)}`.slice(0, length);
    let current = schedule('ENABLED', original);
    scheduler.on(GetScheduleCommand).callsFake(() => current);
    scheduler.on(UpdateScheduleCommand).callsFake((input: { State: 'ENABLED' | 'DISABLED'; Description: string }) => {
      expect(input.Description.length).toBeLessThanOrEqual(512);
      current = schedule(input.State, input.Description);
      return { ScheduleArn: 'x' };
    });
    const note = 'upstream API down, see INC-1234 '.repeat(20);
    const { io: out, out: stdout } = io();
    // Act
    await commands.pause(ops(), job!, note, out);
    const paused = current;
    await commands.resume(ops(), job!, { catchUp: false, maxConcurrent: 1, json: false }, out);
    // Assess
    expect(paused.State).toBe('DISABLED');
    expect(current).toMatchObject({ State: 'ENABLED', Description: original });
    expect(stdout[0]).toMatch(/^paused ok on prod \(stage prod on AWS\) by .*: upstream API down, see INC-1234 .*\.\.\.\n$/);
    expect(stdout[1]).toBe("  the note was shortened to fit the schedule's description (Scheduler keeps 512 characters; the description itself is kept whole)\n");
  });

  it('pause then resume gives back exactly the description a deploy wrote, however long the catalog\'s description', async () => {
    // Prepare: what sls deploy writes for a job with a 1,000-character description
    const [long] = parseCatalog(['defaults:', '  image: busybox:latest', 'jobs:', '  ok:', `    description: ${'Syncs every tenant. '.repeat(50)}`,
      '    schedule: cron(0 * * * ? *)', '    command: [sh, -c, "true"]', ''].join('\n'), { stage: 'prod' });
    const params = toStageParams('prod', { subnets: 'subnet-0123456789abcdef0', securityGroups: 'sg-0123456789abcdef0' });
    const deployed = String((stageTemplate([long!], params).Resources.OkSchedule as { Properties: { Description: string } }).Properties.Description);
    let current = schedule('ENABLED', deployed);
    scheduler.on(GetScheduleCommand).callsFake(() => current);
    scheduler.on(UpdateScheduleCommand).callsFake((input: { State: 'ENABLED' | 'DISABLED'; Description: string }) => {
      current = schedule(input.State, input.Description);
      return { ScheduleArn: 'x' };
    });
    const { io: out } = io();
    // Act
    await commands.pause(ops(), long!, 'upstream API down', out);
    const paused = current;
    await commands.resume(ops(), long!, { catchUp: false, maxConcurrent: 1, json: false }, out);
    // Assess
    expect(paused.Description.length).toBeLessThanOrEqual(512);
    expect(paused.Description).toContain('"note":"upstream API down"');
    expect(current.Description).toBe(deployed);
  });

  it('refuses, in one line and changing nothing, to pause a schedule whose description leaves no room for the note', async () => {
    // Prepare: a description edited outside stepcron to nearly Scheduler's 512 (stepcron deploys at most 256)
    scheduler.on(GetScheduleCommand).resolves(schedule('ENABLED', 'd'.repeat(480)));
    const { io: out, err } = io();
    // Act
    const code = await commands.guarded(out, () => commands.pause(ops(), job!, 'upstream API down', out));
    // Assess
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/^stepcron: pause: ok's schedule on stage prod's description is 480 characters, which leaves no room for the pause note \(\d+ at least\) in Scheduler's 512: deploy the stage \(it writes at most 256\), or shorten the description in the schedule, and pause again\n$/);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('resume leaves alone a schedule the catalog disabled (no pause note), saying so', async () => {
    scheduler.on(GetScheduleCommand).resolves(schedule('DISABLED', 'ok: hourly sync'));
    const { io: out, err } = io();

    const code = await commands.guarded(out, () => commands.resume(ops(), job!, { catchUp: false, maxConcurrent: 1, json: false }, out));

    expect(code).toBe(1);
    expect(err.join('')).toMatch(/disabled by the catalog .* not paused: enable it there and deploy/);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });
});

describe('backfill on a stage', () => {
  it('asks the claims table for each time, lists them on --dry-run, then starts only the ones that did not run', async () => {
    dynamodb.on(GetItemCommand).callsFake((input: { Key: { pk: { S: string } } }) => (input.Key.pk.S === 'run#stepcron-prod-ok#2026-11-25T09:00:00.000Z'
      ? { Item: { pk: input.Key.pk, owner: { S: exec('earlier') }, expiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) } } } : {}));
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: exec(input.name), startDate: NOW }));
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => ({ executionArn: input.executionArn, name: input.executionArn.split(':').at(-1), status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: NOW, output: '{"run":true}' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const window = { from: '2026-11-25T08:00:00Z', to: '2026-11-25T10:59:00Z', maxConcurrent: 2 };
    const dry = io();
    const real = io();

    const dryCode = await commands.backfill(ops(), job!, { ...window, dryRun: true, json: true }, dry.io);
    const starts = sfn.commandCalls(StartExecutionCommand).length;
    const code = await commands.backfill(ops(), job!, { ...window, dryRun: false, json: true }, real.io);

    expect(dryCode).toBe(0);
    expect(starts).toBe(0);
    expect(JSON.parse(dry.out.join(''))).toEqual([
      { scheduledTime: '2026-11-25T08:00:00.000Z', status: 'WOULD_RUN' },
      { scheduledTime: '2026-11-25T09:00:00.000Z', status: 'ALREADY_RAN', execution: 'earlier' },
      { scheduledTime: '2026-11-25T10:00:00.000Z', status: 'WOULD_RUN' },
    ]);
    expect(code).toBe(0);
    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
    expect(inputs.sort((a, b) => a.scheduledTime.localeCompare(b.scheduledTime))).toEqual([{ scheduledTime: '2026-11-25T08:00:00.000Z' }, { scheduledTime: '2026-11-25T10:00:00.000Z' }]);
    expect(dynamodb.commandCalls(GetItemCommand)[0]!.args[0].input).toMatchObject({ TableName: 'stepcron-prod-claims', ConsistentRead: true });
  });
});

describe('logs on a stage', () => {
  it('finds the run\'s tasks in its history and prints each stream, labelled by attempt', async () => {
    const scheduled = (id: number, attempt: number): HistoryEvent => ({ id, type: 'TaskScheduled', timestamp: NOW, taskScheduledEventDetails: {
      resourceType: 'ecs', resource: 'runTask.sync', region: 'eu-west-1',
      parameters: JSON.stringify({ Overrides: { ContainerOverrides: [{ Name: 'job', Environment: [{ Name: 'STEPCRON_ATTEMPT', Value: String(attempt) }] }] } }),
    } });
    const task = (id: string) => `{"TaskArn":"arn:aws:ecs:eu-west-1:${ACCOUNT}:task/stepcron-prod/${id}","StartedAt":"2026-11-25T11:00:00Z","StoppedAt":"2026-11-25T11:01:00Z"}`;
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: exec('r'), name: 'r', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: NOW });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [
      scheduled(5, 0), { id: 6, type: 'TaskStarted', previousEventId: 5, timestamp: NOW },
      { id: 7, type: 'TaskFailed', previousEventId: 6, timestamp: NOW, taskFailedEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', error: 'States.TaskFailed', cause: task('aaa111') } },
      scheduled(12, 1), { id: 13, type: 'TaskStarted', previousEventId: 12, timestamp: NOW },
      { id: 14, type: 'TaskSucceeded', previousEventId: 13, timestamp: NOW, taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', output: task('bbb222') } },
    ] });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    logs.on(GetLogEventsCommand, { logStreamName: 'ok/job/aaa111' }).resolves({ events: [{ timestamp: 1, message: 'connection refused' }], nextForwardToken: 'f/1' });
    logs.on(GetLogEventsCommand, { logStreamName: 'ok/job/aaa111', nextToken: 'f/1' }).resolves({ events: [], nextForwardToken: 'f/1' });
    logs.on(GetLogEventsCommand, { logStreamName: 'ok/job/bbb222' }).resolves({ events: [{ timestamp: 2, message: 'synced 42 rows' }], nextForwardToken: 'f/2' });
    logs.on(GetLogEventsCommand, { logStreamName: 'ok/job/bbb222', nextToken: 'f/2' }).resolves({ events: [], nextForwardToken: 'f/2' });
    const { io: out, out: stdout } = io();

    await commands.logs(ops(), job!, 'r', { follow: false, json: false }, out);

    expect(stdout.join('')).toBe('attempt 1 | connection refused\nattempt 2 | synced 42 rows\n');
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toMatchObject({ logGroupName: '/stepcron/prod/jobs', startFromHead: true });
  });
});

describe('logs of a Distributed Map run', () => {
  it('reads each child execution of the map run and labels its lines with the item', async () => {
    const MAP_RUN = `arn:aws:states:eu-west-1:${ACCOUNT}:mapRun:stepcron-prod-ok/FanOut:0a1b`;
    const child = (item: string) => `arn:aws:states:eu-west-1:${ACCOUNT}:express:stepcron-prod-ok/FanOut:0a1b:${item}`;
    const taskOf = (id: number, item: string, taskId: string): HistoryEvent[] => [
      { id, type: 'TaskScheduled', timestamp: NOW, taskScheduledEventDetails: { resourceType: 'ecs', resource: 'runTask.sync', region: 'eu-west-1',
        parameters: JSON.stringify({ Overrides: { ContainerOverrides: [{ Environment: [{ Name: 'STEPCRON_ATTEMPT', Value: '0' }, { Name: 'STEPCRON_ITEM', Value: JSON.stringify(item) }] }] } }) } },
      { id: id + 1, type: 'TaskSucceeded', previousEventId: id, timestamp: NOW, taskSucceededEventDetails: { resourceType: 'ecs', resource: 'runTask.sync',
        output: `{"TaskArn":"arn:aws:ecs:eu-west-1:${ACCOUNT}:task/stepcron-prod/${taskId}"}` } },
    ];
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: exec('m'), name: 'm', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: NOW });
    sfn.on(GetExecutionHistoryCommand, { executionArn: exec('m') }).resolves({ events: [{ id: 1, type: 'MapRunStarted', timestamp: NOW }] });
    sfn.on(GetExecutionHistoryCommand, { executionArn: child('1') }).resolves({ events: taskOf(3, 'tenant-a', 'aaa1') });
    sfn.on(GetExecutionHistoryCommand, { executionArn: child('2') }).resolves({ events: taskOf(3, 'tenant-b', 'bbb2') });
    sfn.on(ListMapRunsCommand, { executionArn: exec('m') }).resolves({ mapRuns: [{ executionArn: exec('m'), mapRunArn: MAP_RUN, stateMachineArn: MACHINE, startDate: NOW }] });
    sfn.on(ListExecutionsCommand, { mapRunArn: MAP_RUN }).resolvesOnce({ executions: [{ executionArn: child('1'), stateMachineArn: MACHINE, name: '1', status: 'SUCCEEDED', startDate: NOW }], nextToken: 't' })
      .resolves({ executions: [{ executionArn: child('2'), stateMachineArn: MACHINE, name: '2', status: 'SUCCEEDED', startDate: NOW }] });
    logs.on(GetLogEventsCommand).callsFake((input: { logStreamName: string; nextToken?: string }) => (input.nextToken
      ? { events: [], nextForwardToken: input.nextToken } : { events: [{ timestamp: 1, message: `hello from ${input.logStreamName}` }], nextForwardToken: 'f/1' }));
    const { io: out, out: stdout } = io();

    await commands.logs(ops(), job!, 'm', { follow: false, json: true }, out);

    expect(JSON.parse(stdout.join(''))).toEqual({ job: 'ok', execution: 'm', lines: [
      { label: '[tenant-a] attempt 1', at: '1970-01-01T00:00:00.001Z', text: 'hello from ok/job/aaa1' },
      { label: '[tenant-b] attempt 1', at: '1970-01-01T00:00:00.001Z', text: 'hello from ok/job/bbb2' },
    ] });
  });
});

describe('redrive on a stage', () => {
  const described = (status: string, extra: Record<string, unknown> = {}) => ({
    executionArn: exec('f'), name: 'f', status: status as 'FAILED', stateMachineArn: MACHINE, startDate: new Date(NOW.getTime() - 3600_000), stopDate: new Date(Date.now() - 3600_000), ...extra,
  });

  it('redrives a TIMED_OUT run (the state that was running when the deadline came runs again)', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described('TIMED_OUT', { redriveStatus: 'REDRIVABLE' }));
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: NOW });
    const { io: out, out: stdout } = io();

    expect(await commands.redrive(ops(), job!, 'f', { json: false }, out)).toBe(0);
    expect(sfn.commandCalls(RedriveExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: exec('f') });
    expect(stdout.join('')).toMatch(/^redriving ok f from its failed state\n/);
  });

  it.each([
    ['a SUCCEEDED run', described('SUCCEEDED'), /it is SUCCEEDED; only a FAILED, TIMED_OUT or ABORTED run can be redriven/],
    ['a run older than 14 days', described('FAILED', { stopDate: new Date(Date.now() - 15 * 86_400_000) }), /more than 14 days ago/],
    ['what Step Functions calls not redrivable', described('TIMED_OUT', { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is RUNNING and cannot be redriven' }), /Step Functions says it is not redrivable: Execution is RUNNING/],
  ])('refuses %s, in one line, without calling RedriveExecution', async (_what, response, message) => {
    sfn.on(DescribeExecutionCommand).resolves(response);
    const { io: out, err } = io();

    const code = await commands.guarded(out, () => commands.redrive(ops(), job!, 'f', { json: false }, out));

    expect(code).toBe(1);
    expect(err.join('')).toMatch(message);
    expect(err.join('').split('\n').filter(Boolean)).toHaveLength(1);
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('refuses a run that ended in its Fail state (the job failed): AWS would rerun only that state and fail again', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described('FAILED', { redriveStatus: 'REDRIVABLE', error: 'JobFailed' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [
      { id: 42, type: 'ExecutionFailed', timestamp: NOW, executionFailedEventDetails: { error: 'JobFailed' } },
      { id: 41, type: 'FailStateEntered', timestamp: NOW, stateEnteredEventDetails: { name: 'Failed' } },
      { id: 40, type: 'TaskStateExited', timestamp: NOW, stateExitedEventDetails: { name: 'NotifyFailure' } },
    ] });
    const { io: out, err } = io();

    const code = await commands.guarded(out, () => commands.redrive(ops(), job!, 'f', { json: false }, out));

    expect(code).toBe(1);
    expect(err.join('')).toMatch(/^stepcron: redrive: f ended in its Fail state \(JobFailed\): a redrive reruns only the states that did not finish, .* stepcron start ok --aws --event <file>\)\n$/);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toMatchObject({ reverseOrder: true, maxResults: 3 });
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('redrives a run that failed inside a state (an error no Catch handles): that state runs again', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described('FAILED', { redriveStatus: 'REDRIVABLE', error: 'States.DataLimitExceeded' }));
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [
      { id: 12, type: 'ExecutionFailed', timestamp: NOW },
      { id: 11, type: 'TaskFailed', timestamp: NOW },
      { id: 10, type: 'TaskSubmitted', timestamp: NOW },
    ] });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: NOW });
    const { io: out } = io();

    expect(await commands.redrive(ops(), job!, 'f', { json: false }, out)).toBe(0);
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(1);
  });

  it('AccessDenied is one line naming the action', async () => {
    sfn.on(DescribeExecutionCommand).resolves(described('ABORTED'));
    sfn.on(RedriveExecutionCommand).rejects(Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/ops/alice is not authorized to perform: states:RedriveExecution'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const { io: out, err } = io();

    expect(await commands.guarded(out, () => commands.redrive(ops(), job!, 'f', { json: false }, out))).toBe(1);
    expect(err.join('')).toMatch(/^stepcron: AWS denied states:RedriveExecution on execution f: your identity needs that permission \(User: .* states:RedriveExecution\)\n$/);
  });
});

describe('the CLI without credentials, region or network', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-ops-aws-'));
  const none = join(dir, 'empty');
  writeFileSync(none, '');
  writeFileSync(join(dir, 'jobs.yml'), 'defaults:\n  image: busybox:latest\njobs:\n  ok:\n    description: d\n    schedule: rate(1 hour)\n    command: [sh, -c, "true"]\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Only what the test says: no AWS_* from the machine, no profile files. */
  const bare = { PATH: process.env.PATH ?? '', HOME: dir, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: none, AWS_SHARED_CREDENTIALS_FILE: none };

  it.each([
    ['no credentials', { AWS_REGION: 'eu-west-1' }, ['status', '--aws'], /^stepcron: no AWS credentials: set AWS_PROFILE .* or pass --profile/],
    ['no region', { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, ['runs', 'ok', '--aws'], /^stepcron: no AWS region: pass --region or set AWS_REGION/],
    // A closed loopback port: the connection is refused at once.
    ['no network', { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, ['start', 'ok', '--aws'], /^stepcron: cannot reach AWS for sts:GetCallerIdentity \(ECONNREFUSED\): check the network and --region/],
  ])('%s: one line, exit 1', async (_what, env, args, message) => {
    const previous = process.env;
    process.env = { ...bare, ...env };
    try {
      const result = await startCli([...args, '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 10_000 }).done;
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    } finally {
      process.env = previous;
    }
  });

  it('an endpoint that accepts the connection and never answers: one line, exit 1, no hang', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const previous = process.env;
    process.env = { ...bare, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` };
    try {
      // Killed at 10 s (code null) if it hangs.
      const result = await startCli(['status', '--aws', '--catalog', 'jobs.yml'], { cwd: dir, timeoutMs: 10_000 }).done;
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^stepcron: cannot reach AWS for \S+ \((ETIMEDOUT|TimeoutError)\): check the network and --region$/)]);
    } finally {
      process.env = previous;
      silent.close();
    }
  });
});

describe('sls deploy and paused jobs (cli/ops/deploy-guard.cjs)', () => {
  /** The plugin as osls loads it, on stage prod, with these CLI options. */
  function plugin(options: Record<string, unknown> = {}) {
    const Guard = require('../cli/ops/deploy-guard.cjs');
    const logged: string[] = [];
    const serverless = {
      classes: { Error: class ServerlessError extends Error {} },
      getProvider: () => ({ getStage: () => 'prod', getAwsSdkV3Config: async () => ({ region: 'eu-west-1' }) }),
    };
    const log = { notice: (t: string) => logged.push(t), warning: (t: string) => logged.push(t) };
    return { guard: new Guard(serverless, options, { log }), logged };
  }
  const pausedNote = 'stepcron-pause:{"by":"bob","at":"2026-11-24T09:00:00.000Z","note":"upstream API down"}\nok: hourly sync';

  beforeEach(() => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [
      { Name: 'stepcron-prod-OkSchedule-1A2B3C', GroupName: 'default', State: 'DISABLED', Target: { Arn: MACHINE } },
      // Disabled by the catalog (enabled: false), not paused; and another stage's paused job.
      { Name: 'stepcron-prod-OffSchedule-9Z', GroupName: 'default', State: 'DISABLED', Target: { Arn: MACHINE.replace('-ok', '-off') } },
      { Name: 'stepcron-dev-OkSchedule-7Y', GroupName: 'default', State: 'DISABLED', Target: { Arn: MACHINE.replace('-prod-', '-dev-') } },
    ] });
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-OkSchedule-1A2B3C' }).resolves(schedule('DISABLED', pausedNote));
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-OffSchedule-9Z' }).resolves({ ...schedule('DISABLED', 'off: not yet'), Name: 'stepcron-prod-OffSchedule-9Z' });
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'x' });
  });

  it('stops the deploy, naming the paused jobs of the stage and what to do', async () => {
    const { guard } = plugin();

    await expect(guard.hooks['before:deploy:deploy']()).rejects.toThrow(
      /^stage prod has paused jobs; a deploy that changes their schedules would enable them again:\n {2}- ok: paused by bob since 2026-11-24 10:00 CET \(\d+ d ago\): upstream API down\nresume them first .* or deploy with --param="pausedJobs=keep"/);
    expect(scheduler.commandCalls(ListSchedulesCommand)[0]!.args[0].input).toMatchObject({ State: 'DISABLED' });
  });

  it('with --param pausedJobs=keep, goes on and pauses again, with its note, a job the deploy enabled', async () => {
    const { guard, logged } = plugin({ param: ['pausedJobs=keep'] });
    await guard.hooks['before:deploy:deploy']();
    // The deploy changed the schedule: CloudFormation sent State ENABLED and the template's Description.
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-OkSchedule-1A2B3C' }).resolves(schedule('ENABLED', 'ok: hourly sync'));

    await guard.hooks['after:deploy:deploy']();

    const calls = scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ Name: 'stepcron-prod-OkSchedule-1A2B3C', State: 'DISABLED', Description: pausedNote });
    expect(logged.join('\n')).toMatch(/the deploy enabled ok: paused again with their notes/);
  });

  it('leaves a deploy alone when nothing is paused', async () => {
    scheduler.on(GetScheduleCommand, { Name: 'stepcron-prod-OkSchedule-1A2B3C' }).resolves(schedule('DISABLED', 'ok: hourly sync'));
    const { guard } = plugin();

    await guard.hooks['before:deploy:deploy']();
    await guard.hooks['after:deploy:deploy']();

    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });
});
