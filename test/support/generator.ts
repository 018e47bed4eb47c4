/* eslint-disable no-control-regex -- ASCII ranges (\x00-\x7f) are what these patterns test */
/**
 * Seeded generator of realistic (and deliberately awkward) Amplitude Experiment v2 flag configs and users,
 * for the differential test (test/differential.test.ts) and the benchmark (bench/eval.js).
 *
 * Self-contained on purpose: no imports, so bench/eval.js can transpile this file with `typescript` and load it
 * without a build step. Everything is driven by a mulberry32 PRNG, so a seed reproduces a case exactly.
 *
 * What it never generates (the official engine throws on them, or they are documented divergences):
 *  - non-string condition values, invalid regexes, dependency cycles;
 *  - selector elements, flag keys, variant keys, property names or group names that are JS prototype names
 *    (`constructor`, `__proto__`, `toString`, ...);
 *  - user values that JSON cannot represent (NaN, Infinity, functions, Dates, undefined inside arrays);
 *  - semantic-version-like strings with long pre-release runs (the official regex backtracks exponentially).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface GenCondition {
  selector: string[];
  op: string;
  values: string[];
}
export interface GenDistribution {
  variant: string;
  range: number[];
}
export interface GenAllocation {
  range: number[];
  distributions: GenDistribution[];
}
export interface GenBucket {
  selector: string[];
  salt: string;
  allocations: GenAllocation[];
}
export interface GenSegment {
  bucket?: GenBucket;
  conditions?: GenCondition[][];
  variant?: string;
  metadata?: JsonObject;
}
export interface GenVariant {
  key?: string;
  value?: Json;
  payload?: Json;
  metadata?: JsonObject;
}
export interface GenFlag {
  key: string;
  variants: Record<string, GenVariant>;
  segments: GenSegment[];
  dependencies?: string[];
  metadata?: JsonObject;
}
/** A user as a caller would pass it (may hold `undefined` fields, lone surrogates, numbers as ids, ...). */
export type GenUser = { [key: string]: unknown };

export type Profile = 'fuzz' | 'realistic';

export interface GenOptions {
  /** 'fuzz' (default): every awkward shape listed in the brief. 'realistic': what real /sdk/v2/flags returns. */
  profile?: Profile;
  /** Generate user fields whose value is `undefined` (as `{ country: maybeCountry }` does). Default true in fuzz. */
  undefinedUserFields?: boolean;
  /**
   * Generate values JSON cannot hold (NaN, ±Infinity, BigInt, Date, functions, symbols, users whose only fields are
   * undefined) and `groups` entries that are not arrays (a string, a number, an array-like object). Default true in
   * fuzz.
   */
  scriptValues?: boolean;
}

/**
 * Values a JavaScript caller can put in a user that JSON cannot hold. BigInt is not among them: the official engine
 * throws on a user holding one wherever a selector reads a container of it (JSON.stringify), and the generated
 * configs read `context.user` as a whole.
 */
function flagFn(): number {
  return 1;
}
const SCRIPT_NUMBERS: readonly unknown[] = [NaN, Infinity, -Infinity];
const SCRIPT_OTHERS: readonly unknown[] = [
  new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  new Date(NaN),
  flagFn,
  () => 'arrow',
  Symbol.for('sym'),
  { toJSON: () => 'custom' },
  '\u0000starts with NUL',
];
/** What callers pass as group names besides an array of names. */
// (null and undefined are not among them: the official convertUserToEvaluationContext throws on them.)
const ODD_GROUP_NAMES: readonly unknown[] = ['acme', 'b', '', 5, 0, true, { 0: 'g1', length: 1 }, { length: 0 }, [], NaN];

/** A deep copy of a generated user that keeps what structuredClone cannot (functions, symbols) and undefined, -0. */
export function cloneUser<T>(v: T): T {
  if (Array.isArray(v)) return v.map((e: unknown) => cloneUser(e)) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = cloneUser((v as Record<string, unknown>)[key]);
  return out as T;
}

// ---------------------------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------------------------

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list');
    return items[Math.floor(this.float() * items.length)];
  }
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.float() * total;
    for (const [v, w] of entries) {
      x -= w;
      if (x < 0) return v;
    }
    return entries[entries.length - 1][0];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle(items.slice()).slice(0, Math.max(0, Math.min(k, items.length)));
  }
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** Independent, well-mixed seed for case `index` of a run seeded with `seed`. */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------------------------

export const OPERATORS = [
  'is',
  'is not',
  'contains',
  'does not contain',
  'less',
  'less or equal',
  'greater',
  'greater or equal',
  'version less',
  'version less or equal',
  'version greater',
  'version greater or equal',
  'set is',
  'set is not',
  'set contains',
  'set does not contain',
  'set contains any',
  'set does not contain any',
  'regex match',
  'regex does not match',
] as const;
export type Operator = (typeof OPERATORS)[number];

const UNKNOWN_OPS = ['IS', 'equals', 'set equals', 'is  not', 'regex', ''];

const NUMERIC_OPS = new Set<string>(['less', 'less or equal', 'greater', 'greater or equal']);
const VERSION_OPS = new Set<string>(['version less', 'version less or equal', 'version greater', 'version greater or equal']);
const SET_OPS = new Set<string>([
  'set is',
  'set is not',
  'set contains',
  'set does not contain',
  'set contains any',
  'set does not contain any',
]);

/** Names that resolve through Object.prototype / Array.prototype in JS; never used as keys or selector elements. */
export const PROTOTYPE_NAMES = new Set<string>(Object.getOwnPropertyNames(Object.prototype).concat(['__proto__', 'prototype']));

type Kind = 'str' | 'num' | 'bool' | 'ver' | 'arr' | 'jsonarr' | 'email' | 'obj' | 'any';

interface PropSpec {
  name: string;
  kind: Kind;
  /** Included in the 'realistic' profile. */
  real: boolean;
}

const USER_PROPS: PropSpec[] = [
  { name: 'plan', kind: 'str', real: true },
  { name: 'tier', kind: 'str', real: true },
  { name: 'name', kind: 'str', real: true },
  { name: 'city_name', kind: 'str', real: true },
  { name: 'age', kind: 'num', real: true },
  { name: 'score', kind: 'num', real: true },
  { name: 'price', kind: 'num', real: true },
  { name: 'beta', kind: 'bool', real: true },
  { name: 'is_admin', kind: 'bool', real: true },
  { name: 'app_version', kind: 'ver', real: true },
  { name: 'sdk_version', kind: 'ver', real: true },
  { name: 'tags', kind: 'arr', real: true },
  { name: 'roles', kind: 'arr', real: true },
  { name: 'json_tags', kind: 'jsonarr', real: true },
  { name: 'interests', kind: 'jsonarr', real: false },
  { name: 'email', kind: 'email', real: true },
  { name: 'prefs', kind: 'obj', real: false },
  { name: 'Feature Flag', kind: 'str', real: true },
  { name: 'ünïcödé', kind: 'str', real: false },
  { name: 'emoji😀', kind: 'str', real: false },
  { name: '10', kind: 'num', real: false },
  { name: '2', kind: 'str', real: false },
  { name: 'dotted.name', kind: 'str', real: false },
  { name: 'with space', kind: 'bool', real: false },
  { name: 'mixed', kind: 'any', real: false },
];

const STR_VALUES: readonly string[] = [
  'free',
  'pro',
  'premium',
  'Premium',
  'PREMIUM',
  'enterprise',
  '',
  'Hello World',
  'hello',
  'a',
  'abc',
  'xabcx',
  'ABC',
  '(none)',
  'null',
  'undefined',
  'İstanbul',
  'istanbul',
  'ΟΔΟΣ',
  'οδος',
  'Straße',
  'STRASSE',
  'café',
  'CAFÉ',
  'naïve',
  '日本語',
  '東京',
  '🚀 rocket',
  'emoji😀x',
  '😀',
  'é',
  'e\u0301',
  'ｆｕｌｌ',
  '\uFF21',
  'x\uE000y',
  'tab\there',
  'line\nbreak',
  'quote"q',
  'back\\slash',
  'no\u00a0break',
  'falſe',
  'true',
  'False',
  'TRUE',
  '1',
  '1.0',
  '-0',
  '0',
  ' 12 ',
  'u-123',
  'user-042',
  'bc',
  'ac',
  'abcabc',
  'aa',
  'Zebra',
  'zebra',
  'ﬃ',
  'Αθήνα',
  'москва',
  'Ёлка',
  '1.2.3',
  'a.b.c',
  '[abc]',
  '{"a":1}',
];
const REAL_STR_VALUES: readonly string[] = [
  'free',
  'pro',
  'premium',
  'enterprise',
  'Hello World',
  'hello',
  'San Francisco',
  'Berlin',
  'trial',
  'beta',
  'control',
  'team',
  'Pro',
  '',
];

