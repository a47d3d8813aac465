// The Lambda bundles as the deploy builds them (serverless.yml custom.esbuild, through bench/handlers.ts): small, with
// the validation library's small build and no other locale than English, and loadable by a bare `node`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HandlerBundle, buildHandlers, esbuildOptions, handlerEnv } from '../bench/handlers';

const ROOT = join(__dirname, '..');
/** Issue 6, "Small Lambdas": each handler's bundle, the AWS SDK left out. */
const MAX_BYTES = 50_000;

let dir: string;
let bundles: HandlerBundle[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stepcron-bundle-'));
  bundles = await buildHandlers(ROOT, dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (handler: string) => bundles.find((b) => b.handler === handler)!;

describe('Lambda handler bundles', () => {
  it('are built with serverless.yml custom.esbuild: minified, no source map, the AWS SDK external', () => {
    expect(bundles.map((b) => b.handler).sort()).toEqual(['notify', 'precheck']);
    expect(esbuildOptions(ROOT)).toMatchObject({ bundle: true, minify: true, sourcemap: false, external: ['@aws-sdk/*'] });
  });

  it.each(['precheck', 'notify'])('%s is at most 50 KB, the SDK clients left to the runtime', (handler) => {
    const b = bundle(handler);
    expect(b.bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(b.externals.filter((p) => p.startsWith('@aws-sdk/')).length).toBeGreaterThan(0);
    expect(Object.keys(b.inputs).filter((input) => input.includes('node_modules/@aws-sdk/'))).toEqual([]);
  });

  it.each(['precheck', 'notify'])('%s holds zod/mini and its English messages only: no full zod, no other locale', (handler) => {
    const b = bundle(handler);
    const zod = Object.keys(b.inputs).filter((input) => input.includes('node_modules/zod/'));
    expect(zod.length).toBeGreaterThan(0);
    expect(zod.filter((input) => !/node_modules\/zod\/v4\/(core|mini)\/[\w-]+\.js$/.test(input)))
      .toEqual([expect.stringMatching(/node_modules\/zod\/v4\/locales\/en\.js$/)]);
    // Full zod's classes are named ZodString, ZodObject...; zod/mini's ZodMiniString...
    expect(readFileSync(b.file, 'utf8')).not.toMatch(/"Zod(?!Mini)[A-Z]\w*"/);
  });

  it.each(['precheck', 'notify'])('%s loads in a bare node and refuses a bad event in English', (handler) => {
    // Load as the Lambda runtime does (require, SDK from NODE_PATH), then invoke with an empty event: the parse fails
    // before any AWS call, with zod's English wording (zod/mini without a locale would say only "Invalid input").
    const script = `const { handler } = require(process.argv[1]);
      handler({}, {}).then(() => console.log('resolved'), (e) => console.log(JSON.stringify({ name: e.name, type: e.constructor.name, message: e.message })));`;
    const child = spawnSync(process.execPath, ['-e', script, bundle(handler).file], {
      env: handlerEnv(ROOT, handler), encoding: 'utf8', timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const error = JSON.parse(child.stdout) as { name: string; type: string; message: string };
    expect(error.name).toBe('InvalidInputError');
    // What `sls invoke local` reports as the type: the class's name, which the minifier would rename.
    expect(error.type).toBe('InvalidInputError');
    expect(error.message).toMatch(/^event\.job: expected string, received undefined; event\.stage: expected string/);
  });

  it('the child environment has fake credentials and no metadata lookups', () => {
    expect(handlerEnv(ROOT, 'notify')).toMatchObject({
      AWS_REGION: expect.any(String), AWS_ACCESS_KEY_ID: expect.any(String), AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_EC2_METADATA_DISABLED: 'true', NOTIFY_TOPIC_ARN: 'stepcron-dev-notifications',
    });
  });
});
