// `stepcron doctor --stage X [--aws]`: before a first deploy, what a deploy cannot check for itself. Offline, what needs
// no AWS (the catalog for the stage, the stage's params, example values, which jobs run, secret reference forms); with
// --aws, the account the stage goes to (cli/doctor-aws.ts). One line per problem, naming the fix; exit 1 on any.
//
// Loaded at every start to register the command: it imports nothing heavy itself (the catalog parser, the compiler and
// the AWS SDK load when the command runs).
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { Job } from '../workflows/catalog';
import type { StageParams } from '../workflows/resources';
import { UsageError } from './errors';

/**
 * One line of the report: a check that passed (what it looked at), a problem (and its fix), what was not checked, or
 * a note (worth knowing, not a problem).
 */
export interface Line {
  kind: 'ok' | 'problem' | 'unchecked' | 'note';
  text: string;
}
export const ok = (text: string): Line => ({ kind: 'ok', text });
export const problem = (text: string): Line => ({ kind: 'problem', text });
export const unchecked = (text: string): Line => ({ kind: 'unchecked', text });
export const note = (text: string): Line => ({ kind: 'note', text });

/** What the AWS checks need from the offline part: the stage as it would deploy. */
export interface Stage {
  stage: string;
  jobs: Job[];
  /** The stage's params, without those only `sls deploy` resolves (cluster '', no subnets or security groups): not looked up. */
  params: StageParams;
  /** The IAM roles the stage's template creates (workflows/resources.ts, every AWS::IAM::Role). */
  roles: number;
}

export interface DoctorOptions {
  catalog: string;
  stage: string;
  aws: boolean;
  region?: string | undefined;
  profile?: string | undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Reference forms: what the catalog writes for a secret and an image, taken apart for the checks that look them up.

/** An SSM parameter (its name with the leading `/`, or its ARN) or a Secrets Manager secret (with the JSON-key form's parts). */
export type SecretRef =
  | { service: 'ssm'; name: string; region?: string; account?: string }
  | { service: 'secretsmanager'; secretId: string; region: string; account: string; key?: string; versionStage?: string; versionId?: string };

const SSM_ARN = /^arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):parameter(\/.+)$/;
const SM_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;

/**
 * A `secrets:` value as ECS reads `valueFrom`: an SSM `/name` or ARN, or a Secrets Manager ARN (full, partial, or
 * `<arn>:<json-key>:<version-stage>:<version-id>` with every colon kept, e.g. `…:secret:db-AbCdEf:password::`).
 * A string: why ECS would refuse it.
 */
export function parseSecretRef(ref: string): SecretRef | string {
  if (ref.startsWith('/')) return { service: 'ssm', name: ref };
  const ssm = SSM_ARN.exec(ref);
  // GetParameters takes the ARN as a name, so it is kept whole.
  if (ssm) return { service: 'ssm', name: ref, region: ssm[2]!, account: ssm[3]! };
  const sm = SM_ARN.exec(ref);
  if (!sm) return `'${ref}' is neither an SSM parameter (/name or ARN) nor a Secrets Manager secret ARN`;
  const [name, ...rest] = sm[4]!.split(':');
  if (!name) return `'${ref}' names no secret after 'secret:'`;
  const secretId = `arn:${sm[1]}:secretsmanager:${sm[2]}:${sm[3]}:secret:${name}`;
  if (rest.length === 0) return { service: 'secretsmanager', secretId, region: sm[2]!, account: sm[3]! };
  if (rest.length !== 3) {
    return `'${ref}' has ${rest.length} field${rest.length > 1 ? 's' : ''} after the secret; ECS reads <secret ARN>:<json-key>:<version-stage>:<version-id>, ` +
      `every colon kept: write '${secretId}:${rest[0]}::'`;
  }
  const [key, versionStage, versionId] = rest as [string, string, string];
  if (versionStage && versionId) return `'${ref}' gives both a version stage and a version id: ECS takes one of them; leave the other empty`;
  return {
    service: 'secretsmanager', secretId, region: sm[2]!, account: sm[3]!,
    ...(key && { key }), ...(versionStage && { versionStage }), ...(versionId && { versionId }),
  };
}

