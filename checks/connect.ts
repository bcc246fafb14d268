// checktype=connect: a TCP connect to ip:checkport, closed at once (spec §3.2). Up when
// the connection is accepted; the runner aborts it at checktimeout. (On a udp virtual
// the registry gives the service check instead: see registry.ts.)
import { canConnectBare, connectBare, startBareConnect } from './io/bare-connect.js';
import { dial } from './io/dial.js';
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker, type CheckResult, type Endpoint, type ProbeSink } from './types.js';

/** The check's result once the connect has ended (`failure`: why it failed). */
function connectResult(failure: string | undefined, host: string, port: number, outcome: Outcome): CheckResult {
  return failure === undefined
    ? outcome.up('-', { detail: `connected to ${host}:${port}` })
    : outcome.down('-', { detail: `connect to ${host}:${port}: ${failure}` });
}

/** On the bare handle, the connect's own promise is the check's: no layer around it. */
export function probeConnect(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
  const { host, port } = target;
  if (canConnectBare(host, port, target.family)) return connectBare(host, port, signal, connectResult, new Outcome());
  return probeConnectDialed(host, port, signal);
}

/** probeConnect() reporting to `sink` (Checker.start): on the bare handle, no promise at all. */
export function startConnect(target: Endpoint, signal: AbortSignal, sink: ProbeSink): void {
  const { host, port } = target;
  if (canConnectBare(host, port, target.family)) startBareConnect(host, port, signal, connectResult, new Outcome(), sink);
  else
    probeConnectDialed(host, port, signal).then(
      (result) => sink.settle(result),
      (err: unknown) => sink.failed(err),
    );
}

async function probeConnectDialed(host: string, port: number, signal: AbortSignal): Promise<CheckResult> {
  const outcome = new Outcome();
  let failure: string | undefined;
  try {
    (await dial({ host, port, signal })).destroy();
  } catch (err) {
    failure = (err as Error).message;
  }
  return connectResult(failure, host, port, outcome);
}

/** The connect check has no options: one object for every check. */
const NO_OPTIONS = Object.freeze({});

export const connectChecker = defineChecker({
  name: 'connect',
  timeout: CHECKTIMEOUT,
  options: () => NO_OPTIONS,
  probe: (endpoint, _options, signal) => probeConnect(endpoint, signal),
  start: (endpoint, _options, signal, sink) => startConnect(endpoint, signal, sink),
});
