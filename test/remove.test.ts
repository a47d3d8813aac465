// `sls remove` of a stage that has run jobs (cli/ops/remove-stage.cjs, hook before:remove:remove): CloudFormation
// deletes only an empty bucket and only a cluster with no running task, so the hook empties the stage bucket and stops
// the remove while tasks run. AWS is aws-sdk-client-mock'ed (response shapes from the S3, ECS and CloudFormation API
// references): no network.
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';

const cfnMock = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const ecs = mockClient(ECSClient);

const ROOT = join(__dirname, '..');
const STACK = 'stepcron-prod';
const BUCKET = 'stepcron-prod-fanoutbucket-1a2b3c4d5e6f';
const CLUSTER = 'stepcron-prod';
const config = { region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

class ServerlessError extends Error {}

/** The plugin as osls constructs it for `sls remove --stage prod`; its log lines are collected. */
function plugin() {
  const Plugin = require('../cli/ops/remove-stage.cjs');
  const logged: string[] = [];
  const provider = {
    getStage: () => 'prod',
    naming: { getStackName: () => STACK },
    getAwsSdkV3Config: async () => config,
    getCloudFormationClient: async () => new CloudFormationClient(config),
  };
  const serverless = { classes: { Error: ServerlessError }, getProvider: () => provider };
  const log = { notice: (t: string) => logged.push(t), warning: (t: string) => logged.push(t) };
  return { hook: () => new Plugin(serverless, {}, { log }).hooks['before:remove:remove'](), logged };
}

/** The stack's resources: logical id → physical id (absent: CloudFormation's "does not exist" ValidationError). */
function stackHas(resources: Record<string, string>) {
  cfnMock.on(DescribeStackResourceCommand).callsFake(({ LogicalResourceId }) => {
    const id = resources[LogicalResourceId];
    if (!id) throw Object.assign(new Error(`Resource ${LogicalResourceId} does not exist for stack ${STACK}`), { name: 'ValidationError' });
    return { StackResourceDetail: { LogicalResourceId, PhysicalResourceId: id, ResourceStatus: 'CREATE_COMPLETE' } };
  });
}

const versions = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ Key: `results/job/run/${from + i}.json`, VersionId: `v${from + i}` }));
const markers = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `items/old-${i}.json`, VersionId: `m${i}` }));

beforeEach(() => {
  cfnMock.reset();
  s3.reset();
  ecs.reset();
  ecs.on(ListTasksCommand).resolves({ taskArns: [] });
});

