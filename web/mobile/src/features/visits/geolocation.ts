// Where the phone is, for a visit's check-in: the browser's geolocation with its accuracy, and
// each way it can fail named, so the screen can say what to do (allow it, go outside, or type
// the address). No external geocoding: the address is typed, coordinates come from the phone.

export interface Position {
  latitude: number
  longitude: number
  /** The phone's accuracy radius, metres. */
  accuracy: number
  /** When the phone fixed it (epoch ms). */
  at: number
}

export type LocationProblem = 'denied' | 'unavailable' | 'timeout' | 'unsupported' | 'insecure'

export class LocationError extends Error {
  readonly problem: LocationProblem

  constructor(problem: LocationProblem, detail = '') {
    super(detail || problem)
    this.name = 'LocationError'
    this.problem = problem
  }
}

/** The i18n key of what to tell the rep about `problem`. */
export const problemKey = (problem: LocationProblem) => `checkIn.${problem}`

// GeolocationPositionError's codes (the constants are not on every browser's error object).
const PERMISSION_DENIED = 1
const POSITION_UNAVAILABLE = 2
const TIMEOUT = 3

/** A failure of getCurrentPosition (or anything thrown around it) as one of our problems. */
export function locationProblem(error: unknown): LocationProblem {
  if (error instanceof LocationError) return error.problem
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  if (code === PERMISSION_DENIED) return 'denied'
  if (code === TIMEOUT) return 'timeout'
  if (code === POSITION_UNAVAILABLE) return 'unavailable'
  return 'unavailable'
}

export interface LocateOptions {
  geolocation?: Pick<Geolocation, 'getCurrentPosition'> | null
  /** window.isSecureContext: browsers locate only on HTTPS (and localhost). */
  secure?: boolean
  timeoutMs?: number
  /** Accept a fix this old (ms); a check-in wants a fresh one. */
  maximumAgeMs?: number
}

export const LOCATE_TIMEOUT_MS = 15_000

/** The phone's position, as precise as it can get it; a LocationError when it cannot. */
export function locate(options: LocateOptions = {}): Promise<Position> {
  const geolocation = options.geolocation === undefined ? globalThis.navigator?.geolocation : options.geolocation
  const secure = options.secure ?? globalThis.isSecureContext ?? true
  if (!secure) return Promise.reject(new LocationError('insecure'))
  if (!geolocation) return Promise.reject(new LocationError('unsupported'))
  return new Promise((resolve, reject) => {
    try {
      geolocation.getCurrentPosition(
        (found) =>
          resolve({
            latitude: found.coords.latitude,
            longitude: found.coords.longitude,
            accuracy: Number.isFinite(found.coords.accuracy) ? found.coords.accuracy : 0,
            at: found.timestamp,
          }),
        (error) => reject(new LocationError(locationProblem(error), error?.message)),
        { enableHighAccuracy: true, timeout: options.timeoutMs ?? LOCATE_TIMEOUT_MS, maximumAge: options.maximumAgeMs ?? 30_000 },
      )
    } catch (error) {
      reject(new LocationError(locationProblem(error)))
    }
  })
}

/** The gateway's bound on a check-in's accuracy radius (CheckInIn.accuracy_m). */
export const MAX_ACCURACY_M = 10_000

/** The position as a check-in sends it: the accuracy rounded to a metre and within bounds. */
export function checkInPosition(position: Position) {
  return {
    latitude: position.latitude,
    longitude: position.longitude,
    accuracy_m: Math.min(Math.max(Math.round(position.accuracy), 0), MAX_ACCURACY_M),
  }
}

/** "约 120 米" / "约 3.4 公里": the server's straight-line distance to the customer. */
export function distanceWords(t: (key: string, values?: Record<string, unknown>) => string, metres: number | null): string {
  if (metres === null) return t('checkIn.noCustomerLocation')
  if (metres < 1000) return t('checkIn.distance', { meters: Math.round(metres) })
  return t('checkIn.distanceKm', { km: (Math.round(metres / 100) / 10).toFixed(1) })
}
