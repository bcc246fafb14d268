// A reload leaves the previous config and the state built for it as garbage. V8 sets the
// heap size at which it next collects in full from what it found live at its last full
// collection, and one that falls during a reload finds both configs live: the heap then
// grows well past what the daemon holds before V8 collects again. One full collection
// once the old config is dropped sets that size from the heap as it now is (figures:
// bench/RESULTS.md, "Memory at 10,000 reals, seventh pass"). It takes a few tens of ms,
// once per reload; without node's --expose-gc (the launcher's #! line has it) nothing is
// done.

const SETTLE_MS = 2000;
let pending: NodeJS.Timeout | undefined;

/** Collects in full SETTLE_MS from now (later reloads meanwhile push it back: one collection). */
export function collectAfterReload(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    gc();
  }, SETTLE_MS);
  pending.unref();
}
