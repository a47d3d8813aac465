// The catalog -> CloudFormation: per job a task definition, a state machine (via serverless-step-functions), a
// schedule and an alarm; per stage the roles, log groups, topic and queue every job shares, scoped by name prefix.
// Pure: serverless.yml calls it through workflows/serverless.cjs; workflows/stacks.ts splits the result by job.
import { createHash } from 'node:crypto';
import { type Job, logicalId, scheduledOnStage } from './catalog';
import {
  bufferedRunsQueue, bufferedRunsRule, claimsTable, deadLetterQueueName, deadlineAlarmName, defaultClusterName, functionName, jobPrefix, jobsLogGroup,
  missedSchedulesAlarmName, stateMachineName as machineName, runsAlarmName, stateMachineLogGroup, taskFamily as family, taskRolePath,
  lostBufferedRunsAlarmName, thousands, topicName, warningGroup, warningRolePath,
} from './names';
import { compile, type Infra, JOB_CONTAINER, s3Bucket } from './compile';
import { deadlineWindow } from './alerts';
import { dashboardProblem, dashboardResource } from './dashboard';
import { deployedSchedule } from './schedule';
import { JOB_STACKS, stackId } from './stacks';

/** Per-stage values from serverless.yml `params:`. */
export interface StageParams {
  stage: string;
  /** An existing ECS cluster's name; empty: the stack creates `stepcron-<stage>`. */
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
  notifyEmails: string[];
  /** Secrets Manager secret (name or ARN) holding the Slack webhook URL; empty: no Slack. */
  slackWebhookSecret: string;
  /** '*' for every job the catalog enables on this stage, or the names of the jobs to schedule. */
  enabledJobs: string[] | '*';
}

const PARAM_NAMES = ['cluster', 'subnets', 'securityGroups', 'assignPublicIp', 'notifyEmails', 'slackWebhookSecret', 'enabledJobs'] as const;
export type RawParams = Partial<Record<(typeof PARAM_NAMES)[number], unknown>>;

/** serverless.yml `params:` values (strings, lists comma-separated) -> StageParams. */
export function toStageParams(stage: string, raw: RawParams): StageParams {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v).trim());
  const list = (v: unknown) => (Array.isArray(v) ? v.map(text) : text(v).split(',')).map((s) => s.trim()).filter(Boolean);
  const problems: string[] = [];
  const ip = text(raw.assignPublicIp) || 'DISABLED';
  const ipOk = ip === 'ENABLED' || ip === 'DISABLED';
  if (!ipOk) problems.push(`assignPublicIp must be ENABLED or DISABLED, not '${ip}'`);
  const cluster = text(raw.cluster);
  const clusterProblem = cluster && clusterNameProblem(cluster, stage);
  if (clusterProblem) problems.push(clusterProblem);
  // (`!ipOk` again only so that TypeScript knows ip is ENABLED or DISABLED below.)
  if (problems.length || !ipOk) throw new ParamsError(`stage ${stage} params: ${problems.join('; ')}`);
  return {
    stage,
    cluster,
    subnets: list(raw.subnets),
    securityGroups: list(raw.securityGroups),
    assignPublicIp: ip,
    notifyEmails: list(raw.notifyEmails),
    slackWebhookSecret: text(raw.slackWebhookSecret),
    enabledJobs: text(raw.enabledJobs) === '*' || text(raw.enabledJobs) === '' ? '*' : list(raw.enabledJobs),
  };
}

/** What ECS takes as a cluster name (CreateCluster): 1-255 letters, digits, hyphens and underscores. */
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:[^:]*:ecs:[^:]*:[^:]*:cluster\/(.*)$/;

/**
 * Why `cluster` is not a cluster's name, or '' when it is. The templates build the cluster's ARN (the state machines'
 * role condition, StopTask's task ARNs) from the name in the stage's own account and region, so an ARN is refused
 * rather than cut to its name: a cluster elsewhere cannot run the stage's tasks, and no warning would reach the user.
 */
function clusterNameProblem(cluster: string, stage: string): string {
  if (CLUSTER_NAME.test(cluster)) return '';
  const fromArn = CLUSTER_ARN.exec(cluster)?.[1];
  if (fromArn !== undefined && CLUSTER_NAME.test(fromArn)) {
    return `cluster: '${cluster}' is an ARN: give the cluster's name (cluster: ${fromArn}), which the stack finds in stage ${stage}'s own account and region`;
  }
  return `cluster: '${cluster}' is not an ECS cluster name (up to 255 letters, digits, hyphens, underscores): give an existing cluster's name, or '' for the stack to create one`;
}

/** The names serverless.yml must define under `params:`. */
export const STAGE_PARAM_NAMES: readonly string[] = PARAM_NAMES;

type Cfn = Record<string, unknown>;
/**
 * Text taken as it is inside an Fn::Sub: every `${` becomes `${!`, which Fn::Sub turns back into `${`. Whatever a
 * user writes (catalog text, a stage param) goes into a Sub only through this, so it can never become a reference.
 */
export const literal = (text: string) => text.replaceAll('${', '${!');
/** An Fn::Sub: `${AWS::Region}`, `${Resource}` in `s` are references; interpolate user text with literal(). */
const sub = (s: string) => ({ 'Fn::Sub': s });
const arn = (s: string) => sub(`arn:\${AWS::Partition}:${s}`);
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] as [string, string] });

export class ParamsError extends Error {
  override name = 'ParamsError';
}

// Every physical name comes from workflows/names.ts, where each is checked against AWS's limit.
export const clusterName = (p: StageParams) => p.cluster || defaultClusterName(p.stage);
export const stateMachineName = (job: Job, stage: string) => machineName(stage, job.name);
export const taskFamily = (job: Job, stage: string) => family(stage, job.name);
export { claimsTable, jobsLogGroup, taskRolePath, warningGroup };
export const taskLogGroup = (_job: Job, stage: string) => jobsLogGroup(stage);

