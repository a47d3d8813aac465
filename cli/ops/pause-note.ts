// A pause on a stage, kept in the job's schedule: a first line `stepcron-pause:{"by","at","note"}` in front of its
// Description (EventBridge Scheduler has no tags on schedules). Read by status, written by pause, removed by resume.
import type { Pause } from './types';

const PAUSE_PREFIX = 'stepcron-pause:';
/** Scheduler's limit on a schedule's Description. */
const DESCRIPTION_MAX = 512;

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

/** The pause first, then the schedule's own description; the note is cut so the whole fits Scheduler's 512 characters. */
export function writePause(pause: Pause, description: string | undefined): string {
  const rest = withoutPause(description);
  const line = (note: string) => `${PAUSE_PREFIX}${JSON.stringify({ ...pause, note })}`;
  let note = pause.note;
  while (note && line(note).length + 1 + rest.length > DESCRIPTION_MAX) note = note.slice(0, -8);
  return `${line(note)}\n${rest}`.slice(0, DESCRIPTION_MAX);
}

function parse(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
