// Nothing a user writes becomes a CloudFormation reference (issue 13). A catalog with one job of every shape and
// hostile text in every free-text field and item (`${date}`, `${AWS::Region}`, `${!literal}`, `$${x}`, osls variables
// such as `${env:HOME}` and `${file(...)}`, serverless-step-functions' `#{...}`, quotes, backslashes, unicode,
// newlines) is packaged by the real `sls package` once; the packaged templates pass the independent cross-stack check
// (test/support/cross-stack.ts), and every text arrives in the deployed templates byte for byte: the definitions
// rebuilt with Fn::Sub's own semantics equal the compiled ones. Then the same for arbitrary text (fast-check), through
// stageTemplate and the split (planStacks), without packaging.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { readStageParams } from '../cli/stage';
import { type Job, logicalId, parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { deployInfra, jobResourceIds, SCHEDULE_DESCRIPTION_MAX, type StageParams, stageTemplate } from '../workflows/resources';
import { planStacks, type Template } from '../workflows/stacks';
import { specProblems } from './support/cfn-spec';
import { crossStackProblems, evaluateSub } from './support/cross-stack';
import { HOSTILE_TEXT, shapesCatalog } from './support/shapes-catalog';

const root = resolve(__dirname, '..');
const sls = join(root, 'node_modules/.bin/sls');
const env = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'stepcron-none' };
const STAGE = 'proof';
const FILE = /^stepcron-Jobs\d+-[0-9a-f]{64}\.json$/;
/** The shapes catalog's hostile text, plus what osls's variable resolver and serverless-step-functions act on, and a real resource. */
const TEXT = `${HOSTILE_TEXT} \${env:HOME} \${self:service} \${sls:stage} \${file(./x.json)} #{AWS::Region} #{date} \\\${y} \${PrecheckLambdaFunction.Arn}`;

type Json = Record<string, any>;
interface Packaged { main: string; files: Record<string, string>; output: string }
let packaged: Packaged;
let jobs: Job[];
let params: StageParams;