describe('sls remove empties the stage bucket (FanOutBucket)', () => {
  it('deletes every object version and delete marker over two pages, 1,000 keys a call at most, and says how many', async () => {
    // Prepare: page 1 is S3's full page (1,000 entries: 700 versions, 300 delete markers); page 2 the rest.
    stackHas({ FanOutBucket: BUCKET, Cluster: CLUSTER });
    s3.on(ListObjectVersionsCommand)
      .resolvesOnce({ IsTruncated: true, Versions: versions(700), DeleteMarkers: markers(300), NextKeyMarker: 'results/job/run/699.json', NextVersionIdMarker: 'v699' })
      .resolvesOnce({ IsTruncated: false, Versions: versions(5, 700), DeleteMarkers: [] });
    s3.on(DeleteObjectsCommand).resolves({});
    const { hook, logged } = plugin();

    // Act
    await hook();

    // Assess: every entry deleted once, by key and version; the second page asked from where the first ended.
    const deletes = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
    const deleted = deletes.flatMap((d) => d.Delete!.Objects!);
    expect(deletes.every((d) => d.Bucket === BUCKET && d.Delete!.Objects!.length <= 1000)).toBe(true);
    expect(deleted).toHaveLength(1005);
    expect(new Set(deleted.map((o) => `${o.Key}@${o.VersionId}`)).size).toBe(1005);
    expect(deleted).toContainEqual({ Key: 'items/old-0.json', VersionId: 'm0' });
    expect(deleted).toContainEqual({ Key: 'results/job/run/704.json', VersionId: 'v704' });
    const lists = s3.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { Bucket: BUCKET, KeyMarker: undefined, VersionIdMarker: undefined },
      { Bucket: BUCKET, KeyMarker: 'results/job/run/699.json', VersionIdMarker: 'v699' },
    ]);
    expect(logged).toContain(`stepcron: ${BUCKET}: 1000 deleted so far`);
    expect(logged.at(-1)).toBe(`stepcron: bucket ${BUCKET} emptied: 705 object version(s) and 300 delete marker(s) deleted`);
  });

  it('a stack that is not there is no error: it says so, and osls goes on to remove what is left', async () => {
    cfnMock.on(DescribeStackResourceCommand).rejects(
      Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }));
    const { hook, logged } = plugin();

    await expect(hook()).resolves.toBeUndefined();

    expect(logged.join('\n')).toMatch(`Stack with id ${STACK} does not exist; nothing of FanOutBucket to prepare`);
    expect(s3.calls()).toHaveLength(0);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('a stack without the bucket (or a bucket already deleted) is no error either', async () => {
    stackHas({});
    const { hook, logged } = plugin();
    await hook();
    expect(logged.join('\n')).toMatch(`Resource FanOutBucket does not exist for stack ${STACK}`);
    expect(s3.calls()).toHaveLength(0);

    stackHas({ FanOutBucket: BUCKET });
    s3.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }));
    await hook();
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('access denied stops the remove with one line naming the permission to grant', async () => {
    stackHas({ FanOutBucket: BUCKET });
    s3.on(ListObjectVersionsCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(plugin().hook()).rejects.toThrow(new ServerlessError(
      `stepcron: cannot remove stage prod: access denied to s3:ListBucketVersions on bucket ${BUCKET}; grant it and run sls remove again`));

    // DeleteObjects reports a refused key in its answer (HTTP 200), not as an exception.
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false, Versions: versions(2) });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'results/job/run/0.json', VersionId: 'v0', Code: 'AccessDenied', Message: 'Access Denied' }] });
    await expect(plugin().hook()).rejects.toThrow(/^stepcron: cannot remove stage prod: access denied to s3:DeleteObjectVersion on bucket /);

    cfnMock.on(DescribeStackResourceCommand).rejects(Object.assign(new Error(
      'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStackResource'), { name: 'AccessDenied' }));
    await expect(plugin().hook()).rejects.toThrow(/access denied to cloudformation:DescribeStackResource on stack stepcron-prod;/);
  });

  it('another error deleting an object stops the remove, naming the key and the code', async () => {
    stackHas({ FanOutBucket: BUCKET });
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false, Versions: versions(1) });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'results/job/run/0.json', Code: 'InternalError', Message: 'try again' }] });
    await expect(plugin().hook()).rejects.toThrow(
      `stepcron: could not delete 1 object(s) in bucket ${BUCKET} (first: results/job/run/0.json: InternalError try again); run sls remove again`);
  });
});

