// A pause on a stage, kept in the job's schedule: a first line `stepcron-pause:{"by","at","note"}` in front of its
// Description (EventBridge Scheduler has no tags on schedules). Read by status, written by pause, removed by resume,
// which gives the Description back exactly as it was: only the note is ever shortened to fit.
import { SCHEDULE_DESCRIPTION_MAX } from '../../workflows/resources';
import { OpsError, type Pause } from './types';

const PAUSE_PREFIX = 'stepcron-pause:';
/** Scheduler's limit on a schedule's Description. */
const DESCRIPTION_MAX = 512;
/** The end of a shortened note. */
const CUT = '...';

export function readPause(description: string | undefined): Pause | undefined {
  if (!description?.startsWith(PAUSE_PREFIX)) return undefined;
  const found = parse(description.slice(PAUSE_PREFIX.length).split('\n')[0]) as Partial<Pause> | undefined;
  return found && { by: String(found.by ?? ''), at: String(found.at ?? ''), note: String(found.note ?? '') };
}

export function withoutPause(description: string | undefined): string {
  if (!description?.startsWith(PAUSE_PREFIX)) return description ?? '';
  const newline = description.indexOf('\n');
  return newline === -1 ? '' : description.slice(newline + 1);
}

/**
 * The pause first, then the schedule's own description, whole; the note is shortened (ending in `...`) so that both
 * fit Scheduler's 512 characters. A description that leaves no room even for who paused and when is refused, never
 * cut: stepcron deploys at most SCHEDULE_DESCRIPTION_MAX characters there, so only one edited elsewhere can.
 */
export function writePause(pause: Pause, description: string | undefined, what = 'the schedule'): string {
  const rest = withoutPause(description);
  const line = (note: string) => `${PAUSE_PREFIX}${JSON.stringify({ ...pause, note })}`;
  const room = DESCRIPTION_MAX - 1 - rest.length;
  if (line('').length > room) {
    throw new OpsError(`pause: ${what}'s description is ${rest.length} characters, which leaves no room for the pause note ` +
      `(${line('').length} at least) in Scheduler's ${DESCRIPTION_MAX}: deploy the stage (it writes at most ` +
      `${SCHEDULE_DESCRIPTION_MAX}), or shorten the description in the schedule, and pause again`);
  }
  // Cut at whole characters (code points), never inside one; each takes at least one place in the JSON.
  const chars = [...pause.note];
  let note = pause.note;
  for (let keep = Math.min(chars.length, room); line(note).length > room && keep >= 0; keep--) note = `${chars.slice(0, keep).join('')}${CUT}`;
  if (line(note).length > room) note = '';
  return `${line(note)}\n${rest}`;
}

function parse(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
