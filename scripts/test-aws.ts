// `npm run test:aws -- --stage <s> --subnets <ids> --security-groups <ids>`: the live test, for whoever has an AWS
// account. It deploys a throwaway stage of a test catalog (one job of each shape, busybox, cents of compute), starts one
// run of each with the CLI (`stepcron start --aws`), waits for them (`stepcron runs --aws`), checks each outcome and
// that each failure's notification reached an SQS queue of its own subscribed to the stage's topic, then removes the
// stage and the queue, whatever happened before. Without AWS credentials it prints one line and exits 0. README:
// Testing says what it needs and costs. The deploy runs from a copy of the project (the test catalog in its
// workflows/jobs.yml), so your catalog and .serverless are never touched.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// osls's own dependency (the project deploys with osls), as in cli/ops/remove-stage.cjs.
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { parseDocument } from 'yaml';
import { parseCatalog } from '../workflows/catalog';
import { stageProblem } from '../workflows/names';

const ROOT = join(__dirname, '..');
/** Small, public, on every architecture: pulled without an ECR repository of your own (it needs a route to the internet). */
export const DEFAULT_IMAGE = 'public.ecr.aws/docker/library/busybox:1.37';
/** The S3 fan-out's items, uploaded to the stage bucket's items/ folder (the only place a run's itemsFrom may point). */
export const S3_ITEMS = ['one', 'two', 'three'];
export const S3_ITEMS_KEY = 'items/stepcron-test-aws.json';

export interface Options {
  stage: string;
  subnets: string;
  securityGroups: string;
  assignPublicIp: 'ENABLED' | 'DISABLED';
  image: string;
  region?: string;
  profile?: string;
  /** How long to wait for the runs before giving up (and removing the stage). */
  waitMinutes: number;
}

export class UsageError extends Error {}

const USAGE = 'usage: npm run test:aws -- --stage <throwaway stage> --subnets <id,id> --security-groups <id> ' +
  '[--assign-public-ip ENABLED|DISABLED] [--image <image>] [--region <r>] [--profile <p>] [--wait-minutes 20]';

export function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!name.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'; ${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value; ${USAGE}`);
    flags.set(name.slice(2), value);
  }
  const known = ['stage', 'subnets', 'security-groups', 'assign-public-ip', 'image', 'region', 'profile', 'wait-minutes'];
  const unknown = [...flags.keys()].filter((k) => !known.includes(k));
  if (unknown.length) throw new UsageError(`unknown option --${unknown[0]}; ${USAGE}`);
  const need = (k: string) => {
    const v = flags.get(k);
    if (!v) throw new UsageError(`--${k} is required; ${USAGE}`);
    return v;
  };
  const stage = need('stage');
  const problem = stageProblem(stage);
  if (problem) throw new UsageError(`--stage: ${problem}`);
  const assignPublicIp = flags.get('assign-public-ip') ?? 'DISABLED';
  if (assignPublicIp !== 'ENABLED' && assignPublicIp !== 'DISABLED') throw new UsageError('--assign-public-ip: ENABLED or DISABLED');
  const waitMinutes = Number(flags.get('wait-minutes') ?? 20);
  if (!Number.isInteger(waitMinutes) || waitMinutes < 1) throw new UsageError('--wait-minutes: a whole number of minutes');
  const region = flags.get('region');
  const profile = flags.get('profile');
  return {
    stage, subnets: need('subnets'), securityGroups: need('security-groups'), assignPublicIp,
    image: flags.get('image') ?? DEFAULT_IMAGE, waitMinutes, ...(region && { region }), ...(profile && { profile }),
  };
}

/**
 * One job of each shape. Every job is off (`enabled: false`): deployed, never started by its schedule; the test starts
 * each run by hand. No retries, so a failure ends at once and the test stays short.
 */
