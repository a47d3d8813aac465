// The job catalog: one schema (zod) from which the Job type is derived, defaults merged under every job,
// and validation that reports one line per problem naming the job, the field and what is allowed.
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import * as z from 'zod';
import { isValidTimezone, scheduleProblem, timezoneProblem } from './schedule';
import { alertProblems, MAX_SUCCESS_DEADLINE_MINUTES } from './alerts';
import { S3_ITEMS } from './compile';
import { awsSchedulesFor, CrontabError } from './crontab';
import { closest, jobNameProblem, stageProblem } from './names';
import { overrideChars, RUN_INPUT_OVERRIDE_CHARS } from './limits';

// zod compiles a fast path for each object schema (new Function) at its first parse: ~2 ms of every CLI start that
// reads a catalog, and no faster for a 1,000-job catalog (the same instruction count, measured). Parsed without it.
z.config({ jitless: true });

// The service name: workflows/names.ts builds every AWS name from it.
export { SERVICE } from './names';
/**
 * The largest catalog text read. A 1,000-job catalog is ~230 KB; parsing 0.9 MiB of YAML took 2.6 s and 300 MB RSS
 * (yaml 2.9.1, measured), so 10 MiB would take, by extrapolation, half a minute and gigabytes before the first error.
 * 1 MiB is four times the largest catalog the stacks are planned for.
 */
export const MAX_CATALOG_BYTES = 1024 * 1024;
/**
 * yaml's `maxAliasCount`: how many nodes alias expansion may produce (each use of an alias counts the aliases inside
 * what it names), so a "billion laughs" catalog is refused in milliseconds instead of exhausting memory. yaml's default
 * is the same 100; it is set here so the message can name it.
 */
export const MAX_YAML_ALIASES = 100;

/** Fargate task sizes: cpu units -> allowed memory (MiB). */
export const FARGATE_SIZES: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/**
 * A field's type error as a sentence: a missing field says it is required and what goes there, a value of the wrong
 * type what is expected (formatIssue adds the value given).
 */
const expects = (what: string, required = `is required: ${what}`) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? required : `must be ${what}`),
});

const int = (min: number, max: number) =>
  z.number({ error: `must be a whole number from ${min} to ${max}` }).int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** A map keyed by environment variable names; each bad name is reported at its own path. */
const envMap = <V extends z.ZodType>(value: V, what: string) => z.record(z.string(), value, expects(`a map of NAME: ${what}`)).superRefine((map, ctx) => {
  for (const key of Object.keys(map)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'is not a valid environment variable name' });
    else if (key.startsWith('STEPCRON_')) ctx.addIssue({ code: 'custom', path: [key], message: 'names starting with STEPCRON_ are reserved for stepcron' });
  }
});

/**
 * What ECS accepts in a container's `secrets.valueFrom`: an SSM parameter's /name or ARN, or a Secrets Manager secret's
 * ARN (full, or partial: without the random -AbCdEf), optionally with `:json-key:version-stage:version-id` to read one
 * key of a JSON secret (empty fields stay as colons: `...:secret:db-AbCdEf:password::`). Secret names have no ':'.
 */
const SECRET_REF = /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]+|arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:]*:[^:]*:[^:]*)?|\/[A-Za-z0-9_.\-/]+)$/;
const SECRET_FORMS = 'an SSM parameter /name or ARN, or a Secrets Manager secret ARN (optionally :json-key:version-stage:version-id, e.g. \'arn:...:secret:db-AbCdEf:password::\')';
const secretRef = z.string(expects(SECRET_FORMS)).superRefine((ref, ctx) => {
  const fields = /:secret:[^:]+:([^:]*):([^:]*):([^:]*)$/.exec(ref);
  if (SECRET_REF.test(ref) && fields?.[2] && fields[3]) {
    // ECS (and Secrets Manager's GetSecretValue) take a version stage or a version id, never both.
    ctx.addIssue({ code: 'custom', message: `gives both a version stage (${fields[2]}) and a version id: keep one, leave the other field empty` });
    return;
  }
  if (SECRET_REF.test(ref)) return;
  // A JSON key without its two trailing fields: ECS wants all three, empty ones as colons.
  const key = /^(arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:[^:]+):([^:]*)(:[^:]*)?$/.exec(ref);
  ctx.addIssue({
    code: 'custom',
    message: key
      // The fields given are kept: `:password:AWSCURRENT` (a version stage) needs only the empty version id after it.
      ? `a JSON key takes the form <secret ARN>:<json-key>:<version-stage>:<version-id>, empty fields kept: '${key[1]}:${key[2]}${key[3] ?? ':'}:' (in quotes)`
      : `must be ${SECRET_FORMS}`,
  });
});

/** IAM attaches at most 10 managed policies to a role (default quota); a job's own task role gets only its taskPolicyArns. */
export const IAM_MANAGED_POLICIES_PER_ROLE = 10;

const exitCode = z.number({ error: 'exit codes are whole numbers 1-255' }).int().min(1, 'exit codes are 1-255 (0 is success)').max(255, 'exit codes are 1-255');

