// Issue 9, items 2, 5, 6 and 7, as a newcomer meets them: `sls package`/`sls deploy` with a bad catalog or the
// README's example ids (the real osls CLI, offline, with no way to reach AWS), a run that times out and may retry
// (the real CLI and engine, a real child process), and the sample notify and precheck events (sls invoke local).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NotifyEvent, NotifyEventSchema } from '../handlers/lib/contracts';
import { formatNotification } from '../handlers/lib/notify';
import { CatalogError } from '../workflows/catalog';
import { inlineItemLimit } from '../workflows/compile';
import { loadEvent } from './events';
import { cleanUp, ROOT, startCli, workspace } from './support/cli';
import { ecsTask, jobFrom, runJob } from './support/workflow';

const sls = join(ROOT, 'node_modules/.bin/sls');
/** No credentials that work and no metadata service: nothing osls or a plugin might ask AWS can succeed. */
const slsEnv = {
  ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'not-a-secret', AWS_PROFILE: '',
};

afterEach(cleanUp);

/**
 * Loaded into every sls process (NODE_OPTIONS): a TCP connection attempt is recorded (host:port) and ends the process
 * with 86 before any byte is sent, so a test sees whether, and where, the CLI would have reached AWS. Unix sockets
 * (tsx's compile server) pass.
 */
const NO_NETWORK = `const net = require('node:net');
const { appendFileSync } = require('node:fs');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let o = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof o !== 'object' || o === null) o = { port: args[0], host: args[1] };
  if (o.path) return connect.apply(this, args);
  appendFileSync(process.env.STEPCRON_TEST_NET, \`\${o.host}:\${o.port}\\n\`);
  process.exit(86);
};
`;

