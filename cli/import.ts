// `stepcron import crontab <file>`: reads a crontab, prints its entries as catalog jobs (YAML on stdout) or adds them
// to a catalog file (-o), warnings on stderr. The translation is workflows/crontab.ts; this reads, writes and merges.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from './errors';
import type { CrontabImport } from '../workflows/crontab';

export interface ImportOptions {
  image?: string | undefined;
  system?: boolean | undefined;
  tz?: string | undefined;
  prefix?: string | undefined;
  output?: string | undefined;
}

export interface ImportIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Start of the year scanned for DST changes (tests); default now. */
  from?: Date;
}

/** Crontabs are a few KB; a file this large is not one. */
const MAX_CRONTAB_BYTES = 1024 * 1024;

const HELP = `
Each entry becomes a job whose schedule fires when cron would have run the line (README: Coming from crontab).
A line that cannot be translated exactly is refused (file:line and the fix, exit 2) or warned about on stderr:
both day fields restricted (two jobs), DST changes, @reboot, an unknown CRON_TZ.

Example:
  $ cat my.crontab
  CRON_TZ=Europe/Berlin
  # Nightly sales report
  30 2 * * 1-5 /opt/app/report.sh --yesterday
  $ npx stepcron import crontab my.crontab --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobs:1
  jobs:
    # my.crontab line 3: 30 2 * * 1-5 /opt/app/report.sh --yesterday
    report:
      description: Nightly sales report
      schedule: cron(30 2 ? * MON-FRI *)
      timezone: Europe/Berlin
      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobs:1
      command: [sh, -c, /opt/app/report.sh --yesterday]

  crontab -l | npx stepcron import crontab - --tz Europe/Berlin --image IMAGE -o workflows/jobs.yml
  npx stepcron import crontab /etc/crontab --system --image IMAGE
`;

/** Registers `import crontab`; `exit` receives the command's exit code. */
export function addImportCommand(program: Command, exit: (code: number) => void): void {
  const group = program.command('import').description('turn jobs from elsewhere into catalog jobs (import crontab)');
  group.command('crontab').argument('<file>', "a crontab: `crontab -l` output (- reads stdin), or /etc/crontab with --system")
    .description('print the crontab\'s entries as catalog jobs (YAML), or add them to a catalog with -o')
    .option('--image <image>', "every job's container image (default: none, so the catalog's defaults.image applies)")
    .option('--system', 'the /etc/crontab and /etc/cron.d format: a user name between the schedule and the command', false)
    .option('--tz <zone>', "the machine's time zone, for the entries above any CRON_TZ= line (default: UTC, with a warning)")
    .option('--prefix <text>', 'put before every job name, e.g. legacy- (to import beside jobs of the same names)')
    .option('-o, --output <catalog>', 'add the jobs to this catalog (created if missing); the rest of the file is left as it is')
    .addHelpText('after', HELP)
    .action(async (file: string, o: ImportOptions) => {
      exit(await importCrontabFile(file, o, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
      }));
    });
}

/** The command: 0 when imported (warnings or not), 2 when a line, the file or the catalog is refused. */
export async function importCrontabFile(file: string, o: ImportOptions, io: ImportIo): Promise<number> {
  const [{ importCrontab, mergeJobs, renderCatalog, CrontabError, MergeError }, { parseCatalog, CatalogError }] =
    await Promise.all([import('../workflows/crontab'), import('../workflows/catalog')]);
  const name = file === '-' ? 'stdin' : file;
  const text = readCrontab(file, name);
  let imported: CrontabImport;
  try {
    imported = importCrontab(text, {
      file: name, system: o.system ?? false, from: io.from ?? new Date(),
      ...(o.image !== undefined && { image: o.image }),
      ...(o.tz !== undefined && { timezone: o.tz }),
      ...(o.prefix !== undefined && { prefix: o.prefix }),
    });
  } catch (err) {
    if (!(err instanceof CrontabError)) throw err;
    io.err(err.problems.map((p) => `stepcron: ${p}\n`).join(''));
    return 2;
  }
  for (const warning of imported.warnings) io.err(`stepcron: warning: ${warning}\n`);

  let catalogText: string;
  const target = o.output;
  try {
    catalogText = target && existsSync(target) ? mergeJobs(readCatalog(target), imported, target) : renderCatalog(imported);
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    throw err;
  }
  // What `stepcron validate` would say, now: a missing image is the expected one (no --image, no defaults.image).
  try {
    parseCatalog(catalogText, { stage: 'dev', file: target ?? 'the imported jobs' });
  } catch (err) {
    if (!(err instanceof CatalogError)) throw err;
    for (const problem of err.problems) io.err(`stepcron: warning: ${target ?? 'the imported jobs'} does not validate yet: ${problem}\n`);
  }
  if (!target) {
    io.out(catalogText);
    return 0;
  }
  writeAtomically(target, catalogText);
  io.out(`${target}: added ${imported.jobs.length} job${imported.jobs.length === 1 ? '' : 's'} (${imported.jobs.map((j) => j.name).join(', ')}); ` +
    `check them with: npx stepcron validate --catalog ${target}\n`);
  return 0;
}

function readCrontab(file: string, name: string): string {
  try {
    if (file === '-') return readFileSync(0, 'utf8');
    const { size } = statSync(file);
    if (size > MAX_CRONTAB_BYTES) {
      throw new UsageError(`${name}: is ${(size / 1024 / 1024).toFixed(1)} MiB, no crontab is that large: is this the right file?`);
    }
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`${name}: cannot read the crontab (${code}): give a readable file, e.g. one saved with crontab -l > my.crontab`);
  }
}

function readCatalog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`-o ${file}: cannot read the catalog (${(err as NodeJS.ErrnoException).code}): give a readable catalog, or a new file`);
  }
}

/** Written whole or not at all: an interrupted write leaves the catalog as it was. */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.stepcron-${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (err) {
    throw new UsageError(`-o ${file}: cannot write the catalog (${(err as NodeJS.ErrnoException).code}): check the directory and its permissions`);
  }
}
