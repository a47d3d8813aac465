// Every AWS SDK call a test sends to an aws-sdk-client-mock mock is checked against the AWS API model
// (test/support/api-model.ts): `mockClient` is wrapped so each mock's recorded commands are collected (also just
// before a test resets or restores it), and after each test, and at the end of the file, every collected command's
// input must hold up, or that test fails naming the call and the rule. The operations seen are written for the
// coverage check in api-model-teardown.ts (every `new XxxCommand(` in handlers/ and cli/ must be seen).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

interface Recorded { operation: string; input: unknown; test: string }
interface Tracked { calls(): Array<{ args: unknown[] }>; seen: number }
interface Registry { mocks: Set<Tracked>; pending: Recorded[]; operations: Set<string>; check(): void }
const REGISTRY = Symbol.for('stepcron.apiModelCalls');
const scope = globalThis as Record<symbol, Registry>;
// `check` is there for test/api-model.test.ts, to see the check fail.
scope[REGISTRY] ??= { mocks: new Set(), pending: [], operations: new Set(), check: () => checkPending() };
const registry = scope[REGISTRY];

/** Moves the commands a mock recorded since the last look into `pending`, with the test that sent them. */
function harvest(mock: Tracked): void {
  const { operationOf } = require('./api-model') as typeof import('./api-model');
  const calls = mock.calls();
  for (const call of calls.slice(mock.seen)) {
    const command = call.args[0] as { input?: unknown; schema?: unknown; constructor: { name: string } };
    registry.pending.push({ operation: operationOf(command), input: command.input, test: expect.getState().currentTestName ?? '(outside a test)' });
  }
  mock.seen = calls.length;
}

jest.mock('aws-sdk-client-mock', () => {
  const actual = jest.requireActual('aws-sdk-client-mock');
  const shared = (globalThis as Record<symbol, Registry>)[Symbol.for('stepcron.apiModelCalls')]!;
  return {
    ...actual,
    mockClient: (...args: unknown[]) => {
      const stub = actual.mockClient(...args);
      const tracked: Tracked = { calls: () => stub.calls(), seen: 0 };
      shared.mocks.add(tracked);
      // A reset or restore forgets the history: collect it first.
      for (const method of ['reset', 'resetHistory', 'restore'] as const) {
        const original = stub[method].bind(stub);
        stub[method] = (...a: unknown[]) => {
          harvest(tracked);
          tracked.seen = 0;
          if (method === 'restore') shared.mocks.delete(tracked);
          return original(...a);
        };
      }
      return stub;
    },
  };
});

function checkPending(): void {
  for (const mock of registry.mocks) harvest(mock);
  if (registry.pending.length === 0) return;
  const { checkCall } = require('./api-model') as typeof import('./api-model');
  const problems: string[] = [];
  for (const call of registry.pending.splice(0)) {
    registry.operations.add(call.operation);
    problems.push(...checkCall(call.operation, call.input, 'sdk').map((p) => `${p}\n    sent by: ${call.test}`));
  }
  if (problems.length) throw new Error(`AWS would refuse ${problems.length} call(s) this test sent:\n  ${problems.join('\n  ')}`);
}

afterEach(checkPending);
afterAll(() => {
  checkPending();
  // For the coverage check at the end of the run (api-model-teardown.ts), which sets the directory.
  const dir = process.env.STEPCRON_API_CALLS_DIR;
  if (dir) {
    const record = { testFile: expect.getState().testPath, operations: [...registry.operations] };
    appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
  }
});
