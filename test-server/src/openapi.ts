/**
 * /openapi.json: the demo API described with openapi3-ts (OpenAPI 3.1), with the security
 * schemes the API really enforces in the current mode and per-operation `security`.
 */
import {
  type OpenAPIObject,
  OpenApiBuilder,
  type OperationObject,
  type ReferenceObject,
  type SchemaObject,
  type SecurityRequirementObject,
  type SecuritySchemeObject,
} from 'openapi3-ts/oas31';
import { OPERATION_SCOPES, type OperationId } from './api';
import {
  API_KEY_HEADER,
  API_SCOPES,
  type Mode,
  SECRET_HEADER,
  TENANT_HEADER,
  TENANT_VALUE,
} from './options';

export interface OpenApiOptions {
  mode: Mode;
  /** The server's base URL; paths live under /api. */
  url: string;
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'items:read': 'Read items',
  'items:write': 'Create and delete items',
  'users:read': 'Read users',
};

function securitySchemes(mode: Mode, url: string): Record<string, SecuritySchemeObject> {
  const scopes = Object.fromEntries(API_SCOPES.map((s) => [s, SCOPE_DESCRIPTIONS[s] ?? s]));
  switch (mode) {
    case 'oauth':
    case 'dcr':
      return {
        oauth2: {
          type: 'oauth2',
          description: `OAuth 2.0; metadata at ${url}/.well-known/oauth-authorization-server`,
          flows: {
            authorizationCode: {
              authorizationUrl: `${url}/auth/authorize`,
              tokenUrl: `${url}/auth/token`,
              refreshUrl: `${url}/auth/token`,
              scopes,
            },
            clientCredentials: {
              tokenUrl: `${url}/auth/token`,
              refreshUrl: `${url}/auth/token`,
              scopes,
            },
          },
        },
      };
    case 'bearer':
      return {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The static token shown in the banner',
        },
      };
    case 'apikey':
      return { apiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER } };
    case 'headers':
      return {
        tenantId: {
          type: 'apiKey',
          in: 'header',
          name: TENANT_HEADER,
          description: `Always "${TENANT_VALUE}"`,
        },
        apiSecret: { type: 'apiKey', in: 'header', name: SECRET_HEADER },
      };
    case 'none':
      return {};
  }
}

function security(mode: Mode, operationId: OperationId): SecurityRequirementObject[] {
  switch (mode) {
    case 'oauth':
    case 'dcr':
      return [{ oauth2: [OPERATION_SCOPES[operationId]] }];
    case 'bearer':
      return [{ bearerAuth: [] }];
    case 'apikey':
      return [{ apiKey: [] }];
    case 'headers':
      return [{ tenantId: [], apiSecret: [] }];
    case 'none':
      return [];
  }
}

const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: SchemaObject | ReferenceObject) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

/** Builds the OpenAPI document for `mode`. */
export function buildOpenApi(options: OpenApiOptions): OpenAPIObject {
  const { mode, url } = options;
  const secured = mode !== 'none';
  const authErrors = secured
    ? {
        '401': errorResponse('Missing or invalid credentials'),
        ...(mode === 'oauth' || mode === 'dcr'
          ? { '403': errorResponse('The access token lacks the required scope') }
          : {}),
      }
    : {};
  const op = (operationId: OperationId, o: OperationObject): OperationObject => ({
    operationId,
    ...o,
    security: security(mode, operationId),
    responses: { ...o.responses, ...authErrors },
  });
  const idParam = {
    name: 'id',
    in: 'path' as const,
    required: true,
    description: 'The item id',
    schema: { type: 'string' as const },
  };

  const builder = OpenApiBuilder.create()
    .addOpenApiVersion('3.1.0')
    .addInfo({
      title: 'Test server demo API',
      version: '1.0.0',
      description: `Items and users behind ${mode} authentication.`,
    })
    .addServer({ url, description: 'This test server' })
    .addSchema('Item', {
      type: 'object',
      required: ['id', 'name', 'createdAt'],
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        createdAt: { type: 'string', format: 'date-time' },
      },
    })
    .addSchema('NewItem', {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 200, description: 'The item name' },
        description: { type: 'string', description: 'Free text' },
        tags: { type: 'array', items: { type: 'string' }, description: 'Labels' },
      },
    })
    .addSchema('User', {
      type: 'object',
      required: ['id', 'username', 'name', 'email'],
      properties: {
        id: { type: 'string' },
        username: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string', format: 'email' },
      },
    })
    .addSchema('Error', {
      type: 'object',
      required: ['error'],
      properties: {
        error: { type: 'string' },
        error_description: { type: 'string' },
        field: { type: 'string', description: 'The invalid field, for validation errors' },
        scope: { type: 'string', description: 'The missing scope, for insufficient_scope' },
      },
    })
    .addPath('/api/items', {
      get: op('listItems', {
        summary: 'List items',
        parameters: [
          {
            name: 'tag',
            in: 'query',
            description: 'Only items with this tag',
            schema: { type: 'string' },
          },
          {
            name: 'limit',
            in: 'query',
            description: 'At most this many items',
            schema: { type: 'integer', minimum: 1, maximum: 100 },
          },
        ],
        responses: {
          '200': {
            description: 'The items',
            content: json({
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: ref('Item') } },
            }),
          },
          '400': errorResponse('A query parameter is invalid'),
        },
      }),
      post: op('createItem', {
        summary: 'Create an item',
        requestBody: { required: true, content: json(ref('NewItem')) },
        responses: {
          '201': { description: 'The created item', content: json(ref('Item')) },
          '400': errorResponse('The body is invalid; `field` names the field'),
        },
      }),
    })
    .addPath('/api/items/{id}', {
      get: op('getItem', {
        summary: 'Get an item',
        parameters: [idParam],
        responses: {
          '200': { description: 'The item', content: json(ref('Item')) },
          '404': errorResponse('No such item'),
        },
      }),
      delete: op('deleteItem', {
        summary: 'Delete an item',
        parameters: [idParam],
        responses: {
          '200': {
            description: 'The item was deleted',
            content: json({
              type: 'object',
              required: ['id', 'deleted'],
              properties: { id: { type: 'string' }, deleted: { type: 'boolean', const: true } },
            }),
          },
          '404': errorResponse('No such item'),
        },
      }),
    })
    .addPath('/api/users', {
      get: op('listUsers', {
        summary: 'List users',
        responses: {
          '200': {
            description: 'The users',
            content: json({
              type: 'object',
              required: ['users'],
              properties: { users: { type: 'array', items: ref('User') } },
            }),
          },
        },
      }),
    });
  for (const [name, scheme] of Object.entries(securitySchemes(mode, url))) {
    builder.addSecurityScheme(name, scheme);
  }
  return builder.getSpec();
}
