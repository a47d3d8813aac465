// The Run page against a stage (`stepcron ui --aws`): it draws the definition the run ran (the state machine version
// it started on: DescribeStateMachineForExecution), not the catalog as it is now; where that cannot be read (not
// allowed), the catalog's compiled definition, saying so. SDK clients mocked; fake credentials, loopback only.
import { DescribeStateMachineForExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsOps } from '../cli/ops/aws';
import type { OpsPort } from '../cli/ops/types';
import { runApi } from '../cli/ui/run-api';
import { parseCatalog } from '../workflows/catalog';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';
process.env.AWS_REGION = 'eu-west-1';

const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
const [job] = parseCatalog('jobs:\n  ok:\n    description: d\n    schedule: rate(1 hour)\n    image: i\n    command: [x]\n', { stage: 'prod' });
const deployed = { StartAt: 'Old', States: { Old: { Type: 'Pass', End: true } } };

beforeEach(() => {
  sfn.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/me' });
});

it("the port reads the definition of the run's own state machine version", async () => {
  sfn.on(DescribeStateMachineForExecutionCommand).resolves({
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepcron-prod-ok', name: 'stepcron-prod-ok',
    definition: JSON.stringify(deployed), roleArn: 'arn:aws:iam::123456789012:role/r', updateDate: new Date(0),
  });
  const ops = awsOps({ stage: 'prod' });
  try {
    expect(await ops.definition!(job!, 'r1')).toEqual(deployed);
    expect(sfn.commandCalls(DescribeStateMachineForExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:stepcron-prod-ok:r1',
    });
  } finally {
    ops.close();
  }
});

describe('the page draws', () => {
  const port = (definition: OpsPort['definition']): OpsPort => ({
    where: 'stage prod on AWS', stage: 'prod', who: async () => 'me', schedule: async () => ({ enabled: true }),
    runs: async () => [{ job: 'ok', execution: 'r1', status: 'SUCCEEDED', startedAt: '2026-12-01T03:00:00Z' }],
    start: async () => ({ execution: 'x' }), claimedBy: async () => undefined, pause: async (_j, p) => p, resume: async () => undefined,
    logs: async (_j, execution) => ({ execution: execution! }), redrive: async () => ({ execution: 'x' }),
    events: async () => [{ id: 1, type: 'ExecutionStarted', timestamp: new Date(0) }, { id: 2, previousEventId: 1, type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Old' } },
      { id: 3, previousEventId: 2, type: 'PassStateExited', stateExitedEventDetails: { name: 'Old' } }],
    ...(definition && { definition }),
  });
  const page = async (ops: OpsPort) => (await runApi({ ops, mode: 'aws', catalog: 'jobs.yml', jobs: async () => [job!] })
    .page('ok', 'r1', new URLSearchParams())).body as { definition: { StartAt: string }; definitionFrom: string; states: Record<string, { status: string }> };

  it('the definition the run ran, where the stage gives it', async () => {
    const body = await page(port(async () => deployed));
    expect(body.definition).toEqual(deployed);
    expect(body.definitionFrom).toMatch(/DescribeStateMachineForExecution/);
    expect(body.states).toEqual({ Old: expect.objectContaining({ status: 'succeeded' }) });
  });

  it("the catalog's compiled definition where the stage refuses it", async () => {
    const { OpsError } = await import('../cli/ops/types');
    const body = await page(port(async () => {
      throw new OpsError('AWS denied states:DescribeStateMachineForExecution');
    }));
    expect(body.definition.StartAt).toBe('Precheck');
    expect(body.definitionFrom).toMatch(/^the catalog, compiled for stage prod/);
  });
});
