// A real's last result stays in its entry as fields (ok, message, duration, time), not as
// the result object the probe returned: that object (and its detail string) must be free
// to die young, or every check's result outlives the young generation at 10,000 reals.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CheckRunner } from '../../lib/daemon/check-runner.js';
import type { CheckResult } from '../../checks/types.js';
import { scriptedCheckers } from './helpers/scripted-checker.js';
import { parse } from '../config/parse-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CONFIG = 'checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=connect\n';

describe('a real entry and its last result', () => {
  it('keeps what status shows of the last result, and lets the result object go', async () => {
    const parsed = await parse(CONFIG);
    if (!parsed.config) throw new Error(JSON.stringify(parsed.diagnostics));
    const refs: WeakRef<CheckResult>[] = [];
    let n = 0;
    const runner = new CheckRunner({
      checkers: scriptedCheckers(() => {
        n++;
        const result: CheckResult = { ok: n === 1, message: n === 1 ? '-' : `failed ${n}`, durationMs: 1.5 * n, detail: `check ${n}` };
        refs.push(new WeakRef(result));
        return Promise.resolve(result);
      }),
      onTransition: () => {},
    });
    runner.update(parsed.config);

    const before = Date.now();
    await runner.checkAllNow();
    const e = [...runner.all()][0]!;
    expect([e.lastOk, e.lastMessage, e.lastDurationMs]).toEqual([true, '-', 1.5]);
    expect(e.lastResultAt).toBeGreaterThanOrEqual(before);

    await runner.checkAllNow();
    expect([e.lastOk, e.lastMessage, e.lastDurationMs]).toEqual([false, 'failed 2', 3]);
    expect(refs).toHaveLength(2);

    // A WeakRef holds its target until the current job ends: collect after a turn.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined]);
  });
});
