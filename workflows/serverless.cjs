// serverless.yml reads the catalog's state machines and resources through this file: no generation step, the
// TypeScript compiler runs at package time (tsx), and a bad catalog stops `sls package` with its problems listed.
require('tsx/cjs/api').register();
const { join } = require('node:path');
const { loadCatalog } = require('./catalog.ts');
const { stateMachines, resources, toStageParams, STAGE_PARAM_NAMES } = require('./resources.ts');

async function build(resolveVariable) {
  const stage = await resolveVariable('sls:stage');
  const raw = {};
  for (const name of STAGE_PARAM_NAMES) raw[name] = await resolveVariable(`param:${name}`);
  try {
    return { jobs: loadCatalog(join(__dirname, 'jobs.yml'), { stage }), params: toStageParams(stage, raw) };
  } catch (err) {
    // osls prints the message without a stack trace: keep it to the catalog's own lines.
    throw new Error(err.message);
  }
}

module.exports.stateMachines = async ({ resolveVariable }) => {
  const { jobs, params } = await build(resolveVariable);
  return stateMachines(jobs, params);
};

module.exports.resources = async ({ resolveVariable }) => {
  const { jobs, params } = await build(resolveVariable);
  return { Resources: resources(jobs, params) };
};
