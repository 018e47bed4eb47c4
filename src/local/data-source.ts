/**
 * An in-process flag source (TestData, or your own): the client subscribes
 * once, at construction, and installs every payload it is handed at once
 * (synchronously), instead of fetching flags from Amplitude.
 */
export interface FlagDataSource {
  /**
   * Register a listener for flag payloads (a JSON array of v2 flag configs, as
   * GET /sdk/v2/flags returns). Call it with the current flags right away and
   * after every change. Returns a function that removes the listener. (At run time an object with an
   * unsubscribe() method, such as an RxJS subscription, is taken too; the type stays a function so that code calling
   * a data source's subscribe() and then its result keeps compiling.)
   */
  subscribe(listener: (payload: string) => void): () => void;
}
