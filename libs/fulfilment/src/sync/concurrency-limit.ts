/**
 * Runs at most `concurrency` tasks at once; the rest wait in arrival order. A hand-written
 * replacement for p-limit, whose current majors are ESM-only: a CommonJS host's Jest cannot
 * `require()` them, and this is the whole of what the sync needed from it.
 */
export type ConcurrencyLimit = <T>(task: () => Promise<T>) => Promise<T>;

export function createConcurrencyLimit(concurrency: number): ConcurrencyLimit {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    active--;
    waiting.shift()?.();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        active++;
        // A task that throws synchronously still releases its slot.
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(next);
      };
      if (active < concurrency) run();
      else waiting.push(run);
    });
}
