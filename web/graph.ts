// A state machine definition (ASL) laid out for drawing: every state a box, placed by dagre (top to bottom), edges for
// Next, Choices and Default, Catch (with its error names); Retry as a badge on its state. A Map's ItemProcessor and a
// Parallel's branches are laid out on their own first, and their box in the parent graph is made that big: nested
// graphs drawn inside their state, with no compound layout (dagre's is slow and fragile). Laid out once per definition
// (the page memoises by the server's definition id): the fan-out job's ~150 states take ~100-200 ms.
import dagre from '@dagrejs/dagre';

export interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
  ItemProcessor?: Asl & { ProcessorConfig?: { Mode?: string } };
  Iterator?: Asl;
  Branches?: Asl[];
}

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface Point { x: number; y: number }

export interface GraphNode {
  name: string;
  type: string;
  /** Top-left corner and size, in the enclosing graph's coordinates. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Retry: attempts at most (the largest MaxAttempts; ASL's default 3) and the errors retried. */
  retry?: { max: number; errors: string[] };
  /** A Map's items (or a Parallel's branches), drawn inside this box, offset by (x, y + HEADER). */
  inner?: Graph[];
  /** `inline` or `distributed`, for a Map. */
  mode?: string;
  /** A Map or Parallel drawn as one box (its inner states not shown). */
  collapsed?: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  label?: string;
  points: Point[];
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
  /** Where this graph sits inside its parent's box (0, 0 at the top). */
  dx: number;
  dy: number;
}

const NODE_H = 30;
const CHAR_W = 7;
const PAD = 14;
/** The title bar of a Map or Parallel box, above its inner graph. */
export const HEADER = 24;
/** A start marker above the top graph's first state. */
export const START = '\u0000start';

/**
 * The definition's layout, with a start marker: computed once per definition id and set of collapsed states (a Map
 * drawn as one box: the fan-out job has five item routes of ~25 states each, and a run takes one).
 */
const laid = new Map<string, Graph>();
export function layoutOnce(id: string, asl: Asl, collapsed: ReadonlySet<string> = new Set()): Graph {
  const key = `${id}\u0000${[...collapsed].sort().join('\u0000')}`;
  let g = laid.get(key);
  if (!g) {
    g = layoutGraph(asl, true, collapsed);
    // One or two definitions are looked at in a session, each with a collapsed set or two; keep a few.
    if (laid.size > 8) laid.delete(laid.keys().next().value!);
    laid.set(key, g);
  }
  return g;
}

/** States whose inner graph is this big or more are collapsed when the run never entered them. */
export const COLLAPSE_ABOVE = 8;

/** The Maps and Parallels with more than COLLAPSE_ABOVE inner states (nested ones included). */
export function bigContainers(asl: Asl): string[] {
  const found: string[] = [];
  const count = (d: Asl): number => Object.values(d.States).reduce((n, s) => n + 1 + inner(s).reduce((m, b) => m + count(b), 0), 0);
  const walk = (d: Asl) => {
    for (const [name, s] of Object.entries(d.States)) {
      const graphs = inner(s);
      if (graphs.reduce((m, b) => m + count(b), 0) > COLLAPSE_ABOVE) found.push(name);
      graphs.forEach(walk);
    }
  };
  walk(asl);
  return found;
}

const inner = (s: AslState): Asl[] => {
  const processor = s.ItemProcessor ?? s.Iterator;
  return processor ? [processor] : (s.Branches ?? []);
};

export function layoutGraph(asl: Asl, withStart = false, collapsed: ReadonlySet<string> = new Set()): Graph {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 34, edgesep: 8, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const nodes: GraphNode[] = [];
  for (const [name, s] of Object.entries(asl.States)) {
    const mode = s.Type === 'Map' ? (s.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED' ? 'distributed' : 'inline') : undefined;
    // The box fits its title (a Map's says which kind), and the Retry badge beside it.
    const title = mode ? `${name} · ${mode} map` : name;
    const node: GraphNode = { name, type: s.Type, x: 0, y: 0, w: Math.max(90, title.length * CHAR_W + 2 * PAD + (s.Retry ? 34 : 0)), h: NODE_H };
    if (mode) node.mode = mode;
    if (s.Retry?.length) node.retry = { max: Math.max(...s.Retry.map((r) => r.MaxAttempts ?? 3)), errors: s.Retry.flatMap((r) => r.ErrorEquals) };
    const branches = inner(s);
    if (collapsed.has(name)) node.collapsed = branches.length > 0;
    else if (branches.length) {
      // Inner graphs side by side (a Parallel's branches), under the title bar.
      const graphs = branches.map((b) => layoutGraph(b, false, collapsed));
      let x = PAD;
      for (const sub of graphs) {
        sub.dx = x;
        sub.dy = HEADER;
        x += sub.width + PAD;
      }
      node.inner = graphs;
      node.w = Math.max(node.w, x);
      node.h = HEADER + Math.max(...graphs.map((sub) => sub.height)) + PAD;
    }
    nodes.push(node);
    g.setNode(name, { width: node.w, height: node.h });
  }
  if (withStart) g.setNode(START, { width: 14, height: 14 });
  const edges: Array<Omit<GraphEdge, 'points'>> = [];
  const add = (from: string, to: string, kind: EdgeKind, label?: string) => {
    if (!g.hasNode(to)) return;
    const key = `${edges.length}`;
    edges.push({ from, to, kind, ...(label !== undefined && { label }) });
    // A catch edge leads away from the main line: it weighs less, so the happy path stays straight.
    g.setEdge(from, to, { weight: kind === 'catch' ? 1 : 2, minlen: 1 }, key);
  };
  if (withStart) add(START, asl.StartAt, 'next');
  for (const [name, s] of Object.entries(asl.States)) {
    if (s.Next) add(name, s.Next, 'next');
    for (const c of s.Choices ?? []) add(name, c.Next, 'choice');
    if (s.Default) add(name, s.Default, 'default', 'default');
    for (const c of s.Catch ?? []) add(name, c.Next, 'catch', c.ErrorEquals.join(' | '));
  }
  dagre.layout(g);
  for (const node of nodes) {
    const at = g.node(node.name);
    node.x = at.x! - node.w / 2;
    node.y = at.y! - node.h / 2;
  }
  if (withStart) {
    const at = g.node(START);
    nodes.unshift({ name: START, type: 'Start', x: at.x! - 7, y: at.y! - 7, w: 14, h: 14 });
  }
  const laidEdges: GraphEdge[] = edges.map((e, i) => ({ ...e, points: (g.edge(e.from, e.to, String(i)) as { points?: Point[] }).points ?? [] }));
  // dagre's size leaves out how far an edge bends past the outermost box.
  const size = g.graph() as { width?: number; height?: number };
  const right = Math.max(size.width ?? 0, ...laidEdges.flatMap((e) => e.points.map((p) => p.x + 8)));
  const bottom = Math.max(size.height ?? 0, ...laidEdges.flatMap((e) => e.points.map((p) => p.y + 8)));
  return { nodes, edges: laidEdges, width: right, height: bottom, dx: 0, dy: 0 };
}

/** Every state of a laid-out graph, nested ones included (tests, and the page's lookups). */
export function allNodes(graph: Graph): GraphNode[] {
  return graph.nodes.flatMap((n) => [n, ...(n.inner ?? []).flatMap(allNodes)]);
}
