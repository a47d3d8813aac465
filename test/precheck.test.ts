import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { PrecheckEventSchema, RunInputSchema, type PrecheckEvent, type PrecheckResult } from '../handlers/lib/contracts';
import { InvalidInputError } from '../handlers/lib/errors';
import { precheck, sfnExecutions, toRunId, type ExecutionsPort, type RunningExecution } from '../handlers/lib/precheck';
import { loadEvent } from './events';

/** A Step Functions stand-in that records what the precheck asked of it. */
class FakeExecutions implements ExecutionsPort {
  readonly listed: string[] = [];
  readonly stopped: Array<{ executionArn: string; cause: string }> = [];
  constructor(private readonly running: RunningExecution[] = []) {}
  async listRunning(stateMachineArn: string): Promise<RunningExecution[]> {
    this.listed.push(stateMachineArn);
    return this.running;
  }
  async stop(executionArn: string, cause: string): Promise<void> {
    this.stopped.push({ executionArn, cause });
  }
}

const nightly = () => loadEvent<PrecheckEvent>('precheck-nightly-report');
const tenantSync = () => loadEvent<PrecheckEvent>('precheck-tenant-sync');
const NOW = () => new Date('2026-11-24T01:30:05Z');

/** Another execution of the event's state machine. */
function execution(event: PrecheckEvent, name: string, startDate: string): RunningExecution {
  return { executionArn: event.execution.replace(event.executionName, name), name, startDate: new Date(startDate) };
}

function self(event: PrecheckEvent): RunningExecution {
  return { executionArn: event.execution, name: event.executionName, startDate: new Date(event.startTime) };
}

async function invalidInput(promise: Promise<unknown>): Promise<InvalidInputError> {
  const error = await promise.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(InvalidInputError);
  return error as InvalidInputError;
}

describe('sample events', () => {
  const files = readdirSync(join(__dirname, '..', 'events')).filter((f) => f.startsWith('precheck-'));

  it.each(files)('%s parses with PrecheckEventSchema', (file) => {
    // Act
    const parsed = PrecheckEventSchema.safeParse(loadEvent(file.replace(/\.json$/, '')));
    // Assess
    expect(parsed.error?.issues).toBeUndefined();
  });

  // What the scheduler and a person in the console start runs with.
  const runInputs = readdirSync(join(__dirname, '..', 'events')).filter((f) => /^(schedule|console)-/.test(f));

  it.each(runInputs)('%s is a valid run input', (file) => {
    const parsed = RunInputSchema.safeParse(loadEvent(file.replace(/\.json$/, '')));
    expect(parsed.error?.issues).toBeUndefined();
  });
});

