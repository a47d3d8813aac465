// A run (#/run/<job>/<execution>[/item/<index>]): the job's state machine drawn from its real definition, each state
// coloured by what happened in this run (cli/ui/run-status.ts), the transitions it took (a caught failure's path in
// red), the event list, the job's output followed live, and for a fan-out every item by outcome. The server sends the
// definition once (the page keeps it by id) and the output from the line the page has.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ItemRow, ListedEvent, StateRun } from '../cli/ui/run-status';
import { get, type RunRow } from './api';
import { type Asl, bigContainers, type Graph, type GraphEdge, type GraphNode, HEADER, layoutOnce, START } from './graph';
import { ItemGrid } from './items';
import { clock, duration } from './time';

interface RunView {
  job: string;
  execution: string;
  run?: RunRow;
  running: boolean;
  mode: 'local' | 'aws';
  definitionId: string;
  definitionFrom: string;
  definition?: Asl;
  states: Record<string, StateRun>;
  taken: string[];
  events: ListedEvent[];
  eventCount: number;
  output: Array<{ label: string; at?: string; text: string }>;
  outputFrom: number;
  outputTotal: number;
  outputNote?: string;
  items?: ItemRow[];
  itemsNote?: string;
}

/** Definitions the page has, by id: sent once per session, laid out once (web/graph.ts memoises the layout). */
const definitions = new Map<string, Asl>();

export function RunPage({ job, execution, item, tick }: { job: string; execution: string; item?: string | undefined; tick: number }) {
  const [view, setView] = useState<RunView>();
  const [lines, setLines] = useState<RunView['output']>([]);
  const [error, setError] = useState<string>();
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const key = `${job}/${execution}`;
  const have = useRef({ key: '', lines: 0, def: '' });
  // While the run goes on, its states and output are asked again every 2 s (the store's version also ticks the page).
  const [poll, setPoll] = useState(0);

  useEffect(() => {
    let stale = false;
    if (have.current.key !== key) {
      have.current = { key, lines: 0, def: '' };
      setLines([]);
      // Another run: the one shown before is not this one's.
      setView(undefined);
    }
    const q = new URLSearchParams({ from: String(have.current.lines), ...(have.current.def && { def: have.current.def }) });
    get<RunView>(`/api/run/${encodeURIComponent(job)}/${encodeURIComponent(execution)}?${q}`).then((v) => {
      if (stale) return;
      if (v.definition) definitions.set(v.definitionId, v.definition);
      have.current.def = v.definitionId;
      if (v.outputFrom === have.current.lines && v.output.length) {
        have.current.lines += v.output.length;
        setLines((old) => (v.outputFrom === 0 ? v.output : [...old, ...v.output]));
      } else if (v.outputFrom === 0 && v.outputFrom !== have.current.lines) {
        // The output got shorter (the store dropped its oldest lines): shown again from its start.
        have.current.lines = v.output.length;
        setLines(v.output);
      }
      // More than one answer holds: the rest is asked for at once.
      if (v.outputFrom + v.output.length < v.outputTotal) setPoll((p) => p + 1);
      setView(v);
      setError(undefined);
    }, (e: Error) => !stale && setError(e.message));
    return () => {
      stale = true;
    };
  }, [key, tick, poll]);

  useEffect(() => {
    if (!view?.running) return undefined;
    const t = window.setTimeout(() => setPoll((p) => p + 1), 2000);
    return () => clearTimeout(t);
  }, [view]);

  if (error && !view) return <p class="error">{error}</p>;
  if (!view) return <p class="loading">loading {execution}…</p>;
  const asl = definitions.get(view.definitionId);
  const r = view.run;
  const base = `#/run/${encodeURIComponent(job)}/${encodeURIComponent(execution)}`;
  const selected = item === undefined ? undefined : Number(item);
  const picked = selected === undefined ? undefined : view.items?.find((it) => it.i === selected);
  return (
    <section class="run">
      <h2><a href={`#/job/${encodeURIComponent(job)}`}>{job}</a> / {execution} {r && <b class={`pill s-${r.status}`}>{r.status}</b>}</h2>
      {r && (
        <p>started {clock(r.startedAt)} · took {duration(r.durationMs)}{r.exitCode !== undefined && r.exitCode !== null && ` · exit ${r.exitCode}`}
          {(r.reason ?? r.error) && ` · ${r.reason ?? r.error}`}{r.link && <> · <a href={r.link} rel="noreferrer" target="_blank">AWS console</a></>}</p>
      )}
      {asl && <Machine asl={asl} id={view.definitionId} view={view} expanded={expanded} setExpanded={setExpanded} />}
      <div class="run-cols">
        <div>
          <h3>Events <small class="counts">{view.eventCount > view.events.length ? `first ${view.events.length.toLocaleString('en-US')} of ${view.eventCount.toLocaleString('en-US')}` : view.eventCount}</small></h3>
          <Events events={view.events} />
        </div>
        <div>
          <h3 class="output-head">Output{picked && <> of item #{picked.i}{picked.l !== undefined && ` [${picked.l}]`} <b class={`pill s-${picked.s}`}>{picked.s}</b>
            {picked.x !== undefined && picked.x !== null && ` exit ${picked.x}`} · <a href={base}>all output</a></>}
            {view.running && <small class="counts"> following…</small>}</h3>
          {view.outputNote && <p class="note">{view.outputNote}</p>}
          <Output lines={lines} item={picked} />
        </div>
      </div>
      {view.items && <ItemGrid items={view.items} base={base} selected={selected} />}
      {view.itemsNote && <p class="note items-note">{view.itemsNote}</p>}
    </section>
  );
}

