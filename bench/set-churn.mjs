// What a long-lived Set costs the GC when items come and go through it (bench/notes.md, "fourth
// pass"): each item is added, and deleted once the next one is in, as the tracker does with held
// messages. Each item points at a newer object, as a message points at its settlement. A full GC
// every 500k items stands for the ones the rest of a process brings about: it is what moves the
// set's live table into the old generation.
//
//   node bench/set-churn.mjs set       a Set
//   node bench/set-churn.mjs slot      lib/core/slot-set.ts (build first: npm run build)
//   node --trace-gc-nvp bench/set-churn.mjs set 2>&1 | grep -o 'promoted=[0-9]*'   bytes promoted
//
// Prints one JSON line: { mode, items, cpuMs, scavenges, scavengeMs, markCompacts }.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SlotSet } from '../dist/core/slot-set.js';

const mode = process.argv[2] ?? 'set';
const items = Number(process.argv[3] ?? 3_000_000);
const slot = { get: (item) => item.slot, set: (item, at) => (item.slot = at) };
const held = mode === 'set' ? new Set() : new SlotSet(slot);

const gc = { scavenges: 0, scavengeMs: 0, markCompacts: 0 };
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gc.scavenges++;
      gc.scavengeMs += entry.duration;
    } else if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.markCompacts++;
  }
});
observer.observe({ entryTypes: ['gc'] });

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc');

const cpuAtStart = process.cpuUsage();
let previous;
for (let i = 0; i < items; i++) {
  if (i % 500_000 === 0) fullGc();
  const item = { i, slot: -1, later: undefined };
  held.add(item);
  if (previous !== undefined) {
    previous.later = { settledAt: i };
    held.delete(previous);
  }
  previous = item;
}
const cpu = process.cpuUsage(cpuAtStart);
// The observer reports on a later tick.
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
process.stdout.write(
  `${JSON.stringify({
    mode,
    items,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    scavenges: gc.scavenges,
    scavengeMs: Math.round(gc.scavengeMs),
    markCompacts: gc.markCompacts,
  })}\n`,
);