beforeAll(() => {
  // A copy of the project with the shapes catalog (node_modules linked), packaged as a user would.
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-cross-stack-'));
  try {
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(root, f), join(dir, f), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'workflows/jobs.yml'), shapesCatalog(TEXT));
    const out = join(dir, 'out');
    const run = spawnSync(sls, ['package', '--stage', STAGE, '--package', out], { cwd: dir, env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`sls package exited ${run.status}: ${run.stdout}${run.stderr}`);
    const read = (file: string) => readFileSync(join(out, file), 'utf8');
    packaged = {
      main: read('cloudformation-template-update-stack.json'),
      files: Object.fromEntries(readdirSync(out).filter((f) => FILE.test(f)).map((f) => [f, read(f)])),
      output: run.stdout + run.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  jobs = parseCatalog(shapesCatalog(TEXT), { stage: STAGE });
  params = readStageParams(STAGE, join(root, 'serverless.yml'));
}, 120_000);

/** Every resource of the stage, with the nested stack it is in (or the main template) and that stack's parameters. */
function resourcesOf(main: Json, files: Record<string, string>): Map<string, { resource: Json; values: Json }> {
  const found = new Map<string, { resource: Json; values: Json }>();
  for (const [id, resource] of Object.entries(main.Resources as Json)) found.set(id, { resource, values: {} });
  for (const stack of Object.values(main.Resources as Json).filter((r) => r.Type === 'AWS::CloudFormation::Stack')) {
    const url: string = stack.Properties.TemplateURL['Fn::Sub'];
    const nested = JSON.parse(files[url.slice(url.lastIndexOf('/') + 1)]!);
    for (const [id, resource] of Object.entries(nested.Resources as Json)) found.set(id, { resource, values: stack.Properties.Parameters ?? {} });
  }
  return found;
}

/**
 * A state machine's definition as Step Functions receives it: the DefinitionString's Fn::Sub evaluated (`${!` is
 * `${`; each placeholder is its intrinsic, with the nested stack's parameters put back as the main stack's values).
 * Intrinsics stay objects, to compare with the compiled definition.
 */
function deployedDefinition(resource: Json, values: Json): unknown {
  const definition = resource.Properties.DefinitionString;
  const [text, map] = typeof definition === 'string' ? [definition, {}] : [definition['Fn::Sub'][0], definition['Fn::Sub'][1]];
  const marker = (name: string) => `@@intrinsic:${name}@@`;
  const evaluated = evaluateSub(text, (name) => {
    if (!(name in map)) throw new Error(`\${${name}} is not one of the definition's placeholders`);
    return marker(name);
  });
  const parameter = (v: any) => (v && typeof v === 'object' && typeof v.Ref === 'string' && v.Ref in values ? values[v.Ref] : v);
  return JSON.parse(evaluated, (_, v) => {
    const name = typeof v === 'string' ? Object.keys(map).find((n) => v === marker(n)) : undefined;
    return name ? JSON.parse(JSON.stringify(map[name]), (_k, x) => parameter(x)) : v;
  });
}

describe('sls package of every job shape with hostile text in every field', () => {
  it('packages, and its templates pass the cross-stack check and AWS\'s resource spec', () => {
    expect(Object.keys(packaged.files).length).toBeGreaterThan(1);
    expect(crossStackProblems(packaged.main, packaged.files)).toEqual([]);
    for (const [name, text] of Object.entries({ main: packaged.main, ...packaged.files })) expect([name, specProblems(JSON.parse(text))]).toEqual([name, []]);
  });

  it('deploys each definition as compiled, every text byte for byte (no Sub reference, no osls variable, no #{} rewrite)', () => {
    const resources = resourcesOf(JSON.parse(packaged.main), packaged.files);
    for (const job of jobs) {
      // Prepare
      const { resource, values } = resources.get(`${logicalId(job.name)}StateMachine`)!;
      // Act
      const deployed = deployedDefinition(resource, values);
      // Assess
      expect([job.name, JSON.stringify(deployed)]).toEqual([job.name, JSON.stringify(compile(job, deployInfra(job, params)))]);
      expect((deployed as Json).Comment).toBe(`stepcron job ${job.name}: ${job.name}: ${TEXT}`);
    }
  });

  it('keeps the text of task definitions, schedules and alarms as written', () => {
    const resources = resourcesOf(JSON.parse(packaged.main), packaged.files);
    for (const job of jobs) {
      const id = logicalId(job.name);
      const container = resources.get(`${id}TaskDefinition`)!.resource.Properties.ContainerDefinitions[0];
      expect(container.Command).toEqual(['printf', '%s\n', TEXT, job.name]);
      expect(container.Environment).toContainEqual({ Name: 'NOTE', Value: TEXT });
      expect(resources.get(`${id}Schedule`)!.resource.Properties.Description).toBe(`${job.name} (schedule: ${job.schedule}): ${job.name}: ${TEXT}`.slice(0, SCHEDULE_DESCRIPTION_MAX));
    }
  });

  it('writes the definitions stageTemplate models (what validate and the size checks rely on), stack for stack', () => {
    // Prepare: the stage as planned without packaging, with what osls adds around it
    const main = JSON.parse(packaged.main) as Template;
    const osls = Object.fromEntries(Object.entries(main.Resources).filter(([, r]) => r.Type !== 'AWS::CloudFormation::Stack'));
    // Act
    const plan = planStacks({ ...main, Resources: { ...osls, ...stageTemplate(jobs, params).Resources } }, jobs, jobResourceIds, templateUrl);
    // Assess
    expect(Object.fromEntries(plan.nested.map((s) => [fileOf(s), s.body]))).toEqual(packaged.files);
  });
});

describe('the cross-stack check', () => {
  it('reads an Fn::Sub as CloudFormation does: ${! is a literal ${, any other ${name} a reference', () => {
    expect(evaluateSub('a${!b}|$${x}|${!!c}|${AWS::Region}|${Res.Arn}', (name) => `<${name}>`)).toBe('a${b}|$<x>|${!c}|<AWS::Region>|<Res.Arn>');
    expect(() => evaluateSub('tail ${x', String)).toThrow("a '${' has no '}'");
  });

  /** The packaged stage with one change to the first nested template and the stack that uses it. */
  const broken = (change: (main: Json, nested: Json, stack: Json) => void) => {
    const main = JSON.parse(packaged.main);
    const [file, text] = Object.entries(packaged.files)[0]!;
    const nested = JSON.parse(text);
    const stack = Object.values(main.Resources as Json).find((r) => r.Type === 'AWS::CloudFormation::Stack' && r.Properties.TemplateURL['Fn::Sub'].endsWith(file));
    change(main, nested, stack);
    return { problems: crossStackProblems(JSON.stringify(main), { ...packaged.files, [file]: JSON.stringify(nested) }), file };
  };

  it('reports a parameter a nested stack needs and is not given, and one it is given and does not declare', () => {
    const { problems, file } = broken((_, nested, stack) => {
      nested.Parameters.Extra = { Type: 'String' };
      stack.Properties.Parameters.Stray = 'x';
    });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`^main template: Resources\\.Jobs\\d+\\.Properties\\.Parameters: ${file} needs Extra, which is not given$`)),
      expect.stringMatching(new RegExp(`^main template: Resources\\.Jobs\\d+\\.Properties\\.Parameters\\.Stray: ${file} declares no such parameter$`)),
    ]));
  });

  it('reports a Sub reference to nothing, an unterminated ${, an attribute the type lacks and a DependsOn elsewhere', () => {
    const { problems, file } = broken((_, nested) => {
      const [id, machine] = Object.entries(nested.Resources as Json).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')!;
      machine.Properties.StateMachineName = { 'Fn::Sub': 'a-${date}-${!fine}-${AWS::Region}' };
      machine.Properties.RoleArn = { 'Fn::Sub': 'b-${' };
      machine.Properties.LoggingConfiguration = { 'Fn::GetAtt': [id, 'Url'] };
      machine.DependsOn = ['NotificationTopic'];
    });
    expect(problems.map((p) => p.replace(/Resources\.\w+StateMachine/, 'Resources.M'))).toEqual(expect.arrayContaining([
      `${file}: Resources.M.Properties.StateMachineName.Fn::Sub \${date}: date is not a resource, parameter or pseudo parameter of this template`,
      `${file}: Resources.M.Properties.RoleArn.Fn::Sub: a '\${' with no '}' (a literal '\${' is written '\${!')`,
      `${file}: Resources.M.Properties.LoggingConfiguration.Fn::GetAtt: AWS::StepFunctions::StateMachine has no attribute Url`,
      `${file}: Resources.M.DependsOn: NotificationTopic is not a resource of this template`,
    ]));
    expect(problems).toHaveLength(4);
  });

  it('reports a template over a quota and a nested template no stack uses', () => {
    const { problems, file } = broken((main, nested, stack) => {
      for (let i = 0; i < 500; i++) nested.Resources[`Topic${i}`] = { Type: 'AWS::SNS::Topic' };
      delete main.Resources[Object.keys(main.Resources).find((id) => main.Resources[id].Type === 'AWS::CloudFormation::Stack' && main.Resources[id] !== stack)!];
    });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`^${file}: resources: 50\\d \\(CloudFormation allows 500 per stack\\)$`)),
      expect.stringMatching(/^stepcron-Jobs\d+-[0-9a-f]{64}\.json: no stack of the main template uses it$/),
    ]));
  });
});