const FanOutSchema = z.strictObject({
  items: z.array(z.unknown(), expects('a list of items, one run of the command each')).min(1, 'must list at least one item').optional(),
  itemsPath: z.string(expects("a path into the run input like '$.tenants'")).regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/, "must be a path into the run input like '$.tenants'").optional(),
  itemsFrom: z.string(expects('s3://bucket/key (.json, .jsonl or .csv)')).regex(S3_ITEMS, 'must be s3://bucket/key ending in .json (an array), .jsonl or .csv (a header row)').optional(),
  // Inline Map runs at most 40 iterations at once; a Distributed Map (long lists, S3) up to 10,000 child executions.
  maxConcurrency: int(1, 10000).default(10),
  toleratedFailurePercentage: z.number({ error: 'must be a number from 0 to 100' }).min(0, 'must be 0-100').max(100, 'must be 0-100').default(0),
}, expects('a map with items, itemsPath or itemsFrom')).refine((f) => [f.items, f.itemsPath, f.itemsFrom].filter((x) => x !== undefined).length === 1, {
  error: 'give exactly one of items (a static list), itemsPath (a path into the run input) or itemsFrom (s3://bucket/key)',
});

const ExitCodesSchema = z.strictObject({
  retry: z.array(exitCode, expects('a list of exit codes to retry, e.g. [75]')).optional(),
  fail: z.array(exitCode, expects('a list of exit codes that fail at once, e.g. [2]')).optional(),
}, expects('a map with retry: and/or fail: lists of exit codes'));

const NotifySchema = z.strictObject({
  onFailure: z.boolean({ error: 'must be true or false' }).default(true),
  onSuccess: z.boolean({ error: 'must be true or false' }).default(false),
}, expects('a map with onFailure: and onSuccess: true/false'));

const DESCRIPTION = 'one line saying what the job does';

export const JobSchema = z.strictObject({
  description: z.string(expects(`text: ${DESCRIPTION}`, `is required: ${DESCRIPTION}`)).min(1, `is required: ${DESCRIPTION}`),
  schedule: z.string(expects("cron(...), rate(...) or at(...) in quotes", 'is required: cron(...), rate(...) or at(...)')).superRefine((expr, ctx) => {
    const problem = scheduleProblem(expr);
    if (problem) ctx.addIssue({ code: 'custom', message: crontabAdvice(expr) ?? problem });
  }),
  timezone: z.string(expects('an IANA time zone such as Europe/Berlin or UTC')).superRefine((zone, ctx) => {
    if (!isValidTimezone(zone)) ctx.addIssue({ code: 'custom', message: timezoneProblem(zone) });
  }).default('UTC'),
  enabled: z.union([z.boolean(), z.record(z.string(), z.boolean())], {
    error: 'must be true, false, or a map of stage -> true/false (key default for other stages)',
  }).default(true),
  image: z.string(expects('the container image to run, e.g. ghcr.io/acme/jobs:1.4', 'is required: the container image to run')).min(1, 'is required: the container image to run'),
  command: z.array(z.string(expects('a string (quote numbers)')),
    expects("a list of strings, e.g. [sh, -c, './report.sh']", "is required: the command as a list of strings, e.g. [sh, -c, './report.sh']"))
    .min(1, "is required: the command as a list of strings, e.g. [sh, -c, './report.sh']"),
  cpu: z.number({ error: `must be a Fargate cpu size: ${Object.keys(FARGATE_SIZES).join(', ')}` }).refine((c) => c in FARGATE_SIZES, `must be a Fargate cpu size: ${Object.keys(FARGATE_SIZES).join(', ')}`)
    .default(256),
  memory: int(512, 122880).default(512),
  environment: envMap(z.string({ error: 'values must be strings (quote numbers)' }), 'value').default({}),
  secrets: envMap(secretRef, 'SSM parameter or Secrets Manager ARN').default({}),
  /** Managed policies for the job's task role (what the job itself may do in AWS). */
  taskPolicyArns: z.array(z.string(expects('an IAM managed policy ARN')).regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/, 'must be IAM managed policy ARNs'), expects('a list of IAM managed policy ARNs'))
    // The role gets each policy once, so a policy listed twice counts once.
    .transform((arns) => [...new Set(arns)])
    .refine((arns) => arns.length <= IAM_MANAGED_POLICIES_PER_ROLE, {
      error: (issue) => `lists ${(issue.input as unknown[]).length} policies; IAM attaches at most ${IAM_MANAGED_POLICIES_PER_ROLE} managed policies to a role ` +
        '(the job\'s task role): combine them into fewer customer managed policies',
    })
    .default([]),
  capacity: z.enum(['fargate', 'spot'], { error: 'must be fargate or spot' }).default('fargate'),
  // Standard workflows run for at most a year; a task that long is a service, not a cron job.
  timeoutSeconds: int(1, 7 * 24 * 3600).default(3600),
  retries: int(0, 10).default(2),
  // A failed task is retried (up to retries); a timed-out one only when listed here, after its task is stopped: a job
  // that ran out of time may well run out again, so the default is no retry, as Kubernetes and AWS Batch do.
  retryOn: z.array(z.enum(['timeout'], { error: 'the only value is timeout (failed tasks are always retried up to retries)' }),
    { error: 'must be a list: [timeout] retries a run that timed out' }).default([]),
  retryIntervalSeconds: int(1, 86400).default(30),
  backoffRate: z.number({ error: 'must be a number from 1 to 10' }).min(1, 'must be 1-10').max(10, 'must be 1-10').default(2),
  maxDelaySeconds: int(1, 86400).default(900),
  exitCodes: ExitCodesSchema.default({}),
  // buffer: a run due while another is in progress waits for it (one at most; later ones skip), as Temporal's BUFFER_ONE.
  concurrency: z.enum(['allow', 'forbid', 'replace', 'buffer'], { error: 'must be allow, forbid, replace or buffer' }).default('forbid'),
  notify: NotifySchema.default({ onFailure: true, onSuccess: false }),
  input: z.record(z.string(), z.unknown(), expects('a map: the default run input (a run\'s own input is merged over it)')).default({}),
  fanOut: FanOutSchema.optional(),
  // Alerts (workflows/alerts.ts): what cron monitors sell separately.
  /** An alarm when no run has succeeded for this long: a job that stops being started is noticed too. */
  successDeadlineMinutes: int(1, MAX_SUCCESS_DEADLINE_MINUTES).optional(),
  /** A notification (not a stop) when a run is still going this long after it started. */
  runtimeWarningSeconds: int(1, 365 * 24 * 3600).optional(),
  /** A notification when a run succeeds faster than this: the job that silently does nothing. */
  minRuntimeSeconds: int(1, 365 * 24 * 3600).optional(),
});

