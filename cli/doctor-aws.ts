// `stepcron doctor --aws`: the account a stage deploys to, checked for what breaks a first deploy or every run and that
// CloudFormation cannot see coming: no credentials, subnets that cannot reach ECR, a missing ECS service-linked role,
// an image or secret that is not there, quotas without room. Each check is a function of injected SDK clients and the
// stage (built offline by cli/doctor.ts) that returns report lines; tests drive them with aws-sdk-client-mock.
//
// Loaded only by `doctor --aws`: this module is what brings in the SDK clients.
import {
  DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client,
  type RouteTable, type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetAccountSummaryCommand, GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListScheduleGroupsCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Job } from '../workflows/catalog';
import { type StageParams, stateMachineName, warningGroup } from '../workflows/resources';
import { jobPrefix } from '../workflows/names';
import { jobsNamed, type Line, ok, parseEcrImage, parseSecretRef, problem, type Stage, unchecked } from './doctor';
import { awsError } from './ops/aws';

/** As the day-2 commands' clients (cli/ops/aws.ts): every call gives up within seconds, so no network is one line, not a hang. */
const CLIENT_CONFIG = { maxAttempts: 2, requestHandler: { connectionTimeout: 2000, requestTimeout: 2500, throwOnRequestTimeout: true } };
/** Step Functions' default quota of state machines per account and region (not readable through its API). */
export const STATE_MACHINES_QUOTA = 10_000;
/** EventBridge Scheduler's default quota of schedule groups per account and region. */
export const SCHEDULE_GROUPS_QUOTA = 500;
/** The role ECS needs in every account that runs tasks; a brand-new account may not have it before its first cluster. */
export const ECS_SERVICE_LINKED_ROLE = 'AWSServiceRoleForECS';

export interface DoctorClients {
  sts: STSClient;
  ec2: EC2Client;
  ecs: ECSClient;
  iam: IAMClient;
  sfn: SFNClient;
  scheduler: SchedulerClient;
  /** Per region: an image, a secret or a parameter may live in another region than the stage's. */
  ecr: (region: string) => ECRClient;
  secrets: (region: string) => SecretsManagerClient;
  ssm: (region: string) => SSMClient;
  close: () => void;
}

export function doctorClients(o: { region?: string | undefined; profile?: string | undefined }): DoctorClients {
  const config = { ...CLIENT_CONFIG, ...(o.region && { region: o.region }), ...(o.profile && { profile: o.profile }) };
  const made: Array<{ destroy: () => void }> = [];
  const make = <C extends { destroy: () => void }>(client: C) => {
    made.push(client);
    return client;
  };
  const perRegion = <C extends { destroy: () => void }>(create: (region: string) => C) => {
    const byRegion = new Map<string, C>();
    return (region: string) => byRegion.get(region) ?? byRegion.set(region, make(create(region))).get(region)!;
  };
  return {
    sts: make(new STSClient(config)), ec2: make(new EC2Client(config)), ecs: make(new ECSClient(config)), iam: make(new IAMClient(config)),
    sfn: make(new SFNClient(config)), scheduler: make(new SchedulerClient(config)),
    ecr: perRegion((region) => new ECRClient({ ...config, region })),
    secrets: perRegion((region) => new SecretsManagerClient({ ...config, region })),
    ssm: perRegion((region) => new SSMClient({ ...config, region })),
    close: () => { for (const client of made) client.destroy(); },
  };
}

