// Every physical name stepcron builds from the stage and job names is in one table (workflows/names.ts) with AWS's
// limit, and the longest stage and job names follow from it. Checked against the stage's whole template (the model
// `stepcron validate` uses; test/names-package.test.ts does the same with a real `sls package`) for the longest stage
// and job names the table allows: every name in it that holds the stage or a job's name is one the table knows, and
// within its limit. Fixtures are built inside the tests (mutation testing reloads this file for most mutants).
import { bufferedRunName as precheckBufferedRunName } from '../handlers/lib/precheck';
import { warningScheduleName as handlerScheduleName } from '../handlers/lib/warnings';
import { executionName } from '../cli/run';
import { type CatalogError, parseCatalog } from '../workflows/catalog';
import {
  bufferedRunName, closest, editDistance, jobNameProblem, MAX_STAGE_LENGTH, maxJobNameLength, overLongNames, PHYSICAL_NAMES,
  runName, stageProblem, thousands, unknownStageWarning, warningScheduleName,
} from '../workflows/names';
import { stageTemplate, toStageParams } from '../workflows/resources';
import { expectCovered, longestNamesCatalog, longestStage, namesIn } from './support/physical-names';

describe('the table of physical names', () => {
  it('derives the longest stage: the 46 characters once accepted made the buffer jobs\' rule 69 of EventBridge\'s 64', () => {
    // Act
    const at46 = stageProblem('s'.repeat(46));
    const atMax = stageProblem('s'.repeat(MAX_STAGE_LENGTH));
    const overMax = stageProblem('s'.repeat(MAX_STAGE_LENGTH + 1));
    // Assess: the limit is the tightest name (the rule), and the refusal names it, its length and the limit
    expect(MAX_STAGE_LENGTH).toBe(64 - 'stepcron--buffered-runs'.length);
    expect(atMax).toBeUndefined();
    expect(overMax).toMatch(new RegExp(`is ${MAX_STAGE_LENGTH + 1} characters: .*at most ${MAX_STAGE_LENGTH} for the stage`));
    expect(at46).toContain(`EventBridge rule name 'stepcron-${'s'.repeat(46)}-buffered-runs' is 69 characters; the limit is 64`);
    expect(overLongNames('s'.repeat(MAX_STAGE_LENGTH))).toEqual([]);
  });

  it('derives the longest job name for a stage from every name built with it, and the catalog refuses longer ones', () => {
    // Prepare
    const STAGE = longestStage();
    const JOB_MAX = maxJobNameLength(STAGE);
    const catalog = (name: string) => `jobs:\n  ${name}:\n    description: d\n    schedule: rate(1 hour)\n    image: i:1\n    command: [x]\n`;
    const longest = `j${'x'.repeat(JOB_MAX - 1)}`;
    const tooLong = `${longest}x`;
    // Act
    const accepted = parseCatalog(catalog(longest), { stage: STAGE });
    let refused: string[] = [];
    try {
      parseCatalog(catalog(tooLong), { stage: STAGE });
    } catch (err) {
      refused = (err as CatalogError).problems;
    }
    // Assess: the state machine (80) binds; the refusal names the resource, the name's length and the limit
    expect(JOB_MAX).toBe(80 - `stepcron-${STAGE}-`.length);
    expect(maxJobNameLength('dev')).toBe(80 - 'stepcron-dev-'.length);
    expect(accepted.map((j) => j.name)).toEqual([longest]);
    expect(refused).toEqual([`jobs.${tooLong}: state machine name 'stepcron-${STAGE}-${tooLong}' is 81 characters; the limit is 80: ` +
      `shorten the job name to at most ${JOB_MAX} characters on stage ${STAGE}`]);
    expect(jobNameProblem(STAGE, longest)).toBeUndefined();
  });

  it('keeps the names built at run time within their limits, and the handlers and CLI build them with the table\'s functions', () => {
    // Prepare: a buffered run named after an execution name as long as Step Functions allows
    const arn = `arn:aws:states:eu-west-1:111122223333:execution:stepcron-${longestStage()}-job:${'x'.repeat(80)}`;
    // Act
    const runs = PHYSICAL_NAMES.filter((n) => n.scope === 'run').map((n) => ({ name: n.name('', ''), limit: n.limit }));
    // Assess
    for (const { name, limit } of runs) expect(name.length).toBeLessThanOrEqual(limit);
    expect(precheckBufferedRunName(arn).length).toBeLessThanOrEqual(80);
    expect(handlerScheduleName(arn)).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
    expect(executionName(new Date('9999-12-31T23:59:59.999Z'))).toMatch(/^99991231T235959Z-[0-9a-f]{4}$/);
  });

  it('covers every name the stage template holds, on the longest stage with the longest job names of every shape', () => {
    // Prepare: no cluster param, so the stack creates (and names) its cluster too
    const STAGE = longestStage();
    const { text, jobs } = longestNamesCatalog(STAGE);
    const params = toStageParams(STAGE, { subnets: 'subnet-0a1b2c3d4e5f60001', securityGroups: 'sg-0a1b2c3d4e5f60001' });
    // Act
    const found = namesIn([stageTemplate(parseCatalog(text, { stage: STAGE }), params)], STAGE, jobs);
    // Assess: every kind of name is there (so the scan sees them), and each is the table's and fits
    expect(found.map((f) => f.path.split('.').at(-1))).toEqual(expect.arrayContaining([
      'StateMachineName', 'Family', 'AlarmName', 'Name', 'RoleName', 'Path', 'TopicName', 'QueueName', 'TableName', 'ClusterName',
      'LogGroupName', 'awslogs-group', 'awslogs-stream-prefix',
    ]));
    expectCovered(found, STAGE, jobs);
  });
});