/**
 * Rules across fields, checked on the raw spec so they are reported alongside the field errors (a zod refinement
 * on the object would only run once every field is valid).
 */
function crossFieldProblems(spec: Record<string, unknown>, now: Date): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const num = (key: string, fallback: number) => (spec[key] === undefined ? fallback : spec[key]);
  const cpu = num('cpu', 256);
  const memory = num('memory', 512);
  const allowed = typeof cpu === 'number' ? FARGATE_SIZES[cpu] : undefined;
  if (allowed && typeof memory === 'number' && Number.isInteger(memory) && !allowed.includes(memory)) {
    problems.push({ path: 'memory', message: `${memory} MiB is not a Fargate size for cpu ${cpu}: use ${describeSizes(allowed)}` });
  }
  const interval = num('retryIntervalSeconds', 30);
  const maxDelay = num('maxDelaySeconds', 900);
  if (typeof interval === 'number' && typeof maxDelay === 'number' && maxDelay < interval) {
    problems.push({ path: 'maxDelaySeconds', message: 'must be at least retryIntervalSeconds' });
  }
  if (Array.isArray(spec.retryOn) && spec.retryOn.includes('timeout') && num('retries', 2) === 0) {
    problems.push({ path: 'retryOn', message: 'timeout is retried only up to retries, and retries is 0: set retries: 1 or more, or remove retryOn' });
  }
  // The catalog's input and items are written into the state machine definition as they are (the Precheck state's
  // Parameters), where a key ending in '.$' is a path and asl-validator, which packaging runs, refuses some list items.
  if (isPlainObject(spec.input)) problems.push(...templateProblems(spec.input, 'input'));
  const items = isPlainObject(spec.fanOut) ? spec.fanOut.items : undefined;
  if (Array.isArray(items)) problems.push(...templateProblems(items, 'fanOut.items'));
  // Every run passes the catalog's input (and each item) to its task in ECS's 8 KiB of overrides: too much here and
  // every run, scheduled ones included, fails its precheck.
  if (isPlainObject(spec.input) || Array.isArray(items)) {
    let size = 0;
    try {
      size = overrideChars(isPlainObject(spec.input) ? spec.input : {}, Array.isArray(items) ? items : []);
    } catch {
      size = Number.POSITIVE_INFINITY;
    }
    if (size > RUN_INPUT_OVERRIDE_CHARS) {
      problems.push({
        path: isPlainObject(spec.input) ? 'input' : 'fanOut.items',
        message: `${Number.isFinite(size) ? `is ${size} characters` : 'is nested too deeply'} as ECS container overrides (input plus the largest item), ` +
          `and every run would fail its precheck: keep it under ${RUN_INPUT_OVERRIDE_CHARS} (ECS allows 8 KiB in total), e.g. put the data in S3 and pass its key`,
      });
    }
  }
  if (['successDeadlineMinutes', 'runtimeWarningSeconds', 'minRuntimeSeconds'].some((k) => typeof spec[k] === 'number')) {
    const whole = (key: string, fallback: number) => (Number.isInteger(num(key, fallback)) ? num(key, fallback) as number : undefined);
    const [timeoutSeconds, retries] = [whole('timeoutSeconds', 3600), whole('retries', 2)];
    const timezone = spec.timezone ?? 'UTC';
    if (typeof spec.schedule === 'string' && typeof timezone === 'string' && isValidTimezone(timezone) && timeoutSeconds && retries !== undefined) {
      // A value out of its own range is that field's problem, said once: not checked against the schedule too.
      const field = (key: keyof typeof JobSchema.shape) => (JobSchema.shape[key].safeParse(spec[key]).success ? spec[key] as number | undefined : undefined);
      problems.push(...alertProblems({
        schedule: spec.schedule, timezone, timeoutSeconds, retries,
        successDeadlineMinutes: field('successDeadlineMinutes'),
        runtimeWarningSeconds: field('runtimeWarningSeconds'),
        minRuntimeSeconds: field('minRuntimeSeconds'),
      }, now));
    }
  }
  const codes = spec.exitCodes as { retry?: unknown; fail?: unknown } | undefined;
  if (codes && Array.isArray(codes.retry) && Array.isArray(codes.fail)) {
    const both = codes.retry.filter((c) => (codes.fail as unknown[]).includes(c));
    if (both.length) problems.push({ path: 'exitCodes', message: `codes ${both.join(', ')} are both retried and failed` });
  }
  return problems;
}

