// The runtime warning: a notification, not a stop, when a run is still going `runtimeWarningSeconds` after it started.
// The run's ArmRuntimeWarning state asks for it once; a one-time EventBridge Scheduler schedule (deleted after it
// fires) calls back at that time, and the warning goes out only if the execution is still RUNNING. Nothing polls, and
// a run that ends first costs one no-op invocation.
import { CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { NotifyResult, WarningEvent } from './notify-contracts';
import { ConfigError } from './errors';
import { deliver, executionUrl, formatDuration, logsUrl, type NotifyDeps, toSubject } from './notify';
import { warningScheduleName } from '../../workflows/names';

export interface WarningDeps extends NotifyDeps {
  /** Calls back with `event` at `at` (AWS: a one-time schedule; locally: a timer). */
  schedule(at: Date, event: WarningEvent): Promise<void>;
  /** Whether the execution is still running when the warning is due (AWS: DescribeExecution). */
  isRunning(executionArn: string): Promise<boolean>;
}

export interface WarningResult {
  /** arm: when the check is due. check: whether the warning went out (false: the run had ended). */
  due?: string;
  warned?: boolean;
  notification?: NotifyResult;
}

export async function runtimeWarning(event: WarningEvent, deps: WarningDeps): Promise<WarningResult> {
  const due = new Date(Date.parse(event.startTime) + event.runtimeWarningSeconds * 1000);
  if (event.kind === 'armRuntimeWarning') {
    await deps.schedule(due, { ...event, kind: 'runtimeWarning' });
    return { due: due.toISOString() };
  }
  if (!(await deps.isRunning(event.execution))) return { warned: false };
  const { subject, message } = formatWarning(event, deps.now?.() ?? new Date());
  return { warned: true, notification: await deliver(subject, message, deps) };
}

export function formatWarning(event: WarningEvent, now: Date): { subject: string; message: string } {
  const started = Date.parse(event.startTime);
  const running = formatDuration(now.getTime() - started);
  const execution = executionUrl(event.execution);
  const logs = logsUrl(event);
  const lines = [
    `Job: ${event.job}`,
    `Stage: ${event.stage}`,
    'Status: RUNNING',
    `Running for: ${running} (runtimeWarningSeconds: ${event.runtimeWarningSeconds}); the run is not stopped`,
    `Started: ${event.startTime}`,
    execution && `Execution: ${execution}`,
    logs && `Logs: ${logs}`,
  ];
  return {
    subject: toSubject(`[stepcron ${event.stage}] ${event.job} still running after ${running}`),
    message: lines.filter(Boolean).join('\n'),
  };
}

// One schedule per execution, named by workflows/names.ts (its table checks the name fits 64 characters).
export { warningScheduleName };

/**
 * The AWS side: a one-time schedule in the stage's warnings group that invokes this function (`targetArn`) with the
 * check, deleted once it has fired; DescribeExecution for the check. The group and the role the schedule runs with
 * come from the environment (WARNING_SCHEDULE_GROUP, WARNING_SCHEDULER_ROLE as path/name; see serverless.yml).
 */
export function awsWarnings(scheduler: SchedulerClient, sfn: SFNClient, targetArn: () => string):
  Pick<WarningDeps, 'schedule' | 'isRunning'> {
  return {
    schedule: async (at, event) => {
      const group = requiredEnv('WARNING_SCHEDULE_GROUP');
      // path/name: the role is in this function's account and partition.
      const [, partition, , , account] = targetArn().split(':');
      const role = `arn:${partition}:iam::${account}:role/${requiredEnv('WARNING_SCHEDULER_ROLE')}`;
      await scheduler.send(new CreateScheduleCommand({
        Name: warningScheduleName(event.execution),
        GroupName: group,
        // at() takes whole seconds; Scheduler fires within a minute of it.
        ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: targetArn(), RoleArn: role, Input: JSON.stringify(event), RetryPolicy: { MaximumRetryAttempts: 3 } },
      }));
    },
    isRunning: async (executionArn) =>
      (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'RUNNING',
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is not set: the runtime warning cannot be scheduled (see workflows/resources.ts)');
  return value;
}
