// Sample payloads from events/: the same files serve the tests, `sls invoke local --path` and the local runner.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const EVENTS_DIR = join(__dirname, '..', 'events');
const texts = new Map<string, string>();

/** events/<name>.json, parsed afresh on every call so a test may change its copy freely. */
export function loadEvent<T>(name: string): T {
  let text = texts.get(name);
  if (text === undefined) {
    text = readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8');
    texts.set(name, text);
  }
  return JSON.parse(text) as T;
}
