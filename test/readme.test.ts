// The README read as a newcomer follows it: the complete fan-out job is copied out of it (catalog, script, the shell
// lines that make its S3 file, the input that reruns two tenants) and run with the real CLI; the catalog reference
// and the "coming from" table name only fields the catalog knows, and every field the catalog knows is documented.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIELDS, JobSchema } from '../workflows/catalog';
import type { Summary } from '../cli/run';
import { cleanUp, ROOT, startCli } from './support/cli';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const dirs: string[] = [];
afterAll(() => {
  cleanUp();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The text of a `## ` section, up to the next one. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section '## ${title}'`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The fenced blocks of a section, in order, with their language. */
function blocks(text: string): Array<{ lang: string; body: string }> {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** The rows of the first Markdown table in `text`, as cells (the header row included, the rule row left out). */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.startsWith('|'));
  return lines.filter((l) => !/^\|[-| ]+\|$/.test(l)).map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()));
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Summary;

describe('README: a fan-out job, start to finish', () => {
  const text = section('A fan-out job, start to finish');
  const found = blocks(text);
  const catalog = found.find((b) => b.lang === 'yaml')!.body;
  const script = found.find((b) => b.lang === 'sh')!.body;
  const session = found.find((b) => b.lang === '' && b.body.includes('$ npx stepcron run invoice-run'))!.body;
  const redo = found.find((b) => b.lang === 'json')!.body;

  /** A project as the section leaves it: the catalog, the script, and the S3 file made by the section's commands. */
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-readme-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'workflows'));
    mkdirSync(join(dir, 'jobs'));
    writeFileSync(join(dir, 'workflows', 'jobs.yml'), catalog);
    writeFileSync(join(dir, 'jobs', 'invoice-run.sh'), script);
    const commands = session.split('\n').filter((l) => l.startsWith('$ ') && !l.includes('npx stepcron')).map((l) => l.slice(2));
    execFileSync('sh', ['-c', commands.join('\n')], { cwd: dir });
    return dir;
  }

  it('validates, and runs each tenant of the S3 file as the section shows', async () => {
    // Prepare
    const dir = project();
    // Act
    const validate = await startCli(['validate'], { cwd: dir }).done;
    const run = await startCli(['run', 'invoice-run', '--skip-waits', '--json'], { cwd: dir }).done;
    // Assess
    expect(validate.code).toBe(0);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.items).toMatchObject({ total: 3, succeeded: 3, failed: 0 });
    // The lines the section prints, each tenant's under its name.
    for (const line of session.split('\n').filter((l) => l.startsWith('['))) {
      expect(run.stderr).toContain(line.slice(0, line.indexOf(', scheduled ')));
    }
    expect(run.stderr).toContain('→ FanOutJsonl');
  }, 30_000);

  it("reruns two tenants with the section's input, instead of the S3 file", async () => {
    // Prepare
    const dir = project();
    writeFileSync(join(dir, 'redo.json'), redo);
    // Act
    const run = await startCli(['run', 'invoice-run', '--skip-waits', '--json', '--event', 'redo.json'], { cwd: dir }).done;
    // Assess
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout).items).toMatchObject({ total: 2, succeeded: 2 });
    expect(run.stderr).toMatch(/^\[globex\] invoicing globex/m);
    expect(run.stderr).not.toContain('[acme]');
  }, 30_000);
});

describe('README: fields', () => {
  const fields = Object.keys(JobSchema.shape).sort();

  it('the catalog reference documents every field of a job, and only those', () => {
    const rows = tableRows(section('Catalog reference')).slice(1);
    const documented = rows.flatMap((cells) => [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
    expect([...new Set(documented)].sort()).toEqual(fields);
  });

  it("the 'coming from' table maps to fields the catalog has", () => {
    const rows = tableRows(section('Coming from crontab, Kubernetes CronJob or Copilot')).slice(1);
    // In the stepcron column: `field`, `field: value`, `field.sub`; commands (`stepcron …`) and values are not fields.
    const named = rows.flatMap((cells) => [...cells.at(-1)!.matchAll(/`([a-z][A-Za-z]*)(?=[:.`])/g)].map((m) => m[1]!))
      .filter((word) => !['stepcron', 'resume', 'cron', 'rate', 'fargate', 'spot', 'allow', 'forbid', 'replace', 'buffer', 'notify'].includes(word) || fields.includes(word));
    expect(named.length).toBeGreaterThan(20);
    // Fields anywhere in a job (fanOut.maxConcurrency, exitCodes.fail, ...), and the stage param enabledJobs.
    const known = [...Object.values(FIELDS).flat(), 'enabledJobs'];
    expect(named.filter((word) => !known.includes(word))).toEqual([]);
  });
});
