// Types of fake-ipvsadm.mjs for the TypeScript tests that run it in-process.
export interface FakeIpvsadmResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export function runFakeIpvsadm(o: {
  readonly args: readonly string[];
  /** FAKE_IPVSADM_STATE and the other variables the fake reads (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Standard input for -R: the text, or a function that reads it when needed. */
  readonly stdin?: string | (() => string);
}): FakeIpvsadmResult;
