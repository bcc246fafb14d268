// Typed ipvsadm commands and their two renderings: an argument array for one
// `ipvsadm ARGS` run, and a line of `ipvsadm -R` restore input.
import {
  destinationKey,
  serviceArgs,
  serviceKey,
  type IpvsDestination,
  type IpvsForward,
  type IpvsServiceId,
  type IpvsServiceOptions,
} from './table.js';

export type IpvsServiceSpec = IpvsServiceId & IpvsServiceOptions;

export type IpvsCommand =
  | { readonly op: 'add-service'; readonly service: IpvsServiceSpec }
  | { readonly op: 'edit-service'; readonly service: IpvsServiceSpec; readonly previous: IpvsServiceOptions }
  | { readonly op: 'delete-service'; readonly service: IpvsServiceId }
  | { readonly op: 'add-destination'; readonly service: IpvsServiceId; readonly destination: IpvsDestination }
  | {
      readonly op: 'edit-destination';
      readonly service: IpvsServiceId;
      readonly destination: IpvsDestination;
      /** The entry as it was in the table. */
      readonly previous: IpvsDestination;
    }
  | {
      readonly op: 'delete-destination';
      readonly service: IpvsServiceId;
      /** The entry as it was in the table. */
      readonly destination: IpvsDestination;
    };

export function forwardFlag(f: IpvsForward): '-g' | '-m' | '-i' {
  switch (f) {
    case 'masq':
      return '-m';
    case 'ipip':
      return '-i';
    case 'gate':
    case 'local':
      return '-g';
  }
}

function serviceOptionArgs(s: IpvsServiceSpec): string[] {
  const a = ['-s', s.scheduler];
  if (s.persistent !== undefined) {
    a.push('-p', String(s.persistent));
    if (s.netmask !== undefined) a.push('-M', s.netmask);
  }
  if (s.ops) a.push('-o');
  if (s.schedFlags !== undefined) a.push('-b', s.schedFlags);
  if (s.pe !== undefined) a.push('--pe', s.pe);
  return a;
}

/** The arguments of one ipvsadm run (without the program name). */
export function commandArgs(c: IpvsCommand): string[] {
  switch (c.op) {
    case 'add-service':
      return ['-A', ...serviceArgs(c.service), ...serviceOptionArgs(c.service)];
    case 'edit-service':
      return ['-E', ...serviceArgs(c.service), ...serviceOptionArgs(c.service)];
    case 'delete-service':
      return ['-D', ...serviceArgs(c.service)];
    case 'delete-destination':
      return ['-d', ...serviceArgs(c.service), '-r', destinationKey(c.destination)];
    case 'add-destination':
    case 'edit-destination': {
      const d = c.destination;
      // -x/-y always: without them `-e` resets the thresholds to 0 (spec §4.2).
      return [
        c.op === 'add-destination' ? '-a' : '-e',
        ...serviceArgs(c.service),
        '-r',
        destinationKey(d),
        forwardFlag(d.forward),
        '-w',
        String(d.weight),
        '-x',
        String(d.upperThreshold),
        '-y',
        String(d.lowerThreshold),
      ];
    }
  }
}

const UNSAFE = /[\s#]|^$/;

/**
 * The command as a line of `ipvsadm -R` input, or undefined when an argument cannot be
 * carried by that format (ipvsadm splits restore lines at blanks and stops at `#`):
 * such a command must run on its own with an argument array. Only the free-text options
 * (scheduler, flags, persistence engine) can hold such characters; addresses and numbers
 * are rendered by this module and cannot.
 */
export function restoreLine(c: IpvsCommand): string | undefined {
  if (c.op === 'add-service' || c.op === 'edit-service') {
    const s = c.service;
    if (
      UNSAFE.test(s.scheduler) ||
      (s.schedFlags !== undefined && UNSAFE.test(s.schedFlags)) ||
      (s.pe !== undefined && UNSAFE.test(s.pe)) ||
      (s.netmask !== undefined && UNSAFE.test(s.netmask))
    )
      return undefined;
  }
  return commandArgs(c).join(' ');
}

/** What a command works on: the service key, plus the destination key for destination commands. */
export function commandTarget(c: IpvsCommand): string {
  switch (c.op) {
    case 'add-service':
    case 'edit-service':
    case 'delete-service':
      return serviceKey(c.service);
    default:
      return `${serviceKey(c.service)} ${destinationKey(c.destination)}`;
  }
}
