// The original's log line for each command a convergence applied (spec §6), from what the
// desired state knows about the configured servers. Byte for byte as the original writes
// them; "mapped from" appears, as there, when ipvsadm stores a real on another port than
// the configured one.
import type { IpvsCommand } from './commands.js';
import type { DesiredState } from './desired.js';
import {
  addedServer,
  addedVirtualServer,
  changedVirtualServer,
  deletedServer,
  purgedRealServer,
  purgedVirtualServer,
  quiescentServer,
  readdQuiescentServer,
  restoredServer,
  type PurgeWhen,
} from './messages.js';
import { destinationKey, indexDestinations, serviceKey, serviceLabel, type IpvsService } from './table.js';

/**
 * The log line for an applied command, or undefined for none. `when` tags purges:
 * `start` at start-up and reload (as the original, even on reload), `stop` at shutdown.
 */
export function logLineFor(c: IpvsCommand, desired: DesiredState, when: PurgeWhen = 'start'): string {
  const v = serviceLabel(c.service);
  switch (c.op) {
    case 'add-service':
      return addedVirtualServer(v);
    case 'edit-service':
      return changedVirtualServer(v);
    case 'delete-service':
      return purgedVirtualServer(when, v);
    default:
      break;
  }
  const stored = destinationKey(c.destination);
  const known = desired.servers.get(c.service, c.destination);
  if (!known) return purgedRealServer(when, stored, v); // not in the config: an untracked entry
  const mapped = known.configured !== stored ? known.configured : undefined;
  switch (c.op) {
    case 'add-destination':
      return known.role === 'real' && c.destination.weight === 0
        ? readdQuiescentServer(stored, v, mapped)
        : addedServer(known.role, known.configured, v, c.destination.weight);
    case 'edit-destination':
      return known.role === 'real' && c.destination.weight === 0
        ? quiescentServer(stored, v, mapped)
        : restoredServer(known.role, known.configured, v, c.destination.weight);
    case 'delete-destination':
      return deletedServer(known.role, stored, v, mapped);
  }
}

/** What the table (indexServices()) holds of the entry a command is about, for changeNotMade(). */
export function tableShows(c: IpvsCommand, services: ReadonlyMap<string, IpvsService>): string {
  const v = serviceLabel(c.service);
  const service = services.get(serviceKey(c.service));
  if (!service) return `no virtual server ${v}`;
  if (c.op === 'add-service' || c.op === 'edit-service' || c.op === 'delete-service') {
    return `virtual server ${v} (scheduler ${service.scheduler}, ${service.destinations.length} server(s))`;
  }
  const rip = destinationKey(c.destination);
  const d = indexDestinations(service).get(rip);
  return d ? `${rip} in ${v} with weight ${d.weight}` : `no server ${rip} in ${v}`;
}
