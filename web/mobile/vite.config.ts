/// <reference types="vitest/config" />
import { VantResolver } from '@vant/auto-import-resolver'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { defineConfig, type Plugin } from 'vite'
import { apiProxy } from '../vite.shared'

// Vant's icon font falls back to a copy on at.alicdn.com after its inlined woff2. The inlined
// font is enough, the gateway's CSP (font-src 'self' data:) refuses a third-party host, and an
// intranet may not reach it: drop the remote fallback from the CSS.
function noRemoteIconFont(): Plugin {
  return {
    name: 'keyuan-no-remote-icon-font',
    enforce: 'pre',
    transform(code, id) {
      if (!/vant[\\/]es[\\/]icon[\\/]index\.css/.test(id)) return null
      return code.replace(/,url\((?:https?:)?\/\/at\.alicdn\.com[^)]*\) format\("[a-z0-9]+"\)/g, '')
    },
  }
}

// Served by the gateway under /m/; Vant components (and their CSS) imported where used.
export default defineConfig({
  base: '/m/',
  plugins: [
    noRemoteIconFont(),
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
    setupFiles: ['src/testing/settle.ts', 'src/testing/profileMessages.ts'],
    css: false,
    server: { deps: { inline: ['vant'] } },
  },
})
