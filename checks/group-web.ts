// The web, mail, file and generic checkers: checktypes connect, ping, external,
// external-perl, on, off, and services http, https, http_proxy, ftp, smtp, submission,
// pop, pops, imap, imaps, none. checks/registry.ts adds them to the registry.
import { connectChecker } from './connect.js';
import { externalPerlChecker } from './external-perl.js';
import { externalChecker } from './external.js';
import { ftpChecker } from './ftp.js';
import { httpChecker, httpProxyChecker, httpsChecker } from './http.js';
import { imapChecker, imapsChecker } from './imap.js';
import { noneChecker } from './none.js';
import { pingChecker } from './ping.js';
import { popChecker, popsChecker } from './pop.js';
import { smtpServiceChecker, submissionChecker } from './smtp.js';
import { offChecker, onChecker } from './static.js';
import type { Checker } from './types.js';

export const WEB_CHECKERS: Checker[] = [
  connectChecker,
  pingChecker,
  externalChecker,
  externalPerlChecker,
  onChecker,
  offChecker,
  noneChecker,
  httpChecker,
  httpsChecker,
  httpProxyChecker,
  ftpChecker,
  smtpServiceChecker,
  submissionChecker,
  popChecker,
  popsChecker,
  imapChecker,
  imapsChecker,
];
