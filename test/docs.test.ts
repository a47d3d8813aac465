// The docs read as a newcomer follows them. The README's tour and a few command examples of the pages are run again
// with the real CLI on the sample project and must print what the page shows (ids and clock times aside); the
// complete fan-out job of docs/catalog.md is copied out of it (catalog, script, the shell lines that make its S3 file,
// the input that reruns two tenants) and run; the catalog reference documents every field the catalog knows and the
// "coming from" table names only those; docs/cli.md is what `npm run docs:cli` writes today; the README stays short;
// and every relative link points at a file (and heading) that exists.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FIELDS, JobSchema } from '../workflows/catalog';
import type { Summary } from '../cli/run';
import { cleanUp, ROOT, startCli } from './support/cli';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const dirs: string[] = [];
afterAll(() => {
  cleanUp();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The text of a `## ` section of a page, up to the next one. */
function section(file: string, title: string): string {
  const text = read(file);
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`${file} has no section '## ${title}'`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The fenced blocks of a text, in order, with their language. */
function blocks(text: string): Array<{ lang: string; body: string }> {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** The rows of the Markdown table whose header row starts with `header`, as cells (header included, rule left out). */
function tableRows(text: string, header: string): string[][] {
  const start = text.indexOf(`\n${header}`);
  if (start < 0) throw new Error(`no table starting '${header}'`);
  const lines = [];
  for (const line of text.slice(start + 1).split('\n')) {
    if (!line.startsWith('|')) break;
    lines.push(line);
  }
  return lines.filter((l) => !/^\|[-| ]+\|$/.test(l)).map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim()));
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Summary;

/** A copy of the sample project (serverless.yml, the catalog, the job scripts) in a git repository, as cloned. */
function sampleProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-docs-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'workflows'));
  cpSync(join(ROOT, 'serverless.yml'), join(dir, 'serverless.yml'));
  cpSync(join(ROOT, 'workflows', 'jobs.yml'), join(dir, 'workflows', 'jobs.yml'));
  cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'sample');
  return dir;
}

/** The commands of a printed session (`$ stepcron …` or `$ npx stepcron …`), each with the lines printed after it. */
function session(body: string): Array<{ args: string[]; shown: string[] }> {
  const steps: Array<{ args: string[]; shown: string[] }> = [];
  for (const line of body.trimEnd().split('\n')) {
    const command = /^\$ (?:npx )?stepcron (.*)$/.exec(line);
    if (command) steps.push({ args: [...command[1]!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!), shown: [] });
    else steps.at(-1)?.shown.push(line);
  }
  return steps;
}

/**
 * What varies from one run to the next, made alike: execution ids, the clock (ISO and as shown, relative times, dates),
 * durations, and the alignment of columns (a terminal's spaces, a pipe's tabs).
 */
function volatile(line: string): string {
  return line
    .replace(/\d{8}T\d{6}Z-[0-9a-f]{4}/g, '<execution>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z/g, '<time>')
    .replace(/(\d{4}-)?\d{2}-\d{2} \d{2}:\d{2}/g, '<time>')
    // A date alone: the sample job names its report by the day it runs (s3://acme-reports/2026-12-07.pdf).
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, '<date>')
    .replace(/^\d{2}:\d{2}:\d{2} /, '<clock> ')
    .replace(/ by \S+@\S+ at /g, ' by <user>@<host> at ')
    .replace(/\((in [^()]+|[^()]+ ago)\)/g, '(<relative>)')
    .replace(/\b\d+\.\d+s\b/g, '<duration>')
    .replace(/[ \t]+/g, ' ')
    .trimEnd();
}

/**
 * Runs each command of a printed session in `dir` and expects exactly the lines shown (stdout and stderr together,
 * in any order between the two streams), after `normalize`.
 */
async function replay(body: string, dir: string, normalize: (line: string) => string = (l) => l.trimEnd(), keep = (_line: string) => true) {
  const steps = session(body);
  expect(steps.length).toBeGreaterThan(0);
  for (const { args, shown } of steps) {
    const result = await startCli(args, { cwd: dir }).done;
    const printed = `${result.stdout}${result.stderr}`.trimEnd().split('\n').filter(keep).map(normalize).filter((l) => l !== '').sort();
    const expected = shown.filter(keep).map(normalize).filter((l) => l !== '').sort();
    expect({ command: args.join(' '), lines: printed }).toEqual({ command: args.join(' '), lines: expected });
  }
}

