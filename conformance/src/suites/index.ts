/** Every check of the harness, in the order suites run. */
import type { Check } from '../types';
import { asClientAuthChecks } from './as/client-auth';
import { asExpiryChecks } from './as/expiry';
import { asMetadataChecks } from './as/metadata';
import { asPkceChecks } from './as/pkce';
import { asRefreshChecks } from './as/refresh';
import { asStateChecks } from './as/state';
import { proxyAudienceChecks } from './proxy/audience';
import { proxyConsentChecks } from './proxy/consent';
import { proxyDcrChecks } from './proxy/dcr';
import { proxyExpiryChecks } from './proxy/expiry';
import { proxyMetadataChecks } from './proxy/metadata';
import { proxyPkceChecks } from './proxy/pkce';
import { proxyRefreshChecks } from './proxy/refresh';
import { proxyStateChecks } from './proxy/state';

export const asChecks: Check[] = [
  ...asMetadataChecks,
  ...asPkceChecks,
  ...asStateChecks,
  ...asRefreshChecks,
  ...asClientAuthChecks,
  ...asExpiryChecks,
];

export const proxyChecks: Check[] = [
  ...proxyMetadataChecks,
  ...proxyConsentChecks,
  ...proxyPkceChecks,
  ...proxyStateChecks,
  ...proxyExpiryChecks,
  ...proxyRefreshChecks,
  ...proxyAudienceChecks,
  ...proxyDcrChecks,
];

export const allChecks: Check[] = [...asChecks, ...proxyChecks];

/** Suite names in run order. */
export function suiteNames(checks: Check[] = allChecks): string[] {
  return [...new Set(checks.map((c) => c.suite))];
}
