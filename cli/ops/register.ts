// The day-2 commands' flags, registered on the CLI (cli/main.ts): status, describe, runs, start, pause, resume, backfill, redrive,
// and `logs --aws/--follow`. Each picks its port once (the local run store, or the stage with --aws) and hands it to
// its body in cli/ops/commands.ts. Loads nothing heavy until a command runs: `stepcron --help` stays fast.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Job } from '../../workflows/catalog';
import { UsageError } from '../errors';
import type { LocalRunOptions, Summary } from '../run';
import type { Store } from '../store';
import type { CostHook, Io } from './commands';
import type { OpsPort } from './types';

interface Common { catalog: string; stage: string }
export interface Remote extends Common { aws: boolean; region?: string; profile?: string }

export interface OpsDeps {
  setExit: (code: number) => void;
  /** Adds --catalog and --stage, as every command has. */
  common: (cmd: Command) => Command;
  jobsOf: (o: Common) => Promise<Job[]>;
  /** The stage's enabledJobs param, as the deploy reads it ('*' without a serverless.yml). */
  enabledJobs: (o: Common) => Promise<string[] | '*'>;
  /** Where that param is set, for messages (`serverless.yml params.dev.enabledJobs`). */
  enabledJobsKey: (o: Common) => Promise<string>;
  findJob: (jobs: Job[], name: string, catalog: string) => Promise<Job>;
  store: () => Store;
  /** `stepcron run`: one local run with the process backend (or a redrive of one); undefined if stopped before it started. */
  runLocal: (job: Job, o: Common, input: Record<string, unknown>, signal: AbortSignal, redrive?: LocalRunOptions['redrive']) => Promise<Summary | undefined>;
  /** Reads and validates a run input file (--event) as `stepcron run` does: UsageError, exit 2, when bad. */
  readInput: (file: string, job: Job) => Promise<Record<string, unknown>>;
  /** Checks a run input (the console's) as readInput checks a file's: UsageError naming the problems. */
  checkInput: (input: unknown, job: Job) => Promise<Record<string, unknown>>;
  stopOnSignals: () => Promise<{ signal: AbortSignal; dispose: () => void }>;
}

const io = (): Io => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: Boolean(process.stdout.isTTY),
});

export function remote(cmd: Command): Command {
  return cmd
    .option('--aws', 'against the deployed stage (--stage) in AWS instead of the local run store (.stepcron/store.db)', false)
    .option('--region <region>', 'with --aws: the AWS region (default: AWS_REGION or your profile\'s)')
    .option('--profile <profile>', 'with --aws: the AWS profile (default: AWS_PROFILE or the default chain)');
}

