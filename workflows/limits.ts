// AWS's hard limits on a Standard state machine and the ECS RunTask it calls, as numbers and pure checks, so the
// local runner (cli/engine.ts) can fail a run exactly where AWS would. Pure: no imports from cli/ or the engine.
//
// Sources (AWS documentation unless noted):
//   - Step Functions service quotas: "Maximum input or output size for a task, state, or execution: 256 KiB of data as
//     a UTF-8 encoded string"; "Maximum execution history size: 25,000 events".
//   - Inline Map: "In this mode, the Map state supports up to 40 concurrent iterations" and each iteration's history is
//     added to the parent's (docs: Using Map state in Inline mode).
//   - Error handling: "States.ALL ... can't catch the States.DataLimitExceeded terminal error or Runtime error types".
//   - History limit wording, recorded from real executions (aws-solutions/distributed-load-testing-on-aws#335,
//     loads/ardere#86, floci-io/floci#2734): ExecutionFailed, error States.Runtime, cause "The execution reached the
//     maximum number of history events (25000)."; that ExecutionFailed is event 25,000 itself (24,999 real events).
//   - DataLimitExceeded cause, recorded (jogold/cloudstructs#163, awslabs/aws-securityhub-multiaccount-scripts#63):
//     "The state/task '<name>' returned a result with a size exceeding the maximum number of bytes service limit."
//   - ECS RunTask `overrides`: "A total of 8192 characters are allowed for overrides. This limit includes the JSON
//     formatting characters of the override structure." Rejected with InvalidParameterException "Container Overrides
//     length must be at most 8192" (convox/rack#1906, Netflix/metaflow#1482).
//   - StartExecution `name`: "A name must not contain: white space; brackets < > { } [ ]; wildcard characters ? *;
//     special characters " # % \ ^ | ~ ` $ & , ; : /; control characters (U+0000-001F, U+007F-009F)"; a name over 80
//     characters is a ValidationException "Member must have length less than or equal to 80"
//     (wolfeidau/buildkite-serverless-agent#37); a bad character is InvalidName.
//   - History event types: the HistoryEvent `type` enum of the Step Functions API reference (TaskStateEntered,
//     TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded, TaskFailed, TaskTimedOut, TaskStateExited,
//     MapStateEntered, MapStateStarted, MapIterationStarted/Succeeded/Failed/Aborted, MapStateSucceeded/Failed,
//     MapStateExited, ParallelState*, PassStateEntered/Exited, ChoiceState*, WaitState*, SucceedState*,
//     FailStateEntered, ExecutionStarted/Succeeded/Failed/Aborted/TimedOut, LambdaFunction*, Activity*).

/** 256 KiB: the largest state or execution input/output, measured as the UTF-8 bytes of its JSON. */
export const PAYLOAD_LIMIT_BYTES = 262_144;
/** The largest execution history; the ExecutionFailed that ends an over-long execution is event number 25,000. */
export const HISTORY_EVENT_LIMIT = 25_000;
/** An inline Map runs at most this many iterations at once, whatever its MaxConcurrency (0 means "as many as allowed"). */
export const INLINE_MAP_MAX_CONCURRENCY = 40;
/** ECS RunTask `overrides`: 8,192 characters of JSON, formatting included. */
export const ECS_OVERRIDES_LIMIT = 8_192;
/**
 * What of those 8 KiB a run's input and its largest fan-out item may take (they travel as JSON inside JSON, in
 * STEPCRON_INPUT/STEPCRON_ITEM); the rest is left for the other STEPCRON_* variables.
 */
export const RUN_INPUT_OVERRIDE_CHARS = 7 * 1024;
/** The characters a run's input and its largest item take in the container overrides. Throws RangeError when too deep. */
export function overrideChars(input: unknown, items: readonly unknown[]): number {
  const inJson = (value: unknown) => JSON.stringify(JSON.stringify(value)).length;
  return inJson(input) + items.reduce<number>((max, item) => Math.max(max, inJson(item)), 0);
}
/** Execution (and state machine) names: 1-80 characters. */
export const EXECUTION_NAME_MAX = 80;

