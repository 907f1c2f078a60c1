// Dates and times in Asia/Shanghai on a 24-hour clock, money as CNY with two decimals, masked
// phones: every screen formats through here.
export const TIME_ZONE = 'Asia/Shanghai'

type Locale = string

function parts(value: Date, locale: Locale, options: Intl.DateTimeFormatOptions): Record<string, string> {
  const found: Record<string, string> = {}
  for (const part of new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, ...options }).formatToParts(value)) {
    found[part.type] = part.value
  }
  return found
}

function toDate(value: string | number | Date): Date | null {
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** 2026-12-02 — a calendar day in Shanghai; an ISO date ("2026-12-02") is shown as it is. */
export function formatDate(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const date = toDate(value)
  if (!date) return ''
  const p = parts(date, 'en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' })
  return `${p.year}-${p.month}-${p.day}`
}

/** 2026-12-02 14:05 — Shanghai time, 24-hour clock, whatever the browser's own zone. */
export function formatDateTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const date = toDate(value)
  if (!date) return ''
  const p = parts(date, 'en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

/** Today's date in Shanghai, YYYY-MM-DD, shifted by `days`. */
export function shanghaiDay(now: Date = new Date(), days = 0): string {
  return formatDate(new Date(now.getTime() + days * 86_400_000))
}

/** The hour (0-23) in Shanghai, for greetings. */
export function shanghaiHour(now: Date = new Date()): number {
  return Number(parts(now, 'en-GB', { hour: '2-digit', hourCycle: 'h23' }).hour)
}

/** ¥1,234.50 — CNY, always two decimals, grouped the way the UI language groups. */
export function formatMoney(amount: number | string | null | undefined, locale: Locale = 'zh-CN'): string {
  if (amount === null || amount === undefined || amount === '') return ''
  const value = typeof amount === 'number' ? amount : Number(amount)
  if (!Number.isFinite(value)) return ''
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', {
    style: 'currency',
    currency: 'CNY',
    currencyDisplay: 'symbol',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  })
    .format(value)
    .replace('CN¥', '¥')
}

/** 138 0013 8000 — an 11-digit mobile in the groups people read it in; a masked one as sent. */
export function formatMobile(mobile: string | null | undefined): string {
  if (!mobile) return ''
  return /^1\d{10}$/.test(mobile) ? `${mobile.slice(0, 3)} ${mobile.slice(3, 7)} ${mobile.slice(7)}` : mobile
}

/** 138****8000, as the API masks mobiles for roles without the personal-data permission. */
export function maskMobile(mobile: string): string {
  return /^1\d{10}$/.test(mobile) ? `${mobile.slice(0, 3)}****${mobile.slice(7)}` : '***'
}

export function formatCount(value: number, locale: Locale = 'zh-CN'): string {
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN').format(value)
}

/** 67% — a share from 0 to 1 as a whole percentage. */
export function formatPercent(share: number, locale: Locale = 'zh-CN'): string {
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', { style: 'percent', maximumFractionDigits: 0 }).format(share)
}

/** Whole calendar days from one YYYY-MM-DD to another: 2026-11-30 → 2026-12-02 is 2. */
export function calendarDaysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}