describe('sls remove and runs in progress (the stage cluster)', () => {
  it('stops before deleting anything while tasks run in the stack\'s own cluster, saying what to do', async () => {
    stackHas({ FanOutBucket: BUCKET, Cluster: CLUSTER });
    ecs.on(ListTasksCommand).resolves({ taskArns: [`arn:aws:ecs:eu-west-1:123456789012:task/${CLUSTER}/0123456789abcdef`] });

    await expect(plugin().hook()).rejects.toThrow(
      /^stepcron: stage prod has 1 task\(s\) running in cluster stepcron-prod, and a cluster with running tasks cannot be deleted; nothing was removed: /);

    expect(ecs.commandCalls(ListTasksCommand)[0]!.args[0].input).toMatchObject({ cluster: CLUSTER, desiredStatus: 'RUNNING' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('leaves a cluster it did not create alone (the cluster param): no Cluster in the stack, no look at its tasks', async () => {
    stackHas({ FanOutBucket: BUCKET });
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });

    await plugin().hook();

    expect(ecs.calls()).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe('the real `sls remove` (osls 4.3.1) against a loopback fake of AWS', () => {
  /**
   * CloudFormation and S3 answer from this process (AWS_ENDPOINT_URL): the stack has a FanOutBucket holding one
   * object version and one delete marker, and no Cluster; the stack itself "does not exist" for osls's own calls, so
   * the remove stops there. Every request is recorded in order: what the hook did, and that it came first.
   */
  it('empties the stage bucket before osls touches the stack', async () => {
    // Prepare
    const calls: string[] = [];
    const xml = (res: ServerResponse, status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    };
    const missing = (res: ServerResponse, what: string) => xml(res, 400,
      `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${what} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const action = form.get('Action');
        if (action) {
          calls.push(`${action} ${form.get('LogicalResourceId') ?? ''}`.trim());
          if (action === 'DescribeStackResource' && form.get('LogicalResourceId') === 'FanOutBucket') {
            return xml(res, 200, '<DescribeStackResourceResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackResourceResult><StackResourceDetail>' +
              `<StackName>stepcron-dev</StackName><LogicalResourceId>FanOutBucket</LogicalResourceId><PhysicalResourceId>${BUCKET}</PhysicalResourceId>` +
              '<ResourceType>AWS::S3::Bucket</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-12-01T00:00:00Z</LastUpdatedTimestamp>' +
              '</StackResourceDetail></DescribeStackResourceResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStackResourceResponse>');
          }
          return missing(res, action === 'DescribeStackResource' ? `Resource ${form.get('LogicalResourceId')}` : 'Stack with id stepcron-dev');
        }
        // Path-style (the endpoint is an IP address): GET /<bucket>/?versions=, POST /<bucket>/?delete=.
        const s3 = `${req.method} ${req.url?.replace(/=.*$/, '')}`;
        calls.push(`S3 ${s3}`);
        if (s3 === `GET /${BUCKET}/?versions`) {
          return xml(res, 200, '<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>false</IsTruncated>' +
            '<Version><Key>results/job/run/0.json</Key><VersionId>v0</VersionId><IsLatest>true</IsLatest></Version>' +
            '<DeleteMarker><Key>items/old.json</Key><VersionId>m0</VersionId><IsLatest>true</IsLatest></DeleteMarker></ListVersionsResult>');
        }
        if (s3 === `POST /${BUCKET}/?delete`) {
          calls.push(`  deleted ${[...body.matchAll(/<Key>([^<]+)<\/Key><VersionId>([^<]+)<\/VersionId>/g)].map((m) => `${m[1]}@${m[2]}`).join(' ')}`);
          return xml(res, 200, '<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>');
        }
        return xml(res, 404, '<Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;
    Object.assign(env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off',
    });

    // Act
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(join(ROOT, 'node_modules/.bin/sls'), ['remove', '--stage', 'dev'], { cwd: ROOT, env });
      let text = '';
      child.stdout.on('data', (c) => { text += c; });
      child.stderr.on('data', (c) => { text += c; });
      child.on('error', reject);
      child.on('close', () => resolve(text));
    }).finally(() => server.close());

    // Assess: the hook's calls, in order, before osls's first look at the stack (DescribeStacks).
    const hook = calls.filter((c) => !c.startsWith('GetCallerIdentity'));
    expect(hook.slice(0, 5)).toEqual([
      'DescribeStackResource Cluster',
      'DescribeStackResource FanOutBucket',
      `S3 GET /${BUCKET}/?versions`,
      `S3 POST /${BUCKET}/?delete`,
      '  deleted results/job/run/0.json@v0 items/old.json@m0',
    ]);
    expect(hook[5]).toBe('DescribeStacks');
    expect(output).toContain(`stepcron: bucket ${BUCKET} emptied: 1 object version(s) and 1 delete marker(s) deleted`);
  }, 60_000);
});
