// Fan-out measurements that run inside a fresh child `node` (bench/child.ts), one side per process, so each side's
// peak RSS is its own. Each returns what it verified (items run, distinct items, StartedBy) next to its time.
//   engine*       n items, an instant in-memory task: stepcron's execute() (the route the real precheck picks: inline
//                 up to the job's inline limit, the Distributed Map's child executions above it) vs the bare engine
//                 running the same definition's inline Map with the same handlers
//   distributed*  n items from a local S3 JSON Lines object, each a real child process (`true`) through the process
//                 backend: stepcron (execute() or runLocal, the Distributed Map) vs the bare engine's inline Map of
//                 the same item states over the same items, its RunTask handler calling the same process backend
//   spawn*        n `true` processes, 40 at a time: the process backend vs bare child_process.spawn
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Job } from '../workflows/catalog';
import { benchJob } from './jobs';
import { compile, type Definition, inlineItemLimit } from '../workflows/compile';
import { execute, localInfra, newExecution, type RunTaskParams, type Services, syncResult, withInlineMapLimit } from '../cli/engine';
import { processBackend } from '../cli/backends/process';
import type { EcsBackend, EcsTask } from '../cli/backends/types';
import { runLocal } from '../cli/run';
import { Store } from '../cli/store';
import { memoryClaims, precheck } from '../handlers/lib/precheck';
import type { PrecheckEvent, PrecheckResult } from '../handlers/lib/contracts';
import { parseItems } from '../cli/distributed';

export const BUCKET = 'bench';
export const ITEMS_KEY = 'items.jsonl';

const instant: EcsTask = {
  TaskArn: 'arn:aws:ecs:local:000000000000:task/bench/0', ClusterArn: '', TaskDefinitionArn: '', StartedBy: '',
  LastStatus: 'STOPPED', DesiredStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StoppedReason: '', CreatedAt: '',
  StoppedAt: '', Containers: [{ Name: 'job', ExitCode: 0, LastStatus: 'STOPPED' }],
};

/** What a side saw: every item's task, counted, so "each item exactly once" is checked, not assumed. */
export interface FanOutResult {
  ms: number;
  status: string;
  /** Tasks started (RunTask calls). */
  tasks: number;
  /** Distinct items among them (STEPCRON_ITEM). */
  distinctItems: number;
  /** Distinct StartedBy among them (the run id and the item's index). */
  distinctStartedBy: number;
  /** The run's own item counts (map run, summary or Map results), when it reports them. */
  succeeded?: number;
  failed?: number;
  transitions?: number;
  /** stepcron only: the largest history of any one execution of the run, in AWS's events. */
  historyEvents?: number;
  error?: string;
}

class Seen {
  tasks = 0;
  private readonly items = new Set<string>();
  private readonly startedBy = new Set<string>();

  add(params: RunTaskParams): Record<string, string> {
    const env = Object.fromEntries(params.Overrides.ContainerOverrides[0]!.Environment.map((e) => [e.Name, e.Value]));
    this.tasks++;
    this.items.add(env.STEPCRON_ITEM ?? '');
    this.startedBy.add(params.StartedBy);
    return env;
  }

  counts() {
    return { tasks: this.tasks, distinctItems: this.items.size, distinctStartedBy: this.startedBy.size };
  }
}

const listJob = (n: number) => benchJob(`    retries: 0
    fanOut: { items: ${JSON.stringify(Array.from({ length: n }, (_, i) => `item-${i}`))}, maxConcurrency: 40 }`);

/** The most items the precheck sends down the inline Map for the engine benchmark's job; more take the Distributed Map. */
export const engineInlineLimit = () => inlineItemLimit(listJob(1));

const s3Job = () => benchJob(`    retries: 0
    fanOut: { itemsFrom: s3://${BUCKET}/${ITEMS_KEY}, maxConcurrency: 40 }`);

/** A local S3 folder holding `s3://bench/items.jsonl` with n items ({"id": "item-<i>"}). */
export function writeItems(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-s3-'));
  mkdirSync(join(dir, BUCKET));
  writeFileSync(join(dir, BUCKET, ITEMS_KEY), `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: `item-${i}` })).join('\n')}\n`);
  return dir;
}

