// The test's own view of which IAM actions each AWS call takes and on which resource (AWS's service authorization
// reference and the Step Functions "IAM policies for integrated services" pages), for test/iam.test.ts. Nothing here
// reads workflows/resources.ts: the calls come from the compiled definitions, the template and the handlers' source,
// and are judged against the policies the stage really has.
import { arnOf, PARTITION } from './iam-stage';

/** One authorised request: an action on a concrete resource, with the request's condition keys. */
export interface Call {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** The role that makes it, when not the caller's own (a schedule created by notify runs as the role it passes). */
  as?: string;
  why: string;
}

/** What an integration or SDK call is made with, besides its parameters. */
export interface CallContext {
  /** The state machine (or Lambda) the call is made for. */
  machineArn: string;
  /** An execution of that state machine. */
  executionArn: string;
}

const uuid = '0e1f2a3b-4c5d-4e6f-8091-a2b3c4d5e6f7';
const execution = (machineArn: string, name = uuid) => `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
/** A cluster ARN's name. */
const clusterName = (clusterArn: string) => clusterArn.split('/').at(-1)!;
const taskArn = (clusterArn: string) => arnOf('ecs', `task/${clusterName(clusterArn)}/4f3e2d1c0b0a49e8b7a6c5d4e3f2a1b0`);
const s3Object = (bucket: string, key: string) => `arn:${PARTITION}:s3:::${bucket}/${key}`;

/** A Task state's (or ItemReader's, ResultWriter's) parameters, intrinsics resolved; '.$' keys are runtime paths. */
type Parameters = Record<string, any>;

/**
 * Step Functions service integrations: Resource -> the calls the state machine's role makes. `.sync` adds what Step
 * Functions does itself to wait (the managed EventBridge rule, DescribeTasks, StopTask on abort) and the PassRole of
 * the task definition's roles (`taskRoles`: the roles of the task definition the state names).
 */
export const INTEGRATIONS: Record<string, (p: Parameters, c: CallContext & { taskRoles: (taskDefinition: string) => string[] }) => Call[]> = {
  'arn:aws:states:::lambda:invoke': (p) => [{ action: 'lambda:InvokeFunction', resource: p.FunctionName, why: 'lambda:invoke' }],
  'arn:aws:states:::ecs:runTask.sync': (p, c) => {
    const cluster = { 'ecs:cluster': p.Cluster };
    const task = taskArn(p.Cluster);
    const rule = arnOf('events', 'rule/StepFunctionsGetEventsForECSTaskRule');
    return [
      { action: 'ecs:RunTask', resource: p.TaskDefinition, context: cluster, why: 'runTask' },
      // PropagateTags: ECS tags the new task, which needs ecs:TagResource for the RunTask that creates it.
      ...(p.PropagateTags ? [{ action: 'ecs:TagResource', resource: task, context: { 'ecs:CreateAction': 'RunTask' }, why: 'runTask tags the task' }] : []),
      { action: 'ecs:DescribeTasks', resource: task, context: cluster, why: '.sync polls the task' },
      { action: 'ecs:StopTask', resource: task, context: cluster, why: '.sync stops the task when the run is stopped' },
      ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({ action, resource: rule, why: '.sync: the managed rule' })),
      ...c.taskRoles(p.TaskDefinition).map((role) => ({
        action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }, why: 'runTask passes the task definition\'s roles',
      })),
    ];
  },
  'arn:aws:states:::aws-sdk:ecs:listTasks': (p) => [{
    // ListTasks authorises on container instances of the cluster, with the cluster as condition.
    action: 'ecs:ListTasks', resource: arnOf('ecs', `container-instance/${clusterName(p.Cluster)}/0a1b2c3d4e5f`), context: { 'ecs:cluster': p.Cluster }, why: 'aws-sdk:ecs:listTasks',
  }],
  'arn:aws:states:::aws-sdk:ecs:stopTask': (p) => [{
    action: 'ecs:StopTask', resource: taskArn(p.Cluster), context: { 'ecs:cluster': p.Cluster }, why: 'aws-sdk:ecs:stopTask',
  }],
  'arn:aws:states:::aws-sdk:sfn:listMapRuns': (_, c) => [{ action: 'states:ListMapRuns', resource: c.executionArn, why: 'aws-sdk:sfn:listMapRuns ($$.Execution.Id)' }],
  'arn:aws:states:::aws-sdk:sfn:describeMapRun': (_, c) => [{
    action: 'states:DescribeMapRun', resource: `${c.machineArn.replace(':stateMachine:', ':mapRun:')}/FanOut:${uuid}`, why: 'aws-sdk:sfn:describeMapRun',
  }],
};

/** A Distributed Map: child executions of the state machine itself, their control, and redrive of its map run. */
export function distributedMapCalls(c: CallContext): Call[] {
  const child = `${c.machineArn.replace(':stateMachine:', ':execution:')}/FanOut:${uuid}`;
  return [
    { action: 'states:StartExecution', resource: c.machineArn, why: 'Distributed Map starts its child executions' },
    { action: 'states:DescribeExecution', resource: child, why: 'Distributed Map follows its children' },
    { action: 'states:StopExecution', resource: child, why: 'Distributed Map stops its children' },
    { action: 'states:RedriveExecution', resource: c.executionArn, why: 'redrive of a failed map run' },
  ];
}

/** ItemReader: the object to read, one of the places the precheck lets a run point it (`s3://bucket/prefix`). */
export function itemReaderCalls(resource: string, sources: string[]): Call[] {
  if (resource !== 'arn:aws:states:::s3:getObject') throw new Error(`no IAM mapping for ItemReader ${resource}`);
  return sources.map((source) => {
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(source)!;
    return { action: 's3:GetObject', resource: s3Object(bucket!, `${prefix}list.json`), why: `ItemReader reads ${source}` };
  });
}