describe('stage params and catalog values in the other Subs', () => {
  it('are literal: a cluster or managed policy with ${...} references nothing (a Slack secret with one is refused)', () => {
    // Prepare: a catalog job with its own policies, a stage whose params carry Sub syntax
    const catalog = `defaults:\n  image: busybox\njobs:\n  own:\n    description: own\n    schedule: rate(1 hour)\n    command: ['true']\n    taskPolicyArns: ['arn:aws:iam::aws:policy/\${Policy}']\n`;
    const own = parseCatalog(catalog, { stage: STAGE });
    const odd = { ...params, cluster: 'jobs-${Cluster}' };
    // Secrets Manager names have no '$': the params check refuses such a secret before anything is built from it.
    expect(() => stageTemplate(own, { ...params, slackWebhookSecret: 'slack-${Secret}' })).toThrow(/slackWebhookSecret: 'slack-\$\{Secret\}' is not a Secrets Manager secret name/);
    const main = JSON.parse(packaged.main) as Template;
    const osls = Object.fromEntries(Object.entries(main.Resources).filter(([, r]) => r.Type !== 'AWS::CloudFormation::Stack'));
    // Act
    const plan = planStacks({ ...main, Resources: { ...osls, ...stageTemplate(own, odd).Resources } }, own, jobResourceIds, templateUrl);
    // Assess
    const files = Object.fromEntries(plan.nested.map((s) => [fileOf(s), s.body]));
    expect(crossStackProblems(JSON.stringify(plan.main), files)).toEqual([]);
    const text = JSON.stringify([plan.main, ...plan.nested.map((s) => s.template)]);
    for (const literal of ['cluster/jobs-${!Cluster}', 'policy/${!Policy}']) expect(text).toContain(literal);
  });
});

