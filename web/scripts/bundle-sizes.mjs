// After `npm run build`: the gzipped JS each entry and route loads, and the budgets of issue 10
// (console login route < 400 kB, mobile H5 login route < 250 kB). Exits 1 when over budget,
// or when built CSS loads anything from another host.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const KB = 1000
const APPS = [
  { name: 'console', login: 'src/features/auth/LoginView.vue', budget: 400 * KB },
  { name: 'mobile', login: 'src/features/auth/LoginView.vue', budget: 250 * KB },
]

const gzipped = new Map()
function sizeOf(dist, file) {
  const path = `${dist}/${file}`
  if (!gzipped.has(path)) gzipped.set(path, gzipSync(readFileSync(path), { level: 9 }).length)
  return gzipped.get(path)
}

/** The JS files a chunk needs before it runs: itself and its static imports, recursively. */
function closure(manifest, key, seen = new Set()) {
  const chunk = manifest[key]
  if (!chunk || seen.has(key)) return seen
  seen.add(key)
  for (const imported of chunk.imports ?? []) closure(manifest, imported, seen)
  return seen
}

const total = (manifest, dist, keys) =>
  [...keys].map((k) => manifest[k].file).filter((f) => f.endsWith('.js')).reduce((sum, f) => sum + sizeOf(dist, f), 0)
const kb = (bytes) => `${(bytes / KB).toFixed(1).padStart(7)} kB`

let over = 0
for (const app of APPS) {
  const dist = fileURLToPath(new URL(`../${app.name}/dist`, import.meta.url))
  const manifest = JSON.parse(readFileSync(`${dist}/.vite/manifest.json`, 'utf8'))
  const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)
  const entry = closure(manifest, entryKey)
  console.log(`\n${app.name} (gzipped JS)`)
  console.log(`  ${kb(total(manifest, dist, entry))}  entry ${entryKey}`)
  // Each lazily loaded route: what it adds to the entry.
  const routes = Object.keys(manifest).filter((k) => manifest[k].isDynamicEntry)
  for (const route of routes.sort()) {
    const extra = [...closure(manifest, route)].filter((k) => !entry.has(k))
    console.log(`  ${kb(total(manifest, dist, extra))}  + ${route}`)
  }
  const login = closure(manifest, app.login, new Set(entry))
  const loginSize = total(manifest, dist, login)
  const verdict = loginSize < app.budget ? 'ok' : 'OVER BUDGET'
  console.log(`  ${kb(loginSize)}  login route in all (budget ${app.budget / KB} kB): ${verdict}`)
  if (loginSize >= app.budget) over += 1
  // Everything the apps load comes from the gateway (CSP, intranets): no other host in the CSS.
  for (const file of readdirSync(`${dist}/assets`).filter((f) => f.endsWith('.css'))) {
    const remote = readFileSync(`${dist}/assets/${file}`, 'utf8').match(/url\((['"]?)(https?:)?\/\/[^)]*\)/g)
    if (remote) {
      console.log(`  ${file} loads from another host: ${remote.join(', ')}`)
      over += 1
    }
  }
}
process.exit(over ? 1 : 0)