const NUM_VALUES: readonly (number | string)[] = [
  0,
  1,
  -1,
  2,
  3,
  7,
  10,
  42,
  99.99,
  100,
  1.5,
  -2.5,
  0.1 + 0.2,
  1e21,
  1e-7,
  -0,
  123456789,
  2 ** 53,
  2 ** 53 + 2,
  5e-324,
  1.7976931348623157e308,
  0.5,
  12345678901,
  1e300,
  4.35,
  1 / 3,
  '1',
  '1.5',
  '-0',
  '1e3',
  ' 12 ',
  '0x10',
  '',
  'abc',
  'Infinity',
  '-Infinity',
  'NaN',
  '0b101',
  '0o7',
  '+5',
  '.5',
  '5.',
  '1_000',
  '1d',
  '\u00a07',
  '\t8\n',
  '99.990',
  '１２',
  '10',
  '2',
  '42',
  '0.30000000000000004',
  '1e+21',
];
const REAL_NUM_VALUES: readonly (number | string)[] = [0, 1, 2, 5, 10, 18, 21, 35, 42, 65, 99.99, 100, 1.5, '17', '30'];
const NUM_FILTERS: readonly string[] = [
  '0',
  '1',
  '1.5',
  '-1',
  '2',
  '7',
  '10',
  '100',
  '42',
  '1e3',
  '999',
  '0x10',
  '15',
  '',
  ' 7 ',
  'abc',
  '1e21',
  '1e+21',
  '0.30000000000000004',
  '0.3',
  '-0',
  'Infinity',
  '2.5e-1',
  '99.99',
  '123456789',
  '9007199254740993',
  '.5',
];
const REAL_NUM_FILTERS: readonly string[] = ['0', '1', '10', '18', '21', '30', '42', '65', '100', '99.99'];

const BOOL_VALUES: readonly (boolean | string)[] = [true, false, 'true', 'false', 'TRUE', 'False', 'yes', '1', 'tRuE'];
const BOOL_FILTERS: readonly string[] = ['true', 'false', 'TRUE', 'False', 'tRuE', 'yes', '1', '(none)'];

const VERSION_VALUES: readonly string[] = [
  '1.2.3',
  '1.10.0-beta.1',
  '1.10.0',
  '1.9.0',
  '06.007.0008',
  '6.7.8',
  '1.2',
  '1.2.3-',
  '1.2.3-beta_1',
  '1.2.3-beta',
  '1.2.3-alpha',
  '1.2.3-rc.1',
  '1.2.3-rc.10',
  '1.10.0+build',
  '10',
  '10.2.alpha',
  '1.2.3.4',
  'v1.2.3',
  '',
  '2.0.0',
  '0.0.1',
  '1.2.3-01',
  '1.2.3-a1.23',
  '1.2.3-a1.5',
  '12345678901234567890.0.0',
  '3.0',
  '3.0.0',
  '1.2.3-x.',
  '１.２.３',
  '2.0.0-rc.1',
  '1.2.10',
  '1.2.9',
  'abc',
  '1..2',
  '1.2.3-ü',
];
const REAL_VERSION_VALUES: readonly string[] = [
  '1.0.0',
  '1.2.3',
  '1.10.0',
  '1.9.0',
  '2.0.0',
  '2.1.0-beta.1',
  '3.0',
  '3.0.1',
  '0.9.12',
  '1.2',
];

const ARR_TOKENS: readonly (string | number | boolean | null)[] = [
  'a',
  'b',
  'c',
  'x',
  'TRUE',
  'true',
  '1',
  '1.5',
  'é',
  '😀',
  '',
  'A',
  1,
  2.0,
  1.5,
  true,
  false,
  null,
  'a',
];
const REAL_ARR_TOKENS: readonly string[] = ['news', 'sports', 'music', 'beta', 'vip', 'admin', 'editor'];

const JSONARR_VALUES: readonly string[] = [
  '[1, 2.0, "x", null, true]',
  '[]',
  '[abc]',
  ' ["a"]',
  '["a","b"]',
  '["TRUE"]',
  '[1e3]',
  '[""]',
  '[[1,2],{"a":1}]',
  '["\\u00e9"]',
  '[1.50]',
  '[-0]',
  '[1e400]',
  '[0.1]',
  '[100000000000000000000000]',
  '["a" , "b"]',
  '[1,]',
  '["\\ud800"]',
  '["a","a","b"]',
  '[',
  '[true,false]',
  '["x"]',
  '[2]',
  'a,b',
  '["😀","é"]',
];
const REAL_JSONARR_VALUES: readonly string[] = ['["news","sports"]', '["music"]', '[]', '["vip","beta"]'];

const REGEXES: readonly string[] = [
  '^abc',
  'abc',
  '\\d+$',
  '^\\d+$',
  '(?:a|b)c',
  '[a-z]{2,}',
  '^[A-Z]',
  '\\.com$',
  '@example\\.com$',
  '^user-\\d+$',
  '^user-\\d{1,2}$',
  '^é',
  'ü',
  '[а-яё]+',
  'Αθήνα',
  '^.$',
  '^.{2}$',
  '^.{1,3}$',
  '\\s',
  '\\bpro\\b',
  '^$',
  'x*',
  'a|b',
  '^(\\d+)\\.(\\d+)',
  '[^a-z]',
  '\\w+@\\w+',
  '😀',
  '^[\\u4e00-\\u9fff]+$',
  'İ',
  '(none)',
  '\\D',
  '[0-9a-f]{8}-',
  '^TRUE$',
  '^-?\\d+(\\.\\d+)?$',
  'ΟΔΟΣ|οδος',
  '\\u00e9',
  '[\\s\\S]{4}',
  '^\\S+$',
  'a{2}',
  '^[\\w.-]+$',
  'premium$',
  '^\\[',
  '"',
  '\\}$',
  'e\\+',
  '^0x',
];
/** Valid ECMAScript but beyond "simple": lookahead and back-references. */
const EXTENDED_REGEXES: readonly string[] = ['^(?!admin)', 'pre(?=mium)', '(a)\\1', '^(?:(?!x).)*$'];
const REAL_REGEXES: readonly string[] = ['@example\\.com$', '^user-\\d+$', '^[A-Z]', 'premium', '\\.io$'];

const EMAIL_VALUES: readonly string[] = [
  'user1@example.com',
  'Admin@Corp.IO',
  'x@y',
  'not-an-email',
  'jane.doe@example.com',
  'ü@exämple.de',
  '',
  'a@b.io',
  'admin@example.com',
];

const OBJ_VALUES: readonly Json[] = [
  { a: 1, b: 'x' },
  { '2': 'b', '1': 'a', z: 0 },
  { nested: { deep: [1, 2, { e: null }] } },
  {},
  { k: 'v', é: 'ü', n: -1.5 },
  { b: true, a: [1, 'x'] },
];

const PLATFORMS = ['iOS', 'Android', 'Web', 'web', 'IOS', 'macOS'];
const COUNTRIES = ['United States', 'Germany', 'Türkiye', '日本', 'España', 'Brazil'];
const CITIES = ['San Francisco', 'İstanbul', 'Αθήνα', 'ΟΔΟΣ', 'München', '東京', 'São Paulo'];
const LANGUAGES = ['English', 'en-US', 'de', 'Español', '日本語'];
const OSES = ['iOS 17.1', 'Android 14', 'Windows', 'linux', 'Mac OS X'];
const CARRIERS = ['Verizon', 'T-Mobile', 'AT&T', ''];
const REGIONS = ['California', 'Bavaria', 'Île-de-France'];
const LIBRARIES = ['experiment-node-server/1.13.6', 'amplitude-experiment-native/0.1.0'];
const COHORT_IDS = ['cohortA', 'cohortB', 'c-123', 'c-456', 'abc123', ''];
const GROUP_TYPES = ['org', 'team', 'company name', '组织'];
const GROUP_NAMES = ['acme', 'globex', 'initech', 'Acme', '', '🚀corp', '10', 'ü-gmbh'];
const GROUP_PROPS: PropSpec[] = [
  { name: 'plan', kind: 'str', real: true },
  { name: 'size', kind: 'num', real: true },
  { name: 'tags', kind: 'arr', real: true },
  { name: 'region', kind: 'str', real: true },
  { name: 'api_version', kind: 'ver', real: true },
];

const TOP_LEVEL_FIELDS: { name: string; pool: readonly unknown[] }[] = [
  { name: 'platform', pool: PLATFORMS },
  { name: 'country', pool: COUNTRIES },
  { name: 'city', pool: CITIES },
  { name: 'region', pool: REGIONS },
  { name: 'language', pool: LANGUAGES },
  { name: 'os', pool: OSES },
  { name: 'version', pool: VERSION_VALUES },
  { name: 'carrier', pool: CARRIERS },
  { name: 'library', pool: LIBRARIES },
  { name: 'device_brand', pool: ['Apple', 'Samsung', 'Google'] },
  { name: 'device_model', pool: ['iPhone15,2', 'SM-G991B', 'Pixel 8'] },
  { name: 'device_manufacturer', pool: ['Apple', 'Samsung'] },
  { name: 'dma', pool: ['SAN FRANCISCO-OAKLAND-SAN JOSE, CA', 'NEW YORK, NY'] },
  { name: 'ip_address', pool: ['127.0.0.1', '10.0.0.1', '::1'] },
];

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------------

