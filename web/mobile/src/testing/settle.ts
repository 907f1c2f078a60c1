import { afterAll } from 'vitest'

// Vant's sticky and tab bar components measure themselves 100, 200 and 300 ms after mounting
// (use-height's setTimeouts with a safe area), which nothing cancels. On a busy machine a test
// file can finish inside that window, and a timer then fires after jsdom is gone ("window is not
// defined"). Timers fire in deadline order, so one started after the last mount that outlasts the
// last measurement runs after all of them, however busy the machine.
const VANT_LAST_MEASURE_MS = 300

afterAll(() => new Promise((resolve) => setTimeout(resolve, VANT_LAST_MEASURE_MS + 50)))
