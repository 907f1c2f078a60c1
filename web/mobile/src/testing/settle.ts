import { afterAll } from 'vitest'

// Vant's sticky and tab bar components measure themselves 100 ms after mounting (use-height's
// setTimeout), which nothing cancels. On a busy machine a test file can finish inside that window,
// and the timer then fires after jsdom is gone ("window is not defined"). Give pending timers the
// time to run while the document still exists.
const VANT_MEASURE_DELAY_MS = 100

afterAll(() => new Promise((resolve) => setTimeout(resolve, VANT_MEASURE_DELAY_MS * 2)))
