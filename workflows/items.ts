// How a fan-out item is named to people, the same everywhere: on its output lines in a local run (cli/progress.ts) and
// beside its output tail in a failure notification (handlers/lib/notify.ts), on AWS and locally.

/** A string or number as it is, an object by its id/name/key/tenant, else short JSON; at most 40 characters. */
export function itemId(item: unknown): string {
  const named = typeof item === 'object' && item !== null && !Array.isArray(item)
    ? ['id', 'name', 'key', 'tenant'].map((k) => (item as Record<string, unknown>)[k]).find((v) => typeof v === 'string' || typeof v === 'number')
    : undefined;
  const text = typeof item === 'string' || typeof item === 'number' ? String(item) : named !== undefined ? String(named) : JSON.stringify(item) ?? 'null';
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
