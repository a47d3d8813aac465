// The Run page's drawing (web/graph.ts), without a browser: every state of a definition becomes a box (a Map's item
// states and a Parallel's branches inside their state's box), every Next, Choice, Default and Catch an edge (a Catch
// labelled with its errors), a Retry a badge with its most attempts; a big Map the run never entered can be drawn as one
// box. The largest sample definition (the fan-out job, ~3,400 lines) is laid out in well under a second, once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Asl, allNodes, bigContainers, HEADER, layoutGraph, layoutOnce, START } from '../web/graph';
import { parseCatalog } from '../workflows/catalog';
import { compile } from '../workflows/compile';
import { deployInfra, toStageParams } from '../workflows/resources';

const names = (d: Asl): string[] => Object.entries(d.States).flatMap(([n, s]) => [n, ...[s.ItemProcessor ?? s.Iterator, ...(s.Branches ?? [])].filter((x): x is Asl => Boolean(x)).flatMap(names)]);

const definition: Asl = {
  StartAt: 'Pick',
  States: {
    Pick: { Type: 'Choice', Choices: [{ Next: 'Work' }], Default: 'Both' },
    Work: { Type: 'Task', Next: 'Done', Retry: [{ ErrorEquals: ['A'], MaxAttempts: 2 }, { ErrorEquals: ['B'], MaxAttempts: 6 }], Catch: [{ ErrorEquals: ['States.Timeout', 'Oops'], Next: 'Broke' }] },
    Both: { Type: 'Parallel', Next: 'Each', Branches: [{ StartAt: 'L', States: { L: { Type: 'Pass', End: true } } }, { StartAt: 'R', States: { R: { Type: 'Wait', End: true } } }] },
    Each: { Type: 'Map', Next: 'Done', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'I', States: { I: { Type: 'Task', End: true } } } },
    Done: { Type: 'Succeed' },
    Broke: { Type: 'Fail' },
  },
};

it('every state a box, nested ones inside their state; every transition an edge of its kind; Retry as a badge', () => {
  const g = layoutGraph(definition, true);
  expect(allNodes(g).map((n) => n.name).sort()).toEqual([START, ...names(definition)].sort());
  expect(g.edges.map((e) => [e.from, e.to, e.kind, e.label ?? ''])).toEqual([
    [START, 'Pick', 'next', ''], ['Pick', 'Work', 'choice', ''], ['Pick', 'Both', 'default', 'default'], ['Work', 'Done', 'next', ''],
    ['Work', 'Broke', 'catch', 'States.Timeout | Oops'], ['Both', 'Each', 'next', ''], ['Each', 'Done', 'next', ''],
  ]);
  for (const e of g.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  const node = (n: string) => allNodes(g).find((x) => x.name === n)!;
  expect(node('Work').retry).toEqual({ max: 6, errors: ['A', 'B'] });
  // The Parallel's two branches side by side in its box, under its title; the Map says it is distributed.
  const both = node('Both');
  expect(both.inner).toHaveLength(2);
  expect(both.inner![0]!.dy).toBe(HEADER);
  expect(both.inner![1]!.dx).toBeGreaterThan(both.inner![0]!.dx + both.inner![0]!.width - 1);
  expect(both.w).toBeGreaterThanOrEqual(both.inner![1]!.dx + both.inner![1]!.width);
  expect(node('Each').mode).toBe('distributed');
  // Boxes do not overlap, and all fit in the drawing.
  const top = g.nodes.filter((n) => n.name !== START);
  for (const a of top) {
    expect(a.x + a.w).toBeLessThanOrEqual(g.width);
    expect(a.y + a.h).toBeLessThanOrEqual(g.height);
    for (const b of top) if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
  }
});

it('a collapsed Map is one box without its item states', () => {
  const g = layoutGraph(definition, true, new Set(['Each']));
  expect(allNodes(g).find((n) => n.name === 'Each')).toMatchObject({ collapsed: true });
  expect(allNodes(g).some((n) => n.name === 'I')).toBe(false);
});

it("the fan-out sample job's definition: laid out in well under a second, once per definition and collapsed set", () => {
  const job = parseCatalog(readFileSync(join(__dirname, '..', 'workflows', 'jobs.yml'), 'utf8'), { stage: 'prod' }).find((j) => j.fanOut)!;
  const asl = compile(job, deployInfra(job, toStageParams('prod', { subnets: 'subnet-0a1b2c3d4e5f60001', securityGroups: 'sg-0a1b2c3d4e5f60001' }))) as unknown as Asl;
  expect(JSON.stringify(asl, null, 2).split('\n').length).toBeGreaterThan(2500);
  // The four item routes the run did not take (inline and Distributed Maps of 25+ states each) can be collapsed.
  expect(bigContainers(asl).sort()).toEqual(['FanOut', 'FanOutCsv', 'FanOutDistributed', 'FanOutJson', 'FanOutJsonl']);
  const started = performance.now();
  const g = layoutOnce('fan-out', asl);
  const took = performance.now() - started;
  process.stderr.write(`ui-run-graph.test: the fan-out job's ${names(asl).length} states laid out in ${took.toFixed(0)} ms\n`);
  expect(allNodes(g).filter((n) => n.name !== START)).toHaveLength(names(asl).length);
  // Loose: it measured 130-330 ms on a shared core; a layout per poll or per item would be many times that.
  expect(took).toBeLessThan(3000);
  expect(layoutOnce('fan-out', asl)).toBe(g);
  expect(layoutOnce('fan-out', asl, new Set(['FanOutCsv']))).not.toBe(g);
});