/** What cannot be written verbatim into a definition's Parameters: the first few, each at its own path. */
function templateProblems(root: unknown, rootPath: string): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const walk = (value: unknown, path: string) => {
    if (problems.length >= 5) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (problems.length >= 5) return;
        const at = `${path}.${i}`;
        // asl-validator's payload template allows in a list only objects, lists, numbers, booleans and strings of one
        // line that are not JSONata ('{% ...').
        if (item === null) problems.push({ path: at, message: 'null in a list cannot be written into the state machine (asl-validator refuses it): leave it out or wrap it in an object' });
        else if (typeof item === 'string' && (item === '' || /[\n\r\u2028\u2029]/.test(item) || item.startsWith('{% '))) {
          problems.push({ path: at, message: "an empty, multi-line or '{% '-prefixed string in a list cannot be written into the state machine (asl-validator refuses it): wrap it in an object" });
        } else walk(item, at);
      });
    } else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (problems.length >= 5) return;
        if (key.endsWith('.$')) problems.push({ path: `${path}.${key}`, message: "keys ending in '.$' are read as paths by Step Functions: rename it" });
        // The deployed definition is an Fn::Sub whose intrinsics (an object keyed Ref or Fn::...) become references.
        else if (key === 'Ref' || key.startsWith('Fn::')) problems.push({ path: `${path}.${key}`, message: 'a key named Ref or Fn::... is read as a CloudFormation function when the definition is deployed: rename it' });
        // AWS takes these keys, but the JavaScript on the way does not: asl-validator (which packaging runs) looks keys
        // up in a plain object and reports `constructor` as a duplicate; a `__proto__` key is lost wherever a copy assigns it.
        else if (key in Object.prototype) problems.push({ path: `${path}.${key}`, message: `a key named ${key} is refused by asl-validator, which packaging runs (or lost in copying): rename it` });
        else walk(item, `${path}.${key}`);
      }
    }
  };
  walk(root, rootPath);
  return problems;
}

function describeSizes(sizes: number[]): string {
  return sizes.length <= 3 ? sizes.join(', ') : `${sizes[0]}-${sizes.at(-1)} in steps of ${sizes[1]! - sizes[0]!}`;
}

const CatalogSchema = z.strictObject({
  defaults: z.record(z.string(), z.unknown(), expects('a map of field -> value, applied under every job')).default({}),
  jobs: z.record(z.string(), z.record(z.string(), z.unknown(), expects('a map of fields: description, schedule, image, command, ...')),
    { error: 'must be a map of job name -> job' }),
});

/** The fields each part of the catalog takes, for "did you mean" on an unknown key (paths below `jobs.<name>`). */
export const FIELDS: Record<string, string[]> = {
  '': Object.keys(JobSchema.shape),
  fanOut: Object.keys(FanOutSchema.shape),
  exitCodes: Object.keys(ExitCodesSchema.shape),
  notify: Object.keys(NotifySchema.shape),
};
const TOP_FIELDS = Object.keys(CatalogSchema.shape);
/** The schema of each field at those places: a did-you-mean prefers a field that takes the value given. */
const SHAPES: Record<string, Record<string, z.ZodType>> = {
  '': JobSchema.shape, fanOut: FanOutSchema.shape, exitCodes: ExitCodesSchema.shape, notify: NotifySchema.shape,
};

export type JobSpec = z.output<typeof JobSchema>;
/** A job as the compiler and the runner see it: every default applied, enabled resolved for one stage. */
export type Job = Omit<JobSpec, 'enabled'> & { name: string; enabled: boolean };
export type FanOut = NonNullable<Job['fanOut']>;

