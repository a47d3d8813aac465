// `stepcron run <job> --fault <State>=<fault>[:<times>]`: failures injected where the services answer the Task
// states, so they go through the job's real definition (its Retry and Catch) with every backend. Each fault answers
// as the real service would (../shared/AWS-FACTS.md): the same error name and cause shape.
import type { Job } from '../workflows/catalog';
import { baseStateName, type Definition } from '../workflows/compile';
import type { EcsTask, TaskRequest } from './backends/types';
import { ESSENTIAL_EXITED, localTaskArn, newTaskId, stoppedTask } from './backends/task';
import type { RunTaskParams, Services } from './engine';
import { UsageError } from './errors';

export const FAULT_KINDS = ['start-failure', 'throttle', 'exit:<code>', 'timeout', 'spot-interruption', 'lambda-error'] as const;
type Kind = 'start-failure' | 'throttle' | 'exit' | 'timeout' | 'spot-interruption' | 'lambda-error';

export interface Fault {
  /** The state as given: an exact Task state name, or a base name that covers its Distributed Map copies. */
  state: string;
  kind: Kind;
  /** exit only. */
  exitCode?: number;
  /** How many attempts it hits, per state (and per fan-out item). */
  times: number;
  /** The spec as written, for messages. */
  spec: string;
}

/** What the RunTask faults apply to, and what lambda-error applies to. */
const ECS_RUN = 'arn:aws:states:::ecs:runTask.sync';
const LAMBDA = 'arn:aws:states:::lambda:invoke';

/** ECS's reason when Fargate (or Fargate Spot) has no capacity; RunTask returns it in `failures`. */
export const CAPACITY_REASON = 'Capacity is unavailable at this time. Please try again later or in a different availability zone';
export const SPOT_REASON = 'Your Spot Task was interrupted.';

type StatesMap = Record<string, Record<string, unknown>>;

/** Every Task state of a definition, Map item states included, with its Resource. */
export function taskStatesOf(definition: Definition): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (states: StatesMap) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') found.set(name, String(state.Resource));
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: StatesMap } | undefined;
      if (processor) walk(processor.States);
    }
  };
  walk(definition.States as StatesMap);
  return found;
}

/**
 * Parses `--fault` values against the job's definition. Throws UsageError (exit 2, one line) naming the valid states
 * or faults when one is unknown or does not apply to that kind of state.
 */
export function parseFaults(specs: string[], definition: Definition): Fault[] {
  const tasks = taskStatesOf(definition);
  // A base name stands for its Distributed Map copies (RunTask -> RunTask-json, ...), so it is valid by itself.
  const byName = new Map<string, Set<string>>();
  for (const [name, resource] of tasks) {
    for (const key of new Set([name, baseStateName(name)])) {
      if (!byName.has(key)) byName.set(key, new Set());
      byName.get(key)!.add(resource);
    }
  }
  const ecsStates = [...byName].filter(([, r]) => r.has(ECS_RUN)).map(([n]) => n);
  const lambdaStates = [...byName].filter(([, r]) => r.has(LAMBDA)).map(([n]) => n);
  const valid = `valid states: ${[...ecsStates, ...lambdaStates].join(', ')}`;
  return specs.map((spec) => {
    const match = /^([^=]+)=(.+)$/.exec(spec);
    if (!match) throw new UsageError(`--fault: '${spec}' is not <State>=<fault>[:<times>] (faults: ${FAULT_KINDS.join(', ')})`);
    const state = match[1]!.trim();
    const parts = match[2]!.trim().split(':');
    const name = parts[0]!;
    let kind: Kind;
    let exitCode: number | undefined;
    if (name === 'exit') {
      const code = parts[1];
      if (code === undefined || !/^\d{1,3}$/.test(code) || Number(code) > 255) {
        throw new UsageError(`--fault: '${spec}': exit needs a code from 0 to 255, e.g. ${state}=exit:1 or ${state}=exit:1:3`);
      }
      kind = 'exit';
      exitCode = Number(code);
      parts.splice(0, 2);
    } else if ((['start-failure', 'throttle', 'timeout', 'spot-interruption', 'lambda-error'] as const).includes(name as never)) {
      kind = name as Kind;
      parts.splice(0, 1);
    } else {
      throw new UsageError(`--fault: '${spec}': unknown fault '${name}' (faults: ${FAULT_KINDS.join(', ')})`);
    }
    let times = 1;
    if (parts.length > 0) {
      if (parts.length > 1 || !/^\d+$/.test(parts[0]!) || Number(parts[0]) < 1) {
        throw new UsageError(`--fault: '${spec}': <times> must be a whole number of at least 1`);
      }
      times = Number(parts[0]);
    }
    const resources = byName.get(state);
    if (!resources) throw new UsageError(`--fault: '${spec}': no Task state '${state}' in this job (${valid})`);
    const wanted = kind === 'lambda-error' ? LAMBDA : ECS_RUN;
    if (!resources.has(wanted)) {
      const fits = kind === 'lambda-error' ? lambdaStates : ecsStates;
      throw new UsageError(`--fault: '${spec}': ${kind} applies to ${kind === 'lambda-error' ? 'Lambda' : 'ECS RunTask'} states only (${fits.join(', ')})`);
    }
    return { state, kind, times, spec, ...(exitCode !== undefined && { exitCode }) };
  });
}

