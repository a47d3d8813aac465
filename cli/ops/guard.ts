// `sls deploy` must not silently resume a job paused with `stepcron pause --aws`. The template sets each schedule's
// State from the catalog, and CloudFormation sends the whole schedule again whenever anything in it changes: that
// would enable a paused job and drop its pause note. So the deploy guard (cli/ops/deploy-guard.cjs) looks first: with
// paused jobs on the stage the deploy stops, naming them, unless it is told `--param pausedJobs=keep`, in which case
// the deploy goes on and every job paused before it is paused again after it.
import { GetScheduleCommand, type GetScheduleCommandOutput, ListSchedulesCommand, type SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { localIso } from '../../workflows/times';
import { readPause, writePause } from './pause-note';
import type { Pause } from './types';

export interface PausedJob {
  job: string;
  schedule: string;
  pause: Pause;
  /** The schedule's zone: the pause's time is shown on the job's clock. */
  timezone: string;
}

/** The stage's schedules that `stepcron pause` disabled: State DISABLED with a pause note, targeting a job's machine. */
export async function pausedJobs(client: SchedulerClient, stage: string): Promise<PausedJob[]> {
  const machine = new RegExp(`:stateMachine:stepcron-${stage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(.+)$`);
  const found: PausedJob[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListSchedulesCommand({ State: 'DISABLED', MaxResults: 100, ...(NextToken && { NextToken }) }));
    for (const s of page.Schedules ?? []) {
      const job = machine.exec(s.Target?.Arn ?? '')?.[1];
      if (!job || !s.Name) continue;
      const full = await client.send(new GetScheduleCommand({ Name: s.Name, ...(s.GroupName && { GroupName: s.GroupName }) }));
      const pause = readPause(full.Description);
      if (pause) found.push({ job, schedule: s.Name, pause, timezone: full.ScheduleExpressionTimezone ?? 'UTC' });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

export function guardMessage(stage: string, paused: PausedJob[], now = new Date()): string {
  const list = paused.map((p) => `  - ${p.job}: paused by ${p.pause.by} since ${localIso(p.pause.at, p.timezone, now)}: ${p.pause.note}`).join('\n');
  return `stage ${stage} has paused jobs; a deploy that changes their schedules would enable them again:\n${list}\n` +
    `resume them first (npx stepcron resume <job> --aws --stage ${stage}), or deploy with --param="pausedJobs=keep" to pause them again right after the deploy`;
}

/** After a deploy: a schedule the deploy enabled (or whose note it dropped) is disabled again with its note. */
export async function repause(client: SchedulerClient, paused: PausedJob[]): Promise<string[]> {
  const again: string[] = [];
  for (const p of paused) {
    const s: GetScheduleCommandOutput = await client.send(new GetScheduleCommand({ Name: p.schedule }));
    if (s.State === 'DISABLED' && readPause(s.Description)) continue;
    await client.send(new UpdateScheduleCommand({
      Name: s.Name!, GroupName: s.GroupName, ScheduleExpression: s.ScheduleExpression!, Target: s.Target!,
      FlexibleTimeWindow: s.FlexibleTimeWindow!, State: 'DISABLED', Description: writePause(p.pause, s.Description),
      ...(s.ScheduleExpressionTimezone && { ScheduleExpressionTimezone: s.ScheduleExpressionTimezone }),
      ...(s.StartDate && { StartDate: s.StartDate }),
      ...(s.EndDate && { EndDate: s.EndDate }),
      ...(s.KmsKeyArn && { KmsKeyArn: s.KmsKeyArn }),
      ...(s.ActionAfterCompletion && { ActionAfterCompletion: s.ActionAfterCompletion }),
    }));
    again.push(p.job);
  }
  return again;
}
