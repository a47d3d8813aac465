// Builds the CLI that bin/stepcron.cjs runs: cli/main.ts bundled by esbuild into dist/stepcron.bundle (CommonJS, Node 20+).
// `npm ci` runs it (the `prepare` script); the bin also rebuilds by itself whenever a source changed since.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cli from '../bin/cli-build.cjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
try {
  const built = cli.build(root);
  // `npm ci` runs this as the prepare script: its output stays npm's own (errors still print). `npm run build` says what it built.
  if (process.env.npm_lifecycle_event !== 'prepare') console.log(`${built.file}: ${(built.bytes / 1024).toFixed(0)} KiB from ${built.inputs} files (${built.stamped} in its stamp) in ${Date.now() - started} ms`);
} catch (err) {
  // esbuild has printed its errors already.
  if (!err.errors) console.error(`build-cli: ${err.message}`);
  process.exitCode = 1;
}
