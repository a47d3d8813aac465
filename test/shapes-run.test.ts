// The catalog of every job shape, hostile text in every field (test/support/shapes-catalog.ts), run locally through
// the real CLI, as a user would: each job ends SUCCEEDED, and what a job received — its arguments, its environment,
// its fan-out item — is the text the catalog holds, byte for byte (AWS hands it over the same way).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCatalog } from '../workflows/catalog';
import { BIN } from './support/cli';
import { HOSTILE_TEXT, shapesCatalog } from './support/shapes-catalog';

const dir = mkdtempSync(join(tmpdir(), 'stepcron-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The S3 item lists the catalog's itemsFrom jobs read, under --s3-dir; items with quotes and Sub syntax too. */
function writeItems(): void {
  const bucket = join(dir, 's3', 'shapes-items');
  mkdirSync(bucket, { recursive: true });
  writeFileSync(join(bucket, 'list.json'), JSON.stringify([{ id: 'a "quoted" ${x}' }, 'b\\c']));
  writeFileSync(join(bucket, 'list.jsonl'), '{"id":"a \\"q\\" ${y}"}\n{"id":"b"}\n');
  writeFileSync(join(bucket, 'list.csv'), 'id,note\nt1,"has ""quotes"" and ${z}"\nt2,plain\n');
}

function run(job: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'run', job, '--catalog', 'jobs.yml', '--s3-dir', 's3', '--skip-waits', '--json'],
    { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('every job shape with hostile text, run locally through the CLI', () => {
  writeFileSync(join(dir, 'jobs.yml'), shapesCatalog());
  writeItems();
  const jobs = parseCatalog(shapesCatalog(), { stage: 'dev', file: 'jobs.yml' });

  it.each(jobs.map((j) => j.name))('%s ends SUCCEEDED, and its job printed the catalog text unchanged', (name) => {
    // Act
    const r = run(name);
    // Assess
    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1) ?? '{}') as { status?: string };
    expect({ code: r.code, status: summary.status, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, status: 'SUCCEEDED', stderr: '' });
    // printf '%s\n' TEXT NAME: each argument on its own line(s), as the catalog wrote it; a fan-out's lines are
    // prefixed with their item, so each line is looked for on its own there.
    const job = jobs.find((j) => j.name === name)!;
    if (!job.fanOut) expect(r.stdout).toContain(`${HOSTILE_TEXT}\n${name}\n`);
    else for (const line of [...HOSTILE_TEXT.split('\n'), name]) expect(`${r.stdout}${r.stderr}`).toContain(line);
  });

  it('hands every fan-out item to its task unchanged: quotes, backslashes, ${...}, unicode', () => {
    // Act
    const items = (name: string) => (JSON.parse(run(name).stdout.trimEnd().split('\n').at(-1)!) as { tasks: Array<{ item: unknown }> }).tasks.map((t) => t.item);
    // Assess: the catalog's items, and the S3 files' items as AWS's ItemReader parses them
    const flat = HOSTILE_TEXT.replace(/\n/g, ' ');
    expect(items('inline-fanout')).toEqual([flat, { id: HOSTILE_TEXT }, 3]);
    expect(items('input-fanout')).toEqual([flat, 'b']);
    expect(items('s3-json')).toEqual([{ id: 'a "quoted" ${x}' }, 'b\\c']);
    expect(items('s3-jsonl')).toEqual([{ id: 'a "q" ${y}' }, { id: 'b' }]);
    expect(items('s3-csv')).toEqual([{ id: 't1', note: 'has "quotes" and ${z}' }, { id: 't2', note: 'plain' }]);
  });
});
