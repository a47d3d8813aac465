// Checks a call against the AWS API model (test/fixtures/aws-api-model.json, from `node scripts/aws-api-model.mjs`):
// members, required members, types, enums, lengths, ranges and patterns, plus the cross-field rules AWS documents only in
// prose (RULES below, each with its sentence). Two spellings of the same call are checked:
//   - 'sdk': an AWS SDK v3 command's input (the API's own member names; undefined members are absent, as on the wire);
//   - 'states': a Step Functions Task state's Parameters, where members are PascalCase (`Cluster`,
//     `NetworkConfiguration.AwsvpcConfiguration`), `Member.$` takes a path or an intrinsic function, and CloudFormation
//     intrinsics ({Ref}, {Fn::Sub}...) are strings the deploy fills in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, { shape: string; source?: string }>;
  member?: string;
  key?: string;
  value?: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
}
interface Model {
  services: Record<string, { namespace?: string; sdkPackage: string }>;
  operations: Record<string, { input: string | null; output: string | null; source: string }>;
  shapes: Record<string, Shape>;
}

export const MODEL_FILE = join(__dirname, '../fixtures/aws-api-model.json');
let loaded: Model | undefined;
export function model(): Model {
  loaded ??= JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as Model;
  return loaded;
}

export type Style = 'sdk' | 'states';

/** A value Step Functions or CloudFormation fills in later: what it is known to be, if anything. */
class Later {
  constructor(readonly what: string, readonly type: 'string' | 'number' | 'list' | 'unknown') {}
}

