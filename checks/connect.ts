// checktype=connect: a TCP connect to ip:checkport, closed at once (spec §3.2). Up when
// the connection is accepted; the runner aborts it at checktimeout. (On a udp virtual
// the registry gives the service check instead: see registry.ts.)
import { dial } from './io/dial.js';
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker, type CheckResult, type Endpoint } from './types.js';

export async function probeConnect(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  try {
    const socket = await dial({ host: target.host, port: target.port, signal });
    socket.destroy();
    return outcome.up('-', { detail: `connected to ${target.host}:${target.port}` });
  } catch (err) {
    return outcome.down('-', { detail: `connect to ${target.host}:${target.port}: ${(err as Error).message}` });
  }
}

export const connectChecker = defineChecker({
  name: 'connect',
  timeout: CHECKTIMEOUT,
  options: () => ({}),
  probe: (endpoint, _options, signal) => probeConnect(endpoint, signal),
});
