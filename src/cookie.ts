/**
 * Identity from Amplitude browser cookies, with exactly the results of
 * @amplitude/experiment-node-server's AmplitudeCookie for every string input
 * (old format: `deviceId.base64(userId)....`; new Browser SDK 2.0 format:
 * base64(encodeURIComponent(JSON))).
 *
 * Where the official SDK throws on malformed input (a non-string cookie),
 * parse returns {} instead: cookie values come from the network and must
 * never crash a request handler. cookieName and generate keep the official
 * contract (an API key that is too short is an error).
 */
import type { ExperimentUser } from './types';
import { decodeBase64Utf8, encodeUtf8Base64 } from './util/base64';
import { createLogger } from './util/logger';
import type { Logger } from './util/logger';

let logger: Logger | undefined;
function log(): Logger {
  // Like the official SDK: parse errors go to a console logger at error level.
  if (!logger) logger = createLogger({});
  return logger;
}

export class AmplitudeCookie {
  /**
   * @param amplitudeApiKey The Amplitude (analytics) API key
   * @param newFormat True for the Browser SDK 2.0 cookie
   * @returns The cookie name: 'amp_' + first 6 characters, or 'AMP_' + first 10 (new format)
   * @throws Error('Invalid Amplitude API Key') if the key is too short or not a string
   */
  static cookieName(amplitudeApiKey: string, newFormat = false): string {
    const min = newFormat ? 10 : 6;
    if (typeof amplitudeApiKey !== 'string' || amplitudeApiKey.length < min) {
      throw Error('Invalid Amplitude API Key');
    }
    return newFormat ? 'AMP_' + amplitudeApiKey.substring(0, 10) : 'amp_' + amplitudeApiKey.substring(0, 6);
  }

  /**
   * @param amplitudeCookie The cookie's value
   * @param newFormat True for the Browser SDK 2.0 cookie
   * @returns A user with device_id and user_id (when present); {} when the
   *   cookie cannot be parsed. Never throws.
   */
  static parse(amplitudeCookie: string, newFormat = false): ExperimentUser {
    if (typeof amplitudeCookie !== 'string') return {};
    if (newFormat) {
      try {
        const decoding = decodeBase64Utf8(amplitudeCookie);
        const session: unknown = JSON.parse(decodeURIComponent(decoding));
        if (session === null || session === undefined) throw new TypeError('cookie holds no session object');
        const s = session as { deviceId?: string; userId?: string };
        return { device_id: s.deviceId, user_id: s.userId };
      } catch (e) {
        log().error(`Error parsing the Amplitude cookie: ${(e as Error).message}`);
        return {};
      }
    }
    const values = amplitudeCookie.split('.');
    let user_id: string | undefined = undefined;
    if (values[1]) user_id = decodeBase64Utf8(values[1]);
    return { device_id: values[0], user_id };
  }

  /**
   * A cookie value the Amplitude browser SDK will read.
   * @param deviceId The device id to set
   * @param newFormat True for the Browser SDK 2.0 cookie
   */
  static generate(deviceId: string, newFormat = false): string {
    if (!newFormat) return deviceId + '..........';
    return encodeUtf8Base64(encodeURIComponent(JSON.stringify({ deviceId })));
  }
}
