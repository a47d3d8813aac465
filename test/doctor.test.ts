// `stepcron doctor`: the offline checks on real catalogs and serverless.yml files in a temporary project; the AWS checks
// against mocked SDK clients (aws-sdk-client-mock, response shapes from the API references), each check's pass and each
// failure line; and the CLI itself without credentials, region or network (a closed loopback port). No AWS call leaves
// this process: every client is mocked, and the spawned CLI reaches only 127.0.0.1.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client,
  type RouteTable, type SecurityGroup, type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetAccountSummaryCommand, GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListScheduleGroupsCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  awsChecks, checkCluster, checkImages, checkNetwork, checkQuotas, checkSecrets, checkServiceLinkedRole, checkStageNames, doctorClients, type Identity,
} from '../cli/doctor-aws';
import { deployRegion, doctor, type Line, offlineChecks, parseEcrImage, parseSecretRef, type Stage } from '../cli/doctor';
import { parseCatalog } from '../workflows/catalog';
import { exampleValues, stageTemplate, toStageParams } from '../workflows/resources';
import { DEPLOY_TIME_PLACEHOLDERS, readStageParams } from '../cli/stage';
import { startCli } from './support/cli';
import { SECRET_FORMS, shapesCatalog } from './support/shapes-catalog';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const ecs = mockClient(ECSClient);
const iam = mockClient(IAMClient);
const ecr = mockClient(ECRClient);
const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const scheduler = mockClient(SchedulerClient);
const mocks = [sts, ec2, ecs, iam, ecr, secretsManager, ssm, sfn, scheduler];

const ACCOUNT = '111122223333';
const WHO: Identity = { account: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/alice`, region: 'eu-west-1' };
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/stepcron-jobs:2.0.0`;
const DB_SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:reporting/db-AbCdEf`;
const [SUBNET_A, SUBNET_B, GROUP] = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1', 'sg-0123456789abcdef0'];
const [VPC, OTHER_VPC, RTB_PRIVATE, RTB_MAIN, NAT_A, NAT_B] = ['vpc-05d8c6b7a4f3e2d10', 'vpc-0c3b2a1f0e9d8c7b6', 'rtb-0a4c1e9b7d5f3a201', 'rtb-0f2e4d6c8b0a1c3e5', 'nat-07e5d3c1b9a8f6e42', 'nat-0b1d3f5a7c9e2b4d6'];

/** A catalog of two jobs: an SSM parameter, one key of a JSON secret, and the image above. */
const CATALOG = [
  'defaults:', `  image: ${IMAGE}`, 'jobs:',
  '  report:', '    description: nightly report', '    schedule: cron(30 2 * * ? *)', '    command: [sh, jobs/report.sh]',
  '    secrets:', '      DB_PASSWORD: /stepcron/reporting/db-password', `      DB_USER: "${DB_SECRET}:username::"`,
  '  cleanup:', '    description: hourly cleanup', '    schedule: rate(1 hour)', '    command: [sh, jobs/cleanup.sh]', '',
].join('\n');
/** As the project's serverless.yml: `sls deploy` goes to eu-west-1 unless given --region. */
const DEPLOY_REGION = "${opt:region, 'eu-west-1'}";
const SERVERLESS = (params: string[], region = DEPLOY_REGION) =>
  ['service: stepcron', 'provider:', `  region: ${JSON.stringify(region)}`, 'params:', '  default:', ...params.map((p) => `    ${p}`), ''].join('\n');
const PARAMS = [`subnets: ${SUBNET_A},${SUBNET_B}`, `securityGroups: ${GROUP}`, 'assignPublicIp: DISABLED', "notifyEmails: ''", "enabledJobs: '*'"];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project as `sls deploy` sees it: workflows/jobs.yml and serverless.yml. */
function project(catalog = CATALOG, params = PARAMS, region = DEPLOY_REGION): { catalog: string; serverless: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-doctor-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(join(dir, 'workflows', 'jobs.yml'), catalog);
  writeFileSync(join(dir, 'serverless.yml'), SERVERLESS(params, region));
  return { catalog: join(dir, 'workflows', 'jobs.yml'), serverless: join(dir, 'serverless.yml'), dir };
}

function stageOf(catalog = CATALOG, params: Record<string, unknown> = { subnets: `${SUBNET_A},${SUBNET_B}`, securityGroups: GROUP }, roles = 6): Stage {
  return { stage: 'prod', jobs: parseCatalog(catalog, { stage: 'prod' }), params: toStageParams('prod', params), roles };
}

const problems = (lines: Line[]) => lines.filter((l) => l.kind === 'problem').map((l) => l.text);
const notChecked = (lines: Line[]) => lines.filter((l) => l.kind === 'unchecked').map((l) => l.text);
const passed = (lines: Line[]) => lines.filter((l) => l.kind === 'ok').map((l) => l.text);

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
const denied = (action: string) => awsError('AccessDeniedException', `User: ${WHO.arn} is not authorized to perform: ${action}`);

// The network of a private subnet with a NAT gateway (A, its own table) and one on the VPC's main table (B).
const TABLES: RouteTable[] = [
  { RouteTableId: RTB_PRIVATE, VpcId: VPC, Associations: [{ SubnetId: SUBNET_A, RouteTableId: RTB_PRIVATE, Main: false }],
    Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: NAT_A, State: 'active' }] },
  { RouteTableId: RTB_MAIN, VpcId: VPC, Associations: [{ Main: true, RouteTableId: RTB_MAIN }],
    Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: NAT_B, State: 'active' }] },
];
const ALL_OUT: SecurityGroup = { GroupId: GROUP, VpcId: VPC, GroupName: 'jobs', IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] };

function network(o: { tables?: RouteTable[]; endpoints?: VpcEndpoint[]; groups?: SecurityGroup[]; subnets?: Array<{ SubnetId: string; VpcId: string }> } = {}) {
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: o.subnets ?? [{ SubnetId: SUBNET_A, VpcId: VPC }, { SubnetId: SUBNET_B, VpcId: VPC }] });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: o.groups ?? [ALL_OUT] });
  ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: o.tables ?? TABLES });
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: o.endpoints ?? [] });
}

/** An account where all is well: the network above, the role, the image, both secrets, room in every quota. */
function healthyAccount() {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: WHO.arn, UserId: 'AROAEXAMPLE:alice' });
  network();
  iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'AWSServiceRoleForECS', Path: '/aws-service-role/ecs.amazonaws.com/', Arn: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`, RoleId: 'AROA1', CreateDate: new Date(), AssumeRolePolicyDocument: '{}' } });
  iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { Roles: 212, RolesQuota: 1000, AttachedPoliciesPerRoleQuota: 10 } });
  iam.on(ListRolesCommand).resolves({ Roles: [], IsTruncated: false });
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ repositoryName: 'stepcron-jobs', imageTags: ['2.0.0'], imageDigest: 'sha256:0f' }] });
  ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: '/stepcron/reporting/db-password', Type: 'SecureString', Value: 'AQICAHencrypted' }], InvalidParameters: [] });
  secretsManager.on(GetSecretValueCommand).resolves({ ARN: DB_SECRET, Name: 'reporting/db', SecretString: '{"username":"report-writer","password":"hunter2-very-secret"}', VersionStages: ['AWSCURRENT'] });
  secretsManager.on(DescribeSecretCommand).resolves({ ARN: DB_SECRET, Name: 'reporting/db' });
  sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
  scheduler.on(ListScheduleGroupsCommand).resolves({ ScheduleGroups: [{ Name: 'default', State: 'ACTIVE' }] });
}

const clients = () => doctorClients({ region: 'eu-west-1' });

beforeEach(() => {
  for (const m of mocks) m.reset();
});

