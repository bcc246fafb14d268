// Headless Chromium (Debian's package) driven over the DevTools protocol on
// --remote-debugging-pipe: the protocol's JSON messages, NUL-terminated, on
// the child's fds 3 (to it) and 4 (from it). No WebSocket, no npm package:
// the few commands the status page's tests and bench use. Chromium runs in
// its own process group, killed whole by close().
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? (existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : 'chromium');

export function haveChromium() {
  return existsSync(CHROMIUM) || process.env.CHROMIUM !== undefined;
}

export class Browser {
  #child;
  #profile;
  #next = 1;
  #pending = new Map();
  #listeners = new Set();
  #buffer = '';
  #exited;

  constructor(child, profile) {
    this.#child = child;
    this.#profile = profile;
    this.#exited = new Promise((r) => child.once('exit', r));
    child.stdio[4].setEncoding('utf8').on('data', (d) => this.#data(d));
    child.stdio[3].on('error', () => undefined);
    void this.#exited.then(() => {
      for (const p of this.#pending.values()) p.reject(new Error('chromium exited'));
      this.#pending.clear();
    });
  }

  static async launch({ width = 1280, height = 900 } = {}) {
    const profile = mkdtempSync(join(tmpdir(), 'ldirectord-chromium-'));
    const args = [
      '--headless=new',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-sync',
      '--mute-audio',
      '--hide-scrollbars',
      `--window-size=${width},${height}`,
      'about:blank',
    ];
    // root cannot use Chromium's sandbox (CI runs as root)
    if (process.getuid?.() === 0) args.unshift('--no-sandbox');
    const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const browser = new Browser(child, profile);
    try {
      await browser.send('Browser.getVersion', {}, undefined, 30_000);
    } catch (e) {
      await browser.close();
      throw new Error(`chromium did not start: ${e.message}\n${stderr}`, { cause: e });
    }
    return browser;
  }

  #data(chunk) {
    this.#buffer += chunk;
    let nul;
    while ((nul = this.#buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(this.#buffer.slice(0, nul));
      this.#buffer = this.#buffer.slice(nul + 1);
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else for (const l of this.#listeners) l(msg);
    }
  }

  send(method, params = {}, sessionId, timeoutMs = 30_000) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#child.stdio[3].write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** The next event `method` of `sessionId` that `match` accepts. */
  waitEvent(method, sessionId, timeoutMs = 30_000, match = () => true) {
    return new Promise((resolve, reject) => {
      const l = (msg) => {
        if (msg.method !== method || msg.sessionId !== sessionId || !match(msg.params)) return;
        this.#listeners.delete(l);
        clearTimeout(timer);
        resolve(msg.params);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(l);
        reject(new Error(`no ${method} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#listeners.add(l);
    });
  }

  async newPage({ width = 1280, height = 900, mobile = false, scale = 1 } = {}) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: scale, mobile });
    return page;
  }

  async close() {
    const pid = this.#child.pid;
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      await Promise.race([this.send('Browser.close', {}, undefined, 5000).catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
      await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    // the renderer and helper processes too
    try {
      if (pid) process.kill(-pid, 'SIGKILL');
    } catch {
      // all gone
    }
    rmSync(this.#profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
  }

  send(method, params = {}, timeoutMs) {
    return this.browser.send(method, params, this.sessionId, timeoutMs);
  }

  /** Loads `url` and waits for its load event. */
  async goto(url, timeoutMs = 30_000) {
    const loaded = this.browser.waitEvent('Page.loadEventFired', this.sessionId, timeoutMs);
    const r = await this.send('Page.navigate', { url }, timeoutMs);
    if (r.errorText) throw new Error(`${url}: ${r.errorText}`);
    await loaded;
  }

  /** The value of `expression` in the page (a promise is awaited). */
  async evaluate(expression, timeoutMs = 30_000) {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, timeoutMs);
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** Polls `expression` until it is truthy; its last value otherwise, after `timeoutMs`. */
  async waitFor(expression, timeoutMs, everyMs = 200) {
    const until = Date.now() + timeoutMs;
    let v = await this.evaluate(expression);
    while (!v && Date.now() < until) {
      await new Promise((r) => setTimeout(r, everyMs));
      v = await this.evaluate(expression);
    }
    return v;
  }

  /** A PNG of the whole page (`full`) or the viewport, written to `path`. */
  async screenshot(path, { full = false } = {}) {
    const r = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: full }, 60_000);
    writeFileSync(path, Buffer.from(r.data, 'base64'));
  }
}
