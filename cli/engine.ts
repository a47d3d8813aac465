// Runs a compiled definition with aws-local-stepfunctions: the same ASL that deploys, with infrastructure bound to
// local stand-ins and every Task state served in-process, the way the real service integration would answer.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Job } from '../workflows/catalog';
import { baseStateName, type Definition, FAILURE, type Infra, JOB_CONTAINER } from '../workflows/compile';
import {
  DATA_LIMIT_ERROR, dataLimitCause, ECS_OVERRIDES_ERROR, ECS_OVERRIDES_LIMIT, ECS_OVERRIDES_MESSAGE, ecsOverridesLength,
  executionNameError, HISTORY_EVENT_LIMIT, HISTORY_LIMIT_CAUSE, HISTORY_LIMIT_ERROR, historyEventCount,
  INLINE_MAP_MAX_CONCURRENCY, localDepthProblem, PAYLOAD_LIMIT_BYTES, payloadBytes, type StateType, type TaskKind, taskKind, type Transition,
} from '../workflows/limits';
import { stateMachineName, taskFamily, taskLogGroup } from '../workflows/resources';
import type { NotifyEvent, NotifyResult, PrecheckEvent, PrecheckResult, WarningEvent } from '../handlers/lib/contracts';
import type { WarningResult } from '../handlers/lib/warnings';
import type { EcsTask } from './backends/types';
import { LocalLimitError } from './errors';
import { type ChildResult, describeMapRun, extractDistributedMaps, LOCAL_DISTRIBUTED_MAP, LocalS3, type MapRun, runDistributedMap } from './distributed';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22+); `npx` runs Node 24 from node_modules, but the bin
// may also be started with an older system Node.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    },
  });
}

/**
 * aws-local-stepfunctions 3.0.0, loaded with one defect fixed. Its intrinsic functions strip every backslash from a
 * string result (`BaseIntrinsicFunction.call`: `result.replaceAll("\\", "")`, meant to unescape string literals), so
 * `States.JsonToString` of `a"b` gave `"a"b"` (not JSON: the job got a broken STEPCRON_ITEM and the runner a
 * SyntaxError) and `c\d` became `cd`. AWS leaves a function's result as it is and unescapes only the `\'`, `\{`, `\}`
 * and `\\` of a quoted literal argument (the ASL spec's "Intrinsic Functions"), so the fix does that instead. The
 * definitions that deploy are unchanged; only the local evaluation is corrected. The module is compiled in this realm
 * (the library checks plain objects by their prototype, so a copy from another realm would refuse ours), with its own
 * dependencies resolved from its own folder; an upgrade that moves the patched lines fails here, loudly.
 */
function loadStepFunctions(): typeof import('aws-local-stepfunctions') {
  const file = require.resolve('aws-local-stepfunctions');
  let source = readFileSync(file, 'utf8');
  const fixes: Array<[string, string]> = [
    // The result is left as the function made it.
    ['if (typeof result === "string") {\n      result = result.replaceAll("\\\\", "");\n    }\n', ''],
    // A quoted literal argument is unescaped once, where AWS does it.
    ['return arg.slice(1, lastSingleQuote);', 'return arg.slice(1, lastSingleQuote).replace(/\\\\(.)/gs, "$1");'],
  ];
  for (const [from, to] of fixes) {
    if (source.split(from).length !== 2) {
      throw new Error(`aws-local-stepfunctions (${file}) is not the version cli/engine.ts patches: its intrinsic-function fix no longer applies (see loadStepFunctions)`);
    }
    source = source.replace(from, () => to);
  }
  const module = { exports: {} as typeof import('aws-local-stepfunctions') };
  const libraryRequire = (id: string) => require(require.resolve(id, { paths: [dirname(file)] }));
  new Function('exports', 'require', 'module', '__filename', '__dirname', `${source}\n//# sourceURL=${file}`)(
    module.exports, libraryRequire, module, file, dirname(file));
  return module.exports;
}
/** The library as loaded: its StateMachine is read from here at each run (a test may wrap it to watch the Task states). */
export const stepFunctions = { ...loadStepFunctions() };
const { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } = stepFunctions;
type StateMachine = InstanceType<typeof stepFunctions.StateMachine>;

/** One entry of the engine's event log (StateEntered, StateRetried, MapIterationFailed, ExecutionFailed, ...). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

/** The effective RunTask parameters a Task state sends (after its JSONPath is applied). */
export interface RunTaskParams {
  Cluster: string;
  TaskDefinition: string;
  StartedBy: string;
  CapacityProviderStrategy?: Array<{ CapacityProvider: string }>;
  Overrides: { ContainerOverrides: Array<{ Name: string; Environment: Array<{ Name: string; Value: string }> }> };
}

