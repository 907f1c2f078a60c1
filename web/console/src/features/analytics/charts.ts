// ECharts, registered piece by piece (only what these charts use), for the analytics route only.
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, PieChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export interface Bar {
  label: string
  value: number
}

const base = { aria: { enabled: true }, tooltip: { trigger: 'item' as const } }

export function barOption(bars: Bar[], seriesName: string, horizontal = false) {
  const categories = bars.map((b) => b.label)
  const values = bars.map((b) => b.value)
  const category = { type: 'category' as const, data: categories, axisLabel: { interval: 0, width: 90, overflow: 'truncate' as const } }
  const value = { type: 'value' as const, minInterval: 1 }
  return {
    ...base,
    grid: { left: horizontal ? 110 : 40, right: 20, top: 20, bottom: 40 },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: [{ type: 'bar' as const, name: seriesName, data: values, label: { show: true, position: horizontal ? ('right' as const) : ('top' as const) } }],
  }
}

export function pieOption(slices: Bar[], seriesName: string) {
  return {
    ...base,
    legend: { bottom: 0, type: 'scroll' as const },
    series: [
      {
        type: 'pie' as const,
        name: seriesName,
        radius: ['35%', '65%'],
        data: slices.map((s) => ({ name: s.label, value: s.value })),
        label: { formatter: '{b}: {c}' },
      },
    ],
  }
}

export function lineOption(days: { date: string; count: number }[], seriesName: string) {
  return {
    ...base,
    tooltip: { trigger: 'axis' as const },
    grid: { left: 40, right: 20, top: 20, bottom: 40 },
    xAxis: { type: 'category' as const, data: days.map((d) => d.date) },
    yAxis: { type: 'value' as const, minInterval: 1 },
    series: [{ type: 'line' as const, name: seriesName, data: days.map((d) => d.count), smooth: true, areaStyle: {} }],
  }
}

/** Several series over the same days (claims, returns, releases), side by side with a legend. */
export function seriesPerDayOption(days: string[], series: { name: string; data: number[] }[]) {
  return {
    ...base,
    tooltip: { trigger: 'axis' as const },
    legend: { top: 0 },
    grid: { left: 40, right: 20, top: 36, bottom: 40 },
    xAxis: { type: 'category' as const, data: days },
    yAxis: { type: 'value' as const, minInterval: 1 },
    series: series.map((s) => ({ type: 'bar' as const, name: s.name, data: s.data })),
  }
}
