// Types for fake-ipvs-proc.mjs (the fake ipvsadm's table as /proc/net/ip_vs shows it).
export function renderIpvsProc(table: unknown): string;
export function writeIpvsProc(file: string, table: unknown, changed: boolean): void;
