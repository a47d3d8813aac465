// Names: the closest known one to what people type, for "did you mean", and every AWS resource name stepcron builds
// from the stage and job names, with AWS's limits, from which the longest stage and job names follow. Pure, Node
// built-ins only: the CLI loads it for argument checks without the catalog parser.
import { createHash, randomBytes } from 'node:crypto';

/**
 * 1000 -> "1,000", as toLocaleString('en-US') writes a whole number, without its cost: the first toLocaleString of a
 * process loads ICU's number formatting, ~9 ms of every CLI start that builds a template (validate) or says a limit.
 */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), case-insensitive: `timeoutSecond` ->
 * `timeoutSeconds` is 1, `Berln` -> `Berlin` 1, `scheudle` -> `schedule` 1.
 */
export function editDistance(a: string, b: string): number {
  const [s, t] = [a.toLowerCase(), b.toLowerCase()];
  // Three rows: the transposition looks two back.
  let before = new Array<number>(t.length + 1).fill(0);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    [before, previous] = [previous, row];
  }
  return previous[t.length]!;
}

/**
 * The candidate a typo most likely meant: within 1 edit for names up to 4 characters, 2 up to 11, 3 beyond (a
 * larger allowance suggests unrelated names), or sharing its first 4+ characters and differing in under half of the
 * longer name (`timeoutSecs` -> timeoutSeconds, `retry` -> retries); else the only candidate that starts with it.
 * Among those near, one that `fits` comes first (a field whose type takes the value: `retry: 3` -> retries, a
 * number, not retryOn, a list), then the fewest edits.
 * Undefined when none fits.
 */
export function closest(word: string, candidates: Iterable<string>, fits?: (candidate: string) => boolean): string | undefined {
  const all = [...candidates];
  const allowed = word.length <= 4 ? 1 : word.length <= 11 ? 2 : 3;
  const lower = word.toLowerCase();
  const prefix = (c: string) => {
    let n = 0;
    while (n < word.length && n < c.length && lower[n] === c[n]!.toLowerCase()) n++;
    return n;
  };
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of all) {
    const d = editDistance(word, candidate);
    const near = d <= allowed && Math.abs(candidate.length - word.length) <= allowed;
    const abbreviated = prefix(candidate) >= 4 && d / Math.max(word.length, candidate.length) < 0.5;
    if (!near && !abbreviated) continue;
    // A field that cannot take the value is the last resort, however near.
    const score = d + (fits && !fits(candidate) ? 1000 : 0);
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  if (best !== undefined || word.length < 4) return best;
  // A field written short (`timeout` for timeoutSeconds): the one known name it begins, if only one.
  const longer = all.filter((c) => c.toLowerCase().startsWith(lower));
  return longer.length === 1 ? longer[0] : undefined;
}

/**
 * One warning line for a stage serverless.yml's params do not name (`known`: the stages they do, default aside), or
 * undefined. Never an error: a new stage is legitimate; but `prdo` for `prod` would deploy a stack nobody meant.
 */