export function testCatalog(image = DEFAULT_IMAGE): string {
  return `# The live test's catalog (scripts/test-aws.ts): one job of each shape, started by hand only.
defaults:
  image: ${JSON.stringify(image)}
  enabled: false
  schedule: cron(0 3 1 1 ? *)
  cpu: 256
  memory: 512
  retries: 0
  timeoutSeconds: 300
  notify: { onFailure: true, onSuccess: false }
jobs:
  single:
    description: One Fargate task that succeeds
    command: [sh, -c, 'echo single ok']
  spot:
    description: One Fargate Spot task that succeeds
    capacity: spot
    command: [sh, -c, 'echo spot ok']
  fanout-inline:
    description: Three items on an inline Map
    command: [sh, -c, 'echo "item $STEPCRON_ITEM"']
    fanOut: { items: [a, b, c], maxConcurrency: 3 }
  fanout-s3:
    description: Items from an S3 object (the run's itemsFrom) on a Distributed Map
    command: [sh, -c, 'echo "item $STEPCRON_ITEM"']
    fanOut: { itemsPath: $.items, maxConcurrency: 3 }
  failing:
    description: Exits 3, fails at once and notifies
    command: [sh, -c, 'echo failing on purpose >&2; exit 3']
  timing-out:
    description: Sleeps past its 60 s timeout, is stopped and notifies
    command: [sleep, '600']
    timeoutSeconds: 60
  buffered:
    description: A second run waits for the first and starts when it ends
    concurrency: buffer
    command: [sh, -c, 'sleep 45; echo buffered ok']
`;
}

/** What each run must end as, read as `stepcron runs --aws --json` reports it (a Fail state is FAILED on AWS). */
export interface Expectation {
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  exitCode?: number;
  /** A notification reaches the stage topic (failures notify; successes do not, notify.onSuccess is false). */
  notified: boolean;
}

export const EXPECTED: Record<string, Expectation> = {
  single: { status: 'SUCCEEDED', exitCode: 0, notified: false },
  spot: { status: 'SUCCEEDED', exitCode: 0, notified: false },
  'fanout-inline': { status: 'SUCCEEDED', notified: false },
  'fanout-s3': { status: 'SUCCEEDED', notified: false },
  failing: { status: 'FAILED', error: 'JobFailed', exitCode: 3, notified: true },
  // The task is stopped (FindTimedOutTasks, StopTimedOutTasks) before the run fails.
  'timing-out': { status: 'FAILED', error: 'JobTimedOut', notified: true },
  // The first of two runs started together; the second is checked by judgeBuffered.
  buffered: { status: 'SUCCEEDED', exitCode: 0, notified: false },
};

/** A run as `stepcron runs --aws --json` prints it (cli/ops/types.ts RunRow), the fields the test reads. */
export interface Row {
  execution: string;
  status: string;
  error?: string;
  exitCode?: number | null;
  reason?: string;
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'SKIPPED']);

/** The run's problems against its expectation, one line each (none: as expected); undefined while it still runs. */
export function judge(job: string, row: Row | undefined, expected: Expectation): string[] | undefined {
  if (!row || !FINISHED.has(row.status)) return undefined;
  const problems: string[] = [];
  if (row.status !== expected.status) problems.push(`${job}: ${row.execution} ended ${row.status}${row.error ? ` (${row.error})` : ''}, expected ${expected.status}`);
  if (expected.error && row.error !== expected.error) problems.push(`${job}: ${row.execution} failed with ${row.error ?? 'no error'}, expected ${expected.error}`);
  if (expected.exitCode !== undefined && row.exitCode !== expected.exitCode) {
    problems.push(`${job}: ${row.execution} exit code ${row.exitCode ?? 'none'}, expected ${expected.exitCode}`);
  }
  return problems;
}

/**
 * concurrency buffer: of the first run A and the second B (started while A ran), B is SKIPPED as buffered, and when A
 * ends the precheck starts B again as `<B>-buffered-<hash>`, which succeeds. undefined while that is still to come.
 */
export function judgeBuffered(rows: Row[], second: string): string[] | undefined {
  const b = rows.find((r) => r.execution === second);
  const again = rows.find((r) => r.execution.startsWith(`${second}-buffered-`));
  if (!b || !FINISHED.has(b.status)) return undefined;
  if (b.status !== 'SKIPPED' || !b.reason?.startsWith('buffered')) {
    return [`buffered: the second run ${second} ended ${b.status}${b.reason ? ` (${b.reason})` : ''}, expected SKIPPED "buffered: starts when … ends"`];
  }
  if (!again || !FINISHED.has(again.status)) return undefined;
  return again.status === 'SUCCEEDED' ? [] : [`buffered: ${again.execution}, the waiting run started again, ended ${again.status}${again.error ? ` (${again.error})` : ''}`];
}

/** An SNS notification as the queue receives it (the SNS envelope, raw delivery off). */
export interface Notification {
  Subject?: string;
  Message?: string;
}