describe('precheck: run input', () => {
  it('runs a scheduled job with its catalog input and the scheduled time', async () => {
    // Prepare
    const event = nightly();
    const executions = new FakeExecutions([self(event)]);
    // Act
    const result = await precheck(event, { executions, now: NOW });
    // Assess
    expect(result).toEqual<PrecheckResult>({
      run: true,
      reason: 'no other run in progress',
      runId: '5e0c8a34-1f7b-4d2e-9a61-3c8f0b7d2e94',
      scheduledTime: '2026-11-24T01:30:00Z',
      input: { format: 'pdf' },
      items: [],
      maxFailedItems: 0,
      route: 'none',
      source: null,
    });
  });

  it('treats a missing input as {} and falls back to the execution start time', async () => {
    // Prepare
    const event = { ...nightly(), input: null };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.scheduledTime).toBe(event.startTime);
    expect(result.input).toEqual({ format: 'pdf' });
  });

  it('merges the run input over the catalog input', async () => {
    // Prepare
    const event = { ...nightly(), input: { input: { format: 'csv', region: 'emea' } } };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.input).toEqual({ format: 'csv', region: 'emea' });
  });

  it('refuses bad input with one line per field, naming what is allowed, before looking at other runs', async () => {
    // Prepare
    const event = loadEvent<PrecheckEvent>('precheck-invalid-input');
    const executions = new FakeExecutions();
    // Act
    const error = await invalidInput(precheck(event, { executions }));
    // Assess
    expect(error.name).toBe('InvalidInputError');
    expect(error.problems).toEqual([
      'input.scheduledTime: must be an ISO-8601 time such as 2026-11-24T02:00:00Z',
      'input.items: must be a JSON array',
      'input.inputs: is not a known field (allowed: scheduledTime, input, items, itemsFrom, scheduleArn, schedulerExecutionId, attemptNumber)',
    ]);
    expect(error.message).toBe(error.problems.join('; '));
    expect(executions.listed).toEqual([]);
  });

  it('refuses a run input that is not an object', async () => {
    // Act
    const error = await invalidInput(precheck({ ...nightly(), input: ['pdf'] }, { executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toBe('input: must be a JSON object');
  });

  it('refuses items for a job that does not fan out', async () => {
    // Act
    const error = await invalidInput(precheck({ ...nightly(), input: { items: ['a'] } }, { executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toMatch(/^input\.items: job nightly-report does not fan out/);
  });

  it('refuses input too large for ECS container overrides', async () => {
    // Prepare
    const event = { ...nightly(), input: { input: { blob: 'x'.repeat(8000) } } };
    // Act
    const error = await invalidInput(precheck(event, { executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toMatch(/^input: is \d+ characters as container overrides .*8 KiB/);
  });
});

describe('precheck: concurrency', () => {
  it('forbid: skips while another run is in progress, saying which and since when', async () => {
    // Prepare
    const event = nightly();
    const executions = new FakeExecutions([
      self(event),
      execution(event, 'yesterday', '2026-11-24T00:30:05Z'),
      execution(event, 'older', '2026-11-23T23:30:05Z'),
    ]);
    // Act
    const result = await precheck(event, { executions, now: NOW });
    // Assess
    expect(result.run).toBe(false);
    expect(result.reason).toBe('concurrency forbid: older has been running since 2026-11-23T23:30:05.000Z (120 min)');
    expect(executions.listed).toEqual([event.stateMachine]);
    expect(executions.stopped).toEqual([]);
    // Every field is still there: the state machine's ResultSelector reads them all.
    expect(result).toEqual(expect.objectContaining({ runId: expect.any(String), items: [], maxFailedItems: 0 }));
  });

  it('forbid: runs when the only other run started later (a duplicate delivery that will skip)', async () => {
    // Prepare
    const event = nightly();
    const executions = new FakeExecutions([self(event), execution(event, 'duplicate', '2026-11-24T01:30:00.900Z')]);
    // Act
    const result = await precheck(event, { executions });
    // Assess
    expect(result.run).toBe(true);
    expect(result.reason).toBe('concurrency forbid: duplicate started after this run and will skip');
  });

  it('forbid: two runs started in the same millisecond agree on one winner', async () => {
    // Prepare
    const first = { ...nightly(), executionName: 'a-run', execution: nightly().execution.replace(/[^:]+$/, 'a-run') };
    const second = { ...nightly(), executionName: 'b-run', execution: nightly().execution.replace(/[^:]+$/, 'b-run') };
    const running = [self(first), self(second)];
    // Act
    const results = await Promise.all([first, second].map((e) => precheck(e, { executions: new FakeExecutions(running) })));
    // Assess
    expect(results.map((r) => r.run)).toEqual([true, false]);
  });

  it('replace: stops every older run, never itself, and says how many', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    const executions = new FakeExecutions([
      execution(event, 'older-1', '2026-11-24T00:30:00Z'),
      self(event),
      execution(event, 'older-2', '2026-11-23T23:30:00Z'),
    ]);
    // Act
    const result = await precheck(event, { executions });
    // Assess
    expect(result.run).toBe(true);
    expect(result.reason).toBe('concurrency replace: stopped 2 running executions (older-2, older-1)');
    expect(executions.stopped.map((s) => s.executionArn).sort()).toEqual([
      execution(event, 'older-1', '2026-11-24T00:30:00Z').executionArn,
      execution(event, 'older-2', '2026-11-23T23:30:00Z').executionArn,
    ].sort());
    expect(executions.stopped.every((s) => s.cause === `replaced by ${event.executionName} (${event.execution})`)).toBe(true);
  });

  it('replace: yields to a newer run instead of stopping it', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    const executions = new FakeExecutions([self(event), execution(event, 'newer', '2026-11-24T01:31:00Z')]);
    // Act
    const result = await precheck(event, { executions });
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: false, reason: 'concurrency replace: newer started after this run and replaces it' }));
    expect(executions.stopped).toEqual([]);
  });

  it('replace: runs with the plain reason when nothing else runs', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions([self(event)]) });
    // Assess
    expect(result.reason).toBe('no other run in progress');
  });

  it('allow: runs without listing executions', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'allow' as const } };
    const executions = new FakeExecutions([execution(event, 'older', '2026-11-24T00:30:00Z')]);
    // Act
    const result = await precheck(event, { executions });
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: true, reason: 'concurrency allow' }));
    expect(executions.listed).toEqual([]);
  });
});

