/// <reference types="vitest/config" />
import { VantResolver } from '@vant/auto-import-resolver'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'
import { apiProxy } from '../vite.shared'

// Served by the gateway under /m/; Vant components (and their CSS) imported where used.
export default defineConfig({
  base: '/m/',
  plugins: [
    vue(),
    Components({ dts: 'components.d.ts', dirs: [], resolvers: [VantResolver()] }),
  ],
  server: { port: 5174, proxy: apiProxy() },
  preview: { proxy: apiProxy() },
  build: { outDir: 'dist', manifest: true, sourcemap: false },
  test: {
    name: 'mobile',
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    css: false,
    server: { deps: { inline: ['vant'] } },
  },
})
