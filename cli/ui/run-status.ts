// What happened to each state of a run, from its events: the Run page's colours (cli/ui/run-api.ts sends them, web/run.tsx
// paints them). Pure: no I/O, no Node. Two event shapes come in:
// - the local store's (aws-local-stepfunctions' event log: StateEntered/Exited/Failed/Retried/Caught with state.name,
//   `index` inside a Map's items; a Distributed Map's item events carry the catalog's names, `RunTask` for `RunTask-json`);
// - a stage's (GetExecutionHistory: TaskStateEntered, TaskFailed, ... linked by previousEventId; no Retried or Caught
//   event: a failure followed by another TaskScheduled in the same state is a retry, one followed by its exit a catch).

/** One state's outcome in this run; for a state inside a Map, over all its items. */
export type StateStatus = 'succeeded' | 'failed' | 'caught' | 'retried' | 'running' | 'notreached';

export interface StateRun {
  status: StateStatus;
  /** Times entered (for a Map's item states: over all items). */
  entered: number;
  /** Failures a Retry took. */
  retried: number;
  /** Failures a Catch took (the run went on along the catch's Next). */
  caught: number;
  /** Failures nothing took: the state failed its branch or the run. */
  failed: number;
  /** The last error seen here. */
  error?: string;
}

/** An event as the page lists it: short keys, since a fan-out's history holds tens of thousands. */
export interface ListedEvent {
  /** type */
  y: string;
  /** state, where the event belongs to one */
  n?: string;
  /** ms since the run started */
  t: number;
  /** fan-out item index */
  i?: number;
  /** error and cause, for failures */
  e?: string;
  c?: string;
}

export interface RunStates {
  states: Record<string, StateRun>;
  /** Transitions taken, as `from\u0000to`: the path the run went (the failure path among them). */
  taken: string[];
  events: ListedEvent[];
  /** Events in the history (the list may be cut: see EVENTS_LISTED). */
  eventCount: number;
  startedAt?: number;
}

/** Events listed at most; a 10,000-item fan-out has ~100,000 (the item grid shows each item instead). */
export const EVENTS_LISTED = 3000;
/** Characters of a cause kept in the list (an ECS task as JSON is ~2 KB). */
const CAUSE_CHARS = 600;

/** The definition's states by name, with the Map each lives in (for a Distributed Map item's catalog names). */
interface Definition {
  StartAt?: string;
  States?: Record<string, StateDef>;
}
interface StateDef {
  Type?: string;
  ItemProcessor?: Definition;
  Iterator?: Definition;
  Branches?: Definition[];
}

/** Every state of a definition, nested ones included: name -> the Map or Parallel it is inside (undefined at the top). */
export function stateIndex(definition: Definition): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>();
  const walk = (d: Definition | undefined, parent: string | undefined) => {
    for (const [name, s] of Object.entries(d?.States ?? {})) {
      found.set(name, parent);
      walk(s.ItemProcessor ?? s.Iterator, name);
      for (const b of s.Branches ?? []) walk(b, name);
    }
  };
  walk(definition, undefined);
  return found;
}

interface Tally { entered: number; exited: number; failed: number; retried: number; caught: number; error?: string }

function tallyOf(tallies: Map<string, Tally>, name: string): Tally {
  let t = tallies.get(name);
  if (!t) {
    t = { entered: 0, exited: 0, failed: 0, retried: 0, caught: 0 };
    tallies.set(name, t);
  }
  return t;
}

/**
 * The states' outcomes, the transitions taken and the listed events of one run. `running`: the run has not ended, so a
 * state entered and not yet left is running (in an ended run it is where the run stopped: failed).
 */
export function runStates(definition: Definition, events: unknown[], running: boolean): RunStates {
  // A stage's history: its events have an id and a type (anything else in it is skipped).
  const aws = events.filter((e): e is AwsEvent => isObject(e) && typeof e.type === 'string' && typeof e.id === 'number');
  return aws.length > 0 ? fromHistory(definition, aws, running) : fromLocal(definition, events as LocalEvent[], running);
}

