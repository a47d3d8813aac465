// The Run page's data (`#/run/<job>/<execution>`): the job's state machine definition (on a stage, the version the run
// ran, DescribeStateMachineForExecution; else the one that deploys: compiled from the catalog for the stage, as
// `stepcron synth` prints it), what happened to each of its states in this run
// (cli/ui/run-status.ts), the run's events, its job's output and, for a fan-out, every item's outcome. One GET,
// polled by the page while the run goes on: the definition is sent only when the page does not have it yet (`def`),
// and the output only from the line the page has (`from`).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Job } from '../../workflows/catalog';
import { compile } from '../../workflows/compile';
import { deployInfra } from '../../workflows/resources';
import { localInfra } from '../engine';
import { itemLabel } from '../progress';
import { readStageParams } from '../stage';
import { type LogLine, OpsError, type OpsPort, type RunRow } from '../ops/types';
import { type ItemRow, localItems, runStates } from './run-status';

export interface RunApiDeps {
  ops: OpsPort;
  mode: 'local' | 'aws';
  catalog: string;
  jobs: () => Promise<Job[]>;
}

export interface RunAnswer {
  status: number;
  body: unknown;
}

/** Output lines sent in one answer; the page asks for the rest (`from`) on its next poll. */
const OUTPUT_LINES = 20_000;
/** A stage's Distributed Map run: its output is every child's log streams; the page shows the last lines of one failed item's. */
const DISTRIBUTED_OUTPUT_LINES = 200;
/** Finished runs kept mapped (their events are read once). */
const FINISHED_KEPT = 20;
/** The event that ends an execution (the local engine's names and AWS's). */
const TERMINAL = /^Execution(Succeeded|Failed|Aborted|TimedOut|Timeout)$/;

export function runApi(deps: RunApiDeps) {
  const { ops } = deps;
  /** Compiled once per job as the catalog holds it (the catalog's jobs are parsed again only when it changes). */
  const definitions = new WeakMap<Job, { asl: unknown; id: string; from: string }>();
  const definitionOf = (job: Job) => {
    let found = definitions.get(job);
    if (!found) {
      found = compiled(job, ops.stage, deps.catalog);
      definitions.set(job, found);
    }
    return found;
  };

  /** Finished runs as the page shows them, by run and definition. */
  const finished = new Map<string, ReturnType<typeof analyse>>();
  /** The definition a stage's run ran (kept per execution: a run's never changes), or undefined where the port has none. */
  const ran = new Map<string, { asl: unknown; id: string; from: string } | undefined>();
  async function ranDefinition(job: Job, execution: string) {
    if (!ops.definition) return undefined;
    const key = `${job.name}\u0000${execution}`;
    if (!ran.has(key)) {
      const asl = await ops.definition(job, execution).catch((err: unknown) => {
        // Not allowed (states:DescribeStateMachineForExecution) or gone: the catalog's compiled one is drawn instead.
        if (err instanceof OpsError) return undefined;
        throw err;
      });
      const usable = typeof asl === 'object' && asl !== null && 'States' in asl;
      if (ran.size >= 50) ran.delete(ran.keys().next().value!);
      ran.set(key, usable ? { asl, id: idOf(asl), from: `the state machine this run ran on stage ${ops.stage} (DescribeStateMachineForExecution)` } : undefined);
    }
    return ran.get(key);
  }

  /** A run's events mapped for the page: state outcomes, listed events, items. */
  function analyse(job: Job, run: RunRow | undefined, execution: string, asl: unknown, events: unknown[]) {
    const name = job.name;
    const running = run ? run.status === 'RUNNING' : !events.some((e) => TERMINAL.test(String((e as { type?: unknown }).type)));
    // On a stage, a Distributed Map's output is one log stream per item task: reading them all on every poll (10,000
    // histories and streams) is for `stepcron logs --aws`, not a page.
    const distributed = deps.mode === 'aws' && events.some((e) => (e as { type?: unknown }).type === 'MapRunStarted');
    let items: ItemRow[] | undefined;
    let itemsNote: string | undefined;
    if (job.fanOut) {
      items = deps.mode === 'local' ? localItems(events, itemText) : awsInlineItems(events, itemText);
      if (!items && distributed) {
        // Its items are child executions; their inputs and outcomes are in the map run's ResultWriter files in S3, which
        // the CLI cannot read (no S3 client among its dependencies).
        itemsNote = `this run's items ran on a Distributed Map, as child executions: they are not shown here on --aws. Open the map run from the AWS console (link above); its results are in the stage bucket under results/${name}/${run?.execution ?? execution}/`;
      }
    }
    return { running, states: runStates(asl as never, events, running), distributed, items, itemsNote };
  }

  async function page(name: string, execution: string, query: URLSearchParams): Promise<RunAnswer> {
    const job = (await deps.jobs()).find((j) => j.name === name);
    if (!job) return { status: 404, body: { error: `no job '${name}' in ${deps.catalog} (stage ${ops.stage})` } };
    const runs = await ops.runs(job, { limit: 200 });
    const run: RunRow | undefined = runs.find((r) => r.execution === execution || execution.endsWith(`:${r.execution}`));
    const definition = (await ranDefinition(job, execution)) ?? definitionOf(job);
    // A finished run's events never change: read and mapped once (a 10,000-item run has ~100,000 of them).
    const key = `${job.name}\u0000${run?.execution ?? execution}\u0000${definition.id}`;
    let seen = finished.get(key);
    if (!seen) {
      const events = ops.events ? await ops.events(job, execution).catch((err: unknown) => {
        if (err instanceof OpsError) return [];
        throw err;
      }) : [];
      if (!run && events.length === 0) return { status: 404, body: { error: `job '${name}' has no run '${execution}' (${ops.where})` } };
      seen = analyse(job, run, execution, definition.asl, events);
      // Kept once its history has its end (a run's last events may be written just after its status).
      if (!seen.running && events.some((e) => TERMINAL.test(String((e as { type?: unknown }).type)))) {
        if (finished.size >= FINISHED_KEPT) finished.delete(finished.keys().next().value!);
        finished.set(key, seen);
      }
    }
    const { running, states, distributed, items, itemsNote } = seen;

    const lines: LogLine[] = [];
    await ops.logs(job, execution, {
      follow: false,
      ...(distributed && { last: DISTRIBUTED_OUTPUT_LINES }),
      write: (line) => void lines.push(line),
    }).catch((err: unknown) => {
      if (!(err instanceof OpsError)) throw err;
    });
    // From the line the page has; from the start again if the output got shorter (the store keeps the last 1 MiB of
    // a stream: past it, its oldest lines go).
    const asked = Math.max(0, Number(query.get('from')) || 0);
    const from = asked <= lines.length ? asked : 0;
    const output = lines.slice(from, from + OUTPUT_LINES);

    const outputNote = distributed ? `a Distributed Map run: the last ${DISTRIBUTED_OUTPUT_LINES} lines of one failed item's task (or of the last task); all of it: stepcron logs ${name} ${execution} --aws` : undefined;
    return {
      status: 200,
      body: {
        job: name, execution, run, running, mode: deps.mode,
        definitionId: definition.id, definitionFrom: definition.from,
        ...(query.get('def') !== definition.id && { definition: definition.asl }),
        ...states,
        output, outputFrom: from, outputTotal: lines.length,
        ...(outputNote && { outputNote }),
        ...(items && { items }),
        ...(itemsNote && { itemsNote }),
      },
    };
  }

  return { page };
}

