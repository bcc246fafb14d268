// The real CheckRunner (its registry's checkers, real timers) run on a config for a while:
// what each check reported, by the real's port, and whether a TCP handle was left behind.
import { CheckRunner } from '../../../lib/daemon/check-runner.js';
import { parse } from '../../config/parse-helpers.js';

export interface PortResult {
  readonly port: number;
  readonly ok: boolean;
  readonly message: string;
  readonly detail: string | undefined;
  readonly ms: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => /^TCP/.test(r) && !/Server/.test(r)).length;

/** Starts a runner on `configText`, stops it after `runMs`; the results and the TCP handles before and after. */
export async function runChecks(
  configText: string,
  runMs: number,
): Promise<{ results: PortResult[]; handlesBefore: number; handlesAfter: number }> {
  const r = await parse(configText);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  const handlesBefore = tcpHandles();
  const results: PortResult[] = [];
  const runner = new CheckRunner({
    onTransition: (e, _t, result) => {
      if (result)
        results.push({
          port: e.members[0]!.real.port,
          ok: result.ok,
          message: result.message,
          detail: result.detail,
          ms: result.durationMs,
        });
    },
  });
  runner.update(r.config);
  runner.start();
  await sleep(runMs);
  await runner.stop();
  // A cancelled connect's handle is gone once its close callback has run (the next turns).
  await sleep(200);
  return { results, handlesBefore, handlesAfter: tcpHandles() };
}
