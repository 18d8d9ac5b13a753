/**
 * Waits for `work` at most `ms`: resolves `true` when it settled in time (whatever its outcome;
 * the caller reads that from the work itself), `false` when the time ran out first. The timer is
 * cleared as soon as the work settles, so a bounded wait never holds a process open by itself.
 */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}