export function addOpsCommands(program: Command, deps: OpsDeps): void {
  const commands = () => import('./commands');
  /** The port, chosen once: the stage's AWS services, or the local store (runs started with the process backend). */
  const withOps = async (o: Remote, fn: (ops: OpsPort, signal: AbortSignal) => Promise<number>) => {
    const { guarded } = await commands();
    const stop = await deps.stopOnSignals();
    let ops: OpsPort & { close?: () => void };
    if (o.aws) {
      ops = (await import('./aws')).awsOps({ stage: o.stage, region: o.region, profile: o.profile });
    } else {
      ops = (await import('./local')).localOps({
        stage: o.stage, store: deps.store, run: (job, input) => deps.runLocal(job, o, input, stop.signal), enabledJobs: await deps.enabledJobs(o),
        enabledJobsKey: await deps.enabledJobsKey(o),
        redrive: (job, record, plan) => deps.runLocal(job, o, {}, stop.signal, { record, plan }),
      });
    }
    try {
      deps.setExit(await guarded(io(), () => fn(ops, stop.signal)));
    } finally {
      ops.close?.();
      stop.dispose();
    }
  };
  const job = async (o: Common, name: string) => deps.findJob(await deps.jobsOf(o), name, o.catalog);
  const whole = (flag: string, text: string, min = 1) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag}: '${text}' must be a whole number of at least ${min}`);
    return n;
  };

  remote(deps.common(program.command('status').argument('[job]', 'one job (default: all)')
    .description('per job: enabled or paused (and why), schedule, next 3 times, last run, success rate, cost')
    .option('--last <n>', 'the success rate over this many latest runs', '20')
    .option('--json', 'print one JSON array, one object per job', false)))
    .action(async (name: string | undefined, o: Remote & { last: string; json: boolean }) => {
      const jobs = name ? [await job(o, name)] : await deps.jobsOf(o);
      const last = whole('--last', o.last);
      const { monthlyEstimate } = await import('../../workflows/cost');
      const cost: CostHook = { monthly: (j, costPerRun) => monthlyEstimate(j.schedule, j.timezone, costPerRun).usd };
      await withOps(o, async (ops) => (await commands()).status(ops, jobs, { json: o.json, last, cost }, io()));
    });

  remote(deps.common(program.command('describe').argument('<job>', 'the job')
    .description('one job in full: its settings as they deploy on the stage, whether it fires (and why not), next 5 times, last runs, the last failure with its output, cost')
    .option('--last <n>', 'show this many of the newest runs', '10')
    .option('--json', 'print one JSON object (times in ISO UTC)', false)))
    .action(async (name: string, o: Remote & { last: string; json: boolean }) => {
      const j = await job(o, name);
      const last = whole('--last', o.last);
      const [{ monthlyEstimate }, { describe }] = await Promise.all([import('../../workflows/cost'), import('./describe')]);
      const cost: CostHook = { monthly: (x, costPerRun) => monthlyEstimate(x.schedule, x.timezone, costPerRun).usd };
      const enabledJobs = await deps.enabledJobs(o);
      await withOps(o, async (ops) => describe(ops, j, { stage: o.stage, json: o.json, last, enabledJobs, cost }, io()));
    });

  remote(deps.common(program.command('runs').argument('<job>', 'the job')
    .description('recent runs of a job, newest first (on a stage: Step Functions executions, page by page)')
    .option('--status <status>', 'only runs in this status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED, SKIPPED, RUNNING')
    .option('--since <when>', 'only runs started since: 7d, 12h, 30m, or an ISO time')
    .option('-n, --count <n>', 'at most this many', '20')
    .option('--json', 'print one JSON array (the run summary\'s field names)', false)))
    .action(async (name: string, o: Remote & { status?: string; since?: string; count: string; json: boolean }) => {
      const j = await job(o, name);
      const limit = whole('--count', o.count);
      await withOps(o, async (ops) => (await commands()).runs(ops, j, { ...o, limit }, io()));
    });

  remote(deps.common(program.command('start').argument('<job>', 'the job')
    .description('start a run as the console does (locally: stepcron run); prints the console link on a stage')
    .option('--event <file>', 'run input JSON, checked as the precheck checks it (see events/)')
    .option('--wait', 'on a stage: follow the run to its end and exit as a local run does (0 succeeded or skipped, 1 not)', false)
    .option('--json', 'print the execution (and how it ended) as one JSON object', false)))
    .action(async (name: string, o: Remote & { event?: string; wait: boolean; json: boolean }) => {
      const j = await job(o, name);
      const input = o.event ? await deps.readInput(o.event, j) : {};
      await withOps(o, async (ops) => (await commands()).start(ops, j, input, { wait: o.wait || !o.aws, json: o.json }, io()));
    });

  remote(deps.common(program.command('pause').argument('<job>', 'the job')
    .description("disable the job's schedule, saying who, when and why (shown by status; locally, stepcron schedule skips it)")
    .requiredOption('--note <text>', 'why it is paused')))
    .action(async (name: string, o: Remote & { note: string }) => {
      const j = await job(o, name);
      await withOps(o, async (ops) => (await commands()).pause(ops, j, o.note, io()));
    });

  remote(deps.common(program.command('resume').argument('<job>', 'the job')
    .description("enable the job's schedule again; --catch-up runs the times it missed while paused")
    .option('--catch-up', 'run each scheduled time missed since the pause (as backfill does)', false)
    .option('--max-concurrent <n>', 'with --catch-up: runs at a time', '1')
    .option('--json', 'with --catch-up: print the caught-up times as one JSON array', false)))
    .action(async (name: string, o: Remote & { catchUp: boolean; maxConcurrent: string; json: boolean }) => {
      const j = await job(o, name);
      const maxConcurrent = whole('--max-concurrent', o.maxConcurrent);
      await withOps(o, async (ops) => (await commands()).resume(ops, j, { catchUp: o.catchUp, maxConcurrent, json: o.json }, io()));
    });

  remote(deps.common(program.command('backfill').argument('<job>', 'the job')
    .description('one run per scheduled time of the job in a window (its time zone), each with its scheduledTime; a time that already ran is not run again')
    .requiredOption('--from <time>', 'the first time (ISO, e.g. 2026-11-20T00:00:00Z)')
    .requiredOption('--to <time>', 'the last time (ISO), not in the future')
    .option('--dry-run', 'list the times and which already ran; start nothing', false)
    .option('--max-concurrent <n>', 'runs at a time', '1')
    .option('--json', 'print one JSON array: each time, its status and execution', false)))
    .action(async (name: string, o: Remote & { from: string; to: string; dryRun: boolean; maxConcurrent: string; json: boolean }) => {
      const j = await job(o, name);
      const maxConcurrent = whole('--max-concurrent', o.maxConcurrent);
      await withOps(o, async (ops) => (await commands()).backfill(ops, j, { ...o, maxConcurrent }, io()));
    });

  addUiCommand(program, deps, withOps);

  remote(deps.common(program.command('redrive').argument('<job>', 'the job').argument('<execution>', 'the failed run (name or ARN)')
    .description('resume a FAILED, TIMED_OUT or ABORTED run at the states it did not finish, as the same execution (Step Functions RedriveExecution on a stage; the local store the same way)')
    .option('--json', 'print the execution as one JSON object', false)))
    .action(async (name: string, execution: string, o: Remote & { json: boolean }) => {
      const j = await job(o, name);
      await withOps(o, async (ops) => (await commands()).redrive(ops, j, execution, { json: o.json }, io()));
    });
}

/** `stepcron ui`: the web console over the same port (cli/ui/), until Ctrl-C. */
export function addUiCommand(program: Command, deps: OpsDeps, withOps: WithOps): void {
  remote(deps.common(program.command('ui')
    .description('a web console on 127.0.0.1: jobs, calendar, runs and the actions above (locally, or a stage with --aws); prints its URL with a token')
    .option('--port <n>', 'the port (0: any free one)', '0')))
    .action(async (o: Remote & { port: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: '${o.port}' must be a port number (0: any free one)`);
      const [{ uiApi }, { serveUi }, { monthlyEstimate }] = await Promise.all([import('../ui/api'), import('../ui/server'), import('../../workflows/cost')]);
      const enabledJobs = await deps.enabledJobs(o);
      await withOps(o, async (ops, signal) => {
        const api = uiApi({
          ops, mode: o.aws ? 'aws' : 'local', catalog: o.catalog, jobs: cachedJobs(deps, o), enabledJobs,
          checkInput: deps.checkInput, monthlyRuns: (schedule, timezone) => monthlyEstimate(schedule, timezone, 1).runs,
        });
        let served: Awaited<ReturnType<typeof serveUi>>;
        try {
          // A used URL presented again (a browser reopened) is refused: a fresh one-time URL is printed here.
          served = await serveUi({ api, port, onUrl: (url) => void process.stdout.write(`${url}\n`) });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--port: ${port} is in use on 127.0.0.1: pass another, or --port 0 for any free one`);
          throw err;
        }
        process.stderr.write(`stepcron ui: stage ${ops.stage}, ${ops.where}; this URL opens it once (its token becomes the tab's session); Ctrl-C stops it\n`);
        process.stdout.write(`${served.url}\n`);
        // The first page asks the whole catalog: computed now, while the browser opens.
        api.warm().catch(() => undefined);
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await served.close();
        return 0;
      });
    });
}