describe('sls package / sls deploy: a bad catalog, the README\'s example values', () => {
  /** A copy of the project (node_modules linked), so packaging here leaves the repository's .serverless alone. */
  let dir: string;
  let sample: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stepcron-first-hour-'));
    for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'no-network.cjs'), NO_NETWORK);
    sample = readFileSync(join(dir, 'workflows/jobs.yml'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `sls <args>` in the copy: its output, exit code, and the connections it tried (none, or the first). */
  function slsIn(args: string[], catalog = sample): Promise<{ code: number | null; output: string; connections: string[] }> {
    writeFileSync(join(dir, 'workflows/jobs.yml'), catalog);
    const record = join(dir, 'connections.txt');
    rmSync(record, { force: true });
    const env = { ...slsEnv, STEPCRON_TEST_NET: record, NODE_OPTIONS: `--require ${join(dir, 'no-network.cjs')}` };
    return new Promise((resolve, reject) => {
      const child = spawn(sls, args, { cwd: dir, env });
      let output = '';
      child.stdout.on('data', (chunk) => { output += chunk; });
      child.stderr.on('data', (chunk) => { output += chunk; });
      child.on('error', reject);
      child.on('close', (code) => resolve({
        code, output, connections: existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : [],
      }));
    });
  }

  const broken = 'jobs:\n  broken:\n    description: x\n    schedule: cron(0 2 * * ? *)\n    timezone: Mars/Base\n    command: [run]\n';

  // sls package with a bad catalog and the example values' warning: test/template.test.ts, on the packages it makes.
  it('sls deploy prints a bad catalog\'s problems once, as stepcron validate does, and exits 1 before any AWS call', async () => {
    // Prepare: what stepcron validate says about the same catalog
    writeFileSync(join(dir, 'workflows/jobs.yml'), broken);
    const validate = spawnSync(process.execPath, [join(ROOT, 'bin/stepcron.cjs'), 'validate', '--catalog', 'workflows/jobs.yml'], { cwd: dir, encoding: 'utf8' });
    const problems = validate.stderr.split('\n').filter((l) => l.startsWith('  - '));
    // Act
    const result = await slsIn(['deploy', '--stage', 'dev'], broken);
    // Assess
    expect(result.code).toBe(1);
    expect(problems).toHaveLength(2);
    // The same lines, each once, none with osls's trailing comma.
    expect(result.output.split('\n').filter((l) => l.startsWith('  - '))).toEqual(problems);
    expect(result.output.match(/^stepcron: .*jobs\.yml: 2 problems$/gm)).toHaveLength(1);
    expect(result.output).not.toMatch(/Cannot resolve|Variables resolution|Received rejection/);
    expect(result.connections).toEqual([]);
  }, 60_000);

  it('sls deploy stops on the sample\'s example subnets, security group, e-mail and image account, before any AWS call', async () => {
    // Act
    const result = await slsIn(['deploy', '--stage', 'prod']);
    // Assess
    expect(result.code).toBe(1);
    expect(result.connections).toEqual([]);
    expect(result.output).toContain("stepcron: stage prod still has the README's example values; set them before deploying:");
    expect(result.output).toMatch(/^ {2}- subnets: subnet-0f1e2d3c4b5a60001, subnet-0f1e2d3c4b5a60002, subnet-0f1e2d3c4b5a60003 are examples: set subnets to your VPC's private subnet ids under params: for stage prod/m);
    expect(result.output).toMatch(/^ {2}- securityGroups: sg-0f1e2d3c4b5a60001 is an example/m);
    expect(result.output).toMatch(/^ {2}- notifyEmails: oncall@example\.com cannot receive mail/m);
    expect(result.output).toMatch(/^ {2}- jobs nightly-report, hourly-cleanup, tenant-sync: image 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/stepcron-jobs:1\.4\.2 is in the example account 123456789012/m);
    expect(result.output).toContain('--param="allowExampleValues=true"');
  }, 60_000);

  it('--param="allowExampleValues=true" lets the deploy go on (to its first AWS call, here refused), with a warning', async () => {
    // Act
    const result = await slsIn(['deploy', '--stage', 'dev', '--param', 'allowExampleValues=true']);
    // Assess
    expect(result.code).toBe(86);
    expect(result.connections[0]).toMatch(/^[a-z0-9.-]+\.amazonaws\.com:443$/);
    expect(result.output).toContain("stepcron: stage dev still has the README's example values (allowExampleValues=true):");
    expect(result.output).toMatch(/^ {2}- subnets: subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002 are examples/m);
  }, 60_000);
});

describe('timeouts: retryOn: [timeout]', () => {
  /** Its first attempt sleeps past the 1 s timeout; later attempts (a marker file exists) finish at once. */
  const slowOnce = (fields: string[]) => workspace({
    slow: { command: 'if [ -e attempted ]; then echo second attempt; else touch attempted; sleep 30; fi', fields: ['timeoutSeconds: 1', 'retryIntervalSeconds: 1', ...fields] },
  });

  it('retries a timed-out run after stopping its task, and the step line reads like a sentence', async () => {
    // Prepare
    const dir = slowOnce(['retries: 1', 'retryOn: [timeout]']);
    // Act
    const result = await startCli(['run', 'slow', '--catalog', 'jobs.yml', '--json'], { cwd: dir }).done;
    // Assess
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(result.code).toBe(0);
    expect(summary).toMatchObject({ status: 'SUCCEEDED' });
    expect(result.stdout).toContain('second attempt');
    expect(result.stderr).toMatch(/✗ RunTask +\d+\.\d+s {2}timed out after 1s \(timeoutSeconds\); stopping the task\n/);
    expect(result.stderr).not.toContain('States.Timeout: States.Timeout');
    // The first task was stopped before the retry started.
    expect(result.stderr.indexOf('✓ StopTimedOutTasks')).toBeGreaterThan(result.stderr.indexOf('timed out after'));
    expect(result.stderr.indexOf('↻ retry 1: attempt 2')).toBeGreaterThan(result.stderr.indexOf('✓ StopTimedOutTasks'));
  }, 30_000);

  it('by default a timed-out run is not retried, whatever retries says (as in Kubernetes and AWS Batch)', async () => {
    // Prepare
    const dir = slowOnce(['retries: 1']);
    // Act
    const result = await startCli(['run', 'slow', '--catalog', 'jobs.yml'], { cwd: dir }).done;
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^TIMED_OUT +slow/m);
    expect(result.stderr).not.toContain('retrying');
    expect(result.stdout).not.toContain('second attempt');
  }, 30_000);

  it('refuses retryOn values it does not know, and retryOn: [timeout] with nothing to retry', () => {
    const catalog = (fields: string) => `jobs:\n  a:\n    description: a\n    schedule: rate(1 hour)\n    image: a:1\n    command: [run]\n${fields}`;
    expect(() => jobFrom(catalog('    retryOn: [exit]\n'))).toThrow(/jobs\.a\.retryOn\.0: .*timeout/);
    expect(() => jobFrom(catalog('    retryOn: timeout\n'))).toThrow(/jobs\.a\.retryOn: must be a list: \[timeout\]/);
    expect(() => jobFrom(catalog('    retries: 0\n    retryOn: [timeout]\n'))).toThrow(CatalogError);
    expect(() => jobFrom(catalog('    retries: 0\n    retryOn: [timeout]\n'))).toThrow(/jobs\.a\.retryOn: .*retries is 0/);
  });

  it('a fan-out that retries timeouts plans its inline limit for the longer retry path', () => {
    const yaml = (retryOn: string) => `jobs:\n  f:\n    description: f\n    schedule: rate(1 hour)\n    image: f:1\n    command: [run]\n    retries: 2\n${retryOn}    fanOut:\n      itemsPath: $.items\n`;
    expect(inlineItemLimit(jobFrom(yaml('    retryOn: [timeout]\n')))).toBeLessThan(inlineItemLimit(jobFrom(yaml(''))));
  });
});

