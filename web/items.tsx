// A fan-out's items in one grid by outcome: failed first (then timed out, running, succeeded), each a small square
// linking to its output (#/run/<job>/<execution>/item/<index>). 10,000 items are 10,000 plain anchors with no child
// nodes and one class each: rendered in one pass (~0.1-0.3 s in chromium), no per-item component or handler.
import { useMemo } from 'preact/hooks';
import type { ItemRow } from '../cli/ui/run-status';

const ORDER: Record<ItemRow['s'], number> = { FAILED: 0, TIMED_OUT: 1, RUNNING: 2, SUCCEEDED: 3 };

/** Failed first, then timed out, running, succeeded; by index within each. */
export function itemOrder(items: ItemRow[]): ItemRow[] {
  return [...items].sort((a, b) => ORDER[a.s] - ORDER[b.s] || a.i - b.i);
}

export function ItemGrid({ items, base, selected }: { items: ItemRow[]; base: string; selected?: number | undefined }) {
  const sorted = useMemo(() => itemOrder(items), [items]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const it of items) c[it.s] = (c[it.s] ?? 0) + 1;
    return c;
  }, [items]);
  return (
    <section class="items">
      <h3>Items <small class="counts">{items.length.toLocaleString('en-US')} · {(['FAILED', 'TIMED_OUT', 'RUNNING', 'SUCCEEDED'] as const)
        .filter((s) => counts[s]).map((s) => <span key={s} class={`ic i-${s}`}>{counts[s]!.toLocaleString('en-US')} {s.toLowerCase().replace('_', ' ')}</span>)}</small></h3>
      <div class="igrid">
        {sorted.map((it) => {
          const what = `#${it.i}${it.l !== undefined ? ` ${it.l}` : ''} ${it.s}${it.x !== undefined && it.x !== null ? ` exit ${it.x}` : ''}${it.e ? ` ${it.e}` : ''}`;
          // biome-ignore lint/a11y/useAnchorContent: aria-label names each square; 10,000 text nodes would slow the grid down
          return <a key={it.i} href={`${base}/item/${it.i}`} class={`i-${it.s}${selected === it.i ? ' on' : ''}`} data-index={it.i} title={what} aria-label={what} />;
        })}
      </div>
    </section>
  );
}
