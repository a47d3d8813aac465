// Local runs take every item and input value AWS takes, and hand it to the job unchanged (issue 13): any string, with
// `${`, quotes, backslashes, unicode and newlines, as a fan-out item (inline, itemsPath, S3 .json/.jsonl/.csv) or as a
// run input value, reaches the job's STEPCRON_ITEM and STEPCRON_INPUT as the JSON AWS's States.JsonToString makes of it.
// Real local runs: the process backend, each job writing what it got to a file of its own.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { processBackend } from '../cli/backends/process';
import { runLocal, type Summary } from '../cli/run';
import { Store } from '../cli/store';
import type { Job } from '../workflows/catalog';
import { jobFrom } from './support/workflow';

const SEED = Number(process.env.FUZZ_SEED ?? 1307);

let dir: string;
let store: Store;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepcron-strings-'));
  store = Store.open(join(dir, '.stepcron'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fan-out job whose every task writes its STEPCRON_ITEM and STEPCRON_INPUT (two lines of JSON) to a file in $OUT. */
function echoJob(fanOut: string): Job {
  return jobFrom(`
jobs:
  echo:
    description: echoes what it got
    schedule: rate(1 hour)
    image: local:1
    command: [sh, -c, 'printf "%s\\n%s" "$STEPCRON_ITEM" "$STEPCRON_INPUT" > "$OUT/$$"']
    retries: 0
    concurrency: allow
    input:
      fixed: 'a "default" \\ value'
    fanOut:
      ${fanOut}
      maxConcurrency: 4
`);
}

/** Runs the job and returns what each task got: its item and its input, parsed back from the JSON the job saw. */
async function echoed(job: Job, input: unknown, s3Dir: string): Promise<{ summary: Summary; got: Array<{ item: unknown; input: unknown }> }> {
  const out = mkdtempSync(join(dir, 'out-'));
  const errors: string[] = [];
  const summary = await runLocal({
    job: { ...job, environment: { ...job.environment, OUT: out } }, stage: 'test', input, backend: processBackend(), history: store,
    skipWaits: true, s3Dir, err: (text) => errors.push(text), out: () => undefined,
  });
  if (summary.status !== 'SUCCEEDED') throw new Error(`${summary.status}: ${summary.error}: ${summary.cause}\n${errors.join('')}`);
  const got = readdirSync(out).map((f) => {
    const [item, jobInput] = readFileSync(join(out, f), 'utf8').split('\n');
    return { item: JSON.parse(item!), input: JSON.parse(jobInput!) };
  });
  rmSync(out, { recursive: true, force: true });
  return { summary, got };
}

// Hostile fragments, glued to arbitrary text: what broke before (a quote, a backslash) and what else text may hold.
const fragment = fc.constantFrom('"', '\\', '\\"', '${', '${date}', "'", '\n', '\r\n', '\t', '\u0000', '\u2028', 'é', '日本', '😀', '{}', '$.x', ',');
const text = fc.array(fc.oneof(fragment, fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 5 }).map((parts) => parts.join(''));
const item = fc.oneof(text, fc.record({ n: text }), fc.array(text, { maxLength: 2 }));
const items = fc.array(item, { minLength: 1, maxLength: 4 });
const sortJson = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();

describe('local runs hand every item and input value to the job unchanged', () => {
  it('property: arbitrary strings as inline items (run input) and as input values reach STEPCRON_ITEM and STEPCRON_INPUT', async () => {
    const job = echoJob('items: [placeholder]');
    await fc.assert(fc.asyncProperty(items, text, async (list, value) => {
      // Act
      const { got } = await echoed(job, { items: list, input: { value } }, join(dir, 's3'));
      // Assess: each item once, as given; every task saw the merged input as given
      expect(sortJson(got.map((g) => g.item))).toEqual(sortJson(list));
      for (const g of got) expect(g.input).toEqual({ fixed: 'a "default" \\ value', value });
    }), { seed: SEED, numRuns: 12, interruptAfterTimeLimit: 8000 });
  });

  it('property: arbitrary strings as items of an S3 .jsonl object (a Distributed Map) reach STEPCRON_ITEM unchanged', async () => {
    const s3Dir = join(dir, 's3');
    mkdirSync(join(s3Dir, 'acme-items'), { recursive: true });
    const job = echoJob('itemsFrom: s3://acme-items/items.jsonl');
    await fc.assert(fc.asyncProperty(items, async (list) => {
      // Prepare
      writeFileSync(join(s3Dir, 'acme-items/items.jsonl'), list.map((i) => JSON.stringify(i)).join('\n'));
      // Act
      const { got } = await echoed(job, {}, s3Dir);
      // Assess
      expect(sortJson(got.map((g) => g.item))).toEqual(sortJson(list));
    }), { seed: SEED, numRuns: 8, interruptAfterTimeLimit: 8000 });
  });

  it.each([
    ['itemsPath items', 'itemsPath: $.list', { input: { list: ['a"b', { n: 'x"y' }, 'c\\d'] } }, undefined, ['a"b', { n: 'x"y' }, 'c\\d']],
    ['an S3 .json array', 'itemsFrom: s3://acme-items/items.json', {}, ['items.json', '["a\\"b", {"n": "x\\"y\\\\z"}]'], ['a"b', { n: 'x"y\\z' }]],
    ['an S3 .csv with quoted fields', 'itemsFrom: s3://acme-items/items.csv', {}, ['items.csv', 'name,path\n"has ""quotes""",c:\\dir\n'],
      [{ name: 'has "quotes"', path: 'c:\\dir' }]],
  ])('%s with quotes and backslashes reach the job unchanged', async (_what, fanOut, input, object, expected) => {
    // Prepare
    const s3Dir = join(dir, 's3');
    mkdirSync(join(s3Dir, 'acme-items'), { recursive: true });
    if (object) writeFileSync(join(s3Dir, 'acme-items', object[0]!), object[1]!);
    // Act
    const { got } = await echoed(echoJob(fanOut), input, s3Dir);
    // Assess
    expect(sortJson(got.map((g) => g.item))).toEqual(sortJson(expected));
  });
});