type WithOps = (o: Remote, fn: (ops: OpsPort, signal: AbortSignal) => Promise<number>) => Promise<void>;

/** The catalog's jobs, parsed again only when the catalog file changes (a 1,000-job catalog takes ~0.3 s to parse). */
function cachedJobs(deps: OpsDeps, o: Common): () => Promise<Job[]> {
  let kept: { key: string; jobs: Promise<Job[]> } | undefined;
  return () => {
    const s = statSync(o.catalog, { throwIfNoEntry: false });
    const key = s ? `${s.size}-${s.mtimeMs}-${s.ctimeMs}` : 'none';
    if (kept?.key !== key) {
      kept = { key, jobs: deps.jobsOf(o) };
      kept.jobs.catch(() => {
        kept = undefined;
      });
    }
    return kept.jobs;
  };
}

/** `logs --aws` or `logs --follow`: the port's logs (CloudWatch Logs of the run's tasks on a stage). */
export async function opsLogs(deps: OpsDeps, name: string, execution: string | undefined, o: Remote & { follow: boolean; json: boolean }): Promise<void> {
  const j = await deps.findJob(await deps.jobsOf(o), name, o.catalog);
  const { guarded, logs } = await import('./commands');
  const ops = o.aws ? (await import('./aws')).awsOps({ stage: o.stage, region: o.region, profile: o.profile })
    : (await import('./local')).localOps({ stage: o.stage, store: deps.store, run: async () => undefined });
  try {
    deps.setExit(await guarded(io(), () => logs(ops, j, execution, { follow: o.follow, json: o.json }, io())));
  } finally {
    (ops as { close?: () => void }).close?.();
  }
}
