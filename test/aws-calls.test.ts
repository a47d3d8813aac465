// AWS calls that AWS would refuse or drop (issue 13): checked on the compiled definitions and the stage template for
// every job shape, where no local run would notice.
import { ReconcileEventSchema } from '../handlers/lib/contracts';
import { parseOrThrow } from '../handlers/lib/errors';
import { BUFFER_PLACE_MARGIN_MS } from '../handlers/lib/precheck';
import { type Job, parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { BUFFER_RECONCILE_MINUTES, deployInfra, stageTemplate, toStageParams } from '../workflows/resources';
import { loadEvent } from './events';
import { shapesCatalog } from './support/shapes-catalog';

interface Resource { Type: string; Properties: Record<string, unknown> }
interface Statement { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown }

const jobs = parseCatalog(shapesCatalog('plain text'), { stage: 'prod' });
const params = toStageParams('prod', { subnets: 'subnet-0123456789abcdef0', securityGroups: 'sg-0123456789abcdef0' });

type State = Record<string, unknown>;
/** Every state of a definition, Map item processors included. */
function* statesOf(states: Record<string, State>): Generator<[string, State]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    if (processor) yield* statesOf(processor.States);
  }
}

describe('ECS ListTasks: startedBy is its only filter', () => {
  // ECS API reference, ListTasks startedBy: "When you specify startedBy as the filter, it must be the only filter that
  // you use" (InvalidParameterException otherwise): with DesiredStatus, a timed-out task would never be stopped.
  const FILTERS = ['ContainerInstance', 'Family', 'ServiceName', 'DesiredStatus', 'LaunchType'];

  it.each(jobs.map((j) => [j.name, j] as const))('%s: every ListTasks state filters by StartedBy alone', (_name, job) => {
    // Act
    const definition = compile(job, deployInfra(job, params)) as { States: Record<string, State> };
    const calls = [...statesOf(definition.States)].filter(([, s]) => s.Resource === 'arn:aws:states:::aws-sdk:ecs:listTasks');
    // Assess
    expect(calls.length).toBeGreaterThan(0);
    for (const [, state] of calls) {
      const parameters = Object.keys(state.Parameters as object).map((k) => k.replace(/\.\$$/, ''));
      expect(parameters).toContain('StartedBy');
      expect(parameters.filter((p) => FILTERS.includes(p))).toEqual([]);
    }
  });
});