/** The infrastructure references a deployed state machine uses. */
export function deployInfra(job: Job, params: StageParams): Infra {
  return {
    stage: params.stage,
    cluster: arn(`ecs:\${AWS::Region}:\${AWS::AccountId}:cluster/${literal(clusterName(params))}`),
    taskDefinition: { Ref: `${logicalId(job.name)}TaskDefinition` },
    subnets: params.subnets,
    securityGroups: params.securityGroups,
    assignPublicIp: params.assignPublicIp,
    precheckFunction: getAtt('PrecheckLambdaFunction'),
    notifyFunction: getAtt('NotifyLambdaFunction'),
    logGroup: taskLogGroup(job, params.stage),
    resultsBucket: { Ref: 'FanOutBucket' },
    itemsPrefix: { 'Fn::Sub': 's3://${FanOutBucket}/items/' },
  };
}

/** `stepFunctions.stateMachines` for serverless-step-functions, with our own role instead of its `*` one. */
export function stateMachines(jobs: Job[], params: StageParams): Cfn {
  checkParams(jobs, params);
  const out: Cfn = {};
  for (const job of jobs) {
    const id = logicalId(job.name);
    out[id] = {
      id: `${id}StateMachine`,
      name: stateMachineName(job, params.stage),
      type: 'STANDARD',
      role: getAtt('StateMachineRole'),
      definition: compile(job, deployInfra(job, params)),
      loggingConfig: {
        level: 'ERROR',
        includeExecutionData: false,
        destinations: [getAtt('StateMachineLogGroup')],
      },
    };
  }
  return out;
}

/**
 * The logical ids of one job's resources: a task definition, its state machine, schedule and alarm, and roles of its
 * own only when it needs them (secrets to read, policies of its own). Everything else is shared by the stage, so a
 * job costs 4-6 resources and the stage splits into nested stacks by job (workflows/stacks.ts).
 */
export function jobResourceIds(job: Job): string[] {
  const id = logicalId(job.name);
  return [
    `${id}TaskDefinition`, `${id}StateMachine`, `${id}Schedule`, `${id}Alarm`,
    ...(job.successDeadlineMinutes !== undefined ? [`${id}DeadlineAlarm`] : []),
    ...(hasOwnExecutionRole(job) ? [`${id}ExecutionRole`] : []),
    ...(hasOwnTaskRole(job) ? [`${id}TaskRole`] : []),
  ];
}

const hasOwnExecutionRole = (job: Job) => Object.keys(job.secrets).length > 0;
const hasOwnTaskRole = (job: Job) => job.taskPolicyArns.length > 0;

/** Everything else the catalog implies, for `resources.Resources`. */
export function resources(jobs: Job[], params: StageParams): Cfn {
  checkParams(jobs, params);
  const { stage } = params;
  const machines = arn(`states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${jobPrefix(stage)}*`);
  const executions = arn(`states:\${AWS::Region}:\${AWS::AccountId}:execution:${jobPrefix(stage)}*:*`);
  const out: Cfn = {
    NotificationTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: topicName(stage),
        Subscription: params.notifyEmails.map((email) => ({ Protocol: 'email', Endpoint: email })),
      },
    },
    SchedulerDeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: deadLetterQueueName(stage), MessageRetentionPeriod: 1209600 },
    },
    // A schedule that could not start its run lands here: someone should hear about it.
    SchedulerDeadLetterAlarm: alarm(missedSchedulesAlarmName(stage),
      'A schedule could not start its workflow; the event is in the dead-letter queue', {
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
        Dimensions: [{ Name: 'QueueName', Value: getAtt('SchedulerDeadLetterQueue', 'QueueName') }],
      }),
    // Scoped by name prefix, not by listing every state machine: one policy must fit 1,000 jobs (IAM allows 10 KB).
    SchedulerRole: role('scheduler.amazonaws.com', [
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: machines },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('SchedulerDeadLetterQueue') },
    ]),
    // By name, not Ref: the state machines reference the precheck function, which uses this role.
    PrecheckRole: role('lambda.amazonaws.com', [
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: machines },
      { Effect: 'Allow', Action: 'states:StopExecution', Resource: executions },
      // Claims (handlers/lib/precheck.ts dynamoClaims): conditional put, conditional delete, consistent read.
      { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'], Resource: getAtt('ClaimsTable') },
      ...bufferStatements(jobs, stage),
    ], { lambdaLogs: true }),
    // One run per scheduled time, and each buffer job's waiting place (handlers/lib/precheck.ts claimKeys). Items
    // expire by themselves: the claim conditions treat an expired item as free, TTL deletes it within days.
    ClaimsTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: claimsTable(stage),
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Tags: [{ Key: 'stepcron:stage', Value: stage }],
      },
    },
    NotifyRole: role('lambda.amazonaws.com', [
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'NotificationTopic' } },
      // The runtime warning (handlers/lib/warnings.ts): a one-time schedule in the stage's group, run with the role
      // below, and a look at whether the execution is still running when it fires.
      { Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: arn(`scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${warningGroup(stage)}/*`) },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${warningRolePath(stage)}*`),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
      // ... and the run's history, to price it for the notification (workflows/cost.ts).
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: executions },
      // ... and the failed task's last lines of output, from its stream in the stage's jobs log group.
      { Effect: 'Allow', Action: 'logs:GetLogEvents', Resource: arn(`logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${jobsLogGroup(stage)}:log-stream:*`) },
      ...(params.slackWebhookSecret
        ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretGrant(params.slackWebhookSecret).resource }]
        : []),
    ], { lambdaLogs: true }),
    StateMachineRole: stateMachineRole(jobs, params),
    WarningScheduleGroup: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: warningGroup(stage) } },
    // What a runtime warning's schedule runs as: it may only call the notify function back (named, not Ref'd: the
    // function's role passes this role, so a reference would be a cycle).
    WarningSchedulerRole: role('scheduler.amazonaws.com', [{
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: arn(`lambda:\${AWS::Region}:\${AWS::AccountId}:function:${functionName(stage, 'notify')}`),
    }], { path: warningRolePath(stage), name: warningGroup(stage) }),
    // Fan-out results (Distributed Map ResultWriter, under results/) and item lists uploaded for runs (under items/).
    FanOutBucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-results', Status: 'Enabled', Prefix: 'results/', ExpirationInDays: 30 }] },
        Tags: [{ Key: 'stepcron:stage', Value: stage }],
      },
    },
    TaskLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: jobsLogGroup(stage), RetentionInDays: 30 },
    },
    StateMachineLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: stateMachineLogGroup(stage), RetentionInDays: 30 },
    },
    // What runs a job's container (pulls the image, writes its logs); a job with secrets has its own.
    ExecutionRole: executionRole(stage, []),
    // The identity of jobs with no taskPolicyArns: it may do nothing in AWS.
    TaskRole: role('ecs-tasks.amazonaws.com', [], { path: taskRolePath(stage) }),
  };
  if (!params.cluster) {
    out.Cluster = {
      Type: 'AWS::ECS::Cluster',
      Properties: {
        ClusterName: clusterName(params),
        CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      },
    };
  }
  Object.assign(out, bufferResources(jobs, stage));
  // The stage's runs and alarms at a glance: in the main stack, naming the jobs' alarms (no reference to them).
  out.Dashboard = dashboardResource(jobs, stage, params.enabledJobs, literal);
  const clashes = logicalIdClashes(jobs, Object.keys(out));
  if (clashes.length) throw new ParamsError(`stage ${stage}: ${clashes.join('; ')}`);
  for (const job of jobs) Object.assign(out, jobResources(job, params));
  const dashboard = dashboardProblem(((out.Dashboard as Cfn).Properties as { DashboardBody: { 'Fn::Sub': string } }).DashboardBody['Fn::Sub']);
  if (dashboard) throw new ParamsError(`stage ${stage}: ${dashboard}`);
  const oversized = policyProblems(out, jobs);
  if (oversized.length) throw new ParamsError(`stage ${stage}: ${oversized.join('; ')}`);
  return out;
}

/** `text` in at most `max` UTF-16 units, never cut inside a character (a lone surrogate would reach AWS as U+FFFD). */
export function cutText(text: string, max: number): string {
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Logical ids the framework adds to the stage's template beside ours (osls: the functions, their log groups, its bucket). */
const FRAMEWORK_IDS = ['PrecheckLambdaFunction', 'NotifyLambdaFunction', 'PrecheckLogGroup', 'NotifyLogGroup', 'ServerlessDeploymentBucket',
  'ServerlessDeploymentBucketPolicy', 'IamRoleLambdaExecution'];

/**
 * A job whose resources would take a logical id the stage already uses (job `scheduler-dead-letter`'s alarm is
 * `SchedulerDeadLetterAlarm`, the stage's own): one template key would silently replace the other. One line per job.
 */
function logicalIdClashes(jobs: Job[], sharedIds: string[]): string[] {
  const shared = new Set([...sharedIds, ...FRAMEWORK_IDS, ...Array.from({ length: JOB_STACKS }, (_, i) => stackId(i))]);
  return jobs.flatMap((job) => {
    const clash = jobResourceIds(job).find((id) => shared.has(id));
    return clash ? [`jobs.${job.name}: its resource ${clash} would replace the stage's own resource of that logical id: rename the job`] : [];
  });
}

