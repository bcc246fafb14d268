// The table the config asks for, given what the checks have found so far (spec §4.3-§4.5,
// with the fixes of §10):
// - a real that is up gets its weight and thresholds;
// - a real that is down is deleted, or with quiescent=yes kept at weight 0 (if it is in the
//   table; added at weight 0 only with readdquiescent=yes);
// - a real whose state is not known yet (no check result in this process) keeps its table
//   entry exactly as it is, and is not added: no real gets weight > 0 before a successful
//   check, and nothing flaps at start or reload;
// - the fallback is in exactly while no real is up (kept as it is while some real is still
//   unknown and none is up), with weight 1 and no thresholds; a global fallback works for
//   fwmark virtuals too (port 0 when it has none);
// - everything else in a managed virtual is removed (ldirectord owns its virtuals).
import type { Config, FallbackServer, RealServer, VirtualService } from '../config/model.js';
import {
  addressPortKey,
  canonicalAddress,
  destinationKey,
  indexDestinations,
  indexServices,
  isCanonicalIPv4,
  serviceKey,
  serviceLabel,
  storedDestinationPort,
  type IpvsDestination,
  type IpvsService,
  type IpvsServiceId,
  type IpvsTable,
} from './table.js';

export type RealState = 'up' | 'down' | 'unknown';

/** What the checks have decided of one configured real, taken before the table is computed. */
export interface RealSnapshot {
  readonly state: RealState;
  /** The weight it gets while up: the configured one, or the slowstart step while a ramp runs. */
  readonly weight: number;
  /** Down because a maintenance file names it. */
  readonly maintenance: boolean;
}

/**
 * Per virtual, one entry per configured real in `virtual.reals` order. A virtual that is
 * absent counts all its reals as unknown: their table entries stay as they are.
 */
export type RealsSnapshot = ReadonlyMap<VirtualService, readonly RealSnapshot[]>;

/** No real decided: what log lines and the purge need when no check state matters. */
export const NOTHING_KNOWN: RealsSnapshot = new Map();

export interface DesiredOptions {
  /**
   * Service keys of the previous config (on reload): those no longer configured are
   * managed too, so that they get deleted.
   */
  readonly previouslyManaged?: Iterable<string>;
  /** Service keys: only these virtuals are looked at (a convergence scoped to them). */
  readonly scope?: ReadonlySet<string> | undefined;
}

/** A configured server of a virtual, as log lines need it. */
export interface ConfiguredServer {
  readonly role: 'real' | 'fallback';
  /** `ip:port` as the config gives it (port 0 when omitted): what "Added ..." lines show. */
  readonly configured: string;
  /** The virtual as log lines name it. */
  readonly virtual: string;
  readonly real?: RealServer;
  readonly fallback?: FallbackServer;
}

/**
 * The configured reals and fallbacks of the virtuals a desired state covers, whether or not
 * they are in its table (a deleted real is still a configured one).
 */
export interface ConfiguredServers {
  /**
   * The configured server stored as `destination` in `service`, undefined for an entry the
   * config does not name. The first configured one wins when two are stored alike.
   */
  get(service: IpvsServiceId, destination: { readonly address: string; readonly port: number }): ConfiguredServer | undefined;
}

export interface DesiredState {
  readonly table: IpvsTable;
  /** Keys of every service to reconcile (configured, plus previously configured). */
  readonly managed: readonly string[];
  readonly servers: ConfiguredServers;
}

/** The address as the kernel lists it; a config's dotted quad is that already (no copy, no object). */
const address = (ip: string): string => (isCanonicalIPv4(ip) ? ip : (canonicalAddress(ip)?.address ?? ip));

/** True when the table's entry is already what a desired one with these fields would be. */
function holds(d: IpvsDestination, forward: IpvsDestination['forward'], weight: number, upper: number, lower: number): boolean {
  return d.forward === forward && d.weight === weight && d.upperThreshold === upper && d.lowerThreshold === lower;
}

/** The IPVS service of a virtual (the options of spec §4.2's `-A/-E`). */
export function serviceOf(v: VirtualService): IpvsService {
  const id: IpvsServiceId =
    v.protocol === 'fwm'
      ? { protocol: 'fwm', family: v.family, fwmark: v.fwmark ?? 0 }
      : { protocol: v.protocol, family: v.family, address: address(v.ip ?? ''), port: v.port ?? 0 };
  return {
    ...id,
    scheduler: v.scheduler,
    ...(v.persistent !== undefined ? { persistent: v.persistent } : {}),
    // -M only with -p, -o only for udp, like the original
    ...(v.persistent !== undefined && v.netmask !== undefined ? { netmask: v.netmask } : {}),
    ops: v.protocol === 'udp' && v.ops,
    ...(v.schedflags !== undefined && v.schedflags !== '' ? { schedFlags: v.schedflags } : {}),
    destinations: [],
  };
}

/** The fallback of a virtual (its own, else the global one of its family), with its port settled. */
export function fallbackOf(config: Config, v: VirtualService): (FallbackServer & { readonly port: number }) | undefined {
  const fb = v.fallback ?? (v.family === 6 ? config.globals.fallback6 : config.globals.fallback);
  if (!fb) return undefined;
  return { ...fb, port: fb.port ?? v.port ?? 0 };
}

const virtualKeys = new WeakMap<VirtualService, string>();

/** serviceKey(serviceOf(v)), once per virtual (config objects are never changed). */
export function virtualKey(v: VirtualService): string {
  let key = virtualKeys.get(v);
  if (key === undefined) virtualKeys.set(v, (key = serviceKey(serviceOf(v))));
  return key;
}

