// The day-2 port over the local run store (.stepcron/store.db): runs as `stepcron history` lists them, pauses in the
// store's pauses table (which `stepcron schedule` reads), claims as the local precheck takes them.
import { hostname, userInfo } from 'node:os';
import { type Job, offReason } from '../../workflows/catalog';
import { claimKeys } from '../../handlers/lib/precheck';
import { compile } from '../../workflows/compile';
import { localInfra, newExecution } from '../engine';
import { planRedrive, type RedrivePlan, RedriveRefused } from '../redrive';
import type { Summary } from '../run';
import type { RunRecord, Store } from '../store';
import { type Ended, OpsError, type OpsPort, type Pause, type RunRow, type RunStatus } from './types';

export interface LocalOpsDeps {
  stage: string;
  store: () => Store;
  /** `stepcron run`: runs the job once here, resolving with its summary (undefined: stopped before it started). */
  run: (job: Job, input: Record<string, unknown>) => Promise<Summary | undefined>;
  /** The stage's enabledJobs param (serverless.yml), which decides with the catalog's enabled: what fires; default '*'. */
  enabledJobs?: string[] | '*';
  /** Where enabledJobs is set, for status (`serverless.yml params.dev.enabledJobs`). */
  enabledJobsKey?: string;
  /** How often `logs --follow` looks for more output (default 500 ms). */
  pollMs?: number;
  /** `stepcron redrive`: resumes a stored run as planned; undefined if stopped before it started. */
  redrive?: (job: Job, record: RunRecord, plan: RedrivePlan) => Promise<Summary | undefined>;
}

