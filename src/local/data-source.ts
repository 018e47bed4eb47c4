/**
 * An in-process flag source (TestData, or your own): the client subscribes
 * once, at construction, and installs every payload it is handed at once
 * (synchronously), instead of fetching flags from Amplitude.
 */
export interface FlagDataSource {
  /**
   * Register a listener for flag payloads (a JSON array of v2 flag configs, as
   * GET /sdk/v2/flags returns). Call it with the current flags right away and
   * after every change. Returns a function that removes the listener, or an object with an unsubscribe() method
   * that does (an RxJS-style subscription).
   */
  subscribe(listener: (payload: string) => void): (() => void) | { unsubscribe(): void };
}
