// The account a check logs in with (ftp, pop, imap, ssh): login= and passwd=.
import type { CheckTarget } from './types.js';

export interface Account {
  readonly login: string;
  readonly passwd: string;
}

export function accountOf(target: CheckTarget): Account {
  return { login: target.virtual.login, passwd: target.virtual.passwd };
}
