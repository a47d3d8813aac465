// The Run page's colours come from cli/ui/run-status.ts: a run's events, in the local store's shape or a stage's
// (GetExecutionHistory), mapped to each state's outcome. Rules checked per outcome: a state left normally succeeded; a
// failure a Retry took is "retried", one a Catch took "caught" (and the catch's edge is taken), one nothing took
// "failed"; a state entered and not left is running while the run goes on and failed once it ended; a state never
// entered is "not reached". A Distributed Map item's events (catalog names: `RunTask`) land on that Map's own states.
import type { OpsPort } from '../cli/ops/types';
import { awsInlineItems, runApi } from '../cli/ui/run-api';
import { EVENTS_LISTED, localItems, runStates } from '../cli/ui/run-status';
import { parseCatalog } from '../workflows/catalog';

const definition = {
  StartAt: 'A',
  States: {
    A: { Type: 'Task', Next: 'B', Retry: [{ ErrorEquals: ['Oops'] }], Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }] },
    B: { Type: 'Succeed' },
    C: { Type: 'Fail' },
    FanOut: { Type: 'Map', ItemProcessor: { StartAt: 'RunTask', States: { RunTask: { Type: 'Task', End: true } } } },
    FanOutJson: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'RunTask-json', States: { 'RunTask-json': { Type: 'Task', End: true } } } },
  },
};

const local = (type: string, name?: string, extra: Record<string, unknown> = {}) => ({ type, timestamp: 1000, ...(name && { state: { name, type: 'Task', input: {} } }), ...extra });
const statusOf = (events: unknown[], running = false) => Object.fromEntries(Object.entries(runStates(definition, events, running).states).map(([k, v]) => [k, v.status]));

describe('local events -> state outcomes', () => {
  it('left normally: succeeded; never entered: not reached; the transition taken is recorded', () => {
    const events = [local('ExecutionStarted'), local('StateEntered', 'A'), local('StateExited', 'A'), local('StateEntered', 'B'), local('StateExited', 'B'), local('ExecutionSucceeded')];
    const run = runStates(definition, events, false);
    expect(statusOf(events)).toEqual({ A: 'succeeded', B: 'succeeded', C: 'notreached', FanOut: 'notreached', RunTask: 'notreached', FanOutJson: 'notreached', 'RunTask-json': 'notreached' });
    expect(run.taken).toEqual(['A\u0000B']);
    expect(run.events.map((e) => e.y)).toEqual(events.map((e) => e.type));
  });

  it('a failure a Retry took: retried', () => {
    const events = [local('StateEntered', 'A'), local('StateFailed', 'A', { Error: 'Oops' }), local('StateRetried', 'A'), local('StateExited', 'A'), local('StateEntered', 'B')];
    expect(runStates(definition, events, false).states.A).toEqual({ status: 'retried', entered: 1, retried: 1, caught: 0, failed: 0, error: 'Oops' });
  });

  it('a failure a Catch took: caught, and the catch edge is taken; the Fail state that failed the run: failed', () => {
    const events = [local('StateEntered', 'A'), local('StateFailed', 'A', { Error: 'Boom', Cause: 'bad' }), local('StateCaught', 'A'), local('StateExited', 'A'),
      local('StateEntered', 'C'), local('StateFailed', 'C', { Error: 'JobFailed' }), local('ExecutionFailed', undefined, { Error: 'JobFailed', Cause: 'exit 3' })];
    const run = runStates(definition, events, false);
    expect(run.states.A!.status).toBe('caught');
    expect(run.states.C!.status).toBe('failed');
    expect(run.taken).toEqual(['A\u0000C']);
    expect(run.events.at(-1)).toMatchObject({ y: 'ExecutionFailed', e: 'JobFailed', c: 'exit 3' });
  });

  it('a failure nothing took: failed', () => {
    const events = [local('StateEntered', 'A'), local('StateFailed', 'A', { Error: 'States.Runtime' }), local('ExecutionFailed', undefined, { Error: 'States.Runtime' })];
    expect(runStates(definition, events, false).states.A).toMatchObject({ status: 'failed', failed: 1, error: 'States.Runtime' });
  });

  it('entered and not left: running while the run goes on, failed once it has ended', () => {
    const events = [local('StateEntered', 'A')];
    expect(runStates(definition, events, true).states.A!.status).toBe('running');
    expect(runStates(definition, events, false).states.A!.status).toBe('failed');
  });

  it("a Distributed Map's item events land on its own states, an inline Map's on its own", () => {
    const distributed = [local('StateEntered', 'FanOutJson'), { type: 'MapIterationStarted', timestamp: 1, index: 0, parentState: { name: 'FanOutJson', type: 'Map' } },
      local('StateEntered', 'RunTask', { index: 0 }), local('StateExited', 'RunTask', { index: 0 })];
    expect(statusOf(distributed, true)).toMatchObject({ FanOutJson: 'running', 'RunTask-json': 'succeeded', RunTask: 'notreached' });
    const inline = [local('StateEntered', 'FanOut'), { type: 'MapIterationStarted', timestamp: 1, index: 0, parentState: { name: 'FanOut', type: 'Map' } },
      local('StateEntered', 'RunTask', { index: 0 }), local('StateExited', 'RunTask', { index: 0 })];
    expect(statusOf(inline, true)).toMatchObject({ FanOut: 'running', RunTask: 'succeeded', 'RunTask-json': 'notreached' });
  });

  it("a fan-out's items: each item's label and outcome (failed with its exit code and error), by index", () => {
    const item = (i: number) => ({ type: 'StateEntered', index: i, state: { name: 'RunTask', input: { item: { id: `t${i}` }, index: i } } });
    const events = [{ type: 'MapIterationStarted', index: 0 }, { type: 'MapIterationStarted', index: 1 }, { type: 'MapIterationStarted', index: 2 },
      item(1), item(0), item(2),
      { type: 'StateEntered', index: 0, state: { name: 'ItemSucceeded', input: {} } },
      { type: 'StateExited', index: 1, state: { name: 'ItemFailed', output: { outcome: { status: 'FAILED', exitCode: 4, error: 'JobFailed' } } } }];
    expect(localItems(events, (it) => (it as { id: string }).id)).toEqual([
      { i: 0, s: 'SUCCEEDED', l: 't0' }, { i: 1, s: 'FAILED', l: 't1', x: 4, e: 'JobFailed' }, { i: 2, s: 'RUNNING', l: 't2' },
    ]);
    expect(localItems([local('StateEntered', 'A')], String)).toBeUndefined();
  });
});