/** What serves each kind of Task state. `state` is the Task state calling (fault injection keys on it). */
export interface Services {
  precheck(payload: PrecheckEvent, state?: string): Promise<PrecheckResult>;
  notify(payload: NotifyEvent, state?: string): Promise<NotifyResult>;
  /** The notify function's runtime warning (arm, then check): handlers/lib/warnings.ts. */
  /** Without it, arming fails (Lambda.Unknown), which the definition catches: the run goes on unwarned. */
  warning?(payload: WarningEvent, state?: string): Promise<WarningResult>;
  /** Runs the task to its end; the engine applies the `.sync` rules to the Task it returns. */
  runTask(params: RunTaskParams, state?: string): Promise<EcsTask>;
  listTasks(startedBy: string): Promise<string[]>;
  stopTask(taskArn: string, reason: string): Promise<void>;
}

export const localArn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

/** Local stand-ins for what the deploy references: plain ARNs in the `local` region. */
export function localInfra(job: Job, stage: string): Infra {
  return {
    stage,
    cluster: localArn('ecs', `cluster/stepcron-${stage}`),
    taskDefinition: localArn('ecs', `task-definition/${taskFamily(job, stage)}:1`),
    subnets: ['subnet-00000000000000000'],
    securityGroups: ['sg-00000000000000000'],
    assignPublicIp: 'DISABLED',
    precheckFunction: localArn('lambda', `function:stepcron-${stage}-precheck`),
    notifyFunction: localArn('lambda', `function:stepcron-${stage}-notify`),
    logGroup: taskLogGroup(job, stage),
    resultsBucket: `stepcron-${stage}-local`,
    itemsPrefix: `s3://stepcron-${stage}-local/items/`,
  };
}

export type RunStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'SKIPPED' | 'ABORTED';

export interface Execution {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  startTime: Date;
}

export interface Outcome {
  status: RunStatus;
  output?: unknown;
  error?: string;
  cause?: string;
  /** The engine's events, kept only with `keepEvents` (tests): a long run counts instead of storing them. */
  events: EventLog[];
  /** States entered, Map iterations' included. */
  transitions: number;
  /** The largest AWS-equivalent history of any one execution of the run (see HistoryBudget). */
  historyEvents: number;
  /** The largest state or execution input/output seen, in bytes (UTF-8 JSON, as AWS counts). */
  maxPayloadBytes: number;
}

export interface ExecuteOptions {
  services: Services;
  /**
   * A redrive: the execution resumes at this state (with `input` as that state's), in the whole definition as it was
   * validated; states before it are not run again.
   */
  startAt?: string;
  /** Called for every engine event, as it happens (progress output, history). */
  onEvent?: (event: EventLog) => void;
  /** Skip Wait states and retry intervals (tests, `--skip-waits`). */
  skipWaits?: boolean;
  /** Aborts the execution, like StopExecution. */
  signal?: AbortSignal;
  /** Keep every engine event in Outcome.events (tests); off, only counts are kept, so memory stays flat. */
  keepEvents?: boolean;
  /** Where `s3://bucket/key` lives locally (Distributed Map ItemReader and ResultWriter): `<s3Dir>/<bucket>/<key>`. */
  s3Dir?: string;
  /** A Distributed Map's run as it starts and as it ends (its item counts), for progress and the summary. */
  onMapRun?: (run: MapRun, phase: 'started' | 'ended') => void;
  /** More of the context object ($$), e.g. $$.Map.Item for a Distributed Map's child execution. */
  context?: Record<string, unknown>;
}

/** Where the local runner keeps `s3://` objects unless told otherwise (`--s3-dir`). */
export const DEFAULT_S3_DIR = '.stepcron/s3';

/** StartExecution refusing to start (InvalidName, ValidationException): no execution exists. */
export class StartExecutionError extends Error {
  constructor(readonly code: 'InvalidName' | 'ValidationException', message: string) {
    super(message);
    this.name = code;
  }
}