/** One injected fault, as it happened. */
export interface Injection {
  state: string;
  fault: string;
  /** Which hit of this fault it was, per state (and item): 1 for the first, up to `times`. */
  hit: number;
  /** The fault's `<times>`. */
  times: number;
  /**
   * RunTask faults: the job's attempt it hit, counted from 1 as the summary's and the notification's attempts are
   * (STEPCRON_ATTEMPT + 1). A throttle or start failure retried by the state's own Retry stays in the same attempt.
   */
  attempt?: number;
  /** StartedBy of the RunTask (one per fan-out item); absent for Lambda states. */
  startedBy?: string;
  error: string;
  /** The stopped task it reported (exit, spot-interruption). */
  task?: EcsTask;
  /** The RunTask parameters of the attempt (ECS faults). */
  params?: RunTaskParams;
}

export interface FaultOptions {
  job: Job;
  /**
   * `--skip-waits`: an injected timeout reports States.Timeout at once instead of after the state's TimeoutSeconds
   * (its task still runs until StopTask). Without it, the engine's own timer ends the attempt.
   */
  skipWaits?: boolean;
  /** Called as each fault is injected (progress output). */
  onInject?: (injection: Injection) => void;
}

export interface FaultyServices {
  services: Services;
  /** Every fault injected, in order. */
  injected: Injection[];
  /** Task ARNs of injected timeouts that StopTask stopped. */
  stopped: string[];
  /** Ends what is still hanging (an injected timeout nobody stopped): call when the run has ended. */
  close(): void;
}

/** The job's attempt a RunTask starts, from 1: STEPCRON_ATTEMPT (the definition's $.retry.attempt) counts from 0. */
function jobAttempt(params: RunTaskParams): number {
  const value = params.Overrides.ContainerOverrides[0]?.Environment.find((e) => e.Name === 'STEPCRON_ATTEMPT')?.Value;
  return Number(value ?? 0) + 1;
}

const ecsError = (name: string, message: string) => Object.assign(new Error(message), { name });
const requestId = () => `${newTaskId().slice(0, 8)}-${newTaskId().slice(0, 4)}-${newTaskId().slice(0, 4)}-${newTaskId().slice(0, 4)}-${newTaskId().slice(0, 12)}`;

/**
 * Wraps the services so that the Task states named in `faults` fail as the real service would, on their first
 * `times` attempts. Counted per fault and per state as given (a base name counts its Distributed Map copies together
 * only within one item), and per RunTask StartedBy, i.e. per fan-out item: each item meets the fault on its own first
 * attempts. Several faults on one state apply in the order given (`start-failure:2` then `exit:1`).
 */
