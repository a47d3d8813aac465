/** A mistake in how stepcron was called (exit 2, one line, no stack trace). */
export class UsageError extends Error {
  override name = 'UsageError';
}
