// The local Distributed Map: items read as ItemReader reads them, child executions at most MaxConcurrency at once,
// the tolerance applied as Step Functions applies it, and ResultWriter's files laid out as AWS writes them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildResult, extractDistributedMaps, LOCAL_DISTRIBUTED_MAP, LocalS3, type MapRun, type MapRunContext, parseItems, runDistributedMap } from '../cli/distributed';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepcron-s3-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const processor = { StartAt: 'Work', States: { Work: { Type: 'Pass', End: true } } };
const SM = 'arn:aws:states:local:000000000000:stateMachine:stepcron-dev-tenant-sync';

function context(runChild: MapRunContext['runChild'], signal?: AbortSignal): MapRunContext {
  return { executionArn: `${SM.replace(':stateMachine:', ':execution:')}:e1`, stateMachineArn: SM, s3: new LocalS3(dir), runChild, ...(signal && { signal }) };
}

describe('parseItems', () => {
  it('reads a JSON array, JSON Lines (blank lines skipped) and CSV rows as objects of strings', () => {
    expect(parseItems('[{"id":1},"b"]', 'JSON')).toEqual([{ id: 1 }, 'b']);
    expect(parseItems('{"id":1}\n\n{"id":2}\r\n', 'JSONL')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(parseItems('id,name\r\n1,"Acme, Inc."\n2,"say ""hi""\nthere"\n', 'CSV')).toEqual([
      { id: '1', name: 'Acme, Inc.' }, { id: '2', name: 'say "hi"\nthere' },
    ]);
  });

  it.each([
    ['{"a":1}', 'JSON', /not an array/],
    ['{"a":1}\nnope', 'JSONL', /line 2 is not JSON/],
    ['a,b\n1\n', 'CSV', /row 2 has 1 fields; the header has 2/],
    ['a\n"1\n', 'CSV', /quoted field is not closed/],
  ])('refuses %j as %s, saying where', (text, type, message) => {
    expect(() => parseItems(text, type)).toThrow(message);
  });
});

describe('extractDistributedMaps', () => {
  it('serves a DISTRIBUTED Map as a Task that evaluates its reader and writer, and leaves inline Maps alone', () => {
    // Prepare
    const map = {
      Type: 'Map', ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'CSV' }, Parameters: { 'Bucket.$': '$.b', 'Key.$': '$.k' } },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...processor },
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'b', 'Prefix.$': '$.p' } },
      ResultPath: '$.mapRun', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }], Next: 'Done',
    };
    const inline = { Type: 'Map', ItemsPath: '$.items', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...processor }, Next: 'Done' };
    // Act
    const { definition, maps } = extractDistributedMaps({ StartAt: 'Big', States: { Big: map, Small: inline, Done: { Type: 'Succeed' } } });
    // Assess
    expect(definition.States.Big).toEqual({
      Type: 'Task', Resource: LOCAL_DISTRIBUTED_MAP, ResultPath: '$.mapRun', Catch: map.Catch, Next: 'Done',
      Parameters: { 'input.$': '$', reader: { 'Bucket.$': '$.b', 'Key.$': '$.k' }, writer: { Bucket: 'b', 'Prefix.$': '$.p' } },
    });
    expect(definition.States.Small).toBe(inline);
    expect([...maps.keys()]).toEqual(['Big']);
  });
});

