// `stepcron plan --aws` (cli/plan.ts): the stage as deployed, read-only, through the ops AWS port's clients and its
// one-line errors (cli/ops/aws.ts). Its own file: plan loads the AWS SDK only with --aws.
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { jobPrefix } from '../workflows/names';
import { type AwsClients, call } from './ops/aws';
import { readPause } from './ops/pause-note';

export interface Deployed {
  /** Job name -> the deployed schedule (undefined: a state machine without a schedule). */
  jobs: Map<string, { expression?: string | undefined; timezone?: string | undefined; state?: string | undefined; paused?: string } | undefined>;
}

/**
 * The stage as deployed: its jobs' state machines (ListStateMachines, by the stage's name prefix) and each one's
 * schedule (ListSchedules by target, then GetSchedule). `otherStages`: stages whose prefix starts with this one's
 * (`prod` and `prod-eu`): their machines are not this stage's jobs.
 */
export async function readDeployed(stage: string, clients: AwsClients, otherStages: string[]): Promise<Deployed> {
  const prefix = jobPrefix(stage);
  const others = otherStages.filter((s) => s !== stage).map(jobPrefix).filter((p) => p.startsWith(prefix));
  const machines = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await call('states:ListStateMachines', () => clients.sfn.send(new ListStateMachinesCommand({ maxResults: 1000, ...(nextToken && { nextToken }) })));
    for (const m of page.stateMachines ?? []) {
      if (m.name?.startsWith(prefix) && m.stateMachineArn && !others.some((p) => m.name!.startsWith(p))) machines.set(m.stateMachineArn, m.name.slice(prefix.length));
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const scheduleOf = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const page = await call('scheduler:ListSchedules', () => clients.scheduler.send(new ListSchedulesCommand({ MaxResults: 100, ...(NextToken && { NextToken }) })));
    for (const s of page.Schedules ?? []) if (s.Target?.Arn && s.Name && machines.has(s.Target.Arn)) scheduleOf.set(s.Target.Arn, s.Name);
    NextToken = page.NextToken;
  } while (NextToken);
  const jobs: Deployed['jobs'] = new Map();
  for (const [arn, job] of machines) {
    const name = scheduleOf.get(arn);
    if (!name) { jobs.set(job, undefined); continue; }
    const s = await call('scheduler:GetSchedule', () => clients.scheduler.send(new GetScheduleCommand({ Name: name })));
    const pause = readPause(s.Description);
    jobs.set(job, { expression: s.ScheduleExpression, timezone: s.ScheduleExpressionTimezone ?? 'UTC', state: s.State,
      ...(pause && { paused: `paused by ${pause.by} at ${pause.at}: ${pause.note}` }) });
  }
  return { jobs };
}
