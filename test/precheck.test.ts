import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { PrecheckEventSchema, RunInputSchema, type PrecheckEvent, type PrecheckResult } from '../handlers/lib/contracts';
import { InvalidInputError } from '../handlers/lib/errors';
import {
  BUFFER_PLACE_MARGIN_MS, bufferedRunName, claimKeys, dynamoClaims, memoryClaims, precheck, reconcileBuffered, RUN_CLAIM_TTL_MS,
  type RestartPort, sfnExecutions, sfnRestart, startBuffered, startWaiting, toRunId, type ExecutionsPort, type RunningExecution,
} from '../handlers/lib/precheck';
import { loadEvent } from './events';

/** A Step Functions stand-in that records what the precheck asked of it. */
class FakeExecutions implements ExecutionsPort {
  readonly listed: string[] = [];
  readonly stopped: Array<{ executionArn: string; cause: string }> = [];
  /** `running` at the first look; `later` (if given) at every look after it. */
  constructor(private readonly running: RunningExecution[] = [], private readonly later?: RunningExecution[]) {}
  async listRunning(stateMachineArn: string): Promise<RunningExecution[]> {
    this.listed.push(stateMachineArn);
    return this.listed.length > 1 && this.later ? this.later : this.running;
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
    const result = await precheck(event, { claims: memoryClaims(), executions, now: NOW });
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
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.scheduledTime).toBe(event.startTime);
    expect(result.input).toEqual({ format: 'pdf' });
  });

  it('merges the run input over the catalog input', async () => {
    // Prepare
    const event = { ...nightly(), input: { input: { format: 'csv', region: 'emea' } } };
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.input).toEqual({ format: 'csv', region: 'emea' });
  });

  it('refuses bad input with one line per field, naming what is allowed, before looking at other runs', async () => {
    // Prepare
    const event = loadEvent<PrecheckEvent>('precheck-invalid-input');
    const executions = new FakeExecutions();
    // Act
    const error = await invalidInput(precheck(event, { claims: memoryClaims(), executions }));
    // Assess
    expect(error.name).toBe('InvalidInputError');
    expect(error.problems).toEqual([
      'input.scheduledTime: must be an ISO-8601 time such as 2026-11-24T02:00:00Z',
      'input.items: must be a JSON array',
      // Only the fields a person sets are offered; the scheduler's own (scheduleArn...) are accepted but not suggested.
      'input.inputs: is not a known field (allowed: scheduledTime, input, items, itemsFrom)',
    ]);
    expect(error.message).toBe(error.problems.join('; '));
    expect(executions.listed).toEqual([]);
  });

  it('refuses a run input that is not an object', async () => {
    // Act
    const error = await invalidInput(precheck({ ...nightly(), input: ['pdf'] }, { claims: memoryClaims(), executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toBe('input: must be a JSON object');
  });

  it('refuses items for a job that does not fan out', async () => {
    // Act
    const error = await invalidInput(precheck({ ...nightly(), input: { items: ['a'] } }, { claims: memoryClaims(), executions: new FakeExecutions() }));
    // Assess
    expect(error.message).toMatch(/^input\.items: job nightly-report does not fan out/);
  });

  it('refuses input too large for ECS container overrides', async () => {
    // Prepare
    const event = { ...nightly(), input: { input: { blob: 'x'.repeat(8000) } } };
    // Act
    const error = await invalidInput(precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() }));
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
    const result = await precheck(event, { claims: memoryClaims(), executions, now: NOW });
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
    const result = await precheck(event, { claims: memoryClaims(), executions });
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
    const results = await Promise.all([first, second].map((e) => precheck(e, { claims: memoryClaims(), executions: new FakeExecutions(running) })));
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
    const result = await precheck(event, { claims: memoryClaims(), executions });
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
    const result = await precheck(event, { claims: memoryClaims(), executions });
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: false, reason: 'concurrency replace: newer started after this run and replaces it' }));
    expect(executions.stopped).toEqual([]);
  });

  it('replace: runs with the plain reason when nothing else runs', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions([self(event)]) });
    // Assess
    expect(result.reason).toBe('no other run in progress');
  });

  it('allow: runs without listing executions', async () => {
    // Prepare
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'allow' as const } };
    const executions = new FakeExecutions([execution(event, 'older', '2026-11-24T00:30:00Z')]);
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions });
    // Assess
    expect(result).toEqual(expect.objectContaining({ run: true, reason: 'concurrency allow' }));
    expect(executions.listed).toEqual([]);
  });
});

describe('precheck: fan-out', () => {
  it('reads the items at itemsPath in the merged input', async () => {
    // Act
    const result = await precheck(tenantSync(), { claims: memoryClaims(), executions: new FakeExecutions() });
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
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.items).toEqual([{ id: 'acme' }, { id: 'globex' }]);
  });

  it('prefers items given with the run over the catalog', async () => {
    // Prepare
    const event = { ...tenantSync(), input: { items: ['hooli'] } };
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.items).toEqual(['hooli']);
  });

  it('uses the catalog items when the job lists them', async () => {
    // Prepare
    const event = tenantSync();
    event.policy.fanOut = { items: [1, 2, 3], toleratedFailurePercentage: 50, itemsPrefixes: [], inlineLimit: 1000 };
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
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
    const error = await invalidInput(precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() }));
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
    const result = await precheck(event, { claims: memoryClaims(), executions });
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
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.maxFailedItems).toBe(expected);
  });
});

