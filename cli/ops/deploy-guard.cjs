// Serverless plugin: `sls deploy` does not silently resume a job paused with `stepcron pause --aws` (cli/ops/guard.ts).
// Before the stack is updated it lists the stage's paused jobs; with any, the deploy stops and names them, unless
// --param="pausedJobs=keep" is given: then the deploy goes on and they are paused again, with their notes, after it.
require('tsx/cjs/api').register();
const { SchedulerClient } = require('@aws-sdk/client-scheduler');
const { guardMessage, pausedJobs, repause } = require('./guard.ts');

class StepcronDeployGuard {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils?.log ?? { notice: console.log, warning: console.warn };
    this.paused = [];
    this.hooks = {
      'before:deploy:deploy': () => this.check(),
      'after:deploy:deploy': () => this.keep(),
    };
  }

  get provider() {
    return this.serverless.getProvider('aws');
  }

  async client() {
    this.scheduler ??= new SchedulerClient({ ...(await this.provider.getAwsSdkV3Config()), maxAttempts: 3 });
    return this.scheduler;
  }

  /** --param="pausedJobs=keep" (osls passes every --param as "key=value"). */
  get keepPaused() {
    const params = [].concat(this.options.param ?? []);
    return params.some((p) => String(p).replace(/\s/g, '') === 'pausedJobs=keep');
  }

  async check() {
    const stage = this.provider.getStage();
    try {
      this.paused = await pausedJobs(await this.client(), stage);
    } catch (err) {
      // Cannot look (no scheduler:ListSchedules/GetSchedule): say so; the deploy itself will need more than that anyway.
      this.log.warning(`stepcron: could not check stage ${stage} for paused jobs (${err.name}: ${err.message}); a deploy that changes a paused job's schedule enables it again`);
      return;
    }
    if (this.paused.length === 0) return;
    if (!this.keepPaused) throw new this.serverless.classes.Error(guardMessage(stage, this.paused));
    this.log.notice(`stepcron: ${this.paused.length} paused job(s) will be paused again after the deploy: ${this.paused.map((p) => p.job).join(', ')}`);
  }

  async keep() {
    if (this.paused.length === 0) return;
    const again = await repause(await this.client(), this.paused);
    if (again.length) this.log.warning(`stepcron: the deploy enabled ${again.join(', ')}: paused again with their notes`);
  }
}

module.exports = StepcronDeployGuard;
