#!/usr/bin/env node
// `npx stepcron`: runs the compiled CLI, dist/stepcron.bundle, which `npm ci` builds (scripts/build-cli.mjs). Each start
// first checks, with stat calls only, that the build was made from the files as they are now; if one changed or the
// build is missing, it is rebuilt before anything runs (see bin/cli-build.cjs). What runs is never older than the sources.
'use strict';
// Read first: if the parent (npx's shell) dies while the CLI starts, the CLI must still see that it changed.
const parentPid = process.ppid;
const { join } = require('node:path');

// The run store needs node:sqlite (Node 22.13+). `npm ci` installs the Lambda's Node 24 into node_modules (the node
// devDependency), which npx and npm scripts put first on PATH; a start on an older Node (this file run directly, its
// shebang finding the system's Node 20) runs the same CLI on that one, passing signals on and ending as it ends.
/** Runs this CLI on the project's Node when this one is too old; true if it did (this process then only waits). */
function onProjectNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (!(major < 22 || (major === 22 && minor < 13)) || process.env.STEPCRON_NODE_REEXEC) return false;
  let projectNode;
  try {
    projectNode = join(require.resolve('node/package.json', { paths: [join(__dirname, '..')] }), '..', 'bin', 'node');
  } catch {
    return false;
  }
  if (!require('node:fs').existsSync(projectNode)) return false;
  const child = require('node:child_process').spawn(projectNode, [__filename, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, STEPCRON_NODE_REEXEC: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  return true;
}

function runHere() {
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
}

if (!onProjectNode()) runHere();
