// The one way a probe (or a `sync` session) stops waiting: the caller's AbortSignal.
// Every wait on the network, a child process or a library goes through raceAbort(),
// directly or through a Scope, so that it settles when the signal aborts even if the
// thing waited for is slow to notice.
import { describeError } from '../outcome.js';

/**
 * `work`'s outcome, or `onAbort`'s as soon as the signal aborts (at once if it already
 * has; `onAbort` is told which). `onAbort` may throw to reject instead. The abort
 * listener goes when the race is decided: the runner shares one signal among the checks
 * whose deadlines fall together, so a listener left behind would keep a finished
 * check's closures alive until that deadline.
 */
export function raceAbort<T, A>(work: Promise<T>, signal: AbortSignal, onAbort: (alreadyAborted: boolean) => A): Promise<T | A> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return new Promise<A>((resolve) => resolve(onAbort(true)));
  }
  return new Promise<T | A>((resolve, reject) => {
    const aborted = (): void => {
      work.catch(() => undefined);
      try {
        resolve(onAbort(false));
      } catch (err) {
        reject(err);
      }
    };
    signal.addEventListener('abort', aborted, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(err);
      },
    );
  });
}

/** `work`'s value, or 'aborted' as soon as the signal aborts. */
export function orAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  return raceAbort(work, signal, () => 'aborted' as const);
}

export class AbortedError extends Error {
  constructor() {
    super('check aborted');
  }
}

/**
 * Everything a probe opens is registered here and released by close(), which also
 * runs when the signal aborts. race() settles as soon as the signal aborts, so a probe
 * never waits for a library that ignores cancellation.
 */
export class Scope {
  private readonly cleanups: Array<() => void> = [];
  private closed = false;
  private readonly onAbort = (): void => this.close();

  constructor(readonly signal: AbortSignal) {
    if (signal.aborted) this.closed = true;
    // The one listener goes in close(): the runner's signal is shared by the checks whose
    // deadlines fall together and outlives this one.
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get isAborted(): boolean {
    return this.signal.aborted;
  }

  defer(cleanup: () => void): void {
    if (this.closed) {
      safely(cleanup);
      return;
    }
    this.cleanups.push(cleanup);
  }

  /** A socket destroyed when the scope closes (errors after that are swallowed). */
  own<T extends { destroy(): unknown; on(event: 'error', l: (e: Error) => void): unknown }>(socket: T): T {
    socket.on('error', () => undefined);
    this.defer(() => socket.destroy());
    return socket;
  }

  /** `work`'s outcome, or an AbortedError as soon as the signal aborts. */
  race<T>(work: Promise<T>): Promise<T> {
    return raceAbort(work, this.signal, () => {
      throw new AbortedError();
    });
  }

  /** Resolves after `ms`, or rejects when the scope aborts first. */
  sleep(ms: number): Promise<void> {
    return this.race(
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.defer(() => clearTimeout(timer));
      }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    for (const cleanup of this.cleanups.splice(0).reverse()) safely(cleanup);
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // cleanup must not throw
  }
}

/** Words for a CheckResult's `detail`: "timed out" once the signal aborted, else the error. */
export function why(err: unknown, scope: Scope): string {
  return scope.isAborted ? 'timed out' : describeError(err);
}
