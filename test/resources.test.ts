// Unit tests of workflows/resources.ts: the stage's params, each CloudFormation resource a catalog implies, the IAM
// statements of every role with their exact resources (least privilege), secret grants for every secret form, `${`
// escaping, and IAM's limits. test/iam.test.ts simulates these policies and test/template.test.ts packages them; this
// file pins what they say, in milliseconds, so mutation testing (scripts/mutate.mjs) can afford it per mutant.
// Every catalog and template is built inside its test: nothing runs while the file loads.
import { createHash } from 'node:crypto';
import { type Job, parseCatalog } from '../workflows/catalog';
import {
  BUFFER_RECONCILE_MINUTES, clusterName, cutText, definitionString, deployInfra, EXAMPLE_ACCOUNT, exampleValues, IAM_QUOTAS, jobResourceIds,
  literal, ParamsError, policyCharacters, type RawParams, resources, roleQuotaProblem, SCHEDULE_DESCRIPTION_MAX, secretGrant, sizedVariableNames,
  STAGE_PARAM_NAMES, stageRoles, stageTemplate, stateMachines, toStageParams,
} from '../workflows/resources';
import { compile } from '../workflows/compile';

type Cfn = Record<string, any>;
const params = (raw: RawParams = {}) => toStageParams('prod', { subnets: 'subnet-1', securityGroups: 'sg-1', ...raw });
/** Jobs from YAML blocks: `name` plus its lines (description, schedule, image and command given unless a line sets them). */
function catalog(...jobs: Array<[string, ...string[]]>): Job[] {
  const defaults = ['description: d', 'schedule: rate(1 hour)', 'image: i:1', 'command: [x]'];
  const yaml = jobs.map(([name, ...lines]) => [`  ${name}:`,
    ...[...defaults.filter((d) => !lines.some((l) => l.startsWith(d.split(':')[0]!))), ...lines].map((l) => `    ${l}`)].join('\n'));
  return parseCatalog(`jobs:\n${yaml.join('\n')}\n`, { stage: 'prod' });
}
const template = (jobs: Job[], raw: RawParams = {}): Record<string, Cfn> => resources(jobs, params(raw)) as Record<string, Cfn>;
const statements = (r: Record<string, Cfn>, role: string): Cfn[] => r[role]!.Properties.Policies[0].PolicyDocument.Statement;
const sub = (s: string) => ({ 'Fn::Sub': s });
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });
const region = '${AWS::Region}:${AWS::AccountId}';
const trust = (service: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });

