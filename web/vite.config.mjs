// Builds the browser page (web/) into dist/browser as static files; `auraprune web` serves them with a run's models.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const outDir = fileURLToPath(new URL('../dist/browser', import.meta.url));
const wasmDir = fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8192 },
  plugins: [
    {
      // the WASM backend fetches its .wasm binaries at run time from ./wasm/
      name: 'copy-tfjs-wasm',
      closeBundle() {
        mkdirSync(join(outDir, 'wasm'), { recursive: true });
        for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(outDir, 'wasm', f));
      },
    },
  ],
});
