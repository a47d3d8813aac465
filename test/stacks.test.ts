// The stage split into nested stacks (workflows/stacks.ts) and the plan validate measures (its ASL validation by
// shape is test/validate.test.ts), without `sls package`: hand-written templates, the sample catalog and a 1,000-job catalog.
import { createHash } from 'node:crypto';
import { type Job, logicalId, parseCatalog } from '../workflows/catalog';
import { jobResourceIds, sizedVariableNames, stageTemplate, toStageParams } from '../workflows/resources';
import {
  compactDefinitions, groupJobs, JOB_STACKS, references, type NestedStack, planStacks, sizedTemplateUrl, STACK_LIMITS, splitStacks, stackId, stackIndex, stackProblems,
  stackSize, type Template, unresolvedParameters,
} from '../workflows/stacks';
import { bigCatalog } from './support/big-catalog';
import { shapesCatalog } from './support/shapes-catalog';

const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

/** Shared resources (Topic, Queue, Role) and two jobs' worth of resources in groups JobsA and JobsB. */
function handWritten(): Template {
  return {
    Description: 'hand-written',
    Resources: {
      Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      AMachine: {
        Type: 'AWS::StepFunctions::StateMachine',
        DependsOn: ['Role', 'ATask'],
        Properties: {
          RoleArn: getAtt('Role'),
          RoleId: { 'Fn::GetAtt': 'Role.RoleId' },
          TaskDefinition: { Ref: 'ATask' },
          Region: { Ref: 'AWS::Region' },
          Text: { 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${Topic}|${Queue.Arn}|${ATask}|${!Literal}|${ATask.TaskDefinitionArn}' },
          Mapped: { 'Fn::Sub': ['${queue}-${Role.Arn}-${own}', { queue: getAtt('Queue'), own: { Ref: 'ATask' } }] },
          List: [{ Ref: 'Topic' }, 'plain', 7],
        },
      },
      ATask: { Type: 'AWS::ECS::TaskDefinition', DependsOn: 'Topic', Properties: { Family: 'a' } },
      BAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmActions: [{ Ref: 'Topic' }] } },
    },
  };
}
const groups = [{ id: 'JobsA', resourceIds: ['AMachine', 'ATask'] }, { id: 'JobsB', resourceIds: ['BAlarm'] }];

