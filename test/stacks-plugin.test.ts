// The Serverless plugin (workflows/stacks-plugin.cjs) with a fake `serverless` object: the split it applies after
// packaging, the files it writes, the state it keeps out of serverless-state.json, and the upload on deploy (S3 mocked).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { type Job, logicalId, parseCatalog } from '../workflows/catalog';
import { jobResourceIds, stageTemplate, toStageParams } from '../workflows/resources';
import { stackId, stackIndex } from '../workflows/stacks';

const root = resolve(__dirname, '..');
const CATALOG = `
defaults:
  image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1
jobs:
  nightly-report:
    description: Report
    schedule: cron(30 2 * * ? *)
    command: [sh, report.sh]
    secrets: { DB_PASSWORD: /app/db-password }
  hourly-cleanup:
    description: Cleanup
    schedule: rate(1 hour)
    command: [sh, cleanup.sh]
  tenant-sync:
    description: Sync
    schedule: rate(30 minutes)
    command: [sh, sync.sh]
`;
const FILE = /^stepcron-(Jobs\d\d)-([0-9a-f]{64})\.json$/;
const env = { AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'eu-west-1', AWS_PROFILE: '' };

let project: string;
let Plugin: any;
let jobs: Job[];
const savedEnv: Record<string, string | undefined> = {};