/** ResultWriter: the manifest and result files under its prefix, written as multipart uploads. */
export function resultWriterCalls(resource: string, p: Parameters, job: string): Call[] {
  if (resource !== 'arn:aws:states:::s3:putObject') throw new Error(`no IAM mapping for ResultWriter ${resource}`);
  // Prefix.$ is results/<job>/<run id>: what the run writes.
  const object = s3Object(p.Bucket, `results/${job}/run-1/${uuid}/manifest.json`);
  return ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload']
    .map((action) => ({ action, resource: object, why: 'ResultWriter' }));
}

/** A state machine with CloudWatch Logs logging: vended log delivery, which has no resource-level permissions. */
export const LOG_DELIVERY_ACTIONS = ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'];

/** What the handlers' SDK calls touch, per function: the stage's jobs and the function's own settings. */
export interface HandlerContext {
  stage: string;
  /** The jobs' names. */
  jobs: string[];
  /** Every job's state machine ARN, and the jobs by what the handlers do for them. */
  machines: string[];
  overlapChecked: string[];
  replaced: string[];
  buffered: string[];
  warned: string[];
  environment: Record<string, string>;
  functionArn: string;
  /** A role's ARN from its path and name (WARNING_SCHEDULER_ROLE). */
  roleArn: (pathAndName: string) => string;
  /** A secret's ARN from the SecretId the handler is given (a name or a partial ARN gets its random suffix). */
  secretArn: (secretId: string) => string;
}

/**
 * `<function>:<Command>` -> the calls. A command the handlers' source uses that is not here fails the test: a new
 * SDK call must say what it touches.
 */