/** Only the alignment of columns made alike: a terminal pads them with spaces, a pipe separates them with tabs. */
const columns = (line: string) => line.replace(/[ \t]+/g, ' ').trimEnd();

/** The block of `file` that holds the printed command `$ … stepcron <command>`. */
function example(file: string, command: string): string {
  const found = blocks(read(file)).find((b) => new RegExp(`^\\$ (npx )?stepcron ${command.replace(/[()*?[\]|.]/g, '\\$&')}$`, 'm').test(b.body));
  if (!found) throw new Error(`${file} shows no '$ stepcron ${command}'`);
  return found.body;
}

describe('README: the five-minute tour, as printed, on the sample project', () => {
  it('validate, then next (exactly: nothing in them depends on the clock)', async () => {
    const dir = sampleProject();
    await replay(example('README.md', 'validate'), dir);
    await replay(example('README.md', 'next nightly-report --from 2026-12-07T00:00:00Z -n 3'), dir);
  }, 30_000);

  it('run, then describe of the job just run', async () => {
    const dir = sampleProject();
    await replay(example('README.md', 'run hourly-cleanup'), dir, volatile);
    await replay(example('README.md', 'describe hourly-cleanup'), dir, volatile);
  }, 30_000);

  it("plan after the README's edit (nightly-report from 02:30 to 04:00)", async () => {
    const dir = sampleProject();
    const catalog = join(dir, 'workflows', 'jobs.yml');
    const text = readFileSync(catalog, 'utf8');
    expect(text).toContain('    schedule: cron(30 2 * * ? *)\n');
    writeFileSync(catalog, text.replace('    schedule: cron(30 2 * * ? *)\n', '    schedule: cron(0 4 * * ? *)\n'));
    await replay(example('README.md', 'plan --stage prod'), dir, volatile);
  }, 30_000);
});

describe('docs: command examples, as printed, on the sample project', () => {
  it('docs/local.md: validate --stage prod; next of a cron across a DST change', async () => {
    const dir = sampleProject();
    await replay(example('docs/local.md', 'validate --stage prod'), dir);
    await replay(example('docs/local.md', "next 'cron(30 2 * * ? *)' --tz America/New_York --from 2026-03-07T00:00:00Z -n 3"), dir);
  }, 30_000);

  it('docs/local.md and docs/deploy.md: a short schedule, and which jobs a stage runs', async () => {
    const dir = sampleProject();
    await replay(example('docs/local.md', 'schedule --for 3s --jobs hourly-cleanup'), dir, volatile);
    await replay(example('docs/deploy.md', 'validate --stage dev'), dir, volatile);
  }, 30_000);
});

describe('docs/operations.md and docs/local.md: a session with the sample jobs, as printed', () => {
  it('start, runs, pause, status, resume, history, backfill --dry-run', async () => {
    const dir = sampleProject();
    const ops = 'docs/operations.md';
    await replay(example(ops, 'start nightly-report'), dir, volatile);
    expect((await startCli(['run', 'hourly-cleanup'], { cwd: dir }).done).code).toBe(0);
    await replay(example(ops, 'runs nightly-report --since 7d'), dir, volatile);
    // The pause block shows the pause and the resume; status (shown on its own) ran between the two.
    const [pause, resume] = example(ops, "pause hourly-cleanup --note 'disk migration, INC-4711'").split(/(?=^\$ npx stepcron resume)/m);
    await replay(pause!, dir, volatile);
    await replay(example(ops, 'status'), dir, volatile);
    await replay(resume!, dir, volatile);
    await replay(example('docs/local.md', 'history'), dir, volatile);
    await replay(example(ops, 'backfill nightly-report --from 2026-11-20T00:00:00Z --to 2026-11-23T00:00:00Z --dry-run'), dir, columns);
  }, 60_000);

  it('redrive of a run whose job failed is refused as docs/operations.md shows', async () => {
    const dir = sampleProject();
    const shown = blocks(read('docs/operations.md')).find((b) => b.body.includes('$ npx stepcron redrive hourly-cleanup'))!.body.split('\n');
    const run = /^\$ npx stepcron (run .*?) +#/.exec(shown[0]!)![1]!.split(' ');
    const failed = await startCli(run, { cwd: dir }).done;
    expect(failed.code).toBe(1);
    const execution = /^FAILED {2}hourly-cleanup {2}(\S+)$/m.exec(failed.stdout + failed.stderr)![1]!;
    const redrive = await startCli(['redrive', 'hourly-cleanup', execution], { cwd: dir }).done;
    expect(redrive.code).toBe(1);
    const refusal = shown.find((l) => l.startsWith('stepcron: redrive:'))!;
    expect(volatile(redrive.stderr)).toBe(volatile(refusal));
  }, 30_000);

  it("a fan-out run, then its logs (the items' order and the progress bars vary from run to run)", async () => {
    const dir = sampleProject();
    const notProgress = (line: string) => !line.startsWith('  FanOut [');
    await replay(example('docs/local.md', 'run tenant-sync'), dir, volatile, notProgress);
    await replay(example('docs/local.md', 'logs tenant-sync'), dir, volatile);
  }, 60_000);
});

