// The one way a checker loads its client library: on the first check that needs it, not
// with the registry, so a daemon whose config never names a service does not carry that
// service's library (the libraries are most of what the checkers weigh). require() keeps
// the loaders synchronous, which the checkers' synchronous helpers (radius's
// accessRequest, dns's encodeQuery) need.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A getter that loads `id` on its first call and returns the same module after. */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}

/** True when `err` says that the module `id` itself is not installed. */
export function isModuleMissing(err: unknown, id: string): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${id}'`);
}

/**
 * node:crypto, for what needs a real hash or randomness (a check's authentication, a mail's
 * Message-ID, the status page's CSP hash): a daemon that does none of these never loads it.
 */
export const nodeCrypto = lazyModule<typeof import('node:crypto')>('node:crypto');