function finish(definition: Definition, tallies: Map<string, Tally>, taken: Set<string>, listed: ListedEvent[], count: number, running: boolean, startedAt?: number): RunStates {
  const states: Record<string, StateRun> = {};
  for (const name of stateIndex(definition).keys()) {
    const t = tallies.get(name);
    if (!t || t.entered === 0) {
      states[name] = { status: 'notreached', entered: 0, retried: 0, caught: 0, failed: 0 };
      continue;
    }
    const open = t.entered - t.exited - t.failed;
    // Worst first: a failure nothing caught, then a state still running, a caught failure, a retried one.
    const status: StateStatus = t.failed > 0 ? 'failed' : open > 0 ? (running ? 'running' : 'failed') : t.caught > 0 ? 'caught' : t.retried > 0 ? 'retried' : 'succeeded';
    states[name] = {
      status, entered: t.entered, retried: t.retried, caught: t.caught, failed: t.failed + (running ? 0 : Math.max(0, open)),
      ...(t.error !== undefined && { error: t.error }),
    };
  }
  return { states, taken: [...taken], events: listed, eventCount: count, ...(startedAt !== undefined && { startedAt }) };
}

/** Resolves an event's state name to the definition's: exact, or a Distributed Map item's catalog name (`RunTask` -> `RunTask-json`). */
function resolver(definition: Definition) {
  const names = stateIndex(definition);
  const cache = new Map<string, string | undefined>();
  return (name: string | undefined, map: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    // An item's state is looked for inside the Map running the items: the inline FanOut has its own `RunTask`.
    if (names.has(name) && (map === undefined || within(names, names.get(name), map))) return name;
    const key = `${map}\u0000${name}`;
    if (cache.has(key)) return cache.get(key);
    let found: string | undefined;
    for (const [candidate, parent] of names) {
      if (candidate.startsWith(`${name}-`) && !candidate.slice(name.length + 1).includes('-') && within(names, parent, map)) {
        found = candidate;
        break;
      }
    }
    if (found === undefined && names.has(name)) found = name;
    cache.set(key, found);
    return found;
  };
}

/** Whether a state's parent chain reaches `map`. */
function within(names: Map<string, string | undefined>, parent: string | undefined, map: string | undefined): boolean {
  for (let p = parent; p !== undefined; p = names.get(p)) if (p === map) return true;
  return map === undefined;
}

interface LocalEvent {
  type?: string;
  timestamp?: number;
  index?: number;
  state?: { name?: string };
  parentState?: { name?: string };
  Error?: string;
  Cause?: unknown;
}

function fromLocal(definition: Definition, events: LocalEvent[], running: boolean): RunStates {
  const resolve = resolver(definition);
  const tallies = new Map<string, Tally>();
  const taken = new Set<string>();
  const listed: ListedEvent[] = [];
  /** The state each thread (the run, or an item by its index) left last: the next one entered there is a transition. */
  const last = new Map<string, string>();
  /** The Map whose items run now (a run runs one fan-out Map at a time). */
  let map: string | undefined;
  let t0: number | undefined;
  const tally = (name: string) => tallyOf(tallies, name);
  /**
   * A failure waits for its Retried or Caught event (the next one of its thread) to know whether it was taken. Per
   * thread: a Retry sleeps between the two, and other items' events come in meanwhile.
   */
  const pendingFailure = new Map<string, Tally>();
  let count = 0;
  for (const e of events) {
    if (typeof e !== 'object' || e === null) continue;
    count++;
    const type = String(e.type ?? '?');
    const at = typeof e.timestamp === 'number' ? e.timestamp : undefined;
    t0 ??= at;
    if (type === 'MapIterationStarted') map = e.parentState?.name;
    const thread = e.index === undefined ? '' : String(e.index);
    const name = resolve(e.state?.name, e.index === undefined ? undefined : map);
    const pending = pendingFailure.get(thread);
    if (pending && type !== 'StateRetried' && type !== 'StateCaught') {
      pending.failed++;
      pendingFailure.delete(thread);
    }
    if (name) {
      const t = tally(name);
      if (type === 'StateEntered') {
        t.entered++;
        const from = last.get(thread);
        if (from) taken.add(`${from}\u0000${name}`);
        last.delete(thread);
      } else if (type === 'StateExited') {
        t.exited++;
        last.set(thread, name);
      } else if (type === 'StateFailed') {
        if (e.Error !== undefined) t.error = e.Error;
        pendingFailure.set(thread, t);
      } else if (type === 'StateRetried') {
        t.retried++;
        pendingFailure.delete(thread);
      } else if (type === 'StateCaught') {
        t.caught++;
        pendingFailure.delete(thread);
      }
    }
    if (listed.length < EVENTS_LISTED) listed.push(listEvent(type, name ?? e.parentState?.name, at, t0, e.index, e.Error, e.Cause));
  }
  for (const t of pendingFailure.values()) t.failed++;
  return finish(definition, tallies, taken, listed, count, running, t0);
}