describe('reference forms', () => {
  it('every secret form ECS accepts parses, and names the secret a lookup needs (the JSON-key form without its key fields)', () => {
    expect(parseSecretRef(SECRET_FORMS.SSM_NAME)).toEqual({ service: 'ssm', name: SECRET_FORMS.SSM_NAME });
    expect(parseSecretRef(SECRET_FORMS.SSM_ARN)).toEqual({ service: 'ssm', name: SECRET_FORMS.SSM_ARN, region: 'eu-west-1', account: ACCOUNT });
    expect(parseSecretRef(SECRET_FORMS.SM_FULL_ARN)).toEqual({ service: 'secretsmanager', secretId: SECRET_FORMS.SM_FULL_ARN, region: 'eu-west-1', account: ACCOUNT });
    expect(parseSecretRef(SECRET_FORMS.SM_PARTIAL_ARN)).toMatchObject({ secretId: SECRET_FORMS.SM_PARTIAL_ARN });
    const json = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:shapes/json-GhIjKl`;
    expect(parseSecretRef(SECRET_FORMS.SM_JSON_KEY)).toEqual({ service: 'secretsmanager', secretId: json, region: 'eu-west-1', account: ACCOUNT, key: 'password' });
    expect(parseSecretRef(SECRET_FORMS.SM_JSON_KEY_STAGE)).toMatchObject({ secretId: json, key: 'username', versionStage: 'AWSPREVIOUS' });
    expect(parseSecretRef(SECRET_FORMS.SM_JSON_KEY_VERSION)).toMatchObject({ secretId: json, key: 'host', versionId: '0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7' });
  });

  it('a JSON-key form with its colons dropped, or with both a stage and an id, is refused with the form to write', () => {
    expect(parseSecretRef(`${DB_SECRET}:password`)).toBe(`'${DB_SECRET}:password' has 1 field after the secret; ECS reads <secret ARN>:<json-key>:<version-stage>:<version-id>, every colon kept: write '${DB_SECRET}:password::'`);
    expect(parseSecretRef(`${DB_SECRET}:password:AWSCURRENT:0e1f`)).toMatch(/gives both a version stage and a version id: ECS takes one of them/);
  });

  it('ECR images by tag, digest or none (latest); other registries are not ECR', () => {
    expect(parseEcrImage(IMAGE)).toEqual({ account: ACCOUNT, region: 'eu-west-1', repository: 'stepcron-jobs', tag: '2.0.0' });
    expect(parseEcrImage(`${ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/team/jobs@sha256:abc`)).toEqual({ account: ACCOUNT, region: 'us-east-2', repository: 'team/jobs', digest: 'sha256:abc' });
    expect(parseEcrImage(`${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/jobs`)).toMatchObject({ region: 'cn-north-1', repository: 'jobs', tag: 'latest' });
    expect(parseEcrImage('public.ecr.aws/docker/library/busybox:1.36')).toBeUndefined();
    expect(parseEcrImage('ghcr.io/acme/jobs:1.4')).toBeUndefined();
    expect(parseEcrImage('busybox')).toBeUndefined();
  });
});

describe('offline checks', () => {
  it('a stage ready to deploy: every check passes and says what it looked at, exit 0', async () => {
    // Prepare
    const p = project();
    const out: string[] = [];
    // Act
    const code = await doctor({ catalog: p.catalog, stage: 'prod', aws: false }, p.serverless, (t) => void out.push(t));
    // Assess
    expect(code).toBe(0);
    const text = out.join('');
    expect(text).toContain('  ✓ catalog: ');
    expect(text).toContain(`  ✓ params: 2 subnets, 1 security group, assignPublicIp DISABLED, cluster stepcron-prod (the stack creates it)\n`);
    expect(text).toContain('  ✓ example values: none left');
    expect(text).toContain('  ✓ jobs: 2 of 2 scheduled on prod\n');
    expect(text).toMatch(/ {2}✓ stacks: \d+ nested stacks, each within CloudFormation's 500 resources and 1 MB\n/);
    expect(text).toContain('  ✓ secrets: 2 references in a form ECS reads\n');
    expect(text).toContain('  ? AWS: not checked (network, images, secrets, quotas): npx stepcron doctor --stage prod --aws\n');
    expect(text.trimEnd().split('\n').at(-1)).toBe('no problems; 1 not checked (?): ready for npx sls deploy --stage prod');
  });

  it('a catalog that does not validate: each of its problems is a line, nothing further is checked', async () => {
    const p = project(CATALOG.replace('command: [sh, jobs/cleanup.sh]', 'command: [sh, jobs/cleanup.sh]\n    memory: 4096\n    timeoutSecond: 5'));
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(stage).toBeUndefined();
    expect(problems(lines)).toEqual([
      `catalog: ${p.catalog}: jobs.cleanup.timeoutSecond: unknown field: did you mean timeoutSeconds?`,
      `catalog: ${p.catalog}: jobs.cleanup.memory: 4096 MiB is not a Fargate size for cpu 256: use 512, 1024, 2048`,
    ]);
  });

  it('params of the wrong shape: one line each, naming the file', async () => {
    const p = project(CATALOG, ['subnets: subnet-xyz,my-subnet', 'securityGroups: default', 'enabledJobs: report,reprot']);
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(stage).toBeUndefined();
    expect(problems(lines)).toEqual([
      `params: subnets: 'subnet-xyz' is not a subnet id (subnet-...) (stage prod in ${p.serverless})`,
      `params: subnets: 'my-subnet' is not a subnet id (subnet-...) (stage prod in ${p.serverless})`,
      `params: securityGroups: 'default' is not a security group id (sg-...) (stage prod in ${p.serverless})`,
      // The setting to change is named: the file and its key (issue 14).
      `params: ${p.serverless} params.default.enabledJobs names a job ${p.catalog} does not have: no job named 'reprot': did you mean report?; ` +
        `change that setting to the catalog's job names (comma-separated) or '*' (stage prod in ${p.serverless})`,
    ]);
  });

  it('assignPublicIp that is neither ENABLED nor DISABLED, and a serverless.yml that is not YAML: one line each', async () => {
    const bad = project(CATALOG, [...PARAMS.filter((p) => !p.startsWith('assignPublicIp')), 'assignPublicIp: yes']);
    expect(problems((await offlineChecks({ catalog: bad.catalog, stage: 'prod' }, bad.serverless)).lines)).toEqual([
      `params: assignPublicIp must be ENABLED or DISABLED, not 'yes' (stage prod in ${bad.serverless})`,
    ]);
    writeFileSync(bad.serverless, 'params:\n  default: [\n');
    expect(problems((await offlineChecks({ catalog: bad.catalog, stage: 'prod' }, bad.serverless)).lines)).toEqual([
      expect.stringMatching(new RegExp(`^params: cannot read stage params from ${bad.serverless}: .* \\(stage prod in `)),
    ]);
  });

  it('a cluster is a name: an ARN is refused with the name to give, anything else ECS would not take too', async () => {
    // The templates build the cluster's ARN from this name; an ARN in it gave cluster/arn:aws:ecs:... and every run AccessDenied.
    const arn = project(CATALOG, [...PARAMS, `cluster: arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/shared`]);
    expect(problems((await offlineChecks({ catalog: arn.catalog, stage: 'prod' }, arn.serverless)).lines)).toEqual([
      `params: cluster: 'arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/shared' is an ARN: give the cluster's name (cluster: shared), ` +
      `which the stack finds in stage prod's own account and region (stage prod in ${arn.serverless})`,
    ]);
    for (const bad of ['my cluster', 'jobs.shared', 'x'.repeat(256), 'arn:aws:ecs:eu-west-1:1:cluster/a b']) {
      const p = project(CATALOG, [...PARAMS, `cluster: '${bad}'`]);
      expect(problems((await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless)).lines)).toEqual([
        `params: cluster: '${bad}' is not an ECS cluster name (up to 255 letters, digits, hyphens, underscores): give an existing cluster's name, ` +
        `or '' for the stack to create one (stage prod in ${p.serverless})`,
      ]);
    }
    const name = project(CATALOG, [...PARAMS, `cluster: Shared_jobs-2`]);
    expect(passed((await offlineChecks({ catalog: name.catalog, stage: 'prod' }, name.serverless)).lines)).toContain(
      'params: 2 subnets, 1 security group, assignPublicIp DISABLED, cluster Shared_jobs-2');
  });

  it('notifyEmails are addresses (name@domain.tld): one line per one that is not', async () => {
    // SNS takes 'oncall' as an email endpoint: a subscription no mail reaches.
    const emails = project(CATALOG, [...PARAMS.filter((p) => !p.startsWith('notifyEmails')), "notifyEmails: 'oncall, ops@acme, team@acme.io,a b@x.io'"]);
    expect(problems((await offlineChecks({ catalog: emails.catalog, stage: 'prod' }, emails.serverless)).lines)).toEqual(['oncall', 'ops@acme', 'a b@x.io'].map((e) =>
      `params: notifyEmails: '${e}' is not an email address (name@domain.tld): write each address in full, comma-separated (stage prod in ${emails.serverless})`));
  });

  it('no serverless.yml: the params cannot be read, said in one line', async () => {
    const p = project();
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, join(p.dir, 'nowhere.yml'));
    expect(stage).toBeUndefined();
    expect(problems(lines)).toEqual([expect.stringMatching(/^params: no .*nowhere\.yml beside the catalog or in this directory: /)]);
  });

  it("the README's example values are problems, as sls deploy refuses them", async () => {
    const p = project(CATALOG.replace(IMAGE, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/stepcron-jobs:1.4.2'),
      ['subnets: subnet-0f1e2d3c4b5a60001', 'securityGroups: sg-0f1e2d3c4b5a60001', 'notifyEmails: oncall@example.com']);
    const { lines } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(problems(lines)).toEqual([
      expect.stringMatching(/^example value: subnets: subnet-0f1e2d3c4b5a60001 is an example: set subnets/),
      expect.stringMatching(/^example value: securityGroups: sg-0f1e2d3c4b5a60001 is an example/),
      expect.stringMatching(/^example value: notifyEmails: oncall@example.com cannot receive mail/),
      expect.stringMatching(/^example value: jobs report, cleanup: image .* is in the example account 123456789012: push the image/),
    ]);
  });

  it('a stage on which no job is scheduled is a problem; some jobs off is a note on the passing line', async () => {
    const none = project(CATALOG, [...PARAMS.slice(0, 2), 'enabledJobs: report']);
    writeFileSync(none.catalog, CATALOG.replace("description: nightly report", 'description: nightly report\n    enabled: { prod: false, default: true }'));
    const some = await offlineChecks({ catalog: none.catalog, stage: 'prod' }, none.serverless);
    expect(problems(some.lines)).toEqual(['jobs: none is scheduled on prod (off: report (enabled: false), cleanup (not in enabledJobs)): enable them for the stage (enabled: in the catalog, enabledJobs in params:)']);
    const dev = await offlineChecks({ catalog: none.catalog, stage: 'dev' }, none.serverless);
    expect(problems(dev.lines)).toEqual([]);
    expect(passed(dev.lines)).toContain('jobs: 1 of 2 scheduled on dev; off: cleanup (not in enabledJobs)');
  });

  it('a secret reference ECS cannot read: one line naming the job, the variable and the form to write', async () => {
    const p = project(CATALOG.replace(`${DB_SECRET}:username::`, `${DB_SECRET}:username`));
    const { lines } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    // The catalog itself refuses the form now (workflows/catalog.ts), so doctor reports the catalog's line.
    expect(problems(lines)).toEqual([expect.stringMatching(/^catalog: .*jobs\.report\.secrets\.DB_USER: a JSON key takes the form .* '.*:username::' \(in quotes\)/)]);
  });

  it('the shapes catalog (every job shape, every secret form, hostile text) passes the offline checks', async () => {
    const p = project(shapesCatalog());
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(problems(lines)).toEqual([]);
    expect(passed(lines)).toContain(`secrets: ${Object.keys(SECRET_FORMS).length} references in a form ECS reads`);
    // Roles come from the template: the stage's shared ones plus the jobs' own (secrets, taskPolicyArns).
    expect(stage!.roles).toBeGreaterThanOrEqual(2);
  });
});