/** The job's output; for an item, the lines the runner labelled with it (`[label] ` and `[label] (attempt n) `). */
function Output({ lines, item }: { lines: RunView['output']; item?: ItemRow | undefined }) {
  const ref = useRef<HTMLPreElement>(null);
  const shown = useMemo(() => {
    if (!item) return lines;
    // Local lines carry the item's label in their text; a stage's, in their label (`[<item>] attempt n`).
    const prefix = item.o ?? `[${item.l ?? item.i}] `;
    return lines.filter((l) => l.text.startsWith(prefix) || l.label.startsWith(prefix));
  }, [lines, item]);
  // Followed: kept scrolled to the end unless the reader scrolled up.
  useEffect(() => {
    const el = ref.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [shown]);
  return <pre class="output" ref={ref}>{shown.length ? shown.map((l) => (l.label === 'stderr' ? `! ${l.text}` : l.text)).join('\n') : '(no output)'}</pre>;
}

/** Event rows drawn at first: a fan-out's list holds thousands, and the page should draw at once. */
const EVENT_ROWS = 400;

function Events({ events }: { events: ListedEvent[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? events : events.slice(0, EVENT_ROWS);
  return (
    <div class="evlist">
      <table>
        <thead><tr><th>+ms</th><th>event</th><th>state</th><th>item</th><th>error</th></tr></thead>
        <tbody>
          {shown.map((e, i) => (
            <tr key={i} class={e.e ? 'bad' : ''}>
              <td class="num">{e.t}</td><td>{e.y}</td><td>{e.n ?? ''}</td><td>{e.i ?? ''}</td>
              <td class="why" title={e.c}>{e.e ?? ''}{e.c ? `: ${e.c}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length < events.length && <button type="button" class="more" onClick={() => setAll(true)}>show all {events.length.toLocaleString('en-US')} events</button>}
    </div>
  );
}

const LEGEND: Array<[string, string]> = [['succeeded', 'succeeded'], ['retried', 'retried'], ['caught', 'failed, caught'], ['failed', 'failed'], ['running', 'running'], ['notreached', 'not reached']];

/** The state machine as SVG: laid out once per definition and collapsed set; the run's outcomes only change classes. */
function Machine({ asl, id, view, expanded, setExpanded }: { asl: Asl; id: string; view: RunView; expanded: Set<string>; setExpanded: (s: Set<string>) => void }) {
  const [fit, setFit] = useState(false);
  // Big Maps the run never entered are drawn collapsed (the fan-out job's four other item routes), unless opened.
  const big = useMemo(() => bigContainers(asl), [asl]);
  const collapsed = useMemo(() => new Set(big.filter((n) => view.states[n]?.status === 'notreached' && !expanded.has(n))), [big, view.states, expanded]);
  const graph = useMemo(() => layoutOnce(id, asl, collapsed), [id, asl, collapsed]);
  const taken = useMemo(() => new Set(view.taken), [view.taken]);
  // The first time a run is shown, its failure (or the furthest state it reached) is scrolled into view: the fan-out
  // job's graph is several screens wide.
  const box = useRef<HTMLDivElement>(null);
  const shown = useRef('');
  useEffect(() => {
    const el = box.current;
    if (!el || shown.current === view.execution) return;
    shown.current = view.execution;
    // Where it failed, else where a failure was caught, else where it is (or got to).
    const target = el.querySelector<SVGGElement>('g.node.st-failed') ?? el.querySelector<SVGGElement>('g.node.st-caught')
      ?? [...el.querySelectorAll<SVGGElement>('g.node.st-running, g.node.st-succeeded')].at(-1);
    if (!target) return;
    const at = target.getBoundingClientRect();
    const frame = el.getBoundingClientRect();
    el.scrollLeft += at.left - frame.left - frame.width / 2 + at.width / 2;
    el.scrollTop += at.top - frame.top - frame.height / 3;
  }, [graph, view.execution]);
  const toggle = (name: string) => {
    const next = new Set(expanded);
    if (collapsed.has(name)) next.add(name);
    else next.delete(name);
    setExpanded(next);
  };
  return (
    <div class="machine">
      <div class="toolbar">
        <span class="legend">{LEGEND.map(([k, text]) => <span key={k} class={`lg st-${k}`}>{text}</span>)}</span>
        <span class="note">from {view.definitionFrom}</span>
        {collapsed.size > 0 && <button type="button" class="expand" onClick={() => setExpanded(new Set(big))}>expand all ({collapsed.size} collapsed)</button>}
        <button type="button" onClick={() => setFit(!fit)}>{fit ? 'actual size' : 'fit'}</button>
      </div>
      <div class="svgbox" ref={box}>
        <svg class="sm" width={fit ? '100%' : graph.width} height={fit ? undefined : graph.height} viewBox={`0 0 ${graph.width} ${graph.height}`} role="img"
          aria-label={`state machine of ${view.job}`}>
          <defs>
            {['next', 'taken', 'catch', 'caught'].map((k) => (
              <marker key={k} id={`arrow-${k}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" class={`arrowhead a-${k}`} />
              </marker>
            ))}
          </defs>
          <Layer graph={graph} view={view} taken={taken} toggle={toggle} />
        </svg>
      </div>
    </div>
  );
}

function Layer({ graph, view, taken, toggle }: { graph: Graph; view: RunView; taken: Set<string>; toggle: (name: string) => void }) {
  return (
    <g transform={graph.dx || graph.dy ? `translate(${graph.dx},${graph.dy})` : undefined}>
      {graph.edges.map((e, i) => <Edge key={i} edge={e} taken={wasTaken(e, taken, view.states)} />)}
      {graph.nodes.map((n) => <Node key={n.name} node={n} run={view.states[n.name]} view={view} taken={taken} toggle={toggle} />)}
    </g>
  );
}

/** A transition the run took: a Catch only where its state's failure was caught (a Next to the same state is not one). */
function wasTaken(e: GraphEdge, taken: Set<string>, states: RunView['states']): boolean {
  if (e.from === START) return states[e.to] !== undefined && states[e.to]!.status !== 'notreached';
  return taken.has(`${e.from}\u0000${e.to}`) && (e.kind !== 'catch' || (states[e.from]?.caught ?? 0) > 0);
}

function Edge({ edge, taken }: { edge: GraphEdge; taken: boolean }) {
  const p = edge.points;
  if (p.length < 2) return null;
  let d = `M${p[0]!.x},${p[0]!.y}`;
  // Through dagre's control points, smoothed: quadratic segments between midpoints.
  for (let i = 1; i < p.length - 1; i++) {
    const mx = (p[i]!.x + p[i + 1]!.x) / 2;
    const my = (p[i]!.y + p[i + 1]!.y) / 2;
    d += ` Q${p[i]!.x},${p[i]!.y} ${mx},${my}`;
  }
  d += ` L${p.at(-1)!.x},${p.at(-1)!.y}`;
  const catchTaken = taken && edge.kind === 'catch';
  const mid = p[Math.floor(p.length / 2)]!;
  return (
    <g class={`edge e-${edge.kind}${taken ? ' taken' : ''}`} data-from={edge.from} data-to={edge.to}>
      <path d={d} marker-end={`url(#arrow-${catchTaken ? 'caught' : taken ? 'taken' : edge.kind === 'catch' ? 'catch' : 'next'})`} />
      {edge.kind === 'catch' && edge.label && <text x={mid.x + 4} y={mid.y - 3} class="elabel">{edge.label.length > 40 ? `${edge.label.slice(0, 39)}…` : edge.label}</text>}
    </g>
  );
}

function Node({ node, run, view, taken, toggle }: { node: GraphNode; run: StateRun | undefined; view: RunView; taken: Set<string>; toggle: (name: string) => void }) {
  if (node.name === START) return <circle class="start" cx={node.x + node.w / 2} cy={node.y + node.h / 2} r={6} />;
  const status = run?.status ?? 'notreached';
  const title = [`${node.name} (${node.type}${node.mode ? `, ${node.mode}` : ''}): ${status}`,
    run && run.entered > 0 && `entered ${run.entered}×`, run?.retried && `retried ${run.retried}×`, run?.caught && `caught ${run.caught}×`,
    run?.failed && `failed ${run.failed}×`, run?.error && `error ${run.error}`,
    node.retry && `Retry: up to ${node.retry.max} attempts on ${node.retry.errors.join(', ')}`].filter(Boolean).join('\n');
  const container = Boolean(node.inner || node.collapsed);
  return (
    <g class={`node st-${status} t-${node.type}${container ? ' container' : ''}`} data-state={node.name} transform={`translate(${node.x},${node.y})`}>
      <title>{title}</title>
      <rect width={node.w} height={node.h} rx={container ? 6 : node.type === 'Choice' ? 14 : 4} />
      <text x={container ? 10 : node.w / 2} y={container ? 16 : node.h / 2 + 4} class={container ? 'head' : 'label'}>
        {node.name}{node.mode && ` · ${node.mode} map`}
      </text>
      {node.retry && (
        <g class={`retry${run?.retried ? ' used' : ''}`} transform={`translate(${node.w - 30},${container ? 4 : 7})`}>
          <rect width={26} height={16} rx={8} />
          <text x={13} y={12}>↻{node.retry.max}</text>
        </g>
      )}
      {run && run.entered > 1 && !container && <text class="times" x={2} y={node.h + 10}>×{run.entered}</text>}
      {node.collapsed && <text class="toggle" x={node.w - 10} y={node.h - 8}>+</text>}
      {node.inner?.map((sub, i) => <Layer key={i} graph={{ ...sub, dy: sub.dy || HEADER }} view={view} taken={taken} toggle={toggle} />)}
    </g>
  );
}
