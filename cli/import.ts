// `stepcron import crontab|kubernetes|copilot`. import crontab reads a crontab, prints its entries as catalog jobs (YAML on stdout) or adds them
// to a catalog file (-o), warnings on stderr; kubernetes and copilot do the same with manifests. The translations are
// workflows/crontab.ts, kubernetes.ts and copilot.ts; this reads, writes and merges.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export interface ManifestImportOptions {
  prefix?: string | undefined;
  output?: string | undefined;
  account?: string | undefined;
  region?: string | undefined;
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
  const group = program.command('import').description('turn jobs from elsewhere into catalog jobs (import crontab, kubernetes, copilot)');
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
  const io: ImportIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  group.command('kubernetes').argument('<file|dir>', 'a YAML file of CronJobs (several documents allowed), or a directory of them')
    .description('print the CronJobs as catalog jobs (YAML), or add them to a catalog with -o; other kinds are skipped')
    .option('--prefix <text>', 'put before every job name, e.g. k8s- (to import beside jobs of the same names)')
    .option('-o, --output <catalog>', 'add the jobs to this catalog (created if missing); the rest of the file is left as it is')
    .addHelpText('after', KUBERNETES_HELP)
    .action(async (path: string, o: ManifestImportOptions) => exit(await importKubernetesFiles(path, o, io)));
  group.command('copilot').argument('<manifest>', "a Copilot Scheduled Job manifest, e.g. copilot/report/manifest.yml (or its directory)")
    .description('print the scheduled job as a catalog job (YAML), or add it to a catalog with -o')
    .option('--account <id>', 'for secrets given as secretsmanager: <name>: the account of their ARNs')
    .option('--region <region>', 'for secrets given as secretsmanager: <name>: the region of their ARNs')
    .option('--prefix <text>', 'put before the job name, e.g. copilot-')
    .option('-o, --output <catalog>', 'add the job to this catalog (created if missing); the rest of the file is left as it is')
    .addHelpText('after', COPILOT_HELP)
    .action(async (file: string, o: ManifestImportOptions) => exit(await importCopilotFile(file, o, io)));
}

const KUBERNETES_HELP = `
schedule, timeZone, concurrencyPolicy, suspend, backoffLimit, activeDeadlineSeconds and the first container's image,
command/args, env and resources (as the smallest Fargate size that fits) are carried over; everything else is listed on
stderr and in a comment above the job, with its line and why (README: Coming from crontab, Kubernetes CronJob or Copilot).
A Secret's key becomes an SSM parameter name to create (listed). Helm templates are refused: render them first.

  npx stepcron import kubernetes k8s/cronjobs/ -o workflows/jobs.yml
`;

const COPILOT_HELP = `
on.schedule, image.location, command/entrypoint, cpu/memory, retries, timeout, variables and secrets are carried over
as Copilot deployed them (UTC, runs may overlap); environments: overrides, exec, network and the rest are listed with
their line and why (README: Coming from crontab, Kubernetes CronJob or Copilot).

  npx stepcron import copilot copilot/report/manifest.yml --account 123456789012 --region eu-west-1 -o workflows/jobs.yml
`;

/** The command: 0 when imported (warnings or not), 2 when a line, the file or the catalog is refused. */
export async function importCrontabFile(file: string, o: ImportOptions, io: ImportIo): Promise<number> {
  const { importCrontab, CrontabError } = await import('../workflows/crontab');
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
  return writeImport(imported, o.output, io);
}

/** `import kubernetes <file|dir>`: every CronJob in the YAML files given (a directory's *.yaml/*.yml, recursively). */
export async function importKubernetesFiles(path: string, o: ManifestImportOptions, io: ImportIo): Promise<number> {
  const { importKubernetes, ManifestError } = await import('../workflows/kubernetes');
  try {
    return await writeImport(importKubernetes(readManifestFiles(path), { from: io.from ?? new Date(), ...(o.prefix !== undefined && { prefix: o.prefix }) }), o.output, io);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    io.err(err.problems.map((p) => `stepcron: ${p}\n`).join(''));
    return 2;
  }
}

/**
 * `import copilot <manifest>`: one Scheduled Job manifest (copilot/<job>/manifest.yml), its directory, or the workspace
 * folder (copilot/): every Scheduled Job in copilot/<name>/manifest.yml, other types listed as skipped.
 */
