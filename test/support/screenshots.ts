// Where the browser tests write their screenshots. Their pixels differ from run to run (times, durations, fonts), so
// `npm test` writes them to a git-ignored folder and leaves the tree clean; `npm run screenshots`
// (UPDATE_SCREENSHOTS=1) runs the same tests to refresh docs/img/, which the docs show.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli';

export const SHOTS_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'img') : join(ROOT, 'test', 'output', 'ui');

/** The path to write a screenshot to, its folder made. */
export function shot(name: string): string {
  mkdirSync(SHOTS_DIR, { recursive: true });
  return join(SHOTS_DIR, name);
}

/** The modification time of each of docs/img's screenshots: a plain test run must leave them as they were. */
export function docsShotTimes(names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, statSync(join(ROOT, 'docs', 'img', n), { throwIfNoEntry: false })?.mtimeMs ?? 0]));
}

/**
 * Checks, after a test file's screenshots were taken, that they went where they should: to test/output/ui with docs/img
 * untouched (a plain `npm test` leaves `git status` clean), or to docs/img with `npm run screenshots`.
 */
export function expectShotsWhereTheyBelong(names: string[], before: Record<string, number>): void {
  for (const n of names) expect(existsSync(join(SHOTS_DIR, n))).toBe(true);
  const after = docsShotTimes(names);
  if (process.env.UPDATE_SCREENSHOTS === '1') for (const n of names) expect(after[n]).not.toBe(before[n]);
  else expect(after).toEqual(before);
}