export const HISTORY_LIMIT_ERROR = 'States.Runtime';
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${HISTORY_EVENT_LIMIT}).`;
export const DATA_LIMIT_ERROR = 'States.DataLimitExceeded';
export const ECS_OVERRIDES_ERROR = 'ECS.InvalidParameterException';

/** The size AWS counts for a payload: the UTF-8 bytes of its JSON text. */
export function payloadBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
}

// How deeply JSON may nest. AWS documents no depth limit for Step Functions (its service quotas bound a payload's size,
// 256 KiB, not its nesting; nothing in the docs or issue trackers searched for this says otherwise), so a deep input is
// taken on AWS as far as we know. The local engine cannot take it: aws-local-stepfunctions copies every state's input
// recursively (cloneJSON), which overflows Node's stack between 1,800 and 2,000 levels of objects (3,000-4,000 of
// arrays), measured through `stepcron run`; JSON.stringify itself gives out near 5,000. Past that a run hung (its
// slot held) or died with a stack trace. So the local runner refuses, before it records anything, an input or item
// nested deeper than this: a limit of the local engine, named as such, with room below where the engine breaks.
/** The deepest nesting (objects and arrays) a local run takes in its input or in a fan-out item. Local only. */
export const LOCAL_DEPTH_LIMIT = 1_500;

/**
 * How many levels of objects and arrays `value` nests (a scalar: 0, `{}` or `[]`: 1), counted without recursion so any
 * depth can be measured; stops counting past `stopAbove` (the answer is then stopAbove + 1).
 */
export function jsonDepth(value: unknown, stopAbove = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAbove) return stopAbove + 1;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Why the local runner cannot take this JSON (`what`: "the run input", "item 3"), or undefined if it can. */
export function localDepthProblem(value: unknown, what: string): string | undefined {
  if (jsonDepth(value, LOCAL_DEPTH_LIMIT) <= LOCAL_DEPTH_LIMIT) return undefined;
  return `${what} is nested more than ${LOCAL_DEPTH_LIMIT.toLocaleString('en-US')} levels deep: the most the local runner takes`
    + ` (a limit of stepcron's local engine, not of AWS, which documents none); flatten it, or pass an S3 key instead of the data`;
}

/** States.DataLimitExceeded's cause for a state whose result (or input, after Parameters) is too large. */
export function dataLimitCause(state: string, what: 'result' | 'input' = 'result'): string {
  // The 'result' wording is AWS's, as recorded; the 'input' wording is ours (no recording of it found).
  return what === 'result'
    ? `The state/task '${state}' returned a result with a size exceeding the maximum number of bytes service limit.`
    : `The state/task '${state}' has an input with a size exceeding the maximum number of bytes service limit.`;
}

/** Lower-cases the first letter of every key, as the service integration turns ASL's PascalCase into the ECS API's JSON. */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelKeys(v)]));
}

/**
 * The length ECS counts for RunTask `overrides` (given as the ASL's `Overrides`): characters of its compact JSON as the
 * ECS API receives it (camelCase keys). Characters, not bytes, as documented; whether ECS counts UTF-16 units or code
 * points is not documented (the two differ only outside the Basic Multilingual Plane).
 */
export function ecsOverridesLength(overrides: unknown): number {
  return JSON.stringify(camelKeys(overrides ?? {})).length;
}

/** RunTask's InvalidParameterException message when the overrides are too long, as ECS words it. */
export const ECS_OVERRIDES_MESSAGE = `Container Overrides length must be at most ${ECS_OVERRIDES_LIMIT}`;

