// Types of page-fixture.mjs for the TypeScript tests.
import type { StatusDocument } from '../lib/status/document.js';
import type { StateChange } from '../lib/status/state-history.js';

export function bigStatus(virtuals: number, reals: number, now?: number): { doc: StatusDocument; changes: StateChange[] };