describe('thousands', () => {
  it('writes a whole number as toLocaleString(\'en-US\') does: a comma before each group of three digits from the right', () => {
    // Act
    const written = [0, 7, 999, 1000, 12345, 100000, 1234567, -1234].map(thousands);
    // Assess
    expect(written).toEqual(['0', '7', '999', '1,000', '12,345', '100,000', '1,234,567', '-1,234']);
    expect(written).toEqual([0, 7, 999, 1000, 12345, 100000, 1234567, -1234].map((n) => n.toLocaleString('en-US')));
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps of two neighbours, ignoring case', () => {
    // Assess: one of each kind of edit, none for a change of case, every character against the empty string
    expect(editDistance('timeoutSecond', 'timeoutSeconds')).toBe(1);
    expect(editDistance('Berlin', 'Berln')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('scheudle', 'schedule')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('BERLIN', 'berlin')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('', '')).toBe(0);
  });

  it('is the optimal string alignment distance: a swapped pair is not edited again (ca -> abc is 3, not 2)', () => {
    // Assess: unrestricted Damerau-Levenshtein would give 2 (swap to ac, insert b); OSA cannot edit the swapped pair
    expect(editDistance('ca', 'abc')).toBe(3);
    expect(editDistance('abcdef', 'badcfe')).toBe(3);
  });
});