describe('splitStacks', () => {
  it('moves each group into a nested stack that reaches the main resources through parameters', () => {
    // Prepare
    const urls: NestedStack[] = [];
    // Act
    const { main, nested } = splitStacks(handWritten(), groups, (stack) => {
      urls.push(stack);
      return `https://bucket/${stack.sha256}.json`;
    });
    // Assess
    const a = nested.find((s) => s.id === 'JobsA')!.template;
    const machine = a.Resources.AMachine!.Properties as Record<string, unknown>;
    expect(machine.RoleArn).toEqual({ Ref: 'RoleArn' }); // GetAtt X.Arn -> parameter XArn
    expect(machine.RoleId).toEqual({ Ref: 'RoleRoleId' }); // the "X.Attr" string form too
    expect(machine.TaskDefinition).toEqual({ Ref: 'ATask' }); // inside the nested stack: untouched
    expect(machine.Region).toEqual({ Ref: 'AWS::Region' }); // pseudo parameters: untouched
    expect(machine.Text).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${Topic}|${QueueArn}|${ATask}|${!Literal}|${ATask.TaskDefinitionArn}',
    });
    expect(machine.Mapped).toEqual({ 'Fn::Sub': ['${queue}-${RoleArn}-${own}', { queue: { Ref: 'QueueArn' }, own: { Ref: 'ATask' } }] });
    expect(machine.List).toEqual([{ Ref: 'Topic' }, 'plain', 7]);
    expect(a.Parameters).toEqual({
      RoleArn: { Type: 'String' }, RoleRoleId: { Type: 'String' }, Topic: { Type: 'String' }, QueueArn: { Type: 'String' },
    });
    // A DependsOn inside the group stays; one on a main resource moves to the nested stack resource.
    expect(a.Resources.AMachine!.DependsOn).toEqual(['ATask']);
    expect(a.Resources.ATask!.DependsOn).toBeUndefined();
    expect(main.Resources.JobsA!.DependsOn).toEqual(['Role', 'Topic']);
    expect(main.Resources.JobsB!.DependsOn).toBeUndefined();
    // The main stack passes exactly the declared parameters, with the values they stand for.
    expect(main.Resources.JobsA!.Properties).toEqual({
      TemplateURL: `https://bucket/${nested[0]!.sha256}.json`,
      Parameters: { RoleArn: getAtt('Role'), RoleRoleId: getAtt('Role', 'RoleId'), Topic: { Ref: 'Topic' }, QueueArn: getAtt('Queue') },
    });
    const b = nested.find((s) => s.id === 'JobsB')!;
    expect(Object.keys((main.Resources.JobsB!.Properties as any).Parameters)).toEqual(Object.keys(b.template.Parameters!));
    // What stays in the main stack, and the nested stacks as resources.
    expect(Object.keys(main.Resources).sort()).toEqual(['JobsA', 'JobsB', 'Queue', 'Role', 'Topic']);
    expect(main.Resources.JobsA!.Type).toBe('AWS::CloudFormation::Stack');
    expect(main.Description).toBe('hand-written');
    // The URL callback sees the body as uploaded, and the hash is that body's.
    for (const stack of urls) {
      expect(stack.body).toBe(JSON.stringify(stack.template));
      expect(stack.sha256).toBe(createHash('sha256').update(stack.body).digest('hex'));
    }
  });

  it('refuses a main resource that still references a moved one, naming both', () => {
    // Prepare
    const template = handWritten();
    template.Resources.Topic!.Properties = { DisplayName: { 'Fn::Sub': '${AMachine.Name}' } };
    // Act + Assess
    expect(() => splitStacks(template, groups, () => 'url')).toThrow(/main stack still references .*Topic -> AMachine/);
  });

  it('refuses a reference from one nested stack to another (it would be a parameter of a resource the main stack no longer has)', () => {
    // Prepare
    const template = handWritten();
    template.Resources.BAlarm!.Properties = { AlarmActions: [{ Ref: 'ATask' }] };
    // Act + Assess
    expect(() => splitStacks(template, groups, () => 'url')).toThrow(/JobsB -> ATask/);
  });

  it('names the parameters a Sub reference to nothing (an unescaped ${date}) would feed from nothing', () => {
    // Prepare
    const template = handWritten();
    (template.Resources.AMachine!.Properties as Record<string, unknown>).Text = { 'Fn::Sub': 'exports/${date}/${Topic}' };
    // Act
    const { main } = splitStacks(template, groups, () => 'url');
    // Assess
    expect(unresolvedParameters(main)).toEqual(['JobsA: parameter date is fed by date, which the template does not have']);
    expect(unresolvedParameters(splitStacks(handWritten(), groups, () => 'url').main)).toEqual([]);
  });

  it('refuses a group that lists a resource the template does not have', () => {
    expect(() => splitStacks(handWritten(), [{ id: 'JobsC', resourceIds: ['Missing'] }], () => 'url')).toThrow(/JobsC lists Missing/);
  });
});

describe('stackIndex', () => {
  it('is a pure function of the name, in range, and pinned (a changed hash would move deployed jobs between stacks)', () => {
    for (const name of ['nightly-report', 'hourly-cleanup', 'tenant-sync', 'x', 'a-much-longer-job-name-0123456789']) {
      expect(stackIndex(name)).toBe(stackIndex(name));
      expect(stackIndex(name)).toBeGreaterThanOrEqual(0);
      expect(stackIndex(name)).toBeLessThan(JOB_STACKS);
    }
    // Moving a named resource between stacks fails a deploy (create runs before delete): these must never change.
    expect(['nightly-report', 'hourly-cleanup', 'tenant-sync'].map((n) => stackId(stackIndex(n)))).toEqual(['Jobs11', 'Jobs17', 'Jobs51']);
  });

  it('keeps every job in its stack when other jobs are added or removed', () => {
    // Prepare
    const jobs101 = parseCatalog(bigCatalog(101), { stage: 'prod' });
    const jobs100 = jobs101.slice(0, 100);
    const without50 = jobs101.filter((_, i) => i !== 50);
    const stackOf = (jobs: Job[]) => new Map(groupJobs(jobs, (j) => [j.name]).flatMap((g) => g.resourceIds.map((name) => [name, g.id])));
    // Act
    const [a, b, c] = [stackOf(jobs100), stackOf(jobs101), stackOf(without50)];
    // Assess
    expect(a.size).toBe(100);
    for (const [name, stack] of a) expect([name, b.get(name)]).toEqual([name, stack]);
    for (const [name, stack] of c) expect([name, b.get(name)]).toEqual([name, stack]);
  });

  it('spreads 1,000 jobs over every stack, none holding more than 2.5 times the mean', () => {
    // Prepare
    const jobs = parseCatalog(bigCatalog(1000), { stage: 'prod' });
    // Act
    const counts = groupJobs(jobs, (j) => [j.name]).map((g) => g.resourceIds.length);
    // Assess
    expect(counts).toHaveLength(JOB_STACKS);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2.5 * (1000 / JOB_STACKS));
  });
});