describe('params that are Serverless variables', () => {
  // sls deploy resolves `${...}` in params: doctor, synth and run resolve what osls resolves offline, and take the rest as
  // resolved at deploy (a `?` line in doctor, a placeholder said on stderr in synth and run), never as a problem.
  const ENV = ['STEPCRON_TEST_ONCALL', 'STEPCRON_TEST_GROUP'];
  afterEach(() => {
    for (const name of ENV) delete process.env[name];
  });

  it('${ssm:...} and an unset ${env:...} are "not checked" lines naming the param and the variable, exit 0', async () => {
    const p = project(CATALOG, [...PARAMS.filter((x) => !x.startsWith('notifyEmails')), 'cluster: ${ssm:/infra/cluster-name}', 'notifyEmails: ${env:STEPCRON_TEST_ONCALL}']);
    const out: string[] = [];
    const code = await doctor({ catalog: p.catalog, stage: 'prod', aws: false }, p.serverless, (t) => void out.push(t));
    const text = out.join('');
    expect(code).toBe(0);
    expect(text).not.toContain('✗');
    expect(text).toContain('  ✓ params: 2 subnets, 1 security group, assignPublicIp DISABLED, cluster at deploy\n');
    expect(text).toContain('  ? params: cluster is ${ssm:/infra/cluster-name} (ssm: is read by sls deploy): not checked offline, sls deploy resolves it\n');
    expect(text).toContain('  ? params: notifyEmails is ${env:STEPCRON_TEST_ONCALL} (STEPCRON_TEST_ONCALL is not set here): not checked offline, sls deploy resolves it\n');
    expect(text.trimEnd().split('\n').at(-1)).toBe('no problems; 3 not checked (?): ready for npx sls deploy --stage prod');
  });

  it('${env:...} set here, ${env:..., default}, ${opt:stage}, ${sls:stage}, ${self:...} and ${param:...} are resolved and checked as osls resolves them', async () => {
    const p = project(CATALOG, [`subnets: \${self:custom.subnets}`, `securityGroups: \${env:STEPCRON_TEST_GROUP, '${GROUP}'}`,
      'notifyEmails: ${env:STEPCRON_TEST_ONCALL}', 'slackWebhookSecret: slack-${opt:stage}-${sls:stage}', 'enabledJobs: ${param:jobs}', 'jobs: report']);
    writeFileSync(p.serverless, `${readFileSync(p.serverless, 'utf8')}custom:\n  subnets: [${SUBNET_A}, '\${param:other}']\n`);
    // Written in the stage, the param source takes it over default.
    writeFileSync(p.serverless, readFileSync(p.serverless, 'utf8').replace('params:\n', `params:\n  prod:\n    other: ${SUBNET_B}\n`));
    process.env.STEPCRON_TEST_ONCALL = 'oncall';
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    // The resolved address is checked as any: 'oncall' is no address.
    expect(problems(lines)).toEqual([expect.stringMatching(/^params: notifyEmails: 'oncall' is not an email address/)]);
    expect(notChecked(lines)).toEqual([]);
    expect(stage).toBeUndefined();
    process.env.STEPCRON_TEST_ONCALL = 'ops@acme.io';
    const fixed = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(problems(fixed.lines)).toEqual([]);
    expect(fixed.stage!.params).toMatchObject({ subnets: [SUBNET_A, SUBNET_B], securityGroups: [GROUP], notifyEmails: ['ops@acme.io'], slackWebhookSecret: 'slack-prod-prod', enabledJobs: ['report'] });
  });

  it('a ${self:...} that is not there and a malformed variable: problems, as sls deploy stops at them', async () => {
    const p = project(CATALOG, [...PARAMS.filter((x) => !x.startsWith('subnets')), 'subnets: ${self:custom.nowhere}', 'cluster: ${ssm:/a, ${env:B}}']);
    expect(problems((await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless)).lines)).toEqual([
      expect.stringMatching(/^params: cluster: Invalid variable source at index \d+ in .*: sls deploy stops at it \(stage prod in /),
      `params: subnets: \${self:custom.nowhere}: value not found at "self" source: sls deploy stops at it (stage prod in ${p.serverless})`,
    ]);
  });

  it('--aws: a param resolved at deploy is not looked up (no placeholder cluster or subnet reaches ECS or EC2)', async () => {
    healthyAccount();
    const p = project(CATALOG, ['subnets: ${ssm:/infra/subnets}', 'securityGroups: ${cf:network.JobsGroup}', 'cluster: ${ssm:/infra/cluster-name}']);
    const out: string[] = [];
    const code = await doctor({ catalog: p.catalog, stage: 'prod', aws: true, region: 'eu-west-1' }, p.serverless, (t) => void out.push(t));
    expect(out.join('')).not.toContain('✗');
    expect(code).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('every params problem is reported in one pass: the values\' forms and what needs the catalog together', async () => {
    const p = project(CATALOG, [`cluster: arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/shared`, 'assignPublicIp: yes', 'subnets: my-subnet', `securityGroups: ${GROUP}`, 'enabledJobs: reprot']);
    const { lines, stage } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
    expect(stage).toBeUndefined();
    expect(problems(lines)).toEqual([
      `params: assignPublicIp must be ENABLED or DISABLED, not 'yes' (stage prod in ${p.serverless})`,
      expect.stringMatching(/^params: cluster: '.*' is an ARN: /),
      expect.stringMatching(/^params: subnets: 'my-subnet' is not a subnet id /),
      expect.stringMatching(/^params: .*serverless\.yml params\.default\.enabledJobs names a job .* does not have: no job named 'reprot'/),
    ]);
  });

  it('CloudFormation short forms (!Sub, !GetAtt, !Join, ...) in serverless.yml are read without a warning', async () => {
    const p = project();
    writeFileSync(p.serverless, `${readFileSync(p.serverless, 'utf8')}resources:\n  Resources:\n    Q:\n      Type: AWS::SQS::Queue\n      Properties:\n` +
      "        QueueName: !Sub '${AWS::StackName}-q'\n        Tags: [{ Key: arn, Value: !GetAtt Q.Arn }, { Key: j, Value: !Join [',', [!Ref AWS::Region, !If [c, a, b]]] }]\n" +
      '        Policy: !Sub\n          - x-${A}\n          - { A: !Ref B }\n');
    const warned = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { lines } = await offlineChecks({ catalog: p.catalog, stage: 'prod' }, p.serverless);
      expect(problems(lines)).toEqual([]);
      expect(await deployRegion(undefined, p.serverless)).toMatchObject({ region: 'eu-west-1' });
      expect(warned).not.toHaveBeenCalled();
    } finally {
      warned.mockRestore();
    }
  });
});

describe('readStageParams (synth, run --ecs aws)', () => {
  afterEach(() => void delete process.env.STEPCRON_TEST_ONCALL);

  it('a param resolved at deploy takes its placeholder, said once on stderr; an offline variable its value; a missing self: is a usage error', () => {
    const p = project(CATALOG, [...PARAMS.filter((x) => !x.startsWith('notifyEmails')), 'cluster: ${ssm:/infra/cluster-name}', "notifyEmails: ${env:STEPCRON_TEST_ONCALL, 'a@acme.io'}"]);
    const warned: string[] = [];
    const params = readStageParams('prod', p.serverless, (line) => void warned.push(line));
    expect(params).toMatchObject({ cluster: 'resolved-at-deploy', notifyEmails: ['a@acme.io'], subnets: [SUBNET_A, SUBNET_B] });
    expect(warned).toEqual(["stepcron: params cluster is ${ssm:/infra/cluster-name} (ssm: is read by sls deploy): using the placeholder 'resolved-at-deploy' here"]);
    process.env.STEPCRON_TEST_ONCALL = 'b@acme.io';
    expect(readStageParams('prod', p.serverless, () => undefined).notifyEmails).toEqual(['b@acme.io']);
    writeFileSync(p.serverless, readFileSync(p.serverless, 'utf8').replace('${ssm:/infra/cluster-name}', '${self:custom.cluster}'));
    expect(() => readStageParams('prod', p.serverless)).toThrow(`stage prod params in ${p.serverless}: cluster: \${self:custom.cluster}: value not found at "self" source: sls deploy stops at it`);
  });

  it('every placeholder passes the params checks (synth and run go on) and is none of the example values', () => {
    const p = project(CATALOG, Object.keys(DEPLOY_TIME_PLACEHOLDERS).map((name) => `${name}: \${ssm:/infra/${name}}`));
    const warned: string[] = [];
    const params = readStageParams('prod', p.serverless, (line) => void warned.push(line));
    expect(warned).toHaveLength(Object.keys(DEPLOY_TIME_PLACEHOLDERS).length);
    const jobs = parseCatalog(CATALOG, { stage: 'prod' });
    expect(() => stageTemplate(jobs, params)).not.toThrow();
    expect(exampleValues(jobs, params).filter((e) => !e.includes('image'))).toEqual([]);
  });
});

describe('AWS: credentials and region', () => {
  it('no credentials: one line saying how to set them, and no other call', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const lines = await awsChecks(stageOf(), clients());
    expect(lines).toEqual([{ kind: 'problem', text: expect.stringMatching(/^credentials: no AWS credentials: set AWS_PROFILE \(after aws sso login\) or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY, or pass --profile/) }]);
    for (const m of [ec2, ecs, iam, ecr, secretsManager, ssm, sfn, scheduler]) expect(m.calls()).toHaveLength(0);
  });

  it('credentials found: the identity, account and region are the first line', async () => {
    healthyAccount();
    const lines = await awsChecks(stageOf(), clients());
    expect(lines[0]).toEqual({ kind: 'ok', text: `credentials: ${WHO.arn} (account ${ACCOUNT}, region eu-west-1)` });
  });

  /** doctor --aws on a healthy account with AWS_REGION set to `own`: its header and its lines. */
  async function doctorIn(own: string, o: { region?: string; serverlessRegion?: string } = {}) {
    healthyAccount();
    const p = project(CATALOG, PARAMS, o.serverlessRegion);
    const out: string[] = [];
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = own;
    try {
      await doctor({ catalog: p.catalog, stage: 'prod', aws: true, region: o.region }, p.serverless, (t) => void out.push(t));
    } finally {
      process.env.AWS_REGION = previous;
    }
    const [header, ...lines] = out.join('').split('\n');
    return { header, lines };
  }

  it("checks the region sls deploy goes to: serverless.yml's ${opt:region, default}, not the SDK's own, and says so", async () => {
    const { header, lines } = await doctorIn('us-east-1');
    expect(header).toMatch(/; AWS region eu-west-1 \(serverless\.yml's default, as sls deploy without --region\)\)$/);
    expect(lines).toContain("  i region: your AWS config's region is us-east-1; checking eu-west-1, where sls deploy --stage prod goes");
    expect(lines).toContain(`  ✓ credentials: ${WHO.arn} (account ${ACCOUNT}, region eu-west-1)`);
  });

  it('--region wins, as for sls deploy --region; the same region as the SDK\'s: no note', async () => {
    const given = await doctorIn('us-east-1', { region: 'ap-southeast-2' });
    expect(given.header).toMatch(/; AWS region ap-southeast-2 \(--region, as sls deploy --region\)\)$/);
    expect(given.lines).toContain(`  ✓ credentials: ${WHO.arn} (account ${ACCOUNT}, region ap-southeast-2)`);
    const same = await doctorIn('eu-west-1');
    expect(same.lines.filter((l) => l.startsWith('  i '))).toEqual([]);
  });

  it("serverless.yml's region: plain, quoted default, none (sls deploy's us-east-1), or a form doctor does not resolve (the SDK's then)", async () => {
    const at = (region: string | undefined) => {
      const p = project(CATALOG, PARAMS, region);
      if (region === undefined) writeFileSync(p.serverless, readFileSync(p.serverless, 'utf8').replace(/provider:\n.*\n/, ''));
      return deployRegion(undefined, p.serverless);
    };
    expect(await at('us-west-2')).toEqual({ region: 'us-west-2', why: "serverless.yml's provider.region" });
    expect(await at('${opt:region, "ca-central-1"}')).toEqual({ region: 'ca-central-1', why: "serverless.yml's default, as sls deploy without --region" });
    expect(await at(undefined)).toEqual({ region: 'us-east-1', why: "serverless.yml sets no provider.region: sls deploy's default" });
    expect(await at('${env:DEPLOY_REGION}')).toEqual({ why: "serverless.yml's provider.region ${env:DEPLOY_REGION} is not read by doctor: pass --region as you deploy" });
    const { header, lines } = await doctorIn('eu-central-1', { serverlessRegion: '${env:DEPLOY_REGION}' });
    expect(header).toMatch(/; AWS region from your AWS config \(serverless\.yml's provider\.region \$\{env:DEPLOY_REGION\} is not read by doctor: pass --region as you deploy\)\)$/);
    expect(lines).toContain(`  ✓ credentials: ${WHO.arn} (account ${ACCOUNT}, region eu-central-1)`);
  });
});

describe('AWS: stage names (every name and permission is scoped by the prefix stepcron-<stage>-)', () => {
  const names = () => ({ sfn: new SFNClient({}), scheduler: new SchedulerClient({}) });
  const machines = (...names: string[]) => names.map((name) => ({ name, stateMachineArn: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${name}`, type: 'STANDARD' as const, creationDate: new Date() }));
  const groups = (...stages: string[]) => ({ ScheduleGroups: [{ Name: 'default' }, ...stages.map((s) => ({ Name: `stepcron-${s}-warnings` }))] });
  const stage = (name: string, catalog = CATALOG): Stage => ({ ...stageOf(catalog), stage: name, jobs: parseCatalog(catalog, { stage: name }) });

  it("machines under this stage's prefix that are not its jobs: another stage's (named when its schedule group says so), over every page", async () => {
    sfn.on(ListStateMachinesCommand, { maxResults: 1000 }).resolves({ stateMachines: machines('stepcron-dev-report', 'stepcron-prod-report'), nextToken: 't1' });
    sfn.on(ListStateMachinesCommand, { nextToken: 't1' }).resolves({ stateMachines: machines('stepcron-dev-alice-report', 'stepcron-dev-old-job') });
    scheduler.on(ListScheduleGroupsCommand).resolves(groups('dev', 'dev-alice', 'prod'));
    const fix = "rename the stage so no stage name is another's followed by '-'";
    expect(problems(await checkStageNames(names(), stage('dev')))).toEqual([
      "stage names: state machine stepcron-dev-alice-report is stage dev-alice's and starts with this stage's prefix stepcron-dev-: stage dev's roles can start, " +
      `stop and read its runs, and a job alice-report here would take its name: ${fix}`,
      "stage names: state machine stepcron-dev-old-job starts with this stage's prefix stepcron-dev- but is no job of this catalog: another stage's " +
      `(named dev-...), which this stage's roles can start, stop and read, or a leftover: ${fix}, or delete the leftover`,
    ]);
  });

  it("the other way: a shorter stage whose prefix takes this one's in (not a sibling stage's machines), known by its machines or its group", async () => {
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: machines('stepcron-dev-alice-report', 'stepcron-dev-cleanup', 'stepcron-dev-bob-x') });
    scheduler.on(ListScheduleGroupsCommand).resolves(groups('dev', 'dev-bob', 'dev-alice'));
    const lines = await checkStageNames(names(), stage('dev-alice', CATALOG.replace(/ {2}cleanup:[\s\S]*$/, '')));
    expect(problems(lines)).toEqual([
      "stage names: stage dev is in this region (state machines stepcron-dev-cleanup) and its prefix stepcron-dev- takes in this stage's stepcron-dev-alice-: " +
      "its roles can start, stop and read stage dev-alice's runs, and its job alice-<job> would take the name of this stage's <job>: rename the stage so no stage name is another's followed by '-'",
    ]);
    // Stage qa-alice-x: qa has only its group (no machines yet), qa-alice is not there.
    sfn.reset();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
    scheduler.reset();
    scheduler.on(ListScheduleGroupsCommand).resolves(groups('qa'));
    expect(problems(await checkStageNames(names(), stage('qa-alice-x')))).toEqual([
      expect.stringMatching(/^stage names: stage qa is in this region \(schedule group stepcron-qa-warnings\) and its prefix stepcron-qa- takes in this stage's stepcron-qa-alice-x-: /),
    ]);
  });

  it('no other stage: one passing line; without ListScheduleGroups the machines still tell; without ListStateMachines, not checked', async () => {
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: machines('stepcron-prod-report', 'stepcron-prod-eu-report', 'stepcron-production-x') });
    scheduler.on(ListScheduleGroupsCommand).rejects(denied('scheduler:ListScheduleGroups'));
    expect(problems(await checkStageNames(names(), stage('prod')))).toEqual([expect.stringMatching(/^stage names: state machine stepcron-prod-eu-report starts with/)]);
    expect(problems(await checkStageNames(names(), stage('prod-eu')))).toEqual([expect.stringMatching(/^stage names: stage prod is in this region \(state machines stepcron-prod-report\)/)]);
    sfn.reset();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: machines('stepcron-prod-report', 'stepcron-production-x') });
    expect(await checkStageNames(names(), stage('prod'))).toEqual([
      { kind: 'ok', text: "stage names: no other stage's state machines under stepcron-prod-, and no stage whose prefix takes it in" },
    ]);
    sfn.on(ListStateMachinesCommand).rejects(denied('states:ListStateMachines'));
    expect(notChecked(await checkStageNames(names(), stage('prod')))).toEqual(['stage names: cannot check: no permission: your identity needs states:ListStateMachines']);
  });
});

