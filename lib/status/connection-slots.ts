// Admission for the daemon's status listeners (the statusaddress HTTP listener
// and the control socket). Any local user can connect to them, so a cap that
// refuses newcomers would let a few idle clients blind both: every connection
// gets a deadline for its request and one for its answer, and a newcomer at
// the cap takes the slot of the connection that has waited longest without a
// request (it is owed nothing), or else of one whose answer has stalled
// (a client that does not read). Only when every slot holds an answer that is
// still young is the newcomer turned away.
import type { Socket } from 'node:net';

export interface SlotLimits {
  /** Connections held at once. */
  readonly max: number;
  /** From connecting, or from the previous answer's end, to a complete request. */
  readonly requestMs: number;
  /** From a request to the end of its answer: a client that does not read is dropped then. */
  readonly answerMs: number;
  /** An answer under way this long may be dropped to make room for a newcomer at the cap. */
  readonly stalledMs: number;
}

interface Slot {
  /** Requests being answered. */
  busy: number;
  /** When it last started waiting for a request (busy 0) or for its answers to finish. */
  since: number;
  timer: NodeJS.Timeout;
}

export class ConnectionSlots {
  /** In the order they last started waiting for a request: the first idle one is the oldest. */
  private readonly slots = new Map<Socket, Slot>();

  constructor(private readonly limits: SlotLimits) {}

  get size(): number {
    return this.slots.size;
  }

  /** Takes a new connection, making room for it at the cap; drops it when there is none. */
  admit(socket: Socket): void {
    if (this.slots.size >= this.limits.max && !this.shed()) {
      socket.destroy();
      return;
    }
    this.slots.set(socket, { busy: 0, since: Date.now(), timer: expire(socket, this.limits.requestMs) });
    socket.once('close', () => this.release(socket));
  }

  /** A complete request arrived: the connection is no longer idle, and its answer is timed. */
  busy(socket: Socket): void {
    const slot = this.slots.get(socket);
    if (!slot || slot.busy++ > 0) return;
    clearTimeout(slot.timer);
    slot.since = Date.now();
    slot.timer = expire(socket, this.limits.answerMs);
  }

  /** An answer is done: with none left, it waits for the next request, last in line to be shed. */
  done(socket: Socket): void {
    const slot = this.slots.get(socket);
    if (!slot || slot.busy === 0 || --slot.busy > 0) return;
    clearTimeout(slot.timer);
    this.slots.delete(socket);
    slot.since = Date.now();
    slot.timer = expire(socket, this.limits.requestMs);
    this.slots.set(socket, slot);
  }

  destroyAll(): void {
    for (const socket of [...this.slots.keys()]) {
      this.release(socket);
      socket.destroy();
    }
  }

  private release(socket: Socket): void {
    const slot = this.slots.get(socket);
    if (!slot) return;
    clearTimeout(slot.timer);
    this.slots.delete(socket);
  }

  /** Frees one slot: the oldest idle connection, else the longest-stalled answer. */
  private shed(): boolean {
    let victim: Socket | undefined;
    let oldest = Date.now() - this.limits.stalledMs;
    for (const [socket, slot] of this.slots) {
      if (slot.busy === 0) {
        victim = socket;
        break;
      }
      if (slot.since <= oldest) {
        victim = socket;
        oldest = slot.since;
      }
    }
    if (!victim) return false;
    this.release(victim);
    victim.destroy();
    return true;
  }
}

function expire(socket: Socket, ms: number): NodeJS.Timeout {
  // unref: a deadline never keeps a stopping daemon alive.
  return setTimeout(() => socket.destroy(), ms).unref();
}
