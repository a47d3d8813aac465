// A stage's template as it exists once deployed, for the IAM simulation (test/iam.test.ts): every Ref, GetAtt and Sub
// resolved to the physical name or ARN CloudFormation gives it, in one account and region. Independent of
// workflows/resources.ts: it reads only the template (and serverless.yml for what the framework itself creates).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';
/** What CloudFormation appends to a name it generates (a stack-name prefix and 12 random characters). */
const RANDOM = 'A1B2C3D4E5F6';

type Resource = { Type: string; Properties?: Record<string, any> };
export type Template = { Resources: Record<string, Resource> };

/** serverless.yml's functions: logical id, name, role (a logical id) and entry file, as osls compiles them. */
export interface LambdaFunction { key: string; id: string; name: string; role: string; entry: string; environment: Record<string, string> }

export function lambdaFunctions(root: string, stage: string, params: Record<string, string>): LambdaFunction[] {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as {
    service: string; functions: Record<string, { handler: string; role: string; environment?: Record<string, string> }>;
  };
  // ${sls:stage} and ${param:x}, the only variables the functions' settings use.
  const vars = (text: string) => text.replace(/\$\{sls:stage\}/g, stage).replace(/\$\{param:([A-Za-z]+)\}/g, (_, n: string) => params[n] ?? '');
  return Object.entries(doc.functions).map(([key, fn]) => ({
    key,
    id: `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaFunction`,
    name: `${doc.service}-${stage}-${key}`,
    role: fn.role,
    entry: join(root, `${fn.handler.replace(/\.[^.]+$/, '')}.ts`),
    environment: Object.fromEntries(Object.entries(fn.environment ?? {}).map(([k, v]) => [k, vars(String(v))])),
  }));
}

export const arnOf = (service: string, resource: string, region = REGION) =>
  `arn:${PARTITION}:${service}:${service === 'iam' || service === 's3' ? '' : region}:${service === 's3' ? '' : ACCOUNT}:${resource}`;

/** Physical values of one deployed stage: `ref(id)`, `getAtt(id, attr)` and `resolve(anything with intrinsics)`. */
export class DeployedStage {
  constructor(readonly template: Template, readonly stage: string, readonly functions: LambdaFunction[]) {}

  /** What `Ref` returns for the resource. */
  ref(id: string): string {
    if (id === 'AWS::Partition') return PARTITION;
    if (id === 'AWS::Region') return REGION;
    if (id === 'AWS::AccountId') return ACCOUNT;
    if (id === 'AWS::URLSuffix') return 'amazonaws.com';
    const fn = this.functions.find((f) => f.id === id);
    if (fn) return fn.name;
    const r = this.resource(id);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role': return this.roleName(id);
      case 'AWS::ECS::TaskDefinition': return arnOf('ecs', `task-definition/${p.Family}:1`);
      case 'AWS::StepFunctions::StateMachine': return arnOf('states', `stateMachine:${p.StateMachineName}`);
      case 'AWS::SNS::Topic': return arnOf('sns', p.TopicName);
      case 'AWS::SQS::Queue': return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${p.QueueName}`;
      case 'AWS::DynamoDB::Table': return p.TableName;
      case 'AWS::S3::Bucket': return p.BucketName ?? `stepcron-${this.stage}-${id.toLowerCase()}-${RANDOM.toLowerCase()}`;
      case 'AWS::Logs::LogGroup': return p.LogGroupName;
      case 'AWS::ECS::Cluster': return p.ClusterName;
      case 'AWS::Events::Rule': return p.Name;
      case 'AWS::Scheduler::ScheduleGroup': return p.Name;
      default: throw new Error(`no Ref for ${id} (${r.Type}) in this resolver`);
    }
  }

  getAtt(id: string, attribute: string): string {
    if (attribute !== 'Arn' && attribute !== 'QueueName') throw new Error(`no GetAtt ${id}.${attribute} in this resolver`);
    const fn = this.functions.find((f) => f.id === id);
    if (fn) return arnOf('lambda', `function:${fn.name}`);
    const r = this.resource(id);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role': return `arn:${PARTITION}:iam::${ACCOUNT}:role${p.Path ?? '/'}${this.roleName(id)}`;
      case 'AWS::SQS::Queue': return attribute === 'QueueName' ? p.QueueName : arnOf('sqs', p.QueueName);
      case 'AWS::DynamoDB::Table': return arnOf('dynamodb', `table/${p.TableName}`);
      case 'AWS::S3::Bucket': return `arn:${PARTITION}:s3:::${this.ref(id)}`;
      case 'AWS::Logs::LogGroup': return arnOf('logs', `log-group:${p.LogGroupName}:*`);
      case 'AWS::Events::Rule': return arnOf('events', `rule/${p.Name}`);
      case 'AWS::StepFunctions::StateMachine': return this.ref(id);
      default: throw new Error(`no GetAtt ${id}.Arn for ${r.Type} in this resolver`);
    }
  }

  /** A value with every intrinsic replaced by what it resolves to. */
  resolve(value: unknown): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Ref') return this.ref(arg as string);
    if (entries.length === 1 && key === 'Fn::GetAtt') {
      const [id, attribute] = typeof arg === 'string' ? arg.split('.') : (arg as [string, string]);
      return this.getAtt(id!, attribute!);
    }
    if (entries.length === 1 && key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? [arg[0] as string, arg[1] as Record<string, unknown>] : [arg as string, {}];
      return text.replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        if (name in vars) return String(this.resolve(vars[name]));
        const [id, attribute] = name.split('.');
        return attribute ? this.getAtt(id!, attribute) : this.ref(id!);
      });
    }
    if (key?.startsWith('Fn::')) throw new Error(`${key} is not resolved by this resolver`);
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  resource(id: string): Resource {
    const r = this.template.Resources[id];
    if (!r) throw new Error(`no resource ${id} in the stage's template`);
    return r;
  }

  /** RoleName, or the name CloudFormation generates: <stack>-<logical id>-<random>, at most 64 characters. */
  private roleName(id: string): string {
    return this.resource(id).Properties?.RoleName ?? `stepcron-${this.stage}-${id}-${RANDOM}`.slice(-64);
  }
}
