/**
 * npm run bench [-- --quick] [-- --runs K] [-- --n N] [-- --cpu-profile] [-- --startup-trails 1,10000]
 *
 * Prints the table and writes bench/results.json. Exit code: 0 every budget
 * passes, 1 a budget is broken, 2 a budget could not be measured, 64 usage.
 * Run through scripts/with-test-keyring.sh (npm run bench does): the keychain
 * figures come from a private, throw-away Secret Service.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FULL_OPTIONS, QUICK_OPTIONS, resultsJson, runBench } from './index';
import type { BenchOptions } from './index';
import { renderTable } from './report';
import { REPO_ROOT } from './sizes';

const USAGE = `usage: npm run bench [-- --quick] [--runs K] [--n N] [--cpu-profile [file]] [--startup-trails N,N,...]
  --quick          small N, same code paths (a smoke run)
  --runs K         repeat the pipeline/fetch comparison K times; ratios show min-max over the runs
  --n N            pipeline operations per variant and run
  --cpu-profile    also profile one extra pipeline run (not in the figures); writes a .cpuprofile
  --startup-trails start-up section: trail lengths in records (default 1,10000,100000,1000000; --quick 1,2000)`;

function parseArgs(argv: readonly string[]): BenchOptions {
  let options: BenchOptions = argv.includes('--quick') ? { ...QUICK_OPTIONS } : { ...FULL_OPTIONS };
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') continue;
    if (arg === '--runs') options = { ...options, runs: positive(arg, argv[++i]) };
    else if (arg === '--n') options = { ...options, pipelineN: positive(arg, argv[++i]) };
    else if (arg === '--startup-trails') {
      const trails = (argv[++i] ?? '').split(',').map((n) => positive(arg, n));
      options = { ...options, startupTrails: trails };
    } else if (arg === '--cpu-profile') {
      const next = argv[i + 1];
      const path = next !== undefined && !next.startsWith('--') ? (i++, next) : join(tmpdir(), `pin-station-pipeline-${Date.now()}.cpuprofile`);
      options = { ...options, cpuProfilePath: path };
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const results = await runBench(options, (line) => console.error(line));
  const m = results.machine;
  console.log('');
  console.log(`PIN Station benchmarks${options.quick ? ' (--quick: small N, figures are rough)' : ''} — ${results.generatedAt}`);
  console.log(`${m.cpuModel} x${m.cpuCount} · ${m.platform} ${m.osRelease} · Node ${m.node} · Chromium ${m.chromium ?? 'n/a'} · load average ${m.loadAverage.before.toFixed(2)} -> ${m.loadAverage.after.toFixed(2)}`);
  console.log(
    'Ratios are taken within one run (same process, same server, operations interleaved); figures are not comparable across machines.',
  );
  console.log('');
  console.log(renderTable(results.rows));
  const pipeline = results.sections.pipeline;
  if (pipeline?.cpuProfile) {
    const profile = pipeline.cpuProfile;
    console.log('');
    console.log(`CPU profile of one extra pipeline run (${profile.totalMs.toFixed(0)} ms sampled, main thread): ${profile.path}`);
    for (const c of profile.categories) console.log(`  ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.selfMs.toFixed(1).padStart(8)} ms  ${c.name}`);
    console.log('  top functions (self time):');
    for (const f of profile.topFunctions.slice(0, 10)) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(1).padStart(8)} ms  ${f.name}`);
  }
  const s = results.summary;
  console.log('');
  console.log(`Budgets: ${s.passed} pass, ${s.failed} fail, ${s.notMeasured} not measured (of ${s.budgets}).`);
  for (const [section, error] of Object.entries(results.errors)) console.log(`  ${section}: ${error}`);

  const outDir = join(REPO_ROOT, 'bench');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'results.json');
  writeFileSync(outFile, `${resultsJson(results)}\n`);
  console.log(`Wrote ${relative(process.cwd(), outFile) || outFile}.`);
  return s.exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
