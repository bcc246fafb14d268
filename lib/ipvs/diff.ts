// The pure heart of reconciliation: which ipvsadm commands turn the current table into
// the desired one, touching only the services this daemon manages.
import type { IpvsCommand } from './commands.js';
import {
  destinationKey,
  indexServices,
  normalizeService,
  sameDestination,
  sameServiceOptions,
  serviceIdOf,
  serviceKey,
  type IpvsDestination,
  type IpvsService,
  type IpvsServiceOptions,
  type IpvsTable,
} from './table.js';

function optionsOf(s: IpvsService): IpvsServiceOptions {
  return {
    scheduler: s.scheduler,
    ...(s.persistent !== undefined ? { persistent: s.persistent } : {}),
    ...(s.netmask !== undefined ? { netmask: s.netmask } : {}),
    ops: s.ops,
    ...(s.schedFlags !== undefined ? { schedFlags: s.schedFlags } : {}),
    ...(s.pe !== undefined ? { pe: s.pe } : {}),
  };
}

/** Drops later duplicates of a destination key (the kernel can hold each key once). */
function uniqueDestinations(s: IpvsService): IpvsDestination[] {
  const seen = new Set<string>();
  return s.destinations.filter((d) => {
    const k = destinationKey(d);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The commands that make `current` equal `desired` on the managed services.
 *
 * - `managed` holds service keys (`serviceKey`, the config's virtual ids). Services not in
 *   it are never touched, whatever they contain. Every service of `desired` must be in it.
 * - A managed service in `desired` is added if missing, edited (`-E`) if its options
 *   differ, and owned: every destination in it that `desired` does not list is removed.
 * - A managed service absent from `desired` (a virtual dropped on reload) is deleted.
 * - `desired` is compared in the form the kernel stores (gate/ipip ports mapped to the
 *   virtual port, canonical flags and netmask), so a real written without a port is not
 *   re-added on every pass. Of two desired destinations with the same stored key, the
 *   first one wins.
 *
 * Order, so the table never passes through a worse state than needed: new services and
 * service edits; then everything that adds capacity (new destinations, edits that do not
 * lower a weight); then what removes capacity (edits that lower a weight, including
 * quiescing to 0, and destination deletes); then service deletes. A fallback therefore
 * goes in before the last real goes out, and a new real comes up before the fallback is
 * removed.
 */
export function diffTable(current: IpvsTable, desired: IpvsTable, managed: Iterable<string>): IpvsCommand[] {
  const managedKeys = new Set(managed);
  // Only managed services are compared: the others (most of a large table when a
  // convergence is scoped to a few virtuals) are not even normalised.
  const cur = indexServices({ services: current.services.filter((s) => managedKeys.has(serviceKey(s))).map(normalizeService) });
  const want = new Map<string, IpvsService>();
  for (const s of desired.services) {
    const k = serviceKey(s);
    if (!managedKeys.has(k)) throw new Error(`diffTable: desired service ${k} is not among the managed services`);
    if (!want.has(k)) want.set(k, normalizeService(s));
  }

  const services: IpvsCommand[] = [];
  const grow: IpvsCommand[] = [];
  const shrink: IpvsCommand[] = [];
  const drop: IpvsCommand[] = [];

  for (const [k, w] of want) {
    const id = serviceIdOf(w);
    const c = cur.get(k);
    if (!c) {
      services.push({ op: 'add-service', service: { ...id, ...optionsOf(w) } });
      for (const d of uniqueDestinations(w)) grow.push({ op: 'add-destination', service: id, destination: d });
      continue;
    }
    if (!sameServiceOptions(c, w)) services.push({ op: 'edit-service', service: { ...id, ...optionsOf(w) }, previous: optionsOf(c) });
    // Each destination's key is made once, not once per lookup: a convergence of the whole
    // table compares every real.
    const haveKeys = c.destinations.map(destinationKey);
    const have = new Map<string, IpvsDestination>();
    c.destinations.forEach((h, i) => have.set(haveKeys[i]!, h));
    const wanted = new Set<string>();
    for (const d of w.destinations) {
      const dk = destinationKey(d);
      if (wanted.has(dk)) continue; // a later duplicate (the kernel holds each key once)
      wanted.add(dk);
      const h = have.get(dk);
      if (!h) grow.push({ op: 'add-destination', service: id, destination: d });
      else if (!sameDestination(h, d)) {
        (d.weight < h.weight ? shrink : grow).push({ op: 'edit-destination', service: id, destination: d, previous: h });
      }
    }
    c.destinations.forEach((h, i) => {
      if (!wanted.has(haveKeys[i]!)) shrink.push({ op: 'delete-destination', service: id, destination: h });
    });
  }
  for (const k of managedKeys) {
    const c = cur.get(k);
    if (c && !want.has(k)) drop.push({ op: 'delete-service', service: serviceIdOf(c) });
  }
  return [...services, ...grow, ...shrink, ...drop];
}