describe('closest', () => {
  it('allows 1 edit for a word up to 4 characters, 2 up to 11, 3 beyond', () => {
    // Assess: each allowance at its edge (the candidates share under 4 first characters, so only the allowance counts)
    expect(closest('prdo', ['prod'])).toBe('prod');
    expect(closest('prxx', ['prod'])).toBeUndefined();
    expect(closest('xycde', ['abcde'])).toBe('abcde');
    expect(closest('abcdefghixx', ['abcdefghijk'])).toBe('abcdefghijk');
    expect(closest('xyzdefghijk', ['abcdefghijk'])).toBeUndefined();
    expect(closest('xyzdefghijkl', ['abcdefghijkl'])).toBe('abcdefghijkl');
    expect(closest('xyzwefghijkl', ['abcdefghijkl'])).toBeUndefined();
    // the allowance bounds the difference in length too, inclusive: a letter missing from a 3-letter word
    expect(closest('prd', ['prod'])).toBe('prod');
    expect(closest('pd', ['prod'])).toBeUndefined();
  });

  it('takes an abbreviation: the first 4+ characters shared (in any case), differing in under half of the longer name', () => {
    // Assess: beyond the edit allowance, yet abbreviations
    expect(closest('timeoutSecs', ['TimeoutSeconds'])).toBe('TimeoutSeconds');
    expect(closest('retry', ['retries'])).toBe('retries');
    expect(closest('america/sao_paul', ['America/Santiago', 'America/Sao_Paulo'])).toBe('America/Sao_Paulo');
    // 4 first characters shared is enough, 3 is not (6 edits of 13: under half)
    expect(closest('abcdefgh', ['abcdXfghijklm'])).toBe('abcdXfghijklm');
    expect(closest('abcdefgh', ['abcXefghijklm'])).toBeUndefined();
    // exactly half is not under half: `timeout` is 7 edits from both; it begins both, so neither is meant
    expect(closest('timeout', ['timeoutSeconds', 'timeoutMinutes'])).toBeUndefined();
  });

  it('prefers a candidate that fits the value, then the fewest edits, then the first', () => {
    // Assess: `retry: 3` means retries (a number), not retryOn (a list), though retryOn is nearer
    expect(closest('retry', ['retryOn', 'retries'])).toBe('retryOn');
    expect(closest('retry', ['retryOn', 'retries'], (c) => c === 'retries')).toBe('retries');
    // one that does not fit is still the last resort
    expect(closest('retry', ['retryOn'], () => false)).toBe('retryOn');
    expect(closest('imag', ['images', 'image'])).toBe('image');
    expect(closest('bat', ['cat', 'hat'])).toBe('cat');
  });

  it('else names the only candidate the word begins (in any case), for a word of 4 characters or more', () => {
    // Assess
    expect(closest('time', ['timeoutSeconds', 'image'])).toBe('timeoutSeconds');
    expect(closest('Timeout', ['TimeoutSeconds'])).toBe('TimeoutSeconds');
    expect(closest('tim', ['timeoutSeconds'])).toBeUndefined();
    expect(closest('time', ['timeoutSeconds', 'timezone'])).toBeUndefined();
    // a candidate shorter than the word's shared start is compared without reading past its end
    expect(closest('abcdefgh', ['abc'])).toBeUndefined();
    expect(closest('anything', [])).toBeUndefined();
  });
});

describe('unknownStageWarning', () => {
  it('says nothing for a stage serverless.yml\'s params name, or when they name none', () => {
    // Assess
    expect(unknownStageWarning('prod', ['dev', 'prod'])).toBeUndefined();
    expect(unknownStageWarning('prod', [])).toBeUndefined();
  });

  it('warns of any other stage, naming the known ones, the one meant if near, and how to make it known', () => {
    // Act
    const typo = unknownStageWarning('prdo', ['dev', 'prod']);
    const other = unknownStageWarning('qa', ['dev', 'prod']);
    // Assess
    expect(typo).toBe("stage 'prdo' is not in serverless.yml's params, which name dev, prod (did you mean prod?): " +
      'going on with params.default (a new stage on purpose: add params.prdo to serverless.yml)');
    expect(other).toBe("stage 'qa' is not in serverless.yml's params, which name dev, prod: " +
      'going on with params.default (a new stage on purpose: add params.qa to serverless.yml)');
  });
});

