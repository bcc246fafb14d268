// Racing work against the runner's AbortSignal, so that a probe settles when the signal
// aborts even if the library or child process it waits for is slow to notice.

/**
 * `work`'s value, or 'aborted' as soon as the signal aborts (at once if it already has).
 * The abort listener goes when the race is decided: the runner shares one signal among
 * the checks whose deadlines fall together, so a listener left behind would keep a
 * finished check's closures alive until that deadline.
 */
export function orAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve('aborted');
  }
  return new Promise<T | 'aborted'>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => undefined);
      resolve('aborted');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
