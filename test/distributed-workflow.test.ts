// Distributed fan-out on the deployed definition: the real precheck routes the run (S3 object or a list longer than
// one history holds), the local runner serves the Distributed Map, and counts, tolerance and notifications follow.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryClaims, precheck } from '../handlers/lib/precheck';
import { localInfra } from '../cli/engine';
import { compile, inlineItemLimit, runTimeoutSeconds } from '../workflows/compile';
import { loadEvent } from './events';
import { ecsTask, envOf, hangingTask, jobFrom, runJob } from './support/workflow';
import type { PrecheckEvent } from '../handlers/lib/contracts';
import type { AslValidator } from '../workflows/validate';

const validateAsl = require('asl-validator') as (definition: unknown, options: object) => ReturnType<AslValidator>;

const job = (tolerated: number, fanOut = 'itemsFrom: s3://acme-items/tenants.csv') => jobFrom(`
jobs:
  sync:
    description: per-tenant sync
    schedule: rate(1 hour)
    image: sync:1
    command: [sh, sync.sh]
    retries: 1
    fanOut: { ${fanOut}, maxConcurrency: 8, toleratedFailurePercentage: ${tolerated} }
`);
const realPrecheck = { precheck: (e: Parameters<typeof precheck>[0]) => precheck(e, { executions: { listRunning: async () => [], stop: async () => undefined }, claims: memoryClaims() }) };
const itemOf = (p: Parameters<typeof envOf>[0]) => JSON.parse(envOf(p).STEPCRON_ITEM!);

let s3Dir: string;
beforeEach(() => {
  s3Dir = mkdtempSync(join(tmpdir(), 'stepcron-s3-'));
  mkdirSync(join(s3Dir, 'acme-items'));
  writeFileSync(join(s3Dir, 'acme-items/tenants.csv'), `id,region\n${Array.from({ length: 200 }, (_, i) => `t${i},eu`).join('\n')}\n`);
});
afterEach(() => rmSync(s3Dir, { recursive: true, force: true }));

describe('distributed fan-out', () => {
  it("runs every row of the catalog's CSV once as a child execution, and the counts come from DescribeMapRun", async () => {
    // Act
    const { outcome, calls } = await runJob(job(0), realPrecheck, {}, { s3Dir });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    const ids = calls.runTask.map((p) => itemOf(p).id);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
    expect(itemOf(calls.runTask[0]!)).toEqual({ id: expect.stringMatching(/^t\d+$/), region: 'eu' });
    expect(new Set(calls.runTask.map((p) => p.StartedBy)).size).toBe(200);
    // Nothing failed and onSuccess is off: no notification
    expect(calls.notify).toHaveLength(0);
  });

  it("reads a run's itemsFrom in JSON Lines from the stage bucket, and reports items that failed within the tolerance", async () => {
    // Prepare
    mkdirSync(join(s3Dir, 'stepcron-test-local/items'), { recursive: true });
    writeFileSync(join(s3Dir, 'stepcron-test-local/items/run.jsonl'), ['a', 'b', 'c', 'd', 'e'].map((id) => JSON.stringify({ id })).join('\n'));
    // Act: item c fails both attempts
    const { outcome, calls } = await runJob(job(25), { ...realPrecheck, runTask: (p) => ecsTask(itemOf(p).id === 'c' ? 1 : 0) },
      { itemsFrom: 's3://stepcron-test-local/items/run.jsonl' }, { s3Dir });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask.filter((p) => itemOf(p).id === 'c')).toHaveLength(2);
    expect(calls.notify).toEqual([expect.objectContaining({
      status: 'SUCCEEDED',
      counts: { known: true, total: 5, succeeded: 4, failed: 1, timedOut: 0, aborted: 0 },
      resultsAt: { bucket: 'stepcron-test-local', prefix: 'results/sync/run-1' },
    })]);
    // The failed item's record is where the notification says, with its error
    const runDir = join(s3Dir, 'stepcron-test-local/results/sync/run-1');
    const [mapRunId] = readdirSync(runDir);
    const failed = JSON.parse(readFileSync(join(runDir, mapRunId!, 'FAILED_0.json'), 'utf8'));
    expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'JobFailed', Input: '{"id":"c"}' })]);
    expect(JSON.parse(failed[0].Cause)).toMatchObject({ index: 2, item: { id: 'c' }, outcome: { exitCode: 1, attempts: 2 } });
  });

  it('fails the run past the tolerance with FanOutToleranceExceeded, and notifies with the counts', async () => {
    // Act: every item fails
    const { outcome, calls } = await runJob(job(10), { ...realPrecheck, runTask: () => ecsTask(3) }, {}, { s3Dir });
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'FanOutToleranceExceeded', cause: 'more than 10% of the items failed' });
    expect(calls.notify).toHaveLength(1);
    expect(calls.notify[0]!.outcome).toMatchObject({ error: 'FanOutToleranceExceeded', counts: { known: true, failed: expect.any(Number), total: 200 } });
    // The map run stopped starting items once 21 had failed (8 at a time): far fewer than 200 ran
    expect(calls.runTask.length).toBeLessThan(200 * 2);
  });

  it('fails with FanOutFailed naming States.ItemReaderFailed when the object is missing, before any task starts', async () => {
    // Act
    const { outcome, calls } = await runJob(job(0, 'itemsFrom: s3://acme-items/missing.json'), realPrecheck, {}, { s3Dir });
    // Assess
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'FanOutFailed' });
    expect(outcome.cause).toMatch(/^States\.ItemReaderFailed: NoSuchKey: s3:\/\/acme-items\/missing\.json/);
    expect(calls.runTask).toHaveLength(0);
    expect(calls.notify[0]).toMatchObject({ status: 'FAILED', outcome: { error: 'FanOutFailed' } });
  });

  it('takes a list longer than one inline history holds through the Distributed Map, each item in its own history', async () => {
    // Prepare: one more item than inline Map may take with retries: 1
    const fanOut = job(0, 'itemsPath: $.tenants');
    const count = inlineItemLimit(fanOut) + 1;
    const tenants = Array.from({ length: count }, (_, i) => `t${i}`);
    // Act
    const { outcome, calls } = await runJob(fanOut, realPrecheck, { input: { tenants } }, { s3Dir });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.runTask).toHaveLength(count);
    expect(outcome.events.some((e) => 'state' in e && e.state.name === 'FanOutDistributed')).toBe(true);
    // The parent's history holds the Map, not its items
    expect(outcome.historyEvents).toBeLessThan(200);
  });
});