export const SDK_COMMANDS: Record<string, (c: HandlerContext) => Call[]> = {
  'precheck:ListExecutionsCommand': (c) => c.overlapChecked.map((m) => ({ action: 'states:ListExecutions', resource: m, why: 'overlap policy' })),
  'precheck:StopExecutionCommand': (c) => c.replaced.map((m) => ({ action: 'states:StopExecution', resource: execution(m), why: 'concurrency replace' })),
  'precheck:DescribeExecutionCommand': (c) => c.buffered.map((m) => ({ action: 'states:DescribeExecution', resource: execution(m), why: 'buffered run\'s input' })),
  'precheck:StartExecutionCommand': (c) => c.buffered.map((m) => ({ action: 'states:StartExecution', resource: m, why: 'buffered run restarts' })),
  ...Object.fromEntries(['PutItem', 'DeleteItem', 'GetItem'].map((op) => [`precheck:${op}Command`, (c: HandlerContext) => [{
    action: `dynamodb:${op}`, resource: arnOf('dynamodb', `table/${c.environment.CLAIMS_TABLE}`), why: 'claims',
  }]])),
  'notify:PublishCommand': (c) => [{ action: 'sns:Publish', resource: arnOf('sns', c.environment.NOTIFY_TOPIC_ARN!), why: 'notification' }],
  'notify:GetSecretValueCommand': (c) => (c.environment.SLACK_WEBHOOK_SECRET
    ? [{ action: 'secretsmanager:GetSecretValue', resource: c.secretArn(c.environment.SLACK_WEBHOOK_SECRET), why: 'Slack webhook' }] : []),
  'notify:GetExecutionHistoryCommand': (c) => c.machines.map((m) => ({ action: 'states:GetExecutionHistory', resource: execution(m), why: 'run cost' })),
  // The failed task's output: its awslogs stream (`<job>/job/<task id>`) in the stage's jobs log group.
  'notify:GetLogEventsCommand': (c) => c.jobs.map((job) => ({
    action: 'logs:GetLogEvents', resource: arnOf('logs', `log-group:/stepcron/${c.stage}/jobs:log-stream:${job}/job/4f3e2d1c0b0a49e8b7a6c5d4e3f2a1b0`), why: 'output tail',
  })),
  'notify:DescribeExecutionCommand': (c) => c.warned.map((m) => ({ action: 'states:DescribeExecution', resource: execution(m), why: 'runtime warning check' })),
  'notify:CreateScheduleCommand': (c) => {
    if (c.warned.length === 0) return [];
    const role = c.roleArn(c.environment.WARNING_SCHEDULER_ROLE!);
    return [
      { action: 'scheduler:CreateSchedule', resource: arnOf('scheduler', `schedule/${c.environment.WARNING_SCHEDULE_GROUP}/run-0123abcd`), why: 'runtime warning' },
      { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' }, why: 'the warning schedule\'s role' },
      // ... and what the schedule then does, as that role: call notify back.
      { action: 'lambda:InvokeFunction', resource: c.functionArn, as: role, why: 'the warning schedule fires' },
    ];
  },
};

/**
 * AWS managed policies the stage attaches, with the content this test relies on (the simulator has no copy of them;
 * AWS's documented versions: AWSLambdaBasicExecutionRole v1, AmazonECSTaskExecutionRolePolicy v1).
 */
export const MANAGED_POLICIES: Record<string, { Version: string; Statement: unknown[] }> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy': {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage',
        'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '*',
    }],
  },
};

/** What ECS does as a task's execution role: pull the image (ECR), write the log stream, read each secret. */
export function executionRoleCalls(image: string, logGroup: string, streamPrefix: string, secrets: string[]): Call[] {
  const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  const stream = arnOf('logs', `log-group:${logGroup}:log-stream:${streamPrefix}/job/4f3e2d1c0b0a49e8b7a6c5d4e3f2a1b0`);
  return [
    ...(ecr ? [
      { action: 'ecr:GetAuthorizationToken', resource: '*', why: 'image pull' },
      ...['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'].map((action) => ({
        action, resource: `arn:${PARTITION}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`, why: 'image pull',
      })),
    ] : []),
    { action: 'logs:CreateLogStream', resource: stream, why: 'awslogs' },
    { action: 'logs:PutLogEvents', resource: stream, why: 'awslogs' },
    ...secrets.map(secretCall),
  ];
}

/**
 * A container secret's `valueFrom` -> the read ECS makes, on the resource it really is: an SSM parameter's ARN, or
 * the secret's own ARN (the JSON key and version fields select inside it; a partial ARN gets its random suffix).
 */
export function secretCall(valueFrom: string): Call {
  if (/^arn:[^:]+:ssm:/.test(valueFrom)) return { action: 'ssm:GetParameters', resource: valueFrom, why: `secret ${valueFrom}` };
  return { action: 'secretsmanager:GetSecretValue', resource: realSecretArn(valueFrom), why: `secret ${valueFrom}` };
}

/** The ARN a Secrets Manager reference (name, full, partial or JSON-key ARN) resolves to; suffixes are 6 characters. */
export function realSecretArn(ref: string, suffix = 'Xy12Zw'): string {
  if (!ref.startsWith('arn:')) return arnOf('secretsmanager', `secret:${ref}-${suffix}`);
  const arn = ref.split(':').slice(0, 7).join(':');
  return /-[A-Za-z0-9]{6}$/.test(arn) ? arn : `${arn}-${suffix}`;
}