interface AwsEvent {
  id: number;
  previousEventId?: number;
  type: string;
  timestamp?: string | number | Date;
  stateEnteredEventDetails?: { name?: string };
  stateExitedEventDetails?: { name?: string };
  mapIterationStartedEventDetails?: { name?: string; index?: number };
  [details: string]: unknown;
}

/** AWS event types that are a state's failure (the error and cause in their details). */
const FAILURE = new Set(['TaskFailed', 'TaskStartFailed', 'TaskSubmitFailed', 'TaskTimedOut', 'LambdaFunctionFailed', 'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed', 'LambdaFunctionTimedOut', 'ActivityFailed', 'ActivityScheduleFailed', 'ActivityTimedOut', 'MapStateFailed',
  'ParallelStateFailed', 'MapRunFailed']);
/** A task scheduled again in the state that failed: a Retry. */
const SCHEDULED = /^(Task|LambdaFunction|Activity)Scheduled$/;
/** A Map's or Parallel's own events after its entry (its items' and branches' events are their states'). */
const MAP_OWN = /^(MapState|MapRun|MapIteration|ParallelState)/;

function fromHistory(definition: Definition, events: AwsEvent[], running: boolean): RunStates {
  const resolve = resolver(definition);
  const byId = new Map(events.map((e) => [e.id, e]));
  /**
   * The StateEntered event each event belongs to (walking previousEventId), memoised. The walk stops at another state's
   * exit: what follows it (ExecutionSucceeded, ...) belongs to no state's entry.
   */
  const entryOf = new Map<number, number | undefined>();
  const entry = (e: AwsEvent | undefined): number | undefined => {
    const chain: number[] = [];
    let found: number | undefined;
    for (let at = e; at; at = at.previousEventId === undefined ? undefined : byId.get(at.previousEventId)) {
      if (at !== e && at.type.endsWith('StateExited')) break;
      if (entryOf.has(at.id)) {
        found = entryOf.get(at.id);
        break;
      }
      chain.push(at.id);
      if (at.type.endsWith('StateEntered')) {
        found = at.id;
        break;
      }
    }
    for (const id of chain) entryOf.set(id, found);
    return found;
  };
  const tallies = new Map<string, Tally>();
  /** Per state entry: failures seen and not yet taken by a retry or its exit. */
  const open = new Map<number, number>();
  const taken = new Set<string>();
  const listed: ListedEvent[] = [];
  const names = new Map<number, string>();
  /** Each state's latest entry, and the Map and Parallel entries not yet exited (latest last). */
  const lastEntry = new Map<string, number>();
  let openMaps: number[] = [];
  /**
   * The entry an event belongs to. A Map's own events do not point back to its entry: AWS links MapStateSucceeded,
   * MapStateFailed and MapStateExited to its last item's events, so they go to the Map entered last and not yet left,
   * and an exit whose walk ends at another state's entry to its own state's latest entry.
   */
  const ownerOf = (e: AwsEvent): number | undefined => {
    if (e.type.endsWith('StateExited')) {
      const exiting = resolve(e.stateExitedEventDetails?.name, undefined);
      const id = entry(e);
      const owner = id !== undefined && names.get(id) === exiting ? id : exiting === undefined ? undefined : lastEntry.get(exiting);
      openMaps = openMaps.filter((m) => m !== owner);
      return owner;
    }
    return MAP_OWN.test(e.type) ? openMaps.at(-1) : entry(e);
  };
  let t0: number | undefined;
  const tally = (name: string) => tallyOf(tallies, name);
  for (const e of events) {
    const at = e.timestamp === undefined ? undefined : new Date(e.timestamp).getTime();
    t0 ??= at;
    const detail = failureDetails(e);
    let name: string | undefined;
    if (e.type.endsWith('StateEntered')) {
      name = resolve(e.stateEnteredEventDetails?.name, undefined);
      if (name) {
        names.set(e.id, name);
        lastEntry.set(name, e.id);
        if (/^(Map|Parallel)StateEntered$/.test(e.type)) openMaps.push(e.id);
        tally(name).entered++;
        const before = e.previousEventId === undefined ? undefined : byId.get(e.previousEventId);
        const from = before?.type.endsWith('StateExited') ? resolve(before.stateExitedEventDetails?.name, undefined) : undefined;
        if (from) taken.add(`${from}\u0000${name}`);
      }
    } else {
      const id = ownerOf(e);
      name = id === undefined ? undefined : names.get(id);
      if (name && id !== undefined) {
        const t = tally(name);
        if (e.type.endsWith('StateExited')) {
          t.exited++;
          t.caught += open.get(id) ?? 0;
          open.delete(id);
        } else if (SCHEDULED.test(e.type) && (open.get(id) ?? 0) > 0) {
          t.retried += open.get(id)!;
          open.delete(id);
        } else if (FAILURE.has(e.type)) {
          if (detail.error !== undefined) t.error = detail.error;
          open.set(id, (open.get(id) ?? 0) + 1);
        }
      }
    }
    if (listed.length < EVENTS_LISTED) listed.push(listEvent(e.type, name, at, t0, e.mapIterationStartedEventDetails?.index, detail.error, detail.cause));
  }
  // Failures left open: nothing took them.
  for (const [id, count] of open) {
    const name = names.get(id);
    if (name) tally(name).failed += count;
  }
  return finish(definition, tallies, taken, listed, events.length, running, t0);
}

