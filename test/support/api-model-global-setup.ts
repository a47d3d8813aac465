// Jest globalSetup: a fresh directory where each test file's setup (api-model-setup.ts) writes the AWS operations its
// tests sent, for the coverage check in api-model-teardown.ts. Workers inherit the variable.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function globalSetup(): void {
  process.env.STEPCRON_API_CALLS_DIR = mkdtempSync(join(tmpdir(), 'stepcron-api-calls-'));
}
