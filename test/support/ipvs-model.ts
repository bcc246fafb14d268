// A pure model of what the kernel does with each ipvsadm command (including ipvsadm's
// port mapping for gate/ipip), for property tests of the diff without any process.
import type { IpvsCommand } from '../../lib/ipvs/commands.js';
import { destinationKey, serviceKey, storedDestinationPort, type IpvsService, type IpvsTable } from '../../lib/ipvs/table.js';

export function applyCommand(t: IpvsTable, c: IpvsCommand): IpvsTable {
  const k = serviceKey(c.service);
  const idx = t.services.findIndex((s) => serviceKey(s) === k);
  const services = [...t.services];
  const svc = idx >= 0 ? services[idx]! : undefined;
  switch (c.op) {
    case 'add-service':
      if (svc) throw new Error('Service already exists');
      services.push({ ...c.service, destinations: [] });
      return { services };
    case 'edit-service':
      if (!svc) throw new Error('No such service');
      services[idx] = { ...c.service, destinations: svc.destinations };
      return { services };
    case 'delete-service':
      if (!svc) throw new Error('No such service');
      services.splice(idx, 1);
      return { services };
    default: {
      if (!svc) throw new Error('Service not defined');
      const d = { ...c.destination, port: storedDestinationPort(svc, c.destination.forward, c.destination.port) };
      const dk = destinationKey(d);
      const di = svc.destinations.findIndex((x) => destinationKey(x) === dk);
      const dests = [...svc.destinations];
      if (c.op === 'add-destination') {
        if (di >= 0) throw new Error('Destination already exists');
        dests.push(d);
      } else if (c.op === 'edit-destination') {
        if (di < 0) throw new Error('No such destination');
        dests[di] = d;
      } else {
        if (di < 0) throw new Error('No such destination');
        dests.splice(di, 1);
      }
      services[idx] = { ...svc, destinations: dests } as IpvsService;
      return { services };
    }
  }
}

export const applyCommands = (t: IpvsTable, cmds: readonly IpvsCommand[]): IpvsTable => cmds.reduce(applyCommand, t);
