// `sls package` for two stages with the real CLI (osls) and plugin, offline and without credentials, and
// assertions on the compiled CloudFormation: the main stack and the nested stacks the jobs are split into.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCatalog, logicalId, parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { deployInfra, stageTemplate, toStageParams } from '../workflows/resources';
import { references, STACK_LIMITS, stackIndex, stackId, type Template as StackTemplate } from '../workflows/stacks';
import { readStageParams } from '../cli/stage';
import { specProblems } from './support/cfn-spec';
import { crossStackProblems, evaluateSub } from './support/cross-stack';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Template = { Resources: Record<string, Resource>; Parameters?: Record<string, unknown> };
/**
 * What one `sls package` produced: the main template, each nested one (by logical id), all resources merged, and
 * what it printed (stdout and stderr).
 */
interface Packaged { main: Template; nested: Record<string, Template>; bytes: Record<string, number>; all: Template; output: string; texts: { main: string; files: Record<string, string> } }

const root = resolve(__dirname, '..');
const sls = join(root, 'node_modules/.bin/sls');
const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };

function packageStage(stage: string): Packaged {
  const out = mkdtempSync(join(tmpdir(), `stepcron-${stage}-`));
  try {
    const run = spawnSync(sls, ['package', '--stage', stage, '--package', out], { cwd: root, env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`sls package --stage ${stage} exited ${run.status}: ${run.stdout}${run.stderr}`);
    const read = (file: string) => readFileSync(join(out, file), 'utf8');
    const main = JSON.parse(read('cloudformation-template-update-stack.json')) as Template;
    const nested: Record<string, Template> = {};
    const bytes: Record<string, number> = { main: Buffer.byteLength(read('cloudformation-template-update-stack.json')) };
    const files: Record<string, string> = {};
    for (const file of readdirSync(out).filter((f) => /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/.test(f))) {
      const id = file.split('-')[1]!;
      files[file] = read(file);
      nested[id] = JSON.parse(files[file]);
      bytes[id] = Buffer.byteLength(files[file]);
    }
    const all = { Resources: Object.assign({}, main.Resources, ...Object.values(nested).map((t) => t.Resources)) };
    return { main, nested, bytes, all, output: run.stdout + run.stderr, texts: { main: read('cloudformation-template-update-stack.json'), files } };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A nested resource with its stack parameters put back as the values the main stack passes. */
function resolved(p: Packaged, id: string): Resource {
  const stack = Object.keys(p.nested).find((s) => p.nested[s]!.Resources[id]);
  if (!stack) return p.main.Resources[id]!;
  const values = p.main.Resources[stack]!.Properties.Parameters ?? {};
  return JSON.parse(JSON.stringify(p.nested[stack]!.Resources[id]), (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.Ref === 'string' && values[v.Ref] ? values[v.Ref] : v);
}

/** An alarm's actions as the main stack passes them (the topic is a parameter of the nested stack). */
function resolvedAlarmActions(p: Packaged, alarm: Resource): unknown {
  const id = Object.entries(p.all.Resources).find(([, r]) => r === alarm)![0];
  return resolved(p, id).Properties.AlarmActions;
}

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const statements = (t: Template) => ofType(t, 'AWS::IAM::Role').flatMap(([id, r]) =>
  (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement.map((s: any) => ({ role: id, ...s }))));
const actions = (s: any): string[] => [s.Action].flat();
const resources = (s: any): unknown[] => [s.Resource].flat();

/** A dependency cycle among the template's resources (Ref, Fn::GetAtt, Fn::Sub, DependsOn), or [] if there is none. */
function findCycle(t: Template): string[] {
  const ids = new Set(Object.keys(t.Resources));
  const edges = new Map<string, Set<string>>([...ids].map((id) => [id, new Set<string>()]));
  for (const { from, target } of references(t as StackTemplate)) if (ids.has(from) && ids.has(target)) edges.get(from)!.add(target);
  const state = new Map<string, 'visiting' | 'done'>();
  const cycle: string[] = [];
  const dfs = (id: string, path: string[]): boolean => {
    if (state.get(id) === 'done') return false;
    if (state.get(id) === 'visiting') return cycle.push(...path, id) > 0;
    state.set(id, 'visiting');
    for (const next of edges.get(id) ?? []) if (dfs(next, [...path, id])) return true;
    state.set(id, 'done');
    return false;
  };
  for (const id of ids) dfs(id, []);
  return cycle;
}

let dev: Packaged;
let prod: Packaged;

beforeAll(() => {
  dev = packageStage('dev');
  prod = packageStage('prod');
}, 120_000);

describe('sls package', () => {
  it("warns (and still packages) while a stage has the README's example values, naming each; sls deploy would stop", () => {
    // The dev stage's network ids are the default params' examples; prod has its own, and an example e-mail.
    expect(dev.output).toContain("stepcron: stage dev still has the README's example values; sls deploy stops until they are set:");
    expect(dev.output).toMatch(/^ {2}- subnets: subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002 are examples/m);
    expect(dev.output).not.toMatch(/notifyEmails/);
    expect(prod.output).toMatch(/^ {2}- subnets: subnet-0f1e2d3c4b5a60001, subnet-0f1e2d3c4b5a60002, subnet-0f1e2d3c4b5a60003 are examples/m);
    expect(prod.output).toMatch(/^ {2}- notifyEmails: oncall@example\.com cannot receive mail/m);
    for (const p of [dev, prod]) {
      expect(p.output).toMatch(/^ {2}- securityGroups: sg-0[0-9a-f]+ is an example/m);
      expect(p.output).toMatch(/^ {2}- jobs nightly-report, hourly-cleanup, tenant-sync: image 123456789012\.dkr\.ecr\.[^ ]+ is in the example account 123456789012/m);
    }
  });

  it('creates a state machine, schedule, task definition and one alarm per job, in nested stacks', () => {
    for (const p of [dev, prod]) {
      expect(ofType(p.all, 'AWS::StepFunctions::StateMachine')).toHaveLength(3);
      expect(ofType(p.all, 'AWS::Scheduler::Schedule')).toHaveLength(3);
      expect(ofType(p.all, 'AWS::ECS::TaskDefinition')).toHaveLength(3);
      // A run in flight during a deploy retries on the revision it started with: CloudFormation must not deregister it.
      for (const [, taskDefinition] of ofType(p.all, 'AWS::ECS::TaskDefinition')) expect(taskDefinition).toMatchObject({ UpdateReplacePolicy: 'Retain' });
      // Per job: failed, timed out and aborted runs in one alarm (metric math); plus the stage's missed-schedules alarm
      // and a no-success alarm for the job with a successDeadlineMinutes (test/alerts.test.ts).
      const all = ofType(p.all, 'AWS::CloudWatch::Alarm');
      expect(all.filter(([id]) => id.endsWith('DeadlineAlarm')).map(([id]) => id)).toEqual(['HourlyCleanupDeadlineAlarm']);
      const alarms = all.filter(([id]) => id !== 'SchedulerDeadLetterAlarm' && !id.endsWith('DeadlineAlarm'));
      expect(alarms).toHaveLength(3);
      for (const [, alarm] of alarms) {
        const metrics = alarm.Properties.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName).filter(Boolean);
        expect(metrics.sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
        expect(resolvedAlarmActions(p, alarm)).toEqual([{ Ref: 'NotificationTopic' }]);
      }
      // Nothing of a job stays in the main stack.
      expect(ofType(p.main, 'AWS::StepFunctions::StateMachine')).toHaveLength(0);
    }
  });

  it('puts each job in the nested stack its name hashes to, wired by parameters to the shared resources', () => {
    for (const job of ['nightly-report', 'hourly-cleanup', 'tenant-sync']) {
      // Prepare
      const stack = stackId(stackIndex(job));
      const nested = prod.nested[stack]!;
      // Assess
      expect(nested.Resources[`${logicalId(job)}StateMachine`]).toBeDefined();
      expect(prod.main.Resources[stack]).toMatchObject({ Type: 'AWS::CloudFormation::Stack' });
      const url = JSON.stringify(prod.main.Resources[stack]!.Properties.TemplateURL);
      expect(url).toMatch(new RegExp(`ServerlessDeploymentBucket.*serverless/stepcron/prod/stepcron-stacks/stepcron-${stack}-[0-9a-f]{64}\\.json`));
      // Every parameter the nested stack declares is passed, and every one passed is declared.
      expect(Object.keys(prod.main.Resources[stack]!.Properties.Parameters).sort()).toEqual(Object.keys(nested.Parameters ?? {}).sort());
    }
  });

  it('keeps every stack within CloudFormation quotas', () => {
    for (const p of [dev, prod]) {
      for (const [id, t] of Object.entries({ main: p.main, ...p.nested })) {
        expect([id, Object.keys(t.Resources).length <= STACK_LIMITS.resources]).toEqual([id, true]);
        expect([id, p.bytes[id]! <= STACK_LIMITS.bytes]).toEqual([id, true]);
        expect([id, Object.keys(t.Parameters ?? {}).length <= STACK_LIMITS.parameters]).toEqual([id, true]);
      }
    }
  });

  it('schedules in the job time zone, with retries, a dead-letter queue and the scheduled time', () => {
    const schedule = resolved(prod, 'NightlyReportSchedule').Properties;
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(schedule.Target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(schedule.Target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['SchedulerDeadLetterQueue', 'Arn'] });
    expect(schedule.Target.RoleArn).toEqual({ 'Fn::GetAtt': ['SchedulerRole', 'Arn'] });
    expect(JSON.parse(schedule.Target.Input)).toMatchObject({ scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it('enables only the jobs the stage enables', () => {
    const state = (p: Packaged, id: string) => p.all.Resources[`${id}Schedule`]!.Properties.State;
    expect(['NightlyReport', 'HourlyCleanup', 'TenantSync'].map((id) => state(dev, id))).toEqual(['DISABLED', 'ENABLED', 'DISABLED']);
    expect(['NightlyReport', 'HourlyCleanup', 'TenantSync'].map((id) => state(prod, id))).toEqual(['ENABLED', 'ENABLED', 'ENABLED']);
  });

  it('names state machines per stage and turns logging on', () => {
    const sm = resolved(prod, 'NightlyReportStateMachine').Properties;
    expect(sm.StateMachineName).toBe('stepcron-prod-nightly-report');
    expect(sm.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    expect(sm.LoggingConfiguration.Level).toBe('ERROR');
    expect(sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn).toEqual({ 'Fn::GetAtt': ['StateMachineLogGroup', 'Arn'] });
    expect(sm.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
  });

  it('grants no wildcard resource on ecs:RunTask, iam:PassRole or any states action', () => {
    for (const p of [dev, prod]) {
      const risky = statements(p.all).filter((s) => actions(s).some((a) => a === 'ecs:RunTask' || a === 'iam:PassRole' || a.startsWith('states:') || a === '*'));
      expect(risky.length).toBeGreaterThan(0);
      for (const s of risky) {
        expect(resources(s)).not.toContain('*');
        for (const r of resources(s)) expect(JSON.stringify(r)).not.toMatch(/:\*"?$|"\*"/);
      }
      // Nothing generated by the plugin with its `*` policy.
      expect(JSON.stringify(p.all)).not.toMatch(/"ecs:RunTask"[^\]]*"Resource":\s*"\*"/);
    }
  });

  it('scopes RunTask to the stage task families on the stage cluster, and PassRole to the task roles path', () => {
    const s = statements(prod.all).filter((x) => x.role === 'StateMachineRole');
    const runTask = s.find((x) => actions(x).includes('ecs:RunTask'));
    expect(JSON.stringify(runTask.Resource)).toContain('task-definition/stepcron-prod-*:*');
    expect(JSON.stringify(runTask.Condition)).toContain('cluster/stepcron-prod');
    const passRole = s.find((x) => actions(x).includes('iam:PassRole'));
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(JSON.stringify(passRole.Resource)).toContain(':role/stepcron/prod/tasks/*');
    // Only the roles ECS tasks use live under that path.
    const underPath = ofType(prod.all, 'AWS::IAM::Role').filter(([, r]) => r.Properties.Path === '/stepcron/prod/tasks/').map(([id]) => id);
    expect(underPath.sort()).toEqual(['ExecutionRole', 'NightlyReportExecutionRole', 'TaskRole']);
  });

  it('gives a job with secrets its own execution role that reads only its secrets', () => {
    const definition = resolved(prod, 'NightlyReportTaskDefinition').Properties;
    expect(definition.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': ['NightlyReportExecutionRole', 'Arn'] });
    expect(definition.TaskRoleArn).toEqual({ 'Fn::GetAtt': ['TaskRole', 'Arn'] });
    const own = statements(prod.all).filter((x) => x.role === 'NightlyReportExecutionRole');
    expect(JSON.stringify(own.find((x) => actions(x).includes('ssm:GetParameters')).Resource)).toContain(':parameter/stepcron/reporting/db-password');
    // The shared execution role reads no secret.
    expect(statements(prod.all).filter((x) => x.role === 'ExecutionRole').flatMap(actions)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(resolved(prod, 'HourlyCleanupTaskDefinition').Properties.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': ['ExecutionRole', 'Arn'] });
  });

  it('passes secrets as container secrets, never as plain environment values', () => {
    const container = prod.all.Resources.NightlyReportTaskDefinition!.Properties.ContainerDefinitions[0];
    expect(container.Secrets).toEqual([{ Name: 'DB_PASSWORD', ValueFrom: expect.objectContaining({ 'Fn::Sub': expect.stringContaining(':parameter/stepcron/reporting/db-password') }) }]);
    expect(container.Environment.map((e: any) => e.Name)).not.toContain('DB_PASSWORD');
    expect(container).toMatchObject({ Name: 'job', Essential: true, Command: ['sh', 'jobs/nightly-report.sh'] });
    expect(container.LogConfiguration.Options).toMatchObject({ 'awslogs-group': '/stepcron/prod/jobs', 'awslogs-stream-prefix': 'nightly-report' });
    expect(prod.all.Resources.NightlyReportTaskDefinition!.Properties).toMatchObject({ Cpu: '512', Memory: '1024' });
  });

  it('deploys the handlers on nodejs24.x with their own roles', () => {
    for (const id of ['PrecheckLambdaFunction', 'NotifyLambdaFunction']) {
      expect(prod.main.Resources[id]!.Properties.Runtime).toBe('nodejs24.x');
    }
    expect(prod.main.Resources.PrecheckLambdaFunction!.Properties.Role).toEqual({ 'Fn::GetAtt': ['PrecheckRole', 'Arn'] });
  });

  it('passes the independent cross-stack check: every reference resolves in its stack, nested parameters exact, quotas kept', () => {
    for (const p of [dev, prod]) expect(crossStackProblems(p.texts.main, p.texts.files)).toEqual([]);
  });

  it('deploys exactly the definition `stepcron synth` prints (and the local runner executes)', () => {
    for (const job of loadCatalog(join(root, 'workflows/jobs.yml'), { stage: 'prod' })) {
      // Prepare: undo the packaging (Fn::Sub: intrinsics as ${hash} placeholders, `${!` for `${`; stack parameters)
      const [text, refs] = resolved(prod, `${logicalId(job.name)}StateMachine`).Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
      const deployed = JSON.parse(evaluateSub(text, (hash) => `@@${hash}@@`), (_, value) =>
        (typeof value === 'string' && /^@@[0-9a-f]+@@$/.test(value) ? refs[value.slice(2, -2)] : value));
      // Assess
      expect(deployed).toEqual(compile(job, deployInfra(job, readStageParams('prod', join(root, 'serverless.yml')))));
    }
  });

  it('has no circular dependency between resources in any stack (CloudFormation would refuse it)', () => {
    for (const t of [dev, prod].flatMap((p) => [p.main, ...Object.values(p.nested)])) expect(findCycle(t)).toEqual([]);
  });

  it('uses the stage subnets in the task network configuration', () => {
    const definition = JSON.stringify(prod.all.Resources.NightlyReportStateMachine!.Properties.DefinitionString);
    expect(definition).toContain('subnet-0f1e2d3c4b5a60003');
    expect(definition).toContain('arn:aws:states:::ecs:runTask.sync');
  });
});

describe('one run per scheduled time: the claims table', () => {
  it('is a PAY_PER_REQUEST table keyed by pk with TTL on expiresAt, named in the precheck function\'s CLAIMS_TABLE', () => {
    for (const [stage, p] of [['dev', dev], ['prod', prod]] as const) {
      const table = p.main.Resources.ClaimsTable!;
      expect(table).toMatchObject({
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: `stepcron-${stage}-claims`,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        },
      });
      expect(p.main.Resources.PrecheckLambdaFunction!.Properties.Environment.Variables.CLAIMS_TABLE).toBe(table.Properties.TableName);
    }
  });

  it('lets only the precheck role use it, with the three item actions it calls, on the table\'s ARN', () => {
    for (const p of [dev, prod]) {
      const dynamo = statements(p.all).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo).toEqual([{
        role: 'PrecheckRole', Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
        Resource: { 'Fn::GetAtt': ['ClaimsTable', 'Arn'] },
      }]);
    }
  });

  it('adds nothing for concurrency buffer when no job uses it', () => {
    for (const p of [dev, prod]) {
      expect(Object.keys(p.all.Resources).filter((id) => id.startsWith('BufferedRuns'))).toEqual([]);
      expect(statements(p.all).filter((s) => s.role === 'PrecheckRole').flatMap(actions))
        .toEqual(['states:ListExecutions', 'states:StopExecution', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem']);
    }
  });
});

describe('concurrency buffer: the rule and the permissions that start a waiting run', () => {
  const job = (name: string, concurrency: string) =>
    `  ${name}:\n    description: ${name}\n    schedule: rate(1 hour)\n    image: busybox\n    command: ['true']\n    concurrency: ${concurrency}\n`;
  const stage = (jobs: string) => stageTemplate(parseCatalog(`jobs:\n${jobs}`, { stage: 'prod' }),
    toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' }));
  const machine = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:stepcron-prod-${name}` });

  it('calls the precheck function when a run of a buffer job ends, however it ends', () => {
    // Act
    const t = stage(job('ingest', 'buffer') + job('export', 'buffer') + job('report', 'forbid'));
    // Assess
    expect(t.Resources.BufferedRunsRule).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'stepcron-prod-buffered-runs',
        Description: expect.any(String),
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [machine('ingest'), machine('export')] },
        },
        Targets: [{
          Id: 'precheck', Arn: { 'Fn::GetAtt': ['PrecheckLambdaFunction', 'Arn'] },
          RetryPolicy: expect.any(Object), DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['BufferedRunsDeadLetterQueue', 'Arn'] } },
        }],
      },
    });
    expect(t.Resources.BufferedRunsPermission).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': ['PrecheckLambdaFunction', 'Arn'] },
        Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': ['BufferedRunsRule', 'Arn'] },
      },
    });
    // The buffer jobs' definitions tell the precheck how long a waiting place is held (the run's deadline).
    const definition = JSON.stringify((t.Resources.IngestStateMachine!.Properties as any).DefinitionString);
    expect(definition).toMatch(/\\"concurrency\\": \\"buffer\\",\\n\s*\\"runTimeoutSeconds\\": \d+/);
    expect(JSON.stringify((t.Resources.ReportStateMachine!.Properties as any).DefinitionString)).not.toContain('runTimeoutSeconds');
  });

  it('lets the precheck role start and describe runs of the buffer jobs\' state machines only, and never SendTaskSuccess', () => {
    // Act
    const t = stage(job('ingest', 'buffer') + job('report', 'replace'));
    // Assess
    const precheck = statements({ Resources: t.Resources as never }).filter((s) => s.role === 'PrecheckRole');
    expect(precheck.find((s) => actions(s).includes('states:StartExecution'))).toEqual({
      role: 'PrecheckRole', Effect: 'Allow', Action: 'states:StartExecution', Resource: [machine('ingest')],
    });
    expect(precheck.find((s) => actions(s).includes('states:DescribeExecution'))?.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:stepcron-prod-ingest:*' },
    ]);
    for (const s of statements({ Resources: t.Resources as never })) {
      expect(actions(s).filter((a) => a.startsWith('states:SendTask'))).toEqual([]);
      if (actions(s).some((a) => a.startsWith('states:') || a.startsWith('dynamodb:'))) expect(resources(s)).not.toContain('*');
    }
  });

  it('names the stage prefix instead of each job beyond 20 buffer jobs, so the role stays within 10 KB of policy', () => {
    // Act
    const t = stage(Array.from({ length: 21 }, (_, i) => job(`job-${i}`, 'buffer')).join(''));
    // Assess
    const prefix = { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:stepcron-prod-' };
    expect((t.Resources.BufferedRunsRule!.Properties as any).EventPattern.detail.stateMachineArn).toEqual([{ prefix }]);
    const start = statements({ Resources: t.Resources as never }).find((s) => s.role === 'PrecheckRole' && actions(s).includes('states:StartExecution'));
    expect(start.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:stepcron-prod-*' }]);
    expect(JSON.stringify(t.Resources.PrecheckRole).length).toBeLessThan(10_240);
  });

  it('passes the CloudFormation specification and has no dependency cycle, with the functions osls adds', () => {
    // Prepare: the stage's resources with what osls adds around them (the functions the rule and roles name)
    const t = stage(job('ingest', 'buffer'));
    const osls = Object.fromEntries(Object.entries(prod.main.Resources).filter(([, r]) => r.Type !== 'AWS::CloudFormation::Stack'));
    const template = { ...prod.main, Resources: { ...osls, ...(t.Resources as Record<string, Resource>) } };
    // Assess
    expect(specProblems(template)).toEqual([]);
    expect(findCycle(template)).toEqual([]);
  });
});

describe('sls package with a bad catalog', () => {
  it('fails with the catalog problems and no stack trace', () => {
    // Prepare: a copy of the project with a broken catalog (node_modules linked, not copied)
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-bad-'));
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(root, f), join(dir, f), { recursive: true });
    execFileSync('ln', ['-s', join(root, 'node_modules'), join(dir, 'node_modules')]);
    writeFileSync(join(dir, 'workflows/jobs.yml'), 'jobs:\n  broken:\n    description: x\n    schedule: cron(0 2 * * * *)\n    timezone: Mars/Base\n    command: [run]\n');
    // Act
    const result = spawnSync(sls, ['package', '--stage', 'dev'], { cwd: dir, env, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    // Assess
    const output = result.stdout + result.stderr;
    expect(result.status).not.toBe(0);
    expect(output).toMatch(/jobs\.broken\.schedule: /);
    expect(output).toMatch(/jobs\.broken\.timezone: /);
    expect(output).toMatch(/jobs\.broken\.image: is required/);
    expect(output).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    // Once each, as stepcron validate prints them: not once per variable inside osls's "Cannot resolve serverless.yml".
    for (const line of output.split('\n').filter((l) => l.startsWith('  - jobs.broken.'))) expect(output.split(line)).toHaveLength(2);
    expect(output).not.toMatch(/Cannot resolve|Variables resolution|Received rejection/);
  }, 60_000);
});