function alnum(rng: Rng, n: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[rng.int(0, chars.length - 1)];
  return s;
}

/** Random text over several scripts and planes (astral emoji, combining marks, odd spaces, rare lone surrogates). */
export function randomText(rng: Rng, maxLen = 8): string {
  const ranges: readonly (readonly [number, number, number])[] = [
    [0x20, 0x7e, 40], // ASCII
    [0xa0, 0xff, 8], // Latin-1 (incl. no-break space)
    [0x391, 0x3c9, 6], // Greek (incl. capital sigma)
    [0x400, 0x44f, 5], // Cyrillic
    [0x4e00, 0x4e80, 5], // CJK
    [0x300, 0x36f, 3], // combining marks
    [0x1f600, 0x1f64f, 6], // emoji (astral: surrogate pairs in UTF-16)
    [0x2000, 0x200b, 2], // spaces, zero-width space
    [0xff01, 0xff5e, 3], // fullwidth forms (sort above surrogates in UTF-16)
    [0x130, 0x131, 2], // dotted / dotless i
    [0xd800, 0xdfff, 1], // lone surrogates
  ];
  const n = rng.int(1, maxLen);
  let out = '';
  for (let i = 0; i < n; i++) {
    const [lo, hi] = rng.weighted(ranges.map((r) => [r, r[2]] as const));
    out += String.fromCodePoint(rng.int(lo, hi));
  }
  return out;
}

/** A random finite double or integer of any magnitude (exercises JS number formatting exactly). */
function randomNumber(rng: Rng): number {
  switch (rng.int(0, 3)) {
    case 0:
      return rng.int(-1000000, 1000000);
    case 1:
      return (rng.float() - 0.5) * 10 ** rng.int(-12, 30);
    case 2:
      return Math.round((rng.float() - 0.5) * 2 ** rng.int(30, 70));
    default:
      return Number((rng.float() * 1000).toFixed(rng.int(0, 4)));
  }
}

