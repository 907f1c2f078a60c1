// @vitest-environment node
// The committed client types must be what `npm run gen:api` makes of the committed OpenAPI
// document (which the gateway's own test keeps current), as protos are checked.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('generated API types', () => {
  it('are current with shared/openapi.json', () => {
    const script = fileURLToPath(new URL('../../../scripts/gen-api.mjs', import.meta.url))
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
    expect(run.stderr, 'run `npm run gen:api` in web/ and commit the result').toBe('')
    expect(run.status).toBe(0)
  }, 60_000)
})