/** The table `config` asks for, from the table just read (`current`) and the reals' states. */
export function desiredState(config: Config, current: IpvsTable, snapshot: RealsSnapshot, o: DesiredOptions = {}): DesiredState {
  const have = indexServices(current);
  const readd = config.globals.readdquiescent;
  const services: IpvsService[] = [];
  const managed = new Set<string>();
  const covered = new Map<string, VirtualService>();

  for (const v of config.virtuals) {
    const key = virtualKey(v);
    // the same virtual twice: the first one counts
    if (managed.has(key) || (o.scope !== undefined && !o.scope.has(key))) continue;
    managed.add(key);
    covered.set(key, v);
    const svc = serviceOf(v);
    const inService = indexDestinations(have.get(key) ?? { destinations: [] });
    const states = snapshot.get(v);
    const reals: IpvsDestination[] = [];
    let anyUp = false;
    let anyUnknown = false;

    // Destinations are written out field by field, not as `{ ...stored, forward, ... }`: V8
    // (Node 20) gives each object built by a spread followed by more properties a hidden
    // class of its own, allocated in the old generation, for every real of every convergence.
    // A real the table already holds as wanted is that entry itself: the drift check's
    // convergence of the whole table then makes no object per real, only a key.
    for (let i = 0; i < v.reals.length; i++) {
      const r = v.reals[i]!;
      const known = states?.[i];
      const addr = address(r.ip);
      const port = storedDestinationPort(svc, r.forward, r.port);
      const inTable = inService.get(addressPortKey(addr, port));
      switch (known?.state ?? 'unknown') {
        case 'up': {
          anyUp = true;
          const weight = known?.weight ?? r.weight;
          if (inTable && holds(inTable, r.forward, weight, r.upperThreshold, r.lowerThreshold)) reals.push(inTable);
          else
            reals.push({
              address: addr,
              port,
              forward: r.forward,
              weight,
              upperThreshold: r.upperThreshold,
              lowerThreshold: r.lowerThreshold,
            });
          break;
        }
        case 'down':
          // quiescing is `-e -w 0` without -x/-y in the original: thresholds end up 0
          if (!v.quiescent || !(inTable || readd)) break;
          if (inTable && holds(inTable, r.forward, 0, 0, 0)) reals.push(inTable);
          else reals.push({ address: addr, port, forward: r.forward, weight: 0, upperThreshold: 0, lowerThreshold: 0 });
          break;
        case 'unknown':
          anyUnknown = true;
          if (inTable) reals.push(inTable);
          break;
      }
    }

    const destinations: IpvsDestination[] = [];
    const fb = fallbackOf(config, v);
    if (fb && !anyUp) {
      const addr = address(fb.ip);
      const port = storedDestinationPort(svc, fb.forward, fb.port);
      const inTable = inService.get(addressPortKey(addr, port));
      // listed first, so that it wins over a quiesced real at the same address
      if (!anyUnknown) {
        if (inTable && holds(inTable, fb.forward, 1, 0, 0)) destinations.push(inTable);
        else destinations.push({ address: addr, port, forward: fb.forward, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
      } else if (inTable) destinations.push(inTable);
    }
    destinations.push(...reals);
    services.push({ ...svc, destinations });
  }
  for (const k of o.previouslyManaged ?? []) managed.add(k);
  return { table: { services }, managed: [...managed], servers: new ServersOfVirtuals(config, covered) };
}

/**
 * Indexes a virtual's servers when a log line or an alert first asks about it: a
 * convergence at start or reload covers every real, and an index built with the desired
 * table (an object and two strings per real) would be live through ipvsadm's run and the
 * read-back, for log lines that come after.
 */
class ServersOfVirtuals implements ConfiguredServers {
  /** Per service key: stored destination key to the index in `virtual.reals` (-1: the fallback). */
  private readonly indexes = new Map<string, Map<string, number>>();

  constructor(
    private readonly config: Config,
    private readonly virtuals: ReadonlyMap<string, VirtualService>,
  ) {}

  get(service: IpvsServiceId, destination: { readonly address: string; readonly port: number }): ConfiguredServer | undefined {
    const key = serviceKey(service);
    const v = this.virtuals.get(key);
    if (!v) return undefined;
    let index = this.indexes.get(key);
    if (!index) this.indexes.set(key, (index = this.index(v)));
    const i = index.get(destinationKey(destination));
    if (i === undefined) return undefined;
    const label = serviceLabel(service);
    if (i >= 0) {
      const r = v.reals[i]!;
      return { role: 'real', configured: `${address(r.ip)}:${r.port}`, virtual: label, real: r };
    }
    const fb = fallbackOf(this.config, v)!;
    return { role: 'fallback', configured: `${address(fb.ip)}:${fb.port}`, virtual: label, fallback: fb };
  }

  private index(v: VirtualService): Map<string, number> {
    const svc = serviceOf(v);
    const index = new Map<string, number>();
    const add = (ip: string, forward: RealServer['forward'], port: number, i: number): void => {
      const dk = destinationKey({ address: address(ip), port: storedDestinationPort(svc, forward, port) });
      if (!index.has(dk)) index.set(dk, i);
    };
    v.reals.forEach((r, i) => add(r.ip, r.forward, r.port, i));
    const fb = fallbackOf(this.config, v);
    if (fb) add(fb.ip, fb.forward, fb.port, -1);
    return index;
  }
}