/**
 * The definition the stage deploys for this job (`stepcron synth`): with the stage's params from serverless.yml where it
 * has them, else with the local runner's stand-ins (the states are the same; only resource ARNs differ).
 */
function compiled(job: Job, stage: string, catalog: string): { asl: unknown; id: string; from: string } {
  let asl: unknown;
  let from: string;
  try {
    asl = compile(job, deployInfra(job, readStageParams(stage, serverlessFileFor(catalog), () => undefined)));
    from = `the catalog, compiled for stage ${stage} (stepcron synth ${job.name})`;
  } catch {
    asl = compile(job, localInfra(job, stage));
    from = `the catalog, compiled for local runs on stage ${stage}`;
  }
  return { asl, id: idOf(asl), from };
}

/** An item as the local runner labels its output lines (`[t3] `), without the brackets. */
const itemText = (item: unknown) => itemLabel(item).slice(1, -2);

function parseJson(text: string | undefined): { item?: unknown } | undefined {
  try {
    const value = text === undefined ? undefined : JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

const idOf = (asl: unknown) => createHash('sha256').update(JSON.stringify(asl)).digest('base64url').slice(0, 16);

/** serverless.yml beside the catalog's folder, else the working directory's (cli/main.ts serverlessFileFor). */
function serverlessFileFor(catalog: string): string {
  const beside = resolve(dirname(resolve(catalog)), '..', 'serverless.yml');
  return existsSync(beside) ? beside : 'serverless.yml';
}

/**
 * An inline fan-out's items from a stage's history: each MapIterationStarted names its index; the item's own states
 * (ItemSucceeded, ItemFailed) are found by walking previousEventId back to it. Undefined when the history has none
 * (a Distributed Map's items are child executions, not in this history).
 */
export function awsInlineItems(events: unknown[], label: (item: unknown) => string = itemText): ItemRow[] | undefined {
  type E = { id: number; previousEventId?: number; type: string; mapIterationStartedEventDetails?: { index?: number }; stateEnteredEventDetails?: { name?: string; input?: string } };
  const list = events as E[];
  const byId = new Map(list.map((e) => [e.id, e]));
  const iteration = new Map<number, number | undefined>();
  const indexOf = (e: E): number | undefined => {
    const chain: number[] = [];
    let found: number | undefined;
    for (let at: E | undefined = e; at; at = at.previousEventId === undefined ? undefined : byId.get(at.previousEventId)) {
      if (iteration.has(at.id)) {
        found = iteration.get(at.id);
        break;
      }
      chain.push(at.id);
      if (at.type === 'MapIterationStarted') {
        found = at.mapIterationStartedEventDetails?.index;
        break;
      }
    }
    for (const id of chain) iteration.set(id, found);
    return found;
  };
  const items = new Map<number, ItemRow>();
  for (const e of list) {
    if (e.type === 'MapIterationStarted' && typeof e.mapIterationStartedEventDetails?.index === 'number') {
      const i = e.mapIterationStartedEventDetails.index;
      if (!items.has(i)) items.set(i, { i, s: 'RUNNING' });
    } else if (e.type.endsWith('StateEntered')) {
      const name = e.stateEnteredEventDetails?.name;
      const i = indexOf(e);
      const row = i === undefined ? undefined : items.get(i);
      if (!row) continue;
      if (row.l === undefined) {
        // The item's first state: its input holds the item (the ItemSelector's output).
        const item = parseJson(e.stateEnteredEventDetails?.input)?.item;
        if (item !== undefined) {
          row.l = label(item);
          // As the stage's logs label its lines: STEPCRON_ITEM (the item as JSON, a string without its quotes).
          row.o = `[${typeof item === 'string' ? item : JSON.stringify(item)}] `;
        }
      }
      if (name === 'ItemSucceeded' || name === 'ItemFailed') row.s = name === 'ItemSucceeded' ? 'SUCCEEDED' : 'FAILED';
    }
  }
  return items.size ? [...items.values()].sort((a, b) => a.i - b.i) : undefined;
}
