/** Moved to test/support; kept so test files written against the old path still import. */
export * from '../support';
