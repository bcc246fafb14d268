// Quoting for the one command line this program builds as a string: the command that
// `sync` runs on a peer over SSH. The SSH protocol's "exec" request carries a single
// string, which the peer's sshd hands to the user's login shell (`$SHELL -c <string>`);
// there is no argument vector to pass. Everything else in ldirectord-ts runs programs
// with argument arrays and no shell. Each argument is therefore wrapped in POSIX single
// quotes, inside which a POSIX shell interprets nothing; a quote inside the argument
// becomes '\'' (close, escaped quote, reopen). This assumes a POSIX login shell on the
// peer (sh, bash, dash, ksh, zsh), as the man page says.

/** One argument as a POSIX shell word that the shell reads back byte for byte. */
export function shellQuote(arg: string): string {
  // A NUL cannot be passed in an argv entry at all: refuse rather than truncate.
  if (arg.includes('\0')) throw new Error('an argument of a remote command contains a NUL byte');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line from an argument vector: every word quoted, joined by spaces. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an empty remote command');
  return argv.map(shellQuote).join(' ');
}