/** What StartExecution checks before an execution exists: the name, and the input's size. Throws StartExecutionError. */
export function checkStartExecution(name: string, input: unknown): void {
  // First: measuring the size of a deeper input would overflow the stack.
  const deep = localDepthProblem(input, 'the run input');
  if (deep) throw new LocalLimitError(`run: ${deep}`);
  const bad = executionNameError(name);
  if (bad) throw new StartExecutionError(bad.error, bad.message);
  // The API's `input` member is limited to 262144; AWS hides the value in this message. Wording not recorded: ours.
  if (payloadBytes(input) > PAYLOAD_LIMIT_BYTES) {
    throw new StartExecutionError('ValidationException',
      `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${PAYLOAD_LIMIT_BYTES}`);
  }
}

export function newExecution(job: Job, stage: string, name: string, startTime = new Date()): Execution {
  const bad = executionNameError(name);
  if (bad) throw new StartExecutionError(bad.error, bad.message);
  const machine = stateMachineName(job, stage);
  return {
    name,
    startTime,
    stateMachineArn: localArn('states', `stateMachine:${machine}`),
    executionArn: localArn('states', `execution:${machine}:${name}`),
  };
}

const validated = new Set<string>();
/** Definitions already validated, by identity: a Distributed Map's children share one, and skip re-serialising it. */
const validatedObjects = new WeakSet<Definition>();

/**
 * Validates a definition as the engine does (asl-validator), once per distinct definition in this process: the
 * validator compiles its schema on every call (0.3-0.7 s). Call it before taking an execution's start time: the engine
 * sets $$.Execution.StartTime itself when it starts, and the precheck compares that with other runs' recorded start
 * times, so a slow start between the two can make two runs each think the other started first.
 */
export function validateDefinition(definition: Definition): void {
  if (validatedObjects.has(definition)) return;
  const key = JSON.stringify(definition);
  if (validated.has(key)) {
    validatedObjects.add(definition);
    return;
  }
  // On a copy: asl-validator writes defaults (QueryLanguage) into what it validates.
  new stepFunctions.StateMachine(JSON.parse(key), { validationOptions: { checkArn: false } });
  if (validated.size >= 200) validated.clear();
  validated.add(key);
  validatedObjects.add(definition);
}

/** The longest a timer can wait: setTimeout fires at once past 2^31 - 1 ms (24.8 days). */
const MAX_TIMER_SECONDS = 2_147_483;
/** The only Task resource that starts work (an ECS task): nothing starts once its execution has ended. */
const RUN_TASK_SYNC = 'arn:aws:states:::ecs:runTask.sync';

/** A limit of AWS's that ended the run: the execution fails with this error, which no Catch or Retry handles. */
interface LimitFailure { error: string; cause: string }

/** The error of a run ended by a bug in the local runner itself (never an AWS error name). */
export const INTERNAL_ERROR = 'stepcron.InternalError';

/** JavaScript's own errors: what a service of AWS's never answers with, so a bug of the runner's when one comes back. */
function isInternalError(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return typeof (err as Error | undefined)?.stack === 'string' && ['TypeError', 'SyntaxError', 'RangeError', 'ReferenceError', 'URIError', 'EvalError'].includes(name!);
}

function internalCause(err: Error, state: string): string {
  const where = err.stack?.split('\n').find((line) => line.trimStart().startsWith('at '))?.trim();
  return `${err.name}: ${err.message} (serving ${state}${where ? `, ${where}` : ''}): a bug in stepcron's local runner, not in your job; please report it`;
}

/** An error a Task handler throws for a limit: like AWS's, neither Retry nor Catch (not even States.ALL) matches it. */
function terminalError(failure: LimitFailure): Error {
  return Object.assign(new Error(failure.cause), { name: failure.error, isRetryable: false, isCatchable: false });
}

/**
 * Inputs of Distributed Map child executions: the parent's state, one object per map run, measured by the parent inside
 * the Map's own input (so within the limit, and counted in the run's largest payload). Measured again by each child
 * (its start and its first state), the state's list made a 10,000-item map run quadratic.
 */
const measuredChildInputs = new WeakSet<object>();

