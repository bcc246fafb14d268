// Failures of the ipvsadm program, classified so that callers can tell "this machine has
// no IPVS" from "this one command was refused" and never mistake an error for an empty table.

export type IpvsadmErrorKind =
  /** ipvsadm could not reach the kernel's IPVS at all (no ip_vs module, not root, ...). */
  | 'no-ipvs'
  /** ipvsadm could not be started (missing, not executable). */
  | 'spawn'
  /** ipvsadm did not finish within the time allowed, or was cancelled. */
  | 'timeout'
  /** ipvsadm ran and exited non-zero. */
  | 'failed'
  /** ipvsadm's output was not in a form this parser knows. */
  | 'parse';

export class IpvsadmError extends Error {
  override readonly name = 'IpvsadmError';
  constructor(
    readonly kind: IpvsadmErrorKind,
    message: string,
    readonly details: {
      readonly args?: readonly string[];
      readonly exitCode?: number;
      readonly stderr?: string;
      /** 1-based line of the output that did not parse. */
      readonly line?: number;
    } = {},
  ) {
    super(message);
  }
}

/** ipvsadm's own text (main() in ipvsadm.c) when it cannot talk to the kernel. */
const NO_IPVS = /^Can't initialize ipvs: (.*)\nAre you sure that IP Virtual Server is built in the kernel or as module\?/m;

/** The error for an ipvsadm run that exited with `exitCode` and printed `stderr`. */
export function ipvsadmFailure(args: readonly string[], exitCode: number, stderr: string): IpvsadmError {
  const text = stderr.trim();
  const m = NO_IPVS.exec(text);
  if (m) return new IpvsadmError('no-ipvs', `IPVS is not available: ${m[1]}`, { args, exitCode, stderr: text });
  return new IpvsadmError('failed', text === '' ? `ipvsadm exited with status ${exitCode}` : text, { args, exitCode, stderr: text });
}
