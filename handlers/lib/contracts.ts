// The payloads that cross the Lambda boundary, one schema each; the types are derived from them.
// The state machine builds these payloads (workflows/compile.ts); keep the two in step.
// zod/mini, not zod: the same checks and messages (English, configured in ./errors.ts) for ~30 KB of the Lambda bundle
// instead of 750 KB (test/bundle.test.ts keeps it so). The catalog, outside the Lambdas, uses the full zod.
import * as z from 'zod/mini';
import type { Route } from '../../workflows/compile';

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
/** The run-input fields a person sets; the rest are the scheduler's and stepcron's own, accepted but never suggested. */
export const USER_RUN_INPUT_FIELDS = ['scheduledTime', 'input', 'items', 'itemsFrom'] as const;

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

// The notify function's payloads live apart, so its bundle does not carry the precheck's schemas (test/bundle.test.ts).
export * from './notify-contracts';