describe('AWS: network', () => {
  const params = toStageParams('prod', { subnets: `${SUBNET_A},${SUBNET_B}`, securityGroups: GROUP });

  it('subnets and security group exist in one VPC, each subnet routes 0.0.0.0/0 to a NAT gateway', async () => {
    network();
    const lines = await checkNetwork(new EC2Client({}), params, WHO);
    expect(lines).toEqual([
      { kind: 'ok', text: `network: ${SUBNET_A}, ${SUBNET_B}, ${GROUP} exist, all in ${VPC}` },
      // B has no table of its own: the VPC's main table applies.
      { kind: 'ok', text: `network: ${SUBNET_A} reaches ECR, S3 and CloudWatch Logs via NAT gateway ${NAT_A}, ${SUBNET_B} reaches ECR, S3 and CloudWatch Logs via NAT gateway ${NAT_B}` },
    ]);
    expect(ec2.commandCalls(DescribeRouteTablesCommand)[0]!.args[0].input.Filters).toEqual([{ Name: 'vpc-id', Values: [VPC] }]);
  });

  const isolated: RouteTable[] = [{ RouteTableId: 'rtb-iso', VpcId: VPC, Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }] }];
  const endpoint = (service: string, type: 'Interface' | 'Gateway', extra: Partial<VpcEndpoint> = {}): VpcEndpoint => ({
    VpcEndpointId: `vpce-${service}`, VpcId: VPC, ServiceName: `com.amazonaws.eu-west-1.${service}`, VpcEndpointType: type,
    // As the service answers; the SDK's enum spells it Available.
    State: 'available' as VpcEndpoint['State'],
    ...(type === 'Interface' ? { PrivateDnsEnabled: true } : { RouteTableIds: ['rtb-iso'] }), ...extra,
  });

  it('no NAT but VPC endpoints for ecr.api, ecr.dkr, logs (interface, private DNS) and s3 (gateway on its table): reachable', async () => {
    network({ tables: isolated, endpoints: [endpoint('ecr.api', 'Interface'), endpoint('ecr.dkr', 'Interface'), endpoint('logs', 'Interface'), endpoint('s3', 'Gateway')] });
    const lines = await checkNetwork(new EC2Client({}), params, WHO);
    expect(problems(lines)).toEqual([]);
    expect(passed(lines)[1]).toBe(`network: ${SUBNET_A} reaches ECR, S3 and CloudWatch Logs via VPC endpoints, ${SUBNET_B} reaches ECR, S3 and CloudWatch Logs via VPC endpoints`);
  });

  it('no route and no endpoints: which subnet, what it lacks, the three fixes (the CannotPullContainerError cause)', async () => {
    network({ tables: isolated, subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }] });
    const lines = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A, securityGroups: GROUP }), WHO);
    expect(problems(lines)).toEqual([
      `network: ${SUBNET_A} cannot reach ECR, S3 and CloudWatch Logs (no route 0.0.0.0/0 in rtb-iso; no VPC endpoints): its tasks would stop with CannotPullContainerError; ` +
      'add a route 0.0.0.0/0 to a NAT gateway in rtb-iso, or VPC endpoints ecr.api, ecr.dkr, logs, s3 (ecr.api, ecr.dkr, logs: interface with private DNS; s3: gateway on rtb-iso), ' +
      'or use a public subnet (a route to an internet gateway) with assignPublicIp: ENABLED',
    ]);
  });

  it('endpoints missing some services, one without private DNS, the s3 gateway on another table: the missing ones are named', async () => {
    network({ tables: isolated, subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }], endpoints: [
      endpoint('ecr.api', 'Interface'), endpoint('ecr.dkr', 'Interface', { PrivateDnsEnabled: false }), endpoint('s3', 'Gateway', { RouteTableIds: ['rtb-other'] }),
    ] });
    const lines = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A, securityGroups: GROUP }), WHO);
    expect(problems(lines)).toEqual([expect.stringContaining(`${SUBNET_A} cannot reach ECR, S3 and CloudWatch Logs (no route 0.0.0.0/0 in rtb-iso; no VPC endpoint for ecr.dkr, logs, s3)`)]);
  });

  const publicTable: RouteTable[] = [{ RouteTableId: 'rtb-public', VpcId: VPC, Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0a', State: 'active' }] }];

  it('a route to an internet gateway reaches with assignPublicIp ENABLED, and is a problem with DISABLED', async () => {
    network({ tables: publicTable, subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }] });
    const enabled = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A, assignPublicIp: 'ENABLED' }), WHO);
    const disabled = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A, assignPublicIp: 'DISABLED' }), WHO);
    expect(passed(enabled)).toContain(`network: ${SUBNET_A} reaches ECR, S3 and CloudWatch Logs via internet gateway igw-0a with a public IP`);
    expect(problems(disabled)).toEqual([expect.stringContaining('(its route 0.0.0.0/0 goes to internet gateway igw-0a, but assignPublicIp is DISABLED, so its tasks get no public IP; no VPC endpoints)')]);
  });

  it('a route to a NAT gateway that is gone (blackhole) is no route', async () => {
    network({ tables: [{ ...TABLES[0]!, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-gone', State: 'blackhole' }] }], subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }] });
    const lines = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A }), WHO);
    expect(problems(lines)).toEqual([expect.stringContaining(`(its route 0.0.0.0/0 in ${RTB_PRIVATE} is a blackhole (the NAT gateway is gone); no VPC endpoints)`)]);
  });

  it('egress through a transit gateway is not followed: a note, not a problem', async () => {
    network({ tables: [{ ...TABLES[0]!, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-0a', State: 'active' }] }], subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }] });
    const lines = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: SUBNET_A }), WHO);
    expect(problems(lines)).toEqual([]);
    expect(notChecked(lines)).toEqual([`network: ${SUBNET_A} sends 0.0.0.0/0 to tgw-0a: not followed; make sure that reaches ECR, S3 and CloudWatch Logs`]);
  });

  it('a subnet or security group that does not exist, and ids from two VPCs: one line each', async () => {
    network({ subnets: [{ SubnetId: SUBNET_A, VpcId: VPC }], groups: [{ ...ALL_OUT, VpcId: OTHER_VPC }] });
    const lines = await checkNetwork(new EC2Client({}), toStageParams('prod', { subnets: `${SUBNET_A},${SUBNET_B}`, securityGroups: `${GROUP},sg-0aaaaaaaaaaaaaaaa` }), WHO);
    expect(problems(lines)).toEqual([
      `network: subnet ${SUBNET_B} does not exist in account ${ACCOUNT}, eu-west-1: set subnets for stage prod (params: in serverless.yml) to your VPC's subnet ids (aws ec2 describe-subnets)`,
      `network: security group sg-0aaaaaaaaaaaaaaaa does not exist in account ${ACCOUNT}, eu-west-1: set securityGroups for stage prod (params: in serverless.yml) to your VPC's security group ids (aws ec2 describe-security-groups)`,
      `network: the subnets and security groups are in 2 VPCs (${SUBNET_A} in ${VPC}; ${GROUP} in ${OTHER_VPC}): a task's network is in one VPC: take every id from the same VPC`,
    ]);
    // Looked up by filter: ids that are not there do not fail the call.
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0]!.args[0].input).toEqual({ Filters: [{ Name: 'subnet-id', Values: [SUBNET_A, SUBNET_B] }] });
  });

  it('security groups without outbound HTTPS', async () => {
    network({ groups: [{ ...ALL_OUT, IpPermissionsEgress: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }] }] });
    const lines = await checkNetwork(new EC2Client({}), params, WHO);
    expect(problems(lines)).toEqual([`network: security groups ${GROUP} allow no outbound HTTPS (TCP 443): tasks cannot pull their image or send logs: add an outbound rule for TCP 443`]);
  });

  it('no permission for EC2: "cannot check", the action named, not a problem', async () => {
    ec2.on(DescribeSubnetsCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const lines = await checkNetwork(new EC2Client({}), params, WHO);
    expect(lines).toEqual([{ kind: 'unchecked', text: 'network: cannot check: no permission: your identity needs ec2:DescribeSubnets' }]);
  });
});