const realPrecheck = (e: PrecheckEvent) => precheck(e, { executions: { listRunning: async () => [], stop: async () => undefined }, claims: memoryClaims() });

/** The bare engine: the definition (its inline Map capped at 40 as AWS runs it), these handlers, the event log drained. */
async function runRaw(definition: Definition, handlers: Record<string, (input: never) => Promise<unknown>>) {
  // No run deadline: the compiled one is longer than a Node timer holds (stepcron's engine caps it; a bare caller
  // would get a deadline of 1 ms).
  const { TimeoutSeconds: _deadline, ...untimed } = definition;
  const machine = new StateMachine(withInlineMapLimit(untimed) as never, { validationOptions: { checkArn: false } });
  const run = machine.run({} as never, {
    overrides: { taskResourceLocalHandlers: handlers as never },
    context: {
      Execution: { Id: 'arn:aws:states:local:000000000000:execution:stepcron-bench-bench:raw', Name: 'raw', StartTime: new Date().toISOString() },
      StateMachine: { Id: 'arn:aws:states:local:000000000000:stateMachine:stepcron-bench-bench', Name: 'stepcron-bench-bench' },
    } as never,
  });
  let transitions = 0;
  const draining = (async () => {
    for await (const e of run.eventLogs) if (e.type === 'StateEntered') transitions++;
  })();
  const output = await run.result as { results?: unknown[] };
  await draining;
  const results = output.results ?? [];
  return { transitions, succeeded: results.filter((r) => r === 'ok').length, failed: results.filter((r) => r !== 'ok').length };
}

/** A precheck answer that sends the items down the inline Map (what the bare engine can run). */
const inlinePrecheck = (items: unknown[]) => async (input: { Payload: PrecheckEvent }) => ({
  StatusCode: 200,
  Payload: {
    run: true, reason: 'bench', runId: input.Payload.executionName, scheduledTime: input.Payload.startTime, input: {},
    items, maxFailedItems: 0, route: 'inline', source: null,
  } satisfies PrecheckResult,
});

const services = (runTask: Services['runTask']): Services => ({
  precheck: realPrecheck, notify: async () => ({ delivered: [], subject: '', message: '' }),
  runTask, listTasks: async () => [], stopTask: async () => undefined,
});

/** stepcron's engine path on n items with an instant task, routed by the real precheck. */
export async function engineStepcron(n: number): Promise<FanOutResult> {
  const job = listJob(n);
  const seen = new Seen();
  const s3Dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-s3-'));
  let counts: { Succeeded: number; Failed: number } | undefined;
  try {
    const t = performance.now();
    const outcome = await execute(compile(job, localInfra(job, 'bench')), {}, newExecution(job, 'bench', `bench-${n}`), {
      services: services(async (p) => { seen.add(p); return instant; }),
      s3Dir,
      onMapRun: (run, phase) => { if (phase === 'ended') counts = run.itemCounts; },
    });
    const ms = performance.now() - t;
    const results = (outcome.output as { results?: unknown[] } | undefined)?.results;
    return {
      ms, status: outcome.status, ...seen.counts(), transitions: outcome.transitions, historyEvents: outcome.historyEvents,
      succeeded: counts?.Succeeded ?? results?.filter((r) => r === 'ok').length ?? 0,
      failed: counts?.Failed ?? results?.filter((r) => r !== 'ok').length ?? 0,
    };
  } finally {
    rmSync(s3Dir, { recursive: true, force: true });
  }
}

/** The bare engine on the same definition's inline Map, the same n items, an instant task. */
export async function engineRaw(n: number): Promise<FanOutResult> {
  const job = listJob(n);
  const seen = new Seen();
  const t = performance.now();
  const raw = await runRaw(compile(job, localInfra(job, 'bench')), {
    Precheck: inlinePrecheck(job.fanOut!.items!),
    RunTask: async (p: RunTaskParams) => { seen.add(p); return syncResult(instant); },
  });
  return { ms: performance.now() - t, status: 'SUCCEEDED', ...seen.counts(), ...raw };
}

function taskRunner(job: Job, backend: EcsBackend, seen: Seen) {
  return async (p: RunTaskParams) => {
    const env = seen.add(p);
    return backend.run({
      job, cluster: p.Cluster, taskDefinition: p.TaskDefinition, startedBy: p.StartedBy,
      environment: { ...job.environment, ...env }, command: job.command, onOutput: () => undefined,
    });
  };
}

