// Runs a job's generated definition on the local engine with fake services: every Task answered by state kind,
// waits and retry intervals at 0. What each service was asked is recorded for the assertions.
import { parseCatalog, type Job } from '../../workflows/catalog';
import { compile } from '../../workflows/compile';
import { execute, type ExecuteOptions, localInfra, newExecution, type RunTaskParams, type Services } from '../../cli/engine';
import type { EcsTask } from '../../cli/backends/types';
import { type NotifyEvent, NotifyEventSchema, type PrecheckEvent, PrecheckEventSchema, type PrecheckResult } from '../../handlers/lib/contracts';
import { parseOrThrow } from '../../handlers/lib/errors';

export function jobFrom(yaml: string, name?: string): Job {
  const jobs = parseCatalog(yaml, { stage: 'test' });
  const job = name ? jobs.find((j) => j.name === name) : jobs[0];
  if (!job) throw new Error(`no job ${name}`);
  return job;
}

export function ecsTask(exitCode: number | undefined, extra: Partial<EcsTask> = {}, sidecar?: number): EcsTask {
  const now = new Date().toISOString();
  return {
    TaskArn: 'arn:aws:ecs:local:000000000000:task/stepcron-test/0123456789abcdef0123456789abcdef',
    ClusterArn: 'arn:aws:ecs:local:000000000000:cluster/stepcron-test',
    TaskDefinitionArn: 'arn:aws:ecs:local:000000000000:task-definition/stepcron-test-job:1',
    StartedBy: 'run',
    LastStatus: 'STOPPED',
    DesiredStatus: 'STOPPED',
    StopCode: exitCode === undefined ? 'TaskFailedToStart' : 'EssentialContainerExited',
    StoppedReason: exitCode === undefined ? 'CannotPullContainerError: pull access denied' : 'Essential container in task exited',
    CreatedAt: now,
    StoppedAt: now,
    Containers: [
      ...(sidecar === undefined ? [] : [{ Name: 'log-router', ExitCode: sidecar, LastStatus: 'STOPPED' as const }]),
      { Name: 'job', ...(exitCode === undefined ? {} : { ExitCode: exitCode }), LastStatus: 'STOPPED' as const },
    ],
    ...extra,
  };
}

export const envOf = (params: RunTaskParams) =>
  Object.fromEntries(params.Overrides.ContainerOverrides[0]!.Environment.map((e) => [e.Name, e.Value]));

export interface Fakes {
  precheck?: (event: PrecheckEvent) => PrecheckResult | Promise<PrecheckResult>;
  runTask?: (params: RunTaskParams, call: number, running: Map<string, () => void>) => EcsTask | Promise<EcsTask>;
  notify?: (event: NotifyEvent) => unknown;
}

export function defaultPrecheck(items: unknown[] = [], maxFailedItems = 0) {
  return (event: PrecheckEvent): PrecheckResult => ({
    run: true,
    reason: 'no other run in progress',
    runId: event.executionName,
    scheduledTime: event.startTime,
    input: event.policy.input,
    items,
    maxFailedItems,
    route: event.policy.fanOut ? 'inline' : 'none',
    source: null,
  });
}

export async function runJob(job: Job, fakes: Fakes = {}, input: unknown = {}, options: Partial<ExecuteOptions> = {}) {
  const calls = {
    precheck: [] as PrecheckEvent[],
    runTask: [] as RunTaskParams[],
    notify: [] as NotifyEvent[],
    listTasks: [] as string[],
    stopTask: [] as string[],
  };
  const running = new Map<string, () => void>();
  const services: Services = {
    // Every payload the definition builds must parse with the handler's schema, as it would in Lambda.
    precheck: async (e) => {
      parseOrThrow(PrecheckEventSchema, e, 'event');
      calls.precheck.push(e);
      return (fakes.precheck ?? defaultPrecheck())(e);
    },
    runTask: async (p) => {
      calls.runTask.push(p);
      return (fakes.runTask ?? (() => ecsTask(0)))(p, calls.runTask.length - 1, running);
    },
    notify: async (e) => {
      parseOrThrow(NotifyEventSchema, e, 'event');
      calls.notify.push(e);
      await fakes.notify?.(e);
      return { delivered: ['test'], subject: '', message: '' };
    },
    listTasks: async (startedBy) => {
      calls.listTasks.push(startedBy);
      return [...running.keys()].filter((arn) => arn.endsWith(`/${startedBy}`));
    },
    stopTask: async (arn) => {
      calls.stopTask.push(arn);
      running.get(arn)?.();
    },
  };
  const definition = compile(job, localInfra(job, 'test'));
  const execution = newExecution(job, 'test', 'run-1');
  const outcome = await execute(definition, input, execution, { services, skipWaits: true, keepEvents: true, ...options });
  return { outcome, calls, definition, running };
}

/** A runTask fake that hangs until StopTask is called for it, like a task that never ends on its own. */
export function hangingTask(params: RunTaskParams, _call: number, running: Map<string, () => void>): Promise<EcsTask> {
  return new Promise<EcsTask>((resolve) => {
    const arn = `arn:aws:ecs:local:000000000000:task/stepcron-test/${params.StartedBy}`;
    running.set(arn, () => {
      running.delete(arn);
      resolve(ecsTask(143, { TaskArn: arn, StopCode: 'UserInitiated', StoppedReason: 'stopped' }));
    });
  });
}
