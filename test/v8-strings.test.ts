// Strings kept for long must not keep the text they were cut from: a cut of 13 characters
// or more is a view into its parent in V8, and the last regular expression match keeps its
// subject. Measured as heap used after full collections, with a control that keeps a view.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ownCopy, releaseLastMatch } from '../lib/v8-strings.js';
import { parseListings } from '../lib/ipvs/listing-parser.js';
import { parse } from './config/parse-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const used = (): number => {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
};

/** A flat text of about `mb` MB, made here (not a constant V8 could share). */
function bigText(mb: number, tag: string): string {
  const parts: string[] = [];
  for (let i = 0; parts.length * 16 < mb * 1e6; i++) parts.push(`${tag}:${String(i).padStart(10, '0')}`);
  return parts.join(' ');
}

/** Heap used after `keep` has cut and kept something from a fresh 8 MB text, which is then dropped. */
function retainedBy(keep: (text: string) => unknown): { bytes: number; kept: unknown } {
  const before = used();
  const kept = keep(bigText(8, `t${Math.random()}`));
  return { bytes: used() - before, kept };
}

async function retainedByAsync(keep: () => Promise<unknown>): Promise<{ bytes: number; kept: unknown }> {
  const before = used();
  const kept = await keep();
  return { bytes: used() - before, kept };
}

describe('v8-strings', () => {
  it('ownCopy: the same characters, without the text they were cut from', () => {
    const view = retainedBy((t) => t.slice(100, 140));
    expect(view.bytes).toBeGreaterThan(7e6); // the control: a view keeps the whole text
    const own = retainedBy((t) => ownCopy(t.slice(100, 140)));
    expect(own.bytes).toBeLessThan(1e6);
    expect((own.kept as string).length).toBe(40);
    expect(ownCopy('\u00e9t\u00e9 \ud83d\ude00 \ud800')).toBe('\u00e9t\u00e9 \ud83d\ude00 \ud800');
  });

  it('releaseLastMatch: the last match no longer keeps its subject', () => {
    const matched = retainedBy((t) => /:(\d+) /.exec(t.slice(100, 140))?.[1]?.length);
    expect(matched.bytes).toBeGreaterThan(7e6); // the control: the last match keeps its subject's text
    const released = retainedBy((t) => {
      const n = /:(\d+) /.exec(t.slice(100, 140))?.[1]?.length;
      releaseLastMatch();
      return n;
    });
    expect(released.bytes).toBeLessThan(1e6);
    expect(released.kept).toBe(10);
  });
});

describe('parseListings', () => {
  // Retried: the heap figure after forced collections does not repeat exactly from run to
  // run. What the parser keeps it keeps on every try, so a retry hides no retention.
  it('keeps nothing of a listing it parsed in its caches', { retry: 2 }, () => {
    // Many services, few distinct destinations: what the caches keep is small, the text large.
    const services = 400;
    const reals = Array.from({ length: 100 }, (_, i) => `10.213.${Math.floor(Math.random() * 200)}.${i + 1}:8080`);
    const head = 'IP Virtual Server version 1.2.1 (size=4096)\n';
    const text = (): string => {
      let plain = `${head}Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
      let thr = `${head}Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n`;
      for (let s = 0; s < services; s++) {
        const svc = `TCP  10.214.${s >> 8}.${s & 255}:80 wlc\n`;
        plain += svc;
        thr += svc;
        for (const r of reals) {
          plain += `  -> ${r.padEnd(28)} Masq    1      0          0         \n`;
          thr += `  -> ${r.padEnd(28)} 0          0          0          0         \n`;
        }
      }
      return plain + thr;
    };
    let size = 0;
    const r = retainedBy(() => {
      const t = text();
      size = t.length;
      return parseListings(t).services.length;
    });
    expect(r.kept).toBe(services);
    expect(size).toBeGreaterThan(5e6);
    // the services' cached lines and the table's records aside, none of the text
    expect(r.bytes).toBeLessThan(size / 4);
  });
});

describe('parseConfig', () => {
  it("keeps none of the file's text in the reals' addresses", async () => {
    // A large text (comments) around a few reals of long addresses: the model is small.
    const comment = `# ${'x'.repeat(4000)}\n`;
    let size = 0;
    const r = await retainedByAsync(async () => {
      let text = 'checkinterval=5\nvirtual=10.0.0.1:80\n    checktype=connect\n';
      for (let i = 0; i < 1000; i++) text += `${comment}    real=127.154.${100 + Math.floor(i / 100)}.${100 + (i % 100)}:8080 masq\n`;
      size = text.length;
      const parsed = await parse(text);
      return parsed.config;
    });
    expect(size).toBeGreaterThan(4e6);
    const reals = (r.kept as { virtuals: { reals: unknown[] }[] } | undefined)?.virtuals[0]?.reals;
    expect(reals?.length).toBe(1000);
    expect(r.bytes).toBeLessThan(size / 4);
  });
});
