// The notify function's payloads (the Notify* states, the runtime warning), one schema each; handlers/lib/contracts.ts
// re-exports them. Apart from the precheck's schemas so the notify bundle holds only these: the precheck's
// (z.iso.datetime and the rest) cost the notify bundle 7.7 KB of its 50 KB (test/bundle.test.ts).
import * as z from 'zod/mini';
import { ITEM_OK } from '../../workflows/compile';

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
  /** The job's time zone (the catalog's timezone): the start is shown on the job's clock. Absent: UTC. */
  timezone: z.optional(z.string()),
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
