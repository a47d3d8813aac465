// Jest globalTeardown: no SDK call escapes the API-model check. Every `new XxxCommand(` in handlers/, cli/ and
// workflows/ must have been sent, and so checked, by at least one test that mocks the SDK (api-model-setup.ts).
// Only a run of every such test file can tell; a run of some files (npx jest test/x.test.ts) checks nothing here.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sourceCommands, uncheckedCommands } from './api-model';

const root = join(__dirname, '../..');

export default function globalTeardown(): void {
  const dir = process.env.STEPCRON_API_CALLS_DIR;
  if (!dir) return;
  const records = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as { testFile: string; operations: string[] });
  rmSync(dir, { recursive: true, force: true });
  const ran = new Set(records.map((r) => r.testFile));
  const mocking = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(root, 'test', f))
    .filter((f) => readFileSync(f, 'utf8').includes('aws-sdk-client-mock'));
  if (!mocking.every((f) => ran.has(f))) return;
  const inSources = sourceCommands(root, ['handlers', 'cli', 'workflows']);
  const missing = uncheckedCommands(inSources, records.flatMap((r) => r.operations));
  if (missing.length) {
    throw new Error(`SDK calls no test sent, so never checked against the AWS API model (test/support/api-model.ts): add a test that sends each with aws-sdk-client-mock:\n  ${missing.join('\n  ')}`);
  }
  console.log(`AWS API model: all ${inSources.size} SDK operations the sources call were sent by tests and checked`);
}
