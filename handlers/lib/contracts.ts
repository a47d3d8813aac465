// The payloads that cross the Lambda boundary, one schema each; the types are derived from them.
// The state machine builds these payloads (workflows/compile.ts); keep the two in step.
import { z } from 'zod';

/** What a person or the scheduler may start a run with. Unknown keys are refused: they are usually typos. */
export const RunInputSchema = z.strictObject({
  /** Set by EventBridge Scheduler from <aws.scheduler.scheduled-time>; defaults to the execution's start time. */
  scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time such as 2026-11-24T02:00:00Z' }).optional(),
  /** Merged over the job's default `input`, and passed to the container as STEPCRON_INPUT. */
  input: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }).optional(),
  /** Fan-out jobs only: the items to run, instead of the catalog's. */
  items: z.array(z.unknown(), { error: 'must be a JSON array' }).optional(),
  /** Scheduler context, kept for the record. */
  scheduleArn: z.string().optional(),
  schedulerExecutionId: z.string().optional(),
  attemptNumber: z.union([z.string(), z.number()], { error: 'must be a number or a string' }).optional(),
}, { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined) });
export type RunInput = z.infer<typeof RunInputSchema>;

export const PolicySchema = z.object({
  concurrency: z.enum(['allow', 'forbid', 'replace']),
  input: z.record(z.string(), z.unknown()),
  fanOut: z.object({
    items: z.array(z.unknown()).optional(),
    itemsPath: z.string().optional(),
    toleratedFailurePercentage: z.number().min(0).max(100),
  }).optional(),
});

export const PrecheckEventSchema = z.object({
  job: z.string(),
  stage: z.string(),
  policy: PolicySchema,
  execution: z.string(),
  executionName: z.string(),
  stateMachine: z.string(),
  startTime: z.string(),
  /** The run input exactly as the execution received it: validated by the precheck, not here. */
  input: z.unknown(),
});
export type PrecheckEvent = z.infer<typeof PrecheckEventSchema>;

export interface PrecheckResult {
  run: boolean;
  reason: string;
  /** The task's StartedBy (ECS allows 128 of [A-Za-z0-9_/-]); fan-out items append `-<index>`. */
  runId: string;
  scheduledTime: string;
  input: Record<string, unknown>;
  items: unknown[];
  /** Fan-out: how many items may fail before the run fails (floor of total * tolerated%). */
  maxFailedItems: number;
}

const ItemOutcomeSchema = z.object({
  index: z.number(),
  item: z.unknown(),
  status: z.string(),
  outcome: z.object({
    error: z.string(),
    cause: z.string().optional(),
    exitCode: z.array(z.number()).optional(),
    stopCode: z.array(z.string()).optional(),
    reason: z.array(z.string()).optional(),
    taskArn: z.string().optional(),
    attempts: z.number().optional(),
  }).passthrough().optional(),
});
export type ItemOutcome = z.infer<typeof ItemOutcomeSchema>;

const FanOutSummarySchema = z.object({
  items: z.array(ItemOutcomeSchema),
  count: z.number(),
  total: z.number(),
});

export const NotifyEventSchema = z.object({
  job: z.string(),
  stage: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT']),
  execution: z.string(),
  startTime: z.string(),
  logGroup: z.string(),
  /** Failures: how the run ended (see the Mark* states). */
  outcome: z.object({
    status: z.string(),
    error: z.string(),
    /** For a job failure, the ECS Task object as JSON (what .sync puts in the Cause). */
    cause: z.string().optional(),
    attempts: z.number(),
    fanOut: FanOutSummarySchema.optional(),
  }).optional(),
  /** Success of a single task. */
  task: z.object({ taskArn: z.string(), exitCode: z.array(z.number()) }).optional(),
  attempts: z.number().optional(),
  /** Fan-out: the failed items (a run may succeed with some, within the tolerance). */
  fanOut: FanOutSummarySchema.optional(),
});
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;

export interface NotifyResult {
  /** Where the message went: 'sns', 'slack', 'stdout'. */
  delivered: string[];
  subject: string;
  message: string;
}
