// The director logs and mails IPVS changes only once the table read back shows them; at
// stop, a purge that ipvsadm could not do is a StopError naming what may remain, with no
// "Purged" line or mail. In-process, with the fake ipvsadm made to fail at chosen moments.
import { afterEach, describe, expect, it } from 'vitest';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import type { IpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { StopError } from '../../lib/daemon/director.js';
import { closeHarnesses, running, waitFor, type Harness } from '../daemon/helpers/director-harness.js';

afterEach(closeHarnesses);

const CFG = `checkinterval=1
quiescent=no
virtual=127.0.134.1:80
    real=127.0.134.2:80 masq 1
    real=127.0.134.3:80 masq 1
    checktype=connect
`;

/** The director's ipvsadm, to make it fail from now on. */
function runnerOf(h: Harness): { run: IpvsadmRunner['run'] } {
  return (h.director as unknown as { deps: { ipvsadm: { run: IpvsadmRunner['run'] } } }).deps.ipvsadm;
}

describe('IPVS log lines only for what the kernel table shows', () => {
  it('stop when ipvsadm cannot run: no Purged line or mail, a StopError naming the service', async () => {
    const h = await running(CFG, ['127.0.134.2:80', '127.0.134.3:80']);
    expect(h.table()).toHaveLength(3);
    runnerOf(h).run = async (args) => {
      throw new IpvsadmError('timeout', 'ipvsadm did not finish within 2000 ms (killed)', { args });
    };
    const err = await h.director.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StopError);
    expect((err as Error).message).toBe(
      'IPVS purge at stop failed (ipvsadm did not finish within 2000 ms (killed)): virtual server(s) that may still be in the kernel table: 127.0.134.1:80',
    );
    expect(h.logs.filter((l) => l.includes('Purged'))).toEqual([]);
    expect(h.alerts.filter((a) => a.subject.includes('Purged'))).toEqual([]);
    expect(h.table()).toHaveLength(3);
  });

  it("stop that works: the Purged lines and mails after the purge, in the original's order", async () => {
    const h = await running(CFG, ['127.0.134.2:80', '127.0.134.3:80']);
    await h.director.stop();
    expect(h.logs.filter((l) => l.includes('Purged'))).toEqual([
      'Purged real server (stop): 127.0.134.2:80 (127.0.134.1:80)',
      'Purged real server (stop): 127.0.134.3:80 (127.0.134.1:80)',
      'Purged virtual server (stop): 127.0.134.1:80',
    ]);
    expect(h.alerts.filter((a) => a.subject.includes('Purged'))).toHaveLength(2);
    expect(h.table()).toEqual([]);
  });

  it('a delete ipvsadm refuses: no Deleted line or mail, the refusal and what the table shows instead', async () => {
    const h = await running(CFG, ['127.0.134.2:80', '127.0.134.3:80']);
    const runner = runnerOf(h);
    const real = runner.run.bind(runner);
    // -d refused, alone or in a batch; listings answered
    runner.run = async (args, input) => {
      if (args.includes('-d') || (input !== undefined && /^-d /m.test(input)))
        return { stdout: '', stderr: 'Memory allocation problem\n', exitCode: 1 };
      return real(args, input);
    };
    const mark = h.logs.length;
    h.up.set('127.0.134.3:80', false);
    await waitFor(() => h.logs.slice(mark).some((l) => l.startsWith('IPVS change not made')));
    const lines = h.logs.slice(mark);
    expect(lines.filter((l) => l.startsWith('Deleted'))).toEqual([]);
    expect(h.alerts.filter((a) => a.subject.startsWith('Deleted'))).toEqual([]);
    expect(lines).toContain(
      'IPVS change not made: Deleted real server: 127.0.134.3:80 (127.0.134.1:80); the kernel table shows 127.0.134.3:80 in 127.0.134.1:80 with weight 1',
    );
    expect(
      lines.some((l) => /^system\(\S+ -d -t 127\.0\.134\.1:80 -r 127\.0\.134\.3:80\) failed: Memory allocation problem$/.test(l)),
      lines.join('\n'),
    ).toBe(true);
    // logged once, not at every convergence
    await new Promise((r) => setTimeout(r, 2500));
    expect(h.logs.slice(mark).filter((l) => l.startsWith('IPVS change not made'))).toHaveLength(1);
    runner.run = real;
    await waitFor(() => h.logs.slice(mark).includes('Deleted real server: 127.0.134.3:80 (127.0.134.1:80)'));
  }, 30_000);
});
