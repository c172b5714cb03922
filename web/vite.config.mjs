// Vite: the app in src/ built into dist/ (base `/`, hashed assets under assets/). The output
// is deterministic — the same sources make the same files — which `npm run check:dist` relies
// on. No inline scripts or styles: the UI is served with `script-src 'self'; style-src 'self'`.
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  base: '/',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev`: the API of a running `tailor up` (TAILOR_URL, default :8080) behind /v1.
    proxy: { '/v1': process.env.TAILOR_URL ?? 'http://127.0.0.1:8080' },
  },
});
