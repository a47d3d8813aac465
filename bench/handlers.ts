// The Lambda handlers as the deploy bundles them (serverless-esbuild with serverless.yml's custom.esbuild), their size
// and their module init time. Used by test/bundle.test.ts (sizes only) and by the benchmark (timings).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type BuildOptions, type Metafile, build } from 'esbuild';
import { parse } from 'yaml';

/** custom.esbuild keys that serverless-esbuild@1.57 consumes itself and removes before calling esbuild (bundle.js). */
const PLUGIN_ONLY_KEYS = ['concurrency', 'zipConcurrency', 'exclude', 'nativeZip', 'packager', 'packagePath', 'watch',
  'keepOutputDirectory', 'packagerOptions', 'installExtraArgs', 'outputFileExtension', 'outputBuildFolder',
  'outputWorkFolder', 'nodeExternals', 'skipBuild', 'skipRebuild', 'skipBuildExcludeFns', 'stripEntryResolveExtensions',
  'disposeContext'];
/** The extensions serverless-esbuild tries for a handler's file, in its order, unless resolveExtensions is set. */
const ENTRY_EXTENSIONS = ['.ts', '.js', '.jsx', '.tsx'];

interface ServerlessYml {
  provider?: { runtime?: string; environment?: Record<string, unknown> };
  functions?: Record<string, { handler?: string; environment?: Record<string, unknown> }>;
  custom?: { esbuild?: Record<string, unknown> };
}

export interface HandlerBundle {
  /** The function's name in serverless.yml. */
  handler: string;
  /** The handler's source, relative to the service root. */
  entry: string;
  /** The bundled file (what the zip holds as `handlers/<name>.js`). */
  file: string;
  bytes: number;
  /** The files whose code is in the bundle, with their bytes in it (esbuild's metafile; re-export-only files left out). */
  inputs: Record<string, number>;
  /** Packages the bundle requires at run time (the externals, e.g. the AWS SDK clients the Lambda runtime provides). */
  externals: string[];
}

function readService(root: string): ServerlessYml {
  return parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as ServerlessYml;
}

/** The options serverless-esbuild passes to esbuild for this service, less entryPoints and outdir. */
export function esbuildOptions(root: string): BuildOptions {
  const service = readService(root);
  const custom = { ...(service.custom?.esbuild ?? {}) };
  // Options that run code or another file's settings: this copy could not follow them.
  for (const key of ['config', 'plugins']) {
    if (key in custom) throw new Error(`serverless.yml custom.esbuild.${key} is not supported by bench/handlers.ts`);
  }
  const exclude = asStrings(custom.exclude ?? ['aws-sdk']);
  const external = asStrings(custom.external ?? []);
  const runtime = /^nodejs(\d+)\.x$/.exec(service.provider?.runtime ?? '')?.[1];
  const options: Record<string, unknown> = {
    // serverless-esbuild's defaults, then the runtime's target, then custom.esbuild.
    bundle: true, platform: 'node', target: runtime ? `node${runtime}` : 'node18', ...custom,
    external: [...external, ...(exclude.includes('*') ? [] : exclude)],
  };
  for (const key of PLUGIN_ONLY_KEYS) delete options[key];
  return options as BuildOptions;
}

/** Each function's handler source, from serverless.yml (`handlers/precheck.handler` -> `handlers/precheck.ts`). */
export function handlerEntries(root: string): Array<{ handler: string; entry: string }> {
  const service = readService(root);
  const extensions = asStrings(service.custom?.esbuild?.resolveExtensions ?? ENTRY_EXTENSIONS);
  return Object.entries(service.functions ?? {}).map(([handler, fn]) => {
    const base = (fn.handler ?? '').replace(/\.[^./]+$/, '');
    const ext = extensions.find((e) => existsSync(join(root, base + e)));
    if (!ext) throw new Error(`function ${handler}: no source for handler ${fn.handler}`);
    return { handler, entry: base + ext };
  });
}

/** Bundles every handler into `outDir` exactly as `sls package` does (same options, same layout). */
export async function buildHandlers(root: string, outDir: string): Promise<HandlerBundle[]> {
  const options = esbuildOptions(root);
  const bundles: HandlerBundle[] = [];
  for (const { handler, entry } of handlerEntries(root)) {
    const result = await build({
      ...options, absWorkingDir: root, entryPoints: [entry], outdir: join(outDir, dirname(entry)), metafile: true, logLevel: 'silent',
    });
    bundles.push(describeBundle(handler, entry, result.metafile, root));
  }
  return bundles;
}

function describeBundle(handler: string, entry: string, metafile: Metafile, root: string): HandlerBundle {
  const [path, output] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint === entry) ?? [];
  if (!path || !output) throw new Error(`esbuild wrote no bundle for ${entry}`);
  const file = join(root, path);
  return {
    handler, entry, file, bytes: statSync(file).size,
    inputs: Object.fromEntries(Object.entries(output.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input, { bytesInOutput }]) => [input, bytesInOutput])),
    externals: [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))].sort(),
  };
}