export async function execute(definition: Definition, input: unknown, execution: Execution, options: ExecuteOptions): Promise<Outcome> {
  const inputMeasured = typeof input === 'object' && input !== null && measuredChildInputs.has(input);
  checkStartExecution(execution.name, inputMeasured ? null : input);
  validateDefinition(definition);
  // The engine has no Distributed Map: those Map states are served by the runner (cli/distributed.ts).
  const { definition: served, maps } = extractDistributedMaps(definition);
  // The run's deadline as the engine can keep it (Node's timers hold at most 24.8 days). A Map state has no timeout of
  // its own (the execution's bounds it), but the engine gives a Task without TimeoutSeconds 60 s: a served
  // Distributed Map gets the run's deadline.
  const deadline = Math.min(definition.TimeoutSeconds || MAX_TIMER_SECONDS, MAX_TIMER_SECONDS);
  for (const name of maps.keys()) served.States[name] = { ...served.States[name], TimeoutSeconds: deadline };
  const taskStates = collectTaskStates(served.States);
  const budget = new HistoryBudget(new Map(taskStates.map(([name, resource]) => [name, taskKind(resource)])));
  let maxPayloadBytes = 0;
  let failure: LimitFailure | undefined;
  let run: ReturnType<StateMachine['run']> | undefined;
  const fail = (limit: LimitFailure) => {
    if (failure || options.signal?.aborted) return;
    failure = limit;
    budget.close();
    run?.abort();
  };
  /** Fails the run if a payload is over the limit (a state's input or output, a task's result). */
  const measure = (value: unknown, state: string, what: 'input' | 'result') => {
    const bytes = payloadBytes(value);
    if (bytes > maxPayloadBytes) maxPayloadBytes = bytes;
    if (bytes > PAYLOAD_LIMIT_BYTES) fail({ error: DATA_LIMIT_ERROR, cause: dataLimitCause(state, what) });
  };

  // Child executions (Distributed Map items): their histories are their own; the run reports the largest.
  const children = { transitions: 0, historyEvents: 0, maxPayloadBytes: 0 };
  const mapRuns: MapRun[] = [];
  // A map run ends with its execution (aborted, timed out, failed by a limit): its children stop with it.
  const mapRunsStop = new AbortController();
  const activeMapRuns = new Set<Promise<unknown>>();
  const stopMapRuns = () => mapRunsStop.abort();
  options.signal?.addEventListener('abort', stopMapRuns, { once: true });
  const s3 = new LocalS3(options.s3Dir ?? DEFAULT_S3_DIR);
  // Per map run (runDistributedMap builds its child definition once): the definition every child executes.
  const childDefinitions = new WeakMap<object, Definition>();
  const runChild = async (childDefinition: { StartAt: string; States: StatesMap }, childInput: unknown,
    child: Execution, context: Record<string, unknown>, signal: AbortSignal): Promise<ChildResult> => {
    const index = (context.Map as { Item: { Index: number } }).Item.Index;
    if (typeof childInput === 'object' && childInput !== null) measuredChildInputs.add(childInput);
    let itemDefinition = childDefinitions.get(childDefinition);
    if (!itemDefinition) {
      itemDefinition = { Comment: 'a Distributed Map item', TimeoutSeconds: definition.TimeoutSeconds, ...childDefinition } as Definition;
      childDefinitions.set(childDefinition, itemDefinition);
    }
    const result = await execute(itemDefinition, childInput, child, {
      ...options,
      signal,
      context,
      keepEvents: false,
      // The item's events as an inline Map's would read: with its index, under the states' catalog names.
      ...(options.onEvent && {
        onEvent: (event: EventLog) => {
          if (!('state' in event) || event.state.name === '__ItemSelector') return;
          options.onEvent!({ ...event, index, state: { ...event.state, name: baseStateName(event.state.name) } } as EventLog);
        },
      }),
    });
    // The ItemSelector's Pass is the runner's way to evaluate it, not a state of the child's on AWS.
    children.transitions += result.transitions - (childDefinition.StartAt === '__ItemSelector' ? 1 : 0);
    children.historyEvents = Math.max(children.historyEvents, result.historyEvents);
    children.maxPayloadBytes = Math.max(children.maxPayloadBytes, result.maxPayloadBytes);
    if (result.status === 'SKIPPED') return { status: 'SUCCEEDED', output: result.output };
    // The runner reports a run that ended in JobTimedOut as TIMED_OUT; to Step Functions that child ended in a Fail
    // state, FAILED, and DescribeMapRun counts it under Failed. Only the execution's own deadline is TIMED_OUT.
    const status = result.status === 'TIMED_OUT' && result.error !== 'States.Timeout' ? 'FAILED' : result.status;
    return { status, output: result.output, ...(result.error !== undefined && { error: result.error }), ...(result.cause !== undefined && { cause: result.cause }) };
  };
  const local: LocalServices = {
    distributedMap: (name, params) => {
      const map = maps.get(name)!;
      let thisRun: MapRun | undefined;
      const running = runDistributedMap(map, params as never, {
        executionArn: execution.executionArn, stateMachineArn: execution.stateMachineArn, s3, runChild,
        signal: mapRunsStop.signal,
        onItem: (item) => {
          if (item.phase === 'started' && options.onEvent) {
            options.onEvent({ type: 'MapIterationStarted', timestamp: Date.now(), index: item.index, parentState: { name, type: 'Map', input: {} } } as unknown as EventLog);
          }
        },
      }, (mapRun) => {
        thisRun = mapRun;
        mapRuns.push(mapRun);
        options.onMapRun?.(mapRun, 'started');
      }).finally(() => {
        activeMapRuns.delete(running);
        if (thisRun) options.onMapRun?.(thisRun, 'ended');
      });
      activeMapRuns.add(running);
      return running;
    },
    listMapRuns: async (executionArn) => ({
      MapRuns: mapRuns.filter((r) => r.executionArn === executionArn).reverse()
        .map((r) => ({ MapRunArn: r.mapRunArn, ExecutionArn: r.executionArn, StateMachineArn: r.stateMachineArn, StartDate: r.startDate.toISOString(), ...(r.stopDate && { StopDate: r.stopDate.toISOString() }) })),
    }),
    describeMapRun: async (mapRunArn) => {
      const found = mapRuns.find((r) => r.mapRunArn === mapRunArn);
      if (!found) throw Object.assign(new Error(`Map Run does not exist: ${mapRunArn}`), { name: 'SFN.ResourceNotFound' });
      return describeMapRun(found);
    },
  };

  const handlers: Record<string, (input: never) => Promise<unknown>> = {};
  const zero: Record<string, number> = {};
  /** The engine has given its result: a handler still on its way in must not start anything. */
  let ended = false;
  for (const [name, resource] of taskStates) {
    const serve = serviceFor(name, resource, options.services, local);
    // The limits are checked where AWS checks them: the task's input after Parameters, and what the integration returns.
    const startsTask = resource === RUN_TASK_SYNC;
    // The Lambda states run the handlers' own code, whose errors AWS reports under their names too; the rest is ours.
    const servedByRunner = resource !== 'arn:aws:states:::lambda:invoke';
    handlers[name] = async (taskInput: never) => {
      // The event log trails the engine (it is read through async generators): one turn of the event loop lets it
      // catch up, so no task starts after the point where AWS would already have failed the execution.
      await new Promise((resolve) => setImmediate(resolve));
      // Nor a task after the execution ended meanwhile (timed out, aborted, its map run stopped): AWS starts none then.
      // A stop already on its way still goes: it cleans up after a timed-out task.
      if (startsTask && (ended || options.signal?.aborted)) {
        throw Object.assign(new Error('the execution has ended'), { name: 'States.Runtime', isRetryable: false, isCatchable: false });
      }
      if (!failure) measure(taskInput, name, 'input');
      if (failure) throw terminalError(failure);
      let result: unknown;
      try {
        result = await serve(taskInput);
      } catch (err) {
        // A bug of the runner's own (a TypeError, a SyntaxError) is no answer of AWS's: caught as one, it read as a
        // start failure whose cause nobody saw. It ends the run, as what it is, with its cause in the summary.
        if (servedByRunner && isInternalError(err)) {
          fail({ error: INTERNAL_ERROR, cause: internalCause(err as Error, name) });
          if (failure) throw terminalError(failure);
        }
        throw err;
      }
      if (!failure) measure(result, name, 'result');
      if (failure) throw terminalError(failure);
      return result;
    };
    zero[name] = 0;
  }
  const waits = options.skipWaits ? Object.fromEntries(collectStates(definition.States, 'Wait').map((n) => [n, 0])) : {};
  const timeout = definition.TimeoutSeconds === undefined ? {} : { TimeoutSeconds: deadline };
  const machine = new stepFunctions.StateMachine(withInlineMapLimit({ ...served, ...timeout, ...(options.startAt && { StartAt: options.startAt }) }) as never,
    { validationOptions: { noValidate: true } });
  run = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: waits,
      ...(options.skipWaits && { retryIntervalOverrides: zero }),
    },
    context: {
      Execution: { Id: execution.executionArn, Name: execution.name, StartTime: execution.startTime.toISOString() },
      StateMachine: { Id: execution.stateMachineArn, Name: execution.stateMachineArn.split(':').at(-1) },
      // The engine's context is fixed for the run; a getter gives $$.State.EnteredTime as the time the path is read,
      // which is when the state's Parameters are built, right after it was entered (the notify payload's endTime).
      State: { get EnteredTime() { return new Date().toISOString(); } },
      ...options.context,
    } as never,
  });
  // A handler may have failed the run before `run` existed (the first state is a Task).
  if (failure) run.abort();
  const started = run;
  started.result.then(() => { ended = true; }, () => { ended = true; });
  const onAbort = () => started.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const events: EventLog[] = [];
  let transitions = 0;
  let skipped = false;
  let lastFailed: EventLog | undefined;
  // The first state's input is the execution's.
  let firstEntered = inputMeasured;
  const collecting = (async () => {
    for await (const event of started.eventLogs) {
      if (options.keepEvents) events.push(event);
      if (event.type === 'StateEntered') {
        transitions++;
        if (event.state.name === 'Skipped') skipped = true;
      } else if (event.type === 'ExecutionFailed') {
        lastFailed = event;
      }
      if (!failure) {
        if (!budget.add(event)) fail({ error: HISTORY_LIMIT_ERROR, cause: HISTORY_LIMIT_CAUSE });
        if (event.type === 'StateEntered') {
          if (firstEntered) firstEntered = false;
          else measure(event.state.input, event.state.name, 'input');
        } else if (event.type === 'StateExited') measure(event.state.output, event.state.name, 'result');
        else if (event.type === 'ExecutionSucceeded') measure(event.output, 'execution output', 'result');
      }
      options.onEvent?.(event);
    }
  })();
  const outcome = (o: Pick<Outcome, 'status' | 'output' | 'error' | 'cause'>): Outcome => ({
    ...o,
    events,
    transitions: transitions + children.transitions,
    historyEvents: Math.max(budget.count, children.historyEvents),
    maxPayloadBytes: Math.max(maxPayloadBytes, children.maxPayloadBytes),
  });
  try {
    const output = await started.result;
    await collecting;
    // The engine finished before its event log showed a limit passed: AWS would have failed it on the way.
    if (failure) return outcome({ status: 'FAILED', error: failure.error, cause: failure.cause });
    return outcome({ status: skipped ? 'SKIPPED' : 'SUCCEEDED', output });
  } catch (err) {
    // Any other error is the engine's own (a bug, a stack overflow): it ends no event log, so waiting for its end
    // would hang the run, its slot held, until killed.
    if (!(err instanceof ExecutionError || err instanceof ExecutionTimeoutError || err instanceof ExecutionAbortedError)) {
      started.abort();
      throw err;
    }
    await collecting.catch(() => undefined);
    if (failure) return outcome({ status: 'FAILED', error: failure.error, cause: failure.cause });
    if (options.signal?.aborted) return outcome({ status: 'ABORTED', error: 'ExecutionAborted' });
    if (err instanceof ExecutionTimeoutError) {
      return outcome({ status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the run exceeded the state machine TimeoutSeconds' });
    }
    const failed = lastFailed as (EventLog & { Error?: string; Cause?: unknown }) | undefined;
    const error = failed?.Error ?? (err as Error).name;
    const cause = failed ? String(failed.Cause ?? '') : (err as Error).message;
    if (!(err instanceof ExecutionError) && !failed) throw err;
    return outcome({ status: error === FAILURE.timedOut ? 'TIMED_OUT' : 'FAILED', error, cause });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    options.signal?.removeEventListener('abort', stopMapRuns);
    if (activeMapRuns.size > 0) {
      mapRunsStop.abort();
      await Promise.allSettled([...activeMapRuns]);
    }
  }
}

/**
 * One execution's history, counted in AWS's events (workflows/limits.ts) from the local engine's event log. Each
 * execution owns one: an inline Map's iterations count in their parent's, a child execution (Distributed Map) would
 * have its own. `add` says false once the execution would pass the limit: AWS then writes ExecutionFailed as event
 * number `limit` (24,999 real events at most), so the count stops there.
 */
export class HistoryBudget {
  count = 0;
  exceeded = false;
  private closed = false;
  /** States (per Map iteration) whose error a Catch handled: their exit writes only TaskStateExited. */
  private readonly caught = new Set<string>();

  constructor(private readonly tasks: ReadonlyMap<string, TaskKind>, readonly limit = HISTORY_EVENT_LIMIT) {}

  /** Counts an engine event; false if it took the execution past the limit (the execution fails there). */
  add(event: EventLog): boolean {
    if (this.closed) return !this.exceeded;
    const transition = this.transition(event);
    if (!transition) return true;
    const n = historyEventCount(transition);
    if (transition.kind.startsWith('execution') && transition.kind !== 'executionStarted') {
      // The execution's last event: it always fits (the limit counts it).
      this.count += n;
      this.closed = true;
      return true;
    }
    if (this.count + n > this.limit - 1) {
      this.count = this.limit;
      this.exceeded = true;
      this.closed = true;
      return false;
    }
    this.count += n;
    return true;
  }

  /** The execution failed for another reason: ExecutionFailed is its last event. */
  close(): void {
    if (this.closed) return;
    this.count = Math.min(this.count + 1, this.limit);
    this.closed = true;
  }

  private transition(e: EventLog): Transition | undefined {
    const state = 'state' in e ? e.state : undefined;
    const type = state?.type as StateType | undefined;
    const task = state && type === 'Task' ? this.tasks.get(state.name) : undefined;
    const key = state ? `${'index' in e ? (e.index ?? '') : ''}/${state.name}` : '';
    const withTask = task === undefined ? {} : { task };
    switch (e.type) {
      case 'ExecutionStarted': return { kind: 'executionStarted' };
      case 'ExecutionSucceeded': return { kind: 'executionSucceeded' };
      case 'ExecutionFailed': return { kind: 'executionFailed' };
      case 'ExecutionAborted': return { kind: 'executionAborted' };
      case 'ExecutionTimeout': return { kind: 'executionTimedOut' };
      case 'MapIterationStarted': return { kind: 'mapIterationStarted' };
      case 'MapIterationSucceeded': return { kind: 'mapIterationSucceeded' };
      case 'MapIterationFailed': return { kind: 'mapIterationFailed' };
      case 'ParallelBranchStarted':
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        return { kind: 'parallelBranch' };
      case 'StateEntered': return { kind: 'stateEntered', state: type!, ...withTask };
      case 'StateExited': return { kind: 'stateExited', state: type!, ...withTask, caught: this.caught.delete(key) };
      case 'StateFailed': return { kind: 'stateFailed', state: type!, ...withTask, error: e.Error };
      case 'StateRetried': return { kind: 'stateRetried', state: type!, ...withTask };
      case 'StateCaught':
        this.caught.add(key);
        return { kind: 'stateCaught', state: type! };
      default: return undefined;
    }
  }
}

/**
 * The definition as AWS runs it: an inline Map (Mode INLINE, or no ProcessorConfig) runs at most 40 iterations at
 * once, so a MaxConcurrency of 0 (unlimited) or above 40 becomes 40. The local engine would otherwise run them all.
 * A MaxConcurrencyPath is resolved at run time and is left as is (the engine caps only an unset or 0 value at 40).
 */
export function withInlineMapLimit<D extends { States: Record<string, unknown> }>(definition: D): D {
  const clamp = (states: StatesMap): StatesMap => Object.fromEntries(Object.entries(states).map(([name, state]) => {
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: StatesMap; ProcessorConfig?: { Mode?: string } } | undefined;
    const branches = state.Branches as Array<{ States: StatesMap }> | undefined;
    if (!processor && !branches) return [name, state];
    const next: Record<string, unknown> = { ...state };
    if (processor) {
      const inline = (processor.ProcessorConfig?.Mode ?? 'INLINE') === 'INLINE';
      const max = state.MaxConcurrency as number | undefined;
      if (inline && state.MaxConcurrencyPath === undefined && (!max || max > INLINE_MAP_MAX_CONCURRENCY)) {
        next.MaxConcurrency = INLINE_MAP_MAX_CONCURRENCY;
      }
      next[state.ItemProcessor ? 'ItemProcessor' : 'Iterator'] = { ...processor, States: clamp(processor.States) };
    }
    if (branches) next.Branches = branches.map((b) => ({ ...b, States: clamp(b.States) }));
    return [name, next];
  }));
  return { ...definition, States: clamp(definition.States as StatesMap) };
}