export class CatalogError extends Error {
  override name = 'CatalogError';
  readonly problems: string[];
  constructor(readonly file: string, problems: string[]) {
    // One line per problem, whatever a job name or key holds.
    const lines = problems.map(oneLine);
    super(lines.length === 1
      ? `${file}: ${lines[0]}`
      : `${file}: ${lines.length} problems\n${lines.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = lines;
  }
}

/** Line breaks (and other control characters) written as escapes, so a problem stays on one line. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return text.replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export interface CatalogOptions {
  stage: string;
  /** Where the text came from, for messages. */
  file?: string;
}

/** Parses and validates catalog text; throws CatalogError listing every problem. */
export function parseCatalog(text: string, options: CatalogOptions): Job[] {
  const file = options.file ?? 'jobs.yml';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CATALOG_BYTES) throw new CatalogError(file, [tooLarge(bytes)]);
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError && /excessive alias count/i.test(err.message)) {
      throw new CatalogError(file, [`(catalog): uses YAML aliases more than ${MAX_YAML_ALIASES} times ` +
        '(counting the aliases inside what each one names): write the values out, or use fewer aliases']);
    }
    let line = err instanceof YAMLParseError ? err.linePos?.[0]?.line : undefined;
    const lines = text.split('\n');
    // An unclosed quote is found at the end of the file (a line past the last); it opened on the first line whose
    // quoted value does not close.
    if (err instanceof YAMLParseError && err.code === 'MISSING_CHAR' && /quote/.test(err.message) && line) {
      const opened = lines.slice(0, line).findIndex((l) => unclosedQuote(l));
      if (opened >= 0) {
        const at = locate(text, opened + 1);
        throw new CatalogError(file, [`${at ? `${at.path}: ` : ''}not valid YAML (line ${opened + 1}: ${lines[opened]!.trim()}): ` +
          'the quote opened here is never closed: close it on this line']);
      }
    }
    // A key indented deeper than the one above it (`image:` under `schedule: ...`): yaml names the line above.
    if (err instanceof YAMLParseError && err.code === 'BLOCK_AS_IMPLICIT_KEY' && line) {
      const deeper = misindented(lines, line);
      if (deeper) {
        const at = locate(text, line);
        const job = at?.path.startsWith('jobs.') ? at.path.split('.')[1] : undefined;
        throw new CatalogError(file, [`${at ? `${at.path.split('.').slice(0, -1).join('.') || at.path}: ` : ''}not valid YAML (line ${deeper.line}: ${deeper.text}): ` +
          `'${deeper.key}:' is indented under ${deeper.under}${job ? `; did you mean it as a field of job ${job}? Indent it as ${deeper.under} is` : ''}`]);
      }
    }
    if (line && line > lines.length) line = lines.length;
    // Named by where it is (jobs.<job>.<field>), found from the line: the text has no tree to ask.
    const at = line ? locate(text, line) : undefined;
    const where = at ? `${at.path}: ` : '';
    if (err instanceof YAMLParseError && err.code === 'DUPLICATE_KEY' && line) {
      const key = text.split('\n')[line - 1]?.trim().split(':')[0] ?? '?';
      throw new CatalogError(file, [`${where}'${key}' is defined twice (line ${line}): each job and field may appear once`]);
    }
    // `schedule: */15 * * * *` unquoted: YAML reads '*' as an alias and '@' as reserved, before any field is checked.
    const advice = at?.field === 'schedule' && at.value !== undefined ? crontabAdvice(at.value, true) : undefined;
    if (advice) throw new CatalogError(file, [`${where}${advice}`]);
    // A Secrets Manager JSON key (`...:secret:db-AbCdEf:password::`) ends in ':', which YAML reads as a key.
    const colon = line ? unquotedColon(text.split('\n')[line - 1] ?? '') : undefined;
    if (colon) {
      throw new CatalogError(file, [`${where}not valid YAML (line ${line}): '${colon}' ends in ':', which YAML reads as a key: put the value in quotes`]);
    }
    // yaml ends its first line with "at line L, column C:", which the line number already says.
    const message = (err as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    // `description: Nightly: export`: the same misreading, of a ': ' inside a value.
    const quoteIt = err instanceof YAMLParseError && (err.code === 'BLOCK_AS_IMPLICIT_KEY' || err.code === 'BLOCK_IN_FLOW')
      ? " (a value with ': ' in it, or ending in ':', must be in quotes)" : '';
    const said = line ? lines[line - 1]?.trim() : undefined;
    throw new CatalogError(file, [`${where}not valid YAML (line ${line ?? '?'}${said ? `: ${said}` : ''}): ${message}${quoteIt}`]);
  }
  const catalog = CatalogSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!catalog.success) throw new CatalogError(file, catalog.error.issues.flatMap((i) => formatIssue(i, [], TOP_FIELDS)));

  const problems: string[] = [];
  const jobs: Job[] = [];
  const stage = options.stage;
  // The stage is part of every resource name: a bad one fails every job alike, so it is said once, first.
  const badStage = stageProblem(stage);
  if (badStage) throw new CatalogError(file, [`(stage): ${badStage}`]);
  const names = Object.keys(catalog.data.jobs);
  if (names.length === 0) problems.push('jobs: the catalog defines no jobs');
  const seen = new Map<string, string>();
  // One clock for the whole catalog: every job's schedule is searched from the same instant (and jobs alike, once).
  const now = new Date();
  for (const name of names) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) {
      problems.push(`jobs.${name}: job names use lowercase letters, digits and '-', starting with a letter`);
      continue;
    }
    // Every AWS name built from the job's (workflows/names.ts), each against its limit.
    const tooLong = jobNameProblem(stage, name);
    if (tooLong) problems.push(`jobs.${name}: ${tooLong}`);
    // Names that differ only by '-' collide as CloudFormation logical ids (NightlyReport...).
    const id = logicalId(name);
    const twin = seen.get(id);
    if (twin) problems.push(`jobs.${name}: duplicates job '${twin}' (the same resource names): rename one of them`);
    seen.set(id, name);

    const own = catalog.data.jobs[name]!;
    const spec = mergeDefaults(catalog.data.defaults, own);
    const parsed = JobSchema.safeParse(spec, { reportInput: true });
    const crossField = crossFieldProblems(spec, now).map((p) => `jobs.${name}.${p.path}: ${p.message}`);
    if (!parsed.success || crossField.length) {
      for (const issue of parsed.error?.issues ?? []) {
        // A value that comes from defaults: (and not the job) is fixed there: named there, once.
        const rootOf = (path: PropertyKey[]) => (fromDefaults(catalog.data.defaults, own, path) ? ['defaults'] : ['jobs', name]);
        const known = FIELDS[issue.path.join('.')] ?? [];
        const shape = SHAPES[issue.path.join('.')];
        if (issue.code !== 'unrecognized_keys') problems.push(...formatIssue(issue, rootOf(issue.path), known));
        else for (const key of issue.keys) problems.push(...formatIssue({ ...issue, keys: [key] }, rootOf([...issue.path, key]), known, shape));
      }
      problems.push(...crossField);
      continue;
    }
    jobs.push({ ...parsed.data, name, enabled: enabledFor(parsed.data.enabled, stage) });
  }
  if (problems.length) throw new CatalogError(file, [...new Set(problems)]);
  return jobs;
}

export function loadCatalog(file: string, options: CatalogOptions): Job[] {
  let text: string;
  try {
    // Checked before reading, so a huge file is not loaded into memory only to be refused.
    const { size } = statSync(file);
    if (size > MAX_CATALOG_BYTES) throw new CatalogError(file, [tooLarge(size)]);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CatalogError) throw err;
    throw new CatalogError(file, [`cannot read the catalog: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseCatalog(text, { ...options, file });
}

function tooLarge(bytes: number): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  // Just over the limit, both round to 1.0 MiB: then the bytes say the difference.
  const sizes = mib(bytes) === mib(MAX_CATALOG_BYTES)
    ? `is ${bytes} bytes; the limit is ${MAX_CATALOG_BYTES} bytes (${mib(MAX_CATALOG_BYTES)}; a 1,000-job catalog is ~0.2 MiB)`
    : `is ${mib(bytes)}; the limit is ${mib(MAX_CATALOG_BYTES)} (a 1,000-job catalog is ~0.2 MiB)`;
  return `(catalog): ${sizes}: is this the right file? Split the jobs over stages or services`;
}

export function findJob(jobs: Job[], name: string, file = 'catalog'): Job {
  const job = jobs.find((j) => j.name === name);
  if (!job) throw new CatalogError(file, [noSuchJob(jobs.map((j) => j.name), name)]);
  return job;
}

/** "no job named 'nightly-reprt': did you mean nightly-report?", or the names there are (the first 10). */
export function noSuchJob(names: string[], name: string): string {
  const near = closest(name, names);
  if (near) return `no job named '${name}': did you mean ${near}?`;
  const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, and ${names.length - 10} more (stepcron validate lists them)` : '');
  return `no job named '${name}': the catalog has ${shown || 'no jobs'}`;
}

/** The catalog `sls` and the CLI read when serverless.yml's params name none (relative to serverless.yml's folder). */
export const DEFAULT_CATALOG = 'workflows/jobs.yml';

/**
 * The stage's `enabledJobs` names jobs the catalog does not have: one line naming the catalog, the setting to change
 * (`key`: e.g. `params.dev.enabledJobs in serverless.yml`) and the names it could hold; undefined when all are there.
 */
export function enabledJobsProblem(names: string[], enabledJobs: string[] | '*', where: { stage: string; key: string; catalog: string }): string | undefined {
  if (enabledJobs === '*') return undefined;
  const missing = enabledJobs.filter((n) => !names.includes(n));
  if (missing.length === 0) return undefined;
  return `stage ${where.stage}: ${where.key} names a job ${where.catalog} does not have: ${missing.map((n) => noSuchJob(names, n)).join('; ')}; ` +
    "change that setting to the catalog's job names (comma-separated) or '*'";
}

/**
 * Why a job does not fire on a stage, or undefined when it does: its catalog `enabled:` (resolved for the stage) and
 * the stage's `enabledJobs` param. The deploy writes this as the schedule's State (workflows/resources.ts); `stepcron
 * validate`, `schedule` and `status` apply the same rule, so local and deployed agree.
 */
export function offReason(job: Pick<Job, 'name' | 'enabled'>, enabledJobs: string[] | '*'): 'enabled: false' | 'not in enabledJobs' | undefined {
  if (!job.enabled) return 'enabled: false';
  return enabledJobs === '*' || enabledJobs.includes(job.name) ? undefined : 'not in enabledJobs';
}

/** The job's schedule is ENABLED on the stage whose `enabledJobs` this is. */
export function scheduledOnStage(job: Pick<Job, 'name' | 'enabled'>, enabledJobs: string[] | '*'): boolean {
  return offReason(job, enabledJobs) === undefined;
}

/** `nightly-report` -> `NightlyReport`: the prefix of every CloudFormation logical id for the job. */
export function logicalId(name: string): string {
  return name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

function mergeDefaults(defaults: Record<string, unknown>, job: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...defaults, ...job };
  // Maps merge key by key so a job can add one variable without repeating the defaults'.
  for (const key of ['environment', 'secrets', 'notify', 'input', 'exitCodes']) {
    const a = defaults[key];
    const b = job[key];
    if (isPlainObject(a) && isPlainObject(b)) merged[key] = { ...a, ...b };
  }
  return merged;
}

/**
 * `enabled:` keys (in defaults or a job) that name no stage serverless.yml knows (`known`: its params' stages) but are
 * close to one, one line each: a typo (`prdo: false`) is never used, so the job runs where it was meant not to.
 * Nothing when serverless.yml names no stages. The catalog is read as YAML only; an unreadable one says nothing here.
 */
export function unknownEnabledStages(text: string, known: string[]): string[] {
  // Every command with --stage asks (cli/main.ts), before the catalog is parsed for its own work: read it a second
  // time only when it has a per-stage map at all (`enabled: {` or `enabled:` with lines under it).
  if (known.length === 0 || !/\benabled:[ \t]*(\{|(#[^\n]*)?\r?\n)/.test(text)) return [];
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    return [];
  }
  if (!isPlainObject(raw)) return [];
  const places: Array<[string, unknown]> = [['defaults.enabled', isPlainObject(raw.defaults) ? raw.defaults.enabled : undefined]];
  if (isPlainObject(raw.jobs)) for (const [name, job] of Object.entries(raw.jobs)) places.push([`jobs.${name}.enabled`, isPlainObject(job) ? job.enabled : undefined]);
  // Only a key close to a known stage is said: a stage with no params of its own (prod on params.default) is real.
  return places.flatMap(([path, enabled]) => (isPlainObject(enabled) ? Object.keys(enabled) : [])
    .filter((key) => key !== 'default' && !known.includes(key))
    .flatMap((key) => {
      const near = closest(key, known);
      return near ? [`${path}: '${key}' is no stage in serverless.yml's params (${known.join(', ')}): did you mean ${near}? ` +
        `Until a stage ${key} is deployed, that key is never used (stage ${near} follows default)`] : [];
    }))
    // A typo copied into every job is one mistake: a screenful says so.
    .slice(0, 20);
}

