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
