// Every call stepcron makes to AWS holds up against the AWS API model (test/support/api-model.ts): the service
// integrations of the deployed definitions (sample catalog and every job shape), statically and with each Task's
// Parameters evaluated on its real input in a local run; the SDK calls of handlers and CLI are checked where the tests
// send them (test/support/api-model-setup.ts). And the checker itself catches what AWS refuses.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { memoryClaims, precheck } from '../handlers/lib/precheck';
import { LOCAL_DISTRIBUTED_MAP } from '../cli/distributed';
import { stepFunctions } from '../cli/engine';
import { parseCatalog } from '../workflows/catalog';
import { stateMachines, toStageParams } from '../workflows/resources';
import {
  checkCall, checkDefinition, model, operationOfResource, RULES, serviceCalls, sourceCommands, uncheckedCommands,
} from './support/api-model';
import { shapesCatalog } from './support/shapes-catalog';
import { ecsTask, hangingTask, jobFrom, runJob } from './support/workflow';

const root = join(__dirname, '..');
const PARAMS = toStageParams('prod', { subnets: 'subnet-0a1b2c3d4e5f60001', securityGroups: 'sg-0a1b2c3d4e5f60001' });
const catalogs = {
  'the sample catalog': () => parseCatalog(readFileSync(join(root, 'workflows/jobs.yml'), 'utf8'), { stage: 'prod' }),
  'every job shape': () => parseCatalog(shapesCatalog(), { stage: 'prod' }),
};
type Definition = { States: Record<string, Record<string, unknown>> };
const deployed = (jobs: ReturnType<typeof parseCatalog>) =>
  (Object.values(stateMachines(jobs, PARAMS)) as Array<{ name: string; definition: Definition }>);

// Each Task state's Parameters as the engine resolved them, recorded by wrapping the engine's StateMachine (the
// library as cli/engine.ts loads it) around its Task handlers.
const evaluated: Array<{ resource: string; state: string; input: unknown }> = [];
const Actual = stepFunctions.StateMachine;
const resourcesOf = (states: Record<string, Record<string, unknown>>, out = new Map<string, string>()) => {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') out.set(name, String(state.Resource));
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, Record<string, unknown>> } | undefined;
    if (processor) resourcesOf(processor.States, out);
  }
  return out;
};
class RecordingStateMachine extends Actual {
  private readonly resources: Map<string, string>;
  constructor(...args: ConstructorParameters<typeof Actual>) {
    super(...args);
    this.resources = resourcesOf((args[0] as unknown as Definition).States);
  }
  override run(...args: Parameters<InstanceType<typeof Actual>['run']>) {
    const handlers = (args[1]?.overrides?.taskResourceLocalHandlers ?? {}) as Record<string, (i: unknown) => unknown>;
    for (const [state, handler] of Object.entries(handlers)) {
      handlers[state] = (taskInput: unknown) => {
        evaluated.push({ resource: this.resources.get(state) ?? '(unknown)', state, input: structuredClone(taskInput) });
        return handler(taskInput);
      };
    }
    return super.run(...args);
  }
}
beforeAll(() => { stepFunctions.StateMachine = RecordingStateMachine; });
afterAll(() => { stepFunctions.StateMachine = Actual; });