describe('the names of a stage, its jobs and their runs', () => {
  it('builds each name as deployed stacks carry it, with AWS\'s documented limit for its kind (renaming one replaces the resource)', () => {
    // Act
    const table = PHYSICAL_NAMES.map((n) => [n.resource, n.limit, n.scope, n.name('prod', 'nightly'), n.when]);
    // Assess: limits from each service's API reference (see AWS-FACTS: rule, schedule, group, role, Lambda 64; queue,
    // state machine, execution 80; stack 128; alarm, family, table, cluster, dashboard 255; topic 256; log group,
    // stream, role path 512; S3 key 1024)
    expect(table).toEqual([
      ['CloudFormation stack', 128, 'stage', 'stepcron-prod', undefined],
      ['CloudFormation nested stack', 128, 'stage', 'stepcron-prod-Jobs63-XXXXXXXXXXXXX', undefined],
      ['ECS cluster', 255, 'stage', 'stepcron-prod', 'the cluster param is empty'],
      ['Lambda function', 64, 'stage', 'stepcron-prod-precheck', undefined],
      ['Lambda function', 64, 'stage', 'stepcron-prod-notify', undefined],
      ['CloudWatch log group', 512, 'stage', '/aws/lambda/stepcron-prod-precheck', undefined],
      ['CloudWatch log group', 512, 'stage', '/aws/lambda/stepcron-prod-notify', undefined],
      ['CloudWatch log group', 512, 'stage', '/stepcron/prod/jobs', undefined],
      ['CloudWatch log group', 512, 'stage', '/aws/vendedlogs/states/stepcron-prod', undefined],
      ['SNS topic', 256, 'stage', 'stepcron-prod-notifications', undefined],
      ['SQS queue', 80, 'stage', 'stepcron-prod-schedule-dlq', undefined],
      ['CloudWatch alarm', 255, 'stage', 'stepcron-prod-missed-schedules', undefined],
      ['CloudWatch dashboard', 255, 'stage', 'stepcron-prod', undefined],
      ['DynamoDB table', 255, 'stage', 'stepcron-prod-claims', undefined],
      ['EventBridge rule', 64, 'stage', 'stepcron-prod-buffered-runs', 'a job has concurrency: buffer'],
      ['SQS queue', 80, 'stage', 'stepcron-prod-buffered-runs-dlq', 'a job has concurrency: buffer'],
      ['CloudWatch alarm', 255, 'stage', 'stepcron-prod-lost-buffered-runs', 'a job has concurrency: buffer'],
      ['EventBridge Scheduler schedule group', 64, 'stage', 'stepcron-prod-warnings', undefined],
      ['IAM role', 64, 'stage', 'stepcron-prod-warnings', undefined],
      ['IAM role path', 512, 'stage', '/stepcron/prod/scheduler/', undefined],
      ['IAM role path', 512, 'stage', '/stepcron/prod/tasks/', undefined],
      ['CloudFormation export', 255, 'stage', 'sls-stepcron-prod-PrecheckLambdaFunctionQualifiedArn', undefined],
      ['S3 object key', 1024, 'stage', 'serverless/stepcron/prod/1796668963829-2026-12-07T18:42:43.829Z/precheck.zip', undefined],
      ['S3 object key', 1024, 'stage', `serverless/stepcron/prod/stepcron-stacks/stepcron-Jobs63-${'0'.repeat(64)}.json`, undefined],
      ['state machine', 80, 'job', 'stepcron-prod-nightly', undefined],
      ['ECS task definition family', 255, 'job', 'stepcron-prod-nightly', undefined],
      ['CloudWatch alarm', 255, 'job', 'stepcron-prod-nightly-runs-not-succeeded', undefined],
      ['CloudWatch alarm', 255, 'job', 'stepcron-prod-nightly-no-success', 'the job has successDeadlineMinutes'],
      ['CloudWatch log stream', 512, 'job', `nightly/job/${'0'.repeat(32)}`, undefined],
      ['Step Functions execution', 80, 'run', `${'x'.repeat(62)}-buffered-47660aa0`, undefined],
      ['Step Functions execution', 80, 'run', '99991231T235959Z-ffff', undefined],
      ['EventBridge Scheduler schedule', 64, 'run', 'run-47660aa0712070276125052ac9921762512ec43c', undefined],
    ]);
  });

  it('names a buffered run after the buffered execution: its name (cut to 62) and 8 hex of the ARN\'s SHA-256, 80 at most', () => {
    // Prepare
    const arn = 'arn:aws:states:eu-west-1:111122223333:execution:stepcron-prod-nightly:20261208T000000Z-beef';
    const longest = `arn:aws:states:eu-west-1:111122223333:execution:stepcron-prod-nightly:${'y'.repeat(80)}`;
    // Act
    const name = bufferedRunName(arn);
    const cut = bufferedRunName(longest);
    // Assess: the same ARN always gives the same name (an event delivered twice starts one run)
    expect(name).toBe('20261208T000000Z-beef-buffered-78d109ac');
    expect(bufferedRunName(arn)).toBe(name);
    expect(cut).toMatch(new RegExp(`^${'y'.repeat(62)}-buffered-[0-9a-f]{8}$`));
    expect(cut).toHaveLength(80);
  });

  it('names a runtime warning\'s schedule run- and 40 hex of the execution ARN\'s SHA-256 (64 of [0-9a-zA-Z-_.] allowed)', () => {
    // Act
    const name = warningScheduleName('arn:aws:states:eu-west-1:111122223333:execution:stepcron-prod-nightly:20261208T000000Z-beef');
    // Assess
    expect(name).toBe('run-78d109ac8f36bc3d92b9e3dfe9fcc36a22d97dab');
  });

  it('names the CLI\'s executions by the UTC second (no :, which execution names refuse) and 4 random hex digits', () => {
    // Act
    const given = runName(new Date('2026-12-08T00:01:02.345Z'), 'beef');
    const random = runName(new Date('2026-12-08T00:01:02.345Z'));
    // Assess
    expect(given).toBe('20261208T000102Z-beef');
    expect(random).toMatch(/^20261208T000102Z-[0-9a-f]{4}$/);
  });

  it('reports the stage\'s own names for a stage alone, and only the names built from the job when a job is given', () => {
    // Act: a stage far too long makes names of both kinds too long
    const stage = 's'.repeat(100);
    const ofStage = overLongNames(stage).map((n) => n.resource);
    const ofJob = overLongNames(stage, 'j').map((n) => n.resource);
    // Assess
    expect(ofStage).toEqual(['CloudFormation nested stack', 'Lambda function', 'Lambda function', 'SQS queue', 'EventBridge rule', 'SQS queue',
      'EventBridge Scheduler schedule group', 'IAM role']);
    expect(ofJob).toEqual(['state machine']);
  });

  it('refuses a job name with every name too long, the limit, when the name exists, and the longest job name allowed', () => {
    // Prepare: 254 characters of state machine and family (255): the family fits, the alarms do not
    const job = 'j'.repeat(240);
    // Act
    const problem = jobNameProblem('prod', job);
    // Assess
    expect(problem).toBe(`state machine name 'stepcron-prod-${job}' is 254 characters; the limit is 80; ` +
      `CloudWatch alarm name 'stepcron-prod-${job}-runs-not-succeeded' is 273 characters; the limit is 255; ` +
      `CloudWatch alarm name 'stepcron-prod-${job}-no-success' is 265 characters; the limit is 255 (it exists when the job has ` +
      'successDeadlineMinutes): shorten the job name to at most 66 characters on stage prod');
  });
});