describe('AWS: the ECS service-linked role', () => {
  it('exists', async () => {
    iam.on(GetRoleCommand, { RoleName: 'AWSServiceRoleForECS' }).resolves({ Role: { RoleName: 'AWSServiceRoleForECS', Path: '/aws-service-role/ecs.amazonaws.com/', Arn: 'arn', RoleId: 'x', CreateDate: new Date() } });
    expect(await checkServiceLinkedRole(new IAMClient({}))).toEqual([{ kind: 'ok', text: 'ECS: service-linked role AWSServiceRoleForECS exists' }]);
  });

  it('missing (a brand-new account): the deploy would fail at the cluster; the command that creates it', async () => {
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntityException', 'The role with name AWSServiceRoleForECS cannot be found.'));
    expect(problems(await checkServiceLinkedRole(new IAMClient({})))).toEqual([
      'ECS: the service-linked role AWSServiceRoleForECS does not exist yet (a new account): the deploy can fail at the cluster ("Unable to assume the service linked role"); ' +
      'create it once: aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com',
    ]);
  });
});

describe('AWS: an existing cluster (the cluster param)', () => {
  const spot = CATALOG.replace('command: [sh, jobs/cleanup.sh]', 'command: [sh, jobs/cleanup.sh]\n    capacity: spot');
  const cluster = (providers: string[], status = 'ACTIVE') => ecs.on(DescribeClustersCommand).resolves({
    clusters: [{ clusterName: 'shared', clusterArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/shared`, status, capacityProviders: providers,
      defaultCapacityProviderStrategy: providers.includes('ec2-asg') ? [{ capacityProvider: 'ec2-asg', weight: 1, base: 0 }] : [] }],
    failures: [],
  });

  it('none: the stack creates one, nothing to look up', async () => {
    expect(await checkCluster(new ECSClient({}), stageOf())).toEqual([]);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('ACTIVE with FARGATE and FARGATE_SPOT', async () => {
    cluster(['FARGATE', 'FARGATE_SPOT']);
    expect(await checkCluster(new ECSClient({}), stageOf(spot, { subnets: SUBNET_A, cluster: 'shared' }))).toEqual([{ kind: 'ok', text: 'ECS: cluster shared is ACTIVE with FARGATE, FARGATE_SPOT' }]);
  });

  it('missing, deleted, or without the providers the jobs start on (its own kept in the fix)', async () => {
    const stage = stageOf(spot, { subnets: SUBNET_A, cluster: 'shared' });
    ecs.on(DescribeClustersCommand).resolvesOnce({ clusters: [], failures: [{ arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/shared`, reason: 'MISSING' }] });
    expect(problems(await checkCluster(new ECSClient({}), stage))).toEqual([
      "ECS: cluster shared does not exist: set cluster for stage prod (params: in serverless.yml) to an existing cluster's name, or to '' for the stack to create one",
    ]);
    ecs.reset();
    cluster(['FARGATE'], 'INACTIVE');
    expect(problems(await checkCluster(new ECSClient({}), stage))).toEqual([expect.stringMatching(/^ECS: cluster shared is INACTIVE \(deleted\): set cluster/)]);
    ecs.reset();
    cluster(['ec2-asg']);
    expect(problems(await checkCluster(new ECSClient({}), stage))).toEqual([
      'ECS: cluster shared lacks the capacity providers FARGATE, FARGATE_SPOT, so its tasks cannot start: add them: aws ecs put-cluster-capacity-providers ' +
      '--cluster shared --capacity-providers ec2-asg FARGATE FARGATE_SPOT --default-capacity-provider-strategy capacityProvider=ec2-asg,weight=1,base=0',
    ]);
  });
});