export function unknownStageWarning(stage: string, known: string[]): string | undefined {
  if (known.length === 0 || known.includes(stage)) return undefined;
  const near = closest(stage, known);
  return `stage '${stage}' is not in serverless.yml's params, which name ${known.join(', ')}${near ? ` (did you mean ${near}?)` : ''}: ` +
    `going on with params.default (a new stage on purpose: add params.${stage} to serverless.yml)`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Every physical name stepcron builds from its service, the stage and a job's name, with AWS's limit on each: one
// table, from which the longest stage and job names are derived. workflows/resources.ts builds its names with the
// functions below; serverless.yml spells the Lambdas' and the environment's (test/names-package.test.ts checks they
// agree).

/** The service name: the first word of every name (serverless.yml `service:`). */
export const SERVICE = 'stepcron';

const base = (stage: string) => `${SERVICE}-${stage}`;
/** The CloudFormation stack `sls deploy` creates for the stage. */
export const stackName = base;
/** The ECS cluster the stack creates when the stage's `cluster` param is empty. */
export const defaultClusterName = base;
/** What every state machine, task family and job alarm of the stage starts with: the IAM policies' name prefix. */
export const jobPrefix = (stage: string) => `${base(stage)}-`;
export const stateMachineName = (stage: string, job: string) => `${jobPrefix(stage)}${job}`;
export const taskFamily = stateMachineName;
export const runsAlarmName = (stage: string, job: string) => `${stateMachineName(stage, job)}-runs-not-succeeded`;
export const deadlineAlarmName = (stage: string, job: string) => `${stateMachineName(stage, job)}-no-success`;
/** serverless.yml's functions, as the framework names them: `<service>-<stage>-<function>`. */
export const functionName = (stage: string, fn: 'precheck' | 'notify') => `${base(stage)}-${fn}`;
export const topicName = (stage: string) => `${base(stage)}-notifications`;
export const deadLetterQueueName = (stage: string) => `${base(stage)}-schedule-dlq`;
export const missedSchedulesAlarmName = (stage: string) => `${base(stage)}-missed-schedules`;
/** The stage's CloudWatch dashboard (workflows/dashboard.ts); `stepcron status --aws` prints its console URL. */
export const dashboardName = base;
/** The table the precheck claims scheduled times and waiting places in. */
export const claimsTable = (stage: string) => `${base(stage)}-claims`;
export const bufferedRunsRule = (stage: string) => `${base(stage)}-buffered-runs`;
/** Where the buffered-runs rule's undeliverable events (and the precheck's failed asynchronous calls) land. */
export const bufferedRunsQueue = (stage: string) => `${bufferedRunsRule(stage)}-dlq`;
export const lostBufferedRunsAlarmName = (stage: string) => `${base(stage)}-lost-buffered-runs`;
/** Where runtime warnings' one-time schedules live; the role they run with has the same name. */
export const warningGroup = (stage: string) => `${base(stage)}-warnings`;
/** One log group per stage for every job's containers; each job's streams start with its name. */
export const jobsLogGroup = (stage: string) => `/${SERVICE}/${stage}/jobs`;
export const stateMachineLogGroup = (stage: string) => `/aws/vendedlogs/states/${base(stage)}`;
/** IAM path of the roles ECS tasks run with: the state machines may pass these roles, and only these. */
export const taskRolePath = (stage: string) => `/${SERVICE}/${stage}/tasks/`;
/** IAM path of the role runtime warnings' schedules run with. */
export const warningRolePath = (stage: string) => `/${SERVICE}/${stage}/scheduler/`;

/** Step Functions' limit on execution (and state machine) names. */
const EXECUTION_NAME_LIMIT = 80;
const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1);
/**
 * The run the precheck starts for a buffered one: named after it, so an event delivered twice starts it once
 * (StartExecution with the same name and input is idempotent). 62 + 18 characters: within the 80 allowed.
 */