describe('docs/coming-from.md: import crontab, as printed', () => {
  it("imports the page's crontab into the jobs it shows (elided lines aside), with the warnings it shows", async () => {
    // Prepare: the page's input file, in a directory of its own.
    const page = read('docs/coming-from.md');
    const blockAfter = (title: string) => blocks(page.slice(page.indexOf(title)))[0]!.body;
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-docs-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'my.crontab'), blockAfter('Input (`my.crontab`):'));
    const command = blockAfter('```\ncrontab -l > my.crontab').split('\n')[1]!;
    const args = [...command.replace(/^npx stepcron /, '').matchAll(/\S+/g)].map((m) => m[0]);
    // Act
    const result = await startCli(args, { cwd: dir }).done;
    // Assess: stdout holds the shown lines in their order ('...' stands for lines left out); stderr is as shown,
    // but for the date of the next fall-back, which moves with the clock.
    expect(result.code).toBe(0);
    const printed = result.stdout.split('\n');
    let at = 0;
    for (const line of blockAfter('Output (stdout;').trimEnd().split('\n').filter((l) => l.trim() !== '...')) {
      const found = printed.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
    const date = (text: string) => text.trimEnd().replace(/\d{4}-\d{2}-\d{2}/g, '<date>');
    expect(date(result.stderr)).toBe(date(blockAfter('and on stderr:')));
  }, 30_000);
});

describe('docs/coming-from.md: import kubernetes and import copilot, as printed', () => {
  // Rule: each example is one real run: the manifest the page shows, imported by the command it shows, prints exactly
  // the catalog shown, and on stderr the warnings shown (but for the date of the next fall-back, which moves).
  it.each([
    ['kubernetes', 'A CronJob (`k8s/backup.yaml`):', 'k8s/backup.yaml', 'Warnings (stderr) of `import kubernetes`:'],
    ['copilot', 'A Copilot Scheduled Job (`copilot/report/manifest.yml`):', 'copilot/report/manifest.yml', 'Warnings (stderr) of `import copilot`:'],
  ])('import %s', async (_kind, inputTitle, file, stderrTitle) => {
    // Prepare: the page's manifest, at the path its command names.
    const page = read('docs/coming-from.md');
    const blocksAfter = (title: string) => {
      expect(page).toContain(title);
      return blocks(page.slice(page.indexOf(title)));
    };
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-docs-'));
    dirs.push(dir);
    const [manifest, shown] = blocksAfter(inputTitle);
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), manifest!.body);
    const [step] = session(shown!.body);
    // Act
    const result = await startCli(step!.args, { cwd: dir }).done;
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd()).toBe(step!.shown.join('\n').trimEnd());
    const date = (text: string) => text.trimEnd().replace(/\d{4}-\d{2}-\d{2}/g, '<date>');
    expect(date(result.stderr)).toBe(date(blocksAfter(stderrTitle)[0]!.body));
  }, 30_000);
});