/** The region the SDK itself would use (AWS_REGION, the profile's), or undefined when none is configured. */
export async function configuredRegion(profile: string | undefined): Promise<string | undefined> {
  const sts = new STSClient({ ...CLIENT_CONFIG, ...(profile && { profile }) });
  try {
    return await sts.config.region();
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

export interface Identity {
  account: string;
  arn: string;
  region: string;
}

/** Every AWS check of the stage; without credentials or a region, the one line that says how to set them. */
export async function awsChecks(stage: Stage, clients: DoctorClients): Promise<Line[]> {
  let who: Identity;
  try {
    who = await identity(clients.sts);
  } catch (err) {
    return [problem(`credentials: ${(err as Error).message}`)];
  }
  // The quota and stage-name checks read the same region-wide listings: fetched once for both.
  const lists = regionLists(clients);
  const checks = await Promise.all([
    checkNetwork(clients.ec2, stage.params, who),
    checkServiceLinkedRole(clients.iam),
    checkCluster(clients.ecs, stage),
    checkImages(clients.ecr, stage.jobs),
    checkSecrets(clients, stage.jobs, who),
    checkQuotas(clients, stage, lists),
    checkStageNames(clients, stage, lists),
  ]);
  return [ok(`credentials: ${who.arn} (account ${who.account}, region ${who.region})`), ...checks.flat()];
}

/** Who calls, in which account and region (sts:GetCallerIdentity needs no permission); an OpsError line when it cannot. */
export async function identity(sts: STSClient): Promise<Identity> {
  try {
    const region = await sts.config.region();
    const found = await sts.send(new GetCallerIdentityCommand({}));
    return { account: found.Account ?? '', arn: found.Arn ?? '', region };
  } catch (err) {
    throw awsError(err, 'sts:GetCallerIdentity', '');
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// How a failed call is reported: the permission it lacks is "cannot check", which the identity's owner can grant; any
// other failure is a problem, since nothing vouches for what it would have checked.

class CallFailed extends Error {
  constructor(readonly action: string, readonly error: unknown) {
    super(`${action} failed`);
  }
}

/** Runs one AWS call; a failure carries the action, for the line that reports it. */
async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new CallFailed(action, err);
  }
}

const errorName = (err: unknown) => (err as { name?: string } | undefined)?.name ?? '';
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** The line for a check whose call failed: `what` says what it would have checked. */
function failed(what: string, { action, error }: CallFailed): Line {
  if (DENIED.has(errorName(error))) return unchecked(`${what}: cannot check: no permission: your identity needs ${action}`);
  return problem(`${what}: could not check: ${awsError(error, action, '').message}`);
}

/** Runs a check; a failed AWS call is its line. Anything else is a bug in stepcron, left to the CLI (exit 3). */
async function guarded(what: string, check: () => Promise<Line[]>): Promise<Line[]> {
  try {
    return await check();
  } catch (err) {
    if (!(err instanceof CallFailed)) throw err;
    return [failed(what, err)];
  }
}

const list = (items: string[]) => items.join(', ');
const n = (count: number) => count.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------------------------------
// Network: the stage's subnets and security groups exist, in one VPC, and the subnets reach ECR, S3 and CloudWatch Logs.

/** Interface endpoints a task in a private subnet needs: the ECR API, its registry (docker), and the logs driver. */
const INTERFACE_ENDPOINTS = ['ecr.api', 'ecr.dkr', 'logs'];
const HTTPS = 443;

export async function checkNetwork(ec2: EC2Client, params: StageParams, who: Identity): Promise<Line[]> {
  if (params.subnets.length === 0) return [];
  return guarded('network', async () => {
    const where = `in account ${who.account}, ${who.region}`;
    const subnets = (await call('ec2:DescribeSubnets', () => ec2.send(new DescribeSubnetsCommand({
      Filters: [{ Name: 'subnet-id', Values: params.subnets }],
    })))).Subnets ?? [];
    const groups = params.securityGroups.length === 0 ? [] : (await call('ec2:DescribeSecurityGroups', () => ec2.send(new DescribeSecurityGroupsCommand({
      Filters: [{ Name: 'group-id', Values: params.securityGroups }],
    })))).SecurityGroups ?? [];
    const lines: Line[] = [];
    const missing = [...params.subnets.filter((s) => !subnets.some((f) => f.SubnetId === s)), ...params.securityGroups.filter((g) => !groups.some((f) => f.GroupId === g))];
    for (const id of params.subnets.filter((s) => !subnets.some((f) => f.SubnetId === s))) {
      lines.push(problem(`network: subnet ${id} does not exist ${where}: set subnets for stage ${params.stage} (params: in serverless.yml) to your VPC's subnet ids (aws ec2 describe-subnets)`));
    }
    for (const id of params.securityGroups.filter((g) => !groups.some((f) => f.GroupId === g))) {
      lines.push(problem(`network: security group ${id} does not exist ${where}: set securityGroups for stage ${params.stage} (params: in serverless.yml) to your VPC's security group ids (aws ec2 describe-security-groups)`));
    }
    const vpcOf = new Map<string, string>([
      ...subnets.map((s) => [s.SubnetId!, s.VpcId!] as const), ...groups.map((g) => [g.GroupId!, g.VpcId!] as const),
    ]);
    const vpcs = [...new Set(vpcOf.values())];
    if (missing.length === 0 && vpcs.length === 1) lines.push(ok(`network: ${list([...params.subnets, ...params.securityGroups])} exist, all in ${vpcs[0]}`));
    if (vpcs.length > 1) {
      const byVpc = vpcs.map((vpc) => `${list([...vpcOf].filter(([, v]) => v === vpc).map(([id]) => id))} in ${vpc}`);
      lines.push(problem(`network: the subnets and security groups are in ${vpcs.length} VPCs (${byVpc.join('; ')}): a task's network is in one VPC: take every id from the same VPC`));
    }
    if (groups.length > 0 && !groups.some((g) => (g.IpPermissionsEgress ?? []).some((p) =>
      p.IpProtocol === '-1' || (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= HTTPS && HTTPS <= (p.ToPort ?? 65535))))) {
      lines.push(problem(`network: security groups ${list(groups.map((g) => g.GroupId!))} allow no outbound HTTPS (TCP 443): tasks cannot pull their image or send logs: add an outbound rule for TCP 443`));
    }
    if (subnets.length > 0) {
      const vpcFilter = [{ Name: 'vpc-id', Values: [...new Set(subnets.map((s) => s.VpcId!))] }];
      const tables = (await call('ec2:DescribeRouteTables', () => ec2.send(new DescribeRouteTablesCommand({ Filters: vpcFilter })))).RouteTables ?? [];
      const endpoints = (await call('ec2:DescribeVpcEndpoints', () => ec2.send(new DescribeVpcEndpointsCommand({ Filters: vpcFilter })))).VpcEndpoints ?? [];
      const reached = subnets.map((s) => reach(s.SubnetId!, s.VpcId!, tables, endpoints, params.assignPublicIp, who.region));
      const fine = reached.filter((r) => !r.line);
      if (fine.length) lines.push(ok(`network: ${list(fine.map((r) => `${r.subnet} reaches ECR, S3 and CloudWatch Logs via ${r.via}`))}`));
      lines.push(...reached.flatMap((r) => (r.line ? [r.line] : [])));
    }
    return lines;
  });
}

/**
 * How a subnet reaches ECR, S3 and CloudWatch Logs, the first cause of CannotPullContainerError: `via` when it does,
 * else `line`, saying what it lacks and the ways to fix it.
 */
export function reach(subnet: string, vpc: string, tables: RouteTable[], endpoints: VpcEndpoint[], assignPublicIp: 'ENABLED' | 'DISABLED', region: string): { subnet: string; via?: string; line?: Line } {
  // A subnet without a table of its own uses its VPC's main route table.
  const table = tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnet))
    ?? tables.find((t) => t.VpcId === vpc && t.Associations?.some((a) => a.Main));
  const route = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
  const live = route && route.State !== 'blackhole';
  if (live && route.NatGatewayId) return { subnet, via: `NAT gateway ${route.NatGatewayId}` };
  const igw = route?.GatewayId?.startsWith('igw-') ? route.GatewayId : undefined;
  if (live && igw && assignPublicIp === 'ENABLED') return { subnet, via: `internet gateway ${igw} with a public IP` };

  const mine = endpoints.filter((e) => e.VpcId === vpc && (e.State ?? '').toLowerCase() === 'available');
  const named = (e: VpcEndpoint, service: string) => (e.ServiceName ?? '').endsWith(`.${region}.${service}`);
  const iface = (service: string) => mine.some((e) => named(e, service) && e.VpcEndpointType === 'Interface' && e.PrivateDnsEnabled);
  // S3 (the image layers): a gateway endpoint on this subnet's route table, or an interface endpoint with private DNS.
  const s3 = mine.some((e) => named(e, 's3') && (e.VpcEndpointType === 'Gateway' ? e.RouteTableIds?.includes(table?.RouteTableId ?? '') : e.PrivateDnsEnabled));
  const missing = [...INTERFACE_ENDPOINTS.filter((s) => !iface(s)), ...(s3 ? [] : ['s3'])];
  if (missing.length === 0) return { subnet, via: 'VPC endpoints' };

  // Egress through a transit gateway, a firewall or a NAT instance: it may well reach the internet; not followed.
  const other = live && !igw ? route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? route.VpcPeeringConnectionId ?? route.CoreNetworkArn ?? route.GatewayId : undefined;
  if (other) return { subnet, line: unchecked(`network: ${subnet} sends 0.0.0.0/0 to ${other}: not followed; make sure that reaches ECR, S3 and CloudWatch Logs`) };

  const rtb = table?.RouteTableId ?? 'its route table';
  const why = !route ? `no route 0.0.0.0/0 in ${rtb}`
    : !live ? `its route 0.0.0.0/0 in ${rtb} is a blackhole (the ${route.NatGatewayId ? 'NAT gateway' : 'target'} is gone)`
    : `its route 0.0.0.0/0 goes to internet gateway ${igw}, but assignPublicIp is DISABLED, so its tasks get no public IP`;
  const lacks = missing.length === 4 ? 'no VPC endpoints' : `no VPC endpoint for ${list(missing)}`;
  return {
    subnet,
    line: problem(`network: ${subnet} cannot reach ECR, S3 and CloudWatch Logs (${why}; ${lacks}): its tasks would stop with CannotPullContainerError; ` +
      `add a route 0.0.0.0/0 to a NAT gateway in ${rtb}, or VPC endpoints ${list(missing)} (ecr.api, ecr.dkr, logs: interface with private DNS; s3: gateway on ${rtb}), ` +
      'or use a public subnet (a route to an internet gateway) with assignPublicIp: ENABLED'),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The ECS service-linked role.

export async function checkServiceLinkedRole(iam: IAMClient): Promise<Line[]> {
  return guarded(`ECS: service-linked role ${ECS_SERVICE_LINKED_ROLE}`, async () => {
    try {
      await call('iam:GetRole', () => iam.send(new GetRoleCommand({ RoleName: ECS_SERVICE_LINKED_ROLE })));
    } catch (err) {
      if (!(err instanceof CallFailed) || !['NoSuchEntityException', 'NoSuchEntity'].includes(errorName(err.error))) throw err;
      return [problem(`ECS: the service-linked role ${ECS_SERVICE_LINKED_ROLE} does not exist yet (a new account): the deploy can fail at the cluster ` +
        '("Unable to assume the service linked role"); create it once: aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com')];
    }
    return [ok(`ECS: service-linked role ${ECS_SERVICE_LINKED_ROLE} exists`)];
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// An existing cluster (the `cluster` param): there, with the capacity providers the state machines ask for.

export async function checkCluster(ecs: ECSClient, stage: Stage): Promise<Line[]> {
  const name = stage.params.cluster;
  // Empty: the stack creates stepcron-<stage> with both providers.
  if (!name) return [];
  return guarded(`ECS: cluster ${name}`, async () => {
    const found = await call('ecs:DescribeClusters', () => ecs.send(new DescribeClustersCommand({ clusters: [name] })));
    // A name, never an ARN: the params refuse one (workflows/resources.ts toStageParams).
    const cluster = found.clusters?.find((c) => c.clusterName === name);
    const where = `set cluster for stage ${stage.stage} (params: in serverless.yml) to an existing cluster's name, or to '' for the stack to create one`;
    if (!cluster || cluster.status === 'INACTIVE') return [problem(`ECS: cluster ${name} ${cluster ? 'is INACTIVE (deleted)' : 'does not exist'}: ${where}`)];
    // Every job runs on FARGATE (Spot jobs fall back to it); Spot jobs start on FARGATE_SPOT.
    const needed = ['FARGATE', ...(stage.jobs.some((j) => j.capacity === 'spot') ? ['FARGATE_SPOT'] : [])];
    const lacking = needed.filter((p) => !(cluster.capacityProviders ?? []).includes(p));
    if (lacking.length) {
      // The call replaces both lists: the cluster's own providers and default strategy are kept.
      const all = [...new Set([...(cluster.capacityProviders ?? []), ...needed])].join(' ');
      const strategy = (cluster.defaultCapacityProviderStrategy ?? []).map((d) => `capacityProvider=${d.capacityProvider},weight=${d.weight ?? 0},base=${d.base ?? 0}`);
      return [problem(`ECS: cluster ${name} lacks the capacity provider${lacking.length > 1 ? 's' : ''} ${list(lacking)}, so its tasks cannot start: add ` +
        `${lacking.length > 1 ? 'them' : 'it'}: aws ecs put-cluster-capacity-providers --cluster ${name} --capacity-providers ${all} ` +
        `--default-capacity-provider-strategy ${strategy.length ? strategy.join(' ') : 'capacityProvider=FARGATE,weight=1'}`)];
    }
    return [ok(`ECS: cluster ${name} is ACTIVE with ${list(needed)}`)];
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Images: each job's image is in its ECR repository, by tag or digest.

export async function checkImages(ecr: (region: string) => ECRClient, jobs: Job[]): Promise<Line[]> {
  const byImage = new Map<string, string[]>();
  for (const job of jobs) byImage.set(job.image, [...(byImage.get(job.image) ?? []), job.name]);
  const found: string[] = [];
  const lines = await Promise.all([...byImage].map(async ([image, names]): Promise<Line[]> => {
    const at = parseEcrImage(image);
    if (!at) return [unchecked(`images: ${image} (${jobsNamed(names)}) is not in ECR: not checked; the tasks must be able to pull it from there`)];
    return guarded(`images: ${image}`, async () => {
      const client = ecr(at.region);
      try {
        await call('ecr:DescribeImages', () => client.send(new DescribeImagesCommand({
          registryId: at.account, repositoryName: at.repository, imageIds: [at.digest ? { imageDigest: at.digest } : { imageTag: at.tag! }],
        })));
      } catch (err) {
        const name = err instanceof CallFailed ? errorName(err.error) : '';
        if (name === 'RepositoryNotFoundException') {
          return [problem(`images: ${jobsNamed(names)}: repository ${at.repository} does not exist in account ${at.account}, ${at.region}: ` +
            `create it (aws ecr create-repository --repository-name ${at.repository} --region ${at.region}) and push ${image}`)];
        }
        if (name === 'ImageNotFoundException') {
          return [problem(`images: ${jobsNamed(names)}: ${image} is not in repository ${at.repository}: push it (docker push ${image}), or set image to one that is there`)];
        }
        throw err;
      }
      found.push(image);
      return [];
    });
  }));
  return [...(found.length ? [ok(`images: ${list(found)} in ECR`)] : []), ...lines.flat()];
}

// ---------------------------------------------------------------------------------------------------------------------
// Secrets: each SSM parameter and Secrets Manager secret exists; a JSON-key reference's key is in the secret's JSON.
// A value is never printed: only whether it is there.

/** GetParameters takes at most 10 names per call. */
const SSM_NAMES_PER_CALL = 10;

export async function checkSecrets(clients: Pick<DoctorClients, 'secrets' | 'ssm'>, jobs: Job[], who: Identity): Promise<Line[]> {
  // Each reference once, with every job variable that uses it.
  const users = new Map<string, string[]>();
  for (const job of jobs) {
    for (const [name, ref] of Object.entries(job.secrets)) users.set(ref, [...(users.get(ref) ?? []), `jobs.${job.name}.secrets.${name}`]);
  }
  const used = (ref: string) => list(users.get(ref)!);
  const ssmByRegion = new Map<string, string[]>();
  const secrets: Array<{ ref: string; at: Extract<ReturnType<typeof parseSecretRef>, { service: 'secretsmanager' }> }> = [];
  for (const ref of users.keys()) {
    const at = parseSecretRef(ref);
    // A form ECS cannot read is the offline check's line (cli/doctor.ts secretFormProblems).
    if (typeof at === 'string') continue;
    if (at.service === 'ssm') {
      const region = at.region ?? who.region;
      ssmByRegion.set(region, [...(ssmByRegion.get(region) ?? []), ref]);
    } else secrets.push({ ref, at });
  }
  let foundCount = 0;
  const ssmLines = [...ssmByRegion].flatMap(([region, names]) => chunks(names, SSM_NAMES_PER_CALL).map((batch) =>
    guarded(`secrets: SSM parameters ${list(batch)}`, async () => {
      const answer = await call('ssm:GetParameters', () => clients.ssm(region).send(new GetParametersCommand({ Names: batch })));
      const missing = new Set(answer.InvalidParameters ?? []);
      foundCount += batch.length - missing.size;
      return batch.filter((n) => missing.has(n)).map((n) => problem(`secrets: ${used(n)}: SSM parameter ${n} does not exist in ${region}` +
        `${n.startsWith('arn:') ? '' : ` (account ${who.account})`}: create it (aws ssm put-parameter --type SecureString --name ... --region ${region}), or fix the reference`));
    })));
  const smLines = secrets.map(({ ref, at }) => guarded(`secrets: ${at.secretId}`, async () => {
    const version = at.versionStage ? ` (version stage ${at.versionStage})` : at.versionId ? ` (version ${at.versionId})` : '';
    try {
      if (at.key === undefined && !version) {
        const found = await call('secretsmanager:DescribeSecret', () => clients.secrets(at.region).send(new DescribeSecretCommand({ SecretId: at.secretId })));
        if (found.DeletedDate) return [problem(`secrets: ${used(ref)}: secret ${at.secretId} is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id ${at.secretId})`)];
      } else {
        const value = await call('secretsmanager:GetSecretValue', () => clients.secrets(at.region).send(new GetSecretValueCommand({
          SecretId: at.secretId, ...(at.versionStage && { VersionStage: at.versionStage }), ...(at.versionId && { VersionId: at.versionId }),
        })));
        if (at.key !== undefined && !hasJsonKey(value.SecretString, at.key)) {
          return [problem(`secrets: ${used(ref)}: secret ${at.secretId}${version} has no JSON key '${at.key}'` +
            `${value.SecretString === undefined ? ' (it holds binary data, not JSON text)' : ''}: add the key to the secret's JSON, or fix the key in the reference`)];
        }
      }
    } catch (err) {
      if (!(err instanceof CallFailed) || errorName(err.error) !== 'ResourceNotFoundException') throw err;
      return [problem(`secrets: ${used(ref)}: secret ${at.secretId}${version} does not exist in account ${at.account}, ${at.region}: ` +
        `create it (aws secretsmanager create-secret --region ${at.region} --name ...), or fix the ARN`)];
    }
    foundCount++;
    return [];
  }));
  const lines = (await Promise.all([...ssmLines, ...smLines])).flat();
  return [...(foundCount ? [ok(`secrets: ${foundCount} of ${users.size} found${secrets.some((s) => s.at.key) ? ' (JSON keys included)' : ''}`)] : []), ...lines];
}

/** Whether a secret's text is a JSON object with this key. Never reports why not: a parse error quotes the value. */
function hasJsonKey(text: string | undefined, key: string): boolean {
  if (text === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, key);
  } catch {
    return false;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Quotas: room for what the stage creates.

export async function checkQuotas(clients: Pick<DoctorClients, 'iam' | 'sfn' | 'scheduler'>, stage: Stage, lists = regionLists(clients)): Promise<Line[]> {
  const lines = await Promise.all([iamQuotas(clients.iam, stage), stateMachineQuota(lists, stage), scheduleQuota(lists, stage)]);
  return lines.flat();
}

/** IAM roles per account (the stage's roles that are not there yet count), and managed policies per role. */
async function iamQuotas(iam: IAMClient, stage: Stage): Promise<Line[]> {
  return guarded('quotas: IAM roles', async () => {
    const summary = (await call('iam:GetAccountSummary', () => iam.send(new GetAccountSummaryCommand({})))).SummaryMap ?? {};
    const [roles, quota, perRole] = [summary.Roles ?? 0, summary.RolesQuota ?? 1000, summary.AttachedPoliciesPerRoleQuota ?? 10];
    // CloudFormation names the stage's roles after its stacks (stepcron-<stage>-...); the tasks' roles are under its path.
    let existing = 0;
    let Marker: string | undefined;
    do {
      const page = await call('iam:ListRoles', () => iam.send(new ListRolesCommand({ MaxItems: 1000, ...(Marker && { Marker }) })));
      existing += (page.Roles ?? []).filter((r) => r.RoleName?.startsWith(`stepcron-${stage.stage}-`) || r.Path?.startsWith(`/stepcron/${stage.stage}/`)).length;
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
    const adds = Math.max(0, stage.roles - existing);
    const lines: Line[] = [];
    if (roles + adds > quota) {
      lines.push(problem(`quotas: IAM roles: the account has ${n(roles)} of its ${n(quota)} and stage ${stage.stage} creates ${adds} more: ` +
        'delete roles no longer used, or ask for more (Service Quotas: IAM, "Roles per account")'));
    }
    for (const job of stage.jobs.filter((j) => j.taskPolicyArns.length > perRole)) {
      lines.push(problem(`quotas: jobs.${job.name}.taskPolicyArns: ${job.taskPolicyArns.length} managed policies, the account allows ${perRole} per role: ` +
        'combine some into one policy, or ask for more (Service Quotas: IAM, "Managed policies per role")'));
    }
    if (lines.length === 0) lines.push(ok(`quotas: IAM roles ${n(roles)} + ${adds} new of ${n(quota)}; taskPolicyArns within ${perRole} per role`));
    return lines;
  });
}

async function stateMachineQuota(lists: RegionLists, stage: Stage): Promise<Line[]> {
  return guarded('quotas: state machines', async () => {
    const names = await lists.stateMachines();
    const adds = stage.jobs.filter((j) => !names.has(stateMachineName(j, stage.stage))).length;
    if (names.size + adds > STATE_MACHINES_QUOTA) {
      return [problem(`quotas: state machines: the region has ${n(names.size)} and stage ${stage.stage} creates ${adds} more, over Step Functions' default ` +
        `${n(STATE_MACHINES_QUOTA)} per region: delete unused ones, or ask for more (Service Quotas: Step Functions) and ignore this line`)];
    }
    return [ok(`quotas: state machines ${n(names.size)} + ${adds} new of ${n(STATE_MACHINES_QUOTA)} (Step Functions' default)`)];
  });
}

/**
 * Schedule groups per region (the stage adds its warnings group). Schedules themselves (10 million per region by
 * default) cannot be counted short of listing them all, and no catalog comes near.
 */
async function scheduleQuota(lists: RegionLists, stage: Stage): Promise<Line[]> {
  return guarded('quotas: schedule groups', async () => {
    const names = await lists.scheduleGroups();
    const adds = names.has(warningGroup(stage.stage)) ? 0 : 1;
    if (names.size + adds > SCHEDULE_GROUPS_QUOTA) {
      return [problem(`quotas: schedule groups: the region has ${names.size} of ${SCHEDULE_GROUPS_QUOTA} and stage ${stage.stage} creates ${warningGroup(stage.stage)}: ` +
        'delete unused groups, or ask for more (Service Quotas: EventBridge Scheduler)')];
    }
    return [ok(`quotas: schedule groups ${names.size} + ${adds} new of ${SCHEDULE_GROUPS_QUOTA}; ${n(stage.jobs.length)} schedules of 10,000,000 (not counted)`)];
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Stage names: every name and permission is scoped by the prefix stepcron-<stage>-, which also takes in a stage named
// <stage>-<more>: stage dev's roles reach stage dev-alice's state machines, and dev's job alice-report and dev-alice's
// job report are both stepcron-dev-alice-report. Offline nothing can know the other stages; the region can.

export async function checkStageNames(clients: Pick<DoctorClients, 'sfn' | 'scheduler'>, stage: Stage, lists = regionLists(clients)): Promise<Line[]> {
  return guarded('stage names', async () => {
    const machines = await lists.stateMachines();
    const stages = [stage.stage, ...await deployedStages(lists)];
    const prefix = jobPrefix(stage.stage);
    const mine = new Set(stage.jobs.map((j) => stateMachineName(j, stage.stage)));
    // A machine's stage: the longest known stage whose prefix its name starts with.
    const owner = (name: string) => stages.filter((s) => name.startsWith(jobPrefix(s))).sort((a, b) => b.length - a.length)[0];
    const fix = "rename the stage so no stage name is another's followed by '-'";
    const lines: Line[] = [];
    for (const name of [...machines].filter((m) => m.startsWith(prefix) && !mine.has(m)).sort()) {
      const other = owner(name);
      lines.push(problem(other && other !== stage.stage
        ? `stage names: state machine ${name} is stage ${other}'s and starts with this stage's prefix ${prefix}: stage ${stage.stage}'s roles can start, ` +
          `stop and read its runs, and a job ${name.slice(prefix.length)} here would take its name: ${fix}`
        : `stage names: state machine ${name} starts with this stage's prefix ${prefix} but is no job of this catalog: another stage's ` +
          `(named ${stage.stage}-...), which this stage's roles can start, stop and read, or a leftover: ${fix}, or delete the leftover`));
    }
    // The other way: a shorter stage (dev, for dev-alice) whose prefix takes in this stage's names.
    const parts = stage.stage.split('-');
    for (let i = 1; i < parts.length; i++) {
      const shorter = parts.slice(0, i).join('-');
      const theirs = [...machines].filter((m) => m.startsWith(jobPrefix(shorter)) && !m.startsWith(prefix) && (owner(m) ?? shorter) === shorter).sort();
      if (theirs.length === 0 && !stages.includes(shorter)) continue;
      const seen = theirs.length ? `state machines ${list(theirs.slice(0, 3))}${theirs.length > 3 ? ', ...' : ''}` : `schedule group ${warningGroup(shorter)}`;
      lines.push(problem(`stage names: stage ${shorter} is in this region (${seen}) and its prefix ${jobPrefix(shorter)} takes in this stage's ${prefix}: ` +
        `its roles can start, stop and read stage ${stage.stage}'s runs, and its job ${stage.stage.slice(shorter.length + 1)}-<job> would take the name of this stage's <job>: ${fix}`));
    }
    if (lines.length === 0) lines.push(ok(`stage names: no other stage's state machines under ${prefix}, and no stage whose prefix takes it in`));
    return lines;
  });
}

/** Region-wide listings some checks share, each made at most once (its promise kept). */
interface RegionLists { stateMachines(): Promise<Set<string>>; scheduleGroups(): Promise<Set<string>> }

function regionLists(clients: Pick<DoctorClients, 'sfn' | 'scheduler'>): RegionLists {
  const once = <T>(fetch: () => Promise<T>) => {
    let made: Promise<T> | undefined;
    return () => (made ??= fetch());
  };
  return {
    // Every state machine's name in the region (ListStateMachines, paged).
    stateMachines: once(async () => {
      const names = new Set<string>();
      let nextToken: string | undefined;
      do {
        const page = await call('states:ListStateMachines', () => clients.sfn.send(new ListStateMachinesCommand({ maxResults: 1000, ...(nextToken && { nextToken }) })));
        for (const m of page.stateMachines ?? []) names.add(m.name!);
        nextToken = page.nextToken;
      } while (nextToken);
      return names;
    }),
    // Every schedule group's name in the region (ListScheduleGroups, paged).
    scheduleGroups: once(async () => {
      const names = new Set<string>();
      let NextToken: string | undefined;
      do {
        const page = await call('scheduler:ListScheduleGroups', () => clients.scheduler.send(new ListScheduleGroupsCommand({ MaxResults: 100, ...(NextToken && { NextToken }) })));
        for (const g of page.ScheduleGroups ?? []) names.add(g.Name!);
        NextToken = page.NextToken;
      } while (NextToken);
      return names;
    }),
  };
}

/**
 * The stages deployed in the region, from their warnings schedule groups (stepcron-<stage>-warnings): what tells
 * stage dev-alice's stepcron-dev-alice-report from stage dev's job alice-report. A hint only: without permission, none.
 */
async function deployedStages(lists: RegionLists): Promise<string[]> {
  let groups: Set<string>;
  try {
    groups = await lists.scheduleGroups();
  } catch {
    return [];
  }
  return [...groups].flatMap((name) => {
    const stage = /^stepcron-(.+)-warnings$/.exec(name)?.[1];
    return stage && warningGroup(stage) === name ? [stage] : [];
  });
}