function enabledFor(enabled: JobSpec['enabled'], stage: string): boolean {
  if (typeof enabled === 'boolean') return enabled;
  return enabled[stage] ?? enabled.default ?? true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One line per problem: where (root + the issue's path), what is wrong and the value given; an unknown key names the
 * closest field (`known`: the fields at that place).
 */
function formatIssue(issue: z.core.$ZodIssue, root: string[], known: string[], shape?: Record<string, z.ZodType>): string[] {
  const path = [...root, ...issue.path.map(String)];
  const where = (key?: string) => [...path, ...(key === undefined ? [] : [key])].join('.') || '(catalog)';
  if (issue.code === 'unrecognized_keys' && path.length === 0) {
    return issue.keys.map((key) => {
      const near = closest(key, known);
      return `(catalog): '${key}' is not a section of the catalog: ${near ? `did you mean ${near}?` : `it has ${known.map((k) => `${k}:`).join(' and ')}`}`;
    });
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      // The value given, where zod reports it (reportInput): `retry: 3` is nearer retries (a number) than retryOn.
      const input = 'input' in issue && isPlainObject(issue.input) ? issue.input : undefined;
      const fits = shape && input && key in input ? (field: string) => shape[field]?.safeParse(input[key]).success ?? false : undefined;
      const near = closest(key, known, fits);
      return `${where(key)}: unknown field: ${near ? `did you mean ${near}?` : `the fields here are ${known.join(', ')}`}`;
    });
  }
  // zod's own wording for wrong types ("Invalid input: expected number, received string") reads fine after the field.
  const message = issue.message.replace(/^Invalid input: /, '');
  // A list or map given is worth saying only where it is the wrong type (a refinement of a map would just say 'a map');
  // our own checks (code custom) often quote the value already.
  const given = !('input' in issue) || (typeof issue.input === 'object' && issue.input !== null && issue.code !== 'invalid_type')
    ? undefined : shown(issue.input);
  // Said already: the whole value (a long one is cut in `given`, never in our messages) or a '(got ...)' of its own.
  const said = given !== undefined && issue.code === 'custom' && (message.includes(String(issue.input)) || message.includes('(got '));
  return [`${where()}: ${message}${given && !said ? ` (got ${given})` : ''}`];
}