describe('a 1,000-job stage', () => {
  let jobs: Job[];
  let template: { Resources: Record<string, any> };
  let plan: ReturnType<typeof planStacks<Job>>;
  /** Every template of the stage: the main one and each nested one. */
  let stacks: Array<[string, Template]>;

  beforeAll(() => {
    jobs = parseCatalog(bigCatalog(1000), { stage: 'prod' });
    template = stageTemplate(jobs, toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' }));
    plan = planStacks(template, jobs, jobResourceIds);
    stacks = [['main stack', plan.main], ...plan.nested.map((s): [string, Template] => [s.id, s.template])];
  }, 60_000);

  it('fits CloudFormation: no problems, every stack within every quota', () => {
    expect(plan.problems).toEqual([]);
    expect(plan.sizes).toHaveLength(1 + JOB_STACKS);
    for (const size of plan.sizes) {
      for (const quota of ['resources', 'bytes', 'parameters', 'outputs'] as const) {
        expect([size.id, quota, size[quota] <= STACK_LIMITS[quota]]).toEqual([size.id, quota, true]);
      }
    }
    // The sizes are those of the templates as uploaded.
    for (const stack of plan.nested) expect(plan.sizes.find((s) => s.id === stack.id)!.bytes).toBe(Buffer.byteLength(stack.body));
  });

  it("has every job's state machine, task definition, schedule and alarm exactly once, in the job's nested stack", () => {
    // Prepare
    const where = new Map<string, string[]>();
    for (const [id, t] of stacks) for (const resource of Object.keys(t.Resources)) where.set(resource, [...(where.get(resource) ?? []), id]);
    // Assess
    for (const job of jobs) {
      const expected = stackId(stackIndex(job.name));
      for (const suffix of ['StateMachine', 'TaskDefinition', 'Schedule', 'Alarm']) {
        expect([job.name, suffix, where.get(`${logicalId(job.name)}${suffix}`)]).toEqual([job.name, suffix, [expected]]);
      }
      for (const id of jobResourceIds(job)) expect(where.get(id)).toEqual([expected]);
    }
    // Nothing lost or duplicated: every resource of the stage is in exactly one stack.
    for (const id of Object.keys(template.Resources)) expect([id, where.get(id)?.length]).toEqual([id, 1]);
  });

  it('grants no "*" resource on ecs:RunTask, iam:PassRole or any states action, in any stack', () => {
    // Prepare
    const statements = stacks.flatMap(([stack, t]) => Object.entries(t.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .flatMap(([role, r]: [string, any]) => (r.Properties.Policies ?? []).flatMap((p: any) =>
        [p.PolicyDocument.Statement].flat().map((s: any) => ({ stack, role, ...s })))));
    const risky = statements.filter((s) => [s.Action].flat().some((a: string) =>
      a === 'ecs:RunTask' || a === 'iam:PassRole' || a.startsWith('states:') || a === '*'));
    // Assess
    expect(risky.length).toBeGreaterThan(0);
    for (const s of risky) expect([s.role, [s.Resource].flat()]).not.toEqual([s.role, expect.arrayContaining(['*'])]);
  });

  it("fits each role's inline policies in IAM's 10,240 characters, which a policy listing every job would not", () => {
    // Prepare
    const roles = stacks.flatMap(([, t]) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) as Array<[string, any]>;
    // Act
    const sizes = roles.map(([id, r]) => [id, policyCharacters((r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument))] as const);
    // Assess
    expect(sizes.length).toBeGreaterThan(5);
    for (const [id, size] of sizes) expect([id, size <= IAM_INLINE_POLICY_CHARACTERS]).toEqual([id, true]);
    // Why the shared roles are scoped by name prefix: one statement naming each state machine would not fit.
    const perJob = { Effect: 'Allow', Action: 'states:StartExecution', Resource: jobs.map((j) => ({ Ref: `${logicalId(j.name)}StateMachine` })) };
    expect(policyCharacters([{ Version: '2012-10-17', Statement: [perJob] }])).toBeGreaterThan(IAM_INLINE_POLICY_CHARACTERS);
  });
});

/** IAM: the inline policies of one role, together, without whitespace. */
const IAM_INLINE_POLICY_CHARACTERS = 10_240;

/**
 * Characters of policy documents as IAM sees them, after CloudFormation resolved the intrinsics: pseudo parameters as
 * their longest values, any other reference (an ARN) as 200 characters, which is more than any ARN this stage has.
 */
function policyCharacters(documents: unknown[]): number {
  const arn = 'a'.repeat(200);
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws-us-gov', 'AWS::Region': 'us-isob-east-1', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com.cn',
  };
  const resolveNode = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolveNode);
    if (typeof node !== 'object' || node === null) return node;
    const [key, value] = Object.entries(node)[0] ?? [];
    if (key === 'Ref') return pseudo[value as string] ?? arn;
    if (key === 'Fn::GetAtt') return arn;
    if (key === 'Fn::Sub') {
      const text = Array.isArray(value) ? String(value[0]) : String(value);
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => pseudo[name] ?? arn);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveNode(v)]));
  };
  return JSON.stringify(resolveNode(documents)).replace(/\s/g, '').length - 2; // the brackets of the list
}

