/**
 * Smoke run of `npm run bench` (scripts/bench): the same modules and code
 * paths with --quick-sized numbers, in-process. It checks that every figure
 * is measured and every budget gets a verdict — not that the budgets pass:
 * test machines are too noisy for that (npm run bench is the place).
 */
import { describe, expect, it } from 'vitest';
import { QUICK_OPTIONS, resultsJson, runBench } from '../../scripts/bench/index';
import type { BenchResults } from '../../scripts/bench/index';

const BUDGETED = [
  'pipeline.ratioReference.p50',
  'pinpad.js.gzip',
  'pinpad.interactive.p50',
  'pinpad.pressDom.p95',
  'pinpad.press.p95',
  'shipping.ratioUp.p95',
  'shipping.ratioDown.p95',
  'shipping.relp.ratio.up.p95',
  'shipping.relp.ratio.stalled.p95',
  'shipping.relp.ratio.down.p95',
  'audio.firstPrompt.p95',
  'startup.normal.overShortest',
  'startup.peakRss.ratio',
];

describe('bench smoke (--quick)', () => {
  let results: BenchResults;

  it('measures every figure and gives every budget a verdict', async () => {
    results = await runBench({
      ...QUICK_OPTIONS,
      runs: 2,
      pipelineN: 10,
      keychainN: 10,
      pageLoads: 1,
      presses: 8,
      shippingBacklog: 500,
      startupTrails: [1, 500],
    });
    expect(results.errors).toEqual({});
    for (const r of results.rows) {
      expect(r.value, r.id).toBeTypeOf('number');
      expect(Number.isFinite(r.value), r.id).toBe(true);
      expect(r.verdict, r.id).toMatch(r.budget ? /^(pass|fail)$/ : /^info$/);
    }
    expect(
      results.rows
        .filter((r) => r.budget !== null)
        .map((r) => r.id)
        .sort(),
    ).toEqual([...BUDGETED].sort());
    const ids = results.rows.map((r) => r.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'pipeline.p50',
        'pipelineGcm.p50',
        'pipelineGcm.ratioReference.p50',
        'pipeline.ratioBaseline.p50',
        'durableAppend.p50',
        'fetchFresh.p50',
        'fetchKeepAlive.p50',
        'keychainRead.p50',
        'pipeline.ratioFresh.p50',
        'pipeline.ratioKeepAlive.p50',
        'crypto.gcm.ratio',
        'crypto.iso4.ratio',
        'crypto.public-key.ratio',
        'crypto.publicKeyVsGcm',
        'keychain.read.p50',
        'keychain.read.p99',
        'pinpad.css.gzip',
        'operator.js.gzip',
        'operator.interactive.p50',
        'audio.firstPrompt.p50',
        'startup.first.500',
        'startup.normal.500',
        'startup.auditVerify',
        'startup.auditExport',
      ]),
    );
    const { summary } = results;
    expect(summary.budgets).toBe(BUDGETED.length);
    expect(summary.passed + summary.failed).toBe(summary.budgets);
    expect(summary.exitCode).toBe(summary.failed > 0 ? 1 : 0);
  }, 600_000);

  it('takes the ratio over each run and reports its spread; the baselines use the connections they claim', () => {
    const pipeline = results.sections.pipeline;
    expect(pipeline?.runs).toHaveLength(2);
    expect(pipeline?.ratioFresh.p50.values).toHaveLength(2);
    expect(pipeline?.ratioReference.p50.values).toHaveLength(2);
    const spreadRow = results.rows.find((r) => r.id === 'pipeline.ratioReference.p50');
    expect(spreadRow?.spread?.runs).toBe(2);
    expect(spreadRow?.spread?.min).toBeLessThanOrEqual(spreadRow?.spread?.max ?? Number.NaN);
    for (const run of pipeline?.runs ?? []) {
      expect(run.summaries.pipeline.n).toBe(10);
      expect(run.summaries.keychainRead.n).toBe(10);
      expect(run.summaries.pipelineGcm.n).toBe(10);
      expect(run.summaries.durableAppend.n).toBe(10);
      // The budget's reference is the sum of the three interleaved baselines; the older one (two) is kept for comparison.
      const reference = run.summaries.fetchFresh.p50 + run.summaries.keychainRead.p50 + run.summaries.durableAppend.p50;
      expect(run.ratioReference.p50).toBeCloseTo(run.summaries.pipeline.p50 / reference, 10);
      expect(run.ratioReferenceGcm.p50).toBeCloseTo(run.summaries.pipelineGcm.p50 / reference, 10);
      expect(run.ratioBaseline.p50).toBeCloseTo(run.summaries.pipeline.p50 / (run.summaries.fetchFresh.p50 + run.summaries.keychainRead.p50), 10);
      expect(run.connectionsPerOp.pipeline).toBe(1);
      expect(run.connectionsPerOp.fetchFresh).toBe(1);
      expect(run.connectionsPerOp.fetchKeepAlive).toBeLessThan(0.5);
      // Only api-token: the default profile's public key is the one Start read and checked; audit-key is held for the signed-in session.
      expect(run.keychainReadsPerOp).toBe(1);
      expect(run.keychainRoundTripsPerOp).toBe(1);
    }
    expect(results.sections.browser?.presses.n).toBe(8);
  });

  it('serializes to the results.json shape with machine info', () => {
    const json = JSON.parse(resultsJson(results)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['generatedAt', 'options', 'machine', 'rows', 'sections', 'summary']));
    const machine = json.machine as Record<string, unknown>;
    expect(machine.cpuCount).toBeTypeOf('number');
    expect(machine.node).toBe(process.version);
    expect(machine.chromium).toMatch(/^\d+\./);
    // Raw samples stay out of the file; their summaries are there.
    expect(resultsJson(results)).not.toContain('"samplesMs"');
  });
});