/** Whether a notification tells of this run: handlers/lib/notify.ts subjects start `[stepcron <stage>] <job> `. */
export function notifies(n: Notification, stage: string, job: string, execution: string): boolean {
  return (n.Subject ?? '').startsWith(`[stepcron ${stage}] ${job} `) && (n.Message ?? '').includes(execution);
}

/** Where the live test must stop at once, as one line; exit 0 when there is nothing to test with. */
export type Preflight = { skip: string } | { credentials: AwsCredentialIdentity; region: string };

/**
 * Credentials and region from the standard chain (environment, profile/SSO, container or instance role), as the CLI
 * finds them; no credentials at all is a skip, not a failure: most who run the tests have no AWS account at hand.
 */
export async function preflight(o: Pick<Options, 'region' | 'profile'>): Promise<Preflight> {
  const sts = new STSClient({ ...(o.region && { region: o.region }), ...(o.profile && { profile: o.profile }) });
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await sts.config.credentials();
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? '';
    // Nothing configured at all is a skip; a profile named but unusable (a typo, an expired SSO session) is a failure.
    const named = o.profile ?? process.env.AWS_PROFILE;
    if (named) throw new Error(`AWS profile ${named}: ${message}`);
    if (!/Could not load credentials from any providers/.test(message)) throw new Error(`AWS credentials: ${message}`);
    return { skip: `no AWS credentials (${message}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY to run it` };
  }
  let region: string;
  try {
    region = await sts.config.region();
  } catch {
    throw new UsageError('credentials found but no region: --region <region> or AWS_REGION');
  }
  return { credentials, region };
}

// ---- AWS, for the parts the CLI does not do ----

/** node:crypto as the signer's hash (the SDK's own hash package is not a dependency of this project). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    const bytes = (d: string | ArrayBuffer | ArrayBufferView) => typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/**
 * SQS has no client among this project's dependencies: its JSON protocol, signed with SigV4, is five calls' worth of
 * code (CreateQueue, SetQueueAttributes, GetQueueAttributes, ReceiveMessage, DeleteQueue).
 */