/** IAM's default quotas that a stage's roles meet (AWS docs, "IAM and AWS STS quotas"). */
export const IAM_QUOTAS = {
  /** Roles per account (adjustable, up to 5,000): every stage and everything else in the account shares them. */
  rolesPerAccount: 1000,
  /** All of one role's inline policies together, whitespace not counted; not adjustable. */
  inlinePolicyCharacters: 10_240,
} as const;

/** The IAM roles a stage's template creates: 7 shared, plus one per job with secrets and one per job with taskPolicyArns. */
export function stageRoles(template: { Resources: Record<string, Cfn> }): string[] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
}

/**
 * Why the stage's roles alone would not fit an account with IAM's default quota, or undefined. Said by `validate`
 * (exit 1), not enforced at package time: the quota can be raised, and only the account knows what else it holds.
 */
export function roleQuotaProblem(template: { Resources: Record<string, Cfn> }): string | undefined {
  const roles = stageRoles(template).length;
  if (roles <= IAM_QUOTAS.rolesPerAccount) return undefined;
  return `its ${roles} IAM roles pass the ${thousands(IAM_QUOTAS.rolesPerAccount)} an account has by default (one per job with secrets, ` +
    'one per job with taskPolicyArns): raise "Roles per account" in Service Quotas (up to 5,000) before deploying, or give fewer jobs their own';
}

/**
 * A role's inline policies as IAM counts them, after CloudFormation resolved them: pseudo parameters at their longest
 * values, any other reference (an ARN of this stage) at 200 characters, more than any of them is.
 */
export function policyCharacters(role: Cfn): number {
  const longest: Record<string, string> = { 'AWS::Partition': 'aws-us-gov', 'AWS::Region': 'ap-southeast-7', 'AWS::AccountId': '123456789012' };
  const reference = 'a'.repeat(200);
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (typeof node !== 'object' || node === null) return node;
    const [key, value] = Object.entries(node)[0] ?? [];
    if (key === 'Ref') return longest[value as string] ?? reference;
    if (key === 'Fn::GetAtt') return reference;
    if (key === 'Fn::Sub') {
      return String(Array.isArray(value) ? value[0] : value).replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => (bang ? `\${${name}}` : longest[name] ?? reference));
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
  };
  const policies = ((role.Properties as Cfn | undefined)?.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>;
  return policies.reduce((n, p) => n + p.PolicyName.length + JSON.stringify(resolve(p.PolicyDocument)).length, 0);
}