export async function importCopilotFile(file: string, o: ManifestImportOptions, io: ImportIo): Promise<number> {
  const [{ importCopilot }, { ManifestError }] = await Promise.all([import('../workflows/copilot'), import('../workflows/kubernetes')]);
  const options = {
    ...(o.prefix !== undefined && { prefix: o.prefix }),
    ...(o.account !== undefined && { account: o.account }),
    ...(o.region !== undefined && { region: o.region }),
  };
  // copilot/<job>/ holds its manifest.yml: the directory is taken for it.
  const manifests = existsSync(join(file, 'manifest.yml')) ? [join(file, 'manifest.yml')] : isDirectory(file) ? workspaceManifests(file) : [file];
  const imports: CrontabImport[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  for (const manifest of manifests) {
    const text = readText(manifest, 'manifest');
    // In a workspace, services and environments sit beside the jobs: said, not refused.
    const type = /^type:[ \t]*(["']?)([^"'\n#]*?)\1[ \t]*(#.*)?$/m.exec(text)?.[2];
    if (manifests.length > 1 && type !== 'Scheduled Job') {
      skipped.push(`${manifest}: type '${type ?? 'none'}' is no Scheduled Job (only those run on a schedule): skipped`);
      continue;
    }
    try {
      imports.push(importCopilot(manifest, text, options));
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length === 0 && imports.length === 0) problems.push(`${file}: no Scheduled Job in ${join(file, '<name>', 'manifest.yml')}: ${skipped.length} other manifests, skipped`);
  if (problems.length) {
    io.err(problems.map((p) => `stepcron: ${p}\n`).join(''));
    return 2;
  }
  for (const line of skipped) io.err(`stepcron: warning: ${line}\n`);
  return await writeImport({
    jobs: imports.flatMap((i) => i.jobs), warnings: imports.flatMap((i) => i.warnings), header: imports[0]!.header,
  }, o.output, io);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // read as a file, which says why not
  }
}

/** A Copilot workspace folder's manifests (copilot/<name>/manifest.yml, in name order), or refused naming those paths. */
function workspaceManifests(dir: string): string[] {
  const found = readdirSync(dir).sort().map((name) => join(dir, name, 'manifest.yml')).filter((f) => existsSync(f));
  if (found.length === 0) {
    throw new UsageError(`${dir}: is a directory with no manifest.yml and no <name>/manifest.yml in it: give copilot/<job>/manifest.yml, ` +
      'its directory, or the copilot/ workspace folder');
  }
  return found;
}

/** Prints the jobs (stdout) or adds them to the -o catalog, with the warnings and what validation says, on stderr. */
async function writeImport(imported: CrontabImport, target: string | undefined, io: ImportIo): Promise<number> {
  const [{ mergeJobs, renderCatalog, MergeError }, { parseCatalog, CatalogError }] =
    await Promise.all([import('../workflows/crontab'), import('../workflows/catalog')]);
  for (const warning of imported.warnings) io.err(`stepcron: warning: ${warning}\n`);

  let catalogText: string;
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
    for (const problem of err.problems) io.err(`stepcron: warning: ${target ?? 'the imported catalog'} does not validate yet: ${problem}\n`);
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

/** Manifests are small; a file this large is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

function readText(file: string, what: string): string {
  try {
    const { size } = statSync(file);
    if (size > MAX_MANIFEST_BYTES) throw new UsageError(`${file}: is ${(size / 1024 / 1024).toFixed(1)} MiB, no ${what} is that large: is this the right file?`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a readable file`);
  }
}

/** The file, or a directory's .yaml/.yml files (recursively, in name order; hidden ones skipped). */
function readManifestFiles(path: string): Array<{ file: string; text: string }> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new UsageError(`${path}: cannot read it (${(err as NodeJS.ErrnoException).code}): give a YAML file or a directory of them`);
  }
  if (!isDir) return [{ file: path, text: readText(path, 'manifest') }];
  const files = (readdirSync(path, { recursive: true }) as string[])
    .filter((f) => /\.ya?ml$/.test(f) && !f.split(/[\\/]/).some((part) => part.startsWith('.')))
    .sort()
    .map((f) => join(path, f))
    .filter((f) => statSync(f).isFile());
  if (files.length === 0) throw new UsageError(`${path}: has no .yaml or .yml files: give the directory of your CronJob manifests`);
  return files.map((file) => ({ file, text: readText(file, 'manifest') }));
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
