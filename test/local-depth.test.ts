// Deeply nested JSON (issue 13): AWS documents no depth limit, the local engine has one (workflows/limits.ts,
// LOCAL_DEPTH_LIMIT). Everything up to it runs, through a real local run; past it the run is refused in one line
// within a second: nothing recorded, no slot held, no stack trace. Before, 2,000 levels hung the run and 5,000 exited 3.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processBackend } from '../cli/backends/process';
import { LocalLimitError } from '../cli/errors';
import { runLocal } from '../cli/run';
import { Store } from '../cli/store';
import { jsonDepth, LOCAL_DEPTH_LIMIT } from '../workflows/limits';
import { cleanUp, startCli, workspace } from './support/cli';
import { jobFrom } from './support/workflow';

/** `levels` nested arrays around 1 (2 characters a level, so a deep input still fits ECS's 8 KiB of overrides). */
const nestedArrays = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}1${']'.repeat(levels)}`);
const nestedObjects = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'stepcron-depth-')); });
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanUp();
});

/** A job that writes the STEPCRON_INPUT (or, fanned out, the STEPCRON_ITEM) it got to $OUT/<pid>. */
const echo = (fanOut = '') => {
  const job = jobFrom(`
jobs:
  deep:
    description: deep input
    schedule: rate(1 hour)
    image: local:1
    command: [sh, -c, 'printf "%s" "\${STEPCRON_ITEM:-$STEPCRON_INPUT}" > "$OUT/$$"']
    retries: 0