describe('AWS: images', () => {
  const jobsWith = (image: string) => parseCatalog(CATALOG.replace(IMAGE, image), { stage: 'prod' });

  it('found by tag, once for the jobs that share it', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ['2.0.0'] }] });
    expect(await checkImages(() => new ECRClient({}), jobsWith(IMAGE))).toEqual([{ kind: 'ok', text: `images: ${IMAGE} in ECR` }]);
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input)).toEqual([
      { registryId: ACCOUNT, repositoryName: 'stepcron-jobs', imageIds: [{ imageTag: '2.0.0' }] },
    ]);
  });

  it('by digest, in the image\'s own region', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{}] });
    const regions: string[] = [];
    const image = `${ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/jobs@sha256:0f0f`;
    await checkImages((region) => {
      regions.push(region);
      return new ECRClient({ region });
    }, jobsWith(image));
    expect(regions).toEqual(['us-east-2']);
    expect(ecr.commandCalls(DescribeImagesCommand)[0]!.args[0].input.imageIds).toEqual([{ imageDigest: 'sha256:0f0f' }]);
  });

  it('no repository, no such tag: the jobs, and what to create or push', async () => {
    ecr.on(DescribeImagesCommand).rejectsOnce(awsError('RepositoryNotFoundException', "The repository with name 'stepcron-jobs' does not exist"));
    expect(problems(await checkImages(() => new ECRClient({}), jobsWith(IMAGE)))).toEqual([
      `images: jobs report, cleanup: repository stepcron-jobs does not exist in account ${ACCOUNT}, eu-west-1: create it (aws ecr create-repository --repository-name stepcron-jobs --region eu-west-1) and push ${IMAGE}`,
    ]);
    ecr.reset();
    ecr.on(DescribeImagesCommand).rejectsOnce(awsError('ImageNotFoundException', "The image with imageId {imageDigest:'null', imageTag:'2.0.0'} does not exist"));
    expect(problems(await checkImages(() => new ECRClient({}), jobsWith(IMAGE)))).toEqual([
      `images: jobs report, cleanup: ${IMAGE} is not in repository stepcron-jobs: push it (docker push ${IMAGE}), or set image to one that is there`,
    ]);
  });

  it('an image outside ECR is said not to be checked', async () => {
    const lines = await checkImages(() => new ECRClient({}), jobsWith('ghcr.io/acme/jobs:1.4'));
    expect(lines).toEqual([{ kind: 'unchecked', text: 'images: ghcr.io/acme/jobs:1.4 (jobs report, cleanup) is not in ECR: not checked; the tasks must be able to pull it from there' }]);
    expect(ecr.calls()).toHaveLength(0);
  });

  it('an error outside the AWS calls (a bug) is not taken for an AWS answer: it reaches the CLI (exit 3)', async () => {
    await expect(checkImages(() => { throw new TypeError('x is undefined'); }, jobsWith(IMAGE))).rejects.toThrow(TypeError);
  });

  it('AccessDenied: cannot check, with the action', async () => {
    ecr.on(DescribeImagesCommand).rejects(denied('ecr:DescribeImages'));
    expect(await checkImages(() => new ECRClient({}), jobsWith(IMAGE))).toEqual([
      { kind: 'unchecked', text: `images: ${IMAGE}: cannot check: no permission: your identity needs ecr:DescribeImages` },
    ]);
  });
});

