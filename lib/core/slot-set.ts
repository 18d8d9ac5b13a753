/** Where an item sits in a {@link SlotSet}: a number field of the item's own, -1 when in none. */
export interface SlotAccess<T> {
  get(item: T): number;
  set(item: T, slot: number): void;
}

/** For items whose place is a field named `slot` (-1 until added). */
export const slotField: SlotAccess<{ slot: number }> = {
  get: (item) => item.slot,
  set: (item, slot) => (item.slot = slot),
};

/** Below this many slots, holes are left for the next time the set empties. */
const MIN_COMPACT = 32;

/**
 * A set for items that come and go by the thousand per second (held messages, open acks), each
 * item keeping its own position: nothing is hashed. An item already in another set of the same
 * {@link SlotAccess} (the same message written to two processors) is kept in a `Set` instead.
 *
 * Not a `Set`, because of how V8 grows and shrinks one: each rebuild of its hash table leaves the
 * old table pointing at the new one (for iterators). Once a full GC has moved a live set's table
 * into the old generation, every later table, and the items each one held, survive each scavenge
 * until the next full GC; with messages as items, that was most of every scavenge (bench/notes.md,
 * "fourth pass").
 */
export class SlotSet<T extends object> implements Iterable<T> {
  readonly #slot: SlotAccess<T>;
  /** Deleted items leave a hole (no reference kept), filled again by compacting. */
  readonly #items: (T | undefined)[] = [];
  /** Items whose slot another set holds. */
  #others: Set<T> | undefined;
  #size = 0;

  constructor(slot: SlotAccess<T>) {
    this.#slot = slot;
  }

  get size(): number {
    return this.#size;
  }

  has(item: T): boolean {
    return this.#holds(item) || (this.#others?.has(item) ?? false);
  }

  /** `false` if `item` was there already. */
  add(item: T): boolean {
    if (this.has(item)) return false;
    if (this.#slot.get(item) >= 0) {
      (this.#others ??= new Set()).add(item);
    } else {
      this.#slot.set(item, this.#items.length);
      this.#items.push(item);
    }
    this.#size++;
    return true;
  }

  /** `false` if `item` was not there. */
  delete(item: T): boolean {
    if (this.#holds(item)) {
      this.#items[this.#slot.get(item)] = undefined;
      this.#slot.set(item, -1);
    } else if (this.#others?.delete(item) !== true) {
      return false;
    }
    this.#size--;
    if (this.#size === 0) this.#items.length = 0;
    else if (this.#items.length >= MIN_COMPACT && this.#items.length > 2 * this.#size) {
      this.#compact();
    }
    return true;
  }

  clear(): void {
    for (const item of this.#items) if (item !== undefined) this.#slot.set(item, -1);
    this.#items.length = 0;
    this.#others = undefined;
    this.#size = 0;
  }

  /**
   * The items now, in the order they were added (those kept in a `Set` last): adding or deleting
   * while going through them is safe.
   */
  values(): T[] {
    const items = this.#items.filter((item): item is T => item !== undefined);
    return this.#others === undefined ? items : [...items, ...this.#others];
  }

  [Symbol.iterator](): Iterator<T> {
    return this.values()[Symbol.iterator]();
  }

  #holds(item: T): boolean {
    const slot = this.#slot.get(item);
    return slot >= 0 && this.#items[slot] === item;
  }

  #compact(): void {
    const items = this.#items;
    let next = 0;
    for (const item of items) {
      if (item === undefined) continue;
      this.#slot.set(item, next);
      items[next++] = item;
    }
    items.length = next;
  }
}