describe('toStageParams: serverless.yml params -> the stage\'s settings', () => {
  it('trims text, splits comma lists (or takes YAML lists), drops empty entries, and defaults the rest', () => {
    // Act
    const p = toStageParams('prod', {
      subnets: ' subnet-1, ,subnet-2 ', securityGroups: ['sg-1 ', ' sg-2'], notifyEmails: 'a@b.co,', slackWebhookSecret: ' s ', cluster: ' c ',
      assignPublicIp: ' ENABLED ', enabledJobs: 'a, b',
    });
    // Assess
    expect(p).toEqual({
      stage: 'prod', cluster: 'c', subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1', 'sg-2'], assignPublicIp: 'ENABLED',
      notifyEmails: ['a@b.co'], slackWebhookSecret: 's', enabledJobs: ['a', 'b'],
    });
    expect(toStageParams('dev', { subnets: null, enabledJobs: null })).toEqual({
      stage: 'dev', cluster: '', subnets: [], securityGroups: [], assignPublicIp: 'DISABLED', notifyEmails: [], slackWebhookSecret: '', enabledJobs: '*',
    });
    expect(toStageParams('dev', { enabledJobs: ' * ' }).enabledJobs).toBe('*');
    expect(toStageParams('dev', { enabledJobs: '' }).enabledJobs).toBe('*');
    expect(toStageParams('dev', { notifyEmails: 5 }).notifyEmails).toEqual(['5']);
    expect(STAGE_PARAM_NAMES).toEqual(['cluster', 'subnets', 'securityGroups', 'assignPublicIp', 'notifyEmails', 'slackWebhookSecret', 'enabledJobs']);
  });

  it('refuses an assignPublicIp other than ENABLED or DISABLED, and a cluster that is no ECS cluster name, all problems in one line', () => {
    // Act
    const problem = (raw: RawParams) => {
      try {
        toStageParams('prod', raw);
        return undefined;
      } catch (err) {
        return [(err as Error).name, err instanceof ParamsError, (err as Error).message];
      }
    };
    // Assess
    expect(problem({ assignPublicIp: 'enabled', cluster: 'my cluster' })).toEqual(['ParamsError', true,
      "stage prod params: assignPublicIp must be ENABLED or DISABLED, not 'enabled'; cluster: 'my cluster' is not an ECS cluster name (up to 255 letters, digits, hyphens, underscores): give an existing cluster's name, or '' for the stack to create one"]);
    expect(problem({ cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs_1' })).toEqual(['ParamsError', true,
      "stage prod params: cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/jobs_1' is an ARN: give the cluster's name (cluster: jobs_1), which the stack finds in stage prod's own account and region"]);
    // An ARN whose name part is no cluster name is just not a name.
    expect(problem({ cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/a b' })?.[2]).toMatch(/^stage prod params: cluster: '.*' is not an ECS cluster name/);
    expect(problem({ cluster: 'x'.repeat(256) })?.[2]).toMatch(/is not an ECS cluster name/);
    expect(problem({ cluster: 'A_z-9'.repeat(51) })).toBeUndefined();
    expect(problem({ cluster: 'xarn:aws:ecs:r:1:cluster/c' })?.[2]).toMatch(/is not an ECS cluster name/);
  });
});

describe('text into an Fn::Sub', () => {
  it('literal: every ${ becomes ${!, which Fn::Sub turns back, and nothing else changes', () => {
    expect(literal('a ${x} ${AWS::Region} $${y} $x {z}')).toBe('a ${!x} ${!AWS::Region} $${!y} $x {z}');
  });

  it('cutText: at most max UTF-16 units, never half a surrogate pair', () => {
    expect(cutText('abcdef', 4)).toBe('abcd');
    expect(cutText('abc', 4)).toBe('abc');
    // U+1F600 is two units: cut after its first one, the whole character goes.
    expect(cutText('ab\u{1F600}c', 3)).toBe('ab');
    expect(cutText('ab\u{1F600}c', 4)).toBe('ab\u{1F600}');
    expect(cutText('\u00e9\u00e9', 1)).toBe('\u00e9');
  });

  it('definitionString: a definition without intrinsics is its JSON as written; with them, an Fn::Sub naming each by md5, user text escaped', () => {
    // Act
    const plain = definitionString({ Comment: 'a ${x}' });
    const withRefs = definitionString({ 'Comment ${k}': 'a ${x}', List: [{ Ref: 'R' }, 1, null, true], Deep: { Arn: { 'Fn::GetAtt': ['F', 'Arn'] } } });
    // Assess
    expect(plain).toBe(JSON.stringify({ Comment: 'a ${x}' }, undefined, 2));
    expect(withRefs).toEqual({
      'Fn::Sub': [expect.any(String), expect.any(Object)],
    });
    const [json, variables] = (withRefs as { 'Fn::Sub': [string, Record<string, unknown>] })['Fn::Sub'];
    expect(Object.values(variables)).toEqual([{ Ref: 'R' }, { 'Fn::GetAtt': ['F', 'Arn'] }]);
    const names = Object.keys(variables);
    expect(names.every((n) => /^[0-9a-f]{32}$/.test(n))).toBe(true);
    expect(names).toEqual([createHash('md5').update('{"Ref":"R"}').digest('hex'), createHash('md5').update('{"Fn::GetAtt":["F","Arn"]}').digest('hex')]);
    expect(JSON.parse(json)).toEqual({ 'Comment ${!k}': 'a ${!x}', List: [`\${${names[0]}}`, 1, null, true], Deep: { Arn: `\${${names[1]}}` } });
    expect(json).toBe(JSON.stringify(JSON.parse(json), undefined, 2));
  });

  it('definitionString: null is a value and {} no intrinsic, wherever they are', () => {
    // Act
    const plain = definitionString({ A: null, B: {}, C: 'x' });
    const withRef = definitionString({ A: null, B: {}, C: { Ref: 'R' } }, sizedVariableNames()) as { 'Fn::Sub': [string, Record<string, unknown>] };
    // Assess
    expect(plain).toBe(JSON.stringify({ A: null, B: {}, C: 'x' }, undefined, 2));
    expect(JSON.parse(withRef['Fn::Sub'][0])).toEqual({ A: null, B: {}, C: '${00000000000000000000000000000000}' });
    expect(withRef['Fn::Sub'][1]).toEqual({ '00000000000000000000000000000000': { Ref: 'R' } });
  });

  it('definitionString names the same intrinsic once; sizedVariableNames gives 32-character names, the same for the same intrinsic', () => {
    // Act
    const sized = definitionString({ A: { Ref: 'R' }, B: { Ref: 'R' }, C: { Ref: 'S' } }, sizedVariableNames()) as { 'Fn::Sub': [string, Record<string, unknown>] };
    const md5 = definitionString({ A: { Ref: 'R' }, B: { Ref: 'R' } }) as { 'Fn::Sub': [string, Record<string, unknown>] };
    // Assess
    expect(sized['Fn::Sub'][1]).toEqual({ '00000000000000000000000000000000': { Ref: 'R' }, '00000000000000000000000000000001': { Ref: 'S' } });
    expect(JSON.parse(sized['Fn::Sub'][0])).toEqual({ A: '${00000000000000000000000000000000}', B: '${00000000000000000000000000000000}', C: '${00000000000000000000000000000001}' });
    // By default each is named by the md5 of its JSON, as serverless-step-functions names them.
    expect(Object.keys(md5['Fn::Sub'][1])).toEqual([createHash('md5').update('{"Ref":"R"}').digest('hex')]);
  });
});

describe('the state machines', () => {
  it('deployInfra: the stage\'s cluster by ARN (the name escaped), the job\'s task definition, the functions and the bucket by reference', () => {
    // Act
    const [job] = catalog(['nightly-report']);
    // Assess
    expect(deployInfra(job!, params())).toEqual({
      stage: 'prod',
      cluster: sub(`arn:\${AWS::Partition}:ecs:${region}:cluster/stepcron-prod`),
      taskDefinition: { Ref: 'NightlyReportTaskDefinition' },
      subnets: ['subnet-1'],
      securityGroups: ['sg-1'],
      assignPublicIp: 'DISABLED',
      precheckFunction: getAtt('PrecheckLambdaFunction'),
      notifyFunction: getAtt('NotifyLambdaFunction'),
      logGroup: '/stepcron/prod/jobs',
      resultsBucket: { Ref: 'FanOutBucket' },
      itemsPrefix: sub('s3://${FanOutBucket}/items/'),
    });
    expect(deployInfra(job!, params({ cluster: 'jobs', assignPublicIp: 'ENABLED' }))).toMatchObject({
      cluster: sub(`arn:\${AWS::Partition}:ecs:${region}:cluster/jobs`), assignPublicIp: 'ENABLED',
    });
    expect(clusterName(params())).toBe('stepcron-prod');
    expect(clusterName(params({ cluster: 'jobs' }))).toBe('jobs');
  });

  it('stateMachines: one STANDARD machine per job, run by the stage\'s role, logging errors without execution data', () => {
    // Act
    const jobs = catalog(['nightly-report'], ['other']);
    const machines = stateMachines(jobs, params()) as Record<string, Cfn>;
    // Assess
    expect(Object.keys(machines)).toEqual(['NightlyReport', 'Other']);
    expect(machines.NightlyReport).toEqual({
      id: 'NightlyReportStateMachine',
      name: 'stepcron-prod-nightly-report',
      type: 'STANDARD',
      role: getAtt('StateMachineRole'),
      definition: compile(jobs[0]!, deployInfra(jobs[0]!, params())),
      loggingConfig: { level: 'ERROR', includeExecutionData: false, destinations: [getAtt('StateMachineLogGroup')] },
    });
  });

  it('stageTemplate: the resources plus each state machine as the plugin compiles it, its definition as the stacks plugin writes it', () => {
    // Act
    const jobs = catalog(['nightly-report']);
    const t = stageTemplate(jobs, params(), sizedVariableNames()).Resources;
    // Assess
    expect(Object.keys(t)).toEqual([...Object.keys(resources(jobs, params()) as object), 'NightlyReportStateMachine']);
    const definition = compile(jobs[0]!, deployInfra(jobs[0]!, params()));
    expect(t.NightlyReportStateMachine).toEqual({
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: definitionString(definition, sizedVariableNames()),
        RoleArn: getAtt('StateMachineRole'),
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt('StateMachineLogGroup') } }] },
        StateMachineName: 'stepcron-prod-nightly-report',
      },
      DependsOn: [],
    });
    // By default the names are md5s, as serverless-step-functions makes them.
    expect((stageTemplate(jobs, params()).Resources.NightlyReportStateMachine as Cfn).Properties.DefinitionString).toEqual(definitionString(definition));
  });
});

