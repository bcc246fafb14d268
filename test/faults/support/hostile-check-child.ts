// The test side of hostile-check-batch.mjs: starts the child (built code from dist/),
// hands it one run at a time, and keeps it alive between runs so that the servers can
// be asked whether the client released its connections while the client still lives.
// The virtual and real of each target are built here, from the tests' one config builder,
// and cross to the child by structured clone.
import { fork, type ChildProcess } from 'node:child_process';
import type { RealServer, VirtualService } from '../../../lib/config/model.js';
import { realServer, virtualService } from '../../support/config-builders.js';

export interface TargetSpec {
  readonly host: string;
  readonly port: number;
  readonly request?: string;
  readonly receive?: string;
  /** VirtualService fields (login, protocol, ...). */
  readonly virtual?: Partial<VirtualService>;
}

/** A target as the child probes it: with its whole virtual and real. */
interface BuiltTarget extends Omit<TargetSpec, 'virtual'> {
  readonly virtual: VirtualService;
  readonly real: RealServer;
}

/** The check's deadline is also its virtual's checktimeout and negotiatetimeout. */
function built(t: TargetSpec, timeoutMs: number): BuiltTarget {
  const seconds = timeoutMs / 1000;
  return {
    ...t,
    virtual: virtualService({
      service: 'none',
      checkcommand: '',
      checktimeout: seconds,
      negotiatetimeout: seconds,
      checkinterval: 5,
      ...t.virtual,
    }),
    real: realServer({ ip: t.host, port: t.port }),
  };
}

export interface CheckerSpec {
  /** Registry name (http, https, pops, ldap, ...). */
  readonly name: string;
  /** PEM file trusted instead of the system bundle (https, pops, imaps). */
  readonly trustCa?: string;
}

export interface RunSpec {
  readonly checker: CheckerSpec;
  readonly target: TargetSpec;
  /** Checks in all, of which `warmup` before the first measurement. */
  readonly count: number;
  readonly warmup: number;
  readonly concurrency: number;
  /** The check's deadline (checktimeout and negotiatetimeout are set to it too). */
  readonly timeoutMs: number;
  readonly healthy?: { readonly checker: CheckerSpec; readonly target: TargetSpec; readonly timeoutMs: number };
}

export interface ProbeRecord {
  readonly ok: boolean;
  readonly message: string;
  readonly detail: string;
  readonly ms: number;
}

export interface Sample {
  readonly fds: number;
  readonly rss: number;
  /** heapUsed + external after a full GC. */
  readonly heap: number;
  readonly resources?: Record<string, number>;
}

export interface RunResult {
  readonly base: Sample;
  readonly afterWarmup: Sample;
  readonly afterAll: Sample;
  readonly settled: Sample;
  readonly hostile: readonly ProbeRecord[];
  readonly healthy: readonly ProbeRecord[];
}

export interface BatchChild {
  run(spec: RunSpec, timeoutMs?: number): Promise<RunResult>;
  close(): Promise<void>;
}

type Message = { type: 'ready' } | { type: 'result'; result: RunResult } | { type: 'error'; error: string };

export async function startBatchChild(): Promise<BatchChild> {
  const child: ChildProcess = fork(new URL('./hostile-check-batch.mjs', import.meta.url).pathname, [], {
    execArgv: ['--expose-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (ms: number): Promise<Message> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`batch child gave no answer within ${ms} ms`));
      }, ms);
      const onMessage = (m: Message): void => {
        cleanup();
        resolve(m);
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`batch child exited (${code})`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  const ready = await next(15_000);
  if (ready.type !== 'ready') throw new Error('batch child did not start');
  return {
    async run(spec, timeoutMs = 120_000) {
      const answer = next(timeoutMs);
      const target = built(spec.target, spec.timeoutMs);
      const healthy = spec.healthy && { ...spec.healthy, target: built(spec.healthy.target, spec.healthy.timeoutMs) };
      child.send({ type: 'run', spec: { ...spec, target, healthy } });
      const m = await answer;
      if (m.type === 'result') return m.result;
      throw new Error(m.type === 'error' ? m.error : 'unexpected message');
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