/** The stacks plugin's file names and TemplateURL (workflows/stacks-plugin.cjs). */
const fileOf = (s: { id: string; sha256: string }) => `stepcron-${s.id}-${s.sha256}.json`;
const templateUrl = (s: { id: string; sha256: string }) => ({
  'Fn::Sub': `https://\${ServerlessDeploymentBucket}.s3.\${AWS::Region}.\${AWS::URLSuffix}/serverless/stepcron/${STAGE}/stepcron-stacks/${fileOf(s)}`,
});

describe('arbitrary text in every free-text field and item (property-based)', () => {
  /** Text made of what breaks templates (Sub and osls syntax, JSON and YAML metacharacters) and any unicode. */
  const fragment = fc.oneof(
    fc.constantFrom('${', '}', '${!', '$', '#{', '{', '!', '"', "'", '\\', '\n', '\t', ':', 'AWS::Region', 'date', 'env:HOME', 'self:service', 'file(x)', ' '),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
  );
  // What a list item may not be (the catalog refuses it, test/catalog.test.ts): empty, multi-line, '{% '-prefixed.
  const text = fc.array(fragment, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''))
    .filter((t) => t.replace(/\n/g, ' ').trim() !== '' && !/[\r\u2028\u2029]/.test(t) && !t.startsWith('{% '));

  it('plans templates that pass the cross-stack check and deploy the compiled definitions byte for byte', () => {
    const main = JSON.parse(packaged.main) as Template;
    const osls = Object.fromEntries(Object.entries(main.Resources).filter(([, r]) => r.Type !== 'AWS::CloudFormation::Stack'));
    fc.assert(fc.property(text, (t) => {
      // Prepare
      const catalogJobs = parseCatalog(shapesCatalog(t), { stage: STAGE });
      // Act
      const plan = planStacks({ ...main, Resources: { ...osls, ...stageTemplate(catalogJobs, params).Resources } }, catalogJobs, jobResourceIds, templateUrl);
      // Assess
      const files = Object.fromEntries(plan.nested.map((s) => [fileOf(s), s.body]));
      const body = JSON.stringify(plan.main);
      expect(crossStackProblems(body, files)).toEqual([]);
      const resources = resourcesOf(plan.main, files);
      for (const job of catalogJobs) {
        const { resource, values } = resources.get(`${logicalId(job.name)}StateMachine`)!;
        expect(JSON.stringify(deployedDefinition(resource, values))).toBe(JSON.stringify(compile(job, deployInfra(job, params))));
      }
    }), { seed: Number(process.env.FUZZ_SEED ?? 20261207), numRuns: Number(process.env.FUZZ_RUNS ?? 25) });
  }, 60_000);
});