describe('the params a stage is checked for', () => {
  const problem = (raw: RawParams, jobs = catalog(['a'])) => {
    try {
      resources(jobs, params(raw));
      return undefined;
    } catch (err) {
      return [err instanceof ParamsError, (err as Error).message];
    }
  };

  it('names every bad subnet, security group, email, Slack secret and unknown enabled job, one line', () => {
    expect(problem({ subnets: 'subnet-1,net-2', securityGroups: 'sg-1,group', notifyEmails: 'oncall, ops@acme.io', slackWebhookSecret: 'slack webhook', enabledJobs: 'a,b' })).toEqual([true,
      "stage prod params: subnets: 'net-2' is not a subnet id (subnet-...); securityGroups: 'group' is not a security group id (sg-...); " +
      "notifyEmails: 'oncall' is not an email address (name@domain.tld): write each address in full, comma-separated; " +
      "slackWebhookSecret: 'slack webhook' is not a Secrets Manager secret name or ARN (the whole secret, no :json-key:: part; not SSM): " +
      'store the webhook URL, or {"url": ...}, in a secret and give its name or ARN; ' +
      "enabledJobs: no job named 'b' in the catalog"]);
    expect(problem({ subnets: '' })).toEqual([true, 'stage prod params: subnets: list at least one subnet id for the tasks (comma-separated)']);
    expect(stateMachines.bind(undefined, catalog(['a']), params({ subnets: '' }))).toThrow(ParamsError);
  });

  it('takes subnet and security group ids in hex only, whole', () => {
    for (const bad of ['subnet-12G', 'subnet-', 'xsubnet-1', 'subnet-1x']) expect(problem({ subnets: [bad] })?.[1]).toContain(`subnets: '${bad}'`);
    for (const bad of ['sg-12G', 'sg-', 'xsg-1', 'sg-1x']) expect(problem({ securityGroups: [bad] })?.[1]).toContain(`securityGroups: '${bad}'`);
    expect(problem({ subnets: 'subnet-0a1b2c3d4e5f', securityGroups: 'sg-0a1b2c3d4e5f' })).toBeUndefined();
  });

  it('takes an email as name@domain.tld, the domain\'s labels not starting or ending with a hyphen', () => {
    for (const ok of ['a@b.co', 'first.last+tag@mail.example-corp.io', 'x@a-b.c.de']) expect(problem({ notifyEmails: ok })).toBeUndefined();
    for (const bad of ['a@b', 'a b@c.io', 'a@-b.io', 'a@b-.io', 'a@b.c', '<a@b.io>', 'a@b.io x', 'x a@b.io', 'a@b.c0', '@b.io']) {
      expect([bad, problem({ notifyEmails: [bad] })?.[1]]).toEqual([bad, `stage prod params: notifyEmails: '${bad}' is not an email address (name@domain.tld): write each address in full, comma-separated`]);
    }
  });

  it('takes the Slack secret by name or Secrets Manager ARN, not SSM, not with a JSON key', () => {
    for (const ok of ['stepcron/slack', 'a+b=c.d@e-f_g', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stepcron/slack',
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:s-AbCdEf']) {
      expect([ok, problem({ slackWebhookSecret: ok })]).toEqual([ok, undefined]);
    }
    for (const bad of ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:s:url::', 'arn:aws:ssm:eu-west-1:111122223333:parameter/s', 'a b',
      'x'.repeat(513), 'arn:aws:secretsmanager:eu-west-1:1111:secret:s', 'xarn:aws:secretsmanager:eu-west-1:111122223333:secret:s']) {
      expect([bad, problem({ slackWebhookSecret: bad })?.[1]]).toEqual([bad, expect.stringContaining(`slackWebhookSecret: '${bad}' is not a Secrets Manager secret name or ARN`)]);
    }
    expect(problem({ slackWebhookSecret: 'x'.repeat(512) })).toBeUndefined();
  });

  it('refuses a job whose resource would take a logical id the stage already uses, one line per job', () => {
    expect(problem({}, catalog(['scheduler-dead-letter'], ['ok'], ['other', 'concurrency: buffer'], ['buffered-runs-dead-letter']))).toEqual([true,
      'stage prod: jobs.scheduler-dead-letter: its resource SchedulerDeadLetterAlarm would replace the stage\'s own resource of that logical id: rename the job; ' +
      'jobs.buffered-runs-dead-letter: its resource BufferedRunsDeadLetterAlarm would replace the stage\'s own resource of that logical id: rename the job']);
    // BufferedRunsDeadLetterAlarm is the stage's only with a buffer job.
    expect(problem({}, catalog(['buffered-runs-dead-letter']))).toBeUndefined();
  });
});

