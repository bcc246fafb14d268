// The running daemon's status document, read from the director: each virtual
// and real with its check state, last result, and weight in the IPVS table as
// last read. Built on request (the socket, HTTP), never kept.
import type { CheckType, VirtualService } from '../config/model.js';
import type { Director } from '../daemon/director.js';
import type { SyncDaemonView } from '../daemon/sync-daemon-keeper.js';
import { runsAsWanted, type SyncDaemon } from '../ipvs/sync-daemons.js';
import { fallbackOf, serviceOf } from '../ipvs/desired.js';
import { canonicalAddress, destinationKey, indexDestinations, indexServices, serviceKey, storedDestinationPort } from '../ipvs/table.js';
import { VERSION_LINE } from '../version.js';
import {
  STATUS_SCHEMA,
  type RealStatus,
  type StatusDocument,
  type SyncDaemonParams,
  type SyncDaemonsStatus,
  type VirtualStatus,
} from './document.js';

/** What only the daemon process knows. */
export interface DaemonFacts {
  readonly config: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly reloads: { readonly ok: number; readonly failed: number; readonly lastAt?: number };
  readonly statusAddress?: string;
  readonly syncDaemons?: SyncDaemonView;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const params = (d: SyncDaemon): SyncDaemonParams => ({ ...d });

function syncStatus(v: SyncDaemonView): SyncDaemonsStatus {
  return {
    mode: v.mode,
    configured: v.wanted.map((w) => ({ ...params(w), running: v.running?.some((d) => runsAsWanted(w, d)) ?? false })),
    ...(v.running ? { running: v.running.map(params) } : {}),
    ...(v.readAt !== undefined ? { readAt: iso(v.readAt) } : {}),
    ...(v.error ? { error: v.error } : {}),
  };
}

function checktypeName(t: CheckType): string {
  return t.kind === 'combined' ? `combined:${t.n}` : t.kind;
}

/** Weight of `ip:port` (as configured) of a virtual in the table, or null. */
function tableWeight(
  services: ReturnType<typeof indexServices> | undefined,
  v: VirtualService,
  server: { ip: string; port: number; forward: 'gate' | 'masq' | 'ipip' },
): number | null {
  const svc = serviceOf(v);
  const have = services?.get(serviceKey(svc));
  if (!have) return null;
  const address = canonicalAddress(server.ip)?.address ?? server.ip;
  const d = indexDestinations(have).get(destinationKey({ address, port: storedDestinationPort(svc, server.forward, server.port) }));
  return d ? d.weight : null;
}

export function buildStatus(director: Director, facts: DaemonFacts, now = Date.now()): StatusDocument {
  const config = director.currentConfig;
  const read = director.table;
  const services = read ? indexServices(read.table) : undefined;
  const virtuals: VirtualStatus[] = config.virtuals.map((v) => {
    const fb = fallbackOf(config, v);
    const reals: RealStatus[] = v.reals.map((r) => {
      const view = director.realView(v, r);
      const e = view.entry;
      const lastChange = e?.lastChange ?? facts.startedAt;
      return {
        address: `${canonicalAddress(r.ip)?.address ?? r.ip}:${r.port}`,
        forward: r.forward,
        weight: r.weight,
        state: view.state,
        ipvsWeight: tableWeight(services, v, r),
        lastCheck:
          e?.lastMessage !== undefined
            ? { ok: e.lastOk, message: e.lastMessage, at: iso(e.lastResultAt), durationMs: Math.round(e.lastDurationMs) }
            : null,
        failCount: e?.state.failCount ?? 0,
        successCount: e?.state.successCount ?? 0,
        lastChange: iso(lastChange),
        secondsSinceChange: Math.max(0, Math.floor((now - lastChange) / 1000)),
        slowstart: view.rampEndsAt !== undefined ? { weight: view.wantWeight, endsAt: iso(view.rampEndsAt) } : null,
      };
    });
    return {
      id: v.id,
      name: v.name,
      protocol: v.protocol,
      scheduler: v.scheduler,
      service: v.service,
      checktype: checktypeName(v.checktype),
      checkinterval: v.checkinterval,
      failurecount: v.failurecount,
      successcount: v.successcount,
      slowstart: v.slowstart,
      quiescent: v.quiescent,
      inTable: services?.has(serviceKey(serviceOf(v))) ?? false,
      fallback: fb
        ? {
            address: `${canonicalAddress(fb.ip)?.address ?? fb.ip}:${fb.port}`,
            forward: fb.forward,
            ipvsWeight: tableWeight(services, v, fb),
          }
        : null,
      reals,
    };
  });
  const error = director.ipvsError;
  return {
    schema: STATUS_SCHEMA,
    config: facts.config,
    daemon: {
      state: director.daemonStatus,
      pid: facts.pid,
      version: VERSION_LINE,
      startedAt: iso(facts.startedAt),
      uptimeSeconds: Math.max(0, Math.floor((now - facts.startedAt) / 1000)),
      reloads: {
        ok: facts.reloads.ok,
        failed: facts.reloads.failed,
        ...(facts.reloads.lastAt !== undefined ? { lastAt: iso(facts.reloads.lastAt) } : {}),
      },
      ipvs: { ...(read ? { readAt: iso(read.at) } : {}), ...(error ? { error } : {}) },
      ...(facts.statusAddress !== undefined ? { statusAddress: facts.statusAddress } : {}),
      ...(facts.syncDaemons ? { syncDaemons: syncStatus(facts.syncDaemons) } : {}),
    },
    virtuals,
  };
}