/** Roles whose inline policies IAM would refuse, one line each, naming what makes them grow and the fix. */
function policyProblems(out: Cfn, jobs: Job[]): string[] {
  const fixes: Record<string, string> = {
    StateMachineRole: 'it grows with each distinct itemsFrom bucket: keep fan-out item lists in fewer buckets (the stage bucket\'s items/ is always readable)',
  };
  for (const job of jobs) {
    fixes[`${logicalId(job.name)}ExecutionRole`] = `it grows with each secret of jobs.${job.name}.secrets: read fewer secrets (the keys of one JSON secret share one grant)`;
  }
  return Object.entries(out as Record<string, Cfn>).filter(([, r]) => r.Type === 'AWS::IAM::Role').flatMap(([id, r]) => {
    const size = policyCharacters(r);
    if (size <= IAM_QUOTAS.inlinePolicyCharacters) return [];
    return [`role ${id}'s inline policy would be up to ${thousands(size)} characters, and IAM allows ${thousands(IAM_QUOTAS.inlinePolicyCharacters)} per role: ` +
      (fixes[id] ?? 'please report this as a stepcron bug')];
  });
}

/**
 * Up to this many buffer jobs are named one by one (in the precheck's policy and the rule's pattern); more would
 * outgrow the role's 10 KB of policy, so the stage's name prefix is used instead, as for the other states actions.
 */
const BUFFER_JOBS_LISTED = 20;
/**
 * EventBridge's limit on an event pattern (2,048 characters by default), and what the pattern is without its state
 * machine ARNs; each ARN is counted at its longest resolved form (partition, region and account at their longest).
 */
const EVENT_PATTERN_MAX = 2_048;
const PATTERN_WITHOUT_ARNS = JSON.stringify({ source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'],
  detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [] } }).length;
const LONGEST_MACHINE_ARN_PREFIX = 'arn:aws-iso-b:states:ap-southeast-7:123456789012:stateMachine:'.length;

/**
 * The state machines of the buffer jobs: by name, or all the stage's when there are too many to list, or their ARNs
 * would pass the rule's event pattern limit (20 names of 30 characters already would).
 */
function bufferMachines(jobs: Job[], stage: string): Array<{ name: string; prefix: boolean }> {
  const names = jobs.filter((j) => j.concurrency === 'buffer').map((j) => stateMachineName(j, stage));
  const pattern = PATTERN_WITHOUT_ARNS + names.reduce((n, name) => n + LONGEST_MACHINE_ARN_PREFIX + name.length + 3, 0);
  if (names.length <= BUFFER_JOBS_LISTED && pattern <= EVENT_PATTERN_MAX) return names.map((name) => ({ name, prefix: false }));
  return [{ name: jobPrefix(stage), prefix: true }];
}

/**
 * concurrency buffer: the precheck function starts a buffered run again when the run ahead ends. It reads the
 * buffered execution's input and starts the new run on the same state machine. SendTaskSuccess is not used: IAM
 * cannot scope it to a resource.
 */
function bufferStatements(jobs: Job[], stage: string): Cfn[] {
  const machines = bufferMachines(jobs, stage);
  if (machines.length === 0) return [];
  const states = (kind: string, m: { name: string; prefix: boolean }, suffix: string) =>
    arn(`states:\${AWS::Region}:\${AWS::AccountId}:${kind}:${m.name}${m.prefix ? '*' : ''}${suffix}`);
  return [
    { Effect: 'Allow', Action: 'states:StartExecution', Resource: machines.map((m) => states('stateMachine', m, '')) },
    { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: machines.map((m) => states('execution', m, ':*')) },
    // The function's asynchronous calls (the rule's events, the reconcile) that failed every try land in the queue.
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('BufferedRunsDeadLetterQueue') },
  ];
}

/** How often the reconcile looks for a waiting run whose status event was lost (handlers/lib/precheck.ts). */
export const BUFFER_RECONCILE_MINUTES = 5;
/**
 * Buffer jobs per reconcile schedule: their state machine ARNs are the schedule's input, kept under 8 KB (EventBridge's
 * limit on a target's input; Scheduler documents none) even at 80-character names.
 */
const RECONCILE_MACHINES_PER_SCHEDULE = 40;

/**
 * concurrency buffer: EventBridge calls the precheck function when a run of a buffer job ends, however it ends, to
 * start the run waiting for it. EventBridge delivers best effort, so a schedule every few minutes reconciles (starts a
 * waiting run whose run ahead has ended), and what could not be delivered lands in a dead-letter queue with an alarm.
 */
