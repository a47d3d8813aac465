// `npx stepcron <command>`: validate, synth, run, next, schedule, history, logs, demo. Usage and catalog mistakes exit 2
// with one clear line each; a run exits 0 when SUCCEEDED or SKIPPED and 1 otherwise.
import { existsSync, fstatSync, readFileSync, readlinkSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Job } from '../workflows/catalog';
import { deployedSchedule, isValidTimezone, nextFireTimes, parseSchedule, ScheduleError, startsAtDeployNote, timezoneProblem } from '../workflows/schedule';
import { stageProblem, thousands } from '../workflows/names';
import { version } from '../package.json';
import { Store } from './store';
import type { Summary } from './run';
import { UsageError } from './errors';

// The rest loads when a command needs it, for a fast start: `--help` loads no catalog parser (YAML, zod), `validate`
// none of the Step Functions engine, the backends or the AWS SDK.
const catalog = () => import('../workflows/catalog');
const resources = () => import('../workflows/resources');
const run = () => import('./run');

const EXIT_USAGE = 2;
/** A bug in stepcron, not in the job or the catalog: told apart from a failed run (1). */
const EXIT_INTERNAL = 3;
const EXIT_CODES = `
Exit codes:
  0  the run succeeded or was skipped (or the command did its work)
  1  the run failed, timed out or was aborted; validate: the stage would not deploy
  2  a bad catalog, argument, run input or run store (one line says what to fix)
  3  an internal error in stepcron (please report it with the lines printed)
  4  plan --exit-code: a deploy would change something
`;

interface Common { catalog: string; stage: string }

/** Runs and schedulers in progress in this process: a reader that goes away does not end them. */
let working = 0;

/**
 * A reader that goes away (`stepcron logs x | head`): a listing ends there, quietly, as a SIGPIPE would end it; a run
 * goes on to its end (its output is kept in the run store) and exits as it would. A stream to a file on a full disk
 * (`stepcron run x >> /full/cron.log`) is given up, said once on stderr, and a run goes on to its outcome and exit code.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream, name: 'stdout' | 'stderr'): void {
  let full = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
      // Writes that failed before this was told (within one tick) report it too.
      if (full) return;
      full = true;
      // Node never destroys process.stdout/stderr: its writes become no-ops instead, so nothing more goes to that file
      // (no later line after a gap if space comes back) and this is said once. stderr on a full disk has nowhere to say it.
      stream.write = ((...args: unknown[]) => {
        const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
        if (done) process.nextTick(done);
        return true;
      }) as typeof stream.write;
      if (name === 'stdout') process.stderr.write(`stepcron: warning: ${streamDiskFull(stream, name)}\n`);
      return;
    }
    if (err.code !== 'EPIPE') throw err;
    if (working === 0) process.exit(0);
  });
}

/**
 * Calls `attach` with process.stdout or process.stderr when something first reads it. Node creates these streams on
 * first use, and one on a pipe costs ~1 ms (its net module): a command that never writes there (validate's stderr
 * when all is well) does not pay for it.
 */
function onFirstUse(name: 'stdout' | 'stderr', attach: (stream: NodeJS.WriteStream) => void): void {
  const node = Object.getOwnPropertyDescriptor(process, name);
  if (!node?.get || !node.configurable) {
    attach(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: node.enumerable ?? true,
    get() {
      // Node's own getter again (it keeps the stream it creates), then the handlers, before anyone writes.
      Object.defineProperty(process, name, node);
      const stream = process[name];
      attach(stream);
      return stream;
    },
  });
}

/** Set once anything has used process.stdout: from then on all output goes through it, in order. */
let stdoutInUse = false;

/**
 * Writes to stdout. Until something else uses process.stdout, straight to fd 1: Node's stream on a pipe costs ~3 ms to
 * set up (its net module), more than writing the help or validate's lines takes. On any error (a closed pipe, a full
 * disk, a non-blocking pipe that is full) the rest goes to the stream, whose handlers (quietOnClosedPipe) deal with it
 * as they always did, and so does everything after.
 */
function out(text: string): void {
  if (stdoutInUse) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch {
    process.stdout.write(bytes.subarray(done));
  }
}

/** False when fd 1 is surely no terminal (a pipe or a file): then help need not ask process.stdout (see out). */
function stdoutMayBeTty(): boolean {
  try {
    return fstatSync(1).isCharacterDevice();
  } catch {
    return true;
  }
}

/** "Disk full", where (the file the stream writes to), what is lost and what to do, in one line. */
function streamDiskFull(stream: NodeJS.WriteStream, name: string): string {
  let where = '';
  try {
    const file = readlinkSync(`/proc/self/fd/${(stream as { fd?: number }).fd}`);
    const fs = statfsSync(dirname(file));
    where = ` (${file}, ${Math.floor((fs.bavail * fs.bsize) / 1024)} KiB free)`;
  } catch {
    // No /proc (not Linux): the stream's name says enough.
  }
  const lost = working > 0
    ? "nothing more is written there (the job's output, the summary); the run goes on, and stepcron history and stepcron logs show its outcome and output"
    : 'nothing more is written there';
  return `disk full: cannot write ${name}${where}: ${lost}: free space on that disk`;
}

