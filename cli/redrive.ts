// Redrive, as Step Functions does it (AWS-FACTS: Redrive): an ended run that did not succeed resumes, with the same
// execution, at the states it entered and never left; states that finished are not run again. Shared by the stage
// (cli/ops/aws.ts, which asks AWS) and the local store (a redrive planned here from the run's stored events).
import type { Job } from '../workflows/catalog';
import { localTime } from '../workflows/times';

/** RedriveExecution's window: executions that ended in the last 14 days. */
const REDRIVE_DAYS = 14;
/** Terminal statuses a run can be redriven from. */
const REDRIVABLE = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** Why AWS would refuse a run of this status that stopped then, or undefined if it would not; times in `zone`. */
export function statusRefusal(status: string, stopDate: Date | undefined, now = new Date(), zone = 'UTC'): string | undefined {
  if (!REDRIVABLE.has(status)) {
    return `it is ${status}; only a FAILED, TIMED_OUT or ABORTED run can be redriven${status === 'RUNNING' ? ' (wait for it to end)' : ''}`;
  }
  if (stopDate && now.getTime() - stopDate.getTime() > REDRIVE_DAYS * 86_400_000) {
    return `it ended on ${localTime(stopDate, zone, now)}, more than ${REDRIVE_DAYS} days ago (Step Functions redrives runs that ended in the last ${REDRIVE_DAYS} days); start a new run instead`;
  }
  return undefined;
}

/**
 * A run that ended in its Fail state (the job failed, was not started, timed out, too many items failed, the precheck
 * refused it) has finished every other state: a redrive would enter Fail again and fail at once, having rerun nothing.
 */
export function failStateRefusal(execution: string, error: string | undefined, start: string): string {
  return `redrive: ${execution} ended in its Fail state (${error ?? 'failed'}): a redrive reruns only the states that did ` +
    'not finish, here just that Fail state, so it would fail again at once without running the job; start a new run ' +
    `with the same input instead (${start})`;
}

/** A redrive the run store refused: one line, exit 1 (an OpsError where the day-2 commands catch it). */
export class RedriveRefused extends Error {
  override name = 'RedriveRefused';
}

/** Where a local redrive resumes: the state and the input it had. */
export interface RedrivePlan { startAt: string; input: unknown }

interface StoredEvent { type?: string; index?: number; state?: { name?: string; input?: unknown } }

/**
 * Plans a local redrive from a run's stored events: the top-level state it entered last and never left, with the
 * input it entered with. Refused (a string) where AWS would refuse or would rerun nothing, and where the local store
 * cannot do what AWS does: resume a fan-out item by item, or give back an input it kept only in part. `unstored`: what
 * the store recorded it could not keep of the run (its summary's), e.g. events lost to a full disk.
 */
export function planRedrive(job: Job, run: { execution: string; status: string; stoppedAt?: string; error?: string },
  events: unknown[], states: Record<string, { Type: string }>, now = new Date(), unstored?: { events?: number; why?: string }): RedrivePlan | string {
  const refused = statusRefusal(run.status, run.stoppedAt === undefined ? undefined : new Date(run.stoppedAt), now, job.timezone);
  if (refused) return `redrive: ${run.execution} cannot be redriven: ${refused}`;
  // Events missing from the middle or the end: where the run stopped is not known, and resuming at the last state
  // stored could rerun a state that finished.
  if (unstored?.events) {
    const why = unstored.why === undefined || unstored.why === 'the disk was full' ? 'the disk was full when they were written' : unstored.why;
    return `redrive: ${run.execution} cannot be redriven locally: ${unstored.events} of its events could not be stored ` +
      `(${why}), so the local store cannot tell where it stopped: start a new run instead (stepcron run ${job.name})`;
  }
  const open = new Map<string, unknown>();
  for (const raw of events as StoredEvent[]) {
    const name = raw?.state?.name;
    if (!name || raw.index !== undefined || !(name in states)) continue;
    if (raw.type === 'StateEntered') {
      open.delete(name);
      open.set(name, raw.state!.input);
    } else if (raw.type === 'StateExited') {
      open.delete(name);
    }
  }
  const last = [...open.entries()].at(-1);
  if (!last) {
    // The store cannot tell which it was: a process killed before its last events were written, or a disk full when
    // they were and at the end too (the run's outcome, and with it what was lost, then went unrecorded).
    return `redrive: ${run.execution} has no unfinished state in the local store (its last events were not stored: its ` +
      `stepcron process died, or the disk was full, before they were written): start a new run instead (stepcron run ${job.name})`;
  }
  const [startAt, input] = last;
  const type = states[startAt]!.Type;
  if (type === 'Fail') return failStateRefusal(run.execution, run.error, `stepcron run ${job.name} --event <file>`);
  if (type === 'Map') {
    return `redrive: ${run.execution} stopped in its fan-out (${startAt}): Step Functions would rerun only the items that ` +
      'did not finish, which the local runner cannot do; start a new run with those items instead ' +
      `(stepcron run ${job.name} --event <file> with {"items": [...]}), or redrive it on a stage with --aws`;
  }
  if (typeof input === 'object' && input !== null && 'cutBytes' in input) {
    return `redrive: ${run.execution} stopped in ${startAt}, whose input (${(input as { cutBytes: number }).cutBytes} bytes) ` +
      `the local store kept only in part: start a new run instead (stepcron run ${job.name})`;
  }
  return { startAt, input };
}