function bufferResources(jobs: Job[], stage: string): Cfn {
  const machines = bufferMachines(jobs, stage);
  if (machines.length === 0) return {};
  const machineArn = (m: { name: string; prefix: boolean }) => {
    const value = arn(`states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${m.name}`);
    return m.prefix ? { prefix: value } : value;
  };
  const names = jobs.filter((j) => j.concurrency === 'buffer').map((j) => stateMachineName(j, stage));
  const reconciles: Cfn = {};
  for (let i = 0; i < names.length; i += RECONCILE_MACHINES_PER_SCHEDULE) {
    const batch = names.slice(i, i + RECONCILE_MACHINES_PER_SCHEDULE);
    const stateMachines = batch.map((name) => `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${name}`);
    reconciles[`BufferedRunsReconcile${i === 0 ? '' : i / RECONCILE_MACHINES_PER_SCHEDULE + 1}`] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: 'concurrency buffer: start a waiting run whose run ahead ended without its status event',
        ScheduleExpression: `rate(${BUFFER_RECONCILE_MINUTES} minutes)`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt('PrecheckLambdaFunction'),
          RoleArn: getAtt('BufferedRunsReconcileRole'),
          // The job names are [a-z0-9-]: nothing in them is a Sub reference.
          Input: sub(JSON.stringify({ reconcile: 'buffered-runs', stateMachines })),
          // A reconcile that cannot be delivered is replaced by the next one a few minutes later.
          RetryPolicy: { MaximumEventAgeInSeconds: BUFFER_RECONCILE_MINUTES * 60, MaximumRetryAttempts: 2 },
        },
      },
    };
  }
  const queueName = bufferedRunsQueue(stage);
  return {
    ...reconciles,
    // What the reconcile schedules run as: they may invoke the precheck function, nothing else.
    BufferedRunsReconcileRole: role('scheduler.amazonaws.com', [
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt('PrecheckLambdaFunction') },
    ]),
    BufferedRunsDeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: queueName, MessageRetentionPeriod: 1209600 },
    },
    // EventBridge puts an undeliverable event in the queue only if the queue lets this rule do so.
    BufferedRunsDeadLetterQueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'BufferedRunsDeadLetterQueue' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: getAtt('BufferedRunsDeadLetterQueue'),
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt('BufferedRunsRule') } },
          }],
        },
      },
    },
    BufferedRunsDeadLetterAlarm: alarm(lostBufferedRunsAlarmName(stage),
      `A run of a buffer job ended and the precheck function could not be told (or a reconcile failed); the reconcile tries every ${BUFFER_RECONCILE_MINUTES} minutes: the event is in ${queueName}`, {
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
        Dimensions: [{ Name: 'QueueName', Value: getAtt('BufferedRunsDeadLetterQueue', 'QueueName') }],
      }),
    // The function failed an asynchronous call (the rule's event, a reconcile) after Lambda's own two retries.
    PrecheckAsyncFailures: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: {
        FunctionName: { Ref: 'PrecheckLambdaFunction' },
        Qualifier: '$LATEST',
        DestinationConfig: { OnFailure: { Destination: getAtt('BufferedRunsDeadLetterQueue') } },
      },
    },
    BufferedRunsRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: bufferedRunsRule(stage),
        Description: 'A run of a concurrency buffer job ended: start the run waiting for it',
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: machines.map(machineArn) },
        },
        Targets: [{
          Id: 'precheck',
          Arn: getAtt('PrecheckLambdaFunction'),
          // Retried for an hour, then kept in the queue (and alarmed); the reconcile starts the waiting run meanwhile.
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: getAtt('BufferedRunsDeadLetterQueue') },
        }],
      },
    },
    BufferedRunsPermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt('PrecheckLambdaFunction'),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt('BufferedRunsRule'),
      },
    },
  };
}

