/** Package version; test/remote/config.test.ts ('version') keeps it equal to package.json's. */
export const VERSION = '0.1.0';

/** The `library` value sent to Amplitude (the official SDK sends experiment-node-server/<version>). */
export const LIBRARY = `amplitude-experiment-native/${VERSION}`;
