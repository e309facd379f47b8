import { defineConfig } from 'vite';

// The API the dev and preview servers pass /v1 to (the built files are served by
// the Spin app itself, from the same origin as the API, so production needs no proxy).
const api = process.env.POSTLOAN_API ?? 'http://127.0.0.1:3000'; // scripts/up's address

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
  },
  server: { proxy: { '/v1': { target: api, changeOrigin: false } } },
  preview: { proxy: { '/v1': { target: api, changeOrigin: false } } },
});
