// Node's own libuv TCP handle, the one under net.Socket, for the probes that run
// thousands of times a minute and need nothing of a stream: a connect check (connect,
// close) and a plain http check (connect, one write, read to the end, close). net.Socket
// builds a Readable and a Writable with their state, buffers and events per connection,
// and at thousands of reals that costs more CPU, and leaves more garbage, than the
// exchange itself (bench/RESULTS.md measures both ways against keepalived).
//
// The handle comes from process.binding('tcp_wrap'), which Node keeps for compatibility
// (DEP0111, documentation-only). Where it cannot be had (a Node without it, the permission
// model, or --pending-deprecation, under which it would warn in the daemon's log),
// tcpBinding() gives null and the callers take their portable path.

export interface UvRequest {
  oncomplete: (status: number) => void;
  handle?: unknown;
}

export interface TcpHandle {
  onread: (buffer: ArrayBuffer | undefined) => void;
  connect(req: UvRequest, address: string, port: number): number;
  connect6(req: UvRequest, address: string, port: number): number;
  writeLatin1String(req: UvRequest, text: string): number;
  readStart(): number;
  /** Reads go into `buffer` (shared, overwritten by the next read) and onread gets no buffer. */
  useUserBuffer?(buffer: Uint8Array): void;
  close(): void;
  getsockname(out: { address?: string; port?: number }): number;
}

export interface TcpBinding {
  newHandle(): TcpHandle;
  newConnectReq(): UvRequest;
  newWriteReq(): UvRequest;
  /** Where a read's byte count (or error) and its buffer offset are left (stream_wrap). */
  readonly state: Int32Array;
  readonly readBytes: number;
  readonly offset: number;
}

let binding: TcpBinding | null | undefined;

function pendingDeprecation(): boolean {
  return (
    process.execArgv.includes('--pending-deprecation') ||
    process.env.NODE_PENDING_DEPRECATION === '1' ||
    /--pending-deprecation/.test(process.env.NODE_OPTIONS ?? '')
  );
}

function load(): TcpBinding | null {
  if (pendingDeprecation()) return null;
  try {
    const get = (process as unknown as { binding?: (name: string) => unknown }).binding;
    if (typeof get !== 'function') return null;
    const tcp = get.call(process, 'tcp_wrap') as {
      TCP?: new (kind: number) => TcpHandle;
      TCPConnectWrap?: new () => UvRequest;
      constants?: { SOCKET?: number };
    };
    const stream = get.call(process, 'stream_wrap') as {
      WriteWrap?: new () => UvRequest;
      streamBaseState?: Int32Array;
      kReadBytesOrError?: number;
      kArrayBufferOffset?: number;
    };
    const { TCP, TCPConnectWrap, constants } = tcp;
    const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = stream;
    const proto = TCP?.prototype as Partial<TcpHandle> | undefined;
    if (
      typeof TCP !== 'function' ||
      typeof TCPConnectWrap !== 'function' ||
      typeof WriteWrap !== 'function' ||
      typeof constants?.SOCKET !== 'number' ||
      !(streamBaseState instanceof Int32Array) ||
      typeof kReadBytesOrError !== 'number' ||
      typeof kArrayBufferOffset !== 'number' ||
      typeof proto?.connect !== 'function' ||
      typeof proto.connect6 !== 'function' ||
      typeof proto.writeLatin1String !== 'function' ||
      typeof proto.readStart !== 'function' ||
      typeof proto.close !== 'function' ||
      typeof proto.getsockname !== 'function'
    ) {
      return null;
    }
    const socketKind = constants.SOCKET;
    return {
      newHandle: () => new TCP(socketKind),
      newConnectReq: () => new TCPConnectWrap(),
      newWriteReq: () => new WriteWrap(),
      state: streamBaseState,
      readBytes: kReadBytesOrError,
      offset: kArrayBufferOffset,
    };
  } catch {
    return null;
  }
}

/** The handle's constructors when this Node lends them in the shape used here (looked up once). */
export function tcpBinding(): TcpBinding | null {
  if (binding === undefined) binding = load();
  return binding;
}

/** For tests: forget the binding (undefined: look again) or pretend it is missing (null). */
export function setTcpBindingForTest(b: null | undefined): void {
  binding = b;
}
