import { describe, expect, it } from 'vitest'
import { calendarDaysBetween, formatDate, formatDateTime, formatMobile, formatMoney, formatPercent, maskMobile, shanghaiDay, shanghaiHour } from '.'

describe('formatting in Asia/Shanghai, 24 h, CNY', () => {
  it('shows instants in Shanghai time whatever zone they come in', () => {
    expect(formatDateTime('2026-12-02T16:30:00Z')).toBe('2026-12-03 00:30')
    expect(formatDateTime('2026-12-02T14:05:09+08:00')).toBe('2026-12-02 14:05')
    expect(formatDate('2026-12-02T16:30:00Z')).toBe('2026-12-03')
  })

  it('keeps calendar dates as they are and empty values empty', () => {
    expect(formatDate('2026-01-31')).toBe('2026-01-31')
    expect(formatDate(null)).toBe('')
    expect(formatDateTime('')).toBe('')
    expect(formatDateTime('not a date')).toBe('')
  })

  it('uses a 24-hour clock', () => {
    expect(formatDateTime('2026-06-01T13:00:00Z')).toBe('2026-06-01 21:00')
    expect(shanghaiHour(new Date('2026-06-01T13:00:00Z'))).toBe(21)
    expect(shanghaiHour(new Date('2026-06-01T16:00:00Z'))).toBe(0)
  })

  it("gives today's date in Shanghai", () => {
    expect(shanghaiDay(new Date('2026-12-02T17:00:00Z'))).toBe('2026-12-03')
    expect(shanghaiDay(new Date('2026-12-02T17:00:00Z'), -30)).toBe('2026-11-03')
  })

  it('formats CNY with two decimals', () => {
    expect(formatMoney(1234.5)).toBe('¥1,234.50')
    expect(formatMoney('0.005')).toBe('¥0.01')
    expect(formatMoney(-20, 'en')).toBe('-¥20.00')
    expect(formatMoney(null)).toBe('')
  })

  it('groups and masks mobiles', () => {
    expect(formatMobile('13800138000')).toBe('138 0013 8000')
    expect(formatMobile('138****8000')).toBe('138****8000')
    expect(maskMobile('13800138000')).toBe('138****8000')
  })

  it('shows a share as a whole percentage', () => {
    expect(formatPercent(0)).toBe('0%')
    expect(formatPercent(0.6667)).toBe('67%')
    expect(formatPercent(1, 'en')).toBe('100%')
  })

  it('counts calendar days between two dates, across a month end', () => {
    expect(calendarDaysBetween('2026-11-30', '2026-12-02')).toBe(2)
    expect(calendarDaysBetween('2026-12-02', '2026-12-02')).toBe(0)
  })
})
