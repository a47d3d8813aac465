// Every template a stage deploys, checked against AWS's CloudFormation resource specification (test/support/cfn-spec.ts):
// the sample catalog's real `sls package --stage prod` output (main and nested templates) and a 1,000-job stage
// planned without packaging (stageTemplate + planStacks), which is only meaningful if stageTemplate compiles what
// `sls package` does: checked here too, stack by stack.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readStageParams } from '../cli/stage';
import { type Job, loadCatalog, parseCatalog } from '../workflows/catalog';
import { jobResourceIds, stageTemplate, toStageParams } from '../workflows/resources';
import { planStacks, type Template } from '../workflows/stacks';
import { bigCatalog } from './support/big-catalog';
import { cfnSpec, specProblems } from './support/cfn-spec';

const root = resolve(__dirname, '..');
const sls = join(root, 'node_modules/.bin/sls');
const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };
const FILE = /^stepcron-(Jobs\d+)-[0-9a-f]{64}\.json$/;

/** The plugin's TemplateURL (workflows/stacks-plugin.cjs), so planned templates are byte for byte what it writes. */
const templateUrl = (stack: { id: string; sha256: string }) => ({
  'Fn::Sub': `https://\${ServerlessDeploymentBucket}.s3.\${AWS::Region}.\${AWS::URLSuffix}/serverless/stepcron/prod/stepcron-stacks/stepcron-${stack.id}-${stack.sha256}.json`,
});

