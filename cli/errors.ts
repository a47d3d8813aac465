/** A mistake in how stepcron was called (exit 2, one line, no stack trace). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Input the local runner cannot take though AWS would (e.g. nested past LOCAL_DEPTH_LIMIT): exit 2, nothing recorded. */
export class LocalLimitError extends UsageError {
  override name = 'LocalLimitError';
}
