// A revision's diff ({"field": {"before": …, "after": …}}) as rows a person reads: scalar values as
// they are, order lines as "SKU × quantity @ price", anything else as compact JSON.
export interface DiffRow {
  field: string
  before: string
  after: string
}

function isLine(value: unknown): value is { sku?: string; product_id?: string; quantity?: unknown; unit_price?: unknown } {
  return typeof value === 'object' && value !== null && ('quantity' in value || 'sku' in value)
}

export function diffValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every(isLine)) {
    return value
      .map((line) => {
        const price = line.unit_price === undefined || line.unit_price === '' ? '' : ` @ ${String(line.unit_price)}`
        return `${line.sku ?? line.product_id ?? ''} × ${String(line.quantity ?? '')}${price}`
      })
      .join('；')
  }
  return JSON.stringify(value)
}

export function diffRows(diff: Record<string, unknown>): DiffRow[] {
  return Object.entries(diff).map(([field, change]) => {
    const pair = (typeof change === 'object' && change !== null ? change : {}) as { before?: unknown; after?: unknown }
    return { field, before: diffValue(pair.before), after: diffValue(pair.after) }
  })
}
