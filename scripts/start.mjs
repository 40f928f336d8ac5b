// npm start: build, then launch the app against the embedded sandbox processor.
import { spawnSync } from 'node:child_process';
import { electronBinaryPath, MISSING_ELECTRON_MESSAGE } from './electron-binary.mjs';

if (!electronBinaryPath()) {
  console.error(`PIN Station cannot start: ${MISSING_ELECTRON_MESSAGE}.`);
  process.exit(1);
}
const result = spawnSync('npx', ['electron-vite', 'preview'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
