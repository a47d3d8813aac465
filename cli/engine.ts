// Runs a compiled definition with aws-local-stepfunctions: the same ASL that deploys, with infrastructure bound to
// local stand-ins and every Task state served in-process, the way the real service integration would answer.
import { ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { Job } from '../workflows/catalog';
import { type Definition, FAILURE, type Infra, JOB_CONTAINER } from '../workflows/compile';
import { stateMachineName, taskFamily, taskLogGroup } from '../workflows/resources';
import type { NotifyEvent, NotifyResult, PrecheckEvent, PrecheckResult } from '../handlers/lib/contracts';
import type { EcsTask } from './backends/types';

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

/** What serves each kind of Task state. */
export interface Services {
  precheck(payload: PrecheckEvent): Promise<PrecheckResult>;
  notify(payload: NotifyEvent): Promise<NotifyResult>;
  /** Runs the task to its end; the engine applies the `.sync` rules to the Task it returns. */
  runTask(params: RunTaskParams): Promise<EcsTask>;
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
  events: EventLog[];
}

export interface ExecuteOptions {
  services: Services;
  /** Called for every engine event, as it happens (progress output, history). */
  onEvent?: (event: EventLog) => void;
  /** Skip Wait states and retry intervals (tests, `--skip-waits`). */
  skipWaits?: boolean;
  /** Aborts the execution, like StopExecution. */
  signal?: AbortSignal;
}

export function newExecution(job: Job, stage: string, name: string, startTime = new Date()): Execution {
  const machine = stateMachineName(job, stage);
  return {
    name,
    startTime,
    stateMachineArn: localArn('states', `stateMachine:${machine}`),
    executionArn: localArn('states', `execution:${machine}:${name}`),
  };
}

export async function execute(definition: Definition, input: unknown, execution: Execution, options: ExecuteOptions): Promise<Outcome> {
  const taskStates = collectTaskStates(definition.States);
  const handlers: Record<string, (input: never) => Promise<unknown>> = {};
  const zero: Record<string, number> = {};
  for (const [name, resource] of taskStates) {
    handlers[name] = serviceFor(resource, options.services);
    zero[name] = 0;
  }
  const waits = options.skipWaits ? Object.fromEntries(collectStates(definition.States, 'Wait').map((n) => [n, 0])) : {};
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const run = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: waits,
      ...(options.skipWaits && { retryIntervalOverrides: zero }),
    },
    context: {
      Execution: { Id: execution.executionArn, Name: execution.name, StartTime: execution.startTime.toISOString() },
      StateMachine: { Id: execution.stateMachineArn, Name: execution.stateMachineArn.split(':').at(-1) },
    } as never,
  });
  const onAbort = () => run.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const events: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of run.eventLogs) {
      events.push(event);
      options.onEvent?.(event);
    }
  })();
  try {
    const output = await run.result;
    await collecting;
    const skipped = events.some((e) => e.type === 'StateEntered' && e.state.name === 'Skipped');
    return { status: skipped ? 'SKIPPED' : 'SUCCEEDED', output, events };
  } catch (err) {
    await collecting.catch(() => undefined);
    if (options.signal?.aborted) return { status: 'ABORTED', error: 'ExecutionAborted', events };
    if (err instanceof ExecutionTimeoutError) {
      return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the run exceeded the state machine TimeoutSeconds', events };
    }
    const failed = [...events].reverse().find((e) => e.type === 'ExecutionFailed');
    const error = failed && 'Error' in failed ? failed.Error : (err as Error).name;
    const cause = failed && 'Cause' in failed ? String(failed.Cause ?? '') : (err as Error).message;
    if (!(err instanceof ExecutionError) && !failed) throw err;
    return { status: error === FAILURE.timedOut ? 'TIMED_OUT' : 'FAILED', error, cause, events };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
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

function serviceFor(resource: string, services: Services): (input: never) => Promise<unknown> {
  switch (resource) {
    case 'arn:aws:states:::lambda:invoke':
      return async (input: { FunctionName: string; Payload: unknown }) => {
        const fn = String(input.FunctionName);
        const result = fn.endsWith('-precheck')
          ? await services.precheck(input.Payload as PrecheckEvent)
          : await services.notify(input.Payload as NotifyEvent);
        return { StatusCode: 200, Payload: result };
      };
    case 'arn:aws:states:::ecs:runTask.sync':
      return async (input: RunTaskParams) => syncResult(await services.runTask(input));
    case 'arn:aws:states:::aws-sdk:ecs:listTasks':
      return async (input: { StartedBy: string }) => ({ TaskArns: await services.listTasks(input.StartedBy) });
    case 'arn:aws:states:::aws-sdk:ecs:stopTask':
      return async (input: { Task: string; Reason: string }) => {
        await services.stopTask(input.Task, input.Reason);
        return { Task: { TaskArn: input.Task, DesiredStatus: 'STOPPED' } };
      };
    default:
      throw new Error(`no local service for Task resource ${resource}`);
  }
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