describe('AWS: secrets', () => {
  const jobs = () => parseCatalog(CATALOG, { stage: 'prod' });
  const sm = () => ({ secrets: () => new SecretsManagerClient({}), ssm: () => new SSMClient({}) });

  it('the SSM parameter and the JSON key are there; the value is read only to look for the key, and never printed', async () => {
    healthyAccount();
    const lines = await checkSecrets(sm(), jobs(), WHO);
    expect(lines).toEqual([{ kind: 'ok', text: 'secrets: 2 of 2 found (JSON keys included)' }]);
    expect(ssm.commandCalls(GetParametersCommand)[0]!.args[0].input).toEqual({ Names: ['/stepcron/reporting/db-password'] });
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: DB_SECRET });
  });

  it('a missing SSM parameter, a missing secret, a missing JSON key: one line each, naming the job variables; no value printed', async () => {
    const catalog = CATALOG.replace('      DB_PASSWORD', `      API_KEY: "${DB_SECRET.replace('db-AbCdEf', 'api-XyZabc')}"\n      DB_PASSWORD`);
    ssm.on(GetParametersCommand).resolves({ Parameters: [], InvalidParameters: ['/stepcron/reporting/db-password'] });
    secretsManager.on(GetSecretValueCommand).resolves({ ARN: DB_SECRET, SecretString: '{"user":"report-writer","password":"hunter2-very-secret"}' });
    secretsManager.on(DescribeSecretCommand).rejects(awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."));
    const lines = await checkSecrets(sm(), parseCatalog(catalog, { stage: 'prod' }), WHO);
    expect(problems(lines)).toEqual([
      `secrets: jobs.report.secrets.DB_PASSWORD: SSM parameter /stepcron/reporting/db-password does not exist in eu-west-1 (account ${ACCOUNT}): create it (aws ssm put-parameter --type SecureString --name ... --region eu-west-1), or fix the reference`,
      `secrets: jobs.report.secrets.API_KEY: secret ${DB_SECRET.replace('db-AbCdEf', 'api-XyZabc')} does not exist in account ${ACCOUNT}, eu-west-1: create it (aws secretsmanager create-secret --region eu-west-1 --name ...), or fix the ARN`,
      `secrets: jobs.report.secrets.DB_USER: secret ${DB_SECRET} has no JSON key 'username': add the key to the secret's JSON, or fix the key in the reference`,
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|report-writer/);
  });

  it('a secret that is not JSON (a parse error would quote it) or is binary: no key, and nothing of the value', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'hunter2-plain-text' }).resolvesOnce({ SecretBinary: new Uint8Array([1, 2]) });
    ssm.on(GetParametersCommand).resolves({ InvalidParameters: [] });
    const text = JSON.stringify([...await checkSecrets(sm(), jobs(), WHO), ...await checkSecrets(sm(), jobs(), WHO)]);
    expect(text).toContain("has no JSON key 'username': add the key");
    expect(text).toContain("has no JSON key 'username' (it holds binary data, not JSON text)");
    expect(text).not.toContain('hunter2');
  });

  it('a version stage is asked for; a secret scheduled for deletion is a problem', async () => {
    const catalog = CATALOG.replace(`${DB_SECRET}:username::`, `${DB_SECRET}:username:AWSPREVIOUS:`)
      .replace('/stepcron/reporting/db-password', DB_SECRET.replace('db-AbCdEf', 'old-AbCdEf'));
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"u"}' });
    secretsManager.on(DescribeSecretCommand).resolves({ DeletedDate: new Date('2026-12-01T00:00:00Z') });
    const lines = await checkSecrets(sm(), parseCatalog(catalog, { stage: 'prod' }), WHO);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: DB_SECRET, VersionStage: 'AWSPREVIOUS' });
    expect(problems(lines)).toEqual([expect.stringMatching(/old-AbCdEf is scheduled for deletion: restore it \(aws secretsmanager restore-secret --secret-id .*old-AbCdEf\)$/)]);
    expect(passed(lines)).toEqual(['secrets: 1 of 2 found (JSON keys included)']);
  });

  it('AccessDenied: "cannot check: no permission" with the action, per secret, not a problem', async () => {
    ssm.on(GetParametersCommand).rejects(denied('ssm:GetParameters'));
    secretsManager.on(GetSecretValueCommand).rejects(denied('secretsmanager:GetSecretValue'));
    const lines = await checkSecrets(sm(), jobs(), WHO);
    expect(problems(lines)).toEqual([]);
    expect(notChecked(lines)).toEqual([
      'secrets: SSM parameters /stepcron/reporting/db-password: cannot check: no permission: your identity needs ssm:GetParameters',
      `secrets: ${DB_SECRET}: cannot check: no permission: your identity needs secretsmanager:GetSecretValue`,
    ]);
  });

  it('every secret form of the shapes catalog is looked up where it lives, SSM in batches of at most 10', async () => {
    ssm.on(GetParametersCommand).resolves({ InvalidParameters: [] });
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"p","username":"u","host":"h"}' });
    secretsManager.on(DescribeSecretCommand).resolves({});
    const lines = await checkSecrets(sm(), parseCatalog(shapesCatalog(), { stage: 'prod' }), WHO);
    expect(problems(lines)).toEqual([]);
    expect(passed(lines)).toEqual([`secrets: ${Object.keys(SECRET_FORMS).length} of ${Object.keys(SECRET_FORMS).length} found (JSON keys included)`]);
    expect(ssm.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names)).toEqual([[SECRET_FORMS.SSM_NAME, SECRET_FORMS.SSM_ARN]]);
    expect(secretsManager.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId).sort()).toEqual([SECRET_FORMS.SM_FULL_ARN, SECRET_FORMS.SM_PARTIAL_ARN]);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });
});