describe("a stage's history (GetExecutionHistory) -> state outcomes", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 3, 0, s));
  const h = (id: number, type: string, extra: Record<string, unknown> = {}) => ({ id, previousEventId: id - 1, type, timestamp: at(id), ...extra });
  const entered = (id: number, type: string, name: string) => h(id, type, { stateEnteredEventDetails: { name } });
  const exited = (id: number, type: string, name: string) => h(id, type, { stateExitedEventDetails: { name } });

  it('a task failure followed by another TaskScheduled in the same state: retried; then its exit and the next state: the transition', () => {
    const events = [h(1, 'ExecutionStarted'), entered(2, 'TaskStateEntered', 'A'), h(3, 'TaskScheduled'), h(4, 'TaskFailed', { taskFailedEventDetails: { error: 'Oops', cause: 'x' } }),
      h(5, 'TaskScheduled'), h(6, 'TaskSucceeded'), exited(7, 'TaskStateExited', 'A'), entered(8, 'SucceedStateEntered', 'B'), exited(9, 'SucceedStateExited', 'B'), h(10, 'ExecutionSucceeded')];
    const run = runStates(definition, events, false);
    expect(run.states.A).toEqual({ status: 'retried', entered: 1, retried: 1, caught: 0, failed: 0, error: 'Oops' });
    expect(run.states.B!.status).toBe('succeeded');
    expect(run.taken).toEqual(['A\u0000B']);
    expect(run.events[3]).toEqual({ y: 'TaskFailed', n: 'A', t: 3000, e: 'Oops', c: 'x' });
  });

  it('a task failure followed by its state exit: caught; a Fail state entered: failed', () => {
    const events = [h(1, 'ExecutionStarted'), entered(2, 'TaskStateEntered', 'A'), h(3, 'TaskScheduled'), h(4, 'TaskFailed', { taskFailedEventDetails: { error: 'Boom' } }),
      exited(5, 'TaskStateExited', 'A'), entered(6, 'FailStateEntered', 'C'), h(7, 'ExecutionFailed', { executionFailedEventDetails: { error: 'JobFailed' } })];
    const run = runStates(definition, events, false);
    expect(run.states.A!.status).toBe('caught');
    expect(run.states.C!.status).toBe('failed');
    expect(run.taken).toEqual(['A\u0000C']);
  });

  it('a task failure nothing took: failed; a task still going in a running run: running', () => {
    const failed = [h(1, 'ExecutionStarted'), entered(2, 'TaskStateEntered', 'A'), h(3, 'TaskScheduled'), h(4, 'TaskTimedOut', { taskTimedOutEventDetails: { error: 'States.Timeout' } }),
      h(5, 'ExecutionFailed')];
    expect(runStates(definition, failed, false).states.A).toMatchObject({ status: 'failed', failed: 1, error: 'States.Timeout' });
    const going = [h(1, 'ExecutionStarted'), entered(2, 'TaskStateEntered', 'A'), h(3, 'TaskScheduled'), h(4, 'TaskStarted')];
    expect(runStates(definition, going, true).states.A!.status).toBe('running');
  });

  it("an inline fan-out's items: each iteration's ItemSucceeded or ItemFailed, found back through previousEventId", () => {
    const events = [entered(1, 'MapStateEntered', 'FanOut'), h(2, 'MapStateStarted'),
      { id: 3, previousEventId: 2, type: 'MapIterationStarted', mapIterationStartedEventDetails: { name: 'FanOut', index: 0 } },
      { id: 4, previousEventId: 2, type: 'MapIterationStarted', mapIterationStartedEventDetails: { name: 'FanOut', index: 1 } },
      { id: 5, previousEventId: 3, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'RunTask', input: JSON.stringify({ index: 0, item: 'acme' }) } },
      { id: 6, previousEventId: 4, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'RunTask', input: JSON.stringify({ index: 1, item: { id: 'globex', n: 2 } }) } },
      { id: 7, previousEventId: 6, type: 'PassStateEntered', stateEnteredEventDetails: { name: 'ItemFailed' } },
      { id: 8, previousEventId: 5, type: 'PassStateEntered', stateEnteredEventDetails: { name: 'ItemSucceeded' } }];
    // Each with its label, and how the stage's output labels its lines (`[<STEPCRON_ITEM>] attempt n`).
    expect(awsInlineItems(events)).toEqual([{ i: 0, s: 'SUCCEEDED', l: 'acme', o: '[acme] ' }, { i: 1, s: 'FAILED', l: 'globex', o: '[{"id":"globex","n":2}] ' }]);
    expect(awsInlineItems([h(1, 'ExecutionStarted')])).toBeUndefined();
  });
});

