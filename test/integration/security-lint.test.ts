/**
 * Static security checks of the built app: Electronegativity over out/ (every
 * finding must be justified in docs/security/electronegativity-justifications.json)
 * and Google's CSP evaluator over the policy the pages carry and the header
 * the app protocol sends. Needs `npm run build` first (npm test does it).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../main/adapter/csp';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

interface CspFinding {
  type: number;
  severity: number;
  directive: string;
  description: string;
}
interface CspEvaluatorModule {
  CspParser: new (raw: string) => { csp: unknown };
  CspEvaluator: new (csp: unknown, version: unknown) => { evaluate(): CspFinding[] };
  Version: { CSP3: unknown };
  severities: Record<string, number>;
}

async function evaluateCsp(raw: string): Promise<CspFinding[]> {
  const evaluator = (await import('@doyensec/csp-evaluator')) as { default?: CspEvaluatorModule } & CspEvaluatorModule;
  const csp = evaluator.default ?? evaluator;
  return new csp.CspEvaluator(new csp.CspParser(raw).csp, csp.Version.CSP3).evaluate();
}

function metaCsp(page: 'operator' | 'pinpad'): string {
  const html = readFileSync(join(root, 'out', 'renderer', page, 'index.html'), 'utf8');
  // Attributes may be on lines of their own (the source is formatted by Prettier).
  const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error(`no CSP meta tag in the built ${page} page`);
  return match[1];
}

describe('Content-Security-Policy', () => {
  it('the header policy has no finding above "medium, maybe" (only the justified script-src self note)', async () => {
    const findings = await evaluateCsp(CONTENT_SECURITY_POLICY);
    // Severity numbers: HIGH 10, SYNTAX 20, MEDIUM 30, HIGH_MAYBE 40, STRICT_CSP 45, MEDIUM_MAYBE 50.
    expect(findings.filter((f) => f.severity < 50)).toEqual([]);
    expect(findings.map((f) => `${f.directive}: ${f.description}`)).toEqual([
      "script-src: 'self' can be problematic if you host JSONP, Angular or user uploaded files.",
    ]);
  });

  for (const page of ['operator', 'pinpad'] as const) {
    it(`the built ${page} page carries the same policy (meta tags cannot express frame-ancestors)`, async () => {
      expect(metaCsp(page)).toBe(CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", ''));
      expect((await evaluateCsp(metaCsp(page))).filter((f) => f.severity < 50)).toEqual([]);
    });
  }

  it('the policy forbids inline and remote script, eval, objects and framing', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|http:|https:|\*/);
  });
});

describe('Electronegativity', () => {
  it('reports nothing on out/ that is not justified in writing, and every justification is still needed', async () => {
    expect(existsSync(join(root, 'out', 'main', 'index.js'))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'electronegativity-'));
    const report = join(dir, 'report.sarif');
    try {
      // -e: the Electron version in use (it cannot look it up offline).
      await run('npx', ['electronegativity', '-i', 'out', '-r', '-e', '41.10.0', '-o', report, '-v', 'false'], { cwd: root, timeout: 120_000 });
      const sarif = JSON.parse(readFileSync(report, 'utf8')) as {
        runs: { results: { ruleId: string; locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[] }[] }[];
      };
      const found = (sarif.runs[0]?.results ?? []).map((r) => `${r.ruleId} ${r.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? '?'}`);
      const allowed = (
        JSON.parse(readFileSync(join(root, 'docs', 'security', 'electronegativity-justifications.json'), 'utf8')) as {
          findings: { check: string; file: string; justification: string }[];
        }
      ).findings;
      for (const entry of allowed) expect(entry.justification.length).toBeGreaterThan(40);
      const allowedKeys = allowed.map((a) => `${a.check} ${a.file}`);
      expect(found.filter((f) => !allowedKeys.includes(f))).toEqual([]);
      expect(allowedKeys.filter((a) => !found.includes(a))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