describe('stageProblem', () => {
  const why = 'stage names are part of AWS resource names (the stack stepcron-<stage>, its state machines, roles and table)';
  const invalid = (stage: string, fixed?: string) => `'${stage}' is not a valid stage name: ${why}, so use lowercase letters, digits and '-', ` +
    `starting with a letter${fixed ? ` (e.g. ${fixed})` : ''}`;

  it('takes lowercase letters, digits and \'-\', starting with a letter and not ending with \'-\'', () => {
    // Assess
    for (const stage of ['prod', 'a', 'eu-west-2', 'a1', 's'.repeat(MAX_STAGE_LENGTH)]) expect(stageProblem(stage)).toBeUndefined();
  });

  it('refuses any other stage, suggesting the nearest valid name when there is one', () => {
    // Assess: each rule alone, the suggestion lowercased, runs of other characters made one '-', edges trimmed
    expect(stageProblem('Prod_EU')).toBe(invalid('Prod_EU', 'prod-eu'));
    expect(stageProblem('prod-')).toBe(invalid('prod-', 'prod'));
    expect(stageProblem('-PROD--')).toBe(invalid('-PROD--', 'prod'));
    expect(stageProblem('9lives')).toBe(invalid('9lives', 'lives'));
    expect(stageProblem('!prod')).toBe(invalid('!prod', 'prod'));
    expect(stageProblem('prod!')).toBe(invalid('prod!', 'prod'));
    expect(stageProblem('eu  west.2')).toBe(invalid('eu  west.2', 'eu-west-2'));
    expect(stageProblem('123')).toBe(invalid('123'));
    expect(stageProblem('')).toBe(invalid(''));
  });

  it('says a stage of the longest length with a wrong character is invalid, and only a longer one that it is too long', () => {
    // Prepare
    const atMax = `S${'s'.repeat(MAX_STAGE_LENGTH - 1)}`;
    const over = 's'.repeat(MAX_STAGE_LENGTH + 1);
    // Act
    const problems = [stageProblem(atMax), stageProblem(over)];
    // Assess
    expect(problems).toEqual([
      invalid(atMax, atMax.toLowerCase()),
      `'${over}' is 42 characters: ${why}, which allow at most 41 for the stage; EventBridge rule name 'stepcron-${over}-buffered-runs' ` +
        "is 65 characters; the limit is 64 (it exists when a job has concurrency: buffer): shorten it",
    ]);
  });
});