describe('the Run page endpoint (cli/ui/run-api.ts) over a port', () => {
  const [job] = parseCatalog('jobs:\n  fan:\n    description: d\n    schedule: rate(1 hour)\n    image: i\n    command: [x]\n    fanOut:\n      items: [a, b]\n', { stage: 'dev' });
  const history = (mapped: boolean) => [
    { id: 1, type: 'ExecutionStarted', timestamp: new Date(0) },
    ...(mapped ? [{ id: 2, previousEventId: 1, type: 'MapIterationStarted', mapIterationStartedEventDetails: { name: 'FanOut', index: 0 } },
      { id: 3, previousEventId: 2, type: 'PassStateEntered', stateEnteredEventDetails: { name: 'ItemFailed' } }]
      : [{ id: 2, previousEventId: 1, type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn: 'arn:aws:states:eu-west-1:1:mapRun:m/FanOutDistributed:u' } }]),
  ];
  /** How the page asked for the output: the last lines only, or all of it. */
  const asked: Array<number | undefined> = [];
  const port = (events: unknown[]): OpsPort => ({
    where: 'stage dev on AWS', stage: 'dev', who: async () => 'me', schedule: async () => ({ enabled: true }),
    runs: async () => [{ job: 'fan', execution: 'r1', status: 'FAILED', startedAt: '2026-12-01T03:00:00Z' }],
    start: async () => ({ execution: 'x' }), claimedBy: async () => undefined, pause: async (_j, p) => p, resume: async () => undefined,
    logs: async (_j, execution, o) => {
      asked.push(o.last);
      o.write({ label: 'attempt 1', text: 'one' });
      o.write({ label: 'attempt 1', text: 'two' });
      return { execution: execution! };
    },
    redrive: async () => ({ execution: 'x' }), events: async () => events,
  });
  const page = (events: unknown[], query = '') => runApi({ ops: port(events), mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!] }).page('fan', 'r1', new URLSearchParams(query));

  it("on a stage, an inline fan-out's items come from the history; a Distributed Map's are said to be unavailable, its output only the last lines", async () => {
    const inline = (await page(history(true))).body as { items?: unknown; itemsNote?: string };
    expect(inline.items).toEqual([{ i: 0, s: 'FAILED' }]);
    expect(inline.itemsNote).toBeUndefined();
    expect(asked.splice(0)).toEqual([undefined]);
    const distributed = (await page(history(false))).body as { items?: unknown; itemsNote?: string; outputNote?: string };
    expect(distributed.items).toBeUndefined();
    expect(distributed.itemsNote).toMatch(/^this run's items ran on a Distributed Map, as child executions: they are not shown here on --aws/);
    // Its output: the last lines of one task, not every item task's log stream on every poll.
    expect(asked.splice(0)).toEqual([200]);
    expect(distributed.outputNote).toMatch(/^a Distributed Map run: the last 200 lines/);
  });

  it('sends the definition only to a page that does not have it, and the output from the line the page has', async () => {
    const api = runApi({ ops: port(history(false)), mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!] });
    const first = (await api.page('fan', 'r1', new URLSearchParams())).body as { definition?: { StartAt: string }; definitionId: string; output: unknown[] };
    expect(first.definition?.StartAt).toBe('Precheck');
    expect(first.output).toHaveLength(2);
    const again = (await api.page('fan', 'r1', new URLSearchParams({ def: first.definitionId, from: '1' }))).body as { definition?: unknown; output: Array<{ text: string }>; outputTotal: number };
    expect(again.definition).toBeUndefined();
    expect(again.output.map((l) => l.text)).toEqual(['two']);
    expect(again.outputTotal).toBe(2);
    // Output that got shorter than the page has (the store dropped its oldest lines past its cap): all again, from 0.
    const shorter = (await api.page('fan', 'r1', new URLSearchParams({ from: '5' }))).body as { output: Array<{ text: string }>; outputFrom: number };
    expect(shorter).toMatchObject({ outputFrom: 0, output: [{ text: 'one' }, { text: 'two' }] });
    expect((await api.page('nope', 'r1', new URLSearchParams())).status).toBe(404);
  });

  it("reads a finished run's events once its history has its end (they never change), a running run's on every poll", async () => {
    const ended = [...history(true), { id: 4, previousEventId: 3, type: 'ExecutionFailed', executionFailedEventDetails: { error: 'JobFailed' } }];
    for (const [status, events, reads] of [['FAILED', ended, 1], ['FAILED', history(true), 3], ['RUNNING', history(true), 3]] as const) {
      let read = 0;
      const ops: OpsPort = { ...port(history(true)), runs: async () => [{ job: 'fan', execution: 'r1', status, startedAt: '2026-12-01T03:00:00Z' }], events: async () => {
        read++;
        return events;
      } };
      const api = runApi({ ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!] });
      for (let i = 0; i < 3; i++) expect(((await api.page('fan', 'r1', new URLSearchParams())).body as { items: unknown }).items).toEqual([{ i: 0, s: 'FAILED' }]);
      expect(read).toBe(reads);
    }
  });
});