describe('concurrency buffer: a lost status event does not strand a waiting run', () => {
  const template = (only?: (job: Job) => boolean) => stageTemplate(only ? jobs.filter(only) : jobs, params).Resources as unknown as Record<string, Resource>;
  const t = template();
  const policyOf = (role: string) => (t[role]!.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>)[0]!.PolicyDocument.Statement;

  it('retries the rule\'s event for an hour, then keeps it in a dead-letter queue that only this rule may write, with an alarm', () => {
    // Assess
    const target = (t.BufferedRunsRule!.Properties.Targets as Array<Record<string, unknown>>)[0]!;
    expect(target).toMatchObject({
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['BufferedRunsDeadLetterQueue', 'Arn'] } },
    });
    expect(t.BufferedRunsDeadLetterQueuePolicy!.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['BufferedRunsDeadLetterQueue', 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['BufferedRunsRule', 'Arn'] } } },
      }],
    });
    expect(t.BufferedRunsDeadLetterAlarm!.Properties).toMatchObject({
      AlarmName: 'stepcron-prod-lost-buffered-runs', Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: 'NotificationTopic' }],
    });
    // The function's own failures on those asynchronous calls (after Lambda's retries) go to the same queue.
    expect(t.PrecheckAsyncFailures!.Properties).toEqual({
      FunctionName: { Ref: 'PrecheckLambdaFunction' }, Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['BufferedRunsDeadLetterQueue', 'Arn'] } } },
    });
    expect(policyOf('PrecheckRole')).toContainEqual({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['BufferedRunsDeadLetterQueue', 'Arn'] } });
  });

  it(`reconciles every ${BUFFER_RECONCILE_MINUTES} minutes: a schedule invokes the precheck function with the buffer jobs' state machines`, () => {
    // Assess
    const schedule = t.BufferedRunsReconcile!.Properties as Record<string, any>;
    expect(schedule).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(schedule.Target.Arn).toEqual({ 'Fn::GetAtt': ['PrecheckLambdaFunction', 'Arn'] });
    const input = JSON.parse(schedule.Target.Input['Fn::Sub'].replace(/\$\{AWS::Partition\}/g, 'aws').replace(/\$\{AWS::Region\}/g, 'eu-west-1')
      .replace(/\$\{AWS::AccountId\}/g, '123456789012'));
    expect(parseOrThrow(ReconcileEventSchema, input, 'event')).toEqual({
      reconcile: 'buffered-runs', stateMachines: ['arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-prod-buffered'],
    });
    // The sample event has the same shape (sls invoke local -f precheck --path events/reconcile-buffered-runs.json).
    expect(() => parseOrThrow(ReconcileEventSchema, loadEvent('reconcile-buffered-runs'), 'event')).not.toThrow();
    // A place outlives the run ahead's deadline by at least two reconciles, so one that timed out is still found.
    expect(BUFFER_PLACE_MARGIN_MS).toBeGreaterThanOrEqual(2 * BUFFER_RECONCILE_MINUTES * 60_000);
  });

  it('runs the reconcile with a role that may invoke the precheck function and nothing else (no *)', () => {
    // Assess
    expect(t.BufferedRunsReconcile!.Properties.Target).toMatchObject({ RoleArn: { 'Fn::GetAtt': ['BufferedRunsReconcileRole', 'Arn'] } });
    expect((t.BufferedRunsReconcileRole!.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement)
      .toEqual([{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    expect(policyOf('BufferedRunsReconcileRole')).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['PrecheckLambdaFunction', 'Arn'] } },
    ]);
    expect(t.BufferedRunsReconcileRole!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('splits a long list of buffer jobs over several schedules, each input under 8 KB; nothing without buffer jobs', () => {
    // Prepare: 90 buffer jobs with the longest names
    const many = parseCatalog(`jobs:\n${Array.from({ length: 90 }, (_, i) => `  ${`job-${i}-`.padEnd(60, 'x')}:\n    description: d\n    schedule: rate(1 hour)\n    image: busybox\n    command: ['true']\n    concurrency: buffer\n`).join('')}`, { stage: 'prod' });
    // Act
    const resources = stageTemplate(many, params).Resources as unknown as Record<string, Resource>;
    const schedules = Object.entries(resources).filter(([id]) => id.startsWith('BufferedRunsReconcile') && !id.endsWith('Role'));
    // Assess
    expect(schedules.map(([id]) => id)).toEqual(['BufferedRunsReconcile', 'BufferedRunsReconcile2', 'BufferedRunsReconcile3']);
    const inputs = schedules.map(([, r]) => (r.Properties.Target as { Input: { 'Fn::Sub': string } }).Input['Fn::Sub']);
    expect(inputs.flatMap((i) => JSON.parse(i).stateMachines)).toHaveLength(90);
    for (const input of inputs) expect(input.replace(/\$\{AWS::[A-Za-z]+\}/g, 'x'.repeat(14)).length).toBeLessThan(8192);
    expect(Object.keys(template((j) => j.concurrency !== 'buffer')).filter((id) => id.startsWith('BufferedRuns') || id === 'PrecheckAsyncFailures')).toEqual([]);
  });
});

describe('concurrency replace: the designed stop of the older run pages no one', () => {
  const t = stageTemplate(jobs, params).Resources as unknown as Record<string, Resource>;
  interface Query { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string } } }

  /** Whether the job's alarm fires for a 5-minute period with these Step Functions metrics (as CloudWatch would). */
  function pages(job: string, datapoints: Record<string, number>): boolean {
    const alarm = t[`${job}Alarm`]!.Properties as { Metrics: Query[]; Threshold: number; ComparisonOperator: string; AlarmActions: unknown[] };
    const values = new Map(alarm.Metrics.filter((m) => m.MetricStat).map((m) => [m.Id, datapoints[m.MetricStat!.Metric.MetricName] ?? 0]));
    const expression = alarm.Metrics.find((m) => m.Expression)!.Expression!;
    const [, ids] = /^SUM\(\[(.+)\]\)$/.exec(expression)!;
    const value = ids!.split(',').map((id) => values.get(id.trim())!).reduce((a, b) => a + b, 0);
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: 'NotificationTopic' }] });
    return value >= alarm.Threshold;
  }

  it('a replace job: a stopped (ABORTED) run pages no one; a failed or timed-out run still does', () => {
    expect(pages('Replaced', { ExecutionsAborted: 3 })).toBe(false);
    expect(pages('Replaced', { ExecutionsFailed: 1 })).toBe(true);
    expect(pages('Replaced', { ExecutionsTimedOut: 1, ExecutionsAborted: 1 })).toBe(true);
  });

  it('any other job: an aborted run still pages (nothing designed stops it)', () => {
    for (const job of ['Single', 'Buffered', 'InlineFanout']) {
      expect(pages(job, { ExecutionsAborted: 1 })).toBe(true);
      expect(pages(job, { ExecutionsFailed: 1 })).toBe(true);
    }
  });
});