describe('precheck: fan-out', () => {
  it('reads the items at itemsPath in the merged input', async () => {
    // Act
    const result = await precheck(tenantSync(), { executions: new FakeExecutions() });
    // Assess
    expect(result.items).toEqual(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka']);
    expect(result.maxFailedItems).toBe(2);
    expect(result.run).toBe(true);
  });

  it('reads a nested itemsPath, overridden by the run input', async () => {
    // Prepare
    const event = tenantSync();
    event.policy.fanOut = { itemsPath: '$.crm.tenants', toleratedFailurePercentage: 0, itemsPrefixes: [], inlineLimit: 1000 };
    event.input = { input: { crm: { tenants: [{ id: 'acme' }, { id: 'globex' }] } } };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.items).toEqual([{ id: 'acme' }, { id: 'globex' }]);
  });

  it('prefers items given with the run over the catalog', async () => {
    // Prepare
    const event = { ...tenantSync(), input: { items: ['hooli'] } };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.items).toEqual(['hooli']);
  });

  it('uses the catalog items when the job lists them', async () => {
    // Prepare
    const event = tenantSync();
    event.policy.fanOut = { items: [1, 2, 3], toleratedFailurePercentage: 50, itemsPrefixes: [], inlineLimit: 1000 };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result).toEqual(expect.objectContaining({ items: [1, 2, 3], maxFailedItems: 1 }));
  });

  it.each([
    ['missing', { input: { tenantz: ['acme'] } }, 'found nothing'],
    ['not an array', { input: { tenants: 'acme,globex' } }, 'found a string'],
  ])('refuses an itemsPath value that is %s, naming the path', async (_case, runInput, found) => {
    // Prepare
    const event = tenantSync();
    event.policy.input = {};
    event.input = runInput;
    // Act
    const error = await invalidInput(precheck(event, { executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toContain('input.input.tenants: must be a JSON array');
    expect(error.message).toContain('$.tenants');
    expect(error.message).toContain(found);
  });

  it('skips with a reason when there are no items, without touching other runs', async () => {
    // Prepare
    const event = { ...tenantSync(), input: { input: { tenants: [] } } };
    event.policy.concurrency = 'replace';
    const executions = new FakeExecutions([execution(event, 'older', '2026-11-24T10:00:00Z')]);
    // Act
    const result = await precheck(event, { executions });
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: false, reason: 'no items to fan out', items: [], maxFailedItems: 0 }));
    expect(executions.listed).toEqual([]);
    expect(executions.stopped).toEqual([]);
  });

  it.each([
    [40, 5, 2],
    [8, 25, 2],
    [7, 25, 1],
    [3, 33, 0],
    [9, 10, 0],
    [10, 100, 10],
    [10, 0, 0],
  ])('%i items with %i%% tolerated may have %i failures', async (count, tolerated, expected) => {
    // Prepare
    const event = { ...tenantSync(), input: { items: Array.from({ length: count }, (_, i) => i) } };
    event.policy.fanOut = { itemsPath: '$.tenants', toleratedFailurePercentage: tolerated, itemsPrefixes: [], inlineLimit: 1000 };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.maxFailedItems).toBe(expected);
  });
});

describe('precheck: runId', () => {
  it('replaces what ECS StartedBy refuses with "-"', async () => {
    // Prepare
    const event = { ...nightly(), executionName: 'rerun.2026-11-24+v2@ops=1' };
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.runId).toBe('rerun-2026-11-24-v2-ops-1');
  });

  it('keeps at most 100 characters, leaving room for the fan-out suffix', () => {
    // Act
    const runId = toRunId(`${'a'.repeat(99)}_b-c`);
    // Assess
    expect(runId).toBe(`${'a'.repeat(99)}_`);
  });
});

