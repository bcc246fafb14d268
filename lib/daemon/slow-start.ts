// slowstart (ldirectord-ts): after a real comes back up, its weight climbs to
// the configured one in a few steps over the configured time, so a cold cache
// or a JIT that has not warmed up does not get its full share of new
// connections at once. Pure: the director asks what weight a real should have
// now and when that next changes.

/** "A few steps": each is one ipvsadm change and a log line. */
export const MAX_RAMP_STEPS = 10;

export interface RampPoint {
  /** The weight for now: never 0 (that would quiesce the real), never above the target. */
  readonly weight: number;
  /** Milliseconds until the weight changes again; undefined once the ramp is over. */
  readonly nextChangeInMs?: number;
}

/**
 * Steps below the full weight: at most MAX_RAMP_STEPS, at most one per second
 * of the ramp (steps are at least 1 s apart), and at most target-1 (each step
 * must be a different whole weight from 1 up). 0 means no ramp at all.
 */
export function rampSteps(target: number, seconds: number): number {
  return Math.max(0, Math.min(MAX_RAMP_STEPS, Math.floor(seconds), target - 1));
}

/**
 * The weight `elapsedMs` after the real came up. With S steps over T seconds,
 * step i (0-based) lasts T/S and has weight ceil(target*(i+1)/(S+1)): strictly
 * rising from at least 1, below the target; the target from T on.
 */
export function slowStartWeight(target: number, seconds: number, elapsedMs: number): RampPoint {
  const steps = rampSteps(target, seconds);
  const totalMs = seconds * 1000;
  if (steps === 0 || elapsedMs >= totalMs) return { weight: target };
  const stepMs = totalMs / steps;
  const i = Math.min(steps - 1, Math.floor(Math.max(0, elapsedMs) / stepMs));
  return {
    weight: Math.ceil((target * (i + 1)) / (steps + 1)),
    nextChangeInMs: Math.ceil((i + 1) * stepMs - Math.max(0, elapsedMs)),
  };
}
