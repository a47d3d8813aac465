// State transitions (what Standard workflows bill) of stepcron's compiled definitions next to the polling workflow
// people write without `.sync`: RunTask -> Wait 30 s -> DescribeTasks -> Choice (stopped?) -> loop. Both run on the
// same engine (aws-local-stepfunctions) with instant fake tasks; the polling loop's Wait is overridden to 0 and its
// DescribeTasks fake keeps a simulated clock (30 s per poll) and answers RUNNING until the task has run 10 minutes.
// Counts are StateEntered events: a Distributed Map's child executions included, the runner's ItemSelector Pass not.
// Deterministic: no timing here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Job } from '../workflows/catalog';
import { benchJob } from './jobs';
import { compile, type Route } from '../workflows/compile';
import { execute, localInfra, newExecution, type RunTaskParams, type Services } from '../cli/engine';
import type { EcsTask } from '../cli/backends/types';
import type { PrecheckResult } from '../handlers/lib/contracts';

/** Standard workflows: $0.025 per 1,000 state transitions (us-east-1; /work/shared/AWS-FACTS.md, Cost). */
export const USD_PER_TRANSITION = 0.025 / 1000;
export const POLL_SECONDS = 30;
export const TASK_SECONDS = 600;

const task = (exitCode: number): EcsTask => ({
  TaskArn: 'arn:aws:ecs:local:000000000000:task/bench/0', ClusterArn: '', TaskDefinitionArn: '', StartedBy: '',
  LastStatus: 'STOPPED', DesiredStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StoppedReason: '', CreatedAt: '',
  StoppedAt: '', Containers: [{ Name: 'job', ExitCode: exitCode, LastStatus: 'STOPPED' }],
});


/** Runs a compiled job with instant tasks (the route and items chosen here); its transitions. */
async function stepcronTransitions(job: Job, options: { items?: unknown[]; route?: Route | 'none'; exitCodes?: number[] } = {}): Promise<number> {
  const exitCodes = [...(options.exitCodes ?? [])];
  const services: Services = {
    precheck: async (e) => ({
      run: true, reason: 'bench', runId: e.executionName, scheduledTime: e.startTime, input: {},
      items: options.items ?? [], maxFailedItems: 0, route: options.route ?? 'none', source: null,
    } satisfies PrecheckResult),
    notify: async () => ({ delivered: [], subject: '', message: '' }),
    runTask: async (_p: RunTaskParams) => task(exitCodes.shift() ?? 0),
    listTasks: async () => [], stopTask: async () => undefined,
  };
  const s3Dir = mkdtempSync(join(tmpdir(), 'stepcron-bench-s3-'));
  try {
    const outcome = await execute(compile(job, localInfra(job, 'bench')), {}, newExecution(job, 'bench', 'transitions'), { services, skipWaits: true, s3Dir });
    if (outcome.status !== 'SUCCEEDED') throw new Error(`transitions run ${outcome.status}: ${outcome.error} ${outcome.cause}`);
    return outcome.transitions;
  } finally {
    rmSync(s3Dir, { recursive: true, force: true });
  }
}

/** The polling loop, as states (a task started without `.sync`, then polled until it stopped). */
function pollingStates(end: 'Succeed' | 'End') {
  return {
    RunTask: {
      Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask',
      Parameters: { Cluster: 'bench', TaskDefinition: 'bench', LaunchType: 'FARGATE' },
      ResultSelector: { 'taskArn.$': '$.Tasks[0].TaskArn' }, ResultPath: '$.task', Next: 'WaitForTask',
    },
    WaitForTask: { Type: 'Wait', Seconds: POLL_SECONDS, Next: 'DescribeTask' },
    DescribeTask: {
      Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ecs:describeTasks',
      Parameters: { Cluster: 'bench', 'Tasks.$': 'States.Array($.task.taskArn)' },
      ResultSelector: { 'status.$': '$.Tasks[0].LastStatus' }, ResultPath: '$.poll', Next: 'IsStopped',
    },
    IsStopped: {
      Type: 'Choice', Choices: [{ Variable: '$.poll.status', StringEquals: 'STOPPED', Next: 'Stopped' }], Default: 'WaitForTask',
    },
    Stopped: end === 'Succeed' ? { Type: 'Succeed' } : { Type: 'Pass', End: true },
  };
}

/** The polling workflow for one task, or a Map of it over n items; its transitions. */
async function pollingTransitions(items?: number): Promise<number> {
  const definition = items === undefined
    ? { StartAt: 'RunTask', States: pollingStates('Succeed') }
    : {
      StartAt: 'FanOut',
      States: {
        FanOut: {
          Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 40,
          ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'RunTask', States: pollingStates('End') }, End: true,
        },
      },
    };
  // Per task: a simulated clock that each poll moves on by the Wait's 30 s.
  const clocks = new Map<string, number>();
  let started = 0;
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const run = machine.run({ items: Array.from({ length: items ?? 0 }, (_, i) => ({ item: i })) } as never, {
    overrides: {
      taskResourceLocalHandlers: {
        RunTask: async () => {
          const arn = `arn:aws:ecs:local:000000000000:task/bench/${started++}`;
          clocks.set(arn, 0);
          return { Tasks: [{ TaskArn: arn, LastStatus: 'PROVISIONING' }], Failures: [] };
        },
        DescribeTask: async (input: { Tasks: string[] }) => {
          const arn = input.Tasks[0]!;
          const elapsed = clocks.get(arn)! + POLL_SECONDS;
          clocks.set(arn, elapsed);
          return { Tasks: [{ TaskArn: arn, LastStatus: elapsed >= TASK_SECONDS ? 'STOPPED' : 'RUNNING' }] };
        },
      } as never,
      waitTimeOverrides: { WaitForTask: 0 },
    },
  });
  let transitions = 0;
  const draining = (async () => {
    for await (const e of run.eventLogs) if (e.type === 'StateEntered') transitions++;
  })();
  await run.result;
  await draining;
  return transitions;
}

export interface TransitionCounts {
  /** One run of a plain job whose task succeeds. */
  single: number;
  /** The same job when its task fails once (exit 1) and the retry succeeds: the explicit retry loop's cost. */
  singleOneRetry: number;
  /** One run of the polling workflow for a task of TASK_SECONDS. */
  polling: number;
  /** Per fan-out item (the difference between 20 and 10 items, over 10). */
  perItemInline: number;
  perItemDistributed: number;
  perItemPolling: number;
  polls: number;
}

export async function countTransitions(): Promise<TransitionCounts> {
  const single = benchJob('    retries: 2');
  const fanOut = benchJob(`    retries: 0
    fanOut: { itemsPath: $.items, maxConcurrency: 40 }`);
  const items = (n: number) => Array.from({ length: n }, (_, i) => `item-${i}`);
  const perItem = async (count: (n: number) => Promise<number>) => ((await count(20)) - (await count(10))) / 10;
  return {
    single: await stepcronTransitions(single),
    singleOneRetry: await stepcronTransitions(single, { exitCodes: [1, 0] }),
    polling: await pollingTransitions(),
    perItemInline: await perItem((n) => stepcronTransitions(fanOut, { items: items(n), route: 'inline' })),
    perItemDistributed: await perItem((n) => stepcronTransitions(fanOut, { items: items(n), route: 'items' })),
    perItemPolling: await perItem((n) => pollingTransitions(n)),
    polls: TASK_SECONDS / POLL_SECONDS,
  };
}

if (require.main === module) {
  countTransitions().then((c) => console.log(c), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