/** What a `.$` value yields, where its form says: intrinsic functions and the context object's fields. */
function pathType(path: string): Later['type'] {
  if (/^States\.(Format|JsonToString|UUID|Base64Encode|Base64Decode|Hash)\(/.test(path)) return 'string';
  if (/^States\.(MathAdd|MathRandom|ArrayLength)\(/.test(path)) return 'number';
  if (/^States\.(Array|ArrayPartition|ArrayRange|ArrayUnique|StringSplit)\(/.test(path)) return 'list';
  if (/^\$\$\.(Execution\.(Id|Name|StartTime|RoleArn)|StateMachine\.(Id|Name)|State\.(Name|EnteredTime)|Task\.Token)$/.test(path)) return 'string';
  if (/^\$\$\.(Map\.Item\.Index|State\.RetryCount)$/.test(path)) return 'number';
  return 'unknown';
}

/** A CloudFormation intrinsic in a deploy-time definition: a string (an ARN, a name) resolved at deploy. */
const isIntrinsic = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Fn::)/.test(Object.keys(v)[0]!);

/** Members Step Functions takes as any JSON and serializes itself (the Lambda payload, a child execution's input). */
const STATES_JSON_MEMBERS: Record<string, string[]> = { 'lambda:Invoke': ['Payload'], 'sfn:StartExecution': ['Input'] };

const patterns = new Map<string, RegExp | null>();
/**
 * botocore's patterns are Java regular expressions, and AWS matches them against the whole value (a DynamoDB table
 * name with a space fails `[a-zA-Z0-9_.-]+`: "Member must satisfy regular expression pattern"), so they are anchored
 * here. The few JavaScript cannot compile are not checked.
 */
function patternOf(p: string): RegExp | null {
  if (!patterns.has(p)) {
    let re: RegExp | null = null;
    for (const flags of ['u', '']) {
      try {
        re = new RegExp(`^(?:${p})$`, flags);
        break;
      } catch {
        // try the next flags
      }
    }
    patterns.set(p, re);
  }
  return patterns.get(p)!;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);

/** The input in the API's member names, with `.$` and intrinsic values as `Later`: what the RULES read. */
type Normalized = unknown;

function check(shapeId: string, value: unknown, path: string, style: Style, jsonMembers: string[], problems: string[]): Normalized {
  const shape = model().shapes[shapeId];
  if (!shape) throw new Error(`no shape ${shapeId} in ${MODEL_FILE}: run node scripts/aws-api-model.mjs`);
  const name = shapeId.split('.')[1];
  const fail = (message: string) => problems.push(`${path || 'input'}: ${message}`);
  if (value instanceof Later) {
    // Known later: check what the form of the path says (a string where a list belongs cannot work).
    const want = { string: ['string', 'timestamp', 'blob'], number: ['integer', 'long', 'double', 'float'], list: ['list'] }[value.type as 'string'];
    if (want && !want.includes(shape.type) && !(value.type === 'string' && shape.type === 'blob')) {
      fail(`${value.what} yields a ${value.type}, but ${name} is a ${shape.type}`);
    }
    return value;
  }
  switch (shape.type) {
    case 'string': {
      if (style === 'states' && isIntrinsic(value)) return new Later(JSON.stringify(value), 'string');
      if (typeof value !== 'string') {
        fail(`must be a string (${name}), not ${JSON.stringify(value)}`);
        return value;
      }
      const length = [...value].length;
      if (shape.enum && !shape.enum.includes(value)) fail(`${JSON.stringify(value)} is not one of ${name}: ${shape.enum.join(', ')}`);
      if (shape.min !== undefined && length < shape.min) fail(`${length} characters, ${name} needs at least ${shape.min}`);
      if (shape.max !== undefined && length > shape.max) fail(`${length} characters, ${name} allows at most ${shape.max}`);
      const re = shape.pattern === undefined ? null : patternOf(shape.pattern);
      if (re && !re.test(value)) fail(`${JSON.stringify(value.slice(0, 200))} does not match ${name}'s pattern ${shape.pattern}`);
      return value;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      const whole = shape.type === 'integer' || shape.type === 'long';
      if (typeof value !== 'number' || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
        fail(`must be ${whole ? 'a whole number' : 'a number'} (${name}), not ${JSON.stringify(value)}`);
        return value;
      }
      if (shape.min !== undefined && value < shape.min) fail(`${value} is below ${name}'s minimum ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`${value} is above ${name}'s maximum ${shape.max}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail(`must be true or false (${name}), not ${JSON.stringify(value)}`);
      return value;
    case 'timestamp':
      if (!(value instanceof Date) && typeof value !== 'number' && !(typeof value === 'string' && !Number.isNaN(Date.parse(value)))) {
        fail(`must be a time (${name}), not ${JSON.stringify(value)}`);
      }
      return value;
    case 'blob':
      if (style === 'states' && jsonMembers.includes(path.split('.').at(-1)!)) return value;
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) fail(`must be bytes or a string (${name})`);
      return value;
    case 'document':
      return value;
    case 'list': {
      if (!Array.isArray(value)) {
        fail(`must be a list (${name}), not ${JSON.stringify(value)}`);
        return value;
      }
      if (shape.min !== undefined && value.length < shape.min) fail(`${value.length} items, ${name} needs at least ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) fail(`${value.length} items, ${name} allows at most ${shape.max}`);
      return value.map((v, i) => check(shape.member!, v, `${path}[${i}]`, style, jsonMembers, problems));
    }
    case 'map': {
      if (!isPlainObject(value)) {
        fail(`must be a map (${name}), not ${JSON.stringify(value)}`);
        return value;
      }
      const entries = Object.entries(value).filter(([, v]) => !(style === 'sdk' && v === undefined));
      if (shape.min !== undefined && entries.length < shape.min) fail(`${entries.length} entries, ${name} needs at least ${shape.min}`);
      if (shape.max !== undefined && entries.length > shape.max) fail(`${entries.length} entries, ${name} allows at most ${shape.max}`);
      return Object.fromEntries(entries.map(([k, v]) => {
        check(shape.key!, k, `${path}{key ${k}}`, style, jsonMembers, problems);
        return [k, check(shape.value!, v, `${path}.${k}`, style, jsonMembers, problems)];
      }));
    }
    case 'structure':
      return checkStructure(shape, name!, value, path, style, jsonMembers, problems);
    default:
      throw new Error(`${shapeId}: unknown shape type ${shape.type}`);
  }
}

function checkStructure(shape: Shape, name: string, value: unknown, path: string, style: Style, jsonMembers: string[],
  problems: string[]): Normalized {
  const at = (member: string) => (path ? `${path}.${member}` : member);
  if (!isPlainObject(value)) {
    problems.push(`${path || 'input'}: must be a structure (${name}), not ${JSON.stringify(value)}`);
    return value;
  }
  const members = shape.members!;
  // Step Functions spells each member with a capital first letter; the SDK uses the API's names.
  const byName = new Map(Object.keys(members).map((m) => [style === 'states' ? m[0]!.toUpperCase() + m.slice(1) : m, m]));
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (style === 'sdk' && raw === undefined) continue;
    const dynamic = style === 'states' && key.endsWith('.$');
    const written = dynamic ? key.slice(0, -2) : key;
    const member = byName.get(written);
    if (!member) {
      problems.push(`${at(written)}: not a member of ${name} (members: ${[...byName.keys()].join(', ')})`);
      continue;
    }
    if (member in out) problems.push(`${at(written)}: given twice (${written} and ${written}.$)`);
    if (dynamic && typeof raw !== 'string') {
      problems.push(`${at(key)}: a path or intrinsic function is a string, not ${JSON.stringify(raw)}`);
      continue;
    }
    const v = dynamic ? new Later(raw as string, pathType(raw as string)) : raw;
    out[member] = check(members[member]!.shape, v, at(written), style, jsonMembers, problems);
  }
  for (const required of shape.required ?? []) {
    if (!(required in out)) problems.push(`${at(style === 'states' ? required[0]!.toUpperCase() + required.slice(1) : required)}: required by ${name}, missing`);
  }
  if (shape.union && Object.keys(out).length !== 1) problems.push(`${path || 'input'}: ${name} takes exactly one of ${Object.keys(members).join(', ')}`);
  return out;
}

/**
 * Rules AWS documents only in prose, checked on the input in the API's member names. A value not known yet (a path,
 * a deploy-time reference) is a `Later`: a rule about that value cannot judge it and passes.
 */
interface Rule {
  operation: string;
  /** The sentence of AWS's documentation the rule enforces, and where it is. */
  source: string;
  check(input: Record<string, unknown>): string | undefined;
}
const known = (v: unknown): v is string => typeof v === 'string';
const hasLater = (v: unknown): boolean =>
  v instanceof Later || (Array.isArray(v) ? v.some(hasLater) : isPlainObject(v) && Object.values(v).some(hasLater));
/** ExpressionAttributeNames/Values placeholders: each one an expression uses is defined, each defined one used. */
function placeholders(input: Record<string, unknown>): string | undefined {
  const expressions = Object.entries(input).filter(([k, v]) => k.endsWith('Expression') && known(v)).map(([, v]) => v as string).join(' ');
  for (const [member, sigil] of [['ExpressionAttributeNames', '#'], ['ExpressionAttributeValues', ':']] as const) {
    const used = new Set(expressions.match(new RegExp(`${sigil}[A-Za-z0-9_]+`, 'g')) ?? []);
    const defined = new Set(Object.keys((input[member] as Record<string, unknown> | undefined) ?? {}));
    const undefinedOnes = [...used].filter((p) => !defined.has(p));
    const unused = [...defined].filter((p) => !used.has(p));
    if (undefinedOnes.length) return `${undefinedOnes.join(', ')} used in an expression but not defined in ${member}`;
    if (unused.length) return `${unused.join(', ')} defined in ${member} but used in no expression`;
  }
  return undefined;
}
export const RULES: Rule[] = [
  {
    operation: 'ecs:ListTasks',
    source: 'ECS API reference, ListTasks, startedBy: "When you specify startedBy as the filter, it must be the only filter that you use."',
    check: (i) => {
      const others = ['containerInstance', 'family', 'serviceName', 'desiredStatus', 'launchType'].filter((f) => f in i);
      return 'startedBy' in i && others.length ? `startedBy is used with ${others.join(', ')}: it must be the only filter` : undefined;
    },
  },
  {
    operation: 'ecs:RunTask',
    source: 'ECS API reference, RunTask, capacityProviderStrategy: "If a capacityProviderStrategy is specified, the launchType parameter must be omitted."',
    check: (i) => ('capacityProviderStrategy' in i && 'launchType' in i ? 'capacityProviderStrategy and launchType are both given' : undefined),
  },
  {
    operation: 'ecs:RunTask',
    source: 'ECS API reference, RunTask, startedBy: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_) are allowed."',
    check: (i) => (known(i.startedBy) && !/^[A-Za-z0-9/_-]{1,128}$/.test(i.startedBy)
      ? `startedBy ${JSON.stringify(i.startedBy)} is not 1-128 letters, numbers, -, / or _` : undefined),
  },
  {
    operation: 'ecs:RunTask',
    source: 'ECS API reference, RunTask, overrides: "A total of 8192 characters are allowed for overrides. This limit includes the JSON formatting characters of the override structure."',
    check: (i) => {
      if (i.overrides === undefined || hasLater(i.overrides)) return undefined;
      const length = JSON.stringify(i.overrides).length;
      return length > 8192 ? `overrides are ${length} characters as JSON (at most 8192)` : undefined;
    },
  },
  {
    operation: 'ecs:RunTask',
    source: 'ECS API reference, RunTask, propagateTags: "An error will be received if you specify the SERVICE option when running a task."',
    check: (i) => (i.propagateTags === 'SERVICE' ? 'propagateTags SERVICE is refused by RunTask' : undefined),
  },
  {
    operation: 'ecs:RunTask',
    source: 'ECS API reference, RunTask, count: "You can specify up to 10 tasks for each call."',
    check: (i) => (typeof i.count === 'number' && i.count > 10 ? `count ${i.count} (at most 10)` : undefined),
  },
  {
    operation: 'ecs:StopTask',
    source: 'ECS API reference, StopTask, reason: "Up to 255 characters are allowed in this message."',
    check: (i) => (known(i.reason) && i.reason.length > 255 ? `reason is ${i.reason.length} characters (at most 255)` : undefined),
  },
  {
    operation: 'ecs:DescribeTasks',
    source: 'ECS API reference, DescribeTasks, tasks: "A list of up to 100 task IDs or full ARN entries."',
    check: (i) => (Array.isArray(i.tasks) && i.tasks.length > 100 ? `${i.tasks.length} tasks (at most 100)` : undefined),
  },
  {
    operation: 'sfn:ListExecutions',
    source: 'Step Functions API reference, ListExecutions: "You can specify either a mapRunArn or a stateMachineArn, but not both."',
    check: (i) => ('mapRunArn' in i && 'stateMachineArn' in i ? 'both mapRunArn and stateMachineArn are given' : undefined),
  },
  {
    operation: 'sfn:StartExecution',
    source: 'Step Functions API reference, StartExecution, name: "A name must not contain: white space, brackets < > { } [ ], wildcard characters ? *, special characters " # % \\ ^ | ~ ` $ & , ; : /, control characters (U+0000-001F, U+007F-009F)"',
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters
    check: (i) => (known(i.name) && /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(i.name)
      ? `name ${JSON.stringify(i.name)} has a character Step Functions refuses in an execution name` : undefined),
  },
  {
    operation: 'cloudwatchlogs:GetLogEvents',
    source: 'CloudWatch Logs API reference, GetLogEvents: "If you specify values for both logGroupName and logGroupIdentifier, the action returns an InvalidParameterException error."',
    check: (i) => ('logGroupName' in i && 'logGroupIdentifier' in i ? 'both logGroupName and logGroupIdentifier are given' : undefined),
  },
  {
    operation: 'sns:Publish',
    source: 'SNS API reference, Publish, Subject: "Subjects must be ASCII text that begins with a letter, number, or punctuation mark; must not include line breaks or control characters; and must be less than 100 characters long."',
    check: (i) => (known(i.Subject) && !/^[A-Za-z0-9!-/:-@[-`{-~][ -~]{0,98}$/.test(i.Subject)
      ? `Subject ${JSON.stringify(i.Subject)} is not ASCII starting with a letter, number or punctuation, without line breaks, under 100 characters` : undefined),
  },
  {
    operation: 'sns:Publish',
    source: 'SNS API reference, Publish, Message: "messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes, not 262,144 characters)."',
    check: (i) => (known(i.Message) && Buffer.byteLength(i.Message) > 262_144 ? `Message is ${Buffer.byteLength(i.Message)} bytes (at most 262,144)` : undefined),
  },
  ...['PutItem', 'DeleteItem', 'GetItem'].map((op) => ({
    operation: `dynamodb:${op}`,
    source: `DynamoDB ${op}: an expression's placeholders must all be defined, and every ExpressionAttributeNames/Values entry used (ValidationException "Value provided in ExpressionAttributeValues unused in expressions", "An expression attribute name used in the document path is not defined")`,
    check: placeholders,
  })),
  ...['CreateSchedule', 'UpdateSchedule'].map((op) => ({
    operation: `scheduler:${op}`,
    source: `EventBridge Scheduler API reference, ${op}, Target.Input: "If you are configuring a templated Lambda, AWS Step Functions, or Amazon EventBridge target, the input must be a well-formed JSON."`,
    check: (i: Record<string, unknown>) => {
      const target = i.Target as Record<string, unknown> | undefined;
      if (!target || !known(target.Arn) || !known(target.Input) || !/^arn:aws[a-z-]*:(lambda|states|events):/.test(target.Arn)) return undefined;
      try {
        JSON.parse(target.Input);
        return undefined;
      } catch {
        return 'Target.Input is not well-formed JSON, which a Lambda, Step Functions or EventBridge target needs';
      }
    },
  })),
];

/**
 * The problems AWS would answer `input` to `operation` ("ecs:ListTasks") with, one line each; [] if it holds up.
 * An operation the model does not have is a problem too: nothing is skipped silently.
 */
export function checkCall(operation: string, input: unknown, style: Style): string[] {
  const op = model().operations[operation];
  if (!op) return [`${operation}: not in the API model: add its call to the sources and run node scripts/aws-api-model.mjs`];
  const problems: string[] = [];
  const normalized = op.input
    ? check(op.input, input ?? {}, '', style, style === 'states' ? STATES_JSON_MEMBERS[operation] ?? [] : [], problems)
    : input;
  if (isPlainObject(normalized)) {
    for (const rule of RULES.filter((r) => r.operation === operation)) {
      const broken = rule.check(normalized);
      if (broken) problems.push(`${broken} (${rule.source})`);
    }
  }
  return problems.map((p) => `${operation}: ${p}`);
}

/** An SDK v3 command's operation ("ecs:ListTasks"), from the Smithy namespace and name its schema carries. */
export function operationOf(command: { schema?: unknown; constructor: { name: string } }): string {
  const schema = command.schema as [number, string, string] | undefined;
  const service = schema && Object.entries(model().services).find(([, s]) => s.namespace === schema[1])?.[0];
  if (!schema || !service) {
    return `unknown:${command.constructor.name.replace(/Command$/, '')}${schema ? ` (${schema[1]})` : ''}`;
  }
  return `${service}:${schema[2]}`;
}

// ---- Step Functions definitions ----

type State = Record<string, unknown>;
/** `arn:aws:states:::ecs:runTask.sync`, `…:::aws-sdk:sfn:listMapRuns` -> "ecs:RunTask", "sfn:ListMapRuns". */
export function operationOfResource(resource: unknown): string | undefined {
  const m = typeof resource === 'string' && /^arn:aws:states:::(?:aws-sdk:)?([a-z0-9]+):([a-zA-Z0-9]+)(\.sync(:2)?|\.waitForTaskToken)?$/.exec(resource);
  if (!m) return undefined;
  const service = m[1] === 'states' ? 'sfn' : m[1]!;
  return `${service}:${m[2]![0]!.toUpperCase()}${m[2]!.slice(1)}`;
}

/**
 * ResultWriter's Parameters are Step Functions' own (not PutObject's): "Bucket" and "Prefix" (Step Functions
 * developer guide, ResultWriter). Checked with S3's shapes for a bucket name and a key.
 */
const RESULT_WRITER: Shape = { type: 'structure', required: ['Bucket'], members: { Bucket: { shape: 's3.BucketName' }, Prefix: { shape: 's3.ObjectKey' } } };

/** Every Task state, ItemReader and ResultWriter in a definition, with the API call it makes. */
export function* serviceCalls(states: Record<string, State>, where = ''): Generator<{ state: string; resource: unknown; parameters: unknown; resultSelector?: unknown; kind: 'Task' | 'ItemReader' | 'ResultWriter' }> {
  for (const [name, state] of Object.entries(states)) {
    const at = `${where}${name}`;
    if (state.Type === 'Task') yield { state: at, resource: state.Resource, parameters: state.Parameters, resultSelector: state.ResultSelector, kind: 'Task' };
    const reader = state.ItemReader as State | undefined;
    if (reader) yield { state: `${at}.ItemReader`, resource: reader.Resource, parameters: reader.Parameters, kind: 'ItemReader' };
    const writer = state.ResultWriter as State | undefined;
    if (writer) yield { state: `${at}.ResultWriter`, resource: writer.Resource, parameters: writer.Parameters, kind: 'ResultWriter' };
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    if (processor) yield* serviceCalls(processor.States, `${at} > `);
    for (const [i, branch] of ((state.Branches ?? []) as Array<{ States: Record<string, State> }>).entries()) {
      yield* serviceCalls(branch.States, `${at}[${i}] > `);
    }
  }
}

/** What a Task state's result is: the operation's output, except where a `.sync` integration returns something else. */
function resultShape(operation: string, resource: unknown): string | null | undefined {
  if (operation === 'ecs:RunTask' && String(resource).endsWith('.sync')) return 'ecs.Task'; // runTask.sync: the ECS Task
  return model().operations[operation]?.output;
}

/**
 * A ResultSelector's paths (`'taskArns.$': '$.TaskArns'`) must name members of the result, or the state fails at run
 * time (States.Runtime, which no Catch handles). Plain paths only; intrinsic functions are not followed.
 */
export function checkResultSelector(operation: string, resource: unknown, selector: unknown): string[] {
  const root = resultShape(operation, resource);
  if (!root || !isPlainObject(selector)) return [];
  const problems: string[] = [];
  const visit = (node: unknown, at: string) => {
    if (!isPlainObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('.$') && typeof value === 'string' && value.startsWith('$.')) {
        const broken = pathProblem(root, value);
        if (broken) problems.push(`ResultSelector ${at}${key}: ${value}: ${broken}`);
      } else {
        visit(value, `${at}${key}.`);
      }
    }
  };
  visit(selector, '');
  return problems;
}

/** Why a JSONPath (`$.A.B[0].C`) names nothing in a result of shape `shapeId` (Step Functions' PascalCase), if it does. */
function pathProblem(shapeId: string, path: string): string | undefined {
  let shape = model().shapes[shapeId]!;
  let name = shapeId.split('.')[1]!;
  for (const step of path.slice(1).match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
    if (shape.type === 'blob' || shape.type === 'document') return undefined; // JSON: anything goes (a Lambda's Payload)
    if (step.startsWith('[')) {
      if (shape.type !== 'list') return `${name} is a ${shape.type}, not a list`;
      name = shape.member!.split('.')[1]!;
      shape = model().shapes[shape.member!]!;
      continue;
    }
    const key = step.slice(1);
    if (shape.type === 'map') {
      name = shape.value!.split('.')[1]!;
      shape = model().shapes[shape.value!]!;
      continue;
    }
    if (shape.type !== 'structure') return `${name} is a ${shape.type}, it has no ${key}`;
    const member = Object.keys(shape.members!).find((m) => m[0]!.toUpperCase() + m.slice(1) === key);
    if (!member) return `${key} is not in ${name} (${Object.keys(shape.members!).map((m) => m[0]!.toUpperCase() + m.slice(1)).join(', ')})`;
    name = shape.members![member]!.shape.split('.')[1]!;
    shape = model().shapes[shape.members![member]!.shape]!;
  }
  return undefined;
}

/** The problems of every service call in a definition, each line naming its state; an unknown integration is one. */
export function checkDefinition(definition: { States: Record<string, State> }): string[] {
  const problems: string[] = [];
  for (const call of serviceCalls(definition.States)) {
    const operation = operationOfResource(call.resource);
    if (!operation) {
      problems.push(`${call.state}: Resource ${JSON.stringify(call.resource)} is no service integration the API model knows`);
      continue;
    }
    if (call.kind === 'ResultWriter') {
      if (call.resource !== 'arn:aws:states:::s3:putObject') problems.push(`${call.state}: ResultWriter's Resource must be arn:aws:states:::s3:putObject`);
      const found: string[] = [];
      checkStructure(RESULT_WRITER, 'ResultWriter', call.parameters ?? {}, '', 'states', [], found);
      problems.push(...found.map((p) => `${call.state}: ${p}`));
      continue;
    }
    if (call.kind === 'ItemReader' && !['s3:GetObject', 's3:ListObjectsV2'].includes(operation)) {
      problems.push(`${call.state}: an ItemReader reads with s3:getObject or s3:listObjectsV2, not ${operation}`);
    }
    problems.push(...checkCall(operation, call.parameters ?? {}, 'states').map((p) => `${call.state}: ${p}`));
    if (call.kind === 'Task') problems.push(...checkResultSelector(operation, call.resource, call.resultSelector).map((p) => `${call.state}: ${p}`));
  }
  return problems;
}

// ---- which calls the sources make ----

/**
 * Every `new XxxCommand(` in the files under `dirs`, as "service:Operation", the service from the file's import of
 * @aws-sdk/client-<package> (the same scan as scripts/aws-api-model.mjs).
 */
export function sourceCommands(root: string, dirs: string[]): Map<string, string[]> {
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  const found = new Map<string, string[]>();
  for (const dir of dirs) {
    for (const file of readdirSync(join(root, dir), { recursive: true }) as string[]) {
      if (!/\.(ts|cjs|mjs|js)$/.test(file)) continue;
      const text = readFileSync(join(root, dir, file), 'utf8');
      const packageOf = new Map<string, string>();
      for (const m of text.matchAll(/(?:import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*|const\s*\{([^}]*)\}\s*=\s*require\()\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
        for (const name of (m[1] ?? m[2])!.split(',')) packageOf.set(name.replace(/\btype\b/, '').trim(), m[3]!);
      }
      for (const m of text.matchAll(/new (\w+)Command\(/g)) {
        const pkg = packageOf.get(`${m[1]}Command`);
        const service = pkg && Object.entries(model().services).find(([, s]) => s.sdkPackage === `@aws-sdk/client-${pkg}`)?.[0];
        const key = `${service ?? `unknown-package(${pkg})`}:${m[1]}`;
        found.set(key, [...(found.get(key) ?? []), join(dir, file)]);
      }
    }
  }
  return found;
}

/** The source calls no test sent ("sfn:ListMapRuns (cli/ops/aws.ts)"), given the operations the tests sent. */
export function uncheckedCommands(inSources: Map<string, string[]>, sent: Iterable<string>): string[] {
  const seen = new Set(sent);
  return [...inSources].filter(([operation]) => !seen.has(operation))
    .map(([operation, files]) => `${operation} (${[...new Set(files)].join(', ')})`);
}
