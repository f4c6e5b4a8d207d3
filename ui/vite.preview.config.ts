// Builds the UI against preview/fake-api.ts instead of the Tauri bridge, to look at it in a plain
// browser: `npm run preview:fake`, then open http://127.0.0.1:4173/. Not used by the app build.
import { fileURLToPath } from 'node:url';

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const realApi = fileURLToPath(new URL('./src/lib/api.ts', import.meta.url));
const fakeApi = fileURLToPath(new URL('./preview/fake-api.ts', import.meta.url));

function fakeTauri(): Plugin {
  return {
    name: 'latchkey-fake-api',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === realApi ? fakeApi : null;
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [fakeTauri(), svelte()],
  build: { outDir: 'preview/dist', emptyOutDir: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
});
