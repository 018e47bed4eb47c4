/** Shared test helpers: `import { useLocalServer, localClient, capturingLogger, ... } from '../support'`. */
export { closeClients, closeClientsAfterEach, FAST_POLLING, FAST_START, localClient, track } from './clients';
export { API_KEY, cohortFlag, flag, notInCohortFlag } from './flags';
export { guardUnhandledRejections } from './guards';
export { deadUrl, useLocalServer } from './local-server';
export { capturingLogger, silentLogger, type CapturingLogger } from './logger';
export { tempDir, useTempDir } from './temp';
export { afterThisTurn, eventually, sleep, stateAfterThisTurn } from './wait';
export { describeNative, itNative, nativeAddonLoaded, skipWithoutNativeAddon } from './engine';
