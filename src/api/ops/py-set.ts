/**
 * The order CPython (3.11) iterates a set of small non-negative integers
 * in. placement joins such a set into some error texts (the resource
 * classes of a refused allocation), so the text depends on it: a set's
 * table is a hash table with linear probing, and integers hash to
 * themselves, so the order is the table's slot order, not insertion order.
 */

const MIN_SIZE = 8;
const LINEAR_PROBES = 9;
const PERTURB_SHIFT = 5;

/** setobject.c's probe: the slot `hash` lands in, given the slots taken. */
function freeSlot(table: (number | undefined)[], mask: number, hash: number): number {
  let perturb = hash;
  let i = hash & mask;
  for (;;) {
    const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
    for (let j = 0; j <= probes; j++) {
      if (table[i + j] === undefined) return i + j;
    }
    perturb = Math.floor(perturb / 2 ** PERTURB_SHIFT);
    i = (i * 5 + 1 + perturb) & mask;
  }
}

/** `list(set(values))` in CPython, for integers in [0, 2^31). */
export function pySetOrder(values: Iterable<number>): number[] {
  let mask = MIN_SIZE - 1;
  let table: (number | undefined)[] = new Array<number | undefined>(MIN_SIZE);
  let used = 0;
  const seen = new Set<number>();
  for (const v of values) {
    if (seen.has(v)) continue;
    seen.add(v);
    table[freeSlot(table, mask, v)] = v;
    used++;
    if (used * 5 < mask * 3) continue;
    // set_table_resize(so, used * 4): the smallest power of two above it.
    let size = MIN_SIZE;
    while (size <= used * 4) size *= 2;
    const old = table;
    mask = size - 1;
    table = new Array<number | undefined>(size);
    for (const entry of old) {
      if (entry !== undefined) table[freeSlot(table, mask, entry)] = entry;
    }
  }
  return table.filter((v): v is number => v !== undefined);
}