describe('the deployed definitions hold up against the AWS API model', () => {
  for (const [name, jobs] of Object.entries(catalogs)) {
    it(`every Task state, ItemReader and ResultWriter of ${name}: members, required members, static values, .$ members`, () => {
      // Act
      const machines = deployed(jobs());
      const problems = machines.flatMap((m) => checkDefinition(m.definition).map((p) => `${m.name} ${p}`));
      // Assess: none, and the check did look at every kind of call the definitions make
      expect(problems).toEqual([]);
      const operations = new Set(machines.flatMap((m) => [...serviceCalls(m.definition.States)].map((c) => operationOfResource(c.resource))));
      expect([...operations].sort()).toEqual(expect.arrayContaining(['ecs:ListTasks', 'ecs:RunTask', 'ecs:StopTask', 'lambda:Invoke']));
      if (name === 'every job shape') {
        expect([...operations].sort()).toEqual(['ecs:ListTasks', 'ecs:RunTask', 'ecs:StopTask', 'lambda:Invoke', 's3:GetObject',
          's3:PutObject', 'sfn:DescribeMapRun', 'sfn:ListMapRuns']);
      }
    });
  }

  it('FindTimedOutTasks as it was (StartedBy with DesiredStatus) fails the check: ECS refuses startedBy with another filter', () => {
    // Prepare: the state before the fix
    const [machine] = deployed(catalogs['every job shape']());
    const definition = structuredClone(machine!.definition);
    (definition.States.FindTimedOutTasks!.Parameters as Record<string, unknown>).DesiredStatus = 'RUNNING';
    // Act + Assess
    expect(checkDefinition(definition)).toEqual([expect.stringMatching(/^FindTimedOutTasks: ecs:ListTasks: startedBy is used with desiredStatus: it must be the only filter/)]);
  });

  it('an integration the model does not know fails, it is never skipped', () => {
    const definition = { States: { Odd: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:x', End: true },
      Sqs: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', Parameters: { QueueUrl: 'q', MessageBody: 'm' }, End: true } } };
    expect(checkDefinition(definition)).toEqual([
      expect.stringMatching(/^Odd: Resource .* is no service integration the API model knows/),
      expect.stringMatching(/^Sqs: sqs:SendMessage: not in the API model/),
    ]);
  });

  it('every Task state evaluated on its real input (local runs of every job shape: success, failure, timeout, S3 items)', async () => {
    // Prepare: the items the S3 fan-outs read, and the real precheck (it makes the runId ECS gets as StartedBy)
    const s3Dir = mkdtempSync(join(tmpdir(), 'stepcron-api-model-'));
    mkdirSync(join(s3Dir, 'shapes-items'));
    writeFileSync(join(s3Dir, 'shapes-items/list.json'), JSON.stringify([{ id: 'a "quoted" ${x}' }, 'b']));
    writeFileSync(join(s3Dir, 'shapes-items/list.jsonl'), '{"id":"a"}\n{"id":"b"}\n');
    writeFileSync(join(s3Dir, 'shapes-items/list.csv'), 'id,region\nt1,eu\n');
    const realPrecheck = (e: Parameters<typeof precheck>[0]) =>
      precheck(e, { executions: { listRunning: async () => [], stop: async () => undefined }, claims: memoryClaims() });
    evaluated.length = 0;
    try {
      // Act: every shape succeeds once; one fails with its retries spent; one times out and is stopped
      for (const job of parseCatalog(shapesCatalog(), { stage: 'test' })) {
        const input = job.name === 'input-fanout' ? { tenants: ['x', { y: 'z' }] } : {};
        await runJob(job, { precheck: realPrecheck }, input, { s3Dir });
      }
      await runJob(jobFrom(shapesCatalog(), 'single'), { precheck: realPrecheck, runTask: () => ecsTask(1) });
      await runJob(jobFrom('jobs:\n  slow:\n    description: times out\n    schedule: rate(1 hour)\n    image: a:1\n    command: [x]\n    timeoutSeconds: 1\n    retries: 0\n'),
        { precheck: realPrecheck, runTask: hangingTask });
    } finally {
      rmSync(s3Dir, { recursive: true, force: true });
    }
    // Assess: every evaluated call holds up, and every kind of Task state was evaluated
    const calls = evaluated.filter((c) => c.resource !== LOCAL_DISTRIBUTED_MAP);
    // The local runner's ARNs name the region `local` and account 000000000000, where a deploy has real ones.
    const deployedArns = (input: unknown) => JSON.parse(JSON.stringify(input).replaceAll(':local:000000000000:', ':eu-west-1:123456789012:'));
    const problems = calls.flatMap((c) => {
      const operation = operationOfResource(c.resource);
      return operation
        ? checkCall(operation, deployedArns(c.input), 'states').map((p) => `${c.state}: ${p}`)
        : [`${c.state}: unknown Task resource ${c.resource}`];
    });
    expect(problems).toEqual([]);
    expect([...new Set(calls.map((c) => operationOfResource(c.resource)))].sort())
      .toEqual(['ecs:ListTasks', 'ecs:RunTask', 'ecs:StopTask', 'lambda:Invoke', 'sfn:DescribeMapRun', 'sfn:ListMapRuns']);
  });
});

describe('the checker refuses what AWS refuses', () => {
  it.each([
    ['a missing required member', 'ecs:StopTask', { cluster: 'c' }, /task: required by StopTaskRequest, missing/],
    ['a member the operation does not have', 'ecs:StopTask', { task: 't', force: true }, /force: not a member of StopTaskRequest/],
    ['a value outside an enum', 'sfn:ListExecutions', { stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', statusFilter: 'DONE' }, /"DONE" is not one of ExecutionStatus/],
    ['a string too long', 'sfn:StartExecution', { stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', name: 'n'.repeat(81) }, /81 characters, Name allows at most 80/],
    ['a number out of range', 'sfn:GetExecutionHistory', { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:x:y', maxResults: 1001 }, /1001 is above PageSize's maximum 1000/],
    ['a value of the wrong type', 'ecs:RunTask', { taskDefinition: 't', count: '1' }, /count: must be a whole number/],
    ['a pattern', 'scheduler:GetSchedule', { Name: 'has space' }, /does not match Name's pattern/],
    ['a pattern, matched against the whole value as AWS does', 'dynamodb:GetItem', { TableName: 'claims table', Key: { pk: { S: 'k' } } }, /"claims table" does not match TableName's pattern/],
    ['a list too short', 'dynamodb:GetItem', { TableName: 'tbl', Key: { pk: { S: 'k' } }, AttributesToGet: [] }, /AttributesToGet: 0 items, AttributeNameList needs at least 1/],
  ])('%s', (_what, operation, input, problem) => {
    const problems = checkCall(operation, input, 'sdk');
    expect(problems).toEqual([expect.stringMatching(problem)]);
  });

  // One input per prose rule that breaks it, and the same input with the rule kept holds up: each rule can fail.
  const broken: Record<string, [unknown, unknown]> = {
    'ecs:ListTasks startedBy': [{ startedBy: 'r', desiredStatus: 'RUNNING' }, { startedBy: 'r' }],
    'ecs:RunTask capacityProviderStrategy': [{ taskDefinition: 't', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }], launchType: 'FARGATE' }, { taskDefinition: 't', launchType: 'FARGATE' }],
    'ecs:RunTask startedBy': [{ taskDefinition: 't', startedBy: 'run.1' }, { taskDefinition: 't', startedBy: 'run-1/item_2' }],
    'ecs:RunTask overrides': [{ taskDefinition: 't', overrides: { containerOverrides: [{ name: 'job', command: ['x'.repeat(8200)] }] } }, { taskDefinition: 't', overrides: { containerOverrides: [{ name: 'job', command: ['x'.repeat(8100)] }] } }],
    'ecs:RunTask propagateTags': [{ taskDefinition: 't', propagateTags: 'SERVICE' }, { taskDefinition: 't', propagateTags: 'TASK_DEFINITION' }],
    'ecs:RunTask count': [{ taskDefinition: 't', count: 11 }, { taskDefinition: 't', count: 10 }],
    'ecs:StopTask reason': [{ task: 't', reason: 'r'.repeat(256) }, { task: 't', reason: 'r'.repeat(255) }],
    'ecs:DescribeTasks tasks': [{ tasks: Array(101).fill('t') }, { tasks: Array(100).fill('t') }],
    'sfn:ListExecutions mapRunArn': [{ stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', mapRunArn: 'arn:aws:states:eu-west-1:123456789012:mapRun:x/m:1' }, { mapRunArn: 'arn:aws:states:eu-west-1:123456789012:mapRun:x/m:1' }],
    'sfn:StartExecution name': [{ stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', name: 'a:b' }, { stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', name: 'a-b_c.d' }],
    'cloudwatchlogs:GetLogEvents logGroupIdentifier': [{ logGroupName: 'g', logGroupIdentifier: 'g', logStreamName: 's' }, { logGroupName: 'g', logStreamName: 's' }],
    'sns:Publish Subject': [{ Message: 'm', Subject: 'line\nbreak' }, { Message: 'm', Subject: '[stepcron prod] job failed' }],
    'sns:Publish Message': [{ Message: '\u00e9'.repeat(131_073) }, { Message: '\u00e9'.repeat(131_072) }],
    'dynamodb:PutItem placeholders': [{ TableName: 'tbl', Item: { pk: { S: 'k' } }, ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: { ':now': { N: '1' } } }, { TableName: 'tbl', Item: { pk: { S: 'k' } }, ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now', ExpressionAttributeValues: { ':now': { N: '1' } } }],
    'dynamodb:DeleteItem placeholders': [{ TableName: 'tbl', Key: { pk: { S: 'k' } }, ConditionExpression: '#o = :me' }, { TableName: 'tbl', Key: { pk: { S: 'k' } }, ConditionExpression: '#o = :me', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':me': { S: 'x' } } }],
    'dynamodb:GetItem placeholders': [{ TableName: 'tbl', Key: { pk: { S: 'k' } }, ExpressionAttributeNames: { '#o': 'owner' } }, { TableName: 'tbl', Key: { pk: { S: 'k' } }, ProjectionExpression: '#o', ExpressionAttributeNames: { '#o': 'owner' } }],
    'scheduler:CreateSchedule Target.Input': [schedule('{"a":'), schedule('{"a":1}')],
    'scheduler:UpdateSchedule Target.Input': [schedule('not json'), schedule('"text"')],
  };
  function schedule(input: string) {
    return { Name: 's', ScheduleExpression: 'at(2026-01-01T00:00:00)', FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:x', RoleArn: 'arn:aws:iam::123456789012:role/stepcron/prod/scheduler/r', Input: input } };
  }
  it('has an example that breaks each prose rule, and one that keeps it', () => {
    const operations = Object.keys(broken).map((k) => k.split(' ')[0]!);
    expect(operations.sort()).toEqual(RULES.map((r) => r.operation).sort());
    for (const [key, [bad, good]] of Object.entries(broken)) {
      const operation = key.split(' ')[0]!;
      expect([key, checkCall(operation, good, 'sdk')]).toEqual([key, []]);
      const problems = checkCall(operation, bad, 'sdk');
      expect([key, problems.length]).toEqual([key, 1]);
      expect([key, RULES.some((r) => problems[0]!.endsWith(`(${r.source})`))]).toEqual([key, true]);
    }
  });

  it('Step Functions spelling: PascalCase members, `.$` paths of members that exist, intrinsic results of the right type', () => {
    const ok = { Cluster: { 'Fn::Sub': 'arn:aws:ecs:${AWS::Region}:${AWS::AccountId}:cluster/c' }, 'Task.$': '$', Reason: 'r' };
    expect(checkCall('ecs:StopTask', ok, 'states')).toEqual([]);
    expect(checkCall('ecs:StopTask', { 'Tasks.$': '$' }, 'states')).toEqual([
      expect.stringMatching(/Tasks: not a member of StopTaskRequest/), expect.stringMatching(/Task: required by StopTaskRequest, missing/)]);
    expect(checkCall('ecs:StopTask', { task: 't' }, 'states')).toEqual([
      expect.stringMatching(/task: not a member/), expect.stringMatching(/Task: required/)]);
    expect(checkCall('ecs:RunTask', { TaskDefinition: 't', 'Count.$': "States.Format('{}', $.n)" }, 'states'))
      .toEqual([expect.stringMatching(/Count: States.Format\('\{\}', \$.n\) yields a string, but BoxedInteger is a integer/)]);
    expect(checkCall('lambda:Invoke', { FunctionName: 'f', Payload: { any: ['json'] } }, 'states')).toEqual([]);
  });

  it("a ResultSelector path must name a member of the call's result (runTask.sync: the ECS Task), else States.Runtime at run time", () => {
    const task = (Resource: string, Parameters: object, ResultSelector: object) => ({ States: { T: { Type: 'Task', Resource, Parameters, ResultSelector, End: true } } });
    expect(checkDefinition(task('arn:aws:states:::aws-sdk:ecs:listTasks', { 'StartedBy.$': '$.r' }, { 'arns.$': '$.TaskArn' })))
      .toEqual([expect.stringMatching(/^T: ResultSelector arns.\$: \$.TaskArn: TaskArn is not in ListTasksResponse \(TaskArns, NextToken\)/)]);
    expect(checkDefinition(task('arn:aws:states:::ecs:runTask.sync', { TaskDefinition: 't' }, { 'code.$': '$.Containers[0].ExitCodes', 'ok.$': '$.Containers[0].ExitCode' })))
      .toEqual([expect.stringMatching(/^T: ResultSelector code.\$: .*ExitCodes is not in Container/)]);
    expect(checkDefinition(task('arn:aws:states:::lambda:invoke', { FunctionName: 'f' }, { 'any.$': '$.Payload.whatever[3].it.returns' }))).toEqual([]);
  });

  it('ResultWriter takes Bucket and Prefix only', () => {
    const definition = { States: { M: { Type: 'Map', ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'b', Key: 'k' } } } } };
    expect(checkDefinition(definition)).toEqual([expect.stringMatching(/^M.ResultWriter: Key: not a member of ResultWriter/)]);
  });
});

describe('no SDK call escapes the check', () => {
  it("the mocks' recorded commands are checked after each test (api-model-setup.ts)", async () => {
    // Prepare
    const ecs = mockClient(ECSClient);
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    // Act: the call AWS refuses, sent to the mock
    await new ECSClient({ region: 'eu-west-1' }).send(new ListTasksCommand({ startedBy: 'r', desiredStatus: 'RUNNING' }));
    // Assess: the setup's check (run here, not after the test, so this test can see it fail) names it
    const registry = (globalThis as Record<symbol, { check(): void; operations: Set<string> }>)[Symbol.for('stepcron.apiModelCalls')]!;
    expect(() => registry.check()).toThrow(/ecs:ListTasks: startedBy is used with desiredStatus: it must be the only filter/);
    ecs.restore();
    // This call must not count as a test of the backend's ListTasks in the coverage check.
    registry.operations.delete('ecs:ListTasks');
  });

  it('every `new XxxCommand(` in handlers/ and cli/ is an operation of the API model (else: run node scripts/aws-api-model.mjs)', () => {
    const inSources = sourceCommands(root, ['handlers', 'cli', 'workflows']);
    expect(inSources.size).toBeGreaterThan(20);
    expect([...inSources.keys()].filter((op) => !model().operations[op])).toEqual([]);
    // The coverage check at the end of a full run (api-model-teardown.ts) names a call no test sent, with its file
    const sent = [...inSources.keys()].filter((op) => op !== 'sfn:RedriveExecution');
    expect(uncheckedCommands(inSources, sent)).toEqual(['sfn:RedriveExecution (cli/ops/aws.ts)']);
  });
});
