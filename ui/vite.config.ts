// The console is built into dist/ui and served by the service at /ui (src/api/routes/ui.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  // Preact's JSX through esbuild: no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet: the page is small enough that splitting would only add requests.
    modulePreload: false,
    reportCompressedSize: true,
  },
  plugins: [
    {
      // src/client loads node:http only for its streaming Node upload, which the console never
      // calls (it posts NDJSON with the browser's fetch): left as imports that never run.
      name: 'node-builtins-unused',
      enforce: 'pre',
      resolveId: (id) => (id.startsWith('node:') ? { id, external: true } : null),
    },
  ],
  logLevel: 'warn',
});
