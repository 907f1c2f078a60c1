// What both apps' Vite configs share: the dev proxy to a running stack, the test setup.
import type { ProxyOptions } from 'vite'

/** `npm run dev:*` sends /api to a running stack (`make run`), or to CRM_DEV_API. */
export function apiProxy(): Record<string, ProxyOptions> {
  const target = process.env.CRM_DEV_API || 'http://127.0.0.1:8000'
  return { '/api': { target, changeOrigin: false } }
}