describe('sfnExecutions', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-dev-nightly-report';
  const item = (name: string) => ({
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-nightly-report:${name}`,
    stateMachineArn: machine, name, status: 'RUNNING' as const, startDate: new Date('2026-11-24T00:00:00Z'),
  });

  it('lists RUNNING executions across every page', async () => {
    // Prepare
    sfn.on(ListExecutionsCommand)
      .resolvesOnce({ executions: [item('a'), item('b')], nextToken: 'page-2' })
      .resolvesOnce({ executions: [item('c')] });
    // Act
    const running = await sfnExecutions(new SFNClient({ region: 'eu-west-1' })).listRunning(machine);
    // Assess
    expect(running.map((e) => e.name)).toEqual(['a', 'b', 'c']);
    const calls = sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { stateMachineArn: machine, statusFilter: 'RUNNING' },
      { stateMachineArn: machine, statusFilter: 'RUNNING', nextToken: 'page-2' },
    ]);
  });

  it('stops an execution with the stepcron.Replaced error and the cause', async () => {
    // Prepare
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    // Act
    await sfnExecutions(new SFNClient({ region: 'eu-west-1' })).stop(item('a').executionArn, 'replaced by b');
    // Assess
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { executionArn: item('a').executionArn, error: 'stepcron.Replaced', cause: 'replaced by b' },
    ]);
  });
});

describe('precheck handler', () => {
  type Sdk = typeof import('@aws-sdk/client-sfn');
  type Handler = typeof import('../handlers/precheck')['handler'];
  const savedEnv = { ...process.env };
  afterEach(() => {
    process.env = { ...savedEnv };
  });

  /** The handler reads its env at load: load it afresh, with the SDK it will use, so the mock is the one it calls. */
  function loadHandler(env: Record<string, string>) {
    delete process.env.IS_LOCAL;
    delete process.env.STEPCRON_PRECHECK;
    Object.assign(process.env, { AWS_REGION: 'eu-west-1' }, env);
    let loaded!: { handler: Handler; sdk: Sdk; sfn: ReturnType<typeof mockClient> };
    jest.isolateModules(() => {
      const sdk = require('@aws-sdk/client-sfn') as Sdk;
      const sfn = mockClient(sdk.SFNClient);
      const { handler } = require('../handlers/precheck') as typeof import('../handlers/precheck');
      loaded = { handler, sdk, sfn };
    });
    return loaded;
  }

  it('replaces an older run through Step Functions', async () => {
    // Prepare
    const { handler, sdk, sfn } = loadHandler({});
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    const older = execution(event, 'older', '2026-11-24T00:30:00Z');
    sfn.on(sdk.ListExecutionsCommand).resolves({
      executions: [
        { ...older, stateMachineArn: event.stateMachine, status: 'RUNNING' },
        { ...self(event), stateMachineArn: event.stateMachine, status: 'RUNNING' },
      ],
    });
    sfn.on(sdk.StopExecutionCommand).resolves({ stopDate: new Date() });
    // Act
    const result = await handler(event, {} as never);
    // Assess
    expect(result.run).toBe(true);
    expect(sfn.commandCalls(sdk.StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([older.executionArn]);
  });

  it('refuses a malformed event with InvalidInputError naming the field', async () => {
    // Prepare
    const { handler } = loadHandler({});
    const event = { ...nightly(), policy: { concurrency: 'sometimes', input: {} } };
    // Act
    const error = await Promise.resolve(handler(event, {} as never)).catch((err: Error) => err);
    // Assess
    expect(error).toEqual(expect.objectContaining({ name: 'InvalidInputError' }));
    expect((error as Error).message).toMatch(/^event\.policy\.concurrency: /);
  });

  it('under sls invoke local, reports no running executions without calling AWS', async () => {
    // Prepare
    const { handler, sfn } = loadHandler({ IS_LOCAL: 'true' });
    // Act
    const result = await handler(nightly(), {} as never);
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: true, reason: 'no other run in progress' }));
    expect(sfn.calls()).toHaveLength(0);
  });

  it('under sls invoke local with STEPCRON_PRECHECK=aws, asks Step Functions', async () => {
    // Prepare
    const { handler, sdk, sfn } = loadHandler({ IS_LOCAL: 'true', STEPCRON_PRECHECK: 'aws' });
    sfn.on(sdk.ListExecutionsCommand).resolves({ executions: [] });
    // Act
    await handler(nightly(), {} as never);
    // Assess
    expect(sfn.commandCalls(sdk.ListExecutionsCommand)).toHaveLength(1);
  });
});

describe('precheck: how a fan-out reaches its items', () => {
  const withFanOut = (fanOut: Partial<NonNullable<PrecheckEvent['policy']['fanOut']>>, input: unknown = {}) => {
    const event = tenantSync();
    event.policy.fanOut = { toleratedFailurePercentage: 10, itemsPrefixes: ['s3://acme-items/', 's3://stepcron-dev-local/items/'], inlineLimit: 3, ...fanOut };
    event.input = input;
    return event;
  };

  it('runs a short list inline and a list longer than one history holds on the Distributed Map', async () => {
    // Act
    const short = await precheck(withFanOut({ items: [1, 2, 3] }), { executions: new FakeExecutions() });
    const long = await precheck(withFanOut({ items: [1, 2, 3, 4] }), { executions: new FakeExecutions() });
    // Assess
    expect([short.route, short.items]).toEqual(['inline', [1, 2, 3]]);
    expect([long.route, long.items, long.source]).toEqual(['items', [1, 2, 3, 4], null]);
  });

  it.each([
    ['s3://acme-items/tenants.json', 'json'],
    ['s3://acme-items/2026/tenants.jsonl', 'jsonl'],
    ['s3://acme-items/tenants.ndjson', 'jsonl'],
    ['s3://stepcron-dev-local/items/tenants.csv', 'csv'],
  ])('reads %s from S3 as %s, with no items in the state', async (url, route) => {
    // Act
    const result = await precheck(withFanOut({ itemsFrom: 's3://acme-items/all.json' }, { itemsFrom: url }), { executions: new FakeExecutions() });
    // Assess
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(url)!;
    expect(result).toMatchObject({ run: true, route, source: { bucket, key }, items: [] });
  });

  it("uses the catalog's itemsFrom when the run names none", async () => {
    const result = await precheck(withFanOut({ itemsFrom: 's3://acme-items/all.csv' }), { executions: new FakeExecutions() });
    expect(result).toMatchObject({ route: 'csv', source: { bucket: 'acme-items', key: 'all.csv' } });
  });

  it.each([
    [{ itemsFrom: 's3://elsewhere/t.json' }, /input\.itemsFrom: 's3:\/\/elsewhere\/t\.json': this job may read items only under s3:\/\/acme-items\/ or s3:\/\/stepcron-dev-local\/items\/ .*upload the object there/],
    [{ itemsFrom: 's3://stepcron-dev-local/results/t.json' }, /may read items only under/],
    [{ itemsFrom: 's3://acme-items/t.xml' }, /input\.itemsFrom: 's3:\/\/acme-items\/t\.xml' must be s3:\/\/bucket\/key ending in \.json/],
    [{ itemsFrom: 's3://acme-items/t.json', items: [1] }, /input: give items or itemsFrom, not both/],
  ])('refuses %j before any task starts', async (input, message) => {
    await expect(precheck(withFanOut({ items: [1] }, input), { executions: new FakeExecutions() })).rejects.toThrow(message);
  });

  it('refuses itemsFrom for a job that does not fan out', async () => {
    const event = nightly();
    event.input = { itemsFrom: 's3://acme-items/t.json' };
    await expect(precheck(event, { executions: new FakeExecutions() })).rejects.toThrow(/input\.itemsFrom: job nightly-report does not fan out/);
  });

  it('gives each container the run input without the list its items came from (the 8 KiB limit is per item)', async () => {
    // Prepare: 500 tenants of 40 characters each: 20 KB as a list, far over ECS's 8 KiB overrides
    const tenants = Array.from({ length: 500 }, (_, i) => `tenant-${String(i).padStart(33, '0')}`);
    const event = withFanOut({ itemsPath: '$.crm.tenants', inlineLimit: 1000 }, { input: { crm: { tenants, region: 'eu' }, dryRun: true } });
    event.policy.input = {};
    // Act
    const result = await precheck(event, { executions: new FakeExecutions() });
    // Assess
    expect(result.items).toHaveLength(500);
    expect(result.input).toEqual({ crm: { region: 'eu' }, dryRun: true });
  });
});