describe('the stage\'s shared resources', () => {
  it('a topic mailing notifyEmails, the schedules\' dead-letter queue (14 days) and its alarm', () => {
    // Act
    const r = template(catalog(['a']), { notifyEmails: 'a@b.co, c@d.io' });
    // Assess
    expect(r.NotificationTopic).toEqual({
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: 'stepcron-prod-notifications', Subscription: [{ Protocol: 'email', Endpoint: 'a@b.co' }, { Protocol: 'email', Endpoint: 'c@d.io' }] },
    });
    expect(r.SchedulerDeadLetterQueue).toEqual({ Type: 'AWS::SQS::Queue', Properties: { QueueName: 'stepcron-prod-schedule-dlq', MessageRetentionPeriod: 1209600 } });
    expect(r.SchedulerDeadLetterAlarm).toEqual({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: 'stepcron-prod-missed-schedules',
        AlarmDescription: 'A schedule could not start its workflow; the event is in the dead-letter queue',
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
        Dimensions: [{ Name: 'QueueName', Value: getAtt('SchedulerDeadLetterQueue', 'QueueName') }],
        EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'NotificationTopic' }],
      },
    });
  });

  it('SchedulerRole: start the stage\'s state machines (by name prefix) and write its dead-letter queue, nothing else', () => {
    const r = template(catalog(['a']));
    expect(r.SchedulerRole).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: trust('scheduler.amazonaws.com'),
        Policies: [{
          PolicyName: 'stepcron',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'states:StartExecution', Resource: sub(`arn:\${AWS::Partition}:states:${region}:stateMachine:stepcron-prod-*`) },
              { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('SchedulerDeadLetterQueue') },
            ],
          },
        }],
      },
    });
  });

  it('PrecheckRole: Lambda logs, list and stop the stage\'s executions, the claims table\'s three calls', () => {
    const r = template(catalog(['a']));
    expect(r.PrecheckRole!.Properties.AssumeRolePolicyDocument).toEqual(trust('lambda.amazonaws.com'));
    expect(r.PrecheckRole!.Properties.ManagedPolicyArns).toEqual([sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')]);
    expect(statements(r, 'PrecheckRole')).toEqual([
      { Effect: 'Allow', Action: 'states:ListExecutions', Resource: sub(`arn:\${AWS::Partition}:states:${region}:stateMachine:stepcron-prod-*`) },
      { Effect: 'Allow', Action: 'states:StopExecution', Resource: sub(`arn:\${AWS::Partition}:states:${region}:execution:stepcron-prod-*:*`) },
      { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'], Resource: getAtt('ClaimsTable') },
    ]);
    expect(r.ClaimsTable).toEqual({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'stepcron-prod-claims', BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }, Tags: [{ Key: 'stepcron:stage', Value: 'prod' }],
      },
    });
  });

  it('NotifyRole: publish to the topic, arm warnings in the stage\'s group, read runs and job output; the Slack secret only when set', () => {
    // Act
    const plain = statements(template(catalog(['a'])), 'NotifyRole');
    const slack = statements(template(catalog(['a']), { slackWebhookSecret: 'stepcron/slack' }), 'NotifyRole');
    // Assess
    expect(plain).toEqual([
      { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'NotificationTopic' } },
      { Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: sub(`arn:\${AWS::Partition}:scheduler:${region}:schedule/stepcron-prod-warnings/*`) },
      {
        Effect: 'Allow', Action: 'iam:PassRole', Resource: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/stepcron/prod/scheduler/*'),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
      { Effect: 'Allow', Action: ['states:DescribeExecution', 'states:GetExecutionHistory'], Resource: sub(`arn:\${AWS::Partition}:states:${region}:execution:stepcron-prod-*:*`) },
      { Effect: 'Allow', Action: 'logs:GetLogEvents', Resource: sub(`arn:\${AWS::Partition}:logs:${region}:log-group:/stepcron/prod/jobs:log-stream:*`) },
    ]);
    const role = template(catalog(['a'])).NotifyRole!.Properties;
    expect(role.AssumeRolePolicyDocument).toEqual(trust('lambda.amazonaws.com'));
    expect(role.ManagedPolicyArns).toEqual([sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')]);
    expect(slack).toEqual([...plain,
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [sub(`arn:\${AWS::Partition}:secretsmanager:${region}:secret:stepcron/slack-??????`)] }]);
  });

  it('the runtime warnings: a schedule group, and a role of its own path and name that may only invoke the notify function', () => {
    const r = template(catalog(['a']));
    expect(r.WarningScheduleGroup).toEqual({ Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'stepcron-prod-warnings' } });
    expect(r.WarningSchedulerRole).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        Path: '/stepcron/prod/scheduler/',
        RoleName: 'stepcron-prod-warnings',
        AssumeRolePolicyDocument: trust('scheduler.amazonaws.com'),
        Policies: [{
          PolicyName: 'stepcron',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: sub(`arn:\${AWS::Partition}:lambda:${region}:function:stepcron-prod-notify`) }],
          },
        }],
      },
    });
  });

  it('a private, encrypted bucket whose results expire after 30 days; log groups kept 30 days', () => {
    const r = template(catalog(['a']));
    expect(r.FanOutBucket).toEqual({
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ Id: 'expire-results', Status: 'Enabled', Prefix: 'results/', ExpirationInDays: 30 }] },
        Tags: [{ Key: 'stepcron:stage', Value: 'prod' }],
      },
    });
    expect(r.TaskLogGroup).toEqual({ Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/stepcron/prod/jobs', RetentionInDays: 30 } });
    expect(r.StateMachineLogGroup).toEqual({ Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/vendedlogs/states/stepcron-prod', RetentionInDays: 30 } });
  });

  it('the shared execution role writes the jobs\' logs and reads no secret; the shared task role may do nothing', () => {
    const r = template(catalog(['a']));
    expect(r.ExecutionRole).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        Path: '/stepcron/prod/tasks/',
        AssumeRolePolicyDocument: trust('ecs-tasks.amazonaws.com'),
        ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy')],
        Policies: [{
          PolicyName: 'stepcron',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: sub(`arn:\${AWS::Partition}:logs:${region}:log-group:/stepcron/prod/jobs:*`) }],
          },
        }],
      },
    });
    expect(r.TaskRole).toEqual({ Type: 'AWS::IAM::Role', Properties: { Path: '/stepcron/prod/tasks/', AssumeRolePolicyDocument: trust('ecs-tasks.amazonaws.com') } });
  });

  it('creates a cluster with Fargate and Spot and Container Insights only when the stage names none', () => {
    expect(template(catalog(['a'])).Cluster).toEqual({
      Type: 'AWS::ECS::Cluster',
      Properties: { ClusterName: 'stepcron-prod', CapacityProviders: ['FARGATE', 'FARGATE_SPOT'], ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] },
    });
    expect(template(catalog(['a']), { cluster: 'jobs' }).Cluster).toBeUndefined();
  });

  it('puts the dashboard in the stage\'s template', () => {
    const r = template(catalog(['a']));
    expect(r.Dashboard!.Type).toBe('AWS::CloudWatch::Dashboard');
  });
});

describe('StateMachineRole: what every job\'s state machine may do, scoped to the stage', () => {
  const arnOf = (s: string) => sub(`arn:\${AWS::Partition}:${s}`);

  it('runs the stage\'s task definitions on its cluster only, stops and lists its tasks, passes only its task roles', () => {
    // Act
    const s = statements(template(catalog(['a']), { cluster: 'jobs' }), 'StateMachineRole');
    // Assess
    const cluster = { ArnEquals: { 'ecs:cluster': arnOf(`ecs:${region}:cluster/jobs`) } };
    expect(s).toEqual([
      { Effect: 'Allow', Action: 'ecs:RunTask', Resource: arnOf(`ecs:${region}:task-definition/stepcron-prod-*:*`), Condition: cluster },
      { Effect: 'Allow', Action: ['ecs:StopTask', 'ecs:DescribeTasks', 'ecs:TagResource'], Resource: arnOf(`ecs:${region}:task/jobs/*`) },
      { Effect: 'Allow', Action: 'ecs:ListTasks', Resource: '*', Condition: cluster },
      {
        Effect: 'Allow', Action: 'iam:PassRole', Resource: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/stepcron/prod/tasks/*'),
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      { Effect: 'Allow', Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], Resource: arnOf(`events:${region}:rule/StepFunctionsGetEventsForECSTaskRule`) },
      {
        Effect: 'Allow', Action: 'lambda:InvokeFunction',
        Resource: [getAtt('PrecheckLambdaFunction'), sub('${PrecheckLambdaFunction.Arn}:*'), getAtt('NotifyLambdaFunction'), sub('${NotifyLambdaFunction.Arn}:*')],
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
          'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
        Resource: '*',
      },
    ]);
    expect(template(catalog(['a']), { cluster: 'jobs' }).StateMachineRole!.Properties.AssumeRolePolicyDocument).toEqual(trust('states.amazonaws.com'));
    expect(template(catalog(['a'])).StateMachineRole!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('with a fan-out: child executions, map runs, the items (stage bucket\'s items/ and each itemsFrom bucket once) and results', () => {
    // Act
    const jobs = catalog(['a', 'fanOut: { itemsFrom: s3://acme-items/t.csv }'], ['b', 'fanOut: { itemsFrom: s3://acme-items/u.json }'],
      ['c', 'fanOut: { itemsFrom: s3://other.bucket/v.jsonl }'], ['d', 'fanOut: { items: [1] }'], ['e']);
    const s = statements(template(jobs), 'StateMachineRole');
    // Assess
    expect(s.slice(0, 5)).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: arnOf(`states:${region}:stateMachine:stepcron-prod-*`) },
      {
        Effect: 'Allow', Action: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution', 'states:ListMapRuns'],
        Resource: arnOf(`states:${region}:execution:stepcron-prod-*`),
      },
      { Effect: 'Allow', Action: ['states:DescribeMapRun', 'states:UpdateMapRun'], Resource: arnOf(`states:${region}:mapRun:stepcron-prod-*`) },
      {
        Effect: 'Allow', Action: 's3:GetObject',
        Resource: [sub('arn:${AWS::Partition}:s3:::${FanOutBucket}/items/*'), sub('arn:${AWS::Partition}:s3:::acme-items/*'), sub('arn:${AWS::Partition}:s3:::other.bucket/*')],
      },
      {
        Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        Resource: sub('arn:${AWS::Partition}:s3:::${FanOutBucket}/results/*'),
      },
    ]);
    expect(s).toHaveLength(12);
    expect(statements(template(catalog(['a'])), 'StateMachineRole')).toHaveLength(7);
  });

  it('escapes a ${ in the cluster name for the Sub (a name ECS refuses anyway, but never a reference)', () => {
    // Params are built by hand here: toStageParams refuses such a cluster name.
    const p = { ...params(), cluster: 'a${AWS::Region}' };
    const s = statements(resources(catalog(['a']), p) as Record<string, Cfn>, 'StateMachineRole');
    expect(s[1]!.Resource).toEqual(sub(`arn:\${AWS::Partition}:ecs:${region}:task/a\${!AWS::Region}/*`));
    expect(s[0]!.Condition.ArnEquals['ecs:cluster']).toEqual(sub(`arn:\${AWS::Partition}:ecs:${region}:cluster/a\${!AWS::Region}`));
    expect((deployInfra(catalog(['a'])[0]!, p).cluster)).toEqual(sub(`arn:\${AWS::Partition}:ecs:${region}:cluster/a\${!AWS::Region}`));
  });
});

describe('secretGrant: reading a secret takes that secret and nothing wider', () => {
  it('an SSM /name: GetParameters on that parameter in this region and account, escaped for the Sub', () => {
    expect(secretGrant('/stepcron/db-${x}')).toEqual({
      action: 'ssm:GetParameters', resource: [sub(`arn:\${AWS::Partition}:ssm:${region}:parameter/stepcron/db-\${!x}`)],
    });
  });

  it('an SSM ARN: as written', () => {
    const ref = 'arn:aws:ssm:eu-west-1:111122223333:parameter/stepcron/token';
    expect(secretGrant(ref)).toEqual({ action: 'ssm:GetParameters', resource: [ref] });
    expect(secretGrant('arn:aws-cn:ssm:cn-north-1:111122223333:parameter/x').action).toBe('ssm:GetParameters');
  });

  it('a full Secrets Manager ARN: the secret (and, read as a partial ARN, that name plus a suffix), whatever JSON key follows', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/db-AbCdEf';
    for (const ref of [secret, `${secret}:password::`, `${secret}:username:AWSPREVIOUS:`, `${secret}:host::0e1f2a3b-4c5d`]) {
      expect([ref, secretGrant(ref)]).toEqual([ref, { action: 'secretsmanager:GetSecretValue', resource: [secret, `${secret}-??????`] }]);
    }
  });

  it('a partial ARN (no random suffix): that name plus any 6-character suffix only', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:shapes/partial';
    expect(secretGrant(secret)).toEqual({ action: 'secretsmanager:GetSecretValue', resource: [`${secret}-??????`] });
    // A suffix is '-' and exactly 6 letters or digits at the end.
    expect(secretGrant(`${secret}-AbCdE`).resource).toEqual([`${secret}-AbCdE-??????`]);
    expect(secretGrant(`${secret}-AbCdEfG`).resource).toEqual([`${secret}-AbCdEfG-??????`]);
    expect(secretGrant(`${secret}_AbCdEf`).resource).toEqual([`${secret}_AbCdEf-??????`]);
    expect(secretGrant(`${secret}-AbC_Ef`).resource).toEqual([`${secret}-AbC_Ef-??????`]);
  });

  it('decides SSM or Secrets Manager by the ARN\'s service, not by text inside a JSON key', () => {
    const ref = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:arn:aws:ssm:k::';
    expect(secretGrant(ref).action).toBe('secretsmanager:GetSecretValue');
  });

  it('a name: its ARN in this region and account plus a suffix, escaped for the Sub', () => {
    expect(secretGrant('stepcron/slack${x}')).toEqual({
      action: 'secretsmanager:GetSecretValue', resource: [sub(`arn:\${AWS::Partition}:secretsmanager:${region}:secret:stepcron/slack\${!x}-??????`)],
    });
  });

  it('a job with secrets gets its own execution role: one statement per action, each secret once, SSM first', () => {
    // Act
    const jobs = catalog(['a', 'secrets:', '  A: /p/a', "  B: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:k::'",
      "  C: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:u::'", "  D: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x'",
      "  E: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:part'"], ['b']);
    const r = template(jobs);
    // Assess
    const sm = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
    expect(statements(r, 'AExecutionRole')).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: sub(`arn:\${AWS::Partition}:logs:${region}:log-group:/stepcron/prod/jobs:*`) },
      { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: [sub(`arn:\${AWS::Partition}:ssm:${region}:parameter/p/a`), 'arn:aws:ssm:eu-west-1:111122223333:parameter/x'] },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [`${sm}db-AbCdEf`, `${sm}db-AbCdEf-??????`, `${sm}part-??????`] },
    ]);
    expect(r.AExecutionRole!.Properties.Path).toBe('/stepcron/prod/tasks/');
    // ECS reads the secrets: SSM names as ARNs, every ARN as written.
    expect(r.ATaskDefinition!.Properties.ExecutionRoleArn).toEqual(getAtt('AExecutionRole'));
    expect(r.ATaskDefinition!.Properties.ContainerDefinitions[0].Secrets).toEqual([
      { Name: 'A', ValueFrom: sub(`arn:\${AWS::Partition}:ssm:${region}:parameter/p/a`) },
      { Name: 'B', ValueFrom: `${sm}db-AbCdEf:k::` },
      { Name: 'C', ValueFrom: `${sm}db-AbCdEf:u::` },
      { Name: 'D', ValueFrom: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x' },
      { Name: 'E', ValueFrom: `${sm}part` },
    ]);
    expect(r.BExecutionRole).toBeUndefined();
    expect(r.BTaskDefinition!.Properties.ExecutionRoleArn).toEqual(getAtt('ExecutionRole'));
    // SSM's statement comes first whichever secret the catalog names first.
    const smFirst = template(catalog(['a', 'secrets:', "  B: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf'", '  A: /p/a']));
    expect(statements(smFirst, 'AExecutionRole').map((s) => s.Action)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents'], 'ssm:GetParameters', 'secretsmanager:GetSecretValue']);
    // Only Secrets Manager secrets: one statement.
    const onlySm = template(catalog(['a', 'secrets:', "  B: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf'"]));
    expect(statements(onlySm, 'AExecutionRole').map((s) => s.Action)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents'], 'secretsmanager:GetSecretValue']);
  });
});

describe('each job\'s resources', () => {
  it('jobResourceIds: task definition, state machine, schedule and alarm; a deadline alarm and roles of its own only when needed', () => {
    // Act
    const [plain, all] = catalog(['plain'], ['all-of-it', 'successDeadlineMinutes: 120', 'secrets: { A: /p/a }', "taskPolicyArns: ['arn:aws:iam::111122223333:policy/p']"]);
    // Assess
    expect(jobResourceIds(plain!)).toEqual(['PlainTaskDefinition', 'PlainStateMachine', 'PlainSchedule', 'PlainAlarm']);
    expect(jobResourceIds(all!)).toEqual(['AllOfItTaskDefinition', 'AllOfItStateMachine', 'AllOfItSchedule', 'AllOfItAlarm', 'AllOfItDeadlineAlarm',
      'AllOfItExecutionRole', 'AllOfItTaskRole']);
  });

  it('a Fargate task definition kept on replacement, its one container named job, logging to the jobs\' group by job name', () => {
    // Act
    const r = template(catalog(['nightly', 'cpu: 512', 'memory: 1024', 'environment: { A: "1", B: "${x}" }']));
    // Assess
    expect(r.NightlyTaskDefinition).toEqual({
      Type: 'AWS::ECS::TaskDefinition',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Family: 'stepcron-prod-nightly',
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '512',
        Memory: '1024',
        ExecutionRoleArn: getAtt('ExecutionRole'),
        TaskRoleArn: getAtt('TaskRole'),
        ContainerDefinitions: [{
          Name: 'job', Image: 'i:1', Essential: true, Command: ['x'],
          Environment: [{ Name: 'A', Value: '1' }, { Name: 'B', Value: '${x}' }],
          Secrets: [],
          LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': '/stepcron/prod/jobs', 'awslogs-region': { Ref: 'AWS::Region' }, 'awslogs-stream-prefix': 'nightly' } },
        }],
        Tags: [{ Key: 'stepcron:job', Value: 'nightly' }, { Key: 'stepcron:stage', Value: 'prod' }],
      },
    });
  });

  it('a job with taskPolicyArns runs as a task role of its own with those policies (AWS-managed ones per partition)', () => {
    const r = template(catalog(['a', "taskPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::111122223333:policy/mine']"]));
    expect(r.ATaskRole).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        Path: '/stepcron/prod/tasks/',
        AssumeRolePolicyDocument: trust('ecs-tasks.amazonaws.com'),
        ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess'), 'arn:aws:iam::111122223333:policy/mine'],
      },
    });
    expect(r.ATaskDefinition!.Properties.TaskRoleArn).toEqual(getAtt('ATaskRole'));
  });

  it('a schedule starting the job\'s state machine with Scheduler\'s context, retried for an hour, enabled only where the stage enables the job', () => {
    // Act
    const r = template(catalog(['on', 'schedule: cron(30 2 * * ? *)', 'timezone: Europe/Berlin'], ['off']), { enabledJobs: 'on' });
    // Assess
    expect(r.OnSchedule).toEqual({
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: 'on (schedule: cron(30 2 * * ? *)): d',
        ScheduleExpression: 'cron(30 2 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: 'OnStateMachine' },
          RoleArn: getAtt('SchedulerRole'),
          Input: JSON.stringify({
            scheduledTime: '<aws.scheduler.scheduled-time>', scheduleArn: '<aws.scheduler.schedule-arn>',
            schedulerExecutionId: '<aws.scheduler.execution-id>', attemptNumber: '<aws.scheduler.attempt-number>',
          }),
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
          DeadLetterConfig: { Arn: getAtt('SchedulerDeadLetterQueue') },
        },
      },
    });
    expect(r.OffSchedule!.Properties.State).toBe('DISABLED');
    // An aligned rate deploys as its cron (no run at deploy time), in UTC.
    expect(r.OffSchedule!.Properties).toMatchObject({ Description: 'off (schedule: rate(1 hour)): d', ScheduleExpression: 'cron(0 * * * ? *)', ScheduleExpressionTimezone: 'UTC' });
  });

  it(`cuts a schedule's description to ${SCHEDULE_DESCRIPTION_MAX} characters, never inside a character`, () => {
    // Act
    const long = template(catalog(['a', `description: "${'x'.repeat(300)}"`]));
    const emoji = template(catalog(['a', `description: "${'x'.repeat(SCHEDULE_DESCRIPTION_MAX - 'a (schedule: rate(1 hour)): '.length - 1)}\u{1F600}"`]));
    // Assess
    expect(SCHEDULE_DESCRIPTION_MAX).toBe(256);
    expect(long.ASchedule!.Properties.Description).toBe(`a (schedule: rate(1 hour)): ${'x'.repeat(300)}`.slice(0, 256));
    expect(emoji.ASchedule!.Properties.Description).toHaveLength(255);
  });

  it('an alarm on any failed, timed-out or aborted run; a replace job\'s aborts left out', () => {
    // Act
    const r = template(catalog(['a'], ['r', 'concurrency: replace']));
    // Assess
    const metric = (job: string, id: string, name: string) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: 'AWS/States', MetricName: name, Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: `${job}StateMachine` } }] }, Period: 300, Stat: 'Sum' },
      ReturnData: false,
    });
    const common = { EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [{ Ref: 'NotificationTopic' }] };
    expect(r.AAlarm).toEqual({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: 'stepcron-prod-a-runs-not-succeeded',
        AlarmDescription: 'A run of a failed, timed out or was aborted',
        Metrics: [metric('A', 'failed', 'ExecutionsFailed'), metric('A', 'timedout', 'ExecutionsTimedOut'), metric('A', 'aborted', 'ExecutionsAborted'),
          { Id: 'problems', Expression: 'SUM([failed, timedout, aborted])', Label: 'runs failed, timed out or aborted', ReturnData: true }],
        ...common,
      },
    });
    expect(r.RAlarm!.Properties).toEqual({
      AlarmName: 'stepcron-prod-r-runs-not-succeeded',
      AlarmDescription: 'A run of r failed or timed out (aborts are how replace stops older runs)',
      Metrics: [metric('R', 'failed', 'ExecutionsFailed'), metric('R', 'timedout', 'ExecutionsTimedOut'),
        { Id: 'problems', Expression: 'SUM([failed, timedout])', Label: 'runs failed or timed out', ReturnData: true }],
      ...common,
    });
  });

  it('successDeadlineMinutes: an alarm when no run succeeded in the window, missing data breaching, off while the job is disabled', () => {
    // Act
    const r = template(catalog(['a', 'successDeadlineMinutes: 120'], ['b', 'successDeadlineMinutes: 90']), { enabledJobs: 'a' });
    // Assess
    expect(r.ADeadlineAlarm).toEqual({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: 'stepcron-prod-a-no-success',
        AlarmDescription: 'No run of a has succeeded in the last 120 minutes (successDeadlineMinutes)',
        Namespace: 'AWS/States', MetricName: 'ExecutionsSucceeded', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'AStateMachine' } }],
        Statistic: 'Sum', Period: 300, EvaluationPeriods: 24, DatapointsToAlarm: 24, Threshold: 1, ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching', ActionsEnabled: true, AlarmActions: [{ Ref: 'NotificationTopic' }], OKActions: [{ Ref: 'NotificationTopic' }],
      },
    });
    expect(r.BDeadlineAlarm!.Properties.ActionsEnabled).toBe(false);
    expect(r.ADeadlineAlarm).toBeDefined();
    expect(template(catalog(['a'])).ADeadlineAlarm).toBeUndefined();
  });
});

describe('concurrency buffer', () => {
  const buffered = (n: number, nameLength = 1) => catalog(...Array.from({ length: n }, (_, i) => [`b${i}`.padEnd(nameLength, 'x'), 'concurrency: buffer'] as [string, string]), ['plain']);
  const machine = (name: string) => sub(`arn:\${AWS::Partition}:states:${region}:stateMachine:${name}`);

  it('lets the precheck start and describe the buffer jobs\' runs, named one by one, and write the dead-letter queue', () => {
    // Act
    const r = template(buffered(2));
    // Assess
    expect(statements(r, 'PrecheckRole').slice(3)).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: [machine('stepcron-prod-b0'), machine('stepcron-prod-b1')] },
      { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: [sub(`arn:\${AWS::Partition}:states:${region}:execution:stepcron-prod-b0:*`), sub(`arn:\${AWS::Partition}:states:${region}:execution:stepcron-prod-b1:*`)] },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('BufferedRunsDeadLetterQueue') },
    ]);
    expect(r.BufferedRunsRule!.Properties.EventPattern.detail.stateMachineArn).toEqual([machine('stepcron-prod-b0'), machine('stepcron-prod-b1')]);
  });

  it('past 20 buffer jobs, or an event pattern over 2,048 characters, grants and matches by the stage\'s prefix instead', () => {
    // Act
    const twenty = template(buffered(20));
    const many = template(buffered(21));
    // Names of 60 characters, each ARN counted at its longest (62 + 14 + 60) with its quotes and comma: the pattern's
    // 168 characters and 13 x 139 fit 2,048, 14 x 139 do not
    const long = template(buffered(14, 60));
    const fits = template(buffered(13, 60));
    // Assess
    expect(statements(twenty, 'PrecheckRole')[3]!.Resource).toHaveLength(20);
    expect(statements(fits, 'PrecheckRole')[3]!.Resource).toHaveLength(13);
    for (const r of [many, long]) {
      expect(statements(r, 'PrecheckRole').slice(3, 5)).toEqual([
        { Effect: 'Allow', Action: 'states:StartExecution', Resource: [machine('stepcron-prod-*')] },
        { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: [sub(`arn:\${AWS::Partition}:states:${region}:execution:stepcron-prod-*:*`)] },
      ]);
      expect(r.BufferedRunsRule!.Properties.EventPattern.detail.stateMachineArn).toEqual([{ prefix: machine('stepcron-prod-') }]);
    }
  });

  it('counts the event pattern at its longest: 2,048 characters still list the state machines, 2,049 take the prefix', () => {
    // Arrange: 15 buffer jobs; each ARN counts 62 (the longest partition, region and account) + 'stepcron-prod-' + the
    // job's name + 3 (quotes, comma), the pattern without ARNs 168: 168 + 15 x 79 + 695 = 2,048
    const jobs = (last: number) => catalog(...Array.from({ length: 15 }, (_, i) => [`b${String(i).padStart(2, '0')}`.padEnd(i === 14 ? last : 46, 'x'), 'concurrency: buffer'] as [string, string]));
    // Act
    const atLimit = template(jobs(51));
    const over = template(jobs(52));
    // Assess
    expect(atLimit.BufferedRunsRule!.Properties.EventPattern.detail.stateMachineArn).toHaveLength(15);
    expect(over.BufferedRunsRule!.Properties.EventPattern.detail.stateMachineArn).toEqual([{ prefix: machine('stepcron-prod-') }]);
  });

  it('the reconcile schedules run as a role that may invoke the precheck function only; the queue takes only the rule\'s events', () => {
    // Act
    const r = template(buffered(1));
    // Assess
    expect(r.BufferedRunsReconcileRole).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: trust('scheduler.amazonaws.com'),
        Policies: [{
          PolicyName: 'stepcron',
          PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt('PrecheckLambdaFunction') }] },
        }],
      },
    });
    expect(r.BufferedRunsDeadLetterQueuePolicy).toEqual({
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'BufferedRunsDeadLetterQueue' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: getAtt('BufferedRunsDeadLetterQueue'),
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt('BufferedRunsRule') } },
          }],
        },
      },
    });
    // The function's own failed asynchronous calls go to the same queue.
    expect(r.PrecheckAsyncFailures).toEqual({
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: { FunctionName: { Ref: 'PrecheckLambdaFunction' }, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: getAtt('BufferedRunsDeadLetterQueue') } } },
    });
  });

  it('the rule, its queue, alarm, permission and the reconcile schedule with its role; none of it without a buffer job', () => {
    // Act
    const r = template(buffered(1));
    // Assess
    expect(r.BufferedRunsRule).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'stepcron-prod-buffered-runs',
        Description: 'A run of a concurrency buffer job ended: start the run waiting for it',
        EventPattern: {
          source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [machine('stepcron-prod-b0')] },
        },
        Targets: [{
          Id: 'precheck', Arn: getAtt('PrecheckLambdaFunction'), RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: getAtt('BufferedRunsDeadLetterQueue') },
        }],
      },
    });
    expect(r.BufferedRunsDeadLetterQueue).toEqual({ Type: 'AWS::SQS::Queue', Properties: { QueueName: 'stepcron-prod-buffered-runs-dlq', MessageRetentionPeriod: 1209600 } });
    expect(r.BufferedRunsDeadLetterAlarm).toEqual({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: 'stepcron-prod-lost-buffered-runs',
        AlarmDescription: 'A run of a buffer job ended and the precheck function could not be told (or a reconcile failed); the reconcile tries every 5 minutes: the event is in stepcron-prod-buffered-runs-dlq',
        Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 300,
        Dimensions: [{ Name: 'QueueName', Value: getAtt('BufferedRunsDeadLetterQueue', 'QueueName') }],
        EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'NotificationTopic' }],
      },
    });
    expect(r.BufferedRunsPermission).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: { Action: 'lambda:InvokeFunction', FunctionName: getAtt('PrecheckLambdaFunction'), Principal: 'events.amazonaws.com', SourceArn: getAtt('BufferedRunsRule') },
    });
    expect(r.BufferedRunsReconcile).toEqual({
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Description: 'concurrency buffer: start a waiting run whose run ahead ended without its status event',
        ScheduleExpression: `rate(${BUFFER_RECONCILE_MINUTES} minutes)`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt('PrecheckLambdaFunction'),
          RoleArn: getAtt('BufferedRunsReconcileRole'),
          Input: sub(JSON.stringify({ reconcile: 'buffered-runs', stateMachines: [`arn:\${AWS::Partition}:states:${region}:stateMachine:stepcron-prod-b0`] })),
          RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 },
        },
      },
    });
    // None of it, and no extra precheck statements, without a buffer job.
    const none = template(catalog(['a']));
    expect(Object.keys(none).filter((id) => id.startsWith('Buffered') || id === 'PrecheckAsyncFailures')).toEqual([]);
    expect(statements(none, 'PrecheckRole')).toHaveLength(3);
  });

  it('40 state machines per reconcile schedule, numbered from 2', () => {
    // Act
    const r = template(buffered(81));
    // Assess
    const inputs = ['BufferedRunsReconcile', 'BufferedRunsReconcile2', 'BufferedRunsReconcile3'].map((id) => JSON.parse(r[id]!.Properties.Target.Input['Fn::Sub']).stateMachines);
    expect(inputs.map((i) => i.length)).toEqual([40, 40, 1]);
    expect(inputs[1][0]).toMatch(/:stateMachine:stepcron-prod-b40$/);
    expect(r.BufferedRunsReconcile4).toBeUndefined();
    expect(r.BufferedRunsReconcile1).toBeUndefined();
    // Exactly 40: one schedule, no empty second one.
    const forty = template(buffered(40));
    expect(JSON.parse(forty.BufferedRunsReconcile!.Properties.Target.Input['Fn::Sub']).stateMachines).toHaveLength(40);
    expect(forty.BufferedRunsReconcile2).toBeUndefined();
  });
});

describe('IAM\'s limits', () => {
  it('policyCharacters: the inline policies\' JSON as IAM counts it, pseudo parameters at their longest, other references at 200', () => {
    // Arrange
    const role = (doc: unknown) => ({ Properties: { Policies: [{ PolicyName: 'p', PolicyDocument: doc }] } });
    // Assess: PolicyName's length plus the resolved document's JSON
    expect(policyCharacters(role({ a: 'x' }))).toBe(1 + '{"a":"x"}'.length);
    expect(policyCharacters(role({ a: { Ref: 'AWS::Region' } }))).toBe(1 + '{"a":"ap-southeast-7"}'.length);
    expect(policyCharacters(role({ a: { Ref: 'Bucket' } }))).toBe(1 + `{"a":"${'a'.repeat(200)}"}`.length);
    expect(policyCharacters(role({ a: { 'Fn::GetAtt': ['B', 'Arn'] } }))).toBe(1 + `{"a":"${'a'.repeat(200)}"}`.length);
    expect(policyCharacters(role({ a: sub('arn:${AWS::Partition}:x:${AWS::AccountId}:${B}:${!k}') }))).toBe(1 + `{"a":"arn:aws-us-gov:x:123456789012:${'a'.repeat(200)}:\${k}"}`.length);
    expect(policyCharacters(role({ a: { 'Fn::Sub': ['${AWS::Region}', {}] } }))).toBe(1 + '{"a":"ap-southeast-7"}'.length);
    expect(policyCharacters(role({ a: [1, null, { b: 'c' }] }))).toBe(1 + '{"a":[1,null,{"b":"c"}]}'.length);
    expect(policyCharacters({ Properties: { Policies: [{ PolicyName: 'ab', PolicyDocument: {} }, { PolicyName: 'c', PolicyDocument: [] }] } })).toBe(2 + 2 + 1 + 2);
    expect(policyCharacters({})).toBe(0);
    expect(policyCharacters({ Properties: {} })).toBe(0);
  });

  it('refuses a role whose inline policy would pass 10,240 characters, naming what makes it grow', () => {
    // Arrange: each itemsFrom bucket adds a resource to the state machines' role
    const buckets = (n: number) => catalog(...Array.from({ length: n }, (_, i) => [`j${i}`, `fanOut: { itemsFrom: s3://bucket-${String(i).padStart(50, '0')}/k.json }`] as [string, string]));
    // Act
    const fits = () => resources(buckets(50), params());
    const over = () => resources(buckets(120), params());
    // Assess
    expect(IAM_QUOTAS).toEqual({ rolesPerAccount: 1000, inlinePolicyCharacters: 10_240 });
    expect(fits).not.toThrow();
    expect(over).toThrow(ParamsError);
    expect(over).toThrow(/^stage prod: role StateMachineRole's inline policy would be up to 1\d,\d{3} characters, and IAM allows 10,240 per role: it grows with each distinct itemsFrom bucket: keep fan-out item lists in fewer buckets \(the stage bucket's items\/ is always readable\)$/);
  });

  it('takes a role of exactly 10,240 characters, and refuses one more', () => {
    // Arrange: SSM secrets, the last one's name padded until the job's execution role is exactly at the limit
    const job = (pad: number) => catalog(['many', 'secrets:', ...Array.from({ length: 80 }, (_, i) => `  S${i}: /${String(i).padStart(i === 79 ? pad : 60, 'p')}`)]);
    const size = (pad: number) => policyCharacters((resources(job(pad), params()) as Record<string, Cfn>).ManyExecutionRole!);
    const pad = 60 + IAM_QUOTAS.inlinePolicyCharacters - size(60);
    // Act
    const atLimit = () => resources(job(pad), params());
    const over = () => resources(job(pad + 1), params());
    // Assess
    expect(size(pad)).toBe(10_240);
    expect(atLimit).not.toThrow();
    expect(over).toThrow(/^stage prod: role ManyExecutionRole's inline policy would be up to 10,241 characters/);
  });

  it('names every role that is too large, in one line', () => {
    // Arrange
    const secrets = Array.from({ length: 120 }, (_, i) => `  S${i}: /${String(i).padStart(60, 'p')}`);
    const buckets = Array.from({ length: 120 }, (_, i) => [`j${i}`, `fanOut: { itemsFrom: s3://bucket-${String(i).padStart(50, '0')}/k.json }`] as [string, string]);
    // Act
    const over = () => resources(catalog(['many', 'secrets:', ...secrets], ...buckets), params());
    // Assess
    expect(over).toThrow(/^stage prod: role StateMachineRole's inline policy .* fewer buckets \(the stage bucket's items\/ is always readable\); role ManyExecutionRole's inline policy .* share one grant\)$/);
  });

  it('names the job whose secrets make its execution role too large', () => {
    // Arrange: 120 secrets by name of 60 characters each
    const secrets = Array.from({ length: 120 }, (_, i) => `  S${i}: /${String(i).padStart(60, 'p')}`);
    // Act
    const over = () => resources(catalog(['many', 'secrets:', ...secrets]), params());
    // Assess
    expect(over).toThrow(/^stage prod: role ManyExecutionRole's inline policy would be up to \d\d,\d{3} characters, and IAM allows 10,240 per role: it grows with each secret of jobs\.many\.secrets: read fewer secrets \(the keys of one JSON secret share one grant\)$/);
  });

  it('stageRoles and roleQuotaProblem: more roles than an account has by default is said, with the fix', () => {
    // Arrange
    const roles = (n: number) => ({ Resources: Object.fromEntries([...Array.from({ length: n }, (_, i) => [`R${i}`, { Type: 'AWS::IAM::Role' }]), ['T', { Type: 'AWS::SNS::Topic' }]]) });
    // Assess
    expect(stageRoles(roles(2))).toEqual(['R0', 'R1']);
    expect(roleQuotaProblem(roles(1000))).toBeUndefined();
    expect(roleQuotaProblem(roles(1001))).toBe('its 1001 IAM roles pass the 1,000 an account has by default (one per job with secrets, one per job with taskPolicyArns): ' +
      'raise "Roles per account" in Service Quotas (up to 5,000) before deploying, or give fewer jobs their own');
    expect(stageRoles(stageTemplate(catalog(['a', 'secrets: { A: /p/a }']), params()))).toEqual([
      'SchedulerRole', 'PrecheckRole', 'NotifyRole', 'StateMachineRole', 'WarningSchedulerRole', 'ExecutionRole', 'TaskRole', 'AExecutionRole']);
  });
});

describe('exampleValues: what a stage still takes from the README\'s examples', () => {
  it('names example subnets, security groups, example.com addresses and images in the example account, one line each', () => {
    // Act
    const jobs = catalog(['a', `image: ${EXAMPLE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/jobs:1`], ['b', `image: ${EXAMPLE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/jobs:1`],
      ['c', `image: ${EXAMPLE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/other:1`], ['d', 'image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/jobs:1']);
    const p = params({ subnets: 'subnet-0a1b2c3d4e5f60001,subnet-0f1e2d3c4b5a60002,subnet-1', securityGroups: 'sg-0a1b2c3d4e5f60001', notifyEmails: 'ops@example.com,a@EXAMPLE.org,b@example.io' });
    // Assess
    const where = (name: string) => `under params: for stage prod (or default) in serverless.yml, or --param="${name}=..."`;
    expect(exampleValues(jobs, p)).toEqual([
      `subnets: subnet-0a1b2c3d4e5f60001, subnet-0f1e2d3c4b5a60002 are examples: set subnets to your VPC's private subnet ids ${where('subnets')}`,
      `securityGroups: sg-0a1b2c3d4e5f60001 is an example: set securityGroups to your tasks' security group ids ${where('securityGroups')}`,
      `notifyEmails: ops@example.com, a@EXAMPLE.org cannot receive mail (a reserved example domain): set notifyEmails to who should hear about failures, or '' for none, ${where('notifyEmails')}`,
      `jobs a, b: image ${EXAMPLE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/jobs:1 is in the example account ${EXAMPLE_ACCOUNT}: push the image to your ECR repository and set image (or defaults.image) in the catalog`,
      `jobs.c: image ${EXAMPLE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/other:1 is in the example account ${EXAMPLE_ACCOUNT}: push the image to your ECR repository and set image (or defaults.image) in the catalog`,
    ]);
  });

  it('is empty for a stage of its own, and reads the example ids exactly', () => {
    const p = params({ subnets: 'subnet-0a1b2c3d4e5f6000,subnet-0a1b2c3d4e5f600012,subnet-1a1b2c3d4e5f60001', securityGroups: 'sg-0a1b2c3d4e5f60001', notifyEmails: 'a@example.community' });
    expect(exampleValues(catalog(['a', 'image: x123456789012.dkr.ecr/x:1']), p)).toEqual([
      `securityGroups: sg-0a1b2c3d4e5f60001 is an example: set securityGroups to your tasks' security group ids under params: for stage prod (or default) in serverless.yml, or --param="securityGroups=..."`,
    ]);
    expect(exampleValues(catalog(['a']), params())).toEqual([]);
    // Only ids that are the examples, whole.
    expect(exampleValues(catalog(['a']), { ...params(), subnets: ['mysubnet-0a1b2c3d4e5f60001'], securityGroups: ['xsg-0f1e2d3c4b5a60001'] })).toEqual([]);
    // One example subnet "is", two example groups "are".
    expect(exampleValues(catalog(['a']), params({ subnets: 'subnet-0f1e2d3c4b5a60009', securityGroups: 'sg-0a1b2c3d4e5f60001,sg-0f1e2d3c4b5a60002' }))).toEqual([
      'subnets: subnet-0f1e2d3c4b5a60009 is an example: set subnets to your VPC\'s private subnet ids under params: for stage prod (or default) in serverless.yml, or --param="subnets=..."',
      'securityGroups: sg-0a1b2c3d4e5f60001, sg-0f1e2d3c4b5a60002 are examples: set securityGroups to your tasks\' security group ids under params: for stage prod (or default) in serverless.yml, or --param="securityGroups=..."',
    ]);
    // AWS's documentation account, 123456789012, whatever the registry
    expect(EXAMPLE_ACCOUNT).toBe('123456789012');
    expect(exampleValues(catalog(['a', `image: ${EXAMPLE_ACCOUNT}/x:1`]), params())).toHaveLength(1);
  });
});