function uuid(rng: Rng): string {
  const hex = () => (rng.u32() >>> 0).toString(16).padStart(8, '0');
  const a = hex();
  const b = hex();
  const c = hex();
  const d = hex();
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${c.slice(0, 4)}-${c.slice(4)}${d.slice(0, 4)}`;
}

/** The string the official engine compares for a scalar (JS String / JSON.stringify for objects). */
function asFilterString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function randomCase(rng: Rng, s: string): string {
  const r = rng.int(0, 3);
  if (r === 0) return s.toUpperCase();
  if (r === 1) return s.toLowerCase();
  if (r === 2) return s;
  let out = '';
  for (const ch of s) out += rng.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase();
  return out;
}

function substringOf(rng: Rng, s: string): string {
  const chars = Array.from(s);
  if (chars.length === 0) return '';
  const start = rng.int(0, chars.length - 1);
  const len = rng.int(1, Math.min(4, chars.length - start));
  return chars.slice(start, start + len).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Case context: everything flags and users must agree on so that conditions sometimes match
// ---------------------------------------------------------------------------------------------------------------

export interface Universe {
  profile: Profile;
  props: PropSpec[];
  userIds: string[];
  deviceIds: unknown[];
  flagKeys: string[];
  /** Variant keys of each flag key (filled while generating flags, used for sticky bucketing user props). */
  variantKeysByFlag: Map<string, string[]>;
  undefinedUserFields: boolean;
  scriptValues: boolean;
  /** A few arrays per case that both users and set conditions draw from, so set equality really happens. */
  arrays: unknown[][];
}

const KEY_SHAPES_FUZZ: readonly (readonly [string, number])[] = [
  ['flag', 30],
  ['exp', 12],
  ['intlike', 10],
  ['holdout', 4],
  ['mutex', 4],
  ['odd', 8],
];

const ODD_KEYS = [
  '01',
  '-1',
  '1.5',
  'Flag_With_Caps',
  'ключ',
  '🚀-launch',
  'a.b',
  'with space',
  '4294967295',
  'ü',
  'x'.repeat(40),
  'flag-dependencies',
  'on',
  'off',
  'result',
  'context',
  'key',
  'value',
  'payload',
  'metadata',
];
const INT_KEYS = ['10', '2', '0', '1', '3', '42', '4294967294', '7', '100', '99'];

function makeFlagKeys(rng: Rng, n: number, profile: Profile): string[] {
  const keys = new Set<string>();
  let guard = 0;
  while (keys.size < n && guard++ < n * 50) {
    const shape = profile === 'realistic' ? rng.pick(['flag', 'flag', 'exp', 'holdout', 'mutex']) : rng.weighted(KEY_SHAPES_FUZZ);
    let k: string;
    switch (shape) {
      case 'flag':
        k = `${rng.pick(['new', 'enable', 'show', 'use', 'sdk-ci', 'checkout', 'search'])}-${rng.pick(['ui', 'flow', 'banner', 'cache', 'api', 'test'])}-${alnum(rng, 3)}`;
        break;
      case 'exp':
        k = `exp-${rng.pick(['pricing', 'onboarding', 'ranking', 'paywall'])}-v${rng.int(1, 9)}`;
        break;
      case 'intlike':
        k = rng.pick(INT_KEYS);
        break;
      case 'holdout':
        k = `holdout-${rng.int(1000, 99999)}`;
        break;
      case 'mutex':
        k = `mutex-${rng.int(1000, 99999)}`;
        break;
      default:
        k = rng.pick(ODD_KEYS);
    }
    if (!PROTOTYPE_NAMES.has(k)) keys.add(k);
  }
  return Array.from(keys);
}

export function makeUniverse(rng: Rng, flagCount: number, opts: GenOptions = {}): Universe {
  const profile = opts.profile ?? 'fuzz';
  const props = USER_PROPS.filter((p) => profile === 'fuzz' || p.real);
  const userIds: string[] = [];
  for (let i = 0; i < 24; i++) userIds.push(`user-${rng.int(1, 500)}`);
  if (profile === 'fuzz') {
    userIds.push('ü-user', '用户-7', '🚀-pilot', 'a\uD800b', 'x\uDC00', '\uDBFF', 'Admin', 'admin', '', 'user@example.com', '42');
  }
  const deviceIds: unknown[] = [];
  for (let i = 0; i < 20; i++) deviceIds.push(uuid(rng));
  for (let i = 0; i < 5; i++) deviceIds.push(`d-${i}`);
  if (profile === 'fuzz') {
    deviceIds.push(1, 1.5, 0, -0, 12345678901, 1e21, '', 'a\uD800b', '😀📱', 'Ĳ-device');
    for (let i = 0; i < 4; i++) deviceIds.push(randomText(rng, 12));
    for (let i = 0; i < 2; i++) deviceIds.push(randomNumber(rng));
  }
  const arrays: unknown[][] = [];
  const tokens = profile === 'realistic' ? REAL_ARR_TOKENS : ARR_TOKENS;
  for (let i = 0; i < 4; i++) arrays.push(rng.sample(tokens, rng.int(0, 3)));
  return {
    arrays,
    profile,
    props,
    userIds,
    deviceIds,
    flagKeys: makeFlagKeys(rng, flagCount, profile),
    variantKeysByFlag: new Map(),
    undefinedUserFields: opts.undefinedUserFields ?? profile === 'fuzz',
    scriptValues: opts.scriptValues ?? profile === 'fuzz',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------------

function userValueOfKind(rng: Rng, kind: Kind, u: Universe): unknown {
  const real = u.profile === 'realistic';
  switch (kind) {
    case 'str':
      if (!real && u.scriptValues && rng.chance(0.03)) return rng.pick(SCRIPT_OTHERS);
      if (!real && rng.chance(0.06)) return randomText(rng);
      return rng.pick(real ? REAL_STR_VALUES : STR_VALUES);
    case 'num':
      if (!real && u.scriptValues && rng.chance(0.05)) return rng.pick(SCRIPT_NUMBERS);
      if (!real && rng.chance(0.2)) return rng.chance(0.8) ? randomNumber(rng) : String(randomNumber(rng));
      return rng.pick(real ? REAL_NUM_VALUES : NUM_VALUES);
    case 'bool':
      return real ? rng.pick([true, false]) : rng.pick(BOOL_VALUES);
    case 'ver':
      return rng.pick(real ? REAL_VERSION_VALUES : VERSION_VALUES);
    case 'arr': {
      if (u.arrays.length && rng.chance(0.35)) return u.arrays[rng.int(0, u.arrays.length - 1)].slice();
      const small = !real && rng.chance(0.5); // small alphabet: equal sets between users and filters are common
      const n = small ? rng.int(0, 2) : rng.int(0, real ? 3 : 4);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        if (real) out.push(rng.pick(REAL_ARR_TOKENS));
        else if (small) out.push(rng.pick(['a', 'b', 'TRUE']));
        else if (rng.chance(0.05))
          out.push(rng.pick(OBJ_VALUES)); // nested object inside an array (JSON text)
        else if (rng.chance(0.03))
          out.push(['n', 1]); // nested array
        // eslint-disable-next-line no-dupe-else-if -- each rng.chance() call draws anew: the conditions only look alike
        else if (u.scriptValues && rng.chance(0.03)) out.push(rng.pick([...SCRIPT_NUMBERS, ...SCRIPT_OTHERS]));
        else out.push(rng.pick(ARR_TOKENS));
      }
      return out;
    }
    case 'jsonarr':
      if (real) return rng.pick(REAL_JSONARR_VALUES);
      if (rng.chance(0.3)) {
        const arr = userValueOfKind(rng, 'arr', u) as unknown[];
        return rng.chance(0.5) ? JSON.stringify(arr) : JSON.stringify(arr, null, 1);
      }
      return rng.pick(JSONARR_VALUES);
    case 'email':
      return rng.pick(EMAIL_VALUES);
    case 'obj':
      return rng.pick(OBJ_VALUES);
    case 'any':
      return userValueOfKind(rng, rng.pick<Kind>(['str', 'num', 'bool', 'ver', 'arr', 'jsonarr', 'email', 'obj']), u);
  }
}

/** Scalar strings a condition could compare against a property of this kind (element strings for arrays). */
function candidateStrings(rng: Rng, kind: Kind, u: Universe): string[] {
  const v = userValueOfKind(rng, kind, u);
  if (Array.isArray(v)) {
    return v.filter((e) => e !== null && e !== undefined).map(asFilterString);
  }
  if (kind === 'jsonarr' && typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      if (Array.isArray(parsed)) return parsed.filter((e) => e !== null).map(asFilterString);
    } catch {
      // not a JSON array: compared as the scalar string
    }
  }
  return [asFilterString(v)];
}

function regexPool(u: Universe): readonly string[] {
  return u.profile === 'realistic' ? REAL_REGEXES : REGEXES;
}

function filterValues(rng: Rng, op: string, kind: Kind, u: Universe, fieldPool?: readonly unknown[]): string[] {
  const real = u.profile === 'realistic';
  const count = rng.weighted<number>([
    [1, 50],
    [2, 25],
    [3, 15],
    [0, real ? 0 : 2],
    [5, 8],
  ]);
  const fromPool = (): string => {
    if (fieldPool) return asFilterString(rng.pick(fieldPool));
    const c = candidateStrings(rng, kind, u);
    return c.length ? rng.pick(c) : rng.pick(real ? REAL_STR_VALUES : STR_VALUES);
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let v: string;
    if (op === 'regex match' || op === 'regex does not match') {
      v = !real && rng.chance(0.04) ? rng.pick(EXTENDED_REGEXES) : rng.pick(regexPool(u));
    } else if (NUMERIC_OPS.has(op)) {
      v = rng.chance(0.7) ? rng.pick(real ? REAL_NUM_FILTERS : NUM_FILTERS) : fromPool();
    } else if (VERSION_OPS.has(op)) {
      v = rng.chance(0.7) ? rng.pick(real ? REAL_VERSION_VALUES : VERSION_VALUES) : fromPool();
    } else if (SET_OPS.has(op)) {
      if (i === 0 && !fieldPool && rng.chance(0.6)) {
        // Take (part of) one plausible property value as the whole filter set, so set equality and
        // containment actually happen.
        const whole =
          rng.chance(0.5) && u.arrays.length
            ? rng
                .pick(u.arrays)
                .filter((e) => e !== null)
                .map(asFilterString)
            : candidateStrings(rng, kind, u);
        const part =
          op === 'set is' || op === 'set is not' || rng.chance(0.3)
            ? whole
            : rng.sample(whole, rng.int(1, Math.max(1, whole.length)));
        out.push(...part);
        break;
      }
      v = rng.chance(0.75)
        ? fromPool()
        : real
          ? rng.pick(REAL_ARR_TOKENS)
          : asFilterString(rng.pick(ARR_TOKENS.filter((t) => t !== null)));
    } else if (op === 'contains' || op === 'does not contain') {
      const base = fromPool();
      v = rng.chance(0.6) ? substringOf(rng, base) : base;
      if (rng.chance(0.4)) v = randomCase(rng, v);
    } else {
      // is / is not / unknown ops
      v = fromPool();
      if (!real && rng.chance(0.15)) v = rng.pick(BOOL_FILTERS);
      else if (!real && rng.chance(0.1)) v = randomCase(rng, v);
    }
    out.push(v);
  }
  if (rng.chance(real ? 0.03 : 0.12)) out.push('(none)');
  if (!real && out.length > 0 && rng.chance(0.05)) out.push(out[0]); // duplicates
  if (!real && rng.chance(0.03)) out.push('');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------------

interface FlagGenState {
  u: Universe;
  /** Flags generated so far (lower rank: safe to depend on), by key. */
  done: Map<string, GenFlag>;
  selfKey: string;
}

const PREFERRED_KINDS: Record<string, Kind[]> = {
  numeric: ['num', 'num', 'num', 'str', 'bool'],
  version: ['ver', 'ver', 'ver', 'str', 'num'],
  set: ['arr', 'arr', 'jsonarr', 'jsonarr', 'str'],
  regex: ['str', 'email', 'str', 'num', 'arr'],
  other: ['str', 'bool', 'num', 'arr', 'jsonarr', 'email', 'ver', 'obj'],
};

function opClass(op: string): keyof typeof PREFERRED_KINDS {
  if (NUMERIC_OPS.has(op)) return 'numeric';
  if (VERSION_OPS.has(op)) return 'version';
  if (SET_OPS.has(op)) return 'set';
  if (op.startsWith('regex')) return 'regex';
  return 'other';
}

function resultCondition(rng: Rng, st: FlagGenState, refKey: string): GenCondition {
  const ref = st.done.get(refKey);
  const variantKeys = ref ? Object.keys(ref.variants) : ['on', 'off', 'control', 'treatment'];
  const field =
    st.u.profile === 'realistic'
      ? 'key'
      : rng.weighted<string>([
          ['key', 60],
          ['value', 12],
          ['payload', 10],
          ['metadata', 12],
          ['', 3],
          ['whole', 3],
        ]);
  const op = rng.weighted<string>([
    ['is not', 45],
    ['is', 35],
    ['set contains any', 4],
    ['contains', 4],
    ['regex match', 3],
    ['greater', 3],
    ['version less', 2],
    ['does not contain', 4],
  ]);
  const values = (): string[] => {
    if (op.startsWith('regex')) return [rng.pick(regexPool(st.u))];
    if (NUMERIC_OPS.has(op)) return [rng.pick(NUM_FILTERS)];
    if (VERSION_OPS.has(op)) return [rng.pick(VERSION_VALUES)];
    return rng.sample(variantKeys, rng.int(1, Math.min(2, variantKeys.length)));
  };
  switch (field) {
    case 'key':
      return { selector: ['result', refKey, 'key'], op, values: values() };
    case 'value': {
      const vals = ref
        ? Object.values(ref.variants).map((v) => (v.value === undefined || v.value === null ? '(none)' : asFilterString(v.value)))
        : ['on'];
      return {
        selector: ['result', refKey, 'value'],
        op: rng.pick(['is', 'is not', 'contains', 'set contains']),
        values: rng.sample(vals, rng.int(1, 2)),
      };
    }
    case 'payload': {
      // Reach into an object payload when the referenced flag has one.
      const payloads = ref
        ? Object.values(ref.variants)
            .map((v) => v.payload)
            .filter((p) => p !== undefined)
        : [];
      const p = payloads.length ? rng.pick(payloads) : undefined;
      if (p !== null && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length) {
        const k = rng.pick(Object.keys(p));
        const pv = p[k];
        const val = pv === null || pv === undefined ? '(none)' : asFilterString(pv);
        return { selector: ['result', refKey, 'payload', k], op: rng.pick(['is', 'is not', 'contains']), values: [val] };
      }
      if (Array.isArray(p) && p.length) {
        return { selector: ['result', refKey, 'payload', '0'], op: 'is', values: [asFilterString(p[0])] };
      }
      return {
        selector: ['result', refKey, 'payload'],
        op: rng.pick(['is', 'is not', 'contains']),
        values: [p === undefined ? '(none)' : asFilterString(p)],
      };
    }
    case 'metadata':
      return rng.pick<GenCondition>([
        {
          selector: ['result', refKey, 'metadata', 'default'],
          op: rng.pick(['is', 'is not']),
          values: [rng.pick(['true', 'TRUE', '(none)', 'false'])],
        },
        { selector: ['result', refKey, 'metadata', 'segmentName'], op: 'is', values: ['All Other Users', 'flag-dependencies'] },
        {
          selector: ['result', refKey, 'metadata', 'flagVersion'],
          op: rng.pick(['greater', 'less or equal']),
          values: [String(rng.int(1, 30))],
        },
        {
          selector: ['result', refKey, 'metadata'],
          op: 'contains',
          values: [rng.pick(['default', 'segmentName', 'experimentKey', '"deployed":false'])],
        },
      ]);
    case '':
      return { selector: ['result', refKey, ''], op: rng.pick(['is', 'is not']), values: ['(none)'] };
    default:
      return {
        selector: ['result', refKey],
        op: rng.pick(['contains', 'does not contain', 'regex match']),
        values: [rng.pick(['"key":"on"', 'off', '^\\{"key"', 'default'])],
      };
  }
}

function pickRefKey(rng: Rng, st: FlagGenState, allowForward: boolean): string {
  const lower = Array.from(st.done.keys());
  if (allowForward && rng.chance(0.25)) {
    const any = st.u.flagKeys.filter((k) => k !== st.selfKey);
    if (any.length) return rng.pick(any); // undeclared reference: order decides whether it is visible
  }
  if (lower.length && rng.chance(0.9)) return rng.pick(lower);
  return rng.pick(['missing-flag', 'deleted-exp-1', 'holdout-0']);
}

function randomCondition(rng: Rng, st: FlagGenState): GenCondition {
  const u = st.u;
  const real = u.profile === 'realistic';
  let op: string;
  if (real) {
    op = rng.weighted<string>([
      ['is', 30],
      ['is not', 10],
      ['contains', 6],
      ['does not contain', 2],
      ['set contains any', 8],
      ['set does not contain any', 3],
      ['set contains', 3],
      ['version greater or equal', 4],
      ['version less', 3],
      ['greater or equal', 4],
      ['less', 3],
      ['regex match', 1],
    ]);
  } else {
    op = rng.chance(0.02) ? rng.pick(UNKNOWN_OPS) : rng.pick(OPERATORS);
  }

  const where = rng.weighted<string>([
    ['prop', 62],
    ['anyprop', real ? 0 : 8],
    ['field', 14],
    ['ids', 5],
    ['cohort', 3],
    ['group', 5],
    ['result', real ? 0 : 4],
    ['weird', real ? 0 : 3],
  ]);
  switch (where) {
    case 'prop':
    case 'anyprop': {
      const preferred = PREFERRED_KINDS[opClass(op)];
      const kind =
        where === 'prop' ? rng.pick(preferred) : rng.pick<Kind>(['str', 'num', 'bool', 'ver', 'arr', 'jsonarr', 'email', 'obj']);
      const matching = u.props.filter((p) => p.kind === kind);
      const spec = matching.length && rng.chance(0.9) ? rng.pick(matching) : rng.pick(u.props);
      const selector = ['context', 'user', 'user_properties', spec.name];
      if (!real && (spec.kind === 'arr' || spec.kind === 'obj') && rng.chance(0.08)) {
        selector.push(spec.kind === 'arr' ? rng.pick(['0', '1', 'length']) : rng.pick(['a', 'nested', '1']));
        return { selector, op, values: filterValues(rng, op, 'str', u, ['a', 'b', 'x', 1, 2, '0', 'TRUE', 'n']) };
      }
      return { selector, op, values: filterValues(rng, op, spec.kind === 'any' ? 'str' : spec.kind, u) };
    }
    case 'field': {
      const f = rng.pick(TOP_LEVEL_FIELDS);
      return { selector: ['context', 'user', f.name], op, values: filterValues(rng, op, 'str', u, f.pool) };
    }
    case 'ids': {
      if (rng.chance(0.5)) {
        return { selector: ['context', 'user', 'user_id'], op, values: filterValues(rng, op, 'str', u, u.userIds) };
      }
      if (rng.chance(0.2)) {
        return {
          selector: ['context', 'user', 'amplitude_id'],
          op,
          values: filterValues(rng, op, 'num', u, [123456789012, 42, '42', 7]),
        };
      }
      return { selector: ['context', 'user', 'device_id'], op, values: filterValues(rng, op, 'str', u, u.deviceIds) };
    }
    case 'cohort': {
      const cohortOp = real
        ? rng.pick(['set contains any', 'set does not contain any'])
        : rng.chance(0.7)
          ? rng.pick(['set contains any', 'set does not contain any'])
          : op;
      const values = rng.sample(
        COHORT_IDS.filter((c) => c !== ''),
        rng.int(1, 3),
      );
      if (rng.chance(0.3)) {
        return { selector: ['context', 'groups', rng.pick(GROUP_TYPES), 'cohort_ids'], op: cohortOp, values };
      }
      return { selector: ['context', 'user', 'cohort_ids'], op: cohortOp, values };
    }
    case 'group': {
      const gt = rng.pick(GROUP_TYPES);
      if (rng.chance(0.4)) {
        return { selector: ['context', 'groups', gt, 'group_name'], op, values: filterValues(rng, op, 'str', u, GROUP_NAMES) };
      }
      const gp = rng.pick(GROUP_PROPS);
      return { selector: ['context', 'groups', gt, 'group_properties', gp.name], op, values: filterValues(rng, op, gp.kind, u) };
    }
    case 'result':
      return resultCondition(rng, st, pickRefKey(rng, st, true));
    default: {
      const selector = rng.pick<string[]>([
        [],
        ['context'],
        ['context', 'user'],
        ['context', 'user', 'user_properties'],
        ['context', 'groups'],
        ['context', 'groups', rng.pick(GROUP_TYPES)],
        ['userdata_cohort'],
        ['context', 'user', ''],
        ['context', 'user', 'user_properties', ''],
        ['context', 'user', 'missing_field'],
        ['context', 'user', 'user_properties', 'missing', 'deeper'],
        ['context', 'user', 'user_id', '0'],
        ['result'],
      ]);
      const weirdOp = rng.pick([
        'is',
        'is not',
        'contains',
        'does not contain',
        'regex match',
        'regex does not match',
        'set is not',
        'less',
        'version greater',
      ]);
      const values = weirdOp.startsWith('regex')
        ? [rng.pick(REGEXES)]
        : rng.pick([['(none)'], ['user'], ['"user_id"'], ['{'], ['acme'], ['0'], ['']]);
      return { selector, op: weirdOp, values };
    }
  }
}

function conditionBlock(rng: Rng, st: FlagGenState, maxOr: number, maxAnd: number): GenCondition[][] {
  const ors = rng.int(1, maxOr);
  const out: GenCondition[][] = [];
  for (let i = 0; i < ors; i++) {
    const ands = rng.int(1, maxAnd);
    const group: GenCondition[] = [];
    for (let j = 0; j < ands; j++) group.push(randomCondition(rng, st));
    out.push(group);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------------------------------------------

const FULL = 42949673;
const ALLOCATION_RANGES: readonly (readonly [number[], number])[] = [
  [[0, 100], 40],
  [[0, 99], 8],
  [[0, 50], 8],
  [[50, 100], 5],
  [[0, 1], 3],
  [[99, 100], 3],
  [[10, 20], 3],
  [[0, 10], 5],
  [[0, 0], 2],
  [[30, 10], 1],
];

function distributions(rng: Rng, variantKeys: string[], u: Universe): GenDistribution[] {
  const real = u.profile === 'realistic';
  const keys = variantKeys.length ? variantKeys : ['on'];
  const scheme = rng.weighted<string>([
    ['single', 30],
    ['split', 35],
    ['overlap', real ? 5 : 12],
    ['partial', real ? 0 : 8],
    ['empty', real ? 0 : 3],
    ['unknown', real ? 0 : 5],
    ['weights', 7],
  ]);
  switch (scheme) {
    case 'single':
      return [{ variant: rng.pick(keys), range: [0, FULL] }];
    case 'split': {
      const n = rng.int(2, Math.max(2, Math.min(4, keys.length)));
      const chosen = keys.length >= n ? rng.sample(keys, n) : Array.from({ length: n }, () => rng.pick(keys));
      const out: GenDistribution[] = [];
      const step = Math.round(FULL / n);
      for (let i = 0; i < n; i++) {
        out.push({ variant: chosen[i], range: [i * step, i === n - 1 ? FULL : (i + 1) * step] });
      }
      return out;
    }
    case 'overlap':
      return rng.pick([
        [
          { variant: rng.pick(keys), range: [0, 42520177] },
          { variant: rng.pick(keys), range: [42520175, FULL] },
        ],
        [
          { variant: rng.pick(keys), range: [0, 429497] },
          { variant: rng.pick(keys), range: [429496, FULL] },
        ],
        [
          { variant: rng.pick(keys), range: [0, 21474837] },
          { variant: rng.pick(keys), range: [0, FULL] },
        ],
      ]);
    case 'partial':
      return [{ variant: rng.pick(keys), range: [0, rng.int(1, FULL - 1)] }];
    case 'empty':
      return [];
    case 'unknown':
      return [
        { variant: 'ghost-variant', range: [0, 21474837] },
        { variant: rng.pick(keys), range: [21474837, FULL] },
      ];
    default: {
      // Uneven weights, like 10% / 90% or 1% / 99%.
      const cut = rng.pick([429497, 4294967, 21474836, 38654705, 42520176]);
      const a = rng.pick(keys);
      const b = rng.pick(keys);
      return [
        { variant: a, range: [0, cut] },
        { variant: b, range: [cut, FULL] },
      ];
    }
  }
}

function bucket(rng: Rng, variantKeys: string[], u: Universe): GenBucket {
  const real = u.profile === 'realistic';
  const selector = rng.weighted<string[]>([
    [['context', 'user', 'device_id'], 50],
    [['context', 'user', 'user_id'], 25],
    [['context', 'groups', rng.pick(GROUP_TYPES), 'group_name'], 8],
    [['context', 'user', 'amplitude_id'], real ? 0 : 3],
    [['context', 'user', 'user_properties', rng.pick(['age', 'score', 'plan', 'tags', 'beta', 'prefs'])], real ? 0 : 5],
    [['context', 'user', 'missing_field'], real ? 0 : 3],
    [['context', 'user'], real ? 0 : 1],
  ]);
  const salt = real || rng.chance(0.9) ? alnum(rng, 8) : rng.pick(['', 'sålt🙂', 'a/b', 'x\u00e9']);
  const nAlloc = real
    ? rng.weighted<number>([
        [1, 9],
        [2, 1],
      ])
    : rng.weighted<number>([
        [1, 6],
        [2, 3],
        [3, 1],
      ]);
  const allocations: GenAllocation[] = [];
  for (let i = 0; i < nAlloc; i++) {
    const range = real
      ? rng.pick([
          [0, 100],
          [0, 100],
          [0, 50],
          [0, 10],
          [0, 99],
        ])
      : rng.weighted(ALLOCATION_RANGES).slice();
    allocations.push({ range, distributions: distributions(rng, variantKeys, u) });
  }
  return { selector, salt, allocations };
}

// ---------------------------------------------------------------------------------------------------------------
// Variants and payloads
// ---------------------------------------------------------------------------------------------------------------

function payload(rng: Rng, depth = 0): Json {
  const t = rng.weighted<string>([
    ['obj', depth === 0 ? 40 : 15],
    ['arr', 15],
    ['num', 15],
    ['str', 15],
    ['bool', 5],
    ['null', depth === 0 ? 1 : 5],
  ]);
  switch (t) {
    case 'obj': {
      const o: JsonObject = {};
      const n = rng.int(0, depth > 1 ? 2 : 4);
      for (let i = 0; i < n; i++) {
        const k = rng.pick(['title', 'color', 'limit', 'items', 'nested', '2', '1', 'ü', 'emoji😀', 'enabled', 'n', '']);
        o[k] = depth < 3 ? payload(rng, depth + 1) : rng.int(0, 9);
      }
      return o;
    }
    case 'arr': {
      const n = rng.int(0, 3);
      const a: Json[] = [];
      for (let i = 0; i < n; i++) a.push(depth < 3 ? payload(rng, depth + 1) : 'leaf');
      return a;
    }
    case 'num':
      return rng.pick([0, 1, -1, 42, 3.14, 1e21, 1e-7, 2 ** 53 + 2, 0.1, 123456.789, 5e-324, -2.5]);
    case 'str':
      return rng.pick(['', 'blue', 'Hello, "world"', 'line\nbreak', 'ü', '😀', '\u2028', '</script>', 'a\\b', '\u0000x']);
    case 'bool':
      return rng.chance(0.5);
    default:
      return null;
  }
}

function variantValue(rng: Rng, key: string, u: Universe): Json | undefined {
  if (u.profile === 'realistic') return key;
  return rng.weighted<Json | undefined>([
    [key, 85],
    [1, 2],
    [2.5, 1],
    [true, 2],
    [false, 1],
    [null, 2],
    [{ a: 1, b: [true, 'x'] }, 2],
    [['x', 1], 1],
    ['', 1],
    [0, 1],
    [undefined, 2],
  ]);
}

function makeVariants(rng: Rng, keys: string[], u: Universe, payloadRate: number): Record<string, GenVariant> {
  const variants: Record<string, GenVariant> = {};
  for (const k of keys) {
    if (k === 'off') {
      variants[k] = { key: 'off', metadata: { default: true } };
      continue;
    }
    const v: GenVariant = { key: u.profile === 'fuzz' && rng.chance(0.02) ? `${k}-alias` : k };
    const value = variantValue(rng, k, u);
    if (value !== undefined) v.value = value;
    if (rng.chance(payloadRate)) v.payload = payload(rng);
    if (u.profile === 'fuzz' && rng.chance(0.05)) {
      v.metadata = rng.pick<JsonObject>([
        { evaluationId: alnum(rng, 6) },
        { segmentName: 'from-variant' },
        { '5': 'int-like', z: 1 },
        {},
      ]);
    }
    variants[k] = v;
  }
  if (u.profile === 'fuzz' && rng.chance(0.03)) {
    // An "off" variant without the default marker, and a variant with a payload but no value.
    variants['off'] = { key: 'off' };
  }
  return variants;
}

// ---------------------------------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------------------------------

function segmentMetadata(rng: Rng, name: string, u: Universe): JsonObject | undefined {
  if (u.profile === 'fuzz') {
    if (rng.chance(0.05)) return undefined;
    if (rng.chance(0.03)) return { segmentName: name, flagVersion: 999, deployed: false };
  }
  return { segmentName: name };
}

function withMeta(seg: GenSegment, meta: JsonObject | undefined): GenSegment {
  if (meta !== undefined) seg.metadata = meta;
  return seg;
}

function flagMetadata(rng: Rng, kind: string, key: string, u: Universe): JsonObject | undefined {
  if (u.profile === 'fuzz' && rng.chance(0.04)) return undefined;
  const flagType =
    kind === 'experiment'
      ? 'experiment'
      : kind === 'holdout'
        ? 'holdout-group'
        : kind === 'mutex'
          ? 'mutual-exclusion-group'
          : 'release';
  const m: JsonObject = {
    deployed: kind === 'holdout' || kind === 'mutex' ? false : u.profile === 'fuzz' ? rng.chance(0.92) : true,
    evaluationMode: u.profile === 'fuzz' && rng.chance(0.1) ? 'remote' : 'local',
    flagType,
    flagVersion: rng.int(1, 40),
  };
  if (kind === 'experiment') m['experimentKey'] = `exp-${alnum(rng, 4)}`;
  if (u.profile === 'fuzz' && rng.chance(0.03)) m['3'] = 'int-like key';
  if (u.profile === 'fuzz' && rng.chance(0.02)) m['default'] = false;
  void key;
  return m;
}

function catchAll(rng: Rng, variantKeys: string[], u: Universe, rollout: boolean): GenSegment {
  const nonOff = variantKeys.filter((k) => k !== 'off');
  const seg: GenSegment = {};
  if (rollout) seg.bucket = bucket(rng, nonOff.length ? nonOff : variantKeys, u);
  seg.variant = 'off';
  return withMeta(seg, segmentMetadata(rng, 'All Other Users', u));
}

function fuzzSegment(rng: Rng, st: FlagGenState, variantKeys: string[]): GenSegment {
  const seg: GenSegment = {};
  const condShape = rng.weighted<string>([
    ['block', 55],
    ['absent', 15],
    ['empty', 8],
    ['emptyAnd', 8],
    ['mixedEmpty', 4],
  ]);
  if (condShape === 'block') seg.conditions = conditionBlock(rng, st, 3, 3);
  else if (condShape === 'empty') seg.conditions = [];
  else if (condShape === 'emptyAnd') seg.conditions = [[]];
  else if (condShape === 'mixedEmpty') seg.conditions = [[randomCondition(rng, st)], []];
  if (rng.chance(0.4)) seg.bucket = bucket(rng, variantKeys, st.u);
  const variantShape = rng.weighted<string>([
    ['known', 75],
    ['missing', 10],
    ['unknown', 10],
    ['offish', 5],
  ]);
  if (variantShape === 'known') seg.variant = rng.pick(variantKeys);
  else if (variantShape === 'unknown') seg.variant = rng.pick(['ghost', 'DEFAULT', 'On', '']);
  else if (variantShape === 'offish') seg.variant = 'off';
  return withMeta(
    seg,
    segmentMetadata(rng, rng.pick(['Segment 1', 'Segment 2', 'default', 'sticky-bucketing', 'Beta users']), st.u),
  );
}

function generateFlag(rng: Rng, key: string, rank: number, st: FlagGenState): GenFlag {
  const u = st.u;
  const real = u.profile === 'realistic';
  const kind = rng.weighted<string>([
    ['release', 38],
    ['experiment', 30],
    ['holdout', real ? 4 : 5],
    ['mutex', real ? 4 : 5],
    ['fuzz', real ? 0 : 22],
  ]);
  let variantKeys: string[];
  if (kind === 'experiment') variantKeys = ['control', 'treatment', ...(rng.chance(0.3) ? ['treatment-2'] : []), 'off'];
  else if (kind === 'mutex') variantKeys = ['slot-1', 'slot-2', ...(rng.chance(0.5) ? ['slot-3'] : []), 'off'];
  else if (kind === 'fuzz') {
    variantKeys = rng.sample(
      ['on', 'off', 'a', 'b', 'control', '10', '2', '变体', 'with space', 'ON', 'true', 'slot-1'],
      rng.int(1, 5),
    );
  } else variantKeys = ['on', 'off'];
  if (rng.chance(0.05) && !real) variantKeys = variantKeys.filter((k) => k !== 'off').concat(['off']); // keep 'off' last
  const payloadRate = kind === 'holdout' || kind === 'mutex' ? 0.05 : real ? 0.25 : 0.35;
  const variants = makeVariants(rng, variantKeys, u, payloadRate);
  const realKeys = Object.keys(variants);
  u.variantKeysByFlag.set(key, realKeys);
  const nonOff = realKeys.filter((k) => k !== 'off');

  const segments: GenSegment[] = [];
  const flag: GenFlag = { key, variants, segments };
  const meta = flagMetadata(rng, kind, key, u);
  if (meta !== undefined) flag.metadata = meta;

  // Dependencies: only on lower-rank flags (so never a cycle), plus unknown keys and duplicates now and then.
  const lower = Array.from(st.done.keys());
  const deps: string[] = [];
  if (rank > 0 && lower.length && rng.chance(kind === 'holdout' || kind === 'mutex' ? 0.05 : 0.35)) {
    const preferred = lower.filter((k) => k.startsWith('holdout') || k.startsWith('mutex'));
    const n = rng.int(1, Math.min(3, lower.length));
    for (let i = 0; i < n; i++) deps.push(preferred.length && rng.chance(0.5) ? rng.pick(preferred) : rng.pick(lower));
  }
  if (rng.chance(real ? 0.02 : 0.06)) deps.push(rng.pick(['missing-flag', 'deleted-exp-1', 'holdout-0']));
  if (!real && deps.length && rng.chance(0.08)) deps.push(deps[0]);
  if (deps.length) flag.dependencies = deps;
  else if (!real && rng.chance(0.05)) flag.dependencies = [];

  if (deps.length && rng.chance(0.9)) {
    // The "flag-dependencies" segment the server generates: off unless every dependency is in the right state.
    const ors: GenCondition[][] = [];
    for (const d of Array.from(new Set(deps))) {
      const dv = u.variantKeysByFlag.get(d) ?? ['on'];
      const want = d.startsWith('mutex') ? dv.filter((k) => k.startsWith('slot')) : dv.filter((k) => k !== 'off');
      const values = want.length ? rng.sample(want, rng.int(1, want.length)) : ['on'];
      ors.push([{ selector: ['result', d, 'key'], op: 'is not', values }]);
      if (!real && rng.chance(0.15)) ors[ors.length - 1].push(resultCondition(rng, st, d));
    }
    segments.push({ conditions: ors, metadata: { segmentName: 'flag-dependencies' }, variant: 'off' });
  }

  if (kind === 'holdout' || kind === 'mutex') {
    const seg: GenSegment = { bucket: bucket(rng, nonOff.length ? nonOff : realKeys, u), variant: 'off' };
    segments.push(withMeta(seg, segmentMetadata(rng, 'All Other Users', u)));
    return flag;
  }

  if (kind === 'fuzz') {
    const n = rng.int(0, 4);
    for (let i = 0; i < n; i++) segments.push(fuzzSegment(rng, st, realKeys));
    if (rng.chance(0.7)) segments.push(catchAll(rng, realKeys, u, rng.chance(0.5)));
    return flag;
  }

  // individual inclusions
  if (rng.chance(0.35)) {
    const target = rng.pick(nonOff.length ? nonOff : realKeys);
    const ors: GenCondition[][] = [];
    if (rng.chance(0.8))
      ors.push([{ selector: ['context', 'user', 'user_id'], op: 'is', values: rng.sample(u.userIds, rng.int(1, 4)) }]);
    if (rng.chance(0.6))
      ors.push([
        {
          selector: ['context', 'user', 'device_id'],
          op: 'is',
          values: rng.sample(u.deviceIds, rng.int(1, 3)).map(asFilterString),
        },
      ]);
    if (ors.length)
      segments.push(withMeta({ conditions: ors, variant: target }, segmentMetadata(rng, 'individual-inclusions', u)));
  }
  // sticky bucketing (experiments)
  if (kind === 'experiment' && rng.chance(0.3)) {
    for (const vk of rng.sample(nonOff, rng.int(1, nonOff.length))) {
      segments.push(
        withMeta(
          {
            conditions: [[{ selector: ['context', 'user', 'user_properties', `[Experiment] ${key}`], op: 'is', values: [vk] }]],
            variant: vk,
          },
          segmentMetadata(rng, 'sticky-bucketing', u),
        ),
      );
    }
  }
  // targeted segments
  const targeted = rng.weighted<number>([
    [0, 35],
    [1, 40],
    [2, 20],
    [3, 5],
  ]);
  for (let i = 0; i < targeted; i++) {
    const seg: GenSegment = { conditions: conditionBlock(rng, st, real ? 2 : 3, real ? 2 : 3) };
    if (rng.chance(0.6)) seg.bucket = bucket(rng, nonOff.length ? nonOff : realKeys, u);
    seg.variant = rng.chance(0.7) ? 'off' : rng.pick(realKeys);
    if (!real && rng.chance(0.05)) seg.variant = 'not-a-variant';
    if (!real && rng.chance(0.04)) delete seg.variant;
    segments.push(withMeta(seg, segmentMetadata(rng, `Segment ${i + 1}`, u)));
  }
  // All Other Users
  if (real || rng.chance(0.95)) segments.push(catchAll(rng, realKeys, u, kind === 'experiment' || rng.chance(0.6)));
  return flag;
}

/**
 * Generate `n` flags. Dependencies only point to flags generated earlier ("rank"), so there is never a cycle;
 * the returned array is shuffled so that array order, Object.keys order and dependency order all differ.
 */
export function generateFlags(rng: Rng, u: Universe): GenFlag[] {
  const st: FlagGenState = { u, done: new Map(), selfKey: '' };
  const flags: GenFlag[] = [];
  u.flagKeys.forEach((key, rank) => {
    st.selfKey = key;
    const f = generateFlag(rng, key, rank, st);
    st.done.set(key, f);
    flags.push(f);
  });
  return rng.shuffle(flags);
}

// ---------------------------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------------------------

export function generateUser(rng: Rng, u: Universe): GenUser | undefined {
  const real = u.profile === 'realistic';
  if (!real && rng.chance(0.01)) return undefined;
  if (!real && rng.chance(0.02)) return {};
  const user: GenUser = {};
  if (rng.chance(0.75)) user['user_id'] = rng.pick(u.userIds);
  if (rng.chance(0.85)) user['device_id'] = rng.pick(u.deviceIds);
  if (rng.chance(real ? 0.2 : 0.1)) user['amplitude_id'] = rng.pick([123456789012, 42, 7]);
  for (const f of TOP_LEVEL_FIELDS) {
    if (rng.chance(real ? 0.3 : 0.25)) user[f.name] = rng.pick(f.pool);
  }
  if (u.undefinedUserFields && rng.chance(0.04)) user[rng.pick(['country', 'city', 'user_id', 'platform'])] = undefined;
  if (u.scriptValues && rng.chance(0.03))
    user[rng.pick(['country', 'city', 'user_id', 'platform', 'device_id'])] = rng.pick([...SCRIPT_NUMBERS, ...SCRIPT_OTHERS]);
  if (u.scriptValues && rng.chance(0.01)) return { country: undefined, ...(rng.chance(0.5) ? { groups: {} } : {}) };
  if (rng.chance(0.85)) {
    const props: Record<string, unknown> = {};
    for (const p of u.props) {
      if (!rng.chance(0.45)) continue;
      // Type confusion now and then: the same property holds a value of another kind for some users.
      const kind: Kind = !real && rng.chance(0.08) ? rng.pick<Kind>(['str', 'num', 'bool', 'arr', 'jsonarr']) : p.kind;
      props[p.name] = userValueOfKind(rng, kind, u);
    }
    // Sticky bucketing properties written by the Amplitude SDK.
    const stickyKey = u.flagKeys.length ? rng.pick(u.flagKeys) : undefined;
    if (stickyKey !== undefined && rng.chance(0.15)) {
      const vks = u.variantKeysByFlag.get(stickyKey) ?? ['on'];
      props[`[Experiment] ${stickyKey}`] = rng.pick(vks);
    }
    if (u.undefinedUserFields && rng.chance(0.03)) props['plan'] = undefined;
    user['user_properties'] = props;
  }
  if (rng.chance(0.2)) user['cohort_ids'] = rng.sample(COHORT_IDS, rng.int(0, 3));
  if (rng.chance(0.3)) {
    const groups: Record<string, string[]> = {};
    const groupProps: Record<string, Record<string, Record<string, unknown>>> = {};
    const groupCohorts: Record<string, Record<string, string[]>> = {};
    for (const gt of rng.sample(GROUP_TYPES, rng.int(1, 3))) {
      const names = rng.sample(GROUP_NAMES, rng.int(0, 3));
      groups[gt] = names;
      for (const name of names) {
        if (rng.chance(0.6)) {
          const gp: Record<string, unknown> = {};
          for (const p of GROUP_PROPS) if (rng.chance(0.5)) gp[p.name] = userValueOfKind(rng, p.kind, u);
          (groupProps[gt] ??= {})[name] = gp;
        }
        if (rng.chance(0.3)) (groupCohorts[gt] ??= {})[name] = rng.sample(COHORT_IDS, rng.int(0, 2));
      }
    }
    const odd: Record<string, unknown> = groups;
    if (u.scriptValues && rng.chance(0.15)) odd[rng.pick(GROUP_TYPES)] = rng.pick(ODD_GROUP_NAMES);
    user['groups'] = u.scriptValues && rng.chance(0.02) ? rng.pick(['org', ['acme'], 7]) : odd;
    if (rng.chance(0.8)) user['group_properties'] = groupProps;
    if (rng.chance(0.5)) user['group_cohort_ids'] = groupCohorts;
  }
  return user;
}

// ---------------------------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------------------------

export interface GeneratedCase {
  seed: number;
  flags: GenFlag[];
  users: (GenUser | undefined)[];
  /** Random non-empty flag-key lists (unknown keys and duplicates included), one per user. */
  keySubsets: string[][];
}

export function randomKeySubset(rng: Rng, keys: readonly string[]): string[] {
  const out: string[] = [];
  const n = rng.int(1, Math.max(1, Math.min(6, keys.length + 1)));
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    if (r < 0.8 && keys.length) out.push(rng.pick(keys));
    else if (r < 0.9 && out.length)
      out.push(out[out.length - 1]); // duplicate
    else out.push(rng.pick(['unknown-flag', 'missing-flag', '999', 'holdout-0']));
  }
  return out;
}

/** One reproducible case: `flagCount` flags and `userCount` users from `seed`. */
export function generateCase(seed: number, flagCount: number, userCount: number, opts: GenOptions = {}): GeneratedCase {
  const rng = new Rng(seed);
  const u = makeUniverse(rng, flagCount, opts);
  const flags = generateFlags(rng, u);
  const users: (GenUser | undefined)[] = [];
  const keySubsets: string[][] = [];
  const keys = flags.map((f) => f.key);
  for (let i = 0; i < userCount; i++) {
    users.push(generateUser(rng, u));
    keySubsets.push(randomKeySubset(rng, keys));
  }
  return { seed, flags, users, keySubsets };
}

// Sanity check at load time: every regex the generator can emit compiles (an invalid one would make the
// official engine throw, which the brief excludes from the differential run).
for (const r of [...REGEXES, ...EXTENDED_REGEXES, ...REAL_REGEXES]) new RegExp(r);

// ---------------------------------------------------------------------------------------------------------------
// The harder benchmark corpus (bench/eval.js): closer to large production configs than the 'realistic' profile
// ---------------------------------------------------------------------------------------------------------------

const HARD_TEXT = [
  'free',
  'pro',
  'enterprise',
  'trial',
  'München',
  'José',
  'Zoë',
  '東京',
  'São Paulo',
  'north',
  'south',
  'beta-tester',
  'alpha',
  'gamma',
];
const HARD_COUNTRIES = ['US', 'DE', 'FR', 'BR', 'JP', 'GB', 'Österreich', 'España'];
const HARD_PLATFORMS = ['iOS', 'Android', 'Web', 'macOS', 'Windows'];
/** The hard corpus's regex patterns (the kinds real configs use). */
export const HARD_REGEXES = [
  '^user-\\d+$',
  '@example\\.com$',
  '^(ios|android)$',
  'beta',
  '^[A-Z]{2}$',
  '^1\\.(1[0-9]|2[0-9])\\.',
  'ü|ö|ä',
  '^pro',
];
const HARD_PROPS = Array.from({ length: 48 }, (_, i) => `prop_${i}`);

function hardValue(rng: Rng, i: number, nonAscii: boolean): unknown {
  switch (i % 4) {
    case 0: {
      const v = rng.pick(HARD_TEXT);
      return nonAscii || !/[^\x00-\x7f]/.test(v) ? v : 'plain';
    }
    case 1:
      return rng.int(0, 500);
    case 2:
      return rng.chance(0.5);
    default:
      return rng.sample(HARD_TEXT, rng.int(1, 3)).map((v) => (nonAscii ? v : v.replace(/[^\x00-\x7f]/g, 'x')));
  }
}

function hardCondition(rng: Rng, flagKeysBefore: readonly string[]): GenCondition {
  const r = rng.float();
  if (r < 0.15) {
    const selector = rng.pick([
      ['context', 'user', 'user_id'],
      ['context', 'user', 'platform'],
      ['context', 'user', 'country'],
      ['context', 'user', 'version'],
      ['context', 'user', 'user_properties', `prop_${4 * rng.int(0, 11)}`],
    ]);
    return { selector, op: rng.pick(['regex match', 'regex does not match']), values: [rng.pick(HARD_REGEXES)] };
  }
  if (r < 0.25)
    return {
      selector: ['context', 'user', 'version'],
      op: rng.pick(['version greater', 'version less or equal']),
      values: [`1.${rng.int(0, 30)}.0`],
    };
  if (r < 0.35)
    return {
      selector: ['context', 'user', 'country'],
      op: rng.pick(['is', 'is not']),
      values: rng.sample(HARD_COUNTRIES, rng.int(1, 4)),
    };
  if (r < 0.42)
    return { selector: ['context', 'groups', 'org', 'group_properties', 'plan'], op: 'is', values: rng.sample(HARD_TEXT, 2) };
  if (r < 0.47 && flagKeysBefore.length)
    return { selector: ['result', rng.pick(flagKeysBefore), 'key'], op: 'is', values: ['on'] };
  const p = rng.int(0, HARD_PROPS.length - 1);
  const selector = ['context', 'user', 'user_properties', HARD_PROPS[p]];
  switch (p % 4) {
    case 0:
      return {
        selector,
        op: rng.pick(['is', 'is not', 'contains', 'does not contain']),
        values: rng.sample(HARD_TEXT, rng.int(1, 3)),
      };
    case 1:
      return { selector, op: rng.pick(['greater', 'less or equal', 'greater or equal']), values: [String(rng.int(0, 500))] };
    case 2:
      return { selector, op: rng.pick(['is', 'is not']), values: [rng.pick(['true', 'false'])] };
    default:
      return {
        selector,
        op: rng.pick(['set contains any', 'set does not contain any', 'set contains']),
        values: rng.sample(HARD_TEXT, rng.int(1, 3)),
      };
  }
}

/**
 * About 6 conditions per flag (two targeted segments of three), 15% regex conditions, 10% of flags with a
 * dependency, users of 20-40 properties with groups and group properties, 25% of them with non-ASCII values.
 */
export function generateHardCase(seed: number, flagCount: number, userCount: number): GeneratedCase {
  const rng = new Rng(seed);
  const flags: GenFlag[] = [];
  const keys: string[] = [];
  for (let f = 0; f < flagCount; f++) {
    const key = `hard-${f}`;
    const deps = f > 0 && rng.chance(0.1) ? [rng.pick(keys)] : undefined;
    const segments: GenSegment[] = [];
    for (let s = 0; s < 2; s++) {
      segments.push({
        conditions: [[hardCondition(rng, deps ?? []), hardCondition(rng, deps ?? []), hardCondition(rng, deps ?? [])]],
        variant: rng.pick(['on', 'off']),
        metadata: { segmentName: `Segment ${s}` },
      });
    }
    segments.push({
      bucket: {
        selector: ['context', 'user', rng.pick(['device_id', 'user_id'])],
        salt: `salt${f}`,
        allocations: [
          {
            range: [0, 100],
            distributions: [
              { variant: 'on', range: [0, 21474837] },
              { variant: 'off', range: [21474837, 42949673] },
            ],
          },
        ],
      },
      metadata: { segmentName: 'All Other Users' },
      variant: 'off',
    });
    flags.push({
      key,
      metadata: { deployed: true, evaluationMode: 'local', flagType: 'experiment', flagVersion: rng.int(1, 30) },
      ...(deps ? { dependencies: deps } : {}),
      segments,
      variants: { on: { key: 'on', value: 'on' }, off: { key: 'off', metadata: { default: true } } },
    });
    keys.push(key);
  }
  const users: (GenUser | undefined)[] = [];
  const keySubsets: string[][] = [];
  for (let u = 0; u < userCount; u++) {
    const nonAscii = rng.chance(0.25);
    const props: Record<string, unknown> = {};
    for (const p of rng
      .sample(
        HARD_PROPS.map((_, i) => i),
        rng.int(20, 40),
      )
      .sort((a, b) => a - b))
      props[HARD_PROPS[p]] = hardValue(rng, p, nonAscii);
    const org = `org-${rng.int(0, 20)}`;
    users.push({
      user_id: `user-${rng.int(1, 100000)}`,
      device_id: `device-${rng.int(1, 100000)}`,
      country: nonAscii ? rng.pick(HARD_COUNTRIES) : rng.pick(HARD_COUNTRIES.slice(0, 6)),
      platform: rng.pick(HARD_PLATFORMS),
      version: `1.${rng.int(0, 30)}.${rng.int(0, 9)}`,
      user_properties: props,
      groups: { org: [org] },
      group_properties: { org: { [org]: { plan: rng.pick(HARD_TEXT), seats: rng.int(1, 500) } } },
    });
    keySubsets.push([rng.pick(keys)]);
  }
  return { seed, flags, users, keySubsets };
}
