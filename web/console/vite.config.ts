/// <reference types="vitest/config" />
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'
import { apiProxy } from '../vite.shared'

// Element Plus components (and their CSS) are imported where a template uses them, not whole.
export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    Components({
      dts: 'components.d.ts',
      dirs: [],
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
  ],
  server: { port: 5173, proxy: apiProxy() },
  preview: { proxy: apiProxy() },
  build: { outDir: 'dist', manifest: true, sourcemap: false, chunkSizeWarningLimit: 1200 },
  test: {
    name: 'console',
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/testing/profileMessages.ts'],
    css: false,
    server: { deps: { inline: ['element-plus'] } },
  },
})
