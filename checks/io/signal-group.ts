// The checks in flight on one deadline signal. The runner shares one signal among the
// checks whose deadlines fall together, and starts them together: one abort listener per
// signal ends them all, and a check joins and leaves a Set instead of the signal's
// listener list. The listener goes when the last of them ends (the signal outlives the
// checks and must not keep anything of them).

/** A check that a group can end when its signal aborts. */
export interface SignalMember {
  aborted(signal: AbortSignal): void;
}

/** The members on one signal; a member leaves when it ends by itself. */
export class SignalGroup<T extends SignalMember> {
  private readonly pending = new Set<T>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly groups: SignalGroups<T>,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.groups.forget(this.signal, this);
    for (const m of this.pending) m.aborted(this.signal);
  };

  add(member: T): void {
    this.pending.add(member);
  }

  leave(member: T): void {
    this.pending.delete(member);
    if (this.pending.size === 0 && this.groups.forget(this.signal, this)) this.signal.removeEventListener('abort', this.onAbort);
  }
}

/** One kind of check's groups, by signal. */
export class SignalGroups<T extends SignalMember> {
  private readonly bySignal = new WeakMap<AbortSignal, SignalGroup<T>>();

  /** Adds `member` to the group of `signal` (made on first use) and returns that group. */
  join(signal: AbortSignal, member: T): SignalGroup<T> {
    let group = this.bySignal.get(signal);
    if (group === undefined) this.bySignal.set(signal, (group = new SignalGroup(signal, this)));
    group.add(member);
    return group;
  }

  /** Drops `group` if it is still the one of `signal`; whether it was. */
  forget(signal: AbortSignal, group: SignalGroup<T>): boolean {
    if (this.bySignal.get(signal) !== group) return false;
    this.bySignal.delete(signal);
    return true;
  }
}
