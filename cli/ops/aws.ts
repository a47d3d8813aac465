// The day-2 port over a deployed stage: EventBridge Scheduler for the job's schedule (and its pause), Step Functions
// for its runs, CloudWatch Logs for its containers' output, the claims table for "has this scheduled time run".
//
// A pause lives in the schedule itself: State DISABLED, and a first line `stepcron-pause:{"by","at","note"}` in front
// of its Description (Scheduler has no tags on schedules; the Description survives everything but a deploy that
// changes the schedule, which the deploy guard refuses while a job is paused: see cli/ops/deploy-guard.cjs).
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetScheduleCommand, type GetScheduleCommandOutput, ListSchedulesCommand, SchedulerClient, UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand, type DescribeExecutionCommandOutput, DescribeStateMachineForExecutionCommand, type ExecutionListItem,
  GetExecutionHistoryCommand, type HistoryEvent,
  ListExecutionsCommand, ListMapRunsCommand, RedriveExecutionCommand, SFNClient, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Job } from '../../workflows/catalog';
import { JOB_CONTAINER } from '../../workflows/compile';
import { dashboardUrl } from '../../workflows/dashboard';
import { claimsTable, jobsLogGroup, stateMachineName } from '../../workflows/resources';
import { claimKeys, dynamoClaims } from '../../handlers/lib/precheck';
import { priceRun, usageFromHistory } from '../../workflows/cost';
import { failStateRefusal, statusRefusal } from '../redrive';
import { executionName } from '../run';
import { mapLimit } from './commands';
import { readPause, withoutPause, writePause } from './pause-note';
import { type Ended, type LogLine, OpsError, type OpsPort, type RunRow, type RunStatus, type ScheduleState } from './types';

export interface AwsOpsOptions {
  stage: string;
  region?: string | undefined;
  profile?: string | undefined;
  /** How often `start --wait` and `logs --follow` look again (default 3 s). */
  pollMs?: number;
}

/**
 * Every call gives up within seconds: a wrong region or no network is one line, not a hang. The first call is always
 * STS's, so a command that cannot reach AWS ends within 2 attempts x (2 s to connect + 2.5 s without an answer).
 */
const CLIENT_CONFIG = { maxAttempts: 2, requestHandler: { connectionTimeout: 2000, requestTimeout: 2500, throwOnRequestTimeout: true } };
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
type CostEvent = Parameters<typeof usageFromHistory>[0][number];
/** DescribeExecution calls in flight at once: well inside Step Functions' burst, 10x faster than one by one. */
const DESCRIBE_AT_ONCE = 10;
/** Jobs whose executions the console's jobs page lists at once (ListExecutions is throttled per account). */
const RECENT_AT_ONCE = 4;

export interface AwsClients {
  sfn: SFNClient;
  scheduler: SchedulerClient;
  logs: CloudWatchLogsClient;
  sts: STSClient;
  dynamodb: DynamoDBClient;
}

export function awsClients(options: AwsOpsOptions): AwsClients {
  const config = { ...CLIENT_CONFIG, ...(options.region && { region: options.region }), ...(options.profile && { profile: options.profile }) };
  return {
    sfn: new SFNClient(config), scheduler: new SchedulerClient(config), logs: new CloudWatchLogsClient(config),
    sts: new STSClient(config), dynamodb: new DynamoDBClient(config),
  };
}