/** `parentPid`: the parent when the process started (bin/stepcron.cjs reads it first): a change means it died. */
export async function main(argv: string[], context: { parentPid?: number } = {}): Promise<number> {
  onFirstUse('stdout', (stream) => {
    stdoutInUse = true;
    quietOnClosedPipe(stream, 'stdout');
  });
  onFirstUse('stderr', (stream) => quietOnClosedPipe(stream, 'stderr'));
  const program = new Command('stepcron');
  const commanderOutput = { ...program.configureOutput() };
  program
    .description('Cron for ECS: run, inspect and schedule the jobs of a stepcron catalog locally')
    .version(version, '-V, --version', 'print the stepcron version')
    .addHelpText('after', EXIT_CODES)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: out,
      // commander's own ask process.stdout.isTTY, which creates the stream: on a pipe or a file the answers are known
      // (no width: 80 columns, undefined as commander's own gives it; no colours: stepcron's help has none to strip).
      getOutHelpWidth: () => (stdoutMayBeTty() ? commanderOutput.getOutHelpWidth?.() : undefined) as number,
      getOutHasColors: () => stdoutMayBeTty() && Boolean(commanderOutput.getOutHasColors?.()),
      // One line per mistake: "stepcron: unknown option '--x' (see stepcron --help)".
      outputError: (s, write) => write(`stepcron: ${s.trim().replace(/^error: /, '')} (see stepcron --help)\n`),
    });
  let exitCode = 0;
  const common = (cmd: Command) => cmd
    // No commander default: the stage's own catalog, as `sls package|deploy` reads it, is filled in below (preAction).
    .option('--catalog <file>', "the job catalog (default: serverless.yml's catalog param for the stage, else workflows/jobs.yml)")
    // Checked as the flag is read, for every command: the stage becomes part of AWS resource names.
    .addOption(new Option('--stage <stage>', 'the stage whose settings apply (lowercase letters, digits, -)').default('dev')
      .argParser((stage: string) => {
        const problem = stageProblem(stage);
        if (problem) throw new UsageError(`--stage: ${problem}`);
        return stage;
      }));
  // Before each command with --stage: the catalog the stage deploys when --catalog is not given, and one warning for a
  // stage serverless.yml does not name (a typo such as prdo, or a new stage: it goes on with params.default).
  program.hook('preAction', async (_program, command) => {
    const o = command.opts() as Partial<Common>;
    if (o.stage === undefined || !command.options.some((opt) => opt.long === '--catalog')) return;
    const file = o.catalog === undefined ? projectServerless() ?? 'serverless.yml' : serverlessFileFor(o.catalog);
    if (!existsSync(file)) {
      if (o.catalog !== undefined) return;
      const { DEFAULT_CATALOG } = await catalog();
      command.setOptionValue('catalog', DEFAULT_CATALOG);
      // No project around: a catalog-only folder works as before; with no catalog either, reading it says why (jobsOf).
      if (!existsSync(DEFAULT_CATALOG)) {
        noProject = `no serverless.yml in ${process.cwd()} or any folder above it, and no ${DEFAULT_CATALOG} here: ` +
          "run stepcron in the project's folder (or below it), or give --catalog <file>";
      }
      return;
    }
    const [{ stageCatalog, knownStages }, { unknownStageWarning }] = await Promise.all([import('./stage'), import('../workflows/names')]);
    if (o.catalog === undefined) command.setOptionValue('catalog', relative(process.cwd(), stageCatalog(o.stage, file)) || '.');
    // Only a stage asked for: without --stage, dev is the default whether serverless.yml names it or not.
    const known = knownStages(file);
    const warning = command.getOptionValueSource('stage') === 'cli' && unknownStageWarning(o.stage, known);
    if (warning) process.stderr.write(`stepcron: warning: ${warning}\n`);
    // A typo in a job's per-stage enabled: map (prdo: false) would leave the job on where it was meant to be off.
    const catalogFile = command.opts().catalog as string;
    if (existsSync(catalogFile)) {
      const typos = (await catalog()).unknownEnabledStages(readFileSync(catalogFile, 'utf8'), known);
      for (const line of typos) process.stderr.write(`stepcron: warning: ${catalogFile}: ${line}\n`);
    }
  });
  /** Set when no project was found and the default catalog is not here: said instead of ENOENT on a path nobody gave. */
  let noProject: string | undefined;
  const jobsOf = async (o: Common) => {
    if (noProject && !existsSync(o.catalog)) throw new UsageError(noProject);
    return (await catalog()).loadCatalog(o.catalog, { stage: o.stage });
  };
  /** The jobs, each with why it does not fire on the stage (undefined: it does), as the deploy decides (offReason). */
  const onStage = async (o: Common, jobs: Job[]) => {
    const { offReason } = await catalog();
    const enabledJobs = await stageEnabledJobs(o);
    return jobs.map((job) => ({ job, off: offReason(job, enabledJobs) }));
  };
  const offList = (off: Array<{ job: Job; off?: string | undefined }>) => off.map((j) => `${j.job.name} (${j.off})`).join(', ');
  /** A job name given on the command line that has no local runs must at least be in the catalog. */
  const knownJob = async (o: Common, name: string) => void (await catalog()).findJob(await jobsOf(o), name, o.catalog);
  /** SIGINT, SIGTERM, SIGHUP or the parent exiting stop what the command runs (cli/signals.ts). */
  const stopOnSignals = async () => (await import('./signals')).stopOnSignals({
    err: (t) => process.stderr.write(t), parentPid: context.parentPid,
  });

  common(program.command('validate').description('check the catalog; one line per problem'))
    .action(async (o: Common) => {
      const jobs = await jobsOf(o);
      const states = await onStage(o, jobs);
      const on = states.filter((j) => !j.off).map((j) => j.job.name);
      const off = states.filter((j) => j.off);
      out(`${o.catalog}: ${jobs.length} job${jobs.length === 1 ? '' : 's'} valid for stage ${o.stage}; ${on.length} scheduled${on.length ? `: ${on.join(', ')}` : ''}` +
        `${off.length ? `; off on ${o.stage}: ${offList(off)}` : ''}\n`);
      // Not an error: a rate(...) off the clock runs when the deploy creates its schedule (workflows/schedule.ts).
      for (const job of jobs) {
        const note = startsAtDeployNote(job.schedule, `jobs.${job.name}.schedule`);
        if (note) process.stderr.write(`stepcron: warning: ${note}\n`);
      }
      // Whether the stage fits CloudFormation once packaged: the same split `sls package` makes (workflows/stacks.ts).
      const file = serverlessFileFor(o.catalog);
      if (!existsSync(file)) return;
      const [{ jobResourceIds, stageTemplate, stageRoles, roleQuotaProblem, IAM_QUOTAS, sizedVariableNames }, { planStacks, sizedTemplateUrl }] =
        await Promise.all([resources(), import('../workflows/stacks')]);
      // Measured, not deployed: hash-free names and URLs of the deploy's lengths, so every size is the deploy's.
      const template = stageTemplate(jobs, await validatedStageParams(o, jobs, file), sizedVariableNames());
      const { sizes, problems } = planStacks(template, jobs, jobResourceIds, sizedTemplateUrl);
      const [main, ...nested] = sizes;
      const fullest = nested.sort((a, b) => b.bytes - a.bytes)[0];
      out(`  deploys as ${nested.length} nested stack${nested.length === 1 ? '' : 's'} under the main stack (${main!.resources} shared resources and the Lambdas)` +
        (fullest ? `; the fullest, ${fullest.id}, holds ${fullest.resources} of 500 resources and ${Math.ceil(fullest.bytes / 1000)} of 1,000 KB\n` : '\n'));
      if (problems.length) {
        process.stderr.write(`stepcron: warning: stage ${o.stage} would not deploy: CloudFormation refuses a stack over its quotas:\n` +
          `${problems.map((p) => `  - ${p}`).join('\n')}\n  split the catalog into stages, or shrink the jobs that share the stack (README: how far one stage goes)\n`);
        exitCode = 1;
      }
      // One role per job with secrets and per job with taskPolicyArns: the account's role quota is the limit.
      const roles = stageRoles(template).length;
      out(`  creates ${roles} IAM roles (IAM allows ${thousands(IAM_QUOTAS.rolesPerAccount)} per account by default, for every stage and role in it)\n`);
      const tooMany = roleQuotaProblem(template);
      if (tooMany) {
        process.stderr.write(`stepcron: warning: stage ${o.stage} would not deploy into an account with IAM's default quotas: ${tooMany}\n`);
        exitCode = 1;
      }
    });

  common(program.command('synth').argument('[job]', 'one job (default: all)')
    .description('print the state machine definition (ASL) of each job, exactly as it deploys'))
    .action(async (name: string | undefined, o: Common) => {
      const jobs = await jobsOf(o);
      const [{ findJob }, { compile }, { deployInfra }, { readStageParams }] =
        await Promise.all([catalog(), import('../workflows/compile'), resources(), import('./stage')]);
      const params = readStageParams(o.stage, serverlessFileFor(o.catalog));
      const picked = name ? [findJob(jobs, name, o.catalog)] : jobs;
      const out = Object.fromEntries(picked.map((j) => [j.name, compile(j, deployInfra(j, params))]));
      process.stdout.write(`${JSON.stringify(name ? out[name] : out, null, 2)}\n`);
    });

  common(program.command('run').argument('<job>', 'the job to run')
    .description("run the job's state machine locally, with the ECS step as a local process, a container or a real task")
    .option('--event <file>', 'run input JSON, as you would start it in the console (see events/)')
    .addOption(new Option('--ecs <backend>', 'what runs the ECS task').choices(['process', 'container', 'aws']).default('process'))
    .addOption(new Option('--notify <mode>', 'print notifications, or publish them for real').choices(['print', 'aws']).default('print'))
    .option('--skip-waits', 'do not wait between retries (Wait states and retry intervals take 0 s)', false)
    .option('--s3-dir <dir>', 'where s3://bucket/key lives locally (fan-out itemsFrom, results): <dir>/<bucket>/<key>', '.stepcron/s3')
    .option('--json', 'print the summary as one JSON object on the last line of stdout', false)
    .option('--fault <State=fault[:times]>',
      'inject a failure into a Task state, through the real Retry/Catch (repeatable): start-failure, throttle, exit:<code>, timeout, spot-interruption, lambda-error; e.g. RunTask=exit:1:2',
      (value: string, previous: string[]) => [...previous, value], [] as string[]))
    .action(async (name: string, o: Common & { event?: string; ecs: string; notify: string; skipWaits: boolean; s3Dir: string; json: boolean; fault: string[] }) => {
      const job = (await catalog()).findJob(await jobsOf(o), name, o.catalog);
      const input = o.event ? await checkedRunInput(runInputOf(readEvent(o.event), o.event, job.name), `--event: ${o.event}`) : {};
      const faults = o.fault.length === 0 ? [] : await faultsFor(job, o.stage, o.fault);
      const stop = await stopOnSignals();
      const summary = await runOnce(job, o, input, { ...o, faults }, stop.signal).finally(() => stop.dispose());
      if (!summary) {
        exitCode = 1;
        return;
      }
      if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stdout.write((await run()).formatSummary(summary));
      exitCode = summary.status === 'SUCCEEDED' || summary.status === 'SKIPPED' ? 0 : 1;
    });

  common(program.command('next').argument('<job-or-expression>', "a job name, or 'cron(...)', 'rate(...)', 'at(...)'")
    .description('print the next fire times, one per line, on the clock of the zone (the job\'s, --tz, or UTC), labelled with its abbreviation (or UTC offset)')
    .option('--tz <zone>', 'IANA time zone (default: the job\'s, or UTC)')
    .option('--from <time>', 'ISO time to count from (default: now)')
    .option('-n, --count <n>', 'how many times', '5')
    .option('--json', 'print the times as one JSON array of ISO-8601 UTC strings', false))
    .action(async (what: string, o: Common & { tz?: string; from?: string; count: string; json: boolean }) => {
      // A job name is one word; anything else is an expression (a crontab line gets its AWS form in the message).
      const isExpression = /^(cron|rate|at)\(/.test(what.trim()) || !/^[a-z][a-z0-9-]*$/.test(what);
      const job = isExpression ? undefined : (await catalog()).findJob(await jobsOf(o), what, o.catalog);
      const advice = isExpression ? (await catalog()).crontabAdvice(what) : undefined;
      if (advice) throw new UsageError(`next: ${advice.replace(/: use schedule: '(.*)'$/, ": use '$1'")}`);
      const written = job ? job.schedule : what.trim();
      parseSchedule(written);
      // The times of what deploys: an aligned rate(...) fires on the clock, as its cron(...).
      const deployed = deployedSchedule(written, o.tz ?? job?.timezone ?? 'UTC');
      const schedule = parseSchedule(deployed.expression);
      const from = o.from ? new Date(o.from) : new Date();
      if (Number.isNaN(from.getTime())) throw new UsageError(`--from: '${o.from}' is not an ISO time such as 2026-03-08T00:00:00Z`);
      const count = Number(o.count);
      if (!Number.isInteger(count) || count < 1 || count > 10000) throw new UsageError(`--count: '${o.count}' must be a whole number from 1 to 10000`);
      const asked = o.tz ?? job?.timezone ?? 'UTC';
      if (!isValidTimezone(asked)) throw new UsageError(`--tz: ${timezoneProblem(asked)}`);
      // An aligned rate fires in UTC whatever the zone (workflows/schedule.ts deployedSchedule).
      const times = nextFireTimes(schedule, { timezone: deployed.timezone, from, count });
      const note = startsAtDeployNote(written, job?.name);
      if (note) process.stderr.write(`stepcron: note: ${note}; the times below count from ${o.from ? '--from' : 'now'}\n`);
      if (o.json) return void process.stdout.write(`${JSON.stringify(times.map((t) => t.toISOString()))}\n`);
      // How far off only when counting from now: from a --from the times speak for themselves.
      const { localTime } = await import('../workflows/times');
      process.stdout.write(times.map((t) => `${localTime(t, asked, o.from ? undefined : from)}\n`).join(''));
    });

  common(program.command('schedule')
    .description('a local scheduler: fire every enabled job at its times in its time zone until stopped')
    .option('--for <duration>', 'stop after this long (e.g. 90s, 10m, 2h)')
    .option('--jobs <names>', 'only these jobs (comma-separated)')
    .addOption(new Option('--ecs <backend>', 'what runs the ECS task').choices(['process', 'container', 'aws']).default('process')))
    .action(async (o: Common & { for?: string; jobs?: string; ecs: string }) => {
      const all = await jobsOf(o);
      const [{ findJob }, { localScheduler, parseDuration }, { makeBackend }] =
        await Promise.all([catalog(), import('./scheduler'), import('./backends')]);
      const names = o.jobs?.split(',').map((s) => s.trim()).filter(Boolean);
      // What the stage's deploy schedules (enabled: and enabledJobs); --jobs may still pick a job that is off, and says so.
      const states = await onStage(o, all);
      const offOf = (name: string) => states.find((j) => j.job.name === name)?.off;
      const named = names ? names.map((n) => findJob(all, n, o.catalog)) : states.filter((j) => !j.off).map((j) => j.job);
      const off = states.filter((j) => j.off && !named.includes(j.job));
      if (named.length === 0 && off.length) {
        // The one line to change, when the stage's enabledJobs is what leaves them off (the sample's dev list and a catalog of one's own).
        const key = off.some((j) => j.off === 'not in enabledJobs') ? `, or name them in ${await stageEnabledJobsKey(o)}` : '';
        throw new UsageError(`schedule: no job is scheduled on ${o.stage}: ${offList(off)}; --jobs <name> schedules one anyway${key}`);
      }
      // With --jobs the others are left out by choice: only without it is what the stage leaves off worth saying.
      if (off.length && !names) process.stderr.write(`stepcron: off on ${o.stage}, not scheduled: ${offList(off)} (as deployed; --jobs <name> schedules one anyway)\n`);
      for (const j of named) {
        if (offOf(j.name)) process.stderr.write(`stepcron: ${j.name} is off on ${o.stage} (${offOf(j.name)}): scheduled anyway, as --jobs names it\n`);
      }
      // A job paused with `stepcron pause` is not fired until `stepcron resume` (cli/ops/).
      const paused = history().paused(o.stage);
      for (const j of named) {
        const p = paused.get(j.name);
        if (p) process.stderr.write(`stepcron: ${j.name} is paused (by ${p.by} since ${(await import('../workflows/times')).localIso(p.at, j.timezone)}: ${p.note}): not scheduled; stepcron resume ${j.name} to schedule it\n`);
      }
      const jobs = named.filter((j) => !paused.has(j.name));
      const forMs = o.for === undefined ? undefined : parseDuration(o.for);
      const backend = await makeBackend(o.ecs, o.stage, projectRoot());
      const stop = await stopOnSignals();
      working++;
      exitCode = await localScheduler({
        jobs, stage: o.stage, history: history(), forMs, backend, signal: stop.signal,
        out: (await run()).writeTo(process.stdout),
      }).finally(() => {
        working--;
        stop.dispose();
      });
    });

  common(program.command('history').argument('[job]', 'one job (default: all)')
    .description('recent local runs, newest first, like the console\'s execution list')
    .option('-n, --count <n>', 'how many', '20')
    .option('--json', 'print the runs as one JSON array (with stoppedAt, error and, for a recovered run, reason)', false))
    .action(async (job: string | undefined, o: Common & { count: string; json: boolean }) => {
      const count = Number(o.count);
      if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count: '${o.count}' must be a whole number of at least 1`);
      const rows = history('fail').list(job).slice(0, count);
      // A job with runs is listed even if the catalog has dropped it since; one without must be in the catalog.
      if (job !== undefined && rows.length === 0) await knownJob(o, job);
      if (o.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      if (rows.length === 0) return void process.stdout.write(`no local runs${job ? ` of ${job}` : ''} yet: try \`npx stepcron run ${job ?? '<job>'}\`\n`);
      // Each run on its own job's clock, labelled (a job the catalog no longer has, or a catalog that does not load: UTC).
      const zones = new Map((await jobsOf(o).catch(() => [] as Job[])).map((j) => [j.name, j.timezone]));
      const { localIso } = await import('../workflows/times');
      const now = new Date();
      const started = rows.map((r) => localIso(r.startedAt, zones.get(r.job) ?? 'UTC', now));
      const width = Math.max(24, ...started.map((t) => t.length));
      // The local store keeps every stage's runs together: each row says its stage.
      process.stdout.write(`${'STATUS'.padEnd(10)} ${'JOB'.padEnd(18)} ${'EXECUTION'.padEnd(24)} ${'STARTED'.padEnd(width)} ${'DURATION'.padEnd(9)} STAGE\n`);
      for (const [i, r] of rows.entries()) {
        const duration = r.durationMs === undefined ? '-' : `${(r.durationMs / 1000).toFixed(1)}s`;
        // A recovered run says why it ended (its stepcron process died) after its row.
        const why = r.reason ? `  ${r.reason}` : '';
        process.stdout.write(`${r.status.padEnd(10)} ${r.job.padEnd(18)} ${r.execution.padEnd(24)} ${started[i]!.padEnd(width)} ${duration.padEnd(9)} ${r.stage}${why}\n`);
      }
    });

  common(program.command('logs').argument('<job>', 'the job').argument('[execution]', 'one of its runs (default: the latest; see stepcron history)')
    .description("print what a local run's job wrote (the last 1 MiB of each stream)")
    .addOption(new Option('--stream <stream>', 'only this stream, printed to stdout').choices(['stdout', 'stderr']))
    .option('--json', 'print one JSON object: the run, its stdout and stderr text, and the bytes dropped from each', false)
    .option('--follow', 'keep printing until the run ends', false))
    .addOption(new Option('--aws', 'from the deployed stage (--stage): CloudWatch Logs of every task of the run, by attempt and item'))
    .option('--region <region>', 'with --aws: the AWS region')
    .option('--profile <profile>', 'with --aws: the AWS profile')
    .action(async (job: string, execution: string | undefined, o: Common & { stream?: 'stdout' | 'stderr'; json: boolean; follow: boolean; aws?: boolean; region?: string; profile?: string }) => {
      // A stage's logs, or following a local run: the day-2 port (cli/ops/).
      if (o.aws || o.follow) return (await import('./ops/register')).opsLogs(opsDeps, job, execution, { ...o, aws: Boolean(o.aws) });
      const store = history('fail');
      const found = store.find(job, execution);
      if (!found) {
        if (store.list(job).length === 0) await knownJob(o, job);
        throw new UsageError(execution === undefined ? `logs: job '${job}' has no local runs (see stepcron history)`
          : `logs: job '${job}' has no local run '${execution}' (see stepcron history ${job})`);
      }
      const { chunks, dropped } = store.logs(found.execution);
      const text = (stream: 'stdout' | 'stderr') => chunks.filter((c) => c.stream === stream).map((c) => c.text).join('');
      if (o.json) {
        const { job: _job, ...run } = found;
        return void process.stdout.write(`${JSON.stringify({ job, ...run, stdout: text('stdout'), stderr: text('stderr'), droppedBytes: dropped })}\n`);
      }
      const streams = o.stream ? [o.stream] : (['stdout', 'stderr'] as const);
      for (const stream of streams) {
        if (dropped[stream] > 0) process.stderr.write(`stepcron: note: the first ${dropped[stream]} bytes of ${stream} were dropped (a run keeps the last 1 MiB of each stream)\n`);
      }
      const shown = chunks.filter((c) => streams.includes(c.stream));
      for (const chunk of shown) (chunk.stream === 'stderr' && !o.stream ? process.stderr : process.stdout).write(chunk.text);
      if (shown.length === 0) process.stderr.write(`stepcron: ${found.execution} (${found.status}) wrote nothing to ${streams.join(' or ')}\n`);
    });

  common(program.command('demo').description('run each job of the catalog once, locally (process backend, no retry waits)'))
    .action(async (o: Common) => {
      const summaries: Summary[] = [];
      const { formatSummary } = await run();
      const jobs = await jobsOf(o);
      const stop = await stopOnSignals();
      try {
        // Stopped: the job that was running is aborted, and the next ones do not start.
        for (const job of jobs) {
          if (stop.signal.aborted) break;
          const summary = await runOnce(job, o, {}, { ecs: 'process', notify: 'print', skipWaits: true, s3Dir: '.stepcron/s3' }, stop.signal);
          if (!summary) break;
          process.stdout.write(formatSummary(summary));
          summaries.push(summary);
        }
      } finally {
        stop.dispose();
      }
      process.stdout.write(`\n${summaries.map((s) => `${s.job}: ${s.status}`).join(' · ')}\n`);
      exitCode = summaries.length === jobs.length && summaries.every((s) => s.status === 'SUCCEEDED' || s.status === 'SKIPPED') ? 0 : 1;
    });

  // `import crontab|kubernetes|copilot`: cli/import.ts (the translations are workflows/crontab.ts, kubernetes.ts, copilot.ts).
  (await import('./import')).addImportCommand(program, (code) => { exitCode = code; });

  // `doctor`: what a first deploy needs and cannot check itself (cli/doctor.ts; --aws: cli/doctor-aws.ts).
  (await import('./doctor')).addDoctorCommand(program, { common, setExit: (code) => { exitCode = code; }, serverlessFile: serverlessFileFor });

  // `plan`: what a deploy would change, against a git ref or the deployed stage (cli/plan.ts).
  common(program.command('plan')
    .description('what a deploy of the working tree would change on the stage, per job: against a git ref (default HEAD), or the deployed stage with --aws')
    .option('--against <git-ref>', 'compare with the catalog and serverless.yml at this git ref', 'HEAD')
    .option('--aws', "compare with the deployed stage's state machines and schedules instead (read-only)", false)
    .option('--region <region>', "with --aws: the AWS region (default: AWS_REGION or your profile's)")
    .option('--profile <profile>', 'with --aws: the AWS profile (default: AWS_PROFILE or the default chain)')
    .option('--json', 'print one JSON object (times in ISO UTC)', false)
    // As `sls --param`, to see the plan of the deploy one would run with it (--param enabledJobs='*'); repeatable.
    .option('--param <key=value>', 'a stage param as sls --param gives it, before serverless.yml\'s (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    // 4, not git's 2: 2 is already a usage or catalog mistake here, so CI tells "changes" from "plan could not run".
    .option('--exit-code', 'exit 4 when a deploy would change something, 0 when not, 2 when sls would refuse it (2 is also a usage mistake, 1 a failure)', false))
    .action(async (o: import('./plan').PlanOptions, cmd: Command) => {
      const explicit = cmd.getOptionValueSource('catalog') === 'cli' ? o.catalog : undefined;
      await (await import('./plan')).planCommand(o, explicit, { setExit: (code) => { exitCode = code; }, serverlessFile: serverlessFileFor });
    });

  // Day-2 commands: status, runs, start, pause, resume, backfill, redrive (cli/ops/), locally or on a stage (--aws).
  const opsDeps: import('./ops/register').OpsDeps = {
    setExit: (code) => { exitCode = code; },
    common, jobsOf, enabledJobs: stageEnabledJobs, enabledJobsKey: stageEnabledJobsKey, store: () => history('fail'), stopOnSignals,
    findJob: async (jobs, name, file) => (await catalog()).findJob(jobs, name, file),
    runLocal: (job, o, input, signal, redrive) => runOnce(job, o, input, { ecs: 'process', notify: 'print', skipWaits: false, s3Dir: '.stepcron/s3', ...(redrive && { redrive }) }, signal),
    readInput: async (file, job) => await checkedRunInput(runInputOf(readEvent(file), file, job.name), `--event: ${file}`) as Record<string, unknown>,
    checkInput: async (input, job) => await checkedRunInput(runInputOf(input, 'the input', job.name), 'input') as Record<string, unknown>,
  };
  (await import('./ops/register')).addOpsCommands(program, opsDeps);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const [{ CatalogError }, { ParamsError }] = await Promise.all([catalog(), resources()]);
    if (err instanceof CatalogError || err instanceof UsageError || err instanceof ScheduleError || err instanceof ParamsError) {
      process.stderr.write(`stepcron: ${err.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`stepcron: internal error (a bug in stepcron, not in your job or catalog): ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_INTERNAL;
  }
}

/** A run input the precheck would refuse ([1,2], null, unknown fields) is a usage mistake: exit 2 before any run. */
async function checkedRunInput(input: unknown, what: string): Promise<unknown> {
  const [{ RunInputSchema, USER_RUN_INPUT_FIELDS }, { InvalidInputError, parseOrThrow }, { closest }] =
    await Promise.all([import('../handlers/lib/contracts'), import('../handlers/lib/errors'), import('../workflows/names')]);
  // An unknown key, as written (not as the precheck's path input.<key>), with the fields a person may set.
  const unknown = input !== null && typeof input === 'object' && !Array.isArray(input)
    ? Object.keys(input).filter((k) => !(k in RunInputSchema.shape)) : [];
  if (unknown.length) {
    const said = unknown.map((k) => {
      const near = closest(k, USER_RUN_INPUT_FIELDS);
      return `'${k}' at the top level is no run-input field${near ? `: did you mean ${near}?` : ''}`;
    });
    throw new UsageError(`${what}: ${said.join('; ')} (a run input sets ${USER_RUN_INPUT_FIELDS.join(', ')}, e.g. {"input": {...}}; see events/console-*.json)`);
  }
  try {
    parseOrThrow(RunInputSchema, input, 'input');
    return input;
  } catch (err) {
    if (err instanceof InvalidInputError) {
      throw new UsageError(`${what}: ${err.problems.join('; ')} (a run input is a JSON object such as {"input": {...}}; see events/console-*.json)`);
    }
    throw err;
  }
}

/**
 * The run store (.stepcron/store.db), opened once per process. `history` and `logs` open it with 'fail': a store.db
 * that is no store is one line and exit 2. Runs open it with 'replace': such a file is moved aside and the run goes on.
 */
let opened: Store | undefined;
function history(broken: 'fail' | 'replace' = 'replace'): Store {
  opened ??= Store.open(resolve(projectRoot(), '.stepcron'), { broken });
  return opened;
}

/** `--fault` values checked against the job's own definition (unknown state or fault: UsageError, exit 2). */
async function faultsFor(job: Job, stage: string, specs: string[]) {
  const [{ parseFaults }, { compile }, { localInfra }] = await Promise.all([import('./faults'), import('../workflows/compile'), import('./engine')]);
  return parseFaults(specs, compile(job, localInfra(job, stage)));
}

/** Runs the job once; undefined if stopped before it started (nothing ran, nothing is recorded). */
async function runOnce(job: Job, o: Common, input: unknown,
  flags: { ecs: string; notify: string; skipWaits: boolean; s3Dir: string; faults?: import('./faults').Fault[]; redrive?: import('./run').LocalRunOptions['redrive'] },
  signal: AbortSignal): Promise<Summary | undefined> {
  const [{ runLocal, writeTo }, { makeBackend }] = await Promise.all([run(), import('./backends')]);
  const backend = await makeBackend(flags.ecs, o.stage, projectRoot());
  const { StartExecutionError } = await import('./engine');
  const notifyDeps = flags.notify === 'aws' ? await awsDelivery() : undefined;
  if (signal.aborted) return undefined;
  working++;
  try {
    return await runLocal({
      job, stage: o.stage, input, backend, history: history(), skipWaits: flags.skipWaits, signal,
      s3Dir: flags.s3Dir === '.stepcron/s3' ? resolve(projectRoot(), flags.s3Dir) : resolve(flags.s3Dir),
      ...(flags.faults?.length && { faults: flags.faults }),
      ...(flags.redrive && { redrive: flags.redrive }),
      ...(notifyDeps && { notifyDeps }),
      // Back-pressure: a reader that falls behind pauses the job's output instead of the CLI buffering it.
      err: writeTo(process.stderr),
      out: writeTo(process.stdout),
      tty: Boolean(process.stderr.isTTY),
    });
  } catch (err) {
    // Step Functions refuses to start it (the input over 256 KiB, a bad name): nothing ran, say why in one line.
    if (err instanceof StartExecutionError) throw new UsageError(`run: StartExecution would refuse this run: ${err.name}: ${err.message}`);
    throw err;
  } finally {
    // Wait until every task of the run has really ended before the process exits.
    await backend.stopAll('stepcron run ended');
    working--;
  }
}

/** `--notify aws`: the same channels the notify Lambda uses, configured by the same variables. */
async function awsDelivery() {
  const [{ deliveryFromEnv }, { ConfigError }] =
    await Promise.all([import('../handlers/lib/delivery'), import('../handlers/lib/errors')]);
  try {
    return deliveryFromEnv();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`--notify aws: ${err.message}`);
    throw err;
  }
}

