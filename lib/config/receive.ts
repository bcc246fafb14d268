// receive= is a Perl regular expression in existing configs. The parser rejects
// what cannot be used with the same meaning, at the line that wrote it.
export function translateReceive(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
