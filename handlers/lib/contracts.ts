// The payloads that cross the Lambda boundary, one schema each; the types are derived from them.
// The state machine builds these payloads (workflows/compile.ts); keep the two in step.
// zod/mini, not zod: the same checks and messages (English, configured in ./errors.ts) for ~30 KB of the Lambda bundle
// instead of 750 KB (test/bundle.test.ts keeps it so). The catalog, outside the Lambdas, uses the full zod.
import * as z from 'zod/mini';
import { ITEM_OK, type Route } from '../../workflows/compile';

/** What a person or the scheduler may start a run with. Unknown keys are refused: they are usually typos. */
export const RunInputSchema = z.strictObject({
  /** Set by EventBridge Scheduler from <aws.scheduler.scheduled-time>; defaults to the execution's start time. */
  scheduledTime: z.optional(z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time such as 2026-11-24T02:00:00Z' })),
  /** Merged over the job's default `input`, and passed to the container as STEPCRON_INPUT. */
  input: z.optional(z.record(z.string(), z.unknown(), { error: 'must be a JSON object' })),
  /** Fan-out jobs only: the items to run, instead of the catalog's. */
  items: z.optional(z.array(z.unknown(), { error: 'must be a JSON array' })),
  /** Fan-out jobs only: an S3 object of items (.json array, .jsonl, .csv with a header row), instead of the catalog's. */
  itemsFrom: z.optional(z.string({ error: 'must be s3://bucket/key' })),
  /** Scheduler context, kept for the record. */
  scheduleArn: z.optional(z.string()),
  schedulerExecutionId: z.optional(z.string()),
  attemptNumber: z.optional(z.union([z.string(), z.number()], { error: 'must be a number or a string' })),
  /**
   * Set by stepcron when it starts a run that waited (concurrency buffer): the buffered delivery's execution ARN. The
   * run takes over that delivery's place in the buffer and its claim on the scheduled time.
   */
  bufferedFrom: z.optional(z.string({ error: 'must be the execution ARN of the buffered run' })),
}, { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined) });
export type RunInput = z.infer<typeof RunInputSchema>;

export const PolicySchema = z.object({
  concurrency: z.enum(['allow', 'forbid', 'replace', 'buffer']),
  /** concurrency buffer: the run's deadline (the definition's TimeoutSeconds), how long a buffered run may wait. */
  runTimeoutSeconds: z.optional(z.number()),
  input: z.record(z.string(), z.unknown()),
  fanOut: z.optional(z.object({
    items: z.optional(z.array(z.unknown())),
    itemsPath: z.optional(z.string()),
    itemsFrom: z.optional(z.string()),
    /** Where a run's `itemsFrom` may point, as s3:// prefixes (what the state machine's role may read). */
    itemsPrefixes: z.array(z.string()),
    /** The longest list an inline Map can take in one execution's history; longer ones go distributed. */
    inlineLimit: z.number(),
    toleratedFailurePercentage: z.number().check(z.minimum(0), z.maximum(100)),
  })),
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
  /** Fan-out: which Map runs the items (workflows/compile.ts ROUTES); 'none' for a single task. */
  route: Route | 'none';
  /** An S3 route's object. */
  source: { bucket: string; key: string } | null;
  /**
   * concurrency buffer, a skipped run: it waits in the job's buffer for this execution (ARN) to end, and is started
   * again then. Not read by the state machine; the local runner waits on it.
   */
  bufferedBehind?: string;
}

/** EventBridge's event for a run that ended; the precheck function starts a buffered run from it (concurrency buffer). */
export const RunEndedEventSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  }),
});
export type RunEndedEvent = z.infer<typeof RunEndedEventSchema>;

/**
 * The reconcile of buffered runs (a schedule every few minutes, workflows/resources.ts): the stage's buffer jobs'
 * state machines, each looked at for a run that waits while nothing is in progress any more (a lost status event).
 */
export const ReconcileEventSchema = z.strictObject({
  reconcile: z.literal('buffered-runs'),
  stateMachines: z.array(z.string()),
});
export type ReconcileEvent = z.infer<typeof ReconcileEventSchema>;

