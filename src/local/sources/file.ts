/** Flags from a JSON file (config.flagsFile), reloaded when it changes. */
import { FileFlagSource } from '../file-source';
import type { FlagSink, FlagSource, SourceContext } from './types';

export class FileSource implements FlagSource {
  readonly name = 'file';
  private sink: FlagSink | undefined;
  private readonly file: FileFlagSource;

  constructor(ctx: SourceContext, path: string) {
    this.file = new FileFlagSource({
      path,
      pollIntervalMillis: ctx.config.flagsFilePollIntervalMillis,
      logger: ctx.logger,
      onPayload: (payload) => this.sink?.submit(payload, 'file') ?? Promise.resolve(false),
      onError: (err) => this.sink?.reportError('file', err),
    });
  }

  start(sink: FlagSink): Promise<void> {
    this.sink = sink;
    return this.file.start();
  }

  stop(): void {
    this.file.stop();
  }
}