/** The exit code of the job's own container (never a sidecar's); undefined if it never exited. */
export function jobExitCode(task: { Containers?: Array<{ Name: string; ExitCode?: number }> }): number | undefined {
  return task.Containers?.find((c) => c.Name === JOB_CONTAINER)?.ExitCode;
}

/** The `.sync` integration's rule: the state succeeds only when the task's essential container exited 0. */
export function syncResult(task: EcsTask): EcsTask {
  if (task.StopCode === 'EssentialContainerExited' && jobExitCode(task) === 0) return task;
  throw Object.assign(new Error(JSON.stringify(task)), { name: 'States.TaskFailed' });
}

/** What the runner itself serves: Distributed Maps, and the Step Functions calls about their map runs. */
interface LocalServices {
  distributedMap(state: string, params: unknown): Promise<unknown>;
  listMapRuns(executionArn: string): Promise<unknown>;
  describeMapRun(mapRunArn: string): Promise<unknown>;
}

function serviceFor(state: string, resource: string, services: Services, local: LocalServices): (input: never) => Promise<unknown> {
  switch (resource) {
    case LOCAL_DISTRIBUTED_MAP:
      return (params: unknown) => local.distributedMap(state, params);
    case 'arn:aws:states:::aws-sdk:sfn:listMapRuns':
      return (input: { ExecutionArn: string }) => local.listMapRuns(input.ExecutionArn);
    case 'arn:aws:states:::aws-sdk:sfn:describeMapRun':
      return (input: { MapRunArn: string }) => local.describeMapRun(input.MapRunArn);
    case 'arn:aws:states:::lambda:invoke':
      return async (input: { FunctionName: string; Payload: unknown }) => {
        const fn = String(input.FunctionName);
        const kind = (input.Payload as { kind?: unknown } | null)?.kind;
        const result = fn.endsWith('-precheck')
          ? await services.precheck(input.Payload as PrecheckEvent, state)
          : kind !== undefined
            ? await warn(services, input.Payload as WarningEvent, state)
            : await services.notify(input.Payload as NotifyEvent, state);
        return { StatusCode: 200, Payload: result };
      };
    case RUN_TASK_SYNC:
      return async (input: RunTaskParams) => {
        // ECS refuses the RunTask call itself: the state fails with the API error, which the definition may catch.
        const length = ecsOverridesLength(input.Overrides);
        if (length > ECS_OVERRIDES_LIMIT) {
          throw Object.assign(
            new Error(`${ECS_OVERRIDES_MESSAGE} (Service: AmazonECS; Status Code: 400; Error Code: InvalidParameterException; overrides are ${length} characters)`),
            { name: ECS_OVERRIDES_ERROR });
        }
        return syncResult(await services.runTask(input, state));
      };
    case 'arn:aws:states:::aws-sdk:ecs:listTasks':
      return async (input: Record<string, unknown>) => {
        // ECS refuses the call itself when StartedBy comes with another filter: so must a local run.
        const others = LIST_TASKS_FILTERS.filter((filter) => input.StartedBy !== undefined && input[filter] !== undefined);
        if (others.length > 0) {
          throw Object.assign(new Error(`When you specify startedBy as the filter, it must be the only filter that you use (got ${others.join(', ')} too) ` +
            '(Service: AmazonECS; Status Code: 400; Error Code: InvalidParameterException)'), { name: 'Ecs.InvalidParameterException' });
        }
        return { TaskArns: await services.listTasks(String(input.StartedBy)) };
      };
    case 'arn:aws:states:::aws-sdk:ecs:stopTask':
      return async (input: { Task: string; Reason: string }) => {
        await services.stopTask(input.Task, input.Reason);
        return { Task: { TaskArn: input.Task, DesiredStatus: 'STOPPED' } };
      };
    default:
      throw new Error(`no local service for Task resource ${resource}`);
  }
}

/** ListTasks' filters other than StartedBy (and Cluster, which scopes rather than filters). */
const LIST_TASKS_FILTERS = ['ContainerInstance', 'Family', 'ServiceName', 'DesiredStatus', 'LaunchType'];

function warn(services: Services, payload: WarningEvent, state: string): Promise<WarningResult> {
  if (!services.warning) throw Object.assign(new Error('no runtime warning service in this run'), { name: 'Lambda.Unknown' });
  return services.warning(payload, state);
}

type StatesMap = Record<string, Record<string, unknown>>;

function* walk(states: StatesMap): Generator<[string, Record<string, unknown>]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: StatesMap } | undefined;
    if (processor) yield* walk(processor.States);
    for (const branch of (state.Branches ?? []) as Array<{ States: StatesMap }>) yield* walk(branch.States);
  }
}

function collectTaskStates(states: StatesMap): Array<[string, string]> {
  return [...walk(states)].filter(([, s]) => s.Type === 'Task').map(([n, s]) => [n, String(s.Resource)]);
}

function collectStates(states: StatesMap, type: string): string[] {
  return [...walk(states)].filter(([, s]) => s.Type === type).map(([n]) => n);
}
