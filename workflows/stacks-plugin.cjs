// Serverless plugin: after packaging, moves each job's resources into one of the stage's nested stacks
// (workflows/stacks.ts) so 1,000 jobs fit CloudFormation's per-stack quotas, and uploads the nested templates to the
// deployment bucket during `sls deploy`, beside the main template. The nested templates are files in the package
// folder (`.serverless/` or `--package`), named by their content's hash, so `sls deploy --package` deploys them too
// and an unchanged catalog leaves the main template unchanged.
require('tsx/cjs/api').register();
const { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { loadCatalog, unknownEnabledStages } = require('./catalog.ts');
const { definitionString, jobResourceIds } = require('./resources.ts');
const { planStacks, unresolvedParameters } = require('./stacks.ts');
const { unknownStageWarning } = require('./names.ts');
const catalog = require('./serverless.cjs');

const FILE = /^stepcron-(Jobs\d+)-([0-9a-f]{64})\.json$/;

class StepcronStacks {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, info: () => undefined, warning: console.warn };
    // osls constructs plugins before it resolves serverless.yml's variables: from here on the catalog's problems are
    // reported once, by check(), instead of once per variable inside osls's "Cannot resolve serverless.yml" message.
    catalog.reportInPlugin();
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => {
        this.split();
        this.slimState();
      },
      'after:aws:package:finalize:saveServiceState': () => this.restoreState(),
      'after:aws:deploy:deploy:uploadArtifacts': () => this.upload(),
    };
    // The check runs first of all: osls's own deploy plugin, loaded before this one, asks STS for the account in its
    // `initialize` hook, and a stopped deploy must not have called AWS. osls keeps each lifecycle event's hooks in
    // pluginManager.hooks, in load order; where that is not so, the check is an ordinary initialize hook.
    const first = { pluginName: this.constructor.name, hook: () => this.check() };
    const hooks = serverless.pluginManager?.hooks;
    if (hooks && (hooks.initialize === undefined || Array.isArray(hooks.initialize))) {
      hooks.initialize = [first, ...(hooks.initialize ?? [])];
    } else {
      this.hooks.initialize = first.hook;
    }
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  /**
   * A bad catalog or bad params: the problems, one line each, as `stepcron validate` prints them, and exit 1. The
   * README's example ids still set: `sls package` warns (it is offline), `sls deploy` stops before any AWS call unless
   * the stage's allowExampleValues param is true (a demo stack on purpose).
   */
  async check() {
    // A --stage serverless.yml's params do not name: one warning (a new stage is legitimate; `prdo` is a typo).
    const known = Object.keys(this.serverless.configurationInput?.params ?? {}).filter((s) => s !== 'default');
    const unknown = this.options.stage && unknownStageWarning(String(this.options.stage), known);
    if (unknown) this.log.warning(`stepcron: ${unknown}`);
    const outcome = await catalog.outcome(this.provider.getStage());
    if (!outcome) return;
    if (outcome.problem) throw new this.serverless.classes.Error(`stepcron: ${outcome.problem}`);
    this.restoreCatalog(outcome);
    // A per-stage enabled: key that names no stage (a typo such as prdo: false) is never used: said as validate says it.
    for (const line of unknownEnabledStages(readFileSync(outcome.file, 'utf8'), known)) this.log.warning(`stepcron: ${outcome.file}: ${line}`);
    if (outcome.examples.length === 0) return;
    const stage = this.provider.getStage();
    const lines = outcome.examples.map((e) => `  - ${e}`).join('\n');
    const commands = this.serverless.processedInput?.commands ?? [];
    const deploying = commands.length === 1 && commands[0] === 'deploy';
    if (deploying && !outcome.allowExampleValues) {
      throw new this.serverless.classes.Error(`stepcron: stage ${stage} still has the README's example values; set them before deploying:\n${lines}\n` +
        `  a demo stack on purpose: --param="allowExampleValues=true" (or allowExampleValues: true under params: for the stage)`);
    }
    if (deploying || commands[0] === 'package') {
      this.log.warning(`stepcron: stage ${stage} still has the README's example values${deploying ? ' (allowExampleValues=true)' : '; sls deploy stops until they are set'}:\n${lines}`);
    }
  }

  /**
   * osls resolved serverless.yml's variables over a veiled catalog (workflows/serverless.cjs): the state machines and
   * resources go back as built, text and all, before serverless-step-functions and osls compile them. Copies: the
   * step functions plugin rewrites definitions in place, and split() needs them as they were.
   */
  restoreCatalog(outcome) {
    this.outcome = outcome;
    const { stepFunctions, resources } = this.serverless.service;
    for (const [key, machine] of Object.entries(outcome.machines)) {
      if (stepFunctions?.stateMachines?.[key]) stepFunctions.stateMachines[key] = structuredClone(machine);
    }
    for (const [id, resource] of Object.entries(outcome.resources)) {
      if (resources?.Resources?.[id]) resources.Resources[id] = structuredClone(resource);
    }
  }

  /**
   * Each catalog state machine's DefinitionString, written by workflows/resources.ts definitionString instead of
   * serverless-step-functions: the plugin leaves `${...}` in user text unescaped (CloudFormation would take it for a
   * reference) and turns `#{X}` into `${X}`; ours keeps every string as written.
   */
  writeDefinitions(template) {
    for (const machine of Object.values(this.outcome?.machines ?? {})) {
      const resource = template.Resources[machine.id];
      if (resource?.Type !== 'AWS::StepFunctions::StateMachine') {
        throw new this.serverless.classes.Error(`stepcron: the packaged template has no state machine ${machine.id}`);
      }
      resource.Properties.DefinitionString = definitionString(machine.definition);
    }
  }

  /** Where `sls package` leaves its files (osls moves them to --package afterwards). */
  packageDir() {
    return join(this.serverless.serviceDir, '.serverless');
  }

  /** S3 key of a nested template: content-addressed, beside the stage's deployments. */
  key(file) {
    const service = this.serverless.service.service;
    return `${this.provider.getDeploymentPrefix()}/${service}/${this.provider.getStage()}/stepcron-stacks/${file}`;
  }

  templateUrl(file) {
    const bucket = this.serverless.service.provider.deploymentBucket;
    const name = typeof bucket === 'string' ? bucket : bucket?.name;
    return name
      ? { 'Fn::Sub': `https://${name}.s3.\${AWS::Region}.\${AWS::URLSuffix}/${this.key(file)}` }
      : { 'Fn::Sub': `https://\${ServerlessDeploymentBucket}.s3.\${AWS::Region}.\${AWS::URLSuffix}/${this.key(file)}` };
  }

  split() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    this.writeDefinitions(template);
    // The catalog serverless.cjs built the stage from (--param catalog=, params' catalog:, or workflows/jobs.yml).
    const jobs = this.outcome?.jobs ?? loadCatalog(join(__dirname, 'jobs.yml'), { stage: this.provider.getStage() });
    const fileOf = (stack) => `stepcron-${stack.id}-${stack.sha256}.json`;
    const { main, nested, sizes, problems } = planStacks(template, jobs, jobResourceIds, (stack) => this.templateUrl(fileOf(stack)));
    if (problems.length) {
      throw new this.serverless.classes.Error(`stepcron: the stage does not fit CloudFormation's quotas:\n${problems.join('\n')}`);
    }
    const unresolved = unresolvedParameters(main);
    if (unresolved.length) {
      throw new this.serverless.classes.Error(`stepcron: references CloudFormation could not resolve (an Fn::Sub writes a literal \${ as \${!):\n${unresolved.join('\n')}`);
    }
    const dir = this.packageDir();
    mkdirSync(dir, { recursive: true });
    for (const old of readdirSync(dir).filter((f) => FILE.test(f))) rmSync(join(dir, old));
    for (const stack of nested) writeFileSync(join(dir, fileOf(stack)), stack.body);
    this.serverless.service.provider.compiledCloudFormationTemplate = main;

    const largest = sizes.slice(1).sort((a, b) => b.bytes - a.bytes)[0];
    this.log.notice(`stepcron: ${jobs.length} job${jobs.length === 1 ? '' : 's'} in ${nested.length} nested stack${nested.length === 1 ? '' : 's'}` +
      (largest ? `; largest ${largest.id}: ${largest.resources} resources, ${Math.round(largest.bytes / 1024)} KB` : '') +
      `; main stack ${sizes[0].resources} resources`);
  }

  /**
   * osls saves the whole service to serverless-state.json through json-cycle, whose search for repeated objects is
   * quadratic: with every job's definition and resources in it, 1,000 jobs took minutes. What `sls deploy --package`
   * reads back from it is the compiled template, the functions and the package settings; the catalog's state
   * machines and resources are in the templates already, so they are left out of the file (and put back in memory).
   */
  slimState() {
    const service = this.serverless.service;
    this.stashed = { resources: service.resources, stepFunctions: service.stepFunctions, initial: service.initialServerlessConfig };
    const note = 'in the compiled templates (stepcron leaves the catalog out of the saved state)';
    service.resources = { Resources: {}, Description: note };
    service.stepFunctions = { ...service.stepFunctions, stateMachines: {} };
    service.initialServerlessConfig = {
      ...service.initialServerlessConfig, resources: service.resources, stepFunctions: service.stepFunctions,
    };
  }

  restoreState() {
    if (!this.stashed) return;
    const service = this.serverless.service;
    service.resources = this.stashed.resources;
    service.stepFunctions = this.stashed.stepFunctions;
    service.initialServerlessConfig = this.stashed.initial;
    this.stashed = undefined;
  }

  async upload() {
    const dir = this.options.package || this.packageDir();
    const files = readdirSync(dir).filter((f) => FILE.test(f));
    if (files.length === 0) return;
    const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
    const s3 = new S3Client(await this.provider.getAwsSdkV3Config());
    const bucket = await this.provider.getServerlessDeploymentBucketName();
    this.log.info(`stepcron: uploading ${files.length} nested stack templates`);
    await Promise.all(files.map((file) => s3.send(new PutObjectCommand({
      Bucket: bucket, Key: this.key(file), Body: readFileSync(join(dir, file)), ContentType: 'application/json',
    }))));
  }
}

module.exports = StepcronStacks;