describe('docs/catalog.md: a fan-out job, start to finish', () => {
  const text = section('docs/catalog.md', 'A fan-out job, start to finish');
  const found = blocks(text);
  const catalog = found.find((b) => b.lang === 'yaml')!.body;
  const script = found.find((b) => b.lang === 'sh')!.body;
  const shown = found.find((b) => b.lang === '' && b.body.includes('$ npx stepcron run invoice-run'))!.body;
  const redo = found.find((b) => b.lang === 'json')!.body;

  /** A project as the section leaves it: the catalog, the script, and the S3 file made by the section's commands. */
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stepcron-docs-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'workflows'));
    mkdirSync(join(dir, 'jobs'));
    writeFileSync(join(dir, 'workflows', 'jobs.yml'), catalog);
    writeFileSync(join(dir, 'jobs', 'invoice-run.sh'), script);
    const commands = shown.split('\n').filter((l) => l.startsWith('$ ') && !l.includes('npx stepcron')).map((l) => l.slice(2));
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
    for (const line of shown.split('\n').filter((l) => l.startsWith('['))) {
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

describe('docs: fields', () => {
  const fields = Object.keys(JobSchema.shape).sort();

  it('docs/catalog.md documents every field of a job, and only those', () => {
    const rows = tableRows(section('docs/catalog.md', 'Catalog reference'), '| field |').slice(1);
    const documented = rows.flatMap((cells) => [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!));
    expect([...new Set(documented)].sort()).toEqual(fields);
  });

  it("docs/coming-from.md: the field-by-field table maps to fields the catalog has", () => {
    const rows = tableRows(read('docs/coming-from.md'), '| what | crontab |').slice(1);
    // In the stepcron column: `field`, `field: value`, `field.sub`; commands (`stepcron …`) and values are not fields.
    const named = rows.flatMap((cells) => [...cells.at(-1)!.matchAll(/`([a-z][A-Za-z]*)(?=[:.`])/g)].map((m) => m[1]!))
      .filter((word) => !['stepcron', 'resume', 'cron', 'rate', 'fargate', 'spot', 'allow', 'forbid', 'replace', 'buffer', 'notify'].includes(word) || fields.includes(word));
    expect(named.length).toBeGreaterThan(20);
    // Fields anywhere in a job (fanOut.maxConcurrency, exitCodes.fail, ...), and the stage param enabledJobs.
    const known = [...Object.values(FIELDS).flat(), 'enabledJobs'];
    expect(named.filter((word) => !known.includes(word))).toEqual([]);
  });
});

describe('docs/cli.md: generated from the CLI', () => {
  /** A page's `## ` sections by heading. */
  const sections = (text: string) => new Map(text.split(/\n(?=## )/).map((s) => [s.slice(0, s.indexOf('\n')), s]));

  it('is what `npm run docs:cli` writes today: a command whose --help changed, or that is new or gone, is named', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'cli-docs.mjs'), '--stdout'], { cwd: ROOT, maxBuffer: 4 << 20 });
    const fresh = sections(stdout);
    const file = sections(read('docs/cli.md'));
    const stale = [...new Set([...fresh.keys(), ...file.keys()])].filter((h) => fresh.get(h) !== file.get(h));
    // Run `npm run docs:cli` when this fails.
    expect(stale).toEqual([]);
    expect(fresh.size).toBeGreaterThan(20);
  }, 60_000);
});

describe('docs: size and links', () => {
  it('README.md stays within 25 KB: the rest belongs in docs/', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(25 * 1024);
  });

  /** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as '-', repeats numbered. */
  function anchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const m of withoutFences(text).matchAll(/^#{1,6} (.+)$/gm)) {
      const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
  }
  const withoutFences = (text: string) => text.replace(/^```[\s\S]*?^```$/gm, '');
  const outsideCode = (text: string) => withoutFences(text).replace(/`[^`\n]*`/g, '');

  it('every relative link in README.md and docs/*.md points at a file that exists, and at a heading it has', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const m of outsideCode(read(page)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
        if (!existsSync(file)) broken.push(`${page}: ${target}: no file ${relative(ROOT, file)}`);
        else if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${page}: ${target}: ${relative(ROOT, file)} has no heading #${anchor}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
