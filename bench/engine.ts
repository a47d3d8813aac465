// The cost of stepcron's engine path over the bare local engine, on a fan-out of n items with an instant task:
//   stepcron  execute() on the compiled job (limits: history count, payload sizes, the 40-iteration cap; no events kept)
//   raw       aws-local-stepfunctions' StateMachine running the same definition with the same handlers, its event log
//             drained and counted (the least any caller of the library does)
// Both run in this process one after the other, after one warm-up run of each; RSS is the peak above the RSS at the start of each, sampled every 20 ms
// (an approximation: garbage from the first run may still be held during the second). Past ~2,500 items the stepcron
// path fails at AWS's 25,000 history events (as AWS would) while the raw engine runs every item: compare below that.
import { StateMachine } from 'aws-local-stepfunctions';
import { parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { execute, localInfra, newExecution, syncResult, type Services, withInlineMapLimit } from '../cli/engine';
import type { EcsTask } from '../cli/backends/types';
import type { PrecheckEvent, PrecheckResult } from '../handlers/lib/contracts';

const instant: EcsTask = {
  TaskArn: 'arn:aws:ecs:local:000000000000:task/bench/0', ClusterArn: '', TaskDefinitionArn: '', StartedBy: '',
  LastStatus: 'STOPPED', DesiredStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StoppedReason: '', CreatedAt: '',
  StoppedAt: '', Containers: [{ Name: 'job', ExitCode: 0, LastStatus: 'STOPPED' }],
};

function fanOutJob(n: number) {
  return parseCatalog(`
jobs:
  bench:
    description: bench
    schedule: rate(1 hour)
    image: bench:1
    command: ["true"]
    retries: 0
    fanOut: { items: ${JSON.stringify(Array.from({ length: n }, (_, i) => i))}, maxConcurrency: 40 }
`, { stage: 'bench' })[0]!;
}

const precheck = async (e: PrecheckEvent): Promise<PrecheckResult> => ({
  run: true, reason: 'bench', runId: e.executionName, scheduledTime: e.startTime, input: {},
  items: e.policy.fanOut?.items ?? [], maxFailedItems: 0, route: 'inline', source: null,
});

/** Runs `fn`, returning its result, the time it took and the peak RSS above the RSS at its start. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; rssMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const t = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, ms, rssMb: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

let warm = false;

export async function measureEngineFanOut(n: number): Promise<{
  stepcronMs: number; stepcronRssMb: number; rawMs: number; rawRssMb: number; transitions: number; events: number;
}> {
  // The first run of each path pays for loading and compiling the code: warm both up once on a small fan-out.
  if (!warm) {
    warm = true;
    await measureEngineFanOut(100);
  }
  const job = fanOutJob(n);
  const definition = compile(job, localInfra(job, 'bench'));
  const services: Services = {
    precheck, notify: async () => ({ delivered: [], subject: '', message: '' }),
    runTask: async () => syncResult(instant), listTasks: async () => [], stopTask: async () => undefined,
  };

  const ours = await measured(() => execute(definition, {}, newExecution(job, 'bench', `bench-${n}`), { services }));

  const raw = await measured(async () => {
    // The same definition (with the same 40-iteration cap), context and handlers, with nothing of stepcron around it.
    const machine = new StateMachine(withInlineMapLimit(definition) as never, { validationOptions: { checkArn: false } });
    const run = machine.run({} as never, {
      overrides: {
        taskResourceLocalHandlers: {
          Precheck: async (input: { Payload: PrecheckEvent }) => ({ StatusCode: 200, Payload: await precheck(input.Payload) }),
          RunTask: async () => syncResult(instant),
        } as never,
      },
      context: {
        Execution: { Id: 'arn:aws:states:local:000000000000:execution:bench:raw', Name: 'raw' },
        StateMachine: { Id: 'arn:aws:states:local:000000000000:stateMachine:bench', Name: 'bench' },
      } as never,
    });
    let events = 0;
    const draining = (async () => { for await (const _ of run.eventLogs) events++; })();
    const output = await run.result;
    await draining;
    return { output, events };
  });

  return {
    stepcronMs: Math.round(ours.ms),
    stepcronRssMb: Math.round(ours.rssMb),
    rawMs: Math.round(raw.ms),
    rawRssMb: Math.round(raw.rssMb),
    transitions: ours.value.transitions,
    events: ours.value.historyEvents,
  };
}