/** A state's whole outcome: `st('retried', 1, { retried: 1 })`. */
const st = (status: string, entered: number, counts: Record<string, unknown> = {}) => ({ status, entered, retried: 0, caught: 0, failed: 0, ...counts });
const notReached = st('notreached', 0);
/** An inline fan-out whose items end in ItemSucceeded or ItemFailed, as workflows/compile.ts builds it. */
const fanDefinition = {
  StartAt: 'FanOut',
  States: {
    FanOut: { Type: 'Map', ItemProcessor: { StartAt: 'RunTask', States: { RunTask: { Type: 'Task' }, ItemSucceeded: { Type: 'Pass' }, ItemFailed: { Type: 'Pass' } } }, Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};
const item = (type: string, index: number, name?: string, extra: Record<string, unknown> = {}) => ({ type, timestamp: 1000, index, ...(name && { state: { name, input: {} } }), ...extra });
const iteration = (index: number, map = 'FanOut') => ({ type: 'MapIterationStarted', timestamp: 1000, index, parentState: { name: map, type: 'Map' } });

describe('local events: the rules behind each count', () => {
  it("a failure a Retry took is retried, not failed, even when other items' events come between it and its StateRetried (a Retry sleeps)", () => {
    const events = [local('StateEntered', 'FanOut'), iteration(1), iteration(0), item('StateEntered', 0, 'RunTask'), item('StateEntered', 1, 'RunTask'),
      item('StateFailed', 0, 'RunTask', { Error: 'ECS.AmazonECSException' }), item('StateExited', 1, 'RunTask'), item('StateRetried', 0, 'RunTask'), item('StateExited', 0, 'RunTask'),
      item('StateEntered', 1, 'ItemFailed'), item('StateEntered', 0, 'ItemSucceeded'), item('StateExited', 1, 'ItemFailed'), item('StateExited', 0, 'ItemSucceeded'),
      local('StateExited', 'FanOut'), local('StateEntered', 'Done'), local('StateExited', 'Done')];
    const run = runStates(fanDefinition, events, false);
    expect(run.states).toStrictEqual({
      FanOut: st('succeeded', 1), RunTask: st('retried', 2, { retried: 1, error: 'ECS.AmazonECSException' }), ItemSucceeded: st('succeeded', 1), ItemFailed: st('succeeded', 1), Done: st('succeeded', 1),
    });
    // Each item's transitions are its own: item 1 left RunTask for ItemFailed while item 0 was still in it.
    expect(run.taken).toStrictEqual(['RunTask\u0000ItemFailed', 'RunTask\u0000ItemSucceeded', 'FanOut\u0000Done']);
  });

  it('a failure nothing took counts once: when its iteration fails after it, and when the log ends at it (a run still going)', () => {
    const events = [local('StateEntered', 'FanOut'), iteration(0), item('StateEntered', 0, 'RunTask'), item('StateFailed', 0, 'RunTask', { Error: 'States.TaskFailed' }),
      { type: 'MapIterationFailed', timestamp: 1000, index: 0, parentState: { name: 'FanOut', type: 'Map' } }];
    expect(runStates(fanDefinition, events, true).states.RunTask).toStrictEqual(st('failed', 1, { failed: 1, error: 'States.TaskFailed' }));
    expect(runStates(fanDefinition, events.slice(0, 4), true).states.RunTask).toStrictEqual(st('failed', 1, { failed: 1, error: 'States.TaskFailed' }));
  });

  it("a failure nothing took counts even when its thread fails again before anything takes that (a Map inside an item: StopTask, then Stop, failing; the item's Catch takes Stop's)", () => {
    const nested = { StartAt: 'FanOut', States: { FanOut: { Type: 'Map', ItemProcessor: { StartAt: 'Stop', States: {
      Stop: { Type: 'Map', ItemProcessor: { StartAt: 'StopTask', States: { StopTask: { Type: 'Task' } } }, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'ItemFailed' }] }, ItemFailed: { Type: 'Pass' } } } } } };
    const events = [local('StateEntered', 'FanOut'), iteration(0), item('StateEntered', 0, 'Stop'), item('StateEntered', 0, 'StopTask'), item('StateFailed', 0, 'StopTask', { Error: 'ECS.AccessDeniedException' }),
      item('StateFailed', 0, 'Stop', { Error: 'ECS.AccessDeniedException' }), item('StateCaught', 0, 'Stop'), item('StateExited', 0, 'Stop'), item('StateEntered', 0, 'ItemFailed')];
    expect(runStates(nested, events, true).states).toStrictEqual({
      FanOut: st('running', 1), Stop: st('caught', 1, { caught: 1, error: 'ECS.AccessDeniedException' }), StopTask: st('failed', 1, { failed: 1, error: 'ECS.AccessDeniedException' }), ItemFailed: st('running', 1),
    });
  });

  it('a state entered and not left: running (failed 0) while the run goes on; failed once, where the run stopped, after it ended', () => {
    const events = [local('StateEntered', 'A'), local('StateFailed', 'A', { Error: 'Oops' }), local('StateRetried', 'A')];
    expect(runStates(definition, events, true).states.A).toStrictEqual(st('running', 1, { retried: 1, error: 'Oops' }));
    expect(runStates(definition, events, false).states.A).toStrictEqual(st('failed', 1, { retried: 1, failed: 1, error: 'Oops' }));
  });

  it('the last error seen is kept when a later failure carries none', () => {
    const events = [local('StateEntered', 'A'), local('StateFailed', 'A', { Error: 'Oops' }), local('StateRetried', 'A'), local('StateFailed', 'A'), local('StateCaught', 'A'), local('StateExited', 'A')];
    expect(runStates(definition, events, false).states.A).toStrictEqual(st('caught', 1, { retried: 1, caught: 1, error: 'Oops' }));
  });

  it("junk in a local log is skipped (not an object) or listed as '?' (no type); events with no state, an unknown type, or no entry change no count", () => {
    const events = [null, 'x', 7, { type: 'ExecutionStarted', timestamp: 'soon' }, local('StateEntered', 'A', { timestamp: 1000 }), { timestamp: 1100 },
      local('StateExited', 'A', { timestamp: 1300 }), { type: 'StateEntered', timestamp: 1350 }, { type: 'StateExited' }, local('StateWaiting', 'A', { timestamp: 1400 }),
      { type: 'MapIterationStarted', index: 0 }, local('StateFailed', 'C', { timestamp: 1450 }), local('StateEntered', 'B', { timestamp: 1500 }), local('StateExited', 'B', { timestamp: 1600 })];
    expect(runStates(definition, events, false)).toStrictEqual({
      states: { A: st('succeeded', 1), B: st('succeeded', 1), C: notReached, FanOut: notReached, RunTask: notReached, FanOutJson: notReached, 'RunTask-json': notReached },
      taken: ['A\u0000B'],
      events: [{ y: 'ExecutionStarted', t: 0 }, { y: 'StateEntered', n: 'A', t: 0 }, { y: '?', t: 100 }, { y: 'StateExited', n: 'A', t: 300 }, { y: 'StateEntered', t: 350 },
        { y: 'StateExited', t: 0 }, { y: 'StateWaiting', n: 'A', t: 400 }, { y: 'MapIterationStarted', t: 0, i: 0 }, { y: 'StateFailed', n: 'C', t: 450 },
        { y: 'StateEntered', n: 'B', t: 500 }, { y: 'StateExited', n: 'B', t: 600 }],
      eventCount: 11,
      startedAt: 1000,
    });
    expect(runStates(definition, [{ type: 'ExecutionStarted' }], true)).toStrictEqual({
      states: Object.fromEntries(Object.keys(runStates(definition, [], true).states).map((k) => [k, notReached])), taken: [], events: [{ y: 'ExecutionStarted', t: 0 }], eventCount: 1,
    });
  });

  it("a Parallel's branch states are states of the run, entered from nothing (not from the state before the Parallel); its branch events are listed under it", () => {
    const parallel = { StartAt: 'A', States: { A: { Type: 'Pass' }, P: { Type: 'Parallel', Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass' } } }, { StartAt: 'Y', States: { Y: { Type: 'Pass' } } }] }, B: { Type: 'Succeed' } } };
    const branch = { type: 'ParallelBranchStarted', timestamp: 1000, parentState: { name: 'P', type: 'Parallel' } };
    const events = [local('StateEntered', 'A'), local('StateExited', 'A'), local('StateEntered', 'P'), branch, local('StateEntered', 'X'), branch, local('StateEntered', 'Y'),
      local('StateExited', 'X'), local('StateExited', 'Y'), local('StateExited', 'P'), local('StateEntered', 'B'), local('StateExited', 'B')];
    const run = runStates(parallel, events, false);
    expect(run.states).toStrictEqual({ A: st('succeeded', 1), P: st('succeeded', 1), X: st('succeeded', 1), Y: st('succeeded', 1), B: st('succeeded', 1) });
    expect(run.taken).toStrictEqual(['A\u0000P', 'P\u0000B']);
    expect(run.events[3]).toStrictEqual({ y: 'ParallelBranchStarted', n: 'P', t: 0 });
  });

  it("an item's state name is looked for in the Map running the items: exact there, else its Distributed copy (`Run` -> `Run-json`), else the state of that name elsewhere", () => {
    const names = {
      StartAt: 'Check',
      States: {
        Check: { Type: 'Task' },
        'undefined-json': { Type: 'Pass' },
        Inline: { Type: 'Map', ItemProcessor: { StartAt: 'Run', States: { Run: { Type: 'Task' }, 'Run-twice': { Type: 'Task' } } } },
        Dist: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'Run-json', States: { 'Run-json': { Type: 'Task' }, 'Check-json': { Type: 'Pass' }, 'Done-json': { Type: 'Pass' } } } },
      },
    };
    const events = [
      // Before any MapIterationStarted: a catalog name found only as a Distributed copy is that copy.
      item('StateEntered', 5, 'Done'),
      local('StateEntered', 'Dist'), iteration(0, 'Dist'), item('StateEntered', 0, 'Run'), item('StateEntered', 0, 'Check'), item('StateEntered', 0, 'Done'), item('StateEntered', 1, 'Run'),
      // The run's own states stay themselves while a Map runs (Check, not Check-json); an event with no state belongs to none.
      local('StateEntered', 'Check'), { type: 'ExecutionStarted', timestamp: 1000 },
      local('StateEntered', 'Inline'), iteration(0, 'Inline'), item('StateEntered', 0, 'Run'), item('StateEntered', 1, 'Run-twice'), item('StateEntered', 2, 'Check'),
    ];
    expect(runStates(names, events, true).states).toStrictEqual({
      Check: st('running', 2), 'undefined-json': notReached, Inline: st('running', 1), Run: st('running', 1), 'Run-twice': st('running', 1),
      Dist: st('running', 1), 'Run-json': st('running', 2), 'Check-json': st('running', 1), 'Done-json': st('running', 2),
    });
  });

  it("a cause is listed as text (a local one may be an object), kept whole up to 600 characters and cut with '…' past them", () => {
    const failed = (cause: unknown) => runStates(definition, [local('ExecutionFailed', undefined, { Error: 'JobFailed', Cause: cause })], false).events[0];
    expect(failed({ exitCode: 3 })).toStrictEqual({ y: 'ExecutionFailed', t: 0, e: 'JobFailed', c: '{"exitCode":3}' });
    expect(failed('x'.repeat(600))!.c).toBe('x'.repeat(600));
    expect(failed('x'.repeat(601))!.c).toBe(`${'x'.repeat(600)}…`);
  });

  it(`only the first ${EVENTS_LISTED} events are listed; the count says how many there were`, () => {
    const events = Array.from({ length: EVENTS_LISTED + 2 }, (_, i) => local(i % 2 ? 'StateExited' : 'StateEntered', 'A', { timestamp: i }));
    const run = runStates(definition, events, false);
    expect(run.events).toHaveLength(EVENTS_LISTED);
    expect(run.events.at(-1)).toStrictEqual({ y: 'StateExited', n: 'A', t: EVENTS_LISTED - 1 });
    expect(run.eventCount).toBe(EVENTS_LISTED + 2);
    expect(run.states.A).toStrictEqual(st('succeeded', EVENTS_LISTED / 2 + 1));
  });
});

describe("a local fan-out's items: the rules", () => {
  const entered = (index: number, name: string, input: unknown) => ({ type: 'StateEntered', index, state: { name, input } });
  const failedItem = (index: number, output?: unknown) => ({ type: 'StateExited', index, state: { name: 'ItemFailed', ...(output !== undefined && { output }) } });

  it('rows by index whatever order items started in; the label from the first state entered that carries the item; SUCCEEDED on entering ItemSucceeded, FAILED or TIMED_OUT on leaving ItemFailed', () => {
    const events = [null, 'x', { type: 'StateEntered', index: '9', state: { name: 'RunTask', input: { item: 'no' } } },
      iteration(3), iteration(2), iteration(0), iteration(1), iteration(4), iteration(5), iteration(6),
      // 0: no item in its first state's input; a later exit's input is not where the label comes from, the next entry's is
      entered(0, 'RunTask', {}), { type: 'StateExited', index: 0, state: { name: 'RunTask', input: { item: 'exit' } } }, entered(0, 'ItemSucceeded', { item: 'zero' }),
      entered(0, 'Later', { item: 'other' }),
      // 1: an item the store cut (over 4 KB) is shown by its index only; its failure's outcome says TIMED_OUT, exit code null
      entered(1, 'RunTask', { item: { cutBytes: 5000 } }), failedItem(1, { outcome: { status: 'TIMED_OUT', exitCode: null, error: 'JobTimedOut' } }),
      // 2: inputs that are not objects give no label; ItemFailed entered but not yet left: still running
      entered(2, 'RunTask', null), entered(2, 'RunTask', 'text'), entered(2, 'RunTask', ['item']), entered(2, 'ItemFailed', {}),
      // 3: failed with no outcome written
      entered(3, 'RunTask', { item: null }), failedItem(3),
      // 4: leaving ItemSucceeded without entering it (a cut log) is not success
      { type: 'StateExited', index: 4, state: { name: 'ItemSucceeded' } },
      { type: 'MapIterationSucceeded', index: 0, parentState: { name: 'FanOut' } },
      // 6: an exit code 0 and an error without an exit code
      failedItem(6, { outcome: { status: 'FAILED', exitCode: 0 } }), failedItem(5, { outcome: { status: 'FAILED', error: 'JobFailed' } }),
      // 7: started, no state entered yet
      iteration(7),
    ];
    expect(localItems(events, (it) => `<${JSON.stringify(it)}>`)).toStrictEqual([
      { i: 0, s: 'SUCCEEDED', l: '<"zero">' },
      { i: 1, s: 'TIMED_OUT', x: null, e: 'JobTimedOut' },
      { i: 2, s: 'RUNNING' },
      { i: 3, s: 'FAILED', l: '<null>' },
      { i: 4, s: 'RUNNING' },
      { i: 5, s: 'FAILED', e: 'JobFailed' },
      { i: 6, s: 'FAILED', x: 0 },
      { i: 7, s: 'RUNNING' },
    ]);
  });
});

describe("a stage's history: the rules behind each count", () => {
  // Linked as GetExecutionHistory links them (checked against recorded AWS histories): a Map's MapStateSucceeded,
  // MapStateFailed and MapStateExited point at its last item's events, not back to its MapStateEntered.
  const ev = (id: number, previousEventId: number | undefined, type: string, extra: Record<string, unknown> = {}) =>
    ({ id, ...(previousEventId !== undefined && { previousEventId }), type, timestamp: new Date(Date.UTC(2026, 11, 1, 3, 0, id)), ...extra });
  const into = (name: string) => ({ stateEnteredEventDetails: { name } });
  const outOf = (name: string) => ({ stateExitedEventDetails: { name } });
  const iterationOf = (name: string, index: number) => ({ mapIterationStartedEventDetails: { name, index } });

  it("an inline Map that ran its items and was left: succeeded, its exit its own (not its last item state's); the run's end belongs to no state", () => {
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 0, 'MapStateEntered', into('FanOut')), ev(3, 2, 'MapStateStarted'), ev(4, 3, 'MapIterationStarted', iterationOf('FanOut', 0)),
      ev(5, 4, 'TaskStateEntered', into('RunTask')), ev(6, 5, 'TaskScheduled'), ev(7, 6, 'TaskSucceeded'), ev(8, 7, 'TaskStateExited', outOf('RunTask')), ev(9, 8, 'MapIterationSucceeded'),
      ev(10, 8, 'MapIterationStarted', iterationOf('FanOut', 1)), ev(11, 10, 'TaskStateEntered', into('RunTask')), ev(12, 11, 'TaskScheduled'), ev(13, 12, 'TaskSucceeded'),
      ev(14, 13, 'TaskStateExited', outOf('RunTask')), ev(15, 14, 'MapIterationSucceeded'), ev(16, 15, 'MapStateSucceeded'), ev(17, 15, 'MapStateExited', outOf('FanOut')),
      ev(18, 17, 'SucceedStateEntered', into('B')), ev(19, 18, 'SucceedStateExited', outOf('B')), ev(20, 19, 'ExecutionSucceeded')];
    const run = runStates(definition, events, false);
    expect(run.states).toStrictEqual({ A: notReached, B: st('succeeded', 1), C: notReached, FanOut: st('succeeded', 1), RunTask: st('succeeded', 2), FanOutJson: notReached, 'RunTask-json': notReached });
    expect(run.taken).toStrictEqual(['FanOut\u0000B']);
    expect(run.events.map((e) => e.n ?? '-').join(' ')).toBe('- FanOut FanOut FanOut RunTask RunTask RunTask RunTask FanOut FanOut RunTask RunTask RunTask RunTask FanOut FanOut FanOut B B -');
    expect(run.events.slice(0, 4)).toStrictEqual([{ y: 'ExecutionStarted', t: 0 }, { y: 'MapStateEntered', n: 'FanOut', t: 1000 }, { y: 'MapStateStarted', n: 'FanOut', t: 2000 },
      { y: 'MapIterationStarted', n: 'FanOut', t: 3000, i: 0 }]);
    expect(run.startedAt).toBe(Date.UTC(2026, 11, 1, 3, 0, 1));
    expect(run.eventCount).toBe(20);
  });

  it("an inline Map whose item failed and whose Catch took it: the Map caught, the item's Fail state failed, the catch's edge taken", () => {
    const caught = { StartAt: 'M', States: { M: { Type: 'Map', ItemProcessor: { StartAt: 'Bad', States: { Bad: { Type: 'Fail' } } }, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }] }, C: { Type: 'Fail' } } };
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 0, 'MapStateEntered', into('M')), ev(3, 2, 'MapStateStarted'), ev(4, 3, 'MapIterationStarted', iterationOf('M', 0)),
      ev(5, 4, 'FailStateEntered', into('Bad')), ev(6, 5, 'MapIterationFailed'), ev(7, 5, 'MapStateFailed'), ev(8, 7, 'MapStateExited', outOf('M')), ev(9, 8, 'FailStateEntered', into('C')),
      ev(10, 9, 'ExecutionFailed', { executionFailedEventDetails: { error: 'JobFailed' } })];
    const run = runStates(caught, events, false);
    expect(run.states).toStrictEqual({ M: st('caught', 1, { caught: 1 }), Bad: st('failed', 1, { failed: 1 }), C: st('failed', 1, { failed: 1 }) });
    expect(run.taken).toStrictEqual(['M\u0000C']);
    // Without its exit the Map failed the run (its MapStateFailed nothing took).
    expect(runStates(caught, events.slice(0, 7), false).states.M).toStrictEqual(st('failed', 1, { failed: 1 }));
  });

  it("concurrent items: a failure is taken by its own item's exit, not by the exit of the same state entered later in another item", () => {
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 0, 'MapStateEntered', into('FanOut')), ev(3, 2, 'MapStateStarted'), ev(4, 3, 'MapIterationStarted', iterationOf('FanOut', 0)),
      ev(5, 3, 'MapIterationStarted', iterationOf('FanOut', 1)), ev(6, 4, 'TaskStateEntered', into('RunTask')), ev(7, 5, 'TaskStateEntered', into('RunTask')), ev(8, 6, 'TaskScheduled'),
      ev(9, 7, 'TaskScheduled'), ev(10, 8, 'TaskFailed', { taskFailedEventDetails: { error: 'States.TaskFailed' } }), ev(11, 10, 'TaskStateExited', outOf('RunTask')),
      ev(12, 9, 'TaskSucceeded'), ev(13, 12, 'TaskStateExited', outOf('RunTask'))];
    expect(runStates(fanDefinition, events, true).states.RunTask).toStrictEqual(st('caught', 2, { caught: 1, error: 'States.TaskFailed' }));
  });

  it("a Map inside an item (StopTimedOutTasks): its own events are its own, and once it is left the outer Map's are the outer's", () => {
    const nested = { StartAt: 'FanOut', States: { FanOut: { Type: 'Map', ItemProcessor: { StartAt: 'Stop', States: {
      Stop: { Type: 'Map', ItemProcessor: { StartAt: 'StopTask', States: { StopTask: { Type: 'Task' } } }, Next: 'ItemFailed' }, ItemFailed: { Type: 'Pass' } } } } } };
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 0, 'MapStateEntered', into('FanOut')), ev(3, 2, 'MapStateStarted'), ev(4, 3, 'MapIterationStarted', iterationOf('FanOut', 0)),
      ev(5, 4, 'MapStateEntered', into('Stop')), ev(6, 5, 'MapStateStarted'), ev(7, 6, 'MapIterationStarted', iterationOf('Stop', 0)), ev(8, 7, 'TaskStateEntered', into('StopTask')),
      ev(9, 8, 'TaskScheduled'), ev(10, 9, 'TaskSucceeded'), ev(11, 10, 'TaskStateExited', outOf('StopTask')), ev(12, 11, 'MapIterationSucceeded'), ev(13, 12, 'MapStateSucceeded'),
      ev(14, 12, 'MapStateExited', outOf('Stop')), ev(15, 14, 'PassStateEntered', into('ItemFailed')), ev(16, 15, 'PassStateExited', outOf('ItemFailed')), ev(17, 16, 'MapIterationSucceeded'),
      ev(18, 16, 'MapStateFailed', { mapStateFailedEventDetails: { error: 'States.ExceedToleratedFailureThreshold' } })];
    const run = runStates(nested, events, false);
    expect(run.states).toStrictEqual({ FanOut: st('failed', 1, { failed: 1, error: 'States.ExceedToleratedFailureThreshold' }), Stop: st('succeeded', 1), StopTask: st('succeeded', 1), ItemFailed: st('succeeded', 1) });
    expect(run.taken).toStrictEqual(['Stop\u0000ItemFailed']);
    expect(run.events.map((e) => e.n ?? '-').join(' ')).toBe('- FanOut FanOut FanOut Stop Stop Stop StopTask StopTask StopTask StopTask Stop Stop Stop ItemFailed ItemFailed FanOut FanOut');
  });

  it('every failure event type is a failure of the state it happened in (Task, Lambda, Activity, Map, Map Run, Parallel)', () => {
    const withParallel = { ...definition, States: { ...definition.States, P: { Type: 'Parallel', Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass' } } }] } } };
    const types = ['TaskFailed', 'TaskStartFailed', 'TaskSubmitFailed', 'TaskTimedOut', 'LambdaFunctionFailed', 'LambdaFunctionStartFailed', 'LambdaFunctionScheduleFailed',
      'LambdaFunctionTimedOut', 'ActivityFailed', 'ActivityScheduleFailed', 'ActivityTimedOut', 'MapStateFailed', 'MapRunFailed', 'ParallelStateFailed'];
    const outcome = (type: string) => {
      const [state, entry] = type.startsWith('Map') ? ['FanOutJson', 'MapStateEntered'] : type.startsWith('Parallel') ? ['P', 'ParallelStateEntered'] : ['A', 'TaskStateEntered'];
      const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 1, entry!, into(state!)), ev(3, 2, 'TaskScheduled'), ev(4, 3, type, { someFailedEventDetails: { error: type } })];
      return runStates(withParallel, events, true).states[state!];
    };
    expect(Object.fromEntries(types.map((type) => [type, outcome(type)]))).toStrictEqual(Object.fromEntries(types.map((type) => [type, st('failed', 1, { failed: 1, error: type })])));
    // Not failures: a task's start, its success.
    expect(outcome('TaskStarted')).toStrictEqual(st('running', 1));
  });

  it('a retry is a Task, Lambda or Activity scheduled again in the state that failed (the state still running); a failure seen and not yet taken shows failed even while the run goes on', () => {
    const again = (scheduled: string) => [ev(1, 0, 'ExecutionStarted'), ev(2, 1, 'TaskStateEntered', into('A')), ev(3, 2, scheduled), ev(4, 3, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: 'Lambda.Unknown' } }),
      ev(5, 4, scheduled)];
    for (const scheduled of ['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']) {
      expect(runStates(definition, again(scheduled), true).states.A).toStrictEqual(st('running', 1, { retried: 1, error: 'Lambda.Unknown' }));
    }
    expect(runStates(definition, again('TaskStarted'), true).states.A).toStrictEqual(st('failed', 1, { failed: 1, error: 'Lambda.Unknown' }));
  });

  it('the last error seen is kept when a later failure carries none; a cause alone is listed too; only ...EventDetails are read', () => {
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 1, 'TaskStateEntered', into('A')), ev(3, 2, 'TaskScheduled'), ev(4, 3, 'TaskFailed', { taskFailedEventDetails: { error: 'Oops', cause: 'first' } }),
      ev(5, 4, 'TaskScheduled'), ev(6, 5, 'TaskFailed', { note: { error: 'not details' }, taskFailedEventDetails: { cause: 'second' } }), ev(7, 6, 'TaskStateExited', outOf('A'))];
    const run = runStates(definition, events, false);
    expect(run.states.A).toStrictEqual(st('caught', 1, { retried: 1, caught: 1, error: 'Oops' }));
    expect(run.events.slice(3, 6)).toStrictEqual([{ y: 'TaskFailed', n: 'A', t: 3000, e: 'Oops', c: 'first' }, { y: 'TaskScheduled', n: 'A', t: 4000 }, { y: 'TaskFailed', n: 'A', t: 5000, c: 'second' }]);
  });

  it('junk in a history is skipped (not an object, no numeric id, no text type); events without details, a previous event or a timestamp are taken as they come', () => {
    const events = [null, { id: 9, type: 5 }, { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'C' } }, 'x',
      { id: 1, type: 'ExecutionStarted' }, { id: 2, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'A' }, timestamp: '2026-12-01T03:00:02Z' },
      ev(3, 2, 'TaskStateExited', outOf('A')), ev(4, 3, 'PassStateEntered'), ev(5, 4, 'PassStateExited'), ev(6, 5, 'SucceedStateEntered', into('B')), ev(7, 6, 'SucceedStateExited', outOf('B'))];
    expect(runStates(definition, events, false)).toStrictEqual({
      states: { A: st('succeeded', 1), B: st('succeeded', 1), C: notReached, FanOut: notReached, RunTask: notReached, FanOutJson: notReached, 'RunTask-json': notReached },
      taken: [],
      events: [{ y: 'ExecutionStarted', t: 0 }, { y: 'TaskStateEntered', n: 'A', t: 0 }, { y: 'TaskStateExited', n: 'A', t: 1000 }, { y: 'PassStateEntered', t: 2000 },
        { y: 'PassStateExited', t: 3000 }, { y: 'SucceedStateEntered', n: 'B', t: 4000 }, { y: 'SucceedStateExited', n: 'B', t: 5000 }],
      eventCount: 7,
      startedAt: Date.UTC(2026, 11, 1, 3, 0, 2),
    });
  });

  it(`only the first ${EVENTS_LISTED} events of a history are listed; the count says how many there were`, () => {
    const events = [ev(1, 0, 'ExecutionStarted'), ev(2, 1, 'TaskStateEntered', into('A')), ...Array.from({ length: EVENTS_LISTED }, (_, i) => ev(i + 3, i + 2, 'TaskStarted'))];
    const run = runStates(definition, events, true);
    expect(run.events).toHaveLength(EVENTS_LISTED);
    expect(run.events.at(-1)).toStrictEqual({ y: 'TaskStarted', n: 'A', t: (EVENTS_LISTED - 1) * 1000 });
    expect(run.eventCount).toBe(EVENTS_LISTED + 2);
  });
});
