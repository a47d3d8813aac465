// serverless.yml reads the catalog's state machines and resources through this file: no generation step, the
// TypeScript compiler runs at package time (tsx), and a bad catalog stops `sls package` with its problems listed.
require('tsx/cjs/api').register();
const { join, resolve } = require('node:path');
const { DEFAULT_CATALOG, enabledJobsProblem, loadCatalog } = require('./catalog.ts');
const { exampleValues, stateMachines, resources, toStageParams, STAGE_PARAM_NAMES } = require('./resources.ts');
const { validateDefinitions } = require('./validate.ts');

/** Per stage: osls resolves `stateMachines` and `resources` separately; the catalog is read and checked once. */
const built = new Map();
/**
 * Whether the stacks plugin (workflows/stacks-plugin.cjs) is loaded: osls constructs plugins before it resolves
 * these variables. With it, a bad catalog resolves to nothing and the plugin's first hook prints the problems once;
 * a rejection here would be printed once per variable that reads this file, inside osls's own wrapping.
 */
let reportedByPlugin = false;

/** serverless.yml's folder: this file is its workflows/serverless.cjs. */
const SERVICE_DIR = join(__dirname, '..');

/**
 * Where the stage's enabledJobs comes from, for messages: `--param enabledJobs=...` or the params key in serverless.yml.
 * osls takes a --param first, then params.<stage>, then params.default (its param source).
 */
async function enabledJobsKey(stage, options, resolveConfigurationProperty) {
  if ([].concat(options?.param ?? []).some((p) => /^\s*enabledJobs\s*=/.test(String(p)))) return '--param enabledJobs';
  const own = await resolveConfigurationProperty?.(['params', stage, 'enabledJobs']).catch((err) => {
    // osls's way of saying "resolve that first, then call again": passed on.
    if (err?.code === 'MISSING_VARIABLE_DEPENDENCY') throw err;
    return undefined;
  });
  return `params.${own == null ? 'default' : stage}.enabledJobs in serverless.yml`;
}

async function build({ resolveVariable, resolveConfigurationProperty, options }) {
  const stage = await resolveVariable('sls:stage');
  if (!built.has(stage)) {
    const raw = {};
    for (const name of STAGE_PARAM_NAMES) raw[name] = await resolveVariable(`param:${name}`);
    // A serverless.yml from before these params still resolves: not set means the examples stop a deploy, and the
    // catalog is workflows/jobs.yml. `--param catalog=<file>` or params' catalog: is relative to serverless.yml's folder.
    const allowExampleValues = String(await resolveVariable("param:allowExampleValues, 'false'")).trim() === 'true';
    const catalogParam = String(await resolveVariable(`param:catalog, '${DEFAULT_CATALOG}'`)).trim() || DEFAULT_CATALOG;
    const file = resolve(SERVICE_DIR, catalogParam);
    const key = await enabledJobsKey(stage, options, resolveConfigurationProperty);
    built.set(stage, (async () => {
      try {
        const jobs = loadCatalog(file, { stage });
        const params = toStageParams(stage, raw);
        // The catalog the stage deploys: a name it lacks is an error, as `stepcron validate` says it (cli/main.ts).
        const missing = enabledJobsProblem(jobs.map((j) => j.name), params.enabledJobs, { stage, key, catalog: catalogParam });
        // A catalog of one's own (--param catalog=) on a stage whose list names the sample's jobs: the line to change,
        // or the flag that needs no edit, as the example-values warning offers --param="subnets=...".
        if (missing) throw new Error(key === '--param enabledJobs' ? missing : `${missing}; or, with no edit, add --param="enabledJobs=<names or *>" to this sls command`);
        const machines = stateMachines(jobs, params);
        // serverless-step-functions' `validate: true` would build a schema compiler per state machine: minutes for
        // 1,000 jobs. The same asl-validator, once per definition shape (workflows/validate.ts).
        const problems = validateDefinitions(
          Object.fromEntries(Object.values(machines).map((m) => [m.name, m.definition])), require('asl-validator'));
        if (problems.length) throw new Error(`invalid state machine definitions:\n${problems.join('\n')}`);
        return { machines, resources: resources(jobs, params), examples: exampleValues(jobs, params), allowExampleValues, file, jobs };
      } catch (err) {
        if (reportedByPlugin) return { machines: {}, resources: {}, problem: err.message, examples: [], allowExampleValues, file };
        // osls prints a rejection's stack: make it the problem list alone, one line each, no trace.
        const clean = new Error(err.message);
        clean.stack = err.message;
        throw clean;
      }
    })());
  }
  return built.get(stage);
}

/**
 * osls resolves variables inside what this file returns: a `${env:HOME}` or `${self:service}` in a job's description
 * or input would be replaced, a `${file(...)}` would fail the package, `\${` would lose its backslash. With the stacks
 * plugin loaded, osls therefore gets the catalog with every `${` broken by a zero-width space, and the plugin puts the
 * real values back before anything compiles them (StepcronStacks.restoreCatalog). Without it, text is left as it is.
 */
function veil(value) {
  if (!reportedByPlugin) return value;
  // In JSON text a `$` is only ever inside a string (a key or a value): one replace veils them all, fast at 1,000 jobs.
  return JSON.parse(JSON.stringify(value).replaceAll('${', '$\u200b{'));
}

module.exports.stateMachines = async (context) => veil((await build(context)).machines);
module.exports.resources = async (context) => ({
  Resources: veil((await build(context)).resources),
  // Where runs' item lists go (`itemsFrom: s3://<it>/items/...`): `sls info` shows it.
  Outputs: { FanOutBucketName: { Description: "The stage's fan-out bucket: items/ for runs' itemsFrom, results/ for Distributed Map results", Value: { Ref: 'FanOutBucket' } } },
});

/** Called by the stacks plugin when osls loads it: from then on it reports what is wrong with the catalog. */
module.exports.reportInPlugin = () => {
  reportedByPlugin = true;
};
/**
 * What building the stage found: `machines` and `resources` as built (not veiled), `problem` (the catalog's or params'
 * problems, as `stepcron validate` words them), `examples` (README example values still set),
 * `allowExampleValues`, `file` (the catalog read: --param catalog=, params' catalog, or workflows/jobs.yml) and `jobs`;
 * undefined if nothing read the catalog.
 */
module.exports.outcome = (stage) => built.get(stage);
