// A quote's sums as the editor shows them while it is typed: the order service's own rules
// (crm_order/quotes/pricing.py) in exact decimals, so the screen never disagrees with the saved
// quote by a fen. Amounts are rounded half-up to the fen once per line and totals add those
// rounded lines; rates are quoted over list price as a percentage with two places.

/** A decimal as an integer count of 10^-scale units (12.5 at scale 2 is 1250n). */
function parseScaled(text: string, scale: number): bigint | null {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(text.trim())
  if (!match) return null
  const fraction = match[2] ?? ''
  if (fraction.length > scale) return null
  return BigInt(match[1]! + fraction.padEnd(scale, '0'))
}

/** numerator / denominator rounded half-up (both not negative, denominator > 0). */
function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n)
}

function fixed(value: bigint, scale: number): string {
  const digits = value.toString().padStart(scale + 1, '0')
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

export const QUANTITY_PLACES = 3
export const PRICE_PLACES = 2

/** A quantity: more than 0 with at most three decimals; null otherwise. */
export function parseQuantity(text: string): bigint | null {
  const value = parseScaled(text, QUANTITY_PLACES)
  return value !== null && value > 0n ? value : null
}

/** A price: 0 or more with at most two decimals, in fen; null otherwise. */
export function parsePrice(text: string): bigint | null {
  return parseScaled(text, PRICE_PLACES)
}

/** Quoted over list as hundredths of a percent; null without a list price to compare with. */
function rateBasisPoints(listFen: bigint, quotedFen: bigint): bigint | null {
  return listFen > 0n ? divideHalfUp(quotedFen * 10_000n, listFen) : null
}

export interface LineDraft {
  /** As the product list gives it ("128.00"). */
  listPrice: string
  quantity: string
  /** Empty means the list price. */
  quotedPrice: string
}

export interface LineSums {
  /** "1536.00", or null while the quantity or price cannot be read. */
  amount: string | null
  /** "88.50" (percent), or null without a list price or a readable price. */
  rate: string | null
  rateBelow: boolean
}

export interface QuoteSums {
  lines: LineSums[]
  listTotal: string
  total: string
  /** Overall, percent. */
  rate: string | null
  /** Any line's or the overall rate below the threshold: the quote will need approval. */
  needsApproval: boolean
  /** Every line has a readable quantity and price. */
  complete: boolean
}

/** The editor's sums; `threshold` is the tenant's, in percent ("90.00"). */
export function quoteSums(drafts: readonly LineDraft[], threshold = '90.00'): QuoteSums {
  const limit = parseScaled(threshold, 2) ?? 9000n
  let listTotal = 0n
  let total = 0n
  let complete = true
  let anyLineBelow = false
  const lines = drafts.map((draft): LineSums => {
    const quantity = parseQuantity(draft.quantity)
    const list = parsePrice(draft.listPrice)
    const quoted = draft.quotedPrice.trim() === '' ? list : parsePrice(draft.quotedPrice)
    if (quantity === null || list === null || quoted === null) {
      complete = false
      return { amount: null, rate: null, rateBelow: false }
    }
    // quantity (1/1000) × price (fen) is in 1/1000 fen: rounded once to the fen.
    const amount = divideHalfUp(quantity * quoted, 1000n)
    listTotal += divideHalfUp(quantity * list, 1000n)
    total += amount
    const rate = rateBasisPoints(list, quoted)
    const rateBelow = rate !== null && rate < limit
    anyLineBelow ||= rateBelow
    return { amount: fixed(amount, 2), rate: rate === null ? null : fixed(rate, 2), rateBelow }
  })
  const overall = rateBasisPoints(listTotal, total)
  return {
    lines,
    listTotal: fixed(listTotal, 2),
    total: fixed(total, 2),
    rate: overall === null ? null : fixed(overall, 2),
    needsApproval: anyLineBelow || (overall !== null && overall < limit),
    complete,
  }
}

/** "88.50%" from the API's or the editor's "88.50"; empty for none. */
export function formatRate(rate: string | null | undefined): string {
  return rate === null || rate === undefined || rate === '' ? '' : `${rate}%`
}