/** An image in a private ECR registry, or undefined for any other registry (not checked). */
export interface EcrImage {
  account: string;
  region: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export function parseEcrImage(image: string): EcrImage | undefined {
  const slash = image.indexOf('/');
  const host = ECR_HOST.exec(image.slice(0, slash));
  if (slash < 0 || !host) return undefined;
  const path = image.slice(slash + 1);
  const at = path.indexOf('@');
  if (at >= 0) return { account: host[1]!, region: host[2]!, repository: path.slice(0, at), digest: path.slice(at + 1) };
  const colon = path.lastIndexOf(':');
  // No tag: Docker (and ECS) pull `latest`.
  return colon < 0 ? { account: host[1]!, region: host[2]!, repository: path, tag: 'latest' }
    : { account: host[1]!, region: host[2]!, repository: path.slice(0, colon), tag: path.slice(colon + 1) };
}

/** "jobs.a" or "jobs a, b": who uses a value shared by several jobs. */
export const jobsNamed = (names: string[]) => (names.length === 1 ? `jobs.${names[0]}` : `jobs ${names.join(', ')}`);

// ---------------------------------------------------------------------------------------------------------------------
// Offline checks.

/**
 * The checks that need no AWS, and the stage they found (undefined when the catalog or the params are too broken for
 * the AWS checks to know what to look up). `serverlessFile`: where the stage's params live.
 */
export async function offlineChecks(o: { catalog: string; stage: string; region?: string | undefined }, serverlessFile: string): Promise<{ lines: Line[]; stage?: Stage }> {
  const [{ CatalogError, enabledJobsProblem, loadCatalog, offReason }, { exampleValues, ParamsError, stageTemplate, jobResourceIds, toStageParams }, { planStacks }] =
    await Promise.all([import('../workflows/catalog'), import('../workflows/resources'), import('../workflows/stacks')]);
  const lines: Line[] = [];
  // The catalog, as validate and the deploy read it (stage names, name lengths, every field).
  let jobs: Job[];
  try {
    jobs = loadCatalog(o.catalog, { stage: o.stage });
  } catch (err) {
    // A file that is not there is a usage mistake (exit 2), as in every command; what it holds is the doctor's business.
    if (!(err instanceof CatalogError) || !existsSync(o.catalog)) throw err;
    return { lines: err.problems.map((p) => problem(`catalog: ${o.catalog}: ${p}`)) };
  }
  lines.push(ok(`catalog: ${o.catalog}: ${jobs.length} job${jobs.length === 1 ? '' : 's'} valid for stage ${o.stage} (as validate checks it)`));

  if (!existsSync(serverlessFile)) {
    lines.push(problem(`params: no ${serverlessFile} beside the catalog or in this directory: doctor reads the stage's subnets, security groups and cluster from its params: (run it in the project)`));
    return { lines };
  }
  // Every params problem in one pass: the variables, the values' forms (toStageParams), then what needs the catalog.
  const where = ` (stage ${o.stage} in ${serverlessFile})`;
  let read: ReturnType<typeof import('./stage').resolveStageParams>;
  try {
    read = (await import('./stage')).resolveStageParams(o.stage, serverlessFile, { region: o.region });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { lines: [...lines, problem(`params: ${err.message}${where}`)] };
  }
  const paramProblems = read.errors;
  let params: StageParams;
  try {
    params = toStageParams(o.stage, read.raw);
  } catch (err) {
    if (!(err instanceof ParamsError)) throw err;
    paramProblems.push(...eachParamsProblem(err));
    // Read on without the params just refused (each problem starts with the param's name) for the checks below.
    const refused = new Set(paramProblems.map((p) => /^\w+/.exec(p)?.[0]));
    params = toStageParams(o.stage, Object.fromEntries(Object.entries(read.raw).filter(([name]) => !refused.has(name))));
  }
  // enabledJobs naming a job the catalog lacks: the line names the setting to change (params.dev.enabledJobs), and the
  // other checks go on with the names that are there.
  const names = jobs.map((j) => j.name);
  const enabledProblem = enabledJobsProblem(names, params.enabledJobs,
    { stage: o.stage, key: `${serverlessFile} ${(await import('./stage')).enabledJobsKey(o.stage, serverlessFile)}`, catalog: o.catalog });
  if (enabledProblem && params.enabledJobs !== '*') params = { ...params, enabledJobs: params.enabledJobs.filter((n) => names.includes(n)) };
  let template: ReturnType<typeof stageTemplate> | undefined;
  try {
    template = stageTemplate(jobs, params);
  } catch (err) {
    if (!(err instanceof ParamsError)) throw err;
    paramProblems.push(...eachParamsProblem(err));
  }
  if (enabledProblem) paramProblems.push(enabledProblem.replace(/^stage \S+: /, ''));
  const deployTime = read.deployTime.map((p) => unchecked(`params: ${p.name} is ${p.variable} (${p.why}): not checked offline, sls deploy resolves it`));
  if (paramProblems.length || !template) return { lines: [...lines, ...paramProblems.map((p) => problem(`params: ${p}${where}`)), ...deployTime] };
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  // A param resolved at deploy holds its placeholder here: named as such, and left out of the AWS checks.
  const later = new Set(read.deployTime.map((p) => p.name));
  const shown = (name: string, text: string) => (later.has(name) ? `${name} at deploy` : text);
  lines.push(ok(`params: ${shown('subnets', count(params.subnets.length, 'subnet'))}, ${shown('securityGroups', count(params.securityGroups.length, 'security group'))}, ` +
    `${shown('assignPublicIp', `assignPublicIp ${params.assignPublicIp}`)}, ${shown('cluster', `cluster ${params.cluster || `stepcron-${o.stage} (the stack creates it)`}`)}`));
  lines.push(...deployTime);
  const awsParams: StageParams = {
    ...params,
    ...(later.has('cluster') && { cluster: '' }), ...(later.has('subnets') && { subnets: [] }), ...(later.has('securityGroups') && { securityGroups: [] }),
  };

  const examples = exampleValues(jobs, params);
  lines.push(...examples.map((e) => problem(`example value: ${e}`)));
  if (examples.length === 0) lines.push(ok('example values: none left (subnets, security groups, notifyEmails, images)'));

  // Off jobs still deploy; a stage on which nothing would run by itself is worth a line.
  const off = jobs.map((job) => ({ name: job.name, why: offReason(job, params.enabledJobs) })).filter((j) => j.why);
  const offText = off.map((j) => `${j.name} (${j.why})`).join(', ');
  if (off.length === jobs.length) {
    lines.push(problem(`jobs: none is scheduled on ${o.stage} (off: ${offText}): enable them for the stage (enabled: in the catalog, enabledJobs in params:)`));
  } else {
    lines.push(ok(`jobs: ${jobs.length - off.length} of ${jobs.length} scheduled on ${o.stage}${off.length ? `; off: ${offText}` : ''}`));
  }

  // Whether the stage fits CloudFormation's quotas once split into nested stacks, as validate and `sls package` check.
  const { nested, problems: stackProblems } = planStacks(template, jobs, jobResourceIds);
  lines.push(...stackProblems.map((p) => problem(`stacks: ${p}: split the catalog into stages, or shrink the jobs that share the stack`)));
  if (stackProblems.length === 0) lines.push(ok(`stacks: ${nested.length} nested stacks, each within CloudFormation's 500 resources and 1 MB`));

  const secretLines = secretFormProblems(jobs);
  lines.push(...secretLines);
  const refs = jobs.reduce((n, j) => n + Object.keys(j.secrets).length, 0);
  if (secretLines.length === 0 && refs > 0) lines.push(ok(`secrets: ${count(refs, 'reference')} in a form ECS reads`));

  const roles = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role').length;
  return { lines, stage: { stage: o.stage, jobs, params: awsParams, roles } };
}

/** A ParamsError's problems ("stage prod params: a; b"), one each. */
function eachParamsProblem(err: Error): string[] {
  return err.message.replace(/^stage \S+ params: /, '').split('; ');
}

/** Each secret reference that ECS would not read, one line each. */
export function secretFormProblems(jobs: Job[]): Line[] {
  return jobs.flatMap((job) => Object.entries(job.secrets).flatMap(([name, ref]) => {
    const parsed = parseSecretRef(ref);
    return typeof parsed === 'string' ? [problem(`jobs.${job.name}.secrets.${name}: ${parsed}`)] : [];
  }));
}

// ---------------------------------------------------------------------------------------------------------------------
// The region: the one `sls deploy` will use, not the SDK's own default.

/** serverless.yml's `region: ${opt:region, '<default>'}` (quoted or not), or a plain region. */
const OPT_REGION = /^\$\{opt:region,\s*(['"]?)([a-z0-9-]+)\1\s*\}$/;
const PLAIN_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
/** Where the Serverless Framework deploys when provider.region is not set. */
const SLS_DEFAULT_REGION = 'us-east-1';

/**
 * The region `sls deploy --stage X [--region R]` deploys to, and why: `--region` if given, else serverless.yml's
 * provider.region (its `${opt:region, '<default>'}` default, or a plain region). No region when serverless.yml's
 * value is one doctor cannot resolve (`${env:...}`, `${self:...}`): the SDK's own then, said in `why`.
 */
export async function deployRegion(region: string | undefined, serverlessFile: string): Promise<{ region?: string; why: string }> {
  if (region) return { region, why: '--region, as sls deploy --region' };
  // The offline checks have read this file already: the AWS checks do not start when they could not.
  const value = (await import('./stage')).readProviderRegion(serverlessFile);
  if (value === undefined || value === null || value === '') return { region: SLS_DEFAULT_REGION, why: "serverless.yml sets no provider.region: sls deploy's default" };
  const text = String(value).trim();
  const opt = OPT_REGION.exec(text);
  if (opt) return { region: opt[2]!, why: "serverless.yml's default, as sls deploy without --region" };
  if (PLAIN_REGION.test(text)) return { region: text, why: "serverless.yml's provider.region" };
  return { why: `serverless.yml's provider.region ${text} is not read by doctor: pass --region as you deploy` };
}

// ---------------------------------------------------------------------------------------------------------------------
// The command.

const MARK: Record<Line['kind'], string> = { ok: '✓', problem: '✗', unchecked: '?', note: 'i' };

/** The report: the header, a line per check, and the verdict. */
export function formatReport(header: string, lines: Line[], stage: string): string {
  const problems = lines.filter((l) => l.kind === 'problem').length;
  const notChecked = lines.filter((l) => l.kind === 'unchecked').length;
  const also = notChecked ? `; ${notChecked} not checked (?)` : '';
  const verdict = problems
    ? `${problems} problem${problems === 1 ? '' : 's'} (✗)${also}: fix ${problems === 1 ? 'it' : 'them'} before npx sls deploy --stage ${stage}`
    : `no problems${also}: ready for npx sls deploy --stage ${stage}`;
  return `${header}\n${lines.map((l) => `  ${MARK[l.kind]} ${l.text}\n`).join('')}${verdict}\n`;
}

export async function doctor(o: DoctorOptions, serverlessFile: string, out: (text: string) => void): Promise<number> {
  if (!o.aws && (o.region || o.profile)) throw new UsageError(`doctor: ${o.region ? '--region' : '--profile'} is for the AWS checks: add --aws`);
  const offline = await offlineChecks(o, serverlessFile);
  const lines = [...offline.lines];
  let where = '';
  if (o.aws && offline.stage) {
    const { awsChecks, configuredRegion, doctorClients } = await import('./doctor-aws');
    const target = await deployRegion(o.region, serverlessFile);
    where = `; AWS region ${target.region ?? 'from your AWS config'} (${target.why})`;
    const own = target.region && await configuredRegion(o.profile);
    if (own && own !== target.region) lines.push(note(`region: your AWS config's region is ${own}; checking ${target.region}, where sls deploy --stage ${o.stage} goes`));
    const clients = doctorClients({ region: target.region, profile: o.profile });
    try {
      lines.push(...await awsChecks(offline.stage, clients));
    } finally {
      clients.close();
    }
  } else if (o.aws) {
    lines.push(unchecked('AWS: not checked until the catalog and params above are fixed'));
  } else {
    lines.push(unchecked(`AWS: not checked (network, images, secrets, quotas): npx stepcron doctor --stage ${o.stage} --aws`));
  }
  const shown = relative('.', serverlessFile);
  out(formatReport(`stepcron doctor: stage ${o.stage} (${o.catalog}, params from ${shown && !shown.startsWith('..') ? shown : serverlessFile}${where})`, lines, o.stage));
  return lines.some((l) => l.kind === 'problem') ? 1 : 0;
}

/** Registers `doctor` (cli/main.ts): `common` adds --catalog and --stage; `serverlessFile` finds the stage's params. */
export function addDoctorCommand(program: Command, deps: {
  common: (cmd: Command) => Command; setExit: (code: number) => void; serverlessFile: (catalog: string) => string;
}): void {
  deps.common(program.command('doctor')
    .description('before a first deploy: check what a deploy cannot (offline; with --aws the account: network, images, secrets, quotas); one line per problem')
    .option('--aws', 'check the AWS account too (credentials, subnets and their routes, ECS role, images, secrets, quotas)', false)
    .option('--region <region>', 'with --aws: the AWS region, as for sls deploy (default: serverless.yml\'s provider.region)')
    .option('--profile <profile>', 'with --aws: the AWS profile (default: AWS_PROFILE or the default chain)'))
    .action(async (o: DoctorOptions) => {
      deps.setExit(await doctor(o, deps.serverlessFile(o.catalog), (t) => void process.stdout.write(t)));
    });
}
