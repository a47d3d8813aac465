// The alerts cron monitors sell: a success deadline (alarm; `stepcron schedule` locally), a runtime warning (a
// notification while the run goes on) and a minimum runtime (a too-fast success is reported). Catalog checks, the
// template, the AWS calls (mocked SDK), and local runs with real child processes through the deployed definition.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { alertProblems, deadlineWindow, longestGap } from '../workflows/alerts';
import { type CatalogError, parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { resources, toStageParams } from '../workflows/resources';
import { awsWarnings, runtimeWarning, warningScheduleName } from '../handlers/lib/warnings';
import { notify } from '../handlers/lib/notify';
import { processBackend } from '../cli/backends/process';
import { Store } from '../cli/store';
import { localInfra } from '../cli/engine';
import { runLocal } from '../cli/run';
import { localScheduler } from '../cli/scheduler';
import { jobFrom } from './support/workflow';
import { deployedSchedule, nextFireTimes, parseSchedule, ScheduleError } from '../workflows/schedule';

process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const job = (fields: string, command = 'exit 0') => jobFrom(`
jobs:
  watched:
    description: a watched job
    schedule: cron(0 * * * ? *)
    image: local:1
    command: [sh, -c, '${command}']
    retries: 0
    timeoutSeconds: 60
${fields.split('\n').filter(Boolean).map((l) => `    ${l.trim()}`).join('\n')}
`);

const problems = (fields: string, schedule = 'cron(0 * * * ? *)') => {
  try {
    parseCatalog(`jobs:\n  watched:\n    description: d\n    schedule: ${schedule}\n    image: i\n    command: [x]\n    retries: 1\n    timeoutSeconds: 600\n${fields}`, { stage: 'dev' });
    return [];
  } catch (err) {
    return (err as CatalogError).problems;
  }
};

describe('catalog checks', () => {
  it('accepts a deadline longer than the schedule\'s longest wait', () => {
    expect(problems('    successDeadlineMinutes: 90\n')).toEqual([]);
  });

  it('refuses a deadline the schedule itself would miss, naming the longest wait', () => {
    // Weekdays at 08:00: Friday to Monday is a 72-hour wait.
    const [problem] = problems('    successDeadlineMinutes: 1500\n', 'cron(0 8 ? * MON-FRI *)');
    expect(problem).toMatch(/^jobs\.watched\.successDeadlineMinutes: 1500 min is not longer than the schedule's longest wait between runs \(4320 min, after .*\): the alarm would go off between healthy runs/);
  });

  it('refuses a deadline on a job rarer than CloudWatch can look back, and on a one-time schedule', () => {
    expect(problems('    successDeadlineMinutes: 10080\n', 'cron(0 8 1 * ? *)')[0]).toMatch(/and a CloudWatch alarm looks back at most 10080 min \(7 days\): a job this rare cannot have a success deadline/);
    expect(problems('    successDeadlineMinutes: 60\n', 'at(2030-01-01T00:00:00)')[0]).toMatch(/one-time at\(\) schedule has no next run to miss/);
    expect(problems('    successDeadlineMinutes: 10081\n')[0]).toBe('jobs.watched.successDeadlineMinutes: must be at most 10080 (got 10081)');
  });

  it('refuses a runtime warning the hard timeout would beat, and a minimum runtime no run could pass', () => {
    expect(problems('    runtimeWarningSeconds: 1200\n')[0]).toMatch(/^jobs\.watched\.runtimeWarningSeconds: 1200 s is not below the run's hard limit \(timeoutSeconds 600 x 2 attempts = 1200 s\)/);
    expect(problems('    minRuntimeSeconds: 600\n')[0]).toMatch(/^jobs\.watched\.minRuntimeSeconds: 600 s is not below timeoutSeconds \(600\)/);
    expect(problems('    minRuntimeSeconds: 300\n    runtimeWarningSeconds: 300\n')[0]).toMatch(/minRuntimeSeconds: 300 s must be below runtimeWarningSeconds \(300\)/);
  });

  it('finds the longest wait across a DST change, in the job\'s time zone', () => {
    // 02:30 every day in Berlin does not exist on 2027-03-28, so that day has no run: 47 hours from 01:30Z to 00:30Z (CET, then CEST).
    const gap = longestGap('cron(30 2 * * ? *)', 'Europe/Berlin', new Date('2027-03-01T00:00:00Z'));
    expect(gap && gap.ms / 3_600_000).toBe(47);
  });
});

/**
 * longestGap as it was written first: nextFireTimes in batches of 1,000, the next batch searched from the last time
 * (without the cap of 50,000 fire times it also had: see the every-minute test below).
 */
function longestGapByBatches(schedule: string, timezone: string, from: Date, stopAbove = Number.POSITIVE_INFINITY) {
  const deployed = deployedSchedule(schedule, timezone);
  const parsed = parseSchedule(deployed.expression);
  if (parsed.kind === 'at') return undefined;
  if (parsed.kind === 'rate') return { ms: parsed.seconds * 1000, after: from };
  const end = from.getTime() + 400 * 24 * 3600 * 1000;
  let longest = { ms: 0, after: from };
  let previous: Date | undefined;
  let seen = 0;
  let cursor = from;
  for (;;) {
    const batch = nextFireTimes(parsed, { timezone: deployed.timezone, from: cursor, count: 1000 });
    for (const time of batch) {
      if (previous && time.getTime() - previous.getTime() > longest.ms) {
        longest = { ms: time.getTime() - previous.getTime(), after: previous };
        if (longest.ms > stopAbove) return longest;
      }
      previous = time;
    }
    seen += batch.length;
    if (batch.length < 1000 || !previous || previous.getTime() > end) break;
    cursor = previous;
  }
  return longest;
}

describe('alertProblems, rule by rule (the schedule searched from Monday 2026-12-07 00:00 UTC)', () => {
  const base = { schedule: 'cron(0 * * * ? *)', timezone: 'UTC', timeoutSeconds: 600, retries: 1 };
  const now = new Date('2026-12-07T00:00:00Z');
  const tooShort = (deadline: number, gap: number, after: string) => [{
    path: 'successDeadlineMinutes',
    message: `${deadline} min is not longer than the schedule's longest wait between runs (${gap} min, after ${after}): the alarm would go off ` +
      `between healthy runs; use at least ${gap} plus a run's usual duration`,
  }];

  it('a success deadline must be longer than the longest wait: equal is too short', () => {
    expect(alertProblems({ ...base, successDeadlineMinutes: 60 }, now)).toEqual(tooShort(60, 60, '2026-12-07T01:00:00.000Z'));
    expect(alertProblems({ ...base, successDeadlineMinutes: 61 }, now)).toEqual([]);
  });

  it('a job that waits 7 days or more between runs cannot have one: no deadline is both longer and within what an alarm sees', () => {
    const rare = (gap: number, after: string) => [{
      path: 'successDeadlineMinutes',
      message: `the schedule waits up to ${gap} min between runs (after ${after}), and a CloudWatch alarm looks back at most 10080 min ` +
        '(7 days): a job this rare cannot have a success deadline; remove it (its failure alarm still reports failed runs)',
    }];
    expect(alertProblems({ ...base, schedule: 'cron(0 8 ? * MON *)', successDeadlineMinutes: 10000 }, now)).toEqual(rare(10080, '2026-12-07T08:00:00.000Z'));
    expect(alertProblems({ ...base, schedule: 'cron(0 8 1 * ? *)', successDeadlineMinutes: 10080 }, now)).toEqual(rare(44640, '2027-01-01T08:00:00.000Z'));
    // Weekdays: the longest wait is Friday to Monday, 4320 min, so a deadline fits.
    expect(alertProblems({ ...base, schedule: 'cron(0 8 ? * MON-FRI *)', successDeadlineMinutes: 4321 }, now)).toEqual([]);
  });

  it('a one-time schedule has no deadline to miss; without a deadline it is not searched at all', () => {
    const at = { ...base, schedule: 'at(2030-01-01T00:00:00)' };
    expect(alertProblems({ ...at, successDeadlineMinutes: 60 }, now)).toEqual([{ path: 'successDeadlineMinutes', message: 'a one-time at() schedule has no next run to miss: remove it' }]);
    expect(alertProblems({ ...at, runtimeWarningSeconds: 60 }, now)).toEqual([]);
  });

  it('a schedule that does not parse is left to the schedule check; the other alerts are still checked', () => {
    expect(alertProblems({ ...base, schedule: 'cron(nope)', successDeadlineMinutes: 60, runtimeWarningSeconds: 5000 }, now)).toEqual([{
      path: 'runtimeWarningSeconds',
      message: "5000 s is not below the run's hard limit (timeoutSeconds 600 x 2 attempts = 1200 s): the run would be stopped before the warning; use a smaller value or raise timeoutSeconds",
    }]);
  });

  it('a runtime warning must come before every attempt has timed out: equal is too late', () => {
    expect(alertProblems({ ...base, runtimeWarningSeconds: 1200 }, now)).toEqual([{
      path: 'runtimeWarningSeconds',
      message: "1200 s is not below the run's hard limit (timeoutSeconds 600 x 2 attempts = 1200 s): the run would be stopped before the warning; use a smaller value or raise timeoutSeconds",
    }]);
    expect(alertProblems({ ...base, runtimeWarningSeconds: 1199 }, now)).toEqual([]);
  });

  it('a minimum runtime must be below the timeout, and below the runtime warning; the timeout is said first', () => {
    expect(alertProblems({ ...base, minRuntimeSeconds: 600, runtimeWarningSeconds: 100 }, now)).toEqual([{
      path: 'minRuntimeSeconds', message: '600 s is not below timeoutSeconds (600): every successful run would be reported as too fast',
    }]);
    expect(alertProblems({ ...base, minRuntimeSeconds: 100, runtimeWarningSeconds: 100 }, now)).toEqual([{
      path: 'minRuntimeSeconds', message: '100 s must be below runtimeWarningSeconds (100)',
    }]);
    expect(alertProblems({ ...base, minRuntimeSeconds: 99, runtimeWarningSeconds: 100 }, now)).toEqual([]);
    expect(alertProblems({ ...base, minRuntimeSeconds: 599 }, now)).toEqual([]);
  });

  it('longestGap: stops at the first wait longer than stopAbove, not at one equal to it', () => {
    // Weekdays at 08:00 from Monday: four waits of 24 h, then Friday to Monday, 72 h.
    const weekend = { ms: 72 * 3_600_000, after: new Date('2026-12-11T08:00:00Z') };
    expect(longestGap('cron(0 8 ? * MON-FRI *)', 'UTC', now, 24 * 3_600_000)).toEqual(weekend);
    expect(longestGap('cron(0 8 ? * MON-FRI *)', 'UTC', now)).toEqual(weekend);
    expect(longestGap('rate(90 minutes)', 'Europe/Berlin', now)).toEqual({ ms: 90 * 60_000, after: now });
  });

  it('longestGap walks the whole year however often the job fires: every minute on days 1-27 waits longest after a 31-day month', () => {
    // Dec 27 23:59 to Jan 1 00:00: 4 days and a minute. A walk cut off after 50,000 fire times (~35 days) from
    // Nov 20 saw only Nov 27 to Dec 1 (3 days and a minute) and accepted a deadline the alarm would miss each such month.
    const from = new Date('2026-11-20T00:00:00Z');
    expect(longestGap('cron(* * 1-27 * ? *)', 'UTC', from)).toEqual({ ms: 5761 * 60_000, after: new Date('2026-12-27T23:59:00Z') });
    expect(alertProblems({ ...base, schedule: 'cron(* * 1-27 * ? *)', successDeadlineMinutes: 5000 }, from)).toEqual(tooShort(5000, 5761, '2026-12-27T23:59:00.000Z'));
  });

  it('a daily schedule that names its years is walked day by day, not taken as every day: its longest wait is between the years', () => {
    const from = new Date('2026-12-20T00:00:00Z');
    const yearLong = { ms: 8784 * 3_600_000, after: new Date('2026-12-31T08:00:00Z') };
    expect(longestGap('cron(0 8 * * ? 2026,2028)', 'UTC', from)).toEqual(yearLong);
    expect(longestGap('cron(0 8 * * ? 2021-2026,2028)', 'UTC', from)).toEqual(yearLong);
    // Every year the walk can reach: every day alike, 24 hours.
    expect(longestGap('cron(0 8 * * ? 2026-2031)', 'UTC', from)).toEqual({ ms: 24 * 3_600_000, after: new Date('2026-12-20T08:00:00Z') });
  });

  it('longestGap refuses a zone or a start it cannot search from, as nextFireTimes does', () => {
    expect(() => longestGap('cron(0 8 * * ? *)', 'Mars/Olympus', now)).toThrow(new ScheduleError("timezone: 'Mars/Olympus' is not an IANA time zone such as Europe/Berlin or UTC"));
    expect(() => longestGap('cron(0 8 * * ? *)', 'UTC', new Date('x'))).toThrow(new ScheduleError('from: must be a valid Date'));
  });

  it('deadlineWindow: 5-minute periods up to a day, hours beyond, rounded up', () => {
    expect([1440, 1441, 7, 10080].map(deadlineWindow)).toEqual([
      { periodSeconds: 300, evaluationPeriods: 288 }, { periodSeconds: 3600, evaluationPeriods: 25 },
      { periodSeconds: 300, evaluationPeriods: 2 }, { periodSeconds: 3600, evaluationPeriods: 168 },
    ]);
  });
});

describe('longestGap walks the fire times once', () => {
  // Schedules whose gaps vary with DST, month ends, weekdays and leap years, and ones that fire often enough that the
  // 50,000-time cap or the batch boundary past the horizon decides where the search stops.
  const schedules = ['cron(30 2 * * ? *)', 'cron(0 * * * ? *)', 'cron(0/7 * * * ? *)', 'cron(15 1,13 ? * MON-FRI *)', 'cron(0 3 L * ? *)',
    'cron(0 0 29 2 ? *)', 'cron(0 12 ? * 6#3 *)', 'cron(30 1 15W * ? *)', 'cron(0 9 1 1 ? 2027-2028)', 'cron(* 0-2 ? * SUN *)', 'rate(1 hour)', 'rate(90 minutes)',
    // The same times every day (in UTC longestGap walks two days of them), and ones that only look so: a year range
    // that ends within the walk, every month but one.
    'cron(5 0,6,7 * * ? *)', 'cron(0/45 22 * * ? *)', 'cron(0 12 * * ? 2026-2028)', 'cron(0 12 * 1-11 ? *)', 'cron(0 12 1-30 * ? *)', 'cron(0 * ? * * *)', 'rate(5 minutes)'];
  const zones = ['UTC', 'Europe/Berlin', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const starts = ['2026-03-28T23:59:00Z', '2026-10-24T12:00:00Z', '2027-12-31T23:30:00Z'];

  it('finds the same longest wait, and after the same time, as the search in batches of 1,000 it replaced', () => {
    for (const schedule of schedules) {
      for (const zone of zones) {
        for (const start of starts) {
          for (const stopAbove of [Number.POSITIVE_INFINITY, 36 * 3_600_000]) {
            const from = new Date(start);
            const expected = longestGapByBatches(schedule, zone, from, stopAbove);
            const got = longestGap(schedule, zone, from, stopAbove);
            expect([schedule, zone, start, stopAbove, got?.ms, got?.after.toISOString()])
              .toEqual([schedule, zone, start, stopAbove, expected?.ms, expected?.after.toISOString()]);
          }
        }
      }
    }
  }, 120_000);
});

describe('template', () => {
  const params = toStageParams('dev', { subnets: 'subnet-1', securityGroups: 'sg-1' });

  it('the deadline alarm breaches on missing data, over a window CloudWatch accepts', () => {
    const day = deadlineWindow(1440);
    const week = deadlineWindow(10080);
    expect(day).toEqual({ periodSeconds: 300, evaluationPeriods: 288 });
    expect(week).toEqual({ periodSeconds: 3600, evaluationPeriods: 168 });
    expect(deadlineWindow(61)).toEqual({ periodSeconds: 300, evaluationPeriods: 13 });

    const cfn = resources([job('successDeadlineMinutes: 90')], params) as Record<string, { Properties: Record<string, unknown> }>;
    expect(cfn.WatchedDeadlineAlarm!.Properties).toMatchObject({
      MetricName: 'ExecutionsSucceeded', Statistic: 'Sum', Period: 300, EvaluationPeriods: 18, DatapointsToAlarm: 18,
      ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching', ActionsEnabled: true,
    });
    const disabled = resources([{ ...job('successDeadlineMinutes: 90'), enabled: false }], params) as typeof cfn;
    expect(disabled.WatchedDeadlineAlarm!.Properties.ActionsEnabled).toBe(false);
    expect(resources([job('')], params)).not.toHaveProperty('WatchedDeadlineAlarm');
  });

  it('the runtime warning\'s schedule may only call the notify function back; notify may only create schedules in its group', () => {
    const cfn = resources([job('runtimeWarningSeconds: 30')], params) as Record<string, { Properties: Record<string, any> }>;
    const statements = (id: string) => cfn[id]!.Properties.Policies[0].PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements('WarningSchedulerRole')).toEqual([{
      Effect: 'Allow', Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:stepcron-dev-notify' },
    }]);
    expect(cfn.WarningSchedulerRole!.Properties).toMatchObject({ Path: '/stepcron/dev/scheduler/', RoleName: 'stepcron-dev-warnings' });
    const notifyRole = statements('NotifyRole');
    expect(notifyRole.find((s) => s.Action === 'scheduler:CreateSchedule')!.Resource)
      .toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/stepcron-dev-warnings/*' });
    expect(notifyRole.find((s) => s.Action === 'iam:PassRole')).toMatchObject({
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/stepcron/dev/scheduler/*' },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(cfn.WarningScheduleGroup).toEqual({ Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'stepcron-dev-warnings' } });
  });

  it('only jobs with the fields get the extra states', () => {
    const plain = compile(job(''), localInfra(job(''), 'dev'));
    expect(plain.States).not.toHaveProperty('ArmRuntimeWarning');
    expect(plain.States).not.toHaveProperty('NotifySuccess');
    const watched = job('runtimeWarningSeconds: 30\nminRuntimeSeconds: 5');
    const definition = compile(watched, localInfra(watched, 'dev'));
    expect(definition.States.ShouldRun).toMatchObject({ Choices: [{ Next: 'ArmRuntimeWarning' }] });
    expect(definition.States.ArmRuntimeWarning).toMatchObject({ Next: 'RunTask', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RunTask' }] });
    expect(definition.States.NotifySuccess).toMatchObject({ Parameters: { Payload: { onSuccess: false, minRuntimeSeconds: 5 } } });
  });
});

describe('the notify function', () => {
  const event = {
    kind: 'armRuntimeWarning' as const, job: 'watched', stage: 'dev', logGroup: '/stepcron/dev/watched', runtimeWarningSeconds: 900,
    execution: 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-watched:20261125T100000Z-ab12',
    startTime: '2026-11-25T10:00:00.000Z',
  };
  const scheduler = mockClient(SchedulerClient);
  const sfn = mockClient(SFNClient);
  const self = 'arn:aws:lambda:eu-west-1:123456789012:function:stepcron-dev-notify';
  beforeEach(() => {
    scheduler.reset();
    sfn.reset();
    process.env.WARNING_SCHEDULE_GROUP = 'stepcron-dev-warnings';
    process.env.WARNING_SCHEDULER_ROLE = 'stepcron/dev/scheduler/stepcron-dev-warnings';
  });

  it('arms a one-time schedule at start + runtimeWarningSeconds that calls it back with the check', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/stepcron-dev-warnings/x' });
    const aws = awsWarnings(new SchedulerClient({}), new SFNClient({}), () => self);
    const result = await runtimeWarning(event, { ...aws, print: () => undefined });
    expect(result).toEqual({ due: '2026-11-25T10:15:00.000Z' });
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Name: warningScheduleName(event.execution), GroupName: 'stepcron-dev-warnings',
      ScheduleExpression: 'at(2026-11-25T10:15:00)', ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE',
      Target: { Arn: self, RoleArn: 'arn:aws:iam::123456789012:role/stepcron/dev/scheduler/stepcron-dev-warnings' },
    });
    expect(input.Name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    expect(JSON.parse(input.Target!.Input!)).toEqual({ ...event, kind: 'runtimeWarning' });
  });

  it('warns only while the execution is still RUNNING', async () => {
    const printed: string[] = [];
    const aws = awsWarnings(new SchedulerClient({}), new SFNClient({}), () => self);
    const check = { ...event, kind: 'runtimeWarning' as const };
    const now = () => new Date('2026-11-25T10:15:30Z');
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' }).resolvesOnce({ status: 'SUCCEEDED' });
    const running = await runtimeWarning(check, { ...aws, now, print: (t) => printed.push(t) });
    const ended = await runtimeWarning(check, { ...aws, now, print: (t) => printed.push(t) });
    expect(running).toMatchObject({ warned: true, notification: { subject: '[stepcron dev] watched still running after 15m 30s', delivered: ['stdout'] } });
    expect(ended).toEqual({ warned: false });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('Running for: 15m 30s (runtimeWarningSeconds: 900); the run is not stopped');
  });

  it('reports a success only when it was faster than minRuntimeSeconds, unless the job notifies every success', async () => {
    const success = {
      job: 'watched', stage: 'dev', status: 'SUCCEEDED' as const, execution: event.execution, startTime: event.startTime,
      logGroup: event.logGroup, task: { taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/c/1' }, attempts: 1,
      onSuccess: false, minRuntimeSeconds: 60,
    };
    const printed: string[] = [];
    const deps = (at: string) => ({ now: () => new Date(at), print: (t: string) => printed.push(t) });
    const fast = await notify(success, deps('2026-11-25T10:00:05Z'));
    const normal = await notify(success, deps('2026-11-25T10:05:00Z'));
    const always = await notify({ ...success, onSuccess: true }, deps('2026-11-25T10:05:00Z'));
    expect(fast.delivered).toEqual(['stdout']);
    expect(fast.subject).toBe('[stepcron dev] watched SUCCEEDED, suspiciously fast');
    expect(fast.message).toContain('Warning: succeeded in less than minRuntimeSeconds (60 s): did it do its work?');
    expect(normal.delivered).toEqual([]);
    expect(always.delivered).toEqual(['stdout']);
    expect(printed).toHaveLength(2);
  });
});

describe('local runs', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-alerts-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (j: ReturnType<typeof job>) => {
    const lines: string[] = [];
    const summary = await runLocal({
      job: j, stage: 'dev', input: {}, backend: processBackend(), history: Store.open(join(dir, '.stepcron')),
      err: (t) => lines.push(t), out: (t) => lines.push(t),
    });
    return { summary, text: lines.join('') };
  };

  it('a run past its runtime budget prints the warning and goes on to succeed; a quicker run does not', async () => {
    const slow = await run(job('runtimeWarningSeconds: 1', 'sleep 2'));
    expect(slow.summary.status).toBe('SUCCEEDED');
    expect(slow.text).toMatch(/⚠ \[stepcron dev\] watched still running after [12]s/);
    expect(slow.summary.notifications).toEqual([expect.objectContaining({ status: 'RUNNING', delivered: ['stdout'] })]);

    const quick = await run(job('runtimeWarningSeconds: 5', 'exit 0'));
    expect(quick.summary.status).toBe('SUCCEEDED');
    expect(quick.text).not.toContain('still running');
    expect(quick.summary.notifications).toEqual([]);
  });

  it('a success faster than minRuntimeSeconds is notified; a long enough one is not', async () => {
    const fast = await run(job('minRuntimeSeconds: 30', 'exit 0'));
    expect(fast.summary.notifications).toEqual([{ status: 'SUCCEEDED', subject: '[stepcron dev] watched SUCCEEDED, suspiciously fast', delivered: ['stdout'] }]);
    const enough = await run(job('minRuntimeSeconds: 1', 'sleep 1.2'));
    expect(enough.summary).toMatchObject({ status: 'SUCCEEDED', notifications: [] });
  });

  it('`stepcron schedule` reports a job whose last success is older than its deadline', async () => {
    const history = Store.open(join(dir, '.stepcron'));
    const watched = job('successDeadlineMinutes: 90');
    const first = await runLocal({ job: watched, stage: 'dev', input: {}, backend: processBackend(), history, err: () => undefined, out: () => undefined });
    expect(first.status).toBe('SUCCEEDED');
    // Two hours later by the scheduler's clock: the last success is past the 90-minute deadline.
    const later = () => new Date(Date.now() + 2 * 3_600_000);
    const out: string[] = [];
    const code = await localScheduler({ jobs: [watched], stage: 'dev', history, backend: processBackend(), forMs: 300, out: (t) => out.push(t), now: later });
    expect(code).toBe(0);
    // The last success on the job's clock (UTC here), labelled, and how long before the scheduler's now.
    expect(out.join('')).toMatch(/watched: MISSED DEADLINE: no run has succeeded since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(2 h ago\) \(successDeadlineMinutes 90\); on AWS the alarm stepcron-dev-watched-no-success goes off/);

    const fresh: string[] = [];
    await localScheduler({ jobs: [watched], stage: 'dev', history, backend: processBackend(), forMs: 300, out: (t) => fresh.push(t) });
    expect(fresh.join('')).not.toContain('MISSED');
  });
});
