// serverless.yml reads the catalog's state machines and resources through this file: no generation step, the
// TypeScript compiler runs at package time (tsx), and a bad catalog stops `sls package` with its problems listed.
require('tsx/cjs/api').register();
const { join } = require('node:path');
const { loadCatalog } = require('./catalog.ts');
const { stateMachines, resources, toStageParams, STAGE_PARAM_NAMES } = require('./resources.ts');

async function build(resolveVariable, render) {
  const stage = await resolveVariable('sls:stage');
  const raw = {};
  for (const name of STAGE_PARAM_NAMES) raw[name] = await resolveVariable(`param:${name}`);
  try {
    const jobs = loadCatalog(join(__dirname, 'jobs.yml'), { stage });
    return render(jobs, toStageParams(stage, raw));
  } catch (err) {
    // osls prints a rejection's stack: make it the problem list alone, one line each, no trace.
    const clean = new Error(err.message);
    clean.stack = err.message;
    throw clean;
  }
}

module.exports.stateMachines = ({ resolveVariable }) => build(resolveVariable, stateMachines);
module.exports.resources = ({ resolveVariable }) =>
  build(resolveVariable, (jobs, params) => ({ Resources: resources(jobs, params) }));