export function localOps(deps: LocalOpsDeps): OpsPort {
  const { stage } = deps;
  const machineArn = (job: Job) => newExecution(job, stage, 'x').stateMachineArn;
  return {
    where: 'local store .stepcron/store.db',
    stage,
    who: async () => `${userInfo().username}@${hostname()}`,
    async schedule(job) {
      const pause = deps.store().paused(stage).get(job.name);
      // The deploy's rule (offReason): what is off on the stage is off here too.
      const off = offReason(job, deps.enabledJobs ?? '*');
      return {
        enabled: !off && !pause,
        ...(pause && { pause }),
        ...(off && { missing: off === 'enabled: false' ? `off on ${stage}: enabled: false in the catalog`
          : `off on ${stage}: not in enabledJobs (${deps.enabledJobsKey ?? 'serverless.yml params'})` }),
      };
    },
    async runs(job, query) {
      const store = deps.store();
      const rows: RunRow[] = [];
      for (const record of store.list(job.name)) {
        // The store keeps every stage's runs; a stage's views show its own (on AWS its state machines scope them).
        if (record.stage !== stage) continue;
        if (query.since && Date.parse(record.startedAt) < query.since.getTime()) break;
        if (query.status && record.status !== query.status) continue;
        rows.push(toRow(record, store.summary(record.execution) as Summary | undefined));
        if (rows.length >= query.limit) break;
      }
      return rows;
    },
    async start(job, input) {
      const summary = await deps.run(job, input);
      if (!summary) throw new OpsError(`start: ${job.name} was stopped before it started: nothing ran`);
      return { execution: summary.execution, ended: ended(summary) };
    },
    async claimedBy(job, scheduledTime) {
      const holder = deps.store().holder(claimKeys.run(machineArn(job), scheduledTime.toISOString()));
      return holder?.slice(holder.lastIndexOf(':') + 1);
    },
    async pause(job, pause: Pause) {
      deps.store().pause(stage, job.name, pause);
      return pause;
    },
    async resume(job) {
      return deps.store().resume(stage, job.name);
    },
    async logs(job, execution, options) {
      const store = deps.store();
      const found = store.find(job.name, execution);
      if (!found) {
        throw new OpsError(execution === undefined ? `logs: job '${job.name}' has no local runs (see stepcron history)`
          : `logs: job '${job.name}' has no local run '${execution}' (see stepcron runs ${job.name})`);
      }
      // Stored lines already carry their item and attempt (cli/run.ts labels them); the label here is the stream.
      let shown = 0;
      if (options.last !== undefined) {
        const lines = store.logs(found.execution).chunks.flatMap((chunk) => chunk.text.replace(/\n$/, '').split('\n').map((text) => ({ label: chunk.stream, text })));
        for (const line of lines.slice(Math.max(0, lines.length - options.last))) options.write(line);
        return { execution: found.execution };
      }
      for (;;) {
        const { chunks } = store.logs(found.execution);
        for (const chunk of chunks.slice(shown)) {
          for (const text of chunk.text.replace(/\n$/, '').split('\n')) options.write({ label: chunk.stream, text });
        }
        shown = chunks.length;
        if (!options.follow || store.find(job.name, found.execution)?.status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 500));
      }
      return { execution: found.execution };
    },
    async otherStages(job) {
      const counts = new Map<string, number>();
      for (const record of deps.store().list(job.name)) {
        if (record.stage !== stage) counts.set(record.stage, (counts.get(record.stage) ?? 0) + 1);
      }
      return counts;
    },
    async recent(jobs, perJob) {
      const found = deps.store().recent(stage, jobs.map((j) => j.name), perJob);
      return new Map([...found].map(([job, runs]) => [job, runs.map((r) => ({ ...r, status: r.status as RunStatus }))]));
    },
    async run(job, execution) {
      const store = deps.store();
      const found = store.find(job.name, execution);
      return found && found.stage === stage ? toRow(found, store.summary(found.execution) as Summary | undefined) : undefined;
    },
    async version() {
      return deps.store().version();
    },
    async events(job, execution) {
      const store = deps.store();
      if (!store.find(job.name, execution)) throw new OpsError(`job '${job.name}' has no local run '${execution}' (see stepcron runs ${job.name})`);
      return store.events(execution);
    },
    async redrive(job, execution) {
      const store = deps.store();
      const found = store.find(job.name, execution);
      if (!found) throw new OpsError(`redrive: job '${job.name}' has no local run '${execution}' (see stepcron runs ${job.name})`);
      // The same definition the run ran (compiled from the catalog as it is now, as a deploy would).
      const states = compile(job, localInfra(job, stage)).States as Record<string, { Type: string }>;
      const plan = planRedrive(job, found, store.events(found.execution), states, new Date(),
        (store.summary(found.execution) as Summary | undefined)?.unstored);
      if (typeof plan === 'string') throw new OpsError(plan);
      if (!deps.redrive) throw new OpsError('redrive: this command cannot run jobs');
      try {
        const summary = await deps.redrive(job, found, plan);
        if (!summary) throw new OpsError(`redrive: ${found.execution} was stopped before it started: nothing ran`);
        return { execution: summary.execution, ended: ended(summary) };
      } catch (err) {
        if (err instanceof RedriveRefused) throw new OpsError(err.message);
        throw err;
      }
    },
  };
}

function toRow(record: RunRecord, summary: Summary | undefined): RunRow {
  const exitCode = summary && !summary.items && summary.tasks.length ? summary.tasks.at(-1)!.exitCode : undefined;
  const reason = summary?.reason ?? record.reason;
  return {
    job: record.job,
    execution: record.execution,
    status: record.status as RunStatus,
    startedAt: record.startedAt,
    ...(record.stoppedAt !== undefined && { stoppedAt: record.stoppedAt }),
    ...(record.durationMs !== undefined && { durationMs: record.durationMs }),
    ...(exitCode !== undefined && { exitCode }),
    ...(record.error !== undefined && { error: record.error }),
    ...(summary?.cause !== undefined && { cause: summary.cause }),
    ...(reason && { reason }),
    // The run summary's cost (workflows/cost.ts), in USD at list prices.
    ...(typeof summary?.cost?.totalUsd === 'number' && { cost: summary.cost.totalUsd }),
  };
}

function ended(summary: Summary): Ended {
  const exitCode = !summary.items && summary.tasks.length ? summary.tasks.at(-1)!.exitCode : undefined;
  return {
    execution: summary.execution,
    status: summary.status,
    ...(summary.reason && { reason: summary.reason }),
    ...(summary.error !== undefined && { error: summary.error }),
    ...(exitCode !== undefined && { exitCode }),
  };
}
