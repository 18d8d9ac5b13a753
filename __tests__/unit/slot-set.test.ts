import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SlotSet, type SlotAccess } from '../../lib/core/slot-set.js';

interface Item {
  name: string;
  slot: number;
}

const slot: SlotAccess<Item> = {
  get: (item) => item.slot,
  set: (item, at) => (item.slot = at),
};

const item = (name: string): Item => ({ name, slot: -1 });
const names = (set: SlotSet<Item>): string[] => set.values().map((one) => one.name);

describe('SlotSet', () => {
  it('adds, finds and deletes like a Set, in insertion order', () => {
    const set = new SlotSet(slot);
    const [a, b, c] = [item('a'), item('b'), item('c')];
    expect(set.add(a)).toBe(true);
    expect(set.add(b)).toBe(true);
    expect(set.add(a)).toBe(false);
    set.add(c);
    expect(set.size).toBe(3);
    expect(set.delete(b)).toBe(true);
    expect(set.delete(b)).toBe(false);
    expect(set.has(b)).toBe(false);
    expect(set.has(c)).toBe(true);
    expect(names(set)).toEqual(['a', 'c']);
    expect([...set].map((one) => one.name)).toEqual(['a', 'c']);
    set.add(b);
    expect(names(set)).toEqual(['a', 'c', 'b']);
  });

  it('keeps order and membership through compaction', () => {
    const set = new SlotSet(slot);
    const items = Array.from({ length: 200 }, (_, i) => item(String(i)));
    for (const one of items) set.add(one);
    // Delete all but every seventh: the set compacts several times on the way.
    for (const [i, one] of items.entries()) if (i % 7 !== 0) set.delete(one);
    const kept = items.filter((_, i) => i % 7 === 0);
    expect(set.size).toBe(kept.length);
    expect(names(set)).toEqual(kept.map((one) => one.name));
    for (const one of items) expect(set.has(one)).toBe(kept.includes(one));
    // Positions were rewritten: deleting and adding still find the right items.
    set.delete(kept[3] as Item);
    expect(set.has(kept[4] as Item)).toBe(true);
    expect(set.size).toBe(kept.length - 1);
  });

  it('is safe to change while going through it', () => {
    const set = new SlotSet(slot);
    const items = ['a', 'b', 'c', 'd'].map(item);
    for (const one of items) set.add(one);
    const seen: string[] = [];
    for (const one of set) {
      seen.push(one.name);
      set.delete(one);
      set.add(item(`${one.name}2`));
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(names(set)).toEqual(['a2', 'b2', 'c2', 'd2']);
  });

  it('holds an item that is in another set of the same kind as well', () => {
    const first = new SlotSet(slot);
    const second = new SlotSet(slot);
    const [a, b] = [item('a'), item('b')];
    first.add(a);
    second.add(b);
    expect(second.add(a)).toBe(true);
    expect(first.has(a) && second.has(a)).toBe(true);
    expect(names(second)).toEqual(['b', 'a']);
    expect(first.delete(a)).toBe(true);
    expect(second.has(a)).toBe(true);
    expect(first.has(a)).toBe(false);
    expect(second.delete(a)).toBe(true);
    expect(second.has(a)).toBe(false);
    expect(second.size).toBe(1);
  });

  it('forgets everything on clear()', () => {
    const set = new SlotSet(slot);
    const [a, b] = [item('a'), item('b')];
    set.add(a);
    set.add(b);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has(a)).toBe(false);
    expect(a.slot).toBe(-1);
    expect(set.add(a)).toBe(true);
  });

  it('keeps no reference to a deleted item', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const set = new SlotSet(slot);
    const keep = item('keep');
    set.add(keep);
    // Fewer than the compaction threshold: the deleted items' places stay in the array. Made in a
    // function of their own, so that no variable of this one still points at the last.
    const churn = (): Array<WeakRef<Item>> =>
      Array.from({ length: 10 }, (_, i) => {
        const gone = item(`gone-${i}`);
        set.add(gone);
        set.delete(gone);
        return new WeakRef(gone);
      });
    const refs = churn();
    // A WeakRef keeps its target until the current job ends.
    await new Promise(setImmediate);
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    expect(set.has(keep)).toBe(true);
  });
});
