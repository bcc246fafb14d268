// Racing work against the runner's AbortSignal, so that a probe settles when the signal
// aborts even if the library or child process it waits for is slow to notice.

/** Resolves with 'aborted' when the signal aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}
