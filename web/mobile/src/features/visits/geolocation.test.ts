import { describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import { checkInPosition, distanceWords, locate, LocationError, locationProblem, problemKey } from './geolocation'

/** A geolocation that answers with `outcome`: a position, or an error with a code. */
function phone(outcome: { coords: Partial<GeolocationCoordinates>; timestamp: number } | { code: number; message: string }) {
  const getCurrentPosition = vi.fn((ok: PositionCallback, fail?: PositionErrorCallback | null, _options?: PositionOptions) => {
    if ('code' in outcome) fail?.(outcome as GeolocationPositionError)
    else ok(outcome as GeolocationPosition)
  })
  return { getCurrentPosition }
}

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})

describe('locating the phone for a check-in', () => {
  it('answers the position with its accuracy, asking for a precise and fresh fix', async () => {
    const geolocation = phone({ coords: { latitude: 30.2591, longitude: 120.1314, accuracy: 12.4 }, timestamp: 1 })
    await expect(locate({ geolocation, secure: true })).resolves.toEqual({ latitude: 30.2591, longitude: 120.1314, accuracy: 12.4, at: 1 })
    expect(geolocation.getCurrentPosition.mock.calls[0]![2]).toMatchObject({ enableHighAccuracy: true, timeout: 15_000 })
  })

  it('names each way it fails: denied, unavailable, timed out', async () => {
    for (const [code, problem] of [
      [1, 'denied'],
      [2, 'unavailable'],
      [3, 'timeout'],
    ] as const) {
      const failure = locate({ geolocation: phone({ code, message: 'x' }), secure: true })
      await expect(failure).rejects.toBeInstanceOf(LocationError)
      await expect(failure).rejects.toMatchObject({ problem })
    }
  })

  it('does not ask a browser without geolocation, or on a page that is not secure', async () => {
    await expect(locate({ geolocation: null, secure: true })).rejects.toMatchObject({ problem: 'unsupported' })
    const geolocation = phone({ coords: { latitude: 1, longitude: 1, accuracy: 1 }, timestamp: 1 })
    await expect(locate({ geolocation, secure: false })).rejects.toMatchObject({ problem: 'insecure' })
    expect(geolocation.getCurrentPosition).not.toHaveBeenCalled()
  })

  it('treats a throwing geolocation as unavailable', async () => {
    const geolocation = { getCurrentPosition: () => { throw new Error('boom') } }
    await expect(locate({ geolocation, secure: true })).rejects.toMatchObject({ problem: 'unavailable' })
    expect(locationProblem({ code: 1 })).toBe('denied')
    expect(locationProblem('weird')).toBe('unavailable')
  })

  it('tells the rep what to do in their language, the manual address included', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(t(problemKey('denied'))).toContain('手动填写拜访地址')
    expect(t(problemKey('insecure'))).toContain('HTTPS')
    i18n.global.locale.value = 'en'
    expect(t(problemKey('timeout'))).toContain('type the address')
    i18n.global.locale.value = 'zh-CN'
  })

  it('sends the accuracy rounded and within the gateway’s bound', () => {
    expect(checkInPosition({ latitude: 30.1, longitude: 120.2, accuracy: 12.6, at: 0 })).toEqual({ latitude: 30.1, longitude: 120.2, accuracy_m: 13 })
    expect(checkInPosition({ latitude: 0, longitude: 0, accuracy: 25_000, at: 0 }).accuracy_m).toBe(10_000)
  })

  it('says the server’s distance in metres or kilometres', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(distanceWords(t, 123.4)).toBe('距客户位置约 123 米')
    expect(distanceWords(t, 3456)).toBe('距客户位置约 3.5 公里')
    expect(distanceWords(t, null)).toBe('客户未设置位置，无法计算距离')
  })
})