interface Packaged { main: Template; nested: Record<string, Template>; files: string[] }
let prod: Packaged;

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'stepcron-spec-'));
  try {
    try {
      execFileSync(sls, ['package', '--stage', 'prod', '--package', out], { cwd: root, env, stdio: 'pipe' });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`sls package --stage prod failed:\n${`${stdout ?? ''}${stderr ?? ''}`.split('Error:').pop()!.trim().slice(0, 2000)}`);
    }
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8'));
    const files = readdirSync(out).filter((f) => FILE.test(f)).sort();
    prod = {
      main: read('cloudformation-template-update-stack.json'),
      nested: Object.fromEntries(files.map((f) => [f.match(FILE)![1]!, read(f)])),
      files,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

describe('CloudFormation resource specification', () => {
  it('is AWS\'s current one (@aws-cdk/aws-service-spec), and has every resource type a stage uses', () => {
    const spec = cfnSpec();
    expect(spec.version).toBe(require('@aws-cdk/aws-service-spec/package.json').version);
    const types = [...new Set([prod.main, ...Object.values(prod.nested)].flatMap((t) => Object.values(t.Resources).map((r) => String(r.Type))))];
    expect(types).toEqual(expect.arrayContaining(['AWS::Scheduler::Schedule', 'AWS::StepFunctions::StateMachine', 'AWS::CloudWatch::Alarm',
      'AWS::ECS::TaskDefinition', 'AWS::IAM::Role', 'AWS::CloudFormation::Stack', 'AWS::Lambda::Function']));
    for (const type of types) expect([type, spec.resources.has(type)]).toEqual([type, true]);
    // Properties AWS added after @aws-cdk/cfnspec stopped (2023), which that spec reported as unknown.
    expect(Object.keys(spec.resources.get('AWS::StepFunctions::StateMachine')!.properties)).toContain('EncryptionConfiguration');
    expect(Object.keys(spec.resources.get('AWS::Logs::LogGroup')!.properties)).toContain('DeletionProtectionEnabled');
    expect(Object.keys(spec.resources.get('AWS::Lambda::Function')!.properties)).toContain('LoggingConfig');
  });
});

describe('sls package --stage prod against the specification', () => {
  it('has a main template and nested templates with no problems, without relying on type conversion', () => {
    expect(prod.files.length).toBeGreaterThan(0);
    for (const [id, template] of Object.entries({ main: prod.main, ...prod.nested })) {
      expect([id, specProblems(template)]).toEqual([id, []]);
      expect([id, specProblems(template, { strict: true })]).toEqual([id, []]);
    }
  });

  it('reports a misspelled property, a missing required one, a wrong type and a dangling reference, each by its path', () => {
    // Prepare: a nested template as packaged, with one mistake of each kind in one job's schedule
    const [stack, template] = Object.entries(prod.nested)[0]!;
    const broken = structuredClone(template) as any;
    const [id, schedule] = Object.entries(broken.Resources).find(([, r]: [string, any]) => r.Type === 'AWS::Scheduler::Schedule') as [string, any];
    schedule.Properties.ScheduleExpresion = schedule.Properties.ScheduleExpression;
    delete schedule.Properties.ScheduleExpression;
    delete schedule.Properties.Target.RoleArn;
    schedule.Properties.Target.RetryPolicy.MaximumRetryAttempts = 'ten';
    schedule.Properties.Target.DeadLetterConfig.Arn = { Ref: 'NoSuchQueueArn' };
    const path = `Resources.${id}.Properties`;
    // Act
    const problems = specProblems(broken);
    // Assess
    expect(problems.sort()).toEqual([
      `${path}.ScheduleExpresion: not a property of AWS::Scheduler::Schedule (known: Description, EndDate, FlexibleTimeWindow, GroupName, KmsKeyArn, Name, ScheduleExpression, ScheduleExpressionTimezone, StartDate, State, Target)`,
      `${path}.ScheduleExpression: is required`,
      `${path}.Target.DeadLetterConfig.Arn.Ref: NoSuchQueueArn is not a resource, parameter or pseudo parameter of this template`,
      `${path}.Target.RetryPolicy.MaximumRetryAttempts: expected number, got "ten"`,
      `${path}.Target.RoleArn: is required`,
    ]);
    expect(stack).toMatch(/^Jobs\d+$/);
  });

  it('reports an unknown resource type, an attribute the type does not have, a value not in the spec\'s enum and a template section that does not exist', () => {
    // Prepare
    const broken = structuredClone(prod.main) as any;
    broken.Resource = {};
    broken.Resources.NotificationTopic.Type = 'AWS::SNS::Topik';
    broken.Resources.SchedulerDeadLetterAlarm.Properties.AlarmActions = [{ 'Fn::GetAtt': ['SchedulerDeadLetterQueue', 'Url'] }];
    const [machine] = Object.entries(Object.values(prod.nested)[0]!.Resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')!;
    broken.Resources[machine] = { ...structuredClone(Object.values(prod.nested)[0]!.Resources[machine]), DependsOn: [] };
    (broken.Resources[machine].Properties as any).StateMachineType = 'Standard';
    // Act
    const problems = specProblems(broken);
    // Assess
    expect(problems).toEqual(expect.arrayContaining([
      'Resource: not a template section',
      `Resources.NotificationTopic.Type: AWS::SNS::Topik is not a resource type in @aws-cdk/aws-service-spec ${cfnSpec().version}`,
      'Resources.SchedulerDeadLetterAlarm.Properties.AlarmActions[0].Fn::GetAtt: AWS::SQS::Queue has no attribute Url (it has: Arn, QueueName, QueueUrl)',
      `Resources.${machine}.Properties.StateMachineType: "Standard" is not one of STANDARD, EXPRESS`,
    ]));
  });

  it('accepts what CloudFormation converts (numeric strings, numbers for strings), which strict mode reports', () => {
    // Prepare
    const converted = structuredClone(prod.main) as any;
    converted.Resources.SchedulerDeadLetterQueue.Properties.MessageRetentionPeriod = '1209600';
    converted.Resources.TaskLogGroup.Properties.LogGroupName = 42;
    // Act + Assess
    expect(specProblems(converted)).toEqual([]);
    expect(specProblems(converted, { strict: true })).toEqual([
      'Resources.SchedulerDeadLetterQueue.Properties.MessageRetentionPeriod: expected integer, got "1209600"',
      'Resources.TaskLogGroup.Properties.LogGroupName: expected string, got 42',
    ]);
  });
});

describe('a stage planned without sls package', () => {
  it('splits the sample catalog into exactly the nested templates sls package writes', () => {
    // Prepare
    const jobs = loadCatalog(join(root, 'workflows/jobs.yml'), { stage: 'prod' });
    const template: Template = { Description: String(prod.main.Description), ...stageTemplate(jobs, readStageParams('prod', join(root, 'serverless.yml'))) };
    // Act
    const plan = planStacks(template, jobs, jobResourceIds, templateUrl);
    // Assess: the same stacks, parameters and resources, so the same files (named by their content's hash)
    for (const stack of plan.nested) {
      expect([stack.id, stack.template.Parameters]).toEqual([stack.id, prod.nested[stack.id]?.Parameters]);
      for (const [id, resource] of Object.entries(stack.template.Resources)) {
        expect([stack.id, id, resource]).toEqual([stack.id, id, prod.nested[stack.id]?.Resources[id]]);
      }
      expect([stack.id, plan.main.Resources[stack.id]]).toEqual([stack.id, prod.main.Resources[stack.id]]);
    }
    expect(plan.nested.map((s) => `stepcron-${s.id}-${s.sha256}.json`).sort()).toEqual(prod.files);
  });

  it('has no specification problems at 1,000 jobs, in the main template or any nested one', () => {
    // Prepare: the 1,000-job stage's resources with what osls adds around them (deployment bucket, functions)
    const jobs: Job[] = parseCatalog(bigCatalog(1000), { stage: 'prod' });
    const stage = stageTemplate(jobs, toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d', notifyEmails: 'oncall@example.com' }));
    const osls = Object.fromEntries(Object.entries(prod.main.Resources).filter(([, r]) => r.Type !== 'AWS::CloudFormation::Stack'));
    const template: Template = { ...prod.main, Resources: { ...osls, ...stage.Resources } };
    // Act
    const plan = planStacks(template, jobs, jobResourceIds, templateUrl);
    // Assess
    expect(plan.problems).toEqual([]);
    expect(plan.nested.length).toBeGreaterThan(60);
    expect(specProblems(plan.main)).toEqual([]);
    for (const stack of plan.nested) expect([stack.id, specProblems(stack.template)]).toEqual([stack.id, []]);
  }, 60_000);
});
