// A check run through its checker's start() (Checker.start), the way the runner runs it.
import type { Checker, CheckResult, CheckTarget } from '../../../checks/types.js';

/** Every answer start() gives (one is right), and `done` once the first has come. */
export function viaStart(checker: Checker, target: CheckTarget, signal: AbortSignal): { answers: CheckResult[]; done: Promise<void> } {
  const answers: CheckResult[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  checker.start!(target, signal, {
    settle: (r) => {
      answers.push(r);
      finish();
    },
    failed: (err) => {
      answers.push({ ok: false, message: `failed: ${String(err)}`, durationMs: 0 });
      finish();
    },
  });
  return { answers, done };
}