/**
 * The environment a handler starts with: serverless.yml's (provider, then the function's; `${...}` values replaced by
 * something valid), a Lambda-like AWS configuration with fake credentials, and the AWS SDK found through NODE_PATH as
 * the Lambda runtime provides it. Nothing here reaches AWS: init only constructs the clients.
 */
export function handlerEnv(root: string, handler: string): NodeJS.ProcessEnv {
  const service = readService(root);
  const fromYml: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...service.provider?.environment, ...service.functions?.[handler]?.environment })) {
    fromYml[key] = String(value).replace(/\$\{[^}]*\}/g, 'dev');
  }
  // Slack configured too: notify then constructs both its clients (the worst case), and so does its baseline.
  if ('SLACK_WEBHOOK_SECRET' in fromYml) fromYml.SLACK_WEBHOOK_SECRET = 'stepcron/slack';
  return {
    PATH: process.env.PATH ?? '',
    NODE_PATH: join(root, 'node_modules'),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: `stepcron-dev-${handler}`,
    ...fromYml,
  };
}

/**
 * Runs `require(file)` in a fresh `node` (this process's binary) and returns how long the require took, in ms.
 * Throws with the child's stderr when the module fails to load.
 */
export function timeRequire(file: string, env: NodeJS.ProcessEnv): number {
  const script = 'const t=performance.now();require(process.argv[1]);process.stdout.write(String(performance.now()-t))';
  const child = spawnSync(process.execPath, ['-e', script, file], { env, encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`require(${file}) failed (${child.status ?? child.signal}): ${child.stderr}`);
  return Number(child.stdout);
}

/**
 * An empty handler that loads and constructs the same AWS SDK clients as `bundle`, bundled the same way: the part of
 * init no handler code can save.
 */
async function buildBaseline(root: string, bundle: HandlerBundle, dir: string): Promise<string> {
  const clients = bundle.externals.filter((p) => p.startsWith('@aws-sdk/client-'));
  const source = [
    ...clients.map((p, i) => `import * as sdk${i} from '${p}';`),
    `const clients = [${clients.map((_, i) => `sdk${i}`).join(', ')}].map((sdk) => {`,
    `  const [, Client] = Object.entries(sdk).find(([name]) => /^[A-Z][A-Za-z0-9]*Client$/.test(name) && name !== '__Client');`,
    '  return new Client({});',
    '});',
    'export const handler = async () => clients.length;',
  ].join('\n');
  const entry = join(dir, `${bundle.handler}-empty.ts`);
  writeFileSync(entry, source);
  await build({ ...esbuildOptions(root), absWorkingDir: root, entryPoints: [entry],
    outdir: join(dir, 'empty'), logLevel: 'silent' });
  return join(dir, 'empty', `${bundle.handler}-empty.js`);
}

function asStrings(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/**
 * Each handler's bundle size (bytes) and module init time (ms: `require` of the bundle in a new `node`, which loads and
 * constructs its SDK clients), next to emptyBytes and emptyInitMs: the same for an empty handler bundled the same way
 * with the same SDK clients (the baseline). initMs - emptyInitMs is what the handler's own code adds to a cold start.
 * Each time is the fastest of `runs`: on a shared machine, the run least disturbed by other work (medians of the same
 * runs moved by tens of ms from one measurement to the next when other jobs were running).
 */
export async function measureHandlers(root: string, { runs = 11 }: { runs?: number } = {}): Promise<
  Array<{ handler: string; bytes: number; emptyBytes: number; initMs: number; emptyInitMs: number }>
> {
  const dir = mkdtempSync(join(tmpdir(), 'stepcron-handlers-'));
  try {
    const bundles = await buildHandlers(root, dir);
    const results = [];
    for (const bundle of bundles) {
      const baseline = await buildBaseline(root, bundle, dir);
      const env = handlerEnv(root, bundle.handler);
      // One untimed load of each warms the file cache; then alternate, so drift hits both alike.
      timeRequire(bundle.file, env);
      timeRequire(baseline, env);
      const init: number[] = [];
      const empty: number[] = [];
      for (let i = 0; i < runs; i++) {
        init.push(timeRequire(bundle.file, env));
        empty.push(timeRequire(baseline, env));
      }
      results.push({
        handler: bundle.handler, bytes: bundle.bytes, emptyBytes: statSync(baseline).size,
        initMs: Math.min(...init), emptyInitMs: Math.min(...empty),
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const root = join(__dirname, '..');
  measureHandlers(root).then((rows) => {
    for (const r of rows) {
      console.log(`${r.handler}: ${r.bytes} bytes (empty handler ${r.emptyBytes}), init ${r.initMs.toFixed(1)} ms ` +
        `(empty handler with its SDK clients ${r.emptyInitMs.toFixed(1)} ms, own ${(r.initMs - r.emptyInitMs).toFixed(1)} ms)`);
    }
  }, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
