// The log lines of the original about IPVS changes and real-server state (spec §6),
// byte for byte: people grep for them, and e-mail subjects are built from them.
//
// Vocabulary, as in the original:
//   rip     the real or fallback server as `ip:port` (`10.0.0.2:80`, `[2001:db8::2]:80`);
//   v       the virtual as log lines name it: `ip:port` or the fwmark (`serviceLabel`);
//   vid     the virtual id: `tcp:10.0.0.1:80`, `fwm:7`, `fwm6:8` (`serviceKey`);
//   tag     `real` or `fallback`;
//   mapped  the port the config gave when ipvsadm listed the server on the virtual's port
//           instead (gate/ipip without a port): ` mapped from <rip:origport>` (spec §4.2).

export type ServerTag = 'real' | 'fallback';
/** `start` is used for start-up and for every reload, like the original. */
export type PurgeWhen = 'start' | 'stop';

const server = (tag: ServerTag, rip: string, v: string, mappedFrom?: string): string =>
  `${tag} server: ${rip} ${mappedFrom !== undefined ? `mapped from ${mappedFrom} ` : ''}(${v})`;

export const addedVirtualServer = (v: string): string => `Added virtual server: ${v}`;
export const changedVirtualServer = (v: string): string => `Changed virtual server: ${v}`;

/** `Added real server: 10.0.0.2:80 (10.0.0.1:80) (Weight set to 1)` / `Added fallback server: ...`. */
export const addedServer = (tag: ServerTag, rip: string, v: string, weight: number): string =>
  `Added ${server(tag, rip, v)} (Weight set to ${weight})`;

/** `Restored real server: ... (Weight set to W)`: an entry that was there, set back to its weight. */
export const restoredServer = (tag: ServerTag, rip: string, v: string, weight: number): string =>
  `Restored ${server(tag, rip, v)} (Weight set to ${weight})`;

/** `Quiescent real server: 10.0.0.2:80 (10.0.0.1:80) (Weight set to 0)`. The fallback is never quiesced. */
export const quiescentServer = (rip: string, v: string, mappedFrom?: string): string =>
  `Quiescent ${server('real', rip, v, mappedFrom)} (Weight set to 0)`;

/**
 * `Readd Quiescent real server: ... (Weight set to 0)` (readdquiescent=yes, the real was
 * missing from the table). Its e-mail subject is the quiescentServer() text.
 */
export const readdQuiescentServer = (rip: string, v: string, mappedFrom?: string): string =>
  `Readd Quiescent ${server('real', rip, v, mappedFrom)} (Weight set to 0)`;

/** `Deleted real server: 10.0.0.2:80 (10.0.0.1:80)` / `Deleted fallback server: ...`. */
export const deletedServer = (tag: ServerTag, rip: string, v: string, mappedFrom?: string): string =>
  `Deleted ${server(tag, rip, v, mappedFrom)}`;

/** `Purged real server (start): 10.0.0.9:80 (10.0.0.1:80)`: a table entry the config does not know. */
export const purgedRealServer = (when: PurgeWhen, rip: string, v: string): string => `Purged real server (${when}): ${rip} (${v})`;

/** `Purged virtual server (stop): 10.0.0.1:80`. */
export const purgedVirtualServer = (when: PurgeWhen, v: string): string => `Purged virtual server (${when}): ${v}`;

/** `Soft failure real server: 10.0.0.2:80 (tcp:10.0.0.1:80) failure 1/3`: note the virtual id here. */
export const softFailure = (ip: string, port: number, vid: string, count: number, limit: number): string =>
  `Soft failure real server: ${ip}:${port} (${vid}) failure ${count}/${limit}`;

/** `Resetting soft failure count: 10.0.0.2:80 (tcp:10.0.0.1:80)`. */
export const resettingSoftFailure = (ip: string, port: number, vid: string): string =>
  `Resetting soft failure count: ${ip}:${port} (${vid})`;

/** The e-mail reminder subject (emailalertfreq); `id` is `<rip> (<v>)`. */
export const inaccessibleServer = (rip: string, v: string): string => `Inaccessible real server: ${rip} (${v})`;

/**
 * `system(<command line>) failed: <reason>`: the original's line for a failed ipvsadm;
 * ldirectord-ts gives ipvsadm's own stderr as the reason (the original's errno text was
 * meaningless, spec §4.8).
 */
export const commandFailed = (commandLine: string, reason: string): string => `system(${commandLine}) failed: ${reason}`;

/**
 * ldirectord-ts (successcount > 1), worded like the soft failure line:
 * `Soft success real server: 10.0.0.2:80 (tcp:10.0.0.1:80) success 1/3`.
 */
export const softSuccess = (ip: string, port: number, vid: string, count: number, limit: number): string =>
  `Soft success real server: ${ip}:${port} (${vid}) success ${count}/${limit}`;

/**
 * ldirectord-ts: a change a convergence asked for that the table read back does not show
 * (ipvsadm refused it or could not run), with what the kernel table shows instead:
 * `IPVS change not made: Deleted real server: 10.0.0.2:80 (10.0.0.1:80); the kernel table shows 10.0.0.2:80 in 10.0.0.1:80 with weight 1`.
 */
export const changeNotMade = (line: string, shows: string): string => `IPVS change not made: ${line}; the kernel table shows ${shows}`;

/**
 * ldirectord-ts: ipvsadm failed while changes had been sent, and the table could not be
 * read back: neither the changes nor their absence is known.
 */
export const changesUnconfirmed = (reason: string): string =>
  `IPVS table changes not confirmed: ${reason}; the table is read again at the next check`;

/**
 * ldirectord-ts: the purge at stop (cleanstop) did not empty the table of these virtuals
 * (`known`: the table read back shows them), or the table could not be read (they may remain).
 */
export const purgeFailed = (services: readonly string[], why: string, known: boolean): string =>
  `IPVS purge at stop failed (${why}): virtual server(s) ${known ? 'still in the kernel table' : 'that may still be in the kernel table'}: ${services.join(', ')}`;