/** The one role every job's state machine runs with, scoped to the stage's names. */
function stateMachineRole(jobs: Job[], params: StageParams): Cfn {
  const { stage } = params;
  const clusterArn = arn(`ecs:\${AWS::Region}:\${AWS::AccountId}:cluster/${literal(clusterName(params))}`);
  const bucket = (path: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${FanOutBucket}${path}` });
  const itemBuckets = [...new Set(jobs.flatMap((j) => (j.fanOut?.itemsFrom ? [s3Bucket(j.fanOut.itemsFrom)] : [])))];
  // A Distributed Map runs its items as child executions of the job's own state machine, reads items from S3 and
  // writes results to the stage bucket; redrive restarts its failed items.
  const distributed = jobs.some((j) => j.fanOut) ? [
    { Effect: 'Allow', Action: 'states:StartExecution', Resource: arn(`states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${jobPrefix(stage)}*`) },
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution', 'states:ListMapRuns'],
      Resource: arn(`states:\${AWS::Region}:\${AWS::AccountId}:execution:${jobPrefix(stage)}*`),
    },
    {
      Effect: 'Allow',
      Action: ['states:DescribeMapRun', 'states:UpdateMapRun'],
      Resource: arn(`states:\${AWS::Region}:\${AWS::AccountId}:mapRun:${jobPrefix(stage)}*`),
    },
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [bucket('/items/*'), ...itemBuckets.map((b) => sub(`arn:\${AWS::Partition}:s3:::${b}/*`))],
    },
    {
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
      Resource: bucket('/results/*'),
    },
  ] : [];
  return role('states.amazonaws.com', [
    ...distributed,
    {
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: arn(`ecs:\${AWS::Region}:\${AWS::AccountId}:task-definition/${jobPrefix(stage)}*:*`),
      Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
    },
    {
      Effect: 'Allow',
      Action: ['ecs:StopTask', 'ecs:DescribeTasks', 'ecs:TagResource'],
      Resource: arn(`ecs:\${AWS::Region}:\${AWS::AccountId}:task/${literal(clusterName(params))}/*`),
    },
    // ListTasks has no resource-level permissions; the condition pins it to the cluster.
    { Effect: 'Allow', Action: 'ecs:ListTasks', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': clusterArn } } },
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${taskRolePath(stage)}*`),
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    // The managed rule through which .sync learns that the task stopped.
    {
      Effect: 'Allow',
      Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      Resource: arn('events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule'),
    },
    {
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: ['PrecheckLambdaFunction', 'NotifyLambdaFunction'].flatMap((f) => [getAtt(f), { 'Fn::Sub': `\${${f}.Arn}:*` }]),
    },
    // Vended log delivery for state machine logging has no resource-level permissions.
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
      Resource: '*',
    },
  ]);
}

function executionRole(stage: string, secretRefs: string[]): Cfn {
  return role('ecs-tasks.amazonaws.com', [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arn(`logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${jobsLogGroup(stage)}:*`),
    },
    ...secretStatements(secretRefs),
  ], { path: taskRolePath(stage), managed: ['arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'] });
}

function jobResources(job: Job, params: StageParams): Cfn {
  const id = logicalId(job.name);
  const { stage } = params;
  const enabled = scheduledOnStage(job, params.enabledJobs);
  const out: Cfn = {
    [`${id}TaskDefinition`]: {
      Type: 'AWS::ECS::TaskDefinition',
      // A changed task definition is a new revision, and CloudFormation deregisters the old one, which ECS then
      // refuses to run. A run in flight during the deploy keeps its state machine version, and so the old ARN, for
      // its retries and fan-out items: the old revision stays ACTIVE (revisions cost nothing).
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Family: taskFamily(job, stage),
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: String(job.cpu),
        Memory: String(job.memory),
        ExecutionRoleArn: getAtt(hasOwnExecutionRole(job) ? `${id}ExecutionRole` : 'ExecutionRole'),
        TaskRoleArn: getAtt(hasOwnTaskRole(job) ? `${id}TaskRole` : 'TaskRole'),
        ContainerDefinitions: [{
          Name: JOB_CONTAINER,
          Image: job.image,
          Essential: true,
          Command: job.command,
          Environment: Object.entries(job.environment).map(([Name, Value]) => ({ Name, Value })),
          // Secrets are resolved by ECS at start; they never appear as plain values in the template.
          Secrets: Object.entries(job.secrets).map(([Name, ref]) => ({ Name, ValueFrom: secretValueFrom(ref) })),
          LogConfiguration: {
            LogDriver: 'awslogs',
            Options: {
              'awslogs-group': taskLogGroup(job, stage),
              'awslogs-region': { Ref: 'AWS::Region' },
              'awslogs-stream-prefix': job.name,
            },
          },
        }],
        Tags: [{ Key: 'stepcron:job', Value: job.name }, { Key: 'stepcron:stage', Value: stage }],
      },
    },
    [`${id}Schedule`]: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        // What the catalog says, for the console: an aligned rate(...) deploys as its cron(...) (no run at deploy).
        Description: cutText(`${job.name} (schedule: ${job.schedule}): ${job.description}`, SCHEDULE_DESCRIPTION_MAX),
        ScheduleExpression: deployedSchedule(job.schedule, job.timezone).expression,
        ScheduleExpressionTimezone: deployedSchedule(job.schedule, job.timezone).timezone,
        State: enabled ? 'ENABLED' : 'DISABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: `${id}StateMachine` },
          RoleArn: getAtt('SchedulerRole'),
          // Scheduler fills these in per invocation; the precheck validates them like any run input.
          Input: JSON.stringify({
            scheduledTime: '<aws.scheduler.scheduled-time>',
            scheduleArn: '<aws.scheduler.schedule-arn>',
            schedulerExecutionId: '<aws.scheduler.execution-id>',
            attemptNumber: '<aws.scheduler.attempt-number>',
          }),
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
          DeadLetterConfig: { Arn: getAtt('SchedulerDeadLetterQueue') },
        },
      },
    },
    [`${id}Alarm`]: executionAlarm(job, stage),
    ...(job.successDeadlineMinutes !== undefined && { [`${id}DeadlineAlarm`]: deadlineAlarm(job, stage, enabled) }),
  };
  if (hasOwnExecutionRole(job)) out[`${id}ExecutionRole`] = executionRole(stage, Object.values(job.secrets));
  // The job's own identity: what its taskPolicyArns grant.
  if (hasOwnTaskRole(job)) out[`${id}TaskRole`] = role('ecs-tasks.amazonaws.com', [], { path: taskRolePath(stage), managed: job.taskPolicyArns });
  return out;
}

/**
 * What a job's schedule Description holds of `<job>: <description>`: half of Scheduler's 512 characters, so that
 * `stepcron pause` can put its note in front and give the description back exactly (cli/ops/pause-note.ts).
 */
export const SCHEDULE_DESCRIPTION_MAX = 256;

/**
 * One alarm per job: any run that failed, timed out or was aborted in the last 5 minutes. A replace job's aborts are
 * left out: stopping the older run (ABORTED) is how replace works, and ExecutionsAborted cannot tell that stop from
 * one by a person, whose stop is a deliberate act (its run ends ABORTED with their cause, in `stepcron runs`).
 */
function executionAlarm(job: Job, stage: string): Cfn {
  const metric = (id: string, name: string) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/States', MetricName: name, Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: `${logicalId(job.name)}StateMachine` } }] },
      Period: 300,
      Stat: 'Sum',
    },
    ReturnData: false,
  });
  const aborts = job.concurrency !== 'replace';
  const what = aborts ? 'failed, timed out or was aborted' : 'failed or timed out (aborts are how replace stops older runs)';
  const ids = ['failed', 'timedout', ...(aborts ? ['aborted'] : [])];
  return alarm(runsAlarmName(stage, job.name), `A run of ${job.name} ${what}`, {
    Metrics: [
      metric('failed', 'ExecutionsFailed'), metric('timedout', 'ExecutionsTimedOut'),
      ...(aborts ? [metric('aborted', 'ExecutionsAborted')] : []),
      // SUM of the list counts a 5-minute period where only some of the metrics have data points.
      { Id: 'problems', Expression: `SUM([${ids.join(', ')}])`, Label: `runs ${aborts ? 'failed, timed out or aborted' : 'failed or timed out'}`, ReturnData: true },
    ],
  });
}

/**
 * successDeadlineMinutes: no run succeeded in that window. Missing data breaches, so a job that is no longer started
 * at all (schedule disabled, stack rolled back, IAM broken) alarms too; OK again after the next success. Off (no
 * actions) while the job is disabled on the stage.
 */
function deadlineAlarm(job: Job, stage: string, enabled: boolean): Cfn {
  const minutes = job.successDeadlineMinutes!;
  const { periodSeconds, evaluationPeriods } = deadlineWindow(minutes);
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: deadlineAlarmName(stage, job.name),
      AlarmDescription: `No run of ${job.name} has succeeded in the last ${minutes} minutes (successDeadlineMinutes)`,
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsSucceeded',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: `${logicalId(job.name)}StateMachine` } }],
      Statistic: 'Sum',
      Period: periodSeconds,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: evaluationPeriods,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      ActionsEnabled: enabled,
      AlarmActions: [{ Ref: 'NotificationTopic' }],
      OKActions: [{ Ref: 'NotificationTopic' }],
    },
  };
}

function alarm(name: string, description: string, metric: Cfn): Cfn {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: name,
      AlarmDescription: description,
      ...metric,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'NotificationTopic' }],
    },
  };
}

interface RoleOptions { lambdaLogs?: boolean; managed?: string[]; path?: string; name?: string }

