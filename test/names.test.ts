// Every physical name stepcron builds from the stage and job names is in one table (workflows/names.ts) with AWS's
// limit, and the longest stage and job names follow from it. Checked against the stage's whole template (the model
// `stepcron validate` uses; test/names-package.test.ts does the same with a real `sls package`) for the longest stage
// and job names the table allows: every name in it that holds the stage or a job's name is one the table knows, and
// within its limit. Fixtures are built inside the tests (mutation testing reloads this file for most mutants).
import { bufferedRunName as precheckBufferedRunName } from '../handlers/lib/precheck';
import { warningScheduleName as handlerScheduleName } from '../handlers/lib/warnings';
import { executionName } from '../cli/run';
import { type CatalogError, parseCatalog } from '../workflows/catalog';
import { jobNameProblem, MAX_STAGE_LENGTH, maxJobNameLength, overLongNames, PHYSICAL_NAMES, stageProblem } from '../workflows/names';
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