describe('sample events: durations from the event itself', () => {
  const files = readdirSync(join(ROOT, 'events')).filter((f) => f.startsWith('notify-')).map((f) => f.replace(/\.json$/, ''));

  it.each(files)('%s ends after it starts, and its notification says how long it ran, not how long ago', (name) => {
    // Prepare
    const event = NotifyEventSchema.parse(loadEvent<NotifyEvent>(name));
    // Act: formatted a year after the sample run
    const { message } = formatNotification(event, new Date(Date.parse(event.startTime) + 365 * 86_400_000));
    // Assess
    const ran = Date.parse(event.endTime!) - Date.parse(event.startTime);
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(86_400_000);
    expect(message).toMatch(/^Duration: (\d+m \d+s|\d+s)$/m);
    // The log group the stage really has (workflows/resources.ts jobsLogGroup).
    expect(event.logGroup).toBe('/stepcron/dev/jobs');
  });

  it('sls invoke local -f notify prints the sample run\'s duration; -f precheck names a refused input\'s error as Lambda does', () => {
    // Act
    const result = spawnSync(sls, ['invoke', 'local', '-f', 'notify', '--path', 'events/notify-failure.json'], { cwd: ROOT, env: slsEnv, encoding: 'utf8' });
    const refused = spawnSync(sls, ['invoke', 'local', '-f', 'precheck', '--path', 'events/precheck-invalid-input.json'], { cwd: ROOT, env: slsEnv, encoding: 'utf8' });
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Duration: 4m 12s$/m);
    // The error type is the name the definitions' Catch matches (issue 13: the minified bundle answered "S").
    expect(refused.status).toBe(1);
    expect(JSON.parse(refused.stdout.slice(refused.stdout.indexOf('{')))).toMatchObject({
      errorType: 'InvalidInputError', errorMessage: expect.stringMatching(/^input\.scheduledTime: must be an ISO-8601 time/),
    });
  }, 90_000);

  it('the definition sends the notify state its entered time as endTime, after the task ran', async () => {
    // Prepare: a task that takes 1.2 s
    const job = jobFrom('jobs:\n  t:\n    description: t\n    schedule: rate(1 hour)\n    image: t:1\n    command: [run]\n    notify: { onSuccess: true }\n');
    const before = Date.now();
    // Act
    const { outcome, calls } = await runJob(job, { runTask: () => new Promise((resolve) => setTimeout(() => resolve(ecsTask(0)), 1200)) });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const [event] = calls.notify;
    const ran = Date.parse(event!.endTime!) - Date.parse(event!.startTime);
    expect(ran).toBeGreaterThanOrEqual(1200);
    expect(Date.parse(event!.endTime!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(event!.startTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(formatNotification(event!, new Date(Date.now() + 3_600_000)).message).toMatch(/^Duration: 1s$/m);
  });
});

describe('events/ samples for the scheduler', () => {
  it('name the default stage (dev) and one execution id each', () => {
    const files = readdirSync(join(ROOT, 'events')).filter((f) => f.startsWith('schedule-'));
    const samples = files.map((f) => JSON.parse(readFileSync(join(ROOT, 'events', f), 'utf8')) as { scheduleArn: string; schedulerExecutionId: string });
    for (const s of samples) expect(s.scheduleArn).toMatch(/:schedule\/default\/stepcron-dev-/);
    expect(new Set(samples.map((s) => s.schedulerExecutionId)).size).toBe(samples.length);
  });
});
