// checktype=ping: ICMP echo with a 64-byte payload, up to checkcount attempts of
// checktimeout seconds each; up on the first reply (spec §3.2). A failed ping writes no
// monitorfile line, as in the original.
//
// Why the system ping (iputils-ping) and not a raw-socket library: raw ICMP sockets need
// root or CAP_NET_RAW in the daemon itself and a native addon (raw-socket, net-ping)
// compiled for each Node ABI; iputils ping is in every Debian install, uses unprivileged
// ICMP datagram sockets or its own file capability, handles IPv4 and IPv6, and one
// short-lived process per attempt is cheap at health-check rates. It runs with an
// argument array (no shell) and is killed when the signal aborts.
import { existsSync } from 'node:fs';
import type { VirtualService } from '../lib/config/model.js';
import { runBounded } from '../lib/proc/run-bounded.js';
import { orAborted } from './io/deadline.js';
import { Outcome } from './outcome.js';
import { defineChecker, type Checker } from './types.js';

const PING_PATHS = ['/usr/bin/ping', '/bin/ping'];

export function findPing(): string {
  return PING_PATHS.find((p) => existsSync(p)) ?? 'ping';
}

/** The argument list of one attempt: one echo request, 64 bytes of data, wait `seconds`. */
export function pingArguments(host: string, seconds: number): string[] {
  return ['-n', '-q', '-c', '1', '-s', '64', '-W', String(Math.max(1, seconds)), host];
}

export interface PingOptions {
  /** The ping program (tests use stand-ins). */
  readonly command?: string;
}

/** The spec's ping: checkcount attempts of checktimeout each. */
const attemptsOf = (virtual: VirtualService): number => Math.max(1, virtual.checkcount);

export function createPingChecker(options: PingOptions = {}): Checker {
  let command = options.command;
  return defineChecker({
    name: 'ping',
    timeout: (virtual) => virtual.checktimeout * attemptsOf(virtual),
    options: (target) => ({ attempts: attemptsOf(target.virtual), attemptSeconds: target.virtual.checktimeout }),
    probe: async (target, { attempts, attemptSeconds }, signal) => {
      const outcome = new Outcome();
      command ??= findPing();
      const failures: string[] = [];
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (signal.aborted) break;
        const child = runBounded(command, pingArguments(target.host, attemptSeconds), { signal, killGraceMs: 1000 });
        const result = await orAborted(child, signal);
        if (result === 'aborted' || result.end === 'aborted') {
          failures.push('timed out'); // the group is being killed; the check does not wait
          break;
        }
        if (result.end === 'exited' && result.exitCode === 0) {
          return outcome.up('-', { detail: `pong from ${target.host} (attempt ${attempt}/${attempts})` });
        }
        failures.push(
          result.end === 'spawn-error'
            ? (result.error?.message ?? 'failed')
            : result.exitCode !== null
              ? `exit ${result.exitCode}`
              : `killed by ${result.signal ?? 'a signal'}`,
        );
      }
      return outcome.down('-', {
        detail: `no reply from ${target.host} after ${failures.length}/${attempts} attempts: ${failures.join(', ')}`,
        skipMonitorfile: true,
      });
    },
  });
}

export const pingChecker: Checker = createPingChecker();