/** The stage's `enabledJobs` param from the serverless.yml beside the catalog ('*' without one), as the deploy reads it. */
async function stageEnabledJobs(o: Common): Promise<string[] | '*'> {
  const file = serverlessFileFor(o.catalog);
  if (!existsSync(file)) return '*';
  // Only enabledJobs is used here: a placeholder for another param is not worth a line.
  return (await import('./stage')).readStageParams(o.stage, file, (line, param) => void (param === 'enabledJobs' && process.stderr.write(`${line}\n`))).enabledJobs;
}

/** Where the stage's enabledJobs is set, for messages: `serverless.yml params.dev.enabledJobs`. */
async function stageEnabledJobsKey(o: Common): Promise<string> {
  const file = serverlessFileFor(o.catalog);
  if (!existsSync(file)) return 'serverless.yml params';
  return `${relative(process.cwd(), file)} ${(await import('./stage')).enabledJobsKey(o.stage, file)}`;
}

/**
 * The stage's params for validate. An enabledJobs name the catalog lacks is an error for the catalog the stage deploys
 * (a typo there leaves a job off on every deploy, silently), and a warning for another catalog given with --catalog:
 * the list was written for the stage's own catalog, and trying one's own file must not need the sample's settings
 * changed first. Its jobs the list does not name are then off on the stage, as `status` shows.
 */
