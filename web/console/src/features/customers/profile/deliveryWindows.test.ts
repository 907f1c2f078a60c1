import { describe, expect, it } from 'vitest'
import { addWindow, checkWindows, minutesOf, normaliseTime, summariseWindows, windowsByDay } from './deliveryWindows'

const w = (weekday: number, start: string, end: string) => ({ weekday, start, end })
const zh = (weekday: number) => ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'][weekday] ?? ''

describe('delivery windows', () => {
  it('reads HH:MM and the end of the day, nothing else', () => {
    expect(minutesOf('07:30')).toBe(450)
    expect(minutesOf('24:00')).toBe(1440)
    expect(minutesOf('24:30')).toBeNull()
    expect(minutesOf('7:30')).toBeNull()
    expect(minutesOf('')).toBeNull()
  })

  it('tidies times typed by hand', () => {
    expect(normaliseTime('7:5')).toBe('07:05')
    expect(normaliseTime('0730')).toBe('07:30')
    expect(normaliseTime('7：30')).toBe('07:30')
    expect(normaliseTime('早上')).toBe('早上')
  })

  it('accepts several windows a day that do not overlap, and touching ones', () => {
    expect(checkWindows([w(1, '06:00', '08:00'), w(1, '08:00', '10:00'), w(3, '14:00', '16:00')])).toEqual({})
  })

  it('names the window whose end is not after its start', () => {
    expect(checkWindows([w(1, '06:00', '08:00'), w(2, '10:00', '10:00')])).toEqual({
      'preferences.delivery_windows[1].end': { key: 'c360.windowOrder' },
    })
  })

  it('names a malformed time on its own input', () => {
    expect(checkWindows([w(5, '7点', '09:00')])).toEqual({ 'preferences.delivery_windows[0].start': { key: 'c360.windowTime' } })
  })

  it('names the later of two overlapping windows of one day, and which it overlaps', () => {
    expect(checkWindows([w(2, '06:00', '09:00'), w(4, '07:00', '08:00'), w(2, '08:30', '10:00')])).toEqual({
      'preferences.delivery_windows[2].start': { key: 'c360.windowOverlap', values: { start: '06:00', end: '09:00' } },
    })
  })

  it('adds a window after its day’s last, so the flat index stays the row on screen', () => {
    const windows = [w(1, '06:00', '08:00'), w(3, '06:00', '08:00')]
    expect(addWindow(windows, 1, '09:00', '10:00')).toEqual([w(1, '06:00', '08:00'), w(1, '09:00', '10:00'), w(3, '06:00', '08:00')])
    expect(addWindow(windows, 2)).toEqual([w(1, '06:00', '08:00'), w(2, '08:00', '10:00'), w(3, '06:00', '08:00')])
    expect(addWindow([], 7)).toEqual([w(7, '08:00', '10:00')])
    // after the day's latest end, so a second click does not overlap the first
    expect(addWindow([w(5, '08:00', '10:00')], 5)).toEqual([w(5, '08:00', '10:00'), w(5, '10:00', '12:00')])
    expect(addWindow([w(5, '20:00', '23:30')], 5)[1]).toEqual(w(5, '23:30', '24:00'))
    expect(checkWindows(addWindow(addWindow([], 2), 2))).toEqual({})
    const days = windowsByDay(addWindow(windows, 1, '09:00', '10:00'))
    expect(days[0]?.rows.map((r) => r.index)).toEqual([0, 1])
    expect(days[2]?.rows.map((r) => r.index)).toEqual([2])
  })

  it('summarises the week by day and start time', () => {
    expect(summariseWindows([w(3, '14:00', '16:00'), w(1, '09:00', '10:00'), w(1, '06:00', '08:00')], zh)).toBe(
      '周一 06:00–08:00、09:00–10:00；周三 14:00–16:00',
    )
    expect(summariseWindows([], zh)).toBe('')
  })
})
