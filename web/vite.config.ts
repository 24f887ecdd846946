// Two pages: the app (index.html) and the signing GraphiQL explorer (explorer.html). Both load
// their configuration at runtime from outputs.json next to them, so one build serves any stack.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096, // GraphiQL brings Monaco; the explorer page is a developer tool
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, 'index.html'),
        explorer: resolve(import.meta.dirname, 'explorer.html'),
      },
      // GraphiQL's dependencies mark modules "use client" (a React Server Components hint).
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
