// The check-in "map" without map tiles: the customer's pin and the check-in point drawn in an SVG
// on a local flat projection (metres east and north of the pin), north up, with the phone's
// accuracy as a circle and a scale bar of a round length. Nothing leaves the browser.

export interface Point {
  latitude: number
  longitude: number
}

const EARTH_RADIUS_M = 6_371_008.8 // the mean radius, as the service computes distances
const RADIANS = Math.PI / 180

/** Metres east (x) and north (y) of `origin`: equirectangular around the origin's latitude,
 * exact enough for the few hundred metres between a customer and a check-in. */
export function offsetMetres(origin: Point, point: Point): { x: number; y: number } {
  const meanLatitude = ((origin.latitude + point.latitude) / 2) * RADIANS
  return {
    x: (point.longitude - origin.longitude) * RADIANS * Math.cos(meanLatitude) * EARTH_RADIUS_M,
    y: (point.latitude - origin.latitude) * RADIANS * EARTH_RADIUS_M,
  }
}

/** Great-circle distance in metres (haversine), for a check-in the service measured no distance for. */
export function distanceMetres(a: Point, b: Point): number {
  const dLat = (b.latitude - a.latitude) * RADIANS
  const dLon = (b.longitude - a.longitude) * RADIANS
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * RADIANS) * Math.cos(b.latitude * RADIANS) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** The largest 1, 2 or 5 × 10ⁿ metres not over `metres` (at least 1). */
export function roundLength(metres: number): number {
  if (!(metres >= 1)) return 1
  const power = 10 ** Math.floor(Math.log10(metres))
  const leading = metres / power
  return (leading >= 5 ? 5 : leading >= 2 ? 2 : 1) * power
}

/** "350 m" / "1.2 km" */
export function formatMetres(metres: number): string {
  if (metres >= 1000) return `${(metres / 1000).toFixed(metres >= 10_000 ? 0 : 1)} km`
  return `${Math.round(metres)} m`
}

export interface PlotInput {
  pin: Point | null
  checkIn: Point
  accuracyM: number
  width?: number
  height?: number
  padding?: number
  /** The smallest span shown, so two points a metre apart do not fill the plot. */
  minSpanM?: number
}

export interface Plot {
  width: number
  height: number
  /** The pin (absent when the customer has no location) and the check-in, in SVG units. */
  pin: { x: number; y: number } | null
  checkIn: { x: number; y: number }
  accuracyRadius: number
  metresPerUnit: number
  scaleBar: { metres: number; length: number; label: string }
  distanceM: number | null
}

/** Where to draw: both points (and the accuracy circle) fit inside the padding, the midpoint at
 * the centre, one scale for x and y so distances and the circle are true. */
export function projectCheckIn({ pin, checkIn, accuracyM, width = 320, height = 200, padding = 24, minSpanM = 60 }: PlotInput): Plot {
  const origin = pin ?? checkIn
  const offset = offsetMetres(origin, checkIn)
  const accuracy = Math.max(0, accuracyM || 0)
  // The box to fit, in metres around the midpoint of the two points.
  const halfX = Math.max(Math.abs(offset.x) / 2 + (pin ? 0 : accuracy), minSpanM / 2)
  const halfY = Math.max(Math.abs(offset.y) / 2 + (pin ? 0 : accuracy), minSpanM / 2)
  const usableX = (width - 2 * padding) / 2
  const usableY = (height - 2 * padding) / 2
  const unitsPerMetre = Math.min(usableX / halfX, usableY / halfY)
  const centre = { x: offset.x / 2, y: offset.y / 2 }
  const toSvg = (metres: { x: number; y: number }) => ({
    x: width / 2 + (metres.x - centre.x) * unitsPerMetre,
    y: height / 2 - (metres.y - centre.y) * unitsPerMetre, // north up: SVG y grows downwards
  })
  const barMetres = roundLength((width / 3) / unitsPerMetre)
  return {
    width,
    height,
    pin: pin ? toSvg({ x: 0, y: 0 }) : null,
    checkIn: toSvg(offset),
    accuracyRadius: accuracy * unitsPerMetre,
    metresPerUnit: 1 / unitsPerMetre,
    scaleBar: { metres: barMetres, length: barMetres * unitsPerMetre, label: formatMetres(barMetres) },
    distanceM: pin ? distanceMetres(pin, checkIn) : null,
  }
}