/** A value as a message repeats it: scalars as written (strings quoted, long ones cut), lists and maps by kind. */
function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a map';
  if (typeof value !== 'string') return String(value);
  return `'${value.length > 60 ? `${value.slice(0, 59)}…` : value}'`;
}

/** The problem's value is set in defaults: and not in the job itself (top-level field, or an entry of a merged map). */
function fromDefaults(defaults: Record<string, unknown>, own: Record<string, unknown>, path: PropertyKey[]): boolean {
  const [top, entry] = path.map(String);
  if (top === undefined || !(top in defaults)) return false;
  if (!(top in own)) return true;
  const [d, o] = [defaults[top], own[top]];
  return entry !== undefined && isPlainObject(d) && isPlainObject(o) && entry in d && !(entry in o);
}

/**
 * A crontab schedule (what people paste: `*\/15 * * * *`, `0 3 * * 1-5`, `@daily`, or five fields inside cron(...))
 * answered with its AWS form, or undefined when the expression is no crontab schedule. `unquoted`: it broke the YAML.
 */
export function crontabAdvice(expression: string, unquoted = false): string | undefined {
  const body = /^cron\((.*)\)$/s.exec(expression.trim())?.[1] ?? expression;
  if (!/^\s*(@[a-z]+|\S+(\s+\S+){4})\s*$/.test(body)) return undefined;
  let schedules: string[];
  try {
    schedules = awsSchedulesFor(body);
  } catch (err) {
    // Not crontab after all (AWS fields such as '?', a bad value): the schedule's own message says what is wrong.
    if (err instanceof CrontabError) return undefined;
    throw err;
  }
  const quoting = !unquoted ? '' : expression.trim().startsWith('@')
    ? " (in quotes: YAML reserves '@' at the start of a value)" : ' (in quotes: YAML reads a value starting with * as an alias)';
  const crontab = `'${expression.trim()}' is crontab syntax; EventBridge Scheduler takes cron(minutes hours day-of-month month day-of-week year)`;
  if (schedules.length === 1) return `${crontab}: use schedule: '${schedules[0]}'${quoting}`;
  return `${crontab}, and cron runs this line when either day field matches while AWS needs '?' in one of them: ` +
    `make it two jobs, with schedule: '${schedules[0]}' and schedule: '${schedules[1]}'${quoting} (stepcron import crontab does that)`;
}

