#!/usr/bin/env node
// `npx stepcron`: runs the compiled CLI, dist/stepcron.bundle, which `npm ci` builds (scripts/build-cli.mjs). Each start
// first checks, with stat calls only, that the build was made from the files as they are now; if one changed or the
// build is missing, it is rebuilt before anything runs (see bin/cli-build.cjs). What runs is never older than the sources.
'use strict';
// Read first: if the parent (npx's shell) dies while the CLI starts, the CLI must still see that it changed.
const parentPid = process.ppid;
const { join } = require('node:path');
const cli = require('./cli-build.cjs');

const root = join(__dirname, '..');
const argv = process.argv.slice(2);

function fail(message) {
  process.stderr.write(`stepcron: ${message}\n`);
  process.exit(1);
}

let build = cli.readBuild(root);
let stale = cli.staleReason(root, build?.stamp);
// More than one round only if sources change while the build runs (or another start's build replaces this one).
for (let round = 0; stale && round < 3; round++) {
  if (!cli.canBuild(root)) fail(`${cli.BUNDLE} is missing or older than its sources (${stale}), and esbuild is not installed to rebuild it: run npm ci`);
  try {
    cli.build(root);
  } catch (err) {
    // esbuild has printed its errors (file:line: message) just above.
    fail(err.errors ? 'cannot build the CLI from its sources (see above)' : `cannot build the CLI: ${err.message}`);
  }
  build?.close();
  build = cli.readBuild(root);
  stale = cli.staleReason(root, build?.stamp);
}
if (stale) fail(`the CLI's sources keep changing while it is being built (${stale}): try again`);

// One V8 code cache per command: the first word, if it looks like one.
const command = /^[a-z][a-z-]{0,30}$/.test(argv[0] ?? '') ? argv[0] : 'default';
cli.loadBuild(root, build, command).main(argv, { parentPid }).then((code) => {
  process.exitCode = code;
});