describe('the deployed definition of an S3 fan-out', () => {
  it('is a valid Distributed Map per format: STANDARD child executions, the job\'s concurrency and tolerance, results to S3', () => {
    // Prepare
    const fanOut = jobFrom(`
jobs:
  sync:
    description: 100,000 tenants from S3
    schedule: rate(1 day)
    image: sync:1
    command: [sh, sync.sh]
    fanOut: { itemsFrom: s3://acme-items/tenants.jsonl, maxConcurrency: 1000, toleratedFailurePercentage: 1 }
`);
    // Act
    const definition = compile(fanOut, localInfra(fanOut, 'prod'));
    const { isValid, errorsText } = validateAsl(structuredClone(definition), { checkArn: true, checkPaths: true });
    // Assess
    expect([isValid, isValid ? '' : errorsText()]).toEqual([true, '']);
    for (const [state, inputType] of [['FanOutJson', 'JSON'], ['FanOutJsonl', 'JSONL'], ['FanOutCsv', 'CSV']] as const) {
      expect(definition.States[state]).toMatchObject({
        Type: 'Map',
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: inputType } },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: `RunTask-${state.slice('FanOut'.length).toLowerCase()}` },
        MaxConcurrency: 1000,
        ToleratedFailurePercentage: 1,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'stepcron-prod-local' } },
      });
    }
    // Inline Map is capped at 40 whatever the job allows
    expect(definition.States.FanOut).toMatchObject({ MaxConcurrency: 40, ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } } });
  });

  it('routes a 100,000-line JSON Lines object to the JSONL reader without reading it in the precheck', async () => {
    // Prepare
    const event = { ...loadEvent<PrecheckEvent>('precheck-tenant-sync'), input: { itemsFrom: 's3://stepcron-dev-local/items/100k.jsonl' } };
    // Act
    const result = await precheck(event, { executions: { listRunning: async () => [], stop: async () => undefined }, claims: memoryClaims() });
    // Assess
    expect(result).toMatchObject({ run: true, route: 'jsonl', items: [], source: { bucket: 'stepcron-dev-local', key: 'items/100k.jsonl' } });
    expect(JSON.stringify(result).length).toBeLessThan(2000);
  });
});

