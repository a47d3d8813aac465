// cli/redrive.ts: when Step Functions would refuse a redrive, and where a local one resumes. Pure: no store, no CLI
// (test/ops-local.test.ts drives `stepcron redrive` end to end).
import { failStateRefusal, planRedrive, RedriveRefused, statusRefusal } from '../cli/redrive';
import type { Job } from '../workflows/catalog';

describe('statusRefusal: what RedriveExecution refuses (AWS-FACTS: Redrive)', () => {
  const stopped = new Date('2026-12-01T00:00:00Z');

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('redrives a %s run that ended within 14 days', (status) => {
    expect(statusRefusal(status, stopped, new Date('2026-12-02T00:00:00Z'))).toBeUndefined();
    // No stop date known (AWS did not say): the status alone decides.
    expect(statusRefusal(status, undefined, new Date('2030-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses a run that has not failed, and tells a RUNNING one to wait', () => {
    expect(statusRefusal('SUCCEEDED', stopped)).toBe('it is SUCCEEDED; only a FAILED, TIMED_OUT or ABORTED run can be redriven');
    expect(statusRefusal('RUNNING', undefined)).toBe('it is RUNNING; only a FAILED, TIMED_OUT or ABORTED run can be redriven (wait for it to end)');
    expect(statusRefusal('PENDING_REDRIVE', stopped)).toMatch(/^it is PENDING_REDRIVE; only .* redriven$/);
  });

  it('the window is 14 days to the millisecond, and the refusal gives the stop time on the job\'s clock', () => {
    const fourteenDays = 14 * 86_400_000;
    expect(statusRefusal('FAILED', stopped, new Date(stopped.getTime() + fourteenDays))).toBeUndefined();
    expect(statusRefusal('FAILED', stopped, new Date(stopped.getTime() + fourteenDays + 1), 'Europe/Berlin'))
      .toBe('it ended on 2026-12-01 01:00 CET (14 d ago), more than 14 days ago (Step Functions redrives runs that ended in the last 14 days); start a new run instead');
  });
});

describe('failStateRefusal and RedriveRefused', () => {
  it('says a run that ended in its Fail state would fail again at once, and how to start it anew', () => {
    expect(failStateRefusal('e1', 'JobFailed', 'stepcron run sync --event <file>'))
      .toBe('redrive: e1 ended in its Fail state (JobFailed): a redrive reruns only the states that did not finish, here just ' +
        'that Fail state, so it would fail again at once without running the job; start a new run with the same input ' +
        'instead (stepcron run sync --event <file>)');
    expect(failStateRefusal('e1', undefined, 'x')).toMatch(/^redrive: e1 ended in its Fail state \(failed\): /);
  });

  it('is an Error named RedriveRefused (the day-2 commands print its message as one line)', () => {
    const refused = new RedriveRefused('no');
    expect(refused).toBeInstanceOf(Error);
    expect(refused.name).toBe('RedriveRefused');
    expect(String(refused)).toBe('RedriveRefused: no');
  });
});

describe('planRedrive: where a stored run resumes', () => {
  const job = { name: 'sync' } as Job;
  const states = { Precheck: { Type: 'Task' }, RunTask: { Type: 'Task' }, FanOut: { Type: 'Map' }, Failed: { Type: 'Fail' } };
  const run = { execution: 'e1', status: 'ABORTED', stoppedAt: '2026-12-01T00:00:00Z' };
  const now = new Date('2026-12-02T00:00:00Z');
  const entered = (name: string, input: unknown, index?: number) => ({ type: 'StateEntered', state: { name, input }, ...(index !== undefined && { index }) });
  const exited = (name: string) => ({ type: 'StateExited', state: { name, output: {} } });

  it('resumes at the last top-level state entered and not left, with its input (item states inside a Map do not count)', () => {
    const events = [entered('Precheck', { a: 1 }), exited('Precheck'), entered('RunTask', { retry: { attempt: 1 } })];
    expect(planRedrive(job, run, events, states, now)).toEqual({ startAt: 'RunTask', input: { retry: { attempt: 1 } } });
    expect(planRedrive(job, run, [entered('Precheck', {}), exited('Precheck'), entered('RunTask', {}, 3)], states, now))
      .toMatch(/^redrive: e1 has no unfinished state in the local store/);
  });

  it('refuses a run whose events the store could not keep, saying why; without that record, says both possible reasons', () => {
    const events = [entered('Precheck', {}), exited('Precheck'), entered('RunTask', {})];
    // Events lost: the last state stored is not where the run stopped
    expect(planRedrive(job, run, events, states, now, { events: 3, why: 'the disk was full' }))
      .toBe('redrive: e1 cannot be redriven locally: 3 of its events could not be stored (the disk was full when they were written), so the local store cannot tell where it stopped: start a new run instead (stepcron run sync)');
    expect(planRedrive(job, run, events, states, now, { events: 1, why: 'the store could not be written (database is locked)' }))
      .toMatch(/: 1 of its events could not be stored \(the store could not be written \(database is locked\)\)/);
    expect(planRedrive(job, run, events, states, now, { events: 0 })).toEqual({ startAt: 'RunTask', input: {} });
    // Nothing stored after the precheck, and nothing recorded as lost (the outcome itself was not recorded, say)
    expect(planRedrive(job, run, [entered('Precheck', {}), exited('Precheck')], states, now))
      .toBe('redrive: e1 has no unfinished state in the local store (its last events were not stored: its stepcron process died, or the disk was full, before they were written): start a new run instead (stepcron run sync)');
  });

  it.each([
    ['a run that ended more than 14 days ago', { ...run, stoppedAt: '2026-11-10T00:00:00Z' }, [entered('RunTask', {})], /ended on 2026-11-10 00:00 UTC \(22 d ago\), more than 14 days ago/],
    ['a RUNNING run', { ...run, status: 'RUNNING' }, [], /it is RUNNING; only a FAILED, TIMED_OUT or ABORTED run can be redriven \(wait for it to end\)/],
    ['a fan-out stopped in its Map (AWS reruns only the unfinished items)', run, [entered('FanOut', { items: [1, 2] })], /stopped in its fan-out \(FanOut\): Step Functions would rerun only the items that did not finish/],
    ['an input the store kept only in part', run, [entered('RunTask', { cutBytes: 9000, head: '{' })], /whose input \(9000 bytes\) the local store kept only in part/],
  ])('refuses %s', (_what, which, events, message) => {
    expect(planRedrive(job, which, events, states, now)).toMatch(message);
  });
  it('a state entered again moves to the end: the redrive resumes at the one entered last', () => {
    const events = [entered('Precheck', { first: true }), entered('RunTask', { r: 1 }), exited('RunTask'), entered('Precheck', { again: true })];
    expect(planRedrive(job, run, events, states, now)).toEqual({ startAt: 'Precheck', input: { again: true } });
    // Entered twice without leaving: the later input is the one it resumes with, and it stays behind a later state.
    const twice = [entered('RunTask', { n: 1 }), entered('Precheck', {}), entered('RunTask', { n: 2 })];
    expect(planRedrive(job, run, twice, states, now)).toEqual({ startAt: 'RunTask', input: { n: 2 } });
  });

  it('skips events that are no top-level state: unnamed, of a state the definition lacks, or without a state at all', () => {
    const events = [entered('RunTask', { keep: 1 }), entered('Ghost', {}), { type: 'StateEntered', state: {} }, { type: 'ExecutionFailed' }, null,
      { type: 'StateExited', state: { name: 'Ghost' } }, { type: 'TaskFailed', state: { name: 'RunTask' } }];
    expect(planRedrive(job, run, events, states, now)).toEqual({ startAt: 'RunTask', input: { keep: 1 } });
  });

  it('a stored input with no cutBytes is the input the redrive gets, whatever its kind', () => {
    for (const input of [null, 'text', 7, [1, 2], { head: '{' }]) {
      expect(planRedrive(job, run, [entered('RunTask', input)], states, now)).toEqual({ startAt: 'RunTask', input });
    }
  });

  it('refuses a run that stopped in its Fail state, and in a fan-out, saying exactly what to do instead', () => {
    expect(planRedrive(job, { ...run, error: 'JobFailed' }, [entered('Failed', {})], states, now))
      .toBe(failStateRefusal('e1', 'JobFailed', 'stepcron run sync --event <file>'));
    expect(planRedrive(job, run, [entered('FanOut', {})], states, now))
      .toBe('redrive: e1 stopped in its fan-out (FanOut): Step Functions would rerun only the items that did not finish, ' +
        'which the local runner cannot do; start a new run with those items instead (stepcron run sync --event <file> with ' +
        '{"items": [...]}), or redrive it on a stage with --aws');
    expect(planRedrive(job, run, [entered('RunTask', { cutBytes: 9000 })], states, now))
      .toBe('redrive: e1 stopped in RunTask, whose input (9000 bytes) the local store kept only in part: start a new run instead (stepcron run sync)');
  });

  it('refuses by status before anything else, on the job\'s clock, and says the disk was full when the store gave no reason', () => {
    const berlin = { name: 'sync', timezone: 'Europe/Berlin' } as Job;
    expect(planRedrive(berlin, { ...run, stoppedAt: '2026-11-10T00:00:00Z' }, [entered('RunTask', {})], states, now, { events: 2 }))
      .toBe('redrive: e1 cannot be redriven: it ended on 2026-11-10 01:00 CET (22 d ago), more than 14 days ago (Step Functions redrives runs that ended in the last 14 days); start a new run instead');
    expect(planRedrive(job, { execution: 'e1', status: 'FAILED' }, [entered('RunTask', {})], states, now, { events: 2 }))
      .toMatch(/: 2 of its events could not be stored \(the disk was full when they were written\)/);
  });
});