function role(service: string, statements: Cfn[], options: RoleOptions = {}): Cfn {
  const managedArns = [
    ...(options.lambdaLogs ? ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'] : []),
    ...(options.managed ?? []),
  ].map((a) => (a.startsWith('arn:aws:iam::aws:') ? arn(literal(a.slice('arn:aws:'.length))) : a));
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      ...(options.path && { Path: options.path }),
      ...(options.name && { RoleName: options.name }),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
      },
      ...(managedArns.length && { ManagedPolicyArns: managedArns }),
      ...(statements.length && {
        Policies: [{ PolicyName: 'stepcron', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      }),
    },
  };
}

/**
 * A secret reference as ECS takes it in a container's `secrets.valueFrom`: an SSM `/name` becomes the parameter's ARN
 * in this region and account; every ARN, the Secrets Manager `:json-key:version-stage:version-id` form included, is
 * passed as written (ECS reads the key itself).
 */
function secretValueFrom(ref: string): unknown {
  return ref.startsWith('/') ? arn(`ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${literal(ref)}`) : ref;
}

/** A Secrets Manager secret's own ARN ends in '-' and 6 random characters; a partial ARN (or a name) lacks them. */
const SECRET_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * What reading a secret reference takes, and on which resource: the secret itself and nothing wider. SSM: the
 * parameter's ARN (`parameter/<name without its leading slash>`). Secrets Manager: the secret's own ARN, whatever
 * follows it (`:json-key:version-stage:version-id` selects inside the secret; IAM sees only the secret), and for a
 * partial ARN or a name `<it>-??????`, which matches that secret's random suffix and no longer name (`db-??????` is not
 * `db-other-AbCdEf`). Used for the jobs' secrets and the stage's slackWebhookSecret alike.
 */
export function secretGrant(ref: string): { action: 'ssm:GetParameters' | 'secretsmanager:GetSecretValue'; resource: unknown[] } {
  if (ref.startsWith('/')) return { action: 'ssm:GetParameters', resource: [arn(`ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${literal(ref.slice(1))}`)] };
  if (/^arn:[^:]+:ssm:/.test(ref)) return { action: 'ssm:GetParameters', resource: [ref] };
  // arn:partition:secretsmanager:region:account:secret:name[:json-key:version-stage:version-id]; names have no ':'.
  const secret = ref.startsWith('arn:') ? ref.split(':').slice(0, 7).join(':') : undefined;
  // A name that ends like a suffix (`prod/db-secret`) may still be a partial ARN: Secrets Manager itself reads such
  // an ARN both ways, so both are granted (the second matches only that name plus a random suffix).
  if (secret) return { action: 'secretsmanager:GetSecretValue', resource: SECRET_SUFFIX.test(secret) ? [secret, `${secret}-??????`] : [`${secret}-??????`] };
  return { action: 'secretsmanager:GetSecretValue', resource: [arn(`secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${literal(ref)}-??????`)] };
}

/** One statement per action, each secret once (several keys of one JSON secret are one grant). */
function secretStatements(refs: string[]): Cfn[] {
  const byAction = new Map<string, Map<string, unknown>>();
  for (const ref of refs) {
    const { action, resource: granted } = secretGrant(ref);
    const resources = byAction.get(action) ?? new Map<string, unknown>();
    for (const resource of granted) resources.set(JSON.stringify(resource), resource);
    byAction.set(action, resources);
  }
  return [...byAction].sort(([a], [b]) => b.localeCompare(a))
    .map(([action, resources]) => ({ Effect: 'Allow', Action: action, Resource: [...resources.values()] }));
}