/** A fan-out item as the grid shows it: short keys (10,000 of them in one answer). */
export interface ItemRow {
  /** index */
  i: number;
  /** outcome */
  s: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'RUNNING';
  /** the item's label in the stored output (cli/progress.ts itemLabel, without its brackets) */
  l?: string;
  /** exit code */
  x?: number | null;
  /** error */
  e?: string;
  /** How its output lines' label starts on a stage (cli/ops/aws.ts labels them `[<STEPCRON_ITEM>] attempt n`); locally their text starts `[l] ` */
  o?: string;
}

/**
 * A local fan-out's items from its events: each item's first state tells the item (its input's `item`), and it ends in
 * ItemSucceeded or ItemFailed (workflows/compile.ts: an item catches its own failure; a Distributed Map's item events carry
 * the same catalog names). `label` turns an item into its output label. Undefined for a run that fanned out nothing.
 */
export function localItems(events: unknown[], label: (item: unknown) => string): ItemRow[] | undefined {
  const items = new Map<number, ItemRow>();
  const row = (i: number) => {
    let r = items.get(i);
    if (!r) {
      r = { i, s: 'RUNNING' };
      items.set(i, r);
    }
    return r;
  };
  for (const e of events as LocalEvent[]) {
    if (typeof e !== 'object' || e === null || typeof e.index !== 'number') continue;
    if (e.type === 'MapIterationStarted') {
      row(e.index);
      continue;
    }
    const name = e.state?.name;
    const r = row(e.index);
    if (r.l === undefined && e.type === 'StateEntered') {
      const input = (e.state as { input?: unknown }).input;
      // An item cut by the store (compactEvent: over 4 KB) is shown by its index only.
      if (isObject(input) && 'item' in input && !(isObject(input.item) && 'cutBytes' in input.item)) r.l = label(input.item);
    }
    if (e.type === 'StateEntered' && name === 'ItemSucceeded') r.s = 'SUCCEEDED';
    else if (e.type === 'StateExited' && name === 'ItemFailed') {
      const outcome = (e.state as { output?: { outcome?: { status?: string; exitCode?: number | null; error?: string } } }).output?.outcome;
      r.s = outcome?.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED';
      if (outcome?.exitCode !== undefined) r.x = outcome.exitCode;
      if (outcome?.error !== undefined) r.e = outcome.error;
    }
  }
  if (items.size === 0) return undefined;
  return [...items.values()].sort((a, b) => a.i - b.i);
}

/** The error and cause an AWS event carries in its `...EventDetails`. */
function failureDetails(e: AwsEvent): { error?: string; cause?: string } {
  for (const [key, value] of Object.entries(e)) {
    if (!key.endsWith('EventDetails') || !isObject(value)) continue;
    if (typeof value.error === 'string' || typeof value.cause === 'string') {
      return { ...(typeof value.error === 'string' && { error: value.error }), ...(typeof value.cause === 'string' && { cause: value.cause }) };
    }
  }
  return {};
}

function listEvent(type: string, name: string | undefined, at: number | undefined, t0: number | undefined, index: number | undefined, error: unknown, cause: unknown): ListedEvent {
  const c = cause === undefined ? undefined : typeof cause === 'string' ? cause : JSON.stringify(cause);
  return {
    y: type, t: at !== undefined && t0 !== undefined ? at - t0 : 0,
    ...(name !== undefined && { n: name }),
    ...(index !== undefined && { i: index }),
    ...(typeof error === 'string' && { e: error }),
    ...(c !== undefined && { c: c.length > CAUSE_CHARS ? `${c.slice(0, CAUSE_CHARS)}…` : c }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
