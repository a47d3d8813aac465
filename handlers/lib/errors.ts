// Domain errors. Each type name is set explicitly, on the error and on its class: the Lambda runtime reports the
// error's `name` as the type the state machines' Catch matches, `sls invoke local` (osls) its class's name, and the
// bundle's minifier renames classes (`S`). esbuild's keepNames would do it too, for ~3 KB more per handler.
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini (what the handlers' schemas use, for a small bundle) loads no locale by itself: every issue would read
// "Invalid input". describeIssue below builds on English zod's wording ("Invalid input: expected number, received
// string"), so register English, the locale full zod registers by itself (the CLI, which loads both, is unchanged).
// Only this locale is bundled.
z.config(en());

/** Names a domain error class: its `name` (what `sls invoke local` reports) and its errors' `name` (what Lambda does). */
function typeName(errorClass: { prototype: Error }, name: string): void {
  Object.defineProperty(errorClass, 'name', { value: name, configurable: true });
  Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** The run input (or the event) is not what the job accepts: one problem per field, naming what is allowed. */
export class InvalidInputError extends Error {
  static {
    typeName(InvalidInputError, 'InvalidInputError');
  }
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** The function is deployed without a setting it needs. */
export class ConfigError extends Error {
  static {
    typeName(ConfigError, 'ConfigError');
  }
  constructor(readonly variable: string, problem = 'is not set') {
    super(`environment variable ${variable} ${problem}`);
  }
}

/** Every configured notification channel failed; the reasons, one per channel. */
export class DeliveryError extends Error {
  static {
    typeName(DeliveryError, 'NotificationDeliveryError');
  }
  constructor(readonly failures: Record<string, string>) {
    super(Object.entries(failures).map(([channel, reason]) => `${channel}: ${reason}`).join('; '));
  }
}

/**
 * Parses a payload at a boundary; on failure throws InvalidInputError with one line per field under `root`. `offered`:
 * the top-level fields an unknown key's line lists (default: all the schema's), e.g. only those a person sets.
 */
export function parseOrThrow<S extends z.core.$ZodType>(schema: S, value: unknown, root: string, offered?: readonly string[]): z.core.output<S> {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(parsed.error.issues.flatMap((issue) => describeIssue(issue, root, offered ?? shapeKeys(schema))));
}

function describeIssue(issue: z.core.$ZodIssue, root: string, fields: readonly string[]): string[] {
  const where = [root, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    // Unknown keys are usually typos: list what the object does accept.
    const known = issue.path.length === 0 ? fields : [];
    const allowed = known.length ? ` (allowed: ${known.join(', ')})` : '';
    if (issue.keys.length === 1) return [`${where}.${issue.keys[0]}: is not a known field${allowed}`];
    return [`${where}: ${issue.keys.join(', ')} are not known fields${allowed}`];
  }
  // zod's own wording for wrong types ("Invalid input: expected number, received string") reads fine after the field.
  return [`${where}: ${issue.message.replace(/^Invalid input: /, '')}`];
}

function shapeKeys(schema: z.core.$ZodType): string[] {
  const shape = (schema as { shape?: unknown }).shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}
