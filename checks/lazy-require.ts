// Synchronous lazy loading of CommonJS dependencies used by one checker only (radius,
// dns-packet). Importing them with the registry costs every daemon their memory
// (~15 MB of RSS together) even when no virtual uses the service (issue 7, RSS < 200 MB);
// require() on first use keeps the checkers' synchronous helpers (accessRequest,
// encodeQuery) synchronous, which a dynamic import() would not.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A getter that loads `id` on its first call and returns the same module after. */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
