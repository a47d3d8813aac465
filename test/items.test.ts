// workflows/items.ts: how a fan-out item is named to people (local output lines, failure notifications).
import { itemId } from '../workflows/items';

describe('itemId', () => {
  it.each([
    ['a string as it is', 'tenant-a', 'tenant-a'],
    ['a number as it is', 7, '7'],
    ['an object by its id first', { id: 'x', name: 'n', key: 'k', tenant: 't' }, 'x'],
    ['then its name', { name: 3, key: 'k' }, '3'],
    ['then its key', { key: 'k', tenant: 't' }, 'k'],
    ['then its tenant', { tenant: 't' }, 't'],
    ['skipping fields that are neither text nor a number', { id: {}, name: true, key: 'k2' }, 'k2'],
    ['an object without them as JSON', { other: 1 }, '{"other":1}'],
    ['a list as JSON, never by an element', [1, 2], '[1,2]'],
    ['null as null', null, 'null'],
    ['nothing as null', undefined, 'null'],
    ['40 characters whole', 'x'.repeat(40), 'x'.repeat(40)],
    ['41 cut to 39 and an ellipsis', 'x'.repeat(41), `${'x'.repeat(39)}…`],
    ['a long id cut too', { id: 'y'.repeat(50) }, `${'y'.repeat(39)}…`],
  ])('%s', (_rule, item, expected) => {
    expect(itemId(item)).toBe(expected);
  });
});