/** A line whose value opens a quote it does not close (`description: "unclosed`). */
function unclosedQuote(line: string): boolean {
  const m = /^\s*(?:-\s+)?[^\s#'"][^:#]*:\s+(["'])(.*)$/.exec(line);
  if (!m) return false;
  const [quote, rest] = [m[1]!, m[2]!];
  // '' is a quote inside single quotes; \" inside double ones.
  const body = quote === "'" ? rest.replace(/''/g, '') : rest.replace(/\\./g, '');
  return !body.includes(quote);
}

/** The first key below `line` indented deeper than `line`'s own key (which has a value, so it cannot hold keys). */
function misindented(lines: string[], line: number): { line: number; key: string; under: string; text: string } | undefined {
  const key = /^(\s*)([^\s#'"][^:#]*?)\s*:\s+\S/.exec(lines[line - 1] ?? '');
  if (!key) return undefined;
  for (let i = line; i < lines.length; i++) {
    if (/^\s*(#.*)?$/.test(lines[i]!)) continue;
    const next = /^(\s*)([^\s#'"][^:#]*?)\s*:(\s|$)/.exec(lines[i]!);
    if (!next || next[1]!.length <= key[1]!.length) return undefined;
    return { line: i + 1, key: next[2]!, under: key[2]!, text: lines[i]!.trim() };
  }
  return undefined;
}

/** An unquoted value on a line of YAML that holds ':' and ends in ':' (`arn:...:password::`), or undefined. */
function unquotedColon(line: string): string | undefined {
  return /(?:^|[\s{[,])([^\s'"{}[\],#]*:[^\s{}[\],]*:)(?=\s|$|[,}\]])/.exec(line.replace(/\s+#.*$/, ''))?.[1];
}

/**
 * Where a line of catalog text is: `jobs.<job>.<field>` (or `defaults.<field>`, `jobs.<job>`), from the indentation
 * of the keys above it, and the field's value as written on that line. For YAML errors, which come with a line only.
 */
function locate(text: string, lineNumber: number): { path: string; field?: string; value?: string | undefined } | undefined {
  const lines = text.split('\n').slice(0, lineNumber);
  const keyAt = (i: number) => /^(\s*)("[^"]*"|'[^']*'|[^\s#'"][^:#]*?)\s*:(?:\s+(.*))?$/.exec(lines[i] ?? '');
  const indent = (i: number) => keyAt(i)?.[1]?.length;
  const unquote = (k: string) => k.replace(/^(["'])(.*)\1$/, '$2');
  // The section: the last top-level key at or above the line.
  let top = lines.length - 1;
  while (top >= 0 && indent(top) !== 0) top--;
  const section = top >= 0 ? unquote(keyAt(top)![2]!) : undefined;
  if (section !== 'jobs' && section !== 'defaults') return undefined;
  // Keys one level in (jobs: the job names; defaults: the fields), and one further under a job (its fields).
  const levels: number[] = [];
  for (let i = top + 1; i < lines.length && levels.length < (section === 'jobs' ? 2 : 1); i++) {
    const n = indent(i);
    if (n !== undefined && n > (levels.at(-1) ?? 0)) levels.push(n);
  }
  const nearest = (level: number | undefined, from: number) => {
    for (let i = lines.length - 1; i > from; i--) if (level !== undefined && indent(i) === level) return i;
    return undefined;
  };
  const first = nearest(levels[0], top);
  if (first === undefined) return undefined;
  const name = unquote(keyAt(first)![2]!);
  if (section === 'defaults') return { path: `defaults.${name}`, field: name, value: keyAt(first)![3] };
  const second = nearest(levels[1], first);
  if (second === undefined) return { path: `jobs.${name}` };
  const field = unquote(keyAt(second)![2]!);
  return { path: `jobs.${name}.${field}`, field, value: keyAt(second)![3] };
}