export function awsOps(options: AwsOpsOptions, clients: AwsClients = awsClients(options)): OpsPort & { close(): void } {
  const { stage } = options;
  const pollMs = options.pollMs ?? 3000;
  let identity: Promise<{ account: string; arn: string; region: string }> | undefined;
  /** Who calls, in which account and region: asked once, and the first call that fails says what is missing. */
  const whoami = () => {
    identity ??= (async () => {
      const region = await call('resolve the AWS region', () => clients.sts.config.region());
      const found = await call('sts:GetCallerIdentity', () => clients.sts.send(new GetCallerIdentityCommand({})));
      return { account: found.Account ?? '', arn: found.Arn ?? '', region };
    })();
    return identity;
  };
  const partition = (region: string) => (region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws');
  const machineArn = async (job: Job) => {
    const { account, region } = await whoami();
    return `arn:${partition(region)}:states:${region}:${account}:stateMachine:${stateMachineName(job, stage)}`;
  };
  const executionArn = async (job: Job, execution: string) => {
    if (execution.startsWith('arn:')) return execution;
    const { account, region } = await whoami();
    return `arn:${partition(region)}:states:${region}:${account}:execution:${stateMachineName(job, stage)}:${execution}`;
  };
  const link = async (arn: string) => {
    const { region } = await whoami();
    return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${arn}`;
  };

  /** The job's schedule: the one in the default group whose target is the job's state machine (CloudFormation names it). */
  let schedules: Promise<Map<string, string>> | undefined;
  const findSchedule = async (job: Job): Promise<GetScheduleCommandOutput | undefined> => {
    schedules ??= (async () => {
      const byTarget = new Map<string, string>();
      let NextToken: string | undefined;
      do {
        const page = await call('scheduler:ListSchedules', () => clients.scheduler.send(new ListSchedulesCommand({ MaxResults: 100, ...(NextToken && { NextToken }) })));
        for (const s of page.Schedules ?? []) if (s.Target?.Arn && s.Name) byTarget.set(s.Target.Arn, s.Name);
        NextToken = page.NextToken;
      } while (NextToken);
      return byTarget;
    })();
    const name = (await schedules).get(await machineArn(job));
    if (!name) return undefined;
    return call('scheduler:GetSchedule', () => clients.scheduler.send(new GetScheduleCommand({ Name: name })));
  };
  const requireSchedule = async (job: Job) => {
    const found = await findSchedule(job);
    if (!found) throw new OpsError(`${job.name} has no schedule on stage ${stage} in ${(await whoami()).region}: is it deployed there (sls deploy --stage ${stage})?`);
    return found;
  };
  const updateSchedule = async (s: GetScheduleCommandOutput, State: 'ENABLED' | 'DISABLED', Description: string) => {
    // UpdateSchedule replaces the whole schedule: everything else goes back as it was.
    await call('scheduler:UpdateSchedule', () => clients.scheduler.send(new UpdateScheduleCommand({
      Name: s.Name!, GroupName: s.GroupName, ScheduleExpression: s.ScheduleExpression!, Target: s.Target!,
      FlexibleTimeWindow: s.FlexibleTimeWindow!, State, Description,
      ...(s.ScheduleExpressionTimezone && { ScheduleExpressionTimezone: s.ScheduleExpressionTimezone }),
      ...(s.StartDate && { StartDate: s.StartDate }),
      ...(s.EndDate && { EndDate: s.EndDate }),
      ...(s.KmsKeyArn && { KmsKeyArn: s.KmsKeyArn }),
      ...(s.ActionAfterCompletion && { ActionAfterCompletion: s.ActionAfterCompletion }),
    })));
  };

  const describe = (arn: string) => call('states:DescribeExecution', () => clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn })));

  const port: OpsPort & { close(): void } = {
    where: `stage ${stage} on AWS${options.region ? ` ${options.region}` : ''}`,
    stage,
    who: async () => (await whoami()).arn,
    // The dashboard every deploy of the stage makes (workflows/dashboard.ts), in the region the commands look at.
    dashboard: async () => dashboardUrl(stage, (await whoami()).region),
    async schedule(job): Promise<ScheduleState> {
      const found = await findSchedule(job);
      if (!found) return { enabled: false, missing: `no schedule on stage ${stage}: not deployed` };
      const pause = readPause(found.Description);
      const deployed = { expression: found.ScheduleExpression ?? job.schedule, timezone: found.ScheduleExpressionTimezone ?? 'UTC' };
      return { enabled: found.State === 'ENABLED', ...(pause && { pause }), deployed };
    },
    async runs(job, query) {
      const stateMachineArn = await machineArn(job);
      const rows: RunRow[] = [];
      let priced = 0;
      let nextToken: string | undefined;
      // AWS filters by its own statuses; SKIPPED runs are SUCCEEDED ones whose output says so.
      const statusFilter = query.status === 'SKIPPED' ? 'SUCCEEDED' : query.status;
      pages: do {
        const page = await call('states:ListExecutions', () => clients.sfn.send(new ListExecutionsCommand({
          stateMachineArn, maxResults: Math.min(100, Math.max(query.limit, 10)), ...(statusFilter && { statusFilter }), ...(nextToken && { nextToken }),
        })), `state machine ${stateMachineName(job, stage)}`);
        // Newest first: the first run older than --since ends the listing.
        const items = page.executions ?? [];
        const older = query.since ? items.findIndex((i) => i.startDate && i.startDate.getTime() < query.since!.getTime()) : -1;
        const listed = older === -1 ? items : items.slice(0, older);
        // A run's exit code, or its skip, is only in its output: the page's runs are described DESCRIBE_AT_ONCE at a time.
        const rowsOf = await mapLimit(listed.slice(0, query.status ? listed.length : query.limit - rows.length), DESCRIBE_AT_ONCE, async (item) =>
          toRow(job, item, item.status === 'SUCCEEDED' || item.status === 'FAILED' || item.status === 'TIMED_OUT' ? await describe(item.executionArn!) : undefined));
        for (const [index, row] of rowsOf.entries()) {
          const item = listed[index]!;
          if (query.status && row.status !== query.status) continue;
          // Priced from the run's history, as the notify function prices it (workflows/cost.ts).
          const price = (query.priced ?? 0) > priced && FINISHED.has(row.status);
          if (price) priced++;
          const cost = price ? priceRun(usageFromHistory(await history(item.executionArn!) as CostEvent[], { cpu: job.cpu, memoryMiB: job.memory })).totalUsd : undefined;
          rows.push({ ...row, link: await link(item.executionArn!), ...(cost !== undefined && { cost }) });
          if (rows.length >= query.limit) break pages;
        }
        if (older !== -1) break;
        nextToken = page.nextToken;
      } while (nextToken);
      return rows;
    },
    async start(job, input, { wait, progress }) {
      const stateMachineArn = await machineArn(job);
      const started = await call('states:StartExecution', () => clients.sfn.send(new StartExecutionCommand({
        stateMachineArn, name: executionName(), input: JSON.stringify(input),
      })), `state machine ${stateMachineName(job, stage)}`);
      const arn = started.executionArn!;
      const execution = arn.slice(arn.lastIndexOf(':') + 1);
      const url = await link(arn);
      if (!wait) return { execution, link: url };
      progress(`▶ ${job.name}  ${execution}  (stage ${stage})\n  ${url}`);
      return { execution, link: url, ended: await follow(arn, progress) };
    },
    async claimedBy(job, scheduledTime) {
      const holder = await call('dynamodb:GetItem', () => dynamoClaims(clients.dynamodb, claimsTable(stage))
        .holder(claimKeys.run(stateMachineName(job, stage), scheduledTime.toISOString())), `table ${claimsTable(stage)}`);
      return holder?.slice(holder.lastIndexOf(':') + 1);
    },
    async pause(job, pause) {
      const s = await requireSchedule(job);
      const description = writePause(pause, s.Description, `${job.name}'s schedule on stage ${stage}`);
      await updateSchedule(s, 'DISABLED', description);
      return readPause(description) ?? pause;
    },
    async resume(job) {
      const s = await requireSchedule(job);
      const pause = readPause(s.Description);
      // Disabled without a pause note is the catalog's doing (enabled: false, enabledJobs): a deploy changes that, not resume.
      if (!pause) {
        if (s.State === 'DISABLED') throw new OpsError(`resume: ${job.name}'s schedule on stage ${stage} is disabled by the catalog (enabled, or the stage's enabledJobs), not paused: enable it there and deploy`);
        return undefined;
      }
      await updateSchedule(s, 'ENABLED', withoutPause(s.Description));
      return pause;
    },
    async logs(job, execution, options) {
      const arn = execution ? await executionArn(job, execution) : await latest(job);
      if (options.last !== undefined) {
        await lastLines(job, arn, options.last, options.write);
        return { execution: arn.slice(arn.lastIndexOf(':') + 1) };
      }
      const read = new Map<string, string | undefined>();
      for (;;) {
        const running = (await describe(arn)).status === 'RUNNING';
        for (const task of await tasksOf(arn)) {
          const stream = `${job.name}/${JOB_CONTAINER}/${task.taskId}`;
          let token = read.get(stream);
          for (;;) {
            const page = await call('logs:GetLogEvents', async () => {
              try {
                return await clients.logs.send(new GetLogEventsCommand({
                  logGroupName: jobsLogGroup(stage), logStreamName: stream, startFromHead: true, ...(token && { nextToken: token }),
                }));
              } catch (err) {
                // A task that never started (or has not written yet) has no stream.
                if ((err as Error).name === 'ResourceNotFoundException') return { events: [], nextForwardToken: token };
                throw err;
              }
            }, `log group ${jobsLogGroup(stage)}`);
            for (const e of page.events ?? []) {
              options.write({ label: task.label, ...(e.timestamp && { at: new Date(e.timestamp).toISOString() }), text: e.message ?? '' });
            }
            // The same token back: the end of what the stream holds for now.
            const done = !page.nextForwardToken || page.nextForwardToken === token;
            token = page.nextForwardToken;
            if (done) break;
          }
          read.set(stream, token);
        }
        if (!options.follow || !running) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      return { execution: arn.slice(arn.lastIndexOf(':') + 1) };
    },
    async redrive(job, execution) {
      const arn = await executionArn(job, execution);
      const found = await call('states:DescribeExecution', () => clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn })), `execution ${execution}`);
      const refuse = redriveRefusal(found);
      if (refuse) throw new OpsError(`redrive: ${execution} cannot be redriven: ${refuse}`);
      if (found.status === 'FAILED') {
        // AWS would accept it and rerun what never finished: after a job failure that is only the Fail state.
        const last = await call('states:GetExecutionHistory', () => clients.sfn.send(new GetExecutionHistoryCommand({
          executionArn: arn, reverseOrder: true, maxResults: 3,
        })), `execution ${execution}`);
        if ((last.events ?? []).some((e) => e.type === 'FailStateEntered')) {
          throw new OpsError(failStateRefusal(execution, found.error, `the console's "New execution" copies it, or stepcron start ${job.name} --aws --event <file>`));
        }
      }
      await call('states:RedriveExecution', () => clients.sfn.send(new RedriveExecutionCommand({ executionArn: arn })), `execution ${execution}`);
      return { execution: arn.slice(arn.lastIndexOf(':') + 1), link: await link(arn) };
    },
    async recent(jobs, perJob) {
      // One ListExecutions page per job and nothing else: the console's jobs page over a stage. Without DescribeExecution
      // a skipped run shows as SUCCEEDED and no exit code is known (the job's page describes its runs in full).
      const found = new Map<string, RunRow[]>();
      await mapLimit(jobs, RECENT_AT_ONCE, async (job) => {
        const stateMachineArn = await machineArn(job);
        let items: ExecutionListItem[] = [];
        try {
          items = (await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: Math.min(perJob, 1000) }))).executions ?? [];
        } catch (err) {
          // Not deployed on the stage: its schedule says so, and it has no runs.
          if ((err as Error).name !== 'StateMachineDoesNotExist') throw awsError(err, 'states:ListExecutions', `state machine ${stateMachineName(job, stage)}`);
        }
        found.set(job.name, items.map((item) => ({
          job: job.name, execution: item.name!, status: item.status as RunStatus, startedAt: item.startDate!.toISOString(),
          ...(item.stopDate && { stoppedAt: item.stopDate.toISOString(), durationMs: item.stopDate.getTime() - item.startDate!.getTime() }),
        })));
      });
      return found;
    },
    async run(job, execution) {
      const arn = await executionArn(job, execution);
      let found: DescribeExecutionCommandOutput;
      try {
        found = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      } catch (err) {
        if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
        throw awsError(err, 'states:DescribeExecution', `execution ${execution}`);
      }
      const item = { executionArn: arn, stateMachineArn: found.stateMachineArn, name: found.name, status: found.status, startDate: found.startDate, stopDate: found.stopDate };
      return { ...await toRow(job, item as ExecutionListItem, found.status === 'RUNNING' ? undefined : found), link: await link(arn) };
    },
    async events(job, execution) {
      // GetExecutionHistory's events as AWS gives them (the run page reads their types and details).
      return history(await executionArn(job, execution));
    },
    async definition(job, execution) {
      // The run page draws what the run ran: the state machine version it started on, not the catalog as it is now.
      const arn = await executionArn(job, execution);
      const found = await call('states:DescribeStateMachineForExecution', () => clients.sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: arn })), `execution ${execution}`);
      return JSON.parse(found.definition ?? '{}');
    },
    close() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };

  async function latest(job: Job): Promise<string> {
    const listed = await port.runs(job, { limit: 1 });
    if (!listed[0]) throw new OpsError(`logs: ${job.name} has no runs on stage ${stage} (see stepcron runs ${job.name} --aws)`);
    return executionArn(job, listed[0].execution);
  }

  /**
   * The last `count` lines of the run's last task: one GetLogEvents from the end of its stream, however much the job
   * wrote before. A few calls whatever the run's size (a Distributed Map's children are not all read, as logs does).
   */
  async function lastLines(job: Job, arn: string, count: number, write: (line: LogLine) => void): Promise<void> {
    const task = await lastTask(arn);
    if (!task || count < 1) return;
    const page = await call('logs:GetLogEvents', async () => {
      try {
        return await clients.logs.send(new GetLogEventsCommand({
          logGroupName: jobsLogGroup(stage), logStreamName: `${job.name}/${JOB_CONTAINER}/${task.taskId}`, startFromHead: false, limit: count,
        }));
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return { events: [] };
        throw err;
      }
    }, `log group ${jobsLogGroup(stage)}`);
    for (const e of page.events ?? []) write({ label: task.label, ...(e.timestamp && { at: new Date(e.timestamp).toISOString() }), text: e.message ?? '' });
  }

  /**
   * The run's last task: its own (a single task's final attempt, an inline fan-out's last item task started), or for
   * a Distributed Map the last task of one failed child execution.
   */
  async function lastTask(arn: string): Promise<{ taskId: string; label: string } | undefined> {
    const own = tasksIn(await history(arn)).at(-1);
    if (own) return own;
    const maps = await call('states:ListMapRuns', () => clients.sfn.send(new ListMapRunsCommand({ executionArn: arn })));
    for (const mapRun of (maps.mapRuns ?? []).toReversed()) {
      const failed = await call('states:ListExecutions', () => clients.sfn.send(new ListExecutionsCommand({ mapRunArn: mapRun.mapRunArn, statusFilter: 'FAILED', maxResults: 1 })));
      const child = failed.executions?.[0]?.executionArn;
      if (child) return tasksIn(await history(child)).at(-1);
    }
    return undefined;
  }

  /** The ECS tasks of a run and its Distributed Map children, labelled by fan-out item and attempt. */
  async function tasksOf(arn: string): Promise<Array<{ taskId: string; label: string }>> {
    const tasks = tasksIn(await history(arn));
    const maps = await call('states:ListMapRuns', () => clients.sfn.send(new ListMapRunsCommand({ executionArn: arn })));
    for (const mapRun of maps.mapRuns ?? []) {
      let nextToken: string | undefined;
      do {
        const page = await call('states:ListExecutions', () => clients.sfn.send(new ListExecutionsCommand({ mapRunArn: mapRun.mapRunArn, ...(nextToken && { nextToken }) })));
        for (const child of page.executions ?? []) tasks.push(...tasksIn(await history(child.executionArn!)));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return tasks;
  }

  async function history(arn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('states:GetExecutionHistory', () => clients.sfn.send(new GetExecutionHistoryCommand({
        executionArn: arn, maxResults: 1000, ...(nextToken && { nextToken }),
      })));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  /** The events after `seen`, oldest first: read newest first and stopped at `seen`, so a poll costs one page. */
  async function newEvents(arn: string, seen: number): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call('states:GetExecutionHistory', () => clients.sfn.send(new GetExecutionHistoryCommand({
        executionArn: arn, reverseOrder: true, maxResults: 100, ...(nextToken && { nextToken }),
      })));
      const fresh = (page.events ?? []).filter((e) => (e.id ?? 0) > seen);
      events.push(...fresh);
      nextToken = fresh.length === (page.events ?? []).length ? page.nextToken : undefined;
    } while (nextToken);
    return events.reverse();
  }

  /** `start --wait`: the run's states as they are entered, until it ends. */
  async function follow(arn: string, progress: (line: string) => void): Promise<Ended> {
    let seen = 0;
    for (;;) {
      const found = await describe(arn);
      const events = await newEvents(arn, seen);
      for (const e of events) {
        if (e.id! <= seen) continue;
        seen = e.id!;
        if (e.stateEnteredEventDetails?.name) progress(`  → ${e.stateEnteredEventDetails.name}`);
        if (e.type === 'TaskFailed') progress(`  ! ${e.taskFailedEventDetails?.error ?? 'task failed'}`);
      }
      if (found.status !== 'RUNNING') return ended(found);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async function toRow(job: Job, item: ExecutionListItem, detail: DescribeExecutionCommandOutput | undefined): Promise<RunRow> {
    const end = detail ? ended(detail) : undefined;
    return {
      job: job.name,
      execution: item.name!,
      status: end?.status ?? (item.status as RunStatus),
      startedAt: item.startDate!.toISOString(),
      ...(item.stopDate && { stoppedAt: item.stopDate.toISOString(), durationMs: item.stopDate.getTime() - item.startDate!.getTime() }),
      ...(end?.exitCode !== undefined && { exitCode: end.exitCode }),
      ...(end?.error && { error: end.error }),
      ...(detail?.cause && { cause: detail.cause }),
      ...(end?.reason && { reason: end.reason }),
    };
  }

  return port;
}

/** How an execution ended, as a local run reports it: SUCCEEDED runs the precheck skipped are SKIPPED with its reason. */
export function ended(found: DescribeExecutionCommandOutput): Ended {
  const output = parse(found.output) as { run?: boolean; reason?: string; outcome?: { exitCode?: number | null } } | undefined;
  const cause = parse(found.cause) as { exitCode?: number | null; Containers?: Array<{ Name?: string; ExitCode?: number }> } | undefined;
  const skipped = found.status === 'SUCCEEDED' && output?.run === false;
  // A job that failed ends with the ECS task as its cause (the Fail state's CausePath): its job container's exit code.
  const exitCode = output?.outcome?.exitCode ?? cause?.exitCode ?? cause?.Containers?.find((c) => c.Name === JOB_CONTAINER)?.ExitCode;
  return {
    execution: found.name!,
    status: skipped ? 'SKIPPED' : (found.status as RunStatus),
    ...(skipped && output?.reason && { reason: output.reason }),
    ...(found.error && { error: found.error }),
    ...(exitCode !== undefined && { exitCode }),
  };
}

/** Why AWS would refuse to redrive this execution, or undefined if it would not (AWS-FACTS: Redrive). */
export function redriveRefusal(found: DescribeExecutionCommandOutput, now = new Date()): string | undefined {
  const refused = statusRefusal(found.status ?? '', found.stopDate, now);
  if (refused) return refused;
  if (found.redriveStatus === 'NOT_REDRIVABLE') return `Step Functions says it is not redrivable: ${found.redriveStatusReason ?? 'no reason given'}`;
  return undefined;
}

/** The tasks a run's history started: ECS task ids, labelled by the item and attempt from the RunTask parameters. */
function tasksIn(events: HistoryEvent[]): Array<{ taskId: string; label: string }> {
  const byId = new Map(events.map((e) => [e.id!, e]));
  const tasks: Array<{ taskId: string; label: string }> = [];
  const seen = new Set<string>();
  for (const e of events) {
    const text = e.taskSubmittedEventDetails?.output ?? e.taskSucceededEventDetails?.output ?? e.taskFailedEventDetails?.cause;
    const match = text && /"TaskArn"\s*:\s*"arn:[^"]*:task\/[^/"]+\/([0-9a-f]+)"/i.exec(text);
    if (!match || seen.has(match[1]!)) continue;
    seen.add(match[1]!);
    // Back along the chain to the TaskScheduled event: its parameters carry the attempt and the item.
    let at: HistoryEvent | undefined = e;
    while (at && at.type !== 'TaskScheduled') at = byId.get(at.previousEventId ?? -1);
    tasks.push({ taskId: match[1]!, label: labelOf(at?.taskScheduledEventDetails?.parameters) });
  }
  return tasks;
}

function labelOf(parameters: string | undefined): string {
  const params = parse(parameters) as { Overrides?: { ContainerOverrides?: Array<{ Environment?: Array<{ Name?: string; Value?: string }> }> } } | undefined;
  const env = Object.fromEntries((params?.Overrides?.ContainerOverrides?.[0]?.Environment ?? []).map((v) => [v.Name, v.Value]));
  const attempt = `attempt ${Number(env.STEPCRON_ATTEMPT ?? 0) + 1}`;
  return env.STEPCRON_ITEM === undefined ? attempt : `[${env.STEPCRON_ITEM.replace(/^"(.*)"$/, '$1')}] ${attempt}`;
}

function parse(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Runs one AWS call and turns its failure into one line saying what to fix: no credentials, no region, no network,
 * access denied, a resource that is not there. `what` names the resource for "not found".
 */
export async function call<T>(action: string, fn: () => Promise<T>, what = ''): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsError(err, action, what);
  }
}

export function awsError(err: unknown, action: string, what: string): Error {
  if (err instanceof OpsError) return err;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const message = (e?.message ?? String(err)).split('\n')[0] ?? '';
  if (name === 'CredentialsProviderError' || (/credential/i.test(message) && !e.$metadata?.httpStatusCode)) {
    return new OpsError(`no AWS credentials: set AWS_PROFILE (after aws sso login) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile (${message})`);
  }
  if (/region is missing/i.test(message)) return new OpsError('no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)');
  const network = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'].includes(network ?? '') || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new OpsError(`cannot reach AWS for ${action} (${network ?? name}): check the network and --region`);
  }
  if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId' || name === 'ExpiredTokenException' || name === 'ExpiredToken' || name === 'InvalidSignatureException') {
    return new OpsError(`AWS refused the credentials (${name}): refresh them (aws sso login) or check AWS_PROFILE/--profile`);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return new OpsError(`AWS denied ${action}${what ? ` on ${what}` : ''}: your identity needs that permission (${message})`);
  if (name === 'StateMachineDoesNotExist' || name === 'ExecutionDoesNotExist' || name === 'ResourceNotFoundException') {
    return new OpsError(`${what || action}: not found (${name}): is the stage deployed in this region and account, and the name right?`);
  }
  return new OpsError(`${action} failed: ${name}: ${message}`);
}