describe('AWS: quotas', () => {
  const q = () => ({ iam: new IAMClient({}), sfn: new SFNClient({}), scheduler: new SchedulerClient({}) });

  it('room for the stage: roles (only those not there yet count), state machines, schedule groups', async () => {
    healthyAccount();
    // Two of the stage's six roles exist (a deploy that was rolled back kept them, say).
    iam.on(ListRolesCommand).resolvesOnce({ Roles: [{ RoleName: 'stepcron-prod-StateMachineRole-1A', Path: '/', Arn: 'a', RoleId: 'a', CreateDate: new Date() }], IsTruncated: true, Marker: 'm' })
      .resolvesOnce({ Roles: [{ RoleName: 'x-ExecutionRole-2B', Path: '/stepcron/prod/tasks/', Arn: 'b', RoleId: 'b', CreateDate: new Date() }, { RoleName: 'other', Path: '/', Arn: 'c', RoleId: 'c', CreateDate: new Date() }], IsTruncated: false });
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [{ name: 'stepcron-prod-report', stateMachineArn: 'arn', type: 'STANDARD', creationDate: new Date() }] });
    expect(await checkQuotas(q(), stageOf())).toEqual([
      { kind: 'ok', text: 'quotas: IAM roles 212 + 4 new of 1,000; taskPolicyArns within 10 per role' },
      { kind: 'ok', text: "quotas: state machines 1 + 1 new of 10,000 (Step Functions' default)" },
      { kind: 'ok', text: 'quotas: schedule groups 1 + 1 new of 500; 2 schedules of 10,000,000 (not counted)' },
    ]);
    expect(iam.commandCalls(ListRolesCommand)[1]!.args[0].input.Marker).toBe('m');
  });

  it('full quotas: roles, managed policies per role, state machines, schedule groups: one line each', async () => {
    healthyAccount();
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { Roles: 998, RolesQuota: 1000, AttachedPoliciesPerRoleQuota: 2 } });
    // 10,000 state machines over 10 pages; the stage's two are not among them.
    for (let page = 0; page < 10; page++) {
      sfn.on(ListStateMachinesCommand, page === 0 ? { maxResults: 1000 } : { nextToken: `t${page}` }).resolves({
        stateMachines: Array.from({ length: 1000 }, (_, i) => ({ name: `m-${page}-${i}`, stateMachineArn: 'a', type: 'STANDARD', creationDate: new Date() })),
        ...(page < 9 && { nextToken: `t${page + 1}` }),
      });
    }
    scheduler.on(ListScheduleGroupsCommand).resolves({ ScheduleGroups: Array.from({ length: 500 }, (_, i) => ({ Name: `g${i}` })) });
    const catalog = CATALOG.replace('command: [sh, jobs/cleanup.sh]', `command: [sh, jobs/cleanup.sh]\n    taskPolicyArns: [${['a', 'b', 'c'].map((p) => `arn:aws:iam::${ACCOUNT}:policy/${p}`).join(', ')}]`);
    const lines = await checkQuotas(q(), stageOf(catalog));
    expect(problems(lines)).toEqual([
      'quotas: IAM roles: the account has 998 of its 1,000 and stage prod creates 6 more: delete roles no longer used, or ask for more (Service Quotas: IAM, "Roles per account")',
      'quotas: jobs.cleanup.taskPolicyArns: 3 managed policies, the account allows 2 per role: combine some into one policy, or ask for more (Service Quotas: IAM, "Managed policies per role")',
      "quotas: state machines: the region has 10,000 and stage prod creates 2 more, over Step Functions' default 10,000 per region: delete unused ones, or ask for more (Service Quotas: Step Functions) and ignore this line",
      'quotas: schedule groups: the region has 500 of 500 and stage prod creates stepcron-prod-warnings: delete unused groups, or ask for more (Service Quotas: EventBridge Scheduler)',
    ]);
  });

  it('AccessDenied on one quota does not hide the others', async () => {
    healthyAccount();
    iam.on(GetAccountSummaryCommand).rejects(denied('iam:GetAccountSummary'));
    const lines = await checkQuotas(q(), stageOf());
    expect(notChecked(lines)).toEqual(['quotas: IAM roles: cannot check: no permission: your identity needs iam:GetAccountSummary']);
    expect(passed(lines)).toHaveLength(2);
  });
});

describe('stepcron doctor --aws, whole', () => {
  it("prints docs/deploy.md's example as it is printed (a new account: no NAT for one subnet, no ECS role), exit 1", async () => {
    // Prepare: the healthy account, but subnet B has only the main table without a default route, and no ECS role.
    healthyAccount();
    network({ tables: [TABLES[0]!, { ...TABLES[1]!, Routes: [TABLES[1]!.Routes![0]!] }] });
    iam.on(GetRoleCommand).rejects(awsError('NoSuchEntityException'));
    const p = project();
    const out: string[] = [];
    const cwd = process.cwd();
    process.chdir(p.dir);
    // Act
    let code: number;
    try {
      code = await doctor({ catalog: 'workflows/jobs.yml', stage: 'prod', aws: true }, join(p.dir, 'serverless.yml'), (t) => void out.push(t));
    } finally {
      process.chdir(cwd);
    }
    // Assess
    expect(code).toBe(1);
    const printed = `$ npx stepcron doctor --stage prod --aws\n${out.join('')}`;
    const readme = readFileSync(join(__dirname, '..', 'docs', 'deploy.md'), 'utf8');
    const example = /```\n(\$ npx stepcron doctor --stage prod --aws\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBe(printed);
  });

  it('AWS checks wait for a catalog and params they can read', async () => {
    const p = project(CATALOG.replace('rate(1 hour)', 'rate(1 hours and more)'));
    const out: string[] = [];
    const code = await doctor({ catalog: p.catalog, stage: 'prod', aws: true }, p.serverless, (t) => void out.push(t));
    expect(code).toBe(1);
    expect(out.join('')).toContain('  ? AWS: not checked until the catalog and params above are fixed\n');
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('the CLI', () => {
  // A provider.region doctor does not resolve: the SDK's own region is used, so 'no region' has none and nothing is sent.
  const p = project(CATALOG, PARAMS, '${env:AWS_REGION}');
  const none = join(p.dir, 'empty');
  writeFileSync(none, '');
  /** Only what the test says: no AWS_* from the machine, no profile files. */
  const bare = { PATH: process.env.PATH ?? '', HOME: p.dir, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: none, AWS_SHARED_CREDENTIALS_FILE: none };
  const run = async (env: Record<string, string>, args: string[]) => {
    const previous = process.env;
    process.env = { ...bare, ...env };
    try {
      return await startCli(['doctor', '--stage', 'prod', ...args], { cwd: p.dir, timeoutMs: 15_000 }).done;
    } finally {
      process.env = previous;
    }
  };

  it.each([
    ['no credentials', { AWS_REGION: 'eu-west-1' }, /^ {2}✗ credentials: no AWS credentials: set AWS_PROFILE .* or pass --profile/m],
    ['no region', { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, /^ {2}✗ credentials: no AWS region: pass --region or set AWS_REGION/m],
    // A closed loopback port: the connection is refused at once.
    ['no network', { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, /^ {2}✗ credentials: cannot reach AWS for sts:GetCallerIdentity \(ECONNREFUSED\): check the network and --region$/m],
  ])('--aws with %s: the offline checks, then one line saying what to set, exit 1', async (_what, env, line) => {
    const result = await run(env, ['--aws']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(line);
    expect(result.stdout).toContain('  ✓ catalog: ');
    expect(result.stdout.match(/✗/g)).toHaveLength(2); // the credentials line and the verdict
  });

  it('usage mistakes exit 2 with one line: --region without --aws, an unknown option, a catalog that is not there', async () => {
    const region = await run({}, ['--region', 'eu-west-1']);
    expect({ code: region.code, stderr: region.stderr }).toEqual({ code: 2, stderr: 'stepcron: doctor: --region is for the AWS checks: add --aws\n' });
    const option = await run({}, ['--fix']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^stepcron: unknown option '--fix'/);
    const catalog = await run({}, ['--catalog', 'nope.yml']);
    expect({ code: catalog.code, stderr: catalog.stderr }).toEqual({ code: 2, stderr: 'stepcron: nope.yml: cannot read the catalog: ENOENT\n' });
  });

  it('a param from ${ssm:...} and a !Sub in serverless.yml: exit 0, nothing on stderr (no YAMLWarning), the param not checked', async () => {
    const q = project(CATALOG, [...PARAMS, 'cluster: ${ssm:/infra/cluster-name}']);
    writeFileSync(q.serverless, `${readFileSync(q.serverless, 'utf8')}resources:\n  Outputs:\n    Q: { Value: !Sub '\${AWS::StackName}-q' }\n`);
    const previous = process.env;
    process.env = bare;
    try {
      const result = await startCli(['doctor', '--stage', 'prod'], { cwd: q.dir, timeoutMs: 15_000 }).done;
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toContain('  ? params: cluster is ${ssm:/infra/cluster-name} (ssm: is read by sls deploy): not checked offline, sls deploy resolves it\n');
    } finally {
      process.env = previous;
    }
  });

  it('offline: exit 0 when all is well, and it loads no AWS SDK', async () => {
    const previous = process.env;
    process.env = { ...bare, NODE_DEBUG: 'module' };
    try {
      const result = await startCli(['doctor', '--stage', 'prod'], { cwd: p.dir, timeoutMs: 15_000 }).done;
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\nno problems; 1 not checked \(\?\): ready for npx sls deploy --stage prod\n$/);
      expect(result.stderr).not.toMatch(/@aws-sdk/);
    } finally {
      process.env = previous;
    }
  });
});
