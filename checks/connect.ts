// checktype=connect: a TCP connect to ip:checkport, closed at once (spec §3.2). Up when
// the connection is accepted. The runner aborts it at checktimeout. (On a udp virtual
// the registry gives the service check instead: see registry.ts.)
import type { VirtualService } from '../lib/config/model.js';
import { openSocket } from './connection.js';
import { Outcome } from './outcome.js';
import type { CheckResult, CheckTarget, Checker } from './types.js';

export async function probeConnect(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  try {
    const socket = await openSocket({ host: target.host, port: target.port, signal });
    socket.destroy();
    return outcome.up('-', { detail: `connected to ${target.host}:${target.port}` });
  } catch (err) {
    return outcome.down('-', { detail: `connect to ${target.host}:${target.port}: ${(err as Error).message}` });
  }
}

export const connectChecker: Checker = {
  name: 'connect',
  timeoutSeconds: (virtual: VirtualService) => virtual.checktimeout,
  probe: probeConnect,
};