describe('runDistributedMap', () => {
  const state = (fields: Record<string, unknown> = {}) => ({ ItemsPath: '$.items', ItemProcessor: processor, ...fields });

  it('runs every item once, at most MaxConcurrency at once, and returns the outputs in item order', async () => {
    // Prepare
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const child: MapRunContext['runChild'] = async (_d, _input, _e, ctx) => {
      const index = (ctx as { Map: { Item: { Index: number } } }).Map.Item.Index;
      seen.push(index);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, index % 3));
      running--;
      return { status: 'SUCCEEDED', output: index * 2 };
    };
    const runs: MapRun[] = [];
    // Act
    const output = await runDistributedMap(state({ MaxConcurrency: 7 }), { input: {}, items: Array.from({ length: 100 }, (_, i) => i) }, context(child), (r) => runs.push(r));
    // Assess
    expect(output).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(most).toBe(7);
    expect(runs[0]!.status).toBe('SUCCEEDED');
    expect(runs[0]!.itemCounts).toMatchObject({ Total: 100, Succeeded: 100, Failed: 0, Pending: 0, Running: 0 });
  });

  it('succeeds with failures within ToleratedFailurePercentage, and fails the map run past it without starting the rest', async () => {
    // Prepare: items 0-9; every odd item fails
    const child = async (_d: unknown, _i: unknown, _e: unknown, ctx: unknown): Promise<ChildResult> =>
      ((ctx as { Map: { Item: { Index: number } } }).Map.Item.Index % 2 ? { status: 'FAILED', error: 'JobFailed', cause: 'exit 1' } : { status: 'SUCCEEDED', output: 'ok' });
    const items = Array.from({ length: 10 }, (_, i) => i);
    const runs: MapRun[] = [];
    // Act
    await runDistributedMap(state({ MaxConcurrency: 1, ToleratedFailurePercentage: 50 }), { input: {}, items }, context(child), (r) => runs.push(r));
    const failing = runDistributedMap(state({ MaxConcurrency: 1, ToleratedFailurePercentage: 20 }), { input: {}, items }, context(child), (r) => runs.push(r));
    // Assess: 20% of 10 tolerates 2 failures; the third (item 5) fails the run, items 6-9 never start
    await expect(failing).rejects.toMatchObject({ name: 'States.ExceedToleratedFailureThreshold' });
    expect(runs[0]!.itemCounts).toMatchObject({ Succeeded: 5, Failed: 5 });
    expect(runs[1]!).toMatchObject({ status: 'FAILED', itemCounts: { Succeeded: 3, Failed: 3, Pending: 4, Total: 10 } });
  });

  it('reads items from the local S3 folder and writes results, manifest first-class, as AWS lays them out', async () => {
    // Prepare
    mkdirSync(join(dir, 'acme-items'), { recursive: true });
    writeFileSync(join(dir, 'acme-items/tenants.jsonl'), '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n');
    const child = async (_d: unknown, input: unknown, _e: unknown, ctx: unknown): Promise<ChildResult> => {
      const item = (ctx as { Map: { Item: { Value: { id: string } } } }).Map.Item.Value;
      return item.id === 'b' ? { status: 'FAILED', error: 'JobFailed', cause: '{"index":1}' } : { status: 'SUCCEEDED', output: { item, input } };
    };
    const map = state({
      ItemsPath: undefined, ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSONL' } },
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject' }, ToleratedFailurePercentage: 50,
    });
    const runs: MapRun[] = [];
    // Act
    const output = await runDistributedMap(map, { input: { run: 1 }, reader: { Bucket: 'acme-items', Key: 'tenants.jsonl' }, writer: { Bucket: 'results', Prefix: 'results/tenant-sync/e1' } }, context(child), (r) => runs.push(r)) as { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
    // Assess
    const id = runs[0]!.mapRunArn.split(':').at(-1);
    expect(output).toEqual({ MapRunArn: runs[0]!.mapRunArn, ResultWriterDetails: { Bucket: 'results', Key: `results/tenant-sync/e1/${id}/manifest.json` } });
    const read = (key: string) => JSON.parse(readFileSync(join(dir, 'results', key), 'utf8'));
    const manifest = read(output.ResultWriterDetails.Key);
    expect(manifest.ResultFiles.FAILED).toEqual([{ Key: `results/tenant-sync/e1/${id}/FAILED_0.json`, Size: expect.any(Number) }]);
    const failed = read(manifest.ResultFiles.FAILED[0].Key);
    expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'JobFailed', Input: '{"id":"b"}' })]);
    expect(read(manifest.ResultFiles.SUCCEEDED[0].Key).map((r: { Output: string }) => JSON.parse(r.Output).item.id)).toEqual(['a', 'c']);
    expect(runs[0]!.itemCounts.ResultsWritten).toBe(3);
  });

  it('fails with States.ItemReaderFailed naming the object and the local path when it is missing', async () => {
    const map = state({ ItemsPath: undefined, ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' } } });
    const running = runDistributedMap(map, { input: {}, reader: { Bucket: 'acme-items', Key: 'nope.json' } }, context(async () => ({ status: 'SUCCEEDED' })), () => undefined);
    await expect(running).rejects.toMatchObject({ name: 'States.ItemReaderFailed', message: expect.stringMatching(/^NoSuchKey: s3:\/\/acme-items\/nope\.json \(locally .*acme-items\/nope\.json\)/) });
  });

  it('stops starting items and aborts the running ones when the execution is aborted', async () => {
    // Prepare
    const stop = new AbortController();
    let started = 0;
    const child: MapRunContext['runChild'] = (_d, _i, _e, _c, signal) => new Promise<ChildResult>((done) => {
      if (++started === 3) stop.abort();
      if (signal.aborted) done({ status: 'ABORTED' });
      else signal.addEventListener('abort', () => done({ status: 'ABORTED' }), { once: true });
    });
    const runs: MapRun[] = [];
    // Act
    const running = runDistributedMap(state({ MaxConcurrency: 3 }), { input: {}, items: Array.from({ length: 50 }, (_, i) => i) }, context(child, stop.signal), (r) => runs.push(r));
    // Assess
    await expect(running).rejects.toThrow(/aborted/);
    expect(started).toBe(3);
    expect(runs[0]!).toMatchObject({ status: 'ABORTED', itemCounts: { Aborted: 3, Pending: 47 } });
  });

  it('refuses a key that leaves the local S3 folder', () => {
    expect(() => new LocalS3(dir).path('b', '../../etc/passwd')).toThrow(/leaves the local S3 folder/);
  });
});

describe('runDistributedMap without an ItemSelector', () => {
  it('starts each child from its item, as AWS does', async () => {
    // Prepare
    const inputs: unknown[] = [];
    const child: MapRunContext['runChild'] = async (_d, input) => {
      inputs.push(input);
      return { status: 'SUCCEEDED', output: input };
    };
    // Act
    const output = await runDistributedMap({ ItemsPath: '$.items', ItemProcessor: processor, MaxConcurrency: 1 },
      { input: { items: ['a', 'b'], other: 1 }, items: ['a', 'b'] }, context(child), () => undefined);
    // Assess
    expect(inputs).toEqual(['a', 'b']);
    expect(output).toEqual(['a', 'b']);
  });
});