export function withFaults(inner: Services, faults: Fault[], options: FaultOptions): FaultyServices {
  const counts = new Map<string, number>();
  const injected: Injection[] = [];
  const stopped: string[] = [];
  /** Injected timeouts still "running": task ARN -> StartedBy and how to end it. */
  const hanging = new Map<string, { startedBy: string; stop: (reason: string) => void }>();

  /** The fault this attempt of `state` (for `startedBy`, if a RunTask) meets, if any; counts it. */
  const pick = (state: string | undefined, startedBy: string | undefined): Fault | undefined => {
    if (state === undefined) return undefined;
    for (const [i, fault] of faults.entries()) {
      if (fault.state !== state && fault.state !== baseStateName(state)) continue;
      const key = `${i}\u0000${state}\u0000${startedBy ?? ''}`;
      const n = counts.get(key) ?? 0;
      if (n >= fault.times) continue;
      counts.set(key, n + 1);
      return fault;
    }
    return undefined;
  };
  const note = (fault: Fault, state: string, params: RunTaskParams | undefined, error: string, reported?: EcsTask) => {
    const startedBy = params?.StartedBy;
    const key = `${faults.indexOf(fault)}\u0000${state}\u0000${startedBy ?? ''}`;
    const injection: Injection = {
      state, fault: fault.spec.slice(fault.spec.indexOf('=') + 1), hit: counts.get(key)!, times: fault.times, error,
      ...(params && { attempt: jobAttempt(params) }),
      ...(params && { startedBy: params.StartedBy, params }), ...(reported && { task: reported }),
    };
    injected.push(injection);
    options.onInject?.(injection);
  };

  const task = (params: RunTaskParams, fields: { stopCode: EcsTask['StopCode']; reason: string; exitCode?: number }): EcsTask => {
    const created = new Date();
    const request = { job: options.job, cluster: params.Cluster, taskDefinition: params.TaskDefinition, startedBy: params.StartedBy } as TaskRequest;
    return stoppedTask({
      request, taskArn: localTaskArn(params.Cluster, newTaskId()), createdAt: created, startedAt: created,
      stopCode: fields.stopCode, stoppedReason: fields.reason, exitCode: fields.exitCode,
    });
  };

  const services: Services = {
    ...inner,
    precheck: async (payload, state) => {
      const fault = pick(state, undefined);
      if (fault) throw lambdaFault(fault, state!, note);
      return inner.precheck(payload, state);
    },
    notify: async (payload, state) => {
      const fault = pick(state, undefined);
      if (fault) throw lambdaFault(fault, state!, note);
      return inner.notify(payload, state);
    },
    runTask: async (params, state) => {
      const fault = pick(state, params.StartedBy);
      if (!fault) return inner.runTask(params, state);
      const name = state!;
      switch (fault.kind) {
        case 'start-failure': {
          // RunTask answered with `failures` (placement): Step Functions fails the state with AmazonECS.Unknown and
          // puts the failures in the cause. The exact cause wording is not recorded: the reason is ECS's.
          const failures = [{ Arn: params.Cluster, Reason: CAPACITY_REASON }];
          note(fault, name, params, 'AmazonECS.Unknown');
          throw ecsError('AmazonECS.Unknown', `RunTask failed: ${JSON.stringify({ Failures: failures })}`);
        }
        case 'throttle':
          note(fault, name, params, 'ECS.AmazonECSException');
          throw ecsError('ECS.AmazonECSException',
            `Rate exceeded (Service: AmazonECS; Status Code: 400; Error Code: ThrottlingException; Request ID: ${requestId()}; Proxy: null)`);
        case 'exit': {
          // The task ran and its job container exited: the engine applies the .sync rule (States.TaskFailed, the
          // Task object as the cause) exactly as for a real task.
          const exited = task(params, { stopCode: 'EssentialContainerExited', reason: ESSENTIAL_EXITED, exitCode: fault.exitCode! });
          note(fault, name, params, fault.exitCode === 0 ? 'none' : 'States.TaskFailed', exited);
          return exited;
        }
        case 'spot-interruption': {
          // StopCode SpotInterruption, and no exit code for the job container.
          const interrupted = task(params, { stopCode: 'SpotInterruption', reason: SPOT_REASON });
          note(fault, name, params, 'States.TaskFailed', interrupted);
          return interrupted;
        }
        case 'timeout': {
          // A task that never ends by itself: listed as running under its StartedBy until StopTask stops it, so the
          // definition's FindTimedOutTasks/StopTimedOutTasks path finds and stops it.
          note(fault, name, params, 'States.Timeout');
          const arn = localTaskArn(params.Cluster, newTaskId());
          const ended = new Promise<EcsTask>((resolve) => {
            hanging.set(arn, {
              startedBy: params.StartedBy,
              stop: (reason) => {
                hanging.delete(arn);
                const t = task(params, { stopCode: 'UserInitiated', reason, exitCode: 143 });
                resolve({ ...t, TaskArn: arn });
              },
            });
          });
          // The engine's timer (the state's TimeoutSeconds) ends the attempt; --skip-waits skips that wait too.
          if (options.skipWaits) throw ecsError('States.Timeout', 'States.Timeout');
          return ended;
        }
        default:
          return inner.runTask(params, state);
      }
    },
    listTasks: async (startedBy) => [
      ...(await inner.listTasks(startedBy)),
      ...[...hanging].filter(([, h]) => h.startedBy === startedBy).map(([arn]) => arn),
    ],
    stopTask: async (taskArn, reason) => {
      const h = hanging.get(taskArn);
      if (!h) return inner.stopTask(taskArn, reason);
      stopped.push(taskArn);
      h.stop(reason);
    },
  };
  return {
    services, injected, stopped,
    close: () => { for (const h of [...hanging.values()]) h.stop('stepcron: the run ended'); },
  };
}

/**
 * A Lambda invocation failing as Step Functions reports a Lambda service error: `Lambda.ServiceException`, which the
 * definitions retry (LAMBDA_TRANSIENT, 3 retries) before their Catch takes it. A function's own error (caught at once)
 * is what the precheck's real validation already produces.
 */
function lambdaFault(fault: Fault, state: string, note: (f: Fault, s: string, p: undefined, e: string) => void): Error {
  note(fault, state, undefined, 'Lambda.ServiceException');
  return ecsError('Lambda.ServiceException',
    `Service error. (Service: Lambda, Status Code: 500, Request ID: ${requestId()})`);
}