/** What notify's GetSecretValue takes (SecretId): a secret's name or ARN, full or partial, without a JSON key. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** An address's shape, something@domain.tld: what SNS can deliver to (not whether anyone reads it). */
const EMAIL = /^[^\s@,;<>"]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;

function checkParams(jobs: Job[], params: StageParams): void {
  const problems: string[] = [];
  if (params.subnets.length === 0) problems.push('subnets: list at least one subnet id for the tasks (comma-separated)');
  for (const s of params.subnets) if (!/^subnet-[0-9a-f]+$/.test(s)) problems.push(`subnets: '${s}' is not a subnet id (subnet-...)`);
  for (const g of params.securityGroups) if (!/^sg-[0-9a-f]+$/.test(g)) problems.push(`securityGroups: '${g}' is not a security group id (sg-...)`);
  // 'oncall, ops@acme' would become subscriptions to 'oncall' and 'ops@acme': no one is mailed; said here, one line each.
  for (const e of params.notifyEmails) {
    if (!EMAIL.test(e)) problems.push(`notifyEmails: '${e}' is not an email address (name@domain.tld): write each address in full, comma-separated`);
  }
  const slack = params.slackWebhookSecret;
  if (slack && !SECRET_NAME.test(slack) && !SECRET_ARN.test(slack)) {
    problems.push(`slackWebhookSecret: '${slack}' is not a Secrets Manager secret name or ARN (the whole secret, no :json-key:: part; not SSM): ` +
      'store the webhook URL, or {"url": ...}, in a secret and give its name or ARN');
  }
  if (params.enabledJobs !== '*') {
    for (const name of params.enabledJobs) {
      if (!jobs.some((j) => j.name === name)) problems.push(`enabledJobs: no job named '${name}' in the catalog`);
    }
  }
  if (problems.length) {
    throw new ParamsError(`stage ${params.stage} params: ${problems.join('; ')}`);
  }
}

/**
 * The ids the README and the sample serverless.yml and catalog use as examples: subnets and security groups
 * (subnet-0a1b2c3d4e5f6000N, subnet-0f1e2d3c4b5a6000N, sg-...), AWS's documentation account 123456789012 in an
 * image, and the reserved example.com/.net/.org domains (RFC 2606) in notifyEmails.
 */
const EXAMPLE_NETWORK_ID = /^(subnet|sg)-0(a1b2c3d4e5f6|f1e2d3c4b5a6)000\d$/;
export const EXAMPLE_ACCOUNT = '123456789012';
const EXAMPLE_EMAIL = /@example\.(com|net|org)$/i;

/**
 * What a stage still takes from the README's examples, one line each naming the setting to change. A deploy with any
 * of them would fail at AWS (no such subnet, no such image) or alert nobody; `sls package` only warns (it is offline,
 * and the tests package the samples), `sls deploy` stops unless the stage's allowExampleValues param is true.
 */
export function exampleValues(jobs: Job[], params: StageParams): string[] {
  const where = `under params: for stage ${params.stage} (or default) in serverless.yml, or --param="NAME=..."`;
  const list = (values: string[]) => values.join(', ');
  const subnets = params.subnets.filter((s) => EXAMPLE_NETWORK_ID.test(s));
  const groups = params.securityGroups.filter((g) => EXAMPLE_NETWORK_ID.test(g));
  const emails = params.notifyEmails.filter((e) => EXAMPLE_EMAIL.test(e));
  const problems: string[] = [];
  if (subnets.length) problems.push(`subnets: ${list(subnets)} ${subnets.length > 1 ? 'are examples' : 'is an example'}: set subnets to your VPC's private subnet ids ${where.replace('NAME', 'subnets')}`);
  if (groups.length) problems.push(`securityGroups: ${list(groups)} ${groups.length > 1 ? 'are examples' : 'is an example'}: set securityGroups to your tasks' security group ids ${where.replace('NAME', 'securityGroups')}`);
  if (emails.length) problems.push(`notifyEmails: ${list(emails)} cannot receive mail (a reserved example domain): set notifyEmails to who should hear about failures, or '' for none, ${where.replace('NAME', 'notifyEmails')}`);
  const byImage = new Map<string, string[]>();
  for (const job of jobs) {
    if (job.image.split('/')[0]!.split('.')[0] === EXAMPLE_ACCOUNT) byImage.set(job.image, [...(byImage.get(job.image) ?? []), job.name]);
  }
  for (const [image, names] of byImage) {
    problems.push(`${names.length > 1 ? `jobs ${names.join(', ')}` : `jobs.${names[0]}`}: image ${image} is in the example account ${EXAMPLE_ACCOUNT}: push the image to your ECR repository and set image (or defaults.image) in the catalog`);
  }
  return problems;
}

/**
 * The stage's whole template as `sls package` compiles it before the split: the resources above plus each state
 * machine as serverless-step-functions compiles it, with the definition the stacks plugin writes (definitionString).
 * For checks that must not wait for a package (`stepcron validate`) and for tests at sizes where packaging is slow.
 */
export function stageTemplate(jobs: Job[], params: StageParams, variableName: VariableNamer = md5Name): { Resources: Record<string, Cfn> } {
  const out: Record<string, Cfn> = { ...(resources(jobs, params) as Record<string, Cfn>) };
  type Machine = { id: string; name: string; type: string; role: unknown; definition: unknown; loggingConfig: { level: string; includeExecutionData: boolean; destinations: unknown[] } };
  for (const machine of Object.values(stateMachines(jobs, params)) as Machine[]) {
    out[machine.id] = {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: definitionString(machine.definition, variableName),
        RoleArn: machine.role,
        StateMachineType: machine.type,
        LoggingConfiguration: {
          Level: machine.loggingConfig.level,
          IncludeExecutionData: machine.loggingConfig.includeExecutionData,
          Destinations: machine.loggingConfig.destinations.map((arn) => ({ CloudWatchLogsLogGroup: { LogGroupArn: arn } })),
        },
        StateMachineName: machine.name,
      },
      DependsOn: [],
    };
  }
  return { Resources: out };
}

/** Names an intrinsic's Fn::Sub variable in a DefinitionString from the intrinsic's JSON. */
export type VariableNamer = (json: string) => string;

/** The md5 of the intrinsic's JSON (32 hex digits), as serverless-step-functions names them: what deploys. */
const md5Name: VariableNamer = (json) => createHash('md5').update(json).digest('hex');

/**
 * For a stage template that is only measured (validate's stack sizes and quotas): names as long as md5Name's, the same
 * for the same intrinsic, so the template has the same size byte for byte, without loading node:crypto and hashing each
 * intrinsic (~3 ms of validate's ~60 ms start). Not for a template that deploys or is compared with one.
 */
export function sizedVariableNames(): VariableNamer {
  const names = new Map<string, string>();
  return (json) => {
    let name = names.get(json);
    if (name === undefined) {
      name = String(names.size).padStart(32, '0');
      names.set(json, name);
    }
    return name;
  };
}

/**
 * A state machine's DefinitionString, as deployed: serverless-step-functions 3.31's layout (JSON indented by 2, each
 * intrinsic, Ref or Fn::*, a `${md5}` placeholder filled by Fn::Sub), so the state machine references (and its nested
 * stack takes parameters for) what the definition names. Unlike the plugin, every string (user text: descriptions,
 * input, items, commands) is escaped for the Sub, so it arrives as written; the plugin also turns `#{X}` into `${X}`.
 * The stacks plugin (workflows/stacks-plugin.cjs) therefore writes this in place of the plugin's text.
 */
export function definitionString(definition: unknown, variableName: VariableNamer = md5Name): unknown {
  const variables: Record<string, unknown> = {};
  const isIntrinsic = (node: object) => Object.keys(node).some((k) => k === 'Ref' || k.startsWith('Fn::'));
  const hasIntrinsic = (node: unknown): boolean => typeof node === 'object' && node !== null
    && (isIntrinsic(node) || Object.values(node).some(hasIntrinsic));
  // Outside a Sub (no intrinsic at all) text is taken as it is: escaping it would deploy the `!`.
  const text = hasIntrinsic(definition) ? literal : (s: string) => s;
  const replace = (node: unknown): unknown => {
    if (typeof node === 'string') return text(node);
    if (Array.isArray(node)) return node.map(replace);
    if (typeof node !== 'object' || node === null) return node;
    if (isIntrinsic(node)) {
      const name = variableName(JSON.stringify(node));
      variables[name] = node;
      return `\${${name}}`;
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [text(k), replace(v)]));
  };
  const json = JSON.stringify(replace(definition), undefined, 2);
  return Object.keys(variables).length > 0 ? { 'Fn::Sub': [json, variables] } : json;
}