/** stepcron: the S3 fan-out job through execute() or runLocal, each item a `true` process (process backend). */
export async function distributedStepcron(n: number, via: 'execute' | 'runLocal'): Promise<FanOutResult> {
  const job = s3Job();
  const s3Dir = writeItems(n);
  const home = mkdtempSync(join(tmpdir(), 'stepcron-bench-home-'));
  const seen = new Seen();
  const base = processBackend({ cwd: home });
  try {
    if (via === 'runLocal') {
      // The process backend, watched: runLocal calls backend.run with the request it built from RunTask's parameters.
      const backend: EcsBackend = {
        ...base,
        run: (request) => {
          seen.add({ StartedBy: request.startedBy, Overrides: { ContainerOverrides: [{ Name: 'job', Environment: [{ Name: 'STEPCRON_ITEM', Value: request.environment.STEPCRON_ITEM ?? '' }] }] } } as RunTaskParams);
          return base.run(request);
        },
      };
      const t = performance.now();
      const summary = await runLocal({
        job, stage: 'bench', input: {}, backend, history: Store.open(join(home, '.stepcron')), s3Dir,
        err: () => undefined, out: () => undefined, tty: false,
      });
      return {
        ms: performance.now() - t, status: summary.status, ...seen.counts(), transitions: summary.transitions,
        succeeded: summary.items?.succeeded ?? 0, failed: summary.items?.failed ?? 0,
      };
    }
    let counts: { Succeeded: number; Failed: number } | undefined;
    const t = performance.now();
    const outcome = await execute(compile(job, localInfra(job, 'bench')), {}, newExecution(job, 'bench', 'bench-distributed'), {
      services: services(taskRunner(job, base, seen)),
      s3Dir,
      onMapRun: (run, phase) => { if (phase === 'ended') counts = run.itemCounts; },
    });
    return {
      ms: performance.now() - t, status: outcome.status, ...seen.counts(), transitions: outcome.transitions,
      succeeded: counts?.Succeeded ?? 0, failed: counts?.Failed ?? 0,
      ...(outcome.error !== undefined && { error: `${outcome.error}: ${String(outcome.cause).slice(0, 300)}` }),
    };
  } finally {
    rmSync(s3Dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/** The bare engine: the same job's inline Map over the same items (read from the same file), the same process backend. */
export async function distributedRaw(n: number): Promise<FanOutResult> {
  const job = s3Job();
  const s3Dir = writeItems(n);
  const home = mkdtempSync(join(tmpdir(), 'stepcron-bench-home-'));
  const seen = new Seen();
  const backend = processBackend({ cwd: home });
  try {
    const t = performance.now();
    const items = parseItems(readFileSync(join(s3Dir, BUCKET, ITEMS_KEY), 'utf8'), 'JSONL');
    const run = taskRunner(job, backend, seen);
    const raw = await runRaw(compile(job, localInfra(job, 'bench')), {
      Precheck: inlinePrecheck(items),
      RunTask: async (p: RunTaskParams) => syncResult(await run(p)),
    });
    return { ms: performance.now() - t, status: 'SUCCEEDED', ...seen.counts(), ...raw };
  } finally {
    rmSync(s3Dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/** n `true` processes, `width` at a time, through the process backend or a bare spawn (stdio ignored, awaited to exit). */
export async function spawnMany(n: number, how: 'backend' | 'bare', width = 40): Promise<{ ms: number; exited0: number }> {
  const job = listJob(1);
  const backend = processBackend();
  let next = 0;
  let exited0 = 0;
  const one = how === 'backend'
    ? async (i: number) => {
      const task = await backend.run({ job, cluster: 'bench', taskDefinition: 'bench', startedBy: `bench-${i}`, environment: {}, command: ['true'], onOutput: () => undefined });
      return task.Containers[0]?.ExitCode ?? -1;
    }
    : (_i: number) => new Promise<number>((resolve, reject) => {
      const child = spawn('true', [], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  const worker = async () => {
    while (next < n) {
      const i = next++;
      if ((await one(i)) === 0) exited0++;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
  return { ms: performance.now() - t, exited0 };
}
