// The B1 benchmark's quick path, in-process at N=200: it must produce a report with
// samples and no errors. Nothing here is about time (benchmarks.md: benchmarks are a
// command, never timed assertions in tests).
import { describe, expect, it } from 'vitest';
import { B1_QUICK, b1Summary, runB1 } from '../../bench/b1-translate.js';
import { generate } from '../../bench/generate.js';
import { benchCert } from '../../bench/cert.js';

describe('bench B1 (smoke)', () => {
  it('generates the realistic mix deterministically', () => {
    const cert = benchCert();
    const a = generate({ ingresses: 50, cert, seed: 3 });
    const b = generate({ ingresses: 50, cert, seed: 3 });
    expect(JSON.stringify(a.objects)).toBe(JSON.stringify(b.objects));
    expect(a.counts.ingresses).toBe(50);
    expect(a.counts.namespaces).toBe(20);
    expect(a.counts.tlsIngresses).toBeGreaterThan(10);
    expect(a.counts.tlsIngresses).toBeLessThan(40);
    expect(a.counts.canaryIngresses).toBeGreaterThan(5);
    expect(a.roles.filter((r) => r === 'canary')).toHaveLength(a.counts.canaryIngresses);
    for (const ing of a.ingresses) {
      const rules = ing.spec!.rules!;
      expect(rules.length).toBeGreaterThanOrEqual(1);
      expect(rules.length).toBeLessThanOrEqual(3);
      for (const r of rules) {
        expect(r.http!.paths.length).toBeGreaterThanOrEqual(2);
        expect(r.http!.paths.length).toBeLessThanOrEqual(5);
      }
    }
  });

  it('runs the quick path at N=200 and reports samples without errors', async () => {
    const r = await runB1({ ...B1_QUICK, sizes: [200] });
    expect(r.errors).toEqual([]);
    expect(r.results).toHaveLength(1);
    const s = r.results[0]!;
    expect(s.n).toBe(200);
    expect(s.diagnostics.errors).toBe(0);
    expect(s.full.samplesMs.length).toBe(B1_QUICK.fullRepeats);
    expect(s.incremental.samplesMs.length).toBe(B1_QUICK.incrementalRepeats);
    expect(s.full.samplesMs.every((ms) => Number.isFinite(ms) && ms > 0)).toBe(true);
    // the collector's pauses per full sample, and what is left of the sample without them
    expect(s.full.gcSamples).toHaveLength(B1_QUICK.fullRepeats);
    s.full.gcSamples.forEach((g, i) => {
      expect(g.totalMs).toBeGreaterThanOrEqual(0);
      expect(g.totalMs).toBeLessThanOrEqual(s.full.samplesMs[i]! + 1);
      expect(s.full.mutatorSamplesMs[i]).toBeCloseTo(s.full.samplesMs[i]! - g.totalMs, 2);
    });
    expect(s.incremental.samples.every((x) => x.reencoded > 0)).toBe(true);
    expect(s.resources.distinct).toBeGreaterThan(0);
    expect(s.resources.httpRouteConfig.virtualHosts).toBe(s.generated.hosts);
    // Every host has a route in it; a TLS host only its HTTPS redirect (translate/plain-http.ts:
    // the routes it covers are in the host's HTTPS configuration).
    expect(s.resources.httpRouteConfig.routes).toBeGreaterThanOrEqual(s.generated.hosts);
    expect(new Set(s.incremental.samples.map((x) => x.change)).size).toBeGreaterThan(1);
    expect(b1Summary(r)).toContain('200');
  });
});
