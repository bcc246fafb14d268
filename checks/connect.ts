// checktype=connect: a TCP connect to ip:checkport, closed at once (spec §3.2). Up when
// the connection is accepted; the runner aborts it at checktimeout. (On a udp virtual
// the registry gives the service check instead: see registry.ts.)
import { canConnectBare, connectAndClose } from './io/bare-connect.js';
import { dial } from './io/dial.js';
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker, type CheckResult, type Endpoint } from './types.js';

export async function probeConnect(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  const { host, port } = target;
  let failure: string | undefined;
  if (canConnectBare(host, port)) failure = await connectAndClose(host, port, signal);
  else {
    try {
      (await dial({ host, port, signal })).destroy();
    } catch (err) {
      failure = (err as Error).message;
    }
  }
  return failure === undefined
    ? outcome.up('-', { detail: `connected to ${host}:${port}` })
    : outcome.down('-', { detail: `connect to ${host}:${port}: ${failure}` });
}

export const connectChecker = defineChecker({
  name: 'connect',
  timeout: CHECKTIMEOUT,
  options: () => ({}),
  probe: (endpoint, _options, signal) => probeConnect(endpoint, signal),
});
