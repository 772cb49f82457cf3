import { catchStopSignals, type StopSignals } from './stop-signals';

/**
 * The service process's SIGTERM and SIGINT, caught when this module is loaded: src/main.ts imports it before any
 * other module (see stop-signals.ts). Imported by nothing else: the listeners would keep any other process
 * (a CLI command, a test runner) from stopping on those signals.
 */
export const stopSignals: StopSignals = catchStopSignals();