export function bufferedRunName(bufferedExecutionArn: string): string {
  const hash = createHash('sha256').update(bufferedExecutionArn).digest('hex').slice(0, 8);
  return `${lastSegment(bufferedExecutionArn).slice(0, EXECUTION_NAME_LIMIT - 18)}-buffered-${hash}`;
}
/** A runtime warning's one-time schedule (64 of [0-9a-zA-Z-_.]): one per execution, from a hash of its ARN. */
export function warningScheduleName(executionArn: string): string {
  return `run-${createHash('sha256').update(executionArn).digest('hex').slice(0, 40)}`;
}
/** The executions the CLI starts (`stepcron run`, `stepcron start`): the UTC second and 4 hex digits. */
export function runName(now: Date, random = randomBytes(2).toString('hex')): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${random}`;
}

export interface PhysicalName {
  /** What AWS calls the thing named: `EventBridge rule`. */
  resource: string;
  /** AWS's maximum length of the name. */
  limit: number;
  /**
   * `stage`: built from the stage; `job`: from the stage and a job's name; `run`: at run time, from neither (`name`
   * gives its longest form).
   */
  scope: 'stage' | 'job' | 'run';
  name: (stage: string, job: string) => string;
  /** Only when the catalog or params have this (the limit still applies: the catalog may add it later). */
  when?: string;
}

/** An execution name as long as Step Functions allows: what a name derived from one must still fit. */
const LONGEST_EXECUTION_ARN = `arn:aws:states:eu-west-1:111122223333:execution:m:${'x'.repeat(EXECUTION_NAME_LIMIT)}`;

/**
 * Every physical name, with AWS's documented limit (each service's API reference). Names CloudFormation generates
 * (the jobs' schedules, task and execution roles, the buckets) it fits to their limits itself.
 */
export const PHYSICAL_NAMES: readonly PhysicalName[] = [
  { resource: 'CloudFormation stack', limit: 128, scope: 'stage', name: stackName },
  // CloudFormation names a nested stack <parent>-<logical id>-<12 or 13 random characters>; Jobs63 is the longest id
  // workflows/stacks.ts gives.
  { resource: 'CloudFormation nested stack', limit: 128, scope: 'stage', name: (s) => `${stackName(s)}-Jobs63-${'X'.repeat(13)}` },
  { resource: 'ECS cluster', limit: 255, scope: 'stage', name: defaultClusterName, when: 'the cluster param is empty' },
  { resource: 'Lambda function', limit: 64, scope: 'stage', name: (s) => functionName(s, 'precheck') },
  { resource: 'Lambda function', limit: 64, scope: 'stage', name: (s) => functionName(s, 'notify') },
  { resource: 'CloudWatch log group', limit: 512, scope: 'stage', name: (s) => `/aws/lambda/${functionName(s, 'precheck')}` },
  { resource: 'CloudWatch log group', limit: 512, scope: 'stage', name: (s) => `/aws/lambda/${functionName(s, 'notify')}` },
  { resource: 'CloudWatch log group', limit: 512, scope: 'stage', name: jobsLogGroup },
  { resource: 'CloudWatch log group', limit: 512, scope: 'stage', name: stateMachineLogGroup },
  { resource: 'SNS topic', limit: 256, scope: 'stage', name: topicName },
  { resource: 'SQS queue', limit: 80, scope: 'stage', name: deadLetterQueueName },
  { resource: 'CloudWatch alarm', limit: 255, scope: 'stage', name: missedSchedulesAlarmName },
  // PutDashboard: up to 255 of A-Z, a-z, 0-9, '-' and '_' (a stage name is lowercase letters, digits and '-').
  { resource: 'CloudWatch dashboard', limit: 255, scope: 'stage', name: dashboardName },
  { resource: 'DynamoDB table', limit: 255, scope: 'stage', name: claimsTable },
  { resource: 'EventBridge rule', limit: 64, scope: 'stage', name: bufferedRunsRule, when: 'a job has concurrency: buffer' },
  { resource: 'SQS queue', limit: 80, scope: 'stage', name: bufferedRunsQueue, when: 'a job has concurrency: buffer' },
  { resource: 'CloudWatch alarm', limit: 255, scope: 'stage', name: lostBufferedRunsAlarmName, when: 'a job has concurrency: buffer' },
  { resource: 'EventBridge Scheduler schedule group', limit: 64, scope: 'stage', name: warningGroup },
  { resource: 'IAM role', limit: 64, scope: 'stage', name: warningGroup },
  { resource: 'IAM role path', limit: 512, scope: 'stage', name: warningRolePath },
  { resource: 'IAM role path', limit: 512, scope: 'stage', name: taskRolePath },
  // What `sls deploy` names after the stack (osls): its exports, and the S3 keys of what it uploads (the Lambdas' code
  // under <ms>-<ISO time>/, the nested templates workflows/stacks-plugin.cjs adds). CloudFormation documents no
  // maximum for export names: 255, as for its other names, is an assumption far above what any stage makes here.
  { resource: 'CloudFormation export', limit: 255, scope: 'stage', name: (s) => `sls-${stackName(s)}-PrecheckLambdaFunctionQualifiedArn` },
  { resource: 'S3 object key', limit: 1024, scope: 'stage', name: (s) => `serverless/${SERVICE}/${s}/1796668963829-2026-12-07T18:42:43.829Z/precheck.zip` },
  { resource: 'S3 object key', limit: 1024, scope: 'stage', name: (s) => `serverless/${SERVICE}/${s}/${SERVICE}-stacks/${SERVICE}-Jobs63-${'0'.repeat(64)}.json` },
  { resource: 'state machine', limit: 80, scope: 'job', name: stateMachineName },
  { resource: 'ECS task definition family', limit: 255, scope: 'job', name: taskFamily },
  { resource: 'CloudWatch alarm', limit: 255, scope: 'job', name: runsAlarmName },
  { resource: 'CloudWatch alarm', limit: 255, scope: 'job', name: deadlineAlarmName, when: 'the job has successDeadlineMinutes' },
  // awslogs names each stream <prefix>/<container>/<task id>; the prefix is the job's name.
  { resource: 'CloudWatch log stream', limit: 512, scope: 'job', name: (_s, job) => `${job}/job/${'0'.repeat(32)}` },
  { resource: 'Step Functions execution', limit: EXECUTION_NAME_LIMIT, scope: 'run', name: () => bufferedRunName(LONGEST_EXECUTION_ARN) },
  { resource: 'Step Functions execution', limit: EXECUTION_NAME_LIMIT, scope: 'run', name: () => runName(new Date('9999-12-31T23:59:59Z'), 'ffff') },
  { resource: 'EventBridge Scheduler schedule', limit: 64, scope: 'run', name: () => warningScheduleName(LONGEST_EXECUTION_ARN) },
];

/** The names in the table longer than AWS allows for this stage (and job, if given), each with its entry. */
export function overLongNames(stage: string, job?: string): Array<PhysicalName & { value: string }> {
  return PHYSICAL_NAMES
    .filter((n) => (job === undefined ? n.scope === 'stage' : n.scope === 'job'))
    .map((n) => ({ ...n, value: n.name(stage, job ?? '') }))
    .filter((n) => n.value.length > n.limit);
}

/**
 * The largest length up to 1,024 for which `fits` holds (names grow with the part's length, so `fits` holds up to some
 * length and not beyond): a binary search, ~10 tries where counting up took ~40 (~4 ms at every start, for the stage).
 */
function longest(fits: (length: number) => boolean): number {
  let [low, high] = [0, 1024]; // fits(low) is taken to hold; the answer lies in low..high
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The longest stage name every name in the table fits with (41: the EventBridge rule of buffer jobs). */
export const MAX_STAGE_LENGTH = /* @__PURE__ */ longest((n) => overLongNames('s'.repeat(n)).length === 0);

/** The longest job name every job's name in the table fits with, on this stage (29 on the longest stage). */
export function maxJobNameLength(stage: string): number {
  return longest((n) => overLongNames(stage, 'j'.repeat(n)).length === 0);
}

/** `state machine name 'stepcron-…' is 85 characters; the limit is 80`, for each name too long. */
function tooLong(names: Array<PhysicalName & { value: string }>): string {
  return names.map((n) => `${n.resource} name '${n.value}' is ${n.value.length} characters; the limit is ${n.limit}` +
    (n.when ? ` (it exists when ${n.when})` : '')).join('; ');
}

/** Why a job name cannot be used on this stage (a name built from it would be too long), or undefined. */
export function jobNameProblem(stage: string, job: string): string | undefined {
  const over = overLongNames(stage, job);
  if (over.length === 0) return undefined;
  return `${tooLong(over)}: shorten the job name to at most ${maxJobNameLength(stage)} characters on stage ${stage}`;
}

/**
 * Why a stage name cannot be used, or undefined. The stage is part of the stack (`stepcron-<stage>`; CloudFormation
 * allows letters, digits and '-'), the state machines, roles, the claims table and the topic; lowercase keeps it valid
 * wherever an S3-style name is built from it, and keeps `Prod` and `prod` from being two stages that collide.
 */
export function stageProblem(stage: string): string | undefined {
  if (/^[a-z][a-z0-9-]*$/.test(stage) && !stage.endsWith('-') && stage.length <= MAX_STAGE_LENGTH) return undefined;
  const why = "stage names are part of AWS resource names (the stack stepcron-<stage>, its state machines, roles and table)";
  if (stage.length > MAX_STAGE_LENGTH) {
    return `'${stage}' is ${stage.length} characters: ${why}, which allow at most ${MAX_STAGE_LENGTH} for the stage; ` +
      `${tooLong(overLongNames(stage))}: shorten it`;
  }
  const fixed = stage.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
  return `'${stage}' is not a valid stage name: ${why}, so use lowercase letters, digits and '-', starting with a letter` +
    (fixed ? ` (e.g. ${fixed})` : '');
}