describe('stackProblems', () => {
  const template = (resources: number, extra: Partial<Template> = {}): Template => ({
    Resources: Object.fromEntries(Array.from({ length: resources }, (_, i) => [`Topic${i}`, { Type: 'AWS::SNS::Topic' }])),
    ...extra,
  });

  it('names the stack, the figure and the limit of each quota exceeded', () => {
    // Prepare
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`P${i}`, { Type: 'String' }]));
    // Act
    const resources = stackProblems(stackSize('Jobs07', template(501)));
    const everything = stackProblems(stackSize('Jobs08', template(1, { Parameters: many(201), Outputs: many(201), Description: 'x'.repeat(1_000_001) })));
    // Assess
    expect(resources).toEqual(['Jobs07: 501 resources (CloudFormation allows 500)']);
    expect(everything).toEqual([
      expect.stringMatching(/^Jobs08: 10\d{5} bytes of template \(CloudFormation allows 1000000\)$/),
      'Jobs08: 201 parameters (CloudFormation allows 200)',
      'Jobs08: 201 outputs (CloudFormation allows 200)',
    ]);
  });

  it('accepts a stack exactly at the quotas', () => {
    expect(stackProblems({ id: 'Jobs09', ...STACK_LIMITS })).toEqual([]);
    expect(stackProblems(stackSize('Jobs09', template(500)))).toEqual([]);
  });

  it('is what planStacks reports for a stage whose jobs do not fit', () => {
    // Prepare: 600 resources for one job
    const job = { name: 'huge' };
    const big = template(600);
    // Act
    const { problems } = planStacks(big, [job], () => Object.keys(big.Resources));
    // Assess
    expect(problems).toEqual([`${stackId(stackIndex('huge'))}: 600 resources (CloudFormation allows 500)`]);
  });

  it('names the main stack when the shared resources alone do not fit', () => {
    // Act: 501 shared resources and no job
    const { sizes, problems } = planStacks(template(501), [], () => []);
    // Assess: validate prints these lines as they are; the main stack is the one without a Jobs id.
    expect(sizes.map((s) => s.id)).toEqual(['main stack']);
    expect(problems).toEqual(['main stack: 501 resources (CloudFormation allows 500)']);
  });
});

