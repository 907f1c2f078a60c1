import { describe, expect, it } from 'vitest'
import { distanceMetres, formatMetres, offsetMetres, projectCheckIn, roundLength } from './checkInPlot'

// 杭州 西湖区: one thousandth of a degree is ~111 m north and ~96 m east at this latitude.
const pin = { latitude: 30.274, longitude: 120.155 }

describe('the check-in plot', () => {
  it('measures offsets in metres east and north of the pin', () => {
    const north = offsetMetres(pin, { latitude: 30.275, longitude: 120.155 })
    expect(north.x).toBeCloseTo(0, 6)
    expect(north.y).toBeCloseTo(111.2, 0)
    const east = offsetMetres(pin, { latitude: 30.274, longitude: 120.156 })
    expect(east.x).toBeCloseTo(96.1, 0)
    expect(east.y).toBeCloseTo(0, 6)
  })

  it('agrees with the haversine distance over short ranges', () => {
    const point = { latitude: 30.2755, longitude: 120.1571 }
    const { x, y } = offsetMetres(pin, point)
    expect(Math.hypot(x, y)).toBeCloseTo(distanceMetres(pin, point), 0)
  })

  it('picks a scale bar of 1, 2 or 5 times a power of ten', () => {
    expect(roundLength(0.3)).toBe(1)
    expect(roundLength(1)).toBe(1)
    expect(roundLength(37)).toBe(20)
    expect(roundLength(99)).toBe(50)
    expect(roundLength(120)).toBe(100)
    expect(roundLength(4999)).toBe(2000)
    expect(formatMetres(350.4)).toBe('350 m')
    expect(formatMetres(1234)).toBe('1.2 km')
    expect(formatMetres(12_345)).toBe('12 km')
  })

  it('draws north up and east right, both points inside the padding, centred', () => {
    const checkIn = { latitude: 30.2755, longitude: 120.1571 } // north-east of the pin
    const plot = projectCheckIn({ pin, checkIn, accuracyM: 15, width: 320, height: 200, padding: 24 })
    expect(plot.pin).not.toBeNull()
    const p = plot.pin!
    expect(plot.checkIn.x).toBeGreaterThan(p.x)
    expect(plot.checkIn.y).toBeLessThan(p.y)
    for (const point of [p, plot.checkIn]) {
      expect(point.x).toBeGreaterThanOrEqual(24 - 1e-9)
      expect(point.x).toBeLessThanOrEqual(296 + 1e-9)
      expect(point.y).toBeGreaterThanOrEqual(24 - 1e-9)
      expect(point.y).toBeLessThanOrEqual(176 + 1e-9)
    }
    expect((p.x + plot.checkIn.x) / 2).toBeCloseTo(160, 6)
    expect((p.y + plot.checkIn.y) / 2).toBeCloseTo(100, 6)
  })

  it('keeps one scale for distances, the accuracy circle and the scale bar', () => {
    const checkIn = { latitude: 30.2755, longitude: 120.1571 }
    const plot = projectCheckIn({ pin, checkIn, accuracyM: 15 })
    const drawn = Math.hypot(plot.checkIn.x - plot.pin!.x, plot.checkIn.y - plot.pin!.y) * plot.metresPerUnit
    expect(drawn).toBeCloseTo(plot.distanceM!, 0)
    expect(plot.accuracyRadius * plot.metresPerUnit).toBeCloseTo(15, 6)
    expect(plot.scaleBar.length * plot.metresPerUnit).toBeCloseTo(plot.scaleBar.metres, 6)
    expect(plot.scaleBar.length).toBeLessThanOrEqual(320 / 3 + 1e-9)
  })

  it('does not blow two points a metre apart up to the whole plot', () => {
    const plot = projectCheckIn({ pin, checkIn: { latitude: 30.27401, longitude: 120.155 }, accuracyM: 5, minSpanM: 60 })
    const drawn = Math.hypot(plot.checkIn.x - plot.pin!.x, plot.checkIn.y - plot.pin!.y)
    expect(drawn).toBeLessThan(10)
  })

  it('without a pin, centres the check-in with its accuracy circle in view', () => {
    const plot = projectCheckIn({ pin: null, checkIn: pin, accuracyM: 80, width: 320, height: 200, padding: 24 })
    expect(plot.pin).toBeNull()
    expect(plot.distanceM).toBeNull()
    expect(plot.checkIn).toEqual({ x: 160, y: 100 })
    expect(plot.accuracyRadius).toBeLessThanOrEqual(76 + 1e-9)
  })
})
