// The customer's own location (WGS-84) as two text inputs: both or neither, within range.
import type { FieldMessage } from '@keyuan/shared'

export interface LocationDraft {
  latitude: string
  longitude: string
}

const NUMBER = /^-?\d{1,3}(?:\.\d+)?$/

export function checkLocation(draft: LocationDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const lat = draft.latitude.trim()
  const lon = draft.longitude.trim()
  if (!lat && !lon) return found
  if (!lat) found.latitude = { key: 'validation.required' }
  if (!lon) found.longitude = { key: 'validation.required' }
  if (lat && (!NUMBER.test(lat) || Math.abs(Number(lat)) > 90)) found.latitude = { key: 'c360.latitudeRange' }
  if (lon && (!NUMBER.test(lon) || Math.abs(Number(lon)) > 180)) found.longitude = { key: 'c360.longitudeRange' }
  return found
}

/** The PATCH fields: numbers, or both null to clear the location. */
export function locationBody(draft: LocationDraft): { latitude: number | null; longitude: number | null } {
  const lat = draft.latitude.trim()
  const lon = draft.longitude.trim()
  return lat && lon ? { latitude: Number(lat), longitude: Number(lon) } : { latitude: null, longitude: null }
}
