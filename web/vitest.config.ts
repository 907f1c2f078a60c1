import { defineConfig } from 'vitest/config'

// One `npm test` for the three workspaces, each with its own project config.
export default defineConfig({
  test: {
    projects: ['shared/vitest.config.ts', 'console/vite.config.ts', 'mobile/vite.config.ts'],
  },
})