describe('precheck: runId', () => {
  it('replaces what ECS StartedBy refuses with "-"', async () => {
    // Prepare
    const event = { ...nightly(), executionName: 'rerun.2026-11-24+v2@ops=1' };
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
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

/** The nightly event as another execution of the same state machine: its own name, ARN and start time. */
function another(event: PrecheckEvent, name: string, startTime: string, input: unknown = event.input): PrecheckEvent {
  return { ...event, executionName: name, execution: event.execution.replace(event.executionName, name), startTime, input };
}

const withPolicy = (event: PrecheckEvent, concurrency: PrecheckEvent['policy']['concurrency']): PrecheckEvent =>
  ({ ...event, policy: { ...event.policy, concurrency, runTimeoutSeconds: 3 * 3600 } });

describe('precheck: one run per scheduled time', () => {
  it.each(['forbid', 'replace', 'allow'] as const)('%s: a second delivery of the same scheduled time is a duplicate of the first, which goes on', async (policy) => {
    // Prepare: Scheduler delivered the 01:30 run twice; the first is running
    const first = withPolicy(nightly(), policy);
    const second = withPolicy(another(nightly(), 'redelivered', '2026-11-24T01:30:02Z'), policy);
    const claims = memoryClaims();
    // Act
    const ran = await precheck(first, { claims, executions: new FakeExecutions([self(first)]) });
    const executions = new FakeExecutions([self(first), self(second)]);
    const duplicate = await precheck(second, { claims, executions });
    // Assess
    expect(ran.run).toBe(true);
    expect(duplicate).toMatchObject({
      run: false, reason: `duplicate of ${first.executionName}: it has already claimed scheduled time 2026-11-24T01:30:00.000Z`,
    });
    // A duplicate never stops the run it duplicates (replace), nor waits behind it.
    expect(executions.stopped).toEqual([]);
    expect(duplicate.bufferedBehind).toBeUndefined();
  });

  it.each([
    ...(['forbid', 'replace', 'allow', 'buffer'] as const).flatMap((policy) => [[policy, 'earlier'], [policy, 'later']] as const),
  ])('%s: two deliveries of one time in flight at once, the %s one checked first: exactly one goes ahead', async (policy, firstChecked) => {
    // Prepare: both started and listed as running when each precheck looks
    const claims = memoryClaims();
    const earlier = withPolicy(nightly(), policy);
    const later = withPolicy(another(nightly(), 'redelivered', '2026-11-24T01:30:00.100Z'), policy);
    const running = [self(earlier), self(later)];
    const order = firstChecked === 'earlier' ? [earlier, later] : [later, earlier];
    // Act
    const results = [];
    for (const event of order) results.push(await precheck(event, { claims, executions: new FakeExecutions(running) }));
    // Assess: one runs now, or (buffer) waits to run when the other has ended; the other is a duplicate or yields
    const ahead = results.filter((r) => r.run || r.bufferedBehind !== undefined);
    expect(ahead).toHaveLength(1);
    expect(await claims.holder(claimKeys.run(earlier.stateMachine, '2026-11-24T01:30:00Z')))
      .toBe(order[results.indexOf(ahead[0]!)]!.execution);
  });

  it('knows a scheduled time however it is written', async () => {
    // Prepare
    const claims = memoryClaims();
    const first = withPolicy({ ...nightly(), input: { scheduledTime: '2026-11-24T02:30:00+01:00' } }, 'allow');
    const second = withPolicy(another(nightly(), 'again', '2026-11-24T01:30:02Z', { scheduledTime: '2026-11-24T01:30:00.000Z' }), 'allow');
    // Act
    await precheck(first, { claims, executions: new FakeExecutions() });
    const result = await precheck(second, { claims, executions: new FakeExecutions() });
    // Assess
    expect(result.reason).toMatch(/^duplicate of /);
  });

  it('lets the same execution claim again (a retried precheck), and other times and runs by hand run', async () => {
    // Prepare
    const claims = memoryClaims();
    const event = withPolicy(nightly(), 'allow');
    const nextHour = withPolicy(another(nightly(), 'next-hour', '2026-11-24T02:30:00Z', { scheduledTime: '2026-11-24T02:30:00Z' }), 'allow');
    const byHand = [1, 2].map((n) => withPolicy(another(nightly(), `by-hand-${n}`, '2026-11-24T01:31:00Z', {}), 'allow'));
    // Act
    const results = [];
    for (const e of [event, event, nextHour, ...byHand]) results.push(await precheck(e, { claims, executions: new FakeExecutions() }));
    // Assess
    expect(results.map((r) => r.run)).toEqual([true, true, true, true, true]);
    expect(await claims.holder(claimKeys.run(event.stateMachine, '2026-11-24T01:30:00Z'))).toBe(event.execution);
  });

  it('frees a scheduled time after 90 days, longer than Scheduler retries a delivery', async () => {
    // Prepare
    let now = Date.parse('2026-11-24T01:30:05Z');
    const claims = memoryClaims(() => now);
    const first = withPolicy(nightly(), 'allow');
    const late = withPolicy(another(nightly(), 'late', '2026-11-25T01:30:00Z'), 'allow');
    await precheck(first, { claims, executions: new FakeExecutions() });
    // Act
    now += 24 * 3600 * 1000;
    const withinRetries = await precheck(late, { claims, executions: new FakeExecutions() });
    now += RUN_CLAIM_TTL_MS;
    const afterExpiry = await precheck(late, { claims, executions: new FakeExecutions() });
    // Assess
    expect(RUN_CLAIM_TTL_MS).toBe(90 * 24 * 3600 * 1000);
    expect([withinRetries.run, afterExpiry.run]).toEqual([false, true]);
  });
});

describe('precheck: concurrency buffer', () => {
  const NOW_RUNNING = '2026-11-24T00:30:00Z';
  const buffered = () => withPolicy(nightly(), 'buffer');

  it('runs when nothing else runs', async () => {
    const event = buffered();
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions([self(event)]) });
    expect(result).toMatchObject({ run: true, reason: 'no other run in progress' });
  });

  it('takes the waiting place behind a run in progress and ends, saying what it waits for', async () => {
    // Prepare
    const event = buffered();
    const claims = memoryClaims();
    const ahead = execution(event, 'ahead', NOW_RUNNING);
    // Act
    const result = await precheck(event, { claims, executions: new FakeExecutions([ahead, self(event)]) });
    // Assess
    expect(result).toMatchObject({ run: false, reason: 'buffered: starts when ahead ends', bufferedBehind: ahead.executionArn });
    expect(await claims.holder(claimKeys.buffer(event.stateMachine))).toBe(event.execution);
  });

  it('skips a third run while one waits, naming the waiting and the running execution', async () => {
    // Prepare
    const claims = memoryClaims();
    const waiting = buffered();
    const third = withPolicy(another(nightly(), 'third', '2026-11-24T02:30:00Z', { scheduledTime: '2026-11-24T02:30:00Z' }), 'buffer');
    const ahead = execution(waiting, 'ahead', NOW_RUNNING);
    await precheck(waiting, { claims, executions: new FakeExecutions([ahead]) });
    // Act
    const result = await precheck(third, { claims, executions: new FakeExecutions([ahead, self(third)]) });
    // Assess
    expect(result).toMatchObject({ run: false, reason: `concurrency buffer: ${waiting.executionName} is already waiting for ahead; at most one run waits` });
    expect(result.bufferedBehind).toBeUndefined();
    expect(await claims.holder(claimKeys.buffer(waiting.stateMachine))).toBe(waiting.execution);
  });

  it('runs after all when the run ahead ended while it took the place, and frees the place', async () => {
    // Prepare: listed running at the first look, gone at the second
    const event = buffered();
    const claims = memoryClaims();
    const executions = new FakeExecutions([execution(event, 'ahead', NOW_RUNNING), self(event)], [self(event)]);
    // Act
    const result = await precheck(event, { claims, executions });
    // Assess
    expect(result).toMatchObject({ run: true, reason: 'concurrency buffer: ahead ended while this run took the waiting place' });
    expect(await claims.holder(claimKeys.buffer(event.stateMachine))).toBeUndefined();
  });

  it('does not run when, in that moment, the ended run already had it started again', async () => {
    // Prepare: the place is taken over (released) by the new run between the two looks
    const event = buffered();
    const claims = memoryClaims();
    const executions = new FakeExecutions([execution(event, 'ahead', NOW_RUNNING)], []);
    const release = claims.release.bind(claims);
    let first = true;
    claims.release = async (key, owner) => {
      if (first) {
        first = false;
        await release(key, owner);
        return false;
      }
      return release(key, owner);
    };
    // Act
    const result = await precheck(event, { claims, executions });
    // Assess
    expect(result).toMatchObject({ run: false, reason: 'buffered: ahead ended and this run was started again' });
  });

  it('keeps the place as long as the run ahead can last (the run timeout), and the reconcile\'s margin after it', async () => {
    // Prepare
    let now = Date.parse('2026-11-24T01:30:05Z');
    const claims = memoryClaims(() => now);
    const event = buffered();
    await precheck(event, { claims, executions: new FakeExecutions([execution(event, 'ahead', NOW_RUNNING)]) });
    // Act
    now += 3 * 3600 * 1000 + BUFFER_PLACE_MARGIN_MS - 1;
    const before = await claims.holder(claimKeys.buffer(event.stateMachine));
    now += 2;
    const after = await claims.holder(claimKeys.buffer(event.stateMachine));
    // Assess
    expect([before, after]).toEqual([event.execution, undefined]);
  });

  it('refuses an event without the run timeout, which the compiler always sends for buffer jobs', async () => {
    const event = { ...buffered(), policy: { ...nightly().policy, concurrency: 'buffer' as const } };
    await expect(precheck(event, { claims: memoryClaims(), executions: new FakeExecutions([execution(event, 'ahead', NOW_RUNNING)]) }))
      .rejects.toThrow('event.policy.runTimeoutSeconds: is required with concurrency buffer');
  });
});

/** Step Functions' starting side, recording what was started. */
class FakeRestart implements RestartPort {
  readonly started: Array<{ stateMachineArn: string; name: string; input: Record<string, unknown> }> = [];
  constructor(private readonly inputs: Record<string, unknown>) {}
  async input(executionArn: string): Promise<unknown> {
    return this.inputs[executionArn];
  }
  async start(stateMachineArn: string, name: string, input: Record<string, unknown>): Promise<void> {
    this.started.push({ stateMachineArn, name, input });
  }
}

const ended = (event: PrecheckEvent, executionArn: string, status = 'SUCCEEDED' as const) => ({
  source: 'aws.states' as const,
  'detail-type': 'Step Functions Execution Status Change' as const,
  detail: { executionArn, stateMachineArn: event.stateMachine, status },
});

describe('startBuffered: when the run ahead ends', () => {
  it('starts the waiting run again with its input and scheduled time; the new run takes its place and its time', async () => {
    // Prepare: a buffered 01:30 delivery waits behind `ahead`
    const claims = memoryClaims();
    const waiting = withPolicy(nightly(), 'buffer');
    const ahead = execution(waiting, 'ahead', '2026-11-24T00:30:00Z');
    await precheck(waiting, { claims, executions: new FakeExecutions([ahead]) });
    const restart = new FakeRestart({ [waiting.execution]: waiting.input });
    // Act: `ahead` ends (timed out: the event covers every end)
    const start = await startBuffered(ended(waiting, ahead.executionArn, 'TIMED_OUT' as 'SUCCEEDED'), { claims, executions: new FakeExecutions([ahead]), restart });
    // Assess
    const name = bufferedRunName(waiting.execution);
    expect(start).toEqual({ started: name, reason: `${waiting.executionName} waited for ahead: started as ${name}` });
    expect(restart.started).toEqual([{ stateMachineArn: waiting.stateMachine, name, input: { ...(waiting.input as object), bufferedFrom: waiting.execution } }]);
    expect(restart.started[0]!.input).toMatchObject({ scheduledTime: '2026-11-24T01:30:00Z' });

    // Act: the new run's precheck; then Scheduler's late second delivery of 01:30
    const resumed = withPolicy(another(nightly(), name, '2026-11-24T04:00:00Z', restart.started[0]!.input), 'buffer');
    const result = await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) });
    const late = withPolicy(another(nightly(), 'late', '2026-11-24T04:01:00Z'), 'buffer');
    const duplicate = await precheck(late, { claims, executions: new FakeExecutions([self(resumed), self(late)]) });
    // Assess
    expect(result).toMatchObject({ run: true, scheduledTime: '2026-11-24T01:30:00Z' });
    expect(await claims.holder(claimKeys.buffer(waiting.stateMachine))).toBeUndefined();
    expect(duplicate.reason).toMatch(new RegExp(`^duplicate of ${name}:`));
  });

  it('starts nothing while another run is still in progress, or when nobody waits', async () => {
    // Prepare
    const claims = memoryClaims();
    const waiting = withPolicy(nightly(), 'buffer');
    const [ahead, other] = [execution(waiting, 'ahead', '2026-11-24T00:30:00Z'), execution(waiting, 'other', '2026-11-24T00:40:00Z')];
    const restart = new FakeRestart({ [waiting.execution]: waiting.input });
    // Act
    const nobody = await startBuffered(ended(waiting, ahead.executionArn), { claims, executions: new FakeExecutions([other]), restart });
    await precheck(waiting, { claims, executions: new FakeExecutions([ahead]) });
    // The waiting run's own end (it ended skipped) while `ahead` still runs; then `ahead` ends while `other` runs.
    const ownEnd = await startBuffered(ended(waiting, waiting.execution), { claims, executions: new FakeExecutions([ahead, self(waiting)]), restart });
    const stillOther = await startBuffered(ended(waiting, ahead.executionArn), { claims, executions: new FakeExecutions([ahead, other]), restart });
    // Assess
    expect(nobody).toEqual({ started: null, reason: 'no run waits' });
    expect(ownEnd).toEqual({ started: null, reason: `${waiting.executionName} waits for ahead` });
    expect(stillOther).toEqual({ started: null, reason: `${waiting.executionName} waits for other` });
    expect(restart.started).toEqual([]);
  });

  it('a run started for one that already went itself is its duplicate, with or without a scheduled time', async () => {
    // Prepare: the buffered run found the job free on its re-check and ran (its place is gone)
    const claims = memoryClaims();
    const went = withPolicy(nightly(), 'buffer');
    await precheck(went, { claims, executions: new FakeExecutions() });
    const name = bufferedRunName(went.execution);
    const resumed = withPolicy(another(nightly(), name, '2026-11-24T04:00:00Z', { scheduledTime: '2026-11-24T01:30:00Z', bufferedFrom: went.execution }), 'buffer');
    const byHand = withPolicy(another(nightly(), `${name}-2`, '2026-11-24T04:00:00Z', { bufferedFrom: went.execution }), 'buffer');
    // Act
    const results = await Promise.all([resumed, byHand].map((e) => precheck(e, { claims, executions: new FakeExecutions([self(e)]) })));
    // Assess
    expect(results.map((r) => [r.run, r.reason.split(':')[0]])).toEqual([[false, `duplicate of ${went.executionName}`], [false, `duplicate of ${went.executionName}`]]);
  });

  it('names the new run after the buffered one, within the 80 characters Step Functions allows', () => {
    // Prepare
    const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:stepcron-prod-nightly-report:${name}`;
    // Act
    const names = [bufferedRunName(arn('a'.repeat(80))), bufferedRunName(arn('a'.repeat(80).replace(/a$/, 'b'))), bufferedRunName(arn('0f1e2d3c'))];
    // Assess
    expect(names.every((n) => n.length <= 80 && /^[A-Za-z0-9_-]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(3);
    expect(names[2]).toMatch(/^0f1e2d3c-buffered-[0-9a-f]{8}$/);
    expect(bufferedRunName(arn('0f1e2d3c'))).toBe(names[2]);
  });
});

describe('a hand-started buffered run under Step Functions\' Lambda Retry', () => {
  it('the retried precheck of the run started again recognises its own hand-over and runs; the waiting run cannot go too', async () => {
    // Prepare: a run started by hand (no scheduledTime) waits behind `ahead`; when `ahead` ends it is started again
    const claims = memoryClaims();
    const waiting = withPolicy(another(nightly(), 'by-hand', '2026-11-24T02:00:00Z', {}), 'buffer');
    const ahead = execution(waiting, 'ahead', '2026-11-24T01:00:00Z');
    const first = await precheck(waiting, { claims, executions: new FakeExecutions([ahead, self(waiting)]) });
    const restart = new FakeRestart({ [waiting.execution]: waiting.input });
    await startBuffered(ended(waiting, ahead.executionArn), { claims, executions: new FakeExecutions([]), restart });
    const resumed = withPolicy(another(nightly(), restart.started[0]!.name, '2026-11-24T03:00:00Z', restart.started[0]!.input), 'buffer');
    // Act: its precheck, then the same execution's precheck again (the Lambda's answer was lost: Step Functions retries)
    const attempt = await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) });
    const retried = await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) });
    // Assess
    expect(first).toMatchObject({ run: false, bufferedBehind: ahead.executionArn });
    expect(restart.started[0]!.input).toEqual({ bufferedFrom: waiting.execution });
    expect(attempt).toMatchObject({ run: true });
    expect(retried).toMatchObject({ run: true });
    expect(await claims.holder(claimKeys.start(waiting.stateMachine, waiting.execution))).toBe(resumed.execution);
  });

  it('a run started for a hand-started run that went itself is still its duplicate', async () => {
    // Prepare: the hand-started run took the place, found the job free on its re-check and ran
    const claims = memoryClaims();
    const went = withPolicy(another(nightly(), 'by-hand', '2026-11-24T02:00:00Z', {}), 'buffer');
    const gone = await precheck(went, { claims, executions: new FakeExecutions([execution(went, 'ahead', '2026-11-24T01:00:00Z'), self(went)], [self(went)]) });
    const resumed = withPolicy(another(nightly(), bufferedRunName(went.execution), '2026-11-24T03:00:00Z', { bufferedFrom: went.execution }), 'buffer');
    // Act
    const result = await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) });
    // Assess
    expect(gone).toMatchObject({ run: true });
    expect(result).toMatchObject({ run: false, reason: 'duplicate of by-hand: it no longer waits in the buffer (it ran, or its place expired)' });
  });
});

/** Step Functions' StartExecution as AWS answers it: a name starts one execution; the same name and input again is that one. */
class IdempotentRestart extends FakeRestart {
  readonly executions = new Map<string, string>();
  override async start(stateMachineArn: string, name: string, input: Record<string, unknown>): Promise<void> {
    await super.start(stateMachineArn, name, input);
    const existing = this.executions.get(name);
    if (existing !== undefined && existing !== JSON.stringify(input)) throw new Error(`ExecutionAlreadyExists: ${name} with another input`);
    this.executions.set(name, JSON.stringify(input));
  }
}

describe('reconcileBuffered: a lost status event does not strand a waiting run', () => {
  const setup = async () => {
    const claims = memoryClaims();
    const waiting = withPolicy(nightly(), 'buffer');
    const ahead = execution(waiting, 'ahead', '2026-11-24T00:30:00Z');
    await precheck(waiting, { claims, executions: new FakeExecutions([ahead, self(waiting)]) });
    return { claims, waiting, ahead, restart: new IdempotentRestart({ [waiting.execution]: waiting.input }) };
  };
  const reconcile = (stateMachines: string[]) => ({ reconcile: 'buffered-runs' as const, stateMachines });

  it('run A ends and its event is dropped: the reconcile starts the waiting run, which runs its scheduled time', async () => {
    // Prepare
    const { claims, waiting, restart } = await setup();
    // Act: A has ended (nothing runs); no status event ever arrives
    const result = await reconcileBuffered(reconcile([waiting.stateMachine]), { claims, executions: new FakeExecutions([]), restart });
    const resumed = withPolicy(another(nightly(), restart.started[0]!.name, '2026-11-24T04:00:00Z', restart.started[0]!.input), 'buffer');
    const run = await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) });
    // Assess
    const name = bufferedRunName(waiting.execution);
    expect(result.results).toEqual([{ stateMachine: waiting.stateMachine, started: name, reason: `${waiting.executionName} waited, and no run is in progress any more: started as ${name}` }]);
    expect(run).toMatchObject({ run: true, scheduledTime: '2026-11-24T01:30:00Z' });
  });

  it('the event and the reconcile both arriving start the waiting run once, in either order', async () => {
    for (const order of [['event', 'reconcile'], ['reconcile', 'event']]) {
      // Prepare
      const { claims, waiting, ahead, restart } = await setup();
      const deps = { claims, executions: new FakeExecutions([ahead]), restart };
      // Act: each path looks before the other's start is visible (ListExecutions still lists `ahead` only)
      for (const path of order) {
        if (path === 'event') await startBuffered(ended(waiting, ahead.executionArn), deps);
        else await startWaiting(waiting.stateMachine, waiting.execution, undefined, { ...deps, executions: new FakeExecutions([]) });
      }
      const resumed = withPolicy(another(nightly(), bufferedRunName(waiting.execution), '2026-11-24T04:00:00Z', restart.started[0]!.input), 'buffer');
      const prechecks = [
        await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) }),
        await precheck(resumed, { claims, executions: new FakeExecutions([self(resumed)]) }),
      ];
      // Assess: two identical StartExecution calls are one execution, and it runs (its retried precheck too)
      expect(restart.started).toHaveLength(2);
      expect(restart.executions.size).toBe(1);
      expect(prechecks.map((p) => p.run)).toEqual([true, true]);
    }
  });

  it('starts nothing while the run ahead is still in progress, or where nobody waits; one failing job does not stop the others', async () => {
    // Prepare
    const { claims, waiting, ahead, restart } = await setup();
    const other = waiting.stateMachine.replace('nightly-report', 'other-job');
    const broken = waiting.stateMachine.replace('nightly-report', 'broken-job');
    const executions: ExecutionsPort = {
      listRunning: async (machine) => {
        if (machine === broken) throw new Error('Rate exceeded');
        return machine === waiting.stateMachine ? [ahead] : [];
      },
      stop: async () => undefined,
    };
    await claims.claim(claimKeys.buffer(broken), `${broken.replace('stateMachine', 'execution')}:w`, 60_000);
    // Act
    const error = await reconcileBuffered(reconcile([waiting.stateMachine, other, broken]), { claims, executions, restart }).catch((e: Error) => e);
    const quiet = await reconcileBuffered(reconcile([waiting.stateMachine, other]), { claims, executions, restart });
    // Assess
    expect(String(error)).toBe('Error: reconcile of buffered runs: stepcron-dev-broken-job: Rate exceeded');
    expect(quiet.results.map((r) => [r.started, r.reason])).toEqual([[null, `${waiting.executionName} waits for ahead`], [null, 'no run waits']]);
    expect(restart.started).toEqual([]);
  });
});

describe('dynamoClaims', () => {
  const ddb = mockClient(DynamoDBClient);
  afterEach(() => ddb.reset());
  const NOW_MS = Date.parse('2026-11-24T01:30:05Z');
  const claims = () => dynamoClaims(new DynamoDBClient({ region: 'eu-west-1' }), 'stepcron-prod-claims', () => NOW_MS);
  const refused = (item?: Record<string, unknown>) => new ConditionalCheckFailedException({
    message: 'The conditional request failed', $metadata: {}, ...(item && { Item: item as never }),
  });

  it('claims with a conditional put: free, expired, already the owner\'s; the TTL in epoch seconds', async () => {
    // Prepare
    ddb.on(PutItemCommand).resolves({});
    // Act
    const holder = await claims().claim('run#stepcron-prod-nightly-report#2026-11-24T01:30:00.000Z', 'arn:exec-1', RUN_CLAIM_TTL_MS);
    // Assess
    expect(holder).toBe('arn:exec-1');
    expect(ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input)).toEqual([{
      TableName: 'stepcron-prod-claims',
      Item: {
        pk: { S: 'run#stepcron-prod-nightly-report#2026-11-24T01:30:00.000Z' },
        owner: { S: 'arn:exec-1' },
        expiresAt: { N: String(NOW_MS / 1000 + 90 * 24 * 3600) },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':now': { N: String(NOW_MS / 1000) }, ':owner': { S: 'arn:exec-1' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }]);
  });

  it('answers a refused claim with the holder DynamoDB returns (ConditionalCheckFailedException.Item)', async () => {
    // Prepare
    ddb.on(PutItemCommand).rejects(refused({ pk: { S: 'k' }, owner: { S: 'arn:exec-1' }, expiresAt: { N: '1795000000' } }));
    // Act
    const holder = await claims().claim('k', 'arn:exec-2', 1000);
    // Assess
    expect(holder).toBe('arn:exec-1');
  });

  it('accepts a hand-over from the named holder', async () => {
    ddb.on(PutItemCommand).resolves({});
    await claims().claim('k', 'arn:new', 1000, 'arn:buffered');
    const input = ddb.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner OR #owner = :from');
    expect(input.ExpressionAttributeValues?.[':from']).toEqual({ S: 'arn:buffered' });
  });

  it('passes other errors on, and a refusal without the holder is an error too', async () => {
    ddb.on(PutItemCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' })).rejectsOnce(refused());
    await expect(claims().claim('k', 'o', 1)).rejects.toThrow('Rate exceeded');
    await expect(claims().claim('k', 'o', 1)).rejects.toThrow('claim k: DynamoDB refused the write but returned no holder');
  });

  it('releases with a conditional delete: true if this owner held it, false if not', async () => {
    // Prepare
    ddb.on(DeleteItemCommand).resolvesOnce({}).rejectsOnce(refused());
    // Act
    const results = [await claims().release('k', 'arn:exec-1'), await claims().release('k', 'arn:exec-1')];
    // Assess
    expect(results).toEqual([true, false]);
    expect(ddb.commandCalls(DeleteItemCommand)[0]!.args[0].input).toEqual({
      TableName: 'stepcron-prod-claims',
      Key: { pk: { S: 'k' } },
      ConditionExpression: '#owner = :owner AND expiresAt >= :now',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: 'arn:exec-1' }, ':now': { N: String(NOW_MS / 1000) } },
    });
  });

  it('reads the holder consistently; an expired item (not yet deleted by TTL) is nobody\'s', async () => {
    // Prepare
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: { pk: { S: 'k' }, owner: { S: 'arn:exec-1' }, expiresAt: { N: String(NOW_MS / 1000) } } })
      .resolvesOnce({ Item: { pk: { S: 'k' }, owner: { S: 'arn:exec-1' }, expiresAt: { N: String(NOW_MS / 1000 - 1) } } })
      .resolvesOnce({});
    // Act
    const holders = [await claims().holder('k'), await claims().holder('k'), await claims().holder('k')];
    // Assess
    expect(holders).toEqual(['arn:exec-1', undefined, undefined]);
    expect(ddb.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({ TableName: 'stepcron-prod-claims', Key: { pk: { S: 'k' } }, ConsistentRead: true });
  });
});

describe('sfnExecutions and sfnRestart', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-dev-nightly-report';
  const restart = () => sfnRestart(new SFNClient({ region: 'eu-west-1' }));

  it('reads an execution\'s input and starts a named execution', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"scheduledTime":"2026-11-24T01:30:00Z"}' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${machine}:x`, startDate: new Date() });
    // Act
    const input = await restart().input(`${machine}:w`);
    await restart().start(machine, 'w-buffered-00000000', { scheduledTime: '2026-11-24T01:30:00Z', bufferedFrom: 'arn:w' });
    // Assess
    expect(input).toEqual({ scheduledTime: '2026-11-24T01:30:00Z' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: machine, name: 'w-buffered-00000000', input: '{"scheduledTime":"2026-11-24T01:30:00Z","bufferedFrom":"arn:w"}',
    });
  });

  it('counts an execution already started under that name as started (the event came twice)', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(restart().start(machine, 'n', {})).resolves.toBeUndefined();
    await expect(restart().start(machine, 'n', {})).rejects.toThrow('Rate exceeded');
  });

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
  type DynamoSdk = typeof import('@aws-sdk/client-dynamodb');
  type Handler = typeof import('../handlers/precheck')['handler'];
  const savedEnv = { ...process.env };
  afterEach(() => {
    process.env = { ...savedEnv };
  });

  /** The handler reads its env at load: load it afresh, with the SDK it will use, so the mock is the one it calls. */
  function loadHandler(env: Record<string, string>) {
    delete process.env.IS_LOCAL;
    delete process.env.STEPCRON_PRECHECK;
    Object.assign(process.env, { AWS_REGION: 'eu-west-1', CLAIMS_TABLE: 'stepcron-dev-claims' }, env);
    let loaded!: { handler: Handler; sdk: Sdk; sfn: ReturnType<typeof mockClient>; dynamo: DynamoSdk; ddb: ReturnType<typeof mockClient> };
    jest.isolateModules(() => {
      const sdk = require('@aws-sdk/client-sfn') as Sdk;
      const sfn = mockClient(sdk.SFNClient);
      const dynamo = require('@aws-sdk/client-dynamodb') as DynamoSdk;
      const ddb = mockClient(dynamo.DynamoDBClient);
      const { handler } = require('../handlers/precheck') as typeof import('../handlers/precheck');
      loaded = { handler, sdk, sfn, dynamo, ddb };
    });
    return loaded;
  }

  it('replaces an older run through Step Functions, once it has claimed the scheduled time in the table', async () => {
    // Prepare
    const { handler, sdk, sfn, dynamo, ddb } = loadHandler({});
    ddb.on(dynamo.PutItemCommand).resolves({});
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
    expect(ddb.commandCalls(dynamo.PutItemCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({
      TableName: 'stepcron-dev-claims', Item: expect.objectContaining({ pk: { S: 'run#stepcron-dev-nightly-report#2026-11-24T01:30:00.000Z' } }),
    })]);
  });

  it('skips a second delivery as the duplicate DynamoDB names, stopping nothing', async () => {
    // Prepare
    const { handler, sdk, sfn, dynamo, ddb } = loadHandler({});
    const event = { ...nightly(), policy: { ...nightly().policy, concurrency: 'replace' as const } };
    const first = 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-nightly-report:first-delivery';
    sfn.on(sdk.ListExecutionsCommand).resolves({ executions: [] });
    ddb.on(dynamo.PutItemCommand).rejects(new dynamo.ConditionalCheckFailedException({
      message: 'The conditional request failed', $metadata: {}, Item: { pk: { S: 'k' }, owner: { S: first }, expiresAt: { N: '1800000000' } },
    }));
    // Act
    const result = await handler(event, {} as never) as PrecheckResult;
    // Assess
    expect(result).toMatchObject({ run: false, reason: 'duplicate of first-delivery: it has already claimed scheduled time 2026-11-24T01:30:00.000Z' });
    expect(sfn.commandCalls(sdk.StopExecutionCommand)).toHaveLength(0);
  });

  it('starts the run that waited when EventBridge says the run ahead ended', async () => {
    // Prepare
    const { handler, sdk, sfn, dynamo, ddb } = loadHandler({});
    const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-dev-nightly-report';
    const waiting = 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-dev-nightly-report:waiting';
    ddb.on(dynamo.GetItemCommand).resolves({ Item: { pk: { S: 'buffer#stepcron-dev-nightly-report' }, owner: { S: waiting }, expiresAt: { N: '4102444800' } } });
    sfn.on(sdk.ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(sdk.DescribeExecutionCommand).resolves({ input: '{"scheduledTime":"2026-11-24T01:30:00Z"}' });
    sfn.on(sdk.StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    const event = {
      version: '0', id: 'e', source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', account: '123456789012',
      region: 'eu-west-1', time: '2026-11-24T03:00:00Z', resources: ['arn:…:ahead'],
      detail: { executionArn: `${machine.replace('stateMachine', 'execution')}:ahead`, stateMachineArn: machine, name: 'ahead', status: 'FAILED', input: '{}' },
    };
    // Act
    const result = await handler(event, {} as never);
    // Assess
    expect(result).toEqual({ started: bufferedRunName(waiting), reason: `waiting waited for ahead: started as ${bufferedRunName(waiting)}` });
    expect(sfn.commandCalls(sdk.StartExecutionCommand).map((c) => c.args[0].input)).toEqual([{
      stateMachineArn: machine, name: bufferedRunName(waiting), input: JSON.stringify({ scheduledTime: '2026-11-24T01:30:00Z', bufferedFrom: waiting }),
    }]);
  });

  it('reconciles (events/reconcile-buffered-runs.json): starts the run that waited when the run ahead ended and its event was lost', async () => {
    // Prepare: the place is held by `waiting`; the run ahead has ended (ListExecutions lists nothing), no event came
    const { handler, sdk, sfn, dynamo, ddb } = loadHandler({});
    const event = loadEvent<{ reconcile: string; stateMachines: string[] }>('reconcile-buffered-runs');
    const machine = event.stateMachines[0]!;
    const waiting = `${machine.replace(':stateMachine:', ':execution:')}:waiting`;
    ddb.on(dynamo.GetItemCommand).resolves({ Item: { pk: { S: 'buffer#stepcron-dev-nightly-report' }, owner: { S: waiting }, expiresAt: { N: '4102444800' } } });
    sfn.on(sdk.ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(sdk.DescribeExecutionCommand).resolves({ input: '{"scheduledTime":"2026-11-24T01:30:00Z"}' });
    sfn.on(sdk.StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    // Act
    const result = await handler(event, {} as never);
    // Assess
    expect(result).toEqual({ results: [{ stateMachine: machine, started: bufferedRunName(waiting), reason: expect.stringMatching(/^waiting waited, and no run is in progress any more/) }] });
    expect(ddb.commandCalls(dynamo.GetItemCommand)[0]!.args[0].input.Key).toEqual({ pk: { S: 'buffer#stepcron-dev-nightly-report' } });
    expect(sfn.commandCalls(sdk.ListExecutionsCommand)[0]!.args[0].input).toEqual({ stateMachineArn: machine, statusFilter: 'RUNNING' });
    expect(sfn.commandCalls(sdk.StartExecutionCommand).map((c) => c.args[0].input)).toEqual([{
      stateMachineArn: machine, name: bufferedRunName(waiting), input: JSON.stringify({ scheduledTime: '2026-11-24T01:30:00Z', bufferedFrom: waiting }),
    }]);
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
    const short = await precheck(withFanOut({ items: [1, 2, 3] }), { claims: memoryClaims(), executions: new FakeExecutions() });
    const long = await precheck(withFanOut({ items: [1, 2, 3, 4] }), { claims: memoryClaims(), executions: new FakeExecutions() });
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
    const result = await precheck(withFanOut({ itemsFrom: 's3://acme-items/all.json' }, { itemsFrom: url }), { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(url)!;
    expect(result).toMatchObject({ run: true, route, source: { bucket, key }, items: [] });
  });

  it("uses the catalog's itemsFrom when the run names none", async () => {
    const result = await precheck(withFanOut({ itemsFrom: 's3://acme-items/all.csv' }), { claims: memoryClaims(), executions: new FakeExecutions() });
    expect(result).toMatchObject({ route: 'csv', source: { bucket: 'acme-items', key: 'all.csv' } });
  });

  it("runs the run's own items instead of the catalog's itemsFrom (a rerun of two tenants)", async () => {
    const result = await precheck(withFanOut({ itemsFrom: 's3://acme-items/all.csv' }, { items: ['acme', 'globex'] }), { claims: memoryClaims(), executions: new FakeExecutions() });
    expect(result).toMatchObject({ route: 'inline', source: null, items: ['acme', 'globex'] });
  });

  it.each([
    [{ itemsFrom: 's3://elsewhere/t.json' }, /input\.itemsFrom: 's3:\/\/elsewhere\/t\.json': this job may read items only under s3:\/\/acme-items\/ or s3:\/\/stepcron-dev-local\/items\/ .*upload the object there/],
    [{ itemsFrom: 's3://stepcron-dev-local/results/t.json' }, /may read items only under/],
    [{ itemsFrom: 's3://acme-items/t.xml' }, /input\.itemsFrom: 's3:\/\/acme-items\/t\.xml' must be s3:\/\/bucket\/key ending in \.json/],
    [{ itemsFrom: 's3://acme-items/t.json', items: [1] }, /input: give items or itemsFrom, not both/],
  ])('refuses %j before any task starts', async (input, message) => {
    await expect(precheck(withFanOut({ items: [1] }, input), { claims: memoryClaims(), executions: new FakeExecutions() })).rejects.toThrow(message);
  });

  it('refuses itemsFrom for a job that does not fan out', async () => {
    const event = nightly();
    event.input = { itemsFrom: 's3://acme-items/t.json' };
    await expect(precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() })).rejects.toThrow(/input\.itemsFrom: job nightly-report does not fan out/);
  });

  it('gives each container the run input without the list its items came from (the 8 KiB limit is per item)', async () => {
    // Prepare: 500 tenants of 40 characters each: 20 KB as a list, far over ECS's 8 KiB overrides
    const tenants = Array.from({ length: 500 }, (_, i) => `tenant-${String(i).padStart(33, '0')}`);
    const event = withFanOut({ itemsPath: '$.crm.tenants', inlineLimit: 1000 }, { input: { crm: { tenants, region: 'eu' }, dryRun: true } });
    event.policy.input = {};
    // Act
    const result = await precheck(event, { claims: memoryClaims(), executions: new FakeExecutions() });
    // Assess
    expect(result.items).toHaveLength(500);
    expect(result.input).toEqual({ crm: { region: 'eu' }, dryRun: true });
  });
});