${fanOut}`);
  mkdirSync(join(dir, 'out'), { recursive: true });
  return { ...job, environment: { ...job.environment, OUT: join(dir, 'out') } };
};
const run = (job: ReturnType<typeof echo>, input: unknown, store: Store) => runLocal({
  job, stage: 'test', input, backend: processBackend(), history: store, skipWaits: true, s3Dir: join(dir, 's3'),
  err: () => undefined, out: () => undefined,
});
const received = () => readdirSync(join(dir, 'out')).map((f) => JSON.parse(readFileSync(join(dir, 'out', f), 'utf8')) as unknown);

describe('jsonDepth', () => {
  it('counts levels of objects and arrays without recursion, at any depth', () => {
    expect([jsonDepth(1), jsonDepth(null), jsonDepth({}), jsonDepth([]), jsonDepth({ a: [1, { b: 2 }] })]).toEqual([0, 0, 1, 1, 3]);
    expect(jsonDepth(nestedArrays(100_000))).toBe(100_000);
    expect(jsonDepth(nestedObjects(100_000), 10)).toBe(11);
  });
});

describe('local runs and deeply nested input', () => {
  it(`a run input nested ${LOCAL_DEPTH_LIMIT} levels deep (the local limit) runs, and the job gets it unchanged`, async () => {
    // Prepare: {input: {v: …}} is 2 levels of the limit
    const store = Store.open(join(dir, '.stepcron'));
    const v = nestedArrays(LOCAL_DEPTH_LIMIT - 2);
    // Act
    const summary = await run(echo(), { input: { v } }, store);
    // Assess
    expect(summary.status).toBe('SUCCEEDED');
    expect(received()).toEqual([{ v }]);
    store.close();
  });

  it('objects that deep run too, and fail only where AWS fails them (ECS takes 8 KiB of overrides): not a hang', async () => {
    const store = Store.open(join(dir, '.stepcron'));
    const summary = await run(echo(), { input: { v: nestedObjects(LOCAL_DEPTH_LIMIT - 2) } }, store);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'PrecheckFailed' });
    expect(summary.cause).toContain('ECS allows 8 KiB');
    store.close();
  });

  it('a fan-out item nested to the limit runs, inline and from an S3 .jsonl object', async () => {
    const store = Store.open(join(dir, '.stepcron'));
    // Inline: {items: [item]} is 2 levels of the limit.
    const inline = nestedArrays(LOCAL_DEPTH_LIMIT - 2);
    expect((await run(echo('    fanOut:\n      items: [1]'), { items: [inline] }, store)).status).toBe('SUCCEEDED');
    expect(received()).toEqual([inline]);
    rmSync(join(dir, 'out'), { recursive: true });
    // S3: the item itself may be as deep as the limit.
    const fromS3 = nestedArrays(LOCAL_DEPTH_LIMIT);
    mkdirSync(join(dir, 's3', 'acme-items'), { recursive: true });
    writeFileSync(join(dir, 's3', 'acme-items', 'items.jsonl'), `${JSON.stringify(fromS3)}\n`);
    expect((await run(echo('    fanOut:\n      itemsFrom: s3://acme-items/items.jsonl'), {}, store)).status).toBe('SUCCEEDED');
    expect(received()).toEqual([fromS3]);
    store.close();
  });

  it.each([LOCAL_DEPTH_LIMIT + 1, 2_500, 5_000, 100_000])('a run input %i levels deep is refused at once, naming the local limit: nothing recorded, no slot held', async (levels) => {
    // Prepare
    const store = Store.open(join(dir, '.stepcron'));
    const started = Date.now();
    // Act
    const refused = run(echo(), { input: { v: nestedObjects(levels - 2) } }, store);
    // Assess
    await expect(refused).rejects.toThrow(LocalLimitError);
    await expect(refused).rejects.toThrow(`the run input is nested more than 1,500 levels deep: the most the local runner takes (a limit of stepcron's local engine, not of AWS, which documents none)`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(store.list()).toEqual([]);
    store.close();
  });

  it('an S3 item past the limit fails the run as the ItemReader would, naming the item and the local limit, before any task', async () => {
    const store = Store.open(join(dir, '.stepcron'));
    mkdirSync(join(dir, 's3', 'acme-items'), { recursive: true });
    writeFileSync(join(dir, 's3', 'acme-items', 'items.jsonl'), `1\n${JSON.stringify(nestedArrays(LOCAL_DEPTH_LIMIT + 1))}\n`);
    const summary = await run(echo('    fanOut:\n      itemsFrom: s3://acme-items/items.jsonl'), {}, store);
    expect(summary).toMatchObject({ status: 'FAILED', error: 'FanOutFailed', tasks: [] });
    expect(summary.cause).toContain('States.ItemReaderFailed: s3://acme-items/items.jsonl: item 1 is nested more than 1,500 levels deep');
    expect(store.list()[0]!.status).toBe('FAILED');
    store.close();
  });

  it('stepcron run --event with 5,000 levels exits 2 with one line, in a second, and stores nothing', async () => {
    // Prepare
    const cwd = workspace({ deep: { command: 'exit 0' } });
    writeFileSync(join(cwd, 'deep.json'), `{"input":{"v":${'['.repeat(5_000)}1${']'.repeat(5_000)}}}`);
    // Act
    const started = Date.now();
    const result = await startCli(['run', 'deep', '--catalog', 'jobs.yml', '--event', 'deep.json'], { cwd }).done;
    // Assess: one line, no stack trace; the store holds no run (the CLI's start-up is not counted in the second)
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^stepcron: run: the run input is nested more than 1,500 levels deep: the most the local runner takes \(a limit of stepcron's local engine, not of AWS, which documents none\); flatten it, or pass an S3 key instead of the data\n$/);
    expect(Date.now() - started).toBeLessThan(5000);
    const runs = await startCli(['runs', 'deep', '--catalog', 'jobs.yml'], { cwd }).done;
    expect(runs.stdout).not.toMatch(/RUNNING|ABORTED|FAILED|SUCCEEDED/);
  });

  it('stepcron run --event over 256 KiB of text (whitespace counts, as AWS counts it) exits 2 with one line, before it is parsed', async () => {
    // Prepare: 200 KiB of data, pretty-printed to over 256 KiB
    const cwd = workspace({ big: { command: 'exit 0' } });
    writeFileSync(join(cwd, 'big.json'), JSON.stringify({ input: { list: Array.from({ length: 40_000 }, (_, i) => i) } }, null, 8));
    // Act
    const result = await startCli(['run', 'big', '--catalog', 'jobs.yml', '--event', 'big.json'], { cwd }).done;
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^stepcron: --event: big\.json is \d+ KiB; Step Functions takes at most 256 KiB of input, counted as sent \(whitespace included\): minify it, or put the data in S3 and pass its key\n$/);
  });
});