export function sqsCaller(credentials: AwsCredentialIdentity, region: string, endpoint = `https://sqs.${region}.amazonaws.com/`) {
  const signer = new SignatureV4({ credentials, region, service: 'sqs', sha256: NodeSha256 });
  const url = new URL(endpoint);
  return async <T>(action: string, params: Record<string, unknown>): Promise<T> => {
    const body = JSON.stringify(params);
    const signed = await signer.sign({
      method: 'POST', protocol: url.protocol, hostname: url.hostname, path: url.pathname, ...(url.port && { port: Number(url.port) }),
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` },
      body,
    });
    const res = await fetch(url, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`sqs:${action}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

// ---- the run ----

const say = (line: string) => process.stdout.write(`test:aws: ${line}\n`);
/** Ctrl-C (or SIGTERM) ends the waiting, not the test: the stage and the queue are still removed. */
const interrupted = new AbortController();
const sleep = (ms: number) => new Promise<void>((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  interrupted.signal.addEventListener('abort', () => {
    clearTimeout(timer);
    reject(new Error('interrupted'));
  }, { once: true });
});

/** Runs a command, its output prefixed; resolves with its exit code and stdout (kept for --json output). */
function run(cmd: string, args: string[], cwd: string, echo: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { cwd, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c;
      if (echo) process.stdout.write(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c;
      if (echo) process.stderr.write(c);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The copy's serverless.yml with params of the test's own: the runner's network, and no e-mail, Slack or existing
 * cluster of yours (your on-call never hears of the test's failures; the stage gets a cluster it can delete).
 */
export function testServerlessYml(text: string, o: Pick<Options, 'subnets' | 'securityGroups' | 'assignPublicIp'>): string {
  const doc = parseDocument(text);
  doc.set('params', doc.createNode({ default: {
    cluster: '', subnets: o.subnets, securityGroups: o.securityGroups, assignPublicIp: o.assignPublicIp,
    notifyEmails: '', slackWebhookSecret: '', enabledJobs: '*', allowExampleValues: false,
  } }));
  return doc.toString();
}

/** A temporary copy of the project to deploy from: the test catalog and params; node_modules linked. */
export function projectCopy(o: Pick<Options, 'subnets' | 'securityGroups' | 'assignPublicIp' | 'image'>): string {
  const project = mkdtempSync(join(tmpdir(), 'stepcron-test-aws-'));
  for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'handlers', 'workflows', 'cli']) cpSync(join(ROOT, f), join(project, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  writeFileSync(join(project, 'workflows/jobs.yml'), testCatalog(o.image));
  writeFileSync(join(project, 'serverless.yml'), testServerlessYml(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), o));
  return project;
}

/** Whether CloudFormation has this stack (a ValidationError "does not exist" is no). */
async function stackExists(cfn: CloudFormationClient, stack: string): Promise<boolean> {
  try {
    await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ValidationError' && /does not exist/.test((err as Error).message)) return false;
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (err) {
    // No credentials: skipped, whatever the arguments (`npm run test:aws` alone, on a machine without an account).
    const pf = await preflight({});
    if ('skip' in pf) {
      say(`skipped: ${pf.skip}`);
      return 0;
    }
    throw err;
  }
  const pf = await preflight(o);
  if ('skip' in pf) {
    say(`skipped: ${pf.skip}`);
    return 0;
  }
  const { credentials, region } = pf;
  // A catalog the deploy would refuse fails here, in a second, not after minutes of packaging.
  parseCatalog(testCatalog(o.image), { stage: o.stage });
  const aws = { region, ...(o.profile && { profile: o.profile }) };
  const identity = await new STSClient(aws).send(new GetCallerIdentityCommand({})).catch((err: Error) => {
    throw new Error(`cannot use these credentials in ${region} (sts:GetCallerIdentity: ${err.name}: ${err.message}); nothing was deployed`);
  });
  const partition = identity.Arn?.split(':')[1] ?? 'aws';
  const stack = `stepcron-${o.stage}`;
  const cfn = new CloudFormationClient(aws);
  // The test removes its stage at the end: it must never be a stage that exists (yours, or a previous run's).
  if (await stackExists(cfn, stack)) {
    throw new UsageError(`stack ${stack} exists: the live test deploys and then removes its stage, so give it a new one ` +
      `(--stage awstest-<you>), or remove a previous test's with: npx sls remove --stage ${o.stage} --region ${region}`);
  }
  say(`account ${identity.Account}, region ${region}, stage ${o.stage}: deploying, running one job of each shape, removing`);

  const project = projectCopy(o);
  const slsArgs = ['--stage', o.stage, '--region', region, ...(o.profile ? ['--aws-profile', o.profile] : [])];
  const sls = join(ROOT, 'node_modules/.bin/sls');
  const cli = (args: string[]) => run(process.execPath, [join(ROOT, 'bin/stepcron.cjs'), ...args, '--aws', '--stage', o.stage,
    '--region', region, ...(o.profile ? ['--profile', o.profile] : [])], project, false);
  const sqs = sqsCaller(credentials, region);
  const sns = new SNSClient(aws);
  let queueUrl: string | undefined;
  let subscription: string | undefined;
  const problems: string[] = [];
  const startedAt = Date.now();
  const stop = (signal: NodeJS.Signals) => {
    if (interrupted.signal.aborted) return;
    say(`${signal}: removing the stage before exiting (this takes minutes; a second ${signal} leaves it deployed)`);
    interrupted.abort();
    process.once(signal, () => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    say('sls deploy (a few minutes)');
    const deploy = await run(sls, ['deploy', ...slsArgs], project, true);
    if (deploy.code !== 0) throw new Error(`sls deploy exited ${deploy.code}`);

    // The test's own queue, subscribed to the stage topic: what a failure's notification reaches.
    const topicArn = `arn:${partition}:sns:${region}:${identity.Account}:${stack}-notifications`;
    ({ QueueUrl: queueUrl } = await sqs<{ QueueUrl: string }>('CreateQueue', { QueueName: `${stack}-test-aws` }));
    const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['QueueArn'] });
    await sqs('SetQueueAttributes', { QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: Attributes.QueueArn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } }],
    }) } });
    ({ SubscriptionArn: subscription } = await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes.QueueArn, ReturnSubscriptionArn: true })));

    // The S3 fan-out's items, in the stage bucket's items/ folder.
    const bucket = (await cfn.send(new DescribeStackResourceCommand({ StackName: stack, LogicalResourceId: 'FanOutBucket' }))).StackResourceDetail!.PhysicalResourceId!;
    await new S3Client(aws).send(new PutObjectCommand({ Bucket: bucket, Key: S3_ITEMS_KEY, Body: JSON.stringify(S3_ITEMS), ContentType: 'application/json' }));
    const itemsEvent = join(project, 's3-items.json');
    writeFileSync(itemsEvent, JSON.stringify({ itemsFrom: `s3://${bucket}/${S3_ITEMS_KEY}` }));

    // One run of each job; the buffered job twice, the second while the first runs.
    const executions = new Map<string, string>();
    const start = async (job: string, event?: string) => {
      const r = await cli(['start', job, '--json', ...(event ? ['--event', event] : [])]);
      if (r.code !== 0) throw new Error(`stepcron start ${job} --aws exited ${r.code}: ${r.stderr.trim()}`);
      return (JSON.parse(r.stdout) as { execution: string }).execution;
    };
    for (const job of Object.keys(EXPECTED)) executions.set(job, await start(job, job === 'fanout-s3' ? itemsEvent : undefined));
    await sleep(5000);
    const second = await start('buffered');
    say(`started ${[...executions].map(([j, e]) => `${j} ${e}`).join(', ')}; buffered again: ${second}`);

    // Wait for every outcome; `stepcron runs --aws --json` reads them as a user would.
    const verdicts = new Map<string, string[]>();
    const deadline = Date.now() + o.waitMinutes * 60_000;
    while (verdicts.size < executions.size + 1 && Date.now() < deadline) {
      await sleep(15_000);
      for (const [job, execution] of executions) {
        if (verdicts.has(job)) continue;
        const r = await cli(['runs', job, '--json', '-n', '10']);
        if (r.code !== 0) throw new Error(`stepcron runs ${job} --aws exited ${r.code}: ${r.stderr.trim()}`);
        const rows = JSON.parse(r.stdout) as Row[];
        const verdict = judge(job, rows.find((x) => x.execution === execution), EXPECTED[job]!);
        if (verdict) verdicts.set(job, verdict);
        if (job === 'buffered' && !verdicts.has('buffered (second run)')) {
          const b = judgeBuffered(rows, second);
          if (b) verdicts.set('buffered (second run)', b);
        }
      }
      say(`${verdicts.size} of ${executions.size + 1} outcomes in`);
    }
    for (const job of [...executions.keys(), 'buffered (second run)']) {
      const v = verdicts.get(job);
      if (!v) problems.push(`${job}: no outcome within ${o.waitMinutes} minutes`);
      else problems.push(...v);
      say(`${v && v.length === 0 ? 'ok  ' : 'FAIL'} ${job}`);
    }

    // The notifications: every expected one, and none for a run that must not notify.
    const wanted = [...executions].filter(([job]) => EXPECTED[job]!.notified);
    const seen: Notification[] = [];
    const until = Date.now() + 120_000;
    while (Date.now() < until && !interrupted.signal.aborted && !wanted.every(([job, e]) => seen.some((n) => notifies(n, o.stage, job, e)))) {
      const got = await sqs<{ Messages?: Array<{ Body: string }> }>('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 });
      seen.push(...(got.Messages ?? []).map((m) => JSON.parse(m.Body) as Notification));
    }
    for (const [job, e] of executions) {
      const arrived = seen.some((n) => notifies(n, o.stage, job, e));
      if (arrived !== EXPECTED[job]!.notified) problems.push(`${job}: ${EXPECTED[job]!.notified ? 'no notification arrived' : 'notified, but it must not be'} for ${e}`);
    }
    say(`${seen.length} notification(s) received`);
  } catch (err) {
    problems.push(`stopped: ${(err as Error).message}`);
  } finally {
    // Always: the stage (sls remove empties its bucket first), then the queue. What cannot be removed is said.
    if (subscription && subscription !== 'pending confirmation') await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription })).catch(() => undefined);
    say('sls remove');
    const removed = await run(sls, ['remove', ...slsArgs], project, true);
    if (removed.code !== 0) problems.push(`sls remove exited ${removed.code}: remove the stage by hand: npx sls remove --stage ${o.stage} --region ${region}`);
    if (queueUrl) await sqs('DeleteQueue', { QueueUrl: queueUrl }).catch((err: Error) => problems.push(`queue ${queueUrl} not deleted (${err.message}): delete it by hand`));
    rmSync(project, { recursive: true, force: true });
  }
  const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
  if (problems.length) {
    say(`FAILED after ${minutes} min:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return 1;
  }
  say(`passed in ${minutes} min: every job shape ran as expected on AWS, and the stage is removed`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (err: Error) => {
    process.stderr.write(`test:aws: ${err instanceof UsageError ? '' : `${err.name}: `}${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