async function validatedStageParams(o: Common, jobs: Job[], file: string) {
  const [{ readStageParams, stageCatalog }, { enabledJobsProblem }] = await Promise.all([import('./stage'), catalog()]);
  const params = readStageParams(o.stage, file);
  const names = jobs.map((j) => j.name);
  const problem = enabledJobsProblem(names, params.enabledJobs, { stage: o.stage, key: await stageEnabledJobsKey(o), catalog: o.catalog });
  if (!problem || params.enabledJobs === '*') return params;
  const deployed = stageCatalog(o.stage, file);
  if (resolve(o.catalog) === deployed) throw new UsageError(problem);
  process.stderr.write(`stepcron: warning: ${problem} (a warning, not an error: stage ${o.stage} deploys ${relative(process.cwd(), deployed)}, ` +
    'which the setting was written for; until it is changed, the jobs it does not name are off on the stage)\n');
  return { ...params, enabledJobs: params.enabledJobs.filter((n) => names.includes(n)) };
}

/**
 * The serverless.yml beside the catalog's project (the catalog lives in <project>/workflows/), else the project's (in
 * the current folder or the nearest one above it), else ./serverless.yml (which is not there: default params).
 */
function serverlessFileFor(catalog: string): string {
  const beside = resolve(dirname(resolve(catalog)), '..', 'serverless.yml');
  return existsSync(beside) ? beside : projectServerless() ?? 'serverless.yml';
}