describe("validate's measured plan (no hashing)", () => {
  it('has the sizes of the plan that deploys, stack for stack, for every job shape and for a 200-job stage', () => {
    const params = toStageParams('prod', { subnets: 'subnet-0a1b2c3d', securityGroups: 'sg-0a1b2c3d' });
    for (const text of [shapesCatalog(), bigCatalog(200)]) {
      // Prepare
      const jobs = parseCatalog(text, { stage: 'prod' });
      // Act: as sls package plans it (md5 variable names, hashed template URLs) and as validate measures it.
      const deployed = planStacks(stageTemplate(jobs, params) as Template, jobs, jobResourceIds);
      const measured = planStacks(stageTemplate(jobs, params, sizedVariableNames()) as Template, jobs, jobResourceIds, sizedTemplateUrl);
      // Assess: the same sizes and problems, though the names differ (the measured one hashes nothing).
      expect(measured.sizes).toEqual(deployed.sizes);
      expect(measured.problems).toEqual(deployed.problems);
      expect(JSON.stringify(measured.main)).not.toBe(JSON.stringify(deployed.main));
    }
  });
});

// Gaps mutation testing found (npm run mutate -- stacks): each rule below was broken by some mutant no test noticed.
describe('stacks: compaction, order and guards', () => {
  const pretty = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }, null, 2);
  const compact = JSON.stringify(JSON.parse(pretty));
  const machine = (definition: unknown): Template['Resources'][string] =>
    ({ Type: 'AWS::StepFunctions::StateMachine', Properties: { RoleArn: 'r', DefinitionString: definition } });

  it('compacts a state machine definition in each form serverless-step-functions writes, and leaves the rest alone', () => {
    // Prepare
    const template: Template = {
      Description: 'd',
      Resources: {
        Plain: machine(pretty),
        Sub: machine({ 'Fn::Sub': pretty }),
        SubWithVariables: machine({ 'Fn::Sub': [pretty, { x: { Ref: 'Topic' } }] }),
        NotJson: machine({ 'Fn::Sub': '{ "Seconds": ${Seconds} }' }),
        Other: { Type: 'AWS::SNS::Topic', Properties: { DefinitionString: pretty } },
        NoProperties: { Type: 'AWS::StepFunctions::StateMachine' },
      },
    };
    // Act
    const result = compactDefinitions(template);
    const definition = (id: string) => (result.Resources[id]!.Properties as { DefinitionString: unknown }).DefinitionString;
    // Assess
    expect(definition('Plain')).toBe(compact);
    expect(definition('Sub')).toEqual({ 'Fn::Sub': compact });
    expect(definition('SubWithVariables')).toEqual({ 'Fn::Sub': [compact, { x: { Ref: 'Topic' } }] });
    expect(definition('NotJson')).toEqual({ 'Fn::Sub': '{ "Seconds": ${Seconds} }' });
    expect(definition('Other')).toBe(pretty);
    expect(result.Resources.NoProperties).toBe(template.Resources.NoProperties);
    expect((result.Resources.Plain!.Properties as { RoleArn: string }).RoleArn).toBe('r');
    expect(result.Description).toBe('d');
    expect(template.Resources.Plain!.Properties).toEqual({ RoleArn: 'r', DefinitionString: pretty }); // the input is not changed
  });

  it('saves the indentation\'s bytes in what planStacks measures and deploys', () => {
    // Prepare
    const template: Template = { Resources: { Topic: { Type: 'AWS::SNS::Topic' }, AMachine: machine({ 'Fn::Sub': pretty }) } };
    const jobs = [{ name: 'a' }];
    // Act
    const { nested, sizes } = planStacks(template, jobs, () => ['AMachine']);
    const uncompacted = splitStacks(template, groupJobs(jobs, () => ['AMachine']), () => 'https://example.invalid/x.json').nested[0]!;
    // Assess: the nested stack holds the compact text, and its size is that of its body, smaller by the indentation.
    const stack = nested[0]!;
    expect((stack.template.Resources.AMachine!.Properties as { DefinitionString: unknown }).DefinitionString).toEqual({ 'Fn::Sub': compact });
    expect(sizes.find((s) => s.id === stack.id)!.bytes).toBe(Buffer.byteLength(stack.body));
    expect(uncompacted.body.length - stack.body.length).toBe(JSON.stringify(pretty).length - JSON.stringify(compact).length);
  });

  it('orders nested stacks by index, not by the order jobs come in, and names them Jobs00..Jobs63', () => {
    // Prepare
    const names = Array.from({ length: 40 }, (_, i) => `job-${i}`);
    // Act
    const groupsOf = (list: string[]) => groupJobs(list.map((name) => ({ name })), (job) => [`${job.name}Res`]);
    const forward = groupsOf(names);
    const backward = groupsOf([...names].reverse());
    // Assess
    expect(forward.map((g) => g.id)).toEqual(backward.map((g) => g.id));
    expect(forward.map((g) => g.id)).toEqual([...forward.map((g) => g.id)].sort());
    expect([stackId(0), stackId(7), stackId(63)]).toEqual(['Jobs00', 'Jobs07', 'Jobs63']);
    // Jobs in the same stack keep their resources together, in the jobs' order.
    const shared = groupJobs([{ name: 'x' }, { name: 'y' }], (job) => [`${job.name}1`, `${job.name}2`], 1);
    expect(shared).toEqual([{ id: 'Jobs00', resourceIds: ['x1', 'x2', 'y1', 'y2'] }]);
  });

  it('refuses a parameter that would take the name of a resource in its stack, naming both', () => {
    // Prepare: GetAtt Role.Arn from outside becomes parameter RoleArn, but the group has a resource RoleArn.
    const template: Template = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role' },
        RoleArn: { Type: 'AWS::SSM::Parameter', Properties: { Value: getAtt('Role') } },
      },
    };
    // Act + Assess
    expect(() => splitStacks(template, [{ id: 'Jobs01', resourceIds: ['RoleArn'] }], () => 'url'))
      .toThrow('stacks: parameter RoleArn of Jobs01 has the name of one of its resources');
  });

  it('names every dangling reference in its message, and the missing resource of a group', () => {
    // Prepare
    const template = handWritten();
    template.Resources.Topic!.Properties = { A: { Ref: 'ATask' }, B: getAtt('AMachine') };
    // Act + Assess
    expect(() => splitStacks(template, groups, () => 'url'))
      .toThrow('stacks: the main stack still references resources moved to nested stacks: Topic -> ATask, Topic -> AMachine');
    expect(() => splitStacks(handWritten(), [{ id: 'JobsC', resourceIds: ['Missing'] }], () => 'url'))
      .toThrow('stacks: JobsC lists Missing, which is not in the template');
  });

  it("carries a moved resource's empty objects and nulls over as they are", () => {
    // Prepare: `{}` and null (YAML `~`, or a key with nothing after it) are values a template can hold anywhere.
    const properties = { Tags: {}, Note: null, List: [{}, null], Topic: { Ref: 'Topic' } };
    const template: Template = { Resources: { Topic: { Type: 'AWS::SNS::Topic' }, Job: { Type: 'T', Properties: properties } } };
    // Act
    const { nested } = splitStacks(template, [{ id: 'Jobs00', resourceIds: ['Job'] }], () => 'url');
    // Assess: they name nothing; the Ref beside them still becomes the stack's one parameter.
    expect(nested[0]!.template.Resources.Job).toEqual({ Type: 'T', Properties: properties });
    expect(nested[0]!.template.Parameters).toEqual({ Topic: { Type: 'String' } });
  });

  it('names the parameter for a GetAtt of a dotted attribute with letters and digits only, as CloudFormation requires', () => {
    // Prepare: attributes such as a nested stack's Outputs.X or a database's Endpoint.Address, in both GetAtt forms and in a Sub.
    const template: Template = {
      Resources: {
        Db: { Type: 'AWS::RDS::DBInstance' },
        Job: { Type: 'T', Properties: { A: getAtt('Db', 'Endpoint.Address'), B: { 'Fn::GetAtt': 'Db.Endpoint.Port' }, C: { 'Fn::Sub': 'x${Db.Outputs.Url2}' } } },
      },
    };
    // Act
    const { nested, main } = splitStacks(template, [{ id: 'Jobs00', resourceIds: ['Job'] }], () => 'url');
    // Assess
    expect(nested[0]!.template.Resources.Job!.Properties).toEqual({ A: { Ref: 'DbEndpointAddress' }, B: { Ref: 'DbEndpointPort' }, C: { 'Fn::Sub': 'x${DbOutputsUrl2}' } });
    expect((main.Resources.Jobs00!.Properties as { Parameters: unknown }).Parameters).toEqual({
      DbEndpointAddress: getAtt('Db', 'Endpoint.Address'), DbEndpointPort: getAtt('Db', 'Endpoint.Port'), DbOutputsUrl2: getAtt('Db', 'Outputs.Url2'),
    });
  });

  it('lists the main resources a nested stack depends on in name order, whatever order its resources name them in', () => {
    // Prepare
    const template: Template = { Resources: { Alpha: { Type: 'T' }, Zeta: { Type: 'T' }, Job: { Type: 'T', DependsOn: ['Zeta', 'Alpha'] } } };
    // Act
    const { main } = splitStacks(template, [{ id: 'Jobs00', resourceIds: ['Job'] }], () => 'url');
    // Assess
    expect(main.Resources.Jobs00!.DependsOn).toEqual(['Alpha', 'Zeta']);
  });

  it('gives a nested stack its description, format version and no Parameters when it needs none', () => {
    // Act
    const { nested, main } = splitStacks({ Resources: { Alone: { Type: 'AWS::SNS::Topic' } } }, [{ id: 'Jobs05', resourceIds: ['Alone'] }], () => 'url');
    // Assess
    expect(nested[0]!.template).toEqual({ AWSTemplateFormatVersion: '2010-09-09', Description: 'stepcron: jobs stack Jobs05', Resources: { Alone: { Type: 'AWS::SNS::Topic' } } });
    expect(main.Resources.Jobs05).toEqual({ Type: 'AWS::CloudFormation::Stack', Properties: { TemplateURL: 'url' } });
  });

  it('lists every reference kind: Ref, GetAtt in both forms, Sub in both forms, DependsOn and Outputs', () => {
    // Prepare
    const template: Template = {
      Resources: {
        R: {
          Type: 'T', DependsOn: ['D1', 'D2'],
          Properties: { a: { Ref: 'A' }, b: [{ 'Fn::GetAtt': ['B', 'Arn'] }], c: { 'Fn::GetAtt': 'Cc.Arn' }, d: { 'Fn::Sub': 'x${E}y${F.Arn}${!G}' },
            e: { 'Fn::Sub': ['${H}', { v: { Ref: 'I' } }] }, f: 'plain', g: null },
        },
        S: { Type: 'T', DependsOn: 'J' },
      },
      Outputs: { O: { Value: { Ref: 'K' } } },
    };
    // Act
    const found = references(template);
    // Assess
    expect(found).toEqual([
      { from: 'R', target: 'D1' }, { from: 'R', target: 'D2' }, { from: 'R', target: 'A' }, { from: 'R', target: 'B' }, { from: 'R', target: 'Cc' },
      { from: 'R', target: 'E' }, { from: 'R', target: 'F' }, { from: 'R', target: 'H' }, { from: 'R', target: 'I' }, { from: 'S', target: 'J' },
      { from: 'Outputs.O', target: 'K' },
    ]);
  });

  it('lists nothing for a resource that names no other: no DependsOn, no Ref, GetAtt or Sub', () => {
    expect(references({ Resources: { Alone: { Type: 'T', Properties: { Name: 'plain', List: ['a', 7] } }, Bare: { Type: 'T' } } })).toEqual([]);
  });

  it('reads a nested stack parameter fed by a GetAtt of nothing, and takes template parameters and pseudo parameters as known', () => {
    // Prepare
    const main: Template = {
      Parameters: { Stage: { Type: 'String' } },
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic' },
        Jobs00: { Type: 'AWS::CloudFormation::Stack', Properties: { Parameters: { a: { Ref: 'Stage' }, b: { Ref: 'AWS::Region' }, c: getAtt('Topic', 'TopicName'), d: getAtt('Gone') } } },
        Other: { Type: 'AWS::SNS::Topic', Properties: { Parameters: { e: { Ref: 'Nowhere' } } } },
        Jobs01: { Type: 'AWS::CloudFormation::Stack', Properties: {} },
      },
    };
    // Act + Assess
    expect(unresolvedParameters(main)).toEqual(['Jobs00: parameter d is fed by Gone, which the template does not have']);
  });
});
