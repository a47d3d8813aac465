// The Run page's colours come from cli/ui/run-status.ts: a run's events, in the local store's shape or a stage's
// (GetExecutionHistory), mapped to each state's outcome. Rules checked per outcome: a state left normally succeeded; a
// failure a Retry took is "retried", one a Catch took "caught" (and the catch's edge is taken), one nothing took
// "failed"; a state entered and not left is running while the run goes on and failed once it ended; a state never
// entered is "not reached". A Distributed Map item's events (catalog names: `RunTask`) land on that Map's own states.
import type { OpsPort } from '../cli/ops/types';
import { awsInlineItems, runApi } from '../cli/ui/run-api';
import { localItems, runStates } from '../cli/ui/run-status';
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
