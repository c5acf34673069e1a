/**
 * JSON Schemas for what people write to define a workspace: in a config file, in an admin API
 * body or through the CLI. One definition, three entry points; ajv checks it at each edge.
 */
import type { JsonSchema } from '../types';

/** URL-safe workspace ids, as `Workspace.id` documents them. */
export const WORKSPACE_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const nonEmptyString = { type: 'string', minLength: 1 } as const;
const httpUrl = { type: 'string', format: 'uri', pattern: '^https?://' } as const;

/** JSON Schema's if/then: `condition` holding requires `consequence`. */
function when(condition: JsonSchema, consequence: JsonSchema): JsonSchema {
  // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword here.
  return { if: condition, then: consequence };
}

export const authSchema: JsonSchema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      properties: { type: { const: 'none' } },
      additionalProperties: false,
    },
    {
      properties: { type: { const: 'bearer' }, token: nonEmptyString },
      required: ['token'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'apiKey' },
        header: { type: 'string', pattern: HEADER_NAME_PATTERN },
        value: nonEmptyString,
      },
      required: ['value'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'headers' },
        headers: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: HEADER_NAME_PATTERN },
          additionalProperties: { type: 'string' },
        },
      },
      required: ['headers'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'oauth2' },
        provider: { enum: ['custom', 'dcr', 'auto'] },
        grant: { enum: ['authorization_code', 'client_credentials'] },
        authorizationUrl: httpUrl,
        tokenUrl: httpUrl,
        registrationUrl: httpUrl,
        initialAccessToken: nonEmptyString,
        issuer: httpUrl,
        clientId: nonEmptyString,
        clientSecret: nonEmptyString,
        tokenEndpointAuthMethod: { enum: ['client_secret_basic', 'client_secret_post', 'none'] },
        scopes: {
          oneOf: [
            { type: 'array', items: { type: 'string', pattern: '^[!#-\\[\\]-~]+$' } },
            { type: 'string' },
          ],
        },
        pkce: { type: 'boolean' },
        state: { type: 'boolean' },
        resource: httpUrl,
        extraAuthorizeParams: { type: 'object', additionalProperties: { type: 'string' } },
      },
      additionalProperties: false,
      allOf: [
        when(
          { properties: { provider: { const: 'custom' } } },
          { required: ['tokenUrl', 'clientId'] },
        ),
        when(
          { properties: { provider: { const: 'custom' }, grant: { const: 'authorization_code' } } },
          { required: ['authorizationUrl'] },
        ),
        when(
          { properties: { provider: { const: 'dcr' } }, required: ['provider'] },
          { required: ['registrationUrl'] },
        ),
      ],
    },
  ],
};

export const specSourceSchema: JsonSchema = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      properties: { url: httpUrl },
      required: ['url'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { file: nonEmptyString },
      required: ['file'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { document: { type: ['string', 'object'] } },
      required: ['document'],
      additionalProperties: false,
    },
  ],
};

export const toolSelectionSchema: JsonSchema = {
  type: 'object',
  properties: {
    enabled: {
      oneOf: [{ const: 'all' }, { type: 'array', items: nonEmptyString, uniqueItems: true }],
    },
    disabled: { type: 'array', items: nonEmptyString, uniqueItems: true },
  },
  additionalProperties: false,
};

const workspaceProperties = {
  id: { type: 'string', pattern: WORKSPACE_ID_PATTERN },
  name: { type: 'string', minLength: 1, maxLength: 200 },
  spec: specSourceSchema,
  baseUrl: httpUrl,
  auth: authSchema,
  tools: toolSelectionSchema,
  public: { type: 'boolean' },
  accessKey: { type: 'string', pattern: '^[A-Za-z0-9._~+/-]{16,}=*$' },
};

/** A whole workspace definition (config file entry, admin create body). */
export const workspaceDefinitionSchema: JsonSchema = {
  type: 'object',
  properties: workspaceProperties,
  required: ['name', 'spec'],
  additionalProperties: false,
};

/** A partial change to a workspace (admin update body): any field but the id. */
const { id: _id, ...patchProperties } = workspaceProperties;
export const workspacePatchSchema: JsonSchema = {
  type: 'object',
  properties: patchProperties,
  additionalProperties: false,
  minProperties: 1,
};

/** The config file: workspaces and server settings. */
export const configFileSchema: JsonSchema = {
  type: 'object',
  properties: {
    // A config workspace needs its id: it is how a restart finds the same workspace again.
    workspaces: {
      type: 'array',
      items: { ...workspaceDefinitionSchema, required: ['id', 'name', 'spec'] },
    },
    server: {
      type: 'object',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        host: nonEmptyString,
        publicUrl: httpUrl,
        allowedHosts: { type: 'array', items: nonEmptyString },
        dataDir: nonEmptyString,
        allowPrivateNetworks: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  },
  required: ['workspaces'],
  additionalProperties: false,
};