/** Why StartExecution refuses a name, as the API error it answers with; undefined if the name is fine. */
export function executionNameError(name: string): { error: 'InvalidName' | 'ValidationException'; message: string } | undefined {
  const length = [...name].length;
  if (length < 1 || length > EXECUTION_NAME_MAX) {
    const bound = length < 1 ? 'greater than or equal to 1' : `less than or equal to ${EXECUTION_NAME_MAX}`;
    return { error: 'ValidationException', message: `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must have length ${bound}` };
  }
  const bad = [...name].find((c) => FORBIDDEN_NAME_CHARACTERS.includes(c) || /\s/u.test(c) || isControlOrInvalid(c));
  if (bad !== undefined) {
    const shown = /^[\x21-\x7e]$/.test(bad) ? `'${bad}'` : `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return { error: 'InvalidName', message: `Invalid Name: '${name}' (${shown} is not allowed in an execution name)` };
  }
  return undefined;
}

/** What is wrong with an execution name for StartExecution, or undefined if AWS would take it. */
export function checkExecutionName(name: string): string | undefined {
  return executionNameError(name)?.message;
}

const FORBIDDEN_NAME_CHARACTERS = [...'<>{}[]?*"#%\\^|~`$&,;:/'];

function isControlOrInvalid(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe
    || code === 0xffff || code === 0x10ffff;
}

// ---------------------------------------------------------------------------------------------------------------------
// History events: what a state transition costs in the execution history.
//
// The local engine reports transitions (a state entered, exited, failed, retried, caught; a Map iteration started or
// ended; the execution started or ended); AWS writes history events. The model below is what AWS writes for each, from
// the HistoryEvent type list and histories seen in the console. It is an estimate in three places, said where they are:
// the exact event that records a failed RunTask call (TaskFailed or TaskSubmitFailed: one event either way), whether a
// Task state whose error was caught writes TaskStateExited (counted: yes), and Parallel branches (no per-branch events).

export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';

/**
 * How a Task state's resource reports in the history:
 *   - 'sync'     `.sync` and `.waitForTaskToken` integrations: TaskScheduled, TaskStarted, TaskSubmitted, then the
 *                outcome when the job ends (the RunTask call returning is TaskSubmitted; the task stopping is TaskSucceeded);
 *   - 'request'  request-response integrations (`lambda:invoke`, `aws-sdk:*`, plain `ecs:runTask`): TaskScheduled,
 *                TaskStarted, then TaskSucceeded or TaskFailed;
 *   - 'lambda'   a bare Lambda function ARN: LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded;
 *   - 'activity' an activity ARN: ActivityScheduled, ActivityStarted, ActivitySucceeded.
 */
export type TaskKind = 'sync' | 'request' | 'lambda' | 'activity';

export function taskKind(resource: string): TaskKind {
  if (resource.endsWith('.sync') || resource.includes('.sync:') || resource.endsWith('.waitForTaskToken')) return 'sync';
  if (/^arn:[^:]+:lambda:/.test(resource)) return 'lambda';
  if (/^arn:[^:]+:states:[^:]+:[^:]*:activity:/.test(resource)) return 'activity';
  return 'request';
}

/** One transition of a running execution, as the local engine reports it. */
export type Transition =
  | { kind: 'executionStarted' }
  | { kind: 'executionSucceeded' | 'executionFailed' | 'executionAborted' | 'executionTimedOut' }
  | { kind: 'stateEntered'; state: StateType; task?: TaskKind }
  /** A state left normally; `caught` when it ended in an error its Catch handled (only TaskStateExited etc. then). */
  | { kind: 'stateExited'; state: StateType; task?: TaskKind; caught?: boolean }
  /** A state's attempt failed with `error` (before Retry/Catch decide). */
  | { kind: 'stateFailed'; state: StateType; task?: TaskKind; error: string }
  /** A failed attempt is retried: the state runs again without being entered again. */
  | { kind: 'stateRetried'; state: StateType; task?: TaskKind }
  | { kind: 'stateCaught'; state: StateType }
  | { kind: 'mapIterationStarted' | 'mapIterationSucceeded' | 'mapIterationFailed' }
  | { kind: 'parallelBranch' };

const prefix: Record<StateType, string> = {
  Task: 'TaskState', Parallel: 'ParallelState', Map: 'MapState', Pass: 'PassState', Wait: 'WaitState',
  Choice: 'ChoiceState', Succeed: 'SucceedState', Fail: 'FailState',
};

/** The events of one attempt of a Task, up to (not including) its outcome. */
function attemptStart(task: TaskKind): string[] {
  switch (task) {
    case 'lambda': return ['LambdaFunctionScheduled', 'LambdaFunctionStarted'];
    case 'activity': return ['ActivityScheduled', 'ActivityStarted'];
    default: return ['TaskScheduled', 'TaskStarted'];
  }
}

function attemptSucceeded(task: TaskKind): string[] {
  switch (task) {
    case 'sync': return ['TaskSubmitted', 'TaskSucceeded'];
    case 'lambda': return ['LambdaFunctionSucceeded'];
    case 'activity': return ['ActivitySucceeded'];
    default: return ['TaskSucceeded'];
  }
}

function attemptFailed(task: TaskKind, error: string): string[] {
  const timedOut = error === 'States.Timeout';
  switch (task) {
    case 'sync':
      // The job was submitted (RunTask answered) and then failed or ran too long; any other error is the RunTask call
      // itself failing (recorded as TaskFailed or TaskSubmitFailed: one event either way, an estimate).
      if (timedOut) return ['TaskSubmitted', 'TaskTimedOut'];
      return error === 'States.TaskFailed' ? ['TaskSubmitted', 'TaskFailed'] : ['TaskFailed'];
    case 'lambda': return [timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed'];
    case 'activity': return [timedOut ? 'ActivityTimedOut' : 'ActivityFailed'];
    default: return [timedOut ? 'TaskTimedOut' : 'TaskFailed'];
  }
}

/** The AWS history events a transition writes, in order. */
export function historyEvents(t: Transition): string[] {
  switch (t.kind) {
    case 'executionStarted': return ['ExecutionStarted'];
    case 'executionSucceeded': return ['ExecutionSucceeded'];
    case 'executionFailed': return ['ExecutionFailed'];
    case 'executionAborted': return ['ExecutionAborted'];
    case 'executionTimedOut': return ['ExecutionTimedOut'];
    case 'mapIterationStarted': return ['MapIterationStarted'];
    case 'mapIterationSucceeded': return ['MapIterationSucceeded'];
    case 'mapIterationFailed': return ['MapIterationFailed'];
    // Parallel branches write no events of their own (their states do): an estimate.
    case 'parallelBranch': return [];
    case 'stateCaught': return [];
    case 'stateEntered':
      switch (t.state) {
        case 'Task': return ['TaskStateEntered', ...attemptStart(t.task ?? 'request')];
        case 'Map': return ['MapStateEntered', 'MapStateStarted'];
        case 'Parallel': return ['ParallelStateEntered', 'ParallelStateStarted'];
        default: return [`${prefix[t.state]}Entered`];
      }
    case 'stateExited':
      switch (t.state) {
        // A Fail state has no exit: the execution (or iteration) fails right after FailStateEntered.
        case 'Fail': return [];
        case 'Task': return t.caught ? ['TaskStateExited'] : [...attemptSucceeded(t.task ?? 'request'), 'TaskStateExited'];
        case 'Map': return t.caught ? ['MapStateExited'] : ['MapStateSucceeded', 'MapStateExited'];
        case 'Parallel': return t.caught ? ['ParallelStateExited'] : ['ParallelStateSucceeded', 'ParallelStateExited'];
        default: return [`${prefix[t.state]}Exited`];
      }
    case 'stateFailed':
      switch (t.state) {
        case 'Task': return attemptFailed(t.task ?? 'request', t.error);
        case 'Map': return ['MapStateFailed'];
        case 'Parallel': return ['ParallelStateFailed'];
        // A Fail state (or a Choice with no match) fails the execution: only ExecutionFailed, counted there.
        default: return [];
      }
    case 'stateRetried':
      switch (t.state) {
        case 'Task': return attemptStart(t.task ?? 'request');
        case 'Map': return ['MapStateStarted'];
        case 'Parallel': return ['ParallelStateStarted'];
        default: return [];
      }
  }
}

/** How many history events a transition writes. */
export function historyEventCount(t: Transition): number {
  return historyEvents(t).length;
}

/**
 * The history events of one successful inline Map iteration made of the given states, for planning: e.g. a `.sync`
 * task then a Pass is 1 + 6 + 2 + 1 = 10 events, so about 2,500 such items fit in one execution.
 */
export function iterationEvents(states: Array<{ state: StateType; task?: TaskKind }>): number {
  let n = historyEventCount({ kind: 'mapIterationStarted' }) + historyEventCount({ kind: 'mapIterationSucceeded' });
  for (const s of states) {
    n += historyEventCount({ kind: 'stateEntered', ...s }) + historyEventCount({ kind: 'stateExited', ...s });
  }
  return n;
}