/** How a task (or one fan-out item) ended: what the Mark* states write to $.outcome. */
const OutcomeSchema = z.object({
  status: z.enum(['FAILED', 'TIMED_OUT']),
  error: z.string(),
  /** A job failure's ECS Task object as JSON (what .sync puts in the Cause), a Lambda error's JSON, or plain text. */
  cause: z.optional(z.string()),
  attempts: z.number(),
  /** Fan-out items (MarkJobFailed): the job container's exit code (null: it never exited) and the task. */
  exitCode: z.optional(z.nullable(z.number())),
  taskArn: z.optional(z.string()),
  /** A Distributed Map's item counts (known: false when DescribeMapRun could not be read). */
  counts: z.optional(z.lazy(() => CountsSchema)),
  resultsAt: z.optional(z.lazy(() => ResultsAtSchema)),
});

const CountsSchema = z.object({
  known: z.boolean(),
  total: z.optional(z.number()),
  succeeded: z.optional(z.number()),
  failed: z.optional(z.number()),
  timedOut: z.optional(z.number()),
  aborted: z.optional(z.number()),
});
/** Where a Distributed Map's ResultWriter wrote the run's results: s3://bucket/prefix/<map run id>/. */
const ResultsAtSchema = z.object({ bucket: z.string(), prefix: z.string() });

/** One entry of the FanOut Map's results: ITEM_OK, or the failed item with its outcome. */
const ItemResultSchema = z.union([
  z.literal(ITEM_OK),
  z.object({ index: z.number(), item: z.unknown(), outcome: OutcomeSchema }),
]);
export type ItemResult = z.infer<typeof ItemResultSchema>;

export const NotifyEventSchema = z.object({
  job: z.string(),
  stage: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT']),
  execution: z.string(),
  startTime: z.string(),
  /** When the notify state was entered ($$.State.EnteredTime): the run's end, for its duration. Absent: now. */
  endTime: z.optional(z.string()),
  logGroup: z.string(),
  /** Failures: how the run ended; a fan-out over its tolerance carries every item's result. */
  outcome: z.optional(z.extend(OutcomeSchema, { results: z.optional(z.array(ItemResultSchema)) })),
  /** Success of a single task; exitCode only when a sidecar failed the task and the job's own exit code was read. */
  task: z.optional(z.object({ taskArn: z.string(), exitCode: z.optional(z.number()) })),
  attempts: z.optional(z.number()),
  /** Success of a fan-out: every item's result (a run may succeed with some failed, within the tolerance). */
  results: z.optional(z.array(ItemResultSchema)),
  /** Success of a Distributed Map fan-out: the counts, and where the per-item results are. */
  counts: z.optional(CountsSchema),
  resultsAt: z.optional(ResultsAtSchema),
  /** Success: false when the job does not notify on success, so only a too-fast run (or failed items) is reported. */
  onSuccess: z.optional(z.boolean()),
  /** Success faster than this is reported as suspicious (the catalog's minRuntimeSeconds). */
  minRuntimeSeconds: z.optional(z.number()),
  /** The job's Fargate size, to price the run's tasks (workflows/cost.ts). */
  taskSize: z.optional(z.object({ cpu: z.number(), memoryMiB: z.number() })),
});
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;

/**
 * The runtime warning (the catalog's runtimeWarningSeconds): `arm` comes from the run's ArmRuntimeWarning state and
 * schedules `check` for startTime + runtimeWarningSeconds, which notifies if the run is still going.
 */
export const WarningEventSchema = z.object({
  kind: z.enum(['armRuntimeWarning', 'runtimeWarning']),
  job: z.string(),
  stage: z.string(),
  execution: z.string(),
  startTime: z.string(),
  logGroup: z.string(),
  runtimeWarningSeconds: z.number(),
});
export type WarningEvent = z.infer<typeof WarningEventSchema>;

export interface NotifyResult {
  /** Where the message went: 'sns', 'slack', 'stdout'. */
  delivered: string[];
  subject: string;
  message: string;
}
