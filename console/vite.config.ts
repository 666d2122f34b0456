// The console's build: a single-page app under /console, written into the
// Go package that embeds it (adapters/httpapi/console), with nothing
// inline (the page's CSP allows scripts and styles from 'self' only) and
// file names that depend on content alone, so that a fresh build of the
// same sources is byte for byte the committed one (check:generated).
import { fileURLToPath, URL } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a running miniback (go tool task run).
const api = process.env.MINIBACK_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  resolve: {
    // The SDK's source, typed by openapi.yaml: no built copy to keep in step.
    alias: { '@sdk': fileURLToPath(new URL('../sdk/src', import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL('../adapters/httpapi/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs and no inline module-preload script: everything is a file from 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/app-[hash].js',
        chunkFileNames: 'assets/chunk-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    proxy: {
      '/v1': { target: api, changeOrigin: false },
      '/healthz': api,
      '/readyz': api,
    },
  },
});
