// Small readers for the original's value idioms ("first digit run anywhere",
// Perl truthiness, quoted values, `$!` texts), shared by the directive readers.

/** Perl truthiness of a string: only '' and '0' are false ("00" is true). */
export function perlTrue(s: string | undefined): boolean {
  return s !== undefined && s !== '' && s !== '0';
}

/** `$value =~ /(\d+)/`: the first run of digits anywhere, as text. */
export function firstDigits(value: string): string | undefined {
  return /(\d+)/.exec(value)?.[1];
}

const plainPatterns = new Map<string, RegExp>();
const quotedPatterns = new Map<string, RegExp>();

function pattern(cache: Map<string, RegExp>, name: string, value: string): RegExp {
  let re = cache.get(name);
  if (!re) cache.set(name, (re = new RegExp(`^${name}\\s*=\\s*${value}`)));
  return re;
}

/** The original's `name\s*=\s*(.*)` match against a directive line. */
export function directive(text: string, name: string): string | undefined {
  // Cheap prefix test first: most lines are not most directives.
  if (!text.startsWith(name)) return undefined;
  const m = pattern(plainPatterns, name, '(.*)').exec(text);
  return m ? m[1] : undefined;
}

/** `name\s*=\s*"(.*)"`: everything between the first and the last quote. */
export function quotedDirective(text: string, name: string): string | undefined {
  if (!text.startsWith(name)) return undefined;
  const m = pattern(quotedPatterns, name, '"(.*)"').exec(text);
  return m ? m[1] : undefined;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
};

/** The strerror(3) text Perl's `$!` would show for a Node error. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && ERRNO_TEXT[code]) || (err instanceof Error ? err.message : String(err));
}