let found: { file: string | undefined } | undefined;
/**
 * The project's serverless.yml, found as git finds .git: in the current folder or the nearest folder above it. Every
 * command takes its root from here (the stage's params and catalog, the run store), so one run from a subfolder reads
 * the same project as one from its root.
 */
function projectServerless(): string | undefined {
  if (found) return found.file;
  found = { file: undefined };
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'serverless.yml'))) {
      found.file = resolve(dir, 'serverless.yml');
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return found.file;
}

/** The project's folder (serverless.yml's), else the current one: where the local run store and s3 folder live. */
const projectRoot = () => {
  const file = projectServerless();
  return file ? dirname(file) : process.cwd();
};

/** A precheck event (events/precheck-*.json) carries the run input it was started with: run with that. */
function runInputOf(event: unknown, file: string, job: string): unknown {
  const e = event as { job?: unknown; policy?: unknown; input?: unknown } | null;
  if (!e || typeof e !== 'object' || e.policy === undefined || e.job === undefined) return event;
  if (e.job !== job) throw new UsageError(`--event: ${file} is a precheck event for job '${String(e.job)}', not '${job}'`);
  return e.input ?? {};
}

/** Step Functions' limit on an execution's input, counted on the text as sent (whitespace included). */
const EVENT_MAX_BYTES = 256 * 1024;

function readEvent(file: string): unknown {
  let text: string;
  try {
    // Refused before it is read: a 100 MB file took seconds and a gigabyte to parse only to be refused after.
    const { size } = statSync(file);
    if (size > EVENT_MAX_BYTES) {
      throw new UsageError(`--event: ${file} is ${Math.ceil(size / 1024)} KiB; Step Functions takes at most 256 KiB of input, counted as sent ` +
        '(whitespace included): minify it, or put the data in S3 and pass its key');
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--event: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--event: ${file} is not valid JSON (${(err as Error).message})`);
  }
}