beforeAll(() => {
  // A project of its own (the plugin reads the catalog beside itself): workflows/ copied, node_modules linked.
  project = mkdtempSync(join(tmpdir(), 'stepcron-plugin-'));
  cpSync(join(root, 'workflows'), join(project, 'workflows'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'));
  writeFileSync(join(project, 'workflows/jobs.yml'), CATALOG);
  Plugin = require(join(project, 'workflows/stacks-plugin.cjs'));
  jobs = parseCatalog(CATALOG, { stage: 'prod' });
  for (const [k, v] of Object.entries(env)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
}, 60_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A fake `serverless` as osls hands it to plugins, with the stage's compiled template and the rest of the service. */
function fakeServerless(provider: Record<string, unknown> = {}) {
  const stage = stageTemplate(jobs, toStageParams('prod', { subnets: 'subnet-0a1b', securityGroups: 'sg-0a1b' }));
  // The functions osls compiles beside the catalog's resources (the state machines and roles reference them).
  const functions = { PrecheckLambdaFunction: { Type: 'AWS::Lambda::Function' }, NotifyLambdaFunction: { Type: 'AWS::Lambda::Function' } };
  const template = { AWSTemplateFormatVersion: '2010-09-09', Description: 'stepcron', Resources: { ...functions, ...stage.Resources } as Record<string, Record<string, unknown>> };
  const resources = { Resources: { Extra: { Type: 'AWS::SNS::Topic' } } };
  const stepFunctions = { validate: false, noOutput: true, stateMachines: { NightlyReport: { name: 'stepcron-prod-nightly-report' } } };
  const notices: string[] = [];
  const serverless = {
    serviceDir: project,
    classes: { Error },
    service: {
      service: 'stepcron',
      provider: { name: 'aws', compiledCloudFormationTemplate: template, ...provider },
      functions: { precheck: { handler: 'handlers/precheck.handler' } },
      resources,
      stepFunctions,
      initialServerlessConfig: { service: 'stepcron', provider: { name: 'aws' }, resources, stepFunctions },
    },
    getProvider: (name: string) => {
      expect(name).toBe('aws');
      return {
        getStage: () => 'prod',
        getDeploymentPrefix: () => 'serverless',
        getAwsSdkV3Config: async () => ({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
        getServerlessDeploymentBucketName: async () => 'bucket',
      };
    },
  };
  const log = { notice: (text: string) => notices.push(text), info: () => undefined };
  return { serverless, template, notices, log };
}

const packageDir = () => join(project, '.serverless');
const stackFiles = (dir = packageDir()) => (existsSync(dir) ? readdirSync(dir).filter((f) => FILE.test(f)).sort() : []);
const expectedStacks = () => [...new Set(jobs.map((j) => stackId(stackIndex(j.name))))].sort();

beforeEach(() => rmSync(packageDir(), { recursive: true, force: true }));

describe('stacks plugin: split', () => {
  it('writes one file per nested stack, named by its content hash, and points each stack at it in the deployment bucket', () => {
    // Prepare: a stale nested template from an earlier package, and a file that is not ours
    const { serverless, log, notices } = fakeServerless();
    mkdirSync(packageDir(), { recursive: true });
    writeFileSync(join(packageDir(), `stepcron-Jobs63-${'0'.repeat(64)}.json`), '{}');
    writeFileSync(join(packageDir(), 'precheck.zip'), 'zip');
    const plugin = new Plugin(serverless, {}, { log });
    // Act
    plugin.split();
    // Assess
    const files = stackFiles();
    expect(files.map((f) => f.match(FILE)![1])).toEqual(expectedStacks());
    expect(existsSync(join(packageDir(), 'precheck.zip'))).toBe(true);
    const main = serverless.service.provider.compiledCloudFormationTemplate as any;
    for (const file of files) {
      const [, id, sha] = file.match(FILE)!;
      const body = readFileSync(join(packageDir(), file), 'utf8');
      expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
      expect(main.Resources[id!]).toMatchObject({
        Type: 'AWS::CloudFormation::Stack',
        Properties: {
          TemplateURL: { 'Fn::Sub': `https://\${ServerlessDeploymentBucket}.s3.\${AWS::Region}.\${AWS::URLSuffix}/serverless/stepcron/prod/stepcron-stacks/${file}` },
        },
      });
      // The nested template holds exactly the resources of the jobs that hash to it.
      const owners = jobs.filter((j) => stackId(stackIndex(j.name)) === id);
      expect(Object.keys(JSON.parse(body).Resources).sort()).toEqual(owners.flatMap(jobResourceIds).sort());
    }
    // Nothing of a job is left in the main template.
    for (const job of jobs) expect(main.Resources[`${logicalId(job.name)}StateMachine`]).toBeUndefined();
    expect(notices).toEqual([expect.stringMatching(/^stepcron: 3 jobs in 3 nested stacks; largest Jobs\d\d: \d+ resources, \d+ KB; main stack \d+ resources$/)]);
  });

  it.each([
    ['a name', 'my-deployments'],
    ['an object', { name: 'my-deployments', serverSideEncryption: 'AES256' }],
  ])('points at provider.deploymentBucket when it is given as %s', (_, deploymentBucket) => {
    // Prepare
    const { serverless, log } = fakeServerless({ deploymentBucket });
    // Act
    new Plugin(serverless, {}, { log }).split();
    // Assess
    const main = serverless.service.provider.compiledCloudFormationTemplate as any;
    for (const file of stackFiles()) {
      const id = file.match(FILE)![1]!;
      expect(main.Resources[id].Properties.TemplateURL).toEqual({
        'Fn::Sub': `https://my-deployments.s3.\${AWS::Region}.\${AWS::URLSuffix}/serverless/stepcron/prod/stepcron-stacks/${file}`,
      });
    }
  });

  it('fails a stage that exceeds a quota with a message naming the stack, and writes nothing', () => {
    // Prepare: one job's definition made larger than a whole template may be
    const { serverless, log, template } = fakeServerless();
    const machine = template.Resources.TenantSyncStateMachine as any;
    machine.Properties.DefinitionString = 'x'.repeat(1_100_000);
    const stack = stackId(stackIndex('tenant-sync'));
    // Act + Assess
    expect(() => new Plugin(serverless, {}, { log }).split())
      .toThrow(new RegExp(`does not fit CloudFormation's quotas:\\n${stack}: \\d+ bytes of template \\(CloudFormation allows 1000000\\)`));
    expect(serverless.service.provider.compiledCloudFormationTemplate).toBe(template);
    expect(stackFiles()).toEqual([]);
  });

  it('fails a stage whose nested stacks would take a parameter from nothing (a ${...} left unescaped), naming it', () => {
    // Prepare: a job's definition with an unescaped reference, as serverless-step-functions would have written it
    const { serverless, log, template } = fakeServerless();
    const machine = template.Resources.TenantSyncStateMachine as any;
    machine.Properties.DefinitionString['Fn::Sub'][0] = machine.Properties.DefinitionString['Fn::Sub'][0].replace('"Comment": "', '"Comment": "exports/${date} ');
    const stack = stackId(stackIndex('tenant-sync'));
    // Act + Assess
    expect(() => new Plugin(serverless, {}, { log }).split()).toThrow(`${stack}: parameter date is fed by date, which the template does not have`);
    expect(stackFiles()).toEqual([]);
  });

  it('fails when the main stack itself exceeds a quota', () => {
    // Prepare
    const { serverless, log, template } = fakeServerless();
    for (let i = 0; i < 500; i++) (template.Resources as any)[`Topic${i}`] = { Type: 'AWS::SNS::Topic' };
    // Act + Assess
    expect(() => new Plugin(serverless, {}, { log }).split()).toThrow(/main stack: \d+ resources \(CloudFormation allows 500\)/);
  });
});

describe('stacks plugin: saved state', () => {
  it('slimState leaves the catalog out and restoreState puts back the very same objects', () => {
    // Prepare
    const { serverless, log } = fakeServerless();
    const service = serverless.service as any;
    const before = { resources: service.resources, stepFunctions: service.stepFunctions, initial: service.initialServerlessConfig };
    const snapshot = structuredClone(service);
    const plugin = new Plugin(serverless, {}, { log });
    // Act
    plugin.slimState();
    const slim = structuredClone(service);
    plugin.restoreState();
    // Assess: while slim, no catalog state machines or resources; other settings kept
    expect(slim.resources.Resources).toEqual({});
    expect(slim.stepFunctions).toEqual({ validate: false, noOutput: true, stateMachines: {} });
    expect(slim.initialServerlessConfig).toMatchObject({ service: 'stepcron', provider: { name: 'aws' }, resources: slim.resources, stepFunctions: slim.stepFunctions });
    // Afterwards: as it was, object for object
    expect(service).toEqual(snapshot);
    expect(service.resources).toBe(before.resources);
    expect(service.stepFunctions).toBe(before.stepFunctions);
    expect(service.initialServerlessConfig).toBe(before.initial);
    // A second restore (no slim in between) changes nothing.
    plugin.restoreState();
    expect(service).toEqual(snapshot);
  });

  it('runs split and slimState before osls saves the state, and restores it right after', () => {
    // Prepare
    const { serverless, log, template } = fakeServerless();
    const plugin = new Plugin(serverless, {}, { log });
    const service = serverless.service as any;
    const stateMachines = service.stepFunctions.stateMachines;
    // Act
    plugin.hooks['before:aws:package:finalize:saveServiceState']();
    const whileSaving = { split: service.provider.compiledCloudFormationTemplate !== template, stateMachines: service.stepFunctions.stateMachines };
    plugin.hooks['after:aws:package:finalize:saveServiceState']();
    // Assess
    expect(whileSaving).toEqual({ split: true, stateMachines: {} });
    expect(service.stepFunctions.stateMachines).toBe(stateMachines);
    expect(stackFiles()).toHaveLength(expectedStacks().length);
  });
});

describe('stacks plugin: upload', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({ ETag: '"etag"' });
  });
  afterAll(() => s3.restore());

  const puts = () => s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

  it('PUTs every nested template to its key in the deployment bucket', async () => {
    // Prepare
    const { serverless, log } = fakeServerless();
    const plugin = new Plugin(serverless, {}, { log });
    plugin.split();
    // Act
    await plugin.hooks['after:aws:deploy:deploy:uploadArtifacts']();
    // Assess
    const files = stackFiles();
    expect(files).toHaveLength(3);
    expect(puts().sort((a, b) => String(a.Key).localeCompare(String(b.Key)))).toEqual(files.map((file) => ({
      Bucket: 'bucket',
      Key: `serverless/stepcron/prod/stepcron-stacks/${file}`,
      Body: readFileSync(join(packageDir(), file)),
      ContentType: 'application/json',
    })));
    // The URL the main stack gives CloudFormation is that key.
    const main = serverless.service.provider.compiledCloudFormationTemplate as any;
    for (const put of puts()) {
      const id = String(put.Key).split('/').pop()!.match(FILE)![1]!;
      expect(main.Resources[id].Properties.TemplateURL['Fn::Sub']).toContain(`/${put.Key}`);
    }
  });

  it('uploads from the --package folder when deploying a package made earlier', async () => {
    // Prepare: package, then move the files where `sls package --package dir` leaves them
    const { serverless, log } = fakeServerless();
    new Plugin(serverless, {}, { log }).split();
    const elsewhere = mkdtempSync(join(tmpdir(), 'stepcron-package-'));
    for (const file of stackFiles()) cpSync(join(packageDir(), file), join(elsewhere, file));
    rmSync(packageDir(), { recursive: true, force: true });
    // Act
    await new Plugin(serverless, { package: elsewhere }, { log }).upload();
    // Assess
    expect(puts().map((p) => String(p.Key).split('/').pop()).sort()).toEqual(stackFiles(elsewhere));
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('uploads nothing when the package has no nested templates', async () => {
    // Prepare
    const { serverless, log } = fakeServerless();
    mkdirSync(packageDir(), { recursive: true });
    // Act
    await new Plugin(serverless, {}, { log }).upload();
    // Assess
    expect(puts()).toEqual([]);
  });

  it('fails the deploy when a PUT fails', async () => {
    // Prepare
    const { serverless, log } = fakeServerless();
    const plugin = new Plugin(serverless, {}, { log });
    plugin.split();
    s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    // Act + Assess
    await expect(plugin.upload()).rejects.toThrow('AccessDenied');
  });
});
