// The live AWS test (scripts/test-aws.ts, `npm run test:aws`) cannot run here: no AWS account. What can is checked:
// its catalog validates and has every shape; its expected outcomes agree with what the real CLI reports for the same
// jobs run locally (the same definitions); its verdicts, notification matching, arguments and params; its SQS calls'
// wire format against a loopback server; and its skip path, run for real with no credentials and a closed endpoint.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NotifyEvent } from '../handlers/lib/contracts';
import { formatNotification } from '../handlers/lib/notify';
import { RunInputSchema } from '../handlers/lib/contracts';
import { readStageParams } from '../cli/stage';
import { parseCatalog } from '../workflows/catalog';
import {
  DEFAULT_IMAGE, EXPECTED, judge, judgeBuffered, notifies, parseArgs, projectCopy, type Row, S3_ITEMS_KEY, sqsCaller,
  testCatalog, testServerlessYml, UsageError,
} from '../scripts/test-aws';
import { loadEvent } from './events';
import { ROOT, startCli, cleanUp } from './support/cli';

const jobs = parseCatalog(testCatalog(), { stage: 'awstest' });
const byName = (name: string) => jobs.find((j) => j.name === name)!;

afterEach(cleanUp);

describe('the live test\'s catalog', () => {
  it('validates, and has one job of each shape, every one off its schedule (started by hand only)', () => {
    expect(jobs.map((j) => j.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(jobs.every((j) => j.enabled === false && j.image === DEFAULT_IMAGE && j.retries === 0)).toBe(true);
    expect(byName('single').capacity).toBe('fargate');
    expect(byName('spot').capacity).toBe('spot');
    expect(byName('fanout-inline').fanOut?.items).toHaveLength(3);
    expect(byName('fanout-s3').fanOut?.itemsPath).toBe('$.items');
    expect(byName('buffered').concurrency).toBe('buffer');
    // Its command sleeps 600 s: it can only end by its 60 s timeout.
    expect(byName('timing-out')).toMatchObject({ timeoutSeconds: 60, command: ['sleep', '600'] });
    // The S3 fan-out's run input is one the precheck takes.
    expect(RunInputSchema.safeParse({ itemsFrom: `s3://stage-bucket/${S3_ITEMS_KEY}` }).success).toBe(true);
  });

  it('every failure, and only a failure, is expected to notify (notify.onFailure on, onSuccess off)', () => {
    for (const job of jobs) {
      expect([job.name, EXPECTED[job.name]!.notified]).toEqual([job.name, EXPECTED[job.name]!.status === 'FAILED']);
      expect(job.notify).toEqual({ onFailure: true, onSuccess: false });
    }
  });
});

describe('the expected outcomes agree with the real CLI on the same jobs', () => {
  // `stepcron runs --json` prints the same rows locally as with --aws (cli/ops/types.ts RunRow): the verdict of each
  // job that ends in seconds is checked on a real local run of the test catalog (the same definitions, process backend).
  it.each(['single', 'spot', 'fanout-inline', 'failing'])('%s', async (job) => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-test-aws-'));
    try {
      writeFileSync(join(dir, 'jobs.yml'), testCatalog());
      await startCli(['run', job, '--catalog', 'jobs.yml', '--stage', 'awstest'], { cwd: dir, timeoutMs: 30_000 }).done;
      const listed = await startCli(['runs', job, '--catalog', 'jobs.yml', '--stage', 'awstest', '--json', '-n', '1'], { cwd: dir }).done;
      const [row] = JSON.parse(listed.stdout) as Row[];

      expect(judge(job, row, EXPECTED[job]!)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verdicts', () => {
  const failing = EXPECTED.failing!;

  it('a run still going has no verdict; a finished one a line per difference', () => {
    expect(judge('failing', undefined, failing)).toBeUndefined();
    expect(judge('failing', { execution: 'e1', status: 'RUNNING' }, failing)).toBeUndefined();
    expect(judge('failing', { execution: 'e1', status: 'FAILED', error: 'JobFailed', exitCode: 3 }, failing)).toEqual([]);
    expect(judge('failing', { execution: 'e1', status: 'FAILED', error: 'JobStartFailed' }, failing)).toEqual([
      'failing: e1 failed with JobStartFailed, expected JobFailed',
      'failing: e1 exit code none, expected 3',
    ]);
    expect(judge('timing-out', { execution: 'e2', status: 'FAILED', error: 'States.Runtime' }, EXPECTED['timing-out']!)).toEqual([
      'timing-out: e2 failed with States.Runtime, expected JobTimedOut',
    ]);
  });

  it('buffered: the second run skips as buffered, then its restarted run must succeed', () => {
    const skipped: Row = { execution: 'B', status: 'SKIPPED', reason: 'buffered: starts when A ends' };
    expect(judgeBuffered([{ execution: 'B', status: 'RUNNING' }], 'B')).toBeUndefined();
    expect(judgeBuffered([skipped], 'B')).toBeUndefined();
    expect(judgeBuffered([skipped, { execution: 'B-buffered-0a1b2c3d', status: 'SUCCEEDED' }], 'B')).toEqual([]);
    expect(judgeBuffered([skipped, { execution: 'B-buffered-0a1b2c3d', status: 'FAILED', error: 'JobFailed' }], 'B'))
      .toEqual(['buffered: B-buffered-0a1b2c3d, the waiting run started again, ended FAILED (JobFailed)']);
    // Not buffered at all (e.g. the first run had already ended): the shape was not exercised.
    expect(judgeBuffered([{ execution: 'B', status: 'SUCCEEDED' }], 'B')).toEqual([
      'buffered: the second run B ended SUCCEEDED, expected SKIPPED "buffered: starts when … ends"',
    ]);
  });

  it('a notification matches its stage, job and execution, as the notify function words it', () => {
    // Prepare: the real formatter, on the sample failure event moved to the test's stage and job.
    const event = loadEvent<NotifyEvent>('notify-failure');
    const execution = '20261207T120000Z-ab12';
    const arn = `arn:aws:states:eu-west-1:123456789012:execution:stepcron-awstest-failing:${execution}`;
    const { subject, message } = formatNotification({ ...event, stage: 'awstest', job: 'failing', execution: arn });

    expect(notifies({ Subject: subject, Message: message }, 'awstest', 'failing', execution)).toBe(true);
    expect(notifies({ Subject: subject, Message: message }, 'awstest', 'failing', '20261207T120000Z-ffff')).toBe(false);
    expect(notifies({ Subject: subject, Message: message }, 'awstest', 'fail', execution)).toBe(false);
    expect(notifies({ Subject: subject, Message: message }, 'other', 'failing', execution)).toBe(false);
  });
});

describe('arguments and params', () => {
  const base = ['--stage', 'awstest-ci', '--subnets', 'subnet-1,subnet-2', '--security-groups', 'sg-1'];

  it('reads the flags, with defaults for the optional ones', () => {
    expect(parseArgs(base)).toEqual({
      stage: 'awstest-ci', subnets: 'subnet-1,subnet-2', securityGroups: 'sg-1', assignPublicIp: 'DISABLED', image: DEFAULT_IMAGE, waitMinutes: 20,
    });
    expect(parseArgs([...base, '--assign-public-ip=ENABLED', '--region', 'eu-west-1', '--profile', 'sandbox'])).toMatchObject({
      assignPublicIp: 'ENABLED', region: 'eu-west-1', profile: 'sandbox',
    });
  });

  it('refuses what it cannot use, in one line', () => {
    expect(() => parseArgs(['--stage', 'awstest'])).toThrow(/^--subnets is required; usage: npm run test:aws -- /);
    expect(() => parseArgs([...base, '--stage', 'Prod_X'])).toThrow(/^--stage: 'Prod_X' is not a valid stage name/);
    expect(() => parseArgs([...base, '--keep'])).toThrow(UsageError);
    expect(() => parseArgs([...base, '--assign-public-ip', 'yes'])).toThrow('--assign-public-ip: ENABLED or DISABLED');
  });

  it('deploys with its own params: the runner\'s network, and no e-mail, Slack or cluster of the project\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-test-aws-'));
    try {
      const text = testServerlessYml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { subnets: 'subnet-9', securityGroups: 'sg-9', assignPublicIp: 'ENABLED' });
      writeFileSync(join(dir, 'serverless.yml'), text);
      // Read as the CLI reads a stage's params, for a stage the project's file names (prod) and one it does not.
      for (const stage of ['prod', 'awstest']) {
        expect(readStageParams(stage, join(dir, 'serverless.yml'))).toMatchObject({
          subnets: ['subnet-9'], securityGroups: ['sg-9'], assignPublicIp: 'ENABLED', notifyEmails: [], cluster: '', enabledJobs: '*',
        });
      }
      // The rest of the file is the project's.
      expect(text).toContain('./cli/ops/remove-stage.cjs');
      expect(text).toContain('${file(./workflows/serverless.cjs):stateMachines}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the throwaway stage packages offline (what the live test would deploy)', () => {
  it('sls package of the copy the test deploys from: 7 jobs, schedules disabled, its own cluster, no subscriber of the project\'s', async () => {
    const dir = projectCopy({ subnets: 'subnet-0123456789abcdef0', securityGroups: 'sg-0123456789abcdef0', assignPublicIp: 'ENABLED', image: DEFAULT_IMAGE });
    try {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;
      Object.assign(env, { AWS_EC2_METADATA_DISABLED: 'true', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' });
      const r = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn(join(ROOT, 'node_modules/.bin/sls'), ['package', '--stage', 'awstest'], { cwd: dir, env });
        let output = '';
        child.stdout.on('data', (c) => { output += c; });
        child.stderr.on('data', (c) => { output += c; });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      });
      expect([r.code, r.output]).toEqual([0, expect.stringContaining('stepcron: 7 jobs in')]);
      // The README's example values are all replaced: a deploy would not stop on them.
      expect(r.output).not.toMatch(/example values/);

      const out = join(dir, '.serverless');
      const resources = Object.assign({}, ...readdirSync(out).filter((f) => /^(stepcron-Jobs.*|cloudformation-template-update-stack)\.json$/.test(f))
        .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')).Resources)) as Record<string, { Type: string; Properties: Record<string, any> }>;
      const of = (type: string) => Object.values(resources).filter((r) => r.Type === type);
      // The jobs' schedules (their target is a state machine), not the buffered-runs reconcile, which must run.
      const jobSchedules = of('AWS::Scheduler::Schedule').filter((r) => String(r.Properties.Target.Arn?.Ref ?? '').endsWith('StateMachine'));
      expect(jobSchedules.map((r) => r.Properties.State)).toEqual(Array(7).fill('DISABLED'));
      expect(of('AWS::ECS::Cluster')).toHaveLength(1);
      expect(resources.NotificationTopic!.Properties.Subscription).toEqual([]);
      expect(new Set(of('AWS::ECS::TaskDefinition').map((r) => r.Properties.ContainerDefinitions[0].Image))).toEqual(new Set([DEFAULT_IMAGE]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('SQS over its JSON protocol (no SQS client among the dependencies)', () => {
  let server: Server;
  const seen: Array<{ headers: Record<string, unknown>; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        if (req.headers['x-amz-target'] === 'AmazonSQS.DeleteQueue') {
          res.statusCode = 400;
          res.end('{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"gone"}');
        } else res.end('{"QueueUrl":"http://127.0.0.1/123456789012/q"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a SigV4-signed JSON request naming the action, and says which call failed', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const sqs = sqsCaller({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, 'eu-west-1', endpoint);

    await expect(sqs('CreateQueue', { QueueName: 'stepcron-awstest-test-aws' })).resolves.toEqual({ QueueUrl: 'http://127.0.0.1/123456789012/q' });
    await expect(sqs('DeleteQueue', { QueueUrl: 'q' })).rejects.toThrow(/^sqs:DeleteQueue: HTTP 400 .*QueueDoesNotExist/);

    const [create] = seen;
    expect(JSON.parse(create!.body)).toEqual({ QueueName: 'stepcron-awstest-test-aws' });
    expect(create!.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue' });
    expect(create!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/);
  });
});

describe('no AWS to test with', () => {
  /** `npm run test:aws -- <args>` with no credentials anywhere and AWS's endpoint a closed loopback port. */
  async function runWithoutCredentials(args: string[], extra: Record<string, string> = {}) {
    const home = mkdtempSync(join(tmpdir(), 'stepcron-test-aws-home-'));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;
    Object.assign(env, {
      HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, ...extra,
    });
    const started = Date.now();
    try {
      return await new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
        const child = spawn('npm', ['run', '--silent', 'test:aws', '--', ...args], { cwd: ROOT, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => { stdout += c; });
        child.stderr.on('data', (c) => { stderr += c; });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }

  it('is skipped with one line saying why, exit 0, before any AWS call', async () => {
    const r = await runWithoutCredentials(['--stage', 'awstest', '--subnets', 'subnet-1', '--security-groups', 'sg-1']);

    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^test:aws: skipped: no AWS credentials \(.+\): set AWS_PROFILE or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY to run it\n$/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('is skipped the same way when run with no arguments at all', async () => {
    const r = await runWithoutCredentials([]);
    expect(r.stdout).toMatch(/^test:aws: skipped: no AWS credentials/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('with credentials that reach no AWS, fails in one line before deploying anything (not a skip)', async () => {
    const r = await runWithoutCredentials(['--stage', 'awstest', '--subnets', 'subnet-1', '--security-groups', 'sg-1'],
      { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret' });

    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^test:aws: Error: cannot use these credentials in eu-west-1 \(sts:GetCallerIdentity: .*ECONNREFUSED.*\); nothing was deployed\n$/);
    expect(r.code).toBe(1);
  }, 60_000);

  it('a profile named but unusable is a failure, not a skip: the user meant to run it', async () => {
    const r = await runWithoutCredentials(['--stage', 'awstest', '--subnets', 'subnet-1', '--security-groups', 'sg-1', '--profile', 'no-such-profile']);

    expect(r.stderr).toMatch(/^test:aws: Error: AWS profile no-such-profile: .+\n$/);
    expect(r.code).toBe(1);
  }, 60_000);
});