describe('the run deadline', () => {
  it('covers every attempt of a single task, and a fan-out sized for 100,000 items at its concurrency, at most a year', () => {
    // Prepare
    const single = jobFrom('jobs:\n  one:\n    description: d\n    schedule: rate(1 day)\n    image: i:1\n    command: [x]\n    timeoutSeconds: 600\n    retries: 2\n    maxDelaySeconds: 120\n');
    const wide = jobFrom('jobs:\n  wide:\n    description: d\n    schedule: rate(1 day)\n    image: i:1\n    command: [x]\n    timeoutSeconds: 60\n    retries: 0\n    fanOut: { itemsFrom: s3://acme-items/k.json, maxConcurrency: 1000 }\n');
    const narrow = jobFrom('jobs:\n  slow:\n    description: d\n    schedule: rate(1 day)\n    image: i:1\n    command: [x]\n    timeoutSeconds: 3600\n    fanOut: { itemsPath: $.t, maxConcurrency: 1 }\n');
    // Act / Assess: 3 attempts of 600 s, 2 back-offs of at most 120 s, 900 s for the Lambdas
    expect(runTimeoutSeconds(single)).toBe(3 * 600 + 2 * 120 + 900);
    // 100,000 items, 1,000 at a time: 100 waves of one 60 s attempt
    expect(runTimeoutSeconds(wide)).toBe(100 * 60 + 900);
    expect(runTimeoutSeconds(narrow)).toBe(365 * 24 * 3600);
  });
});

describe('a Distributed Map ends with its execution', () => {
  it('starts no item once the run has timed out', async () => {
    // Prepare: 100 items of 300 ms, 2 at a time, in a run that times out after 1 s
    const fanOut = job(0, 'itemsPath: $.tenants');
    const tenants = Array.from({ length: inlineItemLimit(fanOut) + 100 }, (_, i) => `t${i}`);
    let startedAfterEnd = 0;
    let ended = false;
    const slow = async () => {
      if (ended) startedAfterEnd++;
      await new Promise((done) => setTimeout(done, 300));
      return ecsTask(0);
    };
    const definition = { ...compile(fanOut, localInfra(fanOut, 'test')), TimeoutSeconds: 1 };
    definition.States.FanOutDistributed = { ...definition.States.FanOutDistributed, MaxConcurrency: 2 };
    // Act
    const { execute, newExecution } = await import('../cli/engine');
    const outcome = await execute(definition, { input: { tenants } }, newExecution(fanOut, 'test', 'timeout-1'), {
      services: {
        ...realPrecheck,
        notify: async () => ({ delivered: [], subject: '', message: '' }),
        runTask: slow, listTasks: async () => [], stopTask: async () => undefined,
      },
      s3Dir,
    });
    ended = true;
    await new Promise((done) => setTimeout(done, 700));
    // Assess: the tasks that were running are stopped by the run's own clean-up (cli/run.ts), none is started after
    expect(outcome.status).toBe('TIMED_OUT');
    expect(startedAfterEnd).toBe(0);
  });
});

describe('a Distributed Map item that times out', () => {
  it('counts under failed (its child execution ended in the JobTimedOut Fail state), as DescribeMapRun would', async () => {
    // Prepare: two items whose tasks never end; each attempt times out after 1 s and is stopped
    const fanOut = jobFrom(`
jobs:
  sync:
    description: per-tenant sync
    schedule: rate(1 hour)
    image: sync:1
    command: [sh, sync.sh]
    retries: 0
    timeoutSeconds: 1
    fanOut: { itemsFrom: s3://acme-items/two.json, toleratedFailurePercentage: 100 }
`);
    writeFileSync(join(s3Dir, 'acme-items/two.json'), '["a","b"]');
    // Act
    const { outcome, calls } = await runJob(fanOut, { ...realPrecheck, runTask: hangingTask }, {}, { s3Dir });
    // Assess
    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls.stopTask).toHaveLength(2);
    expect(calls.notify[0]!.counts).toEqual({ known: true, total: 2, succeeded: 0, failed: 2, timedOut: 0, aborted: 0 });
  });
});
