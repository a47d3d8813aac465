// The cost of stepcron's engine path over the bare local engine, on a fan-out of n items with an instant task, each
// side in a fresh `node` (bench/child.ts, bench/fanout.ts) so each peak RSS is its own:
//   stepcron  execute() on the compiled job, its items routed by the real precheck: the inline Map up to the job's
//             inline limit (2,075 items with no retries), the Distributed Map (a child execution per item) above it,
//             as AWS's 25,000-event history requires; limits checked, no events kept
//   raw       aws-local-stepfunctions' StateMachine running the same definition's inline Map over the same items with
//             the same handlers, its event log drained (the least any caller of the library does); it has no history
//             limit, so it runs 10,000 items inline
// Each child warms up on 100 items first; time is the measured run's; RSS is the child's peak over its whole life.
import type { FanOutResult } from './fanout';
import { runIsolated } from './isolate';

export interface EngineFanOut {
  stepcronMs: number;
  stepcronRssMb: number;
  rawMs: number;
  rawRssMb: number;
  /** stepcron's transitions and largest history (AWS events) for the run. */
  transitions: number;
  events: number;
  stepcron: FanOutResult;
  raw: FanOutResult;
}

export function measureEngineFanOut(n: number): EngineFanOut {
  const ours = runIsolated<FanOutResult>('engine-stepcron', n);
  const raw = runIsolated<FanOutResult>('engine-raw', n);
  return {
    stepcronMs: Math.round(ours.result.ms),
    stepcronRssMb: Math.round(ours.maxRssMb),
    rawMs: Math.round(raw.result.ms),
    rawRssMb: Math.round(raw.maxRssMb),
    transitions: ours.result.transitions ?? 0,
    events: ours.result.historyEvents ?? 0,
    stepcron: ours.result,
    raw: raw.result,
  };
}
