// Types of cdp-pipe.mjs for the TypeScript tests.
export const CHROMIUM: string;
export function haveChromium(): boolean;

export class Browser {
  static launch(o?: { width?: number; height?: number }): Promise<Browser>;
  send(method: string, params?: object, sessionId?: string, timeoutMs?: number): Promise<unknown>;
  waitEvent(method: string, sessionId: string | undefined, timeoutMs?: number, match?: (params: unknown) => boolean): Promise<unknown>;
  newPage(o?: { width?: number; height?: number; mobile?: boolean; scale?: number }): Promise<Page>;
  close(): Promise<void>;
}

export class Page {
  readonly browser: Browser;
  readonly sessionId: string;
  send(method: string, params?: object, timeoutMs?: number): Promise<unknown>;
  goto(url: string, timeoutMs?: number): Promise<void>;
  evaluate<T = unknown>(expression: string, timeoutMs?: number): Promise<T>;
  waitFor<T = unknown>(expression: string, timeoutMs: number, everyMs?: number): Promise<T>;
  screenshot(path: string, o?: { full?: boolean }): Promise<void>;
}
